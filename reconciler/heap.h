/* How vcm asks glibc's malloc to hold memory: few arenas, and what a relist freed handed back
 * to the kernel.
 *
 * Measured at 1,000 clusters × 10 nodes through four libvirtd (docs/benchmarks.md): glibc's
 * defaults kept 40–50 MiB of freed memory in a one-shot pass (an arena per thread), and the
 * service's RSS crept up relist after relist (a relist's libvirt objects and RPC buffers are
 * freed around the cache that outlives them). */
#ifndef VCM_HEAP_H
#define VCM_HEAP_H

/* Use at most `arenas` malloc arenas (call before threads start allocating; MALLOC_ARENA_MAX,
 * when set, is left to rule). The one-shot commands use 2: their observation threads allocate
 * at once; the service 1: it lives long and its threads wait on hosts. */
void vcm_heap_tune(int arenas);

/* Hand free memory back to the kernel (malloc_trim): the service calls it after a pass that
 * relisted a host. */
void vcm_heap_release(void);

#endif
