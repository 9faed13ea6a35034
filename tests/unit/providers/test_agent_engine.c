/* Whole engine passes with a host-side provider routed through a real agent process: VLAN links
 * and bridges go to the fake host-side provider (in files, see agent_fake.h), in-process for gw1
 * and through vm2's agent; everything else to the in-memory fake of the engine tests. The agent
 * command is this test program with --agent, which serves the fake with the library's server loop
 * exactly as `vcm agent` does.
 *
 * Shows: a pass converges through the agent and the next is a no-op on the same agent process;
 * an agent that dies in the middle of a step makes only the clusters on its host Degraded, with
 * the reason, and the next pass respawns it and converges; an agent killed between passes is
 * replaced without a failure; a host whose agent cannot start is unreachable, others go on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_fake.h"
#include "providers/agent/agent.h"
#include "reconciler/fixtures.h"

static char self_exe[4096];
static char *agent_argv[] = { self_exe, "--agent", NULL };
static char *broken_argv[] = { "/nonexistent/vcm", "agent", NULL };

/* gw1 (in-process) is the gateway: frontends only, so alpha's nodes go to vm2 (agent);
 * beta is a frontend alone, all on gw1. */
static vcm_repo *lab(void) {
        vcm_repo *r = fx_repo_new(VCM_NET_VLAN, VCM_STORAGE_FILE);
        fx_add_host(r, "gw1", VCM_ROLE_GATEWAY, 8, 64 * FX_GIB);
        vcm_host *vm2 = fx_add_host(r, "vm2", VCM_ROLE_VM_SERVER, 64, 256 * FX_GIB);
        vm2->agent = agent_argv;
        vm2->n_agent = 2;
        vcm_cluster *a = fx_add_cluster(r, "alpha");
        fx_add_group(a, "compute", 3, 1, FX_GIB);
        fx_add_cluster(r, "beta");
        return r;
}

static void lab_free(vcm_repo *r) {
        for (size_t i = 0; i < r->site->n_hosts; i++)
                r->site->hosts[i].agent = NULL; /* static arrays */
        fx_repo_free(r);
}

/* One pass with links and bridges routed (gw1 in-process, vm2 through its agent); *ret_failed:
 * how many steps failed. */
static vcm_pass *run(const vcm_repo *r, size_t *ret_failed) {
        vcm_provider_table t = fx_table();
        const vcm_provider *routed = vcm_agent_route(&af_provider);
        t.by_kind[VCM_KIND_VLAN_LINK] = t.by_kind[VCM_KIND_BRIDGE] = routed;
        static const vcm_engine_opts o = { .now = 1000, .parallel = 4, .retries = 1, .backoff_ms = -1 };
        vcm_pass *p = NULL;
        assert_int_equal(vcm_engine_run(r, &t, &o, &p), 0);
        *ret_failed = 0;
        for (size_t i = 0; i < p->n_steps; i++)
                *ret_failed += p->step_errors[i] != NULL;
        return p;
}

static bool file_exists(const char *dir, const char *host, const char *file) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s/%s", dir, host, file);
        return access(path, F_OK) == 0;
}

/* Does any resource of `cluster` live on `host` (desired or observed)? */
static bool cluster_on(const vcm_pass *p, const char *cluster, const char *host) {
        const vcm_resource_set *sets[] = { p->desired, p->observed };
        for (size_t k = 0; k < 2; k++)
                for (size_t i = 0; i < vcm_resource_set_size(sets[k]); i++) {
                        const vcm_resource *r = vcm_resource_set_at(sets[k], i);
                        if (strcmp(r->cluster, cluster) == 0 && strcmp(r->host, host) == 0)
                                return true;
                }
        return false;
}

static void assert_state(const vcm_pass *p, const char *cluster, vcm_cluster_state want) {
        const vcm_cluster_status *s = fx_status(p, cluster);
        assert_non_null(s);
        if (s->state != want)
                fail_msg("%s is %s (%s), want %s", cluster, vcm_cluster_state_name(s->state),
                         s->reason, vcm_cluster_state_name(want));
}

static void test_passes_through_agent(void **state) {
        fx_world *w = fx_world_new();
        vcm_repo *r = lab();
        size_t failed;

        /* 1. Everything is created; vm2's links and bridges by its agent, gw1's here. */
        long local_before = atomic_load(&af_local_calls);
        vcm_pass *p = run(r, &failed);
        assert_int_equal(failed, 0);
        assert_state(p, "alpha", VCM_STATE_READY);
        assert_state(p, "beta", VCM_STATE_READY);
        assert_true(cluster_on(p, "alpha", "vm2"));
        assert_false(cluster_on(p, "beta", "vm2"));
        assert_true(file_exists(af_world, "vm2", "bridge.vcmbr100") || file_exists(af_world, "vm2", "bridge.vcmbr101"));
        assert_true(atomic_load(&af_local_calls) > local_before); /* gw1, in-process */
        int pid = vcm_agent_pid("vm2");
        assert_true(pid > 0 && pid != getpid());
        assert_int_equal(vcm_agent_pid("gw1"), 0);
        vcm_pass_free(p);

        /* 2. No-op, on the same agent: observation through the agent gives back the hashes. */
        p = run(r, &failed);
        assert_int_equal(p->n_steps, 0);
        assert_state(p, "alpha", VCM_STATE_READY);
        assert_int_equal(vcm_agent_pid("vm2"), pid);
        vcm_pass_free(p);

        /* 3. A bridge on vm2 disappears behind vcm's back, and vm2's agent dies while creating
         * it again: alpha (on vm2) is Degraded with the reason; beta (not on vm2) is Ready. */
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -f %s/vm2/bridge.* && touch %s/vm2/die-once", af_world, af_world);
        assert_int_equal(system(cmd), 0);
        p = run(r, &failed);
        assert_int_equal(failed, 1);
        assert_state(p, "alpha", VCM_STATE_DEGRADED);
        assert_non_null(strstr(fx_status(p, "alpha")->reason, "agent on vm2 exited (exit status 3)"));
        assert_state(p, "beta", VCM_STATE_READY);
        bool named = false;
        for (size_t i = 0; i < p->n_steps; i++)
                if (p->step_results[i] < 0)
                        named = strstr(p->step_errors[i], "agent on vm2 exited") != NULL;
        assert_true(named);
        assert_int_equal(vcm_agent_pid("vm2"), 0);
        vcm_pass_free(p);

        /* 4. The next pass starts a new agent and converges. */
        p = run(r, &failed);
        assert_int_equal(failed, 0);
        assert_int_equal(p->n_steps, 1);
        assert_state(p, "alpha", VCM_STATE_READY);
        assert_state(p, "beta", VCM_STATE_READY);
        int pid2 = vcm_agent_pid("vm2");
        assert_true(pid2 > 0 && pid2 != pid);
        vcm_pass_free(p);

        /* 5. Killed between passes: replaced at the next open, nothing fails, nothing to do. */
        assert_int_equal(kill(pid2, SIGKILL), 0);
        af_wait_dead(pid2);
        p = run(r, &failed);
        assert_int_equal(p->n_steps, 0);
        assert_int_equal(p->n_unreachable, 0);
        assert_state(p, "alpha", VCM_STATE_READY);
        int pid3 = vcm_agent_pid("vm2");
        assert_true(pid3 > 0 && pid3 != pid2);
        vcm_pass_free(p);

        /* 6. vm2's agent cannot start: vm2 is unreachable, alpha Degraded, beta goes on. */
        r->site->hosts[1].agent = broken_argv;
        p = run(r, &failed);
        assert_int_equal(p->n_unreachable, 1);
        assert_string_equal(p->unreachable_hosts[0], "vm2");
        assert_state(p, "alpha", VCM_STATE_DEGRADED);
        assert_state(p, "beta", VCM_STATE_READY);
        named = false;
        for (size_t i = 0; i < p->diags.n; i++)
                named |= strstr(p->diags.items[i].message, "cannot run '/nonexistent/vcm'") != NULL;
        assert_true(named);
        for (size_t i = 0; i < p->n_steps; i++) {
                const vcm_resource *x = p->steps[i].desired ? p->steps[i].desired : p->steps[i].observed;
                assert_string_not_equal(x->host, "vm2");
        }
        vcm_pass_free(p);

        /* 7. Back: converged, nothing to do. */
        r->site->hosts[1].agent = agent_argv;
        p = run(r, &failed);
        assert_int_equal(p->n_steps, 0);
        assert_state(p, "alpha", VCM_STATE_READY);
        vcm_pass_free(p);

        lab_free(r);
        fx_world_free(w);
}

int main(int argc, char **argv) {
        int agent = af_agent_main(argc, argv, self_exe, sizeof(self_exe));
        if (agent >= 0)
                return agent;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_passes_through_agent),
        };
        return cmocka_run_group_tests(tests, af_world_make, af_world_remove);
}
