/*
 * fuzz_msg.c - libFuzzer target for msg_decode.
 *
 * Whatever the bytes, msg_decode must return without a sanitizer report and
 * with a short sentence in err. When it accepts a body, encoding the result
 * and decoding that again must give the same struct, and encoding is stable
 * (the second encoding is byte for byte the first).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_msg: %s: %s\n", what, err);
    abort();
}

static int same(const struct msg *a, const struct msg *b)
{
    return a->v == b->v && strcmp(a->id, b->id) == 0 && a->root_len == b->root_len &&
           memcmp(a->root, b->root, a->root_len + 1) == 0 && a->path_len == b->path_len &&
           memcmp(a->path, b->path, a->path_len + 1) == 0 && a->size == b->size &&
           a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec && a->dev == b->dev &&
           a->ino == b->ino && a->mode == b->mode && a->uid == b->uid && a->gid == b->gid &&
           strcmp(a->mime, b->mime) == 0 && strcmp(a->scanned_at, b->scanned_at) == 0 &&
           strcmp(a->host, b->host) == 0 && strcmp(a->published_at, b->published_at) == 0 &&
           strcmp(a->hash, b->hash) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Static: two structs and two buffers are too big for a comfortable stack. */
    static struct msg a, b;
    static char text1[MSG_MAX_BYTES], text2[MSG_MAX_BYTES];
    char err[256];
    size_t len1 = 0, len2 = 0;
    enum msg_err e;

    memset(err, 'x', sizeof err);
    e = msg_decode(data, size, &a, err, sizeof err);
    if (memchr(err, '\0', sizeof err) == NULL)
        die("err is not terminated", "");
    if (strcmp(msg_err_name(e), "unknown") == 0)
        die("decode returned an unnamed code", err);
    if (e != MSG_OK) {
        if (err[0] == '\0' || strlen(err) > 120)
            die("no sentence, or too long a one, for", msg_err_name(e));
        return 0;
    }
    if (a.root_len != strlen(a.root) || a.path_len != strlen(a.path))
        die("lengths disagree with the strings", a.id);
    if (msg_check_path(a.path, a.path_len) != MSG_OK)
        die("accepted a path msg_check_path refuses", a.id);

    if (msg_encode(&a, text1, sizeof text1, &len1, err, sizeof err) != 0)
        die("cannot encode a decoded message", err);
    if (len1 != strlen(text1))
        die("encode length is wrong", err);
    e = msg_decode(text1, len1, &b, err, sizeof err);
    if (e != MSG_OK)
        die("cannot decode an encoded message", err);
    if (!same(&a, &b))
        die("round trip changed the message", text1);
    if (msg_encode(&b, text2, sizeof text2, &len2, err, sizeof err) != 0)
        die("cannot encode the second time", err);
    if (len1 != len2 || memcmp(text1, text2, len1) != 0)
        die("encoding is not stable", text1);
    return 0;
}
