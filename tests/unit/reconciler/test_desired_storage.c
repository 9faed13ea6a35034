/* Storage placement on the lvm-iscsi backend with several storage hosts: a cluster's volumes,
 * target, LUNs and ACLs on one storage host chosen by free capacity; an existing cluster stays;
 * none fits: Pending; an unreachable storage host: Degraded; validate agrees; the plan names
 * the storage host of each step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

#include "fixtures.h"
#include "desired_fixture.h"
#include "plan_fixture.h"
#include "reconciler/capacity.h"
#include "reconciler/desired.h"
#include "reconciler/plan.h"
#include "reconciler/props.h"
#include "reconciler/storage_placement.h"

#define ST2_PORTAL "192.0.2.11:3260"

/* gw1 (gateway + vm-server), vm2, then `n_st` storage hosts st1.. with capacity.storage
 * `cap_gib` each (0: not given). st1's portal is the fixture's 192.0.2.10, st2's .11. */
static vcm_repo *site_new(size_t n_st, uint64_t cap_gib) {
        vcm_repo *r = fx_repo_new(VCM_NET_VLAN, VCM_STORAGE_LVM_ISCSI);
        fx_add_host(r, "gw1", VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER, 64, 256 * FX_GIB);
        fx_add_host(r, "vm2", VCM_ROLE_VM_SERVER, 64, 256 * FX_GIB);
        for (size_t i = 0; i < n_st; i++) {
                char name[16];
                snprintf(name, sizeof(name), "st%zu", i + 1);
                vcm_host *h = fx_add_host(r, name, VCM_ROLE_STORAGE, 0, 0);
                h->capacity_storage = cap_gib * FX_GIB;
                if (i == 1) {
                        free(h->portal);
                        h->portal = strdup(ST2_PORTAL);
                }
        }
        fx_add_image(r, "compute", "img-compute", NULL);
        return r;
}

static vcm_host *host(vcm_repo *r, const char *name) {
        for (size_t i = 0; i < r->site->n_hosts; i++)
                if (!strcmp(r->site->hosts[i].name, name))
                        return &r->site->hosts[i];
        fail();
        return NULL;
}

/* A cluster of a frontend (10 GiB disk) and one node (20 GiB): 30 GiB + `shared_gib`. */
static vcm_cluster *add(vcm_repo *r, const char *name, uint64_t shared_gib) {
        vcm_cluster *c = fx_add_cluster(r, name);
        fx_add_group(c, "compute", 1, 1, FX_GIB);
        c->shared_storage = shared_gib * FX_GIB;
        return c;
}

static size_t eval_index(const built *b, const char *name) {
        for (size_t i = 0; i < b->n; i++)
                if (!strcmp(b->evals[i].spec->name, name))
                        return i;
        fail();
        return 0;
}

/* Everything of the cluster's storage is on `st` and nowhere else; its domains name the portal
 * of `st` and depend on its LUN and ACL there. */
static void assert_storage_on(const built *b, const char *cluster, const char *st,
                              const char *portal) {
        size_t n_storage = 0;
        for (size_t i = 0; i < vcm_resource_set_size(b->set); i++) {
                const vcm_resource *x = vcm_resource_set_at(b->set, i);
                if (strcmp(x->cluster, cluster) != 0)
                        continue;
                if (x->kind == VCM_KIND_VOLUME || x->kind == VCM_KIND_ISCSI_TARGET ||
                    x->kind == VCM_KIND_ISCSI_LUN || x->kind == VCM_KIND_ISCSI_ACL) {
                        assert_string_equal(x->host, st);
                        n_storage++;
                }
                if (x->kind != VCM_KIND_DOMAIN)
                        continue;
                char want[256];
                snprintf(want, sizeof(want), "iscsi:%s/%s%s/", portal, VCM_IQN_PREFIX, cluster);
                assert_memory_equal(vcm_resource_prop(x, "disk0"), want, strlen(want));
                bool lun = false, acl = false;
                for (size_t d = 0; d < x->n_deps; d++) {
                        const vcm_res_key *k = &x->deps[d];
                        lun |= k->kind == VCM_KIND_ISCSI_LUN && !strcmp(k->host, st);
                        acl |= k->kind == VCM_KIND_ISCSI_ACL && !strcmp(k->host, st);
                }
                assert_true(lun && acl);
        }
        /* 2 or 3 volumes (frontend, node, shared), target, a LUN each, an ACL per VM host. */
        assert_true(n_storage >= 6);
        char iqn[128];
        snprintf(iqn, sizeof(iqn), VCM_IQN_PREFIX "%s", cluster);
        assert_non_null(vcm_resource_set_find(b->set, VCM_KIND_ISCSI_TARGET, st, iqn));
}

static size_t count_cluster(const vcm_resource_set *s, const char *cluster) {
        size_t n = 0;
        for (size_t i = 0; i < vcm_resource_set_size(s); i++)
                n += !strcmp(vcm_resource_set_at(s, i)->cluster, cluster);
        return n;
}

static size_t count_host(const vcm_resource_set *s, const char *h) {
        size_t n = 0;
        for (size_t i = 0; i < vcm_resource_set_size(s); i++)
                n += !strcmp(vcm_resource_set_at(s, i)->host, h);
        return n;
}

/* An observed volume of `cluster` on `h`. */
static void observe_volume(vcm_resource_set *obs, const char *h, const char *name,
                           const char *cluster, uint64_t gib) {
        vcm_resource *v = vcm_resource_set_put(obs, VCM_KIND_VOLUME, h, name, cluster);
        vcm_resource_set_propf(v, "size", "%llu", (unsigned long long)(gib * FX_GIB));
        vcm_resource_rehash(v);
}

/* The shared rule on its own: most free room, unknown capacity as unlimited then least used,
 * ties in site order, -ENOSPC only when every host has a capacity and none fits. */
static void test_choose_rule(void **state) {
        vcm_repo *r = site_new(2, 100);
        uint64_t used[4] = { 0 };
        size_t h = SIZE_MAX;
        assert_int_equal(vcm_storage_choose(r->site, used, 70 * FX_GIB, &h), 0);
        assert_int_equal(h, 2); /* tie: site order */
        used[2] = 10 * FX_GIB;
        assert_int_equal(vcm_storage_choose(r->site, used, 70 * FX_GIB, &h), 0);
        assert_int_equal(h, 3);
        used[3] = 50 * FX_GIB;
        assert_int_equal(vcm_storage_choose(r->site, used, 95 * FX_GIB, &h), -ENOSPC);
        char *txt = vcm_storage_free_text(r->site, used);
        assert_string_equal(txt, "st1 90GiB free, st2 50GiB free");
        free(txt);
        /* st2 without capacity.storage: unlimited, wins over any known room. */
        host(r, "st2")->capacity_storage = 0;
        assert_int_equal(vcm_storage_choose(r->site, used, 95 * FX_GIB, &h), 0);
        assert_int_equal(h, 3);
        /* Neither gives it: the least used. */
        host(r, "st1")->capacity_storage = 0;
        assert_int_equal(vcm_storage_choose(r->site, used, 95 * FX_GIB, &h), 0);
        assert_int_equal(h, 2);
        /* Without a portal a storage host is not eligible. */
        free(host(r, "st1")->portal);
        host(r, "st1")->portal = NULL;
        free(host(r, "st2")->volume_group);
        host(r, "st2")->volume_group = NULL;
        assert_int_equal(vcm_storage_choose(r->site, used, 1, &h), -ENODEV);
        fx_repo_free(r);
}

/* Three clusters of 70 GiB on st1 (100 GiB) and st2 (200 GiB): the most free room each time. */
static void test_spread_by_free_capacity(void **state) {
        vcm_repo *r = site_new(2, 0);
        host(r, "st1")->capacity_storage = 100 * FX_GIB;
        host(r, "st2")->capacity_storage = 200 * FX_GIB;
        add(r, "a", 40);
        add(r, "b", 40);
        add(r, "c", 40);
        built b = build(r, NULL);
        for (size_t i = 0; i < 3; i++)
                assert_true(b.evals[i].placed);
        assert_storage_on(&b, "a", "st2", ST2_PORTAL);  /* 200 free against 100 */
        assert_storage_on(&b, "b", "st2", ST2_PORTAL);  /* 130 against 100 */
        assert_storage_on(&b, "c", "st1", "192.0.2.10:3260"); /* 100 against 60 */
        const vcm_resource *lun = vcm_resource_set_find(b.set, VCM_KIND_ISCSI_LUN, "st1",
                                                        "c-shared");
        assert_string_equal(vcm_resource_prop(lun, "lun"), "0");
        assert_string_equal(vcm_resource_prop(lun, "device"), "/dev/vcm/c-shared");
        built_free(&b);

        /* Without capacity.storage: spread by bytes used, ties in site order. */
        host(r, "st1")->capacity_storage = 0;
        host(r, "st2")->capacity_storage = 0;
        r->clusters[0].shared_storage = 0;  /* a: 30 GiB */
        r->clusters[2].shared_storage = 0;  /* c: 30 GiB */
        b = build(r, NULL);
        assert_storage_on(&b, "a", "st1", "192.0.2.10:3260");
        assert_storage_on(&b, "b", "st2", ST2_PORTAL);
        assert_storage_on(&b, "c", "st1", "192.0.2.10:3260"); /* 30 used against 70 */
        built_free(&b);
        fx_repo_free(r);
}

/* A cluster whose storage exists stays on its host even when the other has more room, and what
 * it holds counts against new clusters. */
static void test_existing_stays(void **state) {
        vcm_repo *r = site_new(2, 0);
        host(r, "st1")->capacity_storage = 100 * FX_GIB;
        host(r, "st2")->capacity_storage = 200 * FX_GIB;
        add(r, "old", 40);
        add(r, "zed", 0);
        vcm_resource_set *obs = vcm_resource_set_new();
        observe_volume(obs, "st1", "old-shared", "old", 40);
        built b = build(r, obs);
        assert_true(b.evals[eval_index(&b, "old")].placed);
        assert_storage_on(&b, "old", "st1", "192.0.2.10:3260");
        assert_storage_on(&b, "zed", "st2", ST2_PORTAL);
        built_free(&b);
        vcm_resource_set_free(obs);

        /* Only its target is seen (its volumes went, or not yet created): still its host. */
        obs = vcm_resource_set_new();
        vcm_resource_set_put(obs, VCM_KIND_ISCSI_TARGET, "st1", VCM_IQN_PREFIX "old", "old");
        b = build(r, obs);
        assert_storage_on(&b, "old", "st1", "192.0.2.10:3260");
        built_free(&b);
        vcm_resource_set_free(obs);

        /* What an existing cluster still has to create counts on its host. In placement order
         * (old, other, zed): old stays on st1 (40 seen + 30 to come = 70 of 100), other stays
         * on st2 (60 of 100); zed (30) then finds 30 free on st1 and 40 on st2: st2. Were old's
         * 30 to come not counted, st1 would show 60 free and win. */
        host(r, "st2")->capacity_storage = 100 * FX_GIB;
        add(r, "other", 30); /* 60 GiB */
        obs = vcm_resource_set_new();
        observe_volume(obs, "st1", "old-shared", "old", 40);
        observe_volume(obs, "st2", "other-shared", "other", 30);
        observe_volume(obs, "st2", "other-frontend", "other", 10);
        observe_volume(obs, "st2", "other-compute-0", "other", 20);
        b = build(r, obs);
        assert_storage_on(&b, "old", "st1", "192.0.2.10:3260");
        assert_storage_on(&b, "other", "st2", ST2_PORTAL);
        assert_storage_on(&b, "zed", "st2", ST2_PORTAL);
        built_free(&b);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

/* No storage host with a known capacity has room: the cluster waits Pending, the reason names
 * each host's free room, and nothing of it is desired. */
static void test_none_fits_pending(void **state) {
        vcm_repo *r = site_new(2, 0);
        host(r, "st1")->capacity_storage = 50 * FX_GIB;
        host(r, "st2")->capacity_storage = 60 * FX_GIB;
        add(r, "a", 0);   /* 30 GiB: st2 */
        add(r, "big", 40); /* 70 GiB */
        built b = build(r, NULL);
        assert_true(b.evals[0].placed);
        assert_storage_on(&b, "a", "st2", ST2_PORTAL);
        assert_false(b.evals[1].placed);
        assert_int_equal(b.evals[1].blocked_state, VCM_STATE_PENDING);
        assert_string_equal(b.evals[1].blocked_reason,
                            "no storage host has room for the cluster's volumes (needs 70GiB; "
                            "st1 50GiB free, st2 30GiB free); the room is held by a");
        assert_int_equal(count_cluster(b.set, "big"), 0);
        bool warned = false;
        for (size_t i = 0; i < b.diags.n; i++)
                warned |= strstr(b.diags.items[i].message, "cluster big cannot be placed") != NULL;
        assert_true(warned);
        built_free(&b);
        fx_repo_free(r);

        /* One storage host with capacity.storage: the same. */
        r = site_new(1, 50);
        add(r, "big", 40);
        b = build(r, NULL);
        assert_false(b.evals[0].placed);
        assert_string_equal(b.evals[0].blocked_reason,
                            "no storage host has room for the cluster's volumes (needs 70GiB; "
                            "st1 50GiB free)");
        built_free(&b);
        /* One storage host without it: placed as before; the lvm provider checks the volume
         * group when it creates the volumes. */
        host(r, "st1")->capacity_storage = 0;
        b = build(r, NULL);
        assert_true(b.evals[0].placed);
        assert_storage_on(&b, "big", "st1", "192.0.2.10:3260");
        built_free(&b);
        fx_repo_free(r);
}

/* Room held by clusters being released counts as free when pruning runs; volumes kept by
 * keep-volumes do not. */
static void test_released_room(void **state) {
        vcm_repo *r = site_new(2, 100);
        add(r, "a", 40);
        vcm_cluster *kept = add(r, "kept", 0);
        fx_set_window(kept, true, 0, true, 500); /* ended at t=1000 */
        vcm_resource_set *obs = vcm_resource_set_new();
        observe_volume(obs, "st1", "gone-shared", "gone", 90); /* not in the specs */
        vcm_desired_opts o = { .prune_allowed = true };
        built b = build_at(r, 1000, obs, &o);
        assert_non_null(vcm_resource_set_find(b.set, VCM_KIND_VOLUME, "st1", "a-shared"));
        built_free(&b);
        /* Pruning stopped: "gone" keeps its room. */
        o.prune_allowed = false;
        b = build_at(r, 1000, obs, &o);
        assert_non_null(vcm_resource_set_find(b.set, VCM_KIND_VOLUME, "st2", "a-shared"));
        built_free(&b);
        /* keep-volumes: the ended cluster's volumes stay, and so does their room. */
        vcm_resource_set_free(obs);
        obs = vcm_resource_set_new();
        observe_volume(obs, "st1", "kept-shared", "kept", 90);
        kept = &r->clusters[1];
        o.prune_allowed = true;
        for (int keep = 0; keep < 2; keep++) {
                kept->on_expire = keep ? VCM_ON_EXPIRE_KEEP_VOLUMES : VCM_ON_EXPIRE_RELEASE;
                b = build_at(r, 1000, obs, &o);
                assert_non_null(vcm_resource_set_find(b.set, VCM_KIND_VOLUME,
                                                      keep ? "st2" : "st1", "a-shared"));
                built_free(&b);
        }
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

/* The site's only storage host out of sight: a cluster that runs (owns something observed)
 * can only have its storage there and is placed as before (the steps there wait for the host);
 * a new cluster still waits Degraded rather than get domains without disks. */
static void test_unreachable_only_storage_host(void **state) {
        vcm_repo *r = site_new(1, 0);
        add(r, "fresh", 0);
        add(r, "old", 0);
        vcm_resource_set *obs = vcm_resource_set_new();
        vcm_resource *br = vcm_resource_set_put(obs, VCM_KIND_BRIDGE, "gw1", "vcmbr5", "old");
        vcm_resource_rehash(br);
        const char *down[] = { "st1" };
        vcm_desired_opts o = { .unreachable_hosts = down, .n_unreachable = 1 };
        built b = build_at(r, 1000, obs, &o);
        assert_false(b.evals[0].placed);
        assert_int_equal(b.evals[0].blocked_state, VCM_STATE_DEGRADED);
        assert_true(b.evals[1].placed);
        assert_storage_on(&b, "old", "st1", "192.0.2.10:3260");
        built_free(&b);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
        (void)state;
}

/* A storage host that cannot be observed may hold a new-looking cluster's volumes: that cluster
 * waits Degraded, and nothing is placed on the other storage host for it; a cluster whose
 * storage is seen on a reachable storage host goes on there. */
static void test_unreachable_storage_host(void **state) {
        vcm_repo *r = site_new(2, 100);
        add(r, "fresh", 0);
        add(r, "old", 0);
        vcm_resource_set *obs = vcm_resource_set_new();
        observe_volume(obs, "st1", "old-frontend", "old", 10);
        const char *down[] = { "st2" };
        vcm_desired_opts o = { .unreachable_hosts = down, .n_unreachable = 1 };
        built b = build_at(r, 1000, obs, &o);
        assert_false(b.evals[0].placed);
        assert_int_equal(b.evals[0].blocked_state, VCM_STATE_DEGRADED);
        assert_string_equal(b.evals[0].blocked_reason,
                            "storage host st2 is unreachable and may hold the cluster's volumes; "
                            "not placing them elsewhere");
        assert_int_equal(count_cluster(b.set, "fresh"), 0);
        assert_true(b.evals[1].placed); /* a storage host holds no domains: compute goes on */
        assert_non_null(vcm_resource_set_find(b.set, VCM_KIND_VOLUME, "st1", "old-compute-0"));
        assert_non_null(vcm_resource_set_find(b.set, VCM_KIND_ISCSI_TARGET, "st1",
                                              VCM_IQN_PREFIX "old"));
        assert_int_equal(count_host(b.set, "st2"), 0);
        built_free(&b);

        /* A VM host down is not a storage host: new clusters still get storage ("old", owning
         * something, waits for vm2 as before). */
        down[0] = "vm2";
        b = build_at(r, 1000, obs, &o);
        assert_true(b.evals[0].placed);
        assert_false(b.evals[1].placed);
        assert_non_null(vcm_resource_set_find(b.set, VCM_KIND_VOLUME, "st2", "fresh-frontend"));
        built_free(&b);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

/* validate's capacity check chooses as reconcile does: two 70 GiB clusters fit on two 100 GiB
 * storage hosts, a third fits nowhere, and both name the same cluster. */
static void test_validate_agrees(void **state) {
        vcm_repo *r = site_new(2, 100);
        add(r, "a", 40);
        add(r, "b", 40);
        vcm_capacity_report *rep = NULL;
        assert_int_equal(vcm_capacity_check(r, 0, 86400, NULL, &rep), 0);
        assert_int_equal(rep->n_conflicts, 0);
        vcm_capacity_report_free(rep);
        built b = build(r, NULL);
        assert_true(b.evals[0].placed && b.evals[1].placed);
        assert_storage_on(&b, "a", "st1", "192.0.2.10:3260");
        assert_storage_on(&b, "b", "st2", ST2_PORTAL);
        built_free(&b);

        add(r, "c", 40);
        vcm_capacity_opts opts = { .keep_slices = true };
        assert_int_equal(vcm_capacity_check(r, 0, 86400, &opts, &rep), 0);
        assert_int_equal(rep->n_conflicts, 1);
        const vcm_capacity_conflict *k = &rep->conflicts[0];
        assert_int_equal(k->cluster, 2);
        assert_true(k->storage);
        char *msg = vcm_capacity_conflict_message(r, k);
        assert_string_equal(msg, "cluster c does not fit from 1970-01-01T00:00:00Z: storage "
                                 "volume groups short by 40GiB (needs 70GiB for volumes on one "
                                 "storage host; st1 30GiB free, st2 30GiB free); overlaps with "
                                 "a, b");
        free(msg);
        assert_int_equal(rep->n_slices, 1);
        assert_int_equal(rep->slices[0].storage, 140 * FX_GIB);
        vcm_capacity_report_free(rep);
        b = build(r, NULL);
        assert_true(b.evals[0].placed && b.evals[1].placed);
        assert_false(b.evals[2].placed);
        assert_int_equal(b.evals[2].blocked_state, VCM_STATE_PENDING);
        built_free(&b);

        fx_repo_free(r);

        /* Over time, volumes stay where they are while they exist (as in reconcile): y (50)
         * and z (60) from t=0 take st1 and st2; a (45), admitted first but starting a day
         * later, finds 50 free on st1 and fits. Choosing afresh each interval in rank order
         * (a, y, z) would put a on st1, y on st2 and leave z nowhere: a false conflict. */
        r = site_new(2, 100);
        add(r, "y", 20);
        add(r, "z", 30);
        add(r, "a", 15);
        vcm_cluster *y = &r->clusters[0], *z = &r->clusters[1], *a = &r->clusters[2];
        fx_set_window(y, true, 0, true, 3 * 86400);
        fx_set_window(z, true, 0, true, 3 * 86400);
        fx_set_window(a, true, 86400, true, 2 * 86400);
        a->admitted = 1;
        y->admitted = 2;
        z->admitted = 3;
        assert_int_equal(vcm_capacity_check(r, 0, 4 * 86400, NULL, &rep), 0);
        assert_int_equal(rep->n_conflicts, 0);
        vcm_capacity_report_free(rep);
        /* Reconcile on the day a starts, y and z existing: a goes on st1 as well. */
        vcm_resource_set *obs = vcm_resource_set_new();
        observe_volume(obs, "st1", "y-shared", "y", 50);
        observe_volume(obs, "st2", "z-shared", "z", 60);
        b = build_at(r, 86400 + 60, obs, NULL);
        assert_true(b.evals[2].placed);
        assert_non_null(vcm_resource_set_find(b.set, VCM_KIND_VOLUME, "st1", "a-shared"));
        built_free(&b);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

/* Where no room is left, validate still gives it by rank (reconciler/capacity.h): w and x hold
 * st1 and st2 from t=0; "m", admitted first but starting a day later, keeps its reservation and
 * "x", ranked last, is the one that does not fit (so `validate --base` blames a change). */
static void test_validate_rank_decides_conflicts(void **state) {
        vcm_repo *r = site_new(2, 100);
        add(r, "m", 40);
        add(r, "w", 40);
        add(r, "x", 40);
        fx_set_window(&r->clusters[0], true, 86400, true, 3 * 86400);
        fx_set_window(&r->clusters[1], true, 0, true, 3 * 86400);
        fx_set_window(&r->clusters[2], true, 0, true, 3 * 86400);
        r->clusters[0].admitted = 1;
        r->clusters[1].admitted = 2;
        r->clusters[2].admitted = 3;
        vcm_capacity_report *rep = NULL;
        assert_int_equal(vcm_capacity_check(r, 0, 4 * 86400, NULL, &rep), 0);
        assert_int_equal(rep->n_conflicts, 1);
        assert_int_equal(rep->conflicts[0].cluster, 2);
        assert_int_equal(rep->conflicts[0].at, 86400);
        assert_true(rep->conflicts[0].storage);
        vcm_capacity_report_free(rep);
        fx_repo_free(r);
}

/* Through the engine: `vcm plan` says which storage host gets each volume, target, LUN and
 * ACL, in text and JSON; a storage host down holds new clusters back. */
static void test_plan_names_storage_host(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = site_new(2, 0);
        host(r, "st1")->capacity_storage = 100 * FX_GIB;
        host(r, "st2")->capacity_storage = 200 * FX_GIB;
        add(r, "a", 40);
        vcm_pass *p = pass_at(r, 1000, true);
        char *t = capture(p, 0);
        assert_non_null(strstr(t, "  + create volume a-shared on st2 (new cluster)\n"));
        assert_non_null(strstr(t, "  + create iscsi-target " VCM_IQN_PREFIX "a on st2 ("));
        assert_non_null(strstr(t, "  + create iscsi-lun a-frontend on st2 ("));
        assert_non_null(strstr(t, "  + create iscsi-acl a/" VCM_INITIATOR_PREFIX "gw1 on st2 ("));
        assert_null(strstr(t, " on st1 ("));
        free(t);
        t = capture(p, 2);
        json_error_t err;
        json_t *root = json_loads(t, 0, &err);
        assert_non_null(root);
        json_t *changes = json_object_get(root, "changes");
        size_t n_st = 0;
        for (size_t i = 0; i < json_array_size(changes); i++) {
                json_t *c = json_array_get(changes, i);
                const char *kind = json_string_value(json_object_get(c, "kind"));
                if (!strcmp(kind, "volume") || !strncmp(kind, "iscsi-", 6)) {
                        assert_string_equal(json_string_value(json_object_get(c, "host")), "st2");
                        n_st++;
                }
        }
        assert_int_equal(n_st, 3 + 1 + 3 + 2); /* volumes, target, LUNs, an ACL per VM host */
        json_decref(root);
        free(t);
        vcm_pass_free(p);

        /* Applied; then st2 is down and a new cluster arrives: it waits, Degraded. */
        vcm_pass_free(pass_at(r, 1000, false));
        w->down_host = "st2";
        add(r, "b", 0);
        p = pass_at(r, 1000, true);
        assert_int_equal(fx_status(p, "b")->state, VCM_STATE_DEGRADED);
        for (size_t i = 0; i < p->n_steps; i++) {
                const vcm_resource *x = p->steps[i].desired ? p->steps[i].desired
                                                            : p->steps[i].observed;
                assert_string_not_equal(x->cluster, "b");
        }
        vcm_pass_free(p);
        fx_repo_free(r);
        fx_world_free(w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_choose_rule),
                cmocka_unit_test(test_spread_by_free_capacity),
                cmocka_unit_test(test_existing_stays),
                cmocka_unit_test(test_none_fits_pending),
                cmocka_unit_test(test_released_room),
                cmocka_unit_test(test_unreachable_storage_host),
                cmocka_unit_test(test_unreachable_only_storage_host),
                cmocka_unit_test(test_validate_agrees),
                cmocka_unit_test(test_validate_rank_decides_conflicts),
                cmocka_unit_test(test_plan_names_storage_host),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
