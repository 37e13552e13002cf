/* test_layout.c - unit tests of move --layout: templates refused at parse, expansions, and
 * hostile values from a message that must never give a path leaving DEST. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "layout.h"

/* Calls of malloc from the mover's code since the count was reset: an
 * expansion makes none. */
void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
static unsigned mallocs;

void *__wrap_malloc(size_t n)
{
    mallocs++;
    return __real_malloc(n);
}

/* A message as scan makes it: /srv/in/a/b/c.tar.gz of 1234 bytes, text/plain,
 * modified at 2025-11-25T12:00:00Z, scanned on h1. */
static struct msg *message(const char *path)
{
    static struct msg m;
    memset(&m, 0, sizeof m);
    m.v = 1;
    snprintf(m.root, sizeof m.root, "/srv/in");
    m.root_len = strlen(m.root);
    snprintf(m.path, sizeof m.path, "%s", path);
    m.path_len = strlen(m.path);
    m.size = 1234;
    m.mtime_sec = 1764072000;
    m.mode = 0100644;
    snprintf(m.mime, sizeof m.mime, "text/plain");
    snprintf(m.host, sizeof m.host, "h1");
    return &m;
}

/* The expansion of tmpl for m, or NULL when refused (at parse: the test
 * fails; at expansion: *why holds the sentence). */
static const char *expand(const char *tmpl, const struct msg *m, const char **why)
{
    static char out[MSG_PATH_MAX + 1], err[512];
    char perr[512] = "";
    struct layout *l = layout_parse(tmpl, perr, sizeof perr);
    if (l == NULL)
        fail_msg("'%s' refused at parse: %s", tmpl, perr);
    err[0] = '\0';
    int rc = layout_expand(l, m, out, sizeof out, err, sizeof err);
    layout_free(l);
    if (why != NULL)
        *why = err;
    if (rc < 0) {
        assert_true(strlen(err) > 0);
        return NULL;
    }
    assert_string_equal(err, "");
    return out;
}

/* The sentence for a template refused at parse; fails when it is not. */
static const char *refused(const char *tmpl)
{
    static char err[512];
    err[0] = '\0';
    struct layout *l = layout_parse(tmpl, err, sizeof err);
    if (l != NULL)
        fail_msg("'%s' was accepted", tmpl);
    assert_true(strlen(err) > 0);
    assert_null(strchr(err, '\n'));
    return err;
}

static void test_placeholders(void **state)
{
    (void)state;
    const struct msg *m = message("a/b/c.tar.gz");
    assert_string_equal(expand("{path}", m, NULL), "a/b/c.tar.gz");
    assert_string_equal(expand("{dir}", m, NULL), "a/b");
    assert_string_equal(expand("{name}", m, NULL), "c.tar.gz");
    assert_string_equal(expand("{stem}", m, NULL), "c.tar");
    assert_string_equal(expand("{ext}", m, NULL), "gz");
    assert_string_equal(expand("{mime}/{name}", m, NULL), "text/plain/c.tar.gz");
    assert_string_equal(expand("{mime_type}/{mime_subtype}", m, NULL), "text/plain");
    assert_string_equal(expand("{mtime_utc:%Y/%m/%d}/{name}", m, NULL), "2025/11/25/c.tar.gz");
    assert_string_equal(expand("{size}", m, NULL), "1234");
    assert_string_equal(expand("{root_name}", m, NULL), "in");
    assert_string_equal(expand("{host}", m, NULL), "h1");
    assert_string_equal(expand("x-{host}-{size}.{ext}", m, NULL), "x-h1-1234.gz");
    assert_string_equal(expand("{root_name}/{ext}/{path}", m, NULL), "in/gz/a/b/c.tar.gz");
    assert_string_equal(expand("{{{name}}}", m, NULL), "{c.tar.gz}");
    assert_string_equal(expand("{{}}/{name}", m, NULL), "{}/c.tar.gz");
    assert_string_equal(expand("{mtime_utc:%H}h{mtime_utc:%M}", m, NULL), "12h00");
}

/* {mtime:...} is in the mover's time zone, {mtime_utc:...} in UTC. */
static void test_local_time(void **state)
{
    (void)state;
    const struct msg *m = message("f");
    setenv("TZ", "JST-9", 1); /* UTC+9 in POSIX form: no tzdata needed */
    tzset();
    assert_string_equal(expand("{mtime:%Y-%m-%d %H}/{name}", m, NULL), "2025-11-25 21/f");
    assert_string_equal(expand("{mtime_utc:%Y-%m-%d %H}/{name}", m, NULL), "2025-11-25 12/f");
    setenv("TZ", "UTC", 1);
    tzset();
}

/* The name's parts: the extension follows the last dot that is neither
 * its first nor its last byte. */
static void test_name_parts(void **state)
{
    (void)state;
    const char *cases[][3] = {
        {"top.txt", "top", "txt"},  {"d/.bashrc", ".bashrc", ""}, {"d/noext", "noext", ""},
        {"d/trail.", "trail.", ""}, {"d/a.b.c", "a.b", "c"},      {"d/..x", ".", "x"},
        {"d/.a.b", ".a", "b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct msg *m = message(cases[i][0]);
        char want[64];
        snprintf(want, sizeof want, "[%s][%s]", cases[i][1], cases[i][2]);
        assert_string_equal(expand("[{stem}][{ext}]", m, NULL), want);
    }
    assert_string_equal(expand("{dir}{name}", message("top.txt"), NULL), "top.txt");
}

static void test_identity(void **state)
{
    (void)state;
    char err[256];
    struct layout *l = layout_parse("{path}", err, sizeof err);
    assert_non_null(l);
    assert_true(layout_is_identity(l));
    layout_free(l);
    const char *others[] = {"{path}/x", "x/{path}", "{dir}/{name}", "{{path}}"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        l = layout_parse(others[i], err, sizeof err);
        assert_non_null(l);
        assert_false(layout_is_identity(l));
        layout_free(l);
    }
}

static void test_refused_at_parse(void **state)
{
    (void)state;
    assert_non_null(strstr(refused("{foo}/{name}"), "unknown placeholder {foo}"));
    assert_non_null(strstr(refused("{Path}"), "unknown placeholder"));
    assert_non_null(strstr(refused("{name:x}"), "unknown placeholder"));
    assert_non_null(strstr(refused("{}"), "unknown placeholder"));
    assert_non_null(strstr(refused("{path"), "unbalanced brace"));
    assert_non_null(strstr(refused("path}"), "unbalanced brace"));
    assert_non_null(strstr(refused("{pa{th}"), "unbalanced brace"));
    assert_non_null(strstr(refused("{name}}"), "unbalanced brace"));
    assert_non_null(strstr(refused("/{path}"), "relative"));
    assert_non_null(strstr(refused("/srv/{path}"), "relative"));
    assert_non_null(strstr(refused("../{path}"), "'..'"));
    assert_non_null(strstr(refused("a/../{path}"), "'..'"));
    assert_non_null(strstr(refused("{dir}/.."), "'..'"));
    assert_non_null(strstr(refused("./{path}"), "'.'"));
    assert_non_null(strstr(refused("a//{path}"), "empty component"));
    assert_non_null(strstr(refused("{path}/"), "empty component"));
    assert_non_null(strstr(refused("{mtime:}/{name}"), "strftime format"));
    assert_non_null(strstr(refused("{mtime_utc}/{name}"), "strftime format"));
    assert_non_null(strstr(refused(""), "empty"));
    char big[300];
    memset(big, 'x', 256);
    snprintf(big + 256, sizeof big - 256, "/{name}");
    assert_non_null(strstr(refused(big), "over 255"));
}

/* A literal ".." next to a placeholder is no ".." component: the
 * expansion decides, and refuses only what is one. */
static void test_dots_beside_placeholders(void **state)
{
    (void)state;
    const struct msg *m = message("d/f.txt");
    assert_string_equal(expand("..{name}", m, NULL), "..f.txt");
    assert_string_equal(expand("{stem}..{ext}", m, NULL), "f..txt");
    assert_null(expand("{mtime_utc:..}/{name}", m, NULL));
    assert_null(expand("{ext}{ext}/{name}", message("d/f"), NULL));
}

/* Values from the message are not trusted: whatever they hold, the
 * result stays beneath DEST, or the message is refused (bad-layout). */
static void test_hostile_values(void **state)
{
    (void)state;
    const char *why;
    struct msg *m = message("d/f.txt");
    snprintf(m->mime, sizeof m->mime, "../x");
    assert_null(expand("{mime}/{name}", m, &why));
    assert_non_null(strstr(why, "'..' component"));
    assert_null(expand("{mime_type}/{name}", m, &why));
    assert_non_null(strstr(why, "'..' component"));
    snprintf(m->mime, sizeof m->mime, "text/../../etc");
    assert_null(expand("{mime_subtype}/{name}", m, &why));
    snprintf(m->mime, sizeof m->mime, "/etc");
    assert_null(expand("{mime}/{name}", m, &why));
    assert_non_null(strstr(why, "empty component"));
    snprintf(m->mime, sizeof m->mime, "%s", "");
    assert_null(expand("{mime_type}/{path}", m, &why));
    assert_non_null(strstr(why, "empty component"));
    assert_null(expand("{mime_subtype}/{path}", m, &why));
    snprintf(m->mime, sizeof m->mime, "text");
    assert_null(expand("{mime_type}/{mime_subtype}/{path}", m, &why));
    m = message("d/f.txt");
    snprintf(m->host, sizeof m->host, "..");
    assert_null(expand("{host}/{path}", m, &why));
    assert_non_null(strstr(why, "'..' component"));
    snprintf(m->host, sizeof m->host, ".");
    assert_null(expand("{host}/{path}", m, &why));
    assert_non_null(strstr(why, "'.' component"));
    snprintf(m->host, sizeof m->host, "a/../../b");
    assert_null(expand("{host}/{path}", m, &why));
    /* The root "/" has no last component. */
    m = message("f.txt");
    snprintf(m->root, sizeof m->root, "/");
    m->root_len = 1;
    assert_null(expand("{root_name}/{path}", m, &why));
    assert_non_null(strstr(why, "empty component"));
}

/* {dir} of a file at the top of its root is empty. */
static void test_empty_dir(void **state)
{
    (void)state;
    const char *why;
    assert_null(expand("{dir}/{name}", message("top.txt"), &why));
    assert_non_null(strstr(why, "empty component"));
    assert_string_equal(expand("{dir}/{name}", message("a/top.txt"), NULL), "a/top.txt");
    assert_null(expand("{ext}/{name}", message("d/noext"), &why));
}

static void test_too_long(void **state)
{
    (void)state;
    const char *why;
    char name[200];
    memset(name, 'n', 150);
    name[150] = '\0';
    assert_null(expand("{name}{name}", message(name), &why));
    assert_non_null(strstr(why, "over 255 bytes"));
    assert_non_null(expand("{name}", message(name), NULL));
    /* 2 * 2100 bytes with the slash: over MSG_PATH_MAX */
    static char path[MSG_PATH_MAX + 1];
    for (int i = 0; i < 2100; i += 2)
        memcpy(path + i, "d/", 2);
    path[2099] = 'f';
    path[2100] = '\0';
    assert_non_null(expand("{path}", message(path), NULL));
    assert_null(expand("{path}/{path}", message(path), &why));
    assert_non_null(strstr(why, "over 4096 bytes"));
    /* a big strftime result */
    static char tmpl[3000];
    snprintf(tmpl, sizeof tmpl, "{mtime_utc:");
    for (size_t i = strlen(tmpl); i < 2011; i += 2)
        memcpy(tmpl + i, "%Y", 3);
    strcat(tmpl, "}/{name}");
    assert_null(expand(tmpl, message("f"), &why));
    /* a time no struct tm holds */
    struct msg *m = message("f");
    m->mtime_sec = INT64_MAX;
    assert_null(expand("{mtime_utc:%Y}/{name}", m, &why));
    assert_non_null(strstr(why, "mtime"));
}

/* Only the room given is written, and a small buffer is no crash. */
static void test_small_buffer(void **state)
{
    (void)state;
    char err[256], out[8];
    struct layout *l = layout_parse("{path}", err, sizeof err);
    assert_non_null(l);
    assert_int_equal(layout_expand(l, message("abcdefg"), out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "abcdefg");
    assert_int_equal(layout_expand(l, message("abcdefgh"), out, sizeof out, err, sizeof err), -1);
    layout_free(l);
}

/* Parsed once, expanded per message without memory of its own. */
static void test_no_allocation(void **state)
{
    (void)state;
    char err[256], out[MSG_PATH_MAX + 1];
    struct layout *l = layout_parse(
        "{mime_type}/{mtime:%Y/%m}/{mtime_utc:%d}/{root_name}/{host}/{dir}/{stem}.{ext}-{size}",
        err, sizeof err);
    assert_non_null(l);
    const struct msg *m = message("a/b/c.tar.gz");
    assert_int_equal(layout_expand(l, m, out, sizeof out, err, sizeof err), 0); /* warm up */
    mallocs = 0;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(layout_expand(l, m, out, sizeof out, err, sizeof err), 0);
    assert_int_equal(mallocs, 0);
    assert_string_equal(out, "text/2025/11/25/in/h1/a/b/c.tar.gz-1234");
    layout_free(l);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placeholders),     cmocka_unit_test(test_local_time),
        cmocka_unit_test(test_name_parts),       cmocka_unit_test(test_identity),
        cmocka_unit_test(test_refused_at_parse), cmocka_unit_test(test_dots_beside_placeholders),
        cmocka_unit_test(test_hostile_values),   cmocka_unit_test(test_empty_dir),
        cmocka_unit_test(test_too_long),         cmocka_unit_test(test_small_buffer),
        cmocka_unit_test(test_no_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
