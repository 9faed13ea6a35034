/* vcm plan: what apply would do now (or at --at), like terraform plan. */
#include <stdio.h>

#include "cli.h"

static int run_plan(vcm_cli_opts *opts) {
        _cleanup_repo_ vcm_repo *repo = NULL;
        _cleanup_(cli_pass_freep) vcm_pass *pass = NULL;
        vcm_engine_opts eopts = {};
        if (cli_engine_pass(opts, true, &eopts, &repo, &pass) < 0)
                return 1;
        if (opts->output == VCM_OUTPUT_JSON)
                vcm_plan_print_json(pass, stdout);
        else
                vcm_plan_print_text(pass, stdout, opts->color);
        if (pass->diags.n_errors > 0)
                return 1;
        return pass->n_steps > 0 ? 2 : 0;
}

const vcm_command cli_cmd_plan = {
        .name = "plan",
        .summary = "show what apply would change now (or at --at); exit 2 if changes",
        .usage = "Usage: vcm plan [--source SRC [--ref REF]] [--at TIME] [-o text|json]\n"
                 "\n"
                 "Observe what exists, compare it with the specs and print the steps apply would\n"
                 "take, in order: '+' create, '~' update, '-/+' replace, '-' destroy, each with\n"
                 "its reason. Nothing is changed.\n"
                 "\n"
                 "Options:\n"
                "  --source SRC     the spec repository (default .): a directory, or a git\n"
                 "                   URL (file://, git://, ssh://, https://) or repository path\n"
                 "  --ref REF        branch or tag of a git source (default: its HEAD)\n"
                 "  --ssh-key FILE   private key for ssh:// (default: ssh agent, ~/.ssh/id_*)\n"
                 "  --state-dir DIR  where git sources are cloned (default /var/lib/vcm)\n"
                 "  --at TIME        evaluate windows at this RFC 3339 instant, e.g.\n"
                 "                   --at 2026-12-20T18:00:01+09:00 shows a release\n"
                 "  -o, --output F   text (default) or json (stable format, see docs/)\n"
                 "\n"
                 "Exit: 0 no changes, 2 changes planned, 1 error, 64 usage error.\n",
        .run = run_plan,
};
