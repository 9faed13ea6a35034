/* Per-file rules for site.yaml and rolls/: exact FILE:LINE:COLUMN and message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spec_fixture.h"

static void test_trunk_required_for_vlan(void **state) {
        assert_diags(site_diags("      trunk: eth1\n", ""),
                     "site.yaml:8:7: error: missing required key 'trunk' in host 'gw1': with the vlan network "
                     "backend, gateway and vm-server hosts need the NIC that carries the VLANs\n");
}

static void test_trunk_not_needed_for_bridge(void **state) {
        vcm_repo *repo;
        char *s = replace(SITE, "{backend: vlan, vlanRange: {from: 100, to: 999}}", "{backend: bridge}");
        char *s2 = replace(s, "      trunk: eth1\n", "");
        assert_diags(load_text(true, &repo, "site.yaml", s2, "clusters/physics-lab.yaml", CLUSTER, NULL), "");
        assert_int_equal(repo->site->network_backend, VCM_NET_BRIDGE);
        vcm_repo_free(repo);
        free(s);
        free(s2);
}

static void test_vlan_range_required(void **state) {
        assert_diags(site_diags("{backend: vlan, vlanRange: {from: 100, to: 999}}", "{backend: vlan}"),
                     "site.yaml:5:12: error: missing required key 'vlanRange' in network: the vlan backend "
                     "needs {from, to}\n");
}

static void test_vlan_range_order(void **state) {
        assert_diags(site_diags("{from: 100, to: 999}", "{from: 900, to: 100}"),
                     "site.yaml:5:55: error: vlanRange 'to' (100) is below 'from' (900)\n");
}

static void test_vlan_range_bounds(void **state) {
        assert_diags(site_diags("{from: 100, to: 999}", "{from: 0, to: 4095}"),
                     "site.yaml:5:46: error: 'from' must be between 1 and 4094, not 0\n"
                     "site.yaml:5:53: error: 'to' must be between 1 and 4094, not 4095\n");
}

static void test_storage_host_needs_vg_and_portal(void **state) {
        assert_diags(site_diags("      volumeGroup: vcm\n      portal: 192.0.2.10:3260\n", ""),
                     "site.yaml:14:7: error: missing required key 'portal' in host 'st1': storage hosts need "
                     "an iSCSI portal IP:PORT for the lvm-iscsi backend\n"
                     "site.yaml:14:7: error: missing required key 'volumeGroup' in host 'st1': storage hosts "
                     "need the LVM volume group for the lvm and lvm-iscsi backends\n");
}

static void test_lvm_iscsi_needs_storage_host(void **state) {
        assert_diags(site_diags("roles: [storage]", "roles: [gateway]\n      libvirt: qemu:///system\n"
                                                    "      capacity: {vcpus: 2, memory: 2GiB}\n      trunk: eth0"),
                     "site.yaml:8:5: error: the lvm-iscsi storage backend needs a host with role 'storage'\n");
}

static void test_vm_host_needs_libvirt_and_capacity(void **state) {
        assert_diags(site_diags("      libvirt: qemu:///system\n      capacity: {vcpus: 32, memory: 128GiB}\n", ""),
                     "site.yaml:8:7: error: missing required key 'capacity' in host 'gw1': gateway and "
                     "vm-server hosts need {vcpus, memory}\n"
                     "site.yaml:8:7: error: missing required key 'libvirt' in host 'gw1': gateway and "
                     "vm-server hosts need a libvirt URI such as qemu:///system\n");
}

static void test_capacity_memory_size(void **state) {
        assert_diags(site_diags("memory: 128GiB", "memory: 128G"),
                     "site.yaml:11:37: error: size '128G' is not valid: use binary units such as 4GiB\n");
}

static void test_bad_role_and_host_name(void **state) {
        assert_diags(site_diags("    - name: st1\n      roles: [storage]", "    - name: St_1\n      roles: [storge]"),
                     /* st1 lost its storage role to the typo, so the backend has no storage host */
                     "site.yaml:8:5: error: the lvm-iscsi storage backend needs a host with role 'storage'\n"
                     "site.yaml:14:13: error: host name 'St_1' is not valid: use lower-case letters, digits, "
                     "'-' and '.' as in a DNS name\n"
                     "site.yaml:15:15: error: 'roles' must be one of gateway, vm-server, storage, not "
                     "'storge': did you mean 'storage'?\n");
}

static void test_duplicate_host_name(void **state) {
        assert_diags(site_diags("    - name: st1\n", "    - name: gw1\n"),
                     "site.yaml:14:13: error: host name 'gw1' is already used at line 8: host names must be unique\n");
}

static void test_portal_format(void **state) {
        assert_diags(site_diags("      portal: 192.0.2.10:3260\n", "      portal: 192.0.2.10\n"),
                     "site.yaml:17:15: error: portal '192.0.2.10' is not valid: use IP:PORT such as "
                     "192.0.2.10:3260\n");
}

static void test_portal_port_leading_zero(void **state) {
        assert_diags(site_diags("192.0.2.10:3260", "192.0.2.10:03260"),
                     "site.yaml:17:15: error: portal '192.0.2.10:03260' is not valid: use IP:PORT such as "
                     "192.0.2.10:3260\n");
}

static void test_image_exactly_one(void **state) {
        assert_diags(site_diags("    compute: {volume: img-compute}\n", "    compute: {volume: a, file: b}\n"),
                     "site.yaml:20:14: error: image for 'compute' must have exactly one of 'volume', 'file' "
                     "or 'kernel'\n");
}

static void test_image_kernel_and_duplicate(void **state) {
        assert_diags(site_diags("    compute: {volume: img-compute}\n",
                                "    compute: {kernel: /boot/vmlinuz, initrd: /boot/initrd, cmdline: quiet}\n"
                                "    compute: {volume: x}\n"),
                     "site.yaml:21:5: error: duplicate key 'compute' in images (first set at line 20): keep only one\n");
}

static void test_site_unknown_key(void **state) {
        assert_diags(site_diags("      trunk: eth1\n", "      trunk: eth1\n      volumegroup: vg\n"),
                     "site.yaml:13:7: error: unknown key 'volumegroup' in the host: did you mean 'volumeGroup'?\n");
}

static void test_pool_path_absolute(void **state) {
        assert_diags(site_diags("      trunk: eth1\n", "      trunk: eth1\n      poolPath: pool\n"),
                     "site.yaml:13:17: error: poolPath 'pool' must be an absolute path such as /var/lib/vcm/pool\n");
}

static void test_failed_site_is_null(void **state) {
        vcm_repo *repo;
        char *s = replace(SITE, "kind: Site\n", "kind: Sight\n");
        assert_diags(load_text(false, &repo, "site.yaml", s, NULL),
                     "site.yaml:2:7: error: kind must be 'Site' for site.yaml, not 'Sight'\n");
        assert_null(repo->site);
        vcm_repo_free(repo);
        free(s);
}

static void test_missing_site(void **state) {
        vcm_source_file f[] = { { "clusters/physics-lab.yaml", CLUSTER, sizeof(CLUSTER) - 1 } };
        vcm_diags d = { 0 };
        vcm_repo *repo;
        assert_int_equal(vcm_load_files(f, 1, &d, &repo), 0);
        assert_diags(diags_text(&d),
                     "site.yaml:1:1: error: site.yaml is missing: every spec repository needs one describing its hosts\n");
        assert_null(repo->site);
        assert_int_equal(repo->n_clusters, 1); /* the cluster itself is fine */
        vcm_diags_clear(&d);
        vcm_repo_free(repo);
}

static void test_roll_path_absolute(void **state) {
        assert_diags(roll_diags("path: /etc/motd", "path: etc/motd"),
                     "rolls/base.yaml:10:18: error: path 'etc/motd' must be absolute, such as /etc/motd\n");
}

static void test_roll_mode_string(void **state) {
        assert_diags(roll_diags("mode: \"0600\"", "mode: 0600"),
                     "rolls/base.yaml:10:52: error: mode must be an octal string in quotes such as \"0644\", "
                     "not '0600'\n");
}

static void test_roll_duplicate_appliance(void **state) {
        assert_diags(roll_diags("    compute:\n", "    frontend:\n"),
                     "rolls/base.yaml:7:5: error: duplicate key 'frontend' in appliances (first set at line 6): "
                     "keep only one\n");
}

static void test_roll_missing_appliances(void **state) {
        assert_diags(roll_diags("  appliances:\n", "  appliance:\n"),
                     "rolls/base.yaml:5:3: error: missing required key 'appliances' in spec\n"
                     "rolls/base.yaml:5:3: error: unknown key 'appliance' in spec: did you mean 'appliances'?\n");
}

static void test_roll_duplicate_name(void **state) {
        vcm_repo *repo;
        assert_diags(load_text(false, &repo, "rolls/z.yaml", ROLL, NULL),
                     "rolls/z.yaml:3:18: error: Roll name 'base' is already used by rolls/base.yaml: choose another name\n");
        assert_int_equal(repo->n_rolls, 1);
        assert_string_equal(repo->rolls[0].file, "rolls/base.yaml");
        vcm_repo_free(repo);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_trunk_required_for_vlan),
                cmocka_unit_test(test_trunk_not_needed_for_bridge),
                cmocka_unit_test(test_vlan_range_required),
                cmocka_unit_test(test_vlan_range_order),
                cmocka_unit_test(test_vlan_range_bounds),
                cmocka_unit_test(test_storage_host_needs_vg_and_portal),
                cmocka_unit_test(test_lvm_iscsi_needs_storage_host),
                cmocka_unit_test(test_vm_host_needs_libvirt_and_capacity),
                cmocka_unit_test(test_capacity_memory_size),
                cmocka_unit_test(test_bad_role_and_host_name),
                cmocka_unit_test(test_duplicate_host_name),
                cmocka_unit_test(test_portal_format),
                cmocka_unit_test(test_portal_port_leading_zero),
                cmocka_unit_test(test_image_exactly_one),
                cmocka_unit_test(test_image_kernel_and_duplicate),
                cmocka_unit_test(test_site_unknown_key),
                cmocka_unit_test(test_pool_path_absolute),
                cmocka_unit_test(test_failed_site_is_null),
                cmocka_unit_test(test_missing_site),
                cmocka_unit_test(test_roll_path_absolute),
                cmocka_unit_test(test_roll_mode_string),
                cmocka_unit_test(test_roll_duplicate_appliance),
                cmocka_unit_test(test_roll_missing_appliances),
                cmocka_unit_test(test_roll_duplicate_name),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
