/* The informer cache at scale (issue #5): N clusters x (frontend + 10 nodes) on libvirt's test
 * driver, the real loader, engine, libvirt provider and its lifecycle-event watch.
 *
 * After a setup apply (no cache) creates everything, it times, median of RUNS each:
 *  - full pass: the cache relists every host (what a resync costs; also what every pass costs
 *    without the cache), then desired, diff, plan;
 *  - event pass: a domain is destroyed behind vcm's back through another connection; once the
 *    lifecycle event has reached the watch, the pass re-reads that one domain and starts it
 *    again (1 step). The cache's counters must show 1 re-read and no relist;
 *  - cached no-op pass: nothing changed; no host is read at all (the engine's own cost);
 *  - cached plan-only pass: the plan of the same, from the cache (asserted: no host read);
 *  - the status file the service writes after each pass (build the document, write it).
 * Each cluster is 34 resources (11 domains, volumes and seeds, 1 bridge).
 * --daemons[=K]: the test driver in K private libvirtd of the bench's own, one per host (as
 * bench_testdriver --daemons), so that the RSS printed is vcm's alone.
 * The bench runs its passes as the service does: one malloc arena (vcm_heap_tune), the heap
 * released after a relist, only states and times kept of the last status document. With
 * --daemons it prints vcm's peak RSS by phase; BENCH_HEAP=1 also prints malloc's counters at the
 * end of each phase (in use, free but kept, mapped), to tell live memory from fragmentation.
 * Usage: bench_informer [CLUSTERS (default 1000: 11,000 domains)] [RUNS (default 9)]
 *        [--daemons[=K]] */
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "providers/libvirt/libvirt.h"
#include "reconciler/desired.h"
#include "reconciler/engine.h"
#include "reconciler/informer.h"
#include "reconciler/loop_status.h"
#include "reconciler/heap.h"
#include "specs/load.h"
#include "bench/bench_specs.h"
#include "bench/bench_util.h"
#include "bench/testdriver/td_daemons.h"
#include "specs/base/macro.h"

static const char CLUSTER_FMT[] =
        "apiVersion: vcm/v1\n"
        "kind: VirtualCluster\n"
        "metadata: {name: c%05zu, owner: ops@example.org}\n"
        "spec:\n"
        "  network: {subnet: 10.%zu.%zu.0/24}\n"
        "  frontend: {vcpus: 1, memory: 256MiB, disk: 64MiB}\n"
        "  nodes:\n"
        "    - {name: compute, count: 10, vcpus: 1, memory: 256MiB, disk: 64MiB}\n";

static vcm_repo *load(const char *site, size_t n) {
        return bench_load(site ? site : BENCH_TD_SITE, CLUSTER_FMT, n);
}

/* --daemons: the test driver in K private libvirtd (bench/testdriver/td_daemons.h), so that the
 * process RSS is vcm's alone, as the service's against real hosts. SIGINT/TERM/HUP stop them. */
static void on_signal(int sig) {
        fprintf(stderr, "signal %d: stopping the bench's libvirtd daemons\n", sig);
        td_daemons_stop("signal", stderr);
        _exit(128 + sig);
}

static void daemons_atexit(void) {
        td_daemons_stop("exit", stderr);
}

static int daemons_begin(size_t n, size_t k) {
        char why[512];
        if (!k)
                k = td_daemons_auto(n);
        if (td_daemons_check(n, k, why, sizeof(why)) < 0)
                return fprintf(stderr, "--daemons: %s\n", why), -1;
        signal(SIGPIPE, SIG_IGN);
        if (bench_signals_to_thread(on_signal) < 0)
                return -1;
        atexit(daemons_atexit);
        return td_daemons_start(k);
}

/* The domain of that name, on whichever connection has it. */
static virDomainPtr lookup_domain(virConnectPtr raw, const char *name) {
        if (raw)
                return virDomainLookupByName(raw, name);
        size_t k = 0;
        td_private *d = td_daemons_list(&k);
        for (size_t i = 0; i < k; i++) {
                virDomainPtr dom = virDomainLookupByName(d[i].conn, name);
                if (dom)
                        return dom;
        }
        return NULL;
}

static double rss_mib(void) {
        return status_mib("VmRSS");
}

/* vcm's peak RSS per phase of the passes (with --daemons): where the service's peak comes from. */
enum { PH_RELIST, PH_EVENT, PH_NOOP, PH_STATUS, PH_PLAN, PH__COUNT };
static const char *const phase_names[PH__COUNT] = { "full pass (relist)", "event pass",
                                                    "cached no-op", "status file", "cached plan" };
static double phase_peak[PH__COUNT];

static void phase_end(int ph) {
        double hwm = status_mib("VmHWM");
        if (hwm > phase_peak[ph])
                phase_peak[ph] = hwm;
        if (getenv("BENCH_HEAP")) {
                struct mallinfo2 mi = mallinfo2();
                fprintf(stderr,
                        "  [%s] peak %.1f MiB, RSS %.1f, malloc in use %.1f, free %.1f, "
                        "mmap %.1f\n",
                        phase_names[ph], hwm, status_mib("VmRSS"), mi.uordblks / 1048576.0,
                        mi.fordblks / 1048576.0, mi.hblkhd / 1048576.0);
        }
        reset_peak();
}

/* The loop hands freed memory back after a pass that relisted: timed, as it adds to that
 * pass's cost. */
static double release_max_ms;

static void release_heap(void) {
        double t0 = now_ms();
        vcm_heap_release();
        if (now_ms() - t0 > release_max_ms)
                release_max_ms = now_ms() - t0;
}

static size_t failed_steps(const vcm_pass *p) {
        size_t f = 0;
        for (size_t i = 0; p->step_results && i < p->n_steps; i++)
                f += p->step_results[i] < 0;
        return f;
}

/* Wait (up to timeout_ms) until the watch has something, then drain it: the number named. */
static size_t wait_events(vcm_informer *inf, int timeout_ms) {
        int fds[8];
        size_t n = vcm_informer_fds(inf, fds, 8);
        if (n == 0)
                return 0;
        struct pollfd p[8];
        for (size_t i = 0; i < n; i++)
                p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
        if (poll(p, n, timeout_ms) <= 0)
                return 0;
        return vcm_informer_drain(inf);
}

int main(int argc, char **argv) {
        size_t n = 1000, k_daemons = 0;
        int runs = 9, n_pos = 0;
        bool daemons = false;
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--daemons"))
                        daemons = true;
                else if (!strncmp(argv[i], "--daemons=", 10))
                        daemons = (k_daemons = strtoul(argv[i] + 10, NULL, 10)) > 0;
                else if (n_pos++ == 0)
                        n = strtoul(argv[i], NULL, 10);
                else
                        runs = atoi(argv[i]);
        }
        vcm_heap_tune(1); /* as the service (vcm_loop_run) */
        virSetErrorFunc(NULL, NULL);
        if (daemons && daemons_begin(n, k_daemons) < 0)
                return 1;
        virConnectPtr raw = daemons ? NULL : virConnectOpen("test:///default");
        if (!raw && !daemons)
                return 1;
        double rss_start = rss_mib();
        _cleanup_free_ char *site = daemons ? td_daemons_site() : NULL;
        vcm_repo *repo = load(site, n);
        vcm_provider_table t = { 0 };
        t.by_kind[VCM_KIND_DOMAIN] = &vcm_provider_libvirt;
        t.by_kind[VCM_KIND_VOLUME] = &vcm_provider_libvirt;
        t.by_kind[VCM_KIND_BRIDGE] = &vcm_provider_libvirt;
        t.by_kind[VCM_KIND_SEED] = &vcm_provider_libvirt;
        vcm_engine_opts o = { .parallel = 8, .retries = 1, .backoff_ms = -1 };

        double t0 = now_ms();
        vcm_pass *p = NULL;
        if (vcm_engine_run(repo, &t, &o, &p) < 0 || failed_steps(p)) {
                fprintf(stderr, "setup failed\n");
                return 1;
        }
        fprintf(stderr, "setup: %zu steps in %.0f ms\n", p->n_steps, now_ms() - t0);
        vcm_pass_free(p);

        double rss_setup = rss_mib();
        /* For profiling the passes alone: stop here until a profiler has attached
         * (BENCH_STOP_AFTER_SETUP=1; then `perf record -p PID` and `kill -CONT PID`). */
        if (getenv("BENCH_STOP_AFTER_SETUP")) {
                fprintf(stderr, "setup done, pid %d stopped\n", (int)getpid());
                raise(SIGSTOP);
        }
        reset_peak();
        vcm_informer *inf = vcm_informer_new();
        o.informer = inf;
        /* As the service runs its passes: with the cache and the seed digests of its specs. */
        vcm_seed_memo *seeds = vcm_seed_memo_new();
        o.seed_memo = seeds;
        double *full = calloc((size_t)runs, sizeof(double)), *full_cpu = calloc((size_t)runs, 8);
        double *ev = calloc((size_t)runs, sizeof(double)), *ev_cpu = calloc((size_t)runs, 8);
        double *noop = calloc((size_t)runs, sizeof(double)), *noop_cpu = calloc((size_t)runs, 8);
        double *plan = calloc((size_t)runs, sizeof(double)), *plan_cpu = calloc((size_t)runs, 8);
        double *stat = calloc((size_t)runs, sizeof(double));
        char state_dir[] = "/tmp/vcm-bench-informer-XXXXXX";
        if (!mkdtemp(state_dir))
                return 1;
        json_t *prev = NULL;
        size_t status_bytes = 0;
        size_t observed = 0, domains = 0, events_seen = 0, ev_rereads = 0, ev_relists = 0;

        for (int i = 0; i < runs; i++) {
                /* Full pass: relist everything. */
                vcm_informer_invalidate_all(inf);
                t0 = now_ms();
                double c0 = cpu_ms();
                if (vcm_engine_run(repo, &t, &o, &p) < 0 || p->n_steps || p->n_unreachable)
                        return fprintf(stderr, "full pass not a no-op\n"), 1;
                full[i] = now_ms() - t0;
                full_cpu[i] = cpu_ms() - c0;
                observed = vcm_resource_set_size(p->observed);
                domains = 0;
                for (size_t k = 0; k < observed; k++)
                        domains += vcm_resource_set_at(p->observed, k)->kind == VCM_KIND_DOMAIN;
                vcm_pass_free(p);
                release_heap(); /* as the loop after a pass that relisted */
                phase_end(PH_RELIST);
                /* Let the events of earlier passes' own steps arrive and be re-read. */
                while (wait_events(inf, 300) > 0)
                        ;

                /* Event pass: one domain destroyed behind vcm's back. */
                char name[64];
                snprintf(name, sizeof(name), "c%05zu-compute-%d", (size_t)i % n, i % 10);
                virDomainPtr d = lookup_domain(raw, name);
                if (!d || virDomainDestroy(d) < 0)
                        return fprintf(stderr, "cannot destroy %s\n", name), 1;
                virDomainFree(d);
                size_t got = wait_events(inf, 5000);
                events_seen += got;
                vcm_informer_stats before = vcm_informer_get_stats(inf);
                t0 = now_ms();
                c0 = cpu_ms();
                if (vcm_engine_run(repo, &t, &o, &p) < 0)
                        return 1;
                ev[i] = now_ms() - t0;
                ev_cpu[i] = cpu_ms() - c0;
                vcm_informer_stats after = vcm_informer_get_stats(inf);
                ev_rereads += after.rereads - before.rereads;
                ev_relists += after.relists - before.relists;
                if (got == 0 || p->n_steps != 1 || failed_steps(p)) {
                        fprintf(stderr, "event pass: %zu events, %zu steps (want 1)\n", got,
                                p->n_steps);
                        return 1;
                }
                vcm_pass_free(p);
                phase_end(PH_EVENT);
                while (wait_events(inf, 300) > 0)
                        ;
                /* Re-read what the step changed, then a pass with nothing new. */
                if (vcm_engine_run(repo, &t, &o, &p) < 0 || p->n_steps)
                        return fprintf(stderr, "settle pass not a no-op\n"), 1;
                vcm_pass_free(p);
                before = vcm_informer_get_stats(inf);
                t0 = now_ms();
                c0 = cpu_ms();
                if (vcm_engine_run(repo, &t, &o, &p) < 0 || p->n_steps)
                        return 1;
                noop[i] = now_ms() - t0;
                noop_cpu[i] = cpu_ms() - c0;
                after = vcm_informer_get_stats(inf);
                if (after.rereads != before.rereads || after.relists != before.relists)
                        return fprintf(stderr, "cached pass read a host\n"), 1;
                phase_end(PH_NOOP);
                t0 = now_ms();
                vcm_status_info info = { .source = "bench", .informer = &after };
                json_t *doc = vcm_status_build(p, repo, &info, prev, time(NULL));
                if (vcm_status_write(state_dir, doc) < 0)
                        return fprintf(stderr, "cannot write the status\n"), 1;
                stat[i] = now_ms() - t0;
                json_decref(prev);
                prev = vcm_status_keep(doc); /* what the loop keeps */
                json_decref(doc);
                vcm_pass_free(p);
                phase_end(PH_STATUS);
                /* The plan of the same, from the cache, once the no-op pass is freed (the service
                 * holds one pass at a time). */
                vcm_engine_opts po = o;
                size_t plan_reads = vcm_informer_get_stats(inf).rereads;
                po.plan_only = true;
                vcm_pass *pp = NULL;
                t0 = now_ms();
                c0 = cpu_ms();
                if (vcm_engine_run(repo, &t, &po, &pp) < 0 || pp->n_steps)
                        return fprintf(stderr, "cached plan not empty\n"), 1;
                plan[i] = now_ms() - t0;
                plan_cpu[i] = cpu_ms() - c0;
                vcm_pass_free(pp);
                phase_end(PH_PLAN);
                if (vcm_informer_get_stats(inf).rereads != plan_reads)
                        return fprintf(stderr, "cached plan read a host\n"), 1;
        }
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("%zu clusters: %zu resources observed, %zu domains; %d runs each\n", n, observed,
               domains, runs);
        printf("  full pass (relist)     median %8.1f ms wall, %8.1f ms CPU\n",
               median(full, runs), median(full_cpu, runs));
        printf("  event pass (1 domain)  median %8.1f ms wall, %8.1f ms CPU; per pass: %.1f "
               "events drained, %.1f re-reads, %.1f relists, 1 step\n",
               median(ev, runs), median(ev_cpu, runs), (double)events_seen / runs,
               (double)ev_rereads / runs, (double)ev_relists / runs);
        printf("  cached no-op pass      median %8.1f ms wall, %8.1f ms CPU (no host read)\n",
               median(noop, runs), median(noop_cpu, runs));
        printf("  cached plan-only pass  median %8.1f ms wall, %8.1f ms CPU (no host read)\n",
               median(plan, runs), median(plan_cpu, runs));
        char path[96];
        snprintf(path, sizeof(path), "%s/status.json", state_dir);
        FILE *f = fopen(path, "r");
        if (f) {
                fseek(f, 0, SEEK_END);
                status_bytes = (size_t)ftell(f);
                fclose(f);
        }
        printf("  heap release after a relist: at most %.1f ms\n", release_max_ms);
        printf("  status file            median %8.1f ms wall (build + write, %zu KiB)\n",
               median(stat, runs), status_bytes / 1024);
        unlink(path);
        rmdir(state_dir);
        json_decref(prev);
        if (daemons) {
                double overall = 0;
                for (int ph = 0; ph < PH__COUNT; ph++)
                        overall = phase_peak[ph] > overall ? phase_peak[ph] : overall;
                size_t k_used = 0;
                td_daemons_list(&k_used);
                printf("  vcm's RSS (test driver in %zu private libvirtd): %.1f MiB at start, %.1f "
                       "after setup, peak %.1f over the passes above (relists included), %.1f "
                       "at the end\n",
                       k_used, rss_start, rss_setup, overall, rss_mib());
                printf("  vcm's peak RSS by phase:");
                for (int ph = 0; ph < PH__COUNT; ph++)
                        printf("%s %s %.1f MiB", ph ? "," : "", phase_names[ph], phase_peak[ph]);
                printf("\n");
        } else {
                printf("  process peak RSS %.1f MiB (test driver state included)\n",
                       ru.ru_maxrss / 1024.0);
        }
        size_t hits, rendered;
        vcm_seed_memo_counts(seeds, &hits, &rendered);
        printf("  seed digests           %zu from the memo, %zu rendered (the first pass's)\n",
               hits, rendered);
        vcm_seed_memo_free(seeds);
        vcm_informer_free(inf);
        vcm_repo_free(repo);
        if (raw)
                virConnectClose(raw);
        return 0;
}
