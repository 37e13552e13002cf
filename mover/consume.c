/* consume.c - the mover's delivery loop; see consume.h. */
#include "consume_priv.h"

#include "clock.h"
#include "exitcode.h"
#include "log.h"
#include "metrics.h"
#include "prune.h"
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
    if (c->dead == NULL && (s = deadletter_connect(c, err, errlen)) != MQ_OK)
        goto fail;
    if ((s = mq_check_publish(c->dead, c->dlx, err, errlen)) != MQ_OK) {
        deadletter_failed(c, s, err, errlen);
        goto fail;
    }
    /* The events of a group go out together, corked, once its moves are
     * durable (acks.c): fewer segments for the broker, and under --fsync
     * no event announces a rename a power failure could undo. */
    events_defer(c->o->events, 1);
    if (c->o->events != NULL &&
        (s = events_connect(c->o->events, c->o->conn_name, err, errlen)) != MQ_OK)
        goto fail;
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
    c->events_failed = 0; /* its group went back with the connection */
    c->connected = 1;     /* said below */
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

/* While events_settle waits, and in keepalive: the connections'
 * heartbeats, and the progress hook. A long copy is progress, for the
 * watchdog too; but durable.c's thread also calls keepalive while the
 * main thread is in a long fsync, and a stuck loop must not look alive:
 * only the main thread reports. */
void consume_tick(void *arg)
{
    struct consumer *c = arg;
    char err[256];
    if (c->o->progress != NULL && pthread_equal(pthread_self(), c->main_thread))
        c->o->progress(c->st, 0);
    if (c->mq == NULL)
        return;
    mq_keepalive(c->mq, err, sizeof err);
    keep_dead_alive(c);
}

/* Called during long copies and waits: keep the connections alive and do
 * not sit on finished acknowledgements. Failures surface at the next
 * broker call (the connection is then marked lost). */
static void keepalive(void *arg)
{
    struct consumer *c = arg;
    char err[256];
    if (c->mq != NULL && acks_pending(c) > 0)
        acks_flush(c, err, sizeof err);
    consume_tick(c);
    events_keepalive(c->o->events);
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

/* The file of m is at the destination, as final_path (relative to DEST):
 * moved now, or found moved (duplicate). Count it, say it, publish its
 * event (--publish-moved), prune its source directories
 * (--prune-empty-dirs), and acknowledge it with its group. */
static enum mq_status arrived(struct consumer *c, const struct mq_delivery *d, const struct msg *m,
                              const struct consume_root *root, int duplicate,
                              const char *final_path, const struct fileop_notes *notes, char *err,
                              size_t errlen)
{
    struct consume_stats *st = c->st;
    if (duplicate) {
        st->duplicates++;
    } else {
        st->moved++;
        st->bytes += m->size;
    }
    st->verified += notes->hash[0] != '\0' && m->hash[0] != '\0';
    move_metrics_handled(st, m, 1);
    if (notes->meta_lost > 0 && st->meta_lost++ == 0)
        log_event(LOG_SEV_WARNING, consume_file_fields("metadata-not-preserved", m, NULL),
                  "the destination did not keep %u extended attribute(s) or ACL(s) of %s: %s "
                  "(further such files are counted in the summary, and named with -v)",
                  notes->meta_lost, final_path, notes->meta_why);
    else if (notes->meta_lost > 0)
        log_event(LOG_SEV_INFO, consume_file_fields("metadata-not-preserved", m, NULL),
                  "the destination did not keep %u attribute(s) of %s: %s", notes->meta_lost,
                  final_path, notes->meta_why);
    if (duplicate)
        log_event(LOG_SEV_INFO, consume_file_fields("already-moved", m, NULL), "already moved %s",
                  final_path);
    else
        log_event(LOG_SEV_INFO, consume_file_fields("moved", m, NULL), "moved %s", final_path);
    /* Not published (after a failure, which events_settle reports): the
     * group is requeued, this delivery with it. */
    if (c->o->events != NULL && !c->events_failed) {
        static char dest[2 * MSG_PATH_MAX + 64];
        char why[512];
        int n = snprintf(dest, sizeof dest, "%s/%s", c->o->dest_path, final_path);
        size_t len = n < 0 ? 0 : (size_t)n < sizeof dest ? (size_t)n : sizeof dest - 1;
        if (events_publish(c->o->events, m, dest, len, duplicate, notes->hash, why, sizeof why) !=
            MQ_OK)
            c->events_failed = 1;
    }
    if (c->o->prune) {
        char dir[MSG_PATH_MAX + 1];
        const char *slash = strrchr(m->path, '/');
        size_t len = slash != NULL ? (size_t)(slash - m->path) : 0;
        memcpy(dir, m->path, len);
        dir[len] = '\0';
        st->pruned += (uint64_t)prune_empty_dirs(root->fd, dir);
    }
    enum mq_status s = acks_done(c, d->tag, err, errlen);
    if (s == MQ_OK && c->events_failed) /* requeue the group now, not after more work */
        s = acks_flush(c, err, errlen);
    return s;
}

/* Requeue a delivery whose move may work later, after a pause, so that a
 * full disk is not hammered; the queue's delivery limit ends the retries. */
static enum mq_status retry_later(struct consumer *c, const struct mq_delivery *d,
                                  const struct msg *m, enum move_reason reason, const char *why,
                                  char *err, size_t errlen)
{
    log_event(LOG_SEV_ERROR, consume_file_fields("requeued", m, move_reason_name(reason)),
              "requeued %s (%s): %s", m->id, move_reason_name(reason), why);
    c->st->requeued++;
    enum mq_status s = acks_flush(c, err, errlen);
    if (s != MQ_OK)
        return s;
    for (int i = 0; i < 2 && !*c->o->stop; i++) {
        mono_nap(0.5);
        reconnect_tick(c); /* a pause is progress too: signals are served */
    }
    return mq_requeue(c->mq, d->tag, 0, err, errlen);
}

/* DEST is gone for good: nothing can be moved any more. Keep this
 * delivery for another mover, acknowledge the finished ones, and stop. */
static enum mq_status dest_gone(struct consumer *c, const struct mq_delivery *d, const char *why,
                                char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", why);
    c->st->local_exit = EXITCODE_NOINPUT;
    c->local_stop = 1;
    char ignored[256];
    enum mq_status s = acks_flush(c, ignored, sizeof ignored);
    if (s == MQ_OK)
        s = mq_requeue(c->mq, d->tag, 0, ignored, sizeof ignored);
    return s == MQ_ERR_CLOSED || s == MQ_ERR_UNREACHABLE ? MQ_OK : s;
}

/* Handle one delivery to its end: ack, dead-letter or requeue. */
static enum mq_status handle(struct consumer *c, const struct mq_delivery *d, char *err,
                             size_t errlen)
{
    static struct msg m;
    static char dest_rel[MSG_PATH_MAX + 1];
    char why[512], final_path[MSG_PATH_MAX + 32];
    enum move_reason reason = MOVE_REASON_UNKNOWN;
    if (check_dest(c, why, sizeof why) < 0)
        return dest_gone(c, d, why, err, errlen);
    enum msg_err me = msg_decode(d->body, d->len, &m, why, sizeof why);
    if (me != MSG_OK)
        return deadletter_send(c, d, NULL, move_reason_of_msg_err(me), why, err, errlen);
    const struct consume_root *root = NULL;
    for (unsigned i = 0; i < c->o->n_roots; i++)
        if (strcmp(c->o->roots[i].real, m.root) == 0)
            root = &c->o->roots[i];
    if (root == NULL) {
        deadletter_foreign_root(c, &m);
        snprintf(why, sizeof why, "the root is not one of this mover's --from directories");
        return deadletter_send(c, d, &m, MOVE_REASON_ROOT_NOT_ALLOWED, why, err, errlen);
    }
    struct fileop_opts fo = c->o->fileop;
    if (c->o->layout != NULL) {
        if (layout_expand(c->o->layout, &m, dest_rel, sizeof dest_rel, why, sizeof why) < 0)
            return deadletter_send(c, d, &m, MOVE_REASON_BAD_LAYOUT, why, err, errlen);
        fo.dest_rel = dest_rel;
    }
    struct fileop_notes notes;
    fo.notes = &notes;
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
    case FILEOP_DUPLICATE:
        return arrived(c, d, &m, root, r == FILEOP_DUPLICATE, final_path, &notes, err, errlen);
    case FILEOP_SKIPPED:
        c->st->skipped++;
        move_metrics_handled(c->st, &m, 0);
        log_event(LOG_SEV_INFO, consume_file_fields("skipped", &m, NULL),
                  "skipped %s: the destination has another file of that name", final_path);
        return acks_done(c, d->tag, err, errlen);
    case FILEOP_PERMANENT:
        return deadletter_send(c, d, &m, reason, why, err, errlen);
    case FILEOP_TRANSIENT:
        break;
    }
    return retry_later(c, d, &m, reason, why, err, errlen);
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

/* The end of a run: its last counts and words, and what it holds
 * released. */
static void end_run(struct consumer *c, char *err, size_t errlen)
{
    c->st->events = events_published(c->o->events);
    if (c->stop_why[0] != '\0') /* acks.c's settle stopped the run */
        snprintf(err, errlen, "%s", c->stop_why);
    if (c->sync.n > 0) /* acknowledgements lost with the connection */
        durable_group_flush(&c->sync);
    close_both(c);
    free(c->buf);
    for (unsigned i = 0; i < c->n_foreign; i++)
        free(c->foreign[i]);
    if (c->dest_fd != c->o->dest_fd)
        close(c->dest_fd);
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
        if (acks_pending(&c) > 0) {
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
            s = acks_flush(&c, err, errlen);
        }
        if (o->progress != NULL)
            o->progress(st, 0);
        keep_dead_alive(&c);
        events_keepalive(o->events);
        if (mq_transient(s)) {
            /* Unacked messages go back to the queue; a redelivery is
             * recognised and acked as a duplicate. When only the
             * dead-letter connection failed, the finished deliveries can
             * still be acknowledged on the consuming one (mq_ack refuses
             * quietly when that is gone too). */
            char ignored[256];
            if (c.mq != NULL)
                acks_flush(&c, ignored, sizeof ignored);
            c.ack_pending = c.wait_pending = 0;
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
        s = acks_flush(&c, err, errlen);
    } else if (c.mq != NULL && acks_pending(&c) > 0) {
        /* Ending on a failure that is not the consuming connection's (a
         * refused dead letter): the files already moved keep their
         * acknowledgements, so that they are not delivered again. */
        char ignored[256];
        acks_flush(&c, ignored, sizeof ignored);
    }
    end_run(&c, err, errlen);
    if (o->progress != NULL)
        o->progress(st, 1);
    return s;
}
