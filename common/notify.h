/*
 * notify.h - the service manager's notification protocol (sd_notify(3)):
 * one datagram of "KEY=value" lines to the unix socket $NOTIFY_SOCKET
 * names, which systemd sets for Type=notify services.
 *
 * Our own few lines rather than libsystemd: the protocol is a documented,
 * stable interface that systemd invites daemons to speak themselves, and
 * these lines spare the tools a library (with its own dependencies: lz4,
 * zstd, gcrypt, cap) for one sendto(2). Not thread-safe: the main thread
 * only, which is also the point of the watchdog (see notify_watchdog).
 */
#ifndef SCANMOVE_NOTIFY_H
#define SCANMOVE_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

/*
 * notify_init - read $NOTIFY_SOCKET (a path, or "@name" for the abstract
 * namespace) and $WATCHDOG_USEC (honoured when $WATCHDOG_PID is unset or
 * this process), and open the socket. Returns 1 when notifications go
 * somewhere, 0 when $NOTIFY_SOCKET is unset (every other call then does
 * nothing), -1 with a sentence in err when it is set but unusable (the
 * caller warns and goes on: a service manager that cannot be told is no
 * reason to stop moving files).
 */
int notify_init(char *err, size_t errlen);

/*
 * notify_send - send state, e.g. "READY=1" or "STATUS=12 moved", as one
 * datagram; best effort (a failure is ignored, as sd_notify's callers do).
 * Nothing before notify_init or when it returned 0.
 */
void notify_send(const char *state);

/*
 * notify_watchdog - send "WATCHDOG=1" when the watchdog is on and half its
 * interval has passed since the last ping. Call it from the loop that does
 * the work, never from a helper thread: a loop that is stuck must stop
 * pinging, so that the service manager restarts the process.
 */
void notify_watchdog(void);

/* notify_watchdog_usec - the watchdog interval in microseconds, 0 when off. */
uint64_t notify_watchdog_usec(void);

/* notify_close - close the socket; further calls do nothing. */
void notify_close(void);

#endif
