/* layout.c - move --layout: a template compiled once into tokens, expanded per message
 * without allocating; see layout.h. */
#include "layout.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What one token puts in the path. */
enum tok_kind {
    TOK_LIT, /* the text s (len bytes) */
    TOK_PATH,
    TOK_DIR,
    TOK_NAME,
    TOK_STEM,
    TOK_EXT,
    TOK_MIME,
    TOK_MIME_TYPE,
    TOK_MIME_SUBTYPE,
    TOK_MTIME,     /* strftime(s) of the mtime in local time */
    TOK_MTIME_UTC, /* the same in UTC */
    TOK_SIZE,
    TOK_ROOT_NAME,
    TOK_HOST,
};

struct token {
    enum tok_kind kind;
    const char *s; /* TOK_LIT: the text; TOK_MTIME*: the format, NUL-terminated */
    size_t len;
};

struct layout {
    struct token *tok;
    size_t n;
    char *text; /* the literal texts and formats the tokens point into */
};

/* The placeholders by name; the two times take a format after a colon. */
static const struct {
    const char *name;
    enum tok_kind kind;
} names[] = {
    {"path", TOK_PATH},
    {"dir", TOK_DIR},
    {"name", TOK_NAME},
    {"stem", TOK_STEM},
    {"ext", TOK_EXT},
    {"mime", TOK_MIME},
    {"mime_type", TOK_MIME_TYPE},
    {"mime_subtype", TOK_MIME_SUBTYPE},
    {"mtime", TOK_MTIME},
    {"mtime_utc", TOK_MTIME_UTC},
    {"size", TOK_SIZE},
    {"root_name", TOK_ROOT_NAME},
    {"host", TOK_HOST},
};

/* The placeholder named by the len bytes at p, with an optional ":FORMAT"
 * (only for the times, where it is required), into t; its format copied
 * to *text. Returns 0, or -1 with the sentence. */
static int parse_placeholder(const char *p, size_t len, struct token *t, char **text, char *err,
                             size_t errlen)
{
    const char *colon = memchr(p, ':', len);
    size_t nlen = colon != NULL ? (size_t)(colon - p) : len;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].name) != nlen || memcmp(names[i].name, p, nlen) != 0)
            continue;
        int timed = names[i].kind == TOK_MTIME || names[i].kind == TOK_MTIME_UTC;
        if (timed && (colon == NULL || colon + 1 == p + len)) {
            snprintf(err, errlen,
                     "--layout: {%.*s} needs a strftime format, as {%.*s:%%Y/%%m} (see move(1), "
                     "LAYOUTS)",
                     (int)nlen, p, (int)nlen, p);
            return -1;
        }
        if (!timed && colon != NULL)
            break; /* {name:x}: no such placeholder */
        t->kind = names[i].kind;
        if (timed) {
            t->len = len - nlen - 1;
            t->s = *text;
            memcpy(*text, colon + 1, t->len);
            (*text)[t->len] = '\0';
            *text += t->len + 1;
        }
        return 0;
    }
    snprintf(err, errlen, "--layout: unknown placeholder {%.*s} (see move(1), LAYOUTS)",
             (int)(len > 64 ? 64 : len), p);
    return -1;
}

/* Append the literal byte c to the last token when it is literal, else
 * start a literal token. */
static void add_lit(struct layout *l, char **text, char c)
{
    struct token *t = l->n > 0 ? &l->tok[l->n - 1] : NULL;
    if (t == NULL || t->kind != TOK_LIT || t->s + t->len != *text) {
        t = &l->tok[l->n++];
        t->kind = TOK_LIT;
        t->s = *text;
        t->len = 0;
    }
    *(*text)++ = c;
    t->len++;
}

/* Split tmpl into l's tokens. Returns 0, or -1 with the sentence. */
static int tokenize(struct layout *l, const char *tmpl, char *err, size_t errlen)
{
    char *text = l->text;
    for (const char *p = tmpl; *p != '\0'; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            add_lit(l, &text, *p++);
            continue;
        }
        if (*p == '}') {
            snprintf(err, errlen,
                     "--layout: unbalanced brace: a '}' with no '{' (write }} for a "
                     "literal one)");
            return -1;
        }
        if (*p != '{') {
            add_lit(l, &text, *p);
            continue;
        }
        size_t len = strcspn(p + 1, "{}");
        if (p[1 + len] != '}') {
            snprintf(err, errlen,
                     "--layout: unbalanced brace: a '{' with no '}' (write {{ for a "
                     "literal one)");
            return -1;
        }
        if (parse_placeholder(p + 1, len, &l->tok[l->n++], &text, err, errlen) < 0)
            return -1;
        /* A literal right after a format must not extend it. */
        *text++ = '\0';
        p += len + 1;
    }
    return 0;
}

/* Refuse a template whose literal text alone could leave DEST or can
 * never give a usable path: absolute, or with a component made of literal
 * text only that is empty, ".", ".." or over NAME_MAX bytes. shape (room
 * for the template's bytes) is scratch: the template with every
 * placeholder as one byte that is neither '/' nor '.'. */
static int check_shape(const struct layout *l, char *shape, char *err, size_t errlen)
{
    size_t len = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->tok[i].kind != TOK_LIT) {
            shape[len++] = '\x01';
            continue;
        }
        memcpy(shape + len, l->tok[i].s, l->tok[i].len);
        len += l->tok[i].len;
    }
    shape[len] = '\0';
    if (shape[0] == '/') {
        snprintf(err, errlen,
                 "--layout: the template must be relative to DEST, not start with '/'");
        return -1;
    }
    for (size_t i = 0; i <= len; i++) {
        size_t n = strcspn(shape + i, "/");
        if (i + n > len)
            n = len - i;
        const char *what = NULL;
        if (memchr(shape + i, '\x01', n) != NULL)
            what = NULL; /* the expansion decides */
        else if (n == 0)
            what = "an empty component";
        else if (n <= 2 && strspn(shape + i, ".") >= n)
            what = n == 1 ? "a '.' component" : "a '..' component (it could leave DEST)";
        else if (n > NAME_MAX)
            what = "a component over 255 bytes";
        if (what != NULL) {
            snprintf(err, errlen, "--layout: the template has %s", what);
            return -1;
        }
        i += n;
    }
    return 0;
}

struct layout *layout_parse(const char *tmpl, char *err, size_t errlen)
{
    size_t len = strlen(tmpl);
    struct layout *l = calloc(1, sizeof *l);
    char *shape = malloc(len + 1);
    if (l != NULL) {
        /* At most one token per byte, and each text at most its bytes and a NUL. */
        l->tok = calloc(len + 1, sizeof *l->tok);
        l->text = malloc(2 * len + 2);
    }
    int ok = 0;
    if (l == NULL || shape == NULL || l->tok == NULL || l->text == NULL)
        snprintf(err, errlen, "--layout: out of memory");
    else if (len == 0)
        snprintf(err, errlen, "--layout: the template is empty");
    else if (len > MSG_PATH_MAX)
        snprintf(err, errlen, "--layout: the template is over %d bytes", MSG_PATH_MAX);
    else
        ok = tokenize(l, tmpl, err, errlen) == 0 && check_shape(l, shape, err, errlen) == 0;
    free(shape);
    if (ok)
        return l;
    layout_free(l);
    return NULL;
}

int layout_is_identity(const struct layout *l)
{
    return l->n == 1 && l->tok[0].kind == TOK_PATH;
}

/* The expansion being written: out, its length so far, and whether it
 * has outgrown MSG_PATH_MAX (or outlen). */
struct out {
    char *p;
    size_t len, cap;
    int over;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->over || n > o->cap - o->len) {
        o->over = 1;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* The file's name (the path's last component) and its extension: after
 * the last dot, when that dot is neither the first nor the last byte. */
static const char *name_of(const struct msg *m)
{
    const char *slash = strrchr(m->path, '/');
    return slash != NULL ? slash + 1 : m->path;
}

static const char *ext_dot(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot == NULL || dot == name || dot[1] == '\0' ? NULL : dot;
}

/* Put the mtime as t's format says. Returns 0, or -1 with the sentence. */
static int put_time(struct out *o, const struct token *t, const struct msg *m, char *err,
                    size_t errlen)
{
    char buf[MSG_PATH_MAX + 1];
    struct tm tm;
    time_t secs = (time_t)m->mtime_sec;
    const char *which = t->kind == TOK_MTIME ? "mtime" : "mtime_utc";
    if ((t->kind == TOK_MTIME ? localtime_r(&secs, &tm) : gmtime_r(&secs, &tm)) == NULL) {
        snprintf(err, errlen, "--layout: {%s:...} cannot format this file's mtime (%" PRId64 ")",
                 which, m->mtime_sec);
        return -1;
    }
/* The format is the user's, checked at parse for being there; strftime
 * reads nothing but tm whatever it says. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    size_t n = strftime(buf, sizeof buf, t->s, &tm);
#pragma GCC diagnostic pop
    if (n == 0) {
        snprintf(err, errlen, "--layout: {%s:%.64s} gives no text (or too much) for this file",
                 which, t->s);
        return -1;
    }
    put(o, buf, n);
    return 0;
}

/* Put token t's value for m. Returns 0, or -1 with the sentence. */
static int put_token(struct out *o, const struct token *t, const struct msg *m, char *err,
                     size_t errlen)
{
    const char *name = name_of(m), *dot, *slash;
    char num[24];
    switch (t->kind) {
    case TOK_LIT:
        put(o, t->s, t->len);
        break;
    case TOK_PATH:
        put(o, m->path, m->path_len);
        break;
    case TOK_DIR:
        put(o, m->path, name == m->path ? 0 : (size_t)(name - 1 - m->path));
        break;
    case TOK_NAME:
        put(o, name, m->path_len - (size_t)(name - m->path));
        break;
    case TOK_STEM:
        dot = ext_dot(name);
        put(o, name, dot != NULL ? (size_t)(dot - name) : strlen(name));
        break;
    case TOK_EXT:
        dot = ext_dot(name);
        if (dot != NULL)
            put(o, dot + 1, strlen(dot + 1));
        break;
    case TOK_MIME:
        put(o, m->mime, strlen(m->mime));
        break;
    case TOK_MIME_TYPE:
        put(o, m->mime, strcspn(m->mime, "/"));
        break;
    case TOK_MIME_SUBTYPE:
        slash = strchr(m->mime, '/');
        if (slash != NULL)
            put(o, slash + 1, strlen(slash + 1));
        break;
    case TOK_MTIME:
    case TOK_MTIME_UTC:
        return put_time(o, t, m, err, errlen);
    case TOK_SIZE:
        put(o, num, (size_t)snprintf(num, sizeof num, "%" PRIu64, m->size));
        break;
    case TOK_ROOT_NAME:
        slash = strrchr(m->root, '/');
        slash = slash != NULL ? slash + 1 : m->root;
        put(o, slash, m->root_len - (size_t)(slash - m->root));
        break;
    case TOK_HOST:
        put(o, m->host, strlen(m->host));
        break;
    }
    return 0;
}

/* Check every component of the expansion s (len bytes). Returns 0, or -1
 * with the sentence. */
static int check_components(const char *s, size_t len, char *err, size_t errlen)
{
    const char *what = NULL;
    for (size_t i = 0; i <= len && what == NULL;) {
        size_t n = 0;
        while (i + n < len && s[i + n] != '/')
            n++;
        if (n == 0)
            what = "an empty component";
        else if (n <= 2 && s[i] == '.' && s[i + n - 1] == '.')
            what = n == 1 ? "a '.' component" : "a '..' component";
        else if (n > NAME_MAX)
            what = "a component over 255 bytes";
        i += n + 1;
    }
    if (what == NULL)
        return 0;
    snprintf(err, errlen, "--layout gives %s for this file: '%.*s'", what,
             (int)(len > 200 ? 200 : len), s);
    return -1;
}

int layout_expand(const struct layout *l, const struct msg *m, char *out, size_t outlen, char *err,
                  size_t errlen)
{
    _Static_assert(NAME_MAX == 255, "the sentences say 255");
    if (outlen == 0) {
        snprintf(err, errlen, "--layout: no room for the path");
        return -1;
    }
    struct out o = {out, 0, outlen - 1 < MSG_PATH_MAX ? outlen - 1 : MSG_PATH_MAX, 0};
    for (size_t i = 0; i < l->n; i++)
        if (put_token(&o, &l->tok[i], m, err, errlen) < 0)
            return -1;
    if (o.over) {
        snprintf(err, errlen, "--layout gives a path over %d bytes for this file", MSG_PATH_MAX);
        return -1;
    }
    out[o.len] = '\0';
    return check_components(out, o.len, err, errlen);
}

void layout_free(struct layout *l)
{
    if (l == NULL)
        return;
    free(l->tok);
    free(l->text);
    free(l);
}
