/* metadata.c - extended attributes and POSIX ACLs kept across file
 * systems, as mv keeps them; see fileop_priv.h. (skeleton) */
#include "fileop_priv.h"

enum step meta_copy(struct move *mv)
{
    (void)mv;
    return STEP_ON;
}
