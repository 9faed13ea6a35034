/* plan: DAG order (network and volumes before domains, frontend before nodes, the reverse on
 * release) and the text and JSON output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

#include "fixtures.h"
#include "plan_fixture.h"
#include "reconciler/plan.h"

static vcm_repo *lab(void) {
        vcm_repo *r = fx_repo_new(VCM_NET_VLAN, VCM_STORAGE_FILE);
        fx_add_host(r, "gw1", VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER, 64, 256 * FX_GIB);
        fx_add_host(r, "vm2", VCM_ROLE_VM_SERVER, 64, 256 * FX_GIB);
        vcm_cluster *a = fx_add_cluster(r, "alpha");
        fx_add_group(a, "compute", 3, 1, FX_GIB);
        fx_set_window(a, true, 0, true, 5000);
        vcm_cluster *b = fx_add_cluster(r, "beta");
        fx_add_group(b, "gpu", 1, 2, 2 * FX_GIB);
        return r;
}

/* Every dep of every step comes earlier in plan order. */
static void assert_topological(const vcm_pass *p) {
        for (size_t i = 0; i < p->n_steps; i++)
                for (size_t d = 0; d < p->steps[i].n_deps; d++)
                        assert_true(p->steps[i].deps[d] < i);
}

static bool depends_on(const vcm_pass *p, size_t i, size_t j) {
        for (size_t d = 0; d < p->steps[i].n_deps; d++)
                if (p->steps[i].deps[d] == j)
                        return true;
        return false;
}

static void test_create_order(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = lab();
        vcm_pass *p = pass_at(r, 1000, true);
        assert_topological(p);
        size_t fe = fx_step_index(p, VCM_KIND_DOMAIN, "alpha-frontend");
        assert_true(fe != SIZE_MAX);
        for (int k = 0; k < 3; k++) {
                char n[64];
                snprintf(n, sizeof(n), "alpha-compute-%d", k);
                size_t node = fx_step_index(p, VCM_KIND_DOMAIN, n);
                size_t vol = fx_step_index(p, VCM_KIND_VOLUME, n);
                assert_true(fe < node && vol < node);
                assert_true(depends_on(p, node, fe));
                assert_true(depends_on(p, node, vol));
                /* Its bridge on its host, and that bridge's VLAN link. */
                const vcm_resource *d = p->steps[node].desired;
                size_t br = SIZE_MAX, vl = SIZE_MAX;
                for (size_t i = 0; i < p->n_steps; i++) {
                        const vcm_resource *x = p->steps[i].desired;
                        if (x->kind == VCM_KIND_BRIDGE && !strcmp(x->host, d->host) &&
                            !strcmp(x->cluster, "alpha"))
                                br = i;
                        if (x->kind == VCM_KIND_VLAN_LINK && !strcmp(x->host, d->host) &&
                            !strcmp(x->cluster, "alpha"))
                                vl = i;
                }
                assert_true(br < node && vl < br);
                assert_true(depends_on(p, br, vl));
        }
        /* Grouped per cluster: all of alpha, then all of beta. */
        size_t first_beta = SIZE_MAX;
        for (size_t i = 0; i < p->n_steps; i++)
                if (!strcmp(p->steps[i].cluster, "beta") && first_beta == SIZE_MAX)
                        first_beta = i;
        for (size_t i = first_beta; i < p->n_steps; i++)
                assert_string_equal(p->steps[i].cluster, "beta");
        vcm_pass_free(p);
        fx_repo_free(r);
        fx_world_free(w);
}

static void test_release_order(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = lab();
        vcm_pass *p = pass_at(r, 1000, false);
        vcm_pass_free(p);
        p = pass_at(r, 6000, true); /* alpha's window ended */
        assert_topological(p);
        /* domains, volumes, seeds, bridges, links */
        assert_int_equal(p->n_steps, 4 + 4 + 4 + 2 + 2);
        size_t fe = fx_step_index(p, VCM_KIND_DOMAIN, "alpha-frontend");
        for (size_t i = 0; i < p->n_steps; i++) {
                const vcm_step *s = &p->steps[i];
                assert_int_equal(s->action, VCM_ACTION_DELETE);
                assert_string_equal(s->reason, "window ended");
                const vcm_resource *o = s->observed;
                if (o->kind == VCM_KIND_DOMAIN && i != fe) {
                        assert_true(i < fe);
                        assert_true(depends_on(p, fe, i));
                }
                if (o->kind == VCM_KIND_VOLUME || o->kind == VCM_KIND_BRIDGE)
                        assert_true(fe < i && depends_on(p, i, fe));
                if (o->kind == VCM_KIND_VLAN_LINK) {
                        size_t br = SIZE_MAX;
                        for (size_t j = 0; j < p->n_steps; j++)
                                if (p->steps[j].observed->kind == VCM_KIND_BRIDGE &&
                                    !strcmp(p->steps[j].observed->host, o->host))
                                        br = j;
                        assert_true(br < i && depends_on(p, i, br));
                }
        }
        vcm_pass_free(p);
        fx_repo_free(r);
        fx_world_free(w);
}

static void test_text_output(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = lab();
        vcm_pass *p = pass_at(r, 1000, true);
        char *t = capture(p, 0);
        assert_non_null(strstr(t, "\ncluster alpha\n"));
        assert_non_null(strstr(t, "  + create domain alpha-frontend on gw1 (window opened)\n"));
        assert_non_null(strstr(t, "  + create domain beta-frontend on gw1 (new cluster)\n"));
        assert_non_null(strstr(t, "      + memory = 2GiB\n"));
        assert_non_null(strstr(t, "Plan: 26 to create, 0 to update, 0 to destroy.\n"));
        assert_null(strchr(t, '\033'));
        free(t);
        t = capture(p, 1);
        assert_non_null(strstr(t, "\033[32m+ create\033[0m domain alpha-frontend"));
        free(t);
        vcm_pass_free(p);

        /* Apply, then change: restart and replace and destroy read like terraform. */
        vcm_pass_free(pass_at(r, 1000, false));
        r->clusters[1].nodes[0].memory = 4 * FX_GIB;
        r->clusters[1].nodes[0].install = VCM_INSTALL_PXE;
        r->clusters[0].nodes[0].count = 2;
        p = pass_at(r, 1000, true);
        t = capture(p, 0);
        assert_non_null(strstr(t, "  -/+ replace domain beta-gpu-0 on"));
        assert_non_null(strstr(t, "      ~ memory: 2GiB -> 4GiB\n"));
        assert_non_null(strstr(t, "      ~ boot: disk -> network\n"));
        assert_non_null(strstr(t, "  - destroy domain alpha-compute-2 on"));
        /* The seeds follow: alpha's frontend loses compute-2 from its tables, beta-gpu-0's
         * says pxe (the fake provider replaces what it updates). */
        assert_non_null(strstr(t, "  - destroy seed alpha-compute-2 on"));
        assert_non_null(strstr(t, "  -/+ replace seed alpha-frontend on gw1"));
        assert_null(strstr(t, "domain alpha-frontend"));
        assert_non_null(strstr(t, "Plan: 3 to create, 0 to update, 6 to destroy.\n"));
        free(t);
        vcm_pass_free(p);
        r->clusters[1].nodes[0].install = VCM_INSTALL_IMAGE;
        r->clusters[0].nodes[0].count = 3;
        p = pass_at(r, 1000, true);
        t = capture(p, 0);
        assert_non_null(strstr(t, "  ~ update (requires restart) domain beta-gpu-0 on"));
        assert_non_null(strstr(t, "(memory: 2GiB -> 4GiB)"));
        assert_non_null(strstr(t, "Plan: 0 to create, 1 to update, 0 to destroy.\n"));
        free(t);
        vcm_pass_free(p);

        r->clusters[1].nodes[0].memory = 2 * FX_GIB;
        p = pass_at(r, 1000, true);
        t = capture(p, 0);
        assert_string_equal(t, "No changes. Infrastructure matches the specs.\n");
        free(t);
        vcm_pass_free(p);
        fx_repo_free(r);
        fx_world_free(w);
}

static void test_json_output(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = lab();
        vcm_pass *p = pass_at(r, 1000, true);
        char *t = capture(p, 2);
        json_error_t err;
        json_t *root = json_loads(t, 0, &err);
        assert_non_null(root);
        assert_int_equal(json_integer_value(json_object_get(root, "format_version")), 1);
        json_t *changes = json_object_get(root, "changes");
        assert_int_equal(json_array_size(changes), p->n_steps);
        json_t *c0 = json_array_get(changes, 0);
        assert_string_equal(json_string_value(json_object_get(c0, "action")), "create");
        assert_string_equal(json_string_value(json_object_get(c0, "cluster")), "alpha");
        assert_non_null(json_object_get(c0, "kind"));
        assert_non_null(json_object_get(c0, "host"));
        assert_non_null(json_object_get(c0, "name"));
        assert_non_null(json_object_get(c0, "reason"));
        json_t *kv = json_object_get(json_object_get(c0, "changes"), "trunk");
        assert_true(json_is_null(json_array_get(kv, 0)));
        assert_string_equal(json_string_value(json_array_get(kv, 1)), "eth1");
        json_t *sum = json_object_get(root, "summary");
        assert_int_equal(json_integer_value(json_object_get(sum, "create")), 26);
        assert_int_equal(json_integer_value(json_object_get(sum, "destroy")), 0);
        assert_true(json_is_array(json_object_get(root, "diagnostics")));
        assert_true(json_is_false(json_object_get(root, "pruning_stopped")));
        json_decref(root);
        free(t);
        vcm_pass_free(p);
        fx_repo_free(r);
        fx_world_free(w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_create_order),
                cmocka_unit_test(test_release_order),
                cmocka_unit_test(test_text_output),
                cmocka_unit_test(test_json_output),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
