/* vcm apply: one pass until converged or failed, with progress. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "reconciler/loop.h"

typedef struct apply_progress {
        pthread_mutex_t lock;
        bool tty;
        size_t total;
        size_t done;
        size_t failed;
} apply_progress;

/* Called from the engine's workers: one line when a step starts and one when it ends. */
static void on_step(void *userdata, const vcm_step *step, int phase, int result,
                    const char *message) {
        apply_progress *p = userdata;
        const vcm_resource *r = step->desired ? step->desired : step->observed;
        pthread_mutex_lock(&p->lock);
        char stamp[32] = "";
        if (!p->tty) {
                time_t now = time(NULL);
                struct tm tm;
                strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ ", gmtime_r(&now, &tm));
        }
        if (phase == 0) {
                printf("%s%s %s %s/%s on %s: %s...\n", stamp, vcm_action_symbol(step->action),
                       vcm_action_verb(step->action), vcm_kind_name(r->kind), r->name, r->host,
                       p->tty ? "started" : "start");
        } else {
                p->done++;
                if (result < 0)
                        p->failed++;
                if (result < 0)
                        printf("%s[%zu/%zu] %s %s/%s on %s: FAILED: %s\n", stamp, p->done,
                               p->total, vcm_action_verb(step->action), vcm_kind_name(r->kind),
                               r->name, r->host, message ? message : strerror(-result));
                else
                        printf("%s[%zu/%zu] %s %s/%s on %s: done\n", stamp, p->done, p->total,
                               vcm_action_verb(step->action), vcm_kind_name(r->kind), r->name,
                               r->host);
        }
        fflush(stdout);
        pthread_mutex_unlock(&p->lock);
}

static void on_plan(void *userdata, size_t n_steps) {
        apply_progress *p = userdata;
        p->total = n_steps;
}

static int run_apply(vcm_cli_opts *opts) {
        _cleanup_repo_ vcm_repo *repo = NULL;
        _cleanup_(cli_pass_freep) vcm_pass *pass = NULL;
        apply_progress progress = {
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .tty = opts->color,
        };
        vcm_engine_opts eopts = { .on_step = on_step, .on_plan = on_plan,
                                  .userdata = &progress };
        /* One writer per state directory: a hand-run apply next to the service (or another
         * apply) would race it on the same objects. Released when the process exits. */
        int lock_fd = -1;
        pid_t holder = 0;
        int r = vcm_state_lock(opts->state_dir, &lock_fd, &holder);
        if (r == -EWOULDBLOCK) {
                fprintf(stderr, "vcm apply: another vcm (pid %ld) is applying on %s; stop it or "
                        "wait for it (vcm status shows what the service does)\n", (long)holder,
                        opts->state_dir);
                return 3;
        }
        if (r < 0) {
                fprintf(stderr, "vcm apply: cannot lock %s/lock: %s\n", opts->state_dir,
                        strerror(-r));
                return 1;
        }
        if (cli_engine_pass(opts, false, &eopts, &repo, &pass) < 0)
                return 1;
        if (pass->n_steps == 0) {
                if (pass->diags.n_errors > 0) {
                        printf("Nothing can be applied this pass: %zu error%s above.\n",
                               pass->diags.n_errors, pass->diags.n_errors == 1 ? "" : "s");
                        return 1;
                }
                printf("No changes. Infrastructure matches the specs.\n");
                return 0;
        }

        size_t failed = 0;
        for (size_t i = 0; i < pass->n_steps; i++)
                if (pass->step_results && pass->step_results[i] < 0)
                        failed++;
        printf("\nApply %s: %zu step%s, %zu failed.\n", failed ? "incomplete" : "complete",
               pass->n_steps, pass->n_steps == 1 ? "" : "s", failed);
        for (size_t i = 0; i < pass->n_status; i++)
                printf("  %-24s %-12s %s\n", pass->status[i].cluster,
                       vcm_cluster_state_name(pass->status[i].state),
                       pass->status[i].reason ? pass->status[i].reason : "");
        if (failed)
                printf("Run 'vcm apply' again to retry; steps are idempotent.\n");
        return failed || pass->diags.n_errors ? 1 : 0;
}

const vcm_command cli_cmd_apply = {
        .name = "apply",
        .summary = "make the world match the specs in one pass",
        .usage = "Usage: vcm apply [--source SRC [--ref REF]] [--at TIME] [--parallel N]\n"
                 "                 [--state-dir DIR] [--allow-empty]\n"
                 "\n"
                 "Plan, then run the steps with N workers (default 8), each retried with backoff,\n"
                 "each journaled to STATE_DIR/journal.jsonl. Every step is idempotent: an\n"
                 "interrupted apply is finished by the next one.\n"
                 "\n"
                 "Options:\n"
                 "  --source SRC      the spec repository (default .): a directory, or a git\n"
                 "                    URL (file://, git://, ssh://, https://) or repository path\n"
                 "  --ref REF         branch or tag of a git source (default: its HEAD)\n"
                 "  --ssh-key FILE    private key for ssh:// (default: ssh agent, ~/.ssh/id_*)\n"
                 "  --at TIME         evaluate windows at this RFC 3339 instant\n"
                 "  --parallel N      worker threads (default 8)\n"
                 "  --state-dir DIR   journal and git clones (default /var/lib/vcm)\n"
                 "  --allow-empty     allow deleting everything when the specs hold no clusters\n"
                 "\n"
                 "Exit: 0 converged, 1 a step failed or error, 3 another vcm holds STATE_DIR/lock,\n"
                 "64 usage error.\n",
        .run = run_apply,
};
