/*
 * mq_probe.c - what answers on the broker's port when rabbitmq-c cannot
 * say; see mq_priv.h. Plain sockets of our own, only after the library
 * has failed, so that a working connection never pays for them.
 */
#include "clock.h"
#include "mq_priv.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * The AMQP 0-9-1 protocol header, then the end of an HTTP/1.0 request
 * line and of its headers: an AMQP broker answers the header at once, and
 * an HTTP server, which waits for a whole request before it says anything,
 * answers the request ("HTTP/1.x 400 Bad Request"). Only ever sent to a
 * port whose AMQP handshake has already failed.
 */
static const char amqp_hello[] = "AMQP\0\0\x09\x01 / HTTP/1.0\r\n\r\n";

/*
 * A TLS 1.2 ClientHello (no server name, four ECDHE AES-GCM suites and
 * AES128-GCM-SHA256, groups x25519 and P-256, signatures RSA-PSS, ECDSA
 * and RSA with SHA-256). Any TLS server answers it with a handshake record
 * (ServerHello) or an alert; either says "TLS". It is sent only when the
 * AMQP header above got no answer at all, as from a TLS listener that
 * hangs up on plain text without a word (OpenSSL, RabbitMQ).
 */
/* clang-format off */
static const unsigned char tls_hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x53,                   /* record: handshake, 83 bytes */
    0x01, 0x00, 0x00, 0x4f, 0x03, 0x03,             /* ClientHello, 79 bytes, TLS 1.2 */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, /* random, 32 bytes */
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x00,                                           /* no session id */
    0x00, 0x0a, 0xc0, 0x2f, 0xc0, 0x2b,             /* 5 cipher suites */
    0xc0, 0x30, 0xc0, 0x2c, 0x00, 0x9c,
    0x01, 0x00,                                     /* no compression */
    0x00, 0x1c,                                     /* extensions, 28 bytes: */
    0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, /* supported groups */
    0x00, 0x17,
    0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,             /* EC point formats */
    0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x08, 0x04, /* signature algorithms */
    0x04, 0x03, 0x04, 0x01,
};
/* clang-format on */

/* Connect a non-blocking socket to a within timeout_ms: the descriptor,
 * or -1 with the reason in *e (ETIMEDOUT when it took too long). */
static int connect_within(const struct addrinfo *a, int timeout_ms, int *e)
{
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *e = errno;
        return -1;
    }
    *e = 0;
    if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
        *e = errno;
        if (*e == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int r = poll(&p, 1, timeout_ms);
            socklen_t len = sizeof *e;
            if (r == 0)
                *e = ETIMEDOUT;
            else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, e, &len) < 0)
                *e = errno;
        }
    }
    if (*e != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Resolve host:port for TCP: 0, or the getaddrinfo error. */
static int resolve(const char *host, int port, struct addrinfo **res)
{
    struct addrinfo hints;
    char portstr[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portstr, sizeof portstr, "%d", port);
    return getaddrinfo(host, portstr, &hints, res);
}

void mq_priv_diagnose_tcp(const char *host, int port, int timeout_ms, char *why, size_t whylen)
{
    struct addrinfo *res = NULL;
    int gai = resolve(host, port, &res);
    if (gai != 0) {
        if (gai == EAI_NONAME || gai == EAI_NODATA || gai == EAI_FAIL)
            snprintf(why, whylen, "host not found");
        else
            snprintf(why, whylen, "cannot resolve the host name: %s", gai_strerror(gai));
        return;
    }
    snprintf(why, whylen, "cannot connect");
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        int e;
        int fd = connect_within(a, timeout_ms, &e);
        if (fd >= 0) {
            close(fd);
            snprintf(why, whylen,
                     "the connection was dropped during the AMQP handshake "
                     "(is this an AMQP port, and TLS where expected?)");
            break;
        }
        if (e == ECONNREFUSED)
            snprintf(why, whylen, "connection refused");
        else
            snprintf(why, whylen, "%s", e == ETIMEDOUT ? "timed out" : strerror(e));
    }
    freeaddrinfo(res);
}

/* Send hello on a new connection to host:port and keep the first bytes of
 * the answer in p. Once a byte is in, waits at most a little longer for
 * the rest of a header. */
static void say_hello(const char *host, int port, const unsigned char *hello, size_t len,
                      int timeout_ms, struct mq_peer *p)
{
    struct addrinfo *res = NULL;
    memset(p, 0, sizeof *p);
    p->kind = MQ_PEER_NONE;
    if (resolve(host, port, &res) != 0)
        return;
    int fd = -1, e = 0;
    for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next)
        fd = connect_within(a, timeout_ms, &e);
    freeaddrinfo(res);
    if (fd < 0)
        return;
    if (send(fd, hello, len, MSG_NOSIGNAL) != (ssize_t)len) {
        p->kind = MQ_PEER_CLOSED;
        close(fd);
        return;
    }
    long deadline = mono_now_ms() + timeout_ms;
    for (;;) {
        long left = deadline - mono_now_ms();
        if (p->n > 0 && left > 200)
            left = 200;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r = left > 0 ? poll(&pf, 1, (int)left) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ssize_t got = recv(fd, p->head + p->n, sizeof p->head - p->n, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0) { /* end of stream, or reset */
            if (p->n == 0)
                p->kind = MQ_PEER_CLOSED;
            break;
        }
        p->n += (size_t)got;
        if (p->n == sizeof p->head)
            break;
    }
    close(fd);
    if (p->n > 0)
        mq_priv_classify(p);
    else if (p->kind == MQ_PEER_NONE)
        p->kind = MQ_PEER_SILENT;
}

void mq_priv_classify(struct mq_peer *p)
{
    const unsigned char *b = p->head;
    size_t n = p->n;
    if (n >= 4 && memcmp(b, "AMQP", 4) == 0)
        p->kind = MQ_PEER_AMQP_OTHER;
    else if (n >= 3 && b[0] == 1 && b[1] == 0 && b[2] == 0)
        p->kind = MQ_PEER_AMQP; /* a method frame on channel 0: connection.start */
    else if (n >= 5 && memcmp(b, "HTTP/", 5) == 0)
        p->kind = MQ_PEER_HTTP;
    else if (n >= 2 && (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03)
        p->kind = MQ_PEER_TLS; /* an alert or a handshake record, TLS 1.x */
    else
        p->kind = MQ_PEER_OTHER;
}

void mq_priv_probe(const char *host, int port, int timeout_ms, struct mq_peer *p)
{
    say_hello(host, port, (const unsigned char *)amqp_hello, sizeof amqp_hello - 1, timeout_ms, p);
    if (p->kind != MQ_PEER_CLOSED)
        return;
    struct mq_peer tls;
    say_hello(host, port, tls_hello, sizeof tls_hello, timeout_ms, &tls);
    if (tls.kind == MQ_PEER_TLS)
        *p = tls;
}

enum mq_status mq_priv_peer_why(const struct mq_peer *p, char *why, size_t whylen)
{
    const unsigned char *b = p->head;
    switch (p->kind) {
    case MQ_PEER_HTTP:
        snprintf(why, whylen, "an HTTP server answered (is this the broker's AMQP port?)");
        return MQ_ERR_NOT_AMQP;
    case MQ_PEER_TLS:
        snprintf(why, whylen, "a TLS server answered (use amqps:// for a TLS port)");
        return MQ_ERR_NOT_AMQP;
    case MQ_PEER_AMQP_OTHER:
        if (p->n >= 8 && memcmp(b, "AMQP\0\0\x09\x01", 8) != 0) {
            snprintf(why, whylen,
                     "the server speaks another version of AMQP (its protocol header is AMQP "
                     "%u.%u.%u.%u; scanmove speaks 0-9-1)",
                     b[4], b[5], b[6], b[7]);
            return MQ_ERR_NOT_AMQP;
        }
        /* Its own 0-9-1 header: it did not like ours, for now. */
        snprintf(why, whylen, "the broker dropped the connection during the AMQP handshake");
        return MQ_ERR_UNREACHABLE;
    case MQ_PEER_AMQP:
        snprintf(why, whylen, "the broker dropped the connection during the AMQP handshake");
        return MQ_ERR_UNREACHABLE;
    case MQ_PEER_OTHER: {
        char hex[3 * sizeof p->head + 1] = "";
        size_t len = 0;
        for (size_t i = 0; i < p->n && i < 6; i++)
            len += (size_t)snprintf(hex + len, sizeof hex - len, "%s%02x", i ? " " : "", b[i]);
        snprintf(why, whylen,
                 "the server answered, but not in AMQP (its first bytes: %s%s; is this the "
                 "broker's AMQP port?)",
                 hex, p->n > 6 ? " ..." : "");
        return MQ_ERR_NOT_AMQP;
    }
    case MQ_PEER_SILENT:
        snprintf(why, whylen,
                 "the server accepted the connection but never answered (is this an AMQP port?)");
        return MQ_ERR_UNREACHABLE;
    case MQ_PEER_CLOSED:
    case MQ_PEER_NONE:
        break;
    }
    snprintf(why, whylen,
             "the connection was dropped during the AMQP handshake "
             "(is this an AMQP port, and TLS where expected?)");
    return MQ_ERR_UNREACHABLE;
}
