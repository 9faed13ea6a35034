/* No-op reconcile and plan at scale on libvirt's test driver: N clusters x (1 frontend + 10
 * nodes) loaded from YAML by the real loader, one site with one host test:///default, the real
 * engine and libvirt provider. One apply pass creates everything (setup), then the no-op pass
 * (apply, 0 steps: asserted) and the plan-only pass are timed, median of RUNS each.
 *
 * RSS: libvirt's test driver keeps its whole state (every domain, network and volume) inside
 * this process, so the process RSS is vcm's plus the "hypervisor's". Printed: RSS before the
 * first pass (libraries, repo model, empty test driver), RSS after setup (test driver full), and
 * the peak of each measured phase (VmHWM, reset before the phase through /proc/self/clear_refs),
 * with the phase's growth over the RSS it started from.
 *
 * Network ids: the bridge backend has ids 1..4094 per site, so above 4094 clusters the rest
 * are Pending ("no free network id") and own nothing; the output says how many.
 * Usage: bench_testdriver N [RUNS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "providers/libvirt/libvirt.h"
#include "reconciler/engine.h"
#include "specs/load.h"
#include "bench/bench_specs.h"
#include "bench/bench_util.h"

static const char CLUSTER_FMT[] =
        "apiVersion: vcm/v1\n"
        "kind: VirtualCluster\n"
        "metadata: {name: c%05zu, owner: ops@example.org}\n"
        "spec:\n"
        "  window: {start: 2026-12-01T09:00:00+09:00, end: 2026-12-20T18:00:00+09:00}\n"
        "  network: {subnet: 10.%zu.%zu.0/24}\n"
        "  frontend: {vcpus: 1, memory: 256MiB, disk: 64MiB}\n"
        "  nodes:\n"
        "    - {name: compute, count: 10, vcpus: 1, memory: 256MiB, disk: 64MiB}\n";

static const int64_t in_window = 1796094000; /* 2026-12-01T03:00:00Z = 12:00+09:00 */

static vcm_repo *load(size_t n) {
        return bench_load(BENCH_TD_SITE, CLUSTER_FMT, n);
}

static size_t ready_count(const vcm_pass *p, size_t *ret_pending) {
        size_t ready = 0, pending = 0;
        for (size_t i = 0; i < p->n_status; i++) {
                ready += p->status[i].state == VCM_STATE_READY;
                pending += p->status[i].state == VCM_STATE_PENDING;
        }
        *ret_pending = pending;
        return ready;
}

/* Errors that are not "no free network id" (the expected Pending above 4094 clusters). */
static size_t unexpected_errors(const vcm_pass *p) {
        size_t n = 0;
        for (size_t i = 0; i < p->diags.n; i++)
                n += p->diags.items[i].severity == VCM_SEV_ERROR &&
                     !strstr(p->diags.items[i].message, "no free network id");
        return n;
}

int main(int argc, char **argv) {
        size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
        int runs = argc > 2 ? atoi(argv[2]) : (n >= 5000 ? 5 : 9);
        virSetErrorFunc(NULL, NULL);

        /* The default test driver's state lives while a connection to it is open. */
        virConnectPtr raw = virConnectOpen("test:///default");
        if (!raw) {
                fprintf(stderr, "cannot open test:///default\n");
                return 1;
        }
        double t0 = now_ms();
        vcm_repo *repo = load(n);
        double t_load = now_ms() - t0;
        double rss_start = status_mib("VmRSS");

        vcm_provider_table t = { 0 };
        t.by_kind[VCM_KIND_DOMAIN] = &vcm_provider_libvirt;
        t.by_kind[VCM_KIND_VOLUME] = &vcm_provider_libvirt;
        t.by_kind[VCM_KIND_BRIDGE] = &vcm_provider_libvirt;
        t.by_kind[VCM_KIND_SEED] = &vcm_provider_libvirt;
        vcm_engine_opts o = { .now = in_window, .parallel = 8, .retries = 1, .backoff_ms = -1 };

        vcm_pass *p = NULL;
        t0 = now_ms();
        if (vcm_engine_run(repo, &t, &o, &p) < 0) {
                fprintf(stderr, "setup pass could not run\n");
                return 1;
        }
        double t_setup = now_ms() - t0;
        size_t created = p->n_steps, failed = 0;
        for (size_t i = 0; i < p->n_steps; i++)
                if (p->step_results[i] < 0 && failed++ < 3)
                        fprintf(stderr, "step failed: %s\n", p->step_errors[i]);
        if (failed || unexpected_errors(p)) {
                vcm_diags_print(&p->diags, stderr);
                fprintf(stderr, "setup: %zu steps failed\n", failed);
                return 1;
        }
        vcm_pass_free(p);
        double rss_setup = status_mib("VmRSS");
        /* For profiling the measured phases alone: stop here until a profiler has attached
         * (BENCH_STOP_AFTER_SETUP=1; then `perf record -p PID` and `kill -CONT PID`). */
        if (getenv("BENCH_STOP_AFTER_SETUP")) {
                fprintf(stderr, "setup done, pid %d stopped\n", (int)getpid());
                raise(SIGSTOP);
        }

        double *noop = calloc((size_t)runs, sizeof(double));
        double *noop_cpu = calloc((size_t)runs, sizeof(double));
        double *plan = calloc((size_t)runs, sizeof(double));
        double *plan_cpu = calloc((size_t)runs, sizeof(double));
        size_t resources = 0, ready = 0, pending = 0;
        reset_peak();
        double rss_noop_base = status_mib("VmRSS");
        for (int i = 0; i < runs; i++) {
                t0 = now_ms();
                double c0 = cpu_ms();
                if (vcm_engine_run(repo, &t, &o, &p) < 0)
                        return 1;
                noop[i] = now_ms() - t0;
                noop_cpu[i] = cpu_ms() - c0;
                if (p->n_steps != 0 || unexpected_errors(p) || p->n_unreachable) {
                        vcm_diags_print(&p->diags, stderr);
                        fprintf(stderr, "not a no-op: %zu steps, %zu hosts unreachable\n",
                                p->n_steps, p->n_unreachable);
                        return 1;
                }
                resources = vcm_resource_set_size(p->observed);
                ready = ready_count(p, &pending);
                vcm_pass_free(p);
        }
        double rss_noop_peak = status_mib("VmHWM");
        /* The split: the provider's observation alone (open, observe, close of the one host:
         * libvirt calls and the provider's parsing), as the engine does it in each pass; the
         * rest of a pass is vcm's own (desired, diff, plan, statuses). */
        double *obs = calloc((size_t)runs, sizeof(double));
        double *obs_cpu = calloc((size_t)runs, sizeof(double));
        for (int i = 0; i < runs; i++) {
                const vcm_host *h = &repo->site->hosts[0];
                void *conn = NULL;
                vcm_error err = { { 0 } };
                vcm_resource_set *seen = vcm_resource_set_new();
                t0 = now_ms();
                double c0 = cpu_ms();
                if (vcm_provider_libvirt.open(repo->site, h, &conn, &err) < 0)
                        return 1;
                vcm_host_ctx ctx = { .site = repo->site, .host = h, .conn = conn };
                if (vcm_provider_libvirt.observe(&ctx, seen, &err) < 0) {
                        fprintf(stderr, "observe: %s\n", err.message);
                        return 1;
                }
                vcm_provider_libvirt.close(conn);
                obs[i] = now_ms() - t0;
                obs_cpu[i] = cpu_ms() - c0;
                vcm_resource_set_free(seen);
        }

        vcm_engine_opts po = o;
        po.plan_only = true;
        reset_peak();
        double rss_plan_base = status_mib("VmRSS");
        for (int i = 0; i < runs; i++) {
                t0 = now_ms();
                double c0 = cpu_ms();
                if (vcm_engine_run(repo, &t, &po, &p) < 0)
                        return 1;
                plan[i] = now_ms() - t0;
                plan_cpu[i] = cpu_ms() - c0;
                if (p->n_steps != 0)
                        return 1;
                vcm_pass_free(p);
        }
        double rss_plan_peak = status_mib("VmHWM");
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);

        printf("N=%zu clusters x 10 nodes: %zu resources observed, %zu Ready, %zu Pending "
               "(network ids 1..4094); loaded in %.0f ms, setup apply %zu steps in %.0f ms\n",
               n, resources, ready, pending, t_load, created, t_setup);
        printf("  no-op pass  median %8.1f ms wall, %8.1f ms CPU (%d runs)\n", median(noop, runs),
               median(noop_cpu, runs), runs);
        printf("  plan only   median %8.1f ms wall, %8.1f ms CPU (%d runs)\n", median(plan, runs),
               median(plan_cpu, runs), runs);
        printf("  observe alone (provider: libvirt calls, parsing) median %8.1f ms wall, %8.1f ms "
               "CPU\n", median(obs, runs), median(obs_cpu, runs));
        printf("  RSS before the first pass %.1f MiB, after setup %.1f MiB "
               "(test driver state +%.1f)\n", rss_start, rss_setup, rss_setup - rss_start);
        printf("  peak RSS in no-op phase %.1f MiB (+%.1f over its start), plan phase %.1f MiB "
               "(+%.1f); process lifetime peak %.1f MiB\n",
               rss_noop_peak, rss_noop_peak - rss_noop_base, rss_plan_peak,
               rss_plan_peak - rss_plan_base, ru.ru_maxrss / 1024.0);
        /* One line per size for run.sh's table. */
        printf("ROW %zu %zu %.1f %.1f %.1f %.1f %.1f %.1f\n", n, resources, median(noop, runs),
               median(plan, runs), rss_start, rss_setup, rss_noop_peak, rss_noop_peak - rss_start);
        free(noop);
        free(noop_cpu);
        free(plan);
        free(plan_cpu);
        free(obs);
        free(obs_cpu);
        vcm_repo_free(repo);
        virConnectClose(raw);
        return 0;
}
