/* A small parallel for: n independent jobs over up to `threads` threads, each taking the next
 * job index as it finishes one (so uneven jobs balance themselves). */
#include "reconciler/parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "reconciler/util.h"

typedef struct pfor {
        size_t n;
        atomic_size_t next;
        void (*fn)(void *ctx, size_t i);
        void *ctx;
} pfor;

static void *pfor_worker(void *arg) {
        pfor *p = arg;
        for (;;) {
                size_t i = atomic_fetch_add(&p->next, 1);
                if (i >= p->n)
                        return NULL;
                p->fn(p->ctx, i);
        }
}

void vcm_parallel_for(size_t n, int threads, void (*fn)(void *ctx, size_t i), void *ctx) {
        pfor p = { .n = n, .fn = fn, .ctx = ctx };
        atomic_init(&p.next, 0);
        size_t t = threads > 1 ? (size_t)threads : 1;
        if (t > n)
                t = n;
        if (t <= 1) {
                pfor_worker(&p);
                return;
        }
        pthread_t *tids = xcalloc(t, sizeof(*tids));
        size_t started = 0;
        for (size_t k = 0; k < t; k++)
                if (pthread_create(&tids[k], NULL, pfor_worker, &p) == 0)
                        started++;
                else
                        break;
        if (started == 0)
                pfor_worker(&p);
        for (size_t k = 0; k < started; k++)
                pthread_join(tids[k], NULL);
        free(tids);
}
