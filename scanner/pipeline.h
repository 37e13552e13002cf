/*
 * pipeline.h - scan's threads: one walks the directories and applies the
 * rules that need only lstat data; N inspect content (libmagic, and the
 * hash under --checksum) when a rule or the message needs it; the caller's thread (main) takes the
 * results and publishes them, so the broker connection has one user.
 * Bounded queues between them keep memory flat whatever the tree's size.
 */
#ifndef SCANMOVE_PIPELINE_H
#define SCANMOVE_PIPELINE_H

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "inspect.h"
#include "msg.h"
#include "reason.h"
#include "workq.h"
#include "walk.h"

struct scan_root {
    char *real; /* realpath, the "root" of messages */
    size_t real_len;
    int fd;         /* open directory */
    struct stat st; /* its fstat, once run_scan has taken it */
};

enum item_kind { ITEM_ACCEPT, ITEM_INSPECT, ITEM_REJECT, ITEM_FAIL, ITEM_QUEUED };

/* One entry of the walk, on its way to an outcome. */
struct item {
    enum item_kind kind;
    unsigned root;           /* index into the roots */
    enum scan_reason reason; /* ITEM_REJECT, ITEM_FAIL */
    char detail[256];
    struct stat st;
    struct timespec seen; /* when it was lstat'ed (CLOCK_REALTIME) */
    char mime[MSG_MIME_MAX + 1];
    char hash[HASH_STR_MAX + 1]; /* the content's hash under --checksum, else "" */
    char id[MSG_ID_LEN + 1];     /* the message's id, once built */
    size_t path_len;
    char path[]; /* relative to the root, NUL-terminated */
};

struct pipeline {
    struct scan_root *roots;
    unsigned n_roots;
    const struct inspect_rules *rules;
    struct walk_opts walk;
    unsigned jobs; /* inspection threads, used when content is needed */
    /* Marks (mark.h): a file whose mark matches it and is younger than
     * requeue_after_s seconds at now is SCAN_REASON_ALREADY_QUEUED, before
     * any content is read. 0: no mark is looked at. */
    uint64_t requeue_after_s;
    int64_t now; /* nanoseconds since the epoch */
    volatile sig_atomic_t *stop;
    /* private */
    int content;
    struct workq inspect_q, result_q;
    pthread_t walker;
    pthread_t *inspectors;
    unsigned started;
};

/*
 * pipeline_start - start the threads. Returns 0, or -1 with a sentence in
 * err (libmagic not loadable, out of memory, no threads).
 */
int pipeline_start(struct pipeline *p, char *err, size_t errlen);

/*
 * pipeline_next - the next result (ITEM_ACCEPT, ITEM_REJECT, ITEM_FAIL or ITEM_QUEUED),
 * owned by the caller (item_free), waiting up to timeout_ms. Returns 1, 0
 * on timeout, -1 when the walk and inspection are over.
 */
int pipeline_next(struct pipeline *p, int timeout_ms, struct item **it);

/* pipeline_join - wait for the threads (after pipeline_next returned -1). */
void pipeline_join(struct pipeline *p);

void item_free(struct item *it);

#endif
