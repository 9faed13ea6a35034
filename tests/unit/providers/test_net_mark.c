/* The netlink provider's pure parts: the ownership mark in the interface alias, interface name
 * rules, what each change needs, and which hosts it serves. No kernel involved. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "providers/netlink/netlink.h"

static void test_mark_round_trip(void **state) {
        char buf[VCM_NETLINK_ALIAS_MAX + 1];
        assert_int_equal(vcm_netlink_mark_format("lab", "physics-lab", 0x0123456789abcdefull, buf,
                                                 sizeof(buf)), 0);
        assert_string_equal(buf, "vcm:physics-lab site=lab hash=0123456789abcdef");
        vcm_netlink_mark m;
        assert_int_equal(vcm_netlink_mark_parse(buf, &m), 0);
        assert_string_equal(m.cluster, "physics-lab");
        assert_string_equal(m.site, "lab");
        assert_true(m.hash == 0x0123456789abcdefull);
}

static void test_mark_format_refuses(void **state) {
        char buf[VCM_NETLINK_ALIAS_MAX + 1], small[16];
        assert_int_equal(vcm_netlink_mark_format("", "a", 1, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vcm_netlink_mark_format("lab", "", 1, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vcm_netlink_mark_format("my site", "a", 1, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vcm_netlink_mark_format("lab", "a=b", 1, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vcm_netlink_mark_format("lab", "a", 1, small, sizeof(small)), -EINVAL);
        char big[300];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        char huge[512];
        assert_int_equal(vcm_netlink_mark_format(big, "a", 1, huge, sizeof(huge)), -EINVAL);
}

static void test_mark_parse_not_ours(void **state) {
        vcm_netlink_mark m = { .cluster = "untouched" };
        /* Not a vcm mark at all: someone else's alias, or none. */
        assert_int_equal(vcm_netlink_mark_parse(NULL, &m), -ENOENT);
        assert_int_equal(vcm_netlink_mark_parse("", &m), -ENOENT);
        assert_int_equal(vcm_netlink_mark_parse("uplink to rack 3", &m), -ENOENT);
        assert_int_equal(vcm_netlink_mark_parse("VCM:a site=lab hash=0000000000000001", &m), -ENOENT);
        /* Looks like ours but is not what vcm writes: never treated as owned. */
        static const char *const bad[] = {
                "vcm:",
                "vcm:a",                                        /* the plain DESIGN form */
                "vcm:a site=lab",                               /* no hash */
                "vcm:a hash=0000000000000001",                  /* no site */
                "vcm: site=lab hash=0000000000000001",          /* empty cluster */
                "vcm:a site= hash=0000000000000001",            /* empty site */
                "vcm:a site=lab hash=1",                        /* short hash */
                "vcm:a site=lab hash=000000000000000g",         /* not hex */
                "vcm:a site=lab hash=-000000000000001",
                "vcm:a site=lab hash=0000000000000001 x=y",     /* unknown field */
                "vcm:a site=lab site=lab hash=0000000000000001",/* repeated */
                "vcm:a site=lab hash=0000000000000001 ",        /* trailing space */
                "vcm:a=b site=lab hash=0000000000000001",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = vcm_netlink_mark_parse(bad[i], &m);
                if (r != -EINVAL)
                        fail_msg("'%s' parsed as %d", bad[i], r);
        }
        assert_string_equal(m.cluster, "untouched"); /* written only on success */
        /* Field order does not matter. */
        assert_int_equal(vcm_netlink_mark_parse("vcm:a hash=00000000000000ff site=s2", &m), 0);
        assert_string_equal(m.site, "s2");
        assert_true(m.hash == 0xff);
}

static void test_ifname_check(void **state) {
        assert_int_equal(vcm_netlink_ifname_check("vcmbr4094"), 0);
        assert_int_equal(vcm_netlink_ifname_check("vcmv4094"), 0);
        assert_int_equal(vcm_netlink_ifname_check("eth0"), 0);
        assert_int_equal(vcm_netlink_ifname_check("enp0s31f6.1234"), 0);
        assert_int_equal(vcm_netlink_ifname_check("fifteen-chars15"), 0); /* 15 */
        assert_int_equal(vcm_netlink_ifname_check("sixteen-chars-16"), -ENAMETOOLONG);
        assert_int_equal(vcm_netlink_ifname_check(""), -EINVAL);
        assert_int_equal(vcm_netlink_ifname_check(NULL), -EINVAL);
        assert_int_equal(vcm_netlink_ifname_check("."), -EINVAL);
        assert_int_equal(vcm_netlink_ifname_check(".."), -EINVAL);
        assert_int_equal(vcm_netlink_ifname_check("a/b"), -EINVAL);
        assert_int_equal(vcm_netlink_ifname_check("a:1"), -EINVAL);
        assert_int_equal(vcm_netlink_ifname_check("a b"), -EINVAL);
        assert_int_equal(vcm_netlink_ifname_check("a\tb"), -EINVAL);
}

static void test_classify(void **state) {
        const vcm_provider *p = &vcm_provider_netlink;
        const char *why = NULL;
        assert_int_equal(p->classify(VCM_KIND_BRIDGE, "state", "down", "up", &why), VCM_CHANGE_LIVE);
        assert_int_equal(p->classify(VCM_KIND_VLAN_LINK, "state", "down", "up", &why), VCM_CHANGE_LIVE);
        assert_int_equal(p->classify(VCM_KIND_BRIDGE, "vlan-link", NULL, "vcmv100", &why),
                         VCM_CHANGE_LIVE);
        assert_int_equal(p->classify(VCM_KIND_VLAN_LINK, "vlan", "100", "101", &why),
                         VCM_CHANGE_REPLACE);
        assert_int_equal(p->classify(VCM_KIND_VLAN_LINK, "trunk", "eth0", "eth1", &why),
                         VCM_CHANGE_REPLACE);
        assert_int_equal(p->classify(VCM_KIND_BRIDGE, "netid", "100", "101", &why),
                         VCM_CHANGE_REPLACE);
        assert_non_null(why);
        assert_true(p->kinds == ((1u << VCM_KIND_VLAN_LINK) | (1u << VCM_KIND_BRIDGE)));
}

/* Hosts without a VM role have no cluster networks: open says "not mine", not an error. */
static void test_open_serves_vm_hosts_only(void **state) {
        vcm_host st = { .name = "st1", .roles = VCM_ROLE_STORAGE };
        vcm_site site = { .name = "lab", .hosts = &st, .n_hosts = 1 };
        void *conn = NULL;
        vcm_error err = { { 0 } };
        assert_int_equal(vcm_provider_netlink.open(&site, &st, &conn, &err), -EOPNOTSUPP);
        assert_null(conn);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mark_round_trip),
                cmocka_unit_test(test_mark_format_refuses),
                cmocka_unit_test(test_mark_parse_not_ours),
                cmocka_unit_test(test_ifname_check),
                cmocka_unit_test(test_classify),
                cmocka_unit_test(test_open_serves_vm_hosts_only),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
