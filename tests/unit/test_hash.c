/* test_hash.c - unit tests of the content hashes (common/hash.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"

/* The sha256 ones are FIPS 180-2's examples; the xxh128 ones are what
 * `xxhsum -H2` (xxHash 0.8.1) prints for the same bytes. */
static const struct {
    enum hash_alg alg;
    const char *bytes;
    const char *want;
} vectors[] = {
    {HASH_SHA256, "", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {HASH_SHA256, "abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {HASH_XXH128, "", "xxh128:99aa06d3014798d86001c324468d497f"},
    {HASH_XXH128, "abc", "xxh128:06b05ab6733a618578af5f94892f3950"},
    {HASH_XXH128, "The quick brown fox jumps over the lazy dog",
     "xxh128:ddd650205ca3e7fa24a1cc2e3a8a7651"},
};

static void hash_of(enum hash_alg alg, const char *s, char out[HASH_STR_MAX + 1])
{
    struct hash_state h;
    assert_int_equal(hash_begin(&h, alg), 0);
    hash_update(&h, s, strlen(s));
    hash_end(&h, out);
}

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        char out[HASH_STR_MAX + 1];
        memset(out, 'x', sizeof out);
        hash_of(vectors[i].alg, vectors[i].bytes, out);
        assert_string_equal(out, vectors[i].want);
        enum hash_alg alg = HASH_NONE;
        assert_int_equal(hash_str_parse(out, &alg), 1);
        assert_int_equal(alg, vectors[i].alg);
    }
}

/* A million 'a's, fed in uneven pieces, is the million at once. */
static void test_million(void **state)
{
    (void)state;
    static const char *const want[] = {
        "xxh128:a545df8e384a9579b1fd6fae5285c4eb",
        "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    };
    static const enum hash_alg algs[] = {HASH_XXH128, HASH_SHA256};
    char *a = malloc(1000000);
    assert_non_null(a);
    memset(a, 'a', 1000000);
    for (size_t i = 0; i < 2; i++) {
        struct hash_state h;
        char out[HASH_STR_MAX + 1];
        assert_int_equal(hash_begin(&h, algs[i]), 0);
        for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 3 + 1) {
            size_t n = off + step > 1000000 ? 1000000 - off : step;
            hash_update(&h, a + off, n);
        }
        hash_end(&h, out);
        assert_string_equal(out, want[i]);
    }
    free(a);
}

static void count_tick(void *arg)
{
    ++*(int *)arg;
}

/* hash_fd reads the whole file from offset 0, whatever the descriptor's
 * position, in blocks of the caller's buffer, ticking after each. */
static void test_fd(void **state)
{
    (void)state;
    char path[] = "/tmp/test_hash.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    char *a = malloc(1000000);
    assert_non_null(a);
    memset(a, 'a', 1000000);
    assert_int_equal(write(fd, a, 1000000), 1000000);
    free(a);
    char buf[4096], out[HASH_STR_MAX + 1];
    int ticks = 0;
    assert_int_equal(hash_fd(fd, HASH_XXH128, buf, sizeof buf, count_tick, &ticks, out), 0);
    assert_string_equal(out, "xxh128:a545df8e384a9579b1fd6fae5285c4eb");
    assert_int_equal(ticks, (1000000 + 4095) / 4096);
    assert_int_equal(hash_fd(fd, HASH_SHA256, buf, sizeof buf, NULL, NULL, out), 0);
    assert_string_equal(out,
                        "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(hash_fd(fd, HASH_XXH128, buf, sizeof buf, NULL, NULL, out), 0);
    assert_string_equal(out, "xxh128:99aa06d3014798d86001c324468d497f");
    close(fd);
    assert_int_equal(hash_fd(fd, HASH_XXH128, buf, sizeof buf, NULL, NULL, out), -1);
    assert_string_equal(out, "");
    assert_int_equal(hash_fd(-1, HASH_NONE, buf, sizeof buf, NULL, NULL, out), -1);
}

static void test_names(void **state)
{
    (void)state;
    enum hash_alg alg = HASH_NONE;
    assert_int_equal(hash_alg_parse("xxh128", &alg), 0);
    assert_int_equal(alg, HASH_XXH128);
    assert_int_equal(hash_alg_parse("sha256", &alg), 0);
    assert_int_equal(alg, HASH_SHA256);
    assert_int_equal(hash_alg_parse("SHA256", &alg), -1);
    assert_int_equal(hash_alg_parse("md5", &alg), -1);
    assert_int_equal(hash_alg_parse("", &alg), -1);
    assert_string_equal(hash_alg_name(HASH_XXH128), "xxh128");
    assert_string_equal(hash_alg_name(HASH_SHA256), "sha256");
    assert_string_equal(hash_alg_name(HASH_NONE), "none");
    struct hash_state h;
    assert_int_equal(hash_begin(&h, HASH_NONE), -1);
    hash_end(&h, NULL); /* nothing to free */
}

static void test_str_parse(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int want;
    } cases[] = {
        {"xxh128:99aa06d3014798d86001c324468d497f", 1},
        {"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 1},
        /* well-formed, of algorithms this version does not know */
        {"blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262", 0},
        {"sha-512:0", 0},
        {"a:f", 0},
        {"0123456789abcdef:00", 0},
        /* malformed */
        {"", -1},
        {"xxh128", -1},
        {":00", -1},
        {"md5:", -1},
        {"xxh128:99AA06D3014798D86001C324468D497F", -1},  /* uppercase */
        {"XXH128:99aa06d3014798d86001c324468d497f", -1},  /* uppercase name */
        {"xxh128:99aa06d3014798d86001c324468d497", -1},   /* 31 digits */
        {"xxh128:99aa06d3014798d86001c324468d497f0", -1}, /* 33 digits */
        {"sha256:99aa06d3014798d86001c324468d497f", -1},  /* 32 for sha256 */
        {"xxh128:99aa06d3014798d86001c324468d497g", -1},
        {"xxh 128:00", -1},
        {"xxh128::00", -1},
        {"0123456789abcdefg:00", -1}, /* name of 17 */
        {"x:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
         "0123456789abcd",
         0}, /* 80 bytes */
        {"x:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
         "0123456789abcde",
         -1}, /* 81 */
        {"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum hash_alg alg = HASH_NONE;
        int got = hash_str_parse(cases[i].s, &alg);
        if (got != cases[i].want)
            fail_msg("hash_str_parse(\"%s\") = %d, expected %d", cases[i].s, got, cases[i].want);
        if (got != 1)
            assert_int_equal(alg, HASH_NONE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors), cmocka_unit_test(test_million),   cmocka_unit_test(test_fd),
        cmocka_unit_test(test_names),   cmocka_unit_test(test_str_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
