/* dead.c - move --dead, --purge-dead and --requeue-dead; see dead.h. */
#include "dead.h"

#include "json_write.h"
#include "log.h"
#include "msg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct reader {
    const struct dead_opts *o;
    struct dead_stats *st;
    struct mq *m;
    char dead[CFG_NAME_MAX + 1]; /* <queue>.dead */
    char host[256];              /* this host's name, as scan writes it */
    uint64_t picked;
};

/* One letter as it is printed. */
struct letter {
    const struct mq_delivery *d;
    const struct msg *m; /* NULL when the body does not decode */
    const char *why;     /* then, the decoder's sentence */
    const char *action;  /* NULL: none (--dead) */
};

/* A time as ISO 8601 UTC, or null when unknown (0). */
static void write_time(struct json_write *w, const char *key, uint64_t t)
{
    char buf[40];
    struct tm tm;
    time_t tt = (time_t)t;
    json_write_key(w, key);
    if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
        strftime(buf, sizeof buf, "\"%Y-%m-%dT%H:%M:%SZ\"", &tm) == 0) {
        json_write_raw(w, "null");
        return;
    }
    json_write_raw(w, buf);
}

/* Text from the broker or a message: key, or b64_key when it is not
 * UTF-8; null when empty. */
static void write_text(struct json_write *w, const char *key, const char *b64_key, const char *s)
{
    if (s == NULL || s[0] == '\0') {
        json_write_key(w, key);
        json_write_raw(w, "null");
        return;
    }
    json_write_bytes(w, key, b64_key, s, strlen(s));
}

/* Print l as one JSON line on r->o->lines (see move(1) for the members).
 * Once that fails (a closed pipe: EPIPE), nothing more is printed and no
 * letter picked: st->out_errno says why. Flushed line by line, so that a
 * reader gone (move --dead | head -1) is seen at once. */
static void print_letter(struct reader *r, const struct letter *l)
{
    FILE *out = r->o->lines;
    if (r->st->out_errno != 0)
        return;
    /* A valid message fits MSG_MAX_BYTES escaped; the error and the rest fit the margin. */
    static char line[MSG_MAX_BYTES + 16 * 1024];
    const struct mq_delivery *d = l->d;
    struct json_write w;
    char num[32];
    json_write_init(&w, line, sizeof line);
    json_write_open(&w);
    write_text(&w, "id", "id_b64", d->message_id[0] || l->m == NULL ? d->message_id : l->m->id);
    if (l->m != NULL) {
        json_write_bytes(&w, "root", "root_b64", l->m->root, l->m->root_len);
        json_write_bytes(&w, "path", "path_b64", l->m->path, l->m->path_len);
    } else {
        write_text(&w, "root", NULL, NULL);
        write_text(&w, "path", NULL, NULL);
    }
    write_text(&w, "reason", "reason_b64", d->dead.reason);
    write_text(&w, "error", "error_b64", d->dead.error);
    write_time(&w, "first_dead", d->dead.first);
    write_time(&w, "last_dead", d->dead.last);
    json_write_key(&w, "count");
    snprintf(num, sizeof num, "%" PRIu64, d->dead.count);
    json_write_raw(&w, num);
    write_text(&w, "decode_error", "decode_error_b64", l->m == NULL ? l->why : NULL);
    if (l->action != NULL) {
        json_write_key(&w, "action");
        json_write_string(&w, l->action, strlen(l->action));
    }
    json_write_close(&w);
    size_t len;
    if (json_write_finish(&w, &len) == 0) {
        errno = 0;
        if (fwrite(line, 1, len, out) != len || putc('\n', out) == EOF || fflush(out) == EOF)
            r->st->out_errno = errno != 0 ? errno : EIO;
    }
}

/* Does --reason pick reason? */
static int reason_picked(const struct dead_opts *o, const char *reason)
{
    if (o->n_reasons == 0)
        return 1;
    for (unsigned i = 0; i < o->n_reasons; i++)
        if (strcmp(o->reasons[i], reason) == 0)
            return 1;
    return 0;
}

/* Does --from pick the message m (NULL: undecodable)? *root_fd is its open
 * root, or -1 when --from was not given. */
static int root_picked(const struct dead_opts *o, const struct msg *m, int *root_fd)
{
    *root_fd = -1;
    if (o->n_roots == 0)
        return 1;
    for (unsigned i = 0; m != NULL && i < o->n_roots; i++)
        if (strcmp(o->roots[i].real, m->root) == 0) {
            *root_fd = o->roots[i].fd;
            return 1;
        }
    return 0;
}

/* Publish the letter to the queue with its history, wait for the
 * broker's confirm, and only then delete the letter. */
static enum mq_status put_back(struct reader *r, const struct mq_delivery *d, char *err,
                               size_t errlen)
{
    const struct cfg *c = r->o->cfg;
    uint64_t seq;
    enum mq_status s = mq_publish_undead(r->m, c->exchange, c->routing_key, d->body, d->len,
                                         d->message_id, &d->dead, &seq, err, errlen);
    if (s == MQ_OK)
        s = mq_wait_confirm(r->m, seq, "the requeued message (is the queue bound?)", err, errlen);
    if (s == MQ_OK)
        s = mq_ack(r->m, d->tag, 0, err, errlen);
    return s;
}

/* Requeue or drop a picked letter l (or say which, under --dry-run). */
static enum mq_status requeue(struct reader *r, struct letter *l, int root_fd, char *err,
                              size_t errlen)
{
    char action[32], why[512];
    static char dest_rel[MSG_PATH_MAX + 1];
    enum requeue_verdict v = REQUEUE_PUT_BACK;
    /* Where the mover would put the file: a letter that --layout gives no
     * usable path is judged by its source alone. */
    int dest_fd = r->o->dest_fd;
    if (l->m != NULL && r->o->layout != NULL &&
        layout_expand(r->o->layout, l->m, dest_rel, sizeof dest_rel, why, sizeof why) < 0)
        dest_fd = -1;
    if (l->m != NULL) /* else it cannot be checked: the mover decides */
        v = requeue_judge(l->m, root_fd, dest_fd, r->o->layout != NULL ? dest_rel : NULL, r->host);
    enum mq_status s = MQ_OK;
    if (r->o->dry_run) {
        snprintf(action, sizeof action, "%s%s", v == REQUEUE_PUT_BACK ? "" : "drop-",
                 requeue_verdict_name(v));
        l->action = action;
        print_letter(r, l);
    } else if (v == REQUEUE_PUT_BACK) {
        s = put_back(r, l->d, err, errlen);
    } else {
        s = mq_ack(r->m, l->d->tag, 0, err, errlen);
    }
    if (s == MQ_OK)
        r->st->verdicts[v]++;
    return s;
}

/* Do with the letter d what the options say. */
static enum mq_status handle(struct reader *r, const struct mq_delivery *d, char *err,
                             size_t errlen)
{
    static struct msg m;
    char why[512];
    const struct dead_opts *o = r->o;
    struct letter l = {.d = d, .m = &m, .why = why};
    if (msg_decode(d->body, d->len, &m, why, sizeof why) != MSG_OK)
        l.m = NULL;
    int root_fd;
    if (*o->stop || r->st->out_errno != 0 || (o->limit > 0 && r->picked == o->limit) ||
        !reason_picked(o, d->dead.reason) || !root_picked(o, l.m, &root_fd)) {
        r->st->left++;
        l.action = "keep";
        if (o->dry_run)
            print_letter(r, &l);
        return MQ_OK;
    }
    r->picked++;
    switch (o->mode) {
    case DEAD_LIST:
        r->st->listed++;
        print_letter(r, &l);
        return MQ_OK;
    case DEAD_PURGE:
        r->st->purged++;
        if (!o->dry_run)
            return mq_ack(r->m, d->tag, 0, err, errlen);
        l.action = "purge";
        print_letter(r, &l);
        return MQ_OK;
    case DEAD_REQUEUE:
        break;
    }
    return requeue(r, &l, root_fd, err, errlen);
}

enum mq_status dead_run(const struct dead_opts *o, struct dead_stats *st, char *err, size_t errlen)
{
    struct reader r;
    memset(&r, 0, sizeof r);
    memset(st, 0, sizeof *st);
    r.o = o;
    r.st = st;
    cfg_dead_name(o->cfg, r.dead); /* fits: mq_inspect_topology refuses it otherwise */
    if (gethostname(r.host, sizeof r.host) < 0)
        r.host[0] = '\0';
    r.host[sizeof r.host - 1] = '\0';
    struct mq_queue_info qi;
    enum mq_status s = mq_connect(o->cfg, o->conn_name, &r.m, err, errlen);
    if (s != MQ_OK)
        return s;
    /* Look, create nothing: a mistyped --queue is reported missing. */
    s = mq_inspect_topology(r.m, o->cfg, &qi, err, errlen);
    if (s == MQ_OK && o->mode == DEAD_REQUEUE && !o->dry_run)
        s = mq_confirm_select(r.m, err, errlen);
    /* One at a time: a basic.get must not meet a pending confirm. Only the
     * letters there at the start: those taken stay unacknowledged, so
     * basic.get never gives one twice, and the count ends the walk before
     * letters added meanwhile. Every one of them is taken, even past
     * --count or a signal: a RabbitMQ 3.10 quorum queue puts a letter given
     * back behind those given back before, so a walk that stopped halfway
     * would turn the order round (tests/broker/test_move_dead.sh). XXX On
     * such queues each basic.get costs time in proportion to the letters
     * held unacknowledged (some seconds for 10,000 letters). */
    for (uint32_t i = 0; s == MQ_OK && i < qi.dead_messages; i++) {
        struct mq_delivery d;
        int got;
        if ((s = mq_get(r.m, r.dead, &d, &got, err, errlen)) != MQ_OK || !got)
            break;
        st->seen++;
        s = handle(&r, &d, err, errlen);
    }
    mq_close(r.m); /* gives back every letter not acknowledged, in order */
    return s;
}

void dead_report(const struct dead_opts *o, const struct dead_stats *st, FILE *json)
{
    const struct cfg *c = o->cfg;
    const uint64_t *v = st->verdicts;
    uint64_t dropped = v[REQUEUE_DROP_GONE] + v[REQUEUE_DROP_CHANGED] + v[REQUEUE_DROP_AT_DEST];
    const char *dry = o->dry_run ? "true" : "false";
    if (st->out_errno != 0) {
        log_error("cannot write to standard output: %s", strerror(st->out_errno));
        json = NULL;
    }
    switch (o->mode) {
    case DEAD_LIST:
        log_notice("listed %" PRIu64 " of the %" PRIu64 " dead letters looked at in '%s.dead'",
                   st->listed, st->seen, c->queue);
        break;
    case DEAD_PURGE:
        log_notice("%s %" PRIu64 " dead letters from '%s.dead'; left %" PRIu64 " in place",
                   o->dry_run ? "would purge" : "purged", st->purged, c->queue, st->left);
        if (json != NULL)
            fprintf(json,
                    "{\"purged_dead\":%" PRIu64 ",\"left_dead\":%" PRIu64 ",\"dry_run\":%s}\n",
                    st->purged, st->left, dry);
        break;
    case DEAD_REQUEUE:
        log_notice(
            "%s %" PRIu64 " dead letters from '%s.dead' to exchange '%s'; %s %" PRIu64 " (%" PRIu64
            " gone, %" PRIu64 " changed, %" PRIu64 " already at DEST); left %" PRIu64 " in place",
            o->dry_run ? "would requeue" : "requeued", v[REQUEUE_PUT_BACK], c->queue, c->exchange,
            o->dry_run ? "would drop" : "dropped", dropped, v[REQUEUE_DROP_GONE],
            v[REQUEUE_DROP_CHANGED], v[REQUEUE_DROP_AT_DEST], st->left);
        if (json != NULL)
            fprintf(json,
                    "{\"requeued_dead\":%" PRIu64 ",\"dropped_dead\":%" PRIu64
                    ",\"dropped_by_reason\":{\"gone\":%" PRIu64 ",\"changed\":%" PRIu64
                    ",\"at-dest\":%" PRIu64 "},\"left_dead\":%" PRIu64 ",\"dry_run\":%s}\n",
                    v[REQUEUE_PUT_BACK], dropped, v[REQUEUE_DROP_GONE], v[REQUEUE_DROP_CHANGED],
                    v[REQUEUE_DROP_AT_DEST], st->left, dry);
        break;
    }
}
