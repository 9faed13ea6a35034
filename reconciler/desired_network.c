/* desired(), network part: network ids (stable, read back from what carries them) and each
 * cluster's bridge and VLAN link per host. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/desired_internal.h"
#include "reconciler/props.h"
#include "reconciler/util.h"

#define NETID_MAX 4094

/* Names are prefix + network id: they fit the kernel's limit by construction. */
_Static_assert(sizeof(VCM_BRIDGE_PREFIX) - 1 + 4 <= VCM_IFNAME_MAX, "bridge names too long");
_Static_assert(sizeof(VCM_VLAN_LINK_PREFIX) - 1 + 4 <= VCM_IFNAME_MAX, "VLAN link names too long");

struct desired_netids {
        const char *owner[NETID_MAX + 1]; /* cluster holding the id (observed or fixed) */
        vcm_strmap own;                   /* cluster -> (void *)(uintptr_t)id seen on its resources */
        const char *last;                 /* last cluster noted: resources come in runs */
};

static void netid_note(desired_netids *n, uint32_t id, const char *cluster) {
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

static void netids_scan(desired_netids *n, const vcm_repo *repo, const vcm_resource_set *observed) {
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

desired_netids *desired_netids_new(const vcm_repo *repo, const vcm_resource_set *observed) {
        desired_netids *n = xcalloc(1, sizeof(*n));
        n->own.borrow = true; /* names live in `observed` and the repo */
        netids_scan(n, repo, observed);
        return n;
}

void desired_netids_free(desired_netids *n) {
        if (!n)
                return;
        vcm_strmap_clear(&n->own);
        free(n);
}

int desired_netid_assign(desired_netids *n, const vcm_site *site, const vcm_cluster *c,
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
                        desired_block(e, VCM_STATE_PENDING, xasprintf("network id %u is out of range", id));
                        return -ERANGE;
                }
                const char *holder = n->owner[id];
                if (holder && strcmp(holder, c->name) != 0) {
                        desired_block(e, VCM_STATE_PENDING,
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
        desired_block(e, VCM_STATE_PENDING, xasprintf("no free network id in %u..%u", from, to));
        vcm_diags_error(diags, c->network.pos, "cluster %s: no free network id in %u..%u",
                        c->name, from, to);
        return -ENOSPC;
}

void desired_add_network(vcm_resource_set *out, const vcm_site *site, const vcm_cluster *c,
                         const vcm_host *h, uint32_t netid) {
        char br[32], vl[32];
        snprintf(br, sizeof(br), VCM_BRIDGE_PREFIX "%u", netid);
        snprintf(vl, sizeof(vl), VCM_VLAN_LINK_PREFIX "%u", netid);
        if (vcm_resource_set_find(out, VCM_KIND_BRIDGE, h->name, br))
                return;
        vcm_resource *b = vcm_resource_set_put(out, VCM_KIND_BRIDGE, h->name, br, c->name);
        vcm_resource_set_propf(b, "netid", "%u", netid);
        if (site->network_backend == VCM_NET_VLAN) {
                /* The netlink provider reads "state" back; libvirt networks do not have it. */
                vcm_resource_set_prop(b, "state", "up");
                vcm_resource_set_prop(b, "vlan-link", vl);
                vcm_resource_add_dep(b, VCM_KIND_VLAN_LINK, h->name, vl);
        }
        vcm_resource_rehash(b);
        if (site->network_backend == VCM_NET_VLAN) {
                vcm_resource *l = vcm_resource_set_put(out, VCM_KIND_VLAN_LINK, h->name, vl, c->name);
                vcm_resource_set_prop(l, "trunk", h->trunk ? h->trunk : "");
                vcm_resource_set_propf(l, "vlan", "%u", netid);
                vcm_resource_set_prop(l, "state", "up");
                vcm_resource_rehash(l);
        }
}
