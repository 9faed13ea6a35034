/* Placement: which host runs each node of a cluster. Frontends go on gateway hosts, nodes on
 * vm-server hosts with free vCPUs and memory (counting everything already placed), a cluster's
 * nodes spread across hosts. A node that already runs somewhere stays there. */
#ifndef VCM_PLACEMENT_H
#define VCM_PLACEMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "reconciler/engine.h"
#include "reconciler/resource.h"
#include "specs/model.h"

typedef struct vcm_placed_node {
        char node[64];           /* "frontend" or "<group>-<index>" */
        const char *appliance;
        uint32_t vcpus;
        uint64_t memory, disk;
        vcm_install install;
        bool frontend;
        bool existing;           /* read back from an observed domain */
        const vcm_host *host;
        size_t host_index;
} vcm_placed_node;

typedef struct vcm_placement {
        vcm_placed_node *nodes;  /* the frontend first, then groups in spec order */
        size_t n;
} vcm_placement;

/* Capacity in use per host, starting from the observed domains. */
typedef struct vcm_capacity vcm_capacity;

/* `released(ctx, cluster)` (may be NULL) says which clusters' domains are being deleted this
 * pass and so do not count. */
vcm_capacity *vcm_capacity_new(const vcm_site *site, const vcm_resource_set *observed,
                               bool (*released)(void *ctx, const char *cluster), void *ctx);
void vcm_capacity_free(vcm_capacity *cap);
/* Free what `pl` newly placed (a cluster that could not be completed after placement). */
void vcm_capacity_release(vcm_capacity *cap, const vcm_placement *pl);
/* vCPUs and memory in use on a host (for tests and status). */
void vcm_capacity_used(const vcm_capacity *cap, size_t host_index, uint32_t *ret_vcpus,
                       uint64_t *ret_memory);

/* Place every node of `c` or none. On failure returns -ENOSPC (no room: Pending) or -EAGAIN (an
 * unreachable host may hold nodes: Degraded) with the state and a reason (caller frees). */
int vcm_place_cluster(vcm_capacity *cap, const vcm_site *site, const vcm_cluster *c,
                      const vcm_resource_set *observed, const char *const *unreachable,
                      size_t n_unreachable, vcm_placement *ret, vcm_cluster_state *ret_state,
                      char **ret_reason);
void vcm_placement_clear(vcm_placement *pl);

#endif
