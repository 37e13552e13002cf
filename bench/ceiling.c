/* ceiling.c - the benchmarks' ceilings: broker publish and consume rates, rename rate. */
/*
 * Not part of scanmove: a measuring tool that bench/lib.sh builds with cc
 * (cc -O2 bench/ceiling.c -lrabbitmq -lpthread) and runs between the
 * benchmark runs, so that scan and move are judged against what the same
 * broker and filesystem manage at the same moment, not against a fixed
 * number of files/s. Each mode does the least a client can do for the
 * work scan or move does, with the same settings:
 *
 *   ceiling publish URL EXCHANGE ROUTING-KEY N SIZE WINDOW
 *       publishes N persistent, mandatory messages of SIZE bytes with the
 *       properties scan sets, at most WINDOW unconfirmed at a time (scan's
 *       --confirm-window), in corked bursts of 512 (as scan), and waits
 *       for every confirm;
 *   ceiling consume URL QUEUE N PREFETCH CONSUMERS
 *       CONSUMERS connections (threads) consume N messages from QUEUE with
 *       basic.qos PREFETCH and acknowledge them as move does: together
 *       ("multiple") once PREFETCH/2 are done or no delivery is waiting;
 *   ceiling consume URL QUEUE N PREFETCH CONSUMERS FROM TO
 *       the same, and for every message one rename as below (of the next
 *       file of the list, not of the message's path): a mover that does
 *       nothing but consume, rename and acknowledge;
 *   ceiling rename FROM TO THREADS
 *       THREADS threads rename the files named on standard input (paths
 *       relative to FROM, each ended by a NUL) from FROM to the same path
 *       under TO with renameat2(RENAME_NOREPLACE), as move does, making
 *       the directories of TO as they are needed. The list is read before
 *       the clock starts.
 *
 * Each prints one line on standard output, "COUNT SECONDS RATE" (RATE in
 * messages or renames per second), and exits 0; on any failure it prints
 * "ceiling: ..." on standard error and exits 1 (a ceiling that did not do
 * all its work means nothing).
 */
#define _GNU_SOURCE
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BURST 512 /* scan's PUBLISH_BURST: messages published in one cork */
#define CHANNEL 1

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ceiling: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t number(const char *what, const char *s, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < 1 || v > max)
        die("%s must be a number from 1 to %" PRIu64 ", not '%s'", what, max, s);
    return (uint64_t)v;
}

static void report(uint64_t count, double t0, double t1)
{
    double secs = t1 - t0;
    printf("%" PRIu64 " %.3f %.0f\n", count, secs, secs > 0 ? (double)count / secs : 0.0);
}

/* ------------------------------------------------------------ broker -- */

static void check_reply(amqp_connection_state_t c, const char *doing)
{
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c);
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
        die("%s: %s", doing, amqp_error_string2(r.library_error));
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD || r.reply.id == AMQP_CONNECTION_CLOSE_METHOD)) {
        amqp_bytes_t t = r.reply.id == AMQP_CHANNEL_CLOSE_METHOD
                             ? ((amqp_channel_close_t *)r.reply.decoded)->reply_text
                             : ((amqp_connection_close_t *)r.reply.decoded)->reply_text;
        die("%s: the broker said: %.*s", doing, (int)t.len, (const char *)t.bytes);
    }
    die("%s: unexpected reply from the broker", doing);
}

/* Connect to URL (amqp://user:pass@host:port/vhost) and open CHANNEL. */
static amqp_connection_state_t connect_to(const char *url)
{
    struct amqp_connection_info ci;
    char *copy = strdup(url);
    if (copy == NULL)
        die("out of memory");
    amqp_default_connection_info(&ci);
    if (amqp_parse_url(copy, &ci) != AMQP_STATUS_OK)
        die("cannot parse the URL");
    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *sock = c != NULL ? amqp_tcp_socket_new(c) : NULL;
    if (sock == NULL)
        die("out of memory");
    int rc = amqp_socket_open(sock, ci.host, ci.port);
    if (rc != AMQP_STATUS_OK)
        die("cannot connect to %s:%d: %s", ci.host, ci.port, amqp_error_string2(rc));
    amqp_rpc_reply_t r =
        amqp_login(c, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        die("cannot log in to %s:%d", ci.host, ci.port);
    free(copy);
    amqp_channel_open(c, CHANNEL);
    check_reply(c, "opening a channel");
    return c;
}

static void disconnect(amqp_connection_state_t c)
{
    amqp_channel_close(c, CHANNEL, AMQP_REPLY_SUCCESS);
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
}

static void cork(amqp_connection_state_t c, int on)
{
    int fd = amqp_get_sockfd(c);
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
}

/* ----------------------------------------------------------- publish -- */

struct confirms {
    unsigned char *done; /* done[tag]: confirmed, tags 1..n */
    uint64_t low;        /* every tag up to low is confirmed */
    uint64_t count;      /* confirmed tags */
};

static void confirm(struct confirms *k, uint64_t tag, int multiple, uint64_t sent)
{
    if (tag == 0 || tag > sent)
        die("the broker confirmed message %" PRIu64 ", but only %" PRIu64 " were sent", tag, sent);
    for (uint64_t t = multiple ? k->low + 1 : tag; t <= tag; t++) {
        if (!k->done[t]) {
            k->done[t] = 1;
            k->count++;
        }
    }
    while (k->low < sent && k->done[k->low + 1])
        k->low++;
}

/* Read the frames that have arrived, waiting up to wait_ms for the first. */
static void read_confirms(amqp_connection_state_t c, struct confirms *k, uint64_t sent, int wait_ms)
{
    for (;;) {
        amqp_frame_t f;
        struct timeval tv = {.tv_sec = wait_ms / 1000, .tv_usec = (wait_ms % 1000) * 1000};
        int rc = amqp_simple_wait_frame_noblock(c, &f, &tv);
        if (rc == AMQP_STATUS_TIMEOUT)
            return;
        if (rc != AMQP_STATUS_OK)
            die("waiting for confirms: %s", amqp_error_string2(rc));
        wait_ms = 0;
        if (f.frame_type != AMQP_FRAME_METHOD)
            continue;
        switch (f.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
            amqp_basic_ack_t *a = f.payload.method.decoded;
            confirm(k, a->delivery_tag, a->multiple, sent);
            break;
        }
        case AMQP_BASIC_NACK_METHOD:
            die("the broker refused (nacked) a message");
        case AMQP_BASIC_RETURN_METHOD:
            die("the broker returned a message: no queue is bound to the routing key");
        case AMQP_CHANNEL_CLOSE_METHOD:
        case AMQP_CONNECTION_CLOSE_METHOD:
            die("the broker closed the connection while publishing");
        default:
            break;
        }
        amqp_maybe_release_buffers(c);
    }
}

static int run_publish(int argc, char **argv)
{
    if (argc != 8)
        die("usage: ceiling publish URL EXCHANGE ROUTING-KEY N SIZE WINDOW");
    const char *exchange = argv[3], *key = argv[4];
    uint64_t n = number("N", argv[5], 100000000);
    size_t size = (size_t)number("SIZE", argv[6], 65536);
    uint64_t window = number("WINDOW", argv[7], 1000000);

    /* A body of the size of scan's messages; its bytes do not matter to
     * the broker, which never looks inside. */
    char *body = malloc(size);
    struct confirms k = {.done = calloc(n + 1, 1), .low = 0, .count = 0};
    if (body == NULL || k.done == NULL)
        die("out of memory");
    memset(body, 'x', size);
    body[0] = '{';
    body[size - 1] = '}';

    amqp_connection_state_t c = connect_to(argv[2]);
    amqp_confirm_select(c, CHANNEL);
    check_reply(c, "turning on publisher confirms");

    /* The properties scan sets on a --no-mime message. */
    char id[33];
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof p);
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
               AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_APP_ID_FLAG |
               AMQP_BASIC_TYPE_FLAG;
    p.content_type = amqp_cstring_bytes("application/json");
    p.type = amqp_cstring_bytes("scanmove.file.v1");
    p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    p.app_id = amqp_cstring_bytes("scanmove");
    p.timestamp = (uint64_t)time(NULL);
    amqp_bytes_t b = {.len = size, .bytes = body};

    uint64_t sent = 0;
    double t0 = now();
    while (k.count < n) {
        uint64_t room = window - (sent - k.count);
        if (sent < n && room > 0) {
            uint64_t burst = n - sent < room ? n - sent : room;
            if (burst > BURST)
                burst = BURST;
            cork(c, 1);
            for (uint64_t i = 0; i < burst; i++) {
                snprintf(id, sizeof id, "%032" PRIx64, sent + 1);
                p.message_id = amqp_cstring_bytes(id);
                int rc = amqp_basic_publish(c, CHANNEL, amqp_cstring_bytes(exchange),
                                            amqp_cstring_bytes(key), 1, 0, &p, b);
                if (rc != AMQP_STATUS_OK)
                    die("publishing: %s", amqp_error_string2(rc));
                sent++;
                /* As scan: read the confirms that are there every 64
                 * messages, so that they flow back while publishing. */
                if ((sent & 63) == 0)
                    read_confirms(c, &k, sent, 0);
            }
            cork(c, 0);
            read_confirms(c, &k, sent, 0);
        } else {
            read_confirms(c, &k, sent, 30000);
        }
    }
    double t1 = now();
    disconnect(c);
    report(n, t0, t1);
    free(body);
    free(k.done);
    return 0;
}

/* ------------------------------------------------------------ rename -- */

struct rename_run {
    int from, to; /* the two trees' directories */
    char **paths; /* relative paths, n of them */
    size_t n;
    atomic_size_t next; /* the next path to rename */
};

/* Make the directories of PATH (relative) beneath TO, like mkdir -p. */
static void make_parents(int to, const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *s = strchr(dir, '/'); s != NULL; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdirat(to, dir, 0755) < 0 && errno != EEXIST)
            die("cannot make the directory %s: %s", dir, strerror(errno));
        *s = '/';
    }
}

/* Rename the next path of the list; 0 when the list is done. */
static int rename_next(struct rename_run *run)
{
    size_t i = atomic_fetch_add(&run->next, 1);
    if (i >= run->n)
        return 0;
    const char *p = run->paths[i];
    if (renameat2(run->from, p, run->to, p, RENAME_NOREPLACE) == 0)
        return 1;
    if (errno == ENOENT && strchr(p, '/') != NULL) {
        make_parents(run->to, p);
        if (renameat2(run->from, p, run->to, p, RENAME_NOREPLACE) == 0)
            return 1;
    }
    die("cannot rename %s: %s", p, strerror(errno));
}

static void *rename_thread(void *arg)
{
    while (rename_next(arg))
        continue;
    return NULL;
}

/* Read NUL-terminated paths from standard input. */
static char **read_paths(size_t *n)
{
    size_t cap = 1024, len = 0;
    char **paths = malloc(cap * sizeof *paths), *line = NULL;
    size_t linecap = 0;
    ssize_t got;
    if (paths == NULL)
        die("out of memory");
    while ((got = getdelim(&line, &linecap, '\0', stdin)) > 0) {
        if (line[got - 1] == '\0')
            got--;
        if (got == 0)
            continue;
        if (len == cap && (paths = realloc(paths, (cap *= 2) * sizeof *paths)) == NULL)
            die("out of memory");
        if ((paths[len++] = strndup(line, (size_t)got)) == NULL)
            die("out of memory");
    }
    free(line);
    *n = len;
    return paths;
}

/* Open the trees FROM and TO and read the paths to rename. */
static void open_trees(struct rename_run *run, const char *from, const char *to)
{
    run->from = open(from, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    run->to = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (run->from < 0 || run->to < 0)
        die("cannot open %s or %s: %s", from, to, strerror(errno));
    run->paths = read_paths(&run->n);
    if (run->n == 0)
        die("no paths on standard input");
    atomic_init(&run->next, 0);
}

/* ----------------------------------------------------------- consume -- */

struct consume_run {
    const char *url, *queue;
    uint64_t n;
    uint16_t prefetch;
    pthread_barrier_t ready;   /* every consumer connected, before the clock starts */
    pthread_barrier_t stopped; /* every consumer done reading, before any closes */
    atomic_uint_fast64_t received, redelivered;
    atomic_int done;
    struct rename_run *ren; /* with FROM and TO: rename a file per message */
};

struct consumer {
    struct consume_run *run;
    pthread_t thread;
    double last_ack; /* when this consumer sent its last acknowledgement */
};

static void ack_upto(amqp_connection_state_t c, uint64_t tag, unsigned *pending, double *when)
{
    if (*pending == 0)
        return;
    int rc = amqp_basic_ack(c, CHANNEL, tag, 1);
    if (rc != AMQP_STATUS_OK)
        die("acknowledging: %s", amqp_error_string2(rc));
    *pending = 0;
    *when = now();
}

static void *consume_thread(void *arg)
{
    struct consumer *me = arg;
    struct consume_run *run = me->run;
    unsigned batch = run->prefetch / 2 > 0 ? run->prefetch / 2 : 1, pending = 0;
    uint64_t tag = 0;

    amqp_connection_state_t c = connect_to(run->url);
    amqp_basic_qos(c, CHANNEL, 0, run->prefetch, 0);
    check_reply(c, "setting the prefetch");
    pthread_barrier_wait(&run->ready);
    amqp_basic_consume(c, CHANNEL, amqp_cstring_bytes(run->queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    check_reply(c, "consuming");

    while (!atomic_load(&run->done)) {
        amqp_envelope_t env;
        struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
        amqp_maybe_release_buffers(c);
        amqp_rpc_reply_t r = amqp_consume_message(c, &env, &tv, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            tag = env.delivery_tag;
            /* Count first deliveries only: a redelivery is a message
             * already counted. RabbitMQ 3.10 quorum queues now and then
             * redeliver a few messages during a run; they are
             * acknowledged too, and reported. */
            uint64_t got;
            int again = env.redelivered;
            if (again) {
                atomic_fetch_add(&run->redelivered, 1);
                got = atomic_load(&run->received);
            } else {
                got = atomic_fetch_add(&run->received, 1) + 1;
            }
            amqp_destroy_envelope(&env);
            if (run->ren != NULL && !again && !rename_next(run->ren))
                die("more messages than files to rename");
            pending++;
            if (got >= run->n)
                atomic_store(&run->done, 1);
            /* As move: acknowledge the group once it is full, or when no
             * further delivery is waiting. */
            if (pending >= batch || got >= run->n ||
                (!amqp_data_in_buffer(c) && !amqp_frames_enqueued(c)))
                ack_upto(c, tag, &pending, &me->last_ack);
        } else if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                   r.library_error == AMQP_STATUS_TIMEOUT) {
            ack_upto(c, tag, &pending, &me->last_ack);
        } else if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                   r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
            amqp_frame_t f;
            if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK)
                die("consuming: the connection was lost");
            if (f.frame_type == AMQP_FRAME_METHOD &&
                (f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
                 f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD ||
                 f.payload.method.id == AMQP_BASIC_CANCEL_METHOD))
                die("the broker ended the consumer");
        } else {
            die("consuming: %s", r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
                                     ? amqp_error_string2(r.library_error)
                                     : "unexpected reply");
        }
    }
    ack_upto(c, tag, &pending, &me->last_ack);
    /* A consumer that closes while another still reads may see its last
     * acknowledgements overtaken by its departure (the queue then gives
     * those messages to the other one again): close only once every
     * consumer has stopped reading. */
    pthread_barrier_wait(&run->stopped);
    disconnect(c);
    return NULL;
}

static int run_consume(int argc, char **argv)
{
    if (argc != 7 && argc != 9)
        die("usage: ceiling consume URL QUEUE N PREFETCH CONSUMERS [FROM TO < paths]");
    struct consume_run run = {.url = argv[2], .queue = argv[3]};
    struct rename_run ren;
    if (argc == 9) {
        open_trees(&ren, argv[7], argv[8]);
        run.ren = &ren;
    }
    run.n = number("N", argv[4], 100000000);
    run.prefetch = (uint16_t)number("PREFETCH", argv[5], 65535);
    unsigned k = (unsigned)number("CONSUMERS", argv[6], 64);
    atomic_init(&run.received, 0);
    atomic_init(&run.redelivered, 0);
    atomic_init(&run.done, 0);
    struct consumer *cs = calloc(k, sizeof *cs);
    if (cs == NULL || pthread_barrier_init(&run.ready, NULL, k + 1) != 0 ||
        pthread_barrier_init(&run.stopped, NULL, k) != 0)
        die("out of memory");
    for (unsigned i = 0; i < k; i++) {
        cs[i].run = &run;
        if (pthread_create(&cs[i].thread, NULL, consume_thread, &cs[i]) != 0)
            die("cannot start a thread");
    }
    pthread_barrier_wait(&run.ready);
    double t0 = now(), t1 = t0;
    for (unsigned i = 0; i < k; i++) {
        pthread_join(cs[i].thread, NULL);
        if (cs[i].last_ack > t1)
            t1 = cs[i].last_ack;
    }
    uint64_t got = atomic_load(&run.received), again = atomic_load(&run.redelivered);
    if (got < run.n)
        die("received %" PRIu64 " messages, not %" PRIu64, got, run.n);
    if (again > 0)
        fprintf(stderr, "ceiling: %" PRIu64 " redeliveries besides the %" PRIu64 " messages\n",
                again, got);
    report(got, t0, t1);
    free(cs);
    return 0;
}

static int run_rename(int argc, char **argv)
{
    if (argc != 5)
        die("usage: ceiling rename FROM TO THREADS < NUL-separated paths");
    struct rename_run run;
    unsigned k = (unsigned)number("THREADS", argv[4], 64);
    open_trees(&run, argv[2], argv[3]);
    pthread_t *ts = calloc(k, sizeof *ts);
    if (ts == NULL)
        die("out of memory");
    double t0 = now();
    for (unsigned i = 0; i < k; i++)
        if (pthread_create(&ts[i], NULL, rename_thread, &run) != 0)
            die("cannot start a thread");
    for (unsigned i = 0; i < k; i++)
        pthread_join(ts[i], NULL);
    double t1 = now();
    report(run.n, t0, t1);
    for (size_t i = 0; i < run.n; i++)
        free(run.paths[i]);
    free(run.paths);
    free(ts);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "publish") == 0)
        return run_publish(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "consume") == 0)
        return run_consume(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "rename") == 0)
        return run_rename(argc, argv);
    die("usage: ceiling publish|consume|rename ARGS... (see bench/ceiling.c)");
}
