/*
 * mq_priv.h - what the files of the mq module share (mq.c: the connection
 * and its errors; mq_topology.c: exchanges and queues; mq_publish.c:
 * publishing, with confirms, and dead letters; mq_consume.c: consuming;
 * mq_probe.c: what answers on a port when the AMQP handshake fails). Not
 * for use outside those files (and their unit tests).
 */
#ifndef SCANMOVE_MQ_PRIV_H
#define SCANMOVE_MQ_PRIV_H

#include "mq.h"
#include "mq_url.h"

#include <amqp.h>

#define MQ_CHANNEL 1
#define MQ_FRAME_MAX 131072

struct mq {
    amqp_connection_state_t conn;
    int conn_open;    /* logged in and not closed by either side */
    int channel_open; /* channel MQ_CHANNEL is usable */
    int blocked;
    char blocked_reason[128];
    char display_url[512];
    char server_version[128];
    uint64_t next_seq;   /* delivery tag of the next publish, in confirm mode */
    amqp_envelope_t env; /* the last delivery (mq_next_delivery) */
    int have_env;
    long last_keepalive; /* CLOCK_MONOTONIC seconds of the last mq_keepalive frame */
    size_t node;         /* which of cfg's urls[] this connection went to */
    size_t pos;          /* its position in cfg's url_order */
    size_t n_nodes;      /* how many URLs cfg has */
    int was_open;        /* logged in once: a connection that is not open now was lost */
    char peer[64];       /* the address connected to, "127.0.0.1:5672"; "" unknown */
    char cluster_name[128];
    char tls_name[256];    /* server_name_indication, "" none */
    int tls_sni_off;       /* server_name_indication=disable */
    int tls_name_mismatch; /* OpenSSL found the certificate without tls_name */
    char tls_alert[64];    /* the first fatal TLS alert the broker sent, "" none */
    int tls_alert_code;
    int tls_cert_requested; /* the broker asked for a client certificate */
};

/* The headers of a dead letter (see struct mq_dead_info). */
#define MQ_HEADER_REASON "x-scanmove-reason"
#define MQ_HEADER_ERROR "x-scanmove-error"
#define MQ_HEADER_FIRST_DEAD "x-scanmove-first-dead"
#define MQ_HEADER_DEAD_COUNT "x-scanmove-dead-count"

/*
 * mq_priv_dead_info - what the properties p (headers, timestamp) of a
 * message say about its dead-letterings, into *di (see struct
 * mq_dead_info). Header values of unexpected types are ignored.
 */
void mq_priv_dead_info(const amqp_basic_properties_t *p, struct mq_dead_info *di);

/* The timeval of ms milliseconds (>= 0), for the library's timeouts. */
struct timeval mq_priv_timeval(uint64_t ms);

/* Copy an AMQP byte string into a C string buffer of outlen > 0 bytes, truncating. */
void mq_priv_bytes_to_str(amqp_bytes_t b, char *out, size_t outlen);

/* Lower-case the first letter, for library text placed mid-sentence. */
void mq_priv_lower_first(char *s);

/*
 * mq_priv_tls_socket - a TLS socket on m's connection for URL u under c:
 * TLS 1.2 or later; the CA of u (cacertfile), else c's (--cacert), else the
 * system bundle; the client certificate and key of u, else c's (none: no
 * client certificate); peer and name verification unless verify_none; the
 * server name of server_name_indication when given. Records the broker's
 * TLS alerts in m. *out is the socket (owned by m->conn) on MQ_OK; else
 * MQ_ERR_CONFIG with a sentence naming the file at fault.
 */
enum mq_status mq_priv_tls_socket(struct mq *m, const struct cfg *c, const struct mq_url *u,
                                  amqp_socket_t **out, char *err, size_t errlen);

/*
 * mq_priv_tls_alert_why - say in why what m's recorded TLS alert means
 * (with none, that the broker asked for a client certificate and hung up):
 * MQ_ERR_AUTH when the broker refused our client certificate or wants one
 * (u and c tell whether one was given), else MQ_ERR_TLS.
 */
enum mq_status mq_priv_tls_alert_why(const struct mq *m, const struct cfg *c,
                                     const struct mq_url *u, char *why, size_t whylen);

/*
 * mq_priv_node_closed - m is being closed: when its connection was lost
 * (not closed by us), make the next mq_connect round start at the next
 * node of the list.
 */
void mq_priv_node_closed(const struct mq *m);

/* Open channel MQ_CHANNEL on the open connection m; the failure with its sentence. */
enum mq_status mq_priv_open_channel(struct mq *m, char *err, size_t errlen);

/* Fill table entry e with key and a string (not copied: it must outlive the table's use). */
void mq_priv_arg_str(amqp_table_entry_t *e, const char *key, const char *val);

/* Fill table entry e with key and a signed 64-bit integer. */
void mq_priv_arg_i64(amqp_table_entry_t *e, const char *key, int64_t val);

/*
 * The connection is gone (library status rc while doing, e.g.
 * "publishing"): mark it closed and say so in err. Returns MQ_ERR_CLOSED.
 */
enum mq_status mq_priv_lost(struct mq *m, int rc, const char *doing, char *err, size_t errlen);

/*
 * Turn a failed RPC reply into a status and a sentence. doing says what we
 * were doing ("logging in", "declaring queue 'files'"). Acknowledges a
 * server-initiated close so that the broker is not left waiting.
 */
enum mq_status mq_priv_reply_error(struct mq *m, amqp_rpc_reply_t r, const char *doing, char *err,
                                   size_t errlen);

/*
 * Act on a connection-level frame nobody asked for (blocked, unblocked,
 * connection or channel close). Returns MQ_OK, or the failure with its
 * sentence when the broker closed the connection or channel.
 */
enum mq_status mq_priv_handle_frame(struct mq *m, const amqp_frame_t *f, char *err, size_t errlen);

/*
 * Find out why a TCP connection to host:port fails, with our own resolver
 * and connect(2), because rabbitmq-c reports every socket failure as one
 * generic "socket error": a sentence such as "connection refused" in why.
 * Only runs after the library has failed.
 */
void mq_priv_diagnose_tcp(const char *host, int port, int timeout_ms, char *why, size_t whylen);

/* What answered on a port, from the first bytes it sent (mq_priv_probe). */
enum mq_peer_kind {
    MQ_PEER_NONE,       /* no connection */
    MQ_PEER_SILENT,     /* accepted, and nothing came within the timeout */
    MQ_PEER_CLOSED,     /* hung up (or reset) without sending a byte */
    MQ_PEER_AMQP,       /* an AMQP 0-9-1 frame: a broker */
    MQ_PEER_AMQP_OTHER, /* an AMQP protocol header ("AMQP" and 4 version bytes) */
    MQ_PEER_HTTP,       /* "HTTP/" */
    MQ_PEER_TLS,        /* a TLS alert or handshake record */
    MQ_PEER_OTHER       /* anything else */
};

struct mq_peer {
    enum mq_peer_kind kind;
    unsigned char head[8]; /* the first n bytes it sent */
    size_t n;
};

/*
 * mq_priv_probe - connect to host:port (timeout_ms for the connection and
 * again for the answer), send the AMQP 0-9-1 protocol header followed by
 * an empty line (which makes an HTTP server answer), and classify what
 * comes back into *p. When the server hangs up without a word, a second
 * connection sends a TLS ClientHello: a TLS server answers that. Call it
 * only after a handshake has failed: it sends bytes a broker must refuse.
 */
void mq_priv_probe(const char *host, int port, int timeout_ms, struct mq_peer *p);

/* mq_priv_classify - set p->kind from the p->n > 0 bytes in p->head. */
void mq_priv_classify(struct mq_peer *p);

/*
 * mq_priv_peer_why - say what p found, as the end of "cannot connect to
 * URL: ...", in why (e.g. "an HTTP server answered (is this the broker's
 * AMQP port?)"). Returns MQ_ERR_NOT_AMQP when something other than an AMQP
 * 0-9-1 broker answers (final: retrying cannot help), MQ_ERR_UNREACHABLE
 * when the port was silent or hung up (it may be a broker in trouble).
 */
enum mq_status mq_priv_peer_why(const struct mq_peer *p, char *why, size_t whylen);

#endif
