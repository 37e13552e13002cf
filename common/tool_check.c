/* tool_check.c - --check: every broker of the list, then the topology; see tool.h. */
#include "tool.h"

#include "exitcode.h"
#include "json_write.h"
#include "log.h"
#include "mq.h"
#include "mq_url.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* What one broker of the list said. */
struct node_report {
    enum mq_status s;
    char url[512];     /* without its password */
    char peer[64];     /* the address connected to */
    char version[128]; /* "RabbitMQ 3.10.8" */
    char cluster[128];
    char why[1024]; /* the failure, without "cannot connect to URL: " */
    char err[1024]; /* the failure's whole sentence */
};

/* The URL of c->urls[i] as the tools show it, without its password; "" when it does not parse. */
static void display_url(const struct cfg *c, size_t i, char *out, size_t outlen)
{
    struct mq_url u;
    char ignored[256];
    out[0] = '\0';
    if (i < c->n_urls && mq_url_parse(c->urls[i], &u, ignored, sizeof ignored) == 0)
        mq_url_format(&u, out, outlen);
}

/* One word for a node's state, for the report. */
static const char *node_state(const struct node_report *n)
{
    switch (n->s) {
    case MQ_OK:
        return "reachable";
    case MQ_ERR_AUTH:
    case MQ_ERR_ACCESS:
        return "refused";
    case MQ_ERR_TLS:
        return "tls-failure";
    case MQ_ERR_NOT_AMQP:
        return "not-amqp";
    case MQ_ERR_UNREACHABLE:
    case MQ_ERR_CLOSED:
        return strstr(n->why, "timed out") != NULL || strstr(n->why, "in time") != NULL
                   ? "timeout"
                   : "unreachable";
    default:
        return "error";
    }
}

/* Connect to node i alone and note what it says; keeps the connection in
 * *m when it is the first that answered (*m NULL before). */
static void look_at_node(const struct cfg *c, size_t i, const char *name, struct node_report *n,
                         struct mq **m)
{
    struct mq *one;
    memset(n, 0, sizeof *n);
    display_url(c, i, n->url, sizeof n->url);
    n->s = mq_connect_node(c, i, name, &one, n->err, sizeof n->err);
    if (n->s != MQ_OK) {
        char prefix[600];
        snprintf(prefix, sizeof prefix, "cannot connect to %s: ", n->url);
        size_t pl = strlen(prefix);
        const char *e = n->err;
        snprintf(n->why, sizeof n->why, "%s", strncmp(e, prefix, pl) == 0 ? e + pl : e);
        return;
    }
    snprintf(n->peer, sizeof n->peer, "%s", mq_peer_address(one));
    snprintf(n->version, sizeof n->version, "%s", mq_server_version(one));
    snprintf(n->cluster, sizeof n->cluster, "%s", mq_cluster_name(one));
    if (*m == NULL)
        *m = one;
    else
        mq_close(one);
}

/* The age of the oldest waiting message, when it can be known. */
struct head_age {
    int known;           /* age_s holds it */
    uint64_t age_s;      /* seconds since scan published it */
    const char *unknown; /* why not, when not known and messages wait; else NULL */
};

/* Is version ("RabbitMQ 3.10.8") major.minor or later? */
static int version_at_least(const char *version, unsigned major, unsigned minor)
{
    unsigned a = 0, b = 0;
    const char *p = strchr(version, ' ');
    if (p == NULL || sscanf(p + 1, "%u.%u", &a, &b) != 2)
        return 0;
    return a > major || (a == major && b >= minor);
}

/*
 * The age of the message at the head of c's queue, by its AMQP timestamp,
 * into *h: peeked at (mq_peek_timestamp) where that changes neither the
 * order nor a delivery count: classic queues, and quorum queues of
 * RabbitMQ 4.3 and later, where a requeue by basic.nack no longer counts
 * as a failed delivery. On older quorum queues the age stays unknown.
 */
static void head_age(struct mq *m, const struct cfg *c, const char *version, uint32_t messages,
                     struct head_age *h)
{
    char err[512];
    int found = 0;
    uint64_t ts = 0;
    memset(h, 0, sizeof *h);
    if (messages == 0)
        return;
    if (c->queue_type == CFG_QUEUE_QUORUM && !version_at_least(version, 4, 3)) {
        h->unknown = "a quorum queue before RabbitMQ 4.3 counts a look at its head as a delivery";
        return;
    }
    if (mq_peek_timestamp(m, c->queue, &found, &ts, err, sizeof err) != MQ_OK) {
        h->unknown = "the look at the queue's head failed";
        return;
    }
    if (!found) /* taken meanwhile: nothing waits any more */
        return;
    if (ts == 0) {
        h->unknown = "the message at the head has no timestamp";
        return;
    }
    time_t now = time(NULL);
    h->known = 1;
    h->age_s = (uint64_t)now > ts ? (uint64_t)now - ts : 0;
}

/* A string member, null when v is NULL or "". */
static void put_str(struct json_write *w, const char *key, const char *v)
{
    json_write_key(w, key);
    if (v == NULL || v[0] == '\0')
        json_write_raw(w, "null");
    else
        json_write_string(w, v, strlen(v));
}

/* A count member, null when qi is NULL (unknown). */
static void put_count(struct json_write *w, const char *key, const struct mq_queue_info *qi,
                      uint32_t v)
{
    char num[16];
    snprintf(num, sizeof num, "%u", v);
    json_write_key(w, key);
    json_write_raw(w, qi != NULL ? num : "null");
}

/* The "nodes" array of the JSON report. */
static void put_nodes(struct json_write *w, const struct node_report *nodes, size_t n)
{
    json_write_key(w, "nodes");
    json_write_raw(w, "[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            json_write_raw(w, ",");
        json_write_open(w);
        put_str(w, "url", nodes[i].url);
        put_str(w, "state", node_state(&nodes[i]));
        put_str(w, "address", nodes[i].peer);
        put_str(w, "server_version", nodes[i].version);
        put_str(w, "cluster_name", nodes[i].cluster);
        put_str(w, "error", nodes[i].s == MQ_OK ? NULL : nodes[i].why);
        json_write_close(w);
    }
    json_write_raw(w, "]");
}

/* The JSON object of tool_check: the nodes (n may be 0: not looked at),
 * the one used (NULL: none), counts from qi (NULL: unknown), error (NULL:
 * none). */
static void check_json(const struct cfg *c, const struct node_report *nodes, size_t n,
                       const struct node_report *used, const struct mq_queue_info *qi,
                       const struct head_age *h, const char *error, char *out, size_t outlen)
{
    struct json_write w;
    struct mq_queue_info none = {0, 0, 0, 0};
    char age[32] = "null";
    const struct mq_queue_info *q = qi != NULL ? qi : &none;
    char url[512], dead[CFG_NAME_MAX + 1];
    size_t len;
    if (used != NULL)
        snprintf(url, sizeof url, "%s", used->url);
    else
        display_url(c, c->n_urls > 0 ? c->url_order[0] : 0, url, sizeof url);
    if (cfg_dead_name(c, dead) < 0)
        dead[0] = '\0';
    json_write_init(&w, out, outlen);
    json_write_open(&w);
    put_str(&w, "broker", url);
    put_str(&w, "server_version", used != NULL ? used->version : NULL);
    put_str(&w, "cluster_name", used != NULL ? used->cluster : NULL);
    put_str(&w, "exchange", c->exchange);
    put_str(&w, "queue", c->queue);
    put_str(&w, "queue_type", cfg_queue_type_name(c->queue_type));
    put_str(&w, "routing_key", c->routing_key);
    put_count(&w, "messages", qi, q->messages);
    put_count(&w, "consumers", qi, q->consumers);
    put_str(&w, "dead_letter_queue", dead);
    put_count(&w, "dead_letter_messages", qi, q->dead_messages);
    put_count(&w, "dead_letter_consumers", qi, q->dead_consumers);
    if (h != NULL && h->known)
        snprintf(age, sizeof age, "%llu", (unsigned long long)h->age_s);
    json_write_key(&w, "oldest_message_age_seconds");
    json_write_raw(&w, age);
    if (h != NULL && h->unknown != NULL)
        put_str(&w, "oldest_message_age_unknown", h->unknown);
    put_nodes(&w, nodes, n);
    if (error != NULL)
        put_str(&w, "error", error);
    json_write_close(&w);
    json_write_raw(&w, "\n");
    if (json_write_finish(&w, &len) < 0)
        snprintf(out, outlen, "{\"error\":\"the --check report is too long\"}\n");
}

void tool_check_json_error(const struct cfg *c, const char *error, char *out, size_t outlen)
{
    check_json(c, NULL, 0, NULL, NULL, NULL, error, out, outlen);
}

/* The text report: a line per node when there are several, then the queue's. */
static void check_text(const struct cfg *c, const struct node_report *nodes, size_t n,
                       const struct node_report *used, const struct mq_queue_info *qi,
                       const struct head_age *h, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; n > 1 && i < n && o < outlen; i++) {
        const struct node_report *r = &nodes[i];
        if (r->s == MQ_OK)
            o += (size_t)snprintf(out + o, outlen - o, "%s: reachable (%s, %s%s%s)\n", r->url,
                                  r->peer, r->version, r->cluster[0] ? ", cluster " : "",
                                  r->cluster);
        else
            o += (size_t)snprintf(out + o, outlen - o, "%s: %s: %s\n", r->url, node_state(r),
                                  r->why);
    }
    if (used == NULL || qi == NULL || o >= outlen)
        return;
    if (n > 1)
        o += (size_t)snprintf(out + o, outlen - o,
                              "queue '%s' (%s) has %u messages and %u consumers; '%s.dead' "
                              "has %u messages\n",
                              c->queue, cfg_queue_type_name(c->queue_type), qi->messages,
                              qi->consumers, c->queue, qi->dead_messages);
    else
        o +=
            (size_t)snprintf(out + o, outlen - o,
                             "%s (%s): queue '%s' (%s) has %u messages and %u consumers; "
                             "'%s.dead' has %u messages\n",
                             used->url, used->version, c->queue, cfg_queue_type_name(c->queue_type),
                             qi->messages, qi->consumers, c->queue, qi->dead_messages);
    if (h->known && o < outlen)
        snprintf(out + o, outlen - o, "the oldest waiting message was published %llu s ago\n",
                 (unsigned long long)h->age_s);
}

/* The exit status and sentence of a check whose topology step gave s. */
static int check_status(const struct cfg *c, const struct node_report *nodes, size_t n,
                        enum mq_status s, char *err, size_t errlen)
{
    if (s != MQ_OK)
        return mq_exitcode(s);
    size_t bad = 0, first = n;
    for (size_t i = 0; i < n; i++)
        if (nodes[i].s != MQ_OK && bad++ == 0)
            first = i;
    if (bad == 0)
        return EXITCODE_OK;
    snprintf(err, errlen, "%zu of %zu brokers failed the check; %s: %s", bad, c->n_urls,
             nodes[first].url, nodes[first].why);
    return mq_exitcode(nodes[first].s);
}

int tool_check(const struct cfg *c, enum tool_check_mode mode, char *out, size_t outlen, char *err,
               size_t errlen)
{
    struct node_report nodes[CFG_URLS_MAX];
    const struct node_report *used = NULL;
    struct mq *m = NULL;
    struct mq_queue_info qi;
    struct head_age h = {0, 0, NULL};
    char name[300];
    size_t n = c->n_urls;
    tool_conn_name(log_tool(), name, sizeof name);
    for (size_t i = 0; i < n; i++) {
        struct mq *before = m;
        look_at_node(c, i, name, &nodes[i], &m);
        if (m != NULL && before == NULL)
            used = &nodes[i];
    }
    enum mq_status s = MQ_OK;
    if (m == NULL) {
        s = nodes[0].s;
        size_t o = (size_t)snprintf(err, errlen, "%s", n > 1 ? "no broker answered: " : "");
        for (size_t i = 0; i < n && o < errlen; i++)
            o += (size_t)snprintf(err + o, errlen - o, "%s%s", i > 0 ? "; " : "", nodes[i].err);
        for (size_t i = 0; i < n; i++) /* any that may come back: unreachable */
            if (mq_transient(nodes[i].s))
                s = MQ_ERR_UNREACHABLE;
    } else {
        s = mq_inspect_topology(m, c, &qi, err, errlen);
        if (s == MQ_OK)
            head_age(m, c, used->version, qi.messages, &h);
        mq_close(m);
    }
    int code = check_status(c, nodes, n, s, err, errlen);
    if (mode == TOOL_CHECK_JSON)
        check_json(c, nodes, n, used, s == MQ_OK ? &qi : NULL, &h, code ? err : NULL, out, outlen);
    else
        check_text(c, nodes, n, used, s == MQ_OK ? &qi : NULL, &h, out, outlen);
    return code;
}
