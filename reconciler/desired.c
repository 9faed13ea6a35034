/* desired(): specs + stable allocations read back from observation -> resource set. */
#include "reconciler/desired_internal.h"
#include "reconciler/capacity.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/props.h"
#include "reconciler/util.h"

#define NETID_MAX 4094

void vcm_mac_for(const char *site, const char *cluster, const char *node, unsigned nic,
                 char ret_mac[18]) {
        uint64_t h = VCM_FNV_INIT;
        h = vcm_fnv1a(h, site, strlen(site) + 1);
        h = vcm_fnv1a(h, cluster, strlen(cluster) + 1);
        h = vcm_fnv1a(h, node, strlen(node) + 1);
        h = vcm_fnv1a(h, &nic, sizeof(nic));
        /* 0x02: locally administered, unicast. */
        snprintf(ret_mac, 18, "02:%02x:%02x:%02x:%02x:%02x", (unsigned)(h >> 32) & 0xff,
                 (unsigned)(h >> 24) & 0xff, (unsigned)(h >> 16) & 0xff,
                 (unsigned)(h >> 8) & 0xff, (unsigned)h & 0xff);
}

uint32_t vcm_netid_from_name(const char *name) {
        const char *p = NULL;
        if (name && strncmp(name, VCM_BRIDGE_PREFIX, strlen(VCM_BRIDGE_PREFIX)) == 0)
                p = name + strlen(VCM_BRIDGE_PREFIX);
        else if (name && strncmp(name, VCM_VLAN_LINK_PREFIX, strlen(VCM_VLAN_LINK_PREFIX)) == 0)
                p = name + strlen(VCM_VLAN_LINK_PREFIX);
        if (!p || !*p)
                return 0;
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        return *end || v == 0 || v > NETID_MAX ? 0 : (uint32_t)v;
}

void vcm_cluster_evals_free(vcm_cluster_eval *e, size_t n) {
        if (!e)
                return;
        for (size_t i = 0; i < n; i++)
                free(e[i].blocked_reason);
        free(e);
}

void desired_block(vcm_cluster_eval *e, vcm_cluster_state state, char *reason) {
        e->placed = false;
        e->blocked_state = state;
        free(e->blocked_reason);
        e->blocked_reason = reason;
}

static int add_cluster(vcm_resource_set *out, desired_seeds *seeds, const vcm_repo *repo,
                       const vcm_cluster *c, const vcm_placement *pl, const vcm_host *st,
                       uint32_t netid) {
        const vcm_site *site = repo->site;
        const char *fe_host = NULL;
        char br[32];
        snprintf(br, sizeof(br), VCM_BRIDGE_PREFIX "%u", netid);
        for (size_t i = 0; i < pl->n; i++) {
                const vcm_placed_node *n = &pl->nodes[i];
                if (n->frontend)
                        fe_host = n->host->name;
        }
        for (size_t i = 0; i < pl->n; i++) {
                const vcm_placed_node *n = &pl->nodes[i];
                const vcm_host *h = n->host;
                desired_add_network(out, site, c, h, netid);

                const vcm_image *img = desired_image_for(site, n->appliance);
                const char *clone = NULL;
                if (n->install == VCM_INSTALL_IMAGE && img)
                        clone = img->volume ? img->volume : img->file;
                desired_volume_ref disk = { 0 }, shared = { 0 };
                int r = desired_add_volume(out, site, c, h, st, n->node, n->disk, clone,
                                           (unsigned)(i + 1), &disk);
                if (r < 0)
                        return r;
                if (n->frontend && c->shared_storage) {
                        r = desired_add_volume(out, site, c, h, st, "shared", c->shared_storage,
                                               NULL, 0, &shared);
                        if (r < 0) {
                                desired_volume_ref_clear(&disk);
                                return r;
                        }
                }

                char *dname = xasprintf("%s-%s", c->name, n->node);
                vcm_resource *d = vcm_resource_set_put(out, VCM_KIND_DOMAIN, h->name, dname,
                                                       c->name);
                if (!d) {
                        free(dname);
                        desired_volume_ref_clear(&disk);
                        desired_volume_ref_clear(&shared);
                        return -EEXIST;
                }
                vcm_resource_set_prop(d, "node", n->node);
                vcm_resource_set_prop(d, "appliance", n->appliance);
                vcm_resource_set_propf(d, "vcpus", "%u", n->vcpus);
                vcm_resource_set_propf(d, "memory", "%llu", (unsigned long long)n->memory);
                vcm_resource_set_prop(d, "state", "running");
                vcm_resource_set_prop(d, "disk0", disk.disk);
                vcm_resource_add_dep(d, VCM_KIND_VOLUME, disk.host, disk.name);
                if (shared.name) {
                        vcm_resource_set_prop(d, "disk1", shared.disk);
                        vcm_resource_add_dep(d, VCM_KIND_VOLUME, shared.host, shared.name);
                }
                char mac[18];
                vcm_resource_set_prop(d, "nic0.bridge", br);
                vcm_mac_for(site->name, c->name, n->node, 0, mac);
                vcm_resource_set_prop(d, "nic0.mac", mac);
                vcm_resource_add_dep(d, VCM_KIND_BRIDGE, h->name, br);
                if (n->frontend && c->frontend.external && h->external) {
                        vcm_resource_set_prop(d, "nic1.bridge", h->external);
                        vcm_mac_for(site->name, c->name, n->node, 1, mac);
                        vcm_resource_set_prop(d, "nic1.mac", mac);
                }
                if (img && img->kernel) {
                        vcm_resource_set_prop(d, "boot", "kernel");
                        vcm_resource_set_prop(d, "kernel", img->kernel);
                        if (img->initrd)
                                vcm_resource_set_prop(d, "initrd", img->initrd);
                        if (img->cmdline)
                                vcm_resource_set_prop(d, "cmdline", img->cmdline);
                } else {
                        vcm_resource_set_prop(d, "boot",
                                              n->install == VCM_INSTALL_PXE ? "network" : "disk");
                }
                if (repo->commit)
                        vcm_resource_set_prop(d, "meta.commit", repo->commit);
                if (!n->frontend && fe_host) {
                        /* Nodes come after their frontend, which serves them (as in Rocks). */
                        char *fe = xasprintf("%s-frontend", c->name);
                        vcm_resource_add_dep(d, VCM_KIND_DOMAIN, fe_host, fe);
                        free(fe);
                }
                free(dname);
                desired_volume_ref_clear(&disk);
                desired_volume_ref_clear(&shared);
                /* Adding the seed may move the set's items, d with them; d is hashed once its
                 * seed's digest is known (desired_seeds_render). */
                r = desired_add_seed(out, seeds, c, n, d);
                if (r < 0)
                        return r;
        }
        if (site->storage_backend == VCM_STORAGE_LVM_ISCSI)
                return desired_add_iscsi(out, c, st, pl);
        return 0;
}

/* Only a site the validator should have refused gets here. */
static void cluster_refused(vcm_cluster_eval *e, vcm_diags *diags, int err) {
        desired_block(e, VCM_STATE_STALLED,
                      xasprintf("the site cannot hold this cluster's resources (%s)",
                                strerror(-err)));
        vcm_diags_error(diags, e->spec->pos, "cluster %s: %s", e->spec->name, e->blocked_reason);
}

typedef struct seeds_failed_ctx {
        const vcm_repo *repo;
        int *err; /* per cluster: the first seed's error, 0 if none */
} seeds_failed_ctx;

static void seed_failed(void *ctx, const vcm_cluster *c, int err) {
        seeds_failed_ctx *x = ctx;
        int *slot = &x->err[c - x->repo->clusters];
        if (*slot == 0)
                *slot = err;
}

/* The seeds of every placed cluster at once. A cluster with a seed that cannot be rendered is
 * taken back whole, as one that failed while being added (its room stays counted for the rest
 * of this pass: the others are already placed). */
static void seeds_render(desired_seeds *seeds, const vcm_repo *repo, vcm_seed_memo *memo,
                         vcm_cluster_eval *evals, vcm_resource_set *out, vcm_diags *diags) {
        seeds_failed_ctx x = { repo, xcalloc(repo->n_clusters ? repo->n_clusters : 1,
                                             sizeof(int)) };
        desired_seeds_render(seeds, repo, memo, out, seed_failed, &x);
        for (size_t i = 0; i < repo->n_clusters; i++) {
                if (!x.err[i])
                        continue;
                const char *name = repo->clusters[i].name;
                /* Backwards: a removal moves the last resource, already seen, into the hole. */
                for (size_t k = vcm_resource_set_size(out); k-- > 0;) {
                        const vcm_resource *r = vcm_resource_set_at(out, k);
                        if (r->cluster && strcmp(r->cluster, name) == 0)
                                vcm_resource_set_remove(out, r->kind, r->host, r->name);
                }
                cluster_refused(&evals[i], diags, x.err[i]);
        }
        free(x.err);
}

typedef struct release_ctx {
        vcm_strmap by_name; /* cluster -> eval */
} release_ctx;

static bool cluster_released(void *ctx, const char *cluster) {
        const vcm_cluster_eval *e = vcm_strmap_get(&((release_ctx *)ctx)->by_name, cluster);
        return !e || (!e->active && !e->suspended);
}

/* Volumes are released with their cluster, except those kept by keep-volumes (diff.c). */
static bool volumes_released(void *ctx, const char *cluster) {
        const vcm_cluster_eval *e = vcm_strmap_get(&((release_ctx *)ctx)->by_name, cluster);
        return cluster_released(ctx, cluster) &&
               !(e && e->spec->on_expire == VCM_ON_EXPIRE_KEEP_VOLUMES);
}

/* Cluster indices in placement order (vcm_capacity_rank_default). Caller frees. */
static size_t *placement_order(const vcm_repo *repo) {
        size_t n = repo->n_clusters;
        uint64_t *rank = xmalloc((n ? n : 1) * sizeof(*rank));
        size_t *order = xmalloc((n ? n : 1) * sizeof(*order));
        vcm_capacity_rank_default(repo, rank);
        for (size_t i = 0; i < n; i++)
                order[rank[i]] = i;
        free(rank);
        return order;
}

/* "...; the room is held by a, b (admitted first or running)": the placed clusters, in
 * placement order, so that an operator sees who keeps the reservation. */
static void name_holders(const vcm_cluster_eval *evals, const size_t *order, size_t n,
                         vcm_cluster_eval *e) {
        char held[256] = "";
        size_t len = 0, named = 0, more = 0;
        for (size_t k = 0; k < n; k++) {
                const vcm_cluster_eval *o = &evals[order[k]];
                if (!o->placed)
                        continue;
                if (named == 4) {
                        more++;
                        continue;
                }
                int w = snprintf(held + len, sizeof(held) - len, "%s%s", named ? ", " : "",
                                 o->spec->name);
                if (w < 0 || (size_t)w >= sizeof(held) - len)
                        break;
                len += (size_t)w;
                named++;
        }
        if (!named)
                return;
        char *why = more ? xasprintf("%s; the room is held by %s and %zu more", e->blocked_reason,
                                     held, more)
                         : xasprintf("%s; the room is held by %s", e->blocked_reason, held);
        free(e->blocked_reason);
        e->blocked_reason = why;
}

/* The unreachable hosts that may hold domains (compute placement's concern); storage-only hosts
 * matter to storage placement alone. Caller frees the array (names borrowed). */
static const char **vm_hosts_of(const vcm_site *site, const char *const *hosts, size_t n,
                                size_t *ret_n) {
        const char **out = xcalloc(n + 1, sizeof(*out));
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
                const vcm_host *h = vcm_site_find_host(site, hosts[i]);
                if (!h || (h->roles & (VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER)))
                        out[m++] = hosts[i];
        }
        *ret_n = m;
        return out;
}

int vcm_desired_build(const vcm_repo *repo, int64_t now, const vcm_resource_set *observed,
                      const vcm_desired_opts *opts, vcm_diags *diags,
                      vcm_resource_set **ret_desired, vcm_cluster_eval **ret_evals) {
        const vcm_site *site = repo->site;
        if (!site)
                return -EINVAL;
        static const vcm_desired_opts no_opts = { 0 };
        if (!opts)
                opts = &no_opts;

        vcm_cluster_eval *evals = xcalloc(repo->n_clusters, sizeof(*evals));
        vcm_resource_set *out = vcm_resource_set_new();
        /* Converged sites desire about what exists: size the index once. */
        vcm_resource_set_reserve(out, vcm_resource_set_size(observed) + 64);
        desired_netids *ids = desired_netids_new(repo, observed);
        release_ctx rel = { .by_name = { .borrow = true } };
        for (size_t i = 0; i < repo->n_clusters; i++) {
                const vcm_cluster *c = &repo->clusters[i];
                vcm_cluster_eval *e = &evals[i];
                e->spec = c;
                e->phase = c->has_window ? vcm_window_phase_at(&c->window, now) : VCM_WINDOW_OPEN;
                e->active = e->phase == VCM_WINDOW_OPEN;
                e->suspended = c->suspend;
                vcm_strmap_put(&rel.by_name, c->name, e);
        }
        vcm_capacity *cap = vcm_capacity_new(site, observed,
                                             opts->prune_allowed ? cluster_released : NULL, &rel);
        bool iscsi = site->storage_backend == VCM_STORAGE_LVM_ISCSI;
        desired_storage *stor = iscsi ? desired_storage_new(site, observed,
                                                            opts->prune_allowed
                                                                    ? volumes_released : NULL,
                                                            &rel)
                                      : NULL;
        /* Contested room goes in the order validate uses (reconciler/capacity.h): the cluster
         * admitted first keeps its reservation, the other waits Pending. */
        size_t *order = placement_order(repo);
        size_t n_vm_down;
        const char **vm_down = vm_hosts_of(site, opts->unreachable_hosts, opts->n_unreachable,
                                           &n_vm_down);
        /* Per cluster: placement failed (1), for want of room (2). */
        uint8_t *unplaced = xcalloc(repo->n_clusters ? repo->n_clusters : 1, 1);
        desired_seeds *seeds = desired_seeds_new();

        for (size_t k = 0; k < repo->n_clusters; k++) {
                size_t i = order[k];
                const vcm_cluster *c = &repo->clusters[i];
                vcm_cluster_eval *e = &evals[i];
                if (!e->active)
                        continue;

                vcm_placement pl = { 0 };
                char *why = NULL;
                vcm_cluster_state why_state = VCM_STATE_PENDING;
                int r = vcm_place_cluster(cap, site, c, observed, vm_down, n_vm_down, &pl,
                                          &why_state, &why);
                desired_storage_pick sp = { 0 };
                if (r == 0 && stor) {
                        r = desired_storage_place(stor, c, opts->unreachable_hosts,
                                                  opts->n_unreachable, &sp, &why_state, &why);
                        if (r < 0) {
                                vcm_capacity_release(cap, &pl);
                                vcm_placement_clear(&pl);
                        }
                }
                if (r < 0) {
                        desired_block(e, why_state, why);
                        unplaced[i] = r == -ENOSPC ? 2 : 1;
                        continue;
                }
                if (desired_netid_assign(ids, site, c, e, diags) < 0) {
                        vcm_capacity_release(cap, &pl);
                        if (stor)
                                desired_storage_release(stor, &sp);
                        vcm_placement_clear(&pl);
                        continue;
                }
                size_t before = vcm_resource_set_size(out);
                size_t seeds_before = desired_seeds_count(seeds);
                r = add_cluster(out, seeds, repo, c, &pl, sp.host, e->netid);
                if (r < 0) {
                        /* Take back what the cluster added: it is all or nothing. */
                        desired_seeds_truncate(seeds, seeds_before);
                        while (vcm_resource_set_size(out) > before) {
                                const vcm_resource *last =
                                        vcm_resource_set_at(out, vcm_resource_set_size(out) - 1);
                                vcm_resource_set_remove(out, last->kind, last->host, last->name);
                        }
                        vcm_capacity_release(cap, &pl);
                        if (stor)
                                desired_storage_release(stor, &sp);
                }
                vcm_placement_clear(&pl);
                if (r < 0) {
                        /* Only a site the validator should have refused gets here. */
                        cluster_refused(e, diags, r);
                        continue;
                }
                e->placed = true;
        }
        seeds_render(seeds, repo, opts->seed_memo, evals, out, diags);
        /* Placement failures are reported once every cluster had its turn, so that a cluster
         * short of room can name the ones holding it. */
        for (size_t k = 0; k < repo->n_clusters; k++) {
                size_t i = order[k];
                vcm_cluster_eval *e = &evals[i];
                if (!unplaced[i])
                        continue;
                if (unplaced[i] == 2)
                        name_holders(evals, order, repo->n_clusters, e);
                /* A warning: waiting for room or for a host is a state (Pending, Degraded) that
                 * status reports, not a fault of this pass; validate is where an overbooked
                 * reservation is an error. */
                vcm_diags_warning(diags, e->spec->pos, "cluster %s cannot be placed: %s",
                                  e->spec->name, e->blocked_reason);
        }
        free(unplaced);
        desired_seeds_free(seeds);
        free(order);
        free(vm_down);

        vcm_capacity_free(cap);
        desired_storage_free(stor);
        vcm_strmap_clear(&rel.by_name);
        desired_netids_free(ids);
        *ret_desired = out;
        *ret_evals = evals;
        return 0;
}
