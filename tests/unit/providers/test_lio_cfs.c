/* The LIO configfs writer against a scratch directory tree: exports made piece by piece, read
 * back as resources, a half-made target repaired, teardown in reverse, other tools' objects
 * untouched, saveconfig.json merged for targetctl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "providers/lio/lio.h"
#include "reconciler/props.h"

#define IQN "iqn.2026-01.org.vcm:pl"
#define INIT1 "iqn.2026-01.org.vcm.initiator:vm1"
#define INIT2 "iqn.2026-01.org.vcm.initiator:vm2"
#define FOREIGN "iqn.2003-01.org.linux-iscsi.st1.x8664:sn.0123"

typedef struct scratch {
        char top[PATH_MAX], dir[PATH_MAX + 16], save[PATH_MAX + 32], lock[PATH_MAX + 16];
        lio_root root;
} scratch;

static int setup(void **state) {
        scratch *s = calloc(1, sizeof(*s));
        snprintf(s->top, sizeof(s->top), "/tmp/vcm-test-lio-XXXXXX");
        if (!mkdtemp(s->top))
                return -1;
        snprintf(s->dir, sizeof(s->dir), "%s/target", s->top);
        snprintf(s->save, sizeof(s->save), "%s/etc/saveconfig.json", s->top);
        snprintf(s->lock, sizeof(s->lock), "%s/lock", s->top);
        s->root = (lio_root){ .dir = s->dir, .savefile = s->save, .lockfile = s->lock,
                              .scratch = true };
        vcm_error err;
        if (lio_check(&s->root, &err) < 0)
                return -1;
        *state = s;
        return 0;
}

static int teardown(void **state) {
        scratch *s = *state;
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->top);
        if (strncmp(s->top, "/tmp/vcm-test-lio-", 18) == 0 && system(cmd) != 0)
                return -1;
        free(s);
        return 0;
}

static char *rd(scratch *s, const char *rel) {
        char p[PATH_MAX * 2];
        snprintf(p, sizeof(p), "%s/%s", s->dir, rel);
        FILE *f = fopen(p, "r");
        if (!f)
                return NULL;
        static char b[512];
        size_t n = fread(b, 1, sizeof(b) - 1, f);
        fclose(f);
        b[n] = '\0';
        return b;
}

static bool exists(scratch *s, const char *rel) {
        char p[PATH_MAX * 2];
        snprintf(p, sizeof(p), "%s/%s", s->dir, rel);
        struct stat st;
        return lstat(p, &st) == 0;
}

static void mk(scratch *s, const char *rel) {
        char p[PATH_MAX * 2];
        snprintf(p, sizeof(p), "mkdir -p '%s/%s'", s->dir, rel);
        assert_int_equal(system(p), 0);
}

static vcm_resource_set *scan(scratch *s) {
        vcm_resource_set *out = vcm_resource_set_new();
        vcm_error err;
        assert_int_equal(lio_scan(&s->root, "st1", out, &err), 0);
        return out;
}

static const char *prop(vcm_resource_set *set, vcm_kind k, const char *name, const char *key) {
        const vcm_resource *r = vcm_resource_set_find(set, k, "st1", name);
        assert_non_null(r);
        return vcm_resource_prop(r, key);
}

/* The whole export of cluster "pl": backstores, target, LUNs 0 and 1, ACLs for two hosts. */
static void export_all(scratch *s) {
        vcm_error err = { { 0 } };
        assert_int_equal(lio_backstore_ensure(&s->root, "vcm.pl.shared", "/dev/vcm/pl-shared",
                                              &err), 0);
        assert_int_equal(lio_backstore_ensure(&s->root, "vcm.pl.frontend", "/dev/vcm/pl-frontend",
                                              &err), 0);
        assert_int_equal(lio_target_ensure(&s->root, IQN, "10.99.0.11:3260", &err), 0);
        assert_int_equal(lio_lun_ensure(&s->root, IQN, 0, "vcm.pl.shared", &err), 0);
        assert_int_equal(lio_lun_ensure(&s->root, IQN, 1, "vcm.pl.frontend", &err), 0);
        unsigned luns[] = { 0, 1 };
        assert_int_equal(lio_acl_ensure(&s->root, IQN, INIT1, luns, 2, &err), 0);
        assert_int_equal(lio_acl_ensure(&s->root, IQN, INIT2, luns, 2, &err), 0);
}

static void test_export_and_read_back(void **state) {
        scratch *s = *state;
        export_all(s);
        /* The configfs writes rtslib makes, in its layout. */
        assert_string_equal(rd(s, "core/iblock_0/vcm.pl.shared/udev_path"), "/dev/vcm/pl-shared");
        assert_string_equal(rd(s, "core/iblock_0/vcm.pl.shared/control"), "readonly=0");
        assert_string_equal(rd(s, "core/iblock_0/vcm.pl.shared/enable"), "1");
        assert_string_equal(rd(s, "core/iblock_1/vcm.pl.frontend/enable"), "1");
        assert_string_equal(rd(s, "iscsi/" IQN "/tpgt_1/attrib/authentication"), "0");
        assert_string_equal(rd(s, "iscsi/" IQN "/tpgt_1/attrib/generate_node_acls"), "0");
        assert_string_equal(rd(s, "iscsi/" IQN "/tpgt_1/enable"), "1");
        assert_true(exists(s, "iscsi/" IQN "/tpgt_1/np/10.99.0.11:3260"));
        assert_true(exists(s, "iscsi/" IQN "/tpgt_1/lun/lun_1/vcm_lun"));
        assert_true(exists(s, "iscsi/" IQN "/tpgt_1/acls/" INIT2 "/lun_1/vcm_mlun"));

        vcm_resource_set *o = scan(s);
        assert_int_equal(vcm_resource_set_size(o), 5); /* target, 2 LUNs, 2 ACLs */
        assert_string_equal(prop(o, VCM_KIND_ISCSI_TARGET, IQN, "portal"), "10.99.0.11:3260");
        assert_string_equal(prop(o, VCM_KIND_ISCSI_TARGET, IQN, "enabled"), "1");
        assert_string_equal(prop(o, VCM_KIND_ISCSI_TARGET, IQN, "authentication"), "0");
        assert_string_equal(prop(o, VCM_KIND_ISCSI_TARGET, IQN, "generate_node_acls"), "0");
        assert_string_equal(prop(o, VCM_KIND_ISCSI_LUN, "pl-frontend", "lun"), "1");
        assert_string_equal(prop(o, VCM_KIND_ISCSI_LUN, "pl-frontend", "target"), IQN);
        assert_string_equal(prop(o, VCM_KIND_ISCSI_LUN, "pl-frontend", "device"),
                            "/dev/vcm/pl-frontend");
        assert_string_equal(vcm_resource_set_find(o, VCM_KIND_ISCSI_LUN, "st1", "pl-shared")
                                    ->cluster, "pl");
        assert_string_equal(prop(o, VCM_KIND_ISCSI_ACL, "pl/" INIT1, "luns"), "0,1");
        assert_string_equal(prop(o, VCM_KIND_ISCSI_ACL, "pl/" INIT1, "initiator"), INIT1);
        vcm_resource_set_free(o);

        /* Idempotent: a second run changes nothing and fails nowhere. */
        export_all(s);
        o = scan(s);
        assert_int_equal(vcm_resource_set_size(o), 5);
        assert_false(exists(s, "core/iblock_2"));
        vcm_resource_set_free(o);
}

static void test_half_made_target_repaired(void **state) {
        scratch *s = *state;
        /* A crash right after mkdir of the TPG: no attributes, portal or enable. */
        mk(s, "iscsi/" IQN "/tpgt_1");
        vcm_resource_set *o = scan(s);
        assert_null(prop(o, VCM_KIND_ISCSI_TARGET, IQN, "portal"));
        assert_null(prop(o, VCM_KIND_ISCSI_TARGET, IQN, "enabled"));
        vcm_resource_set_free(o);
        vcm_error err;
        assert_int_equal(lio_target_ensure(&s->root, IQN, "10.99.0.11:3260", &err), 0);
        o = scan(s);
        assert_string_equal(prop(o, VCM_KIND_ISCSI_TARGET, IQN, "portal"), "10.99.0.11:3260");
        assert_string_equal(prop(o, VCM_KIND_ISCSI_TARGET, IQN, "enabled"), "1");
        assert_string_equal(prop(o, VCM_KIND_ISCSI_TARGET, IQN, "generate_node_acls"), "0");
        vcm_resource_set_free(o);

        /* A portal someone added by hand goes; vcm's target has exactly the site's. */
        mk(s, "iscsi/" IQN "/tpgt_1/np/0.0.0.0:3260");
        assert_int_equal(lio_target_ensure(&s->root, IQN, "10.99.0.11:3260", &err), 0);
        assert_false(exists(s, "iscsi/" IQN "/tpgt_1/np/0.0.0.0:3260"));

        /* A backstore without its LUN (crash between the two) is observed, then completed. */
        assert_int_equal(lio_backstore_ensure(&s->root, "vcm.pl.compute-0", "/dev/vcm/pl-compute-0",
                                              &err), 0);
        o = scan(s);
        assert_string_equal(prop(o, VCM_KIND_ISCSI_LUN, "pl-compute-0", "device"),
                            "/dev/vcm/pl-compute-0");
        assert_null(prop(o, VCM_KIND_ISCSI_LUN, "pl-compute-0", "lun"));
        vcm_resource_set_free(o);
        /* ...and a LUN directory made without its link. */
        mk(s, "iscsi/" IQN "/tpgt_1/lun/lun_1");
        assert_int_equal(lio_lun_ensure(&s->root, IQN, 1, "vcm.pl.compute-0", &err), 0);
        o = scan(s);
        assert_string_equal(prop(o, VCM_KIND_ISCSI_LUN, "pl-compute-0", "lun"), "1");
        vcm_resource_set_free(o);

        /* A mapped LUN directory without its link does not count as mapped; ensure links it. */
        mk(s, "iscsi/" IQN "/tpgt_1/acls/" INIT1 "/lun_1");
        o = scan(s);
        assert_string_equal(prop(o, VCM_KIND_ISCSI_ACL, "pl/" INIT1, "luns"), "");
        vcm_resource_set_free(o);
        unsigned one = 1;
        assert_int_equal(lio_acl_ensure(&s->root, IQN, INIT1, &one, 1, &err), 0);
        o = scan(s);
        assert_string_equal(prop(o, VCM_KIND_ISCSI_ACL, "pl/" INIT1, "luns"), "1");
        vcm_resource_set_free(o);

        /* A half-configured backstore (enable never written) is configured again. */
        mk(s, "core/iblock_7/vcm.pl.compute-1");
        assert_int_equal(lio_backstore_ensure(&s->root, "vcm.pl.compute-1",
                                              "/dev/vcm/pl-compute-1", &err), 0);
        assert_string_equal(rd(s, "core/iblock_7/vcm.pl.compute-1/enable"), "1");
        assert_string_equal(rd(s, "core/iblock_7/vcm.pl.compute-1/udev_path"),
                            "/dev/vcm/pl-compute-1");
        /* A configured backstore that exports another device is not silently re-pointed. */
        assert_int_equal(lio_backstore_ensure(&s->root, "vcm.pl.compute-1", "/dev/vcm/other",
                                              &err), -EEXIST);
        assert_non_null(strstr(err.message, "/dev/vcm/pl-compute-1"));
}

/* An HBA directory left empty by a crash between its mkdir and the storage object's goes once
 * it is old enough not to be another tool's work in progress. */
static void test_orphan_hba_removed(void **state) {
        scratch *s = *state;
        mk(s, "core/iblock_0");
        mk(s, "core/iblock_1");
        char p[PATH_MAX * 2];
        snprintf(p, sizeof(p), "%s/core/iblock_0", s->dir);
        struct timeval old[2] = { { .tv_sec = 1000 }, { .tv_sec = 1000 } };
        assert_int_equal(utimes(p, old), 0);
        vcm_error err;
        assert_int_equal(lio_backstore_ensure(&s->root, "vcm.pl.x", "/dev/vcm/pl-x", &err), 0);
        assert_true(exists(s, "core/iblock_0/vcm.pl.x")); /* the orphan's index, reused */
        assert_true(exists(s, "core/iblock_1"));          /* recent: left alone */
}

static void test_lun_before_target_fails_clearly(void **state) {
        scratch *s = *state;
        vcm_error err;
        assert_int_equal(lio_lun_ensure(&s->root, IQN, 1, "vcm.pl.x", &err), -ENOENT);
        assert_non_null(strstr(err.message, "target does not exist"));
        assert_int_equal(lio_target_ensure(&s->root, IQN, "10.99.0.11", &err), -EINVAL);
        assert_non_null(strstr(err.message, "IP:PORT"));
}

static void test_teardown_reverse_and_foreign_untouched(void **state) {
        scratch *s = *state;
        /* Another tool's backstore and target, made before vcm's. */
        mk(s, "core/iblock_0/disk1");
        mk(s, "iscsi/" FOREIGN "/tpgt_1/lun/lun_0");
        export_all(s);
        /* rtslib's allocation: the lowest HBA index nobody uses. */
        assert_true(exists(s, "core/iblock_1/vcm.pl.shared"));
        vcm_resource_set *o = scan(s);
        assert_int_equal(vcm_resource_set_size(o), 5);
        vcm_resource_set_free(o);

        vcm_error err = { { 0 } };
        /* Removing a LUN drops the mapped LUNs that point at it first. */
        assert_int_equal(lio_lun_remove(&s->root, IQN, 1, &err), 0);
        assert_false(exists(s, "iscsi/" IQN "/tpgt_1/acls/" INIT1 "/lun_1"));
        assert_true(exists(s, "iscsi/" IQN "/tpgt_1/acls/" INIT1 "/lun_0/vcm_mlun"));
        assert_int_equal(lio_backstore_remove(&s->root, "vcm.pl.frontend", &err), 0);
        assert_false(exists(s, "core/iblock_2"));
        assert_int_equal(lio_acl_remove(&s->root, IQN, INIT2, &err), 0);
        /* The target takes whatever is left under it (ACL, LUN, portal, TPG). */
        assert_int_equal(lio_target_remove(&s->root, IQN, &err), 0);
        assert_false(exists(s, "iscsi/" IQN));
        assert_int_equal(lio_backstore_remove(&s->root, "vcm.pl.shared", &err), 0);
        /* Removing what is already gone succeeds. */
        assert_int_equal(lio_target_remove(&s->root, IQN, &err), 0);
        assert_int_equal(lio_backstore_remove(&s->root, "vcm.pl.shared", &err), 0);
        assert_int_equal(lio_acl_remove(&s->root, IQN, INIT1, &err), 0);

        o = scan(s);
        assert_int_equal(vcm_resource_set_size(o), 0);
        vcm_resource_set_free(o);
        assert_true(exists(s, "core/iblock_0/disk1"));
        assert_true(exists(s, "iscsi/" FOREIGN "/tpgt_1/lun/lun_0"));
}

static void test_saveconfig_merge(void **state) {
        scratch *s = *state;
        /* What targetcli saved for its own objects: kept exactly. */
        char d[PATH_MAX * 2];
        snprintf(d, sizeof(d), "%s/etc", s->top);
        mkdir(d, 0755);
        FILE *f = fopen(s->save, "w");
        assert_non_null(f);
        fputs("{\"fabric_modules\": [], \"storage_objects\": [{\"plugin\": \"block\", \"name\": "
              "\"disk1\", \"dev\": \"/dev/sdb\"}, {\"plugin\": \"block\", \"name\": "
              "\"vcm.pl.stale\", \"dev\": \"/dev/vcm/pl-stale\"}], \"targets\": [{\"fabric\": "
              "\"iscsi\", \"wwn\": \"" FOREIGN "\", \"tpgs\": []}, {\"fabric\": \"iscsi\", "
              "\"wwn\": \"" VCM_IQN_PREFIX "gone\", \"tpgs\": []}]}\n", f);
        fclose(f);
        export_all(s);
        vcm_error err = { { 0 } };
        assert_int_equal(lio_save(&s->root, &err), 0);
        struct stat st;
        assert_int_equal(stat(s->save, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        json_error_t jerr;
        json_t *doc = json_load_file(s->save, 0, &jerr);
        assert_non_null(doc);
        json_t *sos = json_object_get(doc, "storage_objects");
        json_t *tgs = json_object_get(doc, "targets");
        /* disk1 kept; stale vcm entry replaced by what configfs has: shared + frontend. */
        assert_int_equal(json_array_size(sos), 3);
        assert_string_equal(json_string_value(json_object_get(json_array_get(sos, 0), "name")),
                            "disk1");
        json_t *so = json_array_get(sos, 1);
        assert_string_equal(json_string_value(json_object_get(so, "plugin")), "block");
        assert_string_equal(json_string_value(json_object_get(so, "dev")), "/dev/vcm/pl-shared");
        assert_int_equal(json_array_size(tgs), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(tgs, 0), "wwn")),
                            FOREIGN);
        json_t *t = json_array_get(tgs, 1);
        assert_string_equal(json_string_value(json_object_get(t, "wwn")), IQN);
        assert_string_equal(json_string_value(json_object_get(t, "fabric")), "iscsi");
        json_t *tpg = json_array_get(json_object_get(t, "tpgs"), 0);
        assert_int_equal(json_integer_value(json_object_get(tpg, "tag")), 1);
        assert_true(json_is_true(json_object_get(tpg, "enable")));
        assert_int_equal(json_integer_value(json_object_get(
                                 json_object_get(tpg, "attributes"), "generate_node_acls")), 0);
        json_t *lun = json_array_get(json_object_get(tpg, "luns"), 1);
        assert_int_equal(json_integer_value(json_object_get(lun, "index")), 1);
        assert_string_equal(json_string_value(json_object_get(lun, "storage_object")),
                            "/backstores/block/vcm.pl.frontend");
        json_t *portal = json_array_get(json_object_get(tpg, "portals"), 0);
        assert_string_equal(json_string_value(json_object_get(portal, "ip_address")), "10.99.0.11");
        assert_int_equal(json_integer_value(json_object_get(portal, "port")), 3260);
        json_t *acl = json_array_get(json_object_get(tpg, "node_acls"), 0);
        assert_string_equal(json_string_value(json_object_get(acl, "node_wwn")), INIT1);
        json_t *ml = json_array_get(json_object_get(acl, "mapped_luns"), 1);
        assert_int_equal(json_integer_value(json_object_get(ml, "index")), 1);
        assert_int_equal(json_integer_value(json_object_get(ml, "tpg_lun")), 1);
        json_decref(doc);

        /* A save file that is not JSON is not overwritten. */
        f = fopen(s->save, "w");
        fputs("not json", f);
        fclose(f);
        assert_int_equal(lio_save(&s->root, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "not overwriting"));
        f = fopen(s->save, "r");
        char b[16] = { 0 };
        assert_non_null(fgets(b, sizeof(b), f));
        fclose(f);
        assert_string_equal(b, "not json");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_export_and_read_back, setup, teardown),
                cmocka_unit_test_setup_teardown(test_half_made_target_repaired, setup, teardown),
                cmocka_unit_test_setup_teardown(test_orphan_hba_removed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lun_before_target_fails_clearly, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_teardown_reverse_and_foreign_untouched, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_saveconfig_merge, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
