/* The lvm provider without lvm2: JSON report parsing (Debian 12's strings and comma-joined tags,
 * and lvm2's json_std numbers and arrays), LVs to volume resources, tags, classify, open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "providers/lvm/lvm.h"

/* As lvm2 2.03.16 (Debian 12) prints it: numbers as strings, tags one string. */
static const char *debian12 =
        "  {\n"
        "      \"report\": [\n"
        "          {\n"
        "              \"lv\": [\n"
        "                  {\"lv_name\":\"pl-compute-0\", \"vg_name\":\"vcm\", \"lv_uuid\":\"u1\", "
        "\"lv_size\":\"1073741824\", \"lv_tags\":\"vcm.size:1073741824,vcm:pl\", "
        "\"lv_path\":\"/dev/vcm/pl-compute-0\", \"lv_attr\":\"-wi-a-----\", "
        "\"vg_free\":\"4194304000\", \"vg_extent_size\":\"4194304\"},\n"
        "                  {\"lv_name\":\"home\", \"vg_name\":\"vcm\", \"lv_uuid\":\"u2\", "
        "\"lv_size\":\"8388608\", \"lv_tags\":\"\", \"lv_path\":\"/dev/vcm/home\", "
        "\"lv_attr\":\"-wi-a-----\", \"vg_free\":\"4194304000\", \"vg_extent_size\":\"4194304\"},\n"
        "                  {\"lv_name\":\"pl-frontend\", \"vg_name\":\"vcm\", \"lv_uuid\":\"u3\", "
        "\"lv_size\":\"1002438656\", \"lv_tags\":\"vcm:pl,vcm.size:1000000000,vcm.clone:img-fe\", "
        "\"lv_path\":\"/dev/vcm/pl-frontend\", \"lv_attr\":\"-wi-a-----\", "
        "\"vg_free\":\"4194304000\", \"vg_extent_size\":\"4194304\"}\n"
        "              ]\n"
        "          }\n"
        "      ]\n"
        "  }\n";

static void test_parse_debian12(void **state) {
        lvm_lv *lvs;
        size_t n;
        vcm_error err = { { 0 } };
        assert_int_equal(lvm_report_parse_lvs(debian12, &lvs, &n, &err), 0);
        assert_int_equal(n, 3);
        assert_string_equal(lvs[0].name, "pl-compute-0");
        assert_string_equal(lvs[0].vg, "vcm");
        assert_true(lvs[0].size == 1073741824ull);
        assert_true(lvs[0].vg_free == 4194304000ull);
        assert_true(lvs[0].extent == 4194304ull);
        assert_string_equal(lvs[0].tags[0], "vcm.size:1073741824");
        assert_string_equal(lvs[0].tags[1], "vcm:pl");
        assert_null(lvs[0].tags[2]);
        assert_string_equal(lvm_lv_tag(&lvs[0], VCM_LVM_TAG_CLUSTER), "pl");
        assert_null(lvs[1].tags[0]);
        assert_null(lvm_lv_tag(&lvs[1], VCM_LVM_TAG_CLUSTER));
        lvm_lvs_free(lvs, n);
}

/* lvm2's json_std: real numbers and tag arrays; two VGs' reports in one document. */
static void test_parse_json_std(void **state) {
        const char *j = "{\"report\":[{\"lv\":[{\"lv_name\":\"a-x\",\"vg_name\":\"v1\","
                        "\"lv_size\":16777216,\"lv_tags\":[\"vcm:a\",\"other\"]}]},"
                        "{\"lv\":[{\"lv_name\":\"b-y\",\"vg_name\":\"v2\",\"lv_size\":4194304,"
                        "\"lv_tags\":[]}]}]}";
        lvm_lv *lvs;
        size_t n;
        vcm_error err;
        assert_int_equal(lvm_report_parse_lvs(j, &lvs, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_true(lvs[0].size == 16777216ull);
        assert_string_equal(lvm_lv_tag(&lvs[0], "vcm:"), "a");
        assert_string_equal(lvs[0].tags[1], "other");
        assert_null(lvs[1].tags[0]);
        assert_string_equal(lvs[1].vg, "v2");
        lvm_lvs_free(lvs, n);
}

static void test_parse_errors(void **state) {
        lvm_lv *lvs = NULL;
        size_t n = 0;
        vcm_error err = { { 0 } };
        assert_int_equal(lvm_report_parse_lvs("  Volume group not found", &lvs, &n, &err),
                         -EBADMSG);
        assert_non_null(strstr(err.message, "not JSON"));
        assert_int_equal(lvm_report_parse_lvs("{\"x\":1}", &lvs, &n, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "report"));
        assert_int_equal(lvm_report_parse_lvs("{\"report\":[{\"lv\":[{\"lv_name\":\"a\","
                                              "\"lv_size\":\"12k\"}]}]}",
                                              &lvs, &n, &err),
                         -EBADMSG);
        assert_non_null(strstr(err.message, "row 0"));
        assert_int_equal(lvm_report_parse_lvs("{\"report\":[{\"lv\":[{\"lv_size\":\"1\"}]}]}",
                                              &lvs, &n, &err),
                         -EBADMSG);
        /* An empty VG is an empty list, not an error. */
        assert_int_equal(lvm_report_parse_lvs("{\"report\":[{\"lv\":[]}]}", &lvs, &n, &err), 0);
        assert_int_equal(n, 0);
        lvm_lvs_free(lvs, n);
}

static void test_parse_vg(void **state) {
        const char *j = "{\"report\":[{\"vg\":[{\"vg_name\":\"other\",\"vg_size\":\"1\","
                        "\"vg_free\":\"1\",\"vg_extent_size\":\"1\"},{\"vg_name\":\"vcm\","
                        "\"vg_size\":\"532676608\",\"vg_free\":\"515899392\","
                        "\"vg_extent_size\":\"4194304\"}]}]}";
        lvm_vg vg;
        vcm_error err;
        assert_int_equal(lvm_report_parse_vg(j, "vcm", &vg, &err), 0);
        assert_true(vg.size == 532676608ull && vg.free == 515899392ull && vg.extent == 4194304);
        assert_int_equal(lvm_report_parse_vg(j, "missing", &vg, &err), -ENOENT);
        assert_non_null(strstr(err.message, "missing"));
}

static void test_to_resource(void **state) {
        lvm_lv *lvs;
        size_t n;
        vcm_error err;
        assert_int_equal(lvm_report_parse_lvs(debian12, &lvs, &n, &err), 0);
        vcm_resource_set *s = vcm_resource_set_new();
        for (size_t i = 0; i < n; i++)
                assert_int_equal(lvm_lv_to_resource(&lvs[i], "st1", s), 0);
        /* The untagged LV is not vcm's: not observed, so never touched. */
        assert_int_equal(vcm_resource_set_size(s), 2);
        assert_null(vcm_resource_set_find(s, VCM_KIND_VOLUME, "st1", "home"));
        const vcm_resource *r = vcm_resource_set_find(s, VCM_KIND_VOLUME, "st1", "pl-compute-0");
        assert_non_null(r);
        assert_string_equal(r->cluster, "pl");
        assert_string_equal(vcm_resource_prop(r, "size"), "1073741824");
        assert_string_equal(vcm_resource_prop(r, "backend"), "lvm");
        assert_string_equal(vcm_resource_prop(r, "pool"), "vcm");
        assert_null(vcm_resource_prop(r, "clone"));
        /* Rounded up to whole extents by LVM: reads back as the size asked for. */
        r = vcm_resource_set_find(s, VCM_KIND_VOLUME, "st1", "pl-frontend");
        assert_string_equal(vcm_resource_prop(r, "size"), "1000000000");
        assert_string_equal(vcm_resource_prop(r, "clone"), "img-fe");
        vcm_resource_set_free(s);
        lvm_lvs_free(lvs, n);
}

static void test_to_resource_shrunk_and_copying(void **state) {
        /* Shrunk behind vcm's back: the real size shows (and a plan would grow it back). */
        const char *j = "{\"report\":[{\"lv\":[{\"lv_name\":\"c-a\",\"vg_name\":\"vg\","
                        "\"lv_size\":\"4194304\",\"lv_tags\":\"vcm:c,vcm.size:8388608\","
                        "\"vg_extent_size\":\"4194304\"},"
                        "{\"lv_name\":\"c-b\",\"vg_name\":\"vg\",\"lv_size\":\"8388608\","
                        "\"lv_tags\":\"vcm:c,vcm.size:8388608,vcm.copying:img\"}]}]}";
        lvm_lv *lvs;
        size_t n;
        vcm_error err;
        assert_int_equal(lvm_report_parse_lvs(j, &lvs, &n, &err), 0);
        vcm_resource_set *s = vcm_resource_set_new();
        for (size_t i = 0; i < n; i++)
                assert_int_equal(lvm_lv_to_resource(&lvs[i], "h", s), 0);
        const vcm_resource *a = vcm_resource_set_find(s, VCM_KIND_VOLUME, "h", "c-a");
        assert_string_equal(vcm_resource_prop(a, "size"), "4194304");
        /* A copy cut short by a crash is marked so that it is replaced. */
        const vcm_resource *b = vcm_resource_set_find(s, VCM_KIND_VOLUME, "h", "c-b");
        assert_string_equal(vcm_resource_prop(b, "clone"), "incomplete:img");
        const char *why = NULL;
        assert_int_equal(vcm_provider_lvm.classify(VCM_KIND_VOLUME, "clone", "incomplete:img",
                                                   "img", &why),
                         VCM_CHANGE_REPLACE);
        assert_non_null(why);
        vcm_resource_set_free(s);
        lvm_lvs_free(lvs, n);
}

static void test_tags(void **state) {
        assert_true(lvm_tag_valid("vcm:physics-lab"));
        assert_true(lvm_tag_valid("vcm.size:1073741824"));
        assert_true(lvm_tag_valid("vcm.clone:img/compute_1+x=y!#&"));
        assert_false(lvm_tag_valid("vcm:a b"));
        assert_false(lvm_tag_valid("vcm:a,b")); /* the report's separator */
        assert_false(lvm_tag_valid(""));
        assert_false(lvm_tag_valid(NULL));
}

static void test_classify(void **state) {
        const vcm_provider *p = &vcm_provider_lvm;
        const char *why = NULL;
        assert_int_equal(p->classify(VCM_KIND_VOLUME, "size", "2147483648", "1073741824", &why),
                         VCM_CHANGE_REFUSED);
        assert_non_null(strstr(why, "shrink"));
        assert_int_equal(p->classify(VCM_KIND_VOLUME, "size", "1073741824", "2147483648", &why),
                         VCM_CHANGE_LIVE);
        assert_int_equal(p->classify(VCM_KIND_VOLUME, "pool", "vcm", "other", &why),
                         VCM_CHANGE_REFUSED);
        assert_int_equal(p->classify(VCM_KIND_VOLUME, "clone", "img-a", "img-b", &why),
                         VCM_CHANGE_LIVE);
        assert_int_equal(p->classify(VCM_KIND_VOLUME, "meta.cluster-bytes", "1", "2", &why),
                         VCM_CHANGE_LIVE);
}

static void test_open_serves(void **state) {
        vcm_host st = { .name = "st1", .roles = VCM_ROLE_STORAGE, .volume_group = "vcm",
                        .portal = "192.0.2.10:3260" };
        vcm_host vm = { .name = "vm1", .roles = VCM_ROLE_VM_SERVER };
        vcm_host hosts[2] = { st, vm };
        vcm_site site = { .name = "s", .storage_backend = VCM_STORAGE_LVM_ISCSI, .hosts = hosts,
                          .n_hosts = 2 };
        void *conn = NULL;
        vcm_error err;
        assert_int_equal(vcm_provider_lvm.open(&site, &hosts[1], &conn, &err), -EOPNOTSUPP);
        assert_int_equal(vcm_provider_lvm.open(&site, &hosts[0], &conn, &err), 0);
        vcm_provider_lvm.close(conn);
        /* lvm backend: VM hosts use the storage host's VG name for their local LVs. */
        site.storage_backend = VCM_STORAGE_LVM;
        assert_int_equal(vcm_provider_lvm.open(&site, &hosts[1], &conn, &err), 0);
        vcm_provider_lvm.close(conn);
        site.storage_backend = VCM_STORAGE_FILE;
        assert_int_equal(vcm_provider_lvm.open(&site, &hosts[0], &conn, &err), -EOPNOTSUPP);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_debian12),
                cmocka_unit_test(test_parse_json_std),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_parse_vg),
                cmocka_unit_test(test_to_resource),
                cmocka_unit_test(test_to_resource_shrunk_and_copying),
                cmocka_unit_test(test_tags),
                cmocka_unit_test(test_classify),
                cmocka_unit_test(test_open_serves),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
