/* Cross-file rules (vcm_validate_repo) and per-file isolation of failures in vcm_load_files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spec_fixture.h"

static const char HPC[] =
        "apiVersion: vcm/v1\nkind: Roll\nmetadata: {name: hpc}\nspec:\n  appliances:\n    compute: {packages: [slurmd]}\n";

static char *named(const char *name) {
        char buf[64];
        snprintf(buf, sizeof(buf), "  name: %s\n", name);
        return replace(CLUSTER, "  name: physics-lab\n", buf);
}

static void test_unknown_roll_with_suggestion(void **state) {
        char *c = replace(CLUSTER, "  rolls: [base]\n", "  rolls: [base, hcp]\n");
        assert_diags(load_text(true, NULL, "rolls/hpc.yaml", HPC, "clusters/physics-lab.yaml", c, NULL),
                     C "14:17: error: unknown Roll 'hcp': did you mean 'hpc'?\n");
        free(c);
}

static void test_unknown_roll(void **state) {
        assert_diags(cluster_diags("  rolls: [base]\n", "  rolls: [base, ganglia]\n"),
                     C "14:17: error: unknown Roll 'ganglia': add rolls/ganglia.yaml or remove it from the list\n");
}

static void test_appliance_not_provided(void **state) {
        assert_diags(cluster_diags("      appliance: compute\n", "      appliance: gpu\n"),
                     C "27:18: error: appliance 'gpu' is not provided by any of this cluster's Rolls (base): "
                       "list a Roll that provides it\n");
}

static void test_frontend_appliance_not_provided(void **state) {
        char *c = replace(CLUSTER, "  rolls: [base]\n", "  rolls: [hpc]\n");
        assert_diags(load_text(true, NULL, "rolls/hpc.yaml", HPC, "clusters/physics-lab.yaml", c, NULL),
                     C "21:5: error: no Roll of this cluster (hpc) provides the 'frontend' appliance: list a "
                       "Roll that does\n");
        free(c);
}

static void test_appliances_not_checked_without_rolls(void **state) {
        char *a = replace(CLUSTER, "  rolls: [base]\n", "  rolls: []\n");
        char *b = replace(a, "      appliance: compute\n", "      appliance: gpu\n");
        assert_diags(load_text(true, NULL, "clusters/physics-lab.yaml", b, NULL), "");
        free(a);
        free(b);
}

static void test_vlan_outside_site_range(void **state) {
        assert_diags(cluster_diags("    vlan: auto\n", "    vlan: 50\n"),
                     C "18:11: error: VLAN 50 is outside the site's range 100..999: pick one inside it or use 'auto'\n");
}

static void test_vlan_used_twice(void **state) {
        char *a = replace(CLUSTER, "    vlan: auto\n", "    vlan: 120\n");
        char *b0 = named("zeta");
        char *b = replace(b0, "    vlan: auto\n", "    vlan: 120\n");
        vcm_repo *repo;
        assert_diags(load_text(true, &repo, "clusters/physics-lab.yaml", a, "clusters/zeta.yaml", b, NULL),
                     "clusters/zeta.yaml:18:11: error: VLAN 120 is already used by cluster 'physics-lab' "
                     "(clusters/physics-lab.yaml): pick another or use 'auto'\n");
        vcm_repo_free(repo);
        free(a);
        free(b0);
        free(b);
}

static void test_duplicate_cluster_name_keeps_first_file(void **state) {
        vcm_repo *repo;
        assert_diags(load_text(true, &repo, "clusters/a.yaml", CLUSTER, "clusters/b.yaml", CLUSTER, NULL),
                     "clusters/b.yaml:4:9: error: cluster name 'physics-lab' is already used by clusters/a.yaml: "
                     "choose another name\n");
        assert_int_equal(repo->n_clusters, 1);
        assert_string_equal(repo->clusters[0].file, "clusters/a.yaml");
        assert_int_equal(repo->n_failed_files, 1);
        assert_string_equal(repo->failed_files[0], "clusters/b.yaml");
        vcm_repo_free(repo);
}

static void test_no_gateway(void **state) {
        char *s = replace(SITE, "roles: [gateway, vm-server]", "roles: [vm-server]");
        assert_diags(load_text(true, NULL, "site.yaml", s, "clusters/physics-lab.yaml", CLUSTER, NULL),
                     C "21:5: error: the site has no host with role 'gateway' to run this cluster's frontend: "
                       "add one to site.yaml\n");
        free(s);
}

static void test_no_vm_server(void **state) {
        char *s = replace(SITE, "roles: [gateway, vm-server]", "roles: [gateway]");
        assert_diags(load_text(true, NULL, "site.yaml", s, "clusters/physics-lab.yaml", CLUSTER, NULL),
                     C "26:5: error: the site has no host with role 'vm-server' to run this cluster's nodes: "
                       "add one to site.yaml\n");
        free(s);
}

static void test_external_needs_gateway_external(void **state) {
        char *s = replace(SITE, "      external: br-ext\n", "");
        assert_diags(load_text(true, NULL, "site.yaml", s, "clusters/physics-lab.yaml", CLUSTER, NULL),
                     C "24:15: error: the frontend asks for an external NIC but no gateway host in site.yaml "
                       "has 'external' set: add the bridge name there or set external: false\n");
        free(s);
}

/* Safety rule 2: one broken file does not take the others down. */
static void test_broken_file_isolated(void **state) {
        char *good2 = named("chem-lab");
        char *bad1 = replace(CLUSTER, "    memory: 4GiB\n", "    memory: 4G\n");
        char *bad2 = replace(CLUSTER, "  name: physics-lab\n", "  name: [oops\n");
        vcm_repo *repo;
        assert_diags(load_text(true, &repo, "clusters/physics-lab.yaml", CLUSTER, "clusters/chem.yaml", good2,
                               "clusters/bad1.yaml", bad1, "clusters/bad2.yaml", bad2, NULL),
                     "clusters/bad1.yaml:22:13: error: size '4G' is not valid: use binary units such as 4GiB\n"
                     "clusters/bad2.yaml:5:8: error: YAML syntax error: while parsing a flow sequence did not "
                     "find expected ',' or ']'\n");
        assert_int_equal(repo->n_clusters, 2);
        assert_string_equal(repo->clusters[0].name, "chem-lab");
        assert_string_equal(repo->clusters[1].name, "physics-lab");
        assert_int_equal(repo->n_failed_files, 2);
        assert_string_equal(repo->failed_files[0], "clusters/bad1.yaml");
        assert_string_equal(repo->failed_files[1], "clusters/bad2.yaml");
        assert_non_null(repo->site);
        assert_int_equal(repo->n_rolls, 1);
        vcm_repo_free(repo);
        free(good2);
        free(bad1);
        free(bad2);
}

static void test_empty_file(void **state) {
        vcm_repo *repo;
        assert_diags(load_text(false, &repo, "clusters/empty.yaml", "# nothing\n", NULL),
                     "clusters/empty.yaml:1:1: error: file is empty: a spec needs apiVersion, kind, metadata and spec\n");
        assert_int_equal(repo->n_failed_files, 1);
        vcm_repo_free(repo);
}

static void test_every_problem_reported_sorted(void **state) {
        char *a = replace(CLUSTER, "      count: 8\n", "      count: 2000\n");
        char *b = replace(a, "  owner: alice@example.org\n", "  owner: alice@example.org\n  extra: 1\n");
        assert_diags(load_text(true, NULL, "clusters/physics-lab.yaml", b, "clusters/a.yaml", "[", NULL),
                     "clusters/a.yaml:2:1: error: YAML syntax error: while parsing a flow node did not find "
                     "expected node content\n"
                     C "6:3: error: unknown key 'extra' in metadata: expected one of name, owner\n"
                     C "29:14: error: 'count' must be between 1 and 1024, not 2000\n");
        free(a);
        free(b);
}

/* A quoted value with a newline in an error message must not split the diagnostic line. */
static void test_messages_stay_one_line(void **state) {
        assert_diags(cluster_diags("  rolls: [base]\n", "  rolls: [base, \"a\\nb\"]\n"),
                     C "14:17: error: unknown Roll 'a?b': add rolls/a?b.yaml or remove it from the list\n");
        assert_diags(cluster_diags("  owner: alice@example.org\n", "  owner: alice@example.org\n  \"x\\ty\": 1\n"),
                     C "6:3: error: unknown key 'x?y' in metadata: expected one of name, owner\n");
}

/* A key pasted from a .pub file through a block scalar keeps its newline. */
static void test_ssh_key_block_scalar(void **state) {
        assert_diags(cluster_diags("    - " ED25519_KEY "\n",
                                   "    - |\n      ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNNu47+uaHH6gX+cMEzABKA20i60w5fpo8EkIHUbr/B\n"),
                     "");
        char *c = replace(CLUSTER, "    - " ED25519_KEY "\n", "    - |\n      " ED25519_KEY "\n");
        vcm_repo *repo;
        assert_diags(load_text(true, &repo, "clusters/physics-lab.yaml", c, NULL), "");
        assert_string_equal(repo->clusters[0].ssh_keys[0], ED25519_KEY); /* newline dropped */
        vcm_repo_free(repo);
        free(c);
}

static void test_drop_invalid(void **state) {
        char *bad = replace(CLUSTER, "  rolls: [base]\n", "  rolls: [nope]\n");
        char *bad2 = replace(bad, "physics-lab", "bad-lab");
        char *good = replace(CLUSTER, "physics-lab", "good-lab");
        vcm_repo *repo;
        char *text = load_text(true, &repo, "clusters/bad.yaml", bad2, "clusters/good.yaml", good,
                               "clusters/broken.yaml", "{", NULL);
        assert_string_equal(text,
                            "clusters/bad.yaml:14:11: error: unknown Roll 'nope': add rolls/nope.yaml or remove it from the list\n"
                            "clusters/broken.yaml:2:1: error: YAML syntax error: while parsing a flow node did not find expected node content\n");
        assert_int_equal(repo->n_clusters, 2);
        /* diags as vcm_validate_repo left them: rebuild them to feed the drop */
        vcm_diags d = { 0 };
        vcm_validate_repo(repo, &d);
        assert_int_equal(vcm_repo_drop_invalid(repo, &d), 0);
        assert_int_equal(repo->n_clusters, 1);
        assert_string_equal(repo->clusters[0].name, "good-lab");
        assert_int_equal(repo->n_failed_files, 2);
        assert_string_equal(repo->failed_files[0], "clusters/bad.yaml");
        assert_string_equal(repo->failed_files[1], "clusters/broken.yaml");
        assert_int_equal(vcm_repo_drop_invalid(repo, &d), 0); /* nothing left to drop */
        assert_int_equal(repo->n_failed_files, 2);
        vcm_diags_clear(&d);
        vcm_repo_free(repo);
        free(text);
        free(bad);
        free(bad2);
        free(good);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unknown_roll_with_suggestion),
                cmocka_unit_test(test_unknown_roll),
                cmocka_unit_test(test_appliance_not_provided),
                cmocka_unit_test(test_frontend_appliance_not_provided),
                cmocka_unit_test(test_appliances_not_checked_without_rolls),
                cmocka_unit_test(test_vlan_outside_site_range),
                cmocka_unit_test(test_vlan_used_twice),
                cmocka_unit_test(test_duplicate_cluster_name_keeps_first_file),
                cmocka_unit_test(test_no_gateway),
                cmocka_unit_test(test_no_vm_server),
                cmocka_unit_test(test_external_needs_gateway_external),
                cmocka_unit_test(test_broken_file_isolated),
                cmocka_unit_test(test_empty_file),
                cmocka_unit_test(test_every_problem_reported_sorted),
                cmocka_unit_test(test_drop_invalid),
                cmocka_unit_test(test_messages_stay_one_line),
                cmocka_unit_test(test_ssh_key_block_scalar),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
