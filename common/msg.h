/*
 * msg.h - the scanmove message, format version 1: the contract between scan
 * and move (docs/message-format.md is its prose twin).
 *
 * This module is the only user of cJSON. It encodes a struct msg into a
 * compact JSON object and decodes untrusted bytes back into one, validating
 * every field. The decoder never crashes and never reads past the length it
 * is given; each defect has a stable reason code (msg_err_name) that the
 * mover puts on dead-lettered messages.
 *
 * File names are bytes, not text: a root or path that is not valid UTF-8 is
 * carried base64-encoded in "root_b64" / "path_b64" instead of "root" /
 * "path", so it round-trips exactly. 64-bit numbers (size, dev, ino, mtime
 * seconds) travel as decimal strings, because JSON numbers are doubles.
 */
#ifndef SCANMOVE_MSG_H
#define SCANMOVE_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MSG_VERSION 1
/* The AMQP "type" property of a message; it changes with MSG_VERSION. */
#define MSG_AMQP_TYPE "scanmove.file.v1"
#define MSG_MAX_BYTES 65536 /* a larger body is refused as oversized */
#define MSG_PATH_MAX 4096   /* bytes of root or path, without the NUL */
#define MSG_ID_LEN 32       /* hex characters of the message id */
#define MSG_MIME_MAX 255
#define MSG_HOST_MAX 255
#define MSG_TIME_MAX 63
#define MSG_HASH_MAX 80 /* bytes of "ALG:HEX" (hash.h's HASH_STR_MAX) */

/* Why a body was refused. Every value has a stable name (msg_err_name). */
enum msg_err {
    MSG_OK = 0,
    MSG_ERR_OVERSIZED,     /* "oversized": body over MSG_MAX_BYTES */
    MSG_ERR_JSON,          /* "malformed-json": not parseable JSON */
    MSG_ERR_NOT_OBJECT,    /* "not-object": top level is not an object */
    MSG_ERR_MISSING,       /* "missing-field": a required field is absent */
    MSG_ERR_TYPE,          /* "wrong-type": a field has the wrong JSON type */
    MSG_ERR_VERSION,       /* "unknown-version": v is not 1 */
    MSG_ERR_VALUE,         /* "bad-value": number out of range, bad id, bad base64 ... */
    MSG_ERR_DUPLICATE,     /* "duplicate-field": a known field appears twice */
    MSG_ERR_PATH_EMPTY,    /* "empty-path": path or root is empty */
    MSG_ERR_PATH_ABSOLUTE, /* "absolute-path": path starts with '/' */
    MSG_ERR_PATH_DOTDOT,   /* "dotdot": path has a ".." component */
    MSG_ERR_PATH_NUL,      /* "nul-byte": a NUL byte in the body or a string */
    MSG_ERR_PATH_LONG,     /* "path-too-long": root or path over MSG_PATH_MAX */
    MSG_ERR_ROOT_RELATIVE, /* "relative-root": root does not start with '/' */
    MSG_ERR__COUNT
};

/*
 * One file, as scan saw it. Strings are NUL-terminated; root and path may
 * hold any bytes but NUL (their lengths are kept too). mime is empty when
 * the type was not inspected.
 */
struct msg {
    int v;                       /* MSG_VERSION */
    char id[MSG_ID_LEN + 1];     /* lowercase hex, see msg_make_id */
    char root[MSG_PATH_MAX + 1]; /* absolute, canonical scan root */
    size_t root_len;
    char path[MSG_PATH_MAX + 1]; /* relative to root, no "..", no leading '/' */
    size_t path_len;
    uint64_t size;
    int64_t mtime_sec;   /* like struct timespec: the instant is */
    uint32_t mtime_nsec; /* mtime_sec + mtime_nsec / 1e9; 0 .. 999999999 */
    uint64_t dev;
    uint64_t ino;
    uint32_t mode; /* st_mode, type bits included */
    uint32_t uid;
    uint32_t gid;
    char mime[MSG_MIME_MAX + 1];       /* "" when not inspected */
    char scanned_at[MSG_TIME_MAX + 1]; /* RFC 3339 UTC, e.g. 2026-11-25T12:00:00.123Z */
    char host[MSG_HOST_MAX + 1];       /* scanning host's name */
    /* when scan published it, as scanned_at; "" in older messages, and
     * then omitted */
    char published_at[MSG_TIME_MAX + 1];
    /* the content's hash, "ALG:HEX" (hash.h), with scan --checksum; ""
     * when none, and then omitted */
    char hash[MSG_HASH_MAX + 1];
};

/* What a message id is made of: the file's identity where the scan found it. */
struct msg_file {
    const char *root, *path; /* bytes, as in struct msg */
    size_t root_len, path_len;
    uint64_t dev, ino, size;
    int64_t mtime_sec;
    uint32_t mtime_nsec;
};

/*
 * msg_file_id - the message id of f into id (MSG_ID_LEN lowercase hex and a
 * NUL), as msg_make_id computes it for a message of the same file: a scan
 * can tell from lstat data alone whether a mark (mark.h) is for the file
 * as it is now.
 */
void msg_file_id(const struct msg_file *f, char id[MSG_ID_LEN + 1]);

/*
 * msg_make_id - fill m->id with the deterministic id of the file: 32 lowercase
 * hex digits of a 128-bit FNV-1a hash over dev, ino, size, mtime (sec, nsec),
 * root and path. The same file, unchanged, always gets the same id, so the id
 * doubles as the AMQP message_id and lets the mover recognise duplicates.
 * m must not be NULL; root/path/root_len/path_len must be set. The exact
 * byte sequence hashed is in docs/message-format.md.
 */
void msg_make_id(struct msg *m);

/*
 * msg_encode - write m as one compact JSON object (no trailing newline) into
 * buf, which has room for cap bytes. On success returns 0, stores the length
 * (without the terminating NUL, which is written too) in *len. Returns -1 and
 * writes a sentence into err (errlen bytes, may be 0) when m is invalid (say a
 * path with ".."; encode validates like decode) or buf is too small.
 * MSG_MAX_BYTES is always enough for a valid message.
 */
int msg_encode(const struct msg *m, char *buf, size_t cap, size_t *len, char *err, size_t errlen);

/*
 * msg_decode - parse and validate len bytes of body (need not be
 * NUL-terminated; may be NULL when len is 0) into *m. Returns MSG_OK, or the
 * reason the body was refused, with a sentence naming the defect (such as
 * "missing field 'ino'") in err. Never reads beyond body[len - 1], never
 * crashes, whatever the bytes. Unknown fields are ignored (forward
 * compatibility); a known field given twice is refused. m must not be
 * NULL; it is zeroed first and is meaningful only on MSG_OK. err may be NULL
 * when errlen is 0; it is set to "" on MSG_OK.
 */
enum msg_err msg_decode(const void *body, size_t len, struct msg *m, char *err, size_t errlen);

/*
 * msg_err_name - the stable reason code for e, such as "dotdot"; "unknown"
 * for a value out of range. The string is static.
 */
const char *msg_err_name(enum msg_err e);

/*
 * msg_time_format - t as RFC 3339 UTC with milliseconds
 * ("2026-11-25T12:00:00.123Z", 24 bytes and a NUL) into out (cap bytes),
 * as scanned_at and published_at carry it. The seconds are formatted once
 * per second and thread (cached), so that a scan can stamp every message.
 */
void msg_time_format(const struct timespec *t, char *out, size_t cap);

/*
 * msg_time_parse - the seconds since the epoch of s, a time as
 * msg_time_format writes it ("YYYY-MM-DDTHH:MM:SS", then optionally '.'
 * and 1 to 9 fraction digits, then 'Z'), into *secs. Returns 0, or -1 when
 * s is not such a time (the format leaves it to the reader: a bad time is
 * no reason to refuse a message). No allocation, no locale, no time zone.
 */
int msg_time_parse(const char *s, double *secs);

/*
 * msg_check_path - validate a relative path of len bytes as decode does:
 * non-empty, at most MSG_PATH_MAX, no NUL, not absolute, no ".." component.
 * Returns MSG_OK or the reason (MSG_ERR_PATH_EMPTY when path is NULL).
 * Neither tool calls it (msg_decode already has); it is exported for
 * tests/unit/test_msg.c and tests/fuzz/fuzz_msg.c, which hold the decoder
 * to it.
 */
enum msg_err msg_check_path(const char *path, size_t len);

#endif
