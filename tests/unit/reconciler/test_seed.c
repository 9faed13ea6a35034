/* Seeds: the merge of Rolls (order and conflicts), what each appliance's seed says, the same
 * bytes for the same spec, and which spec changes reach which seed and domain. Specs go through
 * the real loader from in-memory files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

#include "reconciler/desired.h"
#include "reconciler/seed.h"
#include "specs/load.h"

static const char site_yaml[] =
        "apiVersion: vcm/v1\nkind: Site\nmetadata: {name: lab}\n"
        "spec:\n  network: {backend: bridge}\n  storage: {backend: file}\n"
        "  hosts:\n    - name: h1\n      roles: [gateway, vm-server]\n"
        "      libvirt: qemu:///system\n      external: br-ext\n"
        "      capacity: {vcpus: 64, memory: 64GiB}\n";

static const char base_yaml[] =
        "apiVersion: vcm/v1\nkind: Roll\nmetadata: {name: base}\n"
        "spec:\n  appliances:\n"
        "    frontend:\n      packages: [chrony, dnsmasq]\n      runcmd: [\"echo base-fe\"]\n"
        "      files:\n        - {path: /etc/motd, content: \"base motd\\n\"}\n"
        "    compute:\n      packages: [chrony, nfs-common]\n      runcmd: [\"echo base-1\", \"echo base-2\"]\n"
        "      files:\n        - {path: /etc/motd, content: \"base motd\\n\"}\n"
        "        - {path: /etc/a.conf, content: \"a\\n\", mode: \"0600\"}\n";

static const char hpc_yaml[] =
        "apiVersion: vcm/v1\nkind: Roll\nmetadata: {name: hpc}\n"
        "spec:\n  appliances:\n"
        "    compute:\n      packages: [slurmd, chrony]\n      runcmd: [\"echo hpc-1\"]\n"
        "      files:\n        - {path: /etc/motd, content: \"hpc motd\\n\"}\n"
        "        - {path: /etc/b.conf, content: \"  leading space\\r\\n\"}\n";

/* A cluster file with `rolls` and `keys` spliced in. */
static char *cluster_yaml(const char *rolls, const char *keys, unsigned count, const char *subnet) {
        char *s = NULL;
        if (asprintf(&s,
                     "apiVersion: vcm/v1\nkind: VirtualCluster\n"
                     "metadata: {name: demo, owner: ops@example.org}\n"
                     "spec:\n  rolls: %s\n  sshKeys: %s\n  network: {subnet: %s}\n"
                     "  frontend: {vcpus: 1, memory: 1GiB, disk: 1GiB, external: true}\n"
                     "  nodes:\n    - {name: compute, appliance: compute, count: %u, vcpus: 1, "
                     "memory: 1GiB, disk: 1GiB}\n",
                     rolls, keys, subnet, count) < 0)
                return NULL;
        return s;
}

static vcm_repo *load(const char *rolls, const char *keys, unsigned count, const char *subnet) {
        char *c = cluster_yaml(rolls, keys, count, subnet);
        vcm_source_file files[] = {
                { "site.yaml", site_yaml, strlen(site_yaml) },
                { "rolls/base.yaml", base_yaml, strlen(base_yaml) },
                { "rolls/hpc.yaml", hpc_yaml, strlen(hpc_yaml) },
                { "clusters/demo.yaml", c, strlen(c) },
        };
        vcm_diags d = { 0 };
        vcm_repo *repo = NULL;
        assert_int_equal(vcm_load_files(files, 4, &d, &repo), 0);
        vcm_validate_repo(repo, &d);
        for (size_t i = 0; i < d.n; i++)
                fprintf(stderr, "%s\n", d.items[i].message);
        assert_int_equal(d.n_errors, 0);
        assert_int_equal(repo->n_clusters, 1);
        vcm_diags_clear(&d);
        free(c);
        return repo;
}

#define KEY_A "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICqtZxqmDmGBNdCv6jEGfSfLtEARStsDPsAuSx97epky alice@laptop"
#define KEY_B "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAruXN38mwdmbPOH/5ieZrrfU6kSB5ZwKzcM2DuMqnpY bob@laptop"

static vcm_seed render(const vcm_repo *repo, const char *node) {
        vcm_seed s = { 0 };
        assert_int_equal(vcm_seed_render_node(repo, &repo->clusters[0], node, &s), 0);
        return s;
}

static void test_merge_order_and_conflicts(void **state) {
        (void)state;
        vcm_repo *repo = load("[base, hpc]", "[\"" KEY_A "\"]", 2, "10.10.0.0/24");
        vcm_seed_merged m;
        assert_int_equal(vcm_seed_merge(repo, &repo->clusters[0], "compute", &m), 0);
        /* Packages: union in order of first mention (chrony again in hpc is not repeated). */
        assert_int_equal(m.n_packages, 3);
        assert_string_equal(m.packages[0], "chrony");
        assert_string_equal(m.packages[1], "nfs-common");
        assert_string_equal(m.packages[2], "slurmd");
        /* Commands: Roll by Roll, in the cluster's order. */
        assert_int_equal(m.n_runcmd, 3);
        assert_string_equal(m.runcmd[0], "echo base-1");
        assert_string_equal(m.runcmd[1], "echo base-2");
        assert_string_equal(m.runcmd[2], "echo hpc-1");
        /* Files: the later Roll wins a path, keeping the place of its first mention. */
        assert_int_equal(m.n_files, 3);
        assert_string_equal(m.files[0].file->path, "/etc/motd");
        assert_string_equal(m.files[0].file->content, "hpc motd\n");
        assert_string_equal(m.files[0].roll, "hpc");
        assert_string_equal(m.files[0].overrides, "base");
        assert_string_equal(m.files[1].file->path, "/etc/a.conf");
        assert_int_equal(m.files[1].file->mode, 0600);
        assert_null(m.files[1].overrides);
        assert_string_equal(m.files[2].file->path, "/etc/b.conf");
        vcm_seed_merged_clear(&m);
        vcm_repo_free(repo);

        /* The other order: base wins the motd now, and hpc's commands come first. */
        repo = load("[hpc, base]", "[]", 2, "10.10.0.0/24");
        assert_int_equal(vcm_seed_merge(repo, &repo->clusters[0], "compute", &m), 0);
        assert_string_equal(m.packages[0], "slurmd");
        assert_string_equal(m.runcmd[0], "echo hpc-1");
        assert_string_equal(m.files[0].file->content, "base motd\n");
        assert_string_equal(m.files[0].overrides, "hpc");
        vcm_seed_merged_clear(&m);
        /* An appliance no Roll speaks of gets nothing. */
        assert_int_equal(vcm_seed_merge(repo, &repo->clusters[0], "gpu", &m), 0);
        assert_int_equal(m.n_packages + m.n_runcmd + m.n_files, 0);
        vcm_seed_merged_clear(&m);
        vcm_repo_free(repo);
}

static void test_contents_per_appliance(void **state) {
        (void)state;
        vcm_repo *repo = load("[base, hpc]", "[\"" KEY_A "\", \"" KEY_B "\"]", 2,
                              "10.10.0.0/24");
        vcm_seed fe = render(repo, "frontend"), n1 = render(repo, "compute-1");

        /* meta-data: identity. */
        assert_non_null(strstr(fe.meta_data, "local-hostname: frontend.demo\n"));
        assert_non_null(strstr(fe.meta_data, "vcm-appliance: frontend\n"));
        assert_non_null(strstr(n1.meta_data, "instance-id: demo-compute-1-"));
        assert_non_null(strstr(n1.meta_data, "local-hostname: compute-1.demo\n"));
        assert_non_null(strstr(n1.meta_data, "vcm-appliance: compute\n"));

        /* user-data: the keys on every node, each appliance its own Roll content. */
        const char *keys = "ssh_authorized_keys:\n  - \"" KEY_A "\"\n  - \"" KEY_B "\"\n";
        assert_non_null(strstr(fe.user_data, keys));
        assert_non_null(strstr(n1.user_data, keys));
        assert_true(strncmp(n1.user_data, "#cloud-config\n", 14) == 0);
        assert_non_null(strstr(fe.user_data, "  - \"dnsmasq\"\n"));
        assert_null(strstr(fe.user_data, "slurmd"));
        assert_non_null(strstr(n1.user_data, "  - \"slurmd\"\n"));
        assert_null(strstr(n1.user_data, "dnsmasq"));
        assert_non_null(strstr(n1.user_data, "  # from Roll hpc (replaces Roll base's file)\n"
                                             "  - path: \"/etc/motd\"\n"
                                             "    permissions: \"0644\"\n"
                                             "    content: |\n      hpc motd\n"));
        assert_non_null(strstr(n1.user_data, "    permissions: \"0600\"\n"));
        /* Content a literal block cannot carry exactly is quoted instead. */
        assert_non_null(strstr(n1.user_data, "    content: \"  leading space\\x0d\\n\"\n"));
        assert_non_null(strstr(n1.user_data, "VCM_ADDRESS=10.10.0.3\n"));
        /* Only the frontend gets the cluster's tables: names and DHCP for its nodes. */
        assert_non_null(strstr(fe.user_data, "      10.10.0.3 compute-1.demo compute-1\n"));
        assert_null(strstr(n1.user_data, "/etc/vcm/hosts"));

        /* network-config: the frontend is .1 with DHCP outside; nodes in order, routed by it. */
        assert_non_null(strstr(fe.network_config, "      - 10.10.0.1/24\n"));
        assert_non_null(strstr(fe.network_config, "  external:\n"));
        assert_non_null(strstr(fe.network_config, "    dhcp4: true\n"));
        assert_null(strstr(fe.network_config, "routes:"));
        assert_non_null(strstr(n1.network_config, "      - 10.10.0.3/24\n"));
        assert_non_null(strstr(n1.network_config, "        via: 10.10.0.1\n"));
        assert_null(strstr(n1.network_config, "external"));
        char mac[18];
        vcm_mac_for("lab", "demo", "compute-1", 0, mac);
        assert_non_null(strstr(n1.network_config, mac));

        vcm_seed_clear(&fe);
        vcm_seed_clear(&n1);
        vcm_repo_free(repo);
}

static void test_same_spec_same_bytes(void **state) {
        (void)state;
        vcm_repo *a = load("[base, hpc]", "[\"" KEY_A "\"]", 2, "10.10.0.0/24");
        vcm_repo *b = load("[base, hpc]", "[\"" KEY_A "\"]", 2, "10.10.0.0/24");
        const char *nodes[] = { "frontend", "compute-0", "compute-1" };
        for (size_t i = 0; i < 3; i++) {
                vcm_seed x = render(a, nodes[i]), y = render(b, nodes[i]);
                assert_string_equal(x.meta_data, y.meta_data);
                assert_string_equal(x.user_data, y.user_data);
                assert_string_equal(x.network_config, y.network_config);
                assert_true(x.digest == y.digest && x.boot_digest == y.boot_digest);
                vcm_seed_clear(&x);
                vcm_seed_clear(&y);
        }
        vcm_repo_free(a);
        vcm_repo_free(b);
}

/* What each spec change reaches: the digests the seed resource and the domain compare. */
static void test_changes_reach_the_right_seeds(void **state) {
        (void)state;
        vcm_repo *r0 = load("[base, hpc]", "[\"" KEY_A "\", \"" KEY_B "\"]", 2, "10.10.0.0/24");
        vcm_repo *r1 = load("[base, hpc]", "[\"" KEY_A "\"]", 2, "10.10.0.0/24"); /* key gone */
        vcm_repo *r2 = load("[base]", "[\"" KEY_A "\", \"" KEY_B "\"]", 2, "10.10.0.0/24");
        vcm_repo *r3 = load("[base, hpc]", "[\"" KEY_A "\", \"" KEY_B "\"]", 3, "10.10.0.0/24");
        vcm_seed f0 = render(r0, "frontend"), c0 = render(r0, "compute-0");
        vcm_seed f1 = render(r1, "frontend"), c1 = render(r1, "compute-0");
        vcm_seed f2 = render(r2, "frontend"), c2 = render(r2, "compute-0");
        vcm_seed f3 = render(r3, "frontend"), c3 = render(r3, "compute-0");
        /* A removed key changes every node's seed, and the instance id with it. */
        assert_true(f0.digest != f1.digest && f0.boot_digest != f1.boot_digest);
        assert_true(c0.digest != c1.digest && c0.boot_digest != c1.boot_digest);
        assert_null(strstr(c1.user_data, KEY_B));
        assert_string_not_equal(c0.meta_data, c1.meta_data);
        /* A removed Roll changes the nodes it gave content to; hpc says nothing for the
         * frontend, whose seed changes only in the Roll list it records. */
        assert_true(c0.digest != c2.digest && c0.boot_digest != c2.boot_digest);
        assert_null(strstr(c2.user_data, "slurmd"));
        assert_non_null(strstr(f2.user_data, "VCM_ROLLS=\"base\"\n"));
        /* One more node: its peers' seeds stay; the frontend's tables change, its own part
         * does not (no restart for it). */
        assert_true(c0.digest == c3.digest && c0.boot_digest == c3.boot_digest);
        assert_true(f0.digest != f3.digest);
        assert_true(f0.boot_digest == f3.boot_digest);
        vcm_seed *all[] = { &f0, &c0, &f1, &c1, &f2, &c2, &f3, &c3 };
        for (size_t i = 0; i < 8; i++)
                vcm_seed_clear(all[i]);
        vcm_repo_free(r0);
        vcm_repo_free(r1);
        vcm_repo_free(r2);
        vcm_repo_free(r3);
}

static void test_nodes_and_addresses(void **state) {
        (void)state;
        /* A /30 has two addresses: the frontend and compute-0; compute-1 has none. The loader
         * refuses such a cluster; the renderer must refuse it too, so it is made by hand. */
        vcm_repo *repo = load("[]", "[]", 2, "10.10.0.0/29");
        vcm_cluster *c = &repo->clusters[0];
        c->network.subnet_prefix = 30;
        uint32_t idx;
        assert_int_equal(vcm_seed_node_index(c, "frontend", &idx), 0);
        assert_int_equal(idx, 1);
        assert_int_equal(vcm_seed_node_index(c, "compute-1", &idx), 0);
        assert_int_equal(idx, 3);
        assert_int_equal(vcm_seed_node_index(c, "compute-2", &idx), -ENOENT);
        assert_int_equal(vcm_seed_node_index(c, "compute-01", &idx), -ENOENT);
        assert_int_equal(vcm_seed_node_index(c, "gpu-0", &idx), -ENOENT);
        vcm_seed s = { 0 };
        assert_int_equal(vcm_seed_render_node(repo, c, "compute-0", &s), 0);
        vcm_seed_clear(&s);
        assert_int_equal(vcm_seed_render_node(repo, c, "compute-1", &s), -ERANGE);
        /* The frontend's tables list every node: it cannot be rendered either. */
        assert_int_equal(vcm_seed_render_node(repo, c, "frontend", &s), -ERANGE);
        c->network.subnet_prefix = 29;
        /* No Rolls, no keys: still a valid seed with an explicit empty key list. */
        s = render(repo, "frontend");
        assert_non_null(strstr(s.user_data, "ssh_authorized_keys: []\n"));
        assert_null(strstr(s.user_data, "packages:"));
        vcm_seed_clear(&s);
        vcm_repo_free(repo);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_merge_order_and_conflicts),
                cmocka_unit_test(test_contents_per_appliance),
                cmocka_unit_test(test_same_spec_same_bytes),
                cmocka_unit_test(test_changes_reach_the_right_seeds),
                cmocka_unit_test(test_nodes_and_addresses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
