#include "bench_apply_common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/virterror.h>

int bench_args(int argc, char **argv, bench *b) {
        if (argc != 4) {
                fprintf(stderr, "usage: %s N THREADS PREFIX\n", argv[0]);
                return -1;
        }
        b->n = atoi(argv[1]);
        b->threads = atoi(argv[2]);
        b->prefix = argv[3];
        if (b->n < 1 || b->threads < 1)
                return -1;
        return 0;
}

typedef struct worker {
        bench *b;
        atomic_int *next;
        atomic_int *failed;
} worker;

static void *bench_worker(void *p) {
        worker *w = p;
        for (;;) {
                int i = atomic_fetch_add(w->next, 1);
                if (i >= w->b->n)
                        break;
                char err[512];
                if (w->b->create_one(w->b, i, err, sizeof(err)) < 0) {
                        fprintf(stderr, "create %d: %s\n", i, err);
                        atomic_fetch_add(w->failed, 1);
                }
        }
        return NULL;
}

double bench_run(bench *b) {
        atomic_int next = 0, failed = 0;
        pthread_t *t = calloc((size_t)b->threads, sizeof(*t));
        worker w = { b, &next, &failed };
        struct timespec a, z;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int i = 0; i < b->threads; i++)
                pthread_create(&t[i], NULL, bench_worker, &w);
        for (int i = 0; i < b->threads; i++)
                pthread_join(t[i], NULL);
        clock_gettime(CLOCK_MONOTONIC, &z);
        free(t);
        if (failed)
                return -1;
        return (double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) / 1e9;
}

void bench_cleanup(virConnectPtr conn, const char *prefix) {
        virDomainPtr *doms = NULL;
        int n = virConnectListAllDomains(conn, &doms, 0);
        size_t len = strlen(prefix);
        for (int i = 0; i < n; i++) {
                const char *name = virDomainGetName(doms[i]);
                if (strncmp(name, prefix, len) == 0 && name[len] == '-') {
                        virDomainDestroy(doms[i]);
                        virDomainUndefine(doms[i]);
                        char log[512];
                        snprintf(log, sizeof(log), "/var/log/vcm/%s.serial.log", name);
                        remove(log);
                }
                virDomainFree(doms[i]);
        }
        free(doms);
}
