/* diff(): desired vs observed -> create / update / restart / replace / delete steps, each with a
 * human reason. Needs no provider except for classify(), which says what a changed key costs. */
#ifndef VCM_DIFF_H
#define VCM_DIFF_H

#include "reconciler/desired.h"
#include "reconciler/engine.h"

typedef struct vcm_diff_opts {
        bool allow_empty;                   /* --allow-empty (safety rule 1) */
        const char *const *unreachable_hosts; /* no steps at all on these hosts */
        size_t n_unreachable;
} vcm_diff_opts;

/* evals: one per repo cluster from vcm_desired_build (diff notes drift and withheld deletes in
 * them). Steps come in key order (cluster, kind, host, name), deps not yet set: see plan.h. */
int vcm_diff(const vcm_repo *repo, vcm_cluster_eval *evals, const vcm_resource_set *desired,
             const vcm_resource_set *observed, const vcm_provider_table *providers,
             const vcm_diff_opts *opts, vcm_diags *diags, vcm_step **ret_steps, size_t *ret_n,
             bool *ret_pruning_stopped);

void vcm_steps_free(vcm_step *steps, size_t n);

/* Safety rule 1: why nothing may be deleted this pass, or NULL when pruning is allowed. */
const char *vcm_prune_stop_reason(const vcm_repo *repo, const vcm_resource_set *observed,
                                  bool allow_empty);

/* Shown instead of raw bytes for size-like keys ("memory", "size"). */
void vcm_prop_pretty(const char *key, const char *value, char *buf, size_t len);

#endif
