/* run.c - one scan run: the pipeline's items published, reported and summed up; see run.h. */
#include "run.h"

#include "beneath.h"
#include "exitcode.h"
#include "lock.h"
#include "log.h"
#include "mark.h"
#include "metrics.h"
#include "msg.h"
#include "pipeline.h"
#include "publish.h"
#include "report.h"
#include "status.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PUBLISH_BURST 512 /* accepted files published together */

/* The directory of the last file marked, open beneath its root: files
 * are confirmed in walk order, so one open serves a whole directory. */
struct mark_dir {
    int fd; /* O_PATH, or -1 */
    unsigned root;
    size_t len;
    char path[MSG_PATH_MAX + 1];
};

/* Everything the main loop needs, for the publisher's callbacks. */
struct scan {
    struct run_opts *o;
    struct scan_root *roots;
    unsigned n_roots;
    struct report report;
    struct publisher *pub;
    struct mark_dir mark_dir;
    char host[MSG_HOST_MAX + 1];
    char body[MSG_MAX_BYTES];
    int out_errno; /* writing stdout (dry-run messages, --rejects -) failed */
};

/* Standard output carries the data: once a write to it fails (a reader
 * gone, EPIPE), stop the walk and drain what is in flight, as for SIGINT;
 * scan_close says why. e 0: look at --rejects -. */
static void check_stdout(struct scan *s, int e)
{
    if (e == 0 && s->report.rejects == stdout)
        e = s->report.rejects_error;
    if (e == 0 || s->out_errno != 0)
        return;
    s->out_errno = e;
    *s->o->stop_walk = 1;
}

/* The open directory of it's file (its name in *base), or -1 with errno. Never through a
 * symlink, never out of the root (beneath.h): a directory swapped for a
 * symlink since the walk gets no mark. */
static int mark_dir_of(struct mark_dir *c, const struct scan_root *r, const struct item *it,
                       const char **base)
{
    const char *slash = memrchr(it->path, '/', it->path_len);
    size_t len = slash != NULL ? (size_t)(slash - it->path) : 0;
    *base = slash != NULL ? slash + 1 : it->path;
    if (len == 0)
        return r->fd;
    if (c->fd >= 0 && c->root == it->root && c->len == len && memcmp(c->path, it->path, len) == 0)
        return c->fd;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    memcpy(c->path, it->path, len);
    c->path[len] = '\0';
    int fd = beneath_open(r->fd, c->path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, BENEATH_STRICT);
    if (fd >= 0) {
        c->fd = fd;
        c->root = it->root;
        c->len = len;
    }
    return fd;
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Mark a file whose message the broker has just confirmed (mark.h): never
 * before the confirm, so that no mark exists without its message. A mark
 * that cannot be written costs a duplicate at the next scan, nothing more:
 * counted, never a failure. Gone (moved already) is no failure either. */
static void mark_confirmed(struct scan *s, const struct item *it, const struct scan_root *r)
{
    const char *base;
    int dir = mark_dir_of(&s->mark_dir, r, it, &base);
    if (dir >= 0 && mark_write_at(dir, base, it->id, now_ns()) == 0)
        return;
    if (errno == ENOENT)
        return;
    if (s->report.marks_failed++ == 0)
        s->report.mark_errno = errno;
}

/* The broker's final word on one message. */
static void on_done(void *arg, void *cookie, int ok, enum scan_reason reason)
{
    struct scan *s = arg;
    struct item *it = cookie;
    const struct scan_root *r = &s->roots[it->root];
    if (ok && !s->o->no_mark)
        mark_confirmed(s, it, r);
    report_outcome(&s->report, ok ? REPORT_PUBLISHED : REPORT_FAILED, r->real, r->real_len,
                   it->path, it->path_len, reason, NULL, (uint64_t)it->st.st_size);
    item_free(it);
}

static void on_tick(void *arg)
{
    struct scan *s = arg;
    status_tick(&s->report, s->o);
}

/* Build the message for an accepted item into s->body. */
static int build(struct scan *s, const struct item *it, struct msg *m, size_t *len)
{
    const struct scan_root *r = &s->roots[it->root];
    char err[256];
    struct tm tm;
    memset(m, 0, sizeof *m);
    m->v = MSG_VERSION;
    memcpy(m->root, r->real, r->real_len + 1);
    m->root_len = r->real_len;
    memcpy(m->path, it->path, it->path_len + 1);
    m->path_len = it->path_len;
    m->size = (uint64_t)it->st.st_size;
    m->mtime_sec = it->st.st_mtim.tv_sec;
    m->mtime_nsec = (uint32_t)it->st.st_mtim.tv_nsec;
    m->dev = it->st.st_dev;
    m->ino = it->st.st_ino;
    m->mode = it->st.st_mode;
    m->uid = it->st.st_uid;
    m->gid = it->st.st_gid;
    memcpy(m->mime, it->mime, sizeof m->mime);
    memcpy(m->hash, it->hash, sizeof m->hash);
    gmtime_r(&it->seen.tv_sec, &tm);
    size_t n = strftime(m->scanned_at, sizeof m->scanned_at, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(m->scanned_at + n, sizeof m->scanned_at - n, ".%03ldZ", it->seen.tv_nsec / 1000000);
    memcpy(m->host, s->host, sizeof m->host);
    struct timespec now; /* published_at: move's queue latency starts here */
    if (!s->o->dry_run && clock_gettime(CLOCK_REALTIME, &now) == 0)
        msg_time_format(&now, m->published_at, sizeof m->published_at);
    msg_make_id(m);
    if (msg_encode(m, s->body, sizeof s->body, len, err, sizeof err) < 0) {
        log_error("internal error encoding %s: %s", it->path, err);
        return -1;
    }
    return 0;
}

static struct timespec ts_minus_ms(struct timespec t, uint64_t ms)
{
    t.tv_sec -= (time_t)(ms / 1000);
    t.tv_nsec -= (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec < 0) {
        t.tv_nsec += 1000000000L;
        t.tv_sec--;
    }
    return t;
}

/* Publish (or, in a dry run, print) one accepted item; it is reported and
 * freed now, or once the broker has had its say. */
static void publish_item(struct scan *s, struct item *it, enum mq_status *st, char *err,
                         size_t errlen)
{
    const struct scan_root *root = &s->roots[it->root];
    struct msg m;
    size_t len;
    int built = build(s, it, &m, &len);
    memcpy(it->id, m.id, sizeof it->id);
    if (built < 0) {
        report_outcome(&s->report, REPORT_FAILED, root->real, root->real_len, it->path,
                       it->path_len, SCAN_REASON_IO_ERROR, "cannot encode the message", 0);
        item_free(it);
    } else if (s->o->dry_run) {
        s->body[len] = '\n';
        errno = 0;
        if (s->out_errno == 0 && fwrite(s->body, 1, len + 1, stdout) != len + 1)
            check_stdout(s, errno != 0 ? errno : EIO);
        report_outcome(&s->report, REPORT_PUBLISHED, NULL, 0, NULL, 0, SCAN_REASON_NONE, NULL,
                       m.size);
        item_free(it);
    } else if (*st != MQ_OK) {
        /* The broker is gone for good: what is left is not published. */
        report_outcome(&s->report, REPORT_FAILED, root->real, root->real_len, it->path,
                       it->path_len, SCAN_REASON_UNCONFIRMED, "not published: broker lost", 0);
        item_free(it);
    } else {
        *st = publish_send(s->pub, s->body, len, m.id, (uint64_t)it->seen.tv_sec, it, err, errlen);
        if (*st != MQ_OK)
            *s->o->stop_walk = 1;
    }
}

/* What a root's lock wait needs (lock_root's waiting). */
struct lock_wait {
    struct scan *s;
    const struct scan_root *r;
};

/* Say once what the lock waits for; tick all along (SIGHUP, SIGUSR1). */
static void say_waiting(void *arg, pid_t holder, int first)
{
    const struct lock_wait *w = arg;
    const struct scan_root *r = w->r;
    status_tick(&w->s->report, w->s->o);
    if (!first)
        return;
    if (holder > 0)
        log_notice("waiting for the scan (pid %ld) that holds %s", (long)holder, r->real);
    else
        log_notice("waiting for another scan of %s to finish", r->real);
}

/* Roots in the order of their device and inode numbers, for locking. */
static int by_inode(const void *a, const void *b)
{
    const struct stat *x = &((const struct scan_root *const *)a)[0]->st;
    const struct stat *y = &((const struct scan_root *const *)b)[0]->st;
    if (x->st_dev != y->st_dev)
        return x->st_dev < y->st_dev ? -1 : 1;
    return x->st_ino < y->st_ino ? -1 : x->st_ino > y->st_ino;
}

/* One scan per root at a time (lock.h); 0, or the exit status. Roots are
 * locked in one order, whatever the order of the arguments, so that two
 * scans waiting (--wait) for roots they share cannot each hold one. */
static int lock_roots(struct scan *s, const struct run_opts *o)
{
    struct scan_root **order = calloc(s->n_roots, sizeof *order);
    if (order == NULL) {
        log_error("out of memory");
        return EXITCODE_SOFTWARE;
    }
    for (unsigned i = 0; i < s->n_roots; i++) {
        order[i] = &s->roots[i];
        if (fstat(order[i]->fd, &order[i]->st) < 0)
            memset(&order[i]->st, 0, sizeof order[i]->st);
    }
    qsort(order, s->n_roots, sizeof *order, by_inode);
    int code = 0;
    for (unsigned i = 0; i < s->n_roots && code == 0; i++) {
        struct scan_root *r = order[i];
        pid_t holder;
        struct lock_wait w = {s, r};
        switch (lock_root(r->fd, o->wait_lock, o->stop_signal, &holder, say_waiting, &w)) {
        case LOCK_HELD:
            break;
        case LOCK_NONE:
            log_warn("cannot lock %s (%s): another scan of it could run at the same time", r->real,
                     strerror(errno));
            break;
        case LOCK_BUSY:
            if (holder > 0)
                log_error("another scan (pid %ld) is scanning %s; try again later, or use --wait",
                          (long)holder, r->real);
            else
                log_error("another scan is scanning %s; try again later, or use --wait", r->real);
            code = EXITCODE_TEMPFAIL;
            break;
        case LOCK_STOPPED:
            code = 128 + *o->stop_signal;
            break;
        default:
            log_error("cannot lock %s: %s", r->real, strerror(errno));
            code = EXITCODE_IOERR;
        }
    }
    free(order);
    return code;
}

/* Keep the queue's counts for the summary; refuse to add to a backlog of
 * --max-queued messages or more. 0, or the exit status. */
static int check_backlog(struct scan *s, const struct run_opts *o)
{
    struct mq_queue_info info;
    char err[256];
    publish_queue_info(s->pub, 0, &info, err, sizeof err);
    s->report.have_queue = 1;
    s->report.queue = o->cfg.queue;
    s->report.queue_messages = info.messages;
    s->report.queue_consumers = info.consumers;
    s->report.queue_dead = info.dead_messages;
    if (o->max_queued == 0 || info.messages < o->max_queued)
        return 0;
    log_error("queue '%s' already holds %lu messages (--max-queued %llu): published nothing; "
              "try again once the movers have caught up",
              o->cfg.queue, (unsigned long)info.messages, (unsigned long long)o->max_queued);
    publish_close(s->pub);
    s->pub = NULL;
    return EXITCODE_TEMPFAIL;
}

/* Open --rejects and the publisher; 0, or the exit status. */
static int scan_open(struct scan *s, struct run_opts *o)
{
    char err[1024];
    s->o = o;
    if (gethostname(s->host, sizeof s->host) != 0)
        snprintf(s->host, sizeof s->host, "localhost");
    s->host[sizeof s->host - 1] = '\0';

    report_init(&s->report);
    s->report.dry_run = o->dry_run;
    s->report.checksum = o->rules.checksum != HASH_NONE ? hash_alg_name(o->rules.checksum) : NULL;
    s->report.verbose = log_get_level() >= LOG_LEVEL_INFO;
    s->report.progress = log_progress_enabled();
    if (o->rejects != NULL) {
        s->report.rejects = strcmp(o->rejects, "-") == 0 ? stdout : fopen(o->rejects, "w");
        if (s->report.rejects == NULL) {
            log_error("cannot write %s: %s", o->rejects, strerror(errno));
            return EXITCODE_IOERR;
        }
    }

    /* Ages are measured from the start of the scan. */
    struct timespec start;
    clock_gettime(CLOCK_REALTIME, &start);
    o->rules.young_after = ts_minus_ms(start, o->min_age_ms);
    o->rules.old_before = ts_minus_ms(start, o->max_age_ms);

    if (o->dry_run)
        return 0;
    int code = lock_roots(s, o);
    if (code != 0)
        return code;
    char name[300];
    tool_conn_name("scan", name, sizeof name);
    struct publish_opts po = {.cfg = &o->cfg,
                              .conn_name = name,
                              .window = (unsigned)o->window,
                              .reconnect_timeout_ms = o->reconnect_ms,
                              .blocked_timeout_ms = o->blocked_ms,
                              .done = on_done,
                              .arg = s,
                              .tick = on_tick,
                              .stop = o->stop_signal,
                              .reconnects = &s->report.reconnects};
    enum mq_status st = publish_open(&po, &s->pub, err, sizeof err);
    if (st != MQ_OK) {
        log_error("%s", err);
        return mq_exitcode(st);
    }
    char node[1024];
    tool_describe_connection(publish_mq(s->pub), node, sizeof node);
    log_event(o->cfg.n_urls > 1 ? LOG_SEV_NOTICE : LOG_SEV_INFO, /* which of several */
              &(struct log_fields){.event = "connected"}, "connected to %s", node);
    return check_backlog(s, o);
}

/* Take the pipeline's items until it ends: report rejects and failures,
 * publish accepted files. *st: the broker's state, err its sentence. */
static void scan_loop(struct scan *s, struct pipeline *p, enum mq_status *st, char *err,
                      size_t errlen)
{
    /* Accepted files are published in bursts: the broker spends several
     * times less CPU per message on a burst than on messages trickling in
     * one by one, and it shares the machine with the inspection threads. */
    struct item *batch[PUBLISH_BURST];
    size_t held = 0;
    for (;;) {
        struct item *it;
        int r = pipeline_next(p, held > 0 ? 20 : 200, &it);
        if (r <= 0 || held == PUBLISH_BURST) {
            if (held > 0 && s->pub != NULL)
                publish_burst(s->pub, 1);
            for (size_t i = 0; i < held; i++)
                publish_item(s, batch[i], st, err, errlen);
            if (held > 0 && s->pub != NULL)
                publish_burst(s->pub, 0);
            held = 0;
        }
        if (r < 0)
            break;
        if (r == 0) {
            /* Idle: keep the connection alive and confirms flowing. */
            if (s->pub != NULL && *st == MQ_OK &&
                (*st = publish_poll(s->pub, err, errlen)) != MQ_OK)
                *s->o->stop_walk = 1;
            status_tick(&s->report, s->o);
            continue;
        }
        if (it->kind != ITEM_ACCEPT) {
            const struct scan_root *root = &s->roots[it->root];
            report_outcome(&s->report,
                           it->kind == ITEM_REJECT   ? REPORT_REJECTED
                           : it->kind == ITEM_QUEUED ? REPORT_QUEUED
                                                     : REPORT_FAILED,
                           root->real, root->real_len, it->path, it->path_len, it->reason,
                           it->detail, 0);
            item_free(it);
            check_stdout(s, 0);
        } else if (s->o->dry_run) {
            publish_item(s, it, st, err, errlen);
        } else {
            batch[held++] = it;
        }
        status_tick(&s->report, s->o);
    }
}

/* The exit status of a finished scan, with its summary and the last word
 * on --rejects. */
static int scan_close(struct scan *s, enum mq_status st, const char *err)
{
    int code = EXITCODE_OK;
    report_finish(&s->report);
    if (st != MQ_OK) {
        /* One sentence for every file the broker did not confirm: those in
         * flight when it went and those that never got to it. */
        uint64_t n = report_count(&s->report, SCAN_REASON_UNCONFIRMED);
        log_error("%s: %s: %llu message%s not confirmed",
                  st == MQ_ERR_BLOCKED ? "gave up publishing"
                  : mq_transient(st)   ? "lost the broker"
                                       : "stopped publishing",
                  err, (unsigned long long)n, n == 1 ? " was" : "s were");
        code = mq_exitcode(st);
    } else if (*s->o->stop_signal)
        code = 128 + *s->o->stop_signal;
    else if (s->report.failed > 0)
        code = EXITCODE_SOME_FAILED;
    check_stdout(s, 0);
    if (s->o->json && s->out_errno == 0)
        report_json(&s->report, stdout);
    if (s->out_errno != 0) {
        /* Writing stopped after the first error; say it here, since the
         * final fclose(stdout) may well succeed. */
        log_error("cannot write to standard output: %s", strerror(s->out_errno));
        if (code == EXITCODE_OK || code == EXITCODE_SOME_FAILED)
            code = EXITCODE_IOERR;
    }
    if (s->report.rejects != NULL && s->report.rejects != stdout &&
        (fclose(s->report.rejects) != 0 || s->report.rejects_error)) {
        log_error("cannot write %s: %s", s->o->rejects,
                  strerror(s->report.rejects_error ? s->report.rejects_error : errno));
        if (code == EXITCODE_OK)
            code = EXITCODE_IOERR;
    }
    return code;
}

int run_scan(struct run_opts *o, struct scan_root *roots, unsigned n_roots)
{
    static struct scan s; /* large: the message buffer */
    char err[1024];
    enum mq_status st = MQ_OK;

    s.roots = roots;
    s.n_roots = n_roots;
    s.mark_dir.fd = -1;
    int code = scan_open(&s, o);
    if (code != 0)
        return scan_metrics_end(o, &s.report, code);
    struct pipeline p;
    memset(&p, 0, sizeof p);
    p.roots = s.roots;
    p.n_roots = n_roots;
    p.rules = &o->rules;
    p.walk = o->walk;
    p.walk.stop = o->stop_walk;
    p.jobs = (unsigned)o->jobs;
    p.stop = o->stop_walk;
    p.requeue_after_s = o->no_mark ? 0 : (o->requeue_after_ms + 999) / 1000;
    p.now = now_ns();
    if (pipeline_start(&p, err, sizeof err) < 0) {
        log_error("%s", err);
        return EXITCODE_SOFTWARE;
    }
    scan_loop(&s, &p, &st, err, sizeof err);
    pipeline_join(&p);
    if (s.pub != NULL && st == MQ_OK)
        st = publish_flush(s.pub, err, sizeof err);
    struct mq_queue_info info;
    char why[256];
    if (s.pub != NULL && st == MQ_OK &&
        publish_queue_info(s.pub, 1, &info, why, sizeof why) == MQ_OK) {
        s.report.queue_messages = info.messages;
        s.report.queue_consumers = info.consumers;
        s.report.queue_dead = info.dead_messages;
    }
    publish_close(s.pub);
    if (s.mark_dir.fd >= 0)
        close(s.mark_dir.fd);
    return scan_metrics_end(o, &s.report, scan_close(&s, st, err));
}
