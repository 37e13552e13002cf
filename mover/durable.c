/* durable.c - fsync with heartbeats, and the group commit; see durable.h. */
#include "durable.h"

#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fsync with heartbeats ---- */

/*
 * On a slow disk the flush of a big copy (or of a directory, behind a busy
 * journal) can outlast the broker's heartbeat timeout. A watchdog thread,
 * started once, calls the tick of an fsync that has lasted 100 ms, every
 * 100 ms, while the main thread is blocked in it: the main thread takes
 * the lock again before it goes on, so the two never use the broker
 * connection at once. An fsync costs two uncontended locks more, not a
 * thread of its own.
 */
static struct {
    pthread_mutex_t mu;
    int armed;            /* the main thread is in fsync since ... */
    double since;         /* ... (mono_now) ... */
    void (*tick)(void *); /* ... with this tick */
    void *arg;
    int running; /* the watchdog has started */
} wd = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void *watchdog(void *arg)
{
    (void)arg;
    const struct timespec pause = {0, 100 * 1000 * 1000};
    for (;;) {
        nanosleep(&pause, NULL);
        pthread_mutex_lock(&wd.mu);
        if (wd.armed && mono_now() - wd.since >= 0.1)
            wd.tick(wd.arg);
        pthread_mutex_unlock(&wd.mu);
    }
    return NULL;
}

static void start_watchdog(void)
{
    pthread_t t;
    pthread_attr_t a;
    if (pthread_attr_init(&a) != 0)
        return;
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    /* Signals belong to the main thread (SIGINT, SIGTERM set its flag). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    wd.running = pthread_create(&t, &a, watchdog, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
}

int durable_fsync(int fd, void (*tick)(void *), void *arg)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (tick == NULL)
        return fsync(fd);
    pthread_once(&once, start_watchdog);
    pthread_mutex_lock(&wd.mu);
    wd.armed = wd.running;
    wd.tick = tick;
    wd.arg = arg;
    wd.since = mono_now();
    pthread_mutex_unlock(&wd.mu);
    int rc = fsync(fd), e = errno;
    pthread_mutex_lock(&wd.mu);
    wd.armed = 0;
    pthread_mutex_unlock(&wd.mu);
    errno = e;
    return rc;
}

/* ---- group commit ---- */

void durable_group_init(struct durable_group *g)
{
    memset(g, 0, sizeof *g);
}

int durable_group_flush(struct durable_group *g)
{
    int e = g->error;
    for (unsigned i = 0; i < g->n; i++) {
        if (fsync(g->fd[i]) < 0 && e == 0)
            e = errno;
        close(g->fd[i]);
    }
    g->n = 0;
    g->error = 0;
    if (e != 0) {
        errno = e;
        return -1;
    }
    return 0;
}

int durable_group_add(struct durable_group *g, int dir)
{
    struct stat st;
    if (fstat(dir, &st) < 0)
        return -1;
    for (unsigned i = 0; i < g->n; i++)
        if (g->dev[i] == (unsigned long long)st.st_dev &&
            g->ino[i] == (unsigned long long)st.st_ino)
            return 0;
    if (g->n == DURABLE_GROUP_MAX && durable_group_flush(g) < 0)
        g->error = errno; /* reported by the next flush */
    int fd = fcntl(dir, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    g->fd[g->n] = fd;
    g->dev[g->n] = (unsigned long long)st.st_dev;
    g->ino[g->n] = (unsigned long long)st.st_ino;
    g->n++;
    return 0;
}
