/* json_write.c - a flat JSON object written without cJSON; see json_write.h. */
#include "json_write.h"

#include "base64.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>

void json_write_init(struct json_write *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->members = 0;
}

/* Append n bytes; past the end only the length grows, so the text is cut, never overrun. */
static void put(struct json_write *w, const char *s, size_t n)
{
    if (w->len < w->cap)
        memcpy(w->buf + w->len, s, w->cap - w->len < n ? w->cap - w->len : n);
    w->len += n;
}

void json_write_raw(struct json_write *w, const char *s)
{
    put(w, s, strlen(s));
}

void json_write_open(struct json_write *w)
{
    put(w, "{", 1);
    w->members = 0;
}

void json_write_close(struct json_write *w)
{
    put(w, "}", 1);
}

/* The two-character escape of c, or NULL when it has none. */
static const char *short_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        return NULL;
    }
}

void json_write_string(struct json_write *w, const char *s, size_t n)
{
    put(w, "\"", 1);
    for (size_t i = 0; i < n && s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *e = short_escape(c);

        if (e != NULL) {
            put(w, e, 2);
        } else if (c < 0x20) {
            char u[7];
            snprintf(u, sizeof u, "\\u%04x", c);
            put(w, u, 6);
        } else {
            put(w, s + i, 1);
        }
    }
    put(w, "\"", 1);
}

void json_write_key(struct json_write *w, const char *key)
{
    if (w->members++ > 0)
        put(w, ",", 1);
    json_write_string(w, key, strlen(key));
    put(w, ":", 1);
}

void json_write_bytes(struct json_write *w, const char *key, const char *b64_key, const void *p,
                      size_t n)
{
    const unsigned char *b = p;
    char chunk[BASE64_LEN(48) + 1];

    if (utf8_valid(p, n)) {
        json_write_key(w, key);
        json_write_string(w, p, n);
        return;
    }
    /* Whole groups of three bytes encode independently, so encode in slices. */
    json_write_key(w, b64_key);
    put(w, "\"", 1);
    for (size_t i = 0; i < n; i += 48) {
        base64_encode(b + i, n - i < 48 ? n - i : 48, chunk);
        json_write_raw(w, chunk);
    }
    put(w, "\"", 1);
}

int json_write_finish(struct json_write *w, size_t *len)
{
    if (w->len >= w->cap) {
        if (w->cap > 0)
            w->buf[0] = '\0';
        return -1;
    }
    w->buf[w->len] = '\0';
    *len = w->len;
    return 0;
}
