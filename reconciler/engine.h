/* The reconcile engine: one pass of observe -> desired -> diff -> plan -> apply.
 *
 * The engine knows providers only through a table of vtables (providers/provider.h), so tests
 * run whole passes against fake providers and the CLI against the real ones.
 *
 * Using it (the CLI): vcm_engine_run(repo, &table, &opts, &pass), then vcm_plan_print_text() or
 * vcm_plan_print_json() for a plan, pass->status for `vcm status`, pass->step_results and
 * pass->step_errors after an apply, pass->diags for problems, vcm_pass_free(pass). The pass
 * owns its resources, steps and statuses, but diagnostic positions (vcm_pos.file) point into the
 * repo's strings: print diagnostics (and the JSON plan, which includes them) while the repo lives.
 *
 * Contract with providers, beyond providers/provider.h:
 *  - open() is called once per (provider, host) pair per pass, for every host of the site;
 *    a provider that has nothing to do on a host returns -EOPNOTSUPP (not an error) or observes
 *    nothing. Any other open()/observe() failure makes the host unreachable for the pass.
 *  - create/update/delete may run concurrently on the same connection (the worker pool runs
 *    independent steps in parallel): they must be thread-safe per connection.
 *  - observe() reports each owned resource with its cluster and the props it can read back;
 *    a domain must report "state", which desired always sets to "running".
 *  - replace is delete(observed) then create(desired); a restart is update() (the provider
 *    restarts the resource when its classify() said RESTART).
 *
 * Internals, one job per file: window.c (reservation windows), placement.c (hosts for nodes),
 * desired.c (resources from specs + stable allocations), diff.c (steps), plan.c (DAG order),
 * conns.c (connections, observation), apply.c (worker pool), journal.c, status.c, print.c. */
#ifndef VCM_ENGINE_H
#define VCM_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "providers/provider.h"
#include "reconciler/resource.h"
#include "specs/model.h"

/* Which provider implements each kind for this site (depends on the site's backends). */
typedef struct vcm_provider_table {
        const vcm_provider *by_kind[VCM_KIND__COUNT];
} vcm_provider_table;

struct vcm_step;

typedef struct vcm_engine_opts {
        int64_t now;            /* Unix seconds at which windows are evaluated (--at); 0: now */
        int parallel;           /* worker threads for apply; default 8 */
        int retries;            /* attempts per step before it fails; default 3 */
        const char *state_dir;  /* journal lives here; NULL: no journal */
        bool allow_empty;       /* allow pruning when the repository has no clusters */
        bool plan_only;         /* stop after the plan */
        int backoff_ms;         /* first retry delay, doubled per attempt; 0: 200 ms; <0: none */
        /* Progress: called from apply for each step start (phase 0) and end (phase 1, with the
         * result and, on failure, the message); from worker threads, so it must lock (may be NULL). */
        void (*on_step)(void *userdata, const struct vcm_step *step, int phase, int result,
                        const char *message);
        /* Called once, after planning and before the first step runs, with the number of steps
         * (0 too), so progress can say "[k/N]" without planning twice (may be NULL). */
        void (*on_plan)(void *userdata, size_t n_steps);
        void *userdata;
        /* The service's cache (reconciler/informer.h): synced, then observation and connections
         * are borrowed from it instead of opened and read; what steps touch is re-read at the
         * next sync. NULL: open and observe every host (plan, apply, status). */
        struct vcm_informer *informer;
        /* Seed digests kept between passes over the same repo (reconciler/desired.h; the
         * service's). NULL: every pass renders every seed. */
        struct vcm_seed_memo *seed_memo;
} vcm_engine_opts;

typedef enum vcm_action {
        VCM_ACTION_CREATE,
        VCM_ACTION_UPDATE,   /* in place (live) */
        VCM_ACTION_RESTART,  /* update that requires restart */
        VCM_ACTION_REPLACE,  /* delete, then create */
        VCM_ACTION_DELETE,
} vcm_action;

/* One changed property of an update: old NULL when the observed resource lacks the key. */
typedef struct vcm_step_change {
        const char *key;
        const char *old_value;
        const char *new_value;
} vcm_step_change;

typedef struct vcm_step {
        vcm_action action;
        const vcm_resource *desired;   /* NULL for delete */
        const vcm_resource *observed;  /* NULL for create */
        char *reason;                  /* why, shown in the plan ("window ended", "memory: ...") */
        const char *cluster;           /* owning cluster (borrowed from the resource) */
        vcm_step_change *changes;      /* update/restart/replace: the keys that differ */
        size_t n_changes;
        size_t *deps;                  /* indices into vcm_pass.steps of steps that run first */
        size_t n_deps;
} vcm_step;

const char *vcm_action_name(vcm_action a); /* "create", "update", "restart", "replace", "delete" */

/* Cluster conditions (DESIGN.md §4). */
typedef enum vcm_cluster_state {
        VCM_STATE_PENDING,      /* window not open, or waiting for capacity */
        VCM_STATE_PROGRESSING,  /* steps planned or running */
        VCM_STATE_READY,        /* converged */
        VCM_STATE_DEGRADED,     /* a step failed or a host is unreachable */
        VCM_STATE_STALLED,      /* vcm refuses to act (spec failed to load, safety stop) */
        VCM_STATE_RELEASED,     /* window ended and everything is gone */
} vcm_cluster_state;

const char *vcm_cluster_state_name(vcm_cluster_state s);
/* As the plan shows an action: "+", "~", "-/+", "-"; "create", "update (requires restart)", ... */
const char *vcm_action_symbol(vcm_action a);
const char *vcm_action_verb(vcm_action a);

typedef struct vcm_cluster_status {
        char *cluster;
        vcm_cluster_state state;
        char *reason;
} vcm_cluster_status;

/* The outcome of one pass. */
typedef struct vcm_pass {
        vcm_resource_set *desired;
        vcm_resource_set *observed;
        vcm_step *steps;            /* in plan order (a topological order of the DAG) */
        size_t n_steps;
        int *step_results;          /* after apply: 0 or negative errno per step; NULL if plan only */
        char **step_errors;         /* after apply: message per failed step */
        vcm_cluster_status *status; /* one per cluster known from specs or observation */
        size_t n_status;
        vcm_diags diags;            /* plan-time problems (placement, refused changes, hosts down) */
        bool pruning_stopped;       /* safety rule 1 stopped deletions */
        char **unreachable_hosts;   /* hosts that failed to open or observe */
        size_t n_unreachable;
        int64_t next_edge;          /* next window edge after opts->now (INT64_MAX: none) */
        bool observed_borrowed;     /* `observed` belongs to the informer cache */
        void *internal;             /* engine-private (cluster evaluations) */
} vcm_pass;

void vcm_pass_free(vcm_pass *p);

/* Run one pass: open a connection per (provider, host), observe every host with every provider of
 * the table (a provider that does not serve a host returns -EOPNOTSUPP from open(), or observes
 * nothing), desired, diff, plan, apply (unless plan_only), per-cluster status.
 * Returns 0 when the pass ran (steps may have failed: see the results), a negative
 * errno when it could not run at all. */
int vcm_engine_run(const vcm_repo *repo, const vcm_provider_table *providers,
                   const vcm_engine_opts *opts, vcm_pass **ret_pass);

/* Plan output: terraform-like text (color when `color`) or stable JSON (format_version 1,
 * documented at the top of reconciler/print.c). Neither prints diagnostics: print pass->diags
 * separately (the JSON carries them in "diagnostics"). */
void vcm_plan_print_text(const vcm_pass *p, FILE *out, bool color);
void vcm_plan_print_json(const vcm_pass *p, FILE *out);
/* `vcm plan`'s exit status for this pass: 1 when it has errors, 2 when steps, else 0. */
int vcm_plan_exit_code(const vcm_pass *p);

#endif
