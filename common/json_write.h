/*
 * json_write.h - write a flat JSON object into a caller's buffer, without
 * cJSON and without allocating.
 *
 * Strings are escaped exactly as cJSON 1.7 prints them (the short escapes
 * \" \\ \b \f \n \r \t, \u00XX for the other control characters, every
 * other byte as is), so an object written here is byte for byte what cJSON
 * would print for the same fields. A write that does not fit is remembered
 * and reported once, by json_write_finish.
 */
#ifndef SCANMOVE_JSON_WRITE_H
#define SCANMOVE_JSON_WRITE_H

#include <stddef.h>

struct json_write {
    char *buf;
    size_t cap;  /* bytes of buf */
    size_t len;  /* bytes written so far, or wanted when over cap */
    int members; /* members in the open object, for the commas */
};

/* json_write_init - start writing into buf (cap bytes, may be 0). */
void json_write_init(struct json_write *w, char *buf, size_t cap);

/* json_write_open, json_write_close - begin and end the object. */
void json_write_open(struct json_write *w);
void json_write_close(struct json_write *w);

/* json_write_key - a member's key, after a comma unless it is the first. */
void json_write_key(struct json_write *w, const char *key);

/*
 * json_write_string - the n bytes at s as a quoted, escaped JSON string. Like
 * cJSON, which takes C strings, it stops at a NUL byte. The bytes are not
 * checked for UTF-8: callers that take arbitrary bytes use json_write_bytes.
 */
void json_write_string(struct json_write *w, const char *s, size_t n);

/* json_write_raw - s as it is, for literals such as true. */
void json_write_raw(struct json_write *w, const char *s);

/*
 * json_write_bytes - the member key with the n bytes at p as a string when
 * they are valid UTF-8, else the member b64_key with them in base64: the
 * scanmove rule for names that are bytes (docs/message-format.md).
 */
void json_write_bytes(struct json_write *w, const char *key, const char *b64_key, const void *p,
                      size_t n);

/*
 * json_write_finish - terminate the text. Returns 0 with its length
 * (without the NUL) in *len, or -1 when it did not fit in cap bytes with
 * its NUL (buf then holds "" when cap > 0).
 */
int json_write_finish(struct json_write *w, size_t *len);

#endif
