/* desired(): specs + stable allocations read back from observation -> resource set. */
#include "reconciler/desired.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/placement.h"
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

static void block(vcm_cluster_eval *e, vcm_cluster_state state, char *reason) {
        e->placed = false;
        e->blocked_state = state;
        free(e->blocked_reason);
        e->blocked_reason = reason;
}

/* ---- network ids ------------------------------------------------------------------------- */

typedef struct netids {
        const char *owner[NETID_MAX + 1]; /* cluster holding the id (observed or fixed) */
        vcm_strmap own;                   /* cluster -> (void *)(uintptr_t)id seen on its resources */
        const char *last;                 /* last cluster noted: resources come in runs */
} netids;

static void netid_note(netids *n, uint32_t id, const char *cluster) {
        if (id == 0 || id > NETID_MAX)
                return;
        if (!n->owner[id])
                n->owner[id] = cluster;
        if (n->last && strcmp(n->last, cluster) == 0)
                return;
        n->last = cluster;
        if (!vcm_strmap_has(&n->own, cluster))
                vcm_strmap_put(&n->own, cluster, (void *)(uintptr_t)id);
}

static void netids_scan(netids *n, const vcm_repo *repo, const vcm_resource_set *observed) {
        /* Bridges and VLAN links carry the id directly; prefer them over domains. */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < vcm_resource_set_size(observed); i++) {
                        const vcm_resource *r = vcm_resource_set_at(observed, i);
                        if (pass == 0 && (r->kind == VCM_KIND_BRIDGE ||
                                          r->kind == VCM_KIND_VLAN_LINK)) {
                                const char *v = vcm_resource_prop(r, "netid");
                                if (!v)
                                        v = vcm_resource_prop(r, "vlan");
                                uint32_t id = v ? (uint32_t)strtoul(v, NULL, 10)
                                                : vcm_netid_from_name(r->name);
                                netid_note(n, id, r->cluster);
                        } else if (pass == 1 && r->kind == VCM_KIND_DOMAIN) {
                                netid_note(n, vcm_netid_from_name(vcm_resource_prop(r, "nic0.bridge")),
                                           r->cluster);
                        }
                }
        /* Fixed ids are reserved by their cluster whether or not it is active now. */
        for (size_t i = 0; i < repo->n_clusters; i++) {
                const vcm_cluster *c = &repo->clusters[i];
                if (!c->network.vlan_auto && c->network.vlan <= NETID_MAX && !n->owner[c->network.vlan])
                        n->owner[c->network.vlan] = c->name;
        }
}

static int netid_assign(netids *n, const vcm_site *site, const vcm_cluster *c,
                        vcm_cluster_eval *e, vcm_diags *diags) {
        uint32_t from = 1, to = NETID_MAX;
        /* The bridge backend takes the range too when given: bridges are named by network id,
         * so sites sharing one host keep apart by giving each its own range. */
        if (site->vlan_from > 0) {
                from = site->vlan_from;
                to = site->vlan_to;
        }
        if (!c->network.vlan_auto) {
                uint32_t id = c->network.vlan;
                if (id > NETID_MAX) {
                        block(e, VCM_STATE_PENDING, xasprintf("network id %u is out of range", id));
                        return -ERANGE;
                }
                const char *holder = n->owner[id];
                if (holder && strcmp(holder, c->name) != 0) {
                        block(e, VCM_STATE_PENDING,
                              xasprintf("network id %u is still held by cluster %s", id, holder));
                        vcm_diags_error(diags, c->network.vlan_pos,
                                        "cluster %s: network id %u is still held by cluster %s; "
                                        "waiting for it to be released", c->name, id, holder);
                        return -EBUSY;
                }
                n->owner[id] = c->name;
                e->netid = id;
                return 0;
        }
        uintptr_t own = (uintptr_t)vcm_strmap_get(&n->own, c->name);
        if (own) {
                /* Stable: keep the id the cluster's bridge or domains already carry. */
                e->netid = (uint32_t)own;
                return 0;
        }
        for (uint32_t id = from; id <= to && id <= NETID_MAX; id++)
                if (!n->owner[id]) {
                        n->owner[id] = c->name;
                        netid_note(n, id, c->name);
                        e->netid = id;
                        return 0;
                }
        block(e, VCM_STATE_PENDING, xasprintf("no free network id in %u..%u", from, to));
        vcm_diags_error(diags, c->network.pos, "cluster %s: no free network id in %u..%u",
                        c->name, from, to);
        return -ENOSPC;
}

/* ---- resources --------------------------------------------------------------------------- */

static const vcm_host *storage_host(const vcm_site *site) {
        for (size_t i = 0; i < site->n_hosts; i++)
                if (site->hosts[i].roles & VCM_ROLE_STORAGE)
                        return &site->hosts[i];
        return NULL;
}

static const vcm_image *image_for(const vcm_site *site, const char *appliance) {
        for (size_t i = 0; i < site->n_images; i++)
                if (strcmp(site->images[i].appliance, appliance) == 0)
                        return &site->images[i];
        return NULL;
}

typedef struct volume_ref {
        const char *host;
        char *name;
        char *disk; /* the domain's disk string */
} volume_ref;

/* One volume: node disk or shared storage. Returns where it lives and how a domain names it. */
static int add_volume(vcm_resource_set *out, const vcm_site *site, const vcm_cluster *c,
                      const vcm_host *vm_host, const char *suffix, uint64_t size,
                      const char *clone, unsigned lun, volume_ref *ret) {
        char *name = xasprintf("%s-%s", c->name, suffix);
        const vcm_host *h = vm_host;
        const char *backend = "lvm", *pool;
        char *disk;
        switch (site->storage_backend) {
        case VCM_STORAGE_FILE:
                backend = "file";
                pool = VCM_FILE_POOL;
                disk = xasprintf("file:%s/%s", pool, name);
                break;
        case VCM_STORAGE_LVM: {
                pool = vm_host->volume_group;
                if (!pool) {
                        const vcm_host *st = storage_host(site);
                        pool = st ? st->volume_group : NULL;
                }
                if (!pool) {
                        free(name);
                        return -EINVAL;
                }
                disk = xasprintf("block:/dev/%s/%s", pool, name);
                break;
        }
        case VCM_STORAGE_LVM_ISCSI:
        default: {
                h = storage_host(site);
                if (!h || !h->volume_group || !h->portal) {
                        free(name);
                        return -EINVAL;
                }
                pool = h->volume_group;
                /* The target, LUN and ACL resources come with the iSCSI issue
                 * (desired_add_iscsi below); the disk string is final already so that domains
                 * do not change when they arrive. */
                disk = xasprintf("iscsi:%s/%s%s/%u", h->portal, VCM_IQN_PREFIX, c->name, lun);
                break;
        }
        }
        vcm_resource *v = vcm_resource_set_put(out, VCM_KIND_VOLUME, h->name, name, c->name);
        if (!v) {
                free(name);
                free(disk);
                return -EEXIST;
        }
        vcm_resource_set_propf(v, "size", "%llu", (unsigned long long)size);
        vcm_resource_set_prop(v, "backend", backend);
        vcm_resource_set_prop(v, "pool", pool);
        if (clone)
                vcm_resource_set_prop(v, "clone", clone);
        vcm_resource_rehash(v);
        *ret = (volume_ref){ .host = h->name, .name = name, .disk = disk };
        return 0;
}

/* Room for the iSCSI kinds (target per cluster on the storage host, a LUN per volume, an ACL per
 * VM host initiator): not produced yet, so lvm-iscsi sites get volumes and iscsi: disk strings
 * but no exports. Domains will then depend on their LUN and ACL instead of the volume. */
static void desired_add_iscsi(vcm_resource_set *out, const vcm_site *site, const vcm_cluster *c) {
        (void)out;
        (void)site;
        (void)c;
}

static void add_network(vcm_resource_set *out, const vcm_site *site, const vcm_cluster *c,
                        const vcm_host *h, uint32_t netid) {
        char br[32], vl[32];
        snprintf(br, sizeof(br), VCM_BRIDGE_PREFIX "%u", netid);
        snprintf(vl, sizeof(vl), VCM_VLAN_LINK_PREFIX "%u", netid);
        if (vcm_resource_set_find(out, VCM_KIND_BRIDGE, h->name, br))
                return;
        vcm_resource *b = vcm_resource_set_put(out, VCM_KIND_BRIDGE, h->name, br, c->name);
        vcm_resource_set_propf(b, "netid", "%u", netid);
        if (site->network_backend == VCM_NET_VLAN) {
                vcm_resource_set_prop(b, "vlan-link", vl);
                vcm_resource_add_dep(b, VCM_KIND_VLAN_LINK, h->name, vl);
        }
        vcm_resource_rehash(b);
        if (site->network_backend == VCM_NET_VLAN) {
                vcm_resource *l = vcm_resource_set_put(out, VCM_KIND_VLAN_LINK, h->name, vl, c->name);
                vcm_resource_set_prop(l, "trunk", h->trunk ? h->trunk : "");
                vcm_resource_set_propf(l, "vlan", "%u", netid);
                vcm_resource_rehash(l);
        }
}

static int add_cluster(vcm_resource_set *out, const vcm_repo *repo, const vcm_cluster *c,
                       const vcm_placement *pl, uint32_t netid) {
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
                add_network(out, site, c, h, netid);

                const vcm_image *img = image_for(site, n->appliance);
                const char *clone = NULL;
                if (n->install == VCM_INSTALL_IMAGE && img)
                        clone = img->volume ? img->volume : img->file;
                volume_ref disk = { 0 }, shared = { 0 };
                int r = add_volume(out, site, c, h, n->node, n->disk, clone, (unsigned)(i + 1),
                                   &disk);
                if (r < 0)
                        return r;
                if (n->frontend && c->shared_storage) {
                        r = add_volume(out, site, c, h, "shared", c->shared_storage, NULL, 0,
                                       &shared);
                        if (r < 0) {
                                free(disk.name);
                                free(disk.disk);
                                return r;
                        }
                }

                char *dname = xasprintf("%s-%s", c->name, n->node);
                vcm_resource *d = vcm_resource_set_put(out, VCM_KIND_DOMAIN, h->name, dname,
                                                       c->name);
                if (!d) {
                        free(dname);
                        free(disk.name);
                        free(disk.disk);
                        free(shared.name);
                        free(shared.disk);
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
                vcm_resource_rehash(d);
                free(dname);
                free(disk.name);
                free(disk.disk);
                free(shared.name);
                free(shared.disk);
        }
        if (site->storage_backend == VCM_STORAGE_LVM_ISCSI)
                desired_add_iscsi(out, site, c);
        return 0;
}

typedef struct release_ctx {
        vcm_strmap by_name; /* cluster -> eval */
} release_ctx;

static bool cluster_released(void *ctx, const char *cluster) {
        const vcm_cluster_eval *e = vcm_strmap_get(&((release_ctx *)ctx)->by_name, cluster);
        return !e || (!e->active && !e->suspended);
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
        netids *ids = xcalloc(1, sizeof(*ids));
        ids->own.borrow = true; /* names live in `observed` and the repo */
        netids_scan(ids, repo, observed);
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

        for (size_t i = 0; i < repo->n_clusters; i++) {
                const vcm_cluster *c = &repo->clusters[i];
                vcm_cluster_eval *e = &evals[i];
                if (!e->active)
                        continue;

                vcm_placement pl = { 0 };
                char *why = NULL;
                vcm_cluster_state why_state = VCM_STATE_PENDING;
                int r = vcm_place_cluster(cap, site, c, observed, opts->unreachable_hosts,
                                          opts->n_unreachable, &pl, &why_state, &why);
                if (r < 0) {
                        block(e, why_state, why);
                        vcm_diags_error(diags, c->pos, "cluster %s cannot be placed: %s", c->name,
                                        e->blocked_reason);
                        continue;
                }
                if (netid_assign(ids, site, c, e, diags) < 0) {
                        vcm_capacity_release(cap, &pl);
                        vcm_placement_clear(&pl);
                        continue;
                }
                size_t before = vcm_resource_set_size(out);
                r = add_cluster(out, repo, c, &pl, e->netid);
                if (r < 0) {
                        /* Take back what the cluster added: it is all or nothing. */
                        while (vcm_resource_set_size(out) > before) {
                                const vcm_resource *last =
                                        vcm_resource_set_at(out, vcm_resource_set_size(out) - 1);
                                vcm_resource_set_remove(out, last->kind, last->host, last->name);
                        }
                        vcm_capacity_release(cap, &pl);
                }
                vcm_placement_clear(&pl);
                if (r < 0) {
                        /* Only a site the validator should have refused gets here. */
                        block(e, VCM_STATE_STALLED,
                              xasprintf("the site cannot hold this cluster's resources (%s)",
                                        strerror(-r)));
                        vcm_diags_error(diags, c->pos, "cluster %s: %s", c->name,
                                        e->blocked_reason);
                        continue;
                }
                e->placed = true;
        }

        vcm_capacity_free(cap);
        vcm_strmap_clear(&rel.by_name);
        vcm_strmap_clear(&ids->own);
        free(ids);
        *ret_desired = out;
        *ret_evals = evals;
        return 0;
}
