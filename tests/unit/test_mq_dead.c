/* test_mq_dead.c - unit tests of reading a dead letter's history from its headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "mq_priv.h"

/* Properties with the n headers h (none when n is 0) and timestamp ts (none when 0). */
static amqp_basic_properties_t props(amqp_table_entry_t *h, int n, uint64_t ts)
{
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof p);
    if (n > 0) {
        p._flags |= AMQP_BASIC_HEADERS_FLAG;
        p.headers.entries = h;
        p.headers.num_entries = n;
    }
    if (ts > 0) {
        p._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
        p.timestamp = ts;
    }
    return p;
}

static void test_none(void **state)
{
    (void)state;
    struct mq_dead_info di;
    amqp_basic_properties_t p = props(NULL, 0, 1700000000); /* as scan publishes */
    mq_priv_dead_info(&p, &di);
    assert_string_equal(di.reason, "");
    assert_string_equal(di.error, "");
    assert_true(di.first == 0 && di.last == 0 && di.count == 0);
}

/* The mover's letter: its reason, error, first time and count; last is the timestamp. */
static void test_ours(void **state)
{
    (void)state;
    struct mq_dead_info di;
    amqp_table_entry_t h[4];
    mq_priv_arg_str(&h[0], "x-scanmove-reason", "changed");
    mq_priv_arg_str(&h[1], "x-scanmove-error", "the file changed");
    mq_priv_arg_i64(&h[2], "x-scanmove-first-dead", 1700000000);
    mq_priv_arg_i64(&h[3], "x-scanmove-dead-count", 3);
    amqp_basic_properties_t p = props(h, 4, 1700000500);
    mq_priv_dead_info(&p, &di);
    assert_string_equal(di.reason, "changed");
    assert_string_equal(di.error, "the file changed");
    assert_true(di.first == 1700000000 && di.last == 1700000500 && di.count == 3);

    /* A letter of a mover older than the history headers: once, then. */
    p = props(h, 2, 0);
    mq_priv_dead_info(&p, &di);
    assert_true(di.first == 0 && di.last == 0 && di.count == 1);
    p = props(h, 2, 1700000500);
    mq_priv_dead_info(&p, &di);
    assert_true(di.first == 1700000500 && di.last == 1700000500 && di.count == 1);

    /* A requeued message: history, no reason; a wrong type is ignored. */
    h[1].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    p = props(&h[1], 3, 1700000900);
    mq_priv_dead_info(&p, &di);
    assert_string_equal(di.reason, "");
    assert_string_equal(di.error, "");
    assert_true(di.first == 1700000000 && di.last == 0 && di.count == 3);
}

/* The broker's letter: reason and times from x-death, counts added up. */
static void test_broker(void **state)
{
    (void)state;
    struct mq_dead_info di;
    amqp_table_entry_t e[2][4];
    amqp_field_value_t deaths[2];
    for (int i = 0; i < 2; i++) {
        mq_priv_arg_i64(&e[i][0], "count", i == 0 ? 1 : 2);
        mq_priv_arg_str(&e[i][1], "reason", i == 0 ? "delivery_limit" : "rejected");
        mq_priv_arg_str(&e[i][2], "queue", i == 0 ? "files" : "other");
        e[i][3].key = amqp_cstring_bytes("time");
        e[i][3].value.kind = AMQP_FIELD_KIND_TIMESTAMP;
        e[i][3].value.value.u64 = i == 0 ? 1700000900 : 1700000100;
        deaths[i].kind = AMQP_FIELD_KIND_TABLE;
        deaths[i].value.table.num_entries = 4;
        deaths[i].value.table.entries = e[i];
    }
    amqp_table_entry_t h[3];
    h[0].key = amqp_cstring_bytes("x-death");
    h[0].value.kind = AMQP_FIELD_KIND_ARRAY;
    h[0].value.value.array.num_entries = 2;
    h[0].value.value.array.entries = deaths;
    amqp_basic_properties_t p = props(h, 1, 0);
    mq_priv_dead_info(&p, &di);
    assert_string_equal(di.reason, "delivery-limit");
    assert_string_equal(di.error,
                        "the broker dead-lettered it from queue 'files' (delivery_limit)");
    assert_true(di.first == 1700000100 && di.last == 1700000900 && di.count == 3);

    /* Requeued with its history before: the counts add up, the first time stays. */
    mq_priv_arg_i64(&h[1], "x-scanmove-first-dead", 1600000000);
    mq_priv_arg_i64(&h[2], "x-scanmove-dead-count", 2);
    p = props(h, 3, 1650000000);
    mq_priv_dead_info(&p, &di);
    assert_string_equal(di.reason, "delivery-limit");
    assert_true(di.first == 1600000000 && di.last == 1700000900 && di.count == 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_ours),
        cmocka_unit_test(test_broker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
