/* desired() on the lvm-iscsi backend: one target per cluster on the storage host, a LUN per
 * volume numbered as the domains' disks say, an ACL per VM host initiator; domains name their
 * host's initiator and wait for their LUN and ACL; release goes in the reverse order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reconciler/desired.h"
#include "reconciler/fixtures.h"
#include "reconciler/props.h"

#define IQN VCM_IQN_PREFIX "lab"

static vcm_repo *site(void) {
        vcm_repo *r = fx_repo_new(VCM_NET_BRIDGE, VCM_STORAGE_LVM_ISCSI);
        fx_add_host(r, "gw1", VCM_ROLE_GATEWAY, 16, 64 * FX_GIB);
        fx_add_host(r, "vm1", VCM_ROLE_VM_SERVER, 1, 64 * FX_GIB);
        fx_add_host(r, "vm2", VCM_ROLE_VM_SERVER, 1, 64 * FX_GIB);
        fx_add_host(r, "st1", VCM_ROLE_STORAGE, 0, 0);
        fx_add_image(r, "compute", "img-compute", NULL);
        vcm_cluster *c = fx_add_cluster(r, "lab");
        fx_add_group(c, "compute", 2, 1, FX_GIB); /* one per VM host: 1 vCPU each */
        c->shared_storage = 8 * FX_GIB;
        return r;
}

static bool has_dep(const vcm_resource *r, vcm_kind k, const char *host, const char *name) {
        for (size_t i = 0; i < r->n_deps; i++)
                if (r->deps[i].kind == k && !strcmp(r->deps[i].host, host) &&
                    !strcmp(r->deps[i].name, name))
                        return true;
        return false;
}

static void test_exports(void **state) {
        vcm_repo *r = site();
        vcm_resource_set *empty = vcm_resource_set_new(), *set = NULL;
        vcm_cluster_eval *ev = NULL;
        vcm_diags diags = { 0 };
        assert_int_equal(vcm_desired_build(r, 1000, empty, NULL, &diags, &set, &ev), 0);
        assert_true(ev[0].placed);

        const vcm_resource *t = vcm_resource_set_find(set, VCM_KIND_ISCSI_TARGET, "st1", IQN);
        assert_non_null(t);
        assert_string_equal(vcm_resource_prop(t, "portal"), "192.0.2.10:3260");
        assert_string_equal(vcm_resource_prop(t, "generate_node_acls"), "0");
        assert_int_equal(fx_count(set, VCM_KIND_ISCSI_TARGET, "lab"), 1);
        /* Exported once every volume of the cluster exists: no target for a cluster whose
         * volumes did not fit. */
        assert_true(has_dep(t, VCM_KIND_VOLUME, "st1", "lab-shared"));
        assert_true(has_dep(t, VCM_KIND_VOLUME, "st1", "lab-compute-1"));

        /* LUN 0 shared storage, then frontend 1, compute-0 2, compute-1 3: as disk0 says. */
        const char *names[] = { "lab-shared", "lab-frontend", "lab-compute-0", "lab-compute-1" };
        for (unsigned i = 0; i < 4; i++) {
                const vcm_resource *l = vcm_resource_set_find(set, VCM_KIND_ISCSI_LUN, "st1",
                                                              names[i]);
                assert_non_null(l);
                char want[8];
                snprintf(want, sizeof(want), "%u", i);
                assert_string_equal(vcm_resource_prop(l, "lun"), want);
                assert_string_equal(vcm_resource_prop(l, "target"), IQN);
                char dev[64];
                snprintf(dev, sizeof(dev), "/dev/vcm/%s", names[i]);
                assert_string_equal(vcm_resource_prop(l, "device"), dev);
                assert_true(has_dep(l, VCM_KIND_VOLUME, "st1", names[i]));
                assert_true(has_dep(l, VCM_KIND_ISCSI_TARGET, "st1", IQN));
                /* The lvm provider's cluster-wide room check: every disk + the shared storage. */
                const vcm_cluster *c = &r->clusters[0];
                const vcm_resource *v = vcm_resource_set_find(set, VCM_KIND_VOLUME, "st1",
                                                              names[i]);
                char total[32];
                snprintf(total, sizeof(total), "%llu",
                         (unsigned long long)(c->frontend.disk + 2 * c->nodes[0].disk +
                                              8 * FX_GIB));
                assert_string_equal(vcm_resource_prop(v, "meta.cluster-bytes"), total);
        }

        /* One ACL per VM host that runs the cluster's nodes, each mapping every LUN. */
        assert_int_equal(fx_count(set, VCM_KIND_ISCSI_ACL, "lab"), 3);
        const char *hosts[] = { "gw1", "vm1", "vm2" };
        for (size_t i = 0; i < 3; i++) {
                char acl[128], init[96];
                snprintf(init, sizeof(init), VCM_INITIATOR_PREFIX "%s", hosts[i]);
                snprintf(acl, sizeof(acl), "lab/%s", init);
                const vcm_resource *a = vcm_resource_set_find(set, VCM_KIND_ISCSI_ACL, "st1", acl);
                assert_non_null(a);
                assert_string_equal(vcm_resource_prop(a, "initiator"), init);
                assert_string_equal(vcm_resource_prop(a, "luns"), "0,1,2,3");
                assert_true(has_dep(a, VCM_KIND_ISCSI_LUN, "st1", "lab-compute-1"));
                assert_true(has_dep(a, VCM_KIND_ISCSI_LUN, "st1", "lab-shared"));
        }

        const vcm_resource *fe = vcm_resource_set_find(set, VCM_KIND_DOMAIN, "gw1", "lab-frontend");
        assert_string_equal(vcm_resource_prop(fe, "disk0"), "iscsi:192.0.2.10:3260/" IQN "/1");
        assert_string_equal(vcm_resource_prop(fe, "disk1"), "iscsi:192.0.2.10:3260/" IQN "/0");
        assert_string_equal(vcm_resource_prop(fe, "disk0.initiator"), VCM_INITIATOR_PREFIX "gw1");
        assert_string_equal(vcm_resource_prop(fe, "disk1.initiator"), VCM_INITIATOR_PREFIX "gw1");
        assert_true(has_dep(fe, VCM_KIND_ISCSI_ACL, "st1", "lab/" VCM_INITIATOR_PREFIX "gw1"));
        assert_true(has_dep(fe, VCM_KIND_ISCSI_LUN, "st1", "lab-frontend"));
        for (size_t i = 0; i < vcm_resource_set_size(set); i++) {
                const vcm_resource *d = vcm_resource_set_at(set, i);
                if (d->kind != VCM_KIND_DOMAIN || !strcmp(d->name, "lab-frontend"))
                        continue;
                char init[96];
                snprintf(init, sizeof(init), VCM_INITIATOR_PREFIX "%s", d->host);
                assert_string_equal(vcm_resource_prop(d, "disk0.initiator"), init);
                assert_null(vcm_resource_prop(d, "disk1"));
        }
        vcm_resource_set_free(set);
        vcm_resource_set_free(empty);
        vcm_cluster_evals_free(ev, 1);
        vcm_diags_clear(&diags);
        fx_repo_free(r);
}

static vcm_pass *pass(const vcm_repo *r) {
        vcm_provider_table t = fx_table();
        vcm_engine_opts o = { .now = 1000, .parallel = 2, .retries = 1, .backoff_ms = -1,
                              .allow_empty = true };
        vcm_pass *p = NULL;
        assert_int_equal(vcm_engine_run(r, &t, &o, &p), 0);
        return p;
}

static size_t at(const vcm_pass *p, vcm_kind k, const char *name) {
        size_t i = fx_step_index(p, k, name);
        assert_true(i != SIZE_MAX);
        return i;
}

static void test_order_create_and_release(void **state) {
        vcm_repo *r = site();
        fx_world *w = fx_world_new();
        vcm_pass *p = pass(r);
        /* Volume, then target, LUN, ACL, and only then the domain that attaches it. */
        size_t vol = at(p, VCM_KIND_VOLUME, "lab-compute-0");
        size_t tgt = at(p, VCM_KIND_ISCSI_TARGET, IQN);
        size_t lun = at(p, VCM_KIND_ISCSI_LUN, "lab-compute-0");
        size_t acl = at(p, VCM_KIND_ISCSI_ACL, "lab/" VCM_INITIATOR_PREFIX "gw1");
        size_t dom = at(p, VCM_KIND_DOMAIN, "lab-frontend");
        assert_true(vol < lun && tgt < lun && lun < acl && acl < dom);
        for (size_t i = 0; i < p->n_steps; i++)
                assert_int_equal(p->step_results[i], 0);
        vcm_pass_free(p);
        /* Converged: a second pass plans nothing. */
        p = pass(r);
        assert_int_equal(p->n_steps, 0);
        vcm_pass_free(p);

        /* Release: domains, then ACLs, LUNs, the target, and the volumes last. */
        fx_remove_cluster(r, "lab");
        p = pass(r);
        dom = at(p, VCM_KIND_DOMAIN, "lab-frontend");
        acl = at(p, VCM_KIND_ISCSI_ACL, "lab/" VCM_INITIATOR_PREFIX "gw1");
        lun = at(p, VCM_KIND_ISCSI_LUN, "lab-frontend");
        tgt = at(p, VCM_KIND_ISCSI_TARGET, IQN);
        vol = at(p, VCM_KIND_VOLUME, "lab-frontend");
        assert_true(dom < acl && acl < lun && lun < tgt && lun < vol);
        assert_int_equal(vcm_resource_set_size(w->res), 0);
        vcm_pass_free(p);
        fx_world_free(w);
        fx_repo_free(r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exports),
                cmocka_unit_test(test_order_create_and_release),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
