/* pipeline.c - walking and inspecting threads of scan; see pipeline.h. */
#include "pipeline.h"

#include "mark.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKQ_CAP 4096
#define RESULT_WAKE_AT 64

struct walk_ctx {
    struct pipeline *p;
    unsigned root;
};

void item_free(struct item *it)
{
    free(it);
}

static struct item *item_new(const struct walk_entry *e, unsigned root, enum item_kind kind,
                             enum scan_reason reason)
{
    struct item *it = malloc(sizeof *it + e->path_len + 1);
    if (it == NULL)
        return NULL;
    it->kind = kind;
    it->root = root;
    it->reason = reason;
    it->detail[0] = '\0';
    it->mime[0] = '\0';
    it->hash[0] = '\0';
    it->id[0] = '\0';
    if (e->st != NULL)
        it->st = *e->st;
    clock_gettime(CLOCK_REALTIME, &it->seen);
    it->path_len = e->path_len;
    memcpy(it->path, e->path, e->path_len);
    it->path[e->path_len] = '\0';
    return it;
}

/* 1 when the file e, accepted by its lstat data, carries a mark saying its
 * confirmed message is still waiting (pipeline.h). A mark that cannot be
 * read counts as none: the file is published, as without marks. */
static int still_queued(const struct pipeline *p, const struct scan_root *r,
                        const struct walk_entry *e)
{
    char id[MSG_ID_LEN + 1], mark_id[MSG_ID_LEN + 1];
    int64_t marked;
    if (mark_read_at(e->dirfd, e->name, mark_id, &marked) != 1)
        return 0;
    struct msg_file f = {.root = r->real,
                         .root_len = r->real_len,
                         .path = e->path,
                         .path_len = e->path_len,
                         .dev = e->st->st_dev,
                         .ino = e->st->st_ino,
                         .size = (uint64_t)e->st->st_size,
                         .mtime_sec = e->st->st_mtim.tv_sec,
                         .mtime_nsec = (uint32_t)e->st->st_mtim.tv_nsec};
    msg_file_id(&f, id);
    int64_t ctime = (int64_t)e->st->st_ctim.tv_sec * 1000000000LL + e->st->st_ctim.tv_nsec;
    return mark_still_queued(mark_id, marked, id, ctime, p->now, p->requeue_after_s);
}

static int on_entry(const struct walk_entry *e, void *arg)
{
    struct walk_ctx *w = arg;
    struct pipeline *p = w->p;
    enum item_kind kind;
    enum scan_reason reason = SCAN_REASON_NONE;

    switch (e->kind) {
    case WALK_FILE:
        reason = inspect_by_stat(p->rules, e->path, e->st);
        if (reason == SCAN_REASON_NONE && p->requeue_after_s > 0 &&
            still_queued(p, &p->roots[w->root], e))
            reason = SCAN_REASON_ALREADY_QUEUED;
        kind = reason == SCAN_REASON_ALREADY_QUEUED ? ITEM_QUEUED
               : reason != SCAN_REASON_NONE         ? ITEM_REJECT
               : p->content                         ? ITEM_INSPECT
                                                    : ITEM_ACCEPT;
        break;
    case WALK_SYMLINK:
        kind = ITEM_REJECT;
        reason = SCAN_REASON_SYMLINK;
        break;
    case WALK_OTHER:
        kind = ITEM_REJECT;
        reason = SCAN_REASON_NOT_REGULAR;
        break;
    case WALK_SKIPPED:
        kind = ITEM_REJECT;
        reason = e->reason;
        break;
    default:
        kind = ITEM_FAIL;
        reason = e->reason;
        break;
    }
    struct item *it = item_new(e, w->root, kind, reason);
    if (it == NULL)
        return 1; /* out of memory: end the walk; main reports the shortfall */
    if (e->err_no != 0)
        snprintf(it->detail, sizeof it->detail, "%s", strerror(e->err_no));
    workq_push(kind == ITEM_INSPECT ? &p->inspect_q : &p->result_q, it);
    return 0;
}

static void *walker_main(void *arg)
{
    struct pipeline *p = arg;
    for (unsigned i = 0; i < p->n_roots && !(p->stop && *p->stop); i++) {
        struct walk_ctx w = {.p = p, .root = i};
        char err[256];
        if (walk_tree(p->roots[i].fd, &p->walk, on_entry, &w, err, sizeof err) < 0) {
            struct walk_entry e = {
                .kind = WALK_FAILED, .path = "", .reason = SCAN_REASON_UNREADABLE_DIR};
            struct item *it = item_new(&e, i, ITEM_FAIL, SCAN_REASON_UNREADABLE_DIR);
            if (it != NULL) {
                snprintf(it->detail, sizeof it->detail, "%s", err);
                workq_push(&p->result_q, it);
            }
        }
    }
    if (p->content)
        workq_done(&p->inspect_q);
    workq_done(&p->result_q);
    return NULL;
}

struct inspector_arg {
    struct pipeline *p;
    struct inspect_ctx *ctx;
};

static void *inspector_main(void *arg)
{
    struct inspector_arg *a = arg;
    struct pipeline *p = a->p;
    for (;;) {
        void *v = NULL;
        int got = workq_pop(&p->inspect_q, 1000, &v);
        if (got < 0)
            break;
        if (got == 0)
            continue;
        struct item *it = v;
        struct inspect_out out = {.mime = it->mime,
                                  .mimelen = sizeof it->mime,
                                  .hash = it->hash,
                                  .reason = SCAN_REASON_NONE,
                                  .detail = it->detail,
                                  .dlen = sizeof it->detail};
        enum inspect_result r =
            inspect_file(a->ctx, p->rules, p->roots[it->root].fd, it->path, &it->st, &out);
        it->kind = r == INSPECT_ACCEPT   ? ITEM_ACCEPT
                   : r == INSPECT_REJECT ? ITEM_REJECT
                                         : ITEM_FAIL;
        it->reason = out.reason;
        workq_push(&p->result_q, it);
    }
    inspect_ctx_free(a->ctx);
    free(a);
    workq_done(&p->result_q);
    return NULL;
}

int pipeline_start(struct pipeline *p, char *err, size_t errlen)
{
    p->content = inspect_needs_content(p->rules);
    unsigned n = p->content ? p->jobs : 0;
    /* The main thread takes results faster than they come and waits with
     * a timeout: waking it for every item would cost a futex round trip
     * per file. The inspectors are woken at once. */
    if (workq_init(&p->result_q, WORKQ_CAP, 1 + (int)n, RESULT_WAKE_AT) < 0 ||
        workq_init(&p->inspect_q, WORKQ_CAP, 1, 1) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->inspectors = calloc(n ? n : 1, sizeof *p->inspectors);
    if (p->inspectors == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        struct inspector_arg *a = malloc(sizeof *a);
        if (a == NULL || (a->ctx = inspect_ctx_new(err, errlen)) == NULL) {
            free(a);
            return -1;
        }
        a->p = p;
        int e = pthread_create(&p->inspectors[i], NULL, inspector_main, a);
        if (e != 0) {
            inspect_ctx_free(a->ctx);
            free(a);
            snprintf(err, errlen, "cannot start a thread: %s", strerror(e));
            return -1;
        }
        p->started++;
    }
    int e = pthread_create(&p->walker, NULL, walker_main, p);
    if (e != 0) {
        snprintf(err, errlen, "cannot start a thread: %s", strerror(e));
        return -1;
    }
    return 0;
}

int pipeline_next(struct pipeline *p, int timeout_ms, struct item **it)
{
    void *v = NULL;
    int r = workq_pop(&p->result_q, timeout_ms, &v);
    *it = v;
    return r;
}

void pipeline_join(struct pipeline *p)
{
    pthread_join(p->walker, NULL);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->inspectors[i], NULL);
    free(p->inspectors);
    workq_destroy(&p->inspect_q);
    workq_destroy(&p->result_q);
}
