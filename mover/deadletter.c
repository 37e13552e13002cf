/* deadletter.c - the mover's dead letters: the connection they go out on,
 * the publish under confirms before the ack, and what the log says of
 * them; see consume_priv.h. */
#include "consume_priv.h"

#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Say in err, which holds the broker's sentence, that publishing to the
 * dead-letter exchange failed (was refused, for MQ_ERR_ACCESS). */
void deadletter_failed(const struct consumer *c, enum mq_status s, char *err, size_t errlen)
{
    char broker[768];
    snprintf(broker, sizeof broker, "%s", err);
    snprintf(err, errlen, "%s publish to the dead-letter exchange '%s': %s",
             s == MQ_ERR_ACCESS ? "may not" : "cannot", c->dlx, broker);
}

/* Open the dead-letter publishing connection, in confirm mode. */
enum mq_status deadletter_connect(struct consumer *c, char *err, size_t errlen)
{
    enum mq_status s = mq_connect(c->o->cfg, c->o->conn_name, &c->dead, err, errlen);
    if (s != MQ_OK)
        return s;
    if ((s = mq_confirm_select(c->dead, err, errlen)) != MQ_OK) {
        mq_close(c->dead);
        c->dead = NULL;
    }
    return s;
}

/* Can a sender's message id go into a log line as it is? Only when it is
 * printable ASCII without spaces: no forged lines, no terminal escapes. */
static int printable(const char *id)
{
    if (id[0] == '\0')
        return 0;
    for (const char *c = id; *c != '\0'; c++)
        if (*c < '!' || *c > '~')
            return 0;
    return 1;
}

/* The JSON fields of a log line about the file m names (NULL: none);
 * reason NULL when none. Main thread only: the fields are static. */
const struct log_fields *consume_file_fields(const char *event, const struct msg *m,
                                             const char *reason)
{
    static struct log_fields f;
    f = (struct log_fields){.event = event, .reason = reason};
    if (m != NULL) {
        f.id = m->id;
        f.root = m->root;
        f.root_len = m->root_len;
        f.path = m->path;
        f.path_len = m->path_len;
    }
    return &f;
}

/* Say that the delivery was dead-lettered: the file it names (m, NULL
 * when it could not be read), with its id, the reason and why. */
static void say_dead(const struct mq_delivery *d, const struct msg *m, enum move_reason reason,
                     const char *why)
{
    char name[1200];
    const char *id = m != NULL ? m->id : d->message_id;
    if (m != NULL)
        report_file(name, sizeof name, m);
    else
        snprintf(name, sizeof name, "a message");
    struct log_fields f = *consume_file_fields("dead-lettered", m, move_reason_name(reason));
    f.id = printable(id) ? id : NULL;
    log_event(LOG_SEV_ERROR, &f, "dead-lettered %s (id %s, %s): %s", name, f.id ? f.id : "-",
              f.reason, why);
}

/* Publish the delivery to the dead-letter exchange with its reason, then
 * ack it. m is the decoded message, NULL when it could not be. */
enum mq_status deadletter_send(struct consumer *c, const struct mq_delivery *d, const struct msg *m,
                               enum move_reason reason, const char *why, char *err, size_t errlen)
{
    enum mq_status s;
    if (c->dead == NULL && (s = deadletter_connect(c, err, errlen)) != MQ_OK)
        return s;
    s = mq_publish_dead(c->dead, c->dlx, c->o->cfg->routing_key, d->body, d->len, d->message_id,
                        &d->dead, move_reason_name(reason), why, err, errlen);
    if (s != MQ_OK) {
        mq_close(c->dead);
        c->dead = NULL;
        if (s == MQ_ERR_ACCESS) /* a refusal stays: exit, do not reconnect */
            deadletter_failed(c, s, err, errlen);
        /* Nacked or returned (<queue>.dead gone?): try again on a new connection. */
        return s == MQ_ERR_PROTOCOL ? MQ_ERR_CLOSED : s;
    }
    say_dead(d, m, reason, why);
    c->st->dead++;
    if (c->st->by_reason[reason]++ == 0)
        c->st->seen[c->st->n_seen++] = reason;
    return mq_ack(c->mq, d->tag, 0, err, errlen);
}

/*
 * A message for a root this mover does not serve is dead-lettered, to be
 * requeued once the setup is fixed; but its cause is a setup (two
 * pipelines on one queue, or a --from that is not the scanned directory)
 * that would fail every such file, so the operator is told what to change,
 * once per root, even under -q. The first CONSUME_FOREIGN_MAX roots are
 * remembered; further ones are named by their dead-letter lines only.
 */
void deadletter_foreign_root(struct consumer *c, const struct msg *m)
{
    static char root[4 * MSG_PATH_MAX + 1];
    for (unsigned i = 0; i < c->n_foreign; i++)
        if (strcmp(c->foreign[i], m->root) == 0)
            return;
    if (c->n_foreign == CONSUME_FOREIGN_MAX)
        return;
    if ((c->foreign[c->n_foreign] = strdup(m->root)) == NULL)
        return; /* said again for the next file: better than never */
    c->n_foreign++;
    report_escape(root, sizeof root, m->root, m->root_len);
    log_error("queue '%s' holds files of '%s', which is not a --from root of this mover; they are "
              "dead-lettered as root-not-allowed: give each pipeline its own --queue, or add "
              "--from %s",
              c->o->cfg->queue, root, root);
}
