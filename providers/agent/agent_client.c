/* The client's agent processes: one per host, spawned on first use with the host's `agent:` argv,
 * greeted (versions checked), kept for the life of this process and shared by every connection to
 * that host. A dead agent (end of output, broken pipe, no reply in time, garbage on its stdout) is
 * reaped and every later call on it fails naming the host; the next open spawns a new one. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "providers/agent/agent_internal.h"
#include "reconciler/util.h"

extern char **environ;

#define ERR_TAIL 1024 /* bytes of the agent's stderr kept for error messages */

struct agent_proc {
        atomic_int refs;
        pthread_mutex_t lock; /* one request, one reply: calls are serialized */
        char *host;
        char **argv; /* NULL-terminated copy of the host's agent argv */
        pid_t pid;
        int fd;      /* our end of a socketpair: the agent's stdin and stdout */
        int err_fd;  /* read end of the agent's stderr (non-blocking) */
        agent_reader rd;
        char err_tail[ERR_TAIL];
        size_t err_len;
        atomic_bool dead;
        char dead_reason[1024]; /* written once, under lock, before dead is set */
        json_int_t next_id;
};

static atomic_int hello_timeout_ms = 60 * 1000;
static atomic_int call_timeout_ms = 30 * 60 * 1000;

void vcm_agent_set_timeouts(int hello_ms, int call_ms) {
        if (hello_ms > 0)
                atomic_store(&hello_timeout_ms, hello_ms);
        if (call_ms > 0)
                atomic_store(&call_timeout_ms, call_ms);
}

const char *agent_proc_host(const agent_proc *a) {
        return a->host;
}

/* ---- the agent's stderr ---------------------------------------------------------------------- */

static void drain_stderr(agent_proc *a) {
        char buf[4096];
        for (;;) {
                ssize_t n = read(a->err_fd, buf, sizeof(buf));
                if (n <= 0)
                        return;
                /* Keep the last ERR_TAIL bytes. */
                size_t k = (size_t)n;
                if (k >= ERR_TAIL) {
                        memcpy(a->err_tail, buf + k - ERR_TAIL, ERR_TAIL);
                        a->err_len = ERR_TAIL;
                } else {
                        if (a->err_len + k > ERR_TAIL) {
                                size_t drop = a->err_len + k - ERR_TAIL;
                                memmove(a->err_tail, a->err_tail + drop, a->err_len - drop);
                                a->err_len -= drop;
                        }
                        memcpy(a->err_tail + a->err_len, buf, k);
                        a->err_len += k;
                }
        }
}

/* The last non-empty line the agent wrote on stderr, printable; "" when none. */
static void last_stderr_line(const agent_proc *a, char *out, size_t len) {
        size_t end = a->err_len;
        while (end > 0 && (a->err_tail[end - 1] == '\n' || a->err_tail[end - 1] == '\r' ||
                           a->err_tail[end - 1] == ' '))
                end--;
        size_t start = end;
        while (start > 0 && a->err_tail[start - 1] != '\n')
                start--;
        size_t n = end - start < len - 1 ? end - start : len - 1;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)a->err_tail[start + i];
                out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        out[n] = '\0';
}

/* ---- life and death -------------------------------------------------------------------------- */

/* Wait for the agent to exit, up to grace_ms, then kill it. Returns the wait status, or -1. */
static int reap(agent_proc *a, int grace_ms) {
        if (a->pid <= 0)
                return -1;
        int status = 0;
        for (int waited = 0;; waited += 10) {
                pid_t r = waitpid(a->pid, &status, WNOHANG);
                if (r == a->pid)
                        break;
                if (r < 0) {
                        status = -1;
                        break;
                }
                if (waited >= grace_ms) {
                        kill(a->pid, SIGKILL);
                        if (waitpid(a->pid, &status, 0) != a->pid)
                                status = -1;
                        break;
                }
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        a->pid = 0;
        return status;
}

/* Mark the agent dead (caller holds a->lock): reap it and remember why, with its exit status and
 * the last line of its stderr, for this and every later call. */
static void mark_dead(agent_proc *a, bool kill_now, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void mark_dead(agent_proc *a, bool kill_now, const char *fmt, ...) {
        if (atomic_load(&a->dead))
                return;
        char what[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (kill_now && a->pid > 0)
                kill(a->pid, SIGKILL);
        if (a->fd >= 0)
                shutdown(a->fd, SHUT_RDWR);
        int status = reap(a, 2000);
        drain_stderr(a);
        char how[64] = "";
        if (status != -1 && WIFEXITED(status))
                snprintf(how, sizeof(how), " (exit status %d)", WEXITSTATUS(status));
        else if (status != -1 && WIFSIGNALED(status))
                snprintf(how, sizeof(how), " (killed by signal %d)", WTERMSIG(status));
        char line[256];
        last_stderr_line(a, line, sizeof(line));
        snprintf(a->dead_reason, sizeof(a->dead_reason), "agent on %s %s%s%s%s", a->host, what, how,
                 line[0] ? ": " : "", line);
        atomic_store(&a->dead, true);
}

static void proc_free(agent_proc *a) {
        if (a->fd >= 0) {
                /* End of input tells a live agent to close its sessions and exit. */
                shutdown(a->fd, SHUT_WR);
                reap(a, 5000);
                close(a->fd);
        }
        if (a->err_fd >= 0)
                close(a->err_fd);
        agent_reader_done(&a->rd);
        strv_free(a->argv);
        free(a->host);
        pthread_mutex_destroy(&a->lock);
        free(a);
}

void agent_proc_unref(agent_proc *a) {
        if (a && atomic_fetch_sub(&a->refs, 1) == 1)
                proc_free(a);
}

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read one reply line before the deadline (caller holds a->lock). 1 with a line, or a negative
 * errno with the agent marked dead. */
static int read_reply_line(agent_proc *a, const char *op, int timeout_ms, char **ret_line,
                           size_t *ret_len) {
        int64_t deadline = now_ms() + timeout_ms;
        for (;;) {
                int r = agent_reader_next(&a->rd, ret_line, ret_len);
                if (r == 1)
                        return 1;
                if (r == -E2BIG) {
                        mark_dead(a, true, "sent a reply longer than %u bytes (killed)",
                                  VCM_AGENT_LINE_MAX);
                        return -EBADMSG;
                }
                int64_t left = deadline - now_ms();
                if (left <= 0) {
                        mark_dead(a, true, "did not answer '%s' within %d ms (killed)", op,
                                  timeout_ms);
                        return -ETIMEDOUT;
                }
                struct pollfd pfd[2] = { { .fd = a->fd, .events = POLLIN },
                                         { .fd = a->err_fd, .events = POLLIN } };
                int n = poll(pfd, 2, left > 60000 ? 60000 : (int)left);
                if (n < 0 && errno != EINTR) {
                        mark_dead(a, true, "cannot be read: %s", strerror(errno));
                        return -EIO;
                }
                if (pfd[1].revents)
                        drain_stderr(a);
                if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                r = agent_reader_fill(&a->rd);
                if (r == 0) {
                        mark_dead(a, false, "exited");
                        return -EPIPE;
                }
                if (r < 0 && r != -EINTR && r != -EAGAIN) {
                        mark_dead(a, true, "cannot be read: %s", strerror(-r));
                        return r;
                }
        }
}

/* An idle agent has nothing to say: input or a hang-up now means it died (killed, its ssh
 * dropped) or broke the protocol. Checked before reuse so that the next open respawns it instead
 * of failing once. Caller holds a->lock. */
static void check_idle(agent_proc *a) {
        if (atomic_load(&a->dead))
                return;
        struct pollfd pfd = { .fd = a->fd, .events = POLLIN };
        if (poll(&pfd, 1, 0) <= 0)
                return;
        if (pfd.revents & (POLLHUP | POLLERR)) {
                mark_dead(a, false, "exited");
                return;
        }
        int r = agent_reader_fill(&a->rd);
        if (r == 0)
                mark_dead(a, false, "exited");
        else if (r > 0)
                mark_dead(a, true, "wrote while idle (killed)");
}

static int call_locked(agent_proc *a, const char *op, json_t *args, int timeout_ms,
                       json_t **ret_result, vcm_error *err) {
        if (atomic_load(&a->dead)) {
                json_decref(args);
                vcm_error_set(err, "%s", a->dead_reason);
                return -EPIPE;
        }
        json_int_t id = ++a->next_id;
        json_t *req = args ? args : json_object();
        json_object_set_new(req, "v", json_integer(VCM_AGENT_PROTOCOL));
        json_object_set_new(req, "id", json_integer(id));
        json_object_set_new(req, "op", json_string(op));
        int r = agent_write_msg(a->fd, req);
        json_decref(req);
        if (r < 0) {
                mark_dead(a, true, "exited");
                vcm_error_set(err, "%s", a->dead_reason);
                return r;
        }
        char *line;
        size_t len;
        r = read_reply_line(a, op, timeout_ms, &line, &len);
        if (r < 0) {
                vcm_error_set(err, "%s", a->dead_reason);
                return r;
        }
        json_error_t jerr;
        json_t *rep = json_loadb(line, len, 0, &jerr);
        const json_t *rid = json_object_get(rep, "id");
        if (!json_is_object(rep) || !json_is_integer(rid) || json_integer_value(rid) != id ||
            json_integer_value(json_object_get(rep, "v")) != VCM_AGENT_PROTOCOL ||
            !json_is_boolean(json_object_get(rep, "ok"))) {
                /* Not our protocol (a login banner, another program, a mismatched reply): the
                 * stream cannot be trusted any more. */
                char seen[81];
                size_t n = len < sizeof(seen) - 1 ? len : sizeof(seen) - 1;
                for (size_t i = 0; i < n; i++)
                        seen[i] = (unsigned char)line[i] >= 0x20 && (unsigned char)line[i] < 0x7f
                                          ? line[i]
                                          : '?';
                seen[n] = '\0';
                json_decref(rep);
                mark_dead(a, true, "is not a vcm agent speaking protocol %d: to '%s' it answered '%s'",
                          VCM_AGENT_PROTOCOL, op, seen);
                vcm_error_set(err, "%s", a->dead_reason);
                return -EPROTO;
        }
        if (json_is_true(json_object_get(rep, "ok"))) {
                if (ret_result) {
                        json_t *res = json_object_get(rep, "result");
                        *ret_result = res ? json_incref(res) : NULL;
                }
                json_decref(rep);
                return 0;
        }
        /* The agent's own error: it carries the host, the provider and the cause already. */
        const json_t *e = json_object_get(rep, "error");
        json_int_t errnum = json_integer_value(json_object_get(e, "errno"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (errnum <= 0 || errnum > 4095)
                errnum = EIO;
        if (msg)
                vcm_error_set(err, "%s", msg);
        else
                vcm_error_set(err, "agent on %s: %s failed: %s", a->host, op, strerror((int)errnum));
        json_decref(rep);
        return -(int)errnum;
}

int agent_proc_call(agent_proc *a, const char *op, json_t *args, json_t **ret_result,
                    vcm_error *err) {
        pthread_mutex_lock(&a->lock);
        int r = call_locked(a, op, args, atomic_load(&call_timeout_ms), ret_result, err);
        pthread_mutex_unlock(&a->lock);
        return r;
}

/* Start the agent and greet it: versions must match before anything else is sent. */
static int proc_spawn(const vcm_host *host, agent_proc **ret, vcm_error *err) {
        if (!host->agent || host->n_agent == 0 || !host->agent[0] || !host->agent[0][0]) {
                vcm_error_set(err, "host %s: 'agent' is empty", host->name);
                return -EINVAL;
        }
        int sv[2], ep[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                int r = -errno;
                vcm_error_set(err, "agent on %s: socketpair: %s", host->name, strerror(errno));
                return r;
        }
        if (pipe2(ep, O_CLOEXEC) < 0) {
                int r = -errno;
                vcm_error_set(err, "agent on %s: pipe: %s", host->name, strerror(errno));
                close(sv[0]);
                close(sv[1]);
                return r;
        }
        agent_proc *a = xcalloc(1, sizeof(*a));
        atomic_init(&a->refs, 1);
        atomic_init(&a->dead, false);
        pthread_mutex_init(&a->lock, NULL);
        a->host = xstrdup(host->name);
        a->argv = xcalloc(host->n_agent + 1, sizeof(char *));
        for (size_t i = 0; i < host->n_agent; i++)
                a->argv[i] = xstrdup(host->agent[i]);
        a->fd = sv[0];
        a->err_fd = ep[0];
        agent_reader_init(&a->rd, a->fd, VCM_AGENT_LINE_MAX);
        fcntl(a->err_fd, F_SETFL, fcntl(a->err_fd, F_GETFL) | O_NONBLOCK);

        /* posix_spawn, not fork: this process has threads (the worker pool, libvirt's). The child
         * gets the socket as stdin and stdout, the pipe as stderr, default signals. */
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, sv[1], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&fa, sv[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, ep[1], STDERR_FILENO);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        sigset_t none, def;
        sigemptyset(&none);
        sigemptyset(&def);
        sigaddset(&def, SIGPIPE);
        sigaddset(&def, SIGINT);
        sigaddset(&def, SIGTERM);
        sigaddset(&def, SIGCHLD);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &def);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        int r = posix_spawnp(&a->pid, a->argv[0], &fa, &attr, a->argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close(sv[1]);
        close(ep[1]);
        if (r != 0) {
                vcm_error_set(err, "agent on %s: cannot run '%s': %s", host->name, a->argv[0],
                              strerror(r));
                a->pid = 0;
                agent_proc_unref(a);
                return -r;
        }

        json_t *result = NULL;
        pthread_mutex_lock(&a->lock);
        r = call_locked(a, "hello", json_pack("{s:o}", "host", agent_json_str(host->name)),
                        atomic_load(&hello_timeout_ms), &result, err);
        if (r == 0) {
                json_int_t proto = json_integer_value(json_object_get(result, "protocol"));
                if (proto != VCM_AGENT_PROTOCOL) {
                        mark_dead(a, true, "speaks protocol %lld, this vcm %d: install the same vcm "
                                  "on both ends", (long long)proto, VCM_AGENT_PROTOCOL);
                        vcm_error_set(err, "%s", a->dead_reason);
                        r = -EPROTONOSUPPORT;
                }
        }
        pthread_mutex_unlock(&a->lock);
        json_decref(result);
        if (r < 0) {
                agent_proc_unref(a);
                return r;
        }
        *ret = a;
        return 0;
}

/* ---- the process-wide registry, by host name ------------------------------------------------- */

typedef struct host_entry {
        char *name;
        pthread_mutex_t lock; /* held while spawning, so one host gets one agent */
        agent_proc *current;
} host_entry;

static pthread_mutex_t hosts_lock = PTHREAD_MUTEX_INITIALIZER;
static host_entry **hosts;
static size_t n_hosts;

static host_entry *entry_get(const char *name, bool create) {
        host_entry *e = NULL;
        pthread_mutex_lock(&hosts_lock);
        for (size_t i = 0; i < n_hosts && !e; i++)
                if (strcmp(hosts[i]->name, name) == 0)
                        e = hosts[i];
        if (!e && create) {
                e = xcalloc(1, sizeof(*e));
                e->name = xstrdup(name);
                pthread_mutex_init(&e->lock, NULL);
                hosts = xrealloc(hosts, (n_hosts + 1) * sizeof(*hosts));
                hosts[n_hosts++] = e;
        }
        pthread_mutex_unlock(&hosts_lock);
        return e;
}

static bool same_argv(char **a, const vcm_host *h) {
        for (size_t i = 0; i < h->n_agent; i++)
                if (!a[i] || strcmp(a[i], h->agent[i]) != 0)
                        return false;
        return a[h->n_agent] == NULL;
}

int agent_proc_get(const vcm_host *host, agent_proc **ret, vcm_error *err) {
        host_entry *e = entry_get(host->name, true);
        pthread_mutex_lock(&e->lock);
        agent_proc *a = e->current;
        if (a) {
                pthread_mutex_lock(&a->lock);
                check_idle(a);
                pthread_mutex_unlock(&a->lock);
        }
        if (a && (atomic_load(&a->dead) || !same_argv(a->argv, host))) {
                /* Died, or the site now reaches the host another way: start afresh. */
                e->current = NULL;
                agent_proc_unref(a);
                a = NULL;
        }
        int r = 0;
        if (!a) {
                r = proc_spawn(host, &a, err);
                if (r == 0)
                        e->current = a;
        }
        if (r == 0)
                atomic_fetch_add(&a->refs, 1);
        pthread_mutex_unlock(&e->lock);
        if (r < 0)
                return r;
        *ret = a;
        return 0;
}

int vcm_agent_pid(const char *host_name) {
        host_entry *e = entry_get(host_name, false);
        if (!e)
                return 0;
        pthread_mutex_lock(&e->lock);
        int pid = e->current && !atomic_load(&e->current->dead) ? e->current->pid : 0;
        pthread_mutex_unlock(&e->lock);
        return pid;
}

void vcm_agent_shutdown_all(void) {
        pthread_mutex_lock(&hosts_lock);
        host_entry **list = hosts;
        size_t n = n_hosts;
        hosts = NULL;
        n_hosts = 0;
        pthread_mutex_unlock(&hosts_lock);
        for (size_t i = 0; i < n; i++) {
                host_entry *e = list[i];
                agent_proc_unref(e->current);
                pthread_mutex_destroy(&e->lock);
                free(e->name);
                free(e);
        }
        free(list);
}
