/* Window math: bounds, recurring slots in their time zone, DST in Europe/Berlin, next edge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "reconciler/window.h"

/* 2026-03-29 is the last Sunday of March (CET -> CEST at 01:00Z), 2026-10-25 the last Sunday of
 * October (CEST -> CET at 01:00Z). Unix times computed with `date -u -d ... +%s`. */
#define T_2026_03_28_00Z INT64_C(1774656000)
#define T_2026_03_29_00Z INT64_C(1774742400)
#define T_2026_10_25_00Z INT64_C(1792886400)
#define HOUR 3600

static void test_bounds(void **state) {
        vcm_window w = { .has_start = true, .start = 1000, .has_end = true, .end = 2000 };
        assert_int_equal(vcm_window_phase_at(&w, 999), VCM_WINDOW_BEFORE);
        assert_true(vcm_window_active(&w, 1000));  /* start inclusive */
        assert_true(vcm_window_active(&w, 1999));
        assert_false(vcm_window_active(&w, 2000)); /* end exclusive */
        assert_int_equal(vcm_window_phase_at(&w, 2000), VCM_WINDOW_AFTER);
        assert_int_equal(vcm_window_next_edge(&w, 0), 1000);
        assert_int_equal(vcm_window_next_edge(&w, 1000), 2000);
        assert_true(vcm_window_next_edge(&w, 2000) == INT64_MAX);

        vcm_window open_end = { .has_start = true, .start = 1000 };
        assert_true(vcm_window_active(&open_end, INT64_C(4000000000)));
        vcm_window open_start = { .has_end = true, .end = 1000 };
        assert_true(vcm_window_active(&open_start, -5));

        vcm_cluster c = { 0 };
        assert_true(vcm_cluster_active(&c, 0)); /* no window: always */
}

static void test_slot_timezone(void **state) {
        vcm_window w = { 0 };
        /* Mondays 09:00-12:00 in Tokyo (UTC+9, no DST). */
        fx_add_slot(&w, VCM_DAY_MON, 9 * 60, 12 * 60, "Asia/Tokyo");
        int64_t mon_00z = INT64_C(1774828800); /* 2026-03-30 00:00Z, a Monday */
        /* 09:00 JST Monday = 00:00Z Monday. */
        assert_true(vcm_window_active(&w, mon_00z));
        assert_false(vcm_window_active(&w, mon_00z - 1));
        assert_true(vcm_window_active(&w, mon_00z + 3 * HOUR - 1));
        assert_false(vcm_window_active(&w, mon_00z + 3 * HOUR));
        assert_int_equal(vcm_window_phase_at(&w, mon_00z + 4 * HOUR), VCM_WINDOW_GAP);
        assert_int_equal(vcm_window_next_edge(&w, mon_00z - 100), mon_00z);
        assert_int_equal(vcm_window_next_edge(&w, mon_00z), mon_00z + 3 * HOUR);
        /* After the slot, the next edge is the following Monday. */
        assert_int_equal(vcm_window_next_edge(&w, mon_00z + 3 * HOUR), mon_00z + 7 * 24 * HOUR);
        /* Bounds clip slots. */
        w.has_end = true;
        w.end = mon_00z + HOUR;
        assert_false(vcm_window_active(&w, mon_00z + HOUR));
        assert_int_equal(vcm_window_next_edge(&w, mon_00z), mon_00z + HOUR);
        free(w.recurring[0].timezone);
        free(w.recurring);
}

static void test_berlin_dst_spring(void **state) {
        vcm_window w = { 0 };
        /* Saturdays and Sundays 09:00-10:00 Berlin: 08:00Z in winter, 07:00Z in summer. */
        fx_add_slot(&w, VCM_DAY_SAT | VCM_DAY_SUN, 9 * 60, 10 * 60, "Europe/Berlin");
        assert_true(vcm_window_active(&w, T_2026_03_28_00Z + 8 * HOUR));  /* Sat, CET */
        assert_false(vcm_window_active(&w, T_2026_03_28_00Z + 7 * HOUR));
        assert_true(vcm_window_active(&w, T_2026_03_29_00Z + 7 * HOUR));  /* Sun, CEST */
        assert_false(vcm_window_active(&w, T_2026_03_29_00Z + 8 * HOUR));
        assert_int_equal(vcm_window_next_edge(&w, T_2026_03_28_00Z + 9 * HOUR),
                         T_2026_03_29_00Z + 7 * HOUR);
        free(w.recurring[0].timezone);
        free(w.recurring);
}

static void test_berlin_slot_across_dst(void **state) {
        vcm_window w = { 0 };
        /* Sunday 01:00-04:00 local on both change nights. */
        fx_add_slot(&w, VCM_DAY_SUN, 60, 4 * 60, "Europe/Berlin");
        /* Spring: 01:00 CET = 00:00Z; 04:00 CEST = 02:00Z: two real hours. */
        int64_t s = T_2026_03_29_00Z;
        assert_false(vcm_window_active(&w, s - 1));
        assert_true(vcm_window_active(&w, s));
        assert_true(vcm_window_active(&w, s + HOUR + 30 * 60)); /* 03:30 CEST */
        assert_false(vcm_window_active(&w, s + 2 * HOUR));
        assert_int_equal(vcm_window_next_edge(&w, s - 10), s);
        assert_int_equal(vcm_window_next_edge(&w, s), s + 2 * HOUR);

        /* Autumn: 01:00 CEST = 23:00Z Saturday; 04:00 CET = 03:00Z: four real hours, and the
         * repeated 02:00-03:00 hour stays inside. */
        int64_t a = T_2026_10_25_00Z - HOUR;
        assert_false(vcm_window_active(&w, a - 1));
        assert_true(vcm_window_active(&w, a));
        assert_true(vcm_window_active(&w, T_2026_10_25_00Z + 30 * 60)); /* 02:30 CEST */
        assert_true(vcm_window_active(&w, T_2026_10_25_00Z + 90 * 60)); /* 02:30 CET again */
        assert_true(vcm_window_active(&w, a + 4 * HOUR - 1));
        assert_false(vcm_window_active(&w, a + 4 * HOUR));
        assert_int_equal(vcm_window_next_edge(&w, a - 10), a);
        assert_int_equal(vcm_window_next_edge(&w, a), a + 4 * HOUR);
        free(w.recurring[0].timezone);
        free(w.recurring);
}

/* A slot starting inside the spring-forward gap opens when the clock jumps past its start. */
static void test_slot_starting_in_dst_gap(void **state) {
        vcm_window w = { 0 };
        fx_add_slot(&w, VCM_DAY_SUN, 2 * 60 + 30, 3 * 60 + 30, "Europe/Berlin");
        int64_t jump = T_2026_03_29_00Z + HOUR; /* 02:00 CET -> 03:00 CEST */
        assert_false(vcm_window_active(&w, jump - 1));
        assert_true(vcm_window_active(&w, jump));
        assert_false(vcm_window_active(&w, jump + 30 * 60)); /* 03:30 CEST */
        assert_int_equal(vcm_window_next_edge(&w, T_2026_03_28_00Z + 12 * HOUR), jump);
        assert_int_equal(vcm_window_next_edge(&w, jump), jump + 30 * 60);
        free(w.recurring[0].timezone);
        free(w.recurring);
}

static void test_unknown_zone_never_active(void **state) {
        vcm_window w = { 0 };
        fx_add_slot(&w, 0x7f, 0, 1440, "Mars/Olympus_Mons");
        assert_false(vcm_window_active(&w, T_2026_03_28_00Z));
        struct tm tm;
        assert_int_equal(vcm_tz_localtime("../etc/passwd", 0, &tm), -ENOENT);
        free(w.recurring[0].timezone);
        free(w.recurring);
}

static void test_tz_restored(void **state) {
        setenv("TZ", "America/New_York", 1);
        struct tm tm;
        assert_int_equal(vcm_tz_localtime("Asia/Tokyo", 0, &tm), 0);
        assert_int_equal(tm.tm_hour, 9);
        assert_string_equal(getenv("TZ"), "America/New_York");
        unsetenv("TZ");
        assert_int_equal(vcm_tz_localtime("UTC", 0, &tm), 0);
        assert_null(getenv("TZ"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_slot_timezone),
                cmocka_unit_test(test_berlin_dst_spring),
                cmocka_unit_test(test_berlin_slot_across_dst),
                cmocka_unit_test(test_slot_starting_in_dst_gap),
                cmocka_unit_test(test_unknown_zone_never_active),
                cmocka_unit_test(test_tz_restored),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
