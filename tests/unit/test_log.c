/* test_log.c - unit tests of log: line format, levels, and the progress line every log line erases
 * first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define ERASE "\r\033[K"

static FILE *out;

/* A fresh stream taken for a terminal, at the default level. */
static int setup(void **state)
{
    (void)state;
    out = tmpfile();
    assert_non_null(out);
    log_init("scan", LOG_LEVEL_WARN);
    log_set_output(out, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    log_set_output(NULL, -1);
    fclose(out);
    return 0;
}

/* Everything written to the stream so far. */
static const char *written(void)
{
    static char buf[4096];
    fflush(out);
    long n = ftell(out);
    assert_true(n >= 0 && (size_t)n < sizeof buf);
    rewind(out);
    assert_int_equal(fread(buf, 1, (size_t)n, out), (size_t)n);
    buf[n] = '\0';
    return buf;
}

static void test_line_format(void **state)
{
    (void)state;
    log_error("cannot open %s: %s", "x", "No such file");
    log_warn("w");
    assert_string_equal(written(), "scan: error: cannot open x: No such file\nscan: warning: w\n");
}

static void test_levels(void **state)
{
    (void)state;
    log_set_level(LOG_LEVEL_QUIET);
    log_notice("summary");
    log_warn("warning");
    log_info("info");
    log_error("error");
    log_set_level(LOG_LEVEL_WARN);
    log_notice("summary");
    log_info("info");
    log_set_level(LOG_LEVEL_DEBUG);
    log_debug("debug");
    assert_string_equal(written(),
                        "scan: error: error\nscan: notice: summary\nscan: debug: debug\n");
}

/* scan's reconnect and "broker blocked" warnings came on top of its
 * progress line: the line must be erased before any log line. */
static void test_warning_erases_progress(void **state)
{
    (void)state;
    assert_true(log_progress_enabled());
    log_progress("%d files, %d published", 3, 2);
    log_progress("%d files, %d published", 4, 3);
    log_warn("connection lost; reconnecting");
    log_progress("%d files", 5);
    log_error("failed: x");
    assert_string_equal(written(),
                        ERASE "scan: 3 files, 2 published" ERASE "scan: 4 files, 3 published" ERASE
                              "scan: warning: connection lost; reconnecting\n" ERASE
                              "scan: 5 files" ERASE "scan: error: failed: x\n");
}

/* Nothing to erase: a log line with no progress line drawn is plain. */
static void test_clear_only_once(void **state)
{
    (void)state;
    log_progress("1 files");
    log_progress_clear();
    log_progress_clear();
    log_warn("w");
    assert_string_equal(written(), ERASE "scan: 1 files" ERASE "scan: warning: w\n");
}

/* No terminal, or -q: no progress line at all. */
static void test_progress_off(void **state)
{
    (void)state;
    log_set_output(out, 0);
    assert_false(log_progress_enabled());
    log_progress("1 files");
    log_warn("w");
    log_set_output(out, 1);
    log_set_level(LOG_LEVEL_QUIET);
    assert_false(log_progress_enabled());
    log_progress("2 files");
    log_progress_clear();
    log_error("e");
    assert_string_equal(written(), "scan: warning: w\nscan: error: e\n");
}

/* JSON: one object per line, the fields where given, bytes that are not
 * UTF-8 as base64 (names) or U+FFFD (the message), and -q passed by
 * "always" (the SIGUSR1 status line). */
static void test_json(void **state)
{
    (void)state;
    log_set_format(LOG_FORMAT_JSON);
    log_set_level(LOG_LEVEL_INFO);
    struct log_fields f = {.event = "moved",
                           .id = "ab",
                           .root = "/r",
                           .root_len = 2,
                           .path = "x\xffy",
                           .path_len = 3,
                           .reason = "exists"};
    log_event(LOG_SEV_INFO, &f, "moved %s", "x\xffy");
    log_set_level(LOG_LEVEL_QUIET);
    struct log_fields st = {.event = "status", .always = 1};
    log_event(LOG_SEV_NOTICE, &st, "1 moved");
    log_notice("hidden");
    log_error("e \"q\"");
    log_set_format(LOG_FORMAT_TEXT);
    const char *w = written();
    const char *want[] = {"\"level\":\"info\",\"tool\":\"scan\",\"pid\":",
                          "\"event\":\"moved\",\"message\":\"moved x\xef\xbf\xbdy\",\"id\":\"ab\","
                          "\"root\":\"/r\",\"path_b64\":\"eP95\",\"reason\":\"exists\"}\n",
                          "\"level\":\"notice\"", "\"event\":\"status\",\"message\":\"1 moved\"}\n",
                          "\"event\":\"error\",\"message\":\"e \\\"q\\\"\"}\n"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_non_null(strstr(w, want[i]));
    assert_null(strstr(w, "hidden"));
    assert_int_equal(strncmp(w, "{\"time\":\"20", 11), 0);
    assert_non_null(strstr(w, "Z\",\"level"));
}

/* The usage lines of tool.c: formatted as the log is set. */
static void test_format_line(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(log_format_line(buf, sizeof buf, LOG_SEV_ERROR, "bad"), 17);
    assert_string_equal(buf, "scan: error: bad\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warning_erases_progress, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_only_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_line, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
