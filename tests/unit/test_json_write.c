/* test_json_write.c - unit tests of the cJSON-free object writer (common/json_write.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "json_write.h"

/* One string member, escaped as cJSON 1.7 prints it. */
static const struct {
    const char *in;
    size_t len; /* 0: strlen */
    const char *out;
} strings[] = {
    {"", 0, "{\"k\":\"\"}"},
    {"plain / text", 0, "{\"k\":\"plain / text\"}"},
    {"q\"b\\", 0, "{\"k\":\"q\\\"b\\\\\"}"},
    {"\b\f\n\r\t", 0, "{\"k\":\"\\b\\f\\n\\r\\t\"}"},
    {"\x01\x1f\x7f", 0, "{\"k\":\"\\u0001\\u001f\x7f\"}"}, /* DEL goes as it is */
    {"caf\xc3\xa9", 0, "{\"k\":\"caf\xc3\xa9\"}"},
    {"\xff", 0, "{\"k\":\"\xff\"}"}, /* json_write_string does not judge bytes */
    {"ab\0cd", 5, "{\"k\":\"ab\"}"}, /* like cJSON's C strings, it stops at a NUL */
    {"abcd", 2, "{\"k\":\"ab\"}"},
};

static void test_strings(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        char buf[128];
        size_t len = 0;
        struct json_write w;
        json_write_init(&w, buf, sizeof buf);
        json_write_open(&w);
        json_write_key(&w, "k");
        json_write_string(&w, strings[i].in,
                          strings[i].len != 0 ? strings[i].len : strlen(strings[i].in));
        json_write_close(&w);
        assert_int_equal(json_write_finish(&w, &len), 0);
        assert_string_equal(buf, strings[i].out);
        assert_int_equal(len, strlen(strings[i].out));
    }
}

static void test_members(void **state)
{
    (void)state;
    char buf[256];
    size_t len;
    struct json_write w;
    json_write_init(&w, buf, sizeof buf);
    json_write_open(&w);
    json_write_bytes(&w, "p", "p_b64", "caf\xc3\xa9", 5);
    json_write_bytes(&w, "q", "q_b64", "caf\xe9", 4);
    json_write_bytes(&w, "e", "e_b64", "", 0);
    json_write_bytes(&w, "z", "z_b64", "a\0b", 3); /* valid UTF-8, so a string, cut at the NUL */
    json_write_key(&w, "t");
    json_write_raw(&w, "true");
    json_write_close(&w);
    assert_int_equal(json_write_finish(&w, &len), 0);
    assert_string_equal(
        buf, "{\"p\":\"caf\xc3\xa9\",\"q_b64\":\"Y2Fm6Q==\",\"e\":\"\",\"z\":\"a\",\"t\":true}");
    json_write_init(&w, buf, sizeof buf);
    json_write_open(&w);
    json_write_close(&w);
    assert_int_equal(json_write_finish(&w, &len), 0);
    assert_string_equal(buf, "{}");
}

/* base64 written in slices is the base64 of the whole, at every length around a slice. */
static void test_bytes_slices(void **state)
{
    (void)state;
    unsigned char in[200];
    char buf[512], want[512], b64[BASE64_LEN(200) + 1];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(0x80 + i % 64); /* continuation bytes: never UTF-8 */
    for (size_t n = 1; n <= sizeof in; n++) {
        struct json_write w;
        size_t len;
        json_write_init(&w, buf, sizeof buf);
        json_write_open(&w);
        json_write_bytes(&w, "k", "k_b64", in, n);
        json_write_close(&w);
        assert_int_equal(json_write_finish(&w, &len), 0);
        base64_encode(in, n, b64);
        snprintf(want, sizeof want, "{\"k_b64\":\"%s\"}", b64);
        assert_string_equal(buf, want);
    }
}

/* Too small a buffer: -1 and "", never an overrun; an exact fit works. */
static void test_room(void **state)
{
    (void)state;
    const char *want = "{\"k\":\"a\\nb\"}";
    size_t need = strlen(want) + 1;
    for (size_t cap = 0; cap <= need + 1; cap++) {
        char buf[32];
        size_t len = 99;
        struct json_write w;
        memset(buf, 'x', sizeof buf);
        json_write_init(&w, buf, cap);
        json_write_open(&w);
        json_write_key(&w, "k");
        json_write_string(&w, "a\nb", 3);
        json_write_close(&w);
        int rc = json_write_finish(&w, &len);
        assert_int_equal(buf[cap], 'x'); /* nothing written past cap */
        if (cap < need) {
            assert_int_equal(rc, -1);
            assert_int_equal(len, 99);
            if (cap > 0)
                assert_string_equal(buf, "");
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(buf, want);
            assert_int_equal(len, need - 1);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_bytes_slices),
        cmocka_unit_test(test_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
