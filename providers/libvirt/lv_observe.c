/* Observation of one host in parts that run at once: the pool, the networks, and the domains in
 * a few ranges. Against a remote libvirtd the parts' calls are in flight together (one
 * connection carries concurrent calls); in-process (the test driver) they use the cores. The
 * pool, the longest part (every volume object), starts first. Each part fills a set of its own
 * (sets are not shared between threads), merged in a fixed order, so the result and the error
 * reported do not depend on timing. */
#include <errno.h>
#include <stdlib.h>

#include "lv.h"
#include "reconciler/parallel.h"

/* Overridable at build time to compare with a sequential observation (bench/testdriver). */
#ifndef LV_OBSERVE_THREADS
#define LV_OBSERVE_THREADS 4
#endif
/* Fewer domains than this per range are not worth a thread of their own. */
#define LV_OBSERVE_RANGE_MIN 256

typedef struct lv_observe_part {
        vcm_resource_set *set;
        vcm_error err;
        int result;
} lv_observe_part;

typedef struct lv_observe_job {
        lv_conn *c;
        lv_dom_list doms;
        size_t n_ranges;
        lv_observe_part *parts; /* [0]: the pool; [1]: networks; [2..]: domain ranges */
} lv_observe_job;

#define LV_PART_POOL 0
#define LV_PART_NETWORKS 1
#define LV_PART_DOMAINS 2

static int lv_observe_pool(lv_conn *c, vcm_resource_set *out, vcm_error *err) {
        /* Volumes and seeds keep their markers in the one pool: listed once for both. */
        lv_pool_list pl = { 0 };
        int r = lv_pool_list_read(c, &pl, err);
        if (r >= 0)
                r = lv_volume_observe(c, &pl, out, err);
        if (r >= 0)
                r = lv_seed_observe(c, &pl, out, err);
        lv_pool_list_clear(&pl);
        return r;
}

static void lv_observe_part_run(void *ctx, size_t i) {
        lv_observe_job *j = ctx;
        lv_observe_part *p = &j->parts[i];
        if (i == LV_PART_POOL) {
                p->result = lv_observe_pool(j->c, p->set, &p->err);
                return;
        }
        if (i == LV_PART_NETWORKS) {
                p->result = lv_network_observe(j->c, p->set, &p->err);
                return;
        }
        size_t per = (j->doms.n + j->n_ranges - 1) / j->n_ranges,
               from = (i - LV_PART_DOMAINS) * per;
        p->result = lv_domain_observe_range(j->c, &j->doms, from, from + per, p->set, &p->err);
}

int lv_observe_host(lv_conn *c, vcm_resource_set *out, vcm_error *err) {
        lv_observe_job j = { .c = c };
        int r = lv_domain_list(c, &j.doms, err);
        if (r < 0)
                return r;
        j.n_ranges = j.doms.n / LV_OBSERVE_RANGE_MIN;
        if (j.n_ranges < 1)
                j.n_ranges = 1;
        if (j.n_ranges > LV_OBSERVE_THREADS)
                j.n_ranges = LV_OBSERVE_THREADS;
        size_t n = LV_PART_DOMAINS + j.n_ranges;
        if (!(j.parts = calloc(n, sizeof(*j.parts)))) {
                lv_domain_list_clear(&j.doms);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                j.parts[i].set = vcm_resource_set_new();
        vcm_parallel_for(n, LV_OBSERVE_THREADS, lv_observe_part_run, &j);
        for (size_t i = 0; i < n && r >= 0; i++)
                if (j.parts[i].result < 0) {
                        r = j.parts[i].result;
                        *err = j.parts[i].err;
                }
        for (size_t i = 0; i < n; i++) {
                if (r >= 0)
                        vcm_resource_set_merge(out, j.parts[i].set);
                vcm_resource_set_free(j.parts[i].set);
        }
        free(j.parts);
        lv_domain_list_clear(&j.doms);
        return r;
}
