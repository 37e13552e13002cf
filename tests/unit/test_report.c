/* test_report.c - unit tests of the mover's report: file names escaped and shortened for log lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "report.h"

/* report_escape of the n bytes at s, into a buffer of outlen bytes. */
static const char *esc(const char *s, size_t n, size_t outlen)
{
    static char out[256];
    assert_true(outlen <= sizeof out);
    memset(out, 'Z', sizeof out);
    report_escape(out, outlen, s, n);
    return out;
}

static void test_escape_plain(void **state)
{
    (void)state;
    assert_string_equal(esc("a/b c.txt", 9, 64), "a/b c.txt");
    assert_string_equal(esc("caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80", 14, 64),
                        "caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80");
    assert_string_equal(esc("", 0, 64), "");
}

static void test_escape_odd(void **state)
{
    (void)state;
    assert_string_equal(esc("new\nline", 8, 64), "new\\nline");
    assert_string_equal(esc("\a\b\t\n\v\f\r", 7, 64), "\\a\\b\\t\\n\\v\\f\\r");
    assert_string_equal(esc("back\\slash", 10, 64), "back\\\\slash");
    assert_string_equal(esc("bad\xff", 4, 64), "bad\\377");
    assert_string_equal(esc("\x1b[31m", 5, 64), "\\033[31m");
    assert_string_equal(esc("del\x7f", 4, 64), "del\\177");
    /* C1 controls, though well-formed UTF-8: U+0085 (NEL), U+009B (CSI) */
    assert_string_equal(esc("\xc2\x85\xc2\x9b", 4, 64), "\\302\\205\\302\\233");
    assert_string_equal(esc("\xc2\xa0", 2, 64), "\xc2\xa0"); /* U+00A0 is printable */
    /* overlong, surrogate, cut short */
    assert_string_equal(esc("\xc0\xaf", 2, 64), "\\300\\257");
    assert_string_equal(esc("\xed\xa0\x80", 3, 64), "\\355\\240\\200");
    assert_string_equal(esc("\xe2\x82", 2, 64), "\\342\\202");
    /* a NUL among the n bytes is escaped too */
    assert_string_equal(esc("a\0b", 3, 64), "a\\000b");
}

static void test_escape_cut(void **state)
{
    (void)state;
    /* Never half an escape or half a character, always terminated. */
    assert_string_equal(esc("ab\ncd", 5, 4), "ab");
    assert_string_equal(esc("ab\ncd", 5, 5), "ab\\n");
    assert_string_equal(esc("a\xff", 2, 5), "a");
    assert_string_equal(esc("a\xc3\xa9", 3, 3), "a");
    assert_string_equal(esc("abc", 3, 1), "");
}

/* A message with root and path set, the rest zero. */
static const struct msg *file(const char *root, const char *path)
{
    static struct msg m;
    memset(&m, 0, sizeof m);
    m.root_len = strlen(root);
    m.path_len = strlen(path);
    memcpy(m.root, root, m.root_len + 1);
    memcpy(m.path, path, m.path_len + 1);
    return &m;
}

static void test_file(void **state)
{
    (void)state;
    char out[64];
    report_file(out, sizeof out, file("/srv/in", "a/b.txt"));
    assert_string_equal(out, "/srv/in/a/b.txt");
    report_file(out, sizeof out, file("/", "a\nb"));
    assert_string_equal(out, "/a\\nb");
}

static void test_file_long(void **state)
{
    (void)state;
    static char path[MSG_PATH_MAX + 1];
    char out[100];
    /* "d/" * 1000, then a name of 2-byte characters: the end is kept */
    for (int i = 0; i < 1000; i++)
        memcpy(path + 2 * i, "d/", 2);
    for (int i = 0; i < 40; i++)
        memcpy(path + 2000 + 2 * i, "\xc3\xa9", 2);
    memcpy(path + 2080, ".txt", 5);
    report_file(out, sizeof out, file("/root", path));
    assert_true(strlen(out) <= sizeof out - 1);
    assert_true(strncmp(out, "/root/d/d/", 10) == 0);
    assert_non_null(strstr(out, "..."));
    assert_string_equal(out + strlen(out) - 4, ".txt");
    /* no character cut after the "..." */
    const char *tail = strstr(out, "...") + 3;
    assert_true(((unsigned char)tail[0] & 0xc0) != 0x80);
    /* as long as fits */
    assert_true(strlen(out) >= sizeof out - 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_plain), cmocka_unit_test(test_escape_odd),
        cmocka_unit_test(test_escape_cut),   cmocka_unit_test(test_file),
        cmocka_unit_test(test_file_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
