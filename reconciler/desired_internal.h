/* Shared by the desired*.c files, each of which adds one part of a cluster's resources:
 * desired.c (clusters, domains, the build), desired_network.c (network ids, bridges, VLAN links),
 * desired_storage.c (volumes, iSCSI exports), desired_seed.c (first-boot seeds). */
#ifndef VCM_DESIRED_INTERNAL_H
#define VCM_DESIRED_INTERNAL_H

#include <stdint.h>

#include "reconciler/desired.h"
#include "reconciler/placement.h"

/* Marks an active cluster as not placed, with the state and reason status shows. Takes reason. */
void desired_block(vcm_cluster_eval *e, vcm_cluster_state state, char *reason);

/* ---- network (desired_network.c) ---- */
typedef struct desired_netids desired_netids;
/* Reads the ids in use back from observed bridges, VLAN links and domains. Borrows both. */
desired_netids *desired_netids_new(const vcm_repo *repo, const vcm_resource_set *observed);
void desired_netids_free(desired_netids *n);
int desired_netid_assign(desired_netids *n, const vcm_site *site, const vcm_cluster *c,
                         vcm_cluster_eval *e, vcm_diags *diags);
/* The cluster's bridge (and VLAN link on the vlan backend) on host h, once per host. */
void desired_add_network(vcm_resource_set *out, const vcm_site *site, const vcm_cluster *c,
                         const vcm_host *h, uint32_t netid);

/* ---- storage (desired_storage.c) ---- */
typedef struct desired_volume_ref {
        const char *host; /* where the volume lives */
        char *name;
        char *disk;       /* how a domain names it (props.h, disk0) */
} desired_volume_ref;
void desired_volume_ref_clear(desired_volume_ref *v);
const vcm_image *desired_image_for(const vcm_site *site, const char *appliance);
/* One volume: a node's disk (suffix = node name) or the shared storage (suffix "shared", lun 0). */
int desired_add_volume(vcm_resource_set *out, const vcm_site *site, const vcm_cluster *c,
                       const vcm_host *vm_host, const char *suffix, uint64_t size,
                       const char *clone, unsigned lun, desired_volume_ref *ret);
/* The cluster's iSCSI exports (lvm-iscsi backend), after all its volumes and domains exist in
 * `out`; pl says which VM hosts need an ACL. */
int desired_add_iscsi(vcm_resource_set *out, const vcm_site *site, const vcm_cluster *c,
                      const vcm_placement *pl);

/* ---- guests (desired_seed.c) ---- */
/* A node's first-boot seed, attached to its domain `d` (props "seed", dependency). Finishes d
 * (rehash) before adding the seed: d is not valid afterwards, the set may have moved it. */
int desired_add_seed(vcm_resource_set *out, const vcm_repo *repo, const vcm_cluster *c,
                     const vcm_placed_node *n, uint32_t netid, vcm_resource *d);

#endif
