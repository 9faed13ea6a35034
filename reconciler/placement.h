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

/* Why a cluster did not fit (-ENOSPC): the node that found no host and what the hosts of its
 * role had free at that moment (the cluster's nodes placed before it included). */
typedef struct vcm_place_failure {
        char node[64];
        unsigned role;              /* VCM_ROLE_GATEWAY or VCM_ROLE_VM_SERVER */
        uint32_t need_vcpus;
        uint64_t need_memory;
        bool need_external;         /* a frontend that needs a host with an external bridge */
        size_t n_candidates;        /* hosts of the role (with the bridge when needed) */
        uint64_t free_vcpus;        /* most free vCPUs on one candidate; UINT64_MAX: no limit */
        uint64_t free_memory;       /* most free memory on one candidate; UINT64_MAX: no limit */
        uint64_t free_vcpus_on_memory_best; /* free vCPUs on the candidate with most free memory */
} vcm_place_failure;

/* vcm_place_cluster(), and on -ENOSPC also fills *ret_failure (when not NULL). */
int vcm_place_cluster_explain(vcm_capacity *cap, const vcm_site *site, const vcm_cluster *c,
                              const vcm_resource_set *observed, const char *const *unreachable,
                              size_t n_unreachable, vcm_placement *ret,
                              vcm_cluster_state *ret_state, char **ret_reason,
                              vcm_place_failure *ret_failure);

#endif
