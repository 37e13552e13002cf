/*
 * test_publish.c - unit tests of scan's confirm window (scanner/publish.c):
 * confirms in and out of order, multiple acks, nacks, returns, a full
 * window, a lost connection given up or regained, a blocked broker, nacked
 * messages published again.
 *
 * The broker is a fake: this file defines every mq_* function publish.c
 * and mq_reconnect.c call, so the linker takes these instead of the
 * archive's (link-time substitution: publish.c needs no test hook, and a
 * new mq call in it fails to link here, as duplicate symbols, rather than
 * reaching a real socket). The fake records publishes and hands out
 * scripted events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mq.h"
#include "publish.h"

/* ---- The fake broker ---- */

struct mq {
    int generation; /* which connection: 1, 2, ... */
};

#define MAX_SCRIPT 64

struct published {
    char id[64];
    uint64_t seq;
    int generation;
};

static struct {
    struct mq conn;
    int connects;                              /* mq_connect calls */
    enum mq_status connect_result[MAX_SCRIPT]; /* per call from the 2nd on; MQ_OK when unset */
    char conn_name[300];                       /* as the last mq_connect got them */
    char exchange[CFG_NAME_MAX + 1];
    uint64_t next_seq;
    struct published pub[MAX_SCRIPT];
    size_t n_pub;
    struct mq_event ev[MAX_SCRIPT];       /* what mq_next_event hands out, in order */
    enum mq_status ev_status[MAX_SCRIPT]; /* MQ_OK: hand out ev[i]; else fail so */
    size_t ev_head, ev_n;
    int next_event_waits; /* calls with timeout_ms > 0 */
    int idle_waits;       /* of those, with nothing to hand out */
    int blocked;
    int closes;
    int sleep_idle;           /* an idle wait takes its time (for retries' waits) */
    char nack_id[64];         /* nack every publish of this message id at once */
    const char *auto_ack_ids; /* ack at once every publish of an id listed, e.g. "m1 m2 " */
} fake;

int mq_transient(enum mq_status s)
{
    return s == MQ_ERR_UNREACHABLE || s == MQ_ERR_CLOSED;
}

enum mq_status mq_connect(const struct cfg *c, const char *conn_name, struct mq **out, char *err,
                          size_t errlen)
{
    int n = fake.connects++;
    snprintf(fake.conn_name, sizeof fake.conn_name, "%s", conn_name ? conn_name : "(null)");
    snprintf(fake.exchange, sizeof fake.exchange, "%s", c->exchange);
    enum mq_status s = n > 0 ? fake.connect_result[n - 1] : MQ_OK;
    if (s != MQ_OK) {
        snprintf(err, errlen, "fake connect %d failed", n + 1);
        *out = NULL;
        return s;
    }
    fake.conn.generation = n + 1;
    fake.next_seq = 1;
    *out = &fake.conn;
    return MQ_OK;
}

enum mq_status mq_declare_topology(struct mq *m, const struct cfg *c, struct mq_queue_info *info,
                                   char *err, size_t errlen)
{
    (void)m, (void)c, (void)info, (void)err, (void)errlen;
    return MQ_OK;
}

enum mq_status mq_confirm_select(struct mq *m, char *err, size_t errlen)
{
    (void)m, (void)err, (void)errlen;
    return MQ_OK;
}

void mq_close(struct mq *m)
{
    if (m != NULL)
        fake.closes++;
}

const char *mq_display_url(const struct mq *m)
{
    (void)m;
    return "amqp://fake/";
}

int mq_blocked(const struct mq *m, const char **reason)
{
    (void)m;
    if (reason != NULL)
        *reason = "low on disk";
    return fake.blocked;
}

void mq_cork(struct mq *m, int on)
{
    (void)m, (void)on;
}

static void script(enum mq_event_kind kind, uint64_t tag, int multiple, const char *id);

enum mq_status mq_publish(struct mq *m, const char *exchange, const char *routing_key,
                          const void *body, size_t len, const char *message_id, const char *type,
                          uint64_t timestamp, uint64_t *seq, char *err, size_t errlen)
{
    (void)exchange, (void)routing_key, (void)body, (void)len, (void)type, (void)timestamp;
    (void)err, (void)errlen;
    assert_true(fake.n_pub < MAX_SCRIPT);
    struct published *p = &fake.pub[fake.n_pub++];
    snprintf(p->id, sizeof p->id, "%s", message_id);
    p->seq = *seq = fake.next_seq++;
    p->generation = m->generation;
    char word[70];
    snprintf(word, sizeof word, "%s ", message_id);
    if (strcmp(fake.nack_id, message_id) == 0)
        script(MQ_EVENT_NACK, p->seq, 0, NULL);
    else if (fake.auto_ack_ids != NULL && strstr(fake.auto_ack_ids, word) != NULL)
        script(MQ_EVENT_ACK, p->seq, 0, NULL);
    return MQ_OK;
}

enum mq_status mq_next_event(struct mq *m, int timeout_ms, struct mq_event *ev, char *err,
                             size_t errlen)
{
    (void)m;
    if (timeout_ms > 0)
        fake.next_event_waits++;
    memset(ev, 0, sizeof *ev);
    if (fake.ev_head == fake.ev_n) {
        /* The publisher waits for something the script will never send. */
        if (timeout_ms > 0 && ++fake.idle_waits > 100)
            fail_msg("waiting for an event that was not scripted");
        if (fake.sleep_idle && timeout_ms > 0) /* at most 0.1 s: a failure comes soon */
            usleep((useconds_t)(timeout_ms < 100 ? timeout_ms : 100) * 1000);
        return MQ_OK; /* MQ_EVENT_NONE */
    }
    size_t i = fake.ev_head++;
    if (fake.ev_status[i] != MQ_OK) {
        snprintf(err, errlen, "fake connection lost");
        return fake.ev_status[i];
    }
    *ev = fake.ev[i];
    return MQ_OK;
}

static void script(enum mq_event_kind kind, uint64_t tag, int multiple, const char *id)
{
    assert_true(fake.ev_n < MAX_SCRIPT);
    struct mq_event *e = &fake.ev[fake.ev_n];
    e->kind = kind;
    e->tag = tag;
    e->multiple = multiple;
    snprintf(e->message_id, sizeof e->message_id, "%s", id ? id : "");
    fake.ev_status[fake.ev_n++] = MQ_OK;
}

static void script_loss(void)
{
    fake.ev_status[fake.ev_n++] = MQ_ERR_CLOSED;
}

/* ---- What scan would see ---- */

struct outcome {
    int cookie, ok;
    enum scan_reason reason;
};

static struct {
    struct outcome done[MAX_SCRIPT];
    size_t n_done;
    int ticks;
    void (*on_tick)(int tick);
} seen;

static int cookies[MAX_SCRIPT];

static void on_done(void *arg, void *cookie, int ok, enum scan_reason reason)
{
    (void)arg;
    assert_true(seen.n_done < MAX_SCRIPT);
    seen.done[seen.n_done++] = (struct outcome){*(int *)cookie, ok, reason};
    assert_int_equal(ok, reason == SCAN_REASON_NONE);
}

static void on_tick(void *arg)
{
    (void)arg;
    seen.ticks++;
    if (seen.on_tick != NULL)
        seen.on_tick(seen.ticks);
}

static struct cfg cfg;
static char err[512];

static int reset(void **state)
{
    (void)state;
    memset(&fake, 0, sizeof fake);
    memset(&seen, 0, sizeof seen);
    for (int i = 0; i < MAX_SCRIPT; i++)
        cookies[i] = i;
    cfg_defaults(&cfg);
    err[0] = '\0';
    return 0;
}

static struct publisher *open_with(unsigned window, uint64_t reconnect_ms, uint64_t blocked_ms)
{
    struct publish_opts o = {.cfg = &cfg,
                             .conn_name = "scan@test[1]",
                             .window = window,
                             .reconnect_timeout_ms = reconnect_ms,
                             .blocked_timeout_ms = blocked_ms,
                             .done = on_done,
                             .tick = on_tick};
    struct publisher *p;
    assert_int_equal(publish_open(&o, &p, err, sizeof err), MQ_OK);
    return p;
}

/* Send message number i (its id is "m<i>", its cookie i). */
static enum mq_status send_msg(struct publisher *p, int i)
{
    char id[16];
    snprintf(id, sizeof id, "m%d", i);
    return publish_send(p, "{}", 2, id, 1700000000, &cookies[i], err, sizeof err);
}

static void assert_done(size_t k, int cookie, enum scan_reason reason)
{
    assert_true(k < seen.n_done);
    assert_int_equal(seen.done[k].cookie, cookie);
    assert_int_equal(seen.done[k].reason, reason);
}

/* ---- The tests ---- */

/* Confirms out of order: each message is reported once the ones before it
 * are, in publish order (retire), with its own outcome. */
static void test_in_order(void **state)
{
    (void)state;
    struct publisher *p = open_with(8, 0, 1000);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(send_msg(p, i), MQ_OK);
    assert_int_equal(fake.pub[2].seq, 3);
    script(MQ_EVENT_ACK, 2, 0, NULL);
    assert_int_equal(publish_poll(p, err, sizeof err), MQ_OK);
    assert_int_equal(seen.n_done, 0); /* 2 waits for 1 */
    assert_int_equal(publish_unconfirmed(p), 3);
    script(MQ_EVENT_ACK, 1, 0, NULL);
    assert_int_equal(publish_poll(p, err, sizeof err), MQ_OK);
    assert_int_equal(seen.n_done, 2);
    assert_done(0, 1, SCAN_REASON_NONE);
    assert_done(1, 2, SCAN_REASON_NONE);
    script(MQ_EVENT_ACK, 3, 0, NULL);
    assert_int_equal(publish_flush(p, err, sizeof err), MQ_OK);
    assert_done(2, 3, SCAN_REASON_NONE);
    assert_int_equal(publish_unconfirmed(p), 0);
    publish_close(p);
    assert_int_equal(fake.closes, 1);
}

/* One ack with "multiple" confirms every message up to its tag; a later
 * duplicate or stale ack changes nothing. */
static void test_multiple_ack(void **state)
{
    (void)state;
    struct publisher *p = open_with(8, 0, 1000);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(send_msg(p, i), MQ_OK);
    script(MQ_EVENT_ACK, 3, 1, NULL);
    script(MQ_EVENT_ACK, 2, 0, NULL); /* already settled */
    assert_int_equal(publish_poll(p, err, sizeof err), MQ_OK);
    assert_int_equal(seen.n_done, 3);
    for (int i = 0; i < 3; i++)
        assert_done((size_t)i, i + 1, SCAN_REASON_NONE);
    assert_int_equal(publish_unconfirmed(p), 2);
    script(MQ_EVENT_ACK, 5, 1, NULL);
    assert_int_equal(publish_flush(p, err, sizeof err), MQ_OK);
    assert_int_equal(seen.n_done, 5);
    assert_done(4, 5, SCAN_REASON_NONE);
    publish_close(p);
}

/* A nack (single or multiple) fails its messages as "nacked"; a multiple
 * ack or nack leaves the messages it covers that were settled before (but
 * are still waiting for an earlier one) as they were. */
static void test_nack(void **state)
{
    (void)state;
    struct publisher *p = open_with(8, 0, 1000);
    for (int i = 1; i <= 6; i++)
        assert_int_equal(send_msg(p, i), MQ_OK);
    script(MQ_EVENT_NACK, 2, 0, NULL);
    script(MQ_EVENT_ACK, 3, 1, NULL);
    script(MQ_EVENT_ACK, 5, 0, NULL);
    script(MQ_EVENT_NACK, 6, 1, NULL);
    assert_int_equal(publish_flush(p, err, sizeof err), MQ_OK);
    assert_int_equal(seen.n_done, 6);
    assert_done(0, 1, SCAN_REASON_NONE);
    assert_done(1, 2, SCAN_REASON_NACKED);
    assert_done(2, 3, SCAN_REASON_NONE);
    assert_done(3, 4, SCAN_REASON_NACKED);
    assert_done(4, 5, SCAN_REASON_NONE);
    assert_done(5, 6, SCAN_REASON_NACKED);
    publish_close(p);
}

/* A message the broker returns (no queue bound) is "unroutable" when its
 * ack follows; a return naming no message in the window is ignored. */
static void test_unroutable(void **state)
{
    (void)state;
    struct publisher *p = open_with(8, 0, 1000);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(send_msg(p, i), MQ_OK);
    script(MQ_EVENT_RETURN, 0, 0, "m2");
    script(MQ_EVENT_RETURN, 0, 0, "m99");
    script(MQ_EVENT_ACK, 3, 1, NULL);
    assert_int_equal(publish_flush(p, err, sizeof err), MQ_OK);
    assert_int_equal(seen.n_done, 3);
    assert_done(0, 1, SCAN_REASON_NONE);
    assert_done(1, 2, SCAN_REASON_UNROUTABLE);
    assert_done(2, 3, SCAN_REASON_NONE);
    publish_close(p);
}

static void ack_first_on_third_tick(int tick)
{
    if (tick == 3)
        script(MQ_EVENT_ACK, 1, 0, NULL);
}

/* A full window holds publish_send, waiting for confirms (and ticking for
 * the progress line) until one makes room. */
static void test_window_full(void **state)
{
    (void)state;
    struct publisher *p = open_with(2, 0, 1000);
    assert_int_equal(send_msg(p, 1), MQ_OK);
    assert_int_equal(send_msg(p, 2), MQ_OK);
    assert_int_equal(fake.n_pub, 2);
    seen.on_tick = ack_first_on_third_tick;
    assert_int_equal(send_msg(p, 3), MQ_OK);
    assert_int_equal(seen.ticks, 3);
    assert_true(fake.next_event_waits >= 4); /* waited, each time with a timeout */
    assert_int_equal(fake.n_pub, 3);
    assert_int_equal(seen.n_done, 1);
    assert_done(0, 1, SCAN_REASON_NONE);
    assert_int_equal(publish_unconfirmed(p), 2);
    script(MQ_EVENT_ACK, 3, 1, NULL);
    assert_int_equal(publish_flush(p, err, sizeof err), MQ_OK);
    assert_int_equal(seen.n_done, 3);
    publish_close(p);
}

/* Lost with --reconnect-timeout 0: everything unconfirmed is abandoned,
 * in order, as "unconfirmed", and nothing more can be sent. */
static void test_lost_abandon(void **state)
{
    (void)state;
    struct publisher *p = open_with(8, 0, 1000);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(send_msg(p, i), MQ_OK);
    script(MQ_EVENT_ACK, 1, 0, NULL);
    script_loss();
    assert_int_equal(publish_poll(p, err, sizeof err), MQ_ERR_CLOSED);
    assert_string_equal(err, "fake connection lost");
    assert_int_equal(seen.n_done, 3);
    assert_done(0, 1, SCAN_REASON_NONE);
    assert_done(1, 2, SCAN_REASON_UNCONFIRMED);
    assert_done(2, 3, SCAN_REASON_UNCONFIRMED);
    assert_int_equal(fake.connects, 1); /* no attempt */
    assert_int_equal(send_msg(p, 4), MQ_ERR_CLOSED);
    assert_string_equal(err, "the broker connection was lost");
    assert_done(3, 4, SCAN_REASON_UNCONFIRMED);
    assert_int_equal(publish_poll(p, err, sizeof err), MQ_ERR_CLOSED);
    assert_int_equal(publish_unconfirmed(p), 0);
    publish_close(p);
}

/* Run f with stderr going to a file; the text written into out. */
static void capture_stderr(void (*f)(void *), void *arg, char *out, size_t outlen)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), STDERR_FILENO);
    f(arg);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, outlen - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
}

struct poll_call {
    struct publisher *p;
    enum mq_status s;
};

static void do_poll(void *arg)
{
    struct poll_call *c = arg;
    c->s = publish_poll(c->p, err, sizeof err);
}

/* Lost and regained within the timeout: the unconfirmed messages are
 * published again, in order, on the new connection, with new tags (a
 * return on the old connection forgotten), and
 * the user is told as before (the same two sentences), and the
 * reconnection is counted. The publisher
 * reconnects with its own copies of the settings and the name, whatever
 * became of the caller's. */
static void test_reconnect_republish(void **state)
{
    (void)state;
    struct publisher *p;
    uint64_t reconnects = 0; /* scan's scanmove_broker_reconnects_total */
    {
        char name[32];
        struct cfg mine = cfg;
        snprintf(name, sizeof name, "scan@copy[7]");
        snprintf(mine.exchange, sizeof mine.exchange, "ex1");
        struct publish_opts o = {.cfg = &mine,
                                 .conn_name = name,
                                 .window = 8,
                                 .reconnect_timeout_ms = 1500, /* two attempts */
                                 .blocked_timeout_ms = 1000,
                                 .done = on_done,
                                 .reconnects = &reconnects};
        assert_int_equal(publish_open(&o, &p, err, sizeof err), MQ_OK);
        memset(name, 'x', sizeof name - 1);
        memset(&mine, 'y', sizeof mine);
    }
    for (int i = 1; i <= 3; i++)
        assert_int_equal(send_msg(p, i), MQ_OK);
    script(MQ_EVENT_ACK, 1, 0, NULL);
    script(MQ_EVENT_RETURN, 0, 0, "m3");
    script_loss();
    fake.connect_result[0] = MQ_ERR_UNREACHABLE; /* the first attempt fails */
    char text[1024];
    struct poll_call c = {.p = p};
    capture_stderr(do_poll, &c, text, sizeof text);
    assert_int_equal(c.s, MQ_OK);
    assert_int_equal(fake.connects, 3);
    assert_int_equal(reconnects, 1); /* one connection made again, in two attempts */
    assert_string_equal(fake.conn_name, "scan@copy[7]");
    assert_string_equal(fake.exchange, "ex1");
    assert_non_null(strstr(text, ": fake connection lost; reconnecting\n"));
    assert_non_null(strstr(text, ": fake connect 2 failed; reconnecting\n"));
    assert_non_null(
        strstr(text, ": reconnected to amqp://fake/; published 2 unconfirmed messages again\n"));
    assert_int_equal(fake.n_pub, 5);
    assert_string_equal(fake.pub[3].id, "m2");
    assert_int_equal(fake.pub[3].seq, 1);
    assert_int_equal(fake.pub[3].generation, 3);
    assert_string_equal(fake.pub[4].id, "m3");
    assert_int_equal(fake.pub[4].seq, 2);
    assert_int_equal(seen.n_done, 1);
    script(MQ_EVENT_ACK, 2, 1, NULL); /* the new tags */
    assert_int_equal(publish_flush(p, err, sizeof err), MQ_OK);
    assert_int_equal(seen.n_done, 3);
    assert_done(1, 2, SCAN_REASON_NONE);
    assert_done(2, 3, SCAN_REASON_NONE);
    publish_close(p);
}

/* Reconnecting meets a failure that retrying cannot mend: no more
 * attempts, that status and its sentence, everything unconfirmed. */
static void test_reconnect_final(void **state)
{
    (void)state;
    struct publisher *p = open_with(8, 100, 1000);
    assert_int_equal(send_msg(p, 1), MQ_OK);
    script_loss();
    fake.connect_result[0] = MQ_ERR_AUTH;
    log_set_level(LOG_LEVEL_QUIET);
    assert_int_equal(publish_poll(p, err, sizeof err), MQ_ERR_AUTH);
    log_set_level(LOG_LEVEL_WARN);
    assert_string_equal(err, "fake connect 2 failed");
    assert_int_equal(fake.connects, 2);
    assert_done(0, 1, SCAN_REASON_UNCONFIRMED);
    publish_close(p);
}

/* Not regained in time: the last attempt is made at the deadline, then
 * the loss is final (MQ_ERR_CLOSED) with the last attempt's sentence. */
static void test_reconnect_timeout(void **state)
{
    (void)state;
    struct publisher *p = open_with(8, 150, 1000);
    assert_int_equal(send_msg(p, 1), MQ_OK);
    assert_int_equal(send_msg(p, 2), MQ_OK);
    script_loss();
    for (int i = 0; i < MAX_SCRIPT; i++)
        fake.connect_result[i] = MQ_ERR_UNREACHABLE;
    log_set_level(LOG_LEVEL_QUIET);
    assert_int_equal(publish_flush(p, err, sizeof err), MQ_ERR_CLOSED);
    log_set_level(LOG_LEVEL_WARN);
    assert_int_equal(fake.connects, 2); /* one wait of 0.15 s, one attempt */
    assert_string_equal(err, "fake connect 2 failed");
    assert_int_equal(seen.n_done, 2);
    assert_done(1, 2, SCAN_REASON_UNCONFIRMED);
    publish_close(p);
}

static void unblock_on_second_tick(int tick)
{
    if (tick == 2)
        fake.blocked = 0;
}

/* A blocked broker holds publish_send until it unblocks, or fails it after
 * --blocked-timeout. */
static void test_blocked(void **state)
{
    (void)state;
    struct publisher *p = open_with(8, 0, 10000);
    fake.blocked = 1;
    seen.on_tick = unblock_on_second_tick;
    log_set_level(LOG_LEVEL_QUIET);
    assert_int_equal(send_msg(p, 1), MQ_OK);
    assert_int_equal(seen.ticks, 2);
    assert_int_equal(fake.n_pub, 1);
    publish_close(p);

    p = open_with(8, 0, 0);
    fake.blocked = 1;
    assert_int_equal(send_msg(p, 2), MQ_ERR_BLOCKED);
    log_set_level(LOG_LEVEL_WARN);
    assert_string_equal(err, "broker blocked publishing for longer than 0 s: low on disk");
    assert_done(0, 2, SCAN_REASON_UNCONFIRMED);
    publish_close(p);
}

/* Seconds on the monotonic clock. */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A nacked message is published again after a short wait, with the same
 * id and a new tag, and reported once, in publish order, when that one is
 * acked: the tags in the window are then out of order (an ack for a later
 * message with a lower tag still finds its message). A returned message that is nacked is not
 * tried again. */
static void test_nack_retry(void **state)
{
    (void)state;
    struct publisher *p = open_with(8, 5000, 1000);
    fake.sleep_idle = 1;
    for (int i = 1; i <= 4; i++)
        assert_int_equal(send_msg(p, i), MQ_OK);
    script(MQ_EVENT_NACK, 1, 0, NULL);
    script(MQ_EVENT_RETURN, 0, 0, "m4");
    script(MQ_EVENT_NACK, 4, 0, NULL);
    assert_int_equal(publish_poll(p, err, sizeof err), MQ_OK);
    assert_int_equal(seen.n_done, 0); /* m1 waits for its retry, the others for m1 */
    assert_int_equal(fake.n_pub, 4);
    double t0 = now_s();
    fake.auto_ack_ids = "m1 ";
    script(MQ_EVENT_ACK, 2, 0, NULL);
    script(MQ_EVENT_ACK, 3, 0, NULL);
    assert_int_equal(publish_flush(p, err, sizeof err), MQ_OK);
    double took = now_s() - t0;
    assert_true(took >= 0.15 && took < 1.0); /* 0.25 s +- 20%, less the poll's time */
    assert_int_equal(fake.n_pub, 5);
    assert_string_equal(fake.pub[4].id, "m1");
    assert_int_equal(fake.pub[4].seq, 5);
    assert_int_equal(seen.n_done, 4);
    assert_done(0, 1, SCAN_REASON_NONE);
    assert_done(1, 2, SCAN_REASON_NONE);
    assert_done(2, 3, SCAN_REASON_NONE);
    assert_done(3, 4, SCAN_REASON_NACKED);

    /* Out of publish order: m6 is published again after m7. */
    for (int i = 5; i <= 7; i++)
        assert_int_equal(send_msg(p, i), MQ_OK);
    fake.auto_ack_ids = NULL;
    script(MQ_EVENT_NACK, 7, 0, NULL); /* m6 */
    assert_int_equal(publish_poll(p, err, sizeof err), MQ_OK);
    while (fake.n_pub < 9)
        assert_int_equal(publish_poll(p, err, sizeof err), MQ_OK);
    assert_string_equal(fake.pub[8].id, "m6");
    assert_int_equal(fake.pub[8].seq, 9);
    script(MQ_EVENT_ACK, 8, 0, NULL); /* m7, after m6's tag 9 in the window */
    script(MQ_EVENT_ACK, 6, 0, NULL); /* m5 */
    script(MQ_EVENT_ACK, 9, 0, NULL); /* m6 */
    assert_int_equal(publish_flush(p, err, sizeof err), MQ_OK);
    assert_int_equal(seen.n_done, 7);
    for (int i = 5; i <= 7; i++)
        assert_done((size_t)i - 1, i, SCAN_REASON_NONE);
    assert_int_equal(publish_unconfirmed(p), 0);
    publish_close(p);
}

/* A message nacked at every attempt: 5 publishes in all, then reported
 * nacked once; the messages after it wait for it, in order. */
static void test_nack_bound(void **state)
{
    (void)state;
    struct publisher *p = open_with(8, 60000, 1000);
    fake.sleep_idle = 1;
    snprintf(fake.nack_id, sizeof fake.nack_id, "m1");
    fake.auto_ack_ids = "m2 ";
    assert_int_equal(send_msg(p, 1), MQ_OK);
    assert_int_equal(send_msg(p, 2), MQ_OK);
    assert_int_equal(publish_flush(p, err, sizeof err), MQ_OK);
    size_t n1 = 0;
    for (size_t i = 0; i < fake.n_pub; i++)
        n1 += strcmp(fake.pub[i].id, "m1") == 0;
    assert_int_equal(n1, 5);
    assert_int_equal(fake.n_pub, 6);
    assert_int_equal(seen.n_done, 2);
    assert_done(0, 1, SCAN_REASON_NACKED);
    assert_done(1, 2, SCAN_REASON_NONE);
    publish_close(p);
}

/* The deadline (--reconnect-timeout from the first nack) ends the retries
 * before the bound: the last attempt at the deadline, none after. With a
 * timeout of 0 a nack is final at once (test_nack). */
static void test_nack_deadline(void **state)
{
    (void)state;
    struct publisher *p = open_with(8, 400, 1000);
    fake.sleep_idle = 1;
    snprintf(fake.nack_id, sizeof fake.nack_id, "m1");
    assert_int_equal(send_msg(p, 1), MQ_OK);
    double t0 = now_s();
    assert_int_equal(publish_flush(p, err, sizeof err), MQ_OK);
    double took = now_s() - t0;
    assert_true(took >= 0.39 && took < 1.0);
    assert_int_equal(fake.n_pub, 3); /* ~0.25 s, then at 0.4 s */
    assert_int_equal(seen.n_done, 1);
    assert_done(0, 1, SCAN_REASON_NACKED);
    publish_close(p);
}

/* The connection is lost while a nacked message waits for its retry: the
 * reconnection publishes the whole window again in order (the waiting one
 * too, at once), and the tags are in order again. */
static void test_nack_then_reconnect(void **state)
{
    (void)state;
    struct publisher *p = open_with(8, 5000, 1000);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(send_msg(p, i), MQ_OK);
    script(MQ_EVENT_NACK, 2, 0, NULL);
    script_loss();
    char text[1024];
    struct poll_call c = {.p = p};
    capture_stderr(do_poll, &c, text, sizeof text);
    assert_int_equal(c.s, MQ_OK);
    assert_int_equal(fake.n_pub, 6);
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "m%d", i + 1);
        assert_string_equal(fake.pub[3 + i].id, id);
        assert_int_equal(fake.pub[3 + i].seq, i + 1);
    }
    script(MQ_EVENT_ACK, 1, 0, NULL);
    script(MQ_EVENT_ACK, 3, 1, NULL);
    assert_int_equal(publish_flush(p, err, sizeof err), MQ_OK);
    assert_int_equal(fake.n_pub, 6); /* no retry after the reconnection */
    assert_int_equal(seen.n_done, 3);
    for (int i = 1; i <= 3; i++)
        assert_done((size_t)i - 1, i, SCAN_REASON_NONE);
    publish_close(p);
}

/* While the broker blocks publishing, a retry waits for it as a new
 * message would. */
static void test_nack_blocked(void **state)
{
    (void)state;
    struct publisher *p = open_with(8, 5000, 10000);
    assert_int_equal(send_msg(p, 1), MQ_OK);
    script(MQ_EVENT_NACK, 1, 0, NULL);
    assert_int_equal(publish_poll(p, err, sizeof err), MQ_OK);
    fake.blocked = 1;
    usleep(400 * 1000); /* past the first wait, 0.25 s +- 20% */
    assert_int_equal(publish_poll(p, err, sizeof err), MQ_OK);
    assert_int_equal(fake.n_pub, 1);
    fake.blocked = 0;
    assert_int_equal(publish_poll(p, err, sizeof err), MQ_OK);
    assert_int_equal(fake.n_pub, 2);
    assert_string_equal(fake.pub[1].id, "m1");
    script(MQ_EVENT_ACK, 2, 0, NULL);
    assert_int_equal(publish_flush(p, err, sizeof err), MQ_OK);
    assert_int_equal(seen.n_done, 1);
    assert_done(0, 1, SCAN_REASON_NONE);
    publish_close(p);
}

int main(void)
{
    log_init("test_publish", LOG_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_in_order, reset),
        cmocka_unit_test_setup(test_multiple_ack, reset),
        cmocka_unit_test_setup(test_nack, reset),
        cmocka_unit_test_setup(test_unroutable, reset),
        cmocka_unit_test_setup(test_window_full, reset),
        cmocka_unit_test_setup(test_lost_abandon, reset),
        cmocka_unit_test_setup(test_reconnect_republish, reset),
        cmocka_unit_test_setup(test_reconnect_final, reset),
        cmocka_unit_test_setup(test_reconnect_timeout, reset),
        cmocka_unit_test_setup(test_blocked, reset),
        cmocka_unit_test_setup(test_nack_retry, reset),
        cmocka_unit_test_setup(test_nack_bound, reset),
        cmocka_unit_test_setup(test_nack_deadline, reset),
        cmocka_unit_test_setup(test_nack_then_reconnect, reset),
        cmocka_unit_test_setup(test_nack_blocked, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
