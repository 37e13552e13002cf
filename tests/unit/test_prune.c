/* test_prune.c - unit tests of move --prune-empty-dirs (prune_empty_dirs)
 * on temporary trees: emptied directories removed from the deepest up,
 * never the root, one holding anything, or anything through a symlink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prune.h"

/* A fresh tree: base/root (the root, open as rootfd) and base/outside. */
struct tree {
    char base[64];
    int rootfd;
};

static struct tree t;

static int setup(void **state)
{
    (void)state;
    snprintf(t.base, sizeof t.base, "/tmp/test_prune.XXXXXX");
    assert_non_null(mkdtemp(t.base));
    char p[128];
    snprintf(p, sizeof p, "%s/root", t.base);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/outside", t.base);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/root", t.base);
    t.rootfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(t.rootfd >= 0);
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    close(t.rootfd);
    nftw(t.base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* Make the directories of rel (each component) beneath base. */
static void mkdirs(const char *rel)
{
    char p[256];
    int n = snprintf(p, sizeof p, "%s/", t.base);
    for (const char *s = rel; *s != '\0'; s++) {
        p[n++] = *s;
        p[n] = '\0';
        if (s[1] == '/' || s[1] == '\0')
            assert_true(mkdir(p, 0755) == 0 || access(p, F_OK) == 0);
    }
}

static void touch(const char *rel)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", t.base, rel);
    int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);
}

static int exists(const char *rel)
{
    char p[256];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", t.base, rel);
    return lstat(p, &st) == 0;
}

static void test_chain(void **state)
{
    (void)state;
    mkdirs("root/a/b/c");
    assert_int_equal(prune_empty_dirs(t.rootfd, "a/b/c"), 3);
    assert_false(exists("root/a"));
    assert_true(exists("root"));                              /* never the root */
    assert_int_equal(prune_empty_dirs(t.rootfd, "a/b/c"), 0); /* gone already */
}

static void test_stops_at_a_file(void **state)
{
    (void)state;
    mkdirs("root/a/b/c");
    touch("root/a/keep");
    assert_int_equal(prune_empty_dirs(t.rootfd, "a/b/c"), 2);
    assert_true(exists("root/a/keep"));
    assert_false(exists("root/a/b"));
    touch("root/a/x.txt");
    mkdirs("root/a/d");
    touch("root/a/d/f");
    assert_int_equal(prune_empty_dirs(t.rootfd, "a/d"), 0); /* not empty */
    assert_true(exists("root/a/d/f"));
}

static void test_root_and_odd_paths(void **state)
{
    (void)state;
    assert_int_equal(prune_empty_dirs(t.rootfd, ""), 0);
    assert_int_equal(prune_empty_dirs(t.rootfd, "."), 0);
    assert_int_equal(prune_empty_dirs(t.rootfd, ".."), 0);
    mkdirs("root/a/b");
    assert_int_equal(prune_empty_dirs(t.rootfd, "a/b/.."), 0);
    assert_int_equal(prune_empty_dirs(t.rootfd, "../outside"), 0);
    assert_true(exists("outside"));
    assert_int_equal(prune_empty_dirs(t.rootfd, "a//b/"), 2);
    assert_false(exists("root/a"));
    mkdirs("root/a/b");
    assert_int_equal(prune_empty_dirs(t.rootfd, "./a/b"), 2);
    assert_false(exists("root/a"));
    assert_true(exists("root"));
}

/* A symlink at link (below base) to the absolute path of target (below base). */
static void make_link(const char *target, const char *link)
{
    char to[128], at[128];
    snprintf(to, sizeof to, "%s/%s", t.base, target);
    snprintf(at, sizeof at, "%s/%s", t.base, link);
    assert_int_equal(symlink(to, at), 0);
}

/* A symlink on the way is never followed, nor removed. */
static void test_symlinks(void **state)
{
    (void)state;
    mkdirs("outside/x/y");
    make_link("outside/x", "root/ln");
    assert_int_equal(prune_empty_dirs(t.rootfd, "ln/y"), 0);
    assert_true(exists("outside/x/y"));
    assert_int_equal(prune_empty_dirs(t.rootfd, "ln"), 0);
    assert_true(exists("root/ln"));
    /* A directory swapped for a symlink below a real one. */
    mkdirs("root/a");
    make_link("outside/x/y", "root/a/b");
    assert_int_equal(prune_empty_dirs(t.rootfd, "a/b"), 0);
    assert_true(exists("outside/x/y"));
    assert_true(exists("root/a/b"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stops_at_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_and_odd_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
