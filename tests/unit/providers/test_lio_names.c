/* Names of vcm's LIO objects: IQNs, initiators, backstore names, LUN lists, unit serials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "providers/lio/lio.h"
#include "reconciler/props.h"

static void test_iqns(void **state) {
        char *t = lio_target_iqn("physics-lab");
        assert_string_equal(t, "iqn.2026-01.org.vcm:physics-lab");
        char *c = lio_cluster_of_iqn(t);
        assert_string_equal(c, "physics-lab");
        free(c);
        free(t);
        /* IQNs are lower case; a name that cannot be one is refused, not mangled. */
        assert_null(lio_target_iqn("Physics"));
        assert_null(lio_target_iqn("a_b"));
        assert_null(lio_target_iqn(""));
        assert_null(lio_target_iqn("a.b")); /* would not read back as one cluster */
        char *i = lio_initiator_iqn("vm1.example.org");
        assert_string_equal(i, "iqn.2026-01.org.vcm.initiator:vm1.example.org");
        /* An initiator name is never taken for a vcm target (ownership stays exact). */
        assert_null(lio_cluster_of_iqn(i));
        free(i);
        assert_null(lio_cluster_of_iqn("iqn.2003-01.org.linux-iscsi.host:sn.1234"));
        assert_null(lio_cluster_of_iqn(VCM_IQN_PREFIX));
        assert_null(lio_cluster_of_iqn(VCM_IQN_PREFIX "a:b"));
}

static void test_backstore_names(void **state) {
        char *b = lio_backstore_name("physics-lab", "physics-lab-compute-3");
        assert_string_equal(b, "vcm.physics-lab.compute-3");
        char *cl = NULL, *vol = NULL;
        assert_int_equal(lio_backstore_parse(b, &cl, &vol), 0);
        assert_string_equal(cl, "physics-lab");
        assert_string_equal(vol, "physics-lab-compute-3");
        free(cl);
        free(vol);
        free(b);
        b = lio_backstore_name("c", "c-shared");
        assert_string_equal(b, "vcm.c.shared");
        free(b);
        assert_null(lio_backstore_name("c", "d-shared")); /* not the cluster's volume */
        assert_null(lio_backstore_name("c", "c-"));
        assert_int_equal(lio_backstore_parse("block0", &cl, &vol), -EINVAL);
        assert_int_equal(lio_backstore_parse("vcm.nodot", &cl, &vol), -EINVAL);
        assert_int_equal(lio_backstore_parse("vcm..x", &cl, &vol), -EINVAL);
}

static void test_luns_parse(void **state) {
        unsigned *v;
        size_t n;
        assert_int_equal(lio_luns_parse("3,0,10,3", &v, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(v[0], 0);
        assert_int_equal(v[1], 3);
        assert_int_equal(v[2], 10);
        free(v);
        assert_int_equal(lio_luns_parse("", &v, &n), 0);
        assert_int_equal(n, 0);
        free(v);
        assert_int_equal(lio_luns_parse("1,x", &v, &n), -EINVAL);
        assert_int_equal(lio_luns_parse("1,,2", &v, &n), -EINVAL);
        assert_int_equal(lio_luns_parse("70000", &v, &n), -EINVAL);
}

static void test_unit_serial(void **state) {
        char a[37], b[37], c[37];
        lio_unit_serial("vcm.c.node-0", a);
        lio_unit_serial("vcm.c.node-0", b);
        lio_unit_serial("vcm.c.node-1", c);
        assert_string_equal(a, b);
        assert_string_not_equal(a, c);
        assert_int_equal(strlen(a), 36);
        assert_true(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_iqns),
                cmocka_unit_test(test_backstore_names),
                cmocka_unit_test(test_luns_parse),
                cmocka_unit_test(test_unit_serial),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
