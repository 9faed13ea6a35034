/* apply: run the plan's steps with a worker pool, each after its deps, retried with exponential
 * backoff; a step whose dep failed is not run and fails with "dependency failed". */
#ifndef VCM_APPLY_H
#define VCM_APPLY_H

#include "reconciler/conns.h"
#include "reconciler/engine.h"
#include "reconciler/journal.h"

/* results[i] = 0 or negative errno, errors[i] = message (malloc'd) for failed steps. */
void vcm_apply_steps(const vcm_step *steps, size_t n, const vcm_provider_table *providers,
                     vcm_conns *conns, const vcm_engine_opts *opts, const char *commit,
                     vcm_journal *journal, int *results, char **errors);

#endif
