/* A host-side fake provider for the agent tests, kept in files so that an agent process and the
 * test see one world, and a respawned agent finds what the dead one made:
 * $VCM_AGENT_FAKE_DIR/<host>/<kind>.<name> holds {"cluster", "hash", "props"}.
 *
 * Injected faults, by resource:
 *   name starting with "fail"    create fails with -EIO and a message naming host and resource
 *   name starting with "slow"    create waits until $DIR/<host>/release exists (at most 2 min)
 *   name starting with "noisy"   create prints to stdout, and so does a command it runs, and
 *                                reads stdin (what the agent must keep out of the protocol)
 *   file $DIR/<host>/die-once    the next create on that host removes it and _exit(3)s the
 *                                process (an agent dying in the middle of a request)
 * Header-only because each tests/unit test is one .c file. */
#ifndef VCM_TEST_AGENT_FAKE_H
#define VCM_TEST_AGENT_FAKE_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "providers/agent/agent.h"
#include "providers/provider.h"

#define AF_UNUSED __attribute__((unused))

static atomic_long af_local_calls; /* calls served in this process */

typedef struct af_conn {
        char dir[512]; /* $VCM_AGENT_FAKE_DIR/<host> */
        char host[128];
} af_conn;

static int af_open(const vcm_site *site, const vcm_host *host, void **ret_conn, vcm_error *err) {
        const char *base = getenv("VCM_AGENT_FAKE_DIR");
        if (!base) {
                vcm_error_set(err, "%s: VCM_AGENT_FAKE_DIR is not set", host->name);
                return -EINVAL;
        }
        atomic_fetch_add(&af_local_calls, 1);
        af_conn *c = calloc(1, sizeof(*c));
        snprintf(c->dir, sizeof(c->dir), "%s/%s", base, host->name);
        snprintf(c->host, sizeof(c->host), "%s", host->name);
        mkdir(c->dir, 0700);
        *ret_conn = c;
        return 0;
}

static void af_close(void *conn) {
        free(conn);
}

static void af_path(const af_conn *c, const vcm_resource *r, char *buf, size_t len) {
        snprintf(buf, len, "%s/%s.%s", c->dir, vcm_kind_name(r->kind), r->name);
}

static int af_observe(vcm_host_ctx *ctx, vcm_resource_set *out, vcm_error *err) {
        af_conn *c = ctx->conn;
        atomic_fetch_add(&af_local_calls, 1);
        DIR *d = opendir(c->dir);
        if (!d) {
                vcm_error_set(err, "%s: cannot list %s: %m", c->host, c->dir);
                return -errno;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
                char *dot = strchr(e->d_name, '.');
                if (e->d_name[0] == '.' || !dot)
                        continue;
                char kind_s[64];
                snprintf(kind_s, sizeof(kind_s), "%.*s", (int)(dot - e->d_name), e->d_name);
                vcm_kind kind;
                if (vcm_kind_from_name(kind_s, &kind) < 0)
                        continue;
                char path[1024];
                snprintf(path, sizeof(path), "%s/%s", c->dir, e->d_name);
                json_t *j = json_load_file(path, 0, NULL);
                if (!j)
                        continue;
                vcm_resource *r = vcm_resource_set_put(out, kind, c->host, dot + 1,
                                                       json_string_value(json_object_get(j, "cluster")));
                const char *k;
                json_t *v;
                json_object_foreach(json_object_get(j, "props"), k, v)
                        vcm_resource_set_prop(r, k, json_string_value(v));
                r->hash = strtoull(json_string_value(json_object_get(j, "hash")), NULL, 16);
                json_decref(j);
        }
        closedir(d);
        return 0;
}

static int af_store(af_conn *c, const vcm_resource *r, vcm_error *err) {
        json_t *props = json_object();
        for (size_t i = 0; i < r->n_props; i++)
                json_object_set_new(props, r->props[i].key, json_string(r->props[i].value));
        char hash[17];
        snprintf(hash, sizeof(hash), "%016" PRIx64, r->hash);
        json_t *j = json_pack("{s:s,s:s,s:o}", "cluster", r->cluster, "hash", hash, "props", props);
        char path[1024], tmp[1100];
        af_path(c, r, path, sizeof(path));
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        int rc = json_dump_file(j, tmp, 0);
        json_decref(j);
        if (rc < 0 || rename(tmp, path) < 0) {
                vcm_error_set(err, "%s: cannot write %s", c->host, path);
                return -EIO;
        }
        return 0;
}

static int af_create(vcm_host_ctx *ctx, const vcm_resource *d, vcm_error *err) {
        af_conn *c = ctx->conn;
        atomic_fetch_add(&af_local_calls, 1);
        char die[600];
        snprintf(die, sizeof(die), "%s/die-once", c->dir);
        if (unlink(die) == 0)
                _exit(3);
        if (strncmp(d->name, "slow", 4) == 0) {
                char release[600];
                snprintf(release, sizeof(release), "%s/release", c->dir);
                for (int i = 0; i < 12000 && access(release, F_OK) != 0; i++)
                        usleep(10000);
        }
        if (strncmp(d->name, "noisy", 5) == 0) {
                char buf[64];
                printf("noise from the provider\n");
                fflush(stdout);
                if (system("echo noise from a command; cat >/dev/null") != 0 ||
                    read(STDIN_FILENO, buf, sizeof(buf)) != 0) {
                        vcm_error_set(err, "%s: stdin is not empty", c->host);
                        return -EIO;
                }
        }
        if (strncmp(d->name, "fail", 4) == 0) {
                vcm_error_set(err, "%s: create %s %s: injected failure", c->host,
                              vcm_kind_name(d->kind), d->name);
                return -EIO;
        }
        return af_store(c, d, err);
}

static int af_update(vcm_host_ctx *ctx, const vcm_resource *d, const vcm_resource *o,
                     vcm_error *err) {
        af_conn *c = ctx->conn;
        atomic_fetch_add(&af_local_calls, 1);
        if (!o || strcmp(o->name, d->name) != 0) {
                vcm_error_set(err, "%s: update %s without its observed resource", c->host, d->name);
                return -EINVAL;
        }
        return af_store(c, d, err);
}

static int af_delete(vcm_host_ctx *ctx, const vcm_resource *o, vcm_error *err) {
        af_conn *c = ctx->conn;
        atomic_fetch_add(&af_local_calls, 1);
        char path[1024];
        af_path(c, o, path, sizeof(path));
        if (unlink(path) < 0 && errno != ENOENT) {
                vcm_error_set(err, "%s: delete %s: %m", c->host, o->name);
                return -errno;
        }
        return 0;
}

static vcm_change af_classify(vcm_kind kind, const char *key, const char *old_value,
                              const char *new_value, const char **ret_reason) {
        return VCM_CHANGE_LIVE;
}

static const vcm_provider af_provider = {
        .name = "fakefs",
        .kinds = (1u << VCM_KIND_VLAN_LINK) | (1u << VCM_KIND_BRIDGE),
        .open = af_open,
        .close = af_close,
        .observe = af_observe,
        .create = af_create,
        .update = af_update,
        .delete = af_delete,
        .classify = af_classify,
};

/* The fake's files for a test group: made by the group setup, removed by its teardown (which
 * cmocka runs after a failure too), after stopping the agents that may still use them. */
static char af_world[64];

static AF_UNUSED int af_world_make(void **state) {
        snprintf(af_world, sizeof(af_world), "/tmp/vcm-agent-test-XXXXXX");
        if (!mkdtemp(af_world))
                return -1;
        setenv("VCM_AGENT_FAKE_DIR", af_world, 1);
        return 0;
}

static AF_UNUSED int af_world_remove(void **state) {
        vcm_agent_shutdown_all();
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", af_world);
        return system(cmd) == 0 ? 0 : -1;
}

/* The agent mode of a test program (`PROGRAM --agent`): what `vcm agent` does, serving the fake.
 * Returns -1 when argv does not ask for it, after putting the program's path in self_exe (the
 * agent command the tests give their hosts). */
static AF_UNUSED int af_agent_main(int argc, char **argv, char *self_exe, size_t len) {
        if (argc < 2 || strcmp(argv[1], "--agent") != 0) {
                ssize_t n = readlink("/proc/self/exe", self_exe, len - 1);
                if (n <= 0)
                        abort();
                self_exe[n] = '\0';
                return -1;
        }
        vcm_agent_register(&af_provider);
        return vcm_agent_serve_stdio() == 0 ? 0 : 1;
}

/* Wait until a killed child has exited as a whole (all its threads: only then are its files,
 * and so its socket, closed), leaving it to be reaped by whoever spawned it. */
static AF_UNUSED void af_wait_dead(int pid) {
        for (int i = 0; i < 1000; i++) {
                siginfo_t info = { 0 };
                if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0 ||
                    info.si_pid == pid)
                        return;
                usleep(10000);
        }
}

#endif
