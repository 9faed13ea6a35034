/* Benchmark: the admission check (reconciler/capacity.h) of N reservations over a year, each a
 * window of 4..26 weeks with a weekly recurring slot of 2..3 hours in one of four time zones,
 * on a site of 2 gateways, 20 vm-servers and a storage host whose 96 TiB volume group is
 * counted too. The repository is written as YAML and loaded as
 * `vcm validate` would; the check itself is timed over several runs.
 * Usage: bench_admission [N_CLUSTERS] [RUNS] [--keep]  (--keep leaves the repository and prints
 * its path, for timing `vcm validate` on it). */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reconciler/capacity.h"
#include "specs/load.h"

static int write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -errno;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static unsigned rnd(unsigned n) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (unsigned)(rng % n);
}

static int generate(const char *dir, int n) {
        char p[512], buf[4096];
        size_t len = 0;
        len += snprintf(buf + len, sizeof(buf) - len,
                        "apiVersion: vcm/v1\nkind: Site\nmetadata: {name: bench}\nspec:\n"
                        "  network: {backend: vlan, vlanRange: {from: 100, to: 3999}}\n"
                        "  storage: {backend: lvm-iscsi}\n  hosts:\n");
        for (int i = 1; i <= 2; i++)
                len += snprintf(buf + len, sizeof(buf) - len,
                                "    - {name: gw%d, roles: [gateway], libvirt: \"qemu:///system\", "
                                "capacity: {vcpus: 64, memory: 256GiB}, trunk: eth1, "
                                "external: br-ext}\n", i);
        for (int i = 1; i <= 20; i++)
                len += snprintf(buf + len, sizeof(buf) - len,
                                "    - {name: vm%d, roles: [vm-server], libvirt: \"qemu:///system\", "
                                "capacity: {vcpus: 64, memory: 256GiB}, trunk: eth1}\n", i);
        snprintf(buf + len, sizeof(buf) - len,
                 "    - {name: st1, roles: [storage], volumeGroup: vcm, portal: \"192.0.2.10:3260\", "
                 "capacity: {storage: 96TiB}}\n"
                 "  images:\n    frontend: {volume: img-frontend}\n    compute: {volume: img-compute}\n");
        snprintf(p, sizeof(p), "%s/site.yaml", dir);
        if (write_file(p, buf) < 0)
                return -1;
        snprintf(p, sizeof(p), "%s/clusters", dir);
        mkdir(p, 0700);
        snprintf(p, sizeof(p), "%s/rolls", dir);
        mkdir(p, 0700);
        snprintf(p, sizeof(p), "%s/rolls/base.yaml", dir);
        if (write_file(p, "apiVersion: vcm/v1\nkind: Roll\nmetadata: {name: base}\nspec:\n"
                          "  appliances:\n    frontend: {packages: [nfs-kernel-server]}\n"
                          "    compute: {packages: [nfs-common]}\n") < 0)
                return -1;
        static const char *const zones[] = { "Europe/Berlin", "Asia/Tokyo", "America/New_York",
                                             "UTC" };
        static const char *const days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
        const int64_t jan4 = INT64_C(1798934400); /* 2027-01-04T00:00:00Z, a Monday */
        for (int i = 0; i < n; i++) {
                int64_t start = jan4 + (int64_t)rnd(46) * 7 * 86400 + rnd(24) * 3600;
                int64_t end = start + (int64_t)(4 + rnd(23)) * 7 * 86400;
                char s[32], e[32];
                time_t ts = (time_t)start, te = (time_t)end;
                struct tm tm;
                strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&ts, &tm));
                strftime(e, sizeof(e), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&te, &tm));
                unsigned from = 8 + rnd(10), hours = 2 + rnd(2);
                snprintf(buf, sizeof(buf),
                         "apiVersion: vcm/v1\nkind: VirtualCluster\n"
                         "metadata: {name: res-%04d, owner: user%d@example.org}\n"
                         "spec:\n"
                         "  window:\n    start: %s\n    end: %s\n"
                         "    recurring:\n"
                         "      - {days: [%s], from: \"%02u:00\", to: \"%02u:00\", timezone: %s}\n"
                         "  rolls: [base]\n"
                         "  sshKeys:\n"
                         "    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNNu47+uaHH6gX+cMEzABKA20i60w5fpo8EkIHUbr/B u%d@laptop\n"
                         "  network: {vlan: auto, subnet: 10.%d.%d.0/24}\n"
                         "  frontend: {vcpus: 2, memory: 4GiB, disk: 40GiB}\n"
                         "  nodes:\n"
                         "    - {name: compute, count: %u, vcpus: 2, memory: %uGiB, disk: 20GiB}\n",
                         i, i, s, e, days[rnd(7)], from, from + hours, zones[rnd(4)], i, i / 256,
                         i % 256, 2 + rnd(15), 2 + 2 * rnd(3));
                snprintf(p, sizeof(p), "%s/clusters/res-%04d.yaml", dir, i);
                if (write_file(p, buf) < 0)
                        return -1;
        }
        return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p);
}

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int dbl_cmp(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
        int n = argc > 1 ? atoi(argv[1]) : 1000, runs = argc > 2 ? atoi(argv[2]) : 5;
        bool keep = argc > 3 && !strcmp(argv[3], "--keep");
        if (n < 1 || n > 60000 || runs < 1 || runs > 100) {
                fprintf(stderr, "usage: bench_admission [N_CLUSTERS (1..60000)] [RUNS] [--keep]\n");
                return 64;
        }
        char dir[] = "/tmp/vcm-bench-admission-XXXXXX";
        if (!mkdtemp(dir) || generate(dir, n) < 0) {
                fprintf(stderr, "cannot write the repository in %s\n", dir);
                return 1;
        }
        vcm_diags d = {};
        vcm_repo *repo = NULL;
        double t0 = now_ms();
        int r = vcm_load_dir(dir, &d, &repo);
        if (r == 0)
                vcm_validate_repo(repo, &d);
        double load_ms = now_ms() - t0;
        if (r < 0 || d.n_errors > 0 || repo->n_clusters != (size_t)n) {
                vcm_diags_sort(&d);
                vcm_diags_print(&d, stderr);
                fprintf(stderr, "load failed: %d, %zu errors\n", r, d.n_errors);
                return 1;
        }
        const int64_t from = INT64_C(1798761600), to = INT64_C(1830297600); /* 2027 */
        double *ms = calloc((size_t)runs, sizeof(*ms));
        size_t spans = 0, intervals = 0, conflicts = 0;
        for (int i = 0; i < runs; i++) {
                vcm_capacity_report *rep = NULL;
                t0 = now_ms();
                r = vcm_capacity_check(repo, from, to, NULL, &rep);
                ms[i] = now_ms() - t0;
                if (r < 0) {
                        fprintf(stderr, "check failed: %d\n", r);
                        return 1;
                }
                spans = 0;
                for (size_t c = 0; c < rep->n_clusters; c++)
                        spans += rep->n_spans[c];
                intervals = rep->n_intervals;
                conflicts = rep->n_conflicts;
                vcm_capacity_report_free(rep);
        }
        qsort(ms, (size_t)runs, sizeof(*ms), dbl_cmp);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("admission check: %d reservations over 2027, weekly slots in 4 zones, 22 hosts\n", n);
        printf("  spans %zu, intervals placed %zu (others repeated a checked set), conflicts %zu\n",
               spans, intervals, conflicts);
        printf("  check: median %.1f ms, min %.1f ms, max %.1f ms over %d runs\n",
               ms[runs / 2], ms[0], ms[runs - 1], runs);
        printf("  load + validate of the files: %.1f ms; peak RSS %ld MiB\n", load_ms,
               ru.ru_maxrss / 1024);
        free(ms);
        vcm_diags_clear(&d);
        vcm_repo_free(repo);
        if (keep)
                printf("  repository kept in %s\n", dir);
        else
                nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}
