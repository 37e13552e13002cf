/*
 * fuzz_url.c - libFuzzer target for mq_url_parse and mq_url_format.
 *
 * The bytes become a NUL-terminated string (cut at the first NUL, as any C
 * caller would see it). Nothing may crash or overrun, every output must be
 * terminated within its buffer, and a failed parse must leave a sentence.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mq_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "fuzz_url: %s\n", what);
    abort();
}

static void check_terminated(const char *buf, size_t len, const char *what)
{
    if (memchr(buf, '\0', len) == NULL)
        die(what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mq_url u;
    char err[256], out[1024], tiny[8];
    char *url = malloc(size + 1);

    if (url == NULL)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';

    memset(&u, 'x', sizeof u);
    memset(err, 'x', sizeof err);
    if (mq_url_parse(url, &u, err, sizeof err) == 0) {
        check_terminated(u.user, sizeof u.user, "user is not terminated");
        check_terminated(u.password, sizeof u.password, "password is not terminated");
        check_terminated(u.host, sizeof u.host, "host is not terminated");
        check_terminated(u.vhost, sizeof u.vhost, "vhost is not terminated");
        if (u.port < 0 || u.port > 65535)
            die("port out of range");
        if (u.tls != 0 && u.tls != 1)
            die("tls is not 0 or 1");
        memset(out, 'x', sizeof out);
        mq_url_format(&u, out, sizeof out);
        check_terminated(out, sizeof out, "format output is not terminated");
        memset(tiny, 'x', sizeof tiny);
        mq_url_format(&u, tiny, sizeof tiny);
        check_terminated(tiny, sizeof tiny, "short format output is not terminated");
    } else {
        check_terminated(err, sizeof err, "err is not terminated");
        if (err[0] == '\0')
            die("parse failed without a sentence");
    }
    /* An err buffer of zero bytes must not be touched. */
    (void)mq_url_parse(url, &u, NULL, 0);

    free(url);
    return 0;
}
