/* diff(): actions, reasons, provider classification and safety rule 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixtures.h"
#include "reconciler/desired.h"
#include "reconciler/diff.h"

typedef struct dres {
        vcm_resource_set *desired;
        vcm_cluster_eval *evals;
        size_t n_evals;
        vcm_step *steps;
        size_t n;
        bool stopped;
        vcm_diags diags;
} dres;

static dres run_diff_at(const vcm_repo *repo, const vcm_resource_set *observed, bool allow_empty,
                        int64_t now, const char *unreachable) {
        dres d = { .n_evals = repo->n_clusters };
        if (repo->site)
                assert_int_equal(vcm_desired_build(repo, now, observed, NULL, &d.diags, &d.desired,
                                                   &d.evals), 0);
        else {
                d.desired = vcm_resource_set_new();
                d.evals = calloc(repo->n_clusters + 1, sizeof(*d.evals));
                for (size_t i = 0; i < repo->n_clusters; i++)
                        d.evals[i].spec = &repo->clusters[i];
        }
        vcm_provider_table t = fx_table();
        const char *un[] = { unreachable };
        vcm_diff_opts o = { .allow_empty = allow_empty, .unreachable_hosts = un,
                            .n_unreachable = unreachable ? 1 : 0 };
        assert_int_equal(vcm_diff(repo, d.evals, d.desired, observed, &t, &o, &d.diags, &d.steps,
                                  &d.n, &d.stopped), 0);
        return d;
}

static dres run_diff(const vcm_repo *repo, const vcm_resource_set *observed, bool allow_empty) {
        return run_diff_at(repo, observed, allow_empty, 1000, NULL);
}

static void dres_free(dres *d) {
        vcm_steps_free(d->steps, d->n);
        vcm_resource_set_free(d->desired);
        vcm_cluster_evals_free(d->evals, d->n_evals);
        vcm_diags_clear(&d->diags);
}

static const vcm_step *find_step(const dres *d, vcm_kind kind, const char *name) {
        for (size_t i = 0; i < d->n; i++) {
                const vcm_resource *r = d->steps[i].desired ? d->steps[i].desired : d->steps[i].observed;
                if (r->kind == kind && strcmp(r->name, name) == 0)
                        return &d->steps[i];
        }
        return NULL;
}

static size_t count_action(const dres *d, vcm_action a) {
        size_t n = 0;
        for (size_t i = 0; i < d->n; i++)
                n += d->steps[i].action == a;
        return n;
}

static vcm_repo *one_host(void) {
        vcm_repo *r = fx_repo_new(VCM_NET_BRIDGE, VCM_STORAGE_FILE);
        fx_add_host(r, "h1", VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER, 64, 256 * FX_GIB);
        return r;
}

/* What a converged world looks like: the desired set, as a provider would observe it. */
static vcm_resource_set *converged(const vcm_repo *repo) {
        vcm_resource_set *obs = vcm_resource_set_new();
        dres d = run_diff(repo, obs, false);
        for (size_t i = 0; i < vcm_resource_set_size(d.desired); i++) {
                const vcm_resource *x = vcm_resource_set_at(d.desired, i);
                vcm_resource_set_add_copy(obs, x);
        }
        dres_free(&d);
        return obs;
}

static vcm_resource *obs_mut(vcm_resource_set *obs, vcm_kind kind, const char *name) {
        for (size_t i = 0; i < vcm_resource_set_size(obs); i++) {
                vcm_resource *x = vcm_resource_set_at_mut(obs, i);
                if (x->kind == kind && strcmp(x->name, name) == 0)
                        return x;
        }
        return NULL;
}

static void test_create_all_new(void **state) {
        vcm_repo *r = one_host();
        vcm_cluster *c = fx_add_cluster(r, "a");
        fx_add_group(c, "compute", 2, 1, FX_GIB);
        vcm_resource_set *obs = vcm_resource_set_new();
        dres d = run_diff(r, obs, false);
        /* frontend + 2 nodes: 3 domains, 3 volumes, 3 seeds, 1 bridge. */
        assert_int_equal(d.n, 10);
        assert_int_equal(count_action(&d, VCM_ACTION_CREATE), 10);
        assert_string_equal(find_step(&d, VCM_KIND_DOMAIN, "a-compute-1")->reason, "new cluster");
        assert_string_equal(find_step(&d, VCM_KIND_DOMAIN, "a-compute-1")->cluster, "a");
        assert_false(d.stopped);
        dres_free(&d);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_noop_ignores_meta_and_observed_only_keys(void **state) {
        vcm_repo *r = one_host();
        fx_add_cluster(r, "a");
        vcm_resource_set *obs = converged(r);
        vcm_resource *fe = obs_mut(obs, VCM_KIND_DOMAIN, "a-frontend");
        vcm_resource_set_prop(fe, "meta.commit", "old-commit");
        vcm_resource_set_prop(fe, "uuid", "1234"); /* desired has no uuid */
        dres d = run_diff(r, obs, false);
        assert_int_equal(d.n, 0);
        dres_free(&d);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_updates_classified(void **state) {
        vcm_repo *r = one_host();
        vcm_cluster *c = fx_add_cluster(r, "a");
        fx_add_group(c, "compute", 1, 1, FX_GIB);
        vcm_resource_set *obs = converged(r);
        /* Not running -> live update with reason "not running". */
        vcm_resource_set_prop(obs_mut(obs, VCM_KIND_DOMAIN, "a-frontend"), "state", "shutoff");
        /* Memory change -> restart, reason names old and new in binary units. */
        vcm_resource_set_prop(obs_mut(obs, VCM_KIND_DOMAIN, "a-compute-0"), "memory", "536870912");
        /* Volume grows -> live; bridge netid differs -> replace (no special rule). */
        vcm_resource_set_prop(obs_mut(obs, VCM_KIND_VOLUME, "a-frontend"), "size", "1073741824");
        dres d = run_diff(r, obs, false);
        assert_int_equal(d.n, 3);
        const vcm_step *s = find_step(&d, VCM_KIND_DOMAIN, "a-frontend");
        assert_int_equal(s->action, VCM_ACTION_UPDATE);
        assert_string_equal(s->reason, "not running");
        s = find_step(&d, VCM_KIND_DOMAIN, "a-compute-0");
        assert_int_equal(s->action, VCM_ACTION_RESTART);
        assert_string_equal(s->reason, "memory: 512MiB -> 1GiB");
        assert_int_equal(s->n_changes, 1);
        assert_string_equal(s->changes[0].old_value, "536870912");
        s = find_step(&d, VCM_KIND_VOLUME, "a-frontend");
        assert_int_equal(s->action, VCM_ACTION_UPDATE);
        assert_string_equal(s->reason, "size: 1GiB -> 10GiB");
        dres_free(&d);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_strongest_change_wins_and_refused(void **state) {
        vcm_repo *r = one_host();
        vcm_cluster *c = fx_add_cluster(r, "a");
        fx_add_group(c, "compute", 1, 1, FX_GIB);
        vcm_resource_set *obs = converged(r);
        vcm_resource *fe = obs_mut(obs, VCM_KIND_DOMAIN, "a-frontend");
        vcm_resource_set_prop(fe, "state", "shutoff");      /* live */
        vcm_resource_set_prop(fe, "vcpus", "1");            /* restart */
        vcm_resource_set_prop(fe, "boot", "network");       /* replace */
        /* Shrinking a volume is refused: a diag, no step. */
        vcm_resource_set_prop(obs_mut(obs, VCM_KIND_VOLUME, "a-compute-0"), "size",
                              "107374182400");
        dres d = run_diff(r, obs, false);
        assert_int_equal(d.n, 1);
        assert_int_equal(find_step(&d, VCM_KIND_DOMAIN, "a-frontend")->action, VCM_ACTION_REPLACE);
        assert_int_equal(find_step(&d, VCM_KIND_DOMAIN, "a-frontend")->n_changes, 3);
        assert_int_equal(d.diags.n_errors, 1);
        assert_non_null(strstr(d.diags.items[0].message, "volumes cannot shrink"));
        assert_non_null(strstr(d.diags.items[0].message, "100GiB to 20GiB"));
        assert_true(d.evals[0].refused);
        dres_free(&d);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_state_only_when_desired_has_it(void **state) {
        vcm_repo *r = one_host();
        fx_add_cluster(r, "a");
        vcm_resource_set *obs = converged(r);
        /* Volumes have no "state" in desired: an observed one is ignored. */
        vcm_resource_set_prop(obs_mut(obs, VCM_KIND_VOLUME, "a-frontend"), "state", "inactive");
        dres d = run_diff(r, obs, false);
        assert_int_equal(d.n, 0);
        dres_free(&d);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_removed_cluster_deleted(void **state) {
        vcm_repo *r = one_host();
        fx_add_cluster(r, "a");
        fx_add_cluster(r, "b");
        vcm_resource_set *obs = converged(r);
        fx_remove_cluster(r, "b");
        dres d = run_diff(r, obs, false);
        assert_int_equal(d.n, 4); /* domain, volume, seed, bridge */
        assert_int_equal(count_action(&d, VCM_ACTION_DELETE), 4);
        for (size_t i = 0; i < d.n; i++) {
                assert_string_equal(d.steps[i].cluster, "b");
                assert_string_equal(d.steps[i].reason, "cluster removed from specs");
        }
        dres_free(&d);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

/* The diff skips its pass over the observed set when every observed key matched a desired one:
 * a create (one missing) and deletes (a removed cluster) in one diff still give both. */
static void test_create_and_delete_together(void **state) {
        vcm_repo *r = one_host();
        fx_add_cluster(r, "a");
        fx_add_cluster(r, "b");
        vcm_resource_set *obs = converged(r);
        assert_int_equal(vcm_resource_set_remove(obs, VCM_KIND_VOLUME, "h1", "a-frontend"), 0);
        fx_remove_cluster(r, "b");
        dres d = run_diff(r, obs, false);
        assert_int_equal(d.n, 5);
        assert_int_equal(count_action(&d, VCM_ACTION_CREATE), 1);
        assert_string_equal(find_step(&d, VCM_KIND_VOLUME, "a-frontend")->reason, "missing");
        assert_int_equal(count_action(&d, VCM_ACTION_DELETE), 4);
        dres_free(&d);
        /* Only creates (a new cluster c): nothing observed is undesired, nothing deleted. */
        fx_add_cluster(r, "c");
        vcm_resource_set *a_and_c = converged(r);
        vcm_resource_set *a_part = vcm_resource_set_new();
        for (size_t i = 0; i < vcm_resource_set_size(a_and_c); i++) {
                const vcm_resource *x = vcm_resource_set_at(a_and_c, i);
                if (strcmp(x->cluster, "a") == 0)
                        vcm_resource_set_add_copy(a_part, x);
        }
        d = run_diff(r, a_part, false);
        assert_int_equal(count_action(&d, VCM_ACTION_DELETE), 0);
        assert_int_equal(count_action(&d, VCM_ACTION_CREATE), 4); /* c: domain, volume, seed, bridge */
        dres_free(&d);
        vcm_resource_set_free(a_part);
        vcm_resource_set_free(a_and_c);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_window_end_release_and_keep_volumes(void **state) {
        vcm_repo *r = one_host();
        vcm_cluster *a = fx_add_cluster(r, "a");
        fx_set_window(a, true, 0, true, 2000);
        vcm_cluster *k = fx_add_cluster(r, "k");
        fx_set_window(k, true, 0, true, 2000);
        k->on_expire = VCM_ON_EXPIRE_KEEP_VOLUMES;
        vcm_resource_set *obs = converged(r);
        dres d = run_diff_at(r, obs, false, 2000, NULL); /* end is exclusive */
        /* a: 4, k: domain, seed and bridge */
        assert_int_equal(count_action(&d, VCM_ACTION_DELETE), 7);
        assert_string_equal(find_step(&d, VCM_KIND_DOMAIN, "a-frontend")->reason, "window ended");
        assert_null(find_step(&d, VCM_KIND_VOLUME, "k-frontend"));
        assert_non_null(find_step(&d, VCM_KIND_DOMAIN, "k-frontend"));
        dres_free(&d);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_scale_down_and_suspend(void **state) {
        vcm_repo *r = one_host();
        vcm_cluster *a = fx_add_cluster(r, "a");
        fx_add_group(a, "compute", 3, 1, FX_GIB);
        vcm_cluster *s = fx_add_cluster(r, "s");
        fx_add_group(s, "compute", 2, 1, FX_GIB);
        vcm_resource_set *obs = converged(r);
        r->clusters[0].nodes[0].count = 2;
        r->clusters[1].nodes[0].count = 1;
        r->clusters[1].nodes[0].memory = 2 * FX_GIB;
        r->clusters[1].suspend = true;
        dres d = run_diff(r, obs, false);
        /* a: compute-2's domain, volume and seed go, and the frontend's seed loses compute-2
         * from its tables (rewritten, the frontend is not restarted for it). s: suspended,
         * drift reported only. */
        assert_int_equal(d.n, 4);
        const vcm_step *fe_seed = find_step(&d, VCM_KIND_SEED, "a-frontend");
        assert_non_null(fe_seed);
        assert_null(find_step(&d, VCM_KIND_DOMAIN, "a-frontend"));
        assert_string_equal(find_step(&d, VCM_KIND_DOMAIN, "a-compute-2")->reason,
                            "no longer in the spec");
        assert_non_null(find_step(&d, VCM_KIND_VOLUME, "a-compute-2"));
        /* memory of compute-0, three leftovers (domain, volume, seed), the frontend's seed */
        assert_int_equal(d.evals[1].drift, 5);
        dres_free(&d);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_unplaced_cluster_keeps_what_exists(void **state) {
        vcm_repo *r = one_host();
        vcm_cluster *a = fx_add_cluster(r, "a");
        fx_add_group(a, "compute", 1, 1, FX_GIB);
        vcm_resource_set *obs = converged(r);
        /* Grows beyond the host: cannot be placed, but nothing it has is deleted. */
        r->clusters[0].nodes[0].count = 1000;
        dres d = run_diff(r, obs, false);
        assert_false(d.evals[0].placed);
        assert_int_equal(d.n, 0);
        /* Waiting for room is the cluster's state (Pending), a warning of the pass. */
        assert_int_equal(d.diags.n_errors, 0);
        assert_int_equal(d.diags.n, 1);
        assert_non_null(strstr(d.diags.items[0].message, "cluster a cannot be placed"));
        dres_free(&d);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

/* Safety rule 1, each way it can trigger. */
static void test_rule1_failed_files(void **state) {
        vcm_repo *r = one_host();
        fx_add_cluster(r, "a");
        fx_add_cluster(r, "b");
        vcm_resource_set *obs = converged(r);
        fx_remove_cluster(r, "b");
        r->failed_files = calloc(1, sizeof(char *));
        r->failed_files[0] = strdup("clusters/b.yaml");
        r->n_failed_files = 1;
        dres d = run_diff(r, obs, true /* even with --allow-empty */);
        assert_int_equal(d.n, 0);
        assert_true(d.stopped);
        assert_int_equal(d.diags.n_errors, 1);
        assert_non_null(strstr(d.diags.items[0].message, "pruning stopped"));
        assert_non_null(strstr(d.diags.items[0].message, "4 deletions held back"));
        dres_free(&d);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_rule1_no_site(void **state) {
        vcm_repo *r = one_host();
        fx_add_cluster(r, "a");
        vcm_resource_set *obs = converged(r);
        vcm_site *site = r->site;
        r->site = NULL;
        dres d = run_diff(r, obs, true);
        assert_int_equal(count_action(&d, VCM_ACTION_DELETE), 0);
        assert_true(d.stopped);
        assert_non_null(strstr(d.diags.items[0].message, "site.yaml"));
        dres_free(&d);
        r->site = site;
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_rule1_empty_repo(void **state) {
        vcm_repo *r = one_host();
        fx_add_cluster(r, "a");
        vcm_resource_set *obs = converged(r);
        fx_remove_cluster(r, "a");
        dres d = run_diff(r, obs, false);
        assert_int_equal(d.n, 0);
        assert_true(d.stopped);
        assert_non_null(strstr(d.diags.items[0].message, "--allow-empty"));
        dres_free(&d);
        /* The operator says so explicitly: everything goes. */
        d = run_diff(r, obs, true);
        assert_int_equal(count_action(&d, VCM_ACTION_DELETE), 4);
        assert_false(d.stopped);
        dres_free(&d);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_unreachable_host_no_steps(void **state) {
        vcm_repo *r = one_host();
        fx_add_host(r, "h2", VCM_ROLE_STORAGE, 0, 0);
        fx_add_cluster(r, "a");
        vcm_resource_set *obs = converged(r);
        vcm_resource_set_put(obs, VCM_KIND_VOLUME, "h2", "gone-x", "gone");
        fx_remove_cluster(r, "a");
        fx_add_cluster(r, "z");
        dres d = run_diff_at(r, obs, false, 1000, "h2");
        /* a's resources on h1 go; gone-x on the unreachable h2 stays. */
        assert_int_equal(count_action(&d, VCM_ACTION_DELETE), 4);
        assert_null(find_step(&d, VCM_KIND_VOLUME, "gone-x"));
        dres_free(&d);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

static void test_foreign_owner_conflict(void **state) {
        vcm_repo *r = one_host();
        fx_add_cluster(r, "a");
        vcm_resource_set *obs = vcm_resource_set_new();
        vcm_resource_set_put(obs, VCM_KIND_VOLUME, "h1", "a-frontend", "someone-else");
        dres d = run_diff(r, obs, false);
        assert_null(find_step(&d, VCM_KIND_VOLUME, "a-frontend"));
        assert_true(d.evals[0].conflict);
        assert_int_equal(d.diags.n_errors, 1);
        dres_free(&d);
        vcm_resource_set_free(obs);
        fx_repo_free(r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_create_all_new),
                cmocka_unit_test(test_noop_ignores_meta_and_observed_only_keys),
                cmocka_unit_test(test_updates_classified),
                cmocka_unit_test(test_strongest_change_wins_and_refused),
                cmocka_unit_test(test_state_only_when_desired_has_it),
                cmocka_unit_test(test_removed_cluster_deleted),
                cmocka_unit_test(test_create_and_delete_together),
                cmocka_unit_test(test_window_end_release_and_keep_volumes),
                cmocka_unit_test(test_scale_down_and_suspend),
                cmocka_unit_test(test_unplaced_cluster_keeps_what_exists),
                cmocka_unit_test(test_rule1_failed_files),
                cmocka_unit_test(test_rule1_no_site),
                cmocka_unit_test(test_rule1_empty_repo),
                cmocka_unit_test(test_unreachable_host_no_steps),
                cmocka_unit_test(test_foreign_owner_conflict),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
