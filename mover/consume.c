/* consume.c - the mover's delivery loop; see consume.h. */
#include "consume.h"

#include "clock.h"
#include "exitcode.h"
#include "log.h"
#include "metrics.h"
#include "mq_reconnect.h"
#include "msg.h"
#include "report.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct consumer {
    const struct consume_opts *o;
    struct consume_stats *st;
    struct mq *mq;   /* consuming connection */
    struct mq *dead; /* dead-letter publishing connection, in confirm mode */
    char dlx[CFG_NAME_MAX + 1];
    /* Finished deliveries not yet acknowledged: up to ack_tag, ack_pending
     * of them, acknowledged together (with "multiple") once ack_batch are
     * done or no delivery is waiting; under --fsync their directories are
     * flushed first (group commit). */
    uint64_t ack_tag;
    unsigned ack_pending, ack_batch;
    struct durable_group sync;
    char host[256];                /* this host's name, as scan writes it into messages */
    int dest_fd;                   /* DEST: o->dest_fd, or DEST opened again after it was deleted */
    int local_stop;                /* a local failure ends the run (st->local_exit) */
    struct mq_reconnect reconnect; /* after a lost connection */
    int first;                     /* reconnecting at start: "trying again" */
    int told_waiting;              /* the first wait of this outage was said, even under -q */
    int connected;                 /* connected once: the first connection was said */
    double dead_serviced;          /* when keep_dead_alive last read c->dead */
    double queue_asked;            /* when st->queue was last asked for */
    char *buf;                     /* fileop's scratch buffer, allocated by the first move */
    pthread_t main_thread;         /* the one running consume_run */
    /* the roots of messages this mover does not serve, each said once */
    char *foreign[CONSUME_FOREIGN_MAX];
    unsigned n_foreign;
};

/* Say in err, which holds the broker's sentence, that publishing to the
 * dead-letter exchange failed (was refused, for MQ_ERR_ACCESS). */
static void dlx_failed(const struct consumer *c, enum mq_status s, char *err, size_t errlen)
{
    char broker[768];
    snprintf(broker, sizeof broker, "%s", err);
    snprintf(err, errlen, "%s publish to the dead-letter exchange '%s': %s",
             s == MQ_ERR_ACCESS ? "may not" : "cannot", c->dlx, broker);
}

/* Open the dead-letter publishing connection, in confirm mode. */
static enum mq_status connect_dead(struct consumer *c, char *err, size_t errlen)
{
    enum mq_status s = mq_connect(c->o->cfg, c->o->conn_name, &c->dead, err, errlen);
    if (s != MQ_OK)
        return s;
    if ((s = mq_confirm_select(c->dead, err, errlen)) != MQ_OK) {
        mq_close(c->dead);
        c->dead = NULL;
    }
    return s;
}

/*
 * Connect both connections and start consuming. Whether this user may
 * publish to the dead-letter exchange is checked first, before a message
 * is taken: the broker refuses such a publish only when it happens, and a
 * mover that found out then would have moved files whose group
 * acknowledgement is pending, and would give back every delivery it holds.
 */
static enum mq_status connect_consumer(struct consumer *c, char *err, size_t errlen)
{
    enum mq_status s = mq_connect(c->o->cfg, c->o->conn_name, &c->mq, err, errlen);
    if (s != MQ_OK)
        return s;
    if ((s = mq_declare_topology(c->mq, c->o->cfg, &c->st->queue, err, errlen)) != MQ_OK)
        goto fail;
    c->st->have_queue = 1;
    c->queue_asked = mono_now();
    if (c->dead == NULL && (s = connect_dead(c, err, errlen)) != MQ_OK)
        goto fail;
    if ((s = mq_check_publish(c->dead, c->dlx, err, errlen)) != MQ_OK) {
        dlx_failed(c, s, err, errlen);
        goto fail;
    }
    if ((s = mq_consume(c->mq, c->o->cfg->queue, (uint16_t)c->o->prefetch, err, errlen)) != MQ_OK)
        goto fail;
    c->st->consuming = 1;
    if (!c->connected) { /* which node matters when there are several */
        char node[1024];
        tool_describe_connection(c->mq, node, sizeof node);
        log_event(c->o->cfg->n_urls > 1 ? LOG_SEV_NOTICE : LOG_SEV_INFO,
                  &(struct log_fields){.event = "connected"}, "connected to %s", node);
        report_node(node);
        c->connected = 1;
    }
    return MQ_OK;
fail:
    mq_close(c->dead);
    c->dead = NULL;
    mq_close(c->mq);
    c->mq = NULL;
    return s;
}

static enum mq_status connect_once(void *arg, char *err, size_t errlen)
{
    return connect_consumer(arg, err, errlen);
}

/* During the waits for the broker: the progress hook (status_tick), which
 * serves SIGHUP and SIGUSR1. */
static void reconnect_tick(void *arg)
{
    struct consumer *c = arg;
    if (c->o->progress != NULL)
        c->o->progress(c->st, 0);
}

/* Before each wait for the broker. The first of an outage is said even
 * under -q: a mover run from cron that waits in silence looks hung. */
static void say_reconnecting(void *arg, const char *why, double wait_s)
{
    struct consumer *c = arg;
    void (*say)(const char *, ...) = c->told_waiting ? log_warn : log_error;
    reconnect_tick(c); /* still alive, for the watchdog and the metrics */
    c->told_waiting = 1;
    say("%s; %s in %.0f s", why, c->first ? "trying again" : "reconnecting", wait_s);
}

/* (Re)connect within --reconnect-timeout (mq_reconnect); MQ_OK with c->mq
 * NULL when *stop was set meanwhile. */
static enum mq_status reconnect(struct consumer *c, int first, char *err, size_t errlen)
{
    mq_close(c->mq);
    c->mq = NULL;
    mq_close(c->dead);
    c->dead = NULL;
    c->st->consuming = 0;
    c->first = first;
    c->told_waiting = 0;
    c->connected = 1; /* said below */
    enum mq_status s = mq_reconnect(&c->reconnect, err, errlen);
    if (s == MQ_OK && c->mq != NULL) {
        c->st->reconnects += !first;
        char node[1024];
        tool_describe_connection(c->mq, node, sizeof node);
        log_event(LOG_SEV_WARNING, &(struct log_fields){.event = "reconnected"},
                  "reconnected to %s", node);
        report_node(node);
    }
    return s;
}

/* Acknowledge the finished deliveries, after making their moves durable
 * under --fsync. If that fails, give them back to the queue instead: their
 * redeliveries find the files moved and try the fsync again. */
static enum mq_status flush_acks(struct consumer *c, char *err, size_t errlen)
{
    if (c->ack_pending == 0)
        return MQ_OK;
    unsigned n = c->ack_pending;
    c->ack_pending = 0;
    if (c->o->fsync && durable_group_flush(&c->sync) < 0) {
        log_error("cannot make the last %u moves durable: %s; requeueing them to check again", n,
                  strerror(errno));
        return mq_requeue(c->mq, c->ack_tag, 1, err, errlen);
    }
    return mq_ack(c->mq, c->ack_tag, 1, err, errlen);
}

/* A delivery is done: acknowledge it with its group. */
static enum mq_status done(struct consumer *c, uint64_t tag, char *err, size_t errlen)
{
    c->ack_tag = tag;
    if (++c->ack_pending >= c->ack_batch)
        return flush_acks(c, err, errlen);
    return MQ_OK;
}

/* Ask for the queue's counts (move_metrics_ask_queue) every
 * o->queue_info_ms, or now when now_due; 0 when they were asked for now. */
static int ask_queue(struct consumer *c, int now_due)
{
    if (c->o->queue_info_ms == 0)
        return -1;
    double now = mono_now();
    if (!now_due && (now - c->queue_asked) * 1000.0 < (double)c->o->queue_info_ms)
        return -1;
    c->queue_asked = now;
    return move_metrics_ask_queue(&c->dead, c->o->cfg, c->st);
}

/*
 * The dead-letter connection sits idle between dead letters, and the
 * broker closes a connection that sends nothing for two heartbeats: read
 * what it sent (its heartbeats) and send ours when due, at most once a
 * second. A connection found lost is dropped; the next dead letter opens
 * another. It is also where the queue's counts are asked for (ask_queue).
 */
static void keep_dead_alive(struct consumer *c)
{
    if (c->dead == NULL)
        return;
    double now = mono_now();
    if (now - c->dead_serviced < 1.0)
        return;
    c->dead_serviced = now;
    struct mq_event ev;
    char err[256];
    if (mq_keepalive(c->dead, err, sizeof err) != MQ_OK ||
        mq_next_event(c->dead, 0, &ev, err, sizeof err) != MQ_OK) {
        log_debug("the dead-letter connection was lost (%s); opening another when needed", err);
        mq_close(c->dead);
        c->dead = NULL;
        return;
    }
    ask_queue(c, 0);
}

/* Called during long copies and waits: keep the connections alive and do
 * not sit on finished acknowledgements. Failures surface at the next
 * broker call (the connection is then marked lost). */
static void keepalive(void *arg)
{
    struct consumer *c = arg;
    char err[256];
    /* A long copy is progress, for the watchdog too; but durable.c's thread
     * also calls this while the main thread is in a long fsync, and a
     * stuck loop must not look alive: only the main thread reports. */
    if (c->o->progress != NULL && pthread_equal(pthread_self(), c->main_thread))
        c->o->progress(c->st, 0);
    if (c->mq == NULL)
        return;
    if (c->ack_pending > 0)
        flush_acks(c, err, sizeof err);
    mq_keepalive(c->mq, err, sizeof err);
    keep_dead_alive(c);
}

/* Can a sender's message id go into a log line as it is? Only when it is
 * printable ASCII without spaces: no forged lines, no terminal escapes. */
static int printable(const char *id)
{
    if (id[0] == '\0')
        return 0;
    for (const char *c = id; *c != '\0'; c++)
        if (*c < '!' || *c > '~')
            return 0;
    return 1;
}

/* The JSON fields of a log line about the file m names (NULL: none);
 * reason NULL when none. Main thread only: the fields are static. */
static const struct log_fields *file_fields(const char *event, const struct msg *m,
                                            const char *reason)
{
    static struct log_fields f;
    f = (struct log_fields){.event = event, .reason = reason};
    if (m != NULL) {
        f.id = m->id;
        f.root = m->root;
        f.root_len = m->root_len;
        f.path = m->path;
        f.path_len = m->path_len;
    }
    return &f;
}

/* Say that the delivery was dead-lettered: the file it names (m, NULL
 * when it could not be read), with its id, the reason and why. */
static void say_dead(const struct mq_delivery *d, const struct msg *m, enum move_reason reason,
                     const char *why)
{
    char name[1200];
    const char *id = m != NULL ? m->id : d->message_id;
    if (m != NULL)
        report_file(name, sizeof name, m);
    else
        snprintf(name, sizeof name, "a message");
    struct log_fields f = *file_fields("dead-lettered", m, move_reason_name(reason));
    f.id = printable(id) ? id : NULL;
    log_event(LOG_SEV_ERROR, &f, "dead-lettered %s (id %s, %s): %s", name, f.id ? f.id : "-",
              f.reason, why);
}

/* Publish the delivery to the dead-letter exchange with its reason, then
 * ack it. m is the decoded message, NULL when it could not be. */
static enum mq_status dead_letter(struct consumer *c, const struct mq_delivery *d,
                                  const struct msg *m, enum move_reason reason, const char *why,
                                  char *err, size_t errlen)
{
    enum mq_status s;
    if (c->dead == NULL && (s = connect_dead(c, err, errlen)) != MQ_OK)
        return s;
    s = mq_publish_dead(c->dead, c->dlx, c->o->cfg->routing_key, d->body, d->len, d->message_id,
                        &d->dead, move_reason_name(reason), why, err, errlen);
    if (s != MQ_OK) {
        mq_close(c->dead);
        c->dead = NULL;
        if (s == MQ_ERR_ACCESS) /* a refusal stays: exit, do not reconnect */
            dlx_failed(c, s, err, errlen);
        /* Nacked or returned (<queue>.dead gone?): try again on a new connection. */
        return s == MQ_ERR_PROTOCOL ? MQ_ERR_CLOSED : s;
    }
    say_dead(d, m, reason, why);
    c->st->dead++;
    if (c->st->by_reason[reason]++ == 0)
        c->st->seen[c->st->n_seen++] = reason;
    return mq_ack(c->mq, d->tag, 0, err, errlen);
}

/*
 * A message for a root this mover does not serve is dead-lettered, to be
 * requeued once the setup is fixed; but its cause is a setup (two
 * pipelines on one queue, or a --from that is not the scanned directory)
 * that would fail every such file, so the operator is told what to change,
 * once per root, even under -q. The first CONSUME_FOREIGN_MAX roots are
 * remembered; further ones are named by their dead-letter lines only.
 */
static void say_foreign_root(struct consumer *c, const struct msg *m)
{
    static char root[4 * MSG_PATH_MAX + 1];
    for (unsigned i = 0; i < c->n_foreign; i++)
        if (strcmp(c->foreign[i], m->root) == 0)
            return;
    if (c->n_foreign == CONSUME_FOREIGN_MAX)
        return;
    if ((c->foreign[c->n_foreign] = strdup(m->root)) == NULL)
        return; /* said again for the next file: better than never */
    c->n_foreign++;
    report_escape(root, sizeof root, m->root, m->root_len);
    log_error("queue '%s' holds files of '%s', which is not a --from root of this mover; they are "
              "dead-lettered as root-not-allowed: give each pipeline its own --queue, or add "
              "--from %s",
              c->o->cfg->queue, root, root);
}

/*
 * Is DEST still there? A directory deleted under the mover (rm -rf DEST;
 * mkdir DEST) keeps its open descriptor but takes nothing (every mkdirat
 * and rename in it says ENOENT): open DEST again by its path, as a new
 * mover would, unless that is now one of the roots. Returns 0 when DEST is
 * usable, or -1 with a sentence in why when it is gone.
 */
static int check_dest(struct consumer *c, char *why, size_t whylen)
{
    struct stat st, r;
    if (fstat(c->dest_fd, &st) == 0 && st.st_nlink > 0)
        return 0;
    int fd = open(c->o->dest_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(why, whylen, "the destination directory %s was deleted while the mover ran",
                 c->o->dest_path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    for (unsigned i = 0; i < c->o->n_roots; i++) {
        if (fstat(c->o->roots[i].fd, &r) == 0 && r.st_dev == st.st_dev && r.st_ino == st.st_ino) {
            snprintf(why, whylen,
                     "the destination directory %s was deleted while the mover ran, and that "
                     "path is now a --from root",
                     c->o->dest_path);
            close(fd);
            return -1;
        }
    }
    log_warn("the destination directory %s was deleted and made again; moving into the new one",
             c->o->dest_path);
    if (c->dest_fd != c->o->dest_fd)
        close(c->dest_fd);
    c->dest_fd = fd;
    return 0;
}

/* Handle one delivery to its end: ack, dead-letter or requeue. */
static enum mq_status handle(struct consumer *c, const struct mq_delivery *d, char *err,
                             size_t errlen)
{
    static struct msg m;
    char why[512], final_path[MSG_PATH_MAX + 32];
    enum move_reason reason = MOVE_REASON_UNKNOWN;
    if (check_dest(c, why, sizeof why) < 0) {
        /* Nothing can be moved any more: keep this delivery for another
         * mover, acknowledge the finished ones, and stop. */
        snprintf(err, errlen, "%s", why);
        c->st->local_exit = EXITCODE_NOINPUT;
        c->local_stop = 1;
        char ignored[256];
        enum mq_status s = flush_acks(c, ignored, sizeof ignored);
        if (s == MQ_OK)
            s = mq_requeue(c->mq, d->tag, 0, ignored, sizeof ignored);
        return s == MQ_ERR_CLOSED || s == MQ_ERR_UNREACHABLE ? MQ_OK : s;
    }
    enum msg_err me = msg_decode(d->body, d->len, &m, why, sizeof why);
    if (me != MSG_OK)
        return dead_letter(c, d, NULL, move_reason_of_msg_err(me), why, err, errlen);
    const struct consume_root *root = NULL;
    for (unsigned i = 0; i < c->o->n_roots; i++)
        if (strcmp(c->o->roots[i].real, m.root) == 0)
            root = &c->o->roots[i];
    if (root == NULL) {
        say_foreign_root(c, &m);
        snprintf(why, sizeof why, "the root is not one of this mover's --from directories");
        return dead_letter(c, d, &m, MOVE_REASON_ROOT_NOT_ALLOWED, why, err, errlen);
    }
    struct fileop_opts fo = c->o->fileop;
    fo.tick = keepalive;
    fo.tick_arg = c;
    fo.stop = c->o->stop;
    fo.sync = c->o->fsync ? &c->sync : NULL;
    fo.other_host = strcmp(m.host, c->host) != 0;
    if (c->buf == NULL) /* NULL again: fileop_move then allocates its own */
        c->buf = malloc(FILEOP_BUF_SIZE);
    fo.buf = c->buf;
    fo.copied = &c->st->copy_bytes;
    enum fileop_result r =
        fileop_move(root->fd, c->dest_fd, &m, &fo, final_path, &reason, why, sizeof why);
    switch (r) {
    case FILEOP_MOVED:
        c->st->moved++;
        c->st->bytes += m.size;
        move_metrics_handled(c->st, &m, 1);
        log_event(LOG_SEV_INFO, file_fields("moved", &m, NULL), "moved %s", final_path);
        return done(c, d->tag, err, errlen);
    case FILEOP_DUPLICATE:
        c->st->duplicates++;
        move_metrics_handled(c->st, &m, 1);
        log_event(LOG_SEV_INFO, file_fields("already-moved", &m, NULL), "already moved %s",
                  final_path);
        return done(c, d->tag, err, errlen);
    case FILEOP_SKIPPED:
        c->st->skipped++;
        move_metrics_handled(c->st, &m, 0);
        log_event(LOG_SEV_INFO, file_fields("skipped", &m, NULL),
                  "skipped %s: the destination has another file of that name", final_path);
        return done(c, d->tag, err, errlen);
    case FILEOP_PERMANENT:
        return dead_letter(c, d, &m, reason, why, err, errlen);
    case FILEOP_TRANSIENT:
        break;
    }
    /* May work later: back to the queue after a pause, so that a full disk
     * is not hammered; the queue's delivery limit ends the retries. */
    log_event(LOG_SEV_ERROR, file_fields("requeued", &m, move_reason_name(reason)),
              "requeued %s (%s): %s", m.id, move_reason_name(reason), why);
    c->st->requeued++;
    enum mq_status s = flush_acks(c, err, errlen);
    if (s != MQ_OK)
        return s;
    for (int i = 0; i < 2 && !*c->o->stop; i++) {
        mono_nap(0.5);
        reconnect_tick(c); /* a pause is progress too: signals are served */
    }
    return mq_requeue(c->mq, d->tag, 0, err, errlen);
}

/* Close the connections at the end of the run; with --metrics, ask for
 * the queue's counts a last time first, for the file that outlives this
 * mover, and count it out of the consumers: it is one of them until its
 * connection closes (the broker forgets a consumer only some time after
 * the close, so asking after it would find it still there). */
static void close_both(struct consumer *c)
{
    if (c->o->queue_info_ms > 0 && c->mq != NULL && ask_queue(c, 1) == 0 &&
        c->st->queue.consumers > 0)
        c->st->queue.consumers--;
    mq_close(c->mq);
    c->mq = NULL;
    mq_close(c->dead);
    c->dead = NULL;
}

/* A run that never got to consume ends with s: the progress hook hears
 * of the end all the same (the final metrics). */
static enum mq_status ended(const struct consume_opts *o, struct consume_stats *st,
                            enum mq_status s)
{
    if (o->progress != NULL)
        o->progress(st, 1);
    return s;
}

enum mq_status consume_run(const struct consume_opts *o, struct consume_stats *st, char *err,
                           size_t errlen)
{
    struct consumer c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.st = st;
    c.dest_fd = o->dest_fd;
    cfg_dlx_name(o->cfg, c.dlx); /* fits: mq_declare_topology refuses it otherwise */
    /* Half the prefetch: the broker can send the next half meanwhile. */
    c.ack_batch = o->prefetch / 2 > 0 ? o->prefetch / 2 : 1;
    durable_group_init(&c.sync);
    mq_reconnect_init(&c.reconnect);
    c.reconnect.timeout_ms = o->reconnect_timeout_ms;
    c.reconnect.connect = connect_once;
    c.reconnect.waiting = say_reconnecting;
    c.reconnect.tick = reconnect_tick;
    c.main_thread = pthread_self();
    c.reconnect.arg = &c;
    c.reconnect.stop = o->stop;
    c.reconnect.at_once = o->cfg->n_urls > 1; /* another node may answer now */
    move_metrics_start(st);
    if (gethostname(c.host, sizeof c.host) < 0)
        c.host[0] = '\0';
    c.host[sizeof c.host - 1] = '\0';
    /* A broker that is down (or restarting) at start is waited for as one
     * lost later is: movers are often started before it, by systemd. */
    enum mq_status s = connect_consumer(&c, err, errlen);
    if (mq_transient(s))
        s = reconnect(&c, 1, err, errlen);
    if (s != MQ_OK)
        return ended(o, st, s);
    double last = mono_now();
    uint64_t handled = 0;
    while (!*o->stop && !c.local_stop && (o->count == 0 || handled < o->count)) {
        struct mq_delivery d;
        int got = 0;
        /* With acknowledgements pending, only look: when nothing is
         * waiting, send them, then wait. */
        int wait_ms = 500;
        if (c.ack_pending > 0) {
            wait_ms = 0;
        } else if (o->idle_exit_ms > 0) { /* wake up in time for --idle-exit */
            double left = (double)o->idle_exit_ms - (mono_now() - last) * 1000.0;
            if (left < wait_ms)
                wait_ms = left > 0 ? (int)left + 1 : 0;
        }
        s = mq_next_delivery(c.mq, wait_ms, &d, &got, err, errlen);
        if (s == MQ_OK && got) {
            s = handle(&c, &d, err, errlen);
            handled++;
            last = mono_now();
        } else if (s == MQ_OK) {
            s = flush_acks(&c, err, errlen);
        }
        if (o->progress != NULL)
            o->progress(st, 0);
        keep_dead_alive(&c);
        if (mq_transient(s)) {
            /* Unacked messages go back to the queue; a redelivery is
             * recognised and acked as a duplicate. When only the
             * dead-letter connection failed, the finished deliveries can
             * still be acknowledged on the consuming one (mq_ack refuses
             * quietly when that is gone too). */
            char ignored[256];
            if (c.mq != NULL)
                flush_acks(&c, ignored, sizeof ignored);
            c.ack_pending = 0;
            if ((s = reconnect(&c, 0, err, errlen)) != MQ_OK)
                break;
            last = mono_now();
            continue;
        }
        if (s != MQ_OK)
            break;
        if (!got && o->idle_exit_ms > 0 && (mono_now() - last) * 1000.0 >= (double)o->idle_exit_ms)
            break;
    }
    if (s == MQ_OK && c.mq != NULL) {
        s = flush_acks(&c, err, errlen);
    } else if (c.mq != NULL && c.ack_pending > 0) {
        /* Ending on a failure that is not the consuming connection's (a
         * refused dead letter): the files already moved keep their
         * acknowledgements, so that they are not delivered again. */
        char ignored[256];
        flush_acks(&c, ignored, sizeof ignored);
    }
    if (c.sync.n > 0) /* acknowledgements lost with the connection */
        durable_group_flush(&c.sync);
    close_both(&c);
    free(c.buf);
    for (unsigned i = 0; i < c.n_foreign; i++)
        free(c.foreign[i]);
    if (c.dest_fd != o->dest_fd)
        close(c.dest_fd);
    if (o->progress != NULL)
        o->progress(st, 1);
    return s;
}
