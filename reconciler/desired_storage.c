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

/* The LUN of one volume (name "<cluster>-<suffix>") on the storage host. */
static void add_lun(vcm_resource_set *out, const vcm_host *st, const vcm_cluster *c,
                    const char *iqn, const char *suffix, unsigned lun) {
        char *name = xasprintf("%s-%s", c->name, suffix);
        vcm_resource *l = vcm_resource_set_put(out, VCM_KIND_ISCSI_LUN, st->name, name, c->name);
        if (l) {
                vcm_resource_set_prop(l, "target", iqn);
                vcm_resource_set_propf(l, "lun", "%u", lun);
                vcm_resource_set_propf(l, "device", "/dev/%s/%s", st->volume_group, name);
                vcm_resource_add_dep(l, VCM_KIND_VOLUME, st->name, name);
                vcm_resource_add_dep(l, VCM_KIND_ISCSI_TARGET, st->name, iqn);
                vcm_resource_rehash(l);
        }
        free(name);
}

/* The cluster's exports: its target on the storage host, a LUN per volume (numbered as the
 * domains' iscsi: disk strings say), and an ACL per VM host that runs its nodes, mapping every
 * LUN of the cluster (the target is the cluster's: any of its hosts may run any of its nodes
 * after a move). Each domain then names its host's initiator and waits for that ACL. */
int desired_add_iscsi(vcm_resource_set *out, const vcm_site *site, const vcm_cluster *c,
                      const vcm_placement *pl) {
        const vcm_host *st = storage_host(site);
        if (!st || !st->volume_group || !st->portal)
                return -EINVAL;
        char *iqn = xasprintf(VCM_IQN_PREFIX "%s", c->name);
        vcm_resource *t = vcm_resource_set_put(out, VCM_KIND_ISCSI_TARGET, st->name, iqn, c->name);
        if (!t) {
                free(iqn);
                return -EEXIST;
        }
        vcm_resource_set_prop(t, "portal", st->portal);
        vcm_resource_set_prop(t, "authentication", "0");
        vcm_resource_set_prop(t, "generate_node_acls", "0");
        vcm_resource_set_prop(t, "enabled", "1");
        /* Exported only once all of the cluster's volumes exist: a cluster whose volumes do
         * not fit leaves no target behind. */
        for (size_t i = 0; i < pl->n; i++) {
                char *vn = xasprintf("%s-%s", c->name, pl->nodes[i].node);
                vcm_resource_add_dep(t, VCM_KIND_VOLUME, st->name, vn);
                free(vn);
        }
        bool shared = false;
        for (size_t i = 0; i < pl->n; i++)
                shared |= pl->nodes[i].frontend && c->shared_storage;
        if (shared) {
                char *vn = xasprintf("%s-shared", c->name);
                vcm_resource_add_dep(t, VCM_KIND_VOLUME, st->name, vn);
                free(vn);
        }
        vcm_resource_rehash(t);

        size_t luns_len = 0;
        char *luns = xstrdup("");
        if (shared) {
                add_lun(out, st, c, iqn, "shared", 0);
                free(luns);
                luns = xstrdup("0");
                luns_len = 1;
        }
        for (size_t i = 0; i < pl->n; i++) {
                add_lun(out, st, c, iqn, pl->nodes[i].node, (unsigned)(i + 1));
                char *more = xasprintf("%s%s%zu", luns, luns_len ? "," : "", i + 1);
                free(luns);
                luns = more;
                luns_len = strlen(luns);
        }

        int r = 0;
        for (size_t i = 0; i < pl->n && r == 0; i++) {
                const vcm_placed_node *n = &pl->nodes[i];
                char *init = xasprintf(VCM_INITIATOR_PREFIX "%s", n->host->name);
                char *acl_name = xasprintf("%s/%s", c->name, init);
                vcm_resource *a = vcm_resource_set_put(out, VCM_KIND_ISCSI_ACL, st->name,
                                                       acl_name, c->name);
                if (a) { /* first node on this host */
                        vcm_resource_set_prop(a, "target", iqn);
                        vcm_resource_set_prop(a, "initiator", init);
                        vcm_resource_set_prop(a, "luns", luns);
                        vcm_resource_add_dep(a, VCM_KIND_ISCSI_TARGET, st->name, iqn);
                        /* Every LUN of the cluster exists before it is mapped. */
                        if (shared) {
                                char *sn = xasprintf("%s-shared", c->name);
                                vcm_resource_add_dep(a, VCM_KIND_ISCSI_LUN, st->name, sn);
                                free(sn);
                        }
                        for (size_t j = 0; j < pl->n; j++) {
                                char *ln = xasprintf("%s-%s", c->name, pl->nodes[j].node);
                                vcm_resource_add_dep(a, VCM_KIND_ISCSI_LUN, st->name, ln);
                                free(ln);
                        }
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
        free(luns);
        free(iqn);
        return r;
}
