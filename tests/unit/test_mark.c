/* test_mark.c - unit tests of scan's in-flight mark (common/mark.c) on a temporary file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "mark.h"

static const char id[] = "0123456789abcdef0123456789abcdef";
static char dir[64], file[96];
static int dfd = -1;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_mark.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(file, sizeof file, "%s/f", dir);
    int fd = open(file, O_CREAT | O_WRONLY, 0644);
    if (fd < 0)
        return -1;
    close(fd);
    /* A file system without user xattrs cannot run these tests. */
    if (setxattr(file, "user.test", "1", 1, 0) < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
        return -1;
    removexattr(file, "user.test");
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    return dfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    close(dfd);
    unlink(file);
    rmdir(dir);
    return 0;
}

static void test_round_trip(void **state)
{
    (void)state;
    char got[MSG_ID_LEN + 1];
    int64_t when = 0;
    assert_int_equal(mark_read_at(dfd, "f", got, &when), 0); /* none yet */
    assert_int_equal(mark_write_at(dfd, "f", id, 1796000000123456789LL), 0);
    char raw[MARK_MAX];
    ssize_t n = getxattr(file, MARK_XATTR, raw, sizeof raw);
    assert_int_equal(n, MSG_ID_LEN + 21);
    assert_memory_equal(raw, "0123456789abcdef0123456789abcdef,1796000000.123456789", (size_t)n);
    assert_int_equal(mark_read_at(dfd, "f", got, &when), 1);
    assert_string_equal(got, id);
    assert_int_equal(when, 1796000000123456789LL);
}

static void test_unparsable_is_none(void **state)
{
    (void)state;
    static const char *bad[] = {"0123456789abcdef0123456789abcdef",
                                "0123456789abcdef0123456789abcdef,",
                                "0123456789ABCDEF0123456789abcdef,5",
                                "0123456789abcdef0123456789abcdef,5x",
                                "0123456789abcdef0123456789abcdef,-5",
                                "0123456789abcdef0123456789abcde,55",
                                "xyz"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char got[MSG_ID_LEN + 1];
        int64_t when;
        assert_int_equal(setxattr(file, MARK_XATTR, bad[i], strlen(bad[i]), 0), 0);
        assert_int_equal(mark_read_at(dfd, "f", got, &when), 0);
    }
}

static void test_remove_at(void **state)
{
    (void)state;
    char got[MSG_ID_LEN + 1];
    int64_t when;
    int d = dfd;
    assert_int_equal(mark_write_at(dfd, "f", id, 5), 0);
    assert_int_equal(mark_remove_at(d, "f"), 0);
    assert_int_equal(mark_read_at(dfd, "f", got, &when), 0);
    assert_int_equal(mark_remove_at(d, "f"), 0); /* none: still fine */
    assert_int_equal(mark_remove_at(d, "missing"), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(mark_write_at(d, "missing", id, 5), -1);
    assert_int_equal(errno, ENOENT);
}

static void test_still_queued(void **state)
{
    (void)state;
    const char *other = "ffffffffffffffffffffffffffffffff";
    const int64_t s = 1000000000LL; /* a second, in nanoseconds */
    /* marked at 1000 s, the file's ctime 1 ms later, now 1500 s, window 3600 s */
    assert_int_equal(mark_still_queued(id, 1000 * s, id, 1000 * s + 1000000, 1500 * s, 3600), 1);
    assert_int_equal(
        mark_still_queued(id, 1000 * s, id, 1000 * s + MARK_CTIME_SLACK_NS, 1500 * s, 3600), 1);
    assert_int_equal(mark_still_queued(other, 1000 * s, id, 1000 * s, 1500 * s, 3600), 0);
    /* touched (renamed, chmod'ed) since: */
    assert_int_equal(
        mark_still_queued(id, 1000 * s, id, 1000 * s + MARK_CTIME_SLACK_NS + 1, 1500 * s, 3600), 0);
    assert_int_equal(mark_still_queued(id, 1000 * s, id, 1000 * s, 4600 * s, 3600), 0); /* window */
    assert_int_equal(mark_still_queued(id, 1000 * s, id, 1000 * s, 4599 * s, 3600), 1);
    assert_int_equal(mark_still_queued(id, 1000 * s, id, 1000 * s, 1500 * s, 0), 0);
    /* A mark from the future: a clock was wrong, it proves nothing. */
    assert_int_equal(mark_still_queued(id, 2000 * s, id, 2000 * s, 1500 * s, 3600), 0);
    assert_int_equal(mark_still_queued(id, 1500 * s + 1000, id, 1500 * s + 1000, 1500 * s, 3600),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unparsable_is_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_at, setup, teardown),
        cmocka_unit_test(test_still_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
