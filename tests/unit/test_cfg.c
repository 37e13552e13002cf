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

static int clear_env(void **state)
{
    (void)state;
    size_t n;
    const struct cfg_setting *set = cfg_settings(&n);
    for (size_t i = 0; i < n; i++)
        if (set[i].env != NULL)
            unsetenv(set[i].env);
    unsetenv("AMQP_URL");
    return 0;
}

/* The table is consistent: one row per option code in order, each flag in
 * --help and in the getopt entries, each variable named after its flag,
 * each default a good value that --help states. */
static void test_settings_table(void **state)
{
    (void)state;
    static const struct option longopts[] = {
        CFG_LONG_OPTIONS /* each with its comma */
        {NULL, 0, NULL, 0},
    };
    const char help[] = CFG_HELP;
    size_t n;
    const struct cfg_setting *set = cfg_settings(&n);
    assert_int_equal(n, CFG_N_SETTINGS);
    for (size_t i = 0; i < n; i++) {
        char want[300], err[256];
        struct cfg c;
        assert_int_equal(set[i].code, CFG_OPT_FIRST + (int)i);
        assert_string_equal(longopts[i].name, set[i].flag + 2);
        assert_int_equal(longopts[i].val, set[i].code);
        snprintf(want, sizeof want, "\n      %s ", set[i].flag);
        assert_non_null(strstr(help, want));
        if (set[i].env != NULL) {
            size_t k = 0;
            k += (size_t)snprintf(want, sizeof want, "SCANMOVE_");
            for (const char *f = set[i].flag + 2; *f != '\0'; f++)
                want[k++] = *f == '-' ? '_' : (char)(*f - 'a' + 'A');
            want[k] = '\0';
            assert_string_equal(set[i].env, want);
        }
        if (set[i].def[0] != '\0') {
            cfg_defaults(&c);
            assert_int_equal(cfg_apply_option(&c, set[i].code, set[i].def, err, sizeof err), 1);
            snprintf(want, sizeof want, "(default %s", set[i].def);
            assert_non_null(strstr(help, want));
        }
    }
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
    assert_int_equal(c.connect_timeout_ms, 10000);
    assert_string_equal(c.cacert, "");
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

/* The routing key is the queue's name unless --routing-key or
 * SCANMOVE_ROUTING_KEY gives one, so that two queues are never bound by
 * the same key by default; the default queue keeps the key "files". */
static void test_routing_key_default(void **state)
{
    (void)state;
    struct cfg c;
    char err[256], help[] = CFG_HELP;
    assert_non_null(strstr(help, "--routing-key KEY     routing key (default: the queue name)\n"));
    cfg_defaults(&c);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), 0);
    assert_string_equal(c.routing_key, "files");
    cfg_defaults(&c);
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_QUEUE, "fiels", err, sizeof err), 1);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), 0);
    assert_string_equal(c.routing_key, "fiels");
    setenv("SCANMOVE_QUEUE", "envq", 1);
    cfg_defaults(&c);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), 0);
    assert_string_equal(c.routing_key, "envq");
    /* A key given wins, from a flag or from the environment. */
    cfg_defaults(&c);
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_ROUTING_KEY, "rk", err, sizeof err), 1);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), 0);
    assert_string_equal(c.routing_key, "rk");
    setenv("SCANMOVE_ROUTING_KEY", "files", 1);
    cfg_defaults(&c);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), 0);
    assert_string_equal(c.queue, "envq");
    assert_string_equal(c.routing_key, "files");
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

/* The dead-letter names, and the longest names that still fit. */
static void test_dead_letter_names(void **state)
{
    (void)state;
    struct cfg c;
    char out[CFG_NAME_MAX + 1];
    cfg_defaults(&c);
    assert_int_equal(cfg_dlx_name(&c, out), 0);
    assert_string_equal(out, "scanmove.dlx");
    assert_int_equal(cfg_dead_name(&c, out), 0);
    assert_string_equal(out, "files.dead");
    memset(c.exchange, 'e', CFG_NAME_MAX - 4);
    c.exchange[CFG_NAME_MAX - 4] = '\0';
    assert_int_equal(cfg_dlx_name(&c, out), 0);
    assert_int_equal(strlen(out), CFG_NAME_MAX);
    c.exchange[CFG_NAME_MAX - 4] = 'e';
    c.exchange[CFG_NAME_MAX - 3] = '\0';
    assert_int_equal(cfg_dlx_name(&c, out), -1);
    memset(c.queue, 'q', CFG_NAME_MAX - 4);
    c.queue[CFG_NAME_MAX - 4] = '\0';
    assert_int_equal(cfg_dead_name(&c, out), -1);
    c.queue[CFG_NAME_MAX - 5] = '\0';
    assert_int_equal(cfg_dead_name(&c, out), 0);
    assert_int_equal(strlen(out), CFG_NAME_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_settings_table, clear_env),
        cmocka_unit_test_setup(test_defaults, clear_env),
        cmocka_unit_test_setup(test_env_then_flags, clear_env),
        cmocka_unit_test_setup(test_routing_key_default, clear_env),
        cmocka_unit_test_setup(test_bad_values, clear_env),
        cmocka_unit_test_setup(test_url_file, clear_env),
        cmocka_unit_test_setup(test_hide_argv, clear_env),
        cmocka_unit_test(test_dead_letter_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
