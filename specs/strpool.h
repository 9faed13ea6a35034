/* Interned strings (file names) that vcm_pos.file points into; freed with the repository. */
#ifndef VCM_STRPOOL_H
#define VCM_STRPOOL_H

typedef struct strpool strpool;

/* Returns the pool's copy of s (the same pointer for equal strings), NULL on ENOMEM. */
const char *strpool_intern(strpool **pool, const char *s);
void strpool_free(strpool *pool);

#endif
