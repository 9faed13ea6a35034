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
 *
 * --daemon: the test driver is served by the running libvirtd (test+unix:///default, another
 * process, as a real host is), so the process RSS is vcm's alone; libvirtd's RSS and CPU time
 * are printed next to it. The bench's objects are removed from libvirtd at the end, on failure
 * and on SIGINT/SIGTERM/SIGHUP (td_daemon.h); --daemon --cleanup only removes them (what an
 * interrupted run may have left while another client kept the driver's state alive).
 *
 * --daemons[=K]: K private libvirtd daemons of the bench's own (td_daemons.h), one per host of
 * site "benchk" (h1..hK), so that N clusters spread over K pools each small enough for one RPC
 * listing; K from N when not given. vcm's RSS is this process's; the daemons' summed RSS and
 * CPU are printed next to it. "Observe alone" opens and observes every host as the engine does
 * (vcm_conns_open_observe, `parallel` hosts at a time). The daemons are stopped and their dirs
 * removed at the end, on failure and on SIGINT/SIGTERM/SIGHUP.
 * Usage: bench_testdriver N [RUNS] [--daemon [--cleanup] | --daemons[=K]] */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
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
#include "reconciler/conns.h"
#include "reconciler/engine.h"
#include "reconciler/heap.h"
#include "specs/load.h"
#include "bench/bench_specs.h"
#include "bench/bench_util.h"
#include "td_daemon.h"
#include "td_daemons.h"

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

static vcm_repo *load(const char *site, size_t n) {
        return bench_load(site, CLUSTER_FMT, n);
}

/* Daemon mode: the raw connection and whether the bench's objects were removed, for the exit
 * paths (atexit on failure, the signal thread). */
static virConnectPtr daemon_conn;
static bool daemon_cleaned;
static pthread_mutex_t daemon_lock = PTHREAD_MUTEX_INITIALIZER;

/* Removes the bench's objects from libvirtd once; prints what it removed and what is left of
 * the site. 0 when nothing of it is left. `attempts` > 1: again while something is left (steps
 * still running when a signal came may create objects during the first). */
static int daemon_cleanup(const char *why, FILE *out, int attempts) {
        pthread_mutex_lock(&daemon_lock);
        int r = 0;
        if (!daemon_cleaned) {
                td_counts rm, left, all;
                double t0 = now_ms(), c0 = cpu_ms();
                r = td_cleanup(daemon_conn, TD_DAEMON_SITE, TD_DAEMON_POOL_PATH, &rm);
                while (--attempts > 0 && td_count(daemon_conn, TD_DAEMON_SITE,
                                                  TD_DAEMON_POOL_PATH, &left, &all) == 0 &&
                       (left.domains || left.networks || left.volumes || left.pool)) {
                        td_counts more;
                        r = td_cleanup(daemon_conn, TD_DAEMON_SITE, TD_DAEMON_POOL_PATH, &more);
                        rm.domains += more.domains;
                        rm.networks += more.networks;
                        rm.volumes += more.volumes;
                        rm.pool |= more.pool;
                }
                double t = now_ms() - t0, c = cpu_ms() - c0;
                if (td_count(daemon_conn, TD_DAEMON_SITE, TD_DAEMON_POOL_PATH, &left, &all) < 0)
                        r = -EIO;
                else
                        fprintf(out,
                                "  cleanup (%s): removed %zu domains, %zu networks, %zu volumes%s "
                                "of site " TD_DAEMON_SITE " in %.0f ms (%.0f ms CPU); left of it: "
                                "%zu domains, %zu networks, %zu volumes, pool %s; the test driver "
                                "now holds %zu domains, %zu networks, %d pools\n",
                                why, rm.domains, rm.networks, rm.volumes,
                                rm.pool ? " and its pool" : "", t, c, left.domains,
                                left.networks, left.volumes, left.pool ? "present" : "absent",
                                all.domains, all.networks, all.pool);
                if (r == 0 && (left.domains || left.networks || left.volumes || left.pool))
                        r = -EBUSY;
                if (r < 0)
                        fprintf(stderr, "cleanup: the bench's objects were NOT all removed "
                                        "from libvirtd; once this process is gone: "
                                        "bench_testdriver --daemon --cleanup\n");
                daemon_cleaned = true;
        }
        pthread_mutex_unlock(&daemon_lock);
        return r;
}

static void daemon_atexit(void) {
        daemon_cleanup("exit", stderr, 1);
}

/* SIGINT/SIGTERM/SIGHUP are blocked in every thread and taken here: libvirt calls cannot run in
 * a signal handler. Steps still running may create a few objects after the cleanup listed; they
 * vanish with the connection unless another client holds the driver's state (then
 * `--daemon --cleanup`, which run.sh runs after a failed run). */
static bool private_mode;

static void on_signal(int sig) {
        if (private_mode) {
                fprintf(stderr, "signal %d: stopping the bench's libvirtd daemons\n", sig);
                td_daemons_stop("signal", stderr);
                _exit(128 + sig);
        }
        fprintf(stderr, "signal %d: removing the bench's objects from libvirtd\n", sig);
        daemon_cleanup("signal", stderr, 3);
        _exit(128 + sig);
}

static int signals_begin(void) {
        return bench_signals_to_thread(on_signal) < 0 ? -EAGAIN : 0;
}

static void private_atexit(void) {
        td_daemons_stop("exit", stderr);
}

/* The daemons' RSS and CPU (private mode), or libvirtd's (pid `lvd`, daemon mode). */
static double ctx_rss(int lvd) {
        return private_mode ? td_daemons_rss_mib() : td_pid_rss_mib(lvd);
}

static double ctx_cpu(int lvd) {
        return private_mode ? td_daemons_cpu_ms() : td_pid_cpu_ms(lvd);
}

/* Libvirt volumes per host (data volumes and seeds with their marker each, the pool marker):
 * the figure that must stay within one RPC listing. */
static void volumes_per_host(const vcm_resource_set *obs, size_t k, size_t *ret_min,
                             size_t *ret_max) {
        size_t *per = calloc(k, sizeof(*per)), lo = SIZE_MAX, hi = 0;
        for (size_t i = 0; per && i < vcm_resource_set_size(obs); i++) {
                const vcm_resource *r = vcm_resource_set_at(obs, i);
                size_t h = r->host ? strtoul(r->host + 1, NULL, 10) : 0;
                if ((r->kind == VCM_KIND_VOLUME || r->kind == VCM_KIND_SEED) && h >= 1 && h <= k)
                        per[h - 1] += 2;
        }
        for (size_t h = 0; per && h < k; h++) {
                lo = per[h] + 1 < lo ? per[h] + 1 : lo;
                hi = per[h] + 1 > hi ? per[h] + 1 : hi;
        }
        free(per);
        *ret_min = lo == SIZE_MAX ? 0 : lo;
        *ret_max = hi;
}

static void daemon_quiet(void *userdata, virErrorPtr e) {
}

static int daemon_begin(virConnectPtr raw) {
        daemon_conn = raw;
        /* The cleanup's lookups fail on purpose (no metadata, no pool): not worth printing. */
        virSetErrorFunc(NULL, daemon_quiet);
        /* Leftovers of an earlier run that was stopped while another client held the state. */
        td_counts s, all;
        if (td_count(raw, TD_DAEMON_SITE, TD_DAEMON_POOL_PATH, &s, &all) < 0)
                return -EIO;
        if (s.domains || s.networks || s.volumes || s.pool) {
                if (daemon_cleanup("leftovers of an earlier run", stderr, 1) < 0)
                        return -EBUSY;
                daemon_cleaned = false;
        }
        if (signals_begin() < 0)
                return -EAGAIN;
        atexit(daemon_atexit);
        return 0;
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
        size_t n = 1000;
        int runs = 0, n_pos = 0;
        bool daemon = false, cleanup_only = false;
        size_t k = 0;
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--daemon"))
                        daemon = true;
                else if (!strcmp(argv[i], "--daemons"))
                        private_mode = true;
                else if (!strncmp(argv[i], "--daemons=", 10)) {
                        private_mode = true;
                        k = strtoul(argv[i] + 10, NULL, 10);
                        if (!k) {
                                fprintf(stderr, "--daemons=K: K must be at least 1\n");
                                return 2;
                        }
                }
                else if (!strcmp(argv[i], "--cleanup"))
                        cleanup_only = true;
                else if (n_pos++ == 0)
                        n = strtoul(argv[i], NULL, 10);
                else
                        runs = atoi(argv[i]);
        }
        if (runs <= 0)
                runs = n >= 5000 ? 5 : 9;
        vcm_heap_tune(2); /* as vcm's one-shot commands */
        if (cleanup_only && !daemon) {
                fprintf(stderr, "--cleanup goes with --daemon\n");
                return 2;
        }
        if (daemon && !cleanup_only && n > TD_DAEMON_MAX_CLUSTERS) {
                fprintf(stderr, "--daemon: at most %d clusters: libvirt's RPC lists at most 16384 "
                                "volumes per call and the provider lists its pool in one call, "
                                "so a pool of %zu volumes cannot be observed through libvirtd\n",
                        TD_DAEMON_MAX_CLUSTERS, 44 * n + 1);
                return 2;
        }
        if (private_mode && (daemon || cleanup_only)) {
                fprintf(stderr, "--daemons goes alone (not with --daemon or --cleanup)\n");
                return 2;
        }
        if (private_mode) {
                char why[512];
                if (!k)
                        k = td_daemons_auto(n);
                if (td_daemons_check(n, k, why, sizeof(why)) < 0) {
                        fprintf(stderr, "--daemons: %s\n", why);
                        return 2;
                }
        }
        virSetErrorFunc(NULL, NULL);

        /* Private mode: signals to the thread before the daemons exist, and any exit stops
         * them. The raw connections (one per daemon, held for the run) are td_daemons'. */
        if (private_mode) {
                /* Calls in flight when the daemons are stopped (signal) write to closed
                 * sockets: an error, not a SIGPIPE that ends the bench before its cleanup. */
                signal(SIGPIPE, SIG_IGN);
                if (signals_begin() < 0)
                        return 1;
                atexit(private_atexit);
                if (td_daemons_start(k) < 0)
                        return 1;
        }
        /* The default test driver's state lives while a connection to it is open, in this
         * process as in libvirtd (where it is shared by every client of the URI). */
        const char *uri = daemon ? TD_DAEMON_URI : "test:///default";
        virConnectPtr raw = private_mode ? NULL : virConnectOpen(uri);
        if (!raw && !private_mode) {
                fprintf(stderr, "cannot open %s%s\n", uri,
                        daemon ? " (is libvirtd running? scripts/libvirtd-start.sh)" : "");
                return 1;
        }
        if (daemon && daemon_begin(raw) < 0) {
                fprintf(stderr, "daemon mode: cannot set up (see above)\n");
                return 1;
        }
        if (cleanup_only) {
                int r = daemon_cleanup("--cleanup", stdout, 1);
                virConnectClose(raw);
                return r < 0;
        }
        int lvd = daemon ? td_libvirtd_pid() : -1;
        if (daemon && lvd < 0)
                fprintf(stderr, "libvirtd's pid not found: its RSS is not printed\n");
        char *site = daemon ? td_daemon_site(BENCH_TD_SITE)
                            : private_mode ? td_daemons_site() : NULL;
        double t0 = now_ms();
        vcm_repo *repo = load(site ? site : BENCH_TD_SITE, n);
        double t_load = now_ms() - t0;
        double rss_start = status_mib("VmRSS");
        double lvd_rss_start = ctx_rss(lvd), lvd_cpu0 = ctx_cpu(lvd);
        double setup_cpu0 = cpu_ms();

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
        double t_setup = now_ms() - t0, t_setup_cpu = cpu_ms() - setup_cpu0;
        double lvd_cpu_setup = ctx_cpu(lvd) - lvd_cpu0;
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
        /* BENCH_TRIM_AFTER_SETUP=1: give the heap the setup apply freed back to the kernel
         * (every arena), so that the measured phases start near where a fresh `vcm apply`
         * process would; printed, since it lowers the figures below. */
        double rss_untrimmed = -1;
        if (getenv("BENCH_TRIM_AFTER_SETUP")) {
                rss_untrimmed = status_mib("VmRSS");
                malloc_trim(0);
        }
        double rss_setup = status_mib("VmRSS");
        double lvd_rss_setup = ctx_rss(lvd);
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
        double lvd_cpu_noop = ctx_cpu(lvd);
        size_t vols_min = 0, vols_max = 0;
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
                if (private_mode && i == 0)
                        volumes_per_host(p->observed, k, &vols_min, &vols_max);
                ready = ready_count(p, &pending);
                vcm_pass_free(p);
        }
        double rss_noop_peak = status_mib("VmHWM");
        lvd_cpu_noop = (ctx_cpu(lvd) - lvd_cpu_noop) / runs;
        /* The split: the provider's observation alone (open, observe, close of the one host:
         * libvirt calls and the provider's parsing), as the engine does it in each pass; the
         * rest of a pass is vcm's own (desired, diff, plan, statuses). */
        double *obs = calloc((size_t)runs, sizeof(double));
        double *obs_cpu = calloc((size_t)runs, sizeof(double));
        for (int i = 0; private_mode && i < runs; i++) {
                /* Every host, `parallel` at a time, as the engine observes (its own function);
                 * without merging the per-host sets into one. */
                vcm_conns conns = { 0 };
                t0 = now_ms();
                double c0 = cpu_ms();
                vcm_conns_open_observe(&conns, repo->site, &t, o.parallel);
                for (size_t c = 0; c < conns.n; c++)
                        if (conns.items[c].open_result < 0 || conns.items[c].observe_result < 0) {
                                fprintf(stderr, "observe: %s\n", conns.items[c].err.message);
                                return 1;
                        }
                vcm_conns_close(&conns);
                obs[i] = now_ms() - t0;
                obs_cpu[i] = cpu_ms() - c0;
        }
        for (int i = 0; !private_mode && i < runs; i++) {
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
        double lvd_cpu_plan = ctx_cpu(lvd);
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
        lvd_cpu_plan = (ctx_cpu(lvd) - lvd_cpu_plan) / runs;
        double lvd_rss_end = ctx_rss(lvd);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);

        printf("N=%zu clusters x 10 nodes: %zu resources observed, %zu Ready, %zu Pending "
               "(network ids 1..4094); loaded in %.0f ms, setup apply %zu steps in %.0f ms\n",
               n, resources, ready, pending, t_load, created, t_setup);
        printf("  no-op pass  median %8.1f ms wall, %8.1f ms CPU (%d runs)\n", median(noop, runs),
               median(noop_cpu, runs), runs);
        printf("  plan only   median %8.1f ms wall, %8.1f ms CPU (%d runs)\n", median(plan, runs),
               median(plan_cpu, runs), runs);
        double obs_med = median(obs, runs), obs_cpu_med = median(obs_cpu, runs);
        printf("  observe alone (provider: libvirt calls, parsing%s) median %8.1f ms wall, %8.1f ms "
               "CPU\n", private_mode ? "; all hosts, 8 at a time, as the engine" : "", obs_med,
               obs_cpu_med);
        if (private_mode)
                printf("  vcm's RSS (this process; the test drivers are in %zu libvirtd) before the "
                       "first pass %.1f MiB, after setup %.1f MiB (+%.1f)\n",
                       k, rss_start, rss_setup, rss_setup - rss_start);
        else if (!daemon)
                printf("  RSS before the first pass %.1f MiB, after setup %.1f MiB "
                       "(test driver state +%.1f)\n", rss_start, rss_setup, rss_setup - rss_start);
        else
                printf("  vcm's RSS (this process; the test driver is in libvirtd) before the first "
                       "pass %.1f MiB, after setup %.1f MiB (+%.1f)\n",
                       rss_start, rss_setup, rss_setup - rss_start);
        if (rss_untrimmed >= 0)
                printf("  BENCH_TRIM_AFTER_SETUP: malloc_trim(0) after setup took RSS from %.1f "
                       "to %.1f MiB\n", rss_untrimmed, rss_setup);
        printf("  peak RSS in no-op phase %.1f MiB (+%.1f over its start), plan phase %.1f MiB "
               "(+%.1f); process lifetime peak %.1f MiB\n",
               rss_noop_peak, rss_noop_peak - rss_noop_base, rss_plan_peak,
               rss_plan_peak - rss_plan_base, ru.ru_maxrss / 1024.0);
        if (private_mode) {
                printf("  mode: daemons, %zu private libvirtd (test+unix:///default?socket=...), "
                       "site benchk, hosts h1..h%zu; libvirt volumes per host %zu..%zu (limit %d "
                       "per listing); setup CPU: vcm %.0f ms, daemons %.0f ms\n",
                       k, k, vols_min, vols_max, TD_RPC_LIST_MAX, t_setup_cpu, lvd_cpu_setup);
                printf("  daemons' RSS (sum of %zu, context) before setup %.1f MiB, after setup "
                       "%.1f MiB (+%.1f), after the measured phases %.1f MiB\n",
                       k, lvd_rss_start, lvd_rss_setup, lvd_rss_setup - lvd_rss_start,
                       lvd_rss_end);
                printf("  daemons' CPU per pass (sum, mean): no-op %.1f ms, plan %.1f ms\n",
                       lvd_cpu_noop, lvd_cpu_plan);
        }
        if (daemon) {
                printf("  mode: daemon, %s served by libvirtd (pid %d), site " TD_DAEMON_SITE
                       "; setup CPU: vcm %.0f ms, libvirtd %.0f ms\n",
                       TD_DAEMON_URI, lvd, t_setup_cpu, lvd_cpu_setup);
                printf("  libvirtd RSS (shared daemon, context) before setup %.1f MiB, after setup "
                       "%.1f MiB (+%.1f), after the measured phases %.1f MiB\n",
                       lvd_rss_start, lvd_rss_setup, lvd_rss_setup - lvd_rss_start, lvd_rss_end);
                printf("  libvirtd CPU per pass (mean; includes any other client's work): no-op "
                       "%.1f ms, plan %.1f ms\n", lvd_cpu_noop, lvd_cpu_plan);
        }
        /* One line per size for run.sh's table; daemon mode adds CPU medians and libvirtd's RSS. */
        if (private_mode)
                printf("ROW %zu %zu %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %zu %zu %.1f %.1f "
                       "%.1f %.1f %.1f %.1f\n",
                       n, resources, median(noop, runs), median(plan, runs), rss_start,
                       rss_setup, rss_noop_peak, rss_noop_peak - rss_start, median(noop_cpu, runs),
                       median(plan_cpu, runs), k, vols_max, lvd_rss_setup, lvd_cpu_noop, obs_med,
                       obs_cpu_med, rss_plan_peak, t_setup / 1000.0);
        else if (!daemon)
                printf("ROW %zu %zu %.1f %.1f %.1f %.1f %.1f %.1f\n", n, resources,
                       median(noop, runs), median(plan, runs), rss_start, rss_setup,
                       rss_noop_peak, rss_noop_peak - rss_start);
        else
                printf("ROW %zu %zu %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f\n", n,
                       resources, median(noop, runs), median(plan, runs), rss_start, rss_setup,
                       rss_noop_peak, rss_noop_peak - rss_start, median(noop_cpu, runs),
                       median(plan_cpu, runs), lvd_rss_start, lvd_rss_setup);
        fflush(stdout);
        free(noop);
        free(noop_cpu);
        free(plan);
        free(plan_cpu);
        free(obs);
        free(obs_cpu);
        vcm_repo_free(repo);
        free(site);
        int r = daemon ? daemon_cleanup("end of run", stdout, 1) : 0;
        if (daemon)
                printf("  libvirtd RSS after the cleanup %.1f MiB\n", td_pid_rss_mib(lvd));
        if (private_mode)
                r = td_daemons_stop("end of run", stdout);
        else
                virConnectClose(raw);
        return r < 0;
}
