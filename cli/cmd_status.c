/* vcm status: each cluster's condition with its reason, nodes and hosts, from observation. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static void print_text(const vcm_pass *pass, const char *only) {
        printf("%-24s %-12s %s\n", "CLUSTER", "STATE", "REASON");
        for (size_t i = 0; i < pass->n_status; i++) {
                const vcm_cluster_status *s = &pass->status[i];
                if (only && strcmp(only, s->cluster))
                        continue;
                printf("%-24s %-12s %s\n", s->cluster, vcm_cluster_state_name(s->state),
                       s->reason ? s->reason : "");
                for (size_t k = 0; k < vcm_resource_set_size(pass->observed); k++) {
                        const vcm_resource *r = vcm_resource_set_at(pass->observed, k);
                        if (r->kind != VCM_KIND_DOMAIN || strcmp(r->cluster, s->cluster))
                                continue;
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
                for (size_t k = 0; k < vcm_resource_set_size(pass->observed); k++) {
                        const vcm_resource *r = vcm_resource_set_at(pass->observed, k);
                        if (r->kind != VCM_KIND_DOMAIN || strcmp(r->cluster, s->cluster))
                                continue;
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
