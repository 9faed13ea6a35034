/* Shared by the two apply benchmarks: arguments, the worker pool, timing, cleanup. */
#ifndef VCM_BENCH_APPLY_COMMON_H
#define VCM_BENCH_APPLY_COMMON_H

#include <libvirt/libvirt.h>

#define BENCH_URI "qemu:///system"
#define BENCH_MEMORY_MIB 32 /* no disk, no kernel: the guest idles in firmware */

typedef struct bench {
        int n, threads;
        const char *prefix;      /* domain names are <prefix>-<i> */
        virConnectPtr conn;      /* one connection shared by all threads, as vcm does per host */
        int (*create_one)(struct bench *b, int i, char *err, size_t errlen);
        void *userdata;
} bench;

int bench_args(int argc, char **argv, bench *b);
/* Run create_one for 0..n-1 on b->threads threads; returns wall seconds, or < 0 on failure. */
double bench_run(bench *b);
/* Destroy and undefine every domain named <prefix>-*. */
void bench_cleanup(virConnectPtr conn, const char *prefix);

#endif
