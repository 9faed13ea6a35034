/* Inline spec files for the loader tests: a valid site, Roll and cluster, and helpers that load
 * variants and return the diagnostics as printed text so tests pin exact positions. */
#ifndef VCM_SPEC_FIXTURE_H
#define VCM_SPEC_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "specs/load.h"

#define ED25519_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNNu47+uaHH6gX+cMEzABKA20i60w5fpo8EkIHUbr/B alice@laptop"

static const char SITE[] =
        "apiVersion: vcm/v1\n"                                         /* 1 */
        "kind: Site\n"                                                 /* 2 */
        "metadata: {name: lab}\n"                                      /* 3 */
        "spec:\n"                                                      /* 4 */
        "  network: {backend: vlan, vlanRange: {from: 100, to: 999}}\n" /* 5 */
        "  storage: {backend: lvm-iscsi}\n"                            /* 6 */
        "  hosts:\n"                                                   /* 7 */
        "    - name: gw1\n"                                            /* 8 */
        "      roles: [gateway, vm-server]\n"                          /* 9 */
        "      libvirt: qemu:///system\n"                              /* 10 */
        "      capacity: {vcpus: 32, memory: 128GiB}\n"                /* 11 */
        "      trunk: eth1\n"                                          /* 12 */
        "      external: br-ext\n"                                     /* 13 */
        "    - name: st1\n"                                            /* 14 */
        "      roles: [storage]\n"                                     /* 15 */
        "      volumeGroup: vcm\n"                                     /* 16 */
        "      portal: 192.0.2.10:3260\n"                              /* 17 */
        "  images:\n"                                                  /* 18 */
        "    frontend: {volume: img-frontend}\n"                       /* 19 */
        "    compute: {volume: img-compute}\n";                        /* 20 */

static const char ROLL[] =
        "apiVersion: vcm/v1\n"
        "kind: Roll\n"
        "metadata: {name: base}\n"
        "spec:\n"
        "  appliances:\n"
        "    frontend: {packages: [nfs-kernel-server], runcmd: [\"echo hi\"]}\n"
        "    compute:\n"
        "      packages: [nfs-common]\n"
        "      files:\n"
        "        - {path: /etc/motd, content: \"hi\\n\", mode: \"0600\"}\n";

static const char CLUSTER[] =
        "apiVersion: vcm/v1\n"                                                      /* 1 */
        "kind: VirtualCluster\n"                                                    /* 2 */
        "metadata:\n"                                                               /* 3 */
        "  name: physics-lab\n"                                                     /* 4 */
        "  owner: alice@example.org\n"                                              /* 5 */
        "spec:\n"                                                                   /* 6 */
        "  window:\n"                                                               /* 7 */
        "    start: 2026-12-01T09:00:00+09:00\n"                                    /* 8 */
        "    end: 2026-12-20T18:00:00+09:00\n"                                      /* 9 */
        "    recurring:\n"                                                          /* 10 */
        "      - {days: [mon, wed], from: \"09:00\", to: \"12:00\", timezone: Asia/Tokyo}\n" /* 11 */
        "  onExpire: release\n"                                                     /* 12 */
        "  suspend: false\n"                                                        /* 13 */
        "  rolls: [base]\n"                                                         /* 14 */
        "  sshKeys:\n"                                                              /* 15 */
        "    - " ED25519_KEY "\n"                                                   /* 16 */
        "  network:\n"                                                              /* 17 */
        "    vlan: auto\n"                                                          /* 18 */
        "    subnet: 10.10.0.0/24\n"                                                /* 19 */
        "  frontend:\n"                                                             /* 20 */
        "    vcpus: 2\n"                                                            /* 21 */
        "    memory: 4GiB\n"                                                        /* 22 */
        "    disk: 40GiB\n"                                                         /* 23 */
        "    external: true\n"                                                      /* 24 */
        "  nodes:\n"                                                                /* 25 */
        "    - name: compute\n"                                                     /* 26 */
        "      appliance: compute\n"                                                /* 27 */
        "      count: 8\n"                                                          /* 28 */
        "      vcpus: 2\n"                                                          /* 29 */
        "      memory: 2GiB\n"                                                      /* 30 */
        "      disk: 20GiB\n"                                                       /* 31 */
        "      install: image\n"                                                    /* 32 */
        "  sharedStorage: 200GiB\n";                                                /* 33 */

/* s with the first occurrence of `from` replaced by `to` (aborts when absent: a broken test). */
static inline char *replace(const char *s, const char *from, const char *to) {
        const char *p = strstr(s, from);
        if (!p) {
                fprintf(stderr, "fixture has no '%s'\n", from);
                abort();
        }
        size_t a = (size_t)(p - s), lf = strlen(from), lt = strlen(to), ls = strlen(s);
        char *r = malloc(ls - lf + lt + 1);
        memcpy(r, s, a);
        memcpy(r + a, to, lt);
        memcpy(r + a + lt, p + lf, ls - a - lf + 1);
        return r;
}

static inline char *diags_text(const vcm_diags *d) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        vcm_diags_print(d, f);
        fclose(f);
        return buf;
}

/* Loads site + roll + the given (path, data) pairs (NULL-terminated), runs vcm_validate_repo
 * when `validate`, and returns the diagnostics text. *ret_repo gets the repo when non-NULL. */
static inline char *load_text_v(bool validate, vcm_repo **ret_repo, va_list ap) {
        vcm_source_file files[16] = {
                { "site.yaml", SITE, sizeof(SITE) - 1 },
                { "rolls/base.yaml", ROLL, sizeof(ROLL) - 1 },
        };
        size_t n = 2;
        const char *path;
        while ((path = va_arg(ap, const char *))) {
                const char *data = va_arg(ap, const char *);
                /* A path given again replaces the default file. */
                size_t i = 0;
                while (i < n && strcmp(files[i].path, path) != 0)
                        i++;
                files[i] = (vcm_source_file){ path, data, strlen(data) };
                if (i == n)
                        n++;
        }
        vcm_diags d = { 0 };
        vcm_repo *repo = NULL;
        int r = vcm_load_files(files, n, &d, &repo);
        if (r < 0) {
                fprintf(stderr, "vcm_load_files: %d\n", r);
                abort();
        }
        if (validate)
                vcm_validate_repo(repo, &d);
        char *text = diags_text(&d);
        vcm_diags_clear(&d);
        if (ret_repo)
                *ret_repo = repo;
        else
                vcm_repo_free(repo);
        return text;
}

static inline char *load_text(bool validate, vcm_repo **ret_repo, ...) {
        va_list ap;
        va_start(ap, ret_repo);
        char *t = load_text_v(validate, ret_repo, ap);
        va_end(ap);
        return t;
}

/* Diagnostics for the cluster with `from` replaced by `to`, cross-file rules included. */
static inline char *cluster_diags(const char *from, const char *to) {
        char *c = replace(CLUSTER, from, to);
        char *t = load_text(true, NULL, "clusters/physics-lab.yaml", c, NULL);
        free(c);
        return t;
}

static inline char *site_diags(const char *from, const char *to) {
        char *s = replace(SITE, from, to);
        char *t = load_text(true, NULL, "site.yaml", s, "clusters/physics-lab.yaml", CLUSTER, NULL);
        free(s);
        return t;
}

static inline char *roll_diags(const char *from, const char *to) {
        char *s = replace(ROLL, from, to);
        char *t = load_text(false, NULL, "rolls/base.yaml", s, NULL);
        free(s);
        return t;
}

#define assert_diags(actual, expected)                                                             \
        do {                                                                                       \
                char *_a = (actual);                                                               \
                assert_string_equal(_a, (expected));                                               \
                free(_a);                                                                          \
        } while (0)

#define CF "clusters/physics-lab.yaml"
#define C CF ":"

#endif
