/* validate: a site's VLAN range that cannot give every cluster an id while it is active. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spec_fixture.h"

#define RANGE_2 "  network: {backend: vlan, vlanRange: {from: 100, to: 101}}\n"

static char *cluster(const char *name, const char *vlan, const char *start, const char *end) {
        char nb[64], vb[64], sb[64], eb[64];
        snprintf(nb, sizeof(nb), "  name: %s\n", name);
        snprintf(vb, sizeof(vb), "    vlan: %s\n", vlan);
        snprintf(sb, sizeof(sb), "    start: %s\n", start);
        snprintf(eb, sizeof(eb), "    end: %s\n", end);
        char *a = replace(CLUSTER, "  name: physics-lab\n", nb);
        char *b = replace(a, "    vlan: auto\n", vb);
        char *c = replace(b, "    start: 2026-12-01T09:00:00+09:00\n", sb);
        char *d = replace(c, "    end: 2026-12-20T18:00:00+09:00\n", eb);
        free(a);
        free(b);
        free(c);
        return d;
}

static char *three(const char *vlan_b, const char *start_c, const char *end_c) {
        char *site = replace(SITE, "  network: {backend: vlan, vlanRange: {from: 100, to: 999}}\n",
                             RANGE_2);
        char *a = cluster("aa", "auto", "2026-12-01T09:00:00+09:00", "2026-12-20T18:00:00+09:00");
        char *b = cluster("bb", vlan_b, "2026-12-05T09:00:00+09:00", "2026-12-25T18:00:00+09:00");
        char *c = cluster("cc", "auto", start_c, end_c);
        char *t = load_text(true, NULL, "site.yaml", site, "clusters/aa.yaml", a, "clusters/bb.yaml", b,
                            "clusters/cc.yaml", c, NULL);
        free(site);
        free(a);
        free(b);
        free(c);
        return t;
}

static void test_net_range_exhausted_at_once(void **state) {
        assert_diags(three("auto", "2026-12-10T09:00:00+09:00", "2026-12-12T18:00:00+09:00"),
                     "clusters/cc.yaml:18:11: error: no free VLAN id for cluster 'cc': the site's "
                     "range 100..101 holds 2, taken by 0 fixed ids and 2 other clusters active "
                     "during its window; widen vlanRange in site.yaml or move a window\n");
}

/* c comes after a and b have ended: ids are free again. */
static void test_net_range_reused_over_time(void **state) {
        assert_diags(three("auto", "2027-01-01T09:00:00+09:00", "2027-01-10T18:00:00+09:00"), "");
}

/* c overlaps a only, b's fixed id is held whatever its window: still full. */
static void test_net_range_fixed_held(void **state) {
        assert_diags(three("100", "2026-12-15T09:00:00+09:00", "2026-12-28T18:00:00+09:00"),
                     "clusters/cc.yaml:18:11: error: no free VLAN id for cluster 'cc': the site's "
                     "range 100..101 holds 2, taken by 1 fixed id and 1 other cluster active "
                     "during its window; widen vlanRange in site.yaml or move a window\n");
        /* Without the overlap with a, one id is left for c. */
        assert_diags(three("100", "2027-01-01T09:00:00+09:00", "2027-01-10T18:00:00+09:00"), "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_net_range_exhausted_at_once),
                cmocka_unit_test(test_net_range_reused_over_time),
                cmocka_unit_test(test_net_range_fixed_held),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
