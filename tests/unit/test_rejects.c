/*
 * test_rejects.c - unit tests of scan's --rejects line (scanner/rejects.c).
 * The golden lines are what msg_encode_report, which cJSON wrote, gave for
 * the same calls before the format moved to the scanner.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "rejects.h"

static const struct {
    const char *root;
    size_t root_len;
    const char *path;
    size_t path_len;
    const char *outcome, *reason, *detail;
    const char *line;
} golden[] = {
    {"/srv/in", 7, "a/b.txt", 7, "rejected", "too-large", NULL,
     "{\"root\":\"/srv/in\",\"path\":\"a/"
     "b.txt\",\"outcome\":\"rejected\",\"reason\":\"too-large\"}"},
    {"/srv/in", 7, "a/b.txt", 7, "rejected", "too-large", "size 12 > 10",
     "{\"root\":\"/srv/in\",\"path\":\"a/b.txt\",\"outcome\":\"rejected\",\"reason\":\"too-large\","
     "\"detail\":\"size 12 > 10\"}"},
    /* No path: the root itself could not be read. */
    {"/srv/in", 7, "", 0, "failed", "unreadable-dir", "Permission denied",
     "{\"root\":\"/srv/in\",\"outcome\":\"failed\",\"reason\":\"unreadable-dir\","
     "\"detail\":\"Permission denied\"}"},
    /* Bytes that are not UTF-8 go as base64; an empty detail is left out. */
    {"/srv/in", 7, "caf\xe9.txt", 8, "rejected", "hidden", "",
     "{\"root\":\"/srv/in\",\"path_b64\":\"Y2Fm6S50eHQ=\",\"outcome\":\"rejected\","
     "\"reason\":\"hidden\"}"},
    {"/srv/\xff", 6, "new\nline \"q\" back\\slash\ttab\x01", 29, "rejected", "excluded", NULL,
     "{\"root_b64\":\"L3Nydi//\",\"path\":\"new\\nline \\\"q\\\" back\\\\slash\\ttab\\u0001\","
     "\"outcome\":\"rejected\",\"reason\":\"excluded\"}"},
    {"/srv/in", 7, "x", 1, "failed", "io-error", "bad \xff byte",
     "{\"root\":\"/srv/in\",\"path\":\"x\",\"outcome\":\"failed\",\"reason\":\"io-error\","
     "\"detail_b64\":\"YmFkIP8gYnl0ZQ==\"}"},
};

static void test_golden(void **state)
{
    (void)state;
    static char buf[MSG_MAX_BYTES];
    for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
        size_t len = 0;
        assert_int_equal(rejects_encode(golden[i].root, golden[i].root_len, golden[i].path,
                                        golden[i].path_len, golden[i].outcome, golden[i].reason,
                                        golden[i].detail, buf, sizeof buf, &len),
                         0);
        assert_string_equal(buf, golden[i].line);
        assert_int_equal(len, strlen(golden[i].line));
    }
}

/* A path one name too long for a message still shows whole; longer ones are cut. */
static void test_truncated(void **state)
{
    (void)state;
    static char path[REJECTS_PATH_MAX + 2], buf[MSG_MAX_BYTES];
    size_t len = 0;
    memset(path, 'p', sizeof path);
    assert_int_equal(rejects_encode("/r", 2, path, REJECTS_PATH_MAX, "rejected", "path-too-long",
                                    NULL, buf, sizeof buf, &len),
                     0);
    assert_null(strstr(buf, "truncated"));
    assert_int_equal(len, strlen("{\"root\":\"/r\",\"path\":\"\",\"outcome\":\"rejected\","
                                 "\"reason\":\"path-too-long\"}") +
                              REJECTS_PATH_MAX);
    assert_int_equal(rejects_encode("/r", 2, path, REJECTS_PATH_MAX + 1, "rejected",
                                    "path-too-long", NULL, buf, sizeof buf, &len),
                     0);
    assert_non_null(strstr(buf, "\",\"truncated\":true,\"outcome\":\"rejected\""));
    assert_int_equal(strspn(buf + strlen("{\"root\":\"/r\",\"path\":\""), "p"), REJECTS_PATH_MAX);
    /* The root is cut the same way. */
    assert_int_equal(rejects_encode(path, REJECTS_PATH_MAX + 2, "x", 1, "rejected", "path-too-long",
                                    NULL, buf, sizeof buf, &len),
                     0);
    assert_non_null(strstr(buf, "\"path\":\"x\",\"truncated\":true,"));
}

/* At most 512 bytes of detail; a cut inside a character makes it bytes, so base64. */
static void test_detail_cut(void **state)
{
    (void)state;
    static char detail[700], buf[MSG_MAX_BYTES];
    size_t len;
    for (size_t i = 0; i + 1 < sizeof detail; i += 2)
        memcpy(detail + i, "\xc3\xa9", 2);
    detail[sizeof detail - 1] = '\0';
    assert_int_equal(
        rejects_encode("/r", 2, "x", 1, "failed", "io-error", detail, buf, sizeof buf, &len), 0);
    assert_non_null(strstr(buf, "\"detail\":\""));
    assert_int_equal(len, strlen("{\"root\":\"/r\",\"path\":\"x\",\"outcome\":\"failed\","
                                 "\"reason\":\"io-error\",\"detail\":\"\"}") +
                              512);
    /* One byte in front: byte 512 is now the first half of a character. */
    detail[0] = 'x';
    for (size_t i = 1; i + 2 < sizeof detail; i += 2)
        memcpy(detail + i, "\xc3\xa9", 2);
    assert_int_equal(
        rejects_encode("/r", 2, "x", 1, "failed", "io-error", detail, buf, sizeof buf, &len), 0);
    assert_non_null(strstr(buf, "\"detail_b64\":\"eMOp"));
    assert_non_null(strstr(buf, "qcM=\"}")); /* ends 0xa9 0xc3: a lone lead byte */
}

static void test_refused(void **state)
{
    (void)state;
    char buf[64];
    size_t len = 99;
    assert_int_equal(rejects_encode("/r", 2, "x", 1, NULL, "hidden", NULL, buf, sizeof buf, &len),
                     -1);
    assert_int_equal(rejects_encode("/r", 2, "x", 1, "rejected", NULL, NULL, buf, sizeof buf, &len),
                     -1);
    assert_int_equal(rejects_encode("/r", 2, "x", 1, "rejected", "too-large", NULL, buf, 20, &len),
                     -1);
    assert_string_equal(buf, "");
    assert_int_equal(len, 99);
    assert_int_equal(rejects_encode("/r", 2, "x", 1, "rejected", "too-large", NULL, NULL, 0, &len),
                     -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_detail_cut),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
