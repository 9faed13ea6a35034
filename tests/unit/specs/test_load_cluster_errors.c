/* Every per-file rule for clusters: exact FILE:LINE:COLUMN and message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spec_fixture.h"

static void test_unknown_key_suggestion(void **state) {
        assert_diags(cluster_diags("  owner: alice@example.org\n", "  owner: alice@example.org\n  ownr: x\n"),
                     C "6:3: error: unknown key 'ownr' in metadata: did you mean 'owner'?\n");
}

static void test_unknown_key_and_missing_required(void **state) {
        assert_diags(cluster_diags("  frontend:\n", "  fronend:\n"),
                     C "7:3: error: missing required key 'frontend' in spec\n" C "20:3: error: unknown key 'fronend' in spec: did you mean 'frontend'?\n");
}

static void test_unknown_key_no_suggestion(void **state) {
        assert_diags(cluster_diags("  suspend: false\n", "  colour: blue\n"),
                     C "13:3: error: unknown key 'colour' in spec: expected one of window, onExpire, suspend, rolls, sshKeys, network, frontend, nodes, sharedStorage\n");
}

static void test_missing_required_at_parent(void **state) {
        assert_diags(cluster_diags("  owner: alice@example.org\n", ""),
                     C "4:3: error: missing required key 'owner' in metadata\n");
}

static void test_wrong_type_int(void **state) {
        assert_diags(cluster_diags("    vcpus: 2\n", "    vcpus: two\n"),
                     C "21:12: error: 'vcpus' must be an integer, not 'two'\n");
}

static void test_wrong_type_quoted_int(void **state) {
        assert_diags(cluster_diags("    vcpus: 2\n", "    vcpus: \"2\"\n"),
                     C "21:12: error: 'vcpus' must be an integer, not '2'\n");
}

static void test_wrong_type_bool(void **state) {
        assert_diags(cluster_diags("  suspend: false\n", "  suspend: maybe\n"),
                     C "13:12: error: 'suspend' must be true or false, not 'maybe'\n");
}

static void test_wrong_type_list(void **state) {
        assert_diags(cluster_diags("  rolls: [base]\n", "  rolls: base\n"),
                     C "14:10: error: 'rolls' must be a list, not 'base'\n");
}

static void test_wrong_type_mapping(void **state) {
        assert_diags(cluster_diags("  frontend:\n    vcpus: 2\n    memory: 4GiB\n    disk: 40GiB\n    external: true\n", "  frontend: [2]\n"),
                     C "20:13: error: frontend must be a mapping, not a list\n");
}

static void test_vcpus_range(void **state) {
        assert_diags(cluster_diags("    vcpus: 2\n", "    vcpus: 0\n"),
                     C "21:12: error: 'vcpus' must be between 1 and 256, not 0\n");
}

static void test_duplicate_key(void **state) {
        assert_diags(cluster_diags("  name: physics-lab\n", "  name: physics-lab\n  name: other\n"),
                     C "5:3: error: duplicate key 'name' in metadata (first set at line 4): keep only one\n");
}

static void test_duplicate_key_in_list_item(void **state) {
        assert_diags(cluster_diags("    - name: compute\n", "    - name: compute\n      name: c2\n"),
                     C "27:7: error: duplicate key 'name' in the node group (first set at line 26): keep only one\n");
}

static void test_name_pattern(void **state) {
        assert_diags(cluster_diags("  name: physics-lab\n", "  name: Physics_Lab\n"),
                     C "4:9: error: cluster name 'Physics_Lab' is not valid: use lower-case letters, digits and '-', starting with a letter and ending with a letter or digit\n");
}

static void test_name_trailing_dash(void **state) {
        assert_diags(cluster_diags("  name: physics-lab\n", "  name: lab-\n"),
                     C "4:9: error: cluster name 'lab-' is not valid: use lower-case letters, digits and '-', starting with a letter and ending with a letter or digit\n");
}

static void test_name_too_long(void **state) {
        assert_diags(cluster_diags("  name: physics-lab\n", "  name: a-very-long-cluster-name-indeed\n"),
                     C "4:9: error: cluster name 'a-very-long-cluster-name-indeed' is too long (31 characters): use at most 24\n");
}

static void test_size_no_binary_unit(void **state) {
        assert_diags(cluster_diags("    memory: 4GiB\n", "    memory: 4G\n"),
                     C "22:13: error: size '4G' is not valid: use binary units such as 4GiB\n");
}

static void test_size_gb(void **state) {
        assert_diags(cluster_diags("    memory: 4GiB\n", "    memory: 4GB\n"),
                     C "22:13: error: size '4GB' is not valid: use binary units such as 4GiB\n");
}

static void test_size_lower_case(void **state) {
        assert_diags(cluster_diags("    disk: 40GiB\n", "    disk: 40gib\n"),
                     C "23:11: error: size '40gib' is not valid: use binary units such as 4GiB\n");
}

static void test_size_negative(void **state) {
        assert_diags(cluster_diags("  sharedStorage: 200GiB\n", "  sharedStorage: -1GiB\n"),
                     C "33:18: error: size '-1GiB' is not valid: use binary units such as 4GiB\n");
}

static void test_size_zero(void **state) {
        assert_diags(cluster_diags("    memory: 4GiB\n", "    memory: 0GiB\n"),
                     C "22:13: error: size '0GiB' is not valid: a size must be greater than zero, such as 4GiB\n");
}

static void test_size_plain_number(void **state) {
        assert_diags(cluster_diags("      memory: 2GiB\n", "      memory: 4096\n"),
                     C "30:15: error: size '4096' is not valid: use binary units such as 4GiB\n");
}

static void test_time_without_offset(void **state) {
        assert_diags(cluster_diags("    start: 2026-12-01T09:00:00+09:00\n", "    start: 2026-12-01T09:00:00\n"),
                     C "8:12: error: time '2026-12-01T09:00:00' has no UTC offset: add one, e.g. '2026-12-01T09:00:00Z' or '2026-12-01T09:00:00+09:00'\n");
}

static void test_time_malformed(void **state) {
        assert_diags(cluster_diags("    start: 2026-12-01T09:00:00+09:00\n", "    start: tomorrow\n"),
                     C "8:12: error: time 'tomorrow' is not valid: use RFC 3339 with an offset, e.g. '2026-12-01T09:00:00+09:00'\n");
}

static void test_window_end_not_after_start(void **state) {
        assert_diags(cluster_diags("    start: 2026-12-01T09:00:00+09:00\n", "    start: 2026-12-31T09:00:00+09:00\n"),
                     C "9:10: error: window end '2026-12-20T18:00:00+09:00' is not after its start '2026-12-31T09:00:00+09:00': end must be later\n");
}

static void test_window_end_equal_start(void **state) {
        assert_diags(cluster_diags("    end: 2026-12-20T18:00:00+09:00\n", "    end: 2026-12-01T00:00:00Z\n"),
                     C "9:10: error: window end '2026-12-01T00:00:00Z' is not after its start '2026-12-01T09:00:00+09:00': end must be later\n");
}

static void test_unknown_timezone(void **state) {
        assert_diags(cluster_diags("timezone: Asia/Tokyo", "timezone: Asia/Tokio"),
                     C "11:66: error: unknown time zone 'Asia/Tokio': use an IANA name such as 'Europe/Paris'\n");
}

static void test_timezone_path_escape(void **state) {
        assert_diags(cluster_diags("timezone: Asia/Tokyo", "timezone: ../../etc/passwd"),
                     C "11:66: error: unknown time zone '../../etc/passwd': use an IANA name such as 'Europe/Paris'\n");
}

static void test_timezone_absolute(void **state) {
        assert_diags(cluster_diags("timezone: Asia/Tokyo", "timezone: /etc/localtime"),
                     C "11:66: error: unknown time zone '/etc/localtime': use an IANA name such as 'Europe/Paris'\n");
}

static void test_timezone_not_tzif(void **state) {
        assert_diags(cluster_diags("timezone: Asia/Tokyo", "timezone: zone.tab"),
                     C "11:66: error: unknown time zone 'zone.tab': use an IANA name such as 'Europe/Paris'\n");
}

static void test_slot_bad_and_repeated_days(void **state) {
        assert_diags(cluster_diags("days: [mon, wed]", "days: [mon, mon, funday]"),
                     C "11:22: error: day 'mon' is listed twice: list each day once\n" C "11:27: error: 'days' must be one of sun, mon, tue, wed, thu, fri, sat, not 'funday'\n");
}

static void test_slot_no_days(void **state) {
        assert_diags(cluster_diags("days: [mon, wed]", "days: []"),
                     C "11:16: error: 'days' must list at least one day, e.g. [mon, wed]\n");
}

static void test_slot_from_not_before_to(void **state) {
        assert_diags(cluster_diags("to: \"12:00\"", "to: \"09:00\""),
                     C "11:47: error: slot ends at 09:00, not after it starts at 09:00: 'to' must be later than 'from'\n");
}

static void test_slot_bad_time(void **state) {
        assert_diags(cluster_diags("to: \"12:00\"", "to: \"25:00\""),
                     C "11:47: error: 'to' must be a time of day \"HH:MM\" such as \"09:00\" (or \"24:00\"), not '25:00'\n");
}

static void test_slot_from_24_rejected(void **state) {
        assert_diags(cluster_diags("from: \"09:00\"", "from: \"24:00\""),
                     C "11:34: error: 'from' must be a time of day \"HH:MM\" such as \"09:00\", not '24:00'\n");
}

static void test_slot_missing_timezone(void **state) {
        assert_diags(cluster_diags(", timezone: Asia/Tokyo", ""),
                     C "11:9: error: missing required key 'timezone' in the recurring slot\n");
}

static void test_vlan_out_of_range(void **state) {
        assert_diags(cluster_diags("    vlan: auto\n", "    vlan: 5000\n"),
                     C "18:11: error: 'vlan' must be 'auto' or an integer between 1 and 4094, not '5000'\n");
}

static void test_subnet_host_bits(void **state) {
        assert_diags(cluster_diags("10.10.0.0/24", "10.10.0.1/24"),
                     C "19:13: error: subnet '10.10.0.1/24' has host bits set: use 10.10.0.0/24\n");
}

static void test_subnet_too_small(void **state) {
        assert_diags(cluster_diags("10.10.0.0/24", "10.10.0.0/29"),
                     C "19:13: error: subnet '10.10.0.0/29' has room for 6 hosts but the cluster needs 9 (the frontend and 8 nodes): use a prefix of /28 or shorter\n");
}

static void test_subnet_prefix(void **state) {
        assert_diags(cluster_diags("10.10.0.0/24", "10.10.0.0/31"),
                     C "19:13: error: subnet '10.10.0.0/31' has prefix /31: use a prefix between /8 and /30\n");
}

static void test_subnet_malformed(void **state) {
        assert_diags(cluster_diags("10.10.0.0/24", "10.10.0/24"),
                     C "19:13: error: subnet '10.10.0/24' is not valid: use an IPv4 CIDR such as 10.10.0.0/24\n");
}

static void test_count_zero(void **state) {
        assert_diags(cluster_diags("      count: 8\n", "      count: 0\n"),
                     C "28:14: error: 'count' must be between 1 and 1024, not 0\n");
}

static void test_count_too_big(void **state) {
        assert_diags(cluster_diags("      count: 8\n", "      count: 1025\n"),
                     C "28:14: error: 'count' must be between 1 and 1024, not 1025\n");
}

static void test_node_name_reserved(void **state) {
        assert_diags(cluster_diags("    - name: compute\n", "    - name: frontend\n"),
                     C "26:13: error: node group name 'frontend' is reserved for the frontend: choose another name\n");
}

static void test_install_enum(void **state) {
        assert_diags(cluster_diags("      install: image\n", "      install: imgae\n"),
                     C "32:16: error: 'install' must be one of image, pxe, not 'imgae': did you mean 'image'?\n");
}

static void test_on_expire_enum(void **state) {
        assert_diags(cluster_diags("  onExpire: release\n", "  onExpire: delete\n"),
                     C "12:13: error: 'onExpire' must be one of release, keep-volumes, not 'delete'\n");
}

static void test_ssh_key_type_mismatch(void **state) {
        assert_diags(cluster_diags("AAAAC3NzaC1lZDI1NTE5AAAAIHNNu47+uaHH6gX+cMEzABKA20i60w5fpo8EkIHUbr/B", "AAAAB3NzaC1yc2EAAAAgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                     C "16:7: error: ssh key data is a 'ssh-rsa' key but the line says 'ssh-ed25519'\n");
}

static void test_ssh_key_unknown_type(void **state) {
        assert_diags(cluster_diags("- ssh-ed25519 ", "- ssh-dss "),
                     C "16:7: error: ssh key is not an OpenSSH public key: unknown key type 'ssh-dss' (use the line from a .pub file, e.g. 'ssh-ed25519 AAAA... user@host')\n");
}

static void test_ssh_key_bad_base64(void **state) {
        assert_diags(cluster_diags("AAAAC3NzaC1lZDI1NTE5AAAAIHNNu47+uaHH6gX+cMEzABKA20i60w5fpo8EkIHUbr/B", "AAAA!!"),
                     C "16:7: error: ssh key data is not valid base64: paste the whole line of the .pub file\n");
}

static void test_ssh_key_truncated(void **state) {
        assert_diags(cluster_diags("AAAAC3NzaC1lZDI1NTE5AAAAIHNNu47+uaHH6gX+cMEzABKA20i60w5fpo8EkIHUbr/B", "AAAAC3NzaC1lZDI1"),
                     C "16:7: error: ssh key data is truncated: paste the whole line of the .pub file\n");
}

static void test_ssh_key_no_data(void **state) {
        assert_diags(cluster_diags(" AAAAC3NzaC1lZDI1NTE5AAAAIHNNu47+uaHH6gX+cMEzABKA20i60w5fpo8EkIHUbr/B alice@laptop", ""),
                     C "16:7: error: ssh key has no key data after 'ssh-ed25519': paste the whole line of the .pub file\n");
}

static void test_yaml_syntax_error(void **state) {
        assert_diags(cluster_diags("  onExpire: release\n", "  onExpire: [release\n"),
                     C "13:10: error: YAML syntax error: while parsing a flow sequence did not find expected ',' or ']'\n");
}

static void test_yaml_bad_indent(void **state) {
        assert_diags(cluster_diags("  owner: alice@example.org\n", "   owner: alice@example.org\n"),
                     C "5:9: error: YAML syntax error: mapping values are not allowed in this context\n");
}

static void test_wrong_kind(void **state) {
        assert_diags(cluster_diags("kind: VirtualCluster\n", "kind: Site\n"),
                     C "2:7: error: kind must be 'VirtualCluster' for files in clusters/, not 'Site'\n");
}

static void test_wrong_api_version(void **state) {
        assert_diags(cluster_diags("apiVersion: vcm/v1\n", "apiVersion: vcm/v2\n"),
                     C "1:13: error: apiVersion must be 'vcm/v1', not 'vcm/v2'\n");
}

static void test_alias_refused(void **state) {
        assert_diags(cluster_diags("  owner: alice@example.org\n", "  owner: &o alice@example.org\nx: *o\n"),
                     C "6:4: error: YAML aliases (*o) are not allowed in specs: write the value out in full\n");
}

static void test_tag_refused(void **state) {
        assert_diags(cluster_diags("    vcpus: 2\n", "    vcpus: !!int 2\n"),
                     C "21:12: error: YAML tag 'tag:yaml.org,2002:int' is not allowed in specs: remove it\n");
}

static void test_two_documents(void **state) {
        assert_diags(cluster_diags("  sharedStorage: 200GiB\n", "  sharedStorage: 200GiB\n---\nfoo: 1\n"),
                     C "34:1: error: only one YAML document is allowed per file: remove this '---'\n");
}

static void test_owner_number(void **state) {
        assert_diags(cluster_diags("  owner: alice@example.org\n", "  owner: 4711\n"),
                     C "5:10: error: 'owner' must be a string, not the number 4711: put it in quotes if you mean the text\n");
}

static void test_owner_boolean(void **state) {
        assert_diags(cluster_diags("  owner: alice@example.org\n", "  owner: true\n"),
                     C "5:10: error: 'owner' must be a string, not the boolean true: put it in quotes if you mean the text\n");
}

static void test_vcpus_hex(void **state) {
        assert_diags(cluster_diags("    vcpus: 2\n", "    vcpus: 0x2\n"),
                     C "21:12: error: 'vcpus' must be written in decimal digits, not '0x2'\n");
}

static void test_vcpus_float(void **state) {
        assert_diags(cluster_diags("    vcpus: 2\n", "    vcpus: 2.0\n"),
                     C "21:12: error: 'vcpus' must be an integer, not '2.0'\n");
}

static void test_size_leading_zero(void **state) {
        assert_diags(cluster_diags("    memory: 4GiB\n", "    memory: 04GiB\n"),
                     C "22:13: error: size '04GiB' is not valid: write the number without leading zeros, such as 4GiB\n");
}

static void test_subnet_prefix_leading_zero(void **state) {
        assert_diags(cluster_diags("10.10.0.0/24", "10.10.0.0/024"),
                     C "19:13: error: subnet '10.10.0.0/024' is not valid: use an IPv4 CIDR such as 10.10.0.0/24\n");
}

static void test_vlan_quoted_number(void **state) {
        assert_diags(cluster_diags("    vlan: auto\n", "    vlan: \"120\"\n"),
                     C "18:11: error: 'vlan' must be 'auto' or an integer between 1 and 4094, not '120'\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unknown_key_suggestion),
                cmocka_unit_test(test_unknown_key_and_missing_required),
                cmocka_unit_test(test_unknown_key_no_suggestion),
                cmocka_unit_test(test_missing_required_at_parent),
                cmocka_unit_test(test_wrong_type_int),
                cmocka_unit_test(test_wrong_type_quoted_int),
                cmocka_unit_test(test_wrong_type_bool),
                cmocka_unit_test(test_wrong_type_list),
                cmocka_unit_test(test_wrong_type_mapping),
                cmocka_unit_test(test_vcpus_range),
                cmocka_unit_test(test_duplicate_key),
                cmocka_unit_test(test_duplicate_key_in_list_item),
                cmocka_unit_test(test_name_pattern),
                cmocka_unit_test(test_name_trailing_dash),
                cmocka_unit_test(test_name_too_long),
                cmocka_unit_test(test_size_no_binary_unit),
                cmocka_unit_test(test_size_gb),
                cmocka_unit_test(test_size_lower_case),
                cmocka_unit_test(test_size_negative),
                cmocka_unit_test(test_size_zero),
                cmocka_unit_test(test_size_plain_number),
                cmocka_unit_test(test_time_without_offset),
                cmocka_unit_test(test_time_malformed),
                cmocka_unit_test(test_window_end_not_after_start),
                cmocka_unit_test(test_window_end_equal_start),
                cmocka_unit_test(test_unknown_timezone),
                cmocka_unit_test(test_timezone_path_escape),
                cmocka_unit_test(test_timezone_absolute),
                cmocka_unit_test(test_timezone_not_tzif),
                cmocka_unit_test(test_slot_bad_and_repeated_days),
                cmocka_unit_test(test_slot_no_days),
                cmocka_unit_test(test_slot_from_not_before_to),
                cmocka_unit_test(test_slot_bad_time),
                cmocka_unit_test(test_slot_from_24_rejected),
                cmocka_unit_test(test_slot_missing_timezone),
                cmocka_unit_test(test_vlan_out_of_range),
                cmocka_unit_test(test_subnet_host_bits),
                cmocka_unit_test(test_subnet_too_small),
                cmocka_unit_test(test_subnet_prefix),
                cmocka_unit_test(test_subnet_malformed),
                cmocka_unit_test(test_count_zero),
                cmocka_unit_test(test_count_too_big),
                cmocka_unit_test(test_node_name_reserved),
                cmocka_unit_test(test_install_enum),
                cmocka_unit_test(test_on_expire_enum),
                cmocka_unit_test(test_ssh_key_type_mismatch),
                cmocka_unit_test(test_ssh_key_unknown_type),
                cmocka_unit_test(test_ssh_key_bad_base64),
                cmocka_unit_test(test_ssh_key_truncated),
                cmocka_unit_test(test_ssh_key_no_data),
                cmocka_unit_test(test_yaml_syntax_error),
                cmocka_unit_test(test_yaml_bad_indent),
                cmocka_unit_test(test_wrong_kind),
                cmocka_unit_test(test_wrong_api_version),
                cmocka_unit_test(test_alias_refused),
                cmocka_unit_test(test_tag_refused),
                cmocka_unit_test(test_two_documents),
                cmocka_unit_test(test_owner_number),
                cmocka_unit_test(test_owner_boolean),
                cmocka_unit_test(test_vcpus_hex),
                cmocka_unit_test(test_vcpus_float),
                cmocka_unit_test(test_size_leading_zero),
                cmocka_unit_test(test_subnet_prefix_leading_zero),
                cmocka_unit_test(test_vlan_quoted_number),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
