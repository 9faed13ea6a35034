/* vcm validate: every problem in the spec repository, one per line, including reservations that
 * do not fit the site's capacity during their window next to every other one. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Run argv (no shell); with `out`, capture up to len-1 bytes of its stdout. */
static int run_argv(char *const argv[], char *out, size_t len) {
        int fds[2] = { -1, -1 };
        if (out && pipe(fds) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (out) {
                        dup2(fds[1], STDOUT_FILENO);
                        close(fds[0]);
                        close(fds[1]);
                }
                execvp(argv[0], argv);
                _exit(127);
        }
        size_t got = 0;
        if (out) {
                close(fds[1]);
                ssize_t n;
                while ((n = read(fds[0], out + got, len - 1 - got)) > 0 && got + (size_t)n < len - 1)
                        got += (size_t)n;
                if (n > 0)
                        got += (size_t)n;
                out[got] = 0;
                close(fds[0]);
        }
        int status;
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

/* The spec tree at REF of the git repository holding `source`, as files in a new temporary
 * directory (git archive of REF:PREFIX, PREFIX being where `source` sits in the repository).
 * The git library source (specs/source_git) replaces this once the specs library links
 * libgit2. */
static int base_extract(const char *source, const char *ref, char **ret_tmp, char **ret_tree) {
        /* Two lines: the work tree's top, then where `source` sits in it ("" at the top). */
        char out[8192];
        char *rev[] = { "git", "-C", (char *)source, "rev-parse", "--show-toplevel",
                        "--show-prefix", NULL };
        if (run_argv(rev, out, sizeof(out)) < 0)
                return -ENOTDIR;
        char *top = out, *prefix = strchr(out, '\n');
        if (!prefix)
                return -ENOTDIR;
        *prefix++ = 0;
        prefix[strcspn(prefix, "\n")] = 0;
        size_t pl = strlen(prefix);
        if (pl > 0 && prefix[pl - 1] == '/')
                prefix[pl - 1] = 0;
        char tmpl[] = "/tmp/vcm-base-XXXXXX";
        if (!mkdtemp(tmpl))
                return -errno;
        char *tmp = xstrdup(tmpl);
        char *tar = xasprintf("%s/base.tar", tmp), *tree = xasprintf("%s/tree", tmp);
        char *treeish = prefix[0] ? xasprintf("%s:%s", ref, prefix) : xstrdup(ref);
        /* From the top: inside a subdirectory git archive would narrow the tree once more. */
        char *archive[] = { "git", "-C", top, "archive", "--format=tar", "-o", tar,
                            treeish, NULL };
        char *untar[] = { "tar", "-xf", tar, "-C", tree, NULL };
        int r = run_argv(archive, NULL, 0);
        if (r == 0 && mkdir(tree, 0700) < 0)
                r = -errno;
        if (r == 0)
                r = run_argv(untar, NULL, 0);
        free(treeish);
        free(tar);
        if (r < 0) {
                nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
                free(tmp);
                free(tree);
                return r;
        }
        *ret_tmp = tmp;
        *ret_tree = tree;
        return 0;
}

static int load_quiet(const char *dir, vcm_diags *diags, vcm_repo **ret_repo) {
        vcm_repo *repo = NULL;
        int r = vcm_load_dir(dir, diags, &repo);
        if (r < 0)
                return r;
        vcm_validate_repo(repo, diags);
        r = vcm_repo_drop_invalid(repo, diags);
        if (r < 0) {
                vcm_repo_free(repo);
                return r;
        }
        *ret_repo = repo;
        return 0;
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
        _cleanup_free_ char *tmp = NULL, *tree = NULL;
        int r = base_extract(opts->source, opts->base, &tmp, &tree);
        if (r < 0) {
                fprintf(stderr, "vcm validate: cannot read '%s' from the git repository holding "
                        "'%s' (is it a git work tree, and does the ref exist?)\n", opts->base,
                        opts->source);
                return 1;
        }
        vcm_diags head_d = {}, base_d = {};
        vcm_repo *head = NULL, *base = NULL;
        r = load_quiet(opts->source, &head_d, &head);
        if (r < 0)
                fprintf(stderr, "vcm: cannot read the spec source '%s': %s\n", opts->source,
                        strerror(-r));
        int rb = r < 0 ? 0 : load_quiet(tree, &base_d, &base);
        if (rb < 0)
                fprintf(stderr, "vcm validate: cannot load the specs at '%s': %s\n", opts->base,
                        strerror(-rb));
        nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
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
        .usage = "Usage: vcm validate [--source DIR] [--at TIME] [--base REF]\n"
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
                 "  --source DIR   the spec repository (default .)\n"
                 "  --at TIME      evaluate at this RFC 3339 instant instead of now\n"
                 "  --base REF     report only problems the change introduces: compare with the\n"
                 "                 specs at git ref REF (e.g. origin/main) of the repository\n"
                 "                 holding DIR; reservations unchanged since REF keep their place,\n"
                 "                 so a conflict is blamed on the new or changed request\n"
                 "\n"
                 "Exit: 0 valid, 1 problems found or the source cannot be read, 64 usage error.\n",
        .run = run_validate,
};
