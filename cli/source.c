/* Reading the spec source named on the command line and reporting what it says. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* What file names in diagnostics are prefixed with once a git source is loaded:
 * "URL@abc1234:" (the commit the files come from). NULL: the directory, as given. */
static char *git_prefix;

void cli_print_diags(const vcm_cli_opts *opts, const vcm_diags *d) {
        /* File names in diagnostics are relative to the repository root; prefix the source
         * directory so that editors and terminals can jump to them. */
        bool prefix = git_prefix || strcmp(opts->source, ".") != 0;
        size_t len = strlen(opts->source);
        bool slash = git_prefix || (len > 0 && opts->source[len - 1] == '/');
        for (size_t i = 0; i < d->n; i++) {
                const vcm_diag *g = &d->items[i];
                const char *sev = g->severity == VCM_SEV_ERROR ? "error" : "warning";
                if (!g->pos.file) { /* about the repository as a whole: no place to point at */
                        fprintf(stderr, "vcm: %s: %s\n", sev, g->message);
                        continue;
                }
                fprintf(stderr, "%s%s%s:%d:%d: %s: %s\n",
                        git_prefix ? git_prefix : prefix ? opts->source : "",
                        prefix && !slash ? "/" : "", g->pos.file, g->pos.line, g->pos.column,
                        sev, g->message);
        }
}

void cli_print_spec_errors(size_t errors) {
        if (errors > 0)
                fprintf(stderr, "vcm: %zu spec error%s: the clusters in files with errors are left "
                                "as they are and nothing is deleted this pass.\n",
                        errors, errors == 1 ? "" : "s");
}

void cli_source_commit(const vcm_cli_opts *opts, const char *commit) {
        free(git_prefix);
        git_prefix = NULL;
        if (asprintf(&git_prefix, "%s@%.7s:", opts->source, commit) < 0)
                git_prefix = NULL;
}

void cli_source_loaded(const vcm_cli_opts *opts, const vcm_source *src) {
        vcm_source_status st;
        vcm_source_get_status(src, &st);
        if (st.commit)
                cli_source_commit(opts, st.commit);
        if (st.rewritten)
                fprintf(stderr, "vcm: warning: the history of %s was rewritten (force-push): "
                        "%.12s does not descend from %.12s, loaded before\n",
                        vcm_source_describe(src), st.commit, st.replaced);
}

int cli_open_source(const vcm_cli_opts *opts, vcm_source **ret) {
        vcm_source_opts so = { .ref = opts->ref, .state_dir = opts->state_dir,
                               .ssh_key = opts->ssh_key };
        char *error = NULL;
        int r = vcm_source_open(opts->source, &so, ret, &error);
        if (r < 0) {
                fprintf(stderr, "vcm: %s\n", error ? error : strerror(-r));
                free(error);
        }
        return r;
}

int cli_load_source_keep(const vcm_cli_opts *opts, vcm_source **ret_source, vcm_repo **ret_repo,
                         size_t *ret_errors) {
        _cleanup_(cli_source_freep) vcm_source *src = NULL;
        int r = cli_open_source(opts, &src);
        if (r < 0)
                return r;
        vcm_diags diags = {};
        vcm_repo *repo = NULL;
        char *error = NULL;
        r = vcm_source_load(src, &diags, &repo, &error);
        if (r < 0) {
                fprintf(stderr, "vcm: %s\n", error ? error : strerror(-r));
                free(error);
                vcm_diags_clear(&diags);
                return r;
        }
        cli_source_loaded(opts, src);
        vcm_validate_repo(repo, &diags);
        /* A cluster with an error anywhere in its file is left as it is (not planned, not
         * pruned): the engine sees it only in failed_files. */
        r = vcm_repo_drop_invalid(repo, &diags);
        if (r < 0) {
                vcm_diags_clear(&diags);
                vcm_repo_free(repo);
                return r;
        }
        vcm_diags_sort(&diags);
        cli_print_diags(opts, &diags);
        *ret_errors = diags.n_errors;
        vcm_diags_clear(&diags);
        *ret_repo = repo;
        *ret_source = TAKE_PTR(src);
        return 0;
}

int cli_load_source(const vcm_cli_opts *opts, vcm_repo **ret_repo, size_t *ret_errors) {
        _cleanup_(cli_source_freep) vcm_source *src = NULL;
        return cli_load_source_keep(opts, &src, ret_repo, ret_errors);
}
