/* The spec repository the test-driver benchmarks load: one host on libvirt's test driver and N
 * clusters of a frontend and 10 nodes, made in memory. Include after specs/load.h. */
#ifndef VCM_BENCH_SPECS_H
#define VCM_BENCH_SPECS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "specs/load.h"

static const char BENCH_TD_SITE[] =
        "apiVersion: vcm/v1\n"
        "kind: Site\n"
        "metadata: {name: bench}\n"
        "spec:\n"
        "  network: {backend: bridge}\n"
        "  storage: {backend: file}\n"
        "  hosts:\n"
        "    - name: h1\n"
        "      roles: [gateway, vm-server]\n"
        "      libvirt: test:///default\n"
        "      capacity: {vcpus: 1000000, memory: 100000GiB}\n"
        "      poolPath: /vcm-bench-pool\n"
        "  images:\n"
        "    frontend: {kernel: /boot/vmlinuz, initrd: /boot/initrd.img}\n"
        "    compute: {kernel: /boot/vmlinuz, initrd: /boot/initrd.img}\n";

/* Loads `site` and n clusters "c%05zu" from `cluster_fmt` (printf: index, then the two middle
 * octets of the subnet); exits on any load or validation error. */
static __attribute__((unused)) vcm_repo *bench_load(const char *site, const char *cluster_fmt,
                                                    size_t n) {
        size_t n_files = n + 1;
        vcm_source_file *files = calloc(n_files, sizeof(*files));
        char **bufs = calloc(n_files, sizeof(*bufs));
        files[0] = (vcm_source_file){ "site.yaml", site, strlen(site) };
        for (size_t i = 0; i < n; i++) {
                char path[64];
                snprintf(path, sizeof(path), "clusters/c%05zu.yaml", i);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                int len = asprintf(&bufs[i], cluster_fmt, i, 100 + i / 256, i % 256);
#pragma GCC diagnostic pop
                files[i + 1] = (vcm_source_file){ strdup(path), bufs[i], (size_t)len };
        }
        vcm_diags d = { 0 };
        vcm_repo *repo = NULL;
        if (vcm_load_files(files, n_files, &d, &repo) < 0) {
                fprintf(stderr, "load failed\n");
                exit(1);
        }
        vcm_validate_repo(repo, &d);
        if (d.n_errors) {
                vcm_diags_print(&d, stderr);
                exit(1);
        }
        vcm_diags_clear(&d);
        for (size_t i = 0; i < n; i++) {
                free((char *)files[i + 1].path);
                free(bufs[i]);
        }
        free(bufs);
        free(files);
        return repo;
}

#endif
