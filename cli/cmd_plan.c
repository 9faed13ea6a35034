/* vcm plan: what apply would do now (or at --at), like terraform plan. A running service on the
 * same state directory and specs answers from its cache (reconciler/control.h); otherwise, or
 * with --refresh, every host is observed here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "reconciler/control.h"

/* How long a busy service (a pass applying steps) may keep `vcm plan` waiting before it plans
 * alone. */
#define SERVICE_WAIT_MS 5000

/* The exit status, or -1 when the service did not plan (the reason is printed when one runs). */
static int plan_from_service(vcm_cli_opts *opts) {
        vcm_source_opts so = { .ref = opts->ref, .state_dir = opts->state_dir,
                               .ssh_key = opts->ssh_key };
        _cleanup_(cli_source_freep) vcm_source *src = NULL;
        _cleanup_free_ char *error = NULL;
        if (vcm_source_open(opts->source, &so, &src, &error) < 0)
                return -1; /* the plan of its own says what is wrong */
        vcm_plan_request req = {
                .source = (char *)vcm_source_identity(src),
                .at = opts->at_given ? opts->at : 0,
                .json = opts->output == VCM_OUTPUT_JSON,
                .color = opts->color,
                .allow_empty = opts->allow_empty,
        };
        vcm_plan_answer a = { 0 };
        int r = vcm_control_ask_plan(opts->state_dir, &req, SERVICE_WAIT_MS, &a, &error);
        if (r == -ENOENT || r == -ECONNREFUSED)
                return -1; /* no service: nothing to say */
        if (r < 0 || a.declined) {
                fprintf(stderr, "vcm: the service on %s did not plan this (%s); observing every "
                                "host\n",
                        opts->state_dir, r < 0 ? error : a.declined);
                vcm_plan_answer_clear(&a);
                return -1;
        }
        if (a.commit)
                cli_source_commit(opts, a.commit);
        cli_print_diags(opts, &a.load_diags);
        cli_print_spec_errors(a.load_diags.n_errors);
        cli_print_diags(opts, &a.pass_diags);
        fputs(a.output, stdout);
        fprintf(stderr, "vcm: planned by the service (pid %ld) from what it has observed; "
                        "--refresh observes every host now\n", a.pid);
        r = a.exit_code;
        vcm_plan_answer_clear(&a);
        return r;
}

static int run_plan(vcm_cli_opts *opts) {
        if (!opts->refresh) {
                int r = plan_from_service(opts);
                if (r >= 0)
                        return r;
        }
        _cleanup_repo_ vcm_repo *repo = NULL;
        _cleanup_(cli_pass_freep) vcm_pass *pass = NULL;
        vcm_engine_opts eopts = {};
        if (cli_engine_pass(opts, true, &eopts, &repo, &pass) < 0)
                return 1;
        if (opts->output == VCM_OUTPUT_JSON)
                vcm_plan_print_json(pass, stdout);
        else
                vcm_plan_print_text(pass, stdout, opts->color);
        return vcm_plan_exit_code(pass);
}

const vcm_command cli_cmd_plan = {
        .name = "plan",
        .summary = "show what apply would change now (or at --at); exit 2 if changes",
        .usage = "Usage: vcm plan [--source SRC [--ref REF]] [--at TIME] [-o text|json]\n"
                 "                [--state-dir DIR] [--refresh]\n"
                 "\n"
                 "Observe what exists, compare it with the specs and print the steps apply would\n"
                 "take, in order: '+' create, '~' update, '-/+' replace, '-' destroy, each with\n"
                 "its reason. Nothing is changed.\n"
                 "\n"
                 "When a service ('vcm reconcile --watch') runs on the state directory with the\n"
                 "same source, it plans from what it has observed (kept current by libvirt's\n"
                 "events) instead of every host being read again; stderr says so. A service busy\n"
                 "for more than 5 s, or one that reconciles other specs, is not waited for.\n"
                 "\n"
                 "Options:\n"
                "  --source SRC     the spec repository (default .): a directory, or a git\n"
                 "                   URL (file://, git://, ssh://, https://) or repository path\n"
                 "  --ref REF        branch or tag of a git source (default: its HEAD)\n"
                 "  --ssh-key FILE   private key for ssh:// (default: ssh agent, ~/.ssh/id_*)\n"
                 "  --state-dir DIR  the service's, and where git sources are cloned\n"
                 "                   (default /var/lib/vcm)\n"
                 "  --refresh        observe every host now, even when a service could answer\n"
                 "  --at TIME        evaluate windows at this RFC 3339 instant, e.g.\n"
                 "                   --at 2026-12-20T18:00:01+09:00 shows a release\n"
                 "  -o, --output F   text (default) or json (stable format, see docs/)\n"
                 "\n"
                 "Exit: 0 no changes, 2 changes planned, 1 error, 64 usage error.\n",
        .run = run_plan,
};
