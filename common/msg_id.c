/* msg_id.c - the message id: a 128-bit FNV-1a hash of the file's identity; see msg.h. */
#include "msg.h"

#include "fnv128.h"

_Static_assert(MSG_ID_LEN == FNV128_HEX_LEN, "the id is the hash in hex");

/*
 * The id hashes the numbers as fixed-width little-endian bytes, so it does
 * not depend on the host's byte order; docs/message-format.md has the
 * sequence.
 */
void msg_file_id(const struct msg_file *f, char id[MSG_ID_LEN + 1])
{
    size_t root_len = f->root_len > MSG_PATH_MAX ? MSG_PATH_MAX : f->root_len;
    size_t path_len = f->path_len > MSG_PATH_MAX ? MSG_PATH_MAX : f->path_len;
    struct fnv128 h;

    fnv128_init(&h);
    fnv128_add_le(&h, f->dev, 8);
    fnv128_add_le(&h, f->ino, 8);
    fnv128_add_le(&h, f->size, 8);
    fnv128_add_le(&h, (uint64_t)f->mtime_sec, 8);
    fnv128_add_le(&h, f->mtime_nsec, 4);
    fnv128_add(&h, f->root, root_len);
    fnv128_add(&h, "", 1);
    fnv128_add(&h, f->path, path_len);
    fnv128_hex(&h, id);
}

void msg_make_id(struct msg *m)
{
    struct msg_file f = {.root = m->root,
                         .root_len = m->root_len,
                         .path = m->path,
                         .path_len = m->path_len,
                         .dev = m->dev,
                         .ino = m->ino,
                         .size = m->size,
                         .mtime_sec = m->mtime_sec,
                         .mtime_nsec = m->mtime_nsec};
    msg_file_id(&f, m->id);
}
