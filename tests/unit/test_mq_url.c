/* test_mq_url.c - unit tests of AMQP URL parsing, formatting and masking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "mq_url.h"

static void parse_ok(const char *url, struct mq_url *u)
{
    char err[256] = "";
    int r = mq_url_parse(url, u, err, sizeof err);
    if (r != 0)
        fail_msg("%s: %s", url, err);
}

static void test_defaults(void **state)
{
    (void)state;
    struct mq_url u;
    parse_ok(MQ_URL_DEFAULT, &u);
    assert_int_equal(u.tls, 0);
    assert_string_equal(u.user, "guest");
    assert_string_equal(u.password, "guest");
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 5672);
    assert_string_equal(u.vhost, "/");

    parse_ok("amqp://h", &u);
    assert_string_equal(u.user, "guest");
    assert_string_equal(u.host, "h");
    assert_string_equal(u.vhost, "/");
    parse_ok("amqps://h", &u);
    assert_int_equal(u.tls, 1);
    assert_int_equal(u.port, 5671);
    parse_ok("AMQP://h:1/", &u);
    assert_int_equal(u.port, 1);
    parse_ok("amqp://", &u);
    assert_string_equal(u.host, "localhost");
}

static void test_fields(void **state)
{
    (void)state;
    struct mq_url u;
    parse_ok("amqps://alice:s3cr%3At@broker.example:5999/prod%2fin?heartbeat=10", &u);
    assert_int_equal(u.tls, 1);
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.password, "s3cr:t");
    assert_string_equal(u.host, "broker.example");
    assert_int_equal(u.port, 5999);
    assert_string_equal(u.vhost, "prod/in");

    parse_ok("amqp://bob@h/%2f", &u);
    assert_string_equal(u.user, "bob");
    assert_string_equal(u.password, "guest");
    assert_string_equal(u.vhost, "/");

    /* An unencoded '@' in the password: the last '@' ends the user info. */
    parse_ok("amqp://u:p@ss@h/", &u);
    assert_string_equal(u.password, "p@ss");
    assert_string_equal(u.host, "h");

    parse_ok("amqp://u:@h/v", &u);
    assert_string_equal(u.password, "");
    assert_string_equal(u.vhost, "v");

    parse_ok("amqp://[::1]:5673/", &u);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 5673);
    parse_ok("amqp://[fe80::1]", &u);
    assert_string_equal(u.host, "fe80::1");
    assert_int_equal(u.port, 5672);

    /* The port is digits only; leading zeros, however many, are fine. */
    parse_ok("amqp://h:65535", &u);
    assert_int_equal(u.port, 65535);
    parse_ok("amqp://h:000000000000000000000000005673/", &u);
    assert_int_equal(u.port, 5673);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *needle;
    } bad[] = {
        {"http://h/", "must start with amqp://"},
        {"", "must start with amqp://"},
        {"amqp:/h", "must start with amqp://"},
        {"amqp://h:0/", "port"},
        {"amqp://h:65536/", "port"},
        {"amqp://h:99999999999999999999/", "port"},
        {"amqp://h:/", "empty port"},
        {"amqp://h:12a/", "port"},
        {"amqp://h:+1/", "port"},
        {"amqp://h: 1/", "port"},
        {"amqp://h:0x10/", "port"},
        {"amqp://h:655350/", "port"},
        {"amqp://[::1]:/", "empty port"},
        {"amqp://h/a/b", "percent-encoded"},
        {"amqp://h/%zz", "percent-encoding"},
        {"amqp://h/%2", "percent-encoding"},
        {"amqp://u:%00@h/", "NUL"},
        {"amqp://[::1/", "unclosed"},
        {"amqp://[::1]x/", "after ']'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mq_url u;
        char err[256] = "";
        assert_int_equal(mq_url_parse(bad[i].url, &u, err, sizeof err), -1);
        if (strstr(err, bad[i].needle) == NULL)
            fail_msg("%s: got '%s', wanted '%s'", bad[i].url, err, bad[i].needle);
    }
    /* Over-long fields are refused, not truncated. */
    char url[600];
    memset(url, 'a', sizeof url);
    memcpy(url, "amqp://", 7);
    url[sizeof url - 1] = '\0';
    struct mq_url u;
    char err[256];
    assert_int_equal(mq_url_parse(url, &u, err, sizeof err), -1);
    assert_non_null(strstr(err, "longer than"));
}

static void test_password_never_in_errors(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "amqp://u:hunter2@h:0/",  "amqp://u:hunter2@h/a/b", "amqp://u:hunter2@h/%zz",
        "amqp://u:hunter2@[::1/", "amqp://u:hunter2@h:x/",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        struct mq_url u;
        char err[256] = "";
        assert_int_equal(mq_url_parse(urls[i], &u, err, sizeof err), -1);
        assert_null(strstr(err, "hunter2"));
    }
}

/* The one userinfo reader: the last '@' of the authority, the first ':'. */
static void test_userinfo(void **state)
{
    (void)state;
    const char *user, *colon, *at;
    const char *u1 = "amqp://us:p@ss:w@host:1/v?x=a@b";
    assert_int_equal(mq_url_userinfo(u1, &user, &colon, &at), 1);
    assert_ptr_equal(user, u1 + 7);
    assert_ptr_equal(colon, u1 + 9);
    assert_ptr_equal(at, u1 + 16);
    const char *u2 = "amqps://user@h/";
    assert_int_equal(mq_url_userinfo(u2, &user, &colon, &at), 1);
    assert_null(colon);
    assert_ptr_equal(at, u2 + 12);
    assert_int_equal(mq_url_userinfo("amqp://h/a@b", &user, &colon, &at), 0);
    assert_null(at);
    const char *u3 = "u:pw@h"; /* no scheme: the authority starts the string */
    assert_int_equal(mq_url_userinfo(u3, &user, &colon, &at), 1);
    assert_ptr_equal(user, u3);
    assert_ptr_equal(colon, u3 + 1);
}

static void test_format(void **state)
{
    (void)state;
    struct mq_url u;
    char out[256];
    parse_ok("amqp://alice:secret@h:1234/prod%2fin", &u);
    mq_url_format(&u, out, sizeof out);
    assert_string_equal(out, "amqp://alice@h:1234/prod%2fin");
    assert_null(strstr(out, "secret"));
    parse_ok("amqps://[::1]/", &u);
    mq_url_format(&u, out, sizeof out);
    assert_string_equal(out, "amqps://guest@[::1]:5671/");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults), cmocka_unit_test(test_fields),
        cmocka_unit_test(test_errors),   cmocka_unit_test(test_password_never_in_errors),
        cmocka_unit_test(test_userinfo), cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
