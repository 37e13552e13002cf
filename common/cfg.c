/* cfg.c - broker settings: defaults < environment < flags; see cfg.h. */
#include "cfg.h"

#include "backoff.h"
#include "mq_url.h"
#include "opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CFG_ROW_(id, flag, arg, env, def, help, after) {CFG_OPT_##id, "--" flag, env, def},
static const struct cfg_setting settings[] = {CFG_SETTINGS(CFG_ROW_)};

const struct cfg_setting *cfg_settings(size_t *n)
{
    if (n != NULL)
        *n = sizeof settings / sizeof settings[0];
    return settings;
}

static int set_name(char *dst, size_t dstlen, const char *what, const char *v, char *err,
                    size_t errlen)
{
    size_t n = strlen(v);
    if (n == 0 || n >= dstlen) {
        snprintf(err, errlen, "%s must be 1 to %zu bytes long", what, dstlen - 1);
        return -1;
    }
    memcpy(dst, v, n + 1);
    return 0;
}

/* 1 when the len bytes at s hold white space or a comma before amqp:// or
 * amqps://: more than one URL, where one is wanted. */
static int holds_list(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (isspace((unsigned char)s[i]))
            return 1;
        if (s[i] == ',' && ((len - i > 7 && strncasecmp(s + i + 1, "amqp://", 7) == 0) ||
                            (len - i > 8 && strncasecmp(s + i + 1, "amqps://", 8) == 0)))
            return 1;
    }
    return 0;
}

/* The number of URLs in c->url_flag, one per line. */
static size_t count_lines(const char *text)
{
    size_t n = text[0] != '\0';
    for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)
        n++;
    return n;
}

/* Append one --url (what) to c->url_flag, one per line. An empty value
 * adds nothing, as before lists: the next source then applies. */
static int add_url_flag(struct cfg *c, const char *what, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v), used = strlen(c->url_flag);
    if (n == 0)
        return 0;
    if (holds_list(v, n)) {
        snprintf(err, errlen, "%s takes one broker URL: give %s once per broker", what, what);
        return -1;
    }
    if (n >= CFG_URL_MAX) {
        snprintf(err, errlen, "%s is too long", what);
        return -1;
    }
    if (count_lines(c->url_flag) >= CFG_URLS_MAX || used + 1 + n >= sizeof c->url_flag) {
        snprintf(err, errlen, "%s gives more than %d broker URLs", what, CFG_URLS_MAX);
        return -1;
    }
    if (used > 0)
        c->url_flag[used++] = '\n';
    memcpy(c->url_flag + used, v, n + 1);
    return 0;
}

/* 0 when v is first, 1 when v is second, else -1 with a sentence naming
 * what (the flag or variable) in err. */
static int choice(const char *what, const char *v, const char *first, const char *second, char *err,
                  size_t errlen)
{
    if (strcmp(v, first) == 0)
        return 0;
    if (strcmp(v, second) == 0)
        return 1;
    snprintf(err, errlen, "%s must be %s or %s, not '%s'", what, first, second, v);
    return -1;
}

/* Apply one setting by option code; what names the source for messages
 * ("--queue" or "SCANMOVE_QUEUE"). */
static int apply(struct cfg *c, int code, const char *what, const char *v, char *err, size_t errlen)
{
    char why[256];
    uint64_t n;
    int k;
    switch (code) {
    case CFG_OPT_URL:
        return add_url_flag(c, what, v, err, errlen);
    case CFG_OPT_URL_FILE:
        return set_name(c->url_file, sizeof c->url_file, what, v, err, errlen);
    case CFG_OPT_URL_ORDER:
        if ((k = choice(what, v, "random", "ordered", err, errlen)) < 0)
            return -1;
        c->order = k == 1 ? CFG_URL_ORDERED : CFG_URL_RANDOM;
        return 0;
    case CFG_OPT_EXCHANGE:
        return set_name(c->exchange, sizeof c->exchange, what, v, err, errlen);
    case CFG_OPT_QUEUE:
        return set_name(c->queue, sizeof c->queue, what, v, err, errlen);
    case CFG_OPT_ROUTING_KEY:
        return set_name(c->routing_key, sizeof c->routing_key, what, v, err, errlen);
    case CFG_OPT_CACERT:
        return set_name(c->cacert, sizeof c->cacert, what, v, err, errlen);
    case CFG_OPT_CERT:
        return set_name(c->cert, sizeof c->cert, what, v, err, errlen);
    case CFG_OPT_KEY:
        return set_name(c->key, sizeof c->key, what, v, err, errlen);
    case CFG_OPT_QUEUE_TYPE:
        if ((k = choice(what, v, "quorum", "classic", err, errlen)) < 0)
            return -1;
        c->queue_type = k == 1 ? CFG_QUEUE_CLASSIC : CFG_QUEUE_QUORUM;
        return 0;
    case CFG_OPT_DELIVERY_LIMIT:
        if (opts_parse_u64(v, 0, INT32_MAX, &n, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: %s", what, why);
            return -1;
        }
        c->delivery_limit = (uint32_t)n;
        return 0;
    case CFG_OPT_HEARTBEAT:
        if (opts_parse_duration(v, &n, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: %s", what, why);
            return -1;
        }
        if (n % 1000 != 0 || n / 1000 > 65535) {
            snprintf(err, errlen, "%s: the heartbeat is whole seconds, at most 65535", what);
            return -1;
        }
        c->heartbeat_s = (uint32_t)(n / 1000);
        return 0;
    case CFG_OPT_CONNECT_TIMEOUT:
        if (opts_parse_duration(v, &n, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: %s", what, why);
            return -1;
        }
        if (n == 0) {
            snprintf(err, errlen, "%s must be more than zero", what);
            return -1;
        }
        c->connect_timeout_ms = n;
        return 0;
    default:
        return 1;
    }
}

void cfg_defaults(struct cfg *c)
{
    char ignored[256];
    memset(c, 0, sizeof *c);
    /* The defaults are good values: tests/unit/test_cfg.c applies each. */
    for (size_t i = 0; i < CFG_N_SETTINGS; i++)
        if (settings[i].def[0] != '\0')
            apply(c, settings[i].code, settings[i].flag, settings[i].def, ignored, sizeof ignored);
    memcpy(c->routing_key, c->queue, sizeof c->routing_key);
}

int cfg_from_env(struct cfg *c, char *err, size_t errlen)
{
    int key_given = (c->flags_given & (1u << (CFG_OPT_ROUTING_KEY - CFG_OPT_FIRST))) != 0;
    for (size_t i = 0; i < CFG_N_SETTINGS; i++) {
        const struct cfg_setting *set = &settings[i];
        if (set->env == NULL || (c->flags_given & (1u << (set->code - CFG_OPT_FIRST))))
            continue;
        if (set->code == CFG_OPT_URL_FILE && c->url_flag[0] != '\0')
            continue; /* --url wins over SCANMOVE_URL_FILE */
        const char *v = getenv(set->env);
        if (v != NULL && *v != '\0' && apply(c, set->code, set->env, v, err, errlen) < 0)
            return -1;
        if (v != NULL && *v != '\0' && set->code == CFG_OPT_ROUTING_KEY)
            key_given = 1;
    }
    /* A key shared by two queues would copy every message of one pipeline
     * into the other's queue, as into a queue named by a typo. */
    if (!key_given)
        memcpy(c->routing_key, c->queue, sizeof c->routing_key);
    const char *url = getenv("AMQP_URL");
    if (url != NULL && *url != '\0') {
        if (strlen(url) >= sizeof c->url_env) {
            snprintf(err, errlen, "AMQP_URL is too long");
            return -1;
        }
        snprintf(c->url_env, sizeof c->url_env, "%s", url);
    }
    return 0;
}

int cfg_apply_option(struct cfg *c, int code, const char *arg, char *err, size_t errlen)
{
    if (code < CFG_OPT_FIRST || code >= CFG_OPT_END)
        return 0;
    if (apply(c, code, settings[code - CFG_OPT_FIRST].flag, arg, err, errlen) < 0)
        return -1;
    c->flags_given |= 1u << (code - CFG_OPT_FIRST);
    return 1;
}

/* Append the URL of len bytes at s to c->urls; src names where it came
 * from. 0, or -1 with a sentence in err that does not repeat the URL. */
static int add_url(struct cfg *c, const char *s, size_t len, const char *src, char *err,
                   size_t errlen)
{
    if (c->n_urls == CFG_URLS_MAX) {
        snprintf(err, errlen, "%s gives more than %d broker URLs", src, CFG_URLS_MAX);
        return -1;
    }
    if (len >= CFG_URL_MAX) {
        snprintf(err, errlen, "a URL in %s is too long", src);
        return -1;
    }
    memcpy(c->urls[c->n_urls], s, len);
    c->urls[c->n_urls++][len] = '\0';
    return 0;
}

/* The URLs of text, separated by white space, into c->urls; src names the
 * source. A comma before amqp[s]:// is refused, as the misleading error a
 * comma list used to give showed it is a common guess. */
static int add_url_list(struct cfg *c, const char *text, const char *src, char *err, size_t errlen)
{
    static const char blank[] = " \t\n\v\f\r";
    for (const char *p = text + strspn(text, blank); *p != '\0'; p += strspn(p, blank)) {
        size_t len = strcspn(p, blank);
        if (holds_list(p, len)) {
            snprintf(err, errlen, "%s separates broker URLs with commas: separate them with spaces",
                     src);
            return -1;
        }
        if (add_url(c, p, len, src, err, errlen) < 0)
            return -1;
        p += len;
    }
    return 0;
}

/* One line of the URL file (number no, len bytes at line, without its
 * newline) into c->urls, unless it is blank or a comment. */
static int add_url_line(struct cfg *c, char *line, size_t len, size_t no, const char *src,
                        char *err, size_t errlen)
{
    while (len > 0 && isspace((unsigned char)line[len - 1]))
        len--;
    while (len > 0 && isspace((unsigned char)*line)) {
        line++;
        len--;
    }
    if (len == 0 || *line == '#')
        return 0;
    if (holds_list(line, len)) {
        snprintf(err, errlen,
                 "line %zu of the URL file %s holds more than a URL: give one URL per line, and "
                 "comments on lines of their own",
                 no, c->url_file);
        return -1;
    }
    if (len >= CFG_URL_MAX) {
        snprintf(err, errlen, "line %zu of the URL file %s is too long", no, c->url_file);
        return -1;
    }
    return add_url(c, line, len, src, err, errlen);
}

/* The URLs of the file c->url_file, one per line, into c->urls. */
static int read_url_file(struct cfg *c, char *err, size_t errlen)
{
    char src[CFG_PATH_MAX + 16];
    FILE *f = fopen(c->url_file, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read the URL file %s: %s", c->url_file, strerror(errno));
        return -1;
    }
    snprintf(src, sizeof src, "the URL file %s", c->url_file);
    char *line = NULL;
    size_t cap = 0, no = 0, bytes = 0;
    ssize_t n;
    int r = 0;
    while (r == 0 && (n = getline(&line, &cap, f)) >= 0) {
        bytes += (size_t)n;
        r = add_url_line(c, line, strcspn(line, "\n"), ++no, src, err, errlen);
    }
    int e = r == 0 && ferror(f) ? errno : 0;
    free(line);
    fclose(f);
    if (r < 0)
        return -1;
    if (e != 0 || c->n_urls == 0) {
        snprintf(err, errlen, "%s %s", src,
                 e != 0       ? strerror(e)
                 : bytes == 0 ? "is empty"
                              : "is empty but for blank lines and comments");
        return -1;
    }
    return 0;
}

int cfg_check_flags(const struct cfg *c, char *err, size_t errlen)
{
    if (c->url_flag[0] != '\0' && c->url_file[0] != '\0') {
        snprintf(err, errlen, "--url and --url-file cannot be used together");
        return -1;
    }
    return 0;
}

int cfg_finish(struct cfg *c, char *err, size_t errlen)
{
    int r;
    if (cfg_check_flags(c, err, errlen) < 0)
        return -1;
    c->n_urls = 0;
    if (c->url_flag[0] != '\0') {
        c->url_source = CFG_URL_FLAG;
        r = add_url_list(c, c->url_flag, "--url", err, errlen);
    } else if (c->url_file[0] != '\0') {
        c->url_source = CFG_URL_FILE;
        r = read_url_file(c, err, errlen);
    } else if (c->url_env[strspn(c->url_env, " \t\n\v\f\r")] != '\0') {
        c->url_source = CFG_URL_ENV;
        r = add_url_list(c, c->url_env, "AMQP_URL", err, errlen);
    } else {
        c->url_source = CFG_URL_DEFAULT;
        r = add_url(c, MQ_URL_DEFAULT, strlen(MQ_URL_DEFAULT), "the default", err, errlen);
    }
    if (r < 0)
        return -1;
    cfg_order_urls(c, backoff_seed());
    return 0;
}

/* splitmix64: a small, good generator for a handful of draws. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void cfg_order_urls(struct cfg *c, uint64_t seed)
{
    uint64_t state = seed;
    for (size_t i = 0; i < c->n_urls; i++)
        c->url_order[i] = i;
    if (c->order != CFG_URL_RANDOM)
        return;
    /* Fisher-Yates; the modulo's bias is below 1e-17 for 16 URLs. */
    for (size_t i = c->n_urls; i > 1; i--) {
        size_t j = (size_t)(splitmix64(&state) % i), t = c->url_order[i - 1];
        c->url_order[i - 1] = c->url_order[j];
        c->url_order[j] = t;
    }
}

int cfg_dlx_name(const struct cfg *c, char out[CFG_NAME_MAX + 1])
{
    return snprintf(out, CFG_NAME_MAX + 1, "%s.dlx", c->exchange) > CFG_NAME_MAX ? -1 : 0;
}

int cfg_dead_name(const struct cfg *c, char out[CFG_NAME_MAX + 1])
{
    return snprintf(out, CFG_NAME_MAX + 1, "%s.dead", c->queue) > CFG_NAME_MAX ? -1 : 0;
}

const char *cfg_queue_type_name(enum cfg_queue_type t)
{
    return t == CFG_QUEUE_CLASSIC ? "classic" : "quorum";
}

const char *cfg_url_source_name(enum cfg_url_source s)
{
    switch (s) {
    case CFG_URL_FLAG:
        return "--url";
    case CFG_URL_FILE:
        return "--url-file";
    case CFG_URL_ENV:
        return "AMQP_URL";
    default:
        return "the default";
    }
}

/* Overwrite the password inside one URL string in place. */
static int hide_in(char *url)
{
    const char *user, *colon, *at;
    if (!mq_url_userinfo(url, &user, &colon, &at) || colon == NULL || colon + 1 == at)
        return 0;
    memset(url + (colon + 1 - url), '*', (size_t)(at - colon - 1));
    return 1;
}

int cfg_hide_argv_password(int argc, char **argv)
{
    int found = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strncmp(argv[i], "--url=", 6) == 0)
            found |= hide_in(argv[i] + 6);
        else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            found |= hide_in(argv[++i]);
    }
    return found;
}
