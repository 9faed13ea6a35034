/* vcm validate: every problem in the spec repository, one per line. */
#include <stdio.h>

#include "cli.h"

static int run_validate(vcm_cli_opts *opts) {
        _cleanup_repo_ vcm_repo *repo = NULL;
        size_t errors = 0;
        if (cli_load_source(opts, &repo, &errors) < 0)
                return 1;
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
        .summary = "check the specs: schema, semantics, references; exit 1 on error",
        .usage = "Usage: vcm validate [--source DIR] [--at TIME]\n"
                 "\n"
                 "Load site.yaml, clusters/*.yaml and rolls/*.yaml from DIR (default: the current\n"
                 "directory) and print every problem found, one per line:\n"
                 "  FILE:LINE:COLUMN: error: MESSAGE\n"
                 "\n"
                 "Options:\n"
                 "  --source DIR   the spec repository (default .)\n"
                 "  --at TIME      evaluate at this RFC 3339 instant instead of now\n"
                 "\n"
                 "Exit: 0 valid, 1 problems found or the source cannot be read, 64 usage error.\n",
        .run = run_validate,
};
