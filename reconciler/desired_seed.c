/* desired(), guest part: each node's first-boot seed (NoCloud) as a resource of its own. */
#include "reconciler/desired_internal.h"

/* Not produced yet (the Guests issue): domains carry no "seed" prop. */
int desired_add_seed(vcm_resource_set *out, const vcm_repo *repo, const vcm_cluster *c,
                     const vcm_placed_node *n, uint32_t netid, vcm_resource *d) {
        (void)out;
        (void)repo;
        (void)c;
        (void)n;
        (void)netid;
        (void)d;
        return 0;
}
