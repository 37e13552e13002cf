/*
 * msg.c - encode, decode and validate scanmove messages, format version 1.
 *
 * This is the only file that knows about cJSON. The decoder treats its input
 * as hostile: it checks the size and scans the raw bytes before cJSON sees
 * them (cJSON would silently truncate a string at a "\u0000" escape), parses
 * a private NUL-terminated copy, and then checks every known field. The
 * encoder runs the same checks, so anything msg_encode writes, msg_decode
 * accepts and turns back into the same struct (tests/fuzz/fuzz_msg.c asserts
 * that).
 *
 * XXX cJSON records the position of the last parse error in a global, so
 * concurrent msg_decode calls race on it (the result is still correct; only a
 * thread sanitizer would notice). cJSON also formats and parses numbers with
 * the C library's locale; every number this format uses is an integer, which
 * no locale changes.
 */
#include "msg.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

/* -Wpedantic rejects __int128 in ISO C; __extension__ says we know. */
__extension__ typedef unsigned __int128 msg_u128;

#define NSEC_PER_SEC 1000000000u
#define U64_DIGITS_MAX 20 /* "18446744073709551615" */
/* Reports may carry a path one name (255 bytes) longer than a message's. */
#define REPORT_PATH_MAX (MSG_PATH_MAX + 256)
#define B64_MAX (((REPORT_PATH_MAX + 2) / 3) * 4)

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
};

/* Write a sentence into err, if there is room for one, and return e. */
__attribute__((format(printf, 4, 5))) static enum msg_err fail(char *err, size_t errlen,
                                                               enum msg_err e, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
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

/*
 * Well-formed UTF-8 as RFC 3629 defines it: no overlong forms, no UTF-16
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
 */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        unsigned lo = 0x80, hi = 0xbf;
        size_t need, k;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c == 0xe0) {
            need = 2;
            lo = 0xa0; /* below is overlong */
        } else if (c == 0xed) {
            need = 2;
            hi = 0x9f; /* above is a surrogate */
        } else if (c >= 0xe1 && c <= 0xef) {
            need = 2;
        } else if (c == 0xf0) {
            need = 3;
            lo = 0x90; /* below is overlong */
        } else if (c >= 0xf1 && c <= 0xf3) {
            need = 3;
        } else if (c == 0xf4) {
            need = 3;
            hi = 0x8f; /* above is beyond U+10FFFF */
        } else {
            return 0;
        }
        if (n - i - 1 < need || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (k = 2; k <= need; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        i += need + 1;
    }
    return 1;
}

static int has_dotdot(const char *p, size_t len)
{
    size_t start = 0, i;

    for (i = 0; i <= len; i++) {
        if (i == len || p[i] == '/') {
            if (i - start == 2 && p[start] == '.' && p[start + 1] == '.')
                return 1;
            start = i + 1;
        }
    }
    return 0;
}

enum msg_err msg_check_path(const char *path, size_t len)
{
    if (path == NULL || len == 0)
        return MSG_ERR_PATH_EMPTY;
    if (len > MSG_PATH_MAX)
        return MSG_ERR_PATH_LONG;
    if (memchr(path, '\0', len) != NULL)
        return MSG_ERR_PATH_NUL;
    if (path[0] == '/')
        return MSG_ERR_PATH_ABSOLUTE;
    if (has_dotdot(path, len))
        return MSG_ERR_PATH_DOTDOT;
    return MSG_OK;
}

/* The root gets the same checks, except that it must be absolute. */
static enum msg_err check_root(const char *root, size_t len)
{
    if (len == 0)
        return MSG_ERR_PATH_EMPTY;
    if (len > MSG_PATH_MAX)
        return MSG_ERR_PATH_LONG;
    if (memchr(root, '\0', len) != NULL)
        return MSG_ERR_PATH_NUL;
    if (root[0] != '/')
        return MSG_ERR_ROOT_RELATIVE;
    if (has_dotdot(root, len))
        return MSG_ERR_PATH_DOTDOT;
    return MSG_OK;
}

/* Turn a code from check_root or msg_check_path into a sentence about what. */
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

static int id_valid(const char *id, size_t len)
{
    size_t i;

    if (len != MSG_ID_LEN)
        return 0;
    for (i = 0; i < len; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return 1;
}

/*
 * 128-bit FNV-1a. The numbers go in as fixed-width little-endian bytes so the
 * id does not depend on the host's byte order.
 */
static msg_u128 fnv_bytes(msg_u128 h, const void *p, size_t n)
{
    static const msg_u128 prime = ((msg_u128)0x0000000001000000ULL << 64) | 0x000000000000013BULL;
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= b[i];
        h *= prime;
    }
    return h;
}

static msg_u128 fnv_le(msg_u128 h, uint64_t v, size_t width)
{
    unsigned char b[8];
    size_t i;

    for (i = 0; i < width; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return fnv_bytes(h, b, width);
}

void msg_make_id(struct msg *m)
{
    static const char hex[] = "0123456789abcdef";
    msg_u128 h = ((msg_u128)0x6c62272e07bb0142ULL << 64) | 0x62b821756295c58dULL;
    size_t root_len = m->root_len > MSG_PATH_MAX ? MSG_PATH_MAX : m->root_len;
    size_t path_len = m->path_len > MSG_PATH_MAX ? MSG_PATH_MAX : m->path_len;
    int i;

    h = fnv_le(h, m->dev, 8);
    h = fnv_le(h, m->ino, 8);
    h = fnv_le(h, m->size, 8);
    h = fnv_le(h, (uint64_t)m->mtime_sec, 8);
    h = fnv_le(h, m->mtime_nsec, 4);
    h = fnv_bytes(h, m->root, root_len);
    h = fnv_bytes(h, "", 1);
    h = fnv_bytes(h, m->path, path_len);
    for (i = 0; i < MSG_ID_LEN; i++)
        m->id[i] = hex[(unsigned)(h >> (4 * (MSG_ID_LEN - 1 - i))) & 0xf];
    m->id[MSG_ID_LEN] = '\0';
}

/* ---- base64 (RFC 4648, standard alphabet, padded) ---- */

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* out must have room for ((n + 2) / 3) * 4 + 1 bytes. */
static void b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t t = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_chars[t >> 18];
        out[o++] = b64_chars[(t >> 12) & 63];
        out[o++] = b64_chars[(t >> 6) & 63];
        out[o++] = b64_chars[t & 63];
    }
    if (n - i == 1) {
        uint32_t t = (uint32_t)in[i] << 16;
        out[o++] = b64_chars[t >> 18];
        out[o++] = b64_chars[(t >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t t = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64_chars[t >> 18];
        out[o++] = b64_chars[(t >> 12) & 63];
        out[o++] = b64_chars[(t >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * Strict decoding: length a multiple of 4, only the alphabet, '=' only as the
 * last one or two characters, and unused bits zero, so every byte string has
 * exactly one accepted encoding. Returns MSG_ERR_VALUE for a malformed
 * string, MSG_ERR_PATH_LONG when the bytes would exceed cap.
 */
static enum msg_err b64_decode(const char *s, size_t n, char *out, size_t cap, size_t *outlen)
{
    size_t pad = 0, dlen, i, o = 0;

    if (n % 4 != 0)
        return MSG_ERR_VALUE;
    if (n > 0 && s[n - 1] == '=')
        pad = s[n - 2] == '=' ? 2 : 1;
    dlen = n / 4 * 3 - pad;
    if (dlen > cap)
        return MSG_ERR_PATH_LONG;
    for (i = 0; i < n; i += 4) {
        int last = i + 4 == n;
        int v[4], j;
        uint32_t t;

        for (j = 0; j < 4; j++) {
            if (last && s[i + j] == '=' && (size_t)j >= 4 - pad)
                v[j] = 0;
            else if ((v[j] = b64_value((unsigned char)s[i + j])) < 0)
                return MSG_ERR_VALUE;
        }
        if (last && ((pad == 2 && (v[1] & 0x0f) != 0) || (pad == 1 && (v[2] & 0x03) != 0)))
            return MSG_ERR_VALUE;
        t = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (char)(t >> 16);
        if (!last || pad < 2)
            out[o++] = (char)(t >> 8);
        if (!last || pad < 1)
            out[o++] = (char)t;
    }
    *outlen = o;
    return MSG_OK;
}

/* ---- decimal strings ---- */

/*
 * Canonical unsigned decimal of n bytes: digits only, no sign, no leading
 * zero unless the number is 0. Returns 0, -1 for bad syntax, -2 on overflow.
 */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (n == 0 || (s[0] == '0' && n > 1))
        return -1;
    for (i = 0; i < n; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return -1;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/*
 * mtime is the instant as a decimal number of seconds with exactly nine
 * fraction digits. For instants before 1970 with a fraction, the struct holds
 * a negative mtime_sec plus a positive mtime_nsec (like struct timespec), so
 * {-1, 999999999} is written "-0.000000001", not "-1.999999999".
 */
static void format_mtime(int64_t sec, uint32_t nsec, char *out, size_t outlen)
{
    if (sec >= 0 || nsec == 0)
        snprintf(out, outlen, "%" PRId64 ".%09" PRIu32, sec, nsec);
    else
        snprintf(out, outlen, "-%" PRIu64 ".%09" PRIu32, (uint64_t)(-(sec + 1)),
                 NSEC_PER_SEC - nsec);
}

static int parse_mtime(const char *s, int64_t *sec, uint32_t *nsec)
{
    size_t n = strlen(s);
    const char *dot;
    uint64_t whole, frac;
    int neg = 0;

    if (n > 0 && s[0] == '-') {
        neg = 1;
        s++;
        n--;
    }
    dot = memchr(s, '.', n);
    if (dot == NULL || n - (size_t)(dot - s) - 1 != 9)
        return -1;
    if (parse_u64(s, (size_t)(dot - s), &whole) != 0)
        return -1;
    /* parse_u64 refuses leading zeros, which a fraction may have. */
    frac = 0;
    for (n = 1; n <= 9; n++) {
        if (dot[n] < '0' || dot[n] > '9')
            return -1;
        frac = frac * 10 + (uint64_t)(dot[n] - '0');
    }
    if (!neg) {
        if (whole > INT64_MAX)
            return -1;
        *sec = (int64_t)whole;
        *nsec = (uint32_t)frac;
    } else if (frac == 0) {
        if (whole == 0 || whole > (uint64_t)INT64_MAX + 1)
            return -1; /* "-0.000000000" is not canonical */
        *sec = whole == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)whole;
        *nsec = 0;
    } else {
        if (whole > INT64_MAX)
            return -1; /* the seconds would be below INT64_MIN */
        *sec = -(int64_t)whole - 1;
        *nsec = (uint32_t)(NSEC_PER_SEC - frac);
    }
    return 0;
}

/* ---- decoding ---- */

/*
 * cJSON decodes "\u0000" into a NUL that ends the C string early, so a path
 * "a\u0000/../../etc" would shrink silently to "a". Look for the escape in
 * the raw text: outside strings a '"' opens one, inside a backslash escapes
 * the next character (so "\\u0000" is a backslash and "u0000").
 */
static int has_nul_escape(const unsigned char *p, size_t n)
{
    int in_string = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (!in_string) {
            in_string = p[i] == '"';
        } else if (p[i] == '"') {
            in_string = 0;
        } else if (p[i] == '\\') {
            if (n - i >= 6 && memcmp(p + i + 1, "u0000", 5) == 0)
                return 1;
            i++;
        }
    }
    return 0;
}

/*
 * cJSON accepts more than RFC 8259: a byte order mark, raw control
 * characters in strings, numbers such as 0100644 (read as 100644) or "0.".
 * A body that is not strictly JSON is refused before cJSON sees it.
 */
#define JSON_MAX_DEPTH 512
#define JSON_FAIL ((size_t)-1)

static size_t json_ws(const unsigned char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

static int json_digit(const unsigned char *p, size_t n, size_t i)
{
    return i < n && p[i] >= '0' && p[i] <= '9';
}

/* The string opening at p[i]: the index after it, or JSON_FAIL. */
static size_t json_string(const unsigned char *p, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (p[i] == '"')
            return i + 1;
        if (p[i] < 0x20)
            return JSON_FAIL;
        if (p[i] != '\\')
            continue;
        if (++i >= n)
            return JSON_FAIL;
        if (p[i] == 'u') {
            for (int k = 1; k <= 4; k++)
                if (i + k >= n || !isxdigit(p[i + k]))
                    return JSON_FAIL;
            i += 4;
        } else if (strchr("\"\\/bfnrt", p[i]) == NULL) {
            return JSON_FAIL;
        }
    }
    return JSON_FAIL;
}

/* The number starting at p[i]: the index after it, or JSON_FAIL. */
static size_t json_number(const unsigned char *p, size_t n, size_t i)
{
    if (i < n && p[i] == '-')
        i++;
    if (!json_digit(p, n, i))
        return JSON_FAIL;
    if (p[i] == '0')
        i++;
    else
        while (json_digit(p, n, i))
            i++;
    if (i < n && p[i] == '.') {
        if (!json_digit(p, n, ++i))
            return JSON_FAIL;
        while (json_digit(p, n, i))
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (!json_digit(p, n, i))
            return JSON_FAIL;
        while (json_digit(p, n, i))
            i++;
    }
    return i;
}

/*
 * json_strict - is p[0..n) exactly one JSON text by RFC 8259, nested at
 * most JSON_MAX_DEPTH deep? (Bytes of strings are not checked for UTF-8
 * here.) On no, *at is the offset of the defect.
 */
static int json_strict(const unsigned char *p, size_t n, size_t *at)
{
    enum { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, AFTER } state = VALUE;
    char stack[JSON_MAX_DEPTH];
    int depth = 0;
    size_t i = json_ws(p, n, 0);

    for (;;) {
        i = json_ws(p, n, i);
        *at = i;
        if (state == AFTER) {
            if (depth == 0)
                return i == n;
            if (i >= n)
                return 0;
            if (p[i] == ',') {
                state = stack[depth - 1] == '{' ? KEY : VALUE;
                i++;
            } else if (p[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
                depth--;
                i++;
            } else {
                return 0;
            }
            continue;
        }
        if (i >= n)
            return 0;
        if (state == KEY || state == KEY_OR_CLOSE) {
            if (state == KEY_OR_CLOSE && p[i] == '}') {
                depth--;
                i++;
                state = AFTER;
                continue;
            }
            if (p[i] != '"' || (i = json_string(p, n, i)) == JSON_FAIL)
                return 0;
            i = json_ws(p, n, i);
            *at = i;
            if (i >= n || p[i] != ':')
                return 0;
            i++;
            state = VALUE;
            continue;
        }
        /* VALUE or VALUE_OR_CLOSE */
        if (state == VALUE_OR_CLOSE && p[i] == ']') {
            depth--;
            i++;
            state = AFTER;
            continue;
        }
        if (p[i] == '{' || p[i] == '[') {
            if (depth == JSON_MAX_DEPTH)
                return 0;
            stack[depth++] = (char)p[i];
            state = p[i] == '{' ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
            i++;
            continue;
        }
        if (p[i] == '"')
            i = json_string(p, n, i);
        else if (p[i] == '-' || (p[i] >= '0' && p[i] <= '9'))
            i = json_number(p, n, i);
        else if (n - i >= 4 && memcmp(p + i, "true", 4) == 0)
            i += 4;
        else if (n - i >= 5 && memcmp(p + i, "false", 5) == 0)
            i += 5;
        else if (n - i >= 4 && memcmp(p + i, "null", 4) == 0)
            i += 4;
        else
            return 0;
        if (i == JSON_FAIL)
            return 0;
        state = AFTER;
    }
}

static int key_index(const char *name)
{
    int k;

    if (name == NULL)
        return -1;
    for (k = 0; k < K__COUNT; k++)
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
    enum msg_err e;
    int rc;

    if ((e = get_string(f, k, &s, err, errlen)) != MSG_OK)
        return e;
    rc = parse_u64(s, strlen(s), out);
    if (rc == -2)
        return fail(err, errlen, MSG_ERR_VALUE, "field '%s' does not fit in 64 bits", key_names[k]);
    if (rc != 0)
        return fail(err, errlen, MSG_ERR_VALUE, "field '%s' is not a canonical unsigned decimal",
                    key_names[k]);
    return MSG_OK;
}

static enum msg_err get_u32(const cJSON *f, enum key k, uint32_t *out, char *err, size_t errlen)
{
    double d;

    if (f == NULL)
        return fail(err, errlen, MSG_ERR_MISSING, "missing field '%s'", key_names[k]);
    if (!cJSON_IsNumber(f))
        return fail(err, errlen, MSG_ERR_TYPE, "field '%s' is not a number", key_names[k]);
    d = f->valuedouble;
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
    enum msg_err e;
    size_t n;

    if ((e = get_string(f, k, &s, err, errlen)) != MSG_OK)
        return e;
    n = strlen(s);
    if (n > max)
        return fail(err, errlen, MSG_ERR_VALUE, "field '%s' is longer than %zu bytes", key_names[k],
                    max);
    if (!utf8_valid((const unsigned char *)s, n))
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
        if (!utf8_valid((const unsigned char *)s, n))
            return fail(err, errlen, MSG_ERR_VALUE, "field '%s' is not valid UTF-8 (use '%s')",
                        key_names[k], key_names[k + 1]);
        memcpy(out, s, n);
    } else {
        if ((e = get_string(b64, k + 1, &s, err, errlen)) != MSG_OK)
            return e;
        e = b64_decode(s, strlen(s), out, MSG_PATH_MAX, &n);
        if (e == MSG_ERR_PATH_LONG)
            return path_fail(err, errlen, key_names[k], e);
        if (e != MSG_OK)
            return fail(err, errlen, e, "field '%s' is not valid padded base64", key_names[k + 1]);
    }
    out[n] = '\0';
    *outlen = n;
    return MSG_OK;
}

static enum msg_err decode_object(const cJSON *obj, struct msg *m, char *err, size_t errlen)
{
    const cJSON *f[K__COUNT] = {NULL};
    unsigned count[K__COUNT] = {0};
    const cJSON *c;
    const char *s = NULL;
    enum msg_err e;
    int k;

    if (!cJSON_IsObject(obj))
        return fail(err, errlen, MSG_ERR_NOT_OBJECT, "body is not a JSON object");
    for (c = obj->child; c != NULL; c = c->next) {
        if ((k = key_index(c->string)) < 0)
            continue;
        if (count[k]++ == 0)
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

    for (k = 0; k < K__COUNT; k++)
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
    if ((e = check_root(m->root, m->root_len)) != MSG_OK)
        return path_fail(err, errlen, "root", e);
    if ((e = get_bytes(f[K_PATH], f[K_PATH_B64], K_PATH, m->path, &m->path_len, err, errlen)) !=
        MSG_OK)
        return e;
    if ((e = msg_check_path(m->path, m->path_len)) != MSG_OK)
        return path_fail(err, errlen, "path", e);

    if ((e = get_u64(f[K_SIZE], K_SIZE, &m->size, err, errlen)) != MSG_OK)
        return e;
    if ((e = get_string(f[K_MTIME], K_MTIME, &s, err, errlen)) != MSG_OK)
        return e;
    if (parse_mtime(s, &m->mtime_sec, &m->mtime_nsec) != 0)
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
    return MSG_OK;
}

enum msg_err msg_decode(const void *body, size_t len, struct msg *m, char *err, size_t errlen)
{
    const char *end = NULL;
    enum msg_err e;
    cJSON *json;
    char *text;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    memset(m, 0, sizeof *m);
    if (len > MSG_MAX_BYTES)
        return fail(err, errlen, MSG_ERR_OVERSIZED, "body of %zu bytes is over the limit of %d",
                    len, MSG_MAX_BYTES);
    if (len == 0)
        return fail(err, errlen, MSG_ERR_JSON, "body is empty");
    if (body == NULL)
        return fail(err, errlen, MSG_ERR_JSON, "body is missing");
    if (memchr(body, '\0', len) != NULL)
        return fail(err, errlen, MSG_ERR_PATH_NUL, "body contains a NUL byte");
    if (has_nul_escape(body, len))
        return fail(err, errlen, MSG_ERR_PATH_NUL, "a string contains the escape \\u0000");

    size_t bad;
    if (!json_strict(body, len, &bad))
        return fail(err, errlen, MSG_ERR_JSON, "body is not valid JSON (error near byte %zu)", bad);
    if (!utf8_valid(body, len))
        return fail(err, errlen, MSG_ERR_VALUE, "body is not valid UTF-8");

    /* cJSON wants a terminated string; the body need not be one. */
    if ((text = malloc(len + 1)) == NULL)
        return fail(err, errlen, MSG_ERR_JSON, "out of memory parsing the body");
    memcpy(text, body, len);
    text[len] = '\0';
    json = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
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
    if (!utf8_valid((const unsigned char *)s, (size_t)(nul - s)))
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
    if ((e = check_root(m->root, m->root_len)) != MSG_OK)
        return path_fail(err, errlen, "root", e);
    if ((e = msg_check_path(m->path, m->path_len)) != MSG_OK)
        return path_fail(err, errlen, "path", e);
    if (m->mtime_nsec >= NSEC_PER_SEC)
        return fail(err, errlen, MSG_ERR_VALUE, "mtime nanoseconds are not below 1000000000");
    if ((e = check_text(m->mime, sizeof m->mime, "mime", err, errlen)) != MSG_OK ||
        (e = check_text(m->scanned_at, sizeof m->scanned_at, "scanned_at", err, errlen)) !=
            MSG_OK ||
        (e = check_text(m->host, sizeof m->host, "host", err, errlen)) != MSG_OK)
        return e;
    return MSG_OK;
}

/* Add bytes as a plain string when they are UTF-8, else base64 under b64_name. */
static int add_bytes(cJSON *obj, const char *name, const char *b64_name, const char *p, size_t n)
{
    char tmp[B64_MAX + 1];

    if (utf8_valid((const unsigned char *)p, n)) {
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        return cJSON_AddStringToObject(obj, name, tmp) != NULL;
    }
    b64_encode((const unsigned char *)p, n, tmp);
    return cJSON_AddStringToObject(obj, b64_name, tmp) != NULL;
}

static int add_u64(cJSON *obj, const char *name, uint64_t v)
{
    char tmp[U64_DIGITS_MAX + 1];

    snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    return cJSON_AddStringToObject(obj, name, tmp) != NULL;
}

int msg_encode(const struct msg *m, char *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
    char mtime[U64_DIGITS_MAX + 12];
    cJSON *obj;
    int ok;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (m == NULL || buf == NULL || len == NULL) {
        fail(err, errlen, MSG_ERR_VALUE, "nothing to encode or nowhere to put it");
        return -1;
    }
    if (check_msg(m, err, errlen) != MSG_OK)
        return -1;
    if ((obj = cJSON_CreateObject()) == NULL) {
        fail(err, errlen, MSG_ERR_VALUE, "out of memory encoding a message");
        return -1;
    }
    format_mtime(m->mtime_sec, m->mtime_nsec, mtime, sizeof mtime);
    ok = cJSON_AddNumberToObject(obj, "v", MSG_VERSION) != NULL &&
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
         cJSON_AddStringToObject(obj, "host", m->host) != NULL;
    if (!ok) {
        cJSON_Delete(obj);
        fail(err, errlen, MSG_ERR_VALUE, "out of memory encoding a message");
        return -1;
    }
    /* cJSON may want a few bytes more than the result needs; that is fine. */
    ok = cap > 0 && cJSON_PrintPreallocated(obj, buf, cap > INT_MAX ? INT_MAX : (int)cap, 0);
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

int msg_encode_report(const char *root, size_t root_len, const char *path, size_t path_len,
                      const char *outcome, const char *reason, const char *detail, char *buf,
                      size_t cap, size_t *len)
{
    cJSON *obj = cJSON_CreateObject();
    int truncated = 0, ok;

    if (obj == NULL)
        return -1;
    if (root_len > REPORT_PATH_MAX) {
        root_len = REPORT_PATH_MAX;
        truncated = 1;
    }
    if (path_len > REPORT_PATH_MAX) {
        path_len = REPORT_PATH_MAX;
        truncated = 1;
    }
    ok = add_bytes(obj, "root", "root_b64", root, root_len) &&
         (path_len == 0 || add_bytes(obj, "path", "path_b64", path, path_len)) &&
         (!truncated || cJSON_AddTrueToObject(obj, "truncated") != NULL) &&
         cJSON_AddStringToObject(obj, "outcome", outcome) != NULL &&
         cJSON_AddStringToObject(obj, "reason", reason) != NULL &&
         (detail == NULL || detail[0] == '\0' ||
          add_bytes(obj, "detail", "detail_b64", detail, strnlen(detail, 512)));
    ok = ok && cap > 0 && cJSON_PrintPreallocated(obj, buf, cap > INT_MAX ? INT_MAX : (int)cap, 0);
    cJSON_Delete(obj);
    if (!ok)
        return -1;
    *len = strlen(buf);
    return 0;
}
