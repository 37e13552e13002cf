/* test_mq_url.c - unit tests of AMQP URL parsing, formatting and masking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
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
        "amqp://u:hunter2@h:0/",
        "amqp://u:hunter2@h/a/b",
        "amqp://u:hunter2@h/%zz",
        "amqp://u:hunter2@[::1/",
        "amqp://u:hunter2@h:x/",
        "amqp://u:hunter2@h/?heartbeat=x",
        "amqp://u:hunter2@h/?x=hunter2",
        "amqp://u:hunter2@h/?hunter2:x@h/=1",
        "amqps://u:hunter2@h/?certfile=%zz",
        "amqp://u:hunter2@h/?heartbeat=hunter2",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        struct mq_url u;
        char err[256] = "";
        assert_int_equal(mq_url_parse(urls[i], &u, err, sizeof err), -1);
        assert_null(strstr(err, "hunter2"));
    }
}

/* Without a query every parameter is "not given". */
static void test_query_absent(void **state)
{
    (void)state;
    struct mq_url u;
    static const char *const urls[] = {"amqp://h/v", "amqp://h/v?", "amqp://h/v#?heartbeat=x",
                                       "amqps://h?&&"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        parse_ok(urls[i], &u);
        assert_int_equal(u.heartbeat_s, -1);
        assert_int_equal(u.connect_timeout_ms, 0);
        assert_string_equal(u.cacertfile, "");
        assert_string_equal(u.certfile, "");
        assert_string_equal(u.keyfile, "");
        assert_int_equal(u.verify, -1);
        assert_string_equal(u.server_name, "");
        assert_int_equal(u.sni_disabled, 0);
        assert_int_equal(u.external, 0);
    }
    parse_ok("amqp://h/v#?heartbeat=x", &u);
    assert_string_equal(u.vhost, "v");
}

/* Each of RabbitMQ's URI query parameters, percent-decoded. */
static void test_query(void **state)
{
    (void)state;
    struct mq_url u;
    parse_ok("amqps://u:pw@h:5999/v?heartbeat=15&connection_timeout=2500&channel_max=0"
             "&frame_max=131072&cacertfile=%2Fetc%2Fca%20bundle.pem&certfile=/c/client+1.pem"
             "&keyfile=/c/client.key&verify=verify_peer&server_name_indication=mq.example"
             "&auth_mechanism=EXTERNAL#frag",
             &u);
    assert_string_equal(u.user, "u");
    assert_string_equal(u.password, "pw");
    assert_string_equal(u.host, "h");
    assert_int_equal(u.port, 5999);
    assert_string_equal(u.vhost, "v");
    assert_int_equal(u.heartbeat_s, 15);
    assert_int_equal(u.connect_timeout_ms, 2500);
    assert_string_equal(u.cacertfile, "/etc/ca bundle.pem");
    assert_string_equal(u.certfile, "/c/client+1.pem"); /* '+' is itself */
    assert_string_equal(u.keyfile, "/c/client.key");
    assert_int_equal(u.verify, 1);
    assert_string_equal(u.server_name, "mq.example");
    assert_int_equal(u.sni_disabled, 0);
    assert_int_equal(u.external, 1);

    parse_ok("amqp://h?heartbeat=0&verify=verify_none&server_name_indication=disable"
             "&auth_mechanism=Plain&connection_timeout=4294967295&frame_max=4294967295"
             "&channel_max=65535&",
             &u);
    assert_string_equal(u.vhost, "/");
    assert_int_equal(u.heartbeat_s, 0);
    assert_int_equal(u.connect_timeout_ms, 4294967295u);
    assert_int_equal(u.verify, 0);
    assert_int_equal(u.sni_disabled, 1);
    assert_string_equal(u.server_name, "");
    assert_int_equal(u.external, 0);
    parse_ok("amqp://h/?heartbeat=65535&connection_timeout=1&server_name_indication=a-b_c.d9", &u);
    assert_int_equal(u.heartbeat_s, 65535);
    assert_int_equal(u.connect_timeout_ms, 1);
    assert_string_equal(u.server_name, "a-b_c.d9");
    /* An external login needs no user name or password in the URL. */
    parse_ok("amqps://[::1]:5671/%2f?auth_mechanism=external&certfile=c.pem&keyfile=k.pem", &u);
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.vhost, "/");
    assert_int_equal(u.external, 1);
    assert_string_equal(u.certfile, "c.pem");
    char shown[512];
    mq_url_format(&u, shown, sizeof shown); /* the certificate says who: no user shown */
    assert_string_equal(shown, "amqps://[::1]:5671/");

    /* File names up to MQ_URL_PATH_MAX bytes, not one more. */
    static char url[MQ_URL_PATH_MAX + 64];
    int n = snprintf(url, sizeof url, "amqps://h/?keyfile=");
    memset(url + n, 'k', MQ_URL_PATH_MAX);
    url[n + MQ_URL_PATH_MAX] = '\0';
    parse_ok(url, &u);
    assert_int_equal(strlen(u.keyfile), MQ_URL_PATH_MAX);
    url[n + MQ_URL_PATH_MAX] = 'k';
    url[n + MQ_URL_PATH_MAX + 1] = '\0';
    char err[256];
    assert_int_equal(mq_url_parse(url, &u, err, sizeof err), -1);
    assert_string_equal(err, "the 'keyfile' parameter of the URL is longer than 4095 bytes");
}

/* An unknown, repeated, empty or bad parameter is one sentence naming it. */
static void test_query_errors(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *want;
    } bad[] = {
        {"amqp://h/?hearbeat=10", "unknown parameter 'hearbeat' in the broker URL"},
        {"amqp://h/?heartbeat=10&Heartbeat=5", "unknown parameter 'Heartbeat' in the broker URL"},
        {"amqp://h/?password=x", "unknown parameter 'password' in the broker URL"},
        {"amqp://h/?heartbeat=10&heartbeat=10",
         "parameter 'heartbeat' is given twice in the broker URL"},
        {"amqp://h/?auth_mechanism=plain&auth_mechanism=external",
         "parameter 'auth_mechanism' is given twice in the broker URL"},
        {"amqp://h/?heartbeat", "parameter 'heartbeat' in the broker URL has no value"},
        {"amqp://h/?cacertfile=", "parameter 'cacertfile' in the broker URL has no value"},
        {"amqp://h/?=5", "a parameter in the broker URL is not of the form name=value"},
        {"amqp://h/?a%20b=5", "a parameter in the broker URL is not of the form name=value"},
        {"amqp://h/?heartbeat=65536",
         "parameter 'heartbeat' in the broker URL must be a number of seconds from 0 to 65535"},
        {"amqp://h/?heartbeat=10s",
         "parameter 'heartbeat' in the broker URL must be a number of seconds from 0 to 65535"},
        {"amqp://h/?heartbeat=-1",
         "parameter 'heartbeat' in the broker URL must be a number of seconds from 0 to 65535"},
        {"amqp://h/?connection_timeout=0", "parameter 'connection_timeout' in the broker URL "
                                           "must be a number of milliseconds from 1 to 4294967295"},
        {"amqp://h/?connection_timeout=4294967296",
         "parameter 'connection_timeout' in the broker URL "
         "must be a number of milliseconds from 1 to 4294967295"},
        {"amqp://h/?channel_max=65536",
         "parameter 'channel_max' in the broker URL must be a number from 0 to 65535"},
        {"amqp://h/?frame_max=big",
         "parameter 'frame_max' in the broker URL must be a number from 0 to 4294967295"},
        {"amqp://h/?frame_max=99999999999999999999999",
         "parameter 'frame_max' in the broker URL must be a number from 0 to 4294967295"},
        {"amqp://h/?verify=yes",
         "parameter 'verify' in the broker URL must be verify_peer or verify_none"},
        {"amqp://h/?verify=VERIFY_PEER",
         "parameter 'verify' in the broker URL must be verify_peer or verify_none"},
        {"amqp://h/?server_name_indication=a%2fb",
         "parameter 'server_name_indication' in the broker URL must be a host name or disable"},
        {"amqp://h/?auth_mechanism=amqplain",
         "parameter 'auth_mechanism' in the broker URL must be plain or external"},
        {"amqp://h/?certfile=%zz", "bad percent-encoding in the 'certfile' parameter of the URL"},
        {"amqp://h/?keyfile=a%00b", "the 'keyfile' parameter of the URL contains a NUL byte"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mq_url u;
        char err[256] = "";
        assert_int_equal(mq_url_parse(bad[i].url, &u, err, sizeof err), -1);
        if (strcmp(err, bad[i].want) != 0)
            fail_msg("%s: got '%s', wanted '%s'", bad[i].url, err, bad[i].want);
    }
    /* A long server name is refused, not cut. */
    char url[400];
    int n = snprintf(url, sizeof url, "amqps://h/?server_name_indication=");
    memset(url + n, 'n', MQ_URL_FIELD_MAX + 1);
    url[n + MQ_URL_FIELD_MAX + 1] = '\0';
    struct mq_url u;
    char err[256];
    assert_int_equal(mq_url_parse(url, &u, err, sizeof err), -1);
    assert_non_null(strstr(err, "server_name_indication"));
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
        cmocka_unit_test(test_defaults),     cmocka_unit_test(test_fields),
        cmocka_unit_test(test_errors),       cmocka_unit_test(test_password_never_in_errors),
        cmocka_unit_test(test_query_absent), cmocka_unit_test(test_query),
        cmocka_unit_test(test_query_errors), cmocka_unit_test(test_userinfo),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
