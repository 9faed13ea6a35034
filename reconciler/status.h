/* Per-cluster status after a pass: Pending, Progressing, Ready, Degraded, Stalled, Released,
 * each with a reason a person can act on. */
#ifndef VCM_STATUS_H
#define VCM_STATUS_H

#include "reconciler/desired.h"
#include "reconciler/engine.h"

/* Fills p->status (one per cluster of the specs or of observation, sorted by name). */
void vcm_status_compute(vcm_pass *p, const vcm_repo *repo, const vcm_cluster_eval *evals,
                        bool plan_only, int64_t now);

#endif
