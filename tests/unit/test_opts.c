/* test_opts.c - unit tests of number, size and duration parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "opts.h"

/* The digit reader under every parser: where it stops, and what it refuses. */
static void test_read_digits(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t n; /* bytes it may look at */
        int rc;
        uint64_t v;
        size_t used;
    } cases[] = {
        {"0", SIZE_MAX, 1, 0, 1},
        {"007", SIZE_MAX, 1, 7, 3}, /* leading zeros are the caller's business */
        {"42abc", SIZE_MAX, 1, 42, 2},
        {"42", 1, 1, 4, 1}, /* the bound wins over the NUL */
        {"18446744073709551615", SIZE_MAX, 1, UINT64_MAX, 20},
        {"000000000000000000000000018446744073709551615", SIZE_MAX, 1, UINT64_MAX, 45},
        {"18446744073709551616", SIZE_MAX, -1, 0, 0},
        {"99999999999999999999x", SIZE_MAX, -1, 0, 0},
        {"1844674407370955161x6", SIZE_MAX, 1, 1844674407370955161ULL, 19},
        {"", SIZE_MAX, 0, 0, 0},
        {"12", 0, 0, 0, 0},
        {"-1", SIZE_MAX, 0, 0, 0},
        {"+1", SIZE_MAX, 0, 0, 0},
        {" 1", SIZE_MAX, 0, 0, 0},
        {"x1", SIZE_MAX, 0, 0, 0},
        {"\xd9\xa1", SIZE_MAX, 0, 0, 0}, /* ARABIC-INDIC DIGIT ONE is not a digit here */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 12345;
        size_t used = 999;
        int rc = opts_read_digits(cases[i].in, cases[i].n, &v, &used);
        if (rc != cases[i].rc)
            print_error("case %zu: '%s'\n", i, cases[i].in);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 1) {
            assert_true(v == cases[i].v);
            assert_int_equal(used, cases[i].used);
        } else {
            /* Nothing is set unless a number was read. */
            assert_true(v == 12345);
            assert_int_equal(used, 999);
        }
    }
}

static void test_u64(void **state)
{
    (void)state;
    uint64_t v = 7;
    char err[256];
    assert_int_equal(opts_parse_u64("0", 0, 10, &v, err, sizeof err), 0);
    assert_int_equal(v, 0);
    assert_int_equal(opts_parse_u64("10", 0, 10, &v, err, sizeof err), 0);
    assert_int_equal(v, 10);
    assert_int_equal(opts_parse_u64("18446744073709551615", 0, UINT64_MAX, &v, err, sizeof err), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(opts_parse_u64("11", 0, 10, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(opts_parse_u64("0", 1, 10, &v, err, sizeof err), -1);
    assert_int_equal(opts_parse_u64("18446744073709551616", 0, UINT64_MAX, &v, err, sizeof err),
                     -1);
    static const char *const bad[] = {"", "-1", "+1", " 1", "1 ", "0x10", "1e3", "abc", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(opts_parse_u64(bad[i], 0, 100, &v, err, sizeof err), -1);
        assert_non_null(strstr(err, "not a whole number"));
    }
    /* A zero-length error buffer is allowed. */
    assert_int_equal(opts_parse_u64("x", 0, 1, &v, NULL, 0), -1);
}

static void test_size(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint64_t out;
    } good[] = {
        {"0", 0},
        {"512", 512},
        {"512B", 512},
        {"10K", 10240},
        {"10k", 10240},
        {"10KiB", 10240},
        {"10KB", 10240},
        {"5M", 5242880},
        {"1G", 1073741824},
        {"2T", 2199023255552ULL},
        {"16777215T", 16777215ULL << 40},
    };
    uint64_t v;
    char err[256];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(opts_parse_size(good[i].in, &v, err, sizeof err), 0);
        assert_true(v == good[i].out);
    }
    static const char *const bad[] = {"", "K", "10X", "10 K", "-1K", "1.5M", "10Ki", "10iB", "1KK"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(opts_parse_size(bad[i], &v, err, sizeof err), -1);
        assert_non_null(strstr(err, "not a size"));
    }
    assert_int_equal(opts_parse_size("16777216T", &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "too large"));
    assert_int_equal(opts_parse_size("99999999999999999999", &v, err, sizeof err), -1);
}

static void test_duration(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint64_t ms;
    } good[] = {
        {"0", 0},        {"30", 30000},    {"30s", 30000},     {"250ms", 250},   {"5m", 300000},
        {"2h", 7200000}, {"1d", 86400000}, {"1h30m", 5400000}, {"1m30s", 90000}, {"0s", 0},
    };
    uint64_t v;
    char err[256];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(opts_parse_duration(good[i].in, &v, err, sizeof err), 0);
        assert_true(v == good[i].ms);
    }
    static const char *const bad[] = {"", "s", "5x", "5 s", "-5s", "1.5h", "5sm", "1h30", "m5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(opts_parse_duration(bad[i], &v, err, sizeof err), -1);
        assert_non_null(strstr(err, "not a duration"));
    }
    assert_int_equal(opts_parse_duration("999999999999999999d", &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "too long"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_digits),
        cmocka_unit_test(test_u64),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
