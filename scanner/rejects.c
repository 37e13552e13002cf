/* rejects.c - the JSON line of a file scan did not publish; see rejects.h. */
#include "rejects.h"

#include "json_write.h"
#include "msg.h"

#include <string.h>

#define REJECTS_DETAIL_MAX 512

int rejects_encode(const char *root, size_t root_len, const char *path, size_t path_len,
                   const char *outcome, const char *reason, const char *detail, char *buf,
                   size_t cap, size_t *len)
{
    int truncated = root_len > REJECTS_PATH_MAX || path_len > REJECTS_PATH_MAX;
    struct json_write w;

    if (outcome == NULL || reason == NULL)
        return -1;
    json_write_init(&w, buf, cap);
    json_write_open(&w);
    json_write_bytes(&w, "root", "root_b64", root,
                     root_len > REJECTS_PATH_MAX ? REJECTS_PATH_MAX : root_len);
    if (path_len > 0)
        json_write_bytes(&w, "path", "path_b64", path,
                         path_len > REJECTS_PATH_MAX ? REJECTS_PATH_MAX : path_len);
    if (truncated) {
        json_write_key(&w, "truncated");
        json_write_raw(&w, "true");
    }
    json_write_key(&w, "outcome");
    json_write_string(&w, outcome, strlen(outcome));
    json_write_key(&w, "reason");
    json_write_string(&w, reason, strlen(reason));
    if (detail != NULL && detail[0] != '\0')
        json_write_bytes(&w, "detail", "detail_b64", detail, strnlen(detail, REJECTS_DETAIL_MAX));
    json_write_close(&w);
    return json_write_finish(&w, len);
}
