/* Benchmark: generate a repository of N cluster files (+ site + Rolls) in a temporary directory,
 * then time vcm_load_dir + vcm_validate_repo over several runs. Prints median, min, max and
 * peak RSS. Usage: bench_load [N_CLUSTERS] [RUNS] */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "specs/load.h"

static const char site[] =
        "apiVersion: vcm/v1\nkind: Site\nmetadata: {name: bench}\nspec:\n"
        "  network: {backend: vlan, vlanRange: {from: 100, to: 3999}}\n"
        "  storage: {backend: lvm-iscsi}\n"
        "  hosts:\n"
        "    - name: gw1\n      roles: [gateway, vm-server]\n      libvirt: qemu+ssh://root@gw1/system\n"
        "      agent: [ssh, root@gw1, vcm, agent]\n      capacity: {vcpus: 64, memory: 256GiB}\n"
        "      trunk: eth1\n      external: br-ext\n"
        "    - name: vm1\n      roles: [vm-server]\n      libvirt: qemu+ssh://root@vm1/system\n"
        "      capacity: {vcpus: 64, memory: 256GiB}\n      trunk: eth1\n"
        "    - name: st1\n      roles: [storage]\n      volumeGroup: vcm\n      portal: 192.0.2.10:3260\n"
        "  images:\n    frontend: {volume: img-frontend}\n    compute: {volume: img-compute}\n"
        "    gpu: {file: /srv/img/gpu.qcow2}\n";

static const char *const rolls[] = { "base", "hpc", "ganglia" };

static int write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -errno;
}

static int generate(const char *dir, int n) {
        char p[512], buf[4096];
        snprintf(p, sizeof(p), "%s/site.yaml", dir);
        if (write_file(p, site) < 0)
                return -1;
        snprintf(p, sizeof(p), "%s/clusters", dir);
        mkdir(p, 0700);
        snprintf(p, sizeof(p), "%s/rolls", dir);
        mkdir(p, 0700);
        for (size_t i = 0; i < 3; i++) {
                snprintf(buf, sizeof(buf),
                         "apiVersion: vcm/v1\nkind: Roll\nmetadata: {name: %s}\nspec:\n  appliances:\n"
                         "    frontend: {packages: [%s-server], runcmd: [\"systemctl enable %s\"]}\n"
                         "    compute:\n      packages: [%s-client]\n"
                         "      files:\n        - {path: /etc/%s.conf, content: \"on\\n\", mode: \"0644\"}\n"
                         "    gpu: {packages: [cuda]}\n",
                         rolls[i], rolls[i], rolls[i], rolls[i], rolls[i]);
                snprintf(p, sizeof(p), "%s/rolls/%s.yaml", dir, rolls[i]);
                if (write_file(p, buf) < 0)
                        return -1;
        }
        for (int i = 0; i < n; i++) {
                char vlan[16];
                if (i % 2)
                        snprintf(vlan, sizeof(vlan), "%d", 100 + i);
                else
                        snprintf(vlan, sizeof(vlan), "auto");
                snprintf(buf, sizeof(buf),
                         "apiVersion: vcm/v1\n"
                         "kind: VirtualCluster\n"
                         "metadata:\n  name: cluster-%04d\n  owner: user%d@example.org\n"
                         "spec:\n"
                         "  window:\n"
                         "    start: 2026-12-01T09:00:00+09:00\n    end: 2027-03-20T18:00:00+09:00\n"
                         "    recurring:\n"
                         "      - {days: [mon, wed], from: \"09:00\", to: \"12:00\", timezone: Asia/Tokyo}\n"
                         "      - {days: [fri], from: \"13:00\", to: \"24:00\", timezone: Europe/Paris}\n"
                         "  onExpire: %s\n  suspend: false\n  rolls: [base, hpc, ganglia]\n"
                         "  sshKeys:\n"
                         "    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNNu47+uaHH6gX+cMEzABKA20i60w5fpo8EkIHUbr/B u%d@laptop\n"
                         "  network:\n    vlan: %s\n    subnet: 10.%d.%d.0/24\n"
                         "  frontend:\n    vcpus: 2\n    memory: 4GiB\n    disk: 40GiB\n    external: %s\n"
                         "  nodes:\n"
                         "    - name: compute\n      appliance: compute\n      count: 8\n      vcpus: 2\n"
                         "      memory: 2GiB\n      disk: 20GiB\n      install: image\n"
                         "    - name: gpu\n      appliance: gpu\n      count: 2\n      vcpus: 4\n"
                         "      memory: 8GiB\n      disk: 50GiB\n      install: pxe\n"
                         "  sharedStorage: 200GiB\n",
                         i, i, i % 3 ? "release" : "keep-volumes", i, vlan, i / 256, i % 256,
                         i % 2 ? "true" : "false");
                snprintf(p, sizeof(p), "%s/clusters/cluster-%04d.yaml", dir, i);
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

static int dbl_cmp(const void *a, const void *b);

/* CPU time of this process: less disturbed than wall time on a shared machine. */
static double cpu_ms(void) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* The same repository already in memory: the loader's own cost, without file system calls. */
static int time_in_memory(const char *dir, int n, int runs, double *ret_median) {
        size_t n_files = (size_t)n + 4;
        vcm_source_file *f = calloc(n_files, sizeof(*f));
        char p[512];
        for (size_t i = 0; i < n_files; i++) {
                char rel[64];
                if (i == 0)
                        snprintf(rel, sizeof(rel), "site.yaml");
                else if (i < 4)
                        snprintf(rel, sizeof(rel), "rolls/%s.yaml", rolls[i - 1]);
                else
                        snprintf(rel, sizeof(rel), "clusters/cluster-%04zu.yaml", i - 4);
                snprintf(p, sizeof(p), "%s/%s", dir, rel);
                FILE *fp = fopen(p, "r");
                if (!fp)
                        return -1;
                char *buf = malloc(8192);
                size_t len = fread(buf, 1, 8192, fp);
                fclose(fp);
                f[i] = (vcm_source_file){ strdup(rel), buf, len };
        }
        double *t = calloc((size_t)runs, sizeof(*t));
        int rc = 0;
        for (int r = 0; r < runs; r++) {
                vcm_diags d = { 0 };
                vcm_repo *repo = NULL;
                double t0 = now_ms();
                if (vcm_load_files(f, n_files, &d, &repo) < 0)
                        rc = -1;
                else
                        vcm_validate_repo(repo, &d);
                t[r] = now_ms() - t0;
                if (d.n_errors)
                        rc = -1;
                vcm_repo_free(repo);
                vcm_diags_clear(&d);
        }
        qsort(t, (size_t)runs, sizeof(*t), dbl_cmp);
        *ret_median = t[runs / 2];
        for (size_t i = 0; i < n_files; i++) {
                free((char *)f[i].path);
                free((char *)f[i].data);
        }
        free(f);
        free(t);
        return rc;
}

static int dbl_cmp(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
        int n = argc > 1 ? atoi(argv[1]) : 1000;
        int runs = argc > 2 ? atoi(argv[2]) : 21;
        if (n < 1 || n > 60000 || runs < 1 || runs > 1000) {
                fprintf(stderr, "usage: bench_load [N_CLUSTERS (1..60000)] [RUNS]\n");
                return 2;
        }
        char dir[] = "/tmp/vcm-bench-load-XXXXXX";
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        int rc = 0;
        if (generate(dir, n) < 0) {
                fprintf(stderr, "cannot write the repository in %s\n", dir);
                rc = 1;
                goto out;
        }
        double *t = calloc((size_t)runs, sizeof(*t)), *cpu = calloc((size_t)runs, sizeof(*cpu));
        for (int r = 0; r < runs && rc == 0; r++) {
                vcm_diags d = { 0 };
                vcm_repo *repo = NULL;
                double t0 = now_ms(), c0 = cpu_ms();
                int e = vcm_load_dir(dir, &d, &repo);
                if (e == 0)
                        vcm_validate_repo(repo, &d);
                t[r] = now_ms() - t0;
                cpu[r] = cpu_ms() - c0;
                if (e < 0 || d.n_errors || repo->n_clusters != (size_t)n || repo->n_rolls != 3) {
                        fprintf(stderr, "load failed: %d, %zu errors, %zu clusters\n", e, d.n_errors,
                                repo ? repo->n_clusters : 0);
                        vcm_diags_print(&d, stderr);
                        rc = 1;
                }
                vcm_repo_free(repo);
                vcm_diags_clear(&d);
        }
        if (rc == 0) {
                qsort(t, (size_t)runs, sizeof(*t), dbl_cmp);
                qsort(cpu, (size_t)runs, sizeof(*cpu), dbl_cmp);
                double mem = 0;
                if (time_in_memory(dir, n, runs, &mem) < 0) {
                        fprintf(stderr, "in-memory load failed\n");
                        rc = 1;
                }
                struct rusage ru;
                getrusage(RUSAGE_SELF, &ru);
                printf("load+validate %d cluster files (+ site + 3 Rolls), %d runs\n", n, runs);
                printf("  from the directory: median %.2f ms   min %.2f ms   max %.2f ms   (CPU median %.2f ms)\n",
                       t[runs / 2], t[0], t[runs - 1], cpu[runs / 2]);
                printf("  from memory (vcm_load_files, no file I/O): median %.2f ms\n", mem);
                printf("  peak RSS %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
        }
        free(t);
        free(cpu);
out:
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        return rc;
}
