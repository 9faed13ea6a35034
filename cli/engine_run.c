/* Running the engine for plan, apply and status: load, pick providers, one pass. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_engine_pass(vcm_cli_opts *opts, bool plan_only, vcm_engine_opts *eopts,
                    vcm_repo **ret_repo, vcm_pass **ret_pass) {
        _cleanup_repo_ vcm_repo *repo = NULL;
        size_t errors = 0;
        if (cli_load_source(opts, &repo, &errors) < 0)
                return -EIO;
        if (!repo->site) {
                fprintf(stderr, "vcm: %s has no valid site.yaml; nothing can be planned. "
                                "Fix it and run 'vcm validate'.\n", opts->source);
                return -EINVAL;
        }
        cli_print_spec_errors(errors);

        vcm_provider_table table;
        const char *why = NULL;
        if (cli_provider_table(repo->site, &table, &why) < 0) {
                fprintf(stderr, "vcm: %s\n", why);
                return -EOPNOTSUPP;
        }
        eopts->now = opts->at;
        eopts->parallel = opts->parallel;
        eopts->retries = eopts->retries ? eopts->retries : 3;
        eopts->state_dir = plan_only ? NULL : opts->state_dir;
        eopts->allow_empty = opts->allow_empty;
        eopts->plan_only = plan_only;

        vcm_pass *pass = NULL;
        int r = vcm_engine_run(repo, &table, eopts, &pass);
        if (r < 0) {
                fprintf(stderr, "vcm: the pass could not run: %s\n", strerror(-r));
                return r;
        }
        vcm_diags_sort(&pass->diags);
        cli_print_diags(opts, &pass->diags);
        *ret_pass = pass;
        *ret_repo = TAKE_PTR(repo);
        return 0;
}
