/* test_fnv128.c - unit tests of 128-bit FNV-1a (common/fnv128.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "fnv128.h"

/* Computed independently (Python) from the definition in docs/message-format.md. */
static const struct {
    const char *bytes;
    size_t len;
    const char *hex;
} vectors[] = {
    {"", 0, "6c62272e07bb014262b821756295c58d"},  /* the offset basis */
    {"a", 1, "d228cb696f1a8caf78912b704e4a8964"}, /* the check in the docs */
    {"foobar", 6, "343e1662793c64bf6f0d3597ba446f18"},
    {"\xd2\x04\0\0\0\0\0\0\x05\0\0\0", 12, "6e48d23bf132c151091e12f1ccadecd6"},
};

static void hash_of(const void *p, size_t n, char *hex)
{
    struct fnv128 h;
    fnv128_init(&h);
    fnv128_add(&h, p, n);
    fnv128_hex(&h, hex);
}

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        char hex[FNV128_HEX_LEN + 1];
        memset(hex, 'x', sizeof hex);
        hash_of(vectors[i].bytes, vectors[i].len, hex);
        assert_string_equal(hex, vectors[i].hex);
    }
    unsigned char all[256];
    char hex[FNV128_HEX_LEN + 1];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (unsigned char)i;
    hash_of(all, sizeof all, hex);
    assert_string_equal(hex, "8097249afae7c21686b07bd6fa33708d");
}

/* Feeding in pieces is feeding the whole; numbers go in little-endian. */
static void test_incremental(void **state)
{
    (void)state;
    struct fnv128 h;
    char hex[FNV128_HEX_LEN + 1];
    fnv128_init(&h);
    fnv128_add(&h, "foo", 3);
    fnv128_add(&h, NULL, 0);
    fnv128_add(&h, "bar", 3);
    fnv128_hex(&h, hex);
    assert_string_equal(hex, "343e1662793c64bf6f0d3597ba446f18");

    fnv128_init(&h);
    fnv128_add_le(&h, 1234, 8);
    fnv128_add_le(&h, 5, 4);
    fnv128_hex(&h, hex);
    assert_string_equal(hex, vectors[3].hex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_incremental),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
