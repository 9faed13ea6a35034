/* vcm status: each cluster's condition with its reason, nodes and hosts, from observation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "reconciler/loop_status.h"

static int run_status_live(vcm_cli_opts *opts);

static const char *node_name(const vcm_resource *r) {
        const char *node = vcm_resource_prop(r, "node");
        return node ? node : r->name;
}

/* The frontend first, then nodes by group and index ("compute-2" before "compute-10"). */
static int node_cmp(const void *a, const void *b) {
        const char *x = node_name(*(const vcm_resource *const *)a);
        const char *y = node_name(*(const vcm_resource *const *)b);
        bool fx = !strcmp(x, "frontend"), fy = !strcmp(y, "frontend");
        if (fx != fy)
                return fx ? -1 : 1;
        return strverscmp(x, y);
}

/* The observed domains of one cluster, in node order. Returns the count; *ret owned by caller. */
static size_t cluster_domains(const vcm_pass *pass, const char *cluster,
                              const vcm_resource ***ret) {
        size_t n = 0, total = vcm_resource_set_size(pass->observed);
        const vcm_resource **v = calloc(total ? total : 1, sizeof(*v));
        if (!v)
                abort();
        for (size_t k = 0; k < total; k++) {
                const vcm_resource *r = vcm_resource_set_at(pass->observed, k);
                if (r->kind == VCM_KIND_DOMAIN && !strcmp(r->cluster, cluster))
                        v[n++] = r;
        }
        qsort(v, n, sizeof(*v), node_cmp);
        *ret = v;
        return n;
}

static void print_text(const vcm_pass *pass, const char *only) {
        printf("%-24s %-12s %s\n", "CLUSTER", "STATE", "REASON");
        for (size_t i = 0; i < pass->n_status; i++) {
                const vcm_cluster_status *s = &pass->status[i];
                if (only && strcmp(only, s->cluster))
                        continue;
                printf("%-24s %-12s %s\n", s->cluster, vcm_cluster_state_name(s->state),
                       s->reason ? s->reason : "");
                _cleanup_free_ const vcm_resource **doms = NULL;
                size_t n = cluster_domains(pass, s->cluster, &doms);
                for (size_t k = 0; k < n; k++) {
                        const vcm_resource *r = doms[k];
                        const char *node = vcm_resource_prop(r, "node");
                        const char *state = vcm_resource_prop(r, "state");
                        printf("  %-22s %-12s host %s\n", node ? node : r->name,
                               state ? state : "?", r->host);
                }
        }
}

static void print_json(const vcm_pass *pass, const char *only) {
        json_t *clusters = json_array();
        for (size_t i = 0; i < pass->n_status; i++) {
                const vcm_cluster_status *s = &pass->status[i];
                if (only && strcmp(only, s->cluster))
                        continue;
                json_t *nodes = json_array();
                _cleanup_free_ const vcm_resource **doms = NULL;
                size_t n = cluster_domains(pass, s->cluster, &doms);
                for (size_t k = 0; k < n; k++) {
                        const vcm_resource *r = doms[k];
                        const char *node = vcm_resource_prop(r, "node");
                        const char *state = vcm_resource_prop(r, "state");
                        json_array_append_new(nodes, json_pack("{s:s, s:s, s:s, s:s?}", "name",
                                                               node ? node : r->name, "domain",
                                                               r->name, "host", r->host, "state",
                                                               state));
                }
                json_array_append_new(clusters,
                                      json_pack("{s:s, s:s, s:s?, s:o}", "name", s->cluster,
                                                "state", vcm_cluster_state_name(s->state),
                                                "reason", s->reason, "nodes", nodes));
        }
        json_t *root = json_pack("{s:i, s:o}", "format_version", 1, "clusters", clusters);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
        fputc('\n', stdout);
        json_decref(root);
}

/* ---- the service's status file -------------------------------------------------------- */

static const char *jstr(const json_t *o, const char *key) {
        const char *v = json_string_value(json_object_get(o, key));
        return v ? v : "";
}

static void print_service_text(const json_t *doc, const char *only, long long age) {
        const json_t *cond = json_object_get(doc, "condition");
        printf("Service: %s since %s: %s\n", jstr(cond, "state"), jstr(cond, "since"),
               jstr(cond, "reason"));
        printf("Status written %s (%lld s ago) by vcm reconcile pid %lld\n",
               jstr(doc, "written_at"), age,
               (long long)json_integer_value(json_object_get(doc, "pid")));
        const char *commit = jstr(doc, "applied_commit");
        printf("Source: %s%s%.12s\n", jstr(doc, "source"), *commit ? " at commit " : "", commit);
        const char *edge = jstr(doc, "next_window_edge");
        printf("Next window edge: %s\n\n", *edge ? edge : "none");
        printf("%-24s %-12s %-22s %s\n", "CLUSTER", "STATE", "SINCE", "REASON");
        size_t i, k;
        const json_t *c, *n;
        json_array_foreach(json_object_get(doc, "clusters"), i, c) {
                if (only && strcmp(only, jstr(c, "name")))
                        continue;
                printf("%-24s %-12s %-22s %s%s\n", jstr(c, "name"), jstr(c, "state"),
                       jstr(c, "since"), jstr(c, "reason"),
                       json_is_true(json_object_get(c, "suspended")) ? " [suspended]" : "");
                json_array_foreach(json_object_get(c, "nodes"), k, n)
                        printf("  %-22s %-12s host %s\n", jstr(n, "name"), jstr(n, "state"),
                               jstr(n, "host"));
        }
        const json_t *errs = json_object_get(doc, "last_errors");
        if (json_array_size(errs) > 0) {
                printf("\nLast errors:\n");
                json_array_foreach(errs, i, c)
                        printf("  %s\n", json_string_value(c));
        }
}

/* 0 when the service's status file was shown, -ENOENT when there is none (observe live). */
static int status_from_service(vcm_cli_opts *opts, const char *only) {
        json_t *doc = NULL;
        int r = vcm_status_read(opts->state_dir, &doc);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                fprintf(stderr, "vcm status: %s/%s cannot be read (%s); observing live\n",
                        opts->state_dir, VCM_STATUS_FILE, strerror(-r));
                return -ENOENT;
        }
        int64_t written = 0;
        (void)vcm_status_parse_time(jstr(doc, "written_at"), &written);
        long long age = (long long)(time(NULL) - written);
        if (only) {
                json_t *keep = json_array();
                size_t i;
                json_t *c;
                json_array_foreach(json_object_get(doc, "clusters"), i, c)
                        if (!strcmp(only, jstr(c, "name")))
                                json_array_append(keep, c);
                if (json_array_size(keep) == 0) {
                        fprintf(stderr, "vcm status: no cluster '%s' in the service's status "
                                        "(%s/%s)\n", only, opts->state_dir, VCM_STATUS_FILE);
                        json_decref(keep);
                        json_decref(doc);
                        return 1;
                }
                json_object_set_new(doc, "clusters", keep);
        }
        if (opts->output == VCM_OUTPUT_JSON) {
                json_object_set_new(doc, "age_seconds", json_integer(age));
                json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                fputc('\n', stdout);
        } else {
                print_service_text(doc, only, age);
        }
        json_decref(doc);
        return 0;
}

static int run_status(vcm_cli_opts *opts) {
        /* The running service's view, unless other specs (--source) or another instant
         * (--at) are asked for. */
        if (!opts->at_given && !opts->source_given) {
                int r = status_from_service(opts, opts->n_args > 0 ? opts->args[0] : NULL);
                if (r != -ENOENT)
                        return r;
        }
        return run_status_live(opts);
}

static int run_status_live(vcm_cli_opts *opts) {
        _cleanup_repo_ vcm_repo *repo = NULL;
        _cleanup_(cli_pass_freep) vcm_pass *pass = NULL;
        vcm_engine_opts eopts = {};
        const char *only = opts->n_args > 0 ? opts->args[0] : NULL;
        if (cli_engine_pass(opts, true, &eopts, &repo, &pass) < 0)
                return 1;
        if (only) {
                bool found = false;
                for (size_t i = 0; i < pass->n_status; i++)
                        found = found || !strcmp(pass->status[i].cluster, only);
                if (!found) {
                        fprintf(stderr, "vcm status: no cluster '%s' in the specs or on the hosts\n",
                                only);
                        return 1;
                }
        }
        if (opts->output == VCM_OUTPUT_JSON)
                print_json(pass, only);
        else
                print_text(pass, only);
        return 0;
}

const vcm_command cli_cmd_status = {
        .name = "status",
        .summary = "each cluster's state and reason, its nodes and their hosts",
        .usage = "Usage: vcm status [CLUSTER] [--state-dir DIR] [--source SRC [--ref REF]] [--at TIME]\n"
                 "                  [-o text|json]\n"
                 "\n"
                 "Report each cluster as Pending, Progressing, Ready, Degraded, Stalled or\n"
                 "Released, with the reason and since when, and each node's domain state and\n"
                 "host. When 'vcm reconcile' runs on the state directory (default\n"
                 "/var/lib/vcm), its STATE_DIR/status.json is shown, with its age, the applied\n"
                 "commit, the next window edge and the last errors. Otherwise, or with\n"
                 "--source or --at, the hosts are observed and compared with the specs.\n"
                 "Nothing is changed.\n"
                 "\n"
                 "Exit: 0, or 1 on error (or an unknown CLUSTER), 64 usage error.\n",
        .run = run_status,
};
