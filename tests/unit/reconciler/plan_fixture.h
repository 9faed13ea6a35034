/* An engine pass over the fake provider (fixtures.h) and its plan as text or JSON.
 * Include after cmocka.h and fixtures.h. */
#ifndef VCM_TEST_PLAN_FIXTURE_H
#define VCM_TEST_PLAN_FIXTURE_H

#include <stdio.h>

#include "reconciler/plan.h"

static FX_UNUSED vcm_pass *pass_at(const vcm_repo *r, int64_t now, bool plan_only) {
        vcm_provider_table t = fx_table();
        vcm_engine_opts o = { .now = now, .plan_only = plan_only, .parallel = 2, .retries = 1,
                              .backoff_ms = -1 };
        vcm_pass *p = NULL;
        assert_int_equal(vcm_engine_run(r, &t, &o, &p), 0);
        return p;
}

/* mode 0: text, 1: text in colour, 2: JSON. Caller frees. */
static FX_UNUSED char *capture(const vcm_pass *p, int mode) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (mode == 2)
                vcm_plan_print_json(p, f);
        else
                vcm_plan_print_text(p, f, mode == 1);
        fclose(f);
        return buf;
}

#endif
