/* test_decimal.c - unit tests of the message format's decimal strings (common/decimal.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "decimal.h"

static void test_u64(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        uint64_t v;
    } cases[] = {
        {"0", 0, 0},
        {"42", 0, 42},
        {"18446744073709551615", 0, UINT64_MAX},
        {"", -1, 0},
        {"042", -1, 0},
        {"00", -1, 0},
        {"-1", -1, 0},
        {"+1", -1, 0},
        {" 1", -1, 0},
        {"1 ", -1, 0},
        {"1e3", -1, 0},
        {"0x10", -1, 0},
        {"18446744073709551616", -2, 0},
        {"184467440737095516150", -2, 0},
        {"99999999999999999999x", -2, 0}, /* overflow comes first, reading from the left */
        {"1x9999999999999999999999", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 7;
        int rc = decimal_parse_u64(cases[i].text, strlen(cases[i].text), &v);
        if (rc != cases[i].rc)
            print_error("'%s' gave %d\n", cases[i].text, rc);
        assert_int_equal(rc, cases[i].rc);
        assert_true(v == (rc == 0 ? cases[i].v : 7));
    }
    /* Only n bytes count. */
    uint64_t v = 0;
    assert_int_equal(decimal_parse_u64("123", 2, &v), 0);
    assert_true(v == 12);
}

/* struct timespec values and their text, both ways (the docs' table and the edges). */
static const struct {
    int64_t sec;
    uint32_t nsec;
    const char *text;
} times[] = {
    {1764072000, 250000000, "1764072000.250000000"},
    {0, 0, "0.000000000"},
    {0, 1, "0.000000001"},
    {-5, 0, "-5.000000000"},
    {-1, 500000000, "-0.500000000"},
    {-1, 999999999, "-0.000000001"},
    {-2, 1, "-1.999999999"},
    {INT64_MIN, 0, "-9223372036854775808.000000000"},
    {INT64_MIN, 1, "-9223372036854775807.999999999"},
    {INT64_MAX, 999999999, "9223372036854775807.999999999"},
};

static void test_time(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        char out[DECIMAL_TIME_MAX];
        int64_t sec = 7;
        uint32_t nsec = 7;
        decimal_format_time(times[i].sec, times[i].nsec, out, sizeof out);
        assert_string_equal(out, times[i].text);
        assert_int_equal(decimal_parse_time(times[i].text, &sec, &nsec), 0);
        assert_true(sec == times[i].sec);
        assert_int_equal(nsec, times[i].nsec);
    }
}

static void test_time_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "1",
        "1.5",
        "1.1234567890",
        "1.12345678x",
        "1.12345678",
        ".000000000",
        "-.000000000",
        "01.000000000",
        "+1.000000000",
        "--1.000000000",
        " 1.000000000",
        "1,000000000",
        "1.000000000.0",
        "1.-00000000",
        "-0.000000000",
        "9223372036854775808.000000000",
        "-9223372036854775808.000000001",
        "-9223372036854775809.000000000",
        "99999999999999999999999.000000000",
        "",
        "-",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t sec = 7;
        uint32_t nsec = 7;
        if (decimal_parse_time(bad[i], &sec, &nsec) != -1)
            print_error("accepted '%s'\n", bad[i]);
        assert_int_equal(decimal_parse_time(bad[i], &sec, &nsec), -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_time_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
