/* How vcm asks glibc's malloc to hold memory: few arenas, big blocks mapped on their own, and
 * what a pass freed handed back to the kernel between the service's passes.
 *
 * Measured at 1,000 clusters × 10 nodes through four libvirtd (docs/benchmarks.md): glibc's
 * defaults kept 40–50 MiB of freed memory in a one-shot pass (arenas per thread), and the
 * service's RSS crept up relist after relist (a relist's libvirt objects and RPC buffers are
 * freed around the cache that outlives them). */
#ifndef VCM_HEAP_H
#define VCM_HEAP_H

/* Use at most `arenas` malloc arenas and map blocks of 128 KiB and more on their own (glibc
 * raises that threshold by itself as big blocks are freed, which then fragment the heap).
 * Call before threads start allocating; environment variables MALLOC_ARENA_MAX and
 * MALLOC_MMAP_THRESHOLD_, when set, are left to rule. The one-shot commands use 2: their
 * observation threads allocate at once; the service 1: it lives long and its threads wait on
 * hosts. */
void vcm_heap_tune(int arenas);

/* Hand free memory back to the kernel (malloc_trim): the service calls it after each pass. */
void vcm_heap_release(void);

#endif
