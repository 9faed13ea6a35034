/* Timing and memory helpers shared by the benchmark programs (header-only: each bench is one
 * program of its own). */
#ifndef VCM_BENCH_UTIL_H
#define VCM_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_UNUSED __attribute__((unused))

static BENCH_UNUSED double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of this process: less disturbed than wall time on a shared machine. */
static BENCH_UNUSED double cpu_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static BENCH_UNUSED int cmp_d(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* Sorts v. */
static BENCH_UNUSED double median(double *v, int n) {
        qsort(v, (size_t)n, sizeof(*v), cmp_d);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A "Vm*" line of /proc/self/status in MiB (VmRSS, VmHWM); -1 when unreadable. */
static BENCH_UNUSED double status_mib(const char *key) {
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        double v = -1;
        size_t kl = strlen(key);
        while (f && fgets(line, sizeof(line), f))
                if (!strncmp(line, key, kl) && line[kl] == ':')
                        v = strtod(line + kl + 1, NULL) / 1024.0;
        if (f)
                fclose(f);
        return v;
}

/* Start a new peak: VmHWM becomes the current RSS (Linux >= 4.0). */
static BENCH_UNUSED void reset_peak(void) {
        FILE *f = fopen("/proc/self/clear_refs", "w");
        if (f) {
                fputs("5", f);
                fclose(f);
        }
}

#endif
