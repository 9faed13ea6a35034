/* The agent's side: read a request line, call the registered provider, write one reply line.
 * Every malformed line gets an error reply; nothing a client sends can crash the loop.
 *
 * The reading thread answers what needs no provider (malformed lines, hello) itself and queues the
 * rest for a small pool of workers, so that a slow step (a wipe) does not hold up the others of
 * the host, as in-process; replies go out as they finish, matched by id. Providers are called
 * concurrently, as the engine calls them in-process (providers/provider.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "providers/agent/agent_internal.h"
#include "reconciler/util.h"

#ifndef VCM_VERSION
#define VCM_VERSION "unknown"
#endif

#define WORKERS_MAX 8

/* One open() of a provider for a host: what the client calls "session". Freed (and the
 * provider's connection closed) when closed and no call on it is running any more. */
typedef struct session {
        json_int_t id;
        int refs;               /* the table's, and one per running call; under server.lock */
        const vcm_provider *provider;
        vcm_repo *repo;         /* holds the site the client sent */
        vcm_host_ctx ctx;
} session;

typedef struct job {
        json_t *req;
        struct job *next;
} job;

typedef struct server {
        int out_fd;
        bool greeted;           /* reading thread only */
        char *host;             /* the site's name of this host, set once by the first hello */
        char self[256];         /* gethostname(), until hello names the host */
        pthread_mutex_t lock;   /* sessions, the queue, the workers */
        pthread_cond_t work;
        session **sessions;
        size_t n_sessions;
        json_int_t next_session;
        job *head, *tail;
        size_t queued, busy, n_workers;
        bool stopping;
        pthread_t workers[WORKERS_MAX];
        pthread_mutex_t write_lock;
        int write_error;        /* the first failed write; the reading thread stops on it */
} server;

static const char *server_host(const server *s) {
        return s->host ? s->host : s->self;
}

static json_t *reply_new(const json_t *id, bool ok) {
        return json_pack("{s:i,s:O,s:b}", "v", VCM_AGENT_PROTOCOL, "id",
                         id ? id : json_null(), "ok", ok);
}

/* An error reply: errno, its name, host, provider and the message (the vcm_error text). */
static json_t *reply_error(const server *s, const json_t *id, const char *provider, int errnum,
                           const char *message) {
        char buf[16];
        json_t *r = reply_new(id, false);
        json_object_set_new(r, "error",
                            json_pack("{s:i,s:s,s:o,s:o,s:o}", "errno", errnum, "code",
                                      agent_errno_name(errnum, buf, sizeof(buf)), "host",
                                      agent_json_str(server_host(s)), "provider",
                                      agent_json_str(provider), "message",
                                      agent_json_str(message)));
        return r;
}

static json_t *reply_errorf(const server *s, const json_t *id, const char *provider, int errnum,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static json_t *reply_errorf(const server *s, const json_t *id, const char *provider, int errnum,
                            const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return reply_error(s, id, provider, errnum, msg);
}

static json_t *reply_ok(const json_t *id, json_t *result) {
        json_t *r = reply_new(id, true);
        json_object_set_new(r, "result", result ? result : json_object());
        return r;
}

/* A provider's failure: its message, or the errno's text when it left none. */
static json_t *reply_provider_error(const server *s, const json_t *id, const session *ss, int r,
                                    const vcm_error *err, const char *what) {
        if (err->message[0])
                return reply_error(s, id, ss->provider->name, -r, err->message);
        return reply_errorf(s, id, ss->provider->name, -r, "%s: %s %s: %s", server_host(s),
                            ss->provider->name, what, strerror(-r));
}

/* The session a request names, with a reference for the call (session_put when done). */
static session *session_get(server *s, const json_t *req) {
        const json_t *v = json_object_get(req, "session");
        if (!json_is_integer(v))
                return NULL;
        session *ss = NULL;
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n_sessions && !ss; i++)
                if (s->sessions[i]->id == json_integer_value(v))
                        ss = s->sessions[i];
        if (ss)
                ss->refs++;
        pthread_mutex_unlock(&s->lock);
        return ss;
}

static void session_put(server *s, session *ss) {
        pthread_mutex_lock(&s->lock);
        bool last = --ss->refs == 0;
        pthread_mutex_unlock(&s->lock);
        if (!last)
                return;
        if (ss->provider->close && ss->ctx.conn)
                ss->provider->close(ss->ctx.conn);
        vcm_repo_free(ss->repo);
        free(ss);
}

/* Take a session out of the table; NULL when there is none with that id. The caller owns the
 * table's reference. */
static session *session_remove(server *s, const json_t *req) {
        const json_t *v = json_object_get(req, "session");
        session *ss = NULL;
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; json_is_integer(v) && i < s->n_sessions && !ss; i++)
                if (s->sessions[i]->id == json_integer_value(v)) {
                        ss = s->sessions[i];
                        s->sessions[i] = s->sessions[--s->n_sessions];
                }
        pthread_mutex_unlock(&s->lock);
        return ss;
}

/* ---- operations ------------------------------------------------------------------------------ */

static json_t *op_hello(server *s, const json_t *id, const json_t *req) {
        const json_t *host = json_object_get(req, "host");
        if (host && !json_is_string(host))
                return reply_errorf(s, id, NULL, EINVAL, "agent on %s: hello: 'host' must be a string",
                                    server_host(s));
        /* Workers read the host name without a lock: it is set once, before any of them runs. */
        if (host && !s->greeted)
                s->host = xstrdup(json_string_value(host));
        else if (host && strcmp(json_string_value(host), server_host(s)) != 0)
                return reply_errorf(s, id, NULL, EINVAL, "agent on %s: hello: already serving host %s",
                                    server_host(s), server_host(s));
        s->greeted = true;
        json_t *providers = json_array();
        for (size_t i = 0;; i++) {
                const vcm_provider *p = agent_registry_at(i);
                if (!p)
                        break;
                json_array_append_new(providers, json_string(p->name));
        }
        return reply_ok(id, json_pack("{s:s,s:s,s:i,s:o,s:o,s:o}", "agent", "vcm", "version",
                                      VCM_VERSION, "protocol", VCM_AGENT_PROTOCOL, "host",
                                      agent_json_str(server_host(s)), "hostname",
                                      agent_json_str(s->self), "providers", providers));
}

static json_t *op_open(server *s, const json_t *id, const json_t *req) {
        const json_t *pv = json_object_get(req, "provider");
        if (!json_is_string(pv))
                return reply_errorf(s, id, NULL, EINVAL, "agent on %s: open: 'provider' must be a string",
                                    server_host(s));
        const char *pname = json_string_value(pv);
        const vcm_provider *p = vcm_agent_lookup(pname);
        if (!p)
                return reply_errorf(s, id, pname, ENOENT,
                                    "agent on %s: unknown provider '%s' (this vcm %s does not carry it)",
                                    server_host(s), pname, VCM_VERSION);
        char why[256];
        vcm_repo *repo = NULL;
        if (agent_site_from_json(json_object_get(req, "site"), &repo, why, sizeof(why)) < 0)
                return reply_errorf(s, id, pname, EINVAL, "agent on %s: open: %s", server_host(s), why);
        const vcm_site *site = repo->site;
        const json_t *hv = json_object_get(req, "host");
        const vcm_host *host = json_is_string(hv) ? vcm_site_find_host(site, json_string_value(hv)) : NULL;
        if (!host || (s->host && strcmp(host->name, s->host) != 0)) {
                /* One agent serves the host hello named, and only that one. */
                json_t *r = reply_errorf(s, id, pname, EINVAL,
                                         host ? "agent on %s: open: this agent serves %s, not %s"
                                              : "agent on %s: open: 'host' must name a host of the site",
                                         server_host(s), server_host(s), host ? host->name : "");
                vcm_repo_free(repo);
                return r;
        }
        vcm_error err = { "" };
        void *conn = NULL;
        int r = p->open ? p->open(site, host, &conn, &err) : 0;
        if (r < 0) {
                json_t *rep = err.message[0]
                                      ? reply_error(s, id, pname, -r, err.message)
                                      : reply_errorf(s, id, pname, -r, "%s: %s open: %s", host->name,
                                                     pname, strerror(-r));
                vcm_repo_free(repo);
                return rep;
        }
        session *ss = xcalloc(1, sizeof(*ss));
        *ss = (session){ .refs = 1, .provider = p, .repo = repo,
                         .ctx = { .site = site, .host = host, .conn = conn } };
        pthread_mutex_lock(&s->lock);
        ss->id = ++s->next_session;
        s->sessions = xrealloc(s->sessions, (s->n_sessions + 1) * sizeof(*s->sessions));
        s->sessions[s->n_sessions++] = ss;
        pthread_mutex_unlock(&s->lock);
        return reply_ok(id, json_pack("{s:I}", "session", ss->id));
}

static json_t *op_close(server *s, const json_t *id, const json_t *req) {
        session *ss = session_remove(s, req);
        if (!ss)
                return reply_errorf(s, id, NULL, EBADF, "agent on %s: close: no such session",
                                    server_host(s));
        session_put(s, ss);
        return reply_ok(id, NULL);
}

static json_t *op_observe(server *s, const json_t *id, const session *ss) {
        vcm_error err = { "" };
        vcm_resource_set *set = vcm_resource_set_new();
        int r = ss->provider->observe ? ss->provider->observe((vcm_host_ctx *)&ss->ctx, set, &err) : 0;
        if (r < 0) {
                vcm_resource_set_free(set);
                return reply_provider_error(s, id, ss, r, &err, "observe");
        }
        json_t *list = json_array();
        for (size_t i = 0; i < vcm_resource_set_size(set); i++)
                json_array_append_new(list, agent_json_resource(vcm_resource_set_at(set, i)));
        vcm_resource_set_free(set);
        return reply_ok(id, json_pack("{s:o}", "resources", list));
}

/* create, update, delete: "resource" (and for update "observed"). */
static json_t *op_change(server *s, const json_t *id, const session *ss, const char *op,
                         const json_t *req) {
        char why[256];
        vcm_resource_set *set = vcm_resource_set_new();
        int r = agent_resource_from_json(json_object_get(req, "resource"), set, "resource", why, sizeof(why));
        bool update = strcmp(op, "update") == 0;
        vcm_resource_set *old = vcm_resource_set_new();
        if (r == 0 && update)
                r = agent_resource_from_json(json_object_get(req, "observed"), old, "observed", why, sizeof(why));
        if (r < 0) {
                vcm_resource_set_free(set);
                vcm_resource_set_free(old);
                return reply_errorf(s, id, ss->provider->name, EINVAL, "agent on %s: %s: %s",
                                    server_host(s), op, why);
        }
        const vcm_resource *res = vcm_resource_set_at(set, 0);
        vcm_error err = { "" };
        vcm_host_ctx *ctx = (vcm_host_ctx *)&ss->ctx;
        if (strcmp(op, "create") == 0)
                r = ss->provider->create ? ss->provider->create(ctx, res, &err) : -EOPNOTSUPP;
        else if (update)
                r = ss->provider->update ? ss->provider->update(ctx, res, vcm_resource_set_at(old, 0), &err)
                                         : -EOPNOTSUPP;
        else
                r = ss->provider->delete ? ss->provider->delete(ctx, res, &err) : -EOPNOTSUPP;
        json_t *rep = r < 0 ? reply_provider_error(s, id, ss, r, &err, op) : reply_ok(id, NULL);
        vcm_resource_set_free(set);
        vcm_resource_set_free(old);
        return rep;
}

/* ---- dispatch -------------------------------------------------------------------------------- */

/* A request that reached a worker: open, close or a call on a session. */
static json_t *dispatch(server *s, const json_t *req) {
        const json_t *id = json_object_get(req, "id");
        const char *op = json_string_value(json_object_get(req, "op"));
        if (strcmp(op, "open") == 0)
                return op_open(s, id, req);
        if (strcmp(op, "close") == 0)
                return op_close(s, id, req);
        session *ss = session_get(s, req);
        if (!ss)
                return reply_errorf(s, id, NULL, EBADF, "agent on %s: %s: no such session",
                                    server_host(s), op);
        json_t *rep = strcmp(op, "observe") == 0 ? op_observe(s, id, ss) : op_change(s, id, ss, op, req);
        session_put(s, ss);
        return rep;
}

static bool is_worker_op(const char *op) {
        static const char *const ops[] = { "open", "close", "observe", "create", "update", "delete" };
        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                if (strcmp(op, ops[i]) == 0)
                        return true;
        return false;
}

/* Check a line in the reading thread: the reply when it needs no provider (malformed, hello,
 * unknown op), or NULL with *ret_req to hand to a worker. */
static json_t *triage(server *s, const char *line, size_t len, json_t **ret_req) {
        json_error_t jerr;
        json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!req)
                return reply_errorf(s, NULL, NULL, EBADMSG, "agent on %s: not JSON: %s (column %d)",
                                    server_host(s), jerr.text, jerr.column);
        json_t *rep = NULL;
        const json_t *id = json_object_get(req, "id");
        const json_t *v = json_object_get(req, "v");
        const char *op = json_string_value(json_object_get(req, "op"));
        if (!json_is_object(req)) {
                rep = reply_errorf(s, NULL, NULL, EBADMSG, "agent on %s: a request must be a JSON object",
                                   server_host(s));
        } else if (id && !json_is_integer(id)) {
                rep = reply_errorf(s, NULL, NULL, EBADMSG, "agent on %s: 'id' must be an integer",
                                   server_host(s));
        } else if (!json_is_integer(v) || json_integer_value(v) != VCM_AGENT_PROTOCOL) {
                char given[32] = "missing";
                if (json_is_integer(v))
                        snprintf(given, sizeof(given), "%lld", (long long)json_integer_value(v));
                rep = reply_errorf(s, id, NULL, EPROTONOSUPPORT,
                                   "agent on %s: protocol version %s not supported: this agent "
                                   "(vcm %s) speaks %d; install the same vcm on both ends",
                                   server_host(s), given, VCM_VERSION, VCM_AGENT_PROTOCOL);
        } else if (!op) {
                rep = reply_errorf(s, id, NULL, EBADMSG, "agent on %s: 'op' must be a string",
                                   server_host(s));
        } else if (strcmp(op, "hello") == 0) {
                rep = op_hello(s, id, req);
        } else if (!s->greeted) {
                rep = reply_errorf(s, id, NULL, EPROTO, "agent on %s: send hello before '%s'",
                                   server_host(s), op);
        } else if (!is_worker_op(op)) {
                rep = reply_errorf(s, id, NULL, EOPNOTSUPP, "agent on %s: unknown op '%.64s'",
                                   server_host(s), op);
        } else {
                *ret_req = req;
                return NULL;
        }
        json_decref(req);
        return rep;
}

static void send_reply(server *s, json_t *rep) {
        pthread_mutex_lock(&s->write_lock);
        int r = s->write_error ? 0 : agent_write_msg(s->out_fd, rep);
        if (r < 0)
                s->write_error = r;
        pthread_mutex_unlock(&s->write_lock);
        json_decref(rep);
}

static void *worker_main(void *arg) {
        server *s = arg;
        pthread_mutex_lock(&s->lock);
        for (;;) {
                while (!s->head && !s->stopping)
                        pthread_cond_wait(&s->work, &s->lock);
                job *j = s->head;
                if (!j)
                        break; /* stopping, and nothing left */
                s->head = j->next;
                if (!s->head)
                        s->tail = NULL;
                s->queued--;
                s->busy++;
                pthread_mutex_unlock(&s->lock);
                send_reply(s, dispatch(s, j->req));
                json_decref(j->req);
                free(j);
                pthread_mutex_lock(&s->lock);
                s->busy--;
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

/* Queue a request; start another worker when every one is taken (up to WORKERS_MAX). */
static void enqueue(server *s, json_t *req) {
        job *j = xcalloc(1, sizeof(*j));
        j->req = req;
        pthread_mutex_lock(&s->lock);
        if (s->tail)
                s->tail->next = j;
        else
                s->head = j;
        s->tail = j;
        s->queued++;
        if (s->n_workers < WORKERS_MAX && s->queued > s->n_workers - s->busy &&
            pthread_create(&s->workers[s->n_workers], NULL, worker_main, s) == 0)
                s->n_workers++;
        pthread_cond_signal(&s->work);
        bool none = s->n_workers == 0;
        pthread_mutex_unlock(&s->lock);
        if (none) {
                /* No thread could be started: serve it here. */
                pthread_mutex_lock(&s->lock);
                s->head = s->tail = NULL;
                s->queued = 0;
                pthread_mutex_unlock(&s->lock);
                send_reply(s, dispatch(s, req));
                json_decref(req);
                free(j);
        }
}

static void handle_line(server *s, const char *line, size_t len) {
        json_t *req = NULL;
        json_t *rep = triage(s, line, len, &req);
        if (rep)
                send_reply(s, rep);
        else
                enqueue(s, req);
}

static bool blank(const char *line, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
                        return false;
        return true;
}

static bool write_failed(server *s) {
        pthread_mutex_lock(&s->write_lock);
        bool failed = s->write_error < 0;
        pthread_mutex_unlock(&s->write_lock);
        return failed;
}

int vcm_agent_serve(int in_fd, int out_fd) {
        server s = { .out_fd = out_fd };
        pthread_mutex_init(&s.lock, NULL);
        pthread_mutex_init(&s.write_lock, NULL);
        pthread_cond_init(&s.work, NULL);
        if (gethostname(s.self, sizeof(s.self) - 1) < 0)
                snprintf(s.self, sizeof(s.self), "localhost");
        agent_reader rd;
        agent_reader_init(&rd, in_fd, VCM_AGENT_LINE_MAX);
        int result = 0;
        while (!write_failed(&s)) {
                char *line;
                size_t len;
                int r = agent_reader_next(&rd, &line, &len);
                if (r == 0) {
                        r = agent_reader_fill(&rd);
                        if (r == -EINTR || r == -EAGAIN) {
                                struct pollfd pfd = { .fd = in_fd, .events = POLLIN };
                                poll(&pfd, 1, -1);
                                continue;
                        }
                        if (r < 0) {
                                result = r;
                                break;
                        }
                        if (r == 0) {
                                /* A last line without its newline is still a request. */
                                if (rd.len > 0 && !rd.skipping && !blank(rd.buf + rd.start, rd.len))
                                        handle_line(&s, rd.buf + rd.start, rd.len);
                                break;
                        }
                        continue;
                }
                if (r == -E2BIG)
                        send_reply(&s, reply_errorf(&s, NULL, NULL, EMSGSIZE,
                                                    "agent on %s: line longer than %u bytes dropped",
                                                    server_host(&s), VCM_AGENT_LINE_MAX));
                else if (!blank(line, len))
                        handle_line(&s, line, len);
        }
        /* End of input: finish what was asked, then close every session still open. */
        pthread_mutex_lock(&s.lock);
        s.stopping = true;
        pthread_cond_broadcast(&s.work);
        pthread_mutex_unlock(&s.lock);
        for (size_t i = 0; i < s.n_workers; i++)
                pthread_join(s.workers[i], NULL);
        for (size_t i = 0; i < s.n_sessions; i++)
                session_put(&s, s.sessions[i]);
        free(s.sessions);
        free(s.host);
        agent_reader_done(&rd);
        if (result == 0 && s.write_error < 0)
                result = s.write_error;
        pthread_cond_destroy(&s.work);
        pthread_mutex_destroy(&s.write_lock);
        pthread_mutex_destroy(&s.lock);
        return result;
}

int vcm_agent_serve_stdio(void) {
        int in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        int out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int r = 0;
        if (in < 0 || out < 0 || devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 ||
            dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
                r = -errno;
        if (devnull >= 0)
                close(devnull);
        if (r == 0) {
                signal(SIGPIPE, SIG_IGN);
                r = vcm_agent_serve(in, out);
        }
        if (in >= 0)
                close(in);
        if (out >= 0)
                close(out);
        return r;
}
