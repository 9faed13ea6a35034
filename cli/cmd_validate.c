/* vcm validate: every problem in the spec repository, one per line, including reservations that
 * do not fit the site's capacity during their window next to every other one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "reconciler/capacity.h"

/* Reservations that do not fit from --at (default now) on: each an error at the cluster's
 * window, naming the first failing instant, the short resource and the clusters it overlaps.
 * Windows that ended before --at are not checked. Returns the number of errors printed. */
static size_t check_capacity(const vcm_cli_opts *opts, const vcm_repo *repo) {
        if (!repo->site || repo->n_clusters == 0)
                return 0;
        _cleanup_(vcm_capacity_report_freep) vcm_capacity_report *rep = NULL;
        int r = vcm_capacity_check(repo, opts->at, vcm_capacity_horizon(repo, opts->at), NULL,
                                   &rep);
        if (r < 0) {
                fprintf(stderr, "vcm validate: capacity check failed: %s\n", strerror(-r));
                return 1;
        }
        vcm_diags diags = {};
        for (size_t i = 0; i < rep->n_conflicts; i++) {
                const vcm_capacity_conflict *k = &rep->conflicts[i];
                const vcm_cluster *c = &repo->clusters[k->cluster];
                char *msg = vcm_capacity_conflict_message(repo, k);
                vcm_diags_error(&diags, c->has_window ? c->window.pos : c->pos, "%s", msg);
                free(msg);
        }
        vcm_diags_sort(&diags);
        cli_print_diags(opts, &diags);
        size_t n = diags.n_errors;
        vcm_diags_clear(&diags);
        return n;
}

static int run_validate(vcm_cli_opts *opts) {
        _cleanup_repo_ vcm_repo *repo = NULL;
        size_t errors = 0;
        if (cli_load_source(opts, &repo, &errors) < 0)
                return 1;
        /* Clusters with errors were dropped; the valid rest is still checked for capacity. */
        errors += check_capacity(opts, repo);
        if (errors > 0) {
                fprintf(stderr, "%zu error%s in %s\n", errors, errors == 1 ? "" : "s", opts->source);
                return 1;
        }
        size_t nodes = 0;
        for (size_t i = 0; i < repo->n_clusters; i++)
                nodes += vcm_cluster_node_count(&repo->clusters[i]);
        printf("%s is valid: site %s, %zu host%s, %zu cluster%s (%zu nodes), %zu roll%s\n",
               opts->source, repo->site ? repo->site->name : "-",
               repo->site ? repo->site->n_hosts : 0,
               repo->site && repo->site->n_hosts == 1 ? "" : "s", repo->n_clusters,
               repo->n_clusters == 1 ? "" : "s", nodes, repo->n_rolls,
               repo->n_rolls == 1 ? "" : "s");
        return 0;
}

const vcm_command cli_cmd_validate = {
        .name = "validate",
        .summary = "check the specs: schema, semantics, references, capacity; exit 1 on error",
        .usage = "Usage: vcm validate [--source DIR] [--at TIME]\n"
                 "\n"
                 "Load site.yaml, clusters/*.yaml and rolls/*.yaml from DIR (default: the current\n"
                 "directory) and print every problem found, one per line:\n"
                 "  FILE:LINE:COLUMN: error: MESSAGE\n"
                 "\n"
                 "Reservations are checked against the site's capacity over time: from TIME on,\n"
                 "every cluster must be placeable (frontends on gateways, nodes on vm-servers,\n"
                 "vCPUs and memory per host) next to every other cluster active at the same\n"
                 "moment. One that is not is reported at its window with the first instant it\n"
                 "fails, the short resource and the clusters it overlaps with. A reservation\n"
                 "that started earlier keeps its place. Volumes are not counted yet.\n"
                 "\n"
                 "Options:\n"
                 "  --source DIR   the spec repository (default .)\n"
                 "  --at TIME      evaluate at this RFC 3339 instant instead of now\n"
                 "\n"
                 "Exit: 0 valid, 1 problems found or the source cannot be read, 64 usage error.\n",
        .run = run_validate,
};
