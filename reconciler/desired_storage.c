/* desired(), storage part: volumes per backend and, for lvm-iscsi, their iSCSI exports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/desired_internal.h"
#include "reconciler/props.h"
#include "reconciler/util.h"

static const vcm_host *storage_host(const vcm_site *site) {
        for (size_t i = 0; i < site->n_hosts; i++)
                if (site->hosts[i].roles & VCM_ROLE_STORAGE)
                        return &site->hosts[i];
        return NULL;
}

/* All of a cluster's volumes: the lvm provider refuses a cluster that does not fit before it
 * creates any of them (props.h). On the lvm backend the volumes spread over the VM hosts, so
 * this is an upper bound there. */
static uint64_t cluster_bytes(const vcm_cluster *c) {
        uint64_t total = c->frontend.disk + c->shared_storage;
        for (size_t i = 0; i < c->n_nodes; i++)
                total += (uint64_t)c->nodes[i].count * c->nodes[i].disk;
        return total;
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
                       const vcm_host *vm_host, const char *suffix, uint64_t size,
                       const char *clone, unsigned lun, desired_volume_ref *ret) {
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
        if (site->storage_backend != VCM_STORAGE_FILE)
                vcm_resource_set_propf(v, "meta.cluster-bytes", "%llu",
                                       (unsigned long long)cluster_bytes(c));
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
int desired_add_iscsi(vcm_resource_set *out, const vcm_site *site, const vcm_cluster *c,
                      const vcm_placement *pl) {
        const vcm_host *st = storage_host(site);
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
