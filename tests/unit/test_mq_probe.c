/* test_mq_probe.c - unit tests of telling what answered on a broker's port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "mq_priv.h"

static struct mq_peer peer(const void *bytes, size_t n)
{
    struct mq_peer p;
    memset(&p, 0, sizeof p);
    memcpy(p.head, bytes, n);
    p.n = n;
    mq_priv_classify(&p);
    return p;
}

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(peer("HTTP/1.0", 8).kind, MQ_PEER_HTTP);
    assert_int_equal(peer("\x15\x03\x03\x00\x02\x02\x46", 7).kind, MQ_PEER_TLS);
    assert_int_equal(peer("\x16\x03\x03\x00\x54\x02\x00\x00", 8).kind, MQ_PEER_TLS);
    assert_int_equal(peer("AMQP\x00\x01\x00\x00", 8).kind, MQ_PEER_AMQP_OTHER);
    assert_int_equal(peer("\x01\x00\x00\x00\x00\x01\xfc\x00", 8).kind, MQ_PEER_AMQP);
    assert_int_equal(peer("\x00\xffgarba", 8).kind, MQ_PEER_OTHER);
    assert_int_equal(peer("HTT", 3).kind, MQ_PEER_OTHER);
    assert_int_equal(peer("\x16", 1).kind, MQ_PEER_OTHER);
}

/* Each finding is one sentence; what cannot get better by itself is final. */
static void test_why(void **state)
{
    (void)state;
    char why[256];
    struct mq_peer p = peer("HTTP/1.0", 8);
    assert_int_equal(mq_priv_peer_why(&p, why, sizeof why), MQ_ERR_NOT_AMQP);
    assert_non_null(strstr(why, "an HTTP server answered"));
    p = peer("\x15\x03\x01\x00\x02", 5);
    assert_int_equal(mq_priv_peer_why(&p, why, sizeof why), MQ_ERR_NOT_AMQP);
    assert_non_null(strstr(why, "a TLS server answered (use amqps://"));
    p = peer("AMQP\x00\x01\x00\x00", 8);
    assert_int_equal(mq_priv_peer_why(&p, why, sizeof why), MQ_ERR_NOT_AMQP);
    assert_non_null(strstr(why, "another version of AMQP (its protocol header is AMQP 0.1.0.0"));
    p = peer("AMQP\x00\x00\x09\x01", 8);
    assert_int_equal(mq_priv_peer_why(&p, why, sizeof why), MQ_ERR_UNREACHABLE);
    p = peer("\x01\x00\x00\x00", 4);
    assert_int_equal(mq_priv_peer_why(&p, why, sizeof why), MQ_ERR_UNREACHABLE);
    p = peer("\x00\xff\x1b[2Jx", 8);
    assert_int_equal(mq_priv_peer_why(&p, why, sizeof why), MQ_ERR_NOT_AMQP);
    /* Untrusted bytes are shown in hex, never as they are. */
    assert_non_null(strstr(why, "its first bytes: 00 ff 1b 5b 32 4a ..."));
    assert_null(strchr(why, '\x1b'));

    memset(&p, 0, sizeof p);
    p.kind = MQ_PEER_SILENT;
    assert_int_equal(mq_priv_peer_why(&p, why, sizeof why), MQ_ERR_UNREACHABLE);
    assert_non_null(strstr(why, "accepted the connection but never answered"));
    p.kind = MQ_PEER_CLOSED;
    assert_int_equal(mq_priv_peer_why(&p, why, sizeof why), MQ_ERR_UNREACHABLE);
    assert_non_null(strstr(why, "dropped during the AMQP handshake"));
    for (enum mq_peer_kind k = MQ_PEER_NONE; k <= MQ_PEER_OTHER; k++) {
        p.kind = k;
        p.n = 8;
        mq_priv_peer_why(&p, why, sizeof why);
        assert_null(strchr(why, '\n'));
        assert_null(strstr(why, "password"));
    }
}

/* The statuses the reconnection loops retry, and their exit codes. */
static void test_transient(void **state)
{
    (void)state;
    assert_true(mq_transient(MQ_ERR_UNREACHABLE));
    assert_true(mq_transient(MQ_ERR_CLOSED));
    static const enum mq_status final[] = {MQ_OK,           MQ_ERR_CONFIG,  MQ_ERR_TLS,
                                           MQ_ERR_NOT_AMQP, MQ_ERR_AUTH,    MQ_ERR_ACCESS,
                                           MQ_ERR_TOPOLOGY, MQ_ERR_BLOCKED, MQ_ERR_PROTOCOL};
    for (size_t i = 0; i < sizeof final / sizeof final[0]; i++)
        assert_false(mq_transient(final[i]));
    assert_int_equal(mq_exitcode(MQ_ERR_TLS), 69);
    assert_int_equal(mq_exitcode(MQ_ERR_NOT_AMQP), 69);
    assert_int_equal(mq_exitcode(MQ_ERR_AUTH), 77);
    assert_int_equal(mq_exitcode(MQ_ERR_ACCESS), 77);
    assert_int_equal(mq_exitcode(MQ_ERR_CONFIG), 78);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_why),
        cmocka_unit_test(test_transient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
