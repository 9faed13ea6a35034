/* Capacity over time: window spans, interval sweep and the conflicts it reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "reconciler/capacity.h"

#define HOUR 3600
#define DAY (24 * HOUR)
/* Unix times from `date -u -d ... +%s`. */
#define T_2026_11_30_21Z INT64_C(1796072400) /* Monday 22:00 in Berlin (CET) */
#define T_2026_03_29_00Z INT64_C(1774742400) /* Sunday; CET -> CEST at 01:00Z */
#define T_2026_10_24_23Z INT64_C(1792882800) /* Sunday 01:00 CEST; CEST -> CET at 01:00Z */
#define T0 INT64_C(1800000000)

/* One gateway (16 vCPUs, 64 GiB) and `n_vm` vm-servers of 8 vCPUs and `vm_mem` each. */
static vcm_repo *site_new(size_t n_vm, uint64_t vm_mem) {
        vcm_repo *r = fx_repo_new(VCM_NET_VLAN, VCM_STORAGE_LVM_ISCSI);
        fx_add_host(r, "gw1", VCM_ROLE_GATEWAY, 16, 64 * FX_GIB);
        for (size_t i = 0; i < n_vm; i++) {
                char name[16];
                snprintf(name, sizeof(name), "vm%zu", i + 1);
                fx_add_host(r, name, VCM_ROLE_VM_SERVER, 8, vm_mem);
        }
        fx_add_host(r, "st1", VCM_ROLE_STORAGE, 0, 0);
        return r;
}

/* A cluster with one node of `mem` in the fixed window [start, end). */
static vcm_cluster *add(vcm_repo *r, const char *name, uint64_t mem, int64_t start, int64_t end) {
        vcm_cluster *c = fx_add_cluster(r, name);
        fx_add_group(c, "compute", 1, 2, mem);
        if (start || end)
                fx_set_window(c, true, start, true, end);
        return c;
}

static vcm_capacity_report *check(const vcm_repo *r, int64_t from, int64_t to) {
        vcm_capacity_report *rep = NULL;
        assert_int_equal(vcm_capacity_check(r, from, to, NULL, &rep), 0);
        assert_non_null(rep);
        return rep;
}

static size_t index_of(const vcm_repo *r, const char *name) {
        for (size_t i = 0; i < r->n_clusters; i++)
                if (!strcmp(r->clusters[i].name, name))
                        return i;
        fail();
        return 0;
}

static void test_back_to_back(void **state) {
        vcm_repo *r = site_new(1, 16 * FX_GIB);
        add(r, "a", 12 * FX_GIB, T0, T0 + HOUR);
        add(r, "b", 12 * FX_GIB, T0 + HOUR, T0 + 2 * HOUR); /* end == next start */
        vcm_capacity_report *rep = check(r, T0 - DAY, T0 + DAY);
        assert_int_equal(rep->n_conflicts, 0);
        assert_int_equal(rep->n_intervals, 2);
        vcm_capacity_report_free(rep);

        /* One second of overlap is a conflict, blamed on the later reservation. */
        r->clusters[1].window.start = T0 + HOUR - 1;
        rep = check(r, T0 - DAY, T0 + DAY);
        assert_int_equal(rep->n_conflicts, 1);
        const vcm_capacity_conflict *k = &rep->conflicts[0];
        assert_int_equal(k->cluster, index_of(r, "b"));
        assert_int_equal(k->at, T0 + HOUR - 1);
        assert_int_equal(k->until, T0 + HOUR);
        assert_int_equal(k->n_with, 1);
        assert_int_equal(k->with[0], index_of(r, "a"));
        char *msg = vcm_capacity_conflict_message(r, k);
        assert_string_equal(msg, "cluster b does not fit from 2027-01-15T08:59:59Z: vm-server "
                                 "memory short by 8GiB (needs 12GiB, 4GiB free on the best "
                                 "host); overlaps with a");
        free(msg);
        /* The instant is written in the offset the window's start was written in. */
        char buf[48];
        vcm_format_time_like(k->at, "2027-01-15T10:00:00+01:00", buf, sizeof(buf));
        assert_string_equal(buf, "2027-01-15T09:59:59+01:00");
        vcm_format_time_like(k->at, "2027-01-15T10:00:00-05:30", buf, sizeof(buf));
        assert_string_equal(buf, "2027-01-15T03:29:59-05:30");
        vcm_capacity_report_free(rep);
        fx_repo_free(r);
}

static void test_across_midnight(void **state) {
        vcm_repo *r = site_new(1, 16 * FX_GIB);
        vcm_cluster *a = add(r, "a", 12 * FX_GIB, 0, 0);
        fx_set_window(a, true, T_2026_11_30_21Z - DAY, true, T_2026_11_30_21Z + 6 * DAY);
        /* Monday 22:00-24:00 and Tuesday 00:00-02:00: one span of four hours. */
        fx_add_slot(&a->window, VCM_DAY_MON, 22 * 60, 1440, "Europe/Berlin");
        fx_add_slot(&a->window, VCM_DAY_TUE, 0, 2 * 60, "Europe/Berlin");
        vcm_interval *sp = NULL;
        size_t n = 0;
        assert_int_equal(vcm_window_intervals(&a->window, T_2026_11_30_21Z - DAY,
                                              T_2026_11_30_21Z + 6 * DAY, &sp, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(sp[0].start, T_2026_11_30_21Z);
        assert_int_equal(sp[0].end, T_2026_11_30_21Z + 4 * HOUR);
        free(sp);

        /* After midnight but inside the merged span: conflict. From 02:00: none. */
        add(r, "b", 12 * FX_GIB, T_2026_11_30_21Z + 3 * HOUR, T_2026_11_30_21Z + 5 * HOUR);
        add(r, "c", 12 * FX_GIB, T_2026_11_30_21Z + 4 * HOUR, T_2026_11_30_21Z + 6 * HOUR);
        r->clusters[2].window.start = T_2026_11_30_21Z + 5 * HOUR; /* c after b */
        vcm_capacity_report *rep = check(r, T_2026_11_30_21Z - DAY, T_2026_11_30_21Z + 6 * DAY);
        assert_int_equal(rep->n_conflicts, 1);
        assert_int_equal(rep->conflicts[0].cluster, index_of(r, "b"));
        assert_int_equal(rep->conflicts[0].at, T_2026_11_30_21Z + 3 * HOUR);
        vcm_capacity_report_free(rep);
        fx_repo_free(r);
}

static void test_dst(void **state) {
        vcm_repo *r = site_new(1, 16 * FX_GIB);
        vcm_cluster *a = add(r, "a", 12 * FX_GIB, 0, 0);
        /* Sundays 01:00-04:00 in Berlin over the whole of 2026. */
        fx_set_window(a, true, INT64_C(1767225600), true, INT64_C(1798761600));
        fx_add_slot(&a->window, VCM_DAY_SUN, 60, 240, "Europe/Berlin");
        vcm_interval *sp = NULL;
        size_t n = 0;
        assert_int_equal(vcm_window_intervals(&a->window, a->window.start, a->window.end, &sp, &n),
                         0);
        assert_int_equal(n, 52); /* 2026 has 52 Sundays */
        bool spring = false, autumn = false;
        for (size_t i = 0; i < n; i++) {
                if (sp[i].start == T_2026_03_29_00Z) { /* 01:00 CET */
                        assert_int_equal(sp[i].end - sp[i].start, 2 * HOUR); /* clocks skip 02-03 */
                        spring = true;
                } else if (sp[i].start == T_2026_10_24_23Z) { /* 01:00 CEST */
                        assert_int_equal(sp[i].end - sp[i].start, 4 * HOUR); /* 02-03 twice */
                        autumn = true;
                } else {
                        assert_int_equal(sp[i].end - sp[i].start, 3 * HOUR);
                }
                /* Every span agrees with vcm_window_active at its edges. */
                assert_true(vcm_window_active(&a->window, sp[i].start));
                assert_true(vcm_window_active(&a->window, sp[i].end - 1));
                assert_false(vcm_window_active(&a->window, sp[i].end));
                assert_false(vcm_window_active(&a->window, sp[i].start - 1));
        }
        assert_true(spring && autumn);
        free(sp);

        /* 02:00Z-03:00Z on both Sundays: free in March (04:00 CEST is 02:00Z), taken in
         * October (04:00 CET is 03:00Z). */
        add(r, "spring", 12 * FX_GIB, T_2026_03_29_00Z + 2 * HOUR, T_2026_03_29_00Z + 3 * HOUR);
        add(r, "autumn", 12 * FX_GIB, T_2026_10_24_23Z + 3 * HOUR, T_2026_10_24_23Z + 4 * HOUR);
        a = &r->clusters[index_of(r, "a")]; /* the array moved */
        vcm_capacity_report *rep = check(r, a->window.start, a->window.end);
        assert_int_equal(rep->n_conflicts, 1);
        assert_int_equal(rep->conflicts[0].cluster, index_of(r, "autumn"));
        assert_int_equal(rep->conflicts[0].at, T_2026_10_24_23Z + 3 * HOUR);
        vcm_capacity_report_free(rep);
        fx_repo_free(r);
}

static void test_fits_in_total_not_per_host(void **state) {
        /* Two vm-servers with 8 GiB each: 16 GiB in total, but a 12 GiB node fits on neither. */
        vcm_repo *r = site_new(2, 8 * FX_GIB);
        add(r, "big", 12 * FX_GIB, T0, T0 + DAY);
        vcm_capacity_report *rep = check(r, T0, T0 + 2 * DAY);
        assert_int_equal(rep->n_conflicts, 1);
        char *msg = vcm_capacity_conflict_message(r, &rep->conflicts[0]);
        assert_string_equal(msg, "cluster big does not fit from 2027-01-15T08:00:00Z: vm-server "
                                 "memory short by 4GiB (needs 12GiB, 8GiB free on the best host)");
        free(msg);
        vcm_capacity_report_free(rep);

        /* Two 6 GiB nodes fit: spread one per host. A third does not. */
        r->clusters[0].nodes[0].memory = 6 * FX_GIB;
        r->clusters[0].nodes[0].count = 2;
        rep = check(r, T0, T0 + 2 * DAY);
        assert_int_equal(rep->n_conflicts, 0);
        vcm_capacity_report_free(rep);
        r->clusters[0].nodes[0].count = 3;
        rep = check(r, T0, T0 + 2 * DAY);
        assert_int_equal(rep->n_conflicts, 1);
        assert_int_equal(rep->conflicts[0].failure.need_memory, 6 * FX_GIB);
        assert_int_equal(rep->conflicts[0].failure.free_memory, 2 * FX_GIB);
        vcm_capacity_report_free(rep);

        /* vCPUs: 8 per host; a 10-vCPU node is short of vCPUs though memory is plenty. */
        r->clusters[0].nodes[0].count = 1;
        r->clusters[0].nodes[0].memory = FX_GIB;
        r->clusters[0].nodes[0].vcpus = 10;
        rep = check(r, T0, T0 + 2 * DAY);
        assert_int_equal(rep->n_conflicts, 1);
        msg = vcm_capacity_conflict_message(r, &rep->conflicts[0]);
        assert_non_null(strstr(msg, "vm-server vcpus short by 2 (needs 10, 8 free on the best host)"));
        free(msg);
        vcm_capacity_report_free(rep);
        fx_repo_free(r);
}

static void test_rank_and_slices(void **state) {
        vcm_repo *r = site_new(1, 16 * FX_GIB);
        add(r, "early", 12 * FX_GIB, T0, T0 + 10 * DAY);
        add(r, "a-late", 12 * FX_GIB, T0 + DAY, T0 + 2 * DAY);
        add(r, "always", FX_GIB, 0, 0); /* no window: active throughout */
        /* The earlier start keeps its reservation even though "a-late" sorts first by name. */
        vcm_capacity_opts o = { .keep_slices = true };
        vcm_capacity_report *rep = NULL;
        assert_int_equal(vcm_capacity_check(r, T0 - DAY, T0 + 20 * DAY, &o, &rep), 0);
        assert_int_equal(rep->n_conflicts, 1);
        assert_int_equal(rep->conflicts[0].cluster, index_of(r, "a-late"));
        assert_int_equal(rep->conflicts[0].n_with, 2);
        /* Slices: [T0-D,T0) always; [T0,T0+D) +early; [T0+D,T0+2D) +a-late (not placed);
         * [T0+2D,T0+10D); [T0+10D,T0+20D). */
        assert_int_equal(rep->n_slices, 5);
        assert_int_equal(rep->slices[2].n_active, 3);
        assert_int_equal(rep->slices[2].n_placed, 2);
        assert_int_equal(rep->slices[2].memory[1], 13 * FX_GIB); /* vm1 */
        assert_int_equal(rep->slices[4].memory[1], FX_GIB);
        vcm_capacity_report_free(rep);

        /* An explicit rank overrides: a-late first, then early is the one that does not fit. */
        uint64_t rank[3];
        rank[index_of(r, "a-late")] = 0;
        rank[index_of(r, "always")] = 1;
        rank[index_of(r, "early")] = 2;
        o = (vcm_capacity_opts){ .rank = rank };
        assert_int_equal(vcm_capacity_check(r, T0 - DAY, T0 + 20 * DAY, &o, &rep), 0);
        assert_int_equal(rep->n_conflicts, 1);
        assert_int_equal(rep->conflicts[0].cluster, index_of(r, "early"));
        assert_int_equal(rep->conflicts[0].at, T0 + DAY);
        vcm_capacity_report_free(rep);
        fx_repo_free(r);
}

/* Volumes on the storage host: the group runs out only while two windows overlap. */
static void test_volume_group_overlap(void **state) {
        vcm_repo *r = site_new(2, 64 * FX_GIB);
        r->site->hosts[3].capacity_storage = 100 * FX_GIB; /* st1 */
        vcm_cluster *a = add(r, "a", FX_GIB, T0, T0 + 2 * DAY);
        a->shared_storage = 40 * FX_GIB; /* 10 frontend + 20 node + 40 shared = 70 GiB */
        vcm_cluster *b = add(r, "b", FX_GIB, T0 + 2 * DAY, T0 + 3 * DAY);
        b->shared_storage = 40 * FX_GIB;
        assert_int_equal(vcm_cluster_volume_bytes(b), 70 * FX_GIB);
        vcm_capacity_report *rep = check(r, T0 - DAY, T0 + 10 * DAY);
        assert_int_equal(rep->n_conflicts, 0); /* back to back: a's volumes are gone */
        vcm_capacity_report_free(rep);

        r->clusters[1].window.start = T0 + DAY;
        vcm_capacity_opts o = { .keep_slices = true };
        assert_int_equal(vcm_capacity_check(r, T0 - DAY, T0 + 10 * DAY, &o, &rep), 0);
        assert_int_equal(rep->n_conflicts, 1);
        const vcm_capacity_conflict *k = &rep->conflicts[0];
        assert_int_equal(k->cluster, 1);
        assert_true(k->storage);
        assert_int_equal(k->at, T0 + DAY);
        assert_int_equal(k->until, T0 + 2 * DAY);
        char *msg = vcm_capacity_conflict_message(r, k);
        assert_string_equal(msg, "cluster b does not fit from 2027-01-16T08:00:00Z: storage volume "
                                 "group short by 40GiB (needs 70GiB for volumes, 30GiB free on "
                                 "st1); overlaps with a");
        free(msg);
        /* b runs nowhere while refused: vCPUs and memory show a only. */
        for (size_t i = 0; i < rep->n_slices; i++)
                if (rep->slices[i].start == T0 + DAY) {
                        assert_int_equal(rep->slices[i].storage, 70 * FX_GIB);
                        assert_int_equal(rep->slices[i].n_placed, 1);
                }
        vcm_capacity_report_free(rep);

        /* Without a size the volume group is not counted. */
        r->site->hosts[3].capacity_storage = 0;
        rep = check(r, T0 - DAY, T0 + 10 * DAY);
        assert_int_equal(rep->n_conflicts, 0);
        vcm_capacity_report_free(rep);
        fx_repo_free(r);
}

/* Volumes stay between recurring slots, and after the window with keep-volumes. */
static void test_volumes_between_slots(void **state) {
        vcm_repo *r = site_new(2, 64 * FX_GIB);
        r->site->hosts[3].capacity_storage = 100 * FX_GIB;
        vcm_cluster *course = add(r, "course", FX_GIB, 0, 0);
        fx_set_window(course, true, T_2026_11_30_21Z - 22 * HOUR, true,
                      T_2026_11_30_21Z + 8 * DAY);
        fx_add_slot(&course->window, VCM_DAY_MON, 9 * 60, 12 * 60, "Europe/Berlin");
        course->shared_storage = 40 * FX_GIB; /* 70 GiB */
        /* Tuesday, between two Monday slots: the course's volumes are still there. */
        vcm_cluster *tue = add(r, "tue", FX_GIB, T_2026_11_30_21Z + DAY,
                               T_2026_11_30_21Z + DAY + HOUR);
        tue->shared_storage = 40 * FX_GIB;
        vcm_capacity_report *rep = check(r, T_2026_11_30_21Z - 2 * DAY, T_2026_11_30_21Z + 20 * DAY);
        assert_int_equal(rep->n_conflicts, 1);
        assert_int_equal(rep->conflicts[0].cluster, index_of(r, "tue"));
        assert_true(rep->conflicts[0].storage);
        vcm_capacity_report_free(rep);

        /* After the window: released, so room again; with keep-volumes, still taken. */
        r->clusters[1].window.start = T_2026_11_30_21Z + 9 * DAY;
        r->clusters[1].window.end = T_2026_11_30_21Z + 9 * DAY + HOUR;
        rep = check(r, T_2026_11_30_21Z - 2 * DAY, T_2026_11_30_21Z + 20 * DAY);
        assert_int_equal(rep->n_conflicts, 0);
        vcm_capacity_report_free(rep);
        r->clusters[0].on_expire = VCM_ON_EXPIRE_KEEP_VOLUMES;
        rep = check(r, T_2026_11_30_21Z - 2 * DAY, T_2026_11_30_21Z + 20 * DAY);
        assert_int_equal(rep->n_conflicts, 1);
        assert_int_equal(rep->conflicts[0].at, T_2026_11_30_21Z + 9 * DAY);
        vcm_capacity_report_free(rep);
        fx_repo_free(r);
}

/* --base: the change is blamed even when it starts earlier than what is already merged. */
static void test_rank_against_base(void **state) {
        vcm_repo *base = site_new(1, 16 * FX_GIB);
        add(base, "merged", 12 * FX_GIB, T0 + DAY, T0 + 3 * DAY);
        add(base, "resized", 2 * FX_GIB, T0 + 5 * DAY, T0 + 6 * DAY);
        vcm_repo *head = site_new(1, 16 * FX_GIB);
        add(head, "incoming", 12 * FX_GIB, T0, T0 + 2 * DAY); /* new, starts first */
        add(head, "merged", 12 * FX_GIB, T0 + DAY, T0 + 3 * DAY);
        add(head, "resized", 2 * FX_GIB, T0 + 5 * DAY, T0 + 6 * DAY);

        /* Without a base the earlier start wins and the merged cluster is blamed. */
        vcm_capacity_report *rep = check(head, T0, T0 + 10 * DAY);
        assert_int_equal(rep->n_conflicts, 1);
        assert_int_equal(rep->conflicts[0].cluster, index_of(head, "merged"));
        vcm_capacity_report_free(rep);

        uint64_t rank[3];
        vcm_capacity_rank_against(head, base, rank);
        assert_true(rank[index_of(head, "merged")] < rank[index_of(head, "incoming")]);
        vcm_capacity_opts o = { .rank = rank };
        assert_int_equal(vcm_capacity_check(head, T0, T0 + 10 * DAY, &o, &rep), 0);
        assert_int_equal(rep->n_conflicts, 1);
        assert_int_equal(rep->conflicts[0].cluster, index_of(head, "incoming"));
        assert_int_equal(rep->conflicts[0].at, T0 + DAY);
        vcm_capacity_report_free(rep);

        /* A resized reservation is a change too: it ranks after the unchanged ones. */
        head->clusters[index_of(head, "resized")].nodes[0].memory = 4 * FX_GIB;
        vcm_capacity_rank_against(head, base, rank);
        assert_true(rank[index_of(head, "merged")] < rank[index_of(head, "resized")]);
        assert_true(rank[index_of(head, "incoming")] < rank[index_of(head, "resized")]);
        fx_repo_free(head);
        fx_repo_free(base);
}

static void test_frontends_and_errors(void **state) {
        /* Frontends go on the gateway: two 40 GiB frontends do not fit its 64 GiB. */
        vcm_repo *r = site_new(1, 16 * FX_GIB);
        vcm_cluster *a = add(r, "a", FX_GIB, T0, T0 + DAY);
        a->frontend.memory = 40 * FX_GIB;
        vcm_cluster *b = add(r, "b", FX_GIB, T0 + HOUR, T0 + DAY);
        b->frontend.memory = 40 * FX_GIB;
        vcm_capacity_report *rep = check(r, T0, T0 + DAY);
        assert_int_equal(rep->n_conflicts, 1);
        char *msg = vcm_capacity_conflict_message(r, &rep->conflicts[0]);
        assert_non_null(strstr(msg, "gateway memory short by 16GiB (needs 40GiB, 24GiB free"));
        free(msg);
        vcm_capacity_report_free(rep);
        assert_int_equal(vcm_capacity_check(r, T0, T0, NULL, &rep), -EINVAL);
        assert_true(vcm_capacity_horizon(r, T0) == T0 + 8 * DAY);
        fx_repo_free(r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_back_to_back),
                cmocka_unit_test(test_across_midnight),
                cmocka_unit_test(test_dst),
                cmocka_unit_test(test_fits_in_total_not_per_host),
                cmocka_unit_test(test_rank_and_slices),
                cmocka_unit_test(test_volume_group_overlap),
                cmocka_unit_test(test_volumes_between_slots),
                cmocka_unit_test(test_rank_against_base),
                cmocka_unit_test(test_frontends_and_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
