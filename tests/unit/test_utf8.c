/* test_utf8.c - unit tests of strict UTF-8 validation (common/utf8.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "utf8.h"

static const struct {
    const char *bytes;
    size_t len; /* 0: strlen */
    int valid;
} cases[] = {
    {"", 0, 1},
    {"plain ASCII, with / and \x7f", 0, 1},
    {"a\0b", 3, 1},             /* U+0000 is UTF-8; callers refuse NULs themselves */
    {"\xc2\x80", 0, 1},         /* U+0080, the first two-byte value */
    {"\xdf\xbf", 0, 1},         /* U+07FF */
    {"\xe0\xa0\x80", 0, 1},     /* U+0800, the first three-byte value */
    {"\xed\x9f\xbf", 0, 1},     /* U+D7FF, just below the surrogates */
    {"\xee\x80\x80", 0, 1},     /* U+E000, just above them */
    {"\xef\xbf\xbf", 0, 1},     /* U+FFFF */
    {"\xf0\x90\x80\x80", 0, 1}, /* U+10000, the first four-byte value */
    {"\xf4\x8f\xbf\xbf", 0, 1}, /* U+10FFFF, the last */
    {"caf\xc3\xa9 \xf0\x9f\x98\x80", 0, 1},
    {"\x80", 0, 0}, /* a continuation byte alone */
    {"\xbf", 0, 0},
    {"\xc0\xaf", 0, 0},             /* overlong '/' */
    {"\xc1\xbf", 0, 0},             /* overlong */
    {"\xe0\x80\xaf", 0, 0},         /* overlong '/' */
    {"\xe0\x9f\xbf", 0, 0},         /* overlong U+07FF */
    {"\xf0\x80\x80\xaf", 0, 0},     /* overlong '/' */
    {"\xf0\x8f\xbf\xbf", 0, 0},     /* overlong U+FFFF */
    {"\xed\xa0\x80", 0, 0},         /* surrogate U+D800 */
    {"\xed\xbf\xbf", 0, 0},         /* surrogate U+DFFF */
    {"\xf4\x90\x80\x80", 0, 0},     /* U+110000 */
    {"\xf5\x80\x80\x80", 0, 0},     /* lead bytes F5..FF never occur */
    {"\xf8\x88\x80\x80\x80", 0, 0}, /* the old five-byte form */
    {"\xfe", 0, 0},
    {"\xff", 0, 0},
    {"caf\xc3", 0, 0}, /* cut short by the end */
    {"\xe2\x82", 0, 0},
    {"\xf0\x9f\x98", 0, 0},
    {"\xc3\xa9", 1, 0}, /* cut short by the length, not the NUL */
    {"\xf0\x9f\x98\x80", 3, 0},
    {"\xc3\x28", 0, 0}, /* a continuation that is not one */
    {"\xe2\x28\xa1", 0, 0},
    {"\xe2\x82\x28", 0, 0},
    {"\xf0\x9f\x28\x80", 0, 0},
    {"\xf0\x9f\x98\x28", 0, 0},
    {"ok \xc3\xa9 then \xe9 Latin-1", 0, 0},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].len != 0 ? cases[i].len : strlen(cases[i].bytes);
        if (utf8_valid(cases[i].bytes, n) != cases[i].valid)
            print_error("case %zu\n", i);
        assert_int_equal(utf8_valid(cases[i].bytes, n), cases[i].valid);
    }
    assert_int_equal(utf8_valid(NULL, 0), 1);
}

/* Every two-byte lead with every second byte: only C2..DF with 80..BF pass. */
static void test_two_byte_space(void **state)
{
    (void)state;
    for (unsigned a = 0x80; a <= 0xff; a++) {
        for (unsigned b = 0; b <= 0xff; b++) {
            unsigned char s[2] = {(unsigned char)a, (unsigned char)b};
            int want = a >= 0xc2 && a <= 0xdf && b >= 0x80 && b <= 0xbf;
            assert_int_equal(utf8_valid(s, 2), want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_two_byte_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
