/* test_json_strict.c - unit tests of the strict RFC 8259 check (common/json_strict.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "json_strict.h"

static const char *const good[] = {
    "{}",
    "[]",
    "0",
    "-0",
    "1.5e+3",
    "-12.25E-2",
    "1e400", /* syntax only: the range is the schema's business */
    "\"x\"",
    "true",
    "false",
    "null",
    " \t\r\n{\"a\":[1,{\"b\":null},[],{}],\"c\":\"\"} \n",
    "\"\\u00e9\\ud83d\\ude00 \\/ \\\\ \\\" \\b\\f\\n\\r\\t\"",
    "\"\\ud800\"",       /* a lone surrogate escape is syntax; cJSON refuses it later */
    "\"caf\xc3\xa9\"",   /* bytes of strings are not checked here */
    "{\"a\":1,\"a\":2}", /* duplicates are the schema's business */
};

/* Not JSON, and the offset of the defect. */
static const struct {
    const char *text;
    size_t at;
} bad[] = {
    {"", 0},           {" ", 1},
    {"{", 1},          {"[1,]", 3},
    {"[1 2]", 3},      {"{\"v\":1,}", 7},
    {"{'v':1}", 1},    {"{\"a\" 1}", 5},
    {"{\"a\":}", 5},   {"{1:2}", 1},
    {"+1", 0},         {"01", 1}, /* a zero, then something after the value */
    {"0100644", 1},    {"0.", 0},
    {".5", 0},         {"1e", 0},
    {"1e+", 0},        {"-", 0},
    {"NaN", 0},        {"tru", 0},
    {"nul", 0},        {"True", 0},
    {"\"abc", 0},      {"\"a\x01\"", 0}, /* a raw control character */
    {"\"a\tb\"", 0},   {"\"\\x41\"", 0},
    {"\"\\u12\"", 0},  {"\"\\u12g4\"", 0},
    {"\"\\", 0},       {"\xef\xbb\xbf{}", 0}, /* a byte order mark */
    {"{}{}", 2},       {"{} x", 3},
    {"[}", 1},         {"{]", 1},
    {"/* c */ {}", 0},
};

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t at = 999;
        if (!json_strict_check(good[i], strlen(good[i]), &at))
            print_error("refused '%s' at %zu\n", good[i], at);
        assert_true(json_strict_check(good[i], strlen(good[i]), &at));
    }
}

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t at = 999;
        int ok = json_strict_check(bad[i].text, strlen(bad[i].text), &at);
        if (ok || at != bad[i].at)
            print_error("'%s': ok %d at %zu\n", bad[i].text, ok, at);
        assert_false(ok);
        assert_int_equal(at, bad[i].at);
    }
    size_t at = 999;
    assert_false(json_strict_check(NULL, 0, &at));
    assert_int_equal(at, 0);
}

/* Only n bytes are read: a text cut anywhere is refused, not overrun (ASan checks). */
static void test_length_not_nul(void **state)
{
    (void)state;
    const char *text = "{\"a\":[1,{\"b\":\"x\\u00e9\"}],\"c\":true}";
    size_t n = strlen(text);
    for (size_t cut = 0; cut < n; cut++) {
        char *copy = malloc(cut + 1);
        size_t at = 999;
        assert_non_null(copy);
        memcpy(copy, text, cut);
        assert_false(json_strict_check(copy, cut, &at));
        assert_true(at <= cut);
        free(copy);
    }
    size_t at;
    assert_true(json_strict_check(text, n, &at));
}

static void test_depth(void **state)
{
    (void)state;
    size_t max = JSON_STRICT_MAX_DEPTH;
    char *deep = malloc(2 * (max + 1));
    size_t at;
    assert_non_null(deep);
    memset(deep, '[', max);
    memset(deep + max, ']', max);
    assert_true(json_strict_check(deep, 2 * max, &at));
    memset(deep, '[', max + 1);
    memset(deep + max + 1, ']', max + 1);
    assert_false(json_strict_check(deep, 2 * (max + 1), &at));
    assert_int_equal(at, max);
    free(deep);
}

static void test_nul_escape(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int found;
    } cases[] = {
        {"{\"path\":\"a\\u0000b\"}", 1},
        {"{\"x\\u0000y\":1}", 1}, /* in a key */
        {"\"a\\\\\\u0000\"", 1},  /* a backslash, then the escape */
        {"\"a\\\\u0000\"", 0},    /* a backslash, then "u0000" */
        {"\"\\u00000\"", 1},
        {"\"\\u0001\"", 0},
        {"\"\\U0000\"", 0},
        {"\\u0000", 0}, /* outside any string */
        {"\"a\" \\u0000 \"b\"", 0},
        {"\"\\u000", 0}, /* cut short */
        {"\"\\", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (json_strict_nul_escape(cases[i].text, strlen(cases[i].text)) != cases[i].found)
            print_error("case %zu: %s\n", i, cases[i].text);
        assert_int_equal(json_strict_nul_escape(cases[i].text, strlen(cases[i].text)),
                         cases[i].found);
    }
    /* The length counts, not the NUL: the escape beyond n is not seen. */
    assert_int_equal(json_strict_nul_escape("\"\\u0000\"", 6), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),           cmocka_unit_test(test_bad),
        cmocka_unit_test(test_length_not_nul), cmocka_unit_test(test_depth),
        cmocka_unit_test(test_nul_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
