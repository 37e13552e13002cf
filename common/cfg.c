/* cfg.c - broker settings: defaults < environment < flags; see cfg.h. */
#include "cfg.h"

#include "mq_url.h"
#include "opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Apply one setting by option code; what names the source for messages
 * ("--queue" or "SCANMOVE_QUEUE"). */
static int apply(struct cfg *c, int code, const char *what, const char *v, char *err, size_t errlen)
{
    char why[256];
    uint64_t n;
    switch (code) {
    case CFG_OPT_URL:
        if (strlen(v) >= sizeof c->url_flag) {
            snprintf(err, errlen, "%s is too long", what);
            return -1;
        }
        snprintf(c->url_flag, sizeof c->url_flag, "%s", v);
        return 0;
    case CFG_OPT_URL_FILE:
        return set_name(c->url_file, sizeof c->url_file, what, v, err, errlen);
    case CFG_OPT_EXCHANGE:
        return set_name(c->exchange, sizeof c->exchange, what, v, err, errlen);
    case CFG_OPT_QUEUE:
        return set_name(c->queue, sizeof c->queue, what, v, err, errlen);
    case CFG_OPT_ROUTING_KEY:
        return set_name(c->routing_key, sizeof c->routing_key, what, v, err, errlen);
    case CFG_OPT_CACERT:
        return set_name(c->cacert, sizeof c->cacert, what, v, err, errlen);
    case CFG_OPT_QUEUE_TYPE:
        if (strcmp(v, "quorum") == 0) {
            c->queue_type = CFG_QUEUE_QUORUM;
        } else if (strcmp(v, "classic") == 0) {
            c->queue_type = CFG_QUEUE_CLASSIC;
        } else {
            snprintf(err, errlen, "%s must be quorum or classic, not '%s'", what, v);
            return -1;
        }
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

static int read_url_file(struct cfg *c, char *err, size_t errlen)
{
    FILE *f = fopen(c->url_file, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read the URL file %s: %s", c->url_file, strerror(errno));
        return -1;
    }
    char line[CFG_URL_MAX + 2];
    if (fgets(line, sizeof line, f) == NULL) {
        int e = ferror(f) ? errno : 0;
        fclose(f);
        snprintf(err, errlen, "the URL file %s %s", c->url_file, e ? strerror(e) : "is empty");
        return -1;
    }
    fclose(f);
    size_t n = strlen(line);
    if (n > CFG_URL_MAX - 1 && line[n - 1] != '\n') {
        snprintf(err, errlen, "the first line of the URL file %s is too long", c->url_file);
        return -1;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                     line[n - 1] == '\t'))
        line[--n] = '\0';
    if (n == 0) {
        snprintf(err, errlen, "the first line of the URL file %s is empty", c->url_file);
        return -1;
    }
    memcpy(c->url, line, n + 1);
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
    if (cfg_check_flags(c, err, errlen) < 0)
        return -1;
    if (c->url_flag[0] != '\0') {
        snprintf(c->url, sizeof c->url, "%s", c->url_flag);
        c->url_source = CFG_URL_FLAG;
    } else if (c->url_file[0] != '\0') {
        if (read_url_file(c, err, errlen) < 0)
            return -1;
        c->url_source = CFG_URL_FILE;
    } else if (c->url_env[0] != '\0') {
        snprintf(c->url, sizeof c->url, "%s", c->url_env);
        c->url_source = CFG_URL_ENV;
    } else {
        snprintf(c->url, sizeof c->url, "%s", MQ_URL_DEFAULT);
        c->url_source = CFG_URL_DEFAULT;
    }
    return 0;
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
