/* Timing and memory helpers shared by the benchmark programs (header-only: each bench is one
 * program of its own). */
#ifndef VCM_BENCH_UTIL_H
#define VCM_BENCH_UTIL_H

#include <pthread.h>
#include <signal.h>
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

/* SIGINT, SIGTERM and SIGHUP blocked in every thread (call before starting any) and taken by a
 * thread of their own, which calls on_signal(sig): libvirt calls cannot run in a signal handler.
 * 0, or -1 when the thread cannot start. */
static BENCH_UNUSED void (*bench_on_signal)(int sig);

static BENCH_UNUSED void *bench_signal_thread(void *arg) {
        int sig = 0;
        sigwait(arg, &sig);
        bench_on_signal(sig);
        return NULL;
}

static BENCH_UNUSED int bench_signals_to_thread(void (*on_signal)(int sig)) {
        static sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        bench_on_signal = on_signal;
        pthread_t th;
        if (pthread_create(&th, NULL, bench_signal_thread, &set) != 0)
                return -1;
        pthread_detach(th);
        return 0;
}

#endif
