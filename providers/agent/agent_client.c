/* The client's agent processes: spawned with the host's `agent:` argv, greeted (versions
 * checked), shared by every connection to that host (agent_hosts.c keeps one per host). A dead agent (end of output, broken pipe, no reply in time, garbage on its stdout) is
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

/* A call waiting for its reply. */
typedef struct pending {
        json_int_t id;
        json_t *reply; /* set by whoever read it */
        struct pending *next;
} pending;

struct agent_proc {
        atomic_int refs;
        /* Requests are multiplexed by id: any number of calls may be in flight, replies come in
         * any order. One caller at a time is the reader: it reads a line, hands the reply to the
         * call with that id, and lets the next waiting caller take over. `lock` guards the
         * pending list, the reader role, the ids and death; the reader itself reads without it. */
        pthread_mutex_t lock;
        pthread_cond_t changed;   /* a reply arrived, the reader role is free, or death */
        pthread_mutex_t write_lock; /* one request line at a time */
        pending *pending;
        bool reader_active;
        char *abort_reason;       /* a waiter timed out while another caller was reading */
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
        int dead_errno;         /* what calls on a dead agent return: EPIPE, ETIMEDOUT, EPROTO */
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
static void mark_dead(agent_proc *a, bool kill_now, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void mark_dead(agent_proc *a, bool kill_now, int errnum, const char *fmt, ...) {
        if (atomic_load(&a->dead))
                return;
        a->dead_errno = errnum;
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
        pthread_cond_broadcast(&a->changed); /* every waiting call fails now */
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
        free(a->abort_reason);
        pthread_mutex_destroy(&a->lock);
        pthread_mutex_destroy(&a->write_lock);
        pthread_cond_destroy(&a->changed);
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

/* Read one line before the deadline, without the lock (caller holds the reader role).
 * 1 with a line; -ETIMEDOUT, -EPIPE (the agent's end is closed), -EBADMSG (line too long) or
 * another -errno; the caller marks the agent dead. */
static int read_line(agent_proc *a, int64_t deadline, char **ret_line, size_t *ret_len) {
        for (;;) {
                int r = agent_reader_next(&a->rd, ret_line, ret_len);
                if (r == 1)
                        return 1;
                if (r == -E2BIG)
                        return -EBADMSG;
                int64_t left = deadline - now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                struct pollfd pfd[2] = { { .fd = a->fd, .events = POLLIN },
                                         { .fd = a->err_fd, .events = POLLIN } };
                int n = poll(pfd, 2, left > 60000 ? 60000 : (int)left);
                if (n < 0 && errno != EINTR)
                        return -errno;
                if (n <= 0)
                        continue;
                if (pfd[1].revents)
                        drain_stderr(a);
                if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                r = agent_reader_fill(&a->rd);
                /* A peer that exits with our request unread resets the socket: also an exit. */
                if (r == 0 || r == -ECONNRESET)
                        return -EPIPE;
                if (r < 0 && r != -EINTR && r != -EAGAIN)
                        return r;
        }
}

/* An idle agent has nothing to say: input or a hang-up now means it died (killed, its ssh
 * dropped) or broke the protocol. Checked before reuse so that the next open respawns it instead
 * of failing once. Caller holds a->lock. */
static void check_idle(agent_proc *a) {
        if (atomic_load(&a->dead) || a->reader_active || a->pending)
                return;
        struct pollfd pfd = { .fd = a->fd, .events = POLLIN };
        if (poll(&pfd, 1, 0) <= 0)
                return;
        if (pfd.revents & (POLLHUP | POLLERR)) {
                mark_dead(a, false, EPIPE, "exited");
                return;
        }
        int r = agent_reader_fill(&a->rd);
        if (r == 0)
                mark_dead(a, false, EPIPE, "exited");
        else if (r > 0)
                mark_dead(a, true, EPROTO, "wrote while idle");
}

static void printable(const char *line, size_t len, char *out, size_t out_len) {
        size_t n = len < out_len - 1 ? len : out_len - 1;
        for (size_t i = 0; i < n; i++)
                out[i] = (unsigned char)line[i] >= 0x20 && (unsigned char)line[i] < 0x7f ? line[i] : '?';
        out[n] = '\0';
}

/* Hand a reply line to the call it answers (caller holds a->lock). A line that is not a reply of
 * ours means the stream cannot be trusted any more: the agent is killed. */
static void dispatch_line(agent_proc *a, const char *op, const char *line, size_t len) {
        json_error_t jerr;
        json_t *rep = json_loadb(line, len, 0, &jerr);
        const json_t *rid = json_object_get(rep, "id");
        pending *p = NULL;
        if (json_is_object(rep) && json_is_integer(rid) &&
            json_integer_value(json_object_get(rep, "v")) == VCM_AGENT_PROTOCOL &&
            json_is_boolean(json_object_get(rep, "ok")))
                for (p = a->pending; p && p->id != json_integer_value(rid); p = p->next)
                        ;
        if (!p || p->reply) {
                /* A login banner, another program, a reply to nothing we asked. */
                char seen[81];
                printable(line, len, seen, sizeof(seen));
                json_decref(rep);
                mark_dead(a, true, EPROTO, "is not a vcm agent speaking protocol %d: to '%s' it answered '%s'",
                          VCM_AGENT_PROTOCOL, op, seen);
                return;
        }
        p->reply = rep;
}

static void deadline_to_timespec(int64_t deadline_ms, struct timespec *ts) {
        ts->tv_sec = deadline_ms / 1000;
        ts->tv_nsec = (deadline_ms % 1000) * 1000000;
}

/* Send one request and wait for its reply, reading for everybody when nobody else is. */
static int proc_call(agent_proc *a, const char *op, json_t *args, int timeout_ms,
                     json_t **ret_result, vcm_error *err) {
        pthread_mutex_lock(&a->lock);
        if (atomic_load(&a->dead)) {
                vcm_error_set(err, "%s", a->dead_reason);
                int r = -a->dead_errno;
                pthread_mutex_unlock(&a->lock);
                json_decref(args);
                return r;
        }
        pending me = { .id = ++a->next_id, .next = a->pending };
        a->pending = &me;
        pthread_mutex_unlock(&a->lock);

        json_t *req = args ? args : json_object();
        json_object_set_new(req, "v", json_integer(VCM_AGENT_PROTOCOL));
        json_object_set_new(req, "id", json_integer(me.id));
        json_object_set_new(req, "op", json_string(op));
        pthread_mutex_lock(&a->write_lock);
        int w = agent_write_msg(a->fd, req);
        pthread_mutex_unlock(&a->write_lock);
        json_decref(req);

        int64_t deadline = now_ms() + timeout_ms;
        pthread_mutex_lock(&a->lock);
        /* It stopped reading (exited, or never was an agent): kill what is left of it and read
         * on to the end, so that the error shows what it printed (a login banner, a refusal)
         * whether it exited before or after the request was written. */
        if (w < 0 && a->pid > 0)
                kill(a->pid, SIGKILL); /* the reader sees the end and reaps it */
        while (!me.reply && !atomic_load(&a->dead)) {
                if (!a->reader_active) {
                        a->reader_active = true;
                        pthread_mutex_unlock(&a->lock);
                        char *line;
                        size_t len;
                        int r = read_line(a, deadline, &line, &len);
                        pthread_mutex_lock(&a->lock);
                        a->reader_active = false;
                        if (r == 1)
                                dispatch_line(a, op, line, len);
                        else if (a->abort_reason)
                                mark_dead(a, false, ETIMEDOUT, "%s", a->abort_reason);
                        else if (r == -ETIMEDOUT)
                                mark_dead(a, true, ETIMEDOUT, "did not answer '%s' within %d ms", op, timeout_ms);
                        else if (r == -EBADMSG)
                                mark_dead(a, true, EPROTO, "sent a reply longer than %u bytes", VCM_AGENT_LINE_MAX);
                        else if (r == -EPIPE)
                                mark_dead(a, false, EPIPE, "exited");
                        else
                                mark_dead(a, true, EIO, "cannot be read: %s", strerror(-r));
                        pthread_cond_broadcast(&a->changed);
                        continue;
                }
                if (a->abort_reason) {
                        /* Killed already: the reader is about to see the end. */
                        pthread_cond_wait(&a->changed, &a->lock);
                        continue;
                }
                struct timespec ts;
                deadline_to_timespec(deadline, &ts);
                if (pthread_cond_timedwait(&a->changed, &a->lock, &ts) == ETIMEDOUT && !me.reply &&
                    !atomic_load(&a->dead) && a->reader_active && !a->abort_reason) {
                        /* Another caller is reading: kill the agent, the reader reaps it with
                         * this reason. */
                        a->abort_reason = xasprintf("did not answer '%s' within %d ms", op, timeout_ms);
                        if (a->pid > 0)
                                kill(a->pid, SIGKILL);
                }
        }
        for (pending **pp = &a->pending; *pp; pp = &(*pp)->next)
                if (*pp == &me) {
                        *pp = me.next;
                        break;
                }
        if (!me.reply) {
                vcm_error_set(err, "%s", a->dead_reason);
                int r = -a->dead_errno;
                pthread_mutex_unlock(&a->lock);
                return r;
        }
        pthread_mutex_unlock(&a->lock);

        json_t *rep = me.reply;
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
        return proc_call(a, op, args, atomic_load(&call_timeout_ms), ret_result, err);
}

/* Start the agent and greet it: versions must match before anything else is sent. */
int agent_proc_spawn(const vcm_host *host, agent_proc **ret, vcm_error *err) {
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
        pthread_mutex_init(&a->write_lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&a->changed, &ca);
        pthread_condattr_destroy(&ca);
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
        r = proc_call(a, "hello", json_pack("{s:o}", "host", agent_json_str(host->name)),
                      atomic_load(&hello_timeout_ms), &result, err);
        pthread_mutex_lock(&a->lock);
        if (r == 0) {
                json_int_t proto = json_integer_value(json_object_get(result, "protocol"));
                if (proto != VCM_AGENT_PROTOCOL) {
                        mark_dead(a, true, EPROTONOSUPPORT,
                                  "speaks protocol %lld, this vcm %d: install the same vcm on both ends",
                                  (long long)proto, VCM_AGENT_PROTOCOL);
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

bool agent_proc_usable(agent_proc *a, const vcm_host *host) {
        pthread_mutex_lock(&a->lock);
        check_idle(a);
        bool same = true;
        for (size_t i = 0; i < host->n_agent && same; i++)
                same = a->argv[i] && strcmp(a->argv[i], host->agent[i]) == 0;
        bool usable = !atomic_load(&a->dead) && same && a->argv[host->n_agent] == NULL;
        pthread_mutex_unlock(&a->lock);
        return usable;
}

void agent_proc_ref(agent_proc *a) {
        atomic_fetch_add(&a->refs, 1);
}

int agent_proc_pid(agent_proc *a) {
        pthread_mutex_lock(&a->lock);
        int pid = atomic_load(&a->dead) ? 0 : a->pid;
        pthread_mutex_unlock(&a->lock);
        return pid;
}
