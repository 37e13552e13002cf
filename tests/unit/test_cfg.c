/* test_cfg.c - unit tests of settings precedence: flags > environment > defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "cfg.h"
#include "mq_url.h"

static const char *const vars[] = {
    "AMQP_URL",           "SCANMOVE_EXCHANGE",       "SCANMOVE_QUEUE",
    "SCANMOVE_ROUTING_KEY", "SCANMOVE_QUEUE_TYPE",   "SCANMOVE_DELIVERY_LIMIT",
    "SCANMOVE_HEARTBEAT", "SCANMOVE_CACERT",         "SCANMOVE_CONNECT_TIMEOUT",
};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    return 0;
}

static void test_defaults(void **state)
{
    (void)state;
    struct cfg c;
    char err[256];
    cfg_defaults(&c);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), 0);
    assert_int_equal(cfg_finish(&c, err, sizeof err), 0);
    assert_string_equal(c.url, MQ_URL_DEFAULT);
    assert_int_equal(c.url_source, CFG_URL_DEFAULT);
    assert_string_equal(c.exchange, "scanmove");
    assert_string_equal(c.queue, "files");
    assert_string_equal(c.routing_key, "files");
    assert_int_equal(c.queue_type, CFG_QUEUE_QUORUM);
    assert_int_equal(c.delivery_limit, 5);
    assert_int_equal(c.heartbeat_s, 30);
}

static void test_env_then_flags(void **state)
{
    (void)state;
    struct cfg c;
    char err[256];
    setenv("SCANMOVE_QUEUE", "envq", 1);
    setenv("SCANMOVE_QUEUE_TYPE", "classic", 1);
    setenv("SCANMOVE_HEARTBEAT", "1m", 1);
    setenv("AMQP_URL", "amqp://e:pw@envhost/", 1);
    cfg_defaults(&c);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), 0);
    assert_string_equal(c.queue, "envq");
    assert_int_equal(c.queue_type, CFG_QUEUE_CLASSIC);
    assert_int_equal(c.heartbeat_s, 60);
    /* flags win over the environment, whichever is applied first */
    cfg_defaults(&c);
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_QUEUE, "flagq", err, sizeof err), 1);
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_QUEUE_TYPE, "quorum", err, sizeof err), 1);
    assert_int_equal(cfg_apply_option(&c, 'x', "ignored", err, sizeof err), 0);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), 0);
    assert_int_equal(cfg_finish(&c, err, sizeof err), 0);
    assert_int_equal(c.heartbeat_s, 60); /* not given as a flag: from the environment */
    assert_string_equal(c.queue, "flagq");
    assert_int_equal(c.queue_type, CFG_QUEUE_QUORUM);
    assert_string_equal(c.url, "amqp://e:pw@envhost/");
    assert_int_equal(c.url_source, CFG_URL_ENV);
    /* --url beats AMQP_URL */
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_URL, "amqp://flag/", err, sizeof err), 1);
    assert_int_equal(cfg_finish(&c, err, sizeof err), 0);
    assert_string_equal(c.url, "amqp://flag/");
    assert_int_equal(c.url_source, CFG_URL_FLAG);
}

static void test_bad_values(void **state)
{
    (void)state;
    struct cfg c;
    char err[256];
    cfg_defaults(&c);
    setenv("SCANMOVE_DELIVERY_LIMIT", "lots", 1);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "SCANMOVE_DELIVERY_LIMIT"));
    /* a flag makes a broken variable irrelevant */
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_DELIVERY_LIMIT, "3", err, sizeof err), 1);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), 0);
    assert_int_equal(c.delivery_limit, 3);
    unsetenv("SCANMOVE_DELIVERY_LIMIT");
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_QUEUE_TYPE, "stream", err, sizeof err), -1);
    assert_non_null(strstr(err, "--queue-type"));
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_HEARTBEAT, "1500ms", err, sizeof err), -1);
    assert_non_null(strstr(err, "--heartbeat"));
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_QUEUE, "", err, sizeof err), -1);
    char longname[300];
    memset(longname, 'q', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_QUEUE, longname, err, sizeof err), -1);
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_CONNECT_TIMEOUT, "0s", err, sizeof err), -1);
}

static void test_url_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_cfg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "amqp://f:filepw@filehost/ \nsecond line\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);

    struct cfg c;
    char err[256];
    setenv("AMQP_URL", "amqp://e:pw@envhost/", 1);
    cfg_defaults(&c);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), 0);
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_URL_FILE, path, err, sizeof err), 1);
    assert_int_equal(cfg_finish(&c, err, sizeof err), 0);
    assert_string_equal(c.url, "amqp://f:filepw@filehost/");
    assert_int_equal(c.url_source, CFG_URL_FILE);

    /* --url and --url-file together are a usage error */
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_URL, "amqp://x/", err, sizeof err), 1);
    assert_int_equal(cfg_finish(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "together"));

    /* an empty or missing file is an error that names the file */
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    cfg_defaults(&c);
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_URL_FILE, path, err, sizeof err), 1);
    assert_int_equal(cfg_finish(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty"));
    unlink(path);
    assert_int_equal(cfg_finish(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
}

static void test_hide_argv(void **state)
{
    (void)state;
    char a0[] = "scan", a1[] = "--url=amqp://u:hunter2@h/", a2[] = "--url",
         a3[] = "amqps://v:pw@h/", a4[] = "--", a5[] = "--url=amqp://u:keep@h/";
    char *argv[] = {a0, a1, a2, a3, a4, a5, NULL};
    assert_int_equal(cfg_hide_argv_password(6, argv), 1);
    assert_string_equal(a1, "--url=amqp://u:*******@h/");
    assert_string_equal(a3, "amqps://v:**@h/");
    assert_string_equal(a5, "--url=amqp://u:keep@h/");
    char b0[] = "scan", b1[] = "--url=amqp://h/";
    char *argv2[] = {b0, b1, NULL};
    assert_int_equal(cfg_hide_argv_password(2, argv2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, clear_env),
        cmocka_unit_test_setup(test_env_then_flags, clear_env),
        cmocka_unit_test_setup(test_bad_values, clear_env),
        cmocka_unit_test_setup(test_url_file, clear_env),
        cmocka_unit_test_setup(test_hide_argv, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
