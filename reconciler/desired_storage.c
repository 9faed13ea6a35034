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
        if (clone)
                vcm_resource_set_prop(v, "clone", clone);
        vcm_resource_rehash(v);
        *ret = (desired_volume_ref){ .host = h->name, .name = name, .disk = disk };
        return 0;
}

/* Room for the iSCSI kinds (target per cluster on the storage host, a LUN per volume, an ACL per
 * VM host initiator): not produced yet, so lvm-iscsi sites get volumes and iscsi: disk strings
 * but no exports. Domains will then depend on their LUN and ACL instead of the volume. */
int desired_add_iscsi(vcm_resource_set *out, const vcm_site *site, const vcm_cluster *c,
                      const vcm_placement *pl) {
        (void)out;
        (void)site;
        (void)c;
        (void)pl;
        return 0;
}
