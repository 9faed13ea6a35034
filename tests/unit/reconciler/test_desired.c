/* desired(): network id allocation, placement, volumes, domains and their deps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixtures.h"
#include "desired_fixture.h"
#include "reconciler/desired.h"
#include "reconciler/placement.h"
#include "reconciler/seed.h"

static vcm_repo *two_host_repo(vcm_net_backend net, vcm_storage_backend st) {
        vcm_repo *r = fx_repo_new(net, st);
        fx_add_host(r, "gw1", VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER, 16, 64 * FX_GIB);
        fx_add_host(r, "vm2", VCM_ROLE_VM_SERVER, 16, 64 * FX_GIB);
        if (st == VCM_STORAGE_LVM_ISCSI || st == VCM_STORAGE_LVM)
                fx_add_host(r, "st1", VCM_ROLE_STORAGE, 0, 0);
        fx_add_image(r, "compute", "img-compute", NULL);
        return r;
}

static void test_cluster_resources_vlan_file(void **state) {
        vcm_repo *r = two_host_repo(VCM_NET_VLAN, VCM_STORAGE_FILE);
        vcm_cluster *c = fx_add_cluster(r, "lab");
        fx_add_group(c, "compute", 2, 1, FX_GIB);
        c->shared_storage = 100 * FX_GIB;
        r->commit = strdup("0123abcd");
        built b = build(r, NULL);
        assert_true(b.evals[0].placed);
        assert_int_equal(b.evals[0].netid, 100); /* lowest of the site range */

        const vcm_resource *fe = vcm_resource_set_find(b.set, VCM_KIND_DOMAIN, "gw1", "lab-frontend");
        assert_non_null(fe);
        assert_string_equal(vcm_resource_prop(fe, "node"), "frontend");
        assert_string_equal(vcm_resource_prop(fe, "memory"), "2147483648");
        assert_string_equal(vcm_resource_prop(fe, "state"), "running");
        assert_string_equal(vcm_resource_prop(fe, "nic0.bridge"), "vcmbr100");
        assert_string_equal(vcm_resource_prop(fe, "disk0"), "file:vcm/lab-frontend");
        assert_string_equal(vcm_resource_prop(fe, "disk1"), "file:vcm/lab-shared");
        assert_string_equal(vcm_resource_prop(fe, "boot"), "disk");
        assert_string_equal(vcm_resource_prop(fe, "meta.commit"), "0123abcd");
        const char *mac = vcm_resource_prop(fe, "nic0.mac");
        assert_int_equal(strlen(mac), 17);
        assert_memory_equal(mac, "02:", 3);

        /* Nodes spread: one on each vm-server, each depending on its volume, bridge, frontend. */
        const vcm_resource *n0 = NULL, *n1 = NULL;
        for (size_t i = 0; i < vcm_resource_set_size(b.set); i++) {
                const vcm_resource *x = vcm_resource_set_at(b.set, i);
                if (x->kind == VCM_KIND_DOMAIN && strcmp(x->name, "lab-compute-0") == 0)
                        n0 = x;
                if (x->kind == VCM_KIND_DOMAIN && strcmp(x->name, "lab-compute-1") == 0)
                        n1 = x;
        }
        assert_non_null(n0);
        assert_non_null(n1);
        assert_string_not_equal(n0->host, n1->host);
        assert_int_equal(n0->n_deps, 4);
        bool dep_vol = false, dep_br = false, dep_fe = false, dep_seed = false;
        for (size_t i = 0; i < n0->n_deps; i++) {
                const vcm_res_key *k = &n0->deps[i];
                dep_vol |= k->kind == VCM_KIND_VOLUME && !strcmp(k->name, "lab-compute-0") &&
                           !strcmp(k->host, n0->host);
                dep_br |= k->kind == VCM_KIND_BRIDGE && !strcmp(k->name, "vcmbr100") &&
                          !strcmp(k->host, n0->host);
                dep_fe |= k->kind == VCM_KIND_DOMAIN && !strcmp(k->name, "lab-frontend") &&
                          !strcmp(k->host, "gw1");
                dep_seed |= k->kind == VCM_KIND_SEED && !strcmp(k->name, "lab-compute-0") &&
                            !strcmp(k->host, n0->host);
        }
        assert_true(dep_vol && dep_br && dep_fe && dep_seed);
        /* Each node's seed sits on its VM host; the domain names it and its digest. */
        const vcm_resource *sd = vcm_resource_set_find(b.set, VCM_KIND_SEED, n0->host,
                                                       "lab-compute-0");
        assert_non_null(sd);
        assert_string_equal(vcm_resource_prop(n0, "seed"), "file:vcm/lab-compute-0.seed.iso");
        assert_int_equal(strlen(vcm_resource_prop(n0, "seed.digest")), 16);
        assert_int_equal(strlen(vcm_resource_prop(sd, "digest")), 16);
        assert_int_equal(fx_count(b.set, VCM_KIND_SEED, NULL), 3);

        /* Network on both hosts: bridge + VLAN link. */
        const vcm_resource *br = vcm_resource_set_find(b.set, VCM_KIND_BRIDGE, "vm2", "vcmbr100");
        assert_non_null(br);
        assert_string_equal(vcm_resource_prop(br, "vlan-link"), "vcmv100");
        const vcm_resource *vl = vcm_resource_set_find(b.set, VCM_KIND_VLAN_LINK, "vm2", "vcmv100");
        assert_string_equal(vcm_resource_prop(vl, "trunk"), "eth1");
        assert_string_equal(vcm_resource_prop(vl, "vlan"), "100");
        assert_int_equal(fx_count(b.set, VCM_KIND_BRIDGE, NULL), 2);

        /* Volumes on the VM host (file backend), node disks cloned from the image. */
        const vcm_resource *v = vcm_resource_set_find(b.set, VCM_KIND_VOLUME, n0->host, "lab-compute-0");
        assert_non_null(v);
        assert_string_equal(vcm_resource_prop(v, "clone"), "img-compute");
        assert_string_equal(vcm_resource_prop(v, "size"), "21474836480");
        assert_string_equal(vcm_resource_prop(v, "backend"), "file");
        assert_non_null(vcm_resource_set_find(b.set, VCM_KIND_VOLUME, "gw1", "lab-shared"));
        /* Hashes are set and exclude meta. */
        assert_true(fe->hash != 0);
        built_free(&b);
        fx_repo_free(r);
}

/* The desired set keeps a seed's digest and inputs, not its files; a step that writes the seed
 * renders them again, with the same digest, and refuses inputs that no longer give it. */
static void test_seed_files_rendered_for_steps(void **state) {
        (void)state;
        vcm_repo *r = two_host_repo(VCM_NET_VLAN, VCM_STORAGE_FILE);
        vcm_cluster *c = fx_add_cluster(r, "lab");
        fx_add_group(c, "compute", 2, 1, FX_GIB);
        built b = build(r, NULL);
        const vcm_resource *d = vcm_resource_set_find(b.set, VCM_KIND_DOMAIN, "gw1", "lab-frontend");
        assert_non_null(d);
        vcm_resource *sd = NULL;
        for (size_t i = 0; i < vcm_resource_set_size(b.set) && !sd; i++) {
                vcm_resource *x = vcm_resource_set_at_mut(b.set, i);
                if (x->kind == VCM_KIND_SEED && strcmp(x->name, "lab-frontend") == 0)
                        sd = x;
        }
        assert_non_null(sd);
        assert_null(vcm_resource_prop(sd, VCM_SEED_PROP_USER_DATA));
        uint64_t hash = sd->hash;

        assert_int_equal(vcm_desired_seed_files(r, sd), 0);
        const char *ud = vcm_resource_prop(sd, VCM_SEED_PROP_USER_DATA);
        assert_non_null(ud);
        assert_non_null(vcm_resource_prop(sd, VCM_SEED_PROP_META_DATA));
        assert_non_null(vcm_resource_prop(sd, VCM_SEED_PROP_NETWORK_CONFIG));
        assert_true(sd->hash == hash); /* files are meta: the compared hash is unchanged */
        /* The same files `vcm seed` shows for the node (MACs as the model gives them). */
        vcm_seed want = { 0 };
        assert_int_equal(vcm_seed_render_node(r, &r->clusters[0], "frontend", &want), 0);
        assert_string_equal(ud, want.user_data);
        char digest[17];
        snprintf(digest, sizeof(digest), "%016llx", (unsigned long long)want.digest);
        assert_string_equal(vcm_resource_prop(sd, "digest"), digest);
        vcm_seed_clear(&want);

        /* Inputs that no longer give the planned digest: refused, nothing half-written. */
        vcm_resource *bad = vcm_resource_set_put(b.set, VCM_KIND_SEED, "gw1", "x-frontend", "lab");
        for (size_t i = 0; i < sd->n_props; i++)
                if (strcmp(sd->props[i].key, VCM_SEED_PROP_USER_DATA) != 0)
                        vcm_resource_set_prop(bad, sd->props[i].key, sd->props[i].value);
        vcm_resource_set_prop(bad, "meta.mac0", "02:00:00:00:00:01");
        assert_int_equal(vcm_desired_seed_files(r, bad), -ESTALE);
        assert_null(vcm_resource_prop(bad, VCM_SEED_PROP_USER_DATA));
        vcm_resource *orphan = vcm_resource_set_put(b.set, VCM_KIND_SEED, "gw1", "y", "nosuch");
        assert_int_equal(vcm_desired_seed_files(r, orphan), -ENOENT);
        built_free(&b);
        fx_repo_free(r);
}

/* Seeds are rendered together once every cluster is placed. One that cannot be rendered (here a
 * /30 that numbers the frontend and one node, not three) takes its cluster back whole, Stalled
 * with the reason; the clusters around it keep every resource, each seed with its digest. */
static void test_seed_failure_takes_cluster_back(void **state) {
        (void)state;
        vcm_repo *r = two_host_repo(VCM_NET_VLAN, VCM_STORAGE_FILE);
        fx_add_group(fx_add_cluster(r, "aa"), "compute", 3, 1, FX_GIB);
        vcm_cluster *bad = fx_add_cluster(r, "bb");
        fx_add_group(bad, "compute", 3, 1, FX_GIB);
        free(bad->network.subnet);
        bad->network.subnet = strdup("10.20.0.0/30");
        fx_add_group(fx_add_cluster(r, "cc"), "compute", 3, 1, FX_GIB);
        built b = build(r, NULL);
        size_t seeds[3] = { 0 }, domains[3] = { 0 };
        for (size_t i = 0; i < vcm_resource_set_size(b.set); i++) {
                const vcm_resource *x = vcm_resource_set_at(b.set, i);
                assert_non_null(x->cluster);
                int k = x->cluster[0] - 'a';
                assert_true(k >= 0 && k < 3);
                if (x->kind == VCM_KIND_SEED) {
                        seeds[k]++;
                        const char *digest = vcm_resource_prop(x, "digest");
                        assert_non_null(digest);
                        assert_int_equal(strlen(digest), 16);
                        assert_true(x->hash == vcm_props_hash(x->props, x->n_props));
                } else if (x->kind == VCM_KIND_DOMAIN) {
                        domains[k]++;
                        assert_non_null(vcm_resource_prop(x, "seed.digest"));
                        assert_true(x->hash == vcm_props_hash(x->props, x->n_props));
                }
        }
        assert_int_equal(seeds[0], 4);
        assert_int_equal(domains[0], 4);
        assert_int_equal(seeds[1] + domains[1], 0);
        assert_int_equal(seeds[2], 4);
        assert_int_equal(domains[2], 4);
        assert_false(b.evals[1].placed);
        assert_int_equal(b.evals[1].blocked_state, VCM_STATE_STALLED);
        assert_non_null(strstr(b.evals[1].blocked_reason, "cannot hold this cluster"));
        assert_true(b.evals[0].placed && b.evals[2].placed);
        assert_int_equal(b.diags.n_errors, 1);
        built_free(&b);
        fx_repo_free(r);
}

/* Every seed's digest and its domain's seed.digest, in set order. */
static char *seed_digests_of(const vcm_resource_set *set) {
        size_t len = 0;
        char *buf = NULL;
        FILE *f = open_memstream(&buf, &len);
        for (size_t i = 0; i < vcm_resource_set_size(set); i++) {
                const vcm_resource *x = vcm_resource_set_at(set, i);
                if (x->kind == VCM_KIND_SEED)
                        fprintf(f, "%s seed %s %016llx\n", x->name, vcm_resource_prop(x, "digest"),
                                (unsigned long long)x->hash);
                else if (x->kind == VCM_KIND_DOMAIN)
                        fprintf(f, "%s domain %s %016llx\n", x->name,
                                vcm_resource_prop(x, "seed.digest"), (unsigned long long)x->hash);
        }
        fclose(f);
        return buf;
}

static char *digests_built(const vcm_repo *r, vcm_seed_memo *memo) {
        vcm_desired_opts o = { .seed_memo = memo };
        built b = build_at(r, 1000, NULL, &o);
        char *d = seed_digests_of(b.set);
        built_free(&b);
        return d;
}

/* The service's memo of seed digests gives what rendering gives, serves a second pass over the
 * same repo without rendering, and renders again for another repo or after a reset. */
static void test_seed_memo(void **state) {
        (void)state;
        vcm_repo *r = two_host_repo(VCM_NET_VLAN, VCM_STORAGE_FILE);
        /* Room for 153 nodes: enough seeds to be rendered on two threads. */
        fx_add_host(r, "big", VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER, 512, 1024 * FX_GIB);
        fx_add_group(fx_add_cluster(r, "aa"), "compute", 50, 1, FX_GIB);
        fx_add_group(fx_add_cluster(r, "bb"), "compute", 50, 1, FX_GIB);
        fx_add_group(fx_add_cluster(r, "cc"), "compute", 50, 1, FX_GIB);
        char *plain = digests_built(r, NULL);
        vcm_seed_memo *m = vcm_seed_memo_new();
        char *first = digests_built(r, m), *second = digests_built(r, m);
        assert_string_equal(first, plain);
        assert_string_equal(second, plain);
        size_t hits, rendered;
        vcm_seed_memo_counts(m, &hits, &rendered);
        assert_int_equal(rendered, 153); /* 3 x (frontend + 50 nodes), by the first build */
        assert_int_equal(hits, 153);     /* the second build rendered none */

        /* Another repo: the memo starts over. */
        vcm_repo *r2 = two_host_repo(VCM_NET_VLAN, VCM_STORAGE_FILE);
        vcm_cluster *c2 = fx_add_cluster(r2, "aa");
        fx_add_group(c2, "compute", 10, 1, FX_GIB);
        free(c2->network.subnet);
        c2->network.subnet = strdup("10.30.0.0/24");
        char *plain2 = digests_built(r2, NULL), *memo2 = digests_built(r2, m);
        assert_string_equal(memo2, plain2);
        assert_non_null(strstr(plain2, "aa-compute-9 seed"));
        assert_string_not_equal(plain2, plain);

        /* The same repo changed in place, after a reset (what the loop does on new specs): a
         * node fewer changes the frontend's tables, under the same memo key. */
        r2->clusters[0].nodes[0].count = 9;
        vcm_seed_memo_reset(m);
        char *plain3 = digests_built(r2, NULL), *memo3 = digests_built(r2, m);
        assert_string_equal(memo3, plain3);
        assert_null(strstr(plain3, "aa-compute-9 seed"));
        assert_non_null(strstr(plain3, "aa-frontend seed"));
        assert_string_not_equal(strstr(plain3, "aa-frontend seed"),
                                strstr(plain2, "aa-frontend seed"));
        vcm_seed_memo_free(m);
        free(plain);
        free(first);
        free(second);
        free(plain2);
        free(memo2);
        free(plain3);
        free(memo3);
        fx_repo_free(r2);
        fx_repo_free(r);
}

static void test_bridge_backend_lvm_iscsi_pxe_kernel(void **state) {
        vcm_repo *r = two_host_repo(VCM_NET_BRIDGE, VCM_STORAGE_LVM_ISCSI);
        fx_add_image(r, "frontend", NULL, "/boot/vmlinuz");
        vcm_cluster *c = fx_add_cluster(r, "lab");
        vcm_node_group *g = fx_add_group(c, "compute", 1, 1, FX_GIB);
        g->install = VCM_INSTALL_PXE;
        /* The bridge backend with a range takes ids from it (sites sharing a host)... */
        built ranged = build(r, NULL);
        assert_int_equal(ranged.evals[0].netid, 100);
        assert_non_null(vcm_resource_set_find(ranged.set, VCM_KIND_BRIDGE, "gw1", "vcmbr100"));
        built_free(&ranged);
        /* ...and without one from 1..4094. */
        r->site->vlan_from = r->site->vlan_to = 0;
        built b = build(r, NULL);
        assert_int_equal(b.evals[0].netid, 1);
        assert_int_equal(fx_count(b.set, VCM_KIND_VLAN_LINK, NULL), 0);
        const vcm_resource *fe = vcm_resource_set_find(b.set, VCM_KIND_DOMAIN, "gw1", "lab-frontend");
        assert_string_equal(vcm_resource_prop(fe, "boot"), "kernel");
        assert_string_equal(vcm_resource_prop(fe, "kernel"), "/boot/vmlinuz");
        assert_string_equal(vcm_resource_prop(fe, "disk0"),
                            "iscsi:192.0.2.10:3260/iqn.2026-01.org.vcm:lab/1");
        /* lvm-iscsi: volumes live on the storage host; pxe nodes get empty disks. */
        const vcm_resource *v = vcm_resource_set_find(b.set, VCM_KIND_VOLUME, "st1", "lab-compute-0");
        assert_non_null(v);
        assert_null(vcm_resource_prop(v, "clone"));
        assert_string_equal(vcm_resource_prop(v, "pool"), "vcm");
        const vcm_resource *n = vcm_resource_set_find(b.set, VCM_KIND_DOMAIN, "vm2", "lab-compute-0");
        if (!n)
                n = vcm_resource_set_find(b.set, VCM_KIND_DOMAIN, "gw1", "lab-compute-0");
        assert_string_equal(vcm_resource_prop(n, "boot"), "network");
        built_free(&b);
        fx_repo_free(r);
}

static void test_mac_stable_and_distinct(void **state) {
        char a[18], b2[18], c[18], d[18];
        vcm_mac_for("lab", "x", "compute-0", 0, a);
        vcm_mac_for("lab", "x", "compute-0", 0, b2);
        vcm_mac_for("lab", "x", "compute-1", 0, c);
        vcm_mac_for("lab", "x", "compute-0", 1, d);
        assert_string_equal(a, b2);
        assert_string_not_equal(a, c);
        assert_string_not_equal(a, d);
        assert_memory_equal(a, "02:", 3);
}

/* Observed bridge of another cluster holds its id; a new cluster never takes it. */
static void put_bridge(vcm_resource_set *obs, const char *host, uint32_t id, const char *cluster) {
        char name[32];
        snprintf(name, sizeof(name), "vcmbr%u", id);
        vcm_resource *x = vcm_resource_set_put(obs, VCM_KIND_BRIDGE, host, name, cluster);
        vcm_resource_set_propf(x, "netid", "%u", id);
}

static void test_netid_allocation(void **state) {
        vcm_repo *r = two_host_repo(VCM_NET_VLAN, VCM_STORAGE_FILE);
        fx_add_cluster(r, "a");          /* auto, already has 105 on its bridge */
        fx_add_cluster(r, "b");          /* auto, new */
        vcm_cluster *c = fx_add_cluster(r, "c"); /* fixed 101 */
        c->network.vlan_auto = false;
        c->network.vlan = 101;
        fx_add_cluster(r, "d");          /* auto, new */
        vcm_resource_set *obs = vcm_resource_set_new();
        put_bridge(obs, "gw1", 105, "a");
        put_bridge(obs, "gw1", 100, "gone"); /* a released cluster not deleted yet */
        built b = build(r, obs);
        assert_int_equal(b.evals[0].netid, 105); /* stable */
        assert_int_equal(b.evals[1].netid, 102); /* 100 in use, 101 fixed by c */
        assert_int_equal(b.evals[2].netid, 101);
        assert_int_equal(b.evals[3].netid, 103);
        built_free(&b);

        /* Stable across passes: observe what the first pass made, allocate again. */
        built b1 = build(r, obs);
        vcm_resource_set *obs2 = vcm_resource_set_new();
        for (size_t i = 0; i < vcm_resource_set_size(b1.set); i++)
                vcm_resource_set_add_copy(obs2, vcm_resource_set_at(b1.set, i));
        /* "a" is released meanwhile: its id must not move to b or d, which keep theirs. */
        fx_remove_cluster(r, "a");
        built b2 = build(r, obs2);
        assert_int_equal(b2.evals[0].netid, 102); /* b */
        assert_int_equal(b2.evals[1].netid, 101); /* c */
        assert_int_equal(b2.evals[2].netid, 103); /* d */
        /* A new cluster does not get 105 while a's bridge still exists. */
        fx_add_cluster(r, "e");
        vcm_resource_set_free(obs2);
        obs2 = vcm_resource_set_new();
        for (size_t i = 0; i < vcm_resource_set_size(b1.set); i++)
                vcm_resource_set_add_copy(obs2, vcm_resource_set_at(b1.set, i));
        put_bridge(obs2, "vm2", 100, "gone");
        built b3 = build(r, obs2);
        assert_int_equal(b3.evals[3].netid, 104);
        built_free(&b1);
        built_free(&b2);
        built_free(&b3);
        vcm_resource_set_free(obs2);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_netid_fixed_held_and_exhausted(void **state) {
        vcm_repo *r = two_host_repo(VCM_NET_VLAN, VCM_STORAGE_FILE);
        r->site->vlan_from = 100;
        r->site->vlan_to = 101;
        vcm_cluster *c = fx_add_cluster(r, "a");
        c->network.vlan_auto = false;
        c->network.vlan = 100;
        fx_add_cluster(r, "b");
        fx_add_cluster(r, "c");
        vcm_resource_set *obs = vcm_resource_set_new();
        put_bridge(obs, "gw1", 100, "old");
        built b = build(r, obs);
        assert_false(b.evals[0].placed); /* 100 still held by "old" */
        assert_int_equal(b.evals[0].blocked_state, VCM_STATE_PENDING);
        assert_non_null(strstr(b.evals[0].blocked_reason, "held by cluster old"));
        assert_true(b.evals[1].placed);
        assert_int_equal(b.evals[1].netid, 101);
        assert_false(b.evals[2].placed); /* range exhausted */
        assert_non_null(strstr(b.evals[2].blocked_reason, "no free network id"));
        assert_int_equal(b.diags.n_errors, 2);
        /* Nothing of the blocked clusters is desired. */
        assert_int_equal(fx_count(b.set, VCM_KIND_DOMAIN, "a"), 0);
        assert_int_equal(fx_count(b.set, VCM_KIND_DOMAIN, "c"), 0);
        built_free(&b);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_placement_keeps_existing(void **state) {
        vcm_repo *r = two_host_repo(VCM_NET_VLAN, VCM_STORAGE_FILE);
        vcm_cluster *c = fx_add_cluster(r, "lab");
        fx_add_group(c, "compute", 2, 1, FX_GIB);
        /* compute-0 already runs on gw1, where fresh placement would not put it first. */
        vcm_resource_set *obs = vcm_resource_set_new();
        vcm_resource *d = vcm_resource_set_put(obs, VCM_KIND_DOMAIN, "gw1", "lab-compute-0", "lab");
        vcm_resource_set_prop(d, "vcpus", "1");
        vcm_resource_set_prop(d, "memory", "1073741824");
        d = vcm_resource_set_put(obs, VCM_KIND_DOMAIN, "gw1", "lab-compute-1", "lab");
        vcm_resource_set_prop(d, "vcpus", "1");
        vcm_resource_set_prop(d, "memory", "1073741824");
        built b = build(r, obs);
        assert_non_null(vcm_resource_set_find(b.set, VCM_KIND_DOMAIN, "gw1", "lab-compute-0"));
        assert_non_null(vcm_resource_set_find(b.set, VCM_KIND_DOMAIN, "gw1", "lab-compute-1"));
        assert_non_null(vcm_resource_set_find(b.set, VCM_KIND_VOLUME, "gw1", "lab-compute-1"));
        built_free(&b);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_placement_spreads_and_counts_capacity(void **state) {
        vcm_repo *r = fx_repo_new(VCM_NET_VLAN, VCM_STORAGE_FILE);
        fx_add_host(r, "gw1", VCM_ROLE_GATEWAY, 16, 16 * FX_GIB);
        fx_add_host(r, "vm1", VCM_ROLE_VM_SERVER, 8, 8 * FX_GIB);
        fx_add_host(r, "vm2", VCM_ROLE_VM_SERVER, 8, 8 * FX_GIB);
        fx_add_host(r, "vm3", VCM_ROLE_VM_SERVER, 8, 8 * FX_GIB);
        vcm_cluster *a = fx_add_cluster(r, "a");
        fx_add_group(a, "compute", 6, 1, 2 * FX_GIB); /* 2 per host */
        vcm_cluster *bb = fx_add_cluster(r, "b");
        fx_add_group(bb, "compute", 6, 1, 2 * FX_GIB); /* fills the rest: 4 GiB left per host */
        vcm_cluster *cc = fx_add_cluster(r, "c");
        fx_add_group(cc, "compute", 1, 1, 2 * FX_GIB); /* no room left */
        vcm_cluster *dd = fx_add_cluster(r, "d");
        dd->frontend.vcpus = 1;
        dd->frontend.memory = FX_GIB; /* frontend only: fits on gw1 next to the others */
        built b = build(r, NULL);
        const char *hosts[] = { "vm1", "vm2", "vm3" };
        for (size_t h = 0; h < 3; h++) {
                size_t na = 0, nb = 0;
                for (size_t i = 0; i < vcm_resource_set_size(b.set); i++) {
                        const vcm_resource *x = vcm_resource_set_at(b.set, i);
                        if (x->kind != VCM_KIND_DOMAIN || strcmp(x->host, hosts[h]))
                                continue;
                        na += !strcmp(x->cluster, "a");
                        nb += !strcmp(x->cluster, "b");
                }
                assert_int_equal(na, 2);
                assert_int_equal(nb, 2);
        }
        assert_true(b.evals[0].placed);
        assert_true(b.evals[1].placed);
        assert_false(b.evals[2].placed);
        assert_int_equal(b.evals[2].blocked_state, VCM_STATE_PENDING);
        assert_non_null(strstr(b.evals[2].blocked_reason, "no vm-server host has room"));
        assert_true(b.evals[3].placed); /* others go on */
        assert_int_equal(fx_count(b.set, VCM_KIND_DOMAIN, "c"), 0);
        assert_int_equal(fx_count(b.set, VCM_KIND_VOLUME, "c"), 0);
        assert_int_equal(fx_count(b.set, VCM_KIND_BRIDGE, "c"), 0);
        built_free(&b);
        fx_repo_free(r);
}

static void test_placement_counts_observed(void **state) {
        vcm_repo *r = fx_repo_new(VCM_NET_VLAN, VCM_STORAGE_FILE);
        fx_add_host(r, "gw1", VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER, 4, 4 * FX_GIB);
        vcm_cluster *c = fx_add_cluster(r, "new");
        (void)c;
        /* Another cluster's frontend already takes 3 GiB. */
        vcm_resource_set *obs = vcm_resource_set_new();
        vcm_resource *d = vcm_resource_set_put(obs, VCM_KIND_DOMAIN, "gw1", "old-frontend", "old");
        vcm_resource_set_prop(d, "vcpus", "1");
        vcm_resource_set_prop(d, "memory", "3221225472");
        built b = build(r, obs);
        assert_false(b.evals[0].placed);
        assert_non_null(strstr(b.evals[0].blocked_reason, "no gateway host has room for frontend"));
        built_free(&b);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

/* Two reservations each fine alone, merged in the "wrong" order: the one whose file entered the
 * branch first keeps the room, whatever the names or window starts say; the other waits Pending
 * and names who holds the room. A running cluster is never evicted by one admitted earlier. */
static void test_first_admitted_keeps_contested_room(void **state) {
        vcm_repo *r = fx_repo_new(VCM_NET_VLAN, VCM_STORAGE_FILE);
        fx_add_host(r, "gw1", VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER, 4, 4 * FX_GIB);
        fx_add_cluster(r, "aaa");
        fx_add_cluster(r, "zzz"); /* clusters live in an array: pointers after the last add */
        vcm_cluster *a = &r->clusters[0], *z = &r->clusters[1];
        a->frontend.memory = 3 * FX_GIB;
        a->admitted = 2;
        z->frontend.memory = 3 * FX_GIB;
        z->admitted = 1;
        z->admitted_commit = strdup("c0ffee");
        built b = build(r, NULL);
        assert_false(b.evals[0].placed);
        assert_true(b.evals[1].placed);
        assert_int_equal(b.evals[0].blocked_state, VCM_STATE_PENDING);
        assert_non_null(strstr(b.evals[0].blocked_reason, "no gateway host has room for frontend"));
        assert_non_null(strstr(b.evals[0].blocked_reason, "the room is held by zzz"));
        assert_int_equal(b.diags.n_errors, 0);
        assert_int_equal(b.diags.n, 1);
        assert_int_equal(b.diags.items[0].severity, VCM_SEV_WARNING);
        assert_non_null(strstr(b.diags.items[0].message, "cluster aaa cannot be placed"));
        built_free(&b);

        /* Without admission (a directory source): earlier window start, then name, as validate. */
        a->admitted = z->admitted = 0;
        b = build(r, NULL);
        assert_true(b.evals[0].placed);
        assert_false(b.evals[1].placed);
        built_free(&b);

        /* aaa already runs: zzz, admitted first, still waits. */
        a->admitted = 2;
        z->admitted = 1;
        vcm_resource_set *obs = vcm_resource_set_new();
        vcm_resource *d = vcm_resource_set_put(obs, VCM_KIND_DOMAIN, "gw1", "aaa-frontend", "aaa");
        vcm_resource_set_prop(d, "vcpus", "2");
        vcm_resource_set_prop(d, "memory", "3221225472");
        b = build(r, obs);
        assert_true(b.evals[0].placed);
        assert_false(b.evals[1].placed);
        assert_non_null(strstr(b.evals[1].blocked_reason, "the room is held by aaa"));
        built_free(&b);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_unreachable_host_holds_placement(void **state) {
        vcm_repo *r = two_host_repo(VCM_NET_VLAN, VCM_STORAGE_FILE);
        vcm_cluster *c = fx_add_cluster(r, "old");
        fx_add_group(c, "compute", 2, 1, FX_GIB);
        fx_add_cluster(r, "fresh");
        /* "old" owns its frontend on gw1; vm2 cannot be observed and may hold its nodes. */
        vcm_resource_set *obs = vcm_resource_set_new();
        vcm_resource_set_put(obs, VCM_KIND_DOMAIN, "gw1", "old-frontend", "old");
        const char *down[] = { "vm2" };
        vcm_desired_opts o = { .unreachable_hosts = down, .n_unreachable = 1 };
        vcm_resource_set *set = NULL;
        vcm_cluster_eval *ev = NULL;
        vcm_diags diags = { 0 };
        assert_int_equal(vcm_desired_build(r, 1000, obs, &o, &diags, &set, &ev), 0);
        assert_false(ev[0].placed);
        assert_int_equal(ev[0].blocked_state, VCM_STATE_DEGRADED);
        assert_true(ev[1].placed); /* a new cluster goes on, on reachable hosts */
        assert_int_equal(fx_count(set, VCM_KIND_DOMAIN, "old"), 0);
        vcm_resource_set_free(set);
        vcm_cluster_evals_free(ev, r->n_clusters);
        vcm_diags_clear(&diags);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_inactive_and_no_site(void **state) {
        vcm_repo *r = two_host_repo(VCM_NET_VLAN, VCM_STORAGE_FILE);
        vcm_cluster *c = fx_add_cluster(r, "later");
        fx_set_window(c, true, 5000, false, 0);
        built b = build(r, NULL);
        assert_false(b.evals[0].active);
        assert_int_equal(b.evals[0].phase, VCM_WINDOW_BEFORE);
        assert_int_equal(vcm_resource_set_size(b.set), 0);
        built_free(&b);

        vcm_site *site = r->site;
        r->site = NULL;
        vcm_resource_set *set = NULL;
        vcm_cluster_eval *ev = NULL;
        vcm_diags diags = { 0 };
        vcm_resource_set *obs = vcm_resource_set_new();
        assert_int_equal(vcm_desired_build(r, 0, obs, NULL, &diags, &set, &ev), -EINVAL);
        vcm_resource_set_free(obs);
        r->site = site;
        fx_repo_free(r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cluster_resources_vlan_file),
                cmocka_unit_test(test_bridge_backend_lvm_iscsi_pxe_kernel),
                cmocka_unit_test(test_seed_files_rendered_for_steps),
                cmocka_unit_test(test_seed_failure_takes_cluster_back),
                cmocka_unit_test(test_seed_memo),
                cmocka_unit_test(test_mac_stable_and_distinct),
                cmocka_unit_test(test_netid_allocation),
                cmocka_unit_test(test_netid_fixed_held_and_exhausted),
                cmocka_unit_test(test_placement_keeps_existing),
                cmocka_unit_test(test_placement_spreads_and_counts_capacity),
                cmocka_unit_test(test_placement_counts_observed),
                cmocka_unit_test(test_first_admitted_keeps_contested_room),
                cmocka_unit_test(test_unreachable_host_holds_placement),
                cmocka_unit_test(test_inactive_and_no_site),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
