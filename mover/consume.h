/*
 * consume.h - the mover's delivery loop: take a message, check it, move
 * its file, and only then acknowledge it; dead-letter what can never work
 * (with its reason, under publisher confirms, before the ack); requeue
 * what may work later; reconnect when the broker goes.
 */
#ifndef SCANMOVE_CONSUME_H
#define SCANMOVE_CONSUME_H

#include <signal.h>
#include <stdint.h>

#include "../common/metrics.h" /* not mover/metrics.h */
#include "cfg.h"
#include "events.h"
#include "fileop.h"
#include "layout.h"
#include "mq.h"
#include "reason.h"

/* The roots of messages for other roots that a mover names, each once. */
#define CONSUME_FOREIGN_MAX 16

struct consume_root {
    char *real; /* realpath of --from */
    int fd;
};

struct consume_stats {
    uint64_t moved, skipped, duplicates, dead, requeued;
    uint64_t verified;  /* moves whose content was hashed and matched the message's hash */
    uint64_t meta_lost; /* moves whose destination refused an xattr or ACL (fileop_notes) */
    uint64_t pruned;    /* source directories --prune-empty-dirs removed */
    uint64_t events;    /* moved events confirmed by the broker (--publish-moved) */
    uint64_t by_reason[MOVE_REASON__COUNT];    /* dead letters by reason */
    enum move_reason seen[MOVE_REASON__COUNT]; /* the reasons counted, in order of first use */
    unsigned n_seen;
    int consuming; /* connected and consuming now (0 while reconnecting) */
    /* a local failure that ended the run (its sentence in consume_run's
     * err): the exit status to use, 0 when none */
    int local_exit;
    /* For --metrics; counting them costs no allocation and no formatting. */
    double start;        /* mono_now() when consume_run began */
    uint64_t bytes;      /* the sizes of the files moved */
    uint64_t copy_bytes; /* bytes copied across file systems, as they go */
    uint64_t reconnects; /* connections made again after one was lost */
    double last_success; /* Unix time of the last file moved, duplicate or skipped; 0 none */
    struct metrics_hist latency; /* published_at to the end of the move (moved, duplicates) */
    int have_queue;              /* queue below is known */
    struct mq_queue_info queue;  /* at the last (re)connection or refresh */
};

struct consume_opts {
    const struct cfg *cfg;
    const char *conn_name;
    struct consume_root *roots;
    unsigned n_roots;
    int dest_fd;
    /* realpath of --to: DEST deleted and made again under a running mover
     * is opened again by it */
    const char *dest_path;
    struct fileop_opts fileop;   /* conflict policy, --verify ...; consume sets the rest */
    const struct layout *layout; /* --layout; NULL: {path} */
    struct events *events;       /* --publish-moved; NULL: none */
    int prune;                   /* --prune-empty-dirs */
    int fsync;                   /* --fsync: group commit before each ack */
    unsigned prefetch;
    uint64_t count;                /* stop after this many; 0: no limit */
    uint64_t idle_exit_ms;         /* stop when idle this long; 0: never */
    uint64_t reconnect_timeout_ms; /* 0: reconnect forever */
    volatile sig_atomic_t *stop;
    /* ask the broker for st->queue this often (on the dead-letter
     * connection, idle between dead letters); 0: at connections only */
    uint64_t queue_info_ms;
    /* called after every delivery and wait (last = 0), and once at the end
     * (last = 1); NULL: none */
    void (*progress)(const struct consume_stats *st, int last);
};

/*
 * consume_run - consume until --count, --idle-exit or *stop. Returns MQ_OK,
 * or the broker failure (with its sentence in err) that ended the run. A
 * local failure that ends it (DEST deleted and not made again) returns
 * MQ_OK with st->local_exit set and its sentence in err.
 */
enum mq_status consume_run(const struct consume_opts *o, struct consume_stats *st, char *err,
                           size_t errlen);

#endif
