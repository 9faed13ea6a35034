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
/* st: the cluster's storage host on the lvm-iscsi backend (desired_storage_place), else NULL. */
int desired_add_volume(vcm_resource_set *out, const vcm_site *site, const vcm_cluster *c,
                       const vcm_host *vm_host, const vcm_host *st, const char *suffix,
                       uint64_t size, const char *clone, unsigned lun, desired_volume_ref *ret);
/* The cluster's iSCSI exports (lvm-iscsi backend) on its storage host st, after all its volumes
 * and domains exist in `out`; pl says which VM hosts need an ACL. */
int desired_add_iscsi(vcm_resource_set *out, const vcm_cluster *c, const vcm_host *st,
                      const vcm_placement *pl);

/* The storage host of each cluster on the lvm-iscsi backend (reconciler/storage_placement.h):
 * a cluster whose volumes, LUNs or target exist on a storage host stays there; a new one goes
 * where vcm_storage_choose() says, counting the observed volumes of clusters not being released
 * (`released`, may be NULL; volumes kept by keep-volumes count: pass a predicate that says so)
 * and what this pass placed before it. */
typedef struct desired_storage desired_storage;
typedef struct desired_storage_pick {
        const vcm_host *host;
        size_t index;       /* into site->hosts */
        uint64_t added;     /* bytes counted on it for this cluster */
} desired_storage_pick;
desired_storage *desired_storage_new(const vcm_site *site, const vcm_resource_set *observed,
                                     bool (*released)(void *ctx, const char *cluster),
                                     void *ctx);
void desired_storage_free(desired_storage *s);
/* On failure returns -ENOSPC (no room: Pending) or -EAGAIN (a storage host is unreachable and
 * may hold the cluster's volumes: Degraded), with the state and a reason (caller frees). No
 * eligible host: 0 with a NULL host (desired_add_volume then refuses the cluster). */
int desired_storage_place(desired_storage *s, const vcm_cluster *c,
                          const char *const *unreachable, size_t n_unreachable,
                          desired_storage_pick *ret, vcm_cluster_state *ret_state,
                          char **ret_reason);
/* Takes back what a pick counted (a cluster that could not be completed). */
void desired_storage_release(desired_storage *s, const desired_storage_pick *p);

/* ---- guests (desired_seed.c) ---- */
/* The seeds added in a build, waiting for their digests. */
typedef struct desired_seeds desired_seeds;
desired_seeds *desired_seeds_new(void);
void desired_seeds_free(desired_seeds *s);
size_t desired_seeds_count(const desired_seeds *s);
/* Forget the seeds queued after the first n (a cluster taken back). */
void desired_seeds_truncate(desired_seeds *s, size_t n);
/* A node's first-boot seed, attached to its domain `d`, the set's last resource (props "seed",
 * dependency), and queued in `jobs` for its digest. Neither is hashed until
 * desired_seeds_render() has added the digests. d is not valid afterwards: the set may have
 * moved it. */
int desired_add_seed(vcm_resource_set *out, desired_seeds *jobs, const vcm_cluster *c,
                     const vcm_placed_node *n, vcm_resource *d);
/* Render every queued seed that `memo` (may be NULL) does not hold (several at once), then give each seed its digest and its domain
 * the digest of the node's own part. A seed that cannot be rendered calls failed() with its
 * cluster (once per seed) and is left without digest: the caller takes that cluster back.
 * Positions in `out` must not have changed since the seeds were added. Empties `jobs`. */
void desired_seeds_render(desired_seeds *jobs, const vcm_repo *repo, vcm_seed_memo *memo,
                          vcm_resource_set *out,
                          void (*failed)(void *ctx, const vcm_cluster *c, int err), void *ctx);

#endif
