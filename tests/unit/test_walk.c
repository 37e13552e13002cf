/*
 * test_walk.c - unit tests of scan's directory walk (scanner/walk.c) and of
 * the reasons the walking thread gives its entries (scanner/pipeline.c,
 * inspect_by_stat), on a temporary tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline.h"
#include "walk.h"

#define MAX_SEEN 64
#define SKIP_EXIT 77 /* the child could not drop its privileges */

static int skipped; /* a test was skipped: exit 77, so ctest says so */

static char tree[256]; /* the temporary tree, made once for every test */
static int tree_fd = -1;

struct seen {
    char *line[MAX_SEEN]; /* "kind path reason" */
    size_t n;
    int stop_after; /* end the walk after this many; 0: never */
};

static const char *const kind_name[] = {
    [WALK_FILE] = "file",       [WALK_SYMLINK] = "symlink", [WALK_OTHER] = "other",
    [WALK_SKIPPED] = "skipped", [WALK_FAILED] = "failed",
};

static int collect(const struct walk_entry *e, void *arg)
{
    struct seen *s = arg;
    const char *reason = scan_reason_name(e->reason);
    char buf[512];
    snprintf(buf, sizeof buf, "%s %s %s", kind_name[e->kind], e->path, reason ? reason : "-");
    assert_true(s->n < MAX_SEEN);
    assert_int_equal(strlen(e->path), e->path_len);
    s->line[s->n++] = strdup(buf);
    return s->stop_after != 0 && s->n >= (size_t)s->stop_after;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries seen, in any order, are exactly want (sorted here). */
static void assert_seen(struct seen *s, const char **want, size_t n)
{
    qsort(s->line, s->n, sizeof *s->line, by_str);
    qsort(want, n, sizeof *want, by_str);
    for (size_t i = 0; i < s->n && i < n; i++)
        assert_string_equal(s->line[i], want[i]);
    assert_int_equal(s->n, n);
    for (size_t i = 0; i < s->n; i++)
        free(s->line[i]);
    s->n = 0;
}

static void make_file(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tree, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("data\n", f);
    fclose(f);
}

static void make_dir(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tree, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

/*
 * The tree:
 *   a.txt  .hidden  .hdir/x  link -> a.txt  dirlink -> d1  fifo
 *   d1/b.txt  d1/d2/c.txt  d1/d2/d3/deep.txt
 *   locked/ (mode 0), holding locked/in.txt
 */
static int setup_tree(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(tree, sizeof tree, "%s/test_walk.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(tree) == NULL || chmod(tree, 0755) < 0)
        return -1;
    make_file("a.txt");
    make_file(".hidden");
    make_dir(".hdir");
    make_file(".hdir/x");
    make_dir("d1");
    make_file("d1/b.txt");
    make_dir("d1/d2");
    make_file("d1/d2/c.txt");
    make_dir("d1/d2/d3");
    make_file("d1/d2/d3/deep.txt");
    make_dir("locked");
    make_file("locked/in.txt");
    char p[512];
    snprintf(p, sizeof p, "%s/locked", tree);
    if (chmod(p, 0) < 0)
        return -1;
    snprintf(p, sizeof p, "%s/link", tree);
    if (symlink("a.txt", p) < 0)
        return -1;
    snprintf(p, sizeof p, "%s/dirlink", tree);
    if (symlink("d1", p) < 0)
        return -1;
    snprintf(p, sizeof p, "%s/fifo", tree);
    if (mkfifo(p, 0644) < 0)
        return -1;
    tree_fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return tree_fd < 0 ? -1 : 0;
}

static int teardown_tree(void **state)
{
    (void)state;
    char cmd[600];
    close(tree_fd);
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' && rm -rf '%s'", tree, tree);
    return system(cmd) == 0 ? 0 : -1;
}

/* The files when we can read locked/ (running as root), else its failure. */
static const char *locked_line(void)
{
    return geteuid() == 0 ? "file locked/in.txt -" : "failed locked unreadable-dir";
}

/* Walk the tree with o: the entries seen are exactly want, in any order. */
static void walk_and_check(const struct walk_opts *o, const char **want, size_t n)
{
    struct seen s = {.n = 0};
    char err[256];
    assert_int_equal(walk_tree(tree_fd, o, collect, &s, err, sizeof err), 0);
    assert_seen(&s, want, n);
}

/* Everything, recursively; hidden entries and their directories skipped;
 * symbolic links and the FIFO reported, never followed or opened. */
static void test_whole_tree(void **state)
{
    (void)state;
    struct walk_opts o = {.max_depth = 0};
    const char *want[] = {
        "file a.txt -",    "skipped .hidden hidden", "skipped .hdir hidden",
        "symlink link -",  "symlink dirlink -",      "other fifo -",
        "file d1/b.txt -", "file d1/d2/c.txt -",     "file d1/d2/d3/deep.txt -",
        locked_line(),
    };
    walk_and_check(&o, want, sizeof want / sizeof want[0]);
}

/* --hidden: dot files are files, dot directories are entered. */
static void test_hidden(void **state)
{
    (void)state;
    struct walk_opts o = {.hidden = 1, .max_depth = 1};
    const char *want[] = {
        "file a.txt -",      "file .hidden -", "skipped .hdir too-deep", "symlink link -",
        "symlink dirlink -", "other fifo -",   "skipped d1 too-deep",    "skipped locked too-deep",
    };
    walk_and_check(&o, want, sizeof want / sizeof want[0]);
}

/* --max-depth 2: the root's entries and those one level down; deeper
 * directories are reported too-deep and not entered. */
static void test_depth(void **state)
{
    (void)state;
    struct walk_opts o = {.max_depth = 2};
    const char *want[] = {
        "file a.txt -",    "skipped .hidden hidden", "skipped .hdir hidden",
        "symlink link -",  "symlink dirlink -",      "other fifo -",
        "file d1/b.txt -", "skipped d1/d2 too-deep", locked_line(),
    };
    walk_and_check(&o, want, sizeof want / sizeof want[0]);
}

/* A callback that returns non-zero ends the walk (and so does o->stop). */
static void test_stop(void **state)
{
    (void)state;
    struct walk_opts o = {.max_depth = 0};
    struct seen s = {.stop_after = 2};
    char err[256];
    assert_int_equal(walk_tree(tree_fd, &o, collect, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 2);
    for (size_t i = 0; i < s.n; i++)
        free(s.line[i]);
    volatile sig_atomic_t stop = 1;
    struct walk_opts so = {.stop = &stop};
    struct seen none = {.n = 0};
    assert_int_equal(walk_tree(tree_fd, &so, collect, &none, err, sizeof err), 0);
    assert_true(none.n <= 1);
    for (size_t i = 0; i < none.n; i++)
        free(none.line[i]);
}

/* As an unprivileged user (a child that drops root, as setpriv would):
 * a directory that cannot be read is a failure with its reason, and a
 * root that cannot be read fails the walk with a sentence. */
static int unreadable_child(void)
{
    if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
                           setresuid(65534, 65534, 65534) < 0))
        return SKIP_EXIT;
    struct walk_opts o = {.max_depth = 0};
    struct seen s = {.n = 0};
    char err[256];
    if (walk_tree(tree_fd, &o, collect, &s, err, sizeof err) != 0)
        return 1;
    int found = 0;
    for (size_t i = 0; i < s.n; i++)
        found += strcmp(s.line[i], "failed locked unreadable-dir") == 0;
    char p[512];
    snprintf(p, sizeof p, "%s/locked", tree);
    int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
    err[0] = '\0';
    int r = walk_tree(fd, &o, collect, &s, err, sizeof err);
    return found == 1 && r == -1 && strcmp(err, strerror(EACCES)) == 0 ? 0 : 2;
}

static void test_unreadable(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(unreadable_child());
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == SKIP_EXIT) {
        skipped = 1;
        skip();
    }
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The walking thread's reasons: rules by lstat data (exclude, include,
 * size) and the walk's own (hidden, too-deep, symlink, not-regular). */
static void test_reasons(void **state)
{
    (void)state;
    const char *exclude[] = {"d1/*", NULL};
    struct inspect_rules rules = {.exclude = exclude, .max_size = UINT64_MAX};
    struct scan_root root = {.real = tree, .real_len = strlen(tree), .fd = tree_fd};
    struct pipeline p = {.roots = &root, .n_roots = 1, .rules = &rules, .jobs = 1};
    p.walk.max_depth = 2;
    char err[256];
    assert_int_equal(pipeline_start(&p, err, sizeof err), 0);
    struct seen s = {.n = 0};
    struct item *it;
    int r;
    while ((r = pipeline_next(&p, 1000, &it)) >= 0) {
        if (r == 0)
            continue;
        const char *reason = scan_reason_name(it->reason);
        char buf[512];
        snprintf(buf, sizeof buf, "%s %s %s",
                 it->kind == ITEM_ACCEPT   ? "accept"
                 : it->kind == ITEM_REJECT ? "reject"
                                           : "fail",
                 it->path, reason ? reason : "-");
        s.line[s.n++] = strdup(buf);
        item_free(it);
    }
    pipeline_join(&p);
    const char *want[] = {
        "accept a.txt -",
        "reject .hidden hidden",
        "reject .hdir hidden",
        "reject link symlink",
        "reject dirlink symlink",
        "reject fifo not-regular",
        "reject d1/b.txt excluded",
        "reject d1/d2 too-deep",
        geteuid() == 0 ? "accept locked/in.txt -" : "fail locked unreadable-dir",
    };
    assert_seen(&s, want, sizeof want / sizeof want[0]);

    struct stat st = {.st_size = 10};
    const char *include[] = {"*.txt", NULL};
    struct inspect_rules sized = {.include = include, .min_size = 5, .max_size = 20};
    assert_int_equal(inspect_by_stat(&sized, "x.txt", &st), SCAN_REASON_NONE);
    assert_int_equal(inspect_by_stat(&sized, "x.bin", &st), SCAN_REASON_EXCLUDED);
    st.st_size = 4;
    assert_int_equal(inspect_by_stat(&sized, "x.txt", &st), SCAN_REASON_TOO_SMALL);
    st.st_size = 21;
    assert_int_equal(inspect_by_stat(&sized, "x.txt", &st), SCAN_REASON_TOO_LARGE);
}

/* Every reason has a name, and the failures follow the rejections. */
static void test_reason_table(void **state)
{
    (void)state;
    assert_null(scan_reason_name(SCAN_REASON_NONE));
    assert_null(scan_reason_name(SCAN_REASON_COUNT));
    assert_false(scan_reason_is_failure(SCAN_REASON_NONE));
    int failures = 0;
    for (enum scan_reason r = SCAN_REASON_NONE + 1; r < SCAN_REASON_COUNT; r++) {
        assert_non_null(scan_reason_name(r));
        if (failures)
            assert_true(scan_reason_is_failure(r));
        failures = scan_reason_is_failure(r);
    }
    assert_string_equal(scan_reason_name(SCAN_REASON_OTHER_FILESYSTEM), "other-filesystem");
    assert_false(scan_reason_is_failure(SCAN_REASON_OTHER_FILESYSTEM));
    assert_string_equal(scan_reason_name(SCAN_REASON_IO_ERROR), "io-error");
    assert_true(scan_reason_is_failure(SCAN_REASON_IO_ERROR));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_tree),   cmocka_unit_test(test_hidden),
        cmocka_unit_test(test_depth),        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_unreadable),   cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_reason_table),
    };
    int failed = cmocka_run_group_tests(tests, setup_tree, teardown_tree);
    return failed != 0 ? failed : skipped ? SKIP_EXIT : 0;
}
