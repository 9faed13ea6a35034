#include "reconciler/conns.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/parallel.h"
#include "reconciler/util.h"

static void open_observe_one(void *ctx, size_t i) {
        vcm_conn *c = &((vcm_conns *)ctx)->items[i];
        void *conn = NULL;
        if (c->provider->open) {
                c->open_result = c->provider->open(c->ctx.site, c->ctx.host, &conn, &c->err);
                if (c->open_result < 0)
                        return;
        }
        c->ctx.conn = conn;
        c->observed = vcm_resource_set_new();
        if (c->provider->observe)
                c->observe_result = c->provider->observe(&c->ctx, c->observed, &c->err);
}

void vcm_conns_open_observe(vcm_conns *c, const vcm_site *site, const vcm_provider_table *t,
                            int parallel) {
        const vcm_provider *distinct[VCM_KIND__COUNT];
        size_t nd = 0;
        for (int k = 0; k < VCM_KIND__COUNT; k++) {
                const vcm_provider *p = t->by_kind[k];
                bool seen = !p;
                for (size_t i = 0; i < nd && !seen; i++)
                        seen = distinct[i] == p;
                if (!seen)
                        distinct[nd++] = p;
        }
        c->n = nd * site->n_hosts;
        c->items = xcalloc(c->n, sizeof(*c->items));
        for (size_t h = 0; h < site->n_hosts; h++)
                for (size_t d = 0; d < nd; d++)
                        c->items[h * nd + d] = (vcm_conn){
                                .provider = distinct[d],
                                .ctx = { .site = site, .host = &site->hosts[h] },
                        };
        vcm_parallel_for(c->n, parallel, open_observe_one, c);
}

vcm_conn *vcm_conns_find(vcm_conns *c, const vcm_provider *p, const char *host) {
        for (size_t i = 0; i < c->n; i++)
                if (c->items[i].provider == p && strcmp(c->items[i].ctx.host->name, host) == 0)
                        return &c->items[i];
        return NULL;
}

void vcm_conns_close(vcm_conns *c) {
        for (size_t i = 0; i < c->n; i++) {
                vcm_conn *x = &c->items[i];
                if (!c->borrowed && x->open_result == 0 && x->provider->close && x->ctx.conn)
                        x->provider->close(x->ctx.conn);
                vcm_resource_set_free(x->observed);
        }
        free(c->items);
        *c = (vcm_conns){ 0 };
}
