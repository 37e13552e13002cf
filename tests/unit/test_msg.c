/*
 * test_msg.c - unit tests for common/msg.c: round trips, the id, and one or
 * more crafted bodies for every reason code the decoder can give.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

/* A growing string, so bodies can be built without sprintf. */
struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->p, cap);

        assert_non_null(p);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_add(struct sbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

static void sb_repeat(struct sbuf *b, char c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        sb_addn(b, &c, 1);
}

/* The fields of a valid body, as raw JSON values. */
struct field {
    const char *key;
    const char *raw;
};

static const struct field base_fields[] = {
    {"v", "1"},
    {"id", "\"0123456789abcdef0123456789abcdef\""},
    {"root", "\"/srv/in\""},
    {"path", "\"a/b.txt\""},
    {"size", "\"42\""},
    {"mtime", "\"1700000000.123456789\""},
    {"dev", "\"2049\""},
    {"ino", "\"12345\""},
    {"mode", "33188"},
    {"uid", "1000"},
    {"gid", "1000"},
    {"mime", "\"text/plain\""},
    {"scanned_at", "\"2026-11-25T12:00:00.123Z\""},
    {"host", "\"scanhost\""},
};
#define NFIELDS (sizeof base_fields / sizeof base_fields[0])

static const char *const required_keys[] = {"v",   "id",  "root", "path", "size",       "mtime",
                                            "dev", "ino", "mode", "uid",  "scanned_at", "host"};

/*
 * A valid body, except: key `drop` is left out, and key `key` gets the raw
 * JSON value `raw` (added at the end when it is not a base field). The
 * result is malloc'd.
 */
static char *body_with(const char *key, const char *raw, const char *drop)
{
    struct sbuf b = {NULL, 0, 0};
    int first = 1, found = 0;
    size_t i;

    sb_add(&b, "{");
    for (i = 0; i < NFIELDS; i++) {
        const char *v = base_fields[i].raw;

        if (drop != NULL && strcmp(drop, base_fields[i].key) == 0)
            continue;
        if (key != NULL && strcmp(key, base_fields[i].key) == 0) {
            v = raw;
            found = 1;
        }
        if (!first)
            sb_add(&b, ",");
        first = 0;
        sb_add(&b, "\"");
        sb_add(&b, base_fields[i].key);
        sb_add(&b, "\":");
        sb_add(&b, v);
    }
    if (key != NULL && !found) {
        sb_add(&b, ",\"");
        sb_add(&b, key);
        sb_add(&b, "\":");
        sb_add(&b, raw);
    }
    sb_add(&b, "}");
    return b.p;
}

/* Decode len bytes and check the code, the err sentence and the zeroed struct. */
static void expect_n(const char *body, size_t len, enum msg_err want)
{
    static struct msg m, zero;
    char err[256];
    enum msg_err got;

    memset(err, 'x', sizeof err);
    got = msg_decode(body, len, &m, err, sizeof err);
    if (got != want)
        print_error("body: %.200s\nerr: %s\n", body != NULL ? body : "(null)", err);
    assert_string_equal(msg_err_name(got), msg_err_name(want));
    assert_non_null(memchr(err, '\0', sizeof err));
    if (want == MSG_OK) {
        assert_string_equal(err, "");
    } else {
        /* A short sentence, never an echo of the input. */
        assert_true(strlen(err) > 5);
        assert_true(strlen(err) < 120);
        assert_memory_equal(&m, &zero, sizeof m);
    }
}

static void expect(const char *body, enum msg_err want)
{
    expect_n(body, strlen(body), want);
}

/* A body with one field replaced (or added), expected to give want. */
static void expect_field(const char *key, const char *raw, enum msg_err want)
{
    char *b = body_with(key, raw, NULL);

    expect(b, want);
    free(b);
}

/* A body with field drop removed and field key set to raw. */
static void expect_swap(const char *drop, const char *key, const char *raw, enum msg_err want)
{
    char *b = body_with(key, raw, drop);

    expect(b, want);
    free(b);
}

static void sample(struct msg *m)
{
    memset(m, 0, sizeof *m);
    m->v = MSG_VERSION;
    memcpy(m->root, "/srv/in", 8);
    m->root_len = 7;
    memcpy(m->path, "a/b.txt", 8);
    m->path_len = 7;
    m->size = 42;
    m->mtime_sec = 1700000000;
    m->mtime_nsec = 123456789;
    m->dev = 2049;
    m->ino = 12345;
    m->mode = 0100644;
    m->uid = 1000;
    m->gid = 1000;
    memcpy(m->mime, "text/plain", 11);
    memcpy(m->scanned_at, "2026-11-25T12:00:00.123Z", 25);
    memcpy(m->host, "scanhost", 9);
    msg_make_id(m);
}

static void assert_msg_equal(const struct msg *a, const struct msg *b)
{
    assert_int_equal(a->v, b->v);
    assert_string_equal(a->id, b->id);
    assert_int_equal(a->root_len, b->root_len);
    assert_memory_equal(a->root, b->root, a->root_len);
    assert_int_equal(b->root[b->root_len], '\0');
    assert_int_equal(a->path_len, b->path_len);
    assert_memory_equal(a->path, b->path, a->path_len);
    assert_int_equal(b->path[b->path_len], '\0');
    assert_true(a->size == b->size);
    assert_true(a->mtime_sec == b->mtime_sec);
    assert_true(a->mtime_nsec == b->mtime_nsec);
    assert_true(a->dev == b->dev);
    assert_true(a->ino == b->ino);
    assert_true(a->mode == b->mode);
    assert_true(a->uid == b->uid);
    assert_true(a->gid == b->gid);
    assert_string_equal(a->mime, b->mime);
    assert_string_equal(a->scanned_at, b->scanned_at);
    assert_string_equal(a->host, b->host);
    assert_string_equal(a->published_at, b->published_at);
    assert_string_equal(a->hash, b->hash);
}

/* Encode m, decode the result, compare; the text is left in buf. */
static void roundtrip(const struct msg *m, char *buf)
{
    static struct msg back;
    char err[256];
    size_t len = 0;

    assert_int_equal(msg_encode(m, buf, MSG_MAX_BYTES, &len, err, sizeof err), 0);
    assert_int_equal(len, strlen(buf));
    assert_true(len <= MSG_MAX_BYTES);
    assert_null(memchr(buf, '\n', len));
    assert_int_equal(msg_decode(buf, len, &back, err, sizeof err), MSG_OK);
    assert_msg_equal(m, &back);
}

static char buf[MSG_MAX_BYTES];

/* ---- round trips ---- */

/* The sample message with a fixed id (and published_at, unless NULL),
 * encoded into buf. */
static void encode_golden(struct msg *m, const char *published_at)
{
    char err[128];
    size_t len;
    sample(m);
    memcpy(m->id, "0123456789abcdef0123456789abcdef", 33);
    if (published_at != NULL)
        snprintf(m->published_at, sizeof m->published_at, "%s", published_at);
    assert_int_equal(msg_encode(m, buf, sizeof buf, &len, err, sizeof err), 0);
}

/* published_at: optional, after host; absent in older messages. */
static void test_published_at(void **state)
{
    struct msg m;
    char err[128];
    size_t len;

    (void)state;
    encode_golden(&m, "2026-11-25T12:00:01.500Z");
    assert_non_null(
        strstr(buf, "\"host\":\"scanhost\",\"published_at\":\"2026-11-25T12:00:01.500Z\"}"));
    roundtrip(&m, buf);
    m.published_at[0] = '\0'; /* an older scan's message: no field at all */
    assert_int_equal(msg_encode(&m, buf, sizeof buf, &len, err, sizeof err), 0);
    assert_null(strstr(buf, "published_at"));
    roundtrip(&m, buf);
    /* Validated like scanned_at: a string of valid UTF-8, at most 63 bytes. */
    expect_field("published_at", "\"2026-11-25T12:00:01.500Z\"", MSG_OK);
    expect_field("published_at", "\"\"", MSG_OK);
    expect_field("published_at", "1764072001", MSG_ERR_TYPE);
    expect_field("published_at",
                 "\"\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff"
                 "\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff"
                 "\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff"
                 "\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\"",
                 MSG_ERR_VALUE); /* 64 bytes */
    char *b = body_with("published_at", "\"x\"", NULL);
    size_t n = strlen(b);
    char *twice = malloc(n + 40);
    assert_non_null(twice);
    snprintf(twice, n + 40, "%.*s,\"published_at\":\"y\"}", (int)(n - 1), b);
    expect(twice, MSG_ERR_DUPLICATE);
    free(twice);
    free(b);
}

/* hash: optional, after published_at, "ALG:HEX" (hash.h): checked for
 * its form; an algorithm this version does not know is carried as is. */
static void test_hash(void **state)
{
    static struct msg m;
    char err[128];
    size_t len;

    (void)state;
    encode_golden(&m, "2026-11-25T12:00:01.500Z");
    assert_null(strstr(buf, "hash")); /* none: no field at all */
    snprintf(m.hash, sizeof m.hash, "xxh128:99aa06d3014798d86001c324468d497f");
    assert_int_equal(msg_encode(&m, buf, sizeof buf, &len, err, sizeof err), 0);
    assert_non_null(strstr(buf, "\"published_at\":\"2026-11-25T12:00:01.500Z\","
                                "\"hash\":\"xxh128:99aa06d3014798d86001c324468d497f\"}"));
    roundtrip(&m, buf);
    snprintf(m.hash, sizeof m.hash,
             "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    roundtrip(&m, buf);
    snprintf(m.hash, sizeof m.hash, "blake3:00ff");
    roundtrip(&m, buf);
    assert_string_equal(m.hash, "blake3:00ff");
    /* The encoder refuses what the decoder would. */
    snprintf(m.hash, sizeof m.hash, "xxh128:00");
    assert_int_equal(msg_encode(&m, buf, sizeof buf, &len, err, sizeof err), -1);
    assert_non_null(strstr(err, "'hash'"));
    snprintf(m.hash, sizeof m.hash, "md5");
    assert_int_equal(msg_encode(&m, buf, sizeof buf, &len, err, sizeof err), -1);

    expect_field("hash", "\"xxh128:99aa06d3014798d86001c324468d497f\"", MSG_OK);
    expect_field("hash", "\"blake3:00ff\"", MSG_OK);
    expect_field("hash", "\"\"", MSG_ERR_VALUE);
    expect_field("hash", "\"xxh128\"", MSG_ERR_VALUE);
    expect_field("hash", "\"XXH128:99AA06D3014798D86001C324468D497F\"", MSG_ERR_VALUE);
    expect_field("hash", "\"xxh128:99aa06d3014798d86001c324468d497\"", MSG_ERR_VALUE);
    expect_field("hash", "\"sha256:99aa06d3014798d86001c324468d497f\"", MSG_ERR_VALUE);
    expect_field("hash", "\"a b:00\"", MSG_ERR_VALUE);
    expect_field("hash",
                 "\"x:0123456789abcdef0123456789abcdef0123456789abcdef"
                 "0123456789abcdef0123456789abcde\"",
                 MSG_ERR_VALUE); /* 81 bytes */
    expect_field("hash", "null", MSG_ERR_TYPE);
    expect_field("hash", "1", MSG_ERR_TYPE);
    char *b = body_with("hash", "\"blake3:00ff\"", NULL);
    assert_int_equal(msg_decode(b, strlen(b), &m, err, sizeof err), MSG_OK);
    assert_string_equal(m.hash, "blake3:00ff");
    size_t n = strlen(b);
    char *twice = malloc(n + 40);
    assert_non_null(twice);
    snprintf(twice, n + 40, "%.*s,\"hash\":\"blake3:00ff\"}", (int)(n - 1), b);
    expect(twice, MSG_ERR_DUPLICATE);
    free(twice);
    free(b);
}

static void test_time_format_parse(void **state)
{
    char s[MSG_TIME_MAX + 1];
    double t;

    (void)state;
    struct timespec ts = {1764072000, 123999999};
    msg_time_format(&ts, s, sizeof s);
    assert_string_equal(s, "2025-11-25T12:00:00.123Z");
    ts.tv_sec += 86400 * 366 + 1;
    ts.tv_nsec = 5000000;
    msg_time_format(&ts, s, sizeof s);
    assert_string_equal(s, "2026-11-26T12:00:01.005Z");
    assert_int_equal(msg_time_parse(s, &t), 0);
    assert_true(t > 1764072000.0 + 86400 * 366 + 1.004 && t < 1764072000.0 + 86400 * 366 + 1.006);
    assert_int_equal(msg_time_parse("1970-01-01T00:00:00Z", &t), 0);
    assert_true(t == 0);
    assert_int_equal(msg_time_parse("2000-02-29T23:59:59.5Z", &t), 0);
    assert_true(t == 951868799.5);
    assert_int_equal(msg_time_parse("1969-12-31T23:59:59.000000001Z", &t), 0);
    assert_true(t < 0 && t > -1);
    static const char *const bad[] = {"",
                                      "2026-11-25",
                                      "2026-11-25T12:00:00",
                                      "2026-11-25 12:00:00Z",
                                      "2026-13-25T12:00:00Z",
                                      "2026-11-25T24:00:00Z",
                                      "2026-11-25T12:00:00.Z",
                                      "2026-11-25T12:00:00.123+01:00",
                                      "2026-11-25T12:00:00.1234567891Z",
                                      "2026-11-25T12:00:00Zx",
                                      "+026-11-25T12:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(msg_time_parse(bad[i], &t), -1);
}

static void test_encode_golden(void **state)
{
    struct msg m;

    (void)state;
    encode_golden(&m, NULL);
    assert_string_equal(
        buf, "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"root\":\"/srv/in\","
             "\"path\":\"a/b.txt\",\"size\":\"42\",\"mtime\":\"1700000000.123456789\","
             "\"dev\":\"2049\",\"ino\":\"12345\",\"mode\":33188,\"uid\":1000,\"gid\":1000,"
             "\"mime\":\"text/plain\",\"scanned_at\":\"2026-11-25T12:00:00.123Z\","
             "\"host\":\"scanhost\"}");
    /* The test bodies below are built from the same fields. */
    {
        char *b = body_with(NULL, NULL, NULL);
        assert_string_equal(b, buf);
        free(b);
    }
    expect(buf, MSG_OK);
}

static void test_roundtrip_basic(void **state)
{
    struct msg m;

    (void)state;
    sample(&m);
    roundtrip(&m, buf);
}

static void test_roundtrip_non_utf8_name(void **state)
{
    struct msg m;

    (void)state;
    sample(&m);
    memcpy(m.path, "dir/\xff\xfe", 7);
    m.path_len = 6;
    msg_make_id(&m);
    roundtrip(&m, buf);
    assert_non_null(strstr(buf, "\"path_b64\":\"ZGlyL//+\""));
    assert_null(strstr(buf, "\"path\":"));
    assert_non_null(strstr(buf, "\"root\":\"/srv/in\""));

    /* The root too, and one that is almost UTF-8 (a truncated sequence). */
    memcpy(m.root, "/srv/\xe2\x82", 8);
    m.root_len = 7;
    roundtrip(&m, buf);
    assert_non_null(strstr(buf, "\"root_b64\":"));
    assert_null(strstr(buf, "\"root\":"));
}

static void test_roundtrip_newline_name(void **state)
{
    struct msg m;

    (void)state;
    sample(&m);
    memcpy(m.path, "new\nline \"q\" \\ \t\x01\x7f", 19);
    m.path_len = 18;
    roundtrip(&m, buf);
    assert_non_null(strstr(buf, "\"path\":\"new\\nline \\\"q\\\" \\\\ \\t\\u0001\x7f\""));
}

static void test_roundtrip_utf8_name(void **state)
{
    struct msg m;

    (void)state;
    sample(&m);
    memcpy(m.path, "caf\xc3\xa9/\xf0\x9f\x98\x80", 11);
    m.path_len = 10;
    roundtrip(&m, buf);
    assert_non_null(strstr(buf, "\"path\":\"caf\xc3\xa9/\xf0\x9f\x98\x80\""));
}

static void test_roundtrip_big_numbers(void **state)
{
    struct msg m;

    (void)state;
    sample(&m);
    m.ino = UINT64_C(1) << 63;
    roundtrip(&m, buf);
    assert_non_null(strstr(buf, "\"ino\":\"9223372036854775808\""));
    m.ino = UINT64_MAX;
    m.dev = UINT64_MAX;
    m.size = UINT64_MAX;
    roundtrip(&m, buf);
    assert_non_null(strstr(buf, "\"size\":\"18446744073709551615\""));
    assert_non_null(strstr(buf, "\"dev\":\"18446744073709551615\""));
    assert_non_null(strstr(buf, "\"ino\":\"18446744073709551615\""));
    m.ino = 0;
    m.dev = 0;
    m.size = 0;
    roundtrip(&m, buf);
    assert_non_null(strstr(buf, "\"size\":\"0\""));
    m.mode = UINT32_MAX;
    m.uid = UINT32_MAX;
    m.gid = 0;
    roundtrip(&m, buf);
    assert_non_null(strstr(buf, "\"uid\":4294967295"));
}

static void check_mtime(int64_t sec, uint32_t nsec, const char *text)
{
    struct msg m;
    char want[64];

    sample(&m);
    m.mtime_sec = sec;
    m.mtime_nsec = nsec;
    roundtrip(&m, buf);
    snprintf(want, sizeof want, "\"mtime\":\"%s\"", text);
    assert_non_null(strstr(buf, want));
}

static void test_roundtrip_mtime(void **state)
{
    (void)state;
    check_mtime(0, 0, "0.000000000");
    check_mtime(0, 999999999, "0.999999999");
    check_mtime(1700000000, 999999999, "1700000000.999999999");
    /* Before 1970: the string is the decimal value of sec + nsec / 1e9. */
    check_mtime(-5, 0, "-5.000000000");
    check_mtime(-1, 999999999, "-0.000000001");
    check_mtime(-1, 1, "-0.999999999");
    check_mtime(-2, 500000000, "-1.500000000");
    check_mtime(INT64_MAX, 999999999, "9223372036854775807.999999999");
    check_mtime(INT64_MIN, 0, "-9223372036854775808.000000000");
    check_mtime(INT64_MIN, 1, "-9223372036854775807.999999999");
}

static void test_roundtrip_empty_mime_omitted(void **state)
{
    struct msg m;

    (void)state;
    sample(&m);
    m.mime[0] = '\0';
    roundtrip(&m, buf);
    assert_null(strstr(buf, "mime"));
    expect_field("mime", "\"\"", MSG_OK);
}

/* The worst case for size still fits MSG_MAX_BYTES, as msg.h promises. */
static void test_roundtrip_largest(void **state)
{
    struct msg m;

    (void)state;
    sample(&m);
    m.root[0] = '/';
    memset(m.root + 1, '\x01', MSG_PATH_MAX - 1);
    m.root[MSG_PATH_MAX] = '\0';
    m.root_len = MSG_PATH_MAX;
    memset(m.path, '\x01', MSG_PATH_MAX);
    m.path[MSG_PATH_MAX] = '\0';
    m.path_len = MSG_PATH_MAX;
    memset(m.mime, '\x01', MSG_MIME_MAX);
    m.mime[MSG_MIME_MAX] = '\0';
    memset(m.host, '\x01', MSG_HOST_MAX);
    m.host[MSG_HOST_MAX] = '\0';
    memset(m.scanned_at, '\x01', MSG_TIME_MAX);
    m.scanned_at[MSG_TIME_MAX] = '\0';
    m.size = m.dev = m.ino = UINT64_MAX;
    m.mtime_sec = INT64_MIN;
    m.mtime_nsec = 1;
    m.mode = m.uid = m.gid = UINT32_MAX;
    roundtrip(&m, buf);

    memset(m.path, '\xff', MSG_PATH_MAX);
    memset(m.root + 1, '\xff', MSG_PATH_MAX - 1);
    roundtrip(&m, buf);
    assert_non_null(strstr(buf, "\"path_b64\""));
}

/* ---- encoder ---- */

static void test_encode_buffer_too_small(void **state)
{
    struct msg m;
    char small[64];
    char err[128];
    size_t len = 7, need;

    (void)state;
    sample(&m);
    assert_int_equal(msg_encode(&m, buf, sizeof buf, &need, err, sizeof err), 0);
    assert_int_equal(msg_encode(&m, small, sizeof small, &len, err, sizeof err), -1);
    assert_non_null(strstr(err, "buffer"));
    assert_int_equal(len, 7);
    assert_int_equal(msg_encode(&m, small, 0, &len, err, sizeof err), -1);
    assert_int_equal(msg_encode(&m, buf, need, &len, NULL, 0), -1);
    /* Exactly the length plus a little slack for cJSON is enough. */
    assert_int_equal(msg_encode(&m, buf, need + 6, &len, NULL, 0), 0);
    assert_int_equal(len, need);
}

static void expect_encode_fails(const struct msg *m, const char *words)
{
    char err[128];
    size_t len;

    assert_int_equal(msg_encode(m, buf, sizeof buf, &len, err, sizeof err), -1);
    if (strstr(err, words) == NULL)
        print_error("err: %s\n", err);
    assert_non_null(strstr(err, words));
}

static void test_encode_validates(void **state)
{
    struct msg m;

    (void)state;
    sample(&m);
    memcpy(m.path, "a/../b", 7);
    m.path_len = 6;
    expect_encode_fails(&m, "path has a '..' component");
    sample(&m);
    memcpy(m.path, "/etc/passwd", 12);
    m.path_len = 11;
    expect_encode_fails(&m, "path is absolute");
    sample(&m);
    m.path_len = 0;
    expect_encode_fails(&m, "path is empty");
    sample(&m);
    m.path_len = MSG_PATH_MAX + 1;
    expect_encode_fails(&m, "path is longer");
    sample(&m);
    m.path[1] = '\0';
    expect_encode_fails(&m, "path contains a NUL");
    sample(&m);
    memcpy(m.root, "srv", 4);
    m.root_len = 3;
    expect_encode_fails(&m, "root is not absolute");
    sample(&m);
    memcpy(m.root, "/srv/..", 8);
    m.root_len = 7;
    expect_encode_fails(&m, "root has a '..'");
    sample(&m);
    m.root_len = 0;
    expect_encode_fails(&m, "root is empty");
    sample(&m);
    m.v = 2;
    expect_encode_fails(&m, "version 2");
    sample(&m);
    m.id[0] = 'A';
    expect_encode_fails(&m, "'id'");
    sample(&m);
    m.id[31] = '\0';
    expect_encode_fails(&m, "'id'");
    sample(&m);
    m.mtime_nsec = 1000000000;
    expect_encode_fails(&m, "nanoseconds");
    sample(&m);
    memset(m.host, 'h', sizeof m.host);
    expect_encode_fails(&m, "'host' is not NUL-terminated");
    sample(&m);
    memcpy(m.mime, "\xff", 2);
    expect_encode_fails(&m, "'mime' is not valid UTF-8");
    sample(&m);
    assert_int_equal(msg_encode(NULL, buf, sizeof buf, NULL, NULL, 0), -1);
}

/* ---- id ---- */

static void test_make_id(void **state)
{
    struct msg a, b;

    (void)state;
    sample(&a);
    /* Computed independently (Python) from the definition in the docs. */
    assert_string_equal(a.id, "bda8e82895812bcd3134eda0cc45d528");
    sample(&b);
    assert_string_equal(a.id, b.id);
    /* Fields outside the hash do not change it. */
    b.mode = 0;
    b.uid = 7;
    memcpy(b.host, "other", 6);
    memcpy(b.mime, "x/y", 4);
    msg_make_id(&b);
    assert_string_equal(a.id, b.id);

#define DIFFERS(stmt)                                                                              \
    do {                                                                                           \
        sample(&b);                                                                                \
        stmt;                                                                                      \
        msg_make_id(&b);                                                                           \
        assert_string_not_equal(a.id, b.id);                                                       \
    } while (0)
    DIFFERS(b.dev++);
    DIFFERS(b.ino++);
    DIFFERS(b.size++);
    DIFFERS(b.mtime_sec++);
    DIFFERS(b.mtime_sec = -b.mtime_sec);
    DIFFERS(b.mtime_nsec++);
    DIFFERS(b.root[1] = 'S');
    DIFFERS(b.path[0] = 'A');
    DIFFERS(b.path_len--);
    DIFFERS(b.root_len--);
    /* The separator keeps "/srv/in" + "a/b.txt" apart from "/srv/ina" + "/b.txt". */
    DIFFERS((memcpy(b.root, "/srv/ina", 9), b.root_len = 8, memcpy(b.path, "/b.txt", 7),
             b.path_len = 6));
#undef DIFFERS
    /* Each differs in hex, lowercase only. */
    for (size_t i = 0; i < MSG_ID_LEN; i++)
        assert_non_null(strchr("0123456789abcdef", a.id[i]));
    assert_int_equal(strlen(a.id), MSG_ID_LEN);
}

/* ---- names and path checks ---- */

static void test_err_names(void **state)
{
    int i, j;

    (void)state;
    for (i = 0; i < MSG_ERR__COUNT; i++) {
        const char *n = msg_err_name((enum msg_err)i);

        assert_non_null(n);
        assert_string_not_equal(n, "unknown");
        for (j = 0; j < i; j++)
            assert_string_not_equal(n, msg_err_name((enum msg_err)j));
    }
    assert_string_equal(msg_err_name(MSG_ERR__COUNT), "unknown");
    assert_string_equal(msg_err_name((enum msg_err) - 1), "unknown");
    assert_string_equal(msg_err_name(MSG_ERR_PATH_DOTDOT), "dotdot");
    assert_string_equal(msg_err_name(MSG_ERR_JSON), "malformed-json");
}

static void test_check_path(void **state)
{
    (void)state;
    assert_int_equal(msg_check_path("a", 1), MSG_OK);
    assert_int_equal(msg_check_path("a/b/c", 5), MSG_OK);
    assert_int_equal(msg_check_path("..a/a../.../.b./.", 17), MSG_OK);
    assert_int_equal(msg_check_path(NULL, 0), MSG_ERR_PATH_EMPTY);
    assert_int_equal(msg_check_path("", 0), MSG_ERR_PATH_EMPTY);
    assert_int_equal(msg_check_path("/etc/passwd", 11), MSG_ERR_PATH_ABSOLUTE);
    assert_int_equal(msg_check_path("..", 2), MSG_ERR_PATH_DOTDOT);
    assert_int_equal(msg_check_path("../a", 4), MSG_ERR_PATH_DOTDOT);
    assert_int_equal(msg_check_path("a/..", 4), MSG_ERR_PATH_DOTDOT);
    assert_int_equal(msg_check_path("a/../b", 6), MSG_ERR_PATH_DOTDOT);
    assert_int_equal(msg_check_path("a//../b", 7), MSG_ERR_PATH_DOTDOT);
    assert_int_equal(msg_check_path("a\0b", 3), MSG_ERR_PATH_NUL);
    /* Only len bytes count: the ".." after them is not looked at. */
    assert_int_equal(msg_check_path("a/..", 2), MSG_OK);
    {
        static char longp[MSG_PATH_MAX + 2];

        memset(longp, 'a', sizeof longp);
        assert_int_equal(msg_check_path(longp, MSG_PATH_MAX), MSG_OK);
        assert_int_equal(msg_check_path(longp, MSG_PATH_MAX + 1), MSG_ERR_PATH_LONG);
    }
}

/* ---- decoder: one group per reason code ---- */

static void test_decode_valid_variants(void **state)
{
    struct msg m;
    char err[128];
    char *b;

    (void)state;
    expect_field("v", "1.0", MSG_OK);
    expect_field("v", "1e0", MSG_OK);
    expect_field("mode", "0", MSG_OK);
    expect_field("mode", "4294967295", MSG_OK);
    expect_field("uid", "1.0e3", MSG_OK);
    expect_field("mtime", "\"-9223372036854775808.000000000\"", MSG_OK);
    expect_field("mtime", "\"9223372036854775807.999999999\"", MSG_OK);
    expect_field("size", "\"0\"", MSG_OK);
    expect_field("size", "\"18446744073709551615\"", MSG_OK);
    expect_field("path", "\"..a/a../...\"", MSG_OK);
    expect_field("path", "\"a\\\\u0000\"", MSG_OK); /* a backslash, then "u0000" */
    expect_field("path", "\"caf\\u00e9 \\ud83d\\ude00\"", MSG_OK);
    expect_field("path", "\"tab\\there\\nnewline\"", MSG_OK);
    expect_field("root", "\"/\"", MSG_OK);
    expect_field("unknown_field", "{\"nested\":[1,2,{\"x\":null}]}", MSG_OK);
    expect_field("Path", "\"/etc/passwd\"", MSG_OK); /* keys are case-sensitive */
    expect_swap("mime", NULL, NULL, MSG_OK);
    expect_swap("path", "path_b64", "\"ZGlyL//+\"", MSG_OK);
    expect_swap("root", "root_b64", "\"L3Nydi9pbg==\"", MSG_OK);
    expect(" \t\r\n{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"root\":\"/r\","
           "\"path\":\"p\",\"size\":\"1\",\"mtime\":\"1.000000000\",\"dev\":\"1\",\"ino\":\"1\","
           "\"mode\":1,\"uid\":1,\"gid\":1,\"scanned_at\":\"\",\"host\":\"\"} \n",
           MSG_OK);

    /* The decoded values. */
    b = body_with("path_b64", "\"ZGlyL//+\"", "path");
    assert_int_equal(msg_decode(b, strlen(b), &m, err, sizeof err), MSG_OK);
    free(b);
    assert_int_equal(m.v, 1);
    assert_int_equal(m.path_len, 6);
    assert_memory_equal(m.path, "dir/\xff\xfe", 7);
    assert_string_equal(m.root, "/srv/in");
    assert_int_equal(m.root_len, 7);
    assert_true(m.size == 42 && m.dev == 2049 && m.ino == 12345);
    assert_true(m.mtime_sec == 1700000000 && m.mtime_nsec == 123456789);
    assert_true(m.mode == 0100644 && m.uid == 1000 && m.gid == 1000);
    assert_string_equal(m.id, "0123456789abcdef0123456789abcdef");
    assert_string_equal(m.mime, "text/plain");
    assert_string_equal(m.scanned_at, "2026-11-25T12:00:00.123Z");
    assert_string_equal(m.host, "scanhost");

    b = body_with("mtime", "\"-0.000000001\"", NULL);
    assert_int_equal(msg_decode(b, strlen(b), &m, NULL, 0), MSG_OK);
    free(b);
    assert_true(m.mtime_sec == -1 && m.mtime_nsec == 999999999);

    b = body_with("path", "\"a\\\\u0000\"", NULL);
    assert_int_equal(msg_decode(b, strlen(b), &m, NULL, 0), MSG_OK);
    free(b);
    assert_string_equal(m.path, "a\\u0000");
}

/* The decoder reads exactly len bytes of an unterminated body (ASan checks). */
static void test_decode_unterminated(void **state)
{
    char *b = body_with(NULL, NULL, NULL);
    size_t n = strlen(b);
    char *copy = malloc(n);

    (void)state;
    assert_non_null(copy);
    memcpy(copy, b, n);
    expect_n(copy, n, MSG_OK);
    expect_n(copy, n - 1, MSG_ERR_JSON);
    free(copy);
    free(b);
}

static void test_decode_oversized(void **state)
{
    char *b = body_with(NULL, NULL, NULL);
    size_t n = strlen(b);
    char *big = malloc(MSG_MAX_BYTES + 1);

    (void)state;
    assert_non_null(big);
    /* A valid message padded with whitespace to exactly the limit is fine... */
    memset(big, ' ', MSG_MAX_BYTES + 1);
    memcpy(big, b, n);
    expect_n(big, MSG_MAX_BYTES, MSG_OK);
    /* ...one byte more is not. */
    expect_n(big, MSG_MAX_BYTES + 1, MSG_ERR_OVERSIZED);
    expect_n(big, SIZE_MAX, MSG_ERR_OVERSIZED);
    free(big);
    free(b);
}

static void test_decode_malformed_json(void **state)
{
    char *b = body_with(NULL, NULL, NULL);
    struct sbuf deep = {NULL, 0, 0};
    struct msg m;

    (void)state;
    expect_n("", 0, MSG_ERR_JSON);
    expect_n(NULL, 0, MSG_ERR_JSON);
    assert_int_equal(msg_decode(NULL, 0, &m, NULL, 0), MSG_ERR_JSON);
    expect(" ", MSG_ERR_JSON);
    expect("{", MSG_ERR_JSON);
    expect("{\"v\":1,}", MSG_ERR_JSON);
    expect("{'v':1}", MSG_ERR_JSON);
    expect("{\"v\":+1}", MSG_ERR_JSON);
    expect("{\"v\":NaN}", MSG_ERR_JSON);
    expect("{\"v\":1}{\"v\":1}", MSG_ERR_JSON);
    expect("{\"path\":\"\\ud800\"}", MSG_ERR_JSON); /* lone surrogate escape */
    expect("{\"path\":\"\\x41\"}", MSG_ERR_JSON);
    /* Trailing garbage after a complete message. */
    {
        struct sbuf t = {NULL, 0, 0};

        sb_add(&t, b);
        sb_add(&t, " x");
        expect(t.p, MSG_ERR_JSON);
        free(t.p);
    }
    /* Truncated anywhere, including inside a multibyte UTF-8 sequence. */
    expect_n(b, strlen(b) - 1, MSG_ERR_JSON);
    expect_n(b, strlen(b) / 2, MSG_ERR_JSON);
    expect("{\"path\":\"caf\xc3", MSG_ERR_JSON);
    /* Deep nesting is refused, not a stack overflow. */
    sb_repeat(&deep, '[', 10000);
    expect(deep.p, MSG_ERR_JSON);
    deep.len = 0;
    sb_add(&deep, "{\"x\":");
    sb_repeat(&deep, '[', 10000);
    sb_repeat(&deep, ']', 10000);
    sb_add(&deep, "}");
    expect(deep.p, MSG_ERR_JSON);
    free(deep.p);
    free(b);
}

static void test_decode_not_object(void **state)
{
    char *b = body_with(NULL, NULL, NULL);
    struct sbuf arr = {NULL, 0, 0};

    (void)state;
    expect("[]", MSG_ERR_NOT_OBJECT);
    expect("1", MSG_ERR_NOT_OBJECT);
    expect("\"x\"", MSG_ERR_NOT_OBJECT);
    expect("null", MSG_ERR_NOT_OBJECT);
    expect("true", MSG_ERR_NOT_OBJECT);
    sb_add(&arr, "[");
    sb_add(&arr, b);
    sb_add(&arr, "]");
    expect(arr.p, MSG_ERR_NOT_OBJECT);
    free(arr.p);
    free(b);
}

static void test_decode_missing(void **state)
{
    size_t i;

    (void)state;
    expect("{}", MSG_ERR_MISSING);
    for (i = 0; i < sizeof required_keys / sizeof required_keys[0]; i++) {
        char *b = body_with(NULL, NULL, required_keys[i]);
        char err[128], want[64];
        struct msg m;

        expect(b, MSG_ERR_MISSING);
        msg_decode(b, strlen(b), &m, err, sizeof err);
        snprintf(want, sizeof want, "missing field '%s'", required_keys[i]);
        assert_non_null(strstr(err, want));
        free(b);
    }
}

static void test_decode_wrong_type(void **state)
{
    (void)state;
    expect_field("v", "\"1\"", MSG_ERR_TYPE);
    expect_field("v", "true", MSG_ERR_TYPE);
    expect_field("v", "null", MSG_ERR_TYPE);
    expect_field("id", "1", MSG_ERR_TYPE);
    expect_field("root", "[\"/srv\"]", MSG_ERR_TYPE);
    expect_swap("root", "root_b64", "7", MSG_ERR_TYPE);
    expect_field("path", "true", MSG_ERR_TYPE);
    expect_swap("path", "path_b64", "{}", MSG_ERR_TYPE);
    expect_field("size", "42", MSG_ERR_TYPE);
    expect_field("mtime", "1700000000.5", MSG_ERR_TYPE);
    expect_field("dev", "null", MSG_ERR_TYPE);
    expect_field("ino", "12345", MSG_ERR_TYPE);
    expect_field("mode", "\"33188\"", MSG_ERR_TYPE);
    expect_field("uid", "true", MSG_ERR_TYPE);
    expect_field("gid", "[]", MSG_ERR_TYPE);
    expect_field("mime", "1", MSG_ERR_TYPE);
    expect_field("mime", "null", MSG_ERR_TYPE);
    expect_field("scanned_at", "0", MSG_ERR_TYPE);
    expect_field("host", "false", MSG_ERR_TYPE);
}

static void test_decode_version(void **state)
{
    (void)state;
    expect_field("v", "2", MSG_ERR_VERSION);
    expect_field("v", "0", MSG_ERR_VERSION);
    expect_field("v", "-1", MSG_ERR_VERSION);
    expect_field("v", "1.5", MSG_ERR_VERSION);
    expect_field("v", "1.0000001", MSG_ERR_VERSION);
    expect_field("v", "1e400", MSG_ERR_VERSION);
    expect_field("v", "-1e400", MSG_ERR_VERSION);
    /* A v2 message is reported as such, even when v1 fields are missing. */
    expect("{\"v\":2,\"file\":{}}", MSG_ERR_VERSION);
}

static void test_decode_bad_value(void **state)
{
    struct sbuf s = {NULL, 0, 0};

    (void)state;
    /* id */
    expect_field("id", "\"0123456789ABCDEF0123456789abcdef\"", MSG_ERR_VALUE);
    expect_field("id", "\"0123456789abcdef\"", MSG_ERR_VALUE);
    expect_field("id", "\"0123456789abcdef0123456789abcdef0\"", MSG_ERR_VALUE);
    expect_field("id", "\"0123456789abcdeg0123456789abcdef\"", MSG_ERR_VALUE);
    expect_field("id", "\"\"", MSG_ERR_VALUE);
    /* decimal strings */
    expect_field("size", "\"\"", MSG_ERR_VALUE);
    expect_field("size", "\"042\"", MSG_ERR_VALUE);
    expect_field("size", "\"00\"", MSG_ERR_VALUE);
    expect_field("size", "\"-1\"", MSG_ERR_VALUE);
    expect_field("size", "\"+1\"", MSG_ERR_VALUE);
    expect_field("size", "\" 1\"", MSG_ERR_VALUE);
    expect_field("size", "\"1 \"", MSG_ERR_VALUE);
    expect_field("size", "\"1e3\"", MSG_ERR_VALUE);
    expect_field("size", "\"0x10\"", MSG_ERR_VALUE);
    expect_field("size", "\"18446744073709551616\"", MSG_ERR_VALUE);
    expect_field("dev", "\"99999999999999999999\"", MSG_ERR_VALUE);
    expect_field("ino", "\"184467440737095516150\"", MSG_ERR_VALUE);
    expect_field("ino", "\"999999999999999999999999999999999999999999999999999999999999999999999\"",
                 MSG_ERR_VALUE);
    /* mtime */
    expect_field("mtime", "\"1\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"1.5\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"1.1234567890\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"1.12345678x\"", MSG_ERR_VALUE);
    expect_field("mtime", "\".000000000\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"-.000000000\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"01.000000000\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"+1.000000000\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"--1.000000000\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"1,000000000\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"1.000000000.0\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"-0.000000000\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"9223372036854775808.000000000\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"-9223372036854775808.000000001\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"-9223372036854775809.000000000\"", MSG_ERR_VALUE);
    expect_field("mtime", "\"99999999999999999999999.000000000\"", MSG_ERR_VALUE);
    /* mode, uid, gid */
    expect_field("mode", "-1", MSG_ERR_VALUE);
    expect_field("mode", "1.5", MSG_ERR_VALUE);
    expect_field("mode", "4294967296", MSG_ERR_VALUE);
    expect_field("mode", "1e300", MSG_ERR_VALUE);
    expect_field("mode", "1e400", MSG_ERR_VALUE);
    expect_field("uid", "-0.5", MSG_ERR_VALUE);
    expect_field("uid", "4294967295.5", MSG_ERR_VALUE);
    expect_field("gid",
                 "99999999999999999999999999999999999999999999999999999999999999999999999999",
                 MSG_ERR_VALUE);
    /* text fields over their limits or not UTF-8 */
    sb_add(&s, "\"");
    sb_repeat(&s, 'm', MSG_MIME_MAX + 1);
    sb_add(&s, "\"");
    expect_field("mime", s.p, MSG_ERR_VALUE);
    expect_field("host", s.p, MSG_ERR_VALUE);
    s.len = 0;
    sb_add(&s, "\"");
    sb_repeat(&s, 't', MSG_TIME_MAX + 1);
    sb_add(&s, "\"");
    expect_field("scanned_at", s.p, MSG_ERR_VALUE);
    expect_field("host", "\"h\xff\"", MSG_ERR_VALUE);
    free(s.p);
    /* Raw bytes that are not UTF-8 in plain root/path: the b64 form is for them. */
    expect_field("path", "\"dir/\xff\xfe\"", MSG_ERR_VALUE);
    expect_field("path", "\"caf\xc3\"", MSG_ERR_VALUE);          /* truncated */
    expect_field("path", "\"caf\xc3.txt\"", MSG_ERR_VALUE);      /* truncated mid-string */
    expect_field("path", "\"\xe2\x82\"", MSG_ERR_VALUE);         /* truncated 3-byte */
    expect_field("path", "\"\xc0\xaf\"", MSG_ERR_VALUE);         /* overlong '/' */
    expect_field("path", "\"\xe0\x80\xaf\"", MSG_ERR_VALUE);     /* overlong '/' */
    expect_field("path", "\"\xf0\x80\x80\xaf\"", MSG_ERR_VALUE); /* overlong '/' */
    expect_field("path", "\"\xed\xa0\x80\"", MSG_ERR_VALUE);     /* surrogate U+D800 */
    expect_field("path", "\"\xf4\x90\x80\x80\"", MSG_ERR_VALUE); /* U+110000 */
    expect_field("path", "\"\xf8\x88\x80\x80\x80\"", MSG_ERR_VALUE);
    expect_field("path", "\"\x80\"", MSG_ERR_VALUE);
    expect_field("root", "\"/srv/\xff\"", MSG_ERR_VALUE);
    /* The whole body is checked for UTF-8 before its type, v and fields are looked at. */
    expect("[\"\xff\"]", MSG_ERR_VALUE);
    expect("{\"v\":2,\"x\":\"\xff\"}", MSG_ERR_VALUE);
    /* base64 */
    expect_swap("path", "path_b64", "\"YQ=\"", MSG_ERR_VALUE);
    expect_swap("path", "path_b64", "\"YQ\"", MSG_ERR_VALUE);
    expect_swap("path", "path_b64", "\"Y===\"", MSG_ERR_VALUE);
    expect_swap("path", "path_b64", "\"====\"", MSG_ERR_VALUE);
    expect_swap("path", "path_b64", "\"Y!==\"", MSG_ERR_VALUE);
    expect_swap("path", "path_b64", "\"YQ==YQ==\"", MSG_ERR_VALUE);
    expect_swap("path", "path_b64", "\"Y=Q=\"", MSG_ERR_VALUE);
    expect_swap("path", "path_b64", "\"YR==\"", MSG_ERR_VALUE); /* unused bits set */
    expect_swap("path", "path_b64", "\"YWJ=\"", MSG_ERR_VALUE); /* unused bits set */
    expect_swap("path", "path_b64", "\"YWJj\\n\"", MSG_ERR_VALUE);
    expect_swap("path", "path_b64", "\"YW Jj\"", MSG_ERR_VALUE);
    expect_swap("path", "path_b64", "\"YW-_\"", MSG_ERR_VALUE); /* URL alphabet */
    expect_swap("root", "root_b64", "\"L3Nydi9pbg\"", MSG_ERR_VALUE);
}

static void test_decode_long_input_not_echoed(void **state)
{
    struct sbuf s = {NULL, 0, 0};
    char err[256];
    struct msg m;
    char *b;

    (void)state;
    sb_add(&s, "\"");
    sb_repeat(&s, 'Q', 5000);
    sb_add(&s, "\"");
    b = body_with("id", s.p, NULL);
    assert_int_equal(msg_decode(b, strlen(b), &m, err, sizeof err), MSG_ERR_VALUE);
    assert_null(strstr(err, "QQQQ"));
    free(b);
    free(s.p);
    /* A tiny err buffer is still terminated; none at all is fine. */
    b = body_with(NULL, NULL, "ino");
    assert_int_equal(msg_decode(b, strlen(b), &m, err, 4), MSG_ERR_MISSING);
    assert_string_equal(err, "mis");
    assert_int_equal(msg_decode(b, strlen(b), &m, NULL, 0), MSG_ERR_MISSING);
    free(b);
}

static void test_decode_duplicate(void **state)
{
    char *b;
    struct sbuf s = {NULL, 0, 0};
    int i;

    (void)state;
    expect_field("path", "\"x\"", MSG_OK); /* replaces: not a duplicate */
    b = body_with(NULL, NULL, NULL);
    b[strlen(b) - 1] = '\0';
    sb_add(&s, b);
    sb_add(&s, ",\"path\":\"a/b.txt\"}");
    expect(s.p, MSG_ERR_DUPLICATE);
    s.len = 0;
    sb_add(&s, b);
    sb_add(&s, ",\"v\":1}");
    expect(s.p, MSG_ERR_DUPLICATE);
    s.len = 0;
    sb_add(&s, b);
    sb_add(&s, ",\"ino\":\"1\",\"ino\":\"2\"}");
    expect(s.p, MSG_ERR_DUPLICATE);
    s.len = 0;
    sb_add(&s, b);
    sb_add(&s, ",\"mime\":\"a/b\"}");
    expect(s.p, MSG_ERR_DUPLICATE);
    /* Many unknown keys, some repeated, are fine. */
    s.len = 0;
    sb_add(&s, b);
    for (i = 0; i < 3000; i++)
        sb_add(&s, i % 2 ? ",\"x\":0" : ",\"y\":[]");
    sb_add(&s, "}");
    expect(s.p, MSG_OK);
    free(s.p);
    free(b);
    /* Both forms of one field. */
    expect_field("path_b64", "\"YQ==\"", MSG_ERR_DUPLICATE);
    expect_field("root_b64", "\"L3I=\"", MSG_ERR_DUPLICATE);
}

static void test_decode_empty_path(void **state)
{
    (void)state;
    expect_field("path", "\"\"", MSG_ERR_PATH_EMPTY);
    expect_swap("path", "path_b64", "\"\"", MSG_ERR_PATH_EMPTY);
    expect_field("root", "\"\"", MSG_ERR_PATH_EMPTY);
    expect_swap("root", "root_b64", "\"\"", MSG_ERR_PATH_EMPTY);
}

static void test_decode_absolute_path(void **state)
{
    (void)state;
    expect_field("path", "\"/etc/passwd\"", MSG_ERR_PATH_ABSOLUTE);
    expect_field("path", "\"/\"", MSG_ERR_PATH_ABSOLUTE);
    expect_field("path", "\"\\/etc\\/passwd\"", MSG_ERR_PATH_ABSOLUTE); /* escaped slashes */
    expect_swap("path", "path_b64", "\"L2V0Yy9wYXNzd2Q=\"", MSG_ERR_PATH_ABSOLUTE);
}

static void test_decode_dotdot(void **state)
{
    (void)state;
    expect_field("path", "\"..\"", MSG_ERR_PATH_DOTDOT);
    expect_field("path", "\"a/../b\"", MSG_ERR_PATH_DOTDOT);
    expect_field("path", "\"../etc/passwd\"", MSG_ERR_PATH_DOTDOT);
    expect_field("path", "\"a/..\"", MSG_ERR_PATH_DOTDOT);
    expect_field("path", "\"a/../\"", MSG_ERR_PATH_DOTDOT);
    expect_field("path", "\"\\u002e\\u002e/x\"", MSG_ERR_PATH_DOTDOT);    /* escaped dots */
    expect_swap("path", "path_b64", "\"Li4vZXRj\"", MSG_ERR_PATH_DOTDOT); /* "../etc" */
    expect_field("root", "\"/srv/../etc\"", MSG_ERR_PATH_DOTDOT);
    expect_field("root", "\"/..\"", MSG_ERR_PATH_DOTDOT);
}

static void test_decode_nul(void **state)
{
    char *b = body_with(NULL, NULL, NULL);
    size_t n = strlen(b);

    (void)state;
    /* A raw NUL anywhere in the body, even where JSON allows nothing. */
    b[n - 1] = '\0';
    expect_n(b, n, MSG_ERR_PATH_NUL);
    expect_n("\0", 1, MSG_ERR_PATH_NUL);
    expect_n("{\"path\":\"a\0b\"}", 14, MSG_ERR_PATH_NUL);
    free(b);
    /* The escape, which cJSON would silently turn into a shorter string. */
    expect_field("path", "\"a\\u0000/../../etc/passwd\"", MSG_ERR_PATH_NUL);
    expect_field("path", "\"\\u0000\"", MSG_ERR_PATH_NUL);
    expect_field("path", "\"a\\\\\\u0000\"", MSG_ERR_PATH_NUL); /* "\\" then the escape */
    expect_field("root", "\"/srv\\u0000\"", MSG_ERR_PATH_NUL);
    expect_field("host", "\"h\\u0000\"", MSG_ERR_PATH_NUL);
    expect_field("x\\u0000y", "1", MSG_ERR_PATH_NUL); /* in a key */
    expect_field("path\\u0000", "\"x\"", MSG_ERR_PATH_NUL);
    /* NUL bytes from base64 */
    expect_swap("path", "path_b64", "\"YQBi\"", MSG_ERR_PATH_NUL); /* "a\0b" */
    expect_swap("path", "path_b64", "\"AA==\"", MSG_ERR_PATH_NUL); /* "\0" */
    expect_swap("root", "root_b64", "\"L3IA\"", MSG_ERR_PATH_NUL); /* "/r\0" */
}

static void test_decode_path_too_long(void **state)
{
    struct sbuf s = {NULL, 0, 0};
    static unsigned char raw[MSG_PATH_MAX + 1];
    static const char b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;

    (void)state;
    sb_add(&s, "\"");
    sb_repeat(&s, 'a', MSG_PATH_MAX);
    sb_add(&s, "\"");
    expect_field("path", s.p, MSG_OK);
    s.len = 0;
    sb_add(&s, "\"");
    sb_repeat(&s, 'a', MSG_PATH_MAX + 1);
    sb_add(&s, "\"");
    expect_field("path", s.p, MSG_ERR_PATH_LONG);
    s.len = 0;
    sb_add(&s, "\"/");
    sb_repeat(&s, 'r', MSG_PATH_MAX);
    sb_add(&s, "\"");
    expect_field("root", s.p, MSG_ERR_PATH_LONG);
    /* 4097 bytes base64-encoded (0xff, so not UTF-8). */
    memset(raw, 0xff, sizeof raw);
    s.len = 0;
    sb_add(&s, "\"");
    for (i = 0; i + 3 <= sizeof raw; i += 3) {
        unsigned t = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
        char q[4] = {b64c[t >> 18], b64c[(t >> 12) & 63], b64c[(t >> 6) & 63], b64c[t & 63]};

        sb_addn(&s, q, 4);
    }
    /* 4097 = 3 * 1365 + 2 */
    sb_add(&s, "//8=\"");
    expect_swap("path", "path_b64", s.p, MSG_ERR_PATH_LONG);
    free(s.p);
}

static void test_decode_relative_root(void **state)
{
    (void)state;
    expect_field("root", "\"srv/in\"", MSG_ERR_ROOT_RELATIVE);
    expect_field("root", "\".\"", MSG_ERR_ROOT_RELATIVE);
    expect_swap("root", "root_b64", "\"c3J2\"", MSG_ERR_ROOT_RELATIVE); /* "srv" */
}

/* Every reason code is reachable from some body. */
static void test_every_code_provoked(void **state)
{
    static const char *const bodies[MSG_ERR__COUNT] = {
        [MSG_ERR_JSON] = "{",
        [MSG_ERR_NOT_OBJECT] = "[]",
        [MSG_ERR_MISSING] = "{\"v\":1}",
        [MSG_ERR_TYPE] = "{\"v\":\"1\"}",
        [MSG_ERR_VERSION] = "{\"v\":2}",
        [MSG_ERR_PATH_NUL] = "{\"v\":\"\\u0000\"}",
    };
    int i;

    (void)state;
    for (i = 1; i < MSG_ERR__COUNT; i++)
        if (bodies[i] != NULL)
            expect(bodies[i], (enum msg_err)i);
    /* The others are covered field by field above; spot-check one each. */
    expect_field("id", "\"x\"", MSG_ERR_VALUE);
    expect_field("host", "\"a\",\"host\":\"b\"", MSG_ERR_DUPLICATE);
    expect_field("path", "\"\"", MSG_ERR_PATH_EMPTY);
    expect_field("path", "\"/etc/passwd\"", MSG_ERR_PATH_ABSOLUTE);
    expect_field("path", "\"..\"", MSG_ERR_PATH_DOTDOT);
    expect_field("root", "\"r\"", MSG_ERR_ROOT_RELATIVE);
    {
        char *big = malloc(MSG_MAX_BYTES + 1);

        assert_non_null(big);
        memset(big, '{', MSG_MAX_BYTES + 1);
        expect_n(big, MSG_MAX_BYTES + 1, MSG_ERR_OVERSIZED);
        free(big);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_golden),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_roundtrip_basic),
        cmocka_unit_test(test_roundtrip_non_utf8_name),
        cmocka_unit_test(test_roundtrip_newline_name),
        cmocka_unit_test(test_roundtrip_utf8_name),
        cmocka_unit_test(test_roundtrip_big_numbers),
        cmocka_unit_test(test_roundtrip_mtime),
        cmocka_unit_test(test_roundtrip_empty_mime_omitted),
        cmocka_unit_test(test_roundtrip_largest),
        cmocka_unit_test(test_encode_buffer_too_small),
        cmocka_unit_test(test_encode_validates),
        cmocka_unit_test(test_make_id),
        cmocka_unit_test(test_err_names),
        cmocka_unit_test(test_check_path),
        cmocka_unit_test(test_decode_valid_variants),
        cmocka_unit_test(test_decode_unterminated),
        cmocka_unit_test(test_decode_oversized),
        cmocka_unit_test(test_decode_malformed_json),
        cmocka_unit_test(test_decode_not_object),
        cmocka_unit_test(test_decode_missing),
        cmocka_unit_test(test_decode_wrong_type),
        cmocka_unit_test(test_decode_version),
        cmocka_unit_test(test_decode_bad_value),
        cmocka_unit_test(test_decode_long_input_not_echoed),
        cmocka_unit_test(test_decode_duplicate),
        cmocka_unit_test(test_decode_empty_path),
        cmocka_unit_test(test_decode_absolute_path),
        cmocka_unit_test(test_decode_dotdot),
        cmocka_unit_test(test_decode_nul),
        cmocka_unit_test(test_decode_path_too_long),
        cmocka_unit_test(test_decode_relative_root),
        cmocka_unit_test(test_every_code_provoked),
        cmocka_unit_test(test_published_at),
        cmocka_unit_test(test_time_format_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
