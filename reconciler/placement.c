#include "reconciler/placement.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/util.h"

struct vcm_capacity {
        size_t n_hosts;
        uint64_t *vcpus;
        uint64_t *memory;
        vcm_strmap clusters_seen; /* clusters owning any observed resource */
        vcm_strmap domains;       /* observed domain name -> its resource, any host */
};

static size_t host_index(const vcm_site *site, const char *name) {
        for (size_t i = 0; i < site->n_hosts; i++)
                if (strcmp(site->hosts[i].name, name) == 0)
                        return i;
        return SIZE_MAX;
}

vcm_capacity *vcm_capacity_new(const vcm_site *site, const vcm_resource_set *observed,
                               bool (*released)(void *ctx, const char *cluster), void *ctx) {
        vcm_capacity *cap = xcalloc(1, sizeof(*cap));
        /* Names live in `observed`, which outlives the capacity tally. */
        cap->clusters_seen.borrow = true;
        cap->domains.borrow = true;
        cap->n_hosts = site->n_hosts;
        cap->vcpus = xcalloc(site->n_hosts, sizeof(*cap->vcpus));
        cap->memory = xcalloc(site->n_hosts, sizeof(*cap->memory));
        const char *last_host = NULL, *last_cluster = NULL;
        size_t hi = SIZE_MAX;
        bool gone = false;
        for (size_t i = 0; i < vcm_resource_set_size(observed); i++) {
                const vcm_resource *r = vcm_resource_set_at(observed, i);
                if (!last_cluster || strcmp(last_cluster, r->cluster) != 0) {
                        vcm_strmap_put(&cap->clusters_seen, r->cluster, (void *)1);
                        last_cluster = r->cluster;
                        gone = released && released(ctx, r->cluster);
                }
                if (r->kind != VCM_KIND_DOMAIN)
                        continue;
                vcm_strmap_put(&cap->domains, r->name, (void *)r);
                /* Observation comes host by host: cache the last host's index. */
                if (!last_host || strcmp(last_host, r->host) != 0) {
                        hi = host_index(site, r->host);
                        last_host = r->host;
                }
                if (hi == SIZE_MAX || gone)
                        continue;
                const char *v = vcm_resource_prop(r, "vcpus");
                const char *m = vcm_resource_prop(r, "memory");
                cap->vcpus[hi] += v ? strtoull(v, NULL, 10) : 0;
                cap->memory[hi] += m ? strtoull(m, NULL, 10) : 0;
        }
        return cap;
}

void vcm_capacity_free(vcm_capacity *cap) {
        if (!cap)
                return;
        free(cap->vcpus);
        free(cap->memory);
        vcm_strmap_clear(&cap->clusters_seen);
        vcm_strmap_clear(&cap->domains);
        free(cap);
}

void vcm_capacity_used(const vcm_capacity *cap, size_t i, uint32_t *ret_vcpus,
                       uint64_t *ret_memory) {
        *ret_vcpus = i < cap->n_hosts ? (uint32_t)cap->vcpus[i] : 0;
        *ret_memory = i < cap->n_hosts ? cap->memory[i] : 0;
}

void vcm_capacity_release(vcm_capacity *cap, const vcm_placement *pl) {
        for (size_t i = 0; i < pl->n; i++) {
                const vcm_placed_node *n = &pl->nodes[i];
                if (n->existing || !n->host)
                        continue;
                cap->vcpus[n->host_index] -= n->vcpus;
                cap->memory[n->host_index] -= n->memory;
        }
}

void vcm_placement_clear(vcm_placement *pl) {
        free(pl->nodes);
        *pl = (vcm_placement){ 0 };
}

static bool fits(const vcm_capacity *cap, const vcm_host *h, size_t i, const vcm_placed_node *n) {
        if (h->capacity_vcpus && cap->vcpus[i] + n->vcpus > h->capacity_vcpus)
                return false;
        if (h->capacity_memory && cap->memory[i] + n->memory > h->capacity_memory)
                return false;
        return true;
}

static bool is_unreachable(const char *host, const char *const *list, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(list[i], host) == 0)
                        return true;
        return false;
}

static void nodes_expand(const vcm_cluster *c, vcm_placement *pl) {
        size_t total = 1;
        for (size_t g = 0; g < c->n_nodes; g++)
                total += c->nodes[g].count;
        pl->nodes = xcalloc(total, sizeof(*pl->nodes));
        vcm_placed_node *fe = &pl->nodes[pl->n++];
        snprintf(fe->node, sizeof(fe->node), "frontend");
        fe->appliance = "frontend";
        fe->vcpus = c->frontend.vcpus;
        fe->memory = c->frontend.memory;
        fe->disk = c->frontend.disk;
        fe->install = VCM_INSTALL_IMAGE;
        fe->frontend = true;
        for (size_t g = 0; g < c->n_nodes; g++) {
                const vcm_node_group *grp = &c->nodes[g];
                for (uint32_t k = 0; k < grp->count; k++) {
                        vcm_placed_node *n = &pl->nodes[pl->n++];
                        snprintf(n->node, sizeof(n->node), "%s-%u", grp->name, k);
                        n->appliance = grp->appliance ? grp->appliance : "compute";
                        n->vcpus = grp->vcpus;
                        n->memory = grp->memory;
                        n->disk = grp->disk;
                        n->install = grp->install;
                }
        }
}

static void failure_fill(const vcm_capacity *cap, const vcm_site *site, const vcm_cluster *c,
                         const vcm_placed_node *n, vcm_place_failure *f) {
        *f = (vcm_place_failure){ .role = n->frontend ? VCM_ROLE_GATEWAY : VCM_ROLE_VM_SERVER,
                                  .need_vcpus = n->vcpus, .need_memory = n->memory,
                                  .need_external = n->frontend && c->frontend.external };
        snprintf(f->node, sizeof(f->node), "%s", n->node);
        bool have_mem = false;
        for (size_t h = 0; h < site->n_hosts; h++) {
                const vcm_host *host = &site->hosts[h];
                if (!(host->roles & f->role) || (f->need_external && !host->external))
                        continue;
                f->n_candidates++;
                uint64_t fv = host->capacity_vcpus
                                      ? (cap->vcpus[h] < host->capacity_vcpus
                                                 ? host->capacity_vcpus - cap->vcpus[h] : 0)
                                      : UINT64_MAX;
                uint64_t fm = host->capacity_memory
                                      ? (cap->memory[h] < host->capacity_memory
                                                 ? host->capacity_memory - cap->memory[h] : 0)
                                      : UINT64_MAX;
                if (fv > f->free_vcpus)
                        f->free_vcpus = fv;
                if (!have_mem || fm > f->free_memory) {
                        f->free_memory = fm;
                        f->free_vcpus_on_memory_best = fv;
                        have_mem = true;
                }
        }
}

static int place_cluster(vcm_capacity *cap, const vcm_site *site, const vcm_cluster *c,
                         const vcm_resource_set *observed, const char *const *unreachable,
                         size_t n_unreachable, vcm_placement *ret, vcm_cluster_state *ret_state,
                         char **ret_reason, vcm_place_failure *ret_failure) {
        vcm_placement pl = { 0 };
        nodes_expand(c, &pl);
        size_t *per_host = xcalloc(site->n_hosts, sizeof(*per_host));
        char name[128];

        /* Existing placements first: a pass never moves a running node. */
        for (size_t i = 0; i < pl.n; i++) {
                vcm_placed_node *n = &pl.nodes[i];
                snprintf(name, sizeof(name), "%s-%s", c->name, n->node);
                const vcm_resource *d = vcm_strmap_get(&cap->domains, name);
                size_t h = d ? host_index(site, d->host) : SIZE_MAX;
                if (h != SIZE_MAX && strcmp(d->cluster, c->name) == 0) {
                        n->existing = true;
                        n->host = &site->hosts[h];
                        n->host_index = h;
                        if (!n->frontend)
                                per_host[h]++;
                }
        }

        bool owns_something = vcm_strmap_has(&cap->clusters_seen, c->name);
        int r = 0;
        char *why = NULL;
        vcm_cluster_state state = VCM_STATE_PENDING;
        for (size_t i = 0; i < pl.n; i++) {
                vcm_placed_node *n = &pl.nodes[i];
                if (n->existing)
                        continue;
                if (n_unreachable > 0 && owns_something) {
                        why = xasprintf("host %s is unreachable and may run node %s; not placing "
                                        "it elsewhere", unreachable[0], n->node);
                        state = VCM_STATE_DEGRADED;
                        r = -EAGAIN;
                        break;
                }
                unsigned role = n->frontend ? VCM_ROLE_GATEWAY : VCM_ROLE_VM_SERVER;
                size_t best = SIZE_MAX;
                for (size_t h = 0; h < site->n_hosts; h++) {
                        const vcm_host *host = &site->hosts[h];
                        if (!(host->roles & role) || !fits(cap, host, h, n))
                                continue;
                        if (is_unreachable(host->name, unreachable, n_unreachable))
                                continue;
                        if (n->frontend && c->frontend.external && !host->external)
                                continue;
                        if (best == SIZE_MAX) {
                                best = h;
                                continue;
                        }
                        /* Spread: fewest of this cluster's nodes, then most free memory. */
                        if (per_host[h] != per_host[best]) {
                                if (per_host[h] < per_host[best])
                                        best = h;
                                continue;
                        }
                        uint64_t free_h = host->capacity_memory ? host->capacity_memory - cap->memory[h]
                                                                : UINT64_MAX;
                        const vcm_host *bh = &site->hosts[best];
                        uint64_t free_b = bh->capacity_memory ? bh->capacity_memory - cap->memory[best]
                                                              : UINT64_MAX;
                        if (free_h > free_b)
                                best = h;
                }
                if (best == SIZE_MAX) {
                        if (ret_failure)
                                failure_fill(cap, site, c, n, ret_failure);
                        char mem[32];
                        vcm_format_size(n->memory, mem, sizeof(mem));
                        why = xasprintf("no %s host has room for %s (%u vCPUs, %s)%s",
                                        n->frontend ? "gateway" : "vm-server", n->node, n->vcpus,
                                        mem,
                                        n->frontend && c->frontend.external
                                                ? " with an external bridge" : "");
                        r = -ENOSPC;
                        break;
                }
                n->host = &site->hosts[best];
                n->host_index = best;
                if (!n->frontend)
                        per_host[best]++;
                cap->vcpus[best] += n->vcpus;
                cap->memory[best] += n->memory;
        }
        free(per_host);
        if (r < 0) {
                vcm_capacity_release(cap, &pl);
                vcm_placement_clear(&pl);
                *ret_state = state;
                *ret_reason = why;
                return r;
        }
        *ret = pl;
        return 0;
}

int vcm_place_cluster(vcm_capacity *cap, const vcm_site *site, const vcm_cluster *c,
                      const vcm_resource_set *observed, const char *const *unreachable,
                      size_t n_unreachable, vcm_placement *ret, vcm_cluster_state *ret_state,
                      char **ret_reason) {
        return place_cluster(cap, site, c, observed, unreachable, n_unreachable, ret, ret_state,
                             ret_reason, NULL);
}

int vcm_place_cluster_explain(vcm_capacity *cap, const vcm_site *site, const vcm_cluster *c,
                              const vcm_resource_set *observed, const char *const *unreachable,
                              size_t n_unreachable, vcm_placement *ret,
                              vcm_cluster_state *ret_state, char **ret_reason,
                              vcm_place_failure *ret_failure) {
        return place_cluster(cap, site, c, observed, unreachable, n_unreachable, ret, ret_state,
                             ret_reason, ret_failure);
}
