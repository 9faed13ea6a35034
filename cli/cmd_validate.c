/* vcm validate: every problem in the spec repository, one per line, including reservations that
 * do not fit the site's capacity during their window next to every other one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "reconciler/capacity.h"
#include "reconciler/util.h"

/* Reservations that do not fit from --at (default now) on, as errors at each cluster's window
 * naming the first failing instant, the short resource and the clusters it overlaps. Windows
 * that ended before --at are not checked. `rank` NULL: earlier starts keep their place. */
static int capacity_diags(const vcm_repo *repo, int64_t at, const uint64_t *rank,
                          vcm_diags *diags) {
        if (!repo->site || repo->n_clusters == 0)
                return 0;
        _cleanup_(vcm_capacity_report_freep) vcm_capacity_report *rep = NULL;
        vcm_capacity_opts o = { .rank = rank };
        int r = vcm_capacity_check(repo, at, vcm_capacity_horizon(repo, at), &o, &rep);
        if (r < 0)
                return r;
        for (size_t i = 0; i < rep->n_conflicts; i++) {
                const vcm_capacity_conflict *k = &rep->conflicts[i];
                const vcm_cluster *c = &repo->clusters[k->cluster];
                char *msg = vcm_capacity_conflict_message(repo, k);
                vcm_diags_error(diags, c->has_window ? c->window.pos : c->pos, "%s", msg);
                free(msg);
        }
        return 0;
}

static size_t check_capacity(const vcm_cli_opts *opts, const vcm_repo *repo) {
        vcm_diags diags = {};
        int r = capacity_diags(repo, opts->at, NULL, &diags);
        if (r < 0) {
                fprintf(stderr, "vcm validate: capacity check failed: %s\n", strerror(-r));
                vcm_diags_clear(&diags);
                return 1;
        }
        vcm_diags_sort(&diags);
        cli_print_diags(opts, &diags);
        size_t n = diags.n_errors;
        vcm_diags_clear(&diags);
        return n;
}

/* ---- --base REF -------------------------------------------------------------------------- */

/* Validate a loaded tree and drop invalid clusters, keeping the diagnostics to compare. */
static int check_quiet(vcm_repo *repo, vcm_diags *diags) {
        vcm_validate_repo(repo, diags);
        return vcm_repo_drop_invalid(repo, diags);
}

/* Same problem in the same file: line numbers may move with the change, so they do not count. */
static bool diag_in(const vcm_diag *g, const vcm_diags *base) {
        for (size_t i = 0; i < base->n; i++) {
                const vcm_diag *b = &base->items[i];
                if (b->severity == g->severity && !strcmp(b->message, g->message) &&
                    !strcmp(b->pos.file ? b->pos.file : "", g->pos.file ? g->pos.file : ""))
                        return true;
        }
        return false;
}

/* Only the problems the change introduces: what the tree at --base does not have already.
 * Reservations that exist unchanged at the base keep their place, so a conflict is blamed on
 * the new or changed request. */
static int run_validate_base(vcm_cli_opts *opts) {
        /* The base is read with libgit2 from the repository holding the directory (or from the
         * clone of a git source), straight from its object database. */
        _cleanup_(cli_source_freep) vcm_source *src = NULL;
        if (cli_open_source(opts, &src) < 0)
                return 1;
        vcm_diags head_d = {}, base_d = {};
        vcm_repo *head = NULL, *base = NULL;
        char *error = NULL;
        int r = vcm_source_load(src, &head_d, &head, &error);
        if (r == 0)
                cli_source_loaded(opts, src);
        if (r == 0)
                r = check_quiet(head, &head_d);
        if (r < 0)
                fprintf(stderr, "vcm: cannot read the spec source '%s': %s\n", opts->source,
                        error ? error : strerror(-r));
        free(error);
        error = NULL;
        int rb = r < 0 ? 0 : vcm_source_load_at(src, opts->base, &base_d, &base, &error);
        if (rb == 0 && base)
                rb = check_quiet(base, &base_d);
        if (rb < 0)
                fprintf(stderr, "vcm validate: cannot read '%s' from the git repository holding "
                        "'%s': %s\n", opts->base, opts->source, error ? error : strerror(-rb));
        free(error);
        int ret = 1;
        if (r < 0 || rb < 0)
                goto out;
        uint64_t *rank = xcalloc(head->n_clusters ? head->n_clusters : 1, sizeof(*rank));
        vcm_capacity_rank_against(head, base, rank);
        r = capacity_diags(head, opts->at, rank, &head_d);
        free(rank);
        if (r == 0)
                r = capacity_diags(base, opts->at, NULL, &base_d);
        if (r < 0) {
                fprintf(stderr, "vcm validate: capacity check failed: %s\n", strerror(-r));
                goto out;
        }
        vcm_diags_sort(&head_d);
        vcm_diags kept = {};
        size_t old = 0;
        for (size_t i = 0; i < head_d.n; i++) {
                const vcm_diag *g = &head_d.items[i];
                if (diag_in(g, &base_d))
                        old++;
                else
                        vcm_diags_add(&kept, g->severity, g->pos, "%s", g->message);
        }
        cli_print_diags(opts, &kept);
        if (old > 0)
                fprintf(stderr, "(%zu problem%s already at %s not shown)\n", old,
                        old == 1 ? "" : "s", opts->base);
        if (kept.n_errors > 0)
                fprintf(stderr, "%zu error%s introduced since %s in %s\n", kept.n_errors,
                        kept.n_errors == 1 ? "" : "s", opts->base, opts->source);
        else
                printf("%s: no new problems since %s (%zu cluster%s)\n", opts->source,
                       opts->base, head->n_clusters, head->n_clusters == 1 ? "" : "s");
        ret = kept.n_errors > 0 ? 1 : 0;
        vcm_diags_clear(&kept);
out:
        vcm_diags_clear(&head_d);
        vcm_diags_clear(&base_d);
        vcm_repo_free(head);
        vcm_repo_free(base);
        return ret;
}

static int run_validate(vcm_cli_opts *opts) {
        if (opts->base)
                return run_validate_base(opts);
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
        .usage = "Usage: vcm validate [--source SRC [--ref REF]] [--at TIME] [--base REF]\n"
                 "\n"
                 "Load site.yaml, clusters/*.yaml and rolls/*.yaml from DIR (default: the current\n"
                 "directory) and print every problem found, one per line:\n"
                 "  FILE:LINE:COLUMN: error: MESSAGE\n"
                 "\n"
                 "Reservations are checked against the site's capacity over time: from TIME on,\n"
                 "every cluster must be placeable (frontends on gateways, nodes on vm-servers,\n"
                 "vCPUs and memory per host, volumes in the volume group) next to every other\n"
                 "cluster active at the same moment. One that is not is reported at its window\n"
                 "with the first instant it fails, the short resource and the clusters it\n"
                 "overlaps with. A reservation that started earlier keeps its place. Volumes\n"
                 "count on the lvm-iscsi storage host when site.yaml gives its\n"
                 "capacity: {storage: SIZE}.\n"
                 "\n"
                 "Options:\n"
                 "  --source SRC   the spec repository (default .): a directory, or a git\n"
                 "                 URL (file://, git://, ssh://, https://) or repository path\n"
                 "  --ref REF      branch or tag of a git source (default: its HEAD)\n"
                 "  --ssh-key FILE private key for ssh:// (default: ssh agent, ~/.ssh/id_*)\n"
                 "  --state-dir D  where git sources are cloned (default /var/lib/vcm)\n"
                 "  --at TIME      evaluate at this RFC 3339 instant instead of now\n"
                 "  --base REF     report only problems the change introduces: compare with the\n"
                 "                 specs at git ref REF (e.g. origin/main) of the repository\n"
                 "                 holding DIR; reservations unchanged since REF keep their place,\n"
                 "                 so a conflict is blamed on the new or changed request\n"
                 "\n"
                 "Exit: 0 valid, 1 problems found or the source cannot be read, 64 usage error.\n",
        .run = run_validate,
};
