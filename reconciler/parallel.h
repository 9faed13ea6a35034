/* Run independent jobs on a few threads (engine connections, the informer's relists, a
 * provider's observation split in parts). */
#ifndef VCM_PARALLEL_H
#define VCM_PARALLEL_H

#include <stddef.h>

/* Run fn(ctx, i) for i in 0..n-1 on up to `threads` threads; returns when all are done. */
void vcm_parallel_for(size_t n, int threads, void (*fn)(void *ctx, size_t i), void *ctx);

/* Few malloc arenas for the whole process (call once, before any thread starts; the
 * MALLOC_ARENA_MAX environment variable, when set, is left to rule). By default glibc gives
 * threads up to 8 arenas per core, each keeping what it freed: with the observation and apply
 * workers of a pass over 1,000 clusters, about 50 MiB more RSS (bench/testdriver/README.md).
 * vcm's threads mostly wait on libvirt and agents, so sharing two arenas costs no time there. */
void vcm_parallel_limit_arenas(void);

#endif
