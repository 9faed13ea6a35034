/* plan: the steps of a diff as a DAG in a topological order.
 *
 * Edges: a create/update runs after the steps on the resources it depends on (network and
 * volumes before domains, the frontend before its nodes); a delete runs after the deletes of what
 * depends on it (node domains, then the frontend, then seeds, iSCSI ACL/LUN/target, volumes,
 * bridges, VLAN links), and a bridge delete after domain changes on that host of the cluster. */
#ifndef VCM_PLAN_H
#define VCM_PLAN_H

#include "reconciler/engine.h"

/* Sets deps on every step and reorders `steps` in place into a topological order that is stable
 * (cluster, then kind in creation order, host, name, with deletes after the rest of their cluster
 * where the DAG allows). -ELOOP on a cycle (a bug: the edges above cannot make one). */
int vcm_plan_order(vcm_step *steps, size_t n);

/* Counts for the summary line; replace counts as one create and one destroy (as terraform). */
typedef struct vcm_plan_summary {
        size_t create, update, restart, replace, destroy;
} vcm_plan_summary;
vcm_plan_summary vcm_plan_summarize(const vcm_step *steps, size_t n);

#endif
