/* layout.c - move --layout; see layout.h. (skeleton: {path} only) */
#include "layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct layout {
    char *tmpl;
};

struct layout *layout_parse(const char *tmpl, char *err, size_t errlen)
{
    if (strcmp(tmpl, "{path}") != 0) {
        snprintf(err, errlen, "--layout '%s': only {path} for now", tmpl);
        return NULL;
    }
    struct layout *l = calloc(1, sizeof *l);
    if (l == NULL || (l->tmpl = strdup(tmpl)) == NULL) {
        free(l);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return l;
}

int layout_is_identity(const struct layout *l)
{
    return strcmp(l->tmpl, "{path}") == 0;
}

int layout_expand(const struct layout *l, const struct msg *m, char *out, size_t outlen, char *err,
                  size_t errlen)
{
    (void)l;
    (void)err;
    (void)errlen;
    snprintf(out, outlen, "%s", m->path);
    return 0;
}

void layout_free(struct layout *l)
{
    if (l != NULL)
        free(l->tmpl);
    free(l);
}
