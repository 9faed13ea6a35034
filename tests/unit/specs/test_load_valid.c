/* A valid repository loads into the model with every value and position in place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spec_fixture.h"

static void pos_is(vcm_pos p, const char *file, int line, int col) {
        assert_non_null(p.file);
        assert_string_equal(p.file, file);
        assert_int_equal(p.line, line);
        assert_int_equal(p.column, col);
}

static void test_cluster_model(void **state) {
        vcm_repo *repo;
        assert_diags(load_text(true, &repo, "clusters/physics-lab.yaml", CLUSTER, NULL), "");
        assert_int_equal(repo->n_clusters, 1);
        assert_int_equal(repo->n_failed_files, 0);
        const vcm_cluster *c = vcm_repo_find_cluster(repo, "physics-lab");
        assert_non_null(c);
        assert_null(vcm_repo_find_cluster(repo, "nope"));
        assert_string_equal(c->file, "clusters/physics-lab.yaml");
        assert_string_equal(c->owner, "alice@example.org");
        pos_is(c->name_pos, CF, 4, 9);
        pos_is(c->owner_pos, CF, 5, 10);
        assert_true(c->has_window);
        assert_true(c->window.has_start && c->window.has_end);
        assert_int_equal(c->window.start, 1796083200); /* 2026-12-01T00:00:00Z */
        assert_int_equal(c->window.end, 1796083200 + 19 * 86400 + 9 * 3600);
        pos_is(c->window.start_pos, CF, 8, 12);
        assert_int_equal(c->window.n_recurring, 1);
        const vcm_slot *s = &c->window.recurring[0];
        assert_int_equal(s->days, VCM_DAY_MON | VCM_DAY_WED);
        assert_int_equal(s->from_minute, 9 * 60);
        assert_int_equal(s->to_minute, 12 * 60);
        assert_string_equal(s->timezone, "Asia/Tokyo");
        pos_is(s->pos, CF, 11, 9);
        pos_is(s->timezone_pos, CF, 11, 66);
        assert_int_equal(c->on_expire, VCM_ON_EXPIRE_RELEASE);
        assert_false(c->suspend);
        assert_int_equal(c->n_rolls, 1);
        assert_string_equal(c->rolls[0], "base");
        pos_is(c->rolls_pos[0], CF, 14, 11);
        assert_int_equal(c->n_ssh_keys, 1);
        assert_string_equal(c->ssh_keys[0], ED25519_KEY);
        pos_is(c->ssh_keys_pos[0], CF, 16, 7);
        assert_true(c->network.vlan_auto);
        assert_string_equal(c->network.subnet, "10.10.0.0/24");
        assert_int_equal(c->network.subnet_addr, 0x0a0a0000);
        assert_int_equal(c->network.subnet_prefix, 24);
        pos_is(c->network.subnet_pos, CF, 19, 13);
        assert_int_equal(c->frontend.vcpus, 2);
        assert_int_equal(c->frontend.memory, 4ull << 30);
        assert_int_equal(c->frontend.disk, 40ull << 30);
        assert_true(c->frontend.external);
        pos_is(c->frontend.pos, CF, 21, 5);
        pos_is(c->frontend.memory_pos, CF, 22, 13);
        assert_int_equal(c->n_nodes, 1);
        const vcm_node_group *g = &c->nodes[0];
        assert_string_equal(g->name, "compute");
        assert_string_equal(g->appliance, "compute");
        assert_int_equal(g->count, 8);
        assert_int_equal(g->memory, 2ull << 30);
        assert_int_equal(g->install, VCM_INSTALL_IMAGE);
        pos_is(g->count_pos, CF, 28, 14);
        assert_int_equal(c->shared_storage, 200ull << 30);
        pos_is(c->shared_storage_pos, CF, 33, 18);
        assert_int_equal(vcm_cluster_node_count(c), 9);
        vcm_repo_free(repo);
}

static void test_site_and_roll_model(void **state) {
        vcm_repo *repo;
        assert_diags(load_text(true, &repo, NULL), "");
        const vcm_site *s = repo->site;
        assert_non_null(s);
        assert_string_equal(s->file, "site.yaml");
        assert_string_equal(s->name, "lab");
        assert_int_equal(s->network_backend, VCM_NET_VLAN);
        assert_int_equal(s->vlan_from, 100);
        assert_int_equal(s->vlan_to, 999);
        assert_int_equal(s->storage_backend, VCM_STORAGE_LVM_ISCSI);
        assert_int_equal(s->n_hosts, 2);
        const vcm_host *gw = vcm_site_find_host(s, "gw1");
        assert_non_null(gw);
        assert_int_equal(gw->roles, VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER);
        assert_string_equal(gw->libvirt, "qemu:///system");
        assert_null(gw->agent);
        assert_int_equal(gw->capacity_vcpus, 32);
        assert_int_equal(gw->capacity_memory, 128ull << 30);
        assert_string_equal(gw->trunk, "eth1");
        assert_string_equal(gw->external, "br-ext");
        pos_is(gw->trunk_pos, "site.yaml", 12, 14);
        const vcm_host *st = vcm_site_find_host(s, "st1");
        assert_int_equal(st->roles, VCM_ROLE_STORAGE);
        assert_string_equal(st->portal, "192.0.2.10:3260");
        assert_string_equal(st->volume_group, "vcm");
        assert_null(vcm_site_find_host(s, "x"));
        const vcm_image *im = vcm_site_find_image(s, "compute");
        assert_non_null(im);
        assert_string_equal(im->volume, "img-compute");
        pos_is(im->pos, "site.yaml", 20, 5);

        const vcm_roll *r = vcm_repo_find_roll(repo, "base");
        assert_non_null(r);
        assert_int_equal(r->n_appliances, 2);
        assert_string_equal(r->appliances[0].name, "frontend");
        assert_string_equal(r->appliances[0].runcmd[0], "echo hi");
        assert_string_equal(r->appliances[1].packages[0], "nfs-common");
        assert_int_equal(r->appliances[1].n_files, 1);
        assert_string_equal(r->appliances[1].files[0].content, "hi\n");
        assert_int_equal(r->appliances[1].files[0].mode, 0600);
        vcm_repo_free(repo);
}

static void test_defaults_and_agent(void **state) {
        static const char minimal[] =
                "apiVersion: vcm/v1\n"
                "kind: VirtualCluster\n"
                "metadata: {name: tiny, owner: bob}\n"
                "spec:\n"
                "  network: {vlan: 120, subnet: 10.1.0.0/30}\n"
                "  sshKeys: [\"ssh-rsa AAAAB3NzaC1yc2EAAAAIAAAAAAAAAAA=\"]\n"
                "  frontend: {vcpus: 1, memory: 512MiB, disk: 1TiB}\n";
        char *site = replace(SITE, "      trunk: eth1\n", "      trunk: eth1\n      agent: [ssh, root@gw1, vcm, agent]\n      domainType: qemu\n");
        vcm_repo *repo;
        assert_diags(load_text(true, &repo, "site.yaml", site, "clusters/tiny.yaml", minimal, NULL), "");
        const vcm_cluster *c = vcm_repo_find_cluster(repo, "tiny");
        assert_non_null(c);
        assert_false(c->has_window);
        assert_int_equal(c->on_expire, VCM_ON_EXPIRE_RELEASE);
        assert_false(c->network.vlan_auto);
        assert_int_equal(c->network.vlan, 120);
        assert_int_equal(c->n_rolls, 0);
        assert_int_equal(c->n_nodes, 0);
        assert_int_equal(c->frontend.memory, 512ull << 20);
        assert_int_equal(c->frontend.disk, 1ull << 40);
        assert_false(c->frontend.external);
        assert_int_equal(c->shared_storage, 0);
        const vcm_host *gw = vcm_site_find_host(repo->site, "gw1");
        assert_int_equal(gw->n_agent, 4);
        assert_string_equal(gw->agent[3], "agent");
        assert_null(gw->agent[4]);
        assert_int_equal(gw->domain_type, VCM_DOMAIN_TYPE_QEMU);
        vcm_repo_free(repo);
        free(site);
}

static void test_clusters_sorted_and_ignored_files(void **state) {
        char *b = replace(CLUSTER, "physics-lab", "alpha");
        vcm_repo *repo;
        assert_diags(load_text(true, &repo, "clusters/z.yaml", CLUSTER, "clusters/a.yaml", b,
                               "README.md", "not: [yaml", "clusters/notes.txt", "{", "clusters/sub/x.yaml", "{",
                               NULL),
                     "");
        assert_int_equal(repo->n_clusters, 2);
        assert_string_equal(repo->clusters[0].name, "alpha");
        assert_string_equal(repo->clusters[1].name, "physics-lab");
        assert_string_equal(vcm_repo_find_cluster(repo, "physics-lab")->file, "clusters/z.yaml");
        vcm_repo_free(repo);
        free(b);
}

/* YAML 1.2 reads "auto" and auto as the same string; quoting a word never changes its meaning. */
static void test_quoted_strings(void **state) {
        char *a = replace(CLUSTER, "    vlan: auto\n", "    vlan: \"auto\"\n");
        char *b = replace(a, "  onExpire: release\n", "  onExpire: 'keep-volumes'\n");
        vcm_repo *repo;
        assert_diags(load_text(true, &repo, "clusters/physics-lab.yaml", b, NULL), "");
        assert_true(repo->clusters[0].network.vlan_auto);
        assert_int_equal(repo->clusters[0].on_expire, VCM_ON_EXPIRE_KEEP_VOLUMES);
        vcm_repo_free(repo);
        free(a);
        free(b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cluster_model),
                cmocka_unit_test(test_site_and_roll_model),
                cmocka_unit_test(test_defaults_and_agent),
                cmocka_unit_test(test_clusters_sorted_and_ignored_files),
                cmocka_unit_test(test_quoted_strings),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
