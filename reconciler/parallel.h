/* Run independent jobs on a few threads (engine connections, the informer's relists, a
 * provider's observation split in parts). */
#ifndef VCM_PARALLEL_H
#define VCM_PARALLEL_H

#include <stddef.h>

/* Run fn(ctx, i) for i in 0..n-1 on up to `threads` threads; returns when all are done. */
void vcm_parallel_for(size_t n, int threads, void (*fn)(void *ctx, size_t i), void *ctx);

#endif
