/* desired(): the resources that should exist at `now`, from the specs and what observation says
 * about stable allocations (network ids, placement). Pure: no provider is called. */
#ifndef VCM_DESIRED_H
#define VCM_DESIRED_H

#include <stdbool.h>
#include <stdint.h>

#include "reconciler/engine.h"
#include "reconciler/resource.h"
#include "reconciler/window.h"
#include "specs/model.h"

/* What desired() decided about one cluster of the spec (same order as repo->clusters). */
typedef struct vcm_cluster_eval {
        const vcm_cluster *spec;
        vcm_window_phase phase;  /* VCM_WINDOW_OPEN for clusters without a window */
        bool active;             /* window open (suspended clusters can be active) */
        bool suspended;
        bool placed;             /* active and its resources are in the desired set */
        /* Active but not placed: why, and the state it puts the cluster in (Pending when
         * waiting for capacity or an id, Degraded when a host it may use is unreachable). */
        vcm_cluster_state blocked_state;
        char *blocked_reason;
        uint32_t netid;          /* when placed */
        /* Filled by diff: */
        size_t drift;            /* suspended: differences reported, not acted on */
        size_t withheld_deletes; /* deletes that safety rule 1 or an unreachable host held back */
        bool refused;            /* a change the provider refuses (see diags) */
        bool conflict;           /* a resource key is owned by another cluster */
} vcm_cluster_eval;

/* Seed digests kept between passes over the same specs (the service): rendering every node's
 * seed is most of a pass's own work, and what a seed holds follows from the specs alone. A memo
 * serves one repo: a build with another repo empties it first, and whoever replaces its repo
 * (the loop, on new specs) resets it, since a new repo may have the old one's address. */
typedef struct vcm_seed_memo vcm_seed_memo;
vcm_seed_memo *vcm_seed_memo_new(void);
void vcm_seed_memo_free(vcm_seed_memo *m);
void vcm_seed_memo_reset(vcm_seed_memo *m);
/* Digests served from the memo and rendered, over its life (tests, benchmarks). */
void vcm_seed_memo_counts(const vcm_seed_memo *m, size_t *ret_hits, size_t *ret_rendered);

typedef struct vcm_desired_opts {
        /* Hosts that could not be observed: placement cannot know what they hold, so clusters
         * that already own something keep their unknown nodes unplaced rather than duplicate
         * them elsewhere. */
        const char *const *unreachable_hosts;
        size_t n_unreachable;
        /* Pruning is allowed this pass (vcm_prune_stop_reason() is NULL): domains of clusters
         * being released (removed from the specs, or window closed) do not count against host
         * capacity, because plan.c runs a host's domain deletes before its domain creates. So a
         * course whose slot starts as another's ends gets the freed room in the same pass. */
        bool prune_allowed;
        /* NULL: every seed is rendered. */
        vcm_seed_memo *seed_memo;
} vcm_desired_opts;

/* Builds the desired set and one eval per spec cluster. Problems (no capacity, no free id) go to
 * diags and block only their cluster. Returns 0, or -EINVAL when the repo has no site. */
int vcm_desired_build(const vcm_repo *repo, int64_t now, const vcm_resource_set *observed,
                      const vcm_desired_opts *opts, vcm_diags *diags,
                      vcm_resource_set **ret_desired, vcm_cluster_eval **ret_evals);
void vcm_cluster_evals_free(vcm_cluster_eval *e, size_t n);

/* The files of a desired seed (meta.meta-data, meta.user-data, meta.network-config), rendered
 * again from what desired recorded, for a step that writes it: the desired set keeps only the
 * digest. -ENOENT when the seed does not say what it was rendered from, -ESTALE when the files
 * rendered now do not have the digest the plan compared. */
int vcm_desired_seed_files(const vcm_repo *repo, vcm_resource *seed);

/* Stable MAC for a NIC: 02:xx:xx:xx:xx:xx from FNV-1a of site, cluster, node and NIC index. */
void vcm_mac_for(const char *site, const char *cluster, const char *node, unsigned nic,
                 char ret_mac[18]);

/* The network id a bridge or vlan-link name carries ("vcmbr42", "vcmv42"); 0 when none. */
uint32_t vcm_netid_from_name(const char *name);

#endif
