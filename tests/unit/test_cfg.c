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
    assert_string_equal(c.urls[0], MQ_URL_DEFAULT);
    assert_int_equal(c.n_urls, 1);
    assert_int_equal(c.url_order[0], 0);
    assert_int_equal(c.url_source, CFG_URL_DEFAULT);
    assert_string_equal(c.exchange, "scanmove");
    assert_string_equal(c.queue, "files");
    assert_string_equal(c.routing_key, "files");
    assert_int_equal(c.queue_type, CFG_QUEUE_QUORUM);
    assert_int_equal(c.delivery_limit, 5);
    assert_int_equal(c.heartbeat_s, 30);
    assert_int_equal(c.connect_timeout_ms, 10000);
    assert_string_equal(c.cacert, "");
    assert_int_equal(c.order, CFG_URL_RANDOM);
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
    assert_string_equal(c.urls[0], "amqp://e:pw@envhost/");
    assert_int_equal(c.url_source, CFG_URL_ENV);
    /* --url beats AMQP_URL */
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_URL, "amqp://flag/", err, sizeof err), 1);
    assert_int_equal(cfg_finish(&c, err, sizeof err), 0);
    assert_string_equal(c.urls[0], "amqp://flag/");
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
    const char text[] = "amqp://f:filepw@filehost/ \n# a comment\namqp://second/\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);

    struct cfg c;
    char err[256];
    setenv("AMQP_URL", "amqp://e:pw@envhost/", 1);
    cfg_defaults(&c);
    assert_int_equal(cfg_from_env(&c, err, sizeof err), 0);
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_URL_FILE, path, err, sizeof err), 1);
    assert_int_equal(cfg_finish(&c, err, sizeof err), 0);
    assert_string_equal(c.urls[0], "amqp://f:filepw@filehost/");
    assert_string_equal(c.urls[1], "amqp://second/"); /* the second line counts */
    assert_int_equal(c.n_urls, 2);
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

/* A file of text in a fresh temporary; path receives its name. */
static void write_file(char path[32], const char *text)
{
    snprintf(path, 32, "/tmp/test_cfg_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* cfg_finish of the defaults and the environment plus the flags of argv
 * (pairs of option code and argument, ended by 0); err gets its sentence. */
static int finish_with(struct cfg *c, const int *codes, const char *const *args, char *err,
                       size_t errlen)
{
    cfg_defaults(c);
    for (size_t i = 0; codes != NULL && codes[i] != 0; i++)
        if (cfg_apply_option(c, codes[i], args[i], err, errlen) < 0)
            return -1;
    if (cfg_from_env(c, err, errlen) < 0)
        return -1;
    return cfg_finish(c, err, errlen);
}

/* --url once per broker, in the order given; a list in one --url is an
 * error that says how to give several. */
static void test_url_flags(void **state)
{
    (void)state;
    static struct cfg c;
    char err[256];
    setenv("AMQP_URL", "amqp://e/,amqp://broken/", 1); /* a flag wins over a bad variable */
    static const int three[] = {CFG_OPT_URL, CFG_OPT_URL, CFG_OPT_URL, CFG_OPT_URL, 0};
    static const char *const urls[] = {"amqp://u:pw@a/", "", "amqps://b:5671/v", "amqp://c/v,x"};
    assert_int_equal(finish_with(&c, three, urls, err, sizeof err), 0);
    assert_int_equal(c.url_source, CFG_URL_FLAG);
    assert_int_equal(c.n_urls, 3); /* an empty --url adds nothing */
    assert_string_equal(c.urls[0], "amqp://u:pw@a/");
    assert_string_equal(c.urls[1], "amqps://b:5671/v");
    assert_string_equal(c.urls[2], "amqp://c/v,x");
    assert_string_equal(c.url_flag, "amqp://u:pw@a/\namqps://b:5671/v\namqp://c/v,x");

    static const char *const lists[] = {"amqp://a/,amqp://b/",  "amqp://a/, amqp://b/",
                                        "amqp://a/,AMQPS://b/", "amqp://a/ amqp://b/",
                                        "amqp://a/\tamqp://b/", "amqp://a/\n"};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        cfg_defaults(&c);
        assert_int_equal(cfg_apply_option(&c, CFG_OPT_URL, lists[i], err, sizeof err), -1);
        assert_string_equal(err, "--url takes one broker URL: give --url once per broker");
    }

    /* CFG_URLS_MAX of them, not one more. */
    cfg_defaults(&c);
    for (int i = 0; i < CFG_URLS_MAX; i++)
        assert_int_equal(cfg_apply_option(&c, CFG_OPT_URL, "amqp://u:hunter2@h/", err, sizeof err),
                         1);
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_URL, "amqp://u:hunter2@h/", err, sizeof err), -1);
    assert_string_equal(err, "--url gives more than 16 broker URLs");
    assert_int_equal(cfg_finish(&c, err, sizeof err), 0);
    assert_int_equal(c.n_urls, CFG_URLS_MAX);
    /* The longest URL that fits, sixteen times over, still fits. */
    static char longest[CFG_URL_MAX + 1];
    memset(longest, 'h', CFG_URL_MAX);
    memcpy(longest, "amqp://", 7);
    longest[CFG_URL_MAX] = '\0';
    cfg_defaults(&c);
    assert_int_equal(cfg_apply_option(&c, CFG_OPT_URL, longest, err, sizeof err), -1);
    assert_string_equal(err, "--url is too long");
    longest[CFG_URL_MAX - 1] = '\0';
    for (int i = 0; i < CFG_URLS_MAX; i++)
        assert_int_equal(cfg_apply_option(&c, CFG_OPT_URL, longest, err, sizeof err), 1);
    assert_int_equal(cfg_finish(&c, err, sizeof err), 0);
    assert_int_equal(c.n_urls, CFG_URLS_MAX);
    assert_string_equal(c.urls[CFG_URLS_MAX - 1], longest);
}

/* AMQP_URL: URLs separated by any white space; commas are refused. */
static void test_url_env(void **state)
{
    (void)state;
    static struct cfg c;
    char err[256];
    setenv("AMQP_URL", " amqp://u:pw@a/\n\tamqps://b/v  amqp://[::1]:1/ ", 1);
    assert_int_equal(finish_with(&c, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(c.url_source, CFG_URL_ENV);
    assert_int_equal(c.n_urls, 3);
    assert_string_equal(c.urls[0], "amqp://u:pw@a/");
    assert_string_equal(c.urls[1], "amqps://b/v");
    assert_string_equal(c.urls[2], "amqp://[::1]:1/");

    setenv("AMQP_URL", "amqp://u:hunter2@a/,amqp://b/", 1);
    assert_int_equal(finish_with(&c, NULL, NULL, err, sizeof err), -1);
    assert_string_equal(err,
                        "AMQP_URL separates broker URLs with commas: separate them with spaces");

    /* White space only is as good as unset. */
    setenv("AMQP_URL", " \t\n", 1);
    assert_int_equal(finish_with(&c, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(c.url_source, CFG_URL_DEFAULT);
    assert_int_equal(c.n_urls, 1);
    assert_string_equal(c.urls[0], MQ_URL_DEFAULT);

    char many[20 * 24] = "";
    for (int i = 0; i <= CFG_URLS_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "amqp://u:hunter2@h%d/ ", i);
    setenv("AMQP_URL", many, 1);
    assert_int_equal(finish_with(&c, NULL, NULL, err, sizeof err), -1);
    assert_string_equal(err, "AMQP_URL gives more than 16 broker URLs");
    *strrchr(many, 'a') = '\0'; /* one fewer */
    setenv("AMQP_URL", many, 1);
    assert_int_equal(finish_with(&c, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(c.n_urls, CFG_URLS_MAX);
    assert_string_equal(c.urls[15], "amqp://u:hunter2@h15/");
}

/* --url-file: one URL per line; blank lines and comments ignored. */
static void test_url_file_list(void **state)
{
    (void)state;
    static struct cfg c;
    char err[512], path[32];
    static const int file[] = {CFG_OPT_URL_FILE, 0};
    const char *args[] = {path};
    write_file(path, "# brokers of the intake cluster\n"
                     "\n"
                     "amqp://u:pw@n1:5672/intake  \r\n"
                     "   \t\n"
                     "  amqps://n2/intake?heartbeat=10\n"
                     "\t# amqp://n3/ is down\n"
                     "amqp://n4/");
    assert_int_equal(finish_with(&c, file, args, err, sizeof err), 0);
    assert_int_equal(c.url_source, CFG_URL_FILE);
    assert_int_equal(c.n_urls, 3);
    assert_string_equal(c.urls[0], "amqp://u:pw@n1:5672/intake");
    assert_string_equal(c.urls[1], "amqps://n2/intake?heartbeat=10");
    assert_string_equal(c.urls[2], "amqp://n4/");
    unlink(path);

    static const struct {
        const char *text, *want;
    } bad[] = {
        {"", "is empty"},
        {"\n  \n# only a comment\n", "is empty but for blank lines and comments"},
        {"amqp://a/\namqp://u:hunter2@b/ amqp://c/\n", "line 2 of the URL file "},
        {"amqp://a/,amqp://u:hunter2@b/\n", "line 1 of the URL file "},
        {"amqp://a/ # the first\n", "line 1 of the URL file "},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i].text);
        assert_int_equal(finish_with(&c, file, args, err, sizeof err), -1);
        if (strstr(err, bad[i].want) == NULL || strstr(err, path) == NULL)
            fail_msg("'%s': got '%s', wanted '%s'", bad[i].text, err, bad[i].want);
        assert_null(strstr(err, "hunter2"));
        unlink(path);
    }
    write_file(path, "amqp://a/\namqp://u:hunter2@b/ amqp://c/\n");
    assert_int_equal(finish_with(&c, file, args, err, sizeof err), -1);
    char want[256];
    snprintf(want, sizeof want,
             "line 2 of the URL file %s holds more than a URL: give one URL per line, and comments "
             "on lines of their own",
             path);
    assert_string_equal(err, want);
    unlink(path);

    /* A line too long is named by its number; a long comment is fine. */
    static char text[3 * CFG_URL_MAX + 64];
    memset(text, 'x', sizeof text);
    memcpy(text, "#", 1);
    memcpy(text + CFG_URL_MAX + 10, "\namqp://a/\namqp://", 18);
    memcpy(text + 2 * CFG_URL_MAX + 40, "\n", 2);
    write_file(path, text);
    assert_int_equal(finish_with(&c, file, args, err, sizeof err), -1);
    snprintf(want, sizeof want, "line 3 of the URL file %s is too long", path);
    assert_string_equal(err, want);
    unlink(path);

    char many[20 * 24] = "";
    for (int i = 0; i <= CFG_URLS_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "amqp://h%d/\n# x\n", i);
    write_file(path, many);
    assert_int_equal(finish_with(&c, file, args, err, sizeof err), -1);
    snprintf(want, sizeof want, "the URL file %s gives more than 16 broker URLs", path);
    assert_string_equal(err, want);
    unlink(path);
}

/* A permutation of 0..n-1? */
static int is_permutation(const size_t *order, size_t n)
{
    unsigned seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (order[i] >= n || (seen & (1u << order[i])))
            return 0;
        seen |= 1u << order[i];
    }
    return 1;
}

/* ordered keeps the order given; random is a shuffle drawn from the seed. */
static void test_url_order(void **state)
{
    (void)state;
    static struct cfg c, d;
    char err[256];
    cfg_defaults(&c);
    assert_int_equal(c.order, CFG_URL_RANDOM);
    c.n_urls = CFG_URLS_MAX;
    cfg_order_urls(&c, 1);
    assert_true(is_permutation(c.url_order, c.n_urls));
    size_t first[CFG_URLS_MAX];
    memcpy(first, c.url_order, sizeof first);
    cfg_order_urls(&c, 1);
    assert_memory_equal(first, c.url_order, sizeof first); /* the same seed, the same order */
    cfg_order_urls(&c, 2);
    assert_true(is_permutation(c.url_order, c.n_urls));
    assert_memory_not_equal(first, c.url_order, sizeof first);
    /* Each URL comes first for some seed: the load spreads over them all. */
    unsigned firsts = 0;
    for (uint64_t seed = 0; seed < 1000; seed++) {
        cfg_order_urls(&c, seed);
        firsts |= 1u << c.url_order[0];
    }
    assert_int_equal(firsts, (1u << CFG_URLS_MAX) - 1);

    assert_int_equal(cfg_apply_option(&c, CFG_OPT_URL_ORDER, "ordered", err, sizeof err), 1);
    assert_int_equal(c.order, CFG_URL_ORDERED);
    cfg_order_urls(&c, 2);
    for (size_t i = 0; i < c.n_urls; i++)
        assert_int_equal(c.url_order[i], i);
    c.n_urls = 1;
    c.order = CFG_URL_RANDOM;
    cfg_order_urls(&c, 2);
    assert_int_equal(c.url_order[0], 0);

    /* cfg_finish orders the list: a permutation, the identity when ordered. */
    setenv("AMQP_URL", "amqp://a/ amqp://b/ amqp://c/ amqp://d/", 1);
    assert_int_equal(finish_with(&d, NULL, NULL, err, sizeof err), 0);
    assert_true(is_permutation(d.url_order, 4));
    setenv("SCANMOVE_URL_ORDER", "ordered", 1);
    assert_int_equal(finish_with(&d, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(d.order, CFG_URL_ORDERED);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(d.url_order[i], i);

    setenv("SCANMOVE_URL_ORDER", "sorted", 1);
    assert_int_equal(finish_with(&d, NULL, NULL, err, sizeof err), -1);
    assert_string_equal(err, "SCANMOVE_URL_ORDER must be random or ordered, not 'sorted'");
    static const int flag[] = {CFG_OPT_URL_ORDER, 0};
    static const char *const random[] = {"random"};
    assert_int_equal(finish_with(&d, flag, random, err, sizeof err), 0); /* a flag wins */
    assert_int_equal(d.order, CFG_URL_RANDOM);
    static const char *const bad[] = {"Random"};
    assert_int_equal(finish_with(&d, flag, bad, err, sizeof err), -1);
    assert_string_equal(err, "--url-order must be random or ordered, not 'Random'");
}

/* --cert and --key, or SCANMOVE_CERT and SCANMOVE_KEY. */
static void test_cert_key(void **state)
{
    (void)state;
    static struct cfg c;
    char err[256];
    assert_int_equal(finish_with(&c, NULL, NULL, err, sizeof err), 0);
    assert_string_equal(c.cert, "");
    assert_string_equal(c.key, "");
    setenv("SCANMOVE_CERT", "/env/client.pem", 1);
    setenv("SCANMOVE_KEY", "/env/client.key", 1);
    assert_int_equal(finish_with(&c, NULL, NULL, err, sizeof err), 0);
    assert_string_equal(c.cert, "/env/client.pem");
    assert_string_equal(c.key, "/env/client.key");
    static const int flags[] = {CFG_OPT_CERT, CFG_OPT_KEY, 0};
    static const char *const files[] = {"/flag/c.pem", "/flag/c.key"};
    assert_int_equal(finish_with(&c, flags, files, err, sizeof err), 0);
    assert_string_equal(c.cert, "/flag/c.pem");
    assert_string_equal(c.key, "/flag/c.key");
    static const char *const empty[] = {"", ""};
    assert_int_equal(finish_with(&c, flags, empty, err, sizeof err), -1);
    assert_non_null(strstr(err, "--cert"));
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
    /* Every --url of a list. */
    char c0[] = "move", c1[] = "--url=amqp://h1/", c2[] = "--url", c3[] = "amqp://a:pw1@h2/",
         c4[] = "--url=amqps://b:pw2@h3/?auth_mechanism=plain", c5[] = "--url-order",
         c6[] = "ordered";
    char *argv3[] = {c0, c1, c2, c3, c4, c5, c6, NULL};
    assert_int_equal(cfg_hide_argv_password(7, argv3), 1);
    assert_string_equal(c1, "--url=amqp://h1/");
    assert_string_equal(c3, "amqp://a:***@h2/");
    assert_string_equal(c4, "--url=amqps://b:***@h3/?auth_mechanism=plain");
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
        cmocka_unit_test_setup(test_url_flags, clear_env),
        cmocka_unit_test_setup(test_url_env, clear_env),
        cmocka_unit_test_setup(test_url_file_list, clear_env),
        cmocka_unit_test_setup(test_url_order, clear_env),
        cmocka_unit_test_setup(test_cert_key, clear_env),
        cmocka_unit_test_setup(test_hide_argv, clear_env),
        cmocka_unit_test(test_dead_letter_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
