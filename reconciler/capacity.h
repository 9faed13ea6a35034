/* Capacity over time: does every reservation fit next to every other one for its whole window.
 *
 * Each cluster's window (recurring slots in their zones, clipped to the period) is expanded into
 * spans; between two consecutive edges of all spans the set of active clusters is constant, so
 * feasibility is checked once per such interval: every active cluster must be placeable with the
 * engine's own rules (reconciler/placement.h: frontends on gateways, nodes on vm-servers, vCPUs
 * and memory per host, a cluster's nodes spread). Clusters are placed in rank order; one that
 * does not fit is a conflict at the first instant it fails and takes no room (it would be
 * Pending), so those ranked before it keep theirs.
 *
 * Volumes count on the storage hosts of the lvm-iscsi backend when the site gives a
 * capacity.storage: from a cluster's first active instant until its window ends (release), or to
 * the end of the period with keep-volumes, whether or not a recurring slot is open. Each
 * cluster's volumes go on one storage host chosen as reconcile chooses it
 * (reconciler/storage_placement.h) and stay there while they exist; where room runs out, that
 * interval's volumes are placed in rank order like the VMs, so the cluster ranked last is the one
 * whose volumes do not fit: a conflict too, and it runs nowhere in that interval. */
#ifndef VCM_CAPACITY_H
#define VCM_CAPACITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reconciler/placement.h"
#include "reconciler/window.h"
#include "specs/model.h"

typedef struct vcm_capacity_conflict {
        size_t cluster;             /* index into repo->clusters */
        int64_t at;                 /* first instant it does not fit */
        int64_t until;              /* end of that first failing interval */
        vcm_place_failure failure;  /* the node that found no host, what was free */
        size_t *with;               /* other clusters active at `at` (indices), by name; for
                                     * storage: the others holding volumes then */
        size_t n_with;
        bool storage;               /* its volumes do not fit (failure unused) */
        const char *storage_host;   /* borrowed from the site: the storage host with most room */
        uint64_t need_storage, free_storage;
        char *storage_free;         /* several storage hosts: "st1 30GiB free, st2 ..."; else
                                     * NULL */
} vcm_capacity_conflict;

/* Use of the site during one interval of constant activity (kept when asked for: calendar). */
typedef struct vcm_capacity_slice {
        int64_t start, end;
        size_t n_active;            /* clusters active */
        size_t n_placed;            /* of which placed */
        uint64_t *vcpus, *memory;   /* per site host: in use by the placed clusters */
        uint64_t storage;           /* bytes of volumes on all storage hosts (when counted) */
} vcm_capacity_slice;

typedef struct vcm_capacity_opts {
        /* Placement priority per cluster index (lower first). NULL: vcm_capacity_rank_default. */
        const uint64_t *rank;
        bool keep_slices;           /* fill report->slices */
} vcm_capacity_opts;

typedef struct vcm_capacity_report {
        int64_t from, to;
        vcm_interval **spans;       /* per cluster index: its active spans inside from..to */
        size_t *n_spans;
        size_t n_clusters;
        vcm_capacity_conflict *conflicts; /* one per cluster at most, by time then name */
        size_t n_conflicts;
        vcm_capacity_slice *slices; /* intervals with at least one active cluster, in order */
        size_t n_slices;
        size_t n_intervals;         /* intervals checked (for benchmarks) */
} vcm_capacity_report;

/* Check the period [from, to). Clusters without a window are active throughout; a recurring
 * slot in an unknown zone leaves its cluster out (the loader reports the zone). Returns 0 with a
 * report, or -EINVAL without a site or with from >= to. */
int vcm_capacity_check(const vcm_repo *repo, int64_t from, int64_t to,
                       const vcm_capacity_opts *opts, vcm_capacity_report **ret_report);

/* The end of a sensible period starting at `from`: the latest finite window bound, and at least
 * a week and a day so that weekly slots of open-ended windows are seen. */
int64_t vcm_capacity_horizon(const vcm_repo *repo, int64_t from);

/* The order in which contested capacity is given, the same for validate and for reconcile:
 * the cluster whose file entered the branch first (vcm_cluster.admitted, git sources), then
 * earlier window start, then name. (Running nodes are never displaced whatever the rank: the
 * engine counts what exists before it places anything new.) ret_rank has n_clusters entries. */
void vcm_capacity_rank_default(const vcm_repo *repo, uint64_t *ret_rank);

/* Ranks for a change against `base` (the target branch): clusters that exist in base with the
 * same reservation (window and sizes) keep their place before new or changed ones, each group by
 * window start then name, so a conflict is blamed on the change. ret_rank has repo->n_clusters
 * entries. */
void vcm_capacity_rank_against(const vcm_repo *repo, const vcm_repo *base, uint64_t *ret_rank);

/* Bytes of a cluster's volumes: every node's disk and the shared storage. */
uint64_t vcm_cluster_volume_bytes(const vcm_cluster *c);

void vcm_capacity_report_free(vcm_capacity_report *r);
static inline void vcm_capacity_report_freep(vcm_capacity_report **r) {
        vcm_capacity_report_free(*r);
}

/* One line about a conflict, without position: "cluster X does not fit from TIME: vm-server
 * memory short by 3GiB (needs 8GiB, 5GiB free on the best host); overlaps with Y, Z". TIME is
 * printed in the offset the cluster's window start was written in. Caller frees. */
char *vcm_capacity_conflict_message(const vcm_repo *repo, const vcm_capacity_conflict *c);

/* RFC 3339 text of `t` at the UTC offset written at the end of `like` ("Z", "+01:00"; NULL or
 * unparsable: Z). */
void vcm_format_time_like(int64_t t, const char *like, char *buf, size_t len);

#endif
