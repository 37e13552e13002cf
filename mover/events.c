/* events.c - move --publish-moved: the moved events, their connection and
 * their confirms; see events.h. */
#include "events.h"

#include "clock.h"
#include "decimal.h"
#include "json_write.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Room for the longest event: root and path of MSG_PATH_MAX bytes and the
 * destination of twice that, every byte escaped as \u00XX (6 bytes). */
#define EVENTS_BODY_MAX (6 * 4 * MSG_PATH_MAX + 8192)

struct events {
    char exchange[CFG_NAME_MAX + 1];
    char key[CFG_NAME_MAX + 1];
    const struct cfg *cfg;
    char conn_name[320];
    char host[256]; /* this mover's host name: "mover_host" */
    struct mq *mq;  /* NULL: closed, opened by the next events_publish */
    /* Confirms of the publishes on mq: every tag below low is confirmed;
     * acked[t - base] says whether tag t (low <= t <= last) is. */
    uint64_t base, low, last;
    unsigned char *acked;
    size_t cap;
    /* A failure met outside events_settle, which reports it; while it is
     * set, events_publish refuses with it. */
    enum mq_status failed;
    char failed_why[512];
    uint64_t confirmed; /* events confirmed, since the start */
    uint64_t sent;      /* events published, since the start: the marks */
    uint64_t conn_sent; /* sent when mq was opened: its tag t is event conn_sent + t */
    double serviced;    /* when events_keepalive last read mq */
    char *body;         /* EVENTS_BODY_MAX bytes */
    /* events_defer: the events held for the next events_settle, each a
     * struct staged and its body */
    int defer;
    char *stage;
    size_t stage_len, stage_cap;
};

/* The head of an event held back (events_defer); its body follows. */
struct staged {
    size_t len;
    char id[MSG_ID_LEN + 1];
};

struct events *events_new(const char *spec, const struct cfg *cfg, char *err, size_t errlen)
{
    const char *slash = strchr(spec, '/');
    size_t xlen = slash != NULL ? (size_t)(slash - spec) : strlen(spec);
    const char *key = slash != NULL ? slash + 1 : NULL;
    char dflt[CFG_NAME_MAX + 16];
    if (key == NULL) {
        snprintf(dflt, sizeof dflt, "%s.moved", cfg->queue);
        key = dflt;
    }
    if (xlen == 0) {
        snprintf(err, errlen, "--publish-moved: no exchange name in '%s'", spec);
        return NULL;
    }
    if (xlen > CFG_NAME_MAX || strlen(key) > CFG_NAME_MAX) {
        snprintf(err, errlen, "--publish-moved: the %s is over %d bytes",
                 xlen > CFG_NAME_MAX ? "exchange name" : "routing key", CFG_NAME_MAX);
        return NULL;
    }
    if (key[0] == '\0') {
        snprintf(err, errlen, "--publish-moved: an empty routing key after the '/' in '%s'", spec);
        return NULL;
    }
    if (strlen(cfg->exchange) == xlen && strncmp(cfg->exchange, spec, xlen) == 0 &&
        strcmp(cfg->routing_key, key) == 0) {
        snprintf(err, errlen,
                 "--publish-moved: exchange '%s' with key '%s' is where the files' messages go: "
                 "the events would come back to the movers as files to move",
                 cfg->exchange, key);
        return NULL;
    }
    struct events *ev = calloc(1, sizeof *ev);
    if (ev == NULL || (ev->body = malloc(EVENTS_BODY_MAX)) == NULL) {
        free(ev);
        snprintf(err, errlen, "--publish-moved: out of memory");
        return NULL;
    }
    memcpy(ev->exchange, spec, xlen);
    snprintf(ev->key, sizeof ev->key, "%s", key);
    ev->cfg = cfg;
    if (gethostname(ev->host, sizeof ev->host) < 0)
        ev->host[0] = '\0';
    ev->host[sizeof ev->host - 1] = '\0';
    ev->base = ev->low = 1;
    return ev;
}

/* Close the connection, forgetting what it had not confirmed. */
static void drop(struct events *ev)
{
    mq_close(ev->mq);
    ev->mq = NULL;
    ev->base = ev->low = 1;
    ev->last = 0;
}

/* Close the connection after failure s (its sentence in why), kept for
 * events_settle; returns s. */
static enum mq_status failed(struct events *ev, enum mq_status s, const char *why)
{
    drop(ev);
    if (ev->failed == MQ_OK) {
        ev->failed = s;
        snprintf(ev->failed_why, sizeof ev->failed_why, "%s", why);
    }
    return s;
}

/* Open the connection, check the exchange, turn on confirms. */
static enum mq_status open_events(struct events *ev, char *err, size_t errlen)
{
    static const char hint[] = "declare it (and bind a queue to it) before move --publish-moved "
                               "publishes moved events there";
    enum mq_status s = mq_connect(ev->cfg, ev->conn_name, &ev->mq, err, errlen);
    if (s != MQ_OK)
        return s;
    if ((s = mq_check_exchange(ev->mq, ev->exchange, hint, err, errlen)) != MQ_OK ||
        (s = mq_confirm_select(ev->mq, err, errlen)) != MQ_OK)
        drop(ev);
    ev->conn_sent = ev->sent;
    return s;
}

void events_defer(struct events *ev, int on)
{
    if (ev != NULL)
        ev->defer = on;
}

void events_forget(struct events *ev)
{
    if (ev != NULL)
        ev->stage_len = 0;
}

enum mq_status events_connect(struct events *ev, const char *conn_name, char *err, size_t errlen)
{
    snprintf(ev->conn_name, sizeof ev->conn_name, "%s", conn_name != NULL ? conn_name : "");
    drop(ev);
    ev->failed = MQ_OK;
    ev->stage_len = 0;
    return open_events(ev, err, errlen);
}

/* Is an event published and not yet confirmed? */
static int outstanding(const struct events *ev)
{
    return ev->mq != NULL && ev->low <= ev->last;
}

/* Is one of the events up to mark (events_send) not yet confirmed? Those
 * of connections closed before were, or a failure says otherwise. */
static int outstanding_upto(const struct events *ev, uint64_t mark)
{
    if (mark == EVENTS_ALL)
        return outstanding(ev);
    return ev->mq != NULL && mark > ev->conn_sent && ev->low <= mark - ev->conn_sent &&
           ev->low <= ev->last;
}

/* Note the broker's ack of tag (of every tag up to it when multiple). */
static void note_ack(struct events *ev, uint64_t tag, int multiple)
{
    if (tag < ev->low || tag > ev->last)
        return; /* confirmed already, or not ours */
    for (uint64_t t = multiple ? ev->low : tag; t <= tag; t++) {
        if (!ev->acked[t - ev->base]) {
            ev->acked[t - ev->base] = 1;
            ev->confirmed++;
        }
    }
    while (ev->low <= ev->last && ev->acked[ev->low - ev->base])
        ev->low++;
}

/* Act on what mq_next_event returned (s, e): MQ_OK for nothing or an ack,
 * else the failure with its sentence in err. */
static enum mq_status on_event(struct events *ev, enum mq_status s, const struct mq_event *e,
                               char *err, size_t errlen)
{
    char broker[400];
    if (s == MQ_ERR_ACCESS) {
        snprintf(broker, sizeof broker, "%s", err);
        snprintf(err, errlen, "may not publish moved events to exchange '%s': %s", ev->exchange,
                 broker);
        return s;
    }
    if (s != MQ_OK)
        return s;
    switch (e->kind) {
    case MQ_EVENT_ACK:
        note_ack(ev, e->tag, e->multiple);
        return MQ_OK;
    case MQ_EVENT_NACK:
        snprintf(err, errlen, "the broker refused (nacked) a moved event on exchange '%s'",
                 ev->exchange);
        return MQ_ERR_PROTOCOL;
    case MQ_EVENT_RETURN:
        snprintf(err, errlen,
                 "moved events to exchange '%s' with key '%s' reach no queue: bind a queue to it",
                 ev->exchange, ev->key);
        return MQ_ERR_CONFIG;
    case MQ_EVENT_NONE:
        break;
    }
    return MQ_OK;
}

/* The event of m into ev->body: its length, or 0 when it does not fit. */
static size_t write_event(struct events *ev, const struct msg *m, const char *dest_path,
                          size_t dest_len, int duplicate, const char *hash)
{
    struct json_write w;
    char num[DECIMAL_TIME_MAX], now[MSG_TIME_MAX + 1];
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    msg_time_format(&t, now, sizeof now);
    json_write_init(&w, ev->body, EVENTS_BODY_MAX);
    json_write_open(&w);
    json_write_key(&w, "v");
    json_write_raw(&w, "1");
    json_write_key(&w, "event");
    json_write_raw(&w, "\"moved\"");
    json_write_key(&w, "id");
    json_write_string(&w, m->id, strlen(m->id));
    json_write_bytes(&w, "root", "root_b64", m->root, m->root_len);
    json_write_bytes(&w, "path", "path_b64", m->path, m->path_len);
    static const char *const u64_keys[] = {"size", "mtime", "dev", "ino"};
    for (int i = 0; i < 4; i++) {
        if (i == 1)
            decimal_format_time(m->mtime_sec, m->mtime_nsec, num, sizeof num);
        else
            snprintf(num, sizeof num, "%" PRIu64, i == 0 ? m->size : i == 2 ? m->dev : m->ino);
        json_write_key(&w, u64_keys[i]);
        json_write_string(&w, num, strlen(num));
    }
    static const char *const u32_keys[] = {"mode", "uid", "gid"};
    const uint32_t u32[] = {m->mode, m->uid, m->gid};
    for (int i = 0; i < 3; i++) {
        snprintf(num, sizeof num, "%" PRIu32, u32[i]);
        json_write_key(&w, u32_keys[i]);
        json_write_raw(&w, num);
    }
    /* The message's text fields; mime and published_at only when given. */
    const char *const text_keys[] = {"mime", "scanned_at", "host", "published_at"};
    const char *const text[] = {m->mime, m->scanned_at, m->host, m->published_at};
    const int optional[] = {1, 0, 0, 1};
    for (int i = 0; i < 4; i++) {
        if (optional[i] && text[i][0] == '\0')
            continue;
        json_write_key(&w, text_keys[i]);
        json_write_string(&w, text[i], strlen(text[i]));
    }
    json_write_bytes(&w, "dest", "dest_b64", dest_path, dest_len);
    json_write_key(&w, "duplicate");
    json_write_raw(&w, duplicate ? "true" : "false");
    json_write_key(&w, "mover_host");
    json_write_string(&w, ev->host, strlen(ev->host));
    json_write_key(&w, "moved_at");
    json_write_string(&w, now, strlen(now));
    const char *h = hash != NULL && hash[0] != '\0' ? hash : m->hash;
    if (h[0] != '\0') {
        json_write_key(&w, "hash");
        json_write_string(&w, h, strlen(h));
    }
    json_write_close(&w);
    size_t len;
    return json_write_finish(&w, &len) == 0 ? len : 0;
}

/* Room in ev->acked for the tag after ev->last: 0, or -1 out of memory. */
static int make_room(struct events *ev)
{
    if (ev->low > ev->last) /* nothing outstanding: start over */
        ev->base = ev->low = ev->last + 1;
    size_t need = (size_t)(ev->last + 1 - ev->base) + 1;
    if (need > ev->cap) {
        size_t cap = ev->cap > 0 ? ev->cap * 2 : 64;
        unsigned char *a = realloc(ev->acked, cap > need ? cap : need);
        if (a == NULL)
            return -1;
        ev->acked = a;
        ev->cap = cap > need ? cap : need;
    }
    ev->acked[ev->last + 1 - ev->base] = 0;
    return 0;
}

/* Publish the event of id (len bytes of body) on the open connection. */
static enum mq_status send_event(struct events *ev, const char *id, const char *body, size_t len,
                                 char *err, size_t errlen)
{
    uint64_t seq;
    if (make_room(ev) < 0) {
        snprintf(err, errlen, "out of memory");
        return MQ_ERR_CLOSED;
    }
    enum mq_status s = mq_publish(ev->mq, ev->exchange, ev->key, body, len, id, EVENTS_AMQP_TYPE,
                                  (uint64_t)time(NULL), &seq, err, errlen);
    if (s == MQ_OK) {
        ev->last = seq;
        ev->sent++;
    }
    return s;
}

/* Publish the event of id, opening the connection when it is closed;
 * after a failure, close it and keep the failure for events_settle. */
static enum mq_status publish_one(struct events *ev, const char *id, const char *body, size_t len,
                                  char *err, size_t errlen)
{
    /* A connection found gone with nothing outstanding loses nothing:
     * open another and publish there (once). */
    for (int tries = 0;; tries++) {
        int nothing_lost = ev->mq == NULL || !outstanding(ev);
        enum mq_status s = ev->mq == NULL ? open_events(ev, err, errlen) : MQ_OK;
        if (s == MQ_OK && (s = send_event(ev, id, body, len, err, errlen)) == MQ_OK)
            return MQ_OK;
        if (s != MQ_ERR_CLOSED || !nothing_lost || ev->mq == NULL || tries > 0)
            return failed(ev, s, err);
        drop(ev);
    }
}

/* Hold the event of id (len bytes at ev->body) for the next settle. */
static enum mq_status stage_event(struct events *ev, const char *id, size_t len, char *err,
                                  size_t errlen)
{
    struct staged h = {.len = len};
    size_t need = ev->stage_len + sizeof h + len;
    if (need > ev->stage_cap) {
        size_t cap = ev->stage_cap > 0 ? ev->stage_cap * 2 : 65536;
        char *p = realloc(ev->stage, cap > need ? cap : need);
        if (p == NULL) {
            snprintf(err, errlen, "out of memory");
            return failed(ev, MQ_ERR_CLOSED, err);
        }
        ev->stage = p;
        ev->stage_cap = cap > need ? cap : need;
    }
    snprintf(h.id, sizeof h.id, "%s", id);
    memcpy(ev->stage + ev->stage_len, &h, sizeof h);
    memcpy(ev->stage + ev->stage_len + sizeof h, ev->body, len);
    ev->stage_len = need;
    return MQ_OK;
}

/* Publish the events held back, in order, and forget them. */
static enum mq_status publish_staged(struct events *ev, char *err, size_t errlen)
{
    enum mq_status s = MQ_OK;
    struct staged h;
    if (ev->mq != NULL && ev->stage_len > 0)
        mq_cork(ev->mq, 1);
    for (size_t at = 0; s == MQ_OK && at < ev->stage_len; at += sizeof h + h.len) {
        memcpy(&h, ev->stage + at, sizeof h);
        s = publish_one(ev, h.id, ev->stage + at + sizeof h, h.len, err, errlen);
    }
    if (ev->mq != NULL)
        mq_cork(ev->mq, 0);
    ev->stage_len = 0;
    return s;
}

enum mq_status events_publish(struct events *ev, const struct msg *m, const char *dest_path,
                              size_t dest_len, int duplicate, const char *hash, char *err,
                              size_t errlen)
{
    if (ev->failed != MQ_OK) {
        snprintf(err, errlen, "%s", ev->failed_why);
        return ev->failed;
    }
    size_t len = write_event(ev, m, dest_path, dest_len, duplicate, hash);
    if (len == 0) { /* cannot happen: EVENTS_BODY_MAX holds the longest */
        snprintf(err, errlen, "the moved event of %s does not fit in %d bytes", m->id,
                 EVENTS_BODY_MAX);
        return failed(ev, MQ_ERR_PROTOCOL, err);
    }
    if (ev->defer)
        return stage_event(ev, m->id, len, err, errlen);
    return publish_one(ev, m->id, ev->body, len, err, errlen);
}

enum mq_status events_send(struct events *ev, uint64_t *mark, char *err, size_t errlen)
{
    if (ev->failed != MQ_OK) {
        snprintf(err, errlen, "%s", ev->failed_why);
        return ev->failed;
    }
    enum mq_status s = publish_staged(ev, err, errlen);
    *mark = ev->sent;
    return s;
}

enum mq_status events_settle(struct events *ev, uint64_t mark, void (*tick)(void *), void *arg,
                             char *err, size_t errlen)
{
    enum mq_status s = ev->failed;
    if (s != MQ_OK)
        snprintf(err, errlen, "%s", ev->failed_why);
    else if (mark == EVENTS_ALL)
        s = publish_staged(ev, err, errlen);
    double last_tick = mono_now();
    while (s == MQ_OK && outstanding_upto(ev, mark)) {
        struct mq_event e;
        s = on_event(ev, mq_next_event(ev->mq, 200, &e, err, errlen), &e, err, errlen);
        if (s == MQ_OK && tick != NULL && mono_now() - last_tick >= 1.0) {
            tick(arg);
            last_tick = mono_now();
        }
    }
    if (s != MQ_OK) {
        ev->failed = MQ_OK;
        ev->stage_len = 0;
        drop(ev);
    }
    return s;
}

void events_keepalive(struct events *ev)
{
    if (ev == NULL || ev->mq == NULL)
        return;
    double now = mono_now();
    if (now - ev->serviced < 1.0)
        return;
    ev->serviced = now;
    char err[512];
    enum mq_status s = mq_keepalive(ev->mq, err, sizeof err);
    while (s == MQ_OK) { /* the confirms that came meanwhile, without waiting */
        struct mq_event e;
        s = on_event(ev, mq_next_event(ev->mq, 0, &e, err, sizeof err), &e, err, sizeof err);
        if (s == MQ_OK && e.kind == MQ_EVENT_NONE)
            return;
    }
    if (outstanding(ev) || s == MQ_ERR_CONFIG || s == MQ_ERR_ACCESS) {
        failed(ev, s, err);
        return;
    }
    log_debug("the moved events connection was lost (%s); opening another when needed", err);
    drop(ev);
}

uint64_t events_published(const struct events *ev)
{
    return ev == NULL ? 0 : ev->confirmed;
}

void events_free(struct events *ev)
{
    if (ev == NULL)
        return;
    mq_close(ev->mq);
    free(ev->acked);
    free(ev->body);
    free(ev->stage);
    free(ev);
}
