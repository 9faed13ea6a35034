/* Network ids and the network resources of the vlan backend (issue #7): auto and fixed ids,
 * stability across restarts (read back from VLAN links, bridges or domains alone), no id shared
 * by two clusters, an exhausted range, names within the kernel's 15-character limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixtures.h"
#include "desired_fixture.h"
#include "reconciler/desired.h"
#include "reconciler/props.h"

static vcm_repo *repo_new(vcm_net_backend net) {
        vcm_repo *r = fx_repo_new(net, VCM_STORAGE_FILE);
        vcm_host *gw = fx_add_host(r, "gw1", VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER, 64, 256 * FX_GIB);
        gw->external = strdup("br-ext");
        fx_add_host(r, "vm2", VCM_ROLE_VM_SERVER, 64, 256 * FX_GIB);
        fx_add_image(r, "frontend", "img-frontend", NULL);
        fx_add_image(r, "compute", "img-compute", NULL);
        return r;
}

static vcm_cluster *add_cluster(vcm_repo *r, const char *name, uint32_t fixed) {
        vcm_cluster *c = fx_add_cluster(r, name);
        fx_add_group(c, "compute", 2, 1, FX_GIB);
        if (fixed) {
                c->network.vlan_auto = false;
                c->network.vlan = fixed;
        }
        return c;
}

/* Observed state as the providers would report it after a pass: every desired resource. */
static vcm_resource_set *observed_of(const vcm_resource_set *desired, vcm_kind only) {
        vcm_resource_set *o = vcm_resource_set_new();
        for (size_t i = 0; i < vcm_resource_set_size(desired); i++) {
                const vcm_resource *x = vcm_resource_set_at(desired, i);
                if (only == VCM_KIND__COUNT || x->kind == only)
                        vcm_resource_set_add_copy(o, x);
        }
        return o;
}

static void test_net_resources_per_host(void **state) {
        vcm_repo *r = repo_new(VCM_NET_VLAN);
        vcm_cluster *c = add_cluster(r, "lab", 0);
        c->frontend.external = true;
        built b = build(r, NULL);
        assert_true(b.evals[0].placed);
        assert_int_equal(b.evals[0].netid, 100);
        /* Nodes are spread over both hosts: each gets the cluster's link and bridge. */
        const char *hosts[] = { "gw1", "vm2" };
        for (size_t i = 0; i < 2; i++) {
                const vcm_resource *l = vcm_resource_set_find(b.set, VCM_KIND_VLAN_LINK, hosts[i], "vcmv100");
                const vcm_resource *br = vcm_resource_set_find(b.set, VCM_KIND_BRIDGE, hosts[i], "vcmbr100");
                assert_non_null(l);
                assert_non_null(br);
                assert_string_equal(vcm_resource_prop(l, "trunk"), "eth1");
                assert_string_equal(vcm_resource_prop(l, "vlan"), "100");
                assert_string_equal(vcm_resource_prop(l, "state"), "up");
                assert_string_equal(vcm_resource_prop(br, "vlan-link"), "vcmv100");
                assert_string_equal(vcm_resource_prop(br, "netid"), "100");
                assert_string_equal(vcm_resource_prop(br, "state"), "up");
                assert_int_equal(br->n_deps, 1);
                assert_int_equal(br->deps[0].kind, VCM_KIND_VLAN_LINK);
                assert_string_equal(br->deps[0].name, "vcmv100");
        }
        /* The frontend's second NIC is on the site's external bridge, which is never a
         * resource of vcm's (so nothing can plan to delete it). */
        const vcm_resource *fe = vcm_resource_set_find(b.set, VCM_KIND_DOMAIN, "gw1", "lab-frontend");
        assert_non_null(fe);
        assert_string_equal(vcm_resource_prop(fe, "nic0.bridge"), "vcmbr100");
        assert_string_equal(vcm_resource_prop(fe, "nic1.bridge"), "br-ext");
        assert_null(vcm_resource_set_find(b.set, VCM_KIND_BRIDGE, "gw1", "br-ext"));
        assert_null(vcm_resource_set_find(b.set, VCM_KIND_VLAN_LINK, "gw1", "eth1"));
        built_free(&b);
        fx_repo_free(r);
}

static void test_net_bridge_backend_unchanged(void **state) {
        vcm_repo *r = repo_new(VCM_NET_BRIDGE);
        add_cluster(r, "lab", 0);
        built b = build(r, NULL);
        const vcm_resource *br = vcm_resource_set_find(b.set, VCM_KIND_BRIDGE, "gw1", "vcmbr100");
        assert_non_null(br);
        /* libvirt networks carry only netid: no state, no VLAN link. */
        assert_int_equal(br->n_props, 1);
        assert_int_equal(fx_count(b.set, VCM_KIND_VLAN_LINK, "lab"), 0);
        built_free(&b);
        fx_repo_free(r);
}

static void test_net_auto_fixed_never_shared(void **state) {
        vcm_repo *r = repo_new(VCM_NET_VLAN);
        r->site->vlan_from = 100;
        r->site->vlan_to = 109;
        add_cluster(r, "a", 0);
        add_cluster(r, "b", 102);
        add_cluster(r, "c", 0);
        add_cluster(r, "d", 100);
        add_cluster(r, "e", 0);
        built b = build(r, NULL);
        uint32_t want[] = { 101, 102, 103, 100, 104 };
        for (size_t i = 0; i < 5; i++) {
                assert_true(b.evals[i].placed);
                assert_int_equal(b.evals[i].netid, want[i]);
        }
        assert_int_equal(b.diags.n_errors, 0);
        built_free(&b);
        fx_repo_free(r);
}

/* A restarted vcm has nothing but what it observes; each kind alone carries the id. */
static void check_stable_from(vcm_kind only) {
        vcm_repo *r1 = repo_new(VCM_NET_VLAN);
        add_cluster(r1, "m", 0);
        add_cluster(r1, "n", 0);
        built b1 = build(r1, NULL);
        assert_int_equal(b1.evals[0].netid, 100);
        assert_int_equal(b1.evals[1].netid, 101);
        vcm_resource_set *obs = observed_of(b1.set, only);
        assert_true(vcm_resource_set_size(obs) > 0);

        /* Next pass, after a restart: a new cluster "a" sorts first. Without observation it
         * would take 100; with it, m and n keep theirs and a gets the next free id. */
        vcm_repo *r2 = repo_new(VCM_NET_VLAN);
        add_cluster(r2, "a", 0);
        add_cluster(r2, "m", 0);
        add_cluster(r2, "n", 0);
        built fresh = build(r2, NULL);
        assert_int_equal(fresh.evals[0].netid, 100);
        built b2 = build(r2, obs);
        assert_int_equal(b2.evals[0].netid, 102);
        assert_int_equal(b2.evals[1].netid, 100);
        assert_int_equal(b2.evals[2].netid, 101);
        /* And again from what that pass made: a fixed point. */
        vcm_resource_set *obs2 = observed_of(b2.set, only);
        built b3 = build(r2, obs2);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(b3.evals[i].netid, b2.evals[i].netid);
        built_free(&b1);
        built_free(&fresh);
        built_free(&b2);
        built_free(&b3);
        vcm_resource_set_free(obs);
        vcm_resource_set_free(obs2);
        fx_repo_free(r1);
        fx_repo_free(r2);
}

static void test_net_stable_from_vlan_links(void **state) {
        check_stable_from(VCM_KIND_VLAN_LINK);
}
static void test_net_stable_from_bridges(void **state) {
        check_stable_from(VCM_KIND_BRIDGE);
}
static void test_net_stable_from_domains(void **state) {
        check_stable_from(VCM_KIND_DOMAIN);
}

/* The range holds two ids: the third cluster waits (Pending) with a located error, and
 * nothing of it is desired; releasing one frees an id for it. */
static void test_net_range_exhausted(void **state) {
        vcm_repo *r = repo_new(VCM_NET_VLAN);
        r->site->vlan_from = 3000;
        r->site->vlan_to = 3001;
        add_cluster(r, "a", 0);
        add_cluster(r, "b", 0);
        add_cluster(r, "c", 0);
        built b = build(r, NULL);
        assert_true(b.evals[0].placed);
        assert_true(b.evals[1].placed);
        assert_false(b.evals[2].placed);
        assert_int_equal(b.evals[2].blocked_state, VCM_STATE_PENDING);
        assert_non_null(strstr(b.evals[2].blocked_reason, "no free network id in 3000..3001"));
        assert_int_equal(b.diags.n_errors, 1);
        assert_non_null(strstr(b.diags.items[0].message, "cluster c"));
        assert_int_equal(fx_count(b.set, VCM_KIND_VLAN_LINK, "c"), 0);
        assert_int_equal(fx_count(b.set, VCM_KIND_BRIDGE, "c"), 0);
        assert_int_equal(fx_count(b.set, VCM_KIND_DOMAIN, "c"), 0);
        vcm_resource_set *obs = observed_of(b.set, VCM_KIND_BRIDGE);
        built_free(&b);
        /* a released and its bridges gone: c takes 3000, b keeps 3001. */
        fx_remove_cluster(r, "a");
        vcm_resource_set *obs2 = vcm_resource_set_new();
        for (size_t i = 0; i < vcm_resource_set_size(obs); i++) {
                const vcm_resource *x = vcm_resource_set_at(obs, i);
                if (strcmp(x->cluster, "a") != 0)
                        vcm_resource_set_add_copy(obs2, x);
        }
        built b2 = build(r, obs2);
        assert_int_equal(b2.evals[0].netid, 3001);
        assert_int_equal(b2.evals[1].netid, 3000);
        built_free(&b2);
        vcm_resource_set_free(obs);
        vcm_resource_set_free(obs2);
        fx_repo_free(r);
}

/* The largest id gives the longest names; both fit IFNAMSIZ - 1. */
static void test_net_names_fit(void **state) {
        vcm_repo *r = repo_new(VCM_NET_VLAN);
        r->site->vlan_from = 4094;
        r->site->vlan_to = 4094;
        add_cluster(r, "a-very-long-cluster-name", 0);
        built b = build(r, NULL);
        assert_int_equal(b.evals[0].netid, 4094);
        size_t seen = 0;
        for (size_t i = 0; i < vcm_resource_set_size(b.set); i++) {
                const vcm_resource *x = vcm_resource_set_at(b.set, i);
                if (x->kind != VCM_KIND_BRIDGE && x->kind != VCM_KIND_VLAN_LINK)
                        continue;
                assert_true(strlen(x->name) <= VCM_IFNAME_MAX);
                seen++;
        }
        assert_int_equal(seen, 4);
        assert_non_null(vcm_resource_set_find(b.set, VCM_KIND_BRIDGE, "gw1", "vcmbr4094"));
        assert_non_null(vcm_resource_set_find(b.set, VCM_KIND_VLAN_LINK, "vm2", "vcmv4094"));
        built_free(&b);
        fx_repo_free(r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_net_resources_per_host),
                cmocka_unit_test(test_net_bridge_backend_unchanged),
                cmocka_unit_test(test_net_auto_fixed_never_shared),
                cmocka_unit_test(test_net_stable_from_vlan_links),
                cmocka_unit_test(test_net_stable_from_bridges),
                cmocka_unit_test(test_net_stable_from_domains),
                cmocka_unit_test(test_net_range_exhausted),
                cmocka_unit_test(test_net_names_fit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
