/*
 * mq.h - the broker connection: the only user of rabbitmq-c.
 *
 * Connects (TCP or TLS), logs in with heartbeats, opens a channel and
 * declares the scanmove topology, turning every failure of the library or
 * of the broker into one sentence and an enum mq_status that maps to an
 * exit status (mq_exitcode).
 *
 * Topology, identical for both tools (so whichever starts first creates it
 * and the other finds it equal):
 *   exchange  <exchange>          durable direct
 *   queue     <queue>             durable, x-queue-type quorum|classic,
 *                                 dead-lettering to <exchange>.dlx with the
 *                                 routing key; quorum: x-delivery-limit,
 *                                 at-least-once dead-lettering
 *   binding   <queue> <- <exchange> by <routing key>
 *   exchange  <exchange>.dlx      durable direct
 *   queue     <queue>.dead        durable, same type as <queue>
 *   binding   <queue>.dead <- <exchange>.dlx by <routing key>
 *
 * Design notes on rabbitmq-c 0.11:
 * - It services heartbeats only inside its own calls, so a caller that
 *   works for long between calls (a big copy) calls mq_keepalive(), which
 *   sends a heartbeat and reads nothing (so it cannot swallow a delivery);
 *   a publisher reads confirms and notices through mq_next_event().
 * - It does not advertise the connection.blocked capability; mq_connect
 *   does, so that under a broker disk or memory alarm the broker says so
 *   (mq_blocked) instead of silently stalling publishers.
 * - TLS is 1.2 or later, and the peer is verified against --cacert or the
 *   system bundle (/etc/ssl/certs/ca-certificates.crt).
 * - It reports whatever goes wrong before the broker's connection.start
 *   as a lost connection, a timeout or bad data. mq_connect then looks at
 *   the port with a socket of its own (mq_probe.c) and says what answers
 *   there (an HTTP server, a TLS server, another AMQP version, silence),
 *   so that a wrong port is not taken for a wrong password.
 */
#ifndef SCANMOVE_MQ_H
#define SCANMOVE_MQ_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

enum mq_status {
    MQ_OK = 0,
    MQ_ERR_CONFIG,      /* bad URL, unreadable CA file: fix the configuration */
    MQ_ERR_UNREACHABLE, /* refused, host not found, timed out, TLS handshake failed */
    MQ_ERR_TLS,         /* the broker's TLS certificate or host name cannot be verified */
    MQ_ERR_NOT_AMQP,    /* something else answers on the port: HTTP, TLS, another AMQP */
    MQ_ERR_AUTH,        /* user name or password refused */
    MQ_ERR_ACCESS,      /* vhost or resource access refused */
    MQ_ERR_TOPOLOGY,    /* exchange or queue exists with other settings */
    MQ_ERR_MISSING,     /* exchange or queue does not exist (mq_inspect_topology) */
    MQ_ERR_CLOSED,      /* the broker closed the connection, or it was lost */
    MQ_ERR_BLOCKED,     /* the broker blocks publishing (resource alarm) */
    MQ_ERR_PROTOCOL     /* unexpected reply: a bug here or in the broker */
};

struct mq; /* one connection with one channel */

/* Message counts seen when the topology was declared. */
struct mq_queue_info {
    uint32_t messages;       /* ready messages in <queue> */
    uint32_t consumers;      /* consumers on <queue> */
    uint32_t dead_messages;  /* messages in <queue>.dead */
    uint32_t dead_consumers; /* consumers on <queue>.dead */
};

/*
 * mq_exitcode - the exit status for s: 0 for MQ_OK, 69 unreachable,
 * closed, TLS verification failed or not an AMQP 0-9-1 port, 75 blocked,
 * 77 authentication or access, 78 configuration, topology or a missing
 * exchange or queue, 70 protocol.
 */
int mq_exitcode(enum mq_status s);

/*
 * mq_transient - 1 when s may go away by itself (MQ_ERR_UNREACHABLE,
 * MQ_ERR_CLOSED: the broker is down, restarting or was lost), so that
 * connecting again later makes sense; 0 for MQ_OK and for every failure
 * that a person must fix (authentication, access, TLS verification, a
 * port that does not speak AMQP 0-9-1, configuration, topology).
 */
int mq_transient(enum mq_status s);

/*
 * mq_connect - connect to a broker of c's list (cfg_finish must have run),
 * log in, open channel 1: one round over the URLs in c->url_order, each
 * with its connect timeout, starting where the last connection of this
 * process succeeded, or at the next node after one was lost (mq_close
 * notes it). Each URL's query parameters override c's settings for it.
 * conn_name names the connection in the broker's management view (e.g.
 * "scan@host:1234"; may be NULL). On MQ_OK *out holds a connection the
 * caller closes with mq_close. On error *out is NULL and err holds one
 * sentence that names the broker by its masked URL and never contains the
 * password, e.g. "cannot connect to amqp://guest@127.0.0.1:5672/:
 * connection refused"; with several URLs, "no broker of 3 accepted the
 * connection: " and each one's. The status is then MQ_ERR_CONFIG for a bad
 * URL or file, MQ_ERR_UNREACHABLE when any node may yet come back, else
 * (every node refused) the first node's failure. Call it from one thread
 * at a time.
 */
enum mq_status mq_connect(const struct cfg *c, const char *conn_name, struct mq **out, char *err,
                          size_t errlen);

/*
 * mq_connect_node - as mq_connect, but to c->urls[i] only, leaving where
 * mq_connect starts alone (for --check, which looks at every node).
 */
enum mq_status mq_connect_node(const struct cfg *c, size_t i, const char *conn_name,
                               struct mq **out, char *err, size_t errlen);

/* mq_peer_address - the address m is connected to, "127.0.0.1:5672" or "[::1]:5672"; "" unknown. */
const char *mq_peer_address(const struct mq *m);

/* mq_cluster_name - the broker's cluster name from its server properties; "" when none. */
const char *mq_cluster_name(const struct mq *m);

/* mq_node_index - which of cfg's urls[] m is connected to. */
size_t mq_node_index(const struct mq *m);

/*
 * mq_declare_topology - declare the topology above with c's names and
 * settings; idempotent. When info is not NULL it receives the queue's
 * counts. A queue or exchange that exists with other settings gives
 * MQ_ERR_TOPOLOGY with the broker's explanation, e.g. "queue 'files'
 * exists with other settings: inequivalent arg 'x-queue-type' ...". After
 * such an error the channel is reopened when the connection survives.
 */
enum mq_status mq_declare_topology(struct mq *m, const struct cfg *c, struct mq_queue_info *info,
                                   char *err, size_t errlen);

/*
 * mq_inspect_topology - look at the topology above as c names it, creating
 * nothing (for --check): passive declares of <queue>, <exchange>,
 * <queue>.dead and <exchange>.dlx, then, once all four are known to exist,
 * declares with c's settings, which change nothing on what exists but
 * report a setting that differs as mq_declare_topology does (they need the
 * configure permission the tools need anyway). Bindings are not looked at:
 * AMQP 0-9-1 cannot ask for one without making it. When info is not NULL it
 * receives the counts. The first entity missing gives MQ_ERR_MISSING and
 * one sentence, e.g. "queue 'fiels' does not exist on amqp://guest@h:5672/:
 * nothing has created it yet (a typo in --queue?); scan and move create it
 * when they first run". Any failure that closed the channel leaves it
 * reopened when the connection survives.
 */
enum mq_status mq_inspect_topology(struct mq *m, const struct cfg *c, struct mq_queue_info *info,
                                   char *err, size_t errlen);

/*
 * mq_check_exchange - look whether exchange name exists (a passive
 * declare: creates nothing, whatever its type). MQ_OK when it does;
 * MQ_ERR_MISSING and one sentence ending with hint when it does not, e.g.
 * "exchange 'events' does not exist on amqp://guest@h:5672/: HINT"; else
 * the failure. The channel is reopened after a failure that closed it,
 * when the connection survives.
 */
enum mq_status mq_check_exchange(struct mq *m, const char *name, const char *hint, char *err,
                                 size_t errlen);

/*
 * mq_blocked - 1 when the broker has said it blocks this connection's
 * publishes (connection.blocked), with its reason (e.g. "low on disk") in
 * *reason when reason is not NULL; 0 otherwise.
 */
int mq_blocked(const struct mq *m, const char **reason);

/* mq_display_url - the URL of the broker m is connected to, without its password. */
const char *mq_display_url(const struct mq *m);

/* mq_server_version - the broker's "product version", e.g. "RabbitMQ 3.10.8". */
const char *mq_server_version(const struct mq *m);

/*
 * mq_close - close the channel and the connection politely when they are
 * still open, and free m. NULL is a no-op.
 */
void mq_close(struct mq *m);

/* ---- Publishing with confirms (mq_publish.c) ---- */
#define MQ_MESSAGE_ID_MAX 255 /* an AMQP short string */

/* What the broker says about earlier publishes. */
enum mq_event_kind {
    MQ_EVENT_NONE = 0, /* nothing arrived within the timeout */
    MQ_EVENT_ACK,      /* confirmed: tag, or every tag up to it when multiple */
    MQ_EVENT_NACK,     /* refused by the broker: tag, or up to it when multiple */
    MQ_EVENT_RETURN    /* unroutable (mandatory): message_id says which; its ack follows */
};

struct mq_event {
    enum mq_event_kind kind;
    uint64_t tag;
    int multiple;
    char message_id[MQ_MESSAGE_ID_MAX + 1]; /* MQ_EVENT_RETURN */
    char reply_text[160];                   /* MQ_EVENT_RETURN, e.g. "NO_ROUTE" */
};

/*
 * mq_confirm_select - put the channel into publisher-confirm mode. From
 * then on every mq_publish gets the next delivery tag, 1, 2, 3 ...
 * Returns MQ_OK or the failure with its sentence.
 */
enum mq_status mq_confirm_select(struct mq *m, char *err, size_t errlen);

/*
 * mq_publish - publish len bytes of body to exchange with routing_key,
 * persistent (delivery mode 2), mandatory, content type application/json,
 * with message_id, type and timestamp (seconds) set; type may be NULL.
 * *seq receives the delivery tag the confirm will carry. Does not wait for
 * the confirm (see mq_next_event). Returns MQ_OK, or MQ_ERR_CLOSED when
 * the connection is gone.
 */
enum mq_status mq_publish(struct mq *m, const char *exchange, const char *routing_key,
                          const void *body, size_t len, const char *message_id, const char *type,
                          uint64_t timestamp, uint64_t *seq, char *err, size_t errlen);

/*
 * mq_next_event - wait up to timeout_ms (0: do not wait) for the next
 * publisher event and store it in *ev (kind MQ_EVENT_NONE when none came).
 * Services heartbeats and notes connection.blocked/unblocked (mq_blocked)
 * on the way. Returns MQ_OK, or MQ_ERR_CLOSED (connection lost or closed
 * by the broker), MQ_ERR_ACCESS (the broker refused a publish: 403 on the
 * channel) or MQ_ERR_PROTOCOL (another channel error) with its sentence.
 */
enum mq_status mq_next_event(struct mq *m, int timeout_ms, struct mq_event *ev, char *err,
                             size_t errlen);

/*
 * mq_wait_confirm - wait for the broker's confirm of publish seq, alone on
 * its channel (no other publish outstanding that matters). MQ_OK when it
 * was acked and routed; MQ_ERR_PROTOCOL when returned (unroutable) or
 * nacked, err saying so of what ("the dead letter"); else the failure.
 */
enum mq_status mq_wait_confirm(struct mq *m, uint64_t seq, const char *what, char *err,
                               size_t errlen);

/*
 * mq_check_publish - find out whether the broker lets this user publish
 * to exchange (m in confirm mode and used for nothing else): publish an
 * empty, transient, non-mandatory message with a routing key no scanmove
 * queue is bound by (so it goes nowhere) and wait for its confirm. Returns
 * MQ_OK when confirmed; MQ_ERR_ACCESS when the broker refused it (err
 * quotes the broker, which names the exchange and the user); else the
 * failure. Permissions are checked when a message is published, not when
 * a connection opens: this finds a refusal before anything depends on it.
 */
enum mq_status mq_check_publish(struct mq *m, const char *exchange, char *err, size_t errlen);

/*
 * mq_cork - with on = 1, hold back small writes so that the publishes that
 * follow leave as few large TCP segments (TCP_CORK), which costs the broker
 * far less than one segment per message; on = 0 sends what is held. Cork
 * only around a burst of mq_publish calls, never while waiting for the
 * broker. Failure is harmless and ignored.
 */
void mq_cork(struct mq *m, int on);

/* ---- Consuming (mq_consume.c) ---- */

#define MQ_DEAD_REASON_MAX 63
#define MQ_DEAD_ERROR_MAX 1023

/*
 * What a message's headers say about its dead-letterings so far. The mover
 * writes x-scanmove-reason, x-scanmove-error, x-scanmove-first-dead (unix
 * seconds), x-scanmove-dead-count and the timestamp property (the time of
 * that dead-lettering); move --requeue-dead carries first time and count
 * over to the message it requeues; the broker adds x-death when it
 * dead-letters a message itself (a quorum queue's delivery limit).
 */
struct mq_dead_info {
    /* the last dead-lettering's reason: x-scanmove-reason, or the broker's
     * x-death reason with '_' as '-' ("delivery-limit"); "" when none */
    char reason[MQ_DEAD_REASON_MAX + 1];
    /* x-scanmove-error, or a sentence for the broker's; "" when none */
    char error[MQ_DEAD_ERROR_MAX + 1];
    uint64_t first; /* unix seconds of the first dead-lettering; 0 unknown */
    uint64_t last;  /* unix seconds of the last; 0 unknown */
    uint64_t count; /* dead-letterings so far; 0 for a message never dead-lettered */
};

/* One delivery; body and message_id stay valid until the next mq_next_delivery or mq_close. */
struct mq_delivery {
    uint64_t tag;
    int redelivered;
    const void *body;
    size_t len;
    char message_id[MQ_MESSAGE_ID_MAX + 1]; /* "" when absent */
    struct mq_dead_info dead;               /* all zero when the headers say nothing */
    uint64_t timestamp;                     /* the AMQP timestamp (Unix seconds), 0 when absent */
};

/*
 * mq_peek_timestamp - the AMQP timestamp of the message at the head of
 * queue, looked at without taking it: basic.get with manual
 * acknowledgement, then basic.nack with requeue, which puts the message
 * back where it was. That changes nothing on a classic queue but the
 * message's redelivered flag, and nothing on a quorum queue of RabbitMQ
 * 4.3 or later; an older quorum queue counts it as a delivery (towards its
 * delivery limit), so the caller must not peek there. *found is 0 when
 * the queue is empty; *ts is 0 when the message has no timestamp. Returns
 * MQ_OK or the failure with its sentence.
 */
enum mq_status mq_peek_timestamp(struct mq *m, const char *queue, int *found, uint64_t *ts,
                                 char *err, size_t errlen);

/*
 * mq_consume - start consuming queue with manual acks, the broker sending
 * at most prefetch unacknowledged messages ahead. Returns MQ_OK or the
 * failure with its sentence.
 */
enum mq_status mq_consume(struct mq *m, const char *queue, uint16_t prefetch, char *err,
                          size_t errlen);

/*
 * mq_next_delivery - wait up to timeout_ms for the next delivery. *got is 1
 * with d filled, 0 on timeout. Heartbeats, blocked notices and closes are
 * handled on the way. Returns MQ_OK, or MQ_ERR_CLOSED (lost, or the broker
 * cancelled the consumer or closed the channel) or MQ_ERR_ACCESS (the
 * broker closed the channel with 403) with its sentence.
 */
enum mq_status mq_next_delivery(struct mq *m, int timeout_ms, struct mq_delivery *d, int *got,
                                char *err, size_t errlen);

/*
 * mq_get - take the next message of queue, if any, with a manual ack
 * (basic.get): *got is 1 with d filled, 0 when the queue is empty. Do not
 * mix with unconfirmed publishes on the same channel. Returns MQ_OK or the
 * failure with its sentence.
 */
enum mq_status mq_get(struct mq *m, const char *queue, struct mq_delivery *d, int *got, char *err,
                      size_t errlen);

/*
 * mq_ack - acknowledge tag (and all before it when multiple). MQ_ERR_CLOSED
 * without sending anything when the channel the tag belongs to is gone.
 */
enum mq_status mq_ack(struct mq *m, uint64_t tag, int multiple, char *err, size_t errlen);

/*
 * mq_requeue - give tag (and all unacknowledged before it when multiple)
 * back to the queue (basic.nack with requeue), for a transient failure.
 */
enum mq_status mq_requeue(struct mq *m, uint64_t tag, int multiple, char *err, size_t errlen);

/*
 * mq_keepalive - send a heartbeat frame when one is due, without reading
 * anything (so no delivery can be consumed by accident). Call it during
 * long work outside the library, such as a big copy.
 */
enum mq_status mq_keepalive(struct mq *m, char *err, size_t errlen);

/*
 * mq_publish_dead - publish body to exchange/routing_key persistent, with
 * message_id, the timestamp property set to now and the headers
 * x-scanmove-reason, x-scanmove-error, x-scanmove-first-dead (prior's
 * first time, or now when it has none) and x-scanmove-dead-count (prior's
 * count plus one), and wait for the broker's confirm (m must be in confirm
 * mode and used for nothing else). prior is what the message said of its
 * earlier dead-letterings (mq_delivery's dead; NULL: none). Returns MQ_OK
 * once confirmed; MQ_ERR_PROTOCOL when nacked or returned; MQ_ERR_ACCESS
 * when the broker refuses the publish (closing the channel with 403);
 * MQ_ERR_CLOSED when the connection is lost.
 */
enum mq_status mq_publish_dead(struct mq *m, const char *exchange, const char *routing_key,
                               const void *body, size_t len, const char *message_id,
                               const struct mq_dead_info *prior, const char *reason,
                               const char *error, char *err, size_t errlen);

/*
 * mq_publish_undead - publish body to exchange/routing_key as mq_publish
 * does (persistent, mandatory, application/json, message_id, timestamp
 * now), carrying over history's first time and count as the headers
 * x-scanmove-first-dead and x-scanmove-dead-count (when it has any), so
 * that a message requeued from the dead-letter queue keeps its history.
 * *seq receives the delivery tag of the confirm (see mq_wait_confirm).
 * Returns MQ_OK, or MQ_ERR_CLOSED when the connection is gone.
 */
enum mq_status mq_publish_undead(struct mq *m, const char *exchange, const char *routing_key,
                                 const void *body, size_t len, const char *message_id,
                                 const struct mq_dead_info *history, uint64_t *seq, char *err,
                                 size_t errlen);

#endif
