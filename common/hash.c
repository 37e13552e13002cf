/* hash.c - content hashes (XXH3 128-bit by libxxhash, SHA-256 by libcrypto); see hash.h. */
#include "hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define ALG_NAME_MAX 16 /* bytes of a well-formed algorithm name */
#define HEX_MAX 128     /* hex digits of a well-formed hash */

int hash_alg_parse(const char *name, enum hash_alg *alg)
{
    if (strcmp(name, "xxh128") == 0)
        *alg = HASH_XXH128;
    else if (strcmp(name, "sha256") == 0)
        *alg = HASH_SHA256;
    else
        return -1;
    return 0;
}

const char *hash_alg_name(enum hash_alg alg)
{
    return alg == HASH_XXH128 ? "xxh128" : alg == HASH_SHA256 ? "sha256" : "none";
}

/* The bytes of alg's digest: 16 for XXH3's 128 bits, 32 for SHA-256. */
static size_t digest_len(enum hash_alg alg)
{
    return alg == HASH_XXH128 ? 16 : alg == HASH_SHA256 ? 32 : 0;
}

int hash_str_parse(const char *s, enum hash_alg *alg)
{
    size_t len = strnlen(s, HASH_STR_MAX + 1);
    const char *colon = memchr(s, ':', len);
    if (len > HASH_STR_MAX || colon == NULL)
        return -1;
    size_t nlen = (size_t)(colon - s), hlen = len - nlen - 1;
    if (nlen == 0 || nlen > ALG_NAME_MAX || hlen == 0 || hlen > HEX_MAX)
        return -1;
    for (size_t i = 0; i < nlen; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return -1;
    for (size_t i = 0; i < hlen; i++)
        if (!((colon[1 + i] >= '0' && colon[1 + i] <= '9') ||
              (colon[1 + i] >= 'a' && colon[1 + i] <= 'f')))
            return -1;
    char name[ALG_NAME_MAX + 1];
    memcpy(name, s, nlen);
    name[nlen] = '\0';
    enum hash_alg a;
    if (hash_alg_parse(name, &a) < 0)
        return 0;
    /* A known name with another length is no hash of that algorithm. */
    if (hlen != 2 * digest_len(a))
        return -1;
    *alg = a;
    return 1;
}

int hash_begin(struct hash_state *h, enum hash_alg alg)
{
    h->alg = alg;
    h->impl = NULL;
    if (alg == HASH_XXH128) {
        XXH3_state_t *x = XXH3_createState();
        if (x == NULL || XXH3_128bits_reset(x) != XXH_OK) {
            XXH3_freeState(x);
            errno = ENOMEM;
            return -1;
        }
        h->impl = x;
        return 0;
    }
    if (alg == HASH_SHA256) {
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
            EVP_MD_CTX_free(c);
            errno = ENOMEM;
            return -1;
        }
        h->impl = c;
        return 0;
    }
    errno = EINVAL;
    return -1;
}

void hash_update(struct hash_state *h, const void *p, size_t n)
{
    if (h->impl == NULL || n == 0)
        return;
    if (h->alg == HASH_XXH128)
        XXH3_128bits_update(h->impl, p, n);
    else
        EVP_DigestUpdate(h->impl, p, n);
}

/* out = ALG ":" and the n bytes d in lowercase hex. */
static void format_hash(enum hash_alg alg, const unsigned char *d, size_t n,
                        char out[HASH_STR_MAX + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t at = strlen(hash_alg_name(alg));
    memcpy(out, hash_alg_name(alg), at);
    out[at++] = ':';
    for (size_t i = 0; i < n && at + 2 <= HASH_STR_MAX; i++) {
        out[at++] = hex[d[i] >> 4];
        out[at++] = hex[d[i] & 15];
    }
    out[at] = '\0';
}

void hash_end(struct hash_state *h, char out[HASH_STR_MAX + 1])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    if (out != NULL)
        out[0] = '\0';
    if (h->impl == NULL)
        return;
    if (h->alg == HASH_XXH128) {
        /* The canonical form is big-endian, as xxhsum -H2 prints it. */
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h->impl));
        XXH3_freeState(h->impl);
        if (out != NULL)
            format_hash(h->alg, c.digest, sizeof c.digest, out);
    } else {
        unsigned n = 0;
        int ok = EVP_DigestFinal_ex(h->impl, d, &n) == 1;
        EVP_MD_CTX_free(h->impl);
        if (out != NULL && ok)
            format_hash(h->alg, d, n, out);
    }
    h->impl = NULL;
}

int hash_fd(int fd, enum hash_alg alg, char *buf, size_t buflen, void (*tick)(void *), void *arg,
            char out[HASH_STR_MAX + 1])
{
    struct hash_state h;
    out[0] = '\0';
    if (hash_begin(&h, alg) < 0)
        return -1;
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(fd, buf, buflen, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            hash_end(&h, NULL);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        hash_update(&h, buf, (size_t)n);
        off += n;
        if (tick != NULL)
            tick(arg);
    }
    hash_end(&h, out);
    return 0;
}
