/* Reading the spec source named on the command line and reporting what it says. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cli_print_diags(const vcm_cli_opts *opts, const vcm_diags *d) {
        /* File names in diagnostics are relative to the repository root; prefix the source
         * directory so that editors and terminals can jump to them. */
        bool prefix = strcmp(opts->source, ".") != 0;
        size_t len = strlen(opts->source);
        bool slash = len > 0 && opts->source[len - 1] == '/';
        for (size_t i = 0; i < d->n; i++) {
                const vcm_diag *g = &d->items[i];
                fprintf(stderr, "%s%s%s:%d:%d: %s: %s\n", prefix ? opts->source : "",
                        prefix && !slash ? "/" : "", g->pos.file ? g->pos.file : "<unknown>",
                        g->pos.line, g->pos.column,
                        g->severity == VCM_SEV_ERROR ? "error" : "warning", g->message);
        }
}

int cli_load_source(const vcm_cli_opts *opts, vcm_repo **ret_repo, size_t *ret_errors) {
        vcm_diags diags = {};
        vcm_repo *repo = NULL;
        int r = vcm_load_dir(opts->source, &diags, &repo);
        if (r < 0) {
                fprintf(stderr, "vcm: cannot read the spec source '%s': %s\n", opts->source,
                        strerror(-r));
                vcm_diags_clear(&diags);
                return r;
        }
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
        return 0;
}
