/* Engine benchmark: a no-op pass (observe + desired + diff + plan, nothing to apply) and a
 * plan-only pass over N clusters x 10 nodes, against a fake provider that already holds the
 * converged state (observe is a copy of per-host sets). Prints median times and peak RSS.
 * Usage: bench_engine N [RUNS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "fixtures.h"
#include "reconciler/desired.h"
#include "reconciler/diff.h"
#include "reconciler/plan.h"
#include "bench/bench_util.h"

typedef struct world {
        size_t n_hosts;
        const vcm_site *site;
        vcm_resource_set **by_host;
        pthread_mutex_t lock; /* apply runs steps of one host in parallel */
} world;

static world W = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t host_idx(const char *name) {
        for (size_t i = 0; i < W.site->n_hosts; i++)
                if (!strcmp(W.site->hosts[i].name, name))
                        return i;
        abort();
}

static int b_open(const vcm_site *site, const vcm_host *host, void **ret, vcm_error *err) {
        *ret = W.by_host[host_idx(host->name)];
        return 0;
}

static int b_observe(vcm_host_ctx *ctx, vcm_resource_set *out, vcm_error *err) {
        const vcm_resource_set *s = ctx->conn;
        for (size_t i = 0; i < vcm_resource_set_size(s); i++)
                vcm_resource_set_add_copy(out, vcm_resource_set_at(s, i));
        return 0;
}

static int b_create(vcm_host_ctx *ctx, const vcm_resource *d, vcm_error *err) {
        vcm_resource_set *s = ctx->conn;
        pthread_mutex_lock(&W.lock);
        vcm_resource_set_remove(s, d->kind, d->host, d->name);
        int r = vcm_resource_set_add_copy(s, d);
        /* What a provider reads back carries no deps. */
        vcm_resource *x = (vcm_resource *)vcm_resource_set_find(s, d->kind, d->host, d->name);
        if (x)
                x->n_deps = 0;
        pthread_mutex_unlock(&W.lock);
        return r;
}

static int b_delete(vcm_host_ctx *ctx, const vcm_resource *o, vcm_error *err) {
        pthread_mutex_lock(&W.lock);
        vcm_resource_set_remove(ctx->conn, o->kind, o->host, o->name);
        pthread_mutex_unlock(&W.lock);
        return 0;
}

static const vcm_provider bench_provider = {
        .name = "bench",
        .kinds = (1u << VCM_KIND__COUNT) - 1,
        .open = b_open,
        .observe = b_observe,
        .create = b_create,
        .delete = b_delete,
};

int main(int argc, char **argv) {
        size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
        int runs = argc > 2 ? atoi(argv[2]) : (n >= 5000 ? 5 : 11);

        /* One host per 25 clusters (250 VMs), every host a gateway and a vm-server. */
        vcm_repo *r = fx_repo_new(VCM_NET_BRIDGE, VCM_STORAGE_FILE);
        size_t n_hosts = n / 25 + 1;
        for (size_t h = 0; h < n_hosts; h++) {
                char name[32];
                snprintf(name, sizeof(name), "host%03zu", h);
                fx_add_host(r, name, VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER, 0, 0);
        }
        fx_add_image(r, "compute", "img-compute", NULL);
        fx_add_image(r, "frontend", "img-frontend", NULL);
        r->commit = strdup("0123456789abcdef0123456789abcdef01234567");
        for (size_t i = 0; i < n; i++) {
                char name[32];
                snprintf(name, sizeof(name), "c%05zu", i);
                vcm_cluster *c = fx_add_cluster(r, name);
                fx_add_group(c, "compute", 10, 1, FX_GIB);
                c->shared_storage = 100 * FX_GIB;
        }
        W.site = r->site;
        W.n_hosts = n_hosts;
        W.by_host = calloc(n_hosts, sizeof(*W.by_host));
        for (size_t h = 0; h < n_hosts; h++)
                W.by_host[h] = vcm_resource_set_new();

        vcm_provider_table t = { 0 };
        for (int k = 0; k < VCM_KIND__COUNT; k++)
                t.by_kind[k] = &bench_provider;

        /* Converge once through the engine itself. */
        vcm_engine_opts o = { .now = 1000, .parallel = 8, .retries = 1 };
        vcm_pass *p = NULL;
        double t0 = now_ms();
        if (vcm_engine_run(r, &t, &o, &p) < 0)
                return 1;
        double t_create = now_ms() - t0;
        size_t created = p->n_steps, placed = 0;
        for (size_t i = 0; i < p->n_status; i++)
                placed += p->status[i].state == VCM_STATE_READY;
        vcm_pass_free(p);

        double *noop = calloc((size_t)runs, sizeof(double));
        double *plan = calloc((size_t)runs, sizeof(double));
        double *noop_cpu = calloc((size_t)runs, sizeof(double));
        double *plan_cpu = calloc((size_t)runs, sizeof(double));
        size_t resources = 0;
        for (int i = 0; i < runs; i++) {
                t0 = now_ms();
                double c0 = cpu_ms();
                if (vcm_engine_run(r, &t, &o, &p) < 0)
                        return 1;
                noop[i] = now_ms() - t0;
                noop_cpu[i] = cpu_ms() - c0;
                if (p->n_steps != 0) {
                        fprintf(stderr, "not converged: %zu steps\n", p->n_steps);
                        return 1;
                }
                resources = vcm_resource_set_size(p->observed);
                vcm_pass_free(p);
        }
        vcm_engine_opts po = o;
        po.plan_only = true;
        for (int i = 0; i < runs; i++) {
                t0 = now_ms();
                double c0 = cpu_ms();
                if (vcm_engine_run(r, &t, &po, &p) < 0)
                        return 1;
                plan[i] = now_ms() - t0;
                plan_cpu[i] = cpu_ms() - c0;
                vcm_pass_free(p);
        }
        /* The plan stages alone (desired, diff, DAG order) on one observation. */
        double *stage = calloc((size_t)runs, sizeof(double));
        if (vcm_engine_run(r, &t, &po, &p) < 0)
                return 1;
        for (int i = 0; i < runs; i++) {
                double c0 = cpu_ms();
                vcm_diags diags = { 0 };
                vcm_resource_set *des = NULL;
                vcm_cluster_eval *ev = NULL;
                vcm_step *steps = NULL;
                size_t n_steps = 0;
                bool stopped = false;
                vcm_desired_build(r, o.now, p->observed, NULL, &diags, &des, &ev);
                vcm_diff(r, ev, des, p->observed, &t, NULL, &diags, &steps, &n_steps, &stopped);
                vcm_plan_order(steps, n_steps);
                stage[i] = cpu_ms() - c0;
                vcm_steps_free(steps, n_steps);
                vcm_cluster_evals_free(ev, r->n_clusters);
                vcm_resource_set_free(des);
                vcm_diags_clear(&diags);
        }
        vcm_pass_free(p);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("N=%zu clusters x 10 nodes: %zu hosts, %zu resources observed, %zu clusters Ready "
               "(ids: 4094 max), first apply %zu steps %.0f ms\n",
               n, n_hosts, resources, placed, created, t_create);
        /* CPU time (all threads) is shown next to wall time: on a shared machine the wall
         * figure includes waiting for a core. */
        printf("  no-op pass  median %.1f ms wall, %.1f ms CPU (%d runs)\n", median(noop, runs),
               median(noop_cpu, runs), runs);
        printf("  plan only   median %.1f ms wall, %.1f ms CPU (%d runs)\n", median(plan, runs),
               median(plan_cpu, runs), runs);
        printf("  plan stages median %.1f ms CPU (desired + diff + order, observation given)\n",
               median(stage, runs));
        printf("  load average at the end: ");
        FILE *la = fopen("/proc/loadavg", "r");
        char buf[64] = "?";
        if (la && fgets(buf, sizeof(buf), la))
                printf("%s", buf);
        else
                printf("?\n");
        if (la)
                fclose(la);
        printf("  peak RSS    %.1f MiB (process total: model, fake provider state, passes)\n",
               ru.ru_maxrss / 1024.0);
        free(noop);
        free(plan);
        free(noop_cpu);
        free(stage);
        free(plan_cpu);
        for (size_t h = 0; h < n_hosts; h++)
                vcm_resource_set_free(W.by_host[h]);
        free(W.by_host);
        fx_repo_free(r);
        return 0;
}
