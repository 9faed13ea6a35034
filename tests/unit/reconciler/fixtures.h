/* Test helpers for the engine: spec models built by hand (no YAML) and a fake provider that
 * keeps its world in memory. Header-only because each tests/unit test is one .c file. */
#ifndef VCM_TEST_FIXTURES_H
#define VCM_TEST_FIXTURES_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/provider.h"
#include "reconciler/engine.h"
#include "reconciler/resource.h"

#define FX_GIB (UINT64_C(1) << 30)
#define FX_MIB (UINT64_C(1) << 20)
#define FX_UNUSED __attribute__((unused))

/* ---- spec model ---------------------------------------------------------------------------- */

static FX_UNUSED char *fx_strdup(const char *s) {
        return s ? strdup(s) : NULL;
}

static FX_UNUSED vcm_repo *fx_repo_new(vcm_net_backend net, vcm_storage_backend storage) {
        vcm_repo *r = calloc(1, sizeof(*r));
        r->site = calloc(1, sizeof(*r->site));
        r->site->name = strdup("lab");
        r->site->file = strdup("site.yaml");
        r->site->network_backend = net;
        r->site->vlan_from = 100;
        r->site->vlan_to = 199;
        r->site->storage_backend = storage;
        return r;
}

/* Hosts are stored in an array: add them all before taking pointers. */
static FX_UNUSED vcm_host *fx_add_host(vcm_repo *r, const char *name, unsigned roles,
                                       uint32_t vcpus, uint64_t memory) {
        vcm_site *s = r->site;
        s->hosts = realloc(s->hosts, (s->n_hosts + 1) * sizeof(*s->hosts));
        vcm_host *h = &s->hosts[s->n_hosts++];
        *h = (vcm_host){ .name = strdup(name), .roles = roles, .capacity_vcpus = vcpus,
                         .capacity_memory = memory };
        if (roles & (VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER))
                h->libvirt = strdup("test:///default");
        if (s->network_backend == VCM_NET_VLAN)
                h->trunk = strdup("eth1");
        if (roles & VCM_ROLE_STORAGE) {
                h->volume_group = strdup("vcm");
                h->portal = strdup("192.0.2.10:3260");
        }
        return h;
}

static FX_UNUSED void fx_add_image(vcm_repo *r, const char *appliance, const char *volume,
                                   const char *kernel) {
        vcm_site *s = r->site;
        s->images = realloc(s->images, (s->n_images + 1) * sizeof(*s->images));
        s->images[s->n_images++] = (vcm_image){ .appliance = strdup(appliance),
                                                .volume = fx_strdup(volume),
                                                .kernel = fx_strdup(kernel) };
}

/* Clusters are stored in an array: add them all before taking pointers for long. */
static FX_UNUSED vcm_cluster *fx_add_cluster(vcm_repo *r, const char *name) {
        r->clusters = realloc(r->clusters, (r->n_clusters + 1) * sizeof(*r->clusters));
        vcm_cluster *c = &r->clusters[r->n_clusters++];
        char file[128];
        snprintf(file, sizeof(file), "clusters/%s.yaml", name);
        *c = (vcm_cluster){
                .file = strdup(file),
                .name = strdup(name),
                .owner = strdup("alice@example.org"),
                .network = { .vlan_auto = true, .subnet = strdup("10.10.0.0/24") },
                .frontend = { .vcpus = 2, .memory = 2 * FX_GIB, .disk = 10 * FX_GIB },
        };
        return c;
}

static FX_UNUSED vcm_node_group *fx_add_group(vcm_cluster *c, const char *name, uint32_t count,
                                              uint32_t vcpus, uint64_t memory) {
        c->nodes = realloc(c->nodes, (c->n_nodes + 1) * sizeof(*c->nodes));
        vcm_node_group *g = &c->nodes[c->n_nodes++];
        *g = (vcm_node_group){ .name = strdup(name), .appliance = strdup("compute"),
                               .count = count, .vcpus = vcpus, .memory = memory,
                               .disk = 20 * FX_GIB, .install = VCM_INSTALL_IMAGE };
        return g;
}

static FX_UNUSED void fx_set_window(vcm_cluster *c, bool has_start, int64_t start, bool has_end,
                                    int64_t end) {
        c->has_window = true;
        c->window.has_start = has_start;
        c->window.start = start;
        c->window.has_end = has_end;
        c->window.end = end;
}

static FX_UNUSED void fx_add_slot(vcm_window *w, uint8_t days, int from, int to, const char *tz) {
        w->recurring = realloc(w->recurring, (w->n_recurring + 1) * sizeof(*w->recurring));
        w->recurring[w->n_recurring++] = (vcm_slot){ .days = days, .from_minute = from,
                                                     .to_minute = to, .timezone = strdup(tz) };
}

static FX_UNUSED void fx_cluster_free(vcm_cluster *c) {
        free(c->file);
        free(c->name);
        free(c->owner);
        free(c->admitted_commit);
        free(c->network.subnet);
        for (size_t i = 0; i < c->window.n_recurring; i++)
                free(c->window.recurring[i].timezone);
        free(c->window.recurring);
        for (size_t i = 0; i < c->n_nodes; i++) {
                free(c->nodes[i].name);
                free(c->nodes[i].appliance);
        }
        free(c->nodes);
}

/* Remove a cluster from the specs (as if its file were deleted). */
static FX_UNUSED void fx_remove_cluster(vcm_repo *r, const char *name) {
        for (size_t i = 0; i < r->n_clusters; i++)
                if (strcmp(r->clusters[i].name, name) == 0) {
                        fx_cluster_free(&r->clusters[i]);
                        memmove(&r->clusters[i], &r->clusters[i + 1],
                                (r->n_clusters - i - 1) * sizeof(*r->clusters));
                        r->n_clusters--;
                        return;
                }
}

static FX_UNUSED void fx_repo_free(vcm_repo *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_clusters; i++)
                fx_cluster_free(&r->clusters[i]);
        free(r->clusters);
        if (r->site) {
                vcm_site *s = r->site;
                for (size_t i = 0; i < s->n_hosts; i++) {
                        vcm_host *h = &s->hosts[i];
                        free(h->name);
                        free(h->libvirt);
                        free(h->trunk);
                        free(h->external);
                        free(h->volume_group);
                        free(h->portal);
                }
                free(s->hosts);
                for (size_t i = 0; i < s->n_images; i++) {
                        free(s->images[i].appliance);
                        free(s->images[i].volume);
                        free(s->images[i].kernel);
                }
                free(s->images);
                free(s->name);
                free(s->file);
                free(s);
        }
        for (size_t i = 0; i < r->n_failed_files; i++)
                free(r->failed_files[i]);
        free(r->failed_files);
        free(r->commit);
        free(r);
}

/* ---- fake provider ------------------------------------------------------------------------- */

typedef struct fx_world {
        pthread_mutex_t lock;
        vcm_resource_set *res;   /* everything that "exists", all hosts */
        long ops;                /* create/update/delete calls that succeeded */
        long fail_from;          /* calls numbered >= this fail with -EIO (-1: never) */
        long calls;              /* all create/update/delete calls */
        long dup_creates;        /* create of a key that already existed */
        long opens, observes;
        const char *down_host;   /* open() fails for this host */
        const char *fail_kind_host; /* create fails permanently on this host */
} fx_world;

static fx_world *fx_current;

static FX_UNUSED fx_world *fx_world_new(void) {
        fx_world *w = calloc(1, sizeof(*w));
        pthread_mutex_init(&w->lock, NULL);
        w->res = vcm_resource_set_new();
        w->fail_from = -1;
        fx_current = w;
        return w;
}

static FX_UNUSED void fx_world_free(fx_world *w) {
        if (!w)
                return;
        vcm_resource_set_free(w->res);
        pthread_mutex_destroy(&w->lock);
        if (fx_current == w)
                fx_current = NULL;
        free(w);
}

static int fx_open(const vcm_site *site, const vcm_host *host, void **ret_conn, vcm_error *err) {
        fx_world *w = fx_current;
        pthread_mutex_lock(&w->lock);
        w->opens++;
        pthread_mutex_unlock(&w->lock);
        if (w->down_host && strcmp(w->down_host, host->name) == 0) {
                vcm_error_set(err, "connection refused by %s", host->name);
                return -EHOSTUNREACH;
        }
        *ret_conn = w;
        return 0;
}

static void fx_close(void *conn) {
        (void)conn;
}

static int fx_observe(vcm_host_ctx *ctx, vcm_resource_set *out, vcm_error *err) {
        fx_world *w = ctx->conn;
        pthread_mutex_lock(&w->lock);
        w->observes++;
        for (size_t i = 0; i < vcm_resource_set_size(w->res); i++) {
                const vcm_resource *r = vcm_resource_set_at(w->res, i);
                if (strcmp(r->host, ctx->host->name) == 0)
                        vcm_resource_set_add_copy(out, r);
        }
        pthread_mutex_unlock(&w->lock);
        return 0;
}

/* Counts the call; returns -EIO when the injected failure point is reached. */
static int fx_call_locked(fx_world *w, vcm_error *err) {
        long n = w->calls++;
        if (w->fail_from >= 0 && n >= w->fail_from) {
                vcm_error_set(err, "injected failure at call %ld", n);
                return -EIO;
        }
        return 0;
}

static void fx_store_locked(fx_world *w, const vcm_resource *d) {
        vcm_resource_set_remove(w->res, d->kind, d->host, d->name);
        vcm_resource_set_add_copy(w->res, d);
        vcm_resource *s = (vcm_resource *)vcm_resource_set_find(w->res, d->kind, d->host, d->name);
        /* Observation carries the hash the provider stored, and no deps. */
        s->hash = d->hash;
}

static int fx_create(vcm_host_ctx *ctx, const vcm_resource *d, vcm_error *err) {
        fx_world *w = ctx->conn;
        pthread_mutex_lock(&w->lock);
        int r = fx_call_locked(w, err);
        if (r == 0 && w->fail_kind_host && strcmp(w->fail_kind_host, d->host) == 0) {
                vcm_error_set(err, "%s: disk full", d->host);
                r = -ENOSPC;
        }
        if (r == 0) {
                if (vcm_resource_set_find(w->res, d->kind, d->host, d->name))
                        w->dup_creates++;
                fx_store_locked(w, d);
                w->ops++;
        }
        pthread_mutex_unlock(&w->lock);
        return r;
}

static int fx_update(vcm_host_ctx *ctx, const vcm_resource *d, const vcm_resource *o,
                     vcm_error *err) {
        fx_world *w = ctx->conn;
        pthread_mutex_lock(&w->lock);
        int r = fx_call_locked(w, err);
        if (r == 0) {
                fx_store_locked(w, d);
                w->ops++;
        }
        pthread_mutex_unlock(&w->lock);
        return r;
}

static int fx_delete(vcm_host_ctx *ctx, const vcm_resource *o, vcm_error *err) {
        fx_world *w = ctx->conn;
        pthread_mutex_lock(&w->lock);
        int r = fx_call_locked(w, err);
        if (r == 0) {
                vcm_resource_set_remove(w->res, o->kind, o->host, o->name);
                w->ops++;
        }
        pthread_mutex_unlock(&w->lock);
        return r;
}

static vcm_change fx_classify(vcm_kind kind, const char *key, const char *old_value,
                              const char *new_value, const char **ret_reason) {
        if (strcmp(key, "state") == 0)
                return VCM_CHANGE_LIVE;
        if (kind == VCM_KIND_DOMAIN && (strcmp(key, "memory") == 0 || strcmp(key, "vcpus") == 0))
                return VCM_CHANGE_RESTART;
        if (kind == VCM_KIND_VOLUME && strcmp(key, "size") == 0) {
                if (old_value && strtoull(new_value, NULL, 10) < strtoull(old_value, NULL, 10)) {
                        *ret_reason = "volumes cannot shrink";
                        return VCM_CHANGE_REFUSED;
                }
                return VCM_CHANGE_LIVE;
        }
        if (kind == VCM_KIND_DOMAIN && strcmp(key, "meta.commit") == 0)
                return VCM_CHANGE_LIVE;
        return VCM_CHANGE_REPLACE;
}

static const vcm_provider fx_provider = {
        .name = "fake",
        .kinds = (1u << VCM_KIND__COUNT) - 1,
        .open = fx_open,
        .close = fx_close,
        .observe = fx_observe,
        .create = fx_create,
        .update = fx_update,
        .delete = fx_delete,
        .classify = fx_classify,
};

static FX_UNUSED vcm_provider_table fx_table(void) {
        vcm_provider_table t = { 0 };
        for (int k = 0; k < VCM_KIND__COUNT; k++)
                t.by_kind[k] = &fx_provider;
        return t;
}

/* Count resources of a kind (and cluster, when given) in a set. */
static FX_UNUSED size_t fx_count(const vcm_resource_set *s, vcm_kind kind, const char *cluster) {
        size_t n = 0;
        for (size_t i = 0; i < vcm_resource_set_size(s); i++) {
                const vcm_resource *r = vcm_resource_set_at(s, i);
                if (r->kind == kind && (!cluster || strcmp(r->cluster, cluster) == 0))
                        n++;
        }
        return n;
}

static FX_UNUSED const vcm_cluster_status *fx_status(const vcm_pass *p, const char *cluster) {
        for (size_t i = 0; i < p->n_status; i++)
                if (strcmp(p->status[i].cluster, cluster) == 0)
                        return &p->status[i];
        return NULL;
}

static FX_UNUSED size_t fx_step_index(const vcm_pass *p, vcm_kind kind, const char *name) {
        for (size_t i = 0; i < p->n_steps; i++) {
                const vcm_resource *r = p->steps[i].desired ? p->steps[i].desired
                                                            : p->steps[i].observed;
                if (r->kind == kind && strcmp(r->name, name) == 0)
                        return i;
        }
        return SIZE_MAX;
}

#endif
