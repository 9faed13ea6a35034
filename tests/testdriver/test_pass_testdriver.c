/* Tier 2: whole reconcile passes in-process, the real engine and the real libvirt provider
 * against libvirt's test driver: create, no-op, update, drift, release. Specs are loaded from
 * YAML with the real loader, as `vcm apply` does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "providers/libvirt/libvirt.h"
#include "reconciler/engine.h"
#include "specs/load.h"

static const char SITE[] =
        "apiVersion: vcm/v1\n"
        "kind: Site\n"
        "metadata: {name: td}\n"
        "spec:\n"
        "  network: {backend: bridge}\n"
        "  storage: {backend: file}\n"
        "  hosts:\n"
        "    - name: h1\n"
        "      roles: [gateway, vm-server]\n"
        "      libvirt: test:///default\n"
        "      capacity: {vcpus: 16, memory: 8GiB}\n"
        "      poolPath: /vcm-pool\n"
        "  images:\n"
        "    frontend: {kernel: /boot/vmlinuz, initrd: /boot/initrd.img}\n"
        "    compute: {kernel: /boot/vmlinuz, initrd: /boot/initrd.img}\n";

/* %s: the node memory, so that a test can change it. */
static const char CLUSTER_FMT[] =
        "apiVersion: vcm/v1\n"
        "kind: VirtualCluster\n"
        "metadata: {name: %s, owner: ops@example.org}\n"
        "spec:\n"
        "  window: {start: 2026-12-01T09:00:00+09:00, end: 2026-12-20T18:00:00+09:00}\n"
        "  network: {subnet: 10.%d.0.0/24}\n"
        "  frontend: {vcpus: 1, memory: 256MiB, disk: 64MiB}\n"
        "  nodes:\n"
        "    - {name: compute, count: 2, vcpus: 1, memory: %s, disk: 64MiB}\n";

static const int64_t before_window = 1795996800; /* 2026-11-30T00:00:00Z */
static const int64_t in_window = 1796094000;     /* 2026-12-01T03:00:00Z = 12:00+09:00 */
static const int64_t after_window = 1797757201;  /* 2026-12-20T09:00:01Z = 18:00:01+09:00 */

typedef struct spec_files {
        char cluster_a[1024];
        char cluster_b[1024];
} spec_files;

static vcm_repo *load(const char *mem_a, bool with_b) {
        static spec_files f;
        snprintf(f.cluster_a, sizeof(f.cluster_a), CLUSTER_FMT, "alpha", 20, mem_a);
        snprintf(f.cluster_b, sizeof(f.cluster_b), CLUSTER_FMT, "beta", 21, "256MiB");
        vcm_source_file files[] = {
                { "site.yaml", SITE, strlen(SITE) },
                { "clusters/alpha.yaml", f.cluster_a, strlen(f.cluster_a) },
                { "clusters/beta.yaml", f.cluster_b, strlen(f.cluster_b) },
        };
        vcm_diags d = {};
        vcm_repo *repo = NULL;
        assert_int_equal(vcm_load_files(files, with_b ? 3 : 2, &d, &repo), 0);
        vcm_validate_repo(repo, &d);
        if (d.n_errors) {
                vcm_diags_print(&d, stderr);
                fail_msg("the test specs do not validate");
        }
        vcm_diags_clear(&d);
        return repo;
}

static vcm_pass *run(const vcm_repo *repo, int64_t now, bool plan_only) {
        vcm_provider_table t = {};
        t.by_kind[VCM_KIND_DOMAIN] = &vcm_provider_libvirt;
        t.by_kind[VCM_KIND_VOLUME] = &vcm_provider_libvirt;
        t.by_kind[VCM_KIND_BRIDGE] = &vcm_provider_libvirt;
        t.by_kind[VCM_KIND_SEED] = &vcm_provider_libvirt;
        vcm_engine_opts o = { .now = now, .parallel = 4, .retries = 1, .backoff_ms = -1,
                              .plan_only = plan_only };
        vcm_pass *p = NULL;
        assert_int_equal(vcm_engine_run(repo, &t, &o, &p), 0);
        if (p->diags.n_errors) {
                vcm_diags_print(&p->diags, stderr);
                fail_msg("the pass reported errors");
        }
        for (size_t i = 0; !plan_only && i < p->n_steps; i++)
                if (p->step_results[i] < 0)
                        fail_msg("step %zu failed: %s", i, p->step_errors[i]);
        return p;
}

static size_t count(const vcm_pass *p, vcm_action a, vcm_kind k) {
        size_t n = 0;
        for (size_t i = 0; i < p->n_steps; i++) {
                const vcm_resource *r = p->steps[i].desired ? p->steps[i].desired
                                                            : p->steps[i].observed;
                n += p->steps[i].action == a && r->kind == k;
        }
        return n;
}

static size_t observed_of(const vcm_pass *p, const char *cluster) {
        size_t n = 0;
        for (size_t i = 0; i < vcm_resource_set_size(p->observed); i++)
                n += !strcmp(vcm_resource_set_at(p->observed, i)->cluster, cluster);
        return n;
}

static vcm_cluster_state state_of(const vcm_pass *p, const char *cluster) {
        for (size_t i = 0; i < p->n_status; i++)
                if (!strcmp(p->status[i].cluster, cluster))
                        return p->status[i].state;
        fail_msg("no status for %s", cluster);
        return VCM_STATE_STALLED;
}

static void test_whole_lifecycle(void **state) {
        (void)state;
        /* The test driver's default state lives while a connection to it is open: hold one for
         * the whole test, the way libvirtd holds a real host's state. */
        virConnectPtr raw = virConnectOpen("test:///default");
        assert_non_null(raw);
        vcm_repo *repo = load("256MiB", true);

        /* Before the window: nothing. */
        vcm_pass *p = run(repo, before_window, true);
        assert_int_equal(p->n_steps, 0);
        assert_int_equal(state_of(p, "alpha"), VCM_STATE_PENDING);
        vcm_pass_free(p);

        /* Create: per cluster 1 bridge, 3 volumes, 3 seeds, 3 domains. */
        p = run(repo, in_window, false);
        assert_int_equal(count(p, VCM_ACTION_CREATE, VCM_KIND_BRIDGE), 2);
        assert_int_equal(count(p, VCM_ACTION_CREATE, VCM_KIND_VOLUME), 6);
        assert_int_equal(count(p, VCM_ACTION_CREATE, VCM_KIND_DOMAIN), 6);
        assert_int_equal(count(p, VCM_ACTION_CREATE, VCM_KIND_SEED), 6);
        assert_int_equal(p->n_steps, 20);
        vcm_pass_free(p);

        /* No-op. */
        p = run(repo, in_window, false);
        assert_int_equal(p->n_steps, 0);
        assert_int_equal(state_of(p, "alpha"), VCM_STATE_READY);
        assert_int_equal(observed_of(p, "alpha"), 10);
        vcm_pass_free(p);

        /* Drift: a domain stopped behind vcm's back is started by the next pass. */
        virDomainPtr d = virDomainLookupByName(raw, "alpha-compute-1");
        assert_non_null(d);
        assert_int_equal(virDomainDestroy(d), 0);
        p = run(repo, in_window, false);
        assert_int_equal(p->n_steps, 1);
        assert_int_equal(count(p, VCM_ACTION_UPDATE, VCM_KIND_DOMAIN), 1);
        vcm_pass_free(p);
        assert_int_equal(virDomainIsActive(d), 1);
        virDomainFree(d);

        /* Update: more memory for alpha's nodes restarts exactly those two domains. */
        vcm_repo_free(repo);
        repo = load("512MiB", true);
        p = run(repo, in_window, false);
        assert_int_equal(count(p, VCM_ACTION_RESTART, VCM_KIND_DOMAIN), 2);
        assert_int_equal(p->n_steps, 2);
        vcm_pass_free(p);
        p = run(repo, in_window, false);
        assert_int_equal(p->n_steps, 0);
        vcm_pass_free(p);

        /* beta removed from the specs: only beta is released; alpha untouched. */
        vcm_repo_free(repo);
        repo = load("512MiB", false);
        p = run(repo, in_window, false);
        assert_int_equal(count(p, VCM_ACTION_DELETE, VCM_KIND_DOMAIN), 3);
        assert_int_equal(count(p, VCM_ACTION_DELETE, VCM_KIND_VOLUME), 3);
        assert_int_equal(count(p, VCM_ACTION_DELETE, VCM_KIND_BRIDGE), 1);
        assert_int_equal(count(p, VCM_ACTION_DELETE, VCM_KIND_SEED), 3);
        assert_int_equal(p->n_steps, 10);
        vcm_pass_free(p);

        /* The window ends: alpha is released, and the next pass finds nothing of it. */
        p = run(repo, after_window, false);
        assert_int_equal(count(p, VCM_ACTION_DELETE, VCM_KIND_DOMAIN), 3);
        assert_int_equal(p->n_steps, 10);
        vcm_pass_free(p);
        p = run(repo, after_window, true);
        assert_int_equal(p->n_steps, 0);
        assert_int_equal(observed_of(p, "alpha"), 0);
        assert_int_equal(observed_of(p, "beta"), 0);
        vcm_pass_free(p);

        virConnectClose(raw);
        vcm_repo_free(repo);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_whole_lifecycle),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
