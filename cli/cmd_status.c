/* vcm status: each cluster's condition with its reason, nodes and hosts, from observation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

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

static int run_status(vcm_cli_opts *opts) {
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
        .usage = "Usage: vcm status [CLUSTER] [--source DIR] [--at TIME] [-o text|json]\n"
                 "\n"
                 "Observe the hosts, compare with the specs and report each cluster as Pending,\n"
                 "Progressing, Ready, Degraded, Stalled or Released, with the reason, and each\n"
                 "node's domain state and host. Nothing is changed.\n"
                 "\n"
                 "Exit: 0, or 1 on error (or an unknown CLUSTER), 64 usage error.\n",
        .run = run_status,
};
