/* The informer cache (reconciler/informer.h): list once, then watch; relist when in doubt. */
#include "reconciler/informer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/parallel.h"
#include "reconciler/util.h"

typedef struct inf_key {
        vcm_kind kind;
        char *name;
} inf_key;

typedef struct inf_pair {
        const vcm_provider *provider;
        char *host;
        char *identity;     /* what the connection was opened with: reopen when it changes */
        unsigned kinds;     /* kinds the table gives this provider */
        vcm_host_ctx ctx;
        bool opened;
        int open_result, observe_result;
        vcm_error err;
        bool stale;         /* relist at the next sync */
        bool wanted;
        void *watch;
        int watch_fd;
        inf_key *pending;
        size_t n_pending, cap_pending;
        vcm_resource_set *fresh; /* a relist's result, between the parallel part and the merge */
} inf_pair;

struct vcm_informer {
        inf_pair **pairs;
        size_t n, cap;
        vcm_resource_set *observed;
        vcm_informer_stats stats;
};

vcm_informer *vcm_informer_new(void) {
        vcm_informer *inf = xcalloc(1, sizeof(*inf));
        inf->observed = vcm_resource_set_new();
        return inf;
}

static void pending_clear(inf_pair *p) {
        for (size_t i = 0; i < p->n_pending; i++)
                free(p->pending[i].name);
        p->n_pending = 0;
}

static void pending_add(inf_pair *p, vcm_kind kind, const char *name) {
        if (p->n_pending == p->cap_pending) {
                p->cap_pending = p->cap_pending ? p->cap_pending * 2 : 16;
                p->pending = xrealloc(p->pending, p->cap_pending * sizeof(*p->pending));
        }
        p->pending[p->n_pending++] = (inf_key){ kind, xstrdup(name) };
}

static void pair_disconnect(inf_pair *p) {
        if (p->watch && p->provider->watch_close)
                p->provider->watch_close(p->watch);
        p->watch = NULL;
        p->watch_fd = -1;
        if (p->opened && p->provider->close && p->ctx.conn)
                p->provider->close(p->ctx.conn);
        p->ctx.conn = NULL;
        p->opened = false;
        p->open_result = p->observe_result = 0;
        p->stale = true;
}

static void pair_free(inf_pair *p) {
        if (!p)
                return;
        pair_disconnect(p);
        pending_clear(p);
        free(p->pending);
        vcm_resource_set_free(p->fresh);
        free(p->host);
        free(p->identity);
        free(p);
}

void vcm_informer_free(vcm_informer *inf) {
        if (!inf)
                return;
        for (size_t i = 0; i < inf->n; i++)
                pair_free(inf->pairs[i]);
        free(inf->pairs);
        vcm_resource_set_free(inf->observed);
        free(inf);
}

/* Everything a provider's open() reads from the site for this host. */
static char *host_identity(const vcm_site *site, const vcm_host *h) {
        size_t len = 0;
        for (size_t i = 0; i < h->n_agent; i++)
                len += strlen(h->agent[i]) + 1;
        char *agent = xcalloc(len + 1, 1);
        for (size_t i = 0; i < h->n_agent; i++) {
                strcat(agent, h->agent[i]);
                strcat(agent, " ");
        }
        char *id = xasprintf("%s|%s|%s|%s|%s|%s|%s|%s|%d|%d|%d", site->name, h->name,
                             h->libvirt ? h->libvirt : "", agent, h->pool_path ? h->pool_path : "",
                             h->volume_group ? h->volume_group : "", h->trunk ? h->trunk : "",
                             h->portal ? h->portal : "", (int)h->domain_type,
                             (int)site->storage_backend, (int)site->network_backend);
        free(agent);
        return id;
}

static inf_pair *pair_find(vcm_informer *inf, const vcm_provider *p, const char *host) {
        for (size_t i = 0; i < inf->n; i++)
                if (inf->pairs[i]->provider == p && strcmp(inf->pairs[i]->host, host) == 0)
                        return inf->pairs[i];
        return NULL;
}

static bool pair_holds(const inf_pair *p, const vcm_resource *r) {
        return (p->kinds & (1u << r->kind)) && strcmp(r->host, p->host) == 0;
}

/* Drop a pair's resources from the cache (before its relist, or when it leaves the site). */
static void pair_forget(vcm_informer *inf, const inf_pair *p) {
        for (size_t i = vcm_resource_set_size(inf->observed); i-- > 0;) {
                const vcm_resource *r = vcm_resource_set_at(inf->observed, i);
                if (!pair_holds(p, r))
                        continue;
                /* remove() clears the resource: look it up by copies of its key. */
                char *name = xstrdup(r->name), *host = xstrdup(r->host);
                vcm_resource_set_remove(inf->observed, r->kind, host, name);
                free(name);
                free(host);
        }
}

static void relist_one(void *ctx, size_t i) {
        inf_pair *p = ((inf_pair **)ctx)[i];
        if (p->opened && p->observe_result < 0) {
                /* The last list failed on this connection: start again from a new one. */
                pair_disconnect(p);
        }
        p->err.message[0] = '\0';
        if (!p->opened) {
                void *conn = NULL;
                p->open_result = p->provider->open
                                         ? p->provider->open(p->ctx.site, p->ctx.host, &conn,
                                                             &p->err)
                                         : 0;
                if (p->open_result < 0)
                        return;
                p->ctx.conn = conn;
                p->opened = true;
        }
        /* Watch before listing: a change made during the list is then also named by the
         * watch and re-read, never lost between the two. */
        if (!p->watch && p->provider->watch_open) {
                vcm_error werr = { { 0 } };
                int fd = -1;
                void *w = NULL;
                if (p->provider->watch_open(p->ctx.site, p->ctx.host, &w, &fd, &werr) == 0) {
                        p->watch = w;
                        p->watch_fd = fd;
                }
        }
        p->fresh = vcm_resource_set_new();
        p->observe_result = p->provider->observe ? p->provider->observe(&p->ctx, p->fresh, &p->err)
                                                 : 0;
}

/* Re-read what watches and steps named on a listed pair; a resource that cannot be read alone
 * (or a failed read) makes the pair stale. */
static void reread_pending(vcm_informer *inf, inf_pair *p) {
        if (p->n_pending == 0)
                return;
        if (p->stale || !p->opened || !p->provider->observe_one) {
                p->stale = true;
                pending_clear(p);
                return;
        }
        vcm_strmap seen = { 0 };
        for (size_t i = 0; i < p->n_pending && !p->stale; i++) {
                inf_key *k = &p->pending[i];
                if (!(p->kinds & (1u << k->kind)))
                        continue;
                char id[16];
                snprintf(id, sizeof(id), "%d:", (int)k->kind);
                _cleanup_free_ char *key = xasprintf("%s%s", id, k->name);
                if (vcm_strmap_has(&seen, key))
                        continue;
                vcm_strmap_put(&seen, key, (void *)1);
                vcm_resource_set *one = vcm_resource_set_new();
                vcm_error err = { { 0 } };
                int r = p->provider->observe_one(&p->ctx, k->kind, k->name, one, &err);
                if (r < 0) {
                        p->stale = true; /* relisted below, in this same sync */
                } else {
                        vcm_resource_set_remove(inf->observed, k->kind, p->host, k->name);
                        vcm_resource_set_merge(inf->observed, one);
                        inf->stats.rereads++;
                }
                vcm_resource_set_free(one);
        }
        vcm_strmap_clear(&seen);
        pending_clear(p);
}

void vcm_informer_sync(vcm_informer *inf, const vcm_site *site, const vcm_provider_table *t,
                       int parallel) {
        for (size_t i = 0; i < inf->n; i++)
                inf->pairs[i]->wanted = false;
        /* The pairs of this site, as the engine's conns would open them. */
        for (size_t h = 0; h < site->n_hosts; h++) {
                const vcm_host *host = &site->hosts[h];
                _cleanup_free_ char *id = host_identity(site, host);
                for (int k = 0; k < VCM_KIND__COUNT; k++) {
                        const vcm_provider *prov = t->by_kind[k];
                        if (!prov)
                                continue;
                        inf_pair *p = pair_find(inf, prov, host->name);
                        if (p && !p->wanted && strcmp(p->identity, id) != 0) {
                                pair_forget(inf, p);
                                pair_disconnect(p);
                                free(p->identity);
                                p->identity = xstrdup(id);
                        }
                        if (p && !p->wanted)
                                p->kinds = 0; /* recomputed from this table */
                        if (!p) {
                                p = xcalloc(1, sizeof(*p));
                                p->provider = prov;
                                p->host = xstrdup(host->name);
                                p->identity = xstrdup(id);
                                p->watch_fd = -1;
                                p->stale = true;
                                if (inf->n == inf->cap) {
                                        inf->cap = inf->cap ? inf->cap * 2 : 8;
                                        inf->pairs = xrealloc(inf->pairs,
                                                              inf->cap * sizeof(*inf->pairs));
                                }
                                inf->pairs[inf->n++] = p;
                        }
                        p->wanted = true;
                        p->kinds |= 1u << k;
                        p->ctx.site = site;
                        p->ctx.host = host;
                }
        }
        /* Pairs that left the site (or the table): forget and close. */
        for (size_t i = 0; i < inf->n;) {
                inf_pair *p = inf->pairs[i];
                if (p->wanted) {
                        i++;
                        continue;
                }
                if (!p->kinds)
                        p->kinds = p->provider->kinds;
                pair_forget(inf, p);
                pair_free(p);
                inf->pairs[i] = inf->pairs[--inf->n];
        }

        vcm_informer_drain(inf);
        for (size_t i = 0; i < inf->n; i++) {
                inf_pair *p = inf->pairs[i];
                /* A host that failed, or that has no watch, is listed every time. */
                if (p->open_result == -EOPNOTSUPP)
                        continue;
                if (p->open_result < 0 || p->observe_result < 0 || !p->watch)
                        p->stale = true;
                reread_pending(inf, p);
        }

        inf_pair **todo = xcalloc(inf->n ? inf->n : 1, sizeof(*todo));
        size_t n_todo = 0, n_served = 0;
        for (size_t i = 0; i < inf->n; i++) {
                if (inf->pairs[i]->open_result == -EOPNOTSUPP)
                        continue;
                n_served++;
                if (inf->pairs[i]->stale)
                        todo[n_todo++] = inf->pairs[i];
        }
        if (n_todo == n_served && n_todo > 0) {
                /* Everything relists (start, resync): a new set also returns the memory the old
                 * one kept for resources replaced by re-reads. */
                vcm_resource_set_free(inf->observed);
                inf->observed = vcm_resource_set_new();
        } else {
                for (size_t i = 0; i < n_todo; i++)
                        pair_forget(inf, todo[i]);
        }
        vcm_parallel_for(n_todo, parallel, relist_one, todo);
        for (size_t i = 0; i < n_todo; i++) {
                inf_pair *p = todo[i];
                if (p->open_result == 0 && p->observe_result == 0 && p->fresh) {
                        vcm_resource_set_merge(inf->observed, p->fresh);
                        p->stale = false;
                }
                vcm_resource_set_free(p->fresh);
                p->fresh = NULL;
                if (p->open_result != -EOPNOTSUPP)
                        inf->stats.relists++;
                if (p->open_result == -EOPNOTSUPP)
                        p->stale = false;
        }
        free(todo);
}

void vcm_informer_invalidate_all(vcm_informer *inf) {
        for (size_t i = 0; i < inf->n; i++) {
                inf->pairs[i]->stale = true;
                pending_clear(inf->pairs[i]);
        }
}

void vcm_informer_invalidate(vcm_informer *inf, const vcm_provider *p, const char *host,
                             vcm_kind kind, const char *name) {
        inf_pair *pair = pair_find(inf, p, host);
        if (pair)
                pending_add(pair, kind, name);
}

size_t vcm_informer_fds(const vcm_informer *inf, int *fds, size_t max) {
        size_t n = 0;
        for (size_t i = 0; i < inf->n && n < max; i++)
                if (inf->pairs[i]->watch && inf->pairs[i]->watch_fd >= 0)
                        fds[n++] = inf->pairs[i]->watch_fd;
        return n;
}

typedef struct drain_ctx {
        vcm_informer *inf;
        inf_pair *pair;
        size_t named;
} drain_ctx;

static void drain_note(void *userdata, vcm_kind kind, const char *name) {
        drain_ctx *d = userdata;
        pending_add(d->pair, kind, name);
        d->named++;
}

size_t vcm_informer_drain(vcm_informer *inf) {
        size_t total = 0;
        for (size_t i = 0; i < inf->n; i++) {
                inf_pair *p = inf->pairs[i];
                if (!p->watch || !p->provider->watch_read)
                        continue;
                drain_ctx d = { .inf = inf, .pair = p };
                int r = p->provider->watch_read(p->watch, drain_note, &d);
                total += d.named;
                inf->stats.notifications += d.named;
                if (r < 0) {
                        /* Lost events: a new watch and a full list of this host. */
                        p->provider->watch_close(p->watch);
                        p->watch = NULL;
                        p->watch_fd = -1;
                        p->stale = true;
                        inf->stats.broken_streams++;
                        total++;
                }
        }
        return total;
}

void vcm_informer_lend(vcm_informer *inf, vcm_conns *ret_conns) {
        vcm_conns c = { .borrowed = true };
        c.n = inf->n;
        c.items = xcalloc(inf->n ? inf->n : 1, sizeof(*c.items));
        for (size_t i = 0; i < inf->n; i++) {
                inf_pair *p = inf->pairs[i];
                c.items[i] = (vcm_conn){
                        .provider = p->provider,
                        .ctx = p->ctx,
                        .open_result = p->open_result,
                        .observe_result = p->observe_result,
                        .err = p->err,
                };
        }
        *ret_conns = c;
}

const vcm_resource_set *vcm_informer_observed(const vcm_informer *inf) {
        return inf->observed;
}

vcm_informer_stats vcm_informer_get_stats(const vcm_informer *inf) {
        return inf->stats;
}
