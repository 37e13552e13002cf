/*
 * mq_priv.h - what the files of the mq module share (mq.c: connection and
 * topology; mq_publish.c: publisher confirms). Not for use outside mq_*.c.
 */
#ifndef SCANMOVE_MQ_PRIV_H
#define SCANMOVE_MQ_PRIV_H

#include "mq.h"

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
};

/* Copy an AMQP byte string into a C string buffer of outlen > 0 bytes, truncating. */
void mq_priv_bytes_to_str(amqp_bytes_t b, char *out, size_t outlen);

/* Lower-case the first letter, for library text placed mid-sentence. */
void mq_priv_lower_first(char *s);

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

#endif
