/* events.c - move --publish-moved; see events.h. (skeleton) */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>

struct events {
    uint64_t confirmed;
};

struct events *events_new(const char *spec, const struct cfg *cfg, char *err, size_t errlen)
{
    (void)spec;
    (void)cfg;
    snprintf(err, errlen, "--publish-moved is not there yet");
    return NULL;
}

enum mq_status events_connect(struct events *ev, const char *conn_name, char *err, size_t errlen)
{
    (void)ev;
    (void)conn_name;
    (void)err;
    (void)errlen;
    return MQ_OK;
}

enum mq_status events_publish(struct events *ev, const struct msg *m, const char *dest_path,
                              size_t dest_len, int duplicate, const char *hash, char *err,
                              size_t errlen)
{
    (void)ev;
    (void)m;
    (void)dest_path;
    (void)dest_len;
    (void)duplicate;
    (void)hash;
    (void)err;
    (void)errlen;
    return MQ_OK;
}

enum mq_status events_settle(struct events *ev, char *err, size_t errlen)
{
    (void)ev;
    (void)err;
    (void)errlen;
    return MQ_OK;
}

void events_keepalive(struct events *ev)
{
    (void)ev;
}

uint64_t events_published(const struct events *ev)
{
    return ev == NULL ? 0 : ev->confirmed;
}

void events_free(struct events *ev)
{
    free(ev);
}
