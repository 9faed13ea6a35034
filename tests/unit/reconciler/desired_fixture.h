/* desired() run for a test: the set, the evals and the diagnostics of one build (at t=1000).
 * Include after cmocka.h and fixtures.h. */
#ifndef VCM_TEST_DESIRED_FIXTURE_H
#define VCM_TEST_DESIRED_FIXTURE_H

#include "reconciler/desired.h"

typedef struct built {
        vcm_resource_set *set;
        vcm_cluster_eval *evals;
        size_t n;
        vcm_diags diags;
} built;

/* At `now`, with options (NULL: none). */
static FX_UNUSED built build_at(const vcm_repo *repo, int64_t now,
                                const vcm_resource_set *observed, const vcm_desired_opts *opts) {
        built b = { .n = repo->n_clusters };
        vcm_resource_set *empty = vcm_resource_set_new();
        assert_int_equal(vcm_desired_build(repo, now, observed ? observed : empty, opts,
                                           &b.diags, &b.set, &b.evals), 0);
        vcm_resource_set_free(empty);
        return b;
}

static FX_UNUSED built build(const vcm_repo *repo, const vcm_resource_set *observed) {
        return build_at(repo, 1000, observed, NULL);
}

static FX_UNUSED void built_free(built *b) {
        vcm_resource_set_free(b->set);
        vcm_cluster_evals_free(b->evals, b->n);
        vcm_diags_clear(&b->diags);
}

#endif
