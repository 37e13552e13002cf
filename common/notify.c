/* notify.c - sd_notify(3)'s protocol, without libsystemd; see notify.h. */
#include "notify.h"

#include "clock.h"
#include "opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_addr_len;
static uint64_t watchdog_usec;
static double watchdog_last; /* mono_now() of the last ping */

/* $WATCHDOG_USEC, when it is meant for this process; else 0. */
static uint64_t read_watchdog(void)
{
    const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    uint64_t v, p;
    if (usec == NULL || opts_parse_u64(usec, 1, UINT64_MAX, &v, NULL, 0) < 0)
        return 0;
    if (pid != NULL && pid[0] != '\0' &&
        (opts_parse_u64(pid, 1, UINT64_MAX, &p, NULL, 0) < 0 || p != (uint64_t)getpid()))
        return 0;
    return v;
}

int notify_init(char *err, size_t errlen)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (path == NULL || path[0] == '\0')
        return 0;
    size_t len = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof notify_addr.sun_path) {
        snprintf(err, errlen, "NOTIFY_SOCKET is not a socket path: '%s'", path);
        return -1;
    }
    memset(&notify_addr, 0, sizeof notify_addr);
    notify_addr.sun_family = AF_UNIX;
    memcpy(notify_addr.sun_path, path, len);
    if (path[0] == '@') /* the abstract namespace: a leading NUL, no terminating one */
        notify_addr.sun_path[0] = '\0';
    notify_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
    notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (notify_fd < 0) {
        snprintf(err, errlen, "cannot open a socket for NOTIFY_SOCKET: %s", strerror(errno));
        return -1;
    }
    watchdog_usec = read_watchdog();
    watchdog_last = mono_now();
    return 1;
}

void notify_send(const char *state)
{
    if (notify_fd < 0)
        return;
    ssize_t r;
    do
        r = sendto(notify_fd, state, strlen(state), MSG_NOSIGNAL,
                   (const struct sockaddr *)&notify_addr, notify_addr_len);
    while (r < 0 && errno == EINTR);
}

void notify_watchdog(void)
{
    if (notify_fd < 0 || watchdog_usec == 0)
        return;
    double now = mono_now();
    if ((now - watchdog_last) * 1e6 < (double)watchdog_usec / 2)
        return;
    watchdog_last = now;
    notify_send("WATCHDOG=1");
}

uint64_t notify_watchdog_usec(void)
{
    return notify_fd >= 0 ? watchdog_usec : 0;
}

void notify_close(void)
{
    if (notify_fd >= 0)
        close(notify_fd);
    notify_fd = -1;
    watchdog_usec = 0;
}
