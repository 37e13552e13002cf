/* test_base64.c - unit tests of base64 encoding and strict decoding (common/base64.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "base64.h"

/* RFC 4648, section 10, plus bytes that are not text. */
static const struct {
    const char *bytes;
    size_t len;
    const char *text;
} vectors[] = {
    {"", 0, ""},
    {"f", 1, "Zg=="},
    {"fo", 2, "Zm8="},
    {"foo", 3, "Zm9v"},
    {"foob", 4, "Zm9vYg=="},
    {"fooba", 5, "Zm9vYmE="},
    {"foobar", 6, "Zm9vYmFy"},
    {"dir/\xff\xfe", 6, "ZGlyL//+"},
    {"\0", 1, "AA=="},
    {"a\0b", 3, "YQBi"},
    {"caf\xe9.txt", 8, "Y2Fm6S50eHQ="},
    {"\xfb\xff", 2, "+/8="},
};

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        char text[64], bytes[64];
        size_t n = 99;
        base64_encode(vectors[i].bytes, vectors[i].len, text);
        assert_string_equal(text, vectors[i].text);
        assert_int_equal(strlen(text), BASE64_LEN(vectors[i].len));
        assert_int_equal(base64_decode(text, strlen(text), bytes, sizeof bytes, &n), 0);
        assert_int_equal(n, vectors[i].len);
        assert_memory_equal(bytes, vectors[i].bytes, n);
    }
}

/* Every encoding but the one base64_encode writes is refused. */
static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t len; /* 0: strlen */
    } bad[] = {
        {"YQ=", 0},      {"YQ", 0},    {"Y", 0},       {"Y===", 0}, {"====", 0}, {"Y!==", 0},
        {"YQ==YQ==", 0}, {"Y=Q=", 0},  {"=YQ=", 0},    {"YR==", 0}, /* unused bits set */
        {"YWJ=", 0},                                                /* unused bits set */
        {"YWJj\n", 0},   {"YW Jj", 0}, {" YWJj", 0},   {"YW-_", 0}, /* the URL-safe alphabet */
        {"YWJ\0", 4},    {"Zm9v=", 0}, {"Zm9vYg=", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[64];
        size_t n = 99, len = bad[i].len != 0 ? bad[i].len : strlen(bad[i].text);
        if (base64_decode(bad[i].text, len, out, sizeof out, &n) != -1)
            print_error("case %zu: '%s'\n", i, bad[i].text);
        assert_int_equal(base64_decode(bad[i].text, len, out, sizeof out, &n), -1);
        assert_int_equal(n, 99);
    }
}

/* The room is checked before anything else, and exactly. */
static void test_cap(void **state)
{
    (void)state;
    char out[8];
    size_t n = 0;
    memset(out, 'x', sizeof out);
    assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 5, &n), -2);
    assert_int_equal(out[0], 'x');
    assert_int_equal(base64_decode("Zm9v!!!!", 8, out, 3, &n),
                     -2); /* malformed, but too long first */
    assert_int_equal(base64_decode("Zm9vYmE=", 8, out, 5, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(base64_decode("Zm9vYg==", 8, out, 4, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(base64_decode("", 0, NULL, 0, &n), 0);
    assert_int_equal(n, 0);
}

/* Round trips of every length up to 300 over all byte values. */
static void test_roundtrip(void **state)
{
    (void)state;
    unsigned char in[300], back[300];
    char text[BASE64_LEN(300) + 1];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 167 + 13);
    for (size_t n = 0; n <= sizeof in; n++) {
        size_t got = 0;
        memset(text, 'x', sizeof text);
        base64_encode(in, n, text);
        assert_int_equal(strlen(text), BASE64_LEN(n));
        assert_int_equal(base64_decode(text, strlen(text), back, n, &got), 0);
        assert_int_equal(got, n);
        assert_memory_equal(back, in, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
