/* STATE/status.json: build from a pass, keep `since`, write atomically, read back. */
#include "reconciler/loop_status.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reconciler/util.h"

#define MAX_LISTED_ERRORS 50

void vcm_status_format_time(int64_t t, char buf[32]) {
        time_t tt = (time_t)t;
        struct tm tm;
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
}

int vcm_status_parse_time(const char *s, int64_t *ret) {
        struct tm tm = { 0 };
        const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
        if (!end || *end)
                return -EINVAL;
        *ret = (int64_t)timegm(&tm);
        return 0;
}

static const json_t *prev_cluster(const json_t *prev, const char *name) {
        const json_t *clusters = prev ? json_object_get(prev, "clusters") : NULL;
        size_t i;
        const json_t *c;
        json_array_foreach(clusters, i, c) {
                const char *n = json_string_value(json_object_get(c, "name"));
                if (n && strcmp(n, name) == 0)
                        return c;
        }
        return NULL;
}

static int64_t since_of(const json_t *c, const char *state, int64_t now) {
        const char *was = c ? json_string_value(json_object_get(c, "state")) : NULL;
        int64_t since;
        if (was && strcmp(was, state) == 0 &&
            vcm_status_parse_time(json_string_value(json_object_get(c, "since")), &since) == 0)
                return since;
        return now;
}

/* name -> previous cluster entry (borrowed), so that a site's worth of lookups is linear. */
static json_t *prev_index(const json_t *prev) {
        json_t *by = json_object();
        size_t i;
        json_t *c;
        json_array_foreach(prev ? json_object_get(prev, "clusters") : NULL, i, c) {
                const char *n = json_string_value(json_object_get(c, "name"));
                if (n)
                        json_object_set(by, n, c);
        }
        return by;
}

int64_t vcm_status_since(const json_t *prev, const char *cluster, const char *state, int64_t now) {
        return since_of(prev_cluster(prev, cluster), state, now);
}


static json_t *time_or_null(int64_t t) {
        if (t == INT64_MAX || t <= 0)
                return json_null();
        char buf[32];
        vcm_status_format_time(t, buf);
        return json_string(buf);
}

static const char *node_of(const vcm_resource *r) {
        const char *node = vcm_resource_prop(r, "node");
        return node ? node : r->name;
}

/* Domains grouped by cluster in one walk (a site has thousands). */
static json_t *nodes_by_cluster(const vcm_pass *pass) {
        json_t *by = json_object();
        for (size_t i = 0; i < vcm_resource_set_size(pass->observed); i++) {
                const vcm_resource *r = vcm_resource_set_at(pass->observed, i);
                if (r->kind != VCM_KIND_DOMAIN || !r->cluster)
                        continue;
                json_t *arr = json_object_get(by, r->cluster);
                if (!arr) {
                        arr = json_array();
                        json_object_set_new(by, r->cluster, arr);
                }
                json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s?}", "name", node_of(r),
                                                     "domain", r->name, "host", r->host, "state",
                                                     vcm_resource_prop(r, "state")));
        }
        return by;
}

static void add_error(json_t *errors, const char *fmt, ...) _printf_(2, 3);
static void add_error(json_t *errors, const char *fmt, ...) {
        if (json_array_size(errors) >= MAX_LISTED_ERRORS)
                return;
        va_list ap;
        va_start(ap, fmt);
        char *s = NULL;
        if (vasprintf(&s, fmt, ap) >= 0) {
                json_array_append_new(errors, json_string(s));
                free(s);
        }
        va_end(ap);
}

static void add_diags(json_t *errors, const vcm_diags *d) {
        for (size_t i = 0; d && i < d->n; i++)
                if (d->items[i].severity == VCM_SEV_ERROR)
                        add_error(errors, "%s:%d:%d: %s",
                                  d->items[i].pos.file ? d->items[i].pos.file : "<unknown>",
                                  d->items[i].pos.line, d->items[i].pos.column,
                                  d->items[i].message);
}

static bool cluster_suspended(const vcm_repo *repo, const char *name) {
        for (size_t i = 0; repo && i < repo->n_clusters; i++)
                if (strcmp(repo->clusters[i].name, name) == 0)
                        return repo->clusters[i].suspend;
        return false;
}

json_t *vcm_status_build(const vcm_pass *pass, const vcm_repo *repo, const vcm_status_info *info,
                         const json_t *prev, int64_t now) {
        json_t *errors = json_array();
        if (info->source_error)
                add_error(errors, "source %s: %s", info->source ? info->source : "",
                          info->source_error);
        if (info->stop_reason)
                add_error(errors, "%s", info->stop_reason);
        add_diags(errors, info->load_diags);
        size_t failed = 0;
        if (pass) {
                add_diags(errors, &pass->diags);
                for (size_t i = 0; pass->step_results && i < pass->n_steps; i++) {
                        if (pass->step_results[i] >= 0)
                                continue;
                        failed++;
                        const vcm_step *s = &pass->steps[i];
                        const vcm_resource *r = s->desired ? s->desired : s->observed;
                        add_error(errors, "%s %s/%s on %s: %s", vcm_action_name(s->action),
                                  vcm_kind_name(r->kind), r->name, r->host,
                                  pass->step_errors[i] ? pass->step_errors[i]
                                                       : strerror(-pass->step_results[i]));
                }
        }

        json_t *clusters = json_array();
        size_t n_errors_load = info->load_diags ? info->load_diags->n_errors : 0;
        if (pass) {
                json_t *nodes = nodes_by_cluster(pass);
                json_t *before = prev_index(prev);
                for (size_t i = 0; i < pass->n_status; i++) {
                        const vcm_cluster_status *s = &pass->status[i];
                        const char *state = vcm_cluster_state_name(s->state);
                        json_t *n = json_object_get(nodes, s->cluster);
                        json_t *c = json_pack("{s:s, s:s, s:s?, s:o, s:b, s:O}", "name",
                                              s->cluster, "state", state, "reason", s->reason,
                                              "since",
                                              time_or_null(since_of(
                                                      json_object_get(before, s->cluster),
                                                      state, now)),
                                              "suspended", cluster_suspended(repo, s->cluster),
                                              "nodes", n ? n : json_array());
                        if (!n)
                                json_decref(json_object_get(c, "nodes")); /* O took a ref */
                        json_array_append_new(clusters, c);
                }
                json_decref(nodes);
                json_decref(before);
        } else {
                /* No pass: what the previous document said stays, marked as not current. */
                const json_t *old = prev ? json_object_get(prev, "clusters") : NULL;
                if (old)
                        json_array_extend(clusters, (json_t *)old);
        }

        /* The service's own condition: Stalled when vcm refuses to act on the specs. */
        const char *svc_state = "Ready";
        char *svc_reason = NULL;
        if (info->stop_reason) {
                svc_state = "Stalled";
                svc_reason = xstrdup(info->stop_reason);
        } else if (info->source_error) {
                svc_state = "Stalled";
                svc_reason = xasprintf("the source cannot be read (%s); %s", info->source_error,
                                       repo ? "the last good specs stay in force and nothing "
                                              "they do not say is deleted"
                                            : "nothing is done until it can be");
        } else if (pass && pass->pruning_stopped) {
                svc_state = "Stalled";
                svc_reason = xstrdup(n_errors_load
                                             ? "specs failed to load: pruning stopped, nothing "
                                               "is deleted (see last_errors)"
                                             : "pruning stopped: the specs hold no clusters while "
                                               "vcm owns resources (--allow-empty to release "
                                               "them)");
        } else if (n_errors_load) {
                svc_state = "Stalled";
                svc_reason = xasprintf("%zu spec error%s: the clusters in those files keep what "
                                       "they have (see last_errors)",
                                       n_errors_load, n_errors_load == 1 ? "" : "s");
        } else if (failed || (pass && pass->n_unreachable)) {
                svc_state = "Degraded";
                svc_reason = failed ? xasprintf("%zu step%s failed", failed, failed == 1 ? "" : "s")
                                    : xstrdup("a host is unreachable");
        } else {
                svc_reason = xstrdup("the specs are applied");
        }
        int64_t svc_since = now;
        const json_t *pc = prev ? json_object_get(prev, "condition") : NULL;
        const char *was = pc ? json_string_value(json_object_get(pc, "state")) : NULL;
        if (was && strcmp(was, svc_state) == 0)
                (void)vcm_status_parse_time(json_string_value(json_object_get(pc, "since")),
                                            &svc_since);

        json_t *doc = json_pack("{s:i, s:o, s:I, s:s?, s:s?, s:{s:s, s:s, s:o}, s:o, s:o, s:o}",
                                "format_version", 1, "written_at", time_or_null(now), "pid",
                                (json_int_t)info->pid, "source", info->source, "applied_commit",
                                repo ? repo->commit : NULL, "condition", "state", svc_state,
                                "reason", svc_reason, "since", time_or_null(svc_since),
                                "next_window_edge",
                                time_or_null(pass ? pass->next_edge : INT64_MAX), "clusters",
                                clusters, "last_errors", errors);
        free(svc_reason);
        json_t *last = json_pack("{s:s?, s:I, s:I, s:I, s:I}", "trigger", info->trigger,
                                 "started_ms", (json_int_t)info->started_ms, "duration_ms",
                                 (json_int_t)info->duration_ms, "steps",
                                 (json_int_t)(pass ? pass->n_steps : 0), "failed",
                                 (json_int_t)failed);
        json_object_set_new(doc, "last_pass", last);
        if (info->informer)
                json_object_set_new(doc, "informer",
                                    json_pack("{s:I, s:I, s:I, s:I}", "relists",
                                              (json_int_t)info->informer->relists, "rereads",
                                              (json_int_t)info->informer->rereads,
                                              "notifications",
                                              (json_int_t)info->informer->notifications,
                                              "broken_streams",
                                              (json_int_t)info->informer->broken_streams));
        return doc;
}

json_t *vcm_status_keep(const json_t *doc) {
        json_t *kept = json_object(), *clusters = json_array();
        const json_t *cond = json_object_get(doc, "condition");
        if (cond)
                json_object_set_new(kept, "condition",
                                    json_pack("{s:O?, s:O?}", "state",
                                              json_object_get(cond, "state"), "since",
                                              json_object_get(cond, "since")));
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(doc, "clusters"), i, c)
                json_array_append_new(clusters,
                                      json_pack("{s:O?, s:O?, s:O?}", "name",
                                                json_object_get(c, "name"), "state",
                                                json_object_get(c, "state"), "since",
                                                json_object_get(c, "since")));
        json_object_set_new(kept, "clusters", clusters);
        return kept;
}

int vcm_status_write(const char *state_dir, const json_t *doc) {
        _cleanup_free_ char *path = xasprintf("%s/%s", state_dir, VCM_STATUS_FILE);
        _cleanup_free_ char *tmp = xasprintf("%s/.%s.tmp", state_dir, VCM_STATUS_FILE);
        /* One buffer, one write: jansson's dumpfd writes each token on its own (thousands of
         * system calls for a site's status). */
        _cleanup_free_ char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
        if (!text)
                return -ENOMEM;
        size_t len = strlen(text);
        text[len] = '\n'; /* replaces the terminator: the length is known */
        len++;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        int r = 0;
        for (size_t off = 0; off < len && r == 0;) {
                ssize_t n = write(fd, text + off, len - off);
                if (n < 0 && errno != EINTR)
                        r = -errno;
                else if (n > 0)
                        off += (size_t)n;
        }
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void)unlink(tmp);
        return r;
}

int vcm_status_read(const char *state_dir, json_t **ret_doc) {
        _cleanup_free_ char *path = xasprintf("%s/%s", state_dir, VCM_STATUS_FILE);
        if (access(path, F_OK) < 0)
                return -errno;
        json_error_t err;
        json_t *doc = json_load_file(path, 0, &err);
        if (!doc || !json_is_object(doc)) {
                json_decref(doc);
                return -EBADMSG;
        }
        *ret_doc = doc;
        return 0;
}
