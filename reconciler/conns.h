/* Provider connections for one pass: one per (provider, host) pair, opened once, used by observe
 * and apply, closed at the end of the pass. */
#ifndef VCM_CONNS_H
#define VCM_CONNS_H

#include "reconciler/engine.h"

typedef struct vcm_conn {
        const vcm_provider *provider;
        vcm_host_ctx ctx;
        int open_result;      /* 0, or the error of open() (-EOPNOTSUPP: provider not on host) */
        int observe_result;
        vcm_error err;        /* message of the failed open or observe */
        vcm_resource_set *observed;
} vcm_conn;

typedef struct vcm_conns {
        vcm_conn *items;
        size_t n;
        bool borrowed;        /* lent by the informer cache: close leaves the connections open */
} vcm_conns;

/* Open and observe every pair, `parallel` at a time. Never fails as a whole: per-pair results. */
void vcm_conns_open_observe(vcm_conns *c, const vcm_site *site, const vcm_provider_table *t,
                            int parallel);
vcm_conn *vcm_conns_find(vcm_conns *c, const vcm_provider *p, const char *host);
void vcm_conns_close(vcm_conns *c);


#endif
