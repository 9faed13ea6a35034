/* The service's control socket (reconciler/control.h): both ends of the plan request. */
#include "reconciler/control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "reconciler/util.h"

#define REQUEST_MAX (64 * 1024)
#define REQUEST_WAIT_MS 2000
#define REPLY_WAIT_S 5

void vcm_plan_request_clear(vcm_plan_request *r) {
        free(r->source);
        *r = (vcm_plan_request){ 0 };
}

void vcm_plan_answer_clear(vcm_plan_answer *a) {
        free(a->declined);
        free(a->output);
        free(a->commit);
        vcm_diags_clear(&a->load_diags);
        vcm_diags_clear(&a->pass_diags);
        json_decref(a->internal);
        *a = (vcm_plan_answer){ 0 };
}

static int socket_path(const char *state_dir, struct sockaddr_un *ret) {
        *ret = (struct sockaddr_un){ .sun_family = AF_UNIX };
        int n = snprintf(ret->sun_path, sizeof(ret->sun_path), "%s/%s", state_dir,
                         VCM_CONTROL_SOCKET);
        return n < 0 || (size_t)n >= sizeof(ret->sun_path) ? -ENAMETOOLONG : 0;
}

/* Read until EOF or a newline, at most `max` bytes, within timeout_ms. */
static int read_line(int fd, size_t max, int timeout_ms, char **ret) {
        size_t len = 0, cap = 4096;
        char *buf = xmalloc(cap);
        int64_t deadline = vcm_mono_ms() + timeout_ms;
        for (;;) {
                int64_t left = deadline - vcm_mono_ms();
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int pr = left > 0 ? poll(&p, 1, (int)left) : 0;
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr <= 0) {
                        free(buf);
                        return pr == 0 ? -ETIMEDOUT : -errno;
                }
                if (len + 1 >= cap) {
                        if (cap > max) {
                                free(buf);
                                return -EMSGSIZE;
                        }
                        cap *= 2;
                        buf = xrealloc(buf, cap);
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0) {
                        int r = -errno;
                        free(buf);
                        return r;
                }
                len += (size_t)n;
                buf[len] = '\0';
                if (n == 0 || memchr(buf + len - n, '\n', (size_t)n))
                        break;
        }
        *ret = buf;
        return 0;
}

/* Write all of `text` and a newline; MSG_NOSIGNAL: a client that left must not kill us. */
static int send_line(int fd, const char *text) {
        size_t len = strlen(text);
        for (size_t off = 0; off <= len;) {
                const char *p = off < len ? text + off : "\n";
                size_t n = off < len ? len - off : 1;
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return errno == EAGAIN ? -ETIMEDOUT : -errno;
                off += (size_t)w;
        }
        return 0;
}

/* ---- the service ---------------------------------------------------------------------- */

int vcm_control_listen(const char *state_dir, int *ret_fd) {
        struct sockaddr_un a;
        int r = socket_path(state_dir, &a);
        if (r < 0)
                return r;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void)unlink(a.sun_path); /* a dead service's: we hold the state lock */
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(a.sun_path, 0600) < 0 ||
            listen(fd, 16) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

void vcm_control_close(const char *state_dir, int fd) {
        if (fd < 0)
                return;
        close(fd);
        struct sockaddr_un a;
        if (socket_path(state_dir, &a) == 0)
                (void)unlink(a.sun_path);
}

static int parse_request(const char *line, vcm_plan_request *ret, char **ret_error) {
        json_error_t je;
        json_t *doc = json_loads(line, JSON_DISABLE_EOF_CHECK, &je);
        const char *op = NULL, *source = NULL;
        json_int_t at = 0;
        int json = 0, color = 0, allow_empty = 0;
        if (!doc || json_unpack_ex(doc, &je, 0, "{s:s, s:s, s?I, s?b, s?b, s?b}", "op", &op,
                                   "source", &source, "at", &at, "json", &json, "color",
                                   &color, "allow_empty", &allow_empty) < 0) {
                *ret_error = xasprintf("unreadable request: %s", je.text);
                json_decref(doc);
                return -EBADMSG;
        }
        if (strcmp(op, "plan") != 0) {
                *ret_error = xasprintf("unknown request '%s'", op);
                json_decref(doc);
                return -EOPNOTSUPP;
        }
        *ret = (vcm_plan_request){ .source = xstrdup(source), .at = at, .json = json,
                                   .color = color, .allow_empty = allow_empty };
        json_decref(doc);
        return 0;
}

int vcm_control_accept(int listen_fd, int *ret_conn, vcm_plan_request *ret_req,
                       char **ret_error) {
        int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN
                                                                                 : -errno;
        struct ucred cred;
        socklen_t cl = sizeof(cred);
        if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
            (cred.uid != 0 && cred.uid != geteuid())) {
                *ret_error = xasprintf("a request from uid %ld refused: only root and the "
                                       "service's user may ask", (long)cred.uid);
                close(c);
                return -EPERM;
        }
        struct timeval tv = { .tv_sec = REPLY_WAIT_S };
        (void)setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        _cleanup_free_ char *line = NULL;
        int r = read_line(c, REQUEST_MAX, REQUEST_WAIT_MS, &line);
        if (r == 0)
                r = parse_request(line, ret_req, ret_error);
        else
                *ret_error = xasprintf("a request could not be read: %s", strerror(-r));
        if (r < 0) {
                close(c);
                return r;
        }
        *ret_conn = c;
        return 0;
}

static json_t *diags_json(const vcm_diags *d) {
        json_t *a = json_array();
        for (size_t i = 0; d && i < d->n; i++) {
                const vcm_diag *g = &d->items[i];
                json_array_append_new(
                        a, json_pack("{s:s, s:s*, s:i, s:i, s:s}", "severity",
                                     g->severity == VCM_SEV_ERROR ? "error" : "warning", "file",
                                     g->pos.file, "line", g->pos.line, "column", g->pos.column,
                                     "message", g->message));
        }
        return a;
}

int vcm_control_reply(int conn, const vcm_plan_answer *a) {
        json_t *doc = a->declined
                              ? json_pack("{s:i, s:I, s:s}", "version", 1, "pid",
                                          (json_int_t)a->pid, "declined", a->declined)
                              : json_pack("{s:i, s:I, s:i, s:s, s:s*, s:o, s:o}", "version", 1,
                                          "pid", (json_int_t)a->pid, "exit", a->exit_code,
                                          "output", a->output ? a->output : "", "commit",
                                          a->commit, "load_diagnostics",
                                          diags_json(&a->load_diags), "diagnostics",
                                          diags_json(&a->pass_diags));
        char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
        int r = text ? send_line(conn, text) : -ENOMEM;
        free(text);
        close(conn);
        return r;
}

/* ---- the client ----------------------------------------------------------------------- */

static int diags_from_json(json_t *a, vcm_diags *ret) {
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) {
                const char *sev = "", *file = NULL, *message = "";
                int line = 0, column = 0;
                if (json_unpack(v, "{s:s, s?s, s?i, s?i, s:s}", "severity", &sev, "file", &file,
                                "line", &line, "column", &column, "message", &message) < 0)
                        return -EBADMSG;
                /* The file names stay in the parsed answer (vcm_plan_answer.internal). */
                vcm_diags_add(ret, strcmp(sev, "error") == 0 ? VCM_SEV_ERROR : VCM_SEV_WARNING,
                              (vcm_pos){ file, line, column }, "%s", message);
        }
        return 0;
}

static int parse_answer(const char *line, vcm_plan_answer *ret) {
        json_t *doc = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
        json_int_t pid = 0;
        int version = 0, exit_code = 1;
        const char *declined = NULL, *output = NULL, *commit = NULL;
        json_t *load = NULL, *pass = NULL;
        if (!doc || json_unpack(doc, "{s:i, s:I, s?s, s?i, s?s, s?s, s?o, s?o}", "version",
                                &version, "pid", &pid, "declined", &declined, "exit", &exit_code,
                                "output", &output, "commit", &commit, "load_diagnostics", &load,
                                "diagnostics", &pass) < 0 ||
            version != 1 || (!declined && !output)) {
                json_decref(doc);
                return -EBADMSG;
        }
        vcm_plan_answer a = { .pid = (long)pid, .exit_code = exit_code, .internal = doc };
        if (declined)
                a.declined = xstrdup(declined);
        else {
                a.output = xstrdup(output);
                a.commit = commit ? xstrdup(commit) : NULL;
                if ((load && diags_from_json(load, &a.load_diags) < 0) ||
                    (pass && diags_from_json(pass, &a.pass_diags) < 0)) {
                        vcm_plan_answer_clear(&a);
                        return -EBADMSG;
                }
        }
        *ret = a;
        return 0;
}

int vcm_control_ask_plan(const char *state_dir, const vcm_plan_request *req, int timeout_ms,
                         vcm_plan_answer *ret, char **ret_error) {
        struct sockaddr_un a;
        int r = socket_path(state_dir, &a);
        if (r < 0)
                return -ENOENT; /* no service can listen there either */
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                r = -errno;
                close(fd);
                /* No service, or one this user may not ask: either way, plan alone. */
                return r == -ENOTDIR || r == -EACCES || r == -EPERM ? -ENOENT : r;
        }
        json_t *doc = json_pack("{s:s, s:s, s:I, s:b, s:b, s:b}", "op", "plan", "source",
                                req->source, "at", (json_int_t)req->at, "json", req->json,
                                "color", req->color, "allow_empty", req->allow_empty);
        char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
        r = text ? send_line(fd, text) : -ENOMEM;
        free(text);
        _cleanup_free_ char *line = NULL;
        if (r == 0) {
                shutdown(fd, SHUT_WR);
                r = read_line(fd, SIZE_MAX / 4, timeout_ms, &line);
        }
        close(fd);
        if (r == 0)
                r = parse_answer(line, ret);
        if (r < 0)
                *ret_error = xstrdup(r == -ETIMEDOUT ? "no answer in time (a pass is running)"
                                     : r == -EBADMSG ? "an answer vcm cannot read"
                                                     : strerror(-r));
        return r;
}
