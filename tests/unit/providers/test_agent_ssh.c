/* The agent over ssh, the way a site reaches it (`agent: [ssh, root@host, vcm, agent]`): a
 * private sshd on 127.0.0.1 (its own host key, config and authorized key in a temporary
 * directory; nothing of the machine's ssh setup is read or changed) and the routed fake provider
 * for a host whose agent command is ssh running this program with --agent. Shows that ssh carries
 * the protocol (our socket as its stdin and stdout), that an ssh failure reaches the error with
 * ssh's own message, and that a remote agent killed mid-request is a clean error, then respawned.
 * Skips when ssh or sshd is missing. */
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

static char self_exe[4096];
static char dir[64];
static pid_t sshd_pid;
static int port;
static char env_arg[256], key_arg[256], port_arg[16];
static bool available;

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...) {
        char *cmd;
        va_list ap;
        va_start(ap, fmt);
        assert_true(vasprintf(&cmd, fmt, ap) >= 0);
        va_end(ap);
        if (system(cmd) != 0)
                fail_msg("failed: %s", cmd);
        free(cmd);
}

/* sshd in the foreground on 127.0.0.1:port; returns once it accepts connections. */
static int start_sshd(void **state) {
        if (access("/usr/sbin/sshd", X_OK) != 0 || access("/usr/bin/ssh", X_OK) != 0 ||
            access("/run/sshd", F_OK) != 0) {
                print_message("no ssh, sshd or /run/sshd here: skipping\n");
                return 0;
        }
        available = true;
        snprintf(dir, sizeof(dir), "/tmp/vcm-agent-ssh-XXXXXX");
        assert_non_null(mkdtemp(dir));
        run("ssh-keygen -q -t ed25519 -N '' -f %s/host_key && ssh-keygen -q -t ed25519 -N '' -f %s/id "
            "&& cp %s/id.pub %s/authorized_keys && mkdir %s/world",
            dir, dir, dir, dir, dir);
        port = 20000 + getpid() % 20000;
        char cfg[256];
        snprintf(cfg, sizeof(cfg), "%s/sshd_config", dir);
        FILE *f = fopen(cfg, "w");
        assert_non_null(f);
        fprintf(f, "ListenAddress 127.0.0.1\nPort %d\nHostKey %s/host_key\n"
                   "AuthorizedKeysFile %s/authorized_keys\nPermitRootLogin prohibit-password\n"
                   "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
                   "StrictModes no\nPidFile none\nLogLevel ERROR\n",
                port, dir, dir);
        fclose(f);
        sshd_pid = fork();
        assert_true(sshd_pid >= 0);
        if (sshd_pid == 0) {
                execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", cfg, (char *)NULL);
                _exit(127);
        }
        snprintf(key_arg, sizeof(key_arg), "%s/id", dir);
        snprintf(port_arg, sizeof(port_arg), "%d", port);
        snprintf(env_arg, sizeof(env_arg), "VCM_AGENT_FAKE_DIR=%s/world", dir);
        setenv("VCM_AGENT_FAKE_DIR", env_arg + strlen("VCM_AGENT_FAKE_DIR="), 1);
        /* Ready when a command goes through (sshd needs a moment to listen). */
        char probe[512];
        snprintf(probe, sizeof(probe),
                 "ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                 "-i %s -p %d root@127.0.0.1 true",
                 key_arg, port);
        for (int i = 0; i < 200; i++) {
                if (system(probe) == 0)
                        return 0;
                if (waitpid(sshd_pid, NULL, WNOHANG) == sshd_pid)
                        fail_msg("sshd exited (port %d taken?)", port);
                usleep(50000);
        }
        fail_msg("sshd on port %d does not answer", port);
        return 0;
}

static int stop_sshd(void **state) {
        if (!available)
                return 0;
        vcm_agent_shutdown_all();
        if (sshd_pid > 0) {
                kill(sshd_pid, SIGTERM);
                waitpid(sshd_pid, NULL, 0);
        }
        run("rm -rf %s", dir);
        return 0;
}

static vcm_host host;
static vcm_site site;

static void site_set(char **argv) {
        size_t n = 0;
        while (argv[n])
                n++;
        host = (vcm_host){ .name = "gw1", .roles = VCM_ROLE_VM_SERVER, .agent = argv, .n_agent = n };
        site = (vcm_site){ .name = "lab", .hosts = &host, .n_hosts = 1 };
}

static void test_over_ssh(void **state) {
        if (!available)
                skip();
        char *argv[] = { "ssh", "-q", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                         "-o", "UserKnownHostsFile=/dev/null", "-i", key_arg, "-p", port_arg,
                         "root@127.0.0.1", "env", env_arg, self_exe, "--agent", NULL };
        site_set(argv);
        const vcm_provider *p = vcm_agent_route(&af_provider);
        vcm_error err = { "" };
        void *conn = NULL;
        if (p->open(&site, &host, &conn, &err) < 0)
                fail_msg("open over ssh: %s", err.message);
        vcm_host_ctx ctx = { .site = &site, .host = &host, .conn = conn };
        vcm_resource_set *s = vcm_resource_set_new();
        vcm_resource *b = vcm_resource_set_put(s, VCM_KIND_BRIDGE, "gw1", "vcmbr100", "alpha");
        vcm_resource_set_prop(b, "netid", "100");
        vcm_resource_rehash(b);
        assert_int_equal(p->create(&ctx, b, &err), 0);
        vcm_resource_set *o = vcm_resource_set_new();
        assert_int_equal(p->observe(&ctx, o, &err), 0);
        const vcm_resource *x = vcm_resource_set_find(o, VCM_KIND_BRIDGE, "gw1", "vcmbr100");
        assert_non_null(x);
        assert_true(x->hash == b->hash);
        vcm_resource_set_free(o);

        /* The remote agent dies mid-request: ssh ends, the error names the host. */
        run("touch %s/world/gw1/die-once", dir);
        vcm_resource *b2 = vcm_resource_set_put(s, VCM_KIND_BRIDGE, "gw1", "vcmbr101", "alpha");
        vcm_resource_rehash(b2);
        assert_int_equal(p->create(&ctx, b2, &err), -EPIPE);
        if (!strstr(err.message, "agent on gw1 exited (exit status 3)"))
                fail_msg("death over ssh: %s", err.message);
        p->close(conn);
        /* Respawned through ssh at the next open. */
        assert_int_equal(p->open(&site, &host, &conn, &err), 0);
        ctx.conn = conn;
        assert_int_equal(p->create(&ctx, b2, &err), 0);
        p->close(conn);
        vcm_resource_set_free(s);
}

/* ssh itself fails (nothing listens on that port): ssh's message is the cause. */
static void test_ssh_refused(void **state) {
        if (!available)
                skip();
        char bad_port[16];
        snprintf(bad_port, sizeof(bad_port), "%d", port + 1);
        char *argv[] = { "ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                         "-o", "UserKnownHostsFile=/dev/null", "-i", key_arg, "-p", bad_port,
                         "root@127.0.0.1", self_exe, "--agent", NULL };
        site_set(argv);
        vcm_error err = { "" };
        void *conn = NULL;
        int r = vcm_agent_route(&af_provider)->open(&site, &host, &conn, &err);
        assert_int_equal(r, -EPIPE);
        if (!strstr(err.message, "agent on gw1 exited (exit status 255): ssh: connect to host "
                                 "127.0.0.1 port") ||
            !strstr(err.message, "Connection refused"))
                fail_msg("ssh failure: %s", err.message);
}

int main(int argc, char **argv) {
        int agent = af_agent_main(argc, argv, self_exe, sizeof(self_exe));
        if (agent >= 0)
                return agent;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_over_ssh),
                cmocka_unit_test(test_ssh_refused),
        };
        return cmocka_run_group_tests(tests, start_sshd, stop_sshd);
}
