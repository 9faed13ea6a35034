/* The agent's side: read a request line, call the registered provider, write one reply line.
 * Every malformed line gets an error reply; nothing a client sends can crash the loop. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "providers/agent/agent_internal.h"
#include "reconciler/util.h"

#ifndef VCM_VERSION
#define VCM_VERSION "unknown"
#endif

/* One open() of a provider for a host: what the client calls "session". */
typedef struct session {
        json_int_t id;
        const vcm_provider *provider;
        vcm_repo *repo; /* holds the site the client sent */
        vcm_host_ctx ctx;
} session;

typedef struct server {
        int out_fd;
        bool greeted;
        char *host;             /* the site's name of this host, from hello */
        char self[256];         /* gethostname(), until hello names the host */
        session *sessions;
        size_t n_sessions;
        json_int_t next_session;
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

static session *session_find(server *s, const json_t *req) {
        const json_t *v = json_object_get(req, "session");
        if (!json_is_integer(v))
                return NULL;
        for (size_t i = 0; i < s->n_sessions; i++)
                if (s->sessions[i].id == json_integer_value(v))
                        return &s->sessions[i];
        return NULL;
}

static void session_close(session *ss) {
        if (ss->provider->close && ss->ctx.conn)
                ss->provider->close(ss->ctx.conn);
        vcm_repo_free(ss->repo);
}

/* ---- operations ------------------------------------------------------------------------------ */

static json_t *op_hello(server *s, const json_t *id, const json_t *req) {
        const json_t *host = json_object_get(req, "host");
        if (host && !json_is_string(host))
                return reply_errorf(s, id, NULL, EINVAL, "agent on %s: hello: 'host' must be a string",
                                    server_host(s));
        if (host) {
                free(s->host);
                s->host = xstrdup(json_string_value(host));
        }
        s->greeted = true;
        json_t *providers = json_array();
        for (size_t i = 0;; i++) {
                const vcm_provider *p = agent_registry_at(i);
                if (!p)
                        break;
                json_array_append_new(providers, json_string(p->name));
        }
        return reply_ok(id, json_pack("{s:s,s:s,s:i,s:o,s:s,s:o}", "agent", "vcm", "version",
                                      VCM_VERSION, "protocol", VCM_AGENT_PROTOCOL, "host",
                                      agent_json_str(server_host(s)), "hostname", s->self,
                                      "providers", providers));
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
        if (!host) {
                json_t *r = reply_errorf(s, id, pname, EINVAL,
                                         "agent on %s: open: 'host' must name a host of the site",
                                         server_host(s));
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
        s->sessions = xrealloc(s->sessions, (s->n_sessions + 1) * sizeof(*s->sessions));
        session *ss = &s->sessions[s->n_sessions++];
        *ss = (session){ .id = ++s->next_session, .provider = p, .repo = repo,
                         .ctx = { .site = site, .host = host, .conn = conn } };
        return reply_ok(id, json_pack("{s:I}", "session", ss->id));
}

static json_t *op_close(server *s, const json_t *id, const json_t *req) {
        session *ss = session_find(s, req);
        if (!ss)
                return reply_errorf(s, id, NULL, EBADF, "agent on %s: close: no such session",
                                    server_host(s));
        session_close(ss);
        size_t i = (size_t)(ss - s->sessions);
        memmove(ss, ss + 1, (s->n_sessions - i - 1) * sizeof(*ss));
        s->n_sessions--;
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

static json_t *handle(server *s, const char *line, size_t len) {
        json_error_t jerr;
        json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!req)
                return reply_errorf(s, NULL, NULL, EBADMSG, "agent on %s: not JSON: %s (column %d)",
                                    server_host(s), jerr.text, jerr.column);
        json_t *rep;
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
        } else if (strcmp(op, "open") == 0) {
                rep = op_open(s, id, req);
        } else if (strcmp(op, "close") == 0) {
                rep = op_close(s, id, req);
        } else if (strcmp(op, "observe") == 0 || strcmp(op, "create") == 0 ||
                   strcmp(op, "update") == 0 || strcmp(op, "delete") == 0) {
                const session *ss = session_find(s, req);
                if (!ss)
                        rep = reply_errorf(s, id, NULL, EBADF, "agent on %s: %s: no such session",
                                           server_host(s), op);
                else if (strcmp(op, "observe") == 0)
                        rep = op_observe(s, id, ss);
                else
                        rep = op_change(s, id, ss, op, req);
        } else {
                rep = reply_errorf(s, id, NULL, EOPNOTSUPP, "agent on %s: unknown op '%.64s'",
                                   server_host(s), op);
        }
        json_decref(req);
        return rep;
}

static bool blank(const char *line, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
                        return false;
        return true;
}

int vcm_agent_serve(int in_fd, int out_fd) {
        server s = { .out_fd = out_fd };
        if (gethostname(s.self, sizeof(s.self) - 1) < 0)
                snprintf(s.self, sizeof(s.self), "localhost");
        agent_reader rd;
        agent_reader_init(&rd, in_fd, VCM_AGENT_LINE_MAX);
        int result = 0;
        for (;;) {
                char *line;
                size_t len;
                int r = agent_reader_next(&rd, &line, &len);
                json_t *rep = NULL;
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
                                if (rd.len > 0 && !rd.skipping && !blank(rd.buf + rd.start, rd.len)) {
                                        /* A last line without its newline is still a request. */
                                        rep = handle(&s, rd.buf + rd.start, rd.len);
                                        rd.len = 0;
                                        agent_write_msg(out_fd, rep);
                                        json_decref(rep);
                                }
                                break;
                        }
                        continue;
                }
                if (r == -E2BIG)
                        rep = reply_errorf(&s, NULL, NULL, EMSGSIZE,
                                           "agent on %s: line longer than %u bytes dropped",
                                           server_host(&s), VCM_AGENT_LINE_MAX);
                else if (blank(line, len))
                        continue;
                else
                        rep = handle(&s, line, len);
                r = agent_write_msg(out_fd, rep);
                json_decref(rep);
                if (r < 0) {
                        result = r;
                        break;
                }
        }
        for (size_t i = 0; i < s.n_sessions; i++)
                session_close(&s.sessions[i]);
        free(s.sessions);
        free(s.host);
        agent_reader_done(&rd);
        return result;
}
