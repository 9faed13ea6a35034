/* desired(), storage part: volumes per backend and, for lvm-iscsi, their iSCSI exports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/capacity.h"
#include "reconciler/desired_internal.h"
#include "reconciler/props.h"
#include "reconciler/storage_placement.h"
#include "reconciler/util.h"

/* The lvm backend's fallback volume group (a VM host without its own). */
static const vcm_host *storage_host(const vcm_site *site) {
        for (size_t i = 0; i < site->n_hosts; i++)
                if (site->hosts[i].roles & VCM_ROLE_STORAGE)
                        return &site->hosts[i];
        return NULL;
}


const vcm_image *desired_image_for(const vcm_site *site, const char *appliance) {
        for (size_t i = 0; i < site->n_images; i++)
                if (strcmp(site->images[i].appliance, appliance) == 0)
                        return &site->images[i];
        return NULL;
}

void desired_volume_ref_clear(desired_volume_ref *v) {
        free(v->name);
        free(v->disk);
        *v = (desired_volume_ref){ 0 };
}

int desired_add_volume(vcm_resource_set *out, const vcm_site *site, const vcm_cluster *c,
                       const vcm_host *vm_host, const vcm_host *st, const char *suffix,
                       uint64_t size, const char *clone, unsigned lun, desired_volume_ref *ret) {
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
                        const vcm_host *fb = storage_host(site);
                        pool = fb ? fb->volume_group : NULL;
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
                h = st;
                if (!h || !h->volume_group || !h->portal) {
                        free(name);
                        return -EINVAL;
                }
                pool = h->volume_group;
                /* The target, LUN and ACL resources come with the iSCSI issue
                 * (desired_add_iscsi); the disk string is final already so that domains
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
        /* All of the cluster's volumes: the lvm provider refuses a cluster that does not fit
         * before it creates any of them (props.h). On the lvm backend the volumes spread over
         * the VM hosts, so this is an upper bound there. */
        if (site->storage_backend != VCM_STORAGE_FILE)
                vcm_resource_set_propf(v, "meta.cluster-bytes", "%llu",
                                       (unsigned long long)vcm_cluster_volume_bytes(c));
        if (clone)
                vcm_resource_set_prop(v, "clone", clone);
        vcm_resource_rehash(v);
        *ret = (desired_volume_ref){ .host = h->name, .name = name, .disk = disk };
        return 0;
}

/* The cluster's exports: its target on the storage host, a LUN per volume (numbered as the
 * domains' iscsi: disk strings say), and an ACL per VM host that runs its nodes, mapping every
 * LUN of the cluster (the target is the cluster's: any of its hosts may run any of its nodes
 * after a move). Each domain then names its host's initiator and waits for its LUN and ACL. */
int desired_add_iscsi(vcm_resource_set *out, const vcm_cluster *c, const vcm_host *st,
                      const vcm_placement *pl) {
        if (!st || !st->volume_group || !st->portal)
                return -EINVAL;
        /* The cluster's volumes and their LUNs: shared storage 0, nodes 1.. in placement order. */
        bool shared = false;
        for (size_t i = 0; i < pl->n; i++)
                shared |= pl->nodes[i].frontend && c->shared_storage;
        size_t nv = pl->n + (shared ? 1 : 0);
        char **vols = xcalloc(nv, sizeof(char *));
        unsigned *lun = xcalloc(nv, sizeof(unsigned));
        char *luns = xstrdup("");
        for (size_t i = 0; i < nv; i++) {
                bool sh = shared && i == 0;
                size_t node = shared ? i - 1 : i;
                vols[i] = xasprintf("%s-%s", c->name, sh ? "shared" : pl->nodes[node].node);
                lun[i] = sh ? 0 : (unsigned)(node + 1);
                char *more = xasprintf("%s%s%u", luns, i ? "," : "", lun[i]);
                free(luns);
                luns = more;
        }

        int r = 0;
        char *iqn = xasprintf(VCM_IQN_PREFIX "%s", c->name);
        vcm_resource *t = vcm_resource_set_put(out, VCM_KIND_ISCSI_TARGET, st->name, iqn, c->name);
        if (t) {
                vcm_resource_set_prop(t, "portal", st->portal);
                vcm_resource_set_prop(t, "authentication", "0");
                vcm_resource_set_prop(t, "generate_node_acls", "0");
                vcm_resource_set_prop(t, "enabled", "1");
                /* Exported only once all of the cluster's volumes exist: a cluster whose
                 * volumes do not fit leaves no target behind. */
                for (size_t i = 0; i < nv; i++)
                        vcm_resource_add_dep(t, VCM_KIND_VOLUME, st->name, vols[i]);
                vcm_resource_rehash(t);
        } else {
                r = -EEXIST;
        }
        for (size_t i = 0; i < nv && r == 0; i++) {
                vcm_resource *l = vcm_resource_set_put(out, VCM_KIND_ISCSI_LUN, st->name, vols[i],
                                                       c->name);
                if (!l) {
                        r = -EEXIST;
                        break;
                }
                vcm_resource_set_prop(l, "target", iqn);
                vcm_resource_set_propf(l, "lun", "%u", lun[i]);
                vcm_resource_set_propf(l, "device", "/dev/%s/%s", st->volume_group, vols[i]);
                vcm_resource_add_dep(l, VCM_KIND_VOLUME, st->name, vols[i]);
                vcm_resource_add_dep(l, VCM_KIND_ISCSI_TARGET, st->name, iqn);
                vcm_resource_rehash(l);
        }

        for (size_t i = 0; i < pl->n && r == 0; i++) {
                const vcm_placed_node *n = &pl->nodes[i];
                char *init = xasprintf(VCM_INITIATOR_PREFIX "%s", n->host->name);
                char *acl_name = xasprintf("%s/%s", c->name, init);
                vcm_resource *a = vcm_resource_set_put(out, VCM_KIND_ISCSI_ACL, st->name,
                                                       acl_name, c->name);
                if (a) { /* the first node on this host */
                        vcm_resource_set_prop(a, "target", iqn);
                        vcm_resource_set_prop(a, "initiator", init);
                        vcm_resource_set_prop(a, "luns", luns);
                        vcm_resource_add_dep(a, VCM_KIND_ISCSI_TARGET, st->name, iqn);
                        /* Every LUN of the cluster exists before it is mapped. */
                        for (size_t j = 0; j < nv; j++)
                                vcm_resource_add_dep(a, VCM_KIND_ISCSI_LUN, st->name, vols[j]);
                        vcm_resource_rehash(a);
                }
                char *dname = xasprintf("%s-%s", c->name, n->node);
                /* The set owns the domain desired() just added; only this file's props change. */
                vcm_resource *d = (vcm_resource *)vcm_resource_set_find(out, VCM_KIND_DOMAIN,
                                                                        n->host->name, dname);
                if (d) {
                        vcm_resource_set_prop(d, "disk0.initiator", init);
                        if (vcm_resource_prop(d, "disk1"))
                                vcm_resource_set_prop(d, "disk1.initiator", init);
                        vcm_resource_add_dep(d, VCM_KIND_ISCSI_ACL, st->name, acl_name);
                        vcm_resource_add_dep(d, VCM_KIND_ISCSI_LUN, st->name, dname);
                        vcm_resource_rehash(d);
                } else {
                        r = -ENOENT;
                }
                free(dname);
                free(acl_name);
                free(init);
        }
        for (size_t i = 0; i < nv; i++)
                free(vols[i]);
        free(vols);
        free(lun);
        free(luns);
        free(iqn);
        return r;
}

/* ---- which storage host (lvm-iscsi) ---- */

typedef struct storage_home {
        size_t host;    /* where the cluster's storage exists */
        uint64_t bytes; /* of its volumes observed there */
} storage_home;

struct desired_storage {
        const vcm_site *site;
        uint64_t *used;      /* per site host: bytes of volumes counted so far */
        vcm_strmap home;     /* cluster -> storage_home index + 1 (names borrowed) */
        vcm_strmap seen;     /* clusters owning anything observed, on any host (borrowed) */
        size_t n_eligible;   /* storage hosts that can hold volumes */
        storage_home *homes;
        size_t n_homes;
};

static size_t site_host_index(const vcm_site *site, const char *name) {
        const vcm_host *h = vcm_site_find_host(site, name);
        return h ? (size_t)(h - site->hosts) : SIZE_MAX;
}

static bool is_storage_kind(vcm_kind k) {
        return k == VCM_KIND_VOLUME || k == VCM_KIND_ISCSI_TARGET || k == VCM_KIND_ISCSI_LUN ||
               k == VCM_KIND_ISCSI_ACL;
}

desired_storage *desired_storage_new(const vcm_site *site, const vcm_resource_set *observed,
                                     bool (*released)(void *ctx, const char *cluster),
                                     void *ctx) {
        desired_storage *s = xcalloc(1, sizeof(*s));
        s->site = site;
        s->used = xcalloc(site->n_hosts ? site->n_hosts : 1, sizeof(*s->used));
        s->home.borrow = true;
        s->seen.borrow = true;
        for (size_t i = 0; i < site->n_hosts; i++)
                s->n_eligible += vcm_storage_host_eligible(&site->hosts[i]);
        const char *last_host = NULL;
        size_t hi = SIZE_MAX;
        for (size_t i = 0; i < vcm_resource_set_size(observed); i++) {
                const vcm_resource *r = vcm_resource_set_at(observed, i);
                if (r->cluster && *r->cluster && !vcm_strmap_has(&s->seen, r->cluster))
                        vcm_strmap_put(&s->seen, r->cluster, (void *)r->cluster);
                if (!is_storage_kind(r->kind) || !r->cluster || !*r->cluster)
                        continue;
                if (!last_host || strcmp(last_host, r->host) != 0) {
                        hi = site_host_index(site, r->host);
                        last_host = r->host;
                }
                if (hi == SIZE_MAX || !(site->hosts[hi].roles & VCM_ROLE_STORAGE))
                        continue;
                uintptr_t k = (uintptr_t)vcm_strmap_get(&s->home, r->cluster);
                if (!k) {
                        s->homes = xrealloc(s->homes, (s->n_homes + 1) * sizeof(*s->homes));
                        s->homes[s->n_homes++] = (storage_home){ .host = hi };
                        k = s->n_homes;
                        vcm_strmap_put(&s->home, r->cluster, (void *)k);
                }
                /* Seen on two hosts (should not happen): the first one seen stays its home. */
                storage_home *h = &s->homes[k - 1];
                if (r->kind != VCM_KIND_VOLUME || (released && released(ctx, r->cluster)))
                        continue;
                const char *size = vcm_resource_prop(r, "size");
                uint64_t b = size ? strtoull(size, NULL, 10) : 0;
                s->used[hi] += b;
                if (hi == h->host)
                        h->bytes += b;
        }
        return s;
}

void desired_storage_free(desired_storage *s) {
        if (!s)
                return;
        free(s->used);
        free(s->homes);
        vcm_strmap_clear(&s->home);
        vcm_strmap_clear(&s->seen);
        free(s);
}

int desired_storage_place(desired_storage *s, const vcm_cluster *c,
                          const char *const *unreachable, size_t n_unreachable,
                          desired_storage_pick *ret, vcm_cluster_state *ret_state,
                          char **ret_reason) {
        const vcm_site *site = s->site;
        uint64_t need = vcm_cluster_volume_bytes(c);
        uintptr_t k = (uintptr_t)vcm_strmap_get(&s->home, c->name);
        if (k) {
                /* Never moved; what it still has to create counts from now on. */
                const storage_home *h = &s->homes[k - 1];
                uint64_t more = need > h->bytes ? need - h->bytes : 0;
                s->used[h->host] += more;
                *ret = (desired_storage_pick){ .host = &site->hosts[h->host],
                                               .index = h->host, .added = more };
                return 0;
        }
        /* A cluster that runs somewhere but whose storage is out of sight: with one storage
         * host it can only be there (its steps wait for the host); with several, unknown. */
        bool only_home = s->n_eligible == 1 && vcm_strmap_has(&s->seen, c->name);
        for (size_t i = 0; i < n_unreachable && !only_home; i++) {
                size_t hi = site_host_index(site, unreachable[i]);
                if (hi == SIZE_MAX || !(site->hosts[hi].roles & VCM_ROLE_STORAGE))
                        continue;
                *ret_state = VCM_STATE_DEGRADED;
                *ret_reason = xasprintf("storage host %s is unreachable and may hold the "
                                        "cluster's volumes; not placing them elsewhere",
                                        unreachable[i]);
                return -EAGAIN;
        }
        size_t hi;
        int r = vcm_storage_choose(site, s->used, need, &hi);
        if (r == -ENOSPC) {
                char nb[32];
                vcm_format_size(need, nb, sizeof(nb));
                char *room = vcm_storage_free_text(site, s->used);
                *ret_state = VCM_STATE_PENDING;
                *ret_reason = xasprintf("no storage host has room for the cluster's volumes "
                                        "(needs %s; %s)", nb, room);
                free(room);
                return r;
        }
        if (r < 0) {
                /* No eligible host: add_volume refuses the cluster as it always did. */
                *ret = (desired_storage_pick){ 0 };
                return 0;
        }
        s->used[hi] += need;
        *ret = (desired_storage_pick){ .host = &site->hosts[hi], .index = hi, .added = need };
        return 0;
}

void desired_storage_release(desired_storage *s, const desired_storage_pick *p) {
        if (p->host)
                s->used[p->index] -= p->added;
}
