/* The client side: a routed vtable in front of the fake host-side provider, for a host whose
 * agent is a real child process. The agent command is this test program itself with --agent
 * (it then serves the fake provider with the library's server loop, as `vcm agent` does), so the
 * fake exists only in the test, not in the vcm binary.
 *
 * Round trips of observe/create/update/delete; errors carry host and cause; one agent per host,
 * reused by every open; concurrent calls on one connection; an agent that dies in the middle of
 * a request, is killed while idle, cannot be started, is not an agent, or does not answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_fake.h"
#include "providers/agent/agent.h"

static char self_exe[4096];

static vcm_site site;
static vcm_host hosts[2];

/* gw1 through an agent running `argv`; local1 in-process. */
static void site_init(char **argv) {
        size_t n = 0;
        while (argv && argv[n])
                n++;
        hosts[0] = (vcm_host){ .name = "gw1", .roles = VCM_ROLE_VM_SERVER, .agent = argv, .n_agent = n };
        hosts[1] = (vcm_host){ .name = "local1", .roles = VCM_ROLE_VM_SERVER };
        site = (vcm_site){ .name = "lab", .network_backend = VCM_NET_VLAN, .vlan_from = 100,
                           .vlan_to = 199, .hosts = hosts, .n_hosts = 2 };
}

static char *agent_argv[] = { self_exe, "--agent", NULL };

static int setup(void **state) {
        site_init(agent_argv);
        return af_world_make(state);
}

static const vcm_provider *routed(void) {
        const vcm_provider *p = vcm_agent_route(&af_provider);
        assert_non_null(p);
        return p;
}

static vcm_host_ctx open_ctx(const char *host) {
        const vcm_provider *p = routed();
        vcm_error err = { "" };
        void *conn = NULL;
        const vcm_host *h = vcm_site_find_host(&site, host);
        int r = p->open(&site, h, &conn, &err);
        if (r < 0)
                fail_msg("open %s: %s (%d)", host, err.message, r);
        return (vcm_host_ctx){ .site = &site, .host = h, .conn = conn };
}

static vcm_resource_set *observe(vcm_host_ctx *ctx) {
        vcm_resource_set *s = vcm_resource_set_new();
        vcm_error err = { "" };
        int r = routed()->observe(ctx, s, &err);
        if (r < 0)
                fail_msg("observe: %s", err.message);
        return s;
}

/* A bridge resource of cluster `cluster` on `host`, in its own set (caller frees). */
static vcm_resource_set *bridge(const char *host, const char *name, const char *netid,
                                const vcm_resource **ret) {
        vcm_resource_set *s = vcm_resource_set_new();
        vcm_resource *r = vcm_resource_set_put(s, VCM_KIND_BRIDGE, host, name, "alpha");
        vcm_resource_set_prop(r, "netid", netid);
        vcm_resource_rehash(r);
        *ret = r;
        return s;
}

static void test_route_is_stable(void **state) {
        const vcm_provider *p = routed();
        assert_ptr_equal(p, vcm_agent_route(&af_provider));
        assert_string_equal(p->name, "fakefs");
        assert_int_equal(p->kinds, af_provider.kinds);
        assert_ptr_equal(p->classify, af_provider.classify);
        assert_ptr_not_equal(p, &af_provider);
}

static void test_round_trip(void **state) {
        long local_before = atomic_load(&af_local_calls);
        vcm_host_ctx ctx = open_ctx("gw1");
        int pid = vcm_agent_pid("gw1");
        assert_true(pid > 0 && pid != getpid());

        vcm_resource_set *o = observe(&ctx);
        assert_int_equal(vcm_resource_set_size(o), 0);
        vcm_resource_set_free(o);

        const vcm_resource *b;
        vcm_resource_set *bs = bridge("gw1", "vcmbr100", "100", &b);
        vcm_error err = { "" };
        assert_int_equal(routed()->create(&ctx, b, &err), 0);
        o = observe(&ctx);
        assert_int_equal(vcm_resource_set_size(o), 1);
        const vcm_resource *x = vcm_resource_set_find(o, VCM_KIND_BRIDGE, "gw1", "vcmbr100");
        assert_non_null(x);
        assert_string_equal(x->cluster, "alpha");
        assert_string_equal(vcm_resource_prop(x, "netid"), "100");
        assert_true(x->hash == b->hash);

        const vcm_resource *b2;
        vcm_resource_set *bs2 = bridge("gw1", "vcmbr100", "101", &b2);
        assert_int_equal(routed()->update(&ctx, b2, x, &err), 0);
        vcm_resource_set_free(o);
        o = observe(&ctx);
        x = vcm_resource_set_find(o, VCM_KIND_BRIDGE, "gw1", "vcmbr100");
        assert_string_equal(vcm_resource_prop(x, "netid"), "101");
        assert_int_equal(routed()->delete(&ctx, x, &err), 0);
        vcm_resource_set_free(o);
        o = observe(&ctx);
        assert_int_equal(vcm_resource_set_size(o), 0);
        vcm_resource_set_free(o);

        /* The provider's error comes back with its errno and its message (host, resource, cause). */
        const vcm_resource *f;
        vcm_resource_set *fs = bridge("gw1", "failbr", "7", &f);
        assert_int_equal(routed()->create(&ctx, f, &err), -EIO);
        assert_string_equal(err.message, "gw1: create bridge failbr: injected failure");

        /* All of it happened in the agent, none in this process. */
        assert_int_equal(atomic_load(&af_local_calls), local_before);
        /* The same agent serves a second connection. */
        vcm_host_ctx ctx2 = open_ctx("gw1");
        assert_int_equal(vcm_agent_pid("gw1"), pid);
        routed()->close(ctx2.conn);
        routed()->close(ctx.conn);
        assert_int_equal(vcm_agent_pid("gw1"), pid); /* kept for the next pass */
        vcm_resource_set_free(bs);
        vcm_resource_set_free(bs2);
        vcm_resource_set_free(fs);
}

/* What a provider (or a command it runs) prints goes to the agent's stderr, and stdin gives it
 * nothing: the protocol is not disturbed. */
static void test_stdout_is_protocol_only(void **state) {
        vcm_host_ctx ctx = open_ctx("gw1");
        const vcm_resource *b;
        vcm_resource_set *bs = bridge("gw1", "noisybr", "1", &b);
        vcm_error err = { "" };
        if (routed()->create(&ctx, b, &err) < 0)
                fail_msg("noisy create: %s", err.message);
        vcm_resource_set *o = observe(&ctx);
        assert_non_null(vcm_resource_set_find(o, VCM_KIND_BRIDGE, "gw1", "noisybr"));
        vcm_resource_set_free(o);
        routed()->close(ctx.conn);
        vcm_resource_set_free(bs);
}

static void test_in_process(void **state) {
        long before = atomic_load(&af_local_calls);
        vcm_host_ctx ctx = open_ctx("local1");
        const vcm_resource *b;
        vcm_resource_set *bs = bridge("local1", "vcmbr100", "100", &b);
        vcm_error err = { "" };
        assert_int_equal(routed()->create(&ctx, b, &err), 0);
        vcm_resource_set *o = observe(&ctx);
        assert_int_equal(vcm_resource_set_size(o), 1);
        /* open, create, observe: here, and no agent for this host. */
        assert_int_equal(atomic_load(&af_local_calls), before + 3);
        assert_int_equal(vcm_agent_pid("local1"), 0);
        routed()->close(ctx.conn);
        vcm_resource_set_free(o);
        vcm_resource_set_free(bs);
}

typedef struct par {
        vcm_host_ctx *ctx;
        int index;
        int result;
} par;

static void *par_create(void *arg) {
        par *p = arg;
        char name[32];
        snprintf(name, sizeof(name), "vcmbr%d", 100 + p->index);
        const vcm_resource *b;
        vcm_resource_set *bs = bridge("gw1", name, name + 5, &b);
        vcm_error err = { "" };
        p->result = 0;
        for (int k = 0; k < 20 && p->result == 0; k++)
                p->result = routed()->create(p->ctx, b, &err);
        vcm_resource_set_free(bs);
        return NULL;
}

/* The engine runs steps of one host in parallel on one connection. */
static void test_concurrent_calls(void **state) {
        vcm_host_ctx ctx = open_ctx("gw1");
        pthread_t t[8];
        par ps[8];
        for (int i = 0; i < 8; i++) {
                ps[i] = (par){ .ctx = &ctx, .index = i };
                assert_int_equal(pthread_create(&t[i], NULL, par_create, &ps[i]), 0);
        }
        for (int i = 0; i < 8; i++) {
                pthread_join(t[i], NULL);
                assert_int_equal(ps[i].result, 0);
        }
        vcm_resource_set *o = observe(&ctx);
        assert_int_equal(vcm_resource_set_size(o), 8);
        vcm_resource_set_free(o);
        routed()->close(ctx.conn);
}

static bool exists(const char *host, const char *file) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s/%s", af_world, host, file);
        return access(path, F_OK) == 0;
}

static void touch(const char *host, const char *file);

typedef struct slow_call {
        vcm_host_ctx *ctx;
        atomic_bool done;
        int result;
} slow_call;

static void *slow_create(void *arg) {
        slow_call *c = arg;
        const vcm_resource *b;
        vcm_resource_set *bs = bridge("gw1", "slowbr", "1", &b);
        vcm_error err = { "" };
        c->result = routed()->create(c->ctx, b, &err);
        atomic_store(&c->done, true);
        vcm_resource_set_free(bs);
        return NULL;
}

/* A slow step does not hold up the others of its host: while one create waits inside the agent,
 * others on the same connection go through, and it finishes when released. */
static void test_slow_call_does_not_block(void **state) {
        vcm_host_ctx ctx = open_ctx("gw1");
        slow_call sc = { .ctx = &ctx };
        atomic_init(&sc.done, false);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, slow_create, &sc), 0);
        const vcm_resource *b;
        vcm_resource_set *bs = bridge("gw1", "vcmbr100", "100", &b);
        vcm_error err = { "" };
        for (int i = 0; i < 5; i++)
                assert_int_equal(routed()->create(&ctx, b, &err), 0);
        vcm_resource_set *o = observe(&ctx);
        assert_non_null(vcm_resource_set_find(o, VCM_KIND_BRIDGE, "gw1", "vcmbr100"));
        vcm_resource_set_free(o);
        /* The slow one is still waiting for its release: the calls above passed it. */
        assert_false(atomic_load(&sc.done));
        assert_false(exists("gw1", "bridge.slowbr"));
        touch("gw1", "release");
        pthread_join(t, NULL);
        assert_int_equal(sc.result, 0);
        assert_true(exists("gw1", "bridge.slowbr"));
        routed()->close(ctx.conn);
        vcm_resource_set_free(bs);
}

/* No reply in time: the agent is killed, every call waiting on it fails with the reason (also
 * the ones that were not reading), and the next open starts a new one. */
static void test_call_timeout(void **state) {
        vcm_host_ctx ctx = open_ctx("gw1");
        int pid = vcm_agent_pid("gw1");
        vcm_agent_set_timeouts(0, 500);
        slow_call sc[3];
        pthread_t t[3];
        for (int i = 0; i < 3; i++) {
                sc[i] = (slow_call){ .ctx = &ctx };
                atomic_init(&sc[i].done, false);
                assert_int_equal(pthread_create(&t[i], NULL, slow_create, &sc[i]), 0);
        }
        for (int i = 0; i < 3; i++) {
                pthread_join(t[i], NULL);
                assert_int_equal(sc[i].result, -ETIMEDOUT);
        }
        vcm_agent_set_timeouts(0, 30 * 60 * 1000);
        vcm_error err = { "" };
        vcm_resource_set *o = vcm_resource_set_new();
        assert_int_equal(routed()->observe(&ctx, o, &err), -ETIMEDOUT);
        assert_string_equal(err.message,
                            "agent on gw1 did not answer 'create' within 500 ms (killed by signal 9)");
        vcm_resource_set_free(o);
        routed()->close(ctx.conn);
        ctx = open_ctx("gw1");
        assert_true(vcm_agent_pid("gw1") != pid);
        routed()->close(ctx.conn);
}

static void touch(const char *host, const char *file) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", af_world, host);
        mkdir(path, 0700);
        snprintf(path, sizeof(path), "%s/%s/%s", af_world, host, file);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fclose(f);
}

/* The agent dies in the middle of a request: that call and every later one on the connection
 * fail naming the host and how it ended; the next open starts a new agent that works. */
static void test_dies_mid_request(void **state) {
        vcm_host_ctx ctx = open_ctx("gw1");
        int pid = vcm_agent_pid("gw1");
        touch("gw1", "die-once");
        const vcm_resource *b;
        vcm_resource_set *bs = bridge("gw1", "vcmbr100", "100", &b);
        vcm_error err = { "" };
        assert_int_equal(routed()->create(&ctx, b, &err), -EPIPE);
        assert_string_equal(err.message, "agent on gw1 exited (exit status 3)");
        err.message[0] = '\0';
        vcm_resource_set *o = vcm_resource_set_new();
        assert_int_equal(routed()->observe(&ctx, o, &err), -EPIPE);
        assert_string_equal(err.message, "agent on gw1 exited (exit status 3)");
        assert_int_equal(vcm_agent_pid("gw1"), 0);
        routed()->close(ctx.conn);

        vcm_host_ctx ctx2 = open_ctx("gw1");
        int pid2 = vcm_agent_pid("gw1");
        assert_true(pid2 > 0 && pid2 != pid);
        assert_int_equal(routed()->create(&ctx2, b, &err), 0);
        routed()->close(ctx2.conn);
        vcm_resource_set_free(o);
        vcm_resource_set_free(bs);
}

/* Killed while idle (between passes): the next open notices and starts a new one. */
static void test_killed_while_idle(void **state) {
        vcm_host_ctx ctx = open_ctx("gw1");
        routed()->close(ctx.conn);
        int pid = vcm_agent_pid("gw1");
        assert_true(pid > 0);
        assert_int_equal(kill(pid, SIGKILL), 0);
        af_wait_dead(pid);
        ctx = open_ctx("gw1");
        assert_true(vcm_agent_pid("gw1") != pid);
        vcm_resource_set *o = observe(&ctx);
        vcm_resource_set_free(o);
        routed()->close(ctx.conn);
}

static void expect_open_error(char **argv, int want, const char *needle) {
        site_init(argv);
        vcm_error err = { "" };
        void *conn = NULL;
        int r = routed()->open(&site, &hosts[0], &conn, &err);
        if (r != want || !strstr(err.message, needle))
                fail_msg("open: %d '%s', want %d '%s'", r, err.message, want, needle);
        assert_null(conn);
        assert_int_equal(vcm_agent_pid("gw1"), 0);
        site_init(agent_argv);
}

static void test_bad_agents(void **state) {
        char *missing[] = { "/nonexistent/vcm", "agent", NULL };
        expect_open_error(missing, -ENOENT, "agent on gw1: cannot run '/nonexistent/vcm': No such file");
        char *dies[] = { "sh", "-c", "echo 'ssh: connect to host gw1 port 22: Connection refused' >&2; exit 255", NULL };
        expect_open_error(dies, -EPIPE,
                          "agent on gw1 exited (exit status 255): ssh: connect to host gw1 port 22: "
                          "Connection refused");
        char *banner[] = { "echo", "Welcome to gw1!", NULL };
        expect_open_error(banner, -EPROTO,
                          "agent on gw1 is not a vcm agent speaking protocol 1: to 'hello' it "
                          "answered 'Welcome to gw1!'");
        char *other_version[] = { "sh", "-c", "read l; echo '{\"v\":1,\"id\":1,\"ok\":true,\"result\":{\"protocol\":2}}'; sleep 5", NULL };
        expect_open_error(other_version, -EPROTONOSUPPORT,
                          "agent on gw1 speaks protocol 2, this vcm 1");
        vcm_agent_set_timeouts(300, 0);
        char *silent[] = { "sleep", "30", NULL };
        expect_open_error(silent, -ETIMEDOUT,
                          "agent on gw1 did not answer 'hello' within 300 ms (killed by signal 9)");
        vcm_agent_set_timeouts(60000, 0);
        /* And a working agent afterwards. */
        vcm_host_ctx ctx = open_ctx("gw1");
        routed()->close(ctx.conn);
}

/* A change of the agent command in site.yaml takes effect at the next open. */
static void test_argv_change_respawns(void **state) {
        vcm_host_ctx ctx = open_ctx("gw1");
        int pid = vcm_agent_pid("gw1");
        routed()->close(ctx.conn);
        char *other[] = { self_exe, "--agent", "--same-but-different", NULL };
        site_init(other);
        ctx = open_ctx("gw1");
        assert_true(vcm_agent_pid("gw1") != pid);
        routed()->close(ctx.conn);
        site_init(agent_argv);
}

int main(int argc, char **argv) {
        int agent = af_agent_main(argc, argv, self_exe, sizeof(self_exe));
        if (agent >= 0)
                return agent;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_route_is_stable),
                cmocka_unit_test_setup_teardown(test_round_trip, setup, af_world_remove),
                cmocka_unit_test_setup_teardown(test_stdout_is_protocol_only, setup, af_world_remove),
                cmocka_unit_test_setup_teardown(test_in_process, setup, af_world_remove),
                cmocka_unit_test_setup_teardown(test_concurrent_calls, setup, af_world_remove),
                cmocka_unit_test_setup_teardown(test_slow_call_does_not_block, setup, af_world_remove),
                cmocka_unit_test_setup_teardown(test_call_timeout, setup, af_world_remove),
                cmocka_unit_test_setup_teardown(test_dies_mid_request, setup, af_world_remove),
                cmocka_unit_test_setup_teardown(test_killed_while_idle, setup, af_world_remove),
                cmocka_unit_test_setup_teardown(test_bad_agents, setup, af_world_remove),
                cmocka_unit_test_setup_teardown(test_argv_change_respawns, setup, af_world_remove),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
