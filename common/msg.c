/*
 * msg.c - the scanmove message, format version 1: encode, decode and
 * validate it.
 *
 * This is the only file that knows about cJSON. The decoder treats its input
 * as hostile: it checks the size and the raw bytes (NUL bytes, \u0000
 * escapes, strict JSON syntax, UTF-8) before cJSON sees them, parses a
 * private NUL-terminated copy, and then checks every known field. The
 * encoder runs the same checks, so anything msg_encode writes, msg_decode
 * accepts and turns back into the same struct (tests/fuzz/fuzz_msg.c asserts
 * that). The helpers below the schema live in their own files: json_strict.c
 * (syntax), utf8.c, base64.c, decimal.c (numbers and mtime), msg_id.c and
 * fnv128.c (the id), and hash.c (the content hash's form).
 *
 * XXX cJSON records the position of the last parse error in a global, so
 * concurrent msg_decode calls race on it (the result is still correct; only a
 * thread sanitizer would notice). cJSON also formats and parses numbers with
 * the C library's locale; every number this format uses is an integer, which
 * no locale changes.
 */
#include "msg.h"

#include "base64.h"
#include "decimal.h"
#include "hash.h"
#include "json_strict.h"
#include "utf8.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSEC_PER_SEC 1000000000u
#define U64_DIGITS_MAX 20 /* "18446744073709551615" */

static const char *const err_names[MSG_ERR__COUNT] = {
    [MSG_OK] = "ok",
    [MSG_ERR_OVERSIZED] = "oversized",
    [MSG_ERR_JSON] = "malformed-json",
    [MSG_ERR_NOT_OBJECT] = "not-object",
    [MSG_ERR_MISSING] = "missing-field",
    [MSG_ERR_TYPE] = "wrong-type",
    [MSG_ERR_VERSION] = "unknown-version",
    [MSG_ERR_VALUE] = "bad-value",
    [MSG_ERR_DUPLICATE] = "duplicate-field",
    [MSG_ERR_PATH_EMPTY] = "empty-path",
    [MSG_ERR_PATH_ABSOLUTE] = "absolute-path",
    [MSG_ERR_PATH_DOTDOT] = "dotdot",
    [MSG_ERR_PATH_NUL] = "nul-byte",
    [MSG_ERR_PATH_LONG] = "path-too-long",
    [MSG_ERR_ROOT_RELATIVE] = "relative-root",
};

/* The fields the decoder knows; every other key is ignored. */
enum key {
    K_V,
    K_ID,
    K_ROOT,
    K_ROOT_B64,
    K_PATH,
    K_PATH_B64,
    K_SIZE,
    K_MTIME,
    K_DEV,
    K_INO,
    K_MODE,
    K_UID,
    K_GID,
    K_MIME,
    K_SCANNED_AT,
    K_HOST,
    K_PUBLISHED_AT,
    K_HASH,
    K__COUNT
};

static const char *const key_names[K__COUNT] = {
    [K_V] = "v",
    [K_ID] = "id",
    [K_ROOT] = "root",
    [K_ROOT_B64] = "root_b64",
    [K_PATH] = "path",
    [K_PATH_B64] = "path_b64",
    [K_SIZE] = "size",
    [K_MTIME] = "mtime",
    [K_DEV] = "dev",
    [K_INO] = "ino",
    [K_MODE] = "mode",
    [K_UID] = "uid",
    [K_GID] = "gid",
    [K_MIME] = "mime",
    [K_SCANNED_AT] = "scanned_at",
    [K_HOST] = "host",
    [K_PUBLISHED_AT] = "published_at",
    [K_HASH] = "hash",
};

/* Write a sentence into err, if there is room for one, and return e. */
__attribute__((format(printf, 4, 5))) static enum msg_err fail(char *err, size_t errlen,
                                                               enum msg_err e, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return e;
}

const char *msg_err_name(enum msg_err e)
{
    if ((int)e < 0 || e >= MSG_ERR__COUNT || err_names[e] == NULL)
        return "unknown";
    return err_names[e];
}

static int has_dotdot(const char *p, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i == len || p[i] == '/') {
            if (i - start == 2 && p[start] == '.' && p[start + 1] == '.')
                return 1;
            start = i + 1;
        }
    }
    return 0;
}

/* root and path get the same checks, except that only the root is absolute. */
static enum msg_err check_name(const char *p, size_t len, int is_root)
{
    if (p == NULL || len == 0)
        return MSG_ERR_PATH_EMPTY;
    if (len > MSG_PATH_MAX)
        return MSG_ERR_PATH_LONG;
    if (memchr(p, '\0', len) != NULL)
        return MSG_ERR_PATH_NUL;
    if (is_root && p[0] != '/')
        return MSG_ERR_ROOT_RELATIVE;
    if (!is_root && p[0] == '/')
        return MSG_ERR_PATH_ABSOLUTE;
    if (has_dotdot(p, len))
        return MSG_ERR_PATH_DOTDOT;
    return MSG_OK;
}

enum msg_err msg_check_path(const char *path, size_t len)
{
    return check_name(path, len, 0);
}

/* Turn a code from check_name into a sentence about what. */
static enum msg_err path_fail(char *err, size_t errlen, const char *what, enum msg_err e)
{
    switch (e) {
    case MSG_ERR_PATH_EMPTY:
        return fail(err, errlen, e, "%s is empty", what);
    case MSG_ERR_PATH_LONG:
        return fail(err, errlen, e, "%s is longer than %d bytes", what, MSG_PATH_MAX);
    case MSG_ERR_PATH_NUL:
        return fail(err, errlen, e, "%s contains a NUL byte", what);
    case MSG_ERR_PATH_ABSOLUTE:
        return fail(err, errlen, e, "%s is absolute (starts with '/')", what);
    case MSG_ERR_PATH_DOTDOT:
        return fail(err, errlen, e, "%s has a '..' component", what);
    case MSG_ERR_ROOT_RELATIVE:
        return fail(err, errlen, e, "%s is not absolute (does not start with '/')", what);
    default:
        return fail(err, errlen, e, "%s is invalid", what);
    }
}

_Static_assert(MSG_HASH_MAX == HASH_STR_MAX, "a hash fits the field");

/* A hash as hash_str_parse accepts it: of a known algorithm, or of one
 * this version does not know (carried, not checked: hash.h). */
static int hash_valid(const char *s)
{
    enum hash_alg alg;
    return hash_str_parse(s, &alg) >= 0;
}

static int id_valid(const char *id, size_t len)
{
    if (len != MSG_ID_LEN)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return 1;
}

/* ---- decoding ---- */

static int key_index(const char *name)
{
    if (name == NULL)
        return -1;
    for (int k = 0; k < K__COUNT; k++)
        if (strcmp(name, key_names[k]) == 0)
            return k;
    return -1;
}

static enum msg_err get_string(const cJSON *f, enum key k, const char **s, char *err, size_t errlen)
{
    if (f == NULL)
        return fail(err, errlen, MSG_ERR_MISSING, "missing field '%s'", key_names[k]);
    if (!cJSON_IsString(f) || f->valuestring == NULL)
        return fail(err, errlen, MSG_ERR_TYPE, "field '%s' is not a string", key_names[k]);
    *s = f->valuestring;
    return MSG_OK;
}

static enum msg_err get_u64(const cJSON *f, enum key k, uint64_t *out, char *err, size_t errlen)
{
    const char *s = NULL;
    enum msg_err e = get_string(f, k, &s, err, errlen);

    if (e != MSG_OK)
        return e;
    int rc = decimal_parse_u64(s, strlen(s), out);
    if (rc == -2)
        return fail(err, errlen, MSG_ERR_VALUE, "field '%s' does not fit in 64 bits", key_names[k]);
    if (rc != 0)
        return fail(err, errlen, MSG_ERR_VALUE, "field '%s' is not a canonical unsigned decimal",
                    key_names[k]);
    return MSG_OK;
}

static enum msg_err get_u32(const cJSON *f, enum key k, uint32_t *out, char *err, size_t errlen)
{
    if (f == NULL)
        return fail(err, errlen, MSG_ERR_MISSING, "missing field '%s'", key_names[k]);
    if (!cJSON_IsNumber(f))
        return fail(err, errlen, MSG_ERR_TYPE, "field '%s' is not a number", key_names[k]);
    double d = f->valuedouble;
    /* Written so that NaN fails too, before the conversion could be undefined. */
    if (!(d >= 0.0 && d <= (double)UINT32_MAX))
        return fail(err, errlen, MSG_ERR_VALUE, "field '%s' is outside 0..%" PRIu32, key_names[k],
                    UINT32_MAX);
    *out = (uint32_t)d;
    if ((double)*out != d)
        return fail(err, errlen, MSG_ERR_VALUE, "field '%s' is not an integer", key_names[k]);
    return MSG_OK;
}

/* A text field: valid UTF-8, at most max bytes, copied into out. */
static enum msg_err get_text(const cJSON *f, enum key k, char *out, size_t max, char *err,
                             size_t errlen)
{
    const char *s = NULL;
    enum msg_err e = get_string(f, k, &s, err, errlen);

    if (e != MSG_OK)
        return e;
    size_t n = strlen(s);
    if (n > max)
        return fail(err, errlen, MSG_ERR_VALUE, "field '%s' is longer than %zu bytes", key_names[k],
                    max);
    if (!utf8_valid(s, n))
        return fail(err, errlen, MSG_ERR_VALUE, "field '%s' is not valid UTF-8", key_names[k]);
    memcpy(out, s, n);
    out[n] = '\0';
    return MSG_OK;
}

/*
 * root or path: a plain UTF-8 string under the plain key, or base64 under the
 * _b64 key. Fills out (MSG_PATH_MAX + 1 bytes) and *outlen; the caller checks
 * the bytes themselves.
 */
static enum msg_err get_bytes(const cJSON *plain, const cJSON *b64, enum key k, char *out,
                              size_t *outlen, char *err, size_t errlen)
{
    const char *s = NULL;
    enum msg_err e;
    size_t n;

    if (plain == NULL && b64 == NULL)
        return fail(err, errlen, MSG_ERR_MISSING, "missing field '%s' (or '%s')", key_names[k],
                    key_names[k + 1]);
    if (plain != NULL) {
        if ((e = get_string(plain, k, &s, err, errlen)) != MSG_OK)
            return e;
        n = strlen(s);
        if (n > MSG_PATH_MAX)
            return path_fail(err, errlen, key_names[k], MSG_ERR_PATH_LONG);
        if (!utf8_valid(s, n))
            return fail(err, errlen, MSG_ERR_VALUE, "field '%s' is not valid UTF-8 (use '%s')",
                        key_names[k], key_names[k + 1]);
        memcpy(out, s, n);
    } else {
        if ((e = get_string(b64, k + 1, &s, err, errlen)) != MSG_OK)
            return e;
        int rc = base64_decode(s, strlen(s), out, MSG_PATH_MAX, &n);
        if (rc == -2)
            return path_fail(err, errlen, key_names[k], MSG_ERR_PATH_LONG);
        if (rc != 0)
            return fail(err, errlen, MSG_ERR_VALUE, "field '%s' is not valid padded base64",
                        key_names[k + 1]);
    }
    out[n] = '\0';
    *outlen = n;
    return MSG_OK;
}

static enum msg_err decode_object(const cJSON *obj, struct msg *m, char *err, size_t errlen)
{
    const cJSON *f[K__COUNT] = {NULL};
    unsigned count[K__COUNT] = {0};
    const char *s = NULL;
    enum msg_err e;

    if (!cJSON_IsObject(obj))
        return fail(err, errlen, MSG_ERR_NOT_OBJECT, "body is not a JSON object");
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        int k = key_index(c->string);
        if (k >= 0 && count[k]++ == 0)
            f[k] = c;
    }

    /* The version first: a v2 message may well miss v1 fields. */
    if (f[K_V] == NULL)
        return fail(err, errlen, MSG_ERR_MISSING, "missing field 'v'");
    if (count[K_V] > 1)
        return fail(err, errlen, MSG_ERR_DUPLICATE, "field 'v' appears more than once");
    if (!cJSON_IsNumber(f[K_V]))
        return fail(err, errlen, MSG_ERR_TYPE, "field 'v' is not a number");
    if (f[K_V]->valuedouble != MSG_VERSION)
        return fail(err, errlen, MSG_ERR_VERSION, "version %g is not supported (expected %d)",
                    f[K_V]->valuedouble, MSG_VERSION);
    m->v = MSG_VERSION;

    for (int k = 0; k < K__COUNT; k++)
        if (count[k] > 1)
            return fail(err, errlen, MSG_ERR_DUPLICATE, "field '%s' appears more than once",
                        key_names[k]);
    if (f[K_ROOT] != NULL && f[K_ROOT_B64] != NULL)
        return fail(err, errlen, MSG_ERR_DUPLICATE, "both 'root' and 'root_b64' are present");
    if (f[K_PATH] != NULL && f[K_PATH_B64] != NULL)
        return fail(err, errlen, MSG_ERR_DUPLICATE, "both 'path' and 'path_b64' are present");

    if ((e = get_string(f[K_ID], K_ID, &s, err, errlen)) != MSG_OK)
        return e;
    if (!id_valid(s, strlen(s)))
        return fail(err, errlen, MSG_ERR_VALUE, "field 'id' is not %d lowercase hex digits",
                    MSG_ID_LEN);
    memcpy(m->id, s, MSG_ID_LEN + 1);

    if ((e = get_bytes(f[K_ROOT], f[K_ROOT_B64], K_ROOT, m->root, &m->root_len, err, errlen)) !=
        MSG_OK)
        return e;
    if ((e = check_name(m->root, m->root_len, 1)) != MSG_OK)
        return path_fail(err, errlen, "root", e);
    if ((e = get_bytes(f[K_PATH], f[K_PATH_B64], K_PATH, m->path, &m->path_len, err, errlen)) !=
        MSG_OK)
        return e;
    if ((e = check_name(m->path, m->path_len, 0)) != MSG_OK)
        return path_fail(err, errlen, "path", e);

    if ((e = get_u64(f[K_SIZE], K_SIZE, &m->size, err, errlen)) != MSG_OK)
        return e;
    if ((e = get_string(f[K_MTIME], K_MTIME, &s, err, errlen)) != MSG_OK)
        return e;
    if (decimal_parse_time(s, &m->mtime_sec, &m->mtime_nsec) != 0)
        return fail(err, errlen, MSG_ERR_VALUE,
                    "field 'mtime' is not a decimal SECONDS.NNNNNNNNN within 64 bits");
    if ((e = get_u64(f[K_DEV], K_DEV, &m->dev, err, errlen)) != MSG_OK)
        return e;
    if ((e = get_u64(f[K_INO], K_INO, &m->ino, err, errlen)) != MSG_OK)
        return e;
    if ((e = get_u32(f[K_MODE], K_MODE, &m->mode, err, errlen)) != MSG_OK)
        return e;
    if ((e = get_u32(f[K_UID], K_UID, &m->uid, err, errlen)) != MSG_OK)
        return e;
    if ((e = get_u32(f[K_GID], K_GID, &m->gid, err, errlen)) != MSG_OK)
        return e;
    if (f[K_MIME] != NULL &&
        (e = get_text(f[K_MIME], K_MIME, m->mime, MSG_MIME_MAX, err, errlen)) != MSG_OK)
        return e;
    if ((e = get_text(f[K_SCANNED_AT], K_SCANNED_AT, m->scanned_at, MSG_TIME_MAX, err, errlen)) !=
        MSG_OK)
        return e;
    if ((e = get_text(f[K_HOST], K_HOST, m->host, MSG_HOST_MAX, err, errlen)) != MSG_OK)
        return e;
    if (f[K_PUBLISHED_AT] != NULL && (e = get_text(f[K_PUBLISHED_AT], K_PUBLISHED_AT,
                                                   m->published_at, MSG_TIME_MAX, err, errlen)))
        return e;
    if (f[K_HASH] != NULL &&
        (e = get_text(f[K_HASH], K_HASH, m->hash, MSG_HASH_MAX, err, errlen)) != MSG_OK)
        return e;
    if (f[K_HASH] != NULL && !hash_valid(m->hash))
        return fail(err, errlen, MSG_ERR_VALUE, "field 'hash' is not ALG:HEX (lowercase)");
    return MSG_OK;
}

/* The checks on the raw bytes, in the order docs/message-format.md gives. */
static enum msg_err check_body(const void *body, size_t len, char *err, size_t errlen)
{
    if (len > MSG_MAX_BYTES)
        return fail(err, errlen, MSG_ERR_OVERSIZED, "body of %zu bytes is over the limit of %d",
                    len, MSG_MAX_BYTES);
    if (len == 0)
        return fail(err, errlen, MSG_ERR_JSON, "body is empty");
    if (body == NULL)
        return fail(err, errlen, MSG_ERR_JSON, "body is missing");
    if (memchr(body, '\0', len) != NULL)
        return fail(err, errlen, MSG_ERR_PATH_NUL, "body contains a NUL byte");
    /* cJSON would silently end the string at the escape: "a\u0000/../x" would become "a". */
    if (json_strict_nul_escape(body, len))
        return fail(err, errlen, MSG_ERR_PATH_NUL, "a string contains the escape \\u0000");
    size_t bad;
    if (!json_strict_check(body, len, &bad))
        return fail(err, errlen, MSG_ERR_JSON, "body is not valid JSON (error near byte %zu)", bad);
    if (!utf8_valid(body, len))
        return fail(err, errlen, MSG_ERR_VALUE, "body is not valid UTF-8");
    return MSG_OK;
}

enum msg_err msg_decode(const void *body, size_t len, struct msg *m, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    memset(m, 0, sizeof *m);
    enum msg_err e = check_body(body, len, err, errlen);
    if (e != MSG_OK)
        return e;

    /* cJSON wants a terminated string; the body need not be one. */
    char *text = malloc(len + 1);
    if (text == NULL)
        return fail(err, errlen, MSG_ERR_JSON, "out of memory parsing the body");
    memcpy(text, body, len);
    text[len] = '\0';
    const char *end = NULL;
    cJSON *json = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
    if (json == NULL) {
        /* XXX cJSON also fails this way when it runs out of memory. */
        size_t at = end != NULL && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        free(text);
        return fail(err, errlen, MSG_ERR_JSON, "body is not valid JSON (error near byte %zu)", at);
    }
    free(text);
    e = decode_object(json, m, err, errlen);
    cJSON_Delete(json);
    if (e != MSG_OK)
        memset(m, 0, sizeof *m);
    else if (err != NULL && errlen > 0)
        err[0] = '\0';
    return e;
}

/* ---- encoding ---- */

/* A text field of the struct: terminated within its array, valid UTF-8. */
static enum msg_err check_text(const char *s, size_t size, const char *name, char *err,
                               size_t errlen)
{
    const char *nul = memchr(s, '\0', size);

    if (nul == NULL)
        return fail(err, errlen, MSG_ERR_VALUE, "field '%s' is not NUL-terminated", name);
    if (!utf8_valid(s, (size_t)(nul - s)))
        return fail(err, errlen, MSG_ERR_VALUE, "field '%s' is not valid UTF-8", name);
    return MSG_OK;
}

static enum msg_err check_msg(const struct msg *m, char *err, size_t errlen)
{
    enum msg_err e;

    if (m->v != MSG_VERSION)
        return fail(err, errlen, MSG_ERR_VERSION, "version %d is not supported (expected %d)", m->v,
                    MSG_VERSION);
    if (memchr(m->id, '\0', sizeof m->id) == NULL || !id_valid(m->id, strlen(m->id)))
        return fail(err, errlen, MSG_ERR_VALUE, "field 'id' is not %d lowercase hex digits",
                    MSG_ID_LEN);
    if ((e = check_name(m->root, m->root_len, 1)) != MSG_OK)
        return path_fail(err, errlen, "root", e);
    if ((e = check_name(m->path, m->path_len, 0)) != MSG_OK)
        return path_fail(err, errlen, "path", e);
    if (m->mtime_nsec >= NSEC_PER_SEC)
        return fail(err, errlen, MSG_ERR_VALUE, "mtime nanoseconds are not below 1000000000");
    if ((e = check_text(m->mime, sizeof m->mime, "mime", err, errlen)) != MSG_OK ||
        (e = check_text(m->scanned_at, sizeof m->scanned_at, "scanned_at", err, errlen)) !=
            MSG_OK ||
        (e = check_text(m->host, sizeof m->host, "host", err, errlen)) != MSG_OK ||
        (e = check_text(m->published_at, sizeof m->published_at, "published_at", err, errlen)) ||
        (e = check_text(m->hash, sizeof m->hash, "hash", err, errlen)))
        return e;
    if (m->hash[0] != '\0' && !hash_valid(m->hash))
        return fail(err, errlen, MSG_ERR_VALUE, "field 'hash' is not ALG:HEX (lowercase)");
    return MSG_OK;
}

/* Add bytes as a plain string when they are UTF-8, else base64 under b64_name. */
static int add_bytes(cJSON *obj, const char *name, const char *b64_name, const char *p, size_t n)
{
    char tmp[BASE64_LEN(MSG_PATH_MAX) + 1]; /* check_msg has bounded n */

    if (utf8_valid(p, n)) {
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        return cJSON_AddStringToObject(obj, name, tmp) != NULL;
    }
    base64_encode(p, n, tmp);
    return cJSON_AddStringToObject(obj, b64_name, tmp) != NULL;
}

static int add_u64(cJSON *obj, const char *name, uint64_t v)
{
    char tmp[U64_DIGITS_MAX + 1];

    snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    return cJSON_AddStringToObject(obj, name, tmp) != NULL;
}

/* The fields of m, in the order of the table in docs/message-format.md. */
static int add_fields(cJSON *obj, const struct msg *m)
{
    char mtime[DECIMAL_TIME_MAX];

    decimal_format_time(m->mtime_sec, m->mtime_nsec, mtime, sizeof mtime);
    return cJSON_AddNumberToObject(obj, "v", MSG_VERSION) != NULL &&
           cJSON_AddStringToObject(obj, "id", m->id) != NULL &&
           add_bytes(obj, "root", "root_b64", m->root, m->root_len) &&
           add_bytes(obj, "path", "path_b64", m->path, m->path_len) &&
           add_u64(obj, "size", m->size) && cJSON_AddStringToObject(obj, "mtime", mtime) != NULL &&
           add_u64(obj, "dev", m->dev) && add_u64(obj, "ino", m->ino) &&
           cJSON_AddNumberToObject(obj, "mode", m->mode) != NULL &&
           cJSON_AddNumberToObject(obj, "uid", m->uid) != NULL &&
           cJSON_AddNumberToObject(obj, "gid", m->gid) != NULL &&
           (m->mime[0] == '\0' || cJSON_AddStringToObject(obj, "mime", m->mime) != NULL) &&
           cJSON_AddStringToObject(obj, "scanned_at", m->scanned_at) != NULL &&
           cJSON_AddStringToObject(obj, "host", m->host) != NULL &&
           (m->published_at[0] == '\0' ||
            cJSON_AddStringToObject(obj, "published_at", m->published_at) != NULL) &&
           (m->hash[0] == '\0' || cJSON_AddStringToObject(obj, "hash", m->hash) != NULL);
}

int msg_encode(const struct msg *m, char *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (m == NULL || buf == NULL || len == NULL) {
        fail(err, errlen, MSG_ERR_VALUE, "nothing to encode or nowhere to put it");
        return -1;
    }
    if (check_msg(m, err, errlen) != MSG_OK)
        return -1;
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL || !add_fields(obj, m)) {
        cJSON_Delete(obj);
        fail(err, errlen, MSG_ERR_VALUE, "out of memory encoding a message");
        return -1;
    }
    /* cJSON may want a few bytes more than the result needs; that is fine. */
    int ok = cap > 0 && cJSON_PrintPreallocated(obj, buf, cap > INT_MAX ? INT_MAX : (int)cap, 0);
    cJSON_Delete(obj);
    if (!ok) {
        if (cap > 0)
            buf[0] = '\0';
        fail(err, errlen, MSG_ERR_VALUE, "message does not fit in a buffer of %zu bytes", cap);
        return -1;
    }
    *len = strlen(buf);
    return 0;
}
