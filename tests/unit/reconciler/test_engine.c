/* Whole passes against the fake provider: create -> no-op -> update -> release, the journal,
 * retries and failed deps, unreachable hosts, and safety rules 2, 4 and 5. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <jansson.h>
#include <unistd.h>

#include "fixtures.h"

static vcm_repo *lab(void) {
        vcm_repo *r = fx_repo_new(VCM_NET_VLAN, VCM_STORAGE_FILE);
        fx_add_host(r, "gw1", VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER, 64, 256 * FX_GIB);
        fx_add_host(r, "vm2", VCM_ROLE_VM_SERVER, 64, 256 * FX_GIB);
        vcm_cluster *a = fx_add_cluster(r, "alpha");
        fx_add_group(a, "compute", 3, 1, FX_GIB);
        fx_set_window(a, true, 1000, true, 5000);
        vcm_cluster *b = fx_add_cluster(r, "beta");
        fx_add_group(b, "compute", 2, 1, FX_GIB);
        r->commit = strdup("c0ffee");
        return r;
}

static vcm_pass *run(const vcm_repo *r, int64_t now, const char *state_dir) {
        vcm_provider_table t = fx_table();
        vcm_engine_opts o = { .now = now, .parallel = 4, .retries = 1, .backoff_ms = -1,
                              .state_dir = state_dir };
        vcm_pass *p = NULL;
        assert_int_equal(vcm_engine_run(r, &t, &o, &p), 0);
        return p;
}

static size_t failed_steps(const vcm_pass *p) {
        size_t n = 0;
        for (size_t i = 0; p->step_results && i < p->n_steps; i++)
                n += p->step_results[i] < 0;
        return n;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
        return remove(path);
}

typedef struct tmpdir {
        char path[64];
} tmpdir;

static tmpdir tmp_make(void) {
        tmpdir t;
        snprintf(t.path, sizeof(t.path), "/tmp/vcm-engine-test-XXXXXX");
        assert_non_null(mkdtemp(t.path));
        return t;
}

static void tmp_remove(tmpdir *t) {
        nftw(t->path, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

static size_t journal_lines(const char *dir, json_t **ret_last) {
        char path[128];
        snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
        FILE *f = fopen(path, "r");
        if (!f)
                return 0;
        size_t n = 0;
        char line[4096];
        while (fgets(line, sizeof(line), f)) {
                json_error_t err;
                json_t *o = json_loads(line, 0, &err);
                assert_non_null(o);
                n++;
                if (ret_last) {
                        json_decref(*ret_last);
                        *ret_last = o;
                } else {
                        json_decref(o);
                }
        }
        fclose(f);
        return n;
}

/* Progress: the step count comes once, before the first step, and every step starts and ends. */
typedef struct progress_seen {
        pthread_mutex_t lock;
        size_t planned, plan_calls, started, ended, started_before_plan;
} progress_seen;

static void seen_plan(void *u, size_t n) {
        progress_seen *s = u;
        s->planned = n;
        s->plan_calls++;
}

static void seen_step(void *u, const vcm_step *step, int phase, int result, const char *msg) {
        progress_seen *s = u;
        pthread_mutex_lock(&s->lock);
        if (phase == 0) {
                s->started++;
                s->started_before_plan += s->plan_calls == 0;
        } else {
                s->ended++;
        }
        pthread_mutex_unlock(&s->lock);
}

static void test_progress_callbacks(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = lab();
        progress_seen seen = { .lock = PTHREAD_MUTEX_INITIALIZER };
        vcm_provider_table t = fx_table();
        vcm_engine_opts o = { .now = 1000, .parallel = 4, .retries = 1, .backoff_ms = -1,
                              .on_step = seen_step, .on_plan = seen_plan, .userdata = &seen };
        vcm_pass *p = NULL;
        assert_int_equal(vcm_engine_run(r, &t, &o, &p), 0);
        assert_true(p->n_steps > 0);
        assert_int_equal(seen.plan_calls, 1);
        assert_int_equal(seen.planned, p->n_steps);
        assert_int_equal(seen.started, p->n_steps);
        assert_int_equal(seen.ended, p->n_steps);
        assert_int_equal(seen.started_before_plan, 0);
        vcm_pass_free(p);

        /* Converged: the count is 0 and no step runs. */
        seen = (progress_seen){ .lock = PTHREAD_MUTEX_INITIALIZER };
        assert_int_equal(vcm_engine_run(r, &t, &o, &p), 0);
        assert_int_equal(seen.plan_calls, 1);
        assert_int_equal(seen.planned, 0);
        assert_int_equal(seen.started, 0);
        vcm_pass_free(p);
        fx_repo_free(r);
        fx_world_free(w);
}

static void test_lifecycle(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = lab();
        tmpdir td = tmp_make();

        /* Before alpha's window: only beta is created; alpha is Pending (rule 4). */
        vcm_pass *p = run(r, 500, td.path);
        assert_int_equal(failed_steps(p), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "alpha"), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "beta"), 3);
        assert_int_equal(fx_status(p, "alpha")->state, VCM_STATE_PENDING);
        assert_non_null(strstr(fx_status(p, "alpha")->reason, "window opens at 1970-01-01T00:16:40Z"));
        assert_int_equal(fx_status(p, "beta")->state, VCM_STATE_READY);
        assert_int_equal(p->next_edge, 1000);
        size_t steps1 = p->n_steps;
        vcm_pass_free(p);

        /* Create alpha. */
        p = run(r, 1000, td.path);
        assert_int_equal(failed_steps(p), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "alpha"), 4);
        assert_int_equal(fx_status(p, "alpha")->state, VCM_STATE_READY);
        assert_non_null(strstr(fx_status(p, "alpha")->reason, "converged ("));
        size_t steps2 = p->n_steps;
        vcm_pass_free(p);

        /* Journal: one line per step, with every field. */
        json_t *last = NULL;
        assert_int_equal(journal_lines(td.path, &last), steps1 + steps2);
        assert_string_equal(json_string_value(json_object_get(last, "result")), "ok");
        assert_string_equal(json_string_value(json_object_get(last, "commit")), "c0ffee");
        assert_string_equal(json_string_value(json_object_get(last, "cluster")), "alpha");
        assert_non_null(json_object_get(last, "kind"));
        assert_non_null(json_object_get(last, "host"));
        assert_non_null(json_object_get(last, "name"));
        assert_string_equal(json_string_value(json_object_get(last, "action")), "create");
        assert_true(json_is_null(json_object_get(last, "error")));
        const char *time_s = json_string_value(json_object_get(last, "time"));
        assert_int_equal(strlen(time_s), 20);
        assert_int_equal(time_s[10], 'T');
        json_decref(last);

        /* No-op. */
        long ops = w->ops;
        p = run(r, 2000, td.path);
        assert_int_equal(p->n_steps, 0);
        assert_int_equal(w->ops, ops);
        assert_int_equal(fx_status(p, "alpha")->state, VCM_STATE_READY);
        assert_string_equal(fx_status(p, "alpha")->reason, "converged");
        vcm_pass_free(p);

        /* Update: more memory for alpha's nodes. */
        r->clusters[0].nodes[0].memory = 2 * FX_GIB;
        p = run(r, 2000, td.path);
        assert_int_equal(p->n_steps, 3);
        for (size_t i = 0; i < p->n_steps; i++)
                assert_int_equal(p->steps[i].action, VCM_ACTION_RESTART);
        assert_int_equal(failed_steps(p), 0);
        vcm_pass_free(p);
        p = run(r, 2000, td.path);
        assert_int_equal(p->n_steps, 0);
        vcm_pass_free(p);

        /* Release: the window ended while vcm was "down" (rule 4: acted on when it comes back). */
        p = run(r, 9000, td.path);
        assert_int_equal(failed_steps(p), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "alpha"), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_VOLUME, "alpha"), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_BRIDGE, "alpha"), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "beta"), 3);
        assert_int_equal(fx_status(p, "alpha")->state, VCM_STATE_RELEASED);
        assert_int_equal(fx_status(p, "beta")->state, VCM_STATE_READY);
        vcm_pass_free(p);

        /* Cluster removed from specs: released too. */
        fx_remove_cluster(r, "beta");
        p = run(r, 9000, td.path);
        assert_int_equal(vcm_resource_set_size(w->res), 0);
        assert_int_equal(fx_status(p, "beta")->state, VCM_STATE_RELEASED);
        vcm_pass_free(p);
        assert_int_equal(w->dup_creates, 0);

        tmp_remove(&td);
        fx_repo_free(r);
        fx_world_free(w);
}

static void test_connections_once_per_host(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = lab();
        vcm_pass *p = run(r, 1000, NULL);
        /* One provider in the table for every kind, two hosts: two opens, two observes. */
        assert_int_equal(w->opens, 2);
        assert_int_equal(w->observes, 2);
        assert_true(p->n_steps > 0);
        vcm_pass_free(p);
        fx_repo_free(r);
        fx_world_free(w);
}

/* Rule 5: a pass interrupted after k provider calls, then a full pass, converges with no
 * duplicates, for every k; the same for a release. */
static void test_interrupted_then_converges(void **state) {
        vcm_repo *r = lab();
        /* Count the calls of a clean pass first. */
        fx_world *w = fx_world_new();
        vcm_pass *p = run(r, 1000, NULL);
        long total = w->calls;
        size_t want = vcm_resource_set_size(w->res);
        vcm_pass_free(p);
        fx_world_free(w);
        assert_true(total > 20);

        for (long k = 0; k <= total; k++) {
                w = fx_world_new();
                w->fail_from = k;
                p = run(r, 1000, NULL);
                assert_int_equal(vcm_resource_set_size(w->res), (size_t)k);
                vcm_pass_free(p);
                w->fail_from = -1;
                p = run(r, 1000, NULL);
                assert_int_equal(failed_steps(p), 0);
                vcm_pass_free(p);
                p = run(r, 1000, NULL);
                assert_int_equal(p->n_steps, 0); /* converged */
                vcm_pass_free(p);
                assert_int_equal(vcm_resource_set_size(w->res), want);
                assert_int_equal(w->dup_creates, 0);

                /* Interrupted release of alpha, then finished. */
                long before = w->calls;
                w->fail_from = before + k / 2;
                p = run(r, 9000, NULL);
                vcm_pass_free(p);
                w->fail_from = -1;
                p = run(r, 9000, NULL);
                assert_int_equal(failed_steps(p), 0);
                vcm_pass_free(p);
                assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "alpha"), 0);
                assert_int_equal(fx_count(w->res, VCM_KIND_VOLUME, "alpha"), 0);
                assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "beta"), 3);
                fx_world_free(w);
        }
        fx_repo_free(r);
}

/* A failed step fails what depends on it, never runs it; other clusters go on (rule 2). */
static void test_failure_isolated(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = fx_repo_new(VCM_NET_VLAN, VCM_STORAGE_FILE);
        fx_add_host(r, "gw1", VCM_ROLE_GATEWAY, 64, 256 * FX_GIB);
        fx_add_host(r, "bad", VCM_ROLE_VM_SERVER, 64, 256 * FX_GIB);
        vcm_cluster *a = fx_add_cluster(r, "alpha");
        fx_add_group(a, "compute", 1, 1, FX_GIB);
        fx_add_cluster(r, "beta"); /* frontend only, on gw1 */
        w->fail_kind_host = "bad";
        tmpdir td = tmp_make();
        vcm_provider_table t = fx_table();
        vcm_engine_opts o = { .now = 1000, .parallel = 2, .retries = 3, .backoff_ms = 1,
                              .state_dir = td.path };
        vcm_pass *p = NULL;
        long calls0 = w->calls;
        assert_int_equal(vcm_engine_run(r, &t, &o, &p), 0);
        size_t node = fx_step_index(p, VCM_KIND_DOMAIN, "alpha-compute-0");
        assert_int_equal(p->step_results[node], -ECANCELED);
        assert_string_equal(p->step_errors[node], "dependency failed");
        size_t vol = fx_step_index(p, VCM_KIND_VOLUME, "alpha-compute-0");
        assert_int_equal(p->step_results[vol], -ENOSPC);
        assert_string_equal(p->step_errors[vol], "bad: disk full");
        assert_int_equal(fx_status(p, "alpha")->state, VCM_STATE_DEGRADED);
        assert_non_null(strstr(fx_status(p, "alpha")->reason, "bad: disk full"));
        assert_int_equal(fx_status(p, "beta")->state, VCM_STATE_READY);
        assert_non_null(vcm_resource_set_find(w->res, VCM_KIND_DOMAIN, "gw1", "beta-frontend"));
        assert_non_null(vcm_resource_set_find(w->res, VCM_KIND_DOMAIN, "gw1", "alpha-frontend"));
        /* Three creates fail on "bad" (volume, seed and VLAN link), three attempts each; the
         * bridge waits for its VLAN link, so it is skipped, never tried. */
        long bad_creates = 0;
        for (size_t i = 0; i < p->n_steps; i++)
                bad_creates += !strcmp(p->steps[i].desired->host, "bad") &&
                               p->steps[i].action == VCM_ACTION_CREATE &&
                               p->step_results[i] == -ENOSPC;
        assert_int_equal(bad_creates, 3);
        for (size_t i = 0; i < p->n_steps; i++)
                if (p->steps[i].desired->kind == VCM_KIND_BRIDGE &&
                    !strcmp(p->steps[i].desired->host, "bad"))
                        assert_int_equal(p->step_results[i], -ECANCELED);
        size_t ok_steps = p->n_steps - failed_steps(p);
        assert_int_equal(w->calls - calls0, (long)ok_steps + 3 * 3);
        /* Failed and skipped steps are journaled as errors. */
        json_t *last = NULL;
        assert_int_equal(journal_lines(td.path, &last), p->n_steps);
        json_decref(last);
        vcm_pass_free(p);
        tmp_remove(&td);
        fx_repo_free(r);
        fx_world_free(w);
}

static void test_unreachable_host(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = lab();
        vcm_pass *p = run(r, 1000, NULL);
        vcm_pass_free(p);
        /* vm2 goes down, and beta is removed from the specs: nothing on vm2 is touched,
         * beta's resources on gw1 do go, and alpha (with nodes on vm2) is Degraded. */
        size_t on_vm2 = 0;
        for (size_t i = 0; i < vcm_resource_set_size(w->res); i++)
                on_vm2 += !strcmp(vcm_resource_set_at(w->res, i)->host, "vm2");
        assert_true(on_vm2 > 0);
        w->down_host = "vm2";
        fx_remove_cluster(r, "beta");
        p = run(r, 1000, NULL);
        assert_int_equal(p->n_unreachable, 1);
        assert_string_equal(p->unreachable_hosts[0], "vm2");
        bool named = false;
        for (size_t i = 0; i < p->diags.n; i++)
                named |= strstr(p->diags.items[i].message, "host vm2") != NULL;
        assert_true(named);
        for (size_t i = 0; i < p->n_steps; i++) {
                const vcm_resource *x = p->steps[i].desired ? p->steps[i].desired : p->steps[i].observed;
                assert_string_not_equal(x->host, "vm2");
        }
        assert_int_equal(fx_status(p, "alpha")->state, VCM_STATE_DEGRADED);
        size_t on_vm2_after = 0;
        for (size_t i = 0; i < vcm_resource_set_size(w->res); i++)
                on_vm2_after += !strcmp(vcm_resource_set_at(w->res, i)->host, "vm2");
        assert_int_equal(on_vm2_after, on_vm2);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "beta") > 0, true); /* on vm2 */
        assert_null(vcm_resource_set_find(w->res, VCM_KIND_DOMAIN, "gw1", "beta-frontend"));
        assert_int_equal(w->dup_creates, 0);
        vcm_pass_free(p);
        fx_repo_free(r);
        fx_world_free(w);
}

/* Rule 1 through the engine: a failed file stops pruning; status says Stalled. */
static void test_pruning_stopped_status(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = lab();
        vcm_pass_free(run(r, 1000, NULL));
        size_t before = vcm_resource_set_size(w->res);
        fx_remove_cluster(r, "beta");
        r->failed_files = calloc(1, sizeof(char *));
        r->failed_files[0] = strdup("clusters/beta.yaml");
        r->n_failed_files = 1;
        vcm_pass *p = run(r, 9000, NULL); /* alpha's window ended too: still nothing deleted */
        assert_true(p->pruning_stopped);
        assert_int_equal(p->n_steps, 0);
        assert_int_equal(vcm_resource_set_size(w->res), before);
        assert_int_equal(fx_status(p, "beta")->state, VCM_STATE_STALLED);
        assert_int_equal(fx_status(p, "alpha")->state, VCM_STATE_STALLED);
        vcm_pass_free(p);

        /* No site: nothing observed or changed, the pass still runs. */
        vcm_site *site = r->site;
        r->site = NULL;
        p = run(r, 9000, NULL);
        assert_int_equal(p->n_steps, 0);
        assert_true(p->pruning_stopped);
        assert_int_equal(fx_status(p, "alpha")->state, VCM_STATE_STALLED);
        assert_non_null(strstr(fx_status(p, "alpha")->reason, "site.yaml"));
        vcm_pass_free(p);
        r->site = site;
        fx_repo_free(r);
        fx_world_free(w);
}

/* A kind without a provider is not managed: left out with a warning, others proceed. */
static void test_unprovided_kind_left_out(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = lab();
        vcm_provider_table t = fx_table();
        t.by_kind[VCM_KIND_BRIDGE] = NULL;
        t.by_kind[VCM_KIND_VLAN_LINK] = NULL;
        vcm_engine_opts o = { .now = 1000, .retries = 1, .backoff_ms = -1 };
        vcm_pass *p = NULL;
        assert_int_equal(vcm_engine_run(r, &t, &o, &p), 0);
        assert_int_equal(failed_steps(p), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_BRIDGE, NULL), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, NULL), 7);
        bool warned = false;
        for (size_t i = 0; i < p->diags.n; i++)
                warned |= p->diags.items[i].severity == VCM_SEV_WARNING &&
                          strstr(p->diags.items[i].message, "no provider manages bridge") != NULL;
        assert_true(warned);
        assert_int_equal(fx_status(p, "beta")->state, VCM_STATE_READY);
        vcm_pass_free(p);
        fx_repo_free(r);
        fx_world_free(w);
}

/* One course's slot ends as another's starts on a host with room for one: the same pass frees
 * the room and uses it, the new domains created only after the old ones are gone. */
static void test_handover_on_full_host(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = fx_repo_new(VCM_NET_BRIDGE, VCM_STORAGE_FILE);
        fx_add_host(r, "h1", VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER, 4, 8 * FX_GIB);
        vcm_cluster *a = fx_add_cluster(r, "course-a");
        fx_add_group(a, "compute", 2, 1, 2 * FX_GIB);
        fx_set_window(a, false, 0, true, 5000);
        vcm_cluster *b = fx_add_cluster(r, "course-b");
        fx_add_group(b, "compute", 2, 1, 2 * FX_GIB);
        fx_set_window(b, true, 5000, false, 0);
        vcm_pass *p = run(r, 1000, NULL);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "course-a"), 3);
        assert_int_equal(fx_status(p, "course-b")->state, VCM_STATE_PENDING);
        vcm_pass_free(p);

        p = run(r, 5000, NULL);
        assert_int_equal(failed_steps(p), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "course-a"), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "course-b"), 3);
        assert_int_equal(fx_status(p, "course-b")->state, VCM_STATE_READY);
        assert_int_equal(fx_status(p, "course-a")->state, VCM_STATE_RELEASED);
        /* Every domain create waits for every domain delete on the host. */
        for (size_t i = 0; i < p->n_steps; i++) {
                const vcm_step *s = &p->steps[i];
                if (s->action != VCM_ACTION_CREATE || s->desired->kind != VCM_KIND_DOMAIN)
                        continue;
                for (size_t j = 0; j < p->n_steps; j++)
                        if (p->steps[j].action == VCM_ACTION_DELETE &&
                            p->steps[j].observed->kind == VCM_KIND_DOMAIN)
                                assert_true(j < i);
        }
        vcm_pass_free(p);
        fx_repo_free(r);
        fx_world_free(w);
}

/* Step i waits for step j, directly or through other steps. */
static bool waits_for(const vcm_pass *p, size_t i, size_t j) {
        for (size_t d = 0; d < p->steps[i].n_deps; d++)
                if (p->steps[i].deps[d] == j || waits_for(p, p->steps[i].deps[d], j))
                        return true;
        return false;
}

/* The same for a storage host's space (lvm-iscsi, room for one cluster's 30 GiB): the new
 * cluster's volumes are created only after the old cluster's are deleted there. */
static void test_storage_handover(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = fx_repo_new(VCM_NET_VLAN, VCM_STORAGE_LVM_ISCSI);
        fx_add_host(r, "gw1", VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER, 64, 256 * FX_GIB);
        vcm_host *st = fx_add_host(r, "st1", VCM_ROLE_STORAGE, 0, 0);
        st->capacity_storage = 40 * FX_GIB;
        fx_add_image(r, "compute", "img-compute", NULL);
        vcm_cluster *a = fx_add_cluster(r, "course-a");
        fx_add_group(a, "compute", 1, 1, FX_GIB);
        fx_set_window(a, false, 0, true, 5000);
        vcm_cluster *b = fx_add_cluster(r, "course-b");
        fx_add_group(b, "compute", 1, 1, FX_GIB);
        fx_set_window(b, true, 5000, false, 0);
        vcm_pass *p = run(r, 1000, NULL);
        assert_int_equal(fx_count(w->res, VCM_KIND_VOLUME, "course-a"), 2);
        assert_int_equal(fx_status(p, "course-b")->state, VCM_STATE_PENDING);
        vcm_pass_free(p);

        p = run(r, 5000, NULL);
        assert_int_equal(failed_steps(p), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_VOLUME, "course-a"), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_VOLUME, "course-b"), 2);
        assert_int_equal(fx_status(p, "course-b")->state, VCM_STATE_READY);
        /* Apply runs a step once its dependencies are done: every volume create on st1 waits,
         * through the plan's edges, for every volume delete there. */
        size_t creates = 0, deletes = 0;
        for (size_t i = 0; i < p->n_steps; i++) {
                const vcm_step *s = &p->steps[i];
                if (s->action == VCM_ACTION_DELETE && s->observed->kind == VCM_KIND_VOLUME)
                        deletes++;
                if (s->action != VCM_ACTION_CREATE || s->desired->kind != VCM_KIND_VOLUME)
                        continue;
                creates++;
                for (size_t j = 0; j < p->n_steps; j++) {
                        const vcm_step *d = &p->steps[j];
                        if (d->action != VCM_ACTION_DELETE || d->observed->kind != VCM_KIND_VOLUME)
                                continue;
                        assert_string_equal(d->observed->host, s->desired->host);
                        assert_true(waits_for(p, i, j));
                }
        }
        assert_int_equal(creates, 2);
        assert_int_equal(deletes, 2);
        vcm_pass_free(p);
        fx_repo_free(r);
        fx_world_free(w);
}

/* With pruning stopped, released domains still hold their room. */
static void test_no_handover_when_pruning_stopped(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = fx_repo_new(VCM_NET_BRIDGE, VCM_STORAGE_FILE);
        fx_add_host(r, "h1", VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER, 4, 8 * FX_GIB);
        vcm_cluster *a = fx_add_cluster(r, "course-a");
        fx_add_group(a, "compute", 2, 1, 2 * FX_GIB);
        fx_set_window(a, false, 0, true, 5000);
        vcm_cluster *b = fx_add_cluster(r, "course-b");
        fx_add_group(b, "compute", 2, 1, 2 * FX_GIB);
        fx_set_window(b, true, 5000, false, 0);
        vcm_pass_free(run(r, 1000, NULL));
        r->failed_files = calloc(1, sizeof(char *));
        r->failed_files[0] = strdup("clusters/other.yaml");
        r->n_failed_files = 1;
        vcm_pass *p = run(r, 5000, NULL);
        assert_int_equal(p->n_steps, 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "course-a"), 3);
        assert_int_equal(fx_status(p, "course-b")->state, VCM_STATE_PENDING);
        vcm_pass_free(p);
        fx_repo_free(r);
        fx_world_free(w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lifecycle),
                cmocka_unit_test(test_progress_callbacks),
                cmocka_unit_test(test_connections_once_per_host),
                cmocka_unit_test(test_interrupted_then_converges),
                cmocka_unit_test(test_failure_isolated),
                cmocka_unit_test(test_unreachable_host),
                cmocka_unit_test(test_pruning_stopped_status),
                cmocka_unit_test(test_unprovided_kind_left_out),
                cmocka_unit_test(test_handover_on_full_host),
                cmocka_unit_test(test_storage_handover),
                cmocka_unit_test(test_no_handover_when_pruning_stopped),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
