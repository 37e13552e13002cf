/*
 * hash.h - content hashes for end-to-end checks: scan --checksum puts one
 * in each message, move compares what it reads (docs/message-format.md).
 *
 * A hash travels as "ALG:HEX", lowercase, the form of OCI's digests:
 * "xxh128:" and 32 hex digits (XXH3's 128-bit hash, libxxhash: the
 * default, fast enough to keep up with the disk), or "sha256:" and 64
 * (OpenSSL's libcrypto: for who wants a cryptographic hash). No function
 * here prints or exits.
 */
#ifndef SCANMOVE_HASH_H
#define SCANMOVE_HASH_H

#include <stddef.h>
#include <stdint.h>

enum hash_alg { HASH_NONE = 0, HASH_XXH128, HASH_SHA256 };

#define HASH_STR_MAX 80 /* bytes of "ALG:HEX", without the NUL */
/* The extended attribute move --hash-xattr sets on a destination file. */
#define HASH_XATTR "user.scanmove.hash"

/* hash_alg_parse - the algorithm named name ("xxh128", "sha256") into
 * *alg. Returns 0, or -1 when there is no such algorithm. */
int hash_alg_parse(const char *name, enum hash_alg *alg);

/* hash_alg_name - "xxh128", "sha256"; "none" for HASH_NONE. Static. */
const char *hash_alg_name(enum hash_alg alg);

/*
 * hash_str_parse - check s, a hash as a message carries it, and say
 * which algorithm it is of: 1 with *alg set when s is "ALG:HEX" of an
 * algorithm this version knows, with the right number of lowercase hex
 * digits; 0 when it is well-formed ("NAME:HEX", NAME of 1 to 16 of
 * [a-z0-9-], 1 to 128 lowercase hex digits, at most HASH_STR_MAX bytes)
 * but of an algorithm this version does not know; -1 when malformed.
 */
int hash_str_parse(const char *s, enum hash_alg *alg);

/* The running state of one hash. */
struct hash_state {
    enum hash_alg alg;
    void *impl; /* XXH3_state_t or EVP_MD_CTX */
};

/* hash_begin - start a hash of alg. Returns 0, or -1 with errno (ENOMEM). */
int hash_begin(struct hash_state *h, enum hash_alg alg);

/* hash_update - add n bytes at p. */
void hash_update(struct hash_state *h, const void *p, size_t n);

/* hash_end - the hash as "ALG:HEX" into out; frees the state (also
 * when out is NULL: to drop a hash half-way). */
void hash_end(struct hash_state *h, char out[HASH_STR_MAX + 1]);

/*
 * hash_fd - hash the whole content of the open file fd, read with pread
 * from offset 0 through buf (buflen bytes; the caller's scratch), calling
 * tick(arg) after each block when tick is not NULL (a long read keeps
 * the caller's heartbeats). Returns 0 with "ALG:HEX" in out, or -1 with
 * errno.
 */
int hash_fd(int fd, enum hash_alg alg, char *buf, size_t buflen, void (*tick)(void *), void *arg,
            char out[HASH_STR_MAX + 1]);

#endif
