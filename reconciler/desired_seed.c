/* desired(), guest part: each node's first-boot seed (NoCloud) as a resource of its own, a small
 * read-only disk on the node's VM host in vcm's pool. */
#include "reconciler/desired_internal.h"

#include <errno.h>
#include <stdio.h>

#include "reconciler/props.h"
#include "reconciler/seed.h"
#include "reconciler/util.h"

int desired_add_seed(vcm_resource_set *out, const vcm_repo *repo, const vcm_cluster *c,
                     const vcm_placed_node *n, uint32_t netid, vcm_resource *d) {
        (void)netid;
        vcm_seed_node sn = {
                .node = n->node,
                .appliance = n->appliance,
                .frontend = n->frontend,
                .install = n->install,
                .mac0 = vcm_resource_prop(d, "nic0.mac"),
                .mac1 = vcm_resource_prop(d, "nic1.mac"),
        };
        vcm_seed seed = { 0 };
        int r = vcm_seed_render(repo, c, &sn, &seed);
        if (r < 0) {
                vcm_resource_rehash(d);
                return r;
        }
        char digest[17], boot[17];
        snprintf(digest, sizeof(digest), "%016llx", (unsigned long long)seed.digest);
        snprintf(boot, sizeof(boot), "%016llx", (unsigned long long)seed.boot_digest);
        /* The domain names its seed disk and the digest of its own part: a change there
         * restarts the guest, which reads its seed at boot. Done before the seed is added,
         * which may move d. */
        vcm_resource_set_propf(d, "seed", "file:" VCM_FILE_POOL "/%s" VCM_SEED_VOLUME_SUFFIX,
                               d->name);
        vcm_resource_set_prop(d, "seed.digest", boot);
        vcm_resource_add_dep(d, VCM_KIND_SEED, d->host, d->name);
        vcm_resource_rehash(d);
        _cleanup_free_ char *host = xstrdup(d->host), *name = xstrdup(d->name);
        vcm_resource *s = vcm_resource_set_put(out, VCM_KIND_SEED, host, name, c->name);
        if (!s) {
                vcm_seed_clear(&seed);
                return -EEXIST;
        }
        vcm_resource_set_prop(s, "digest", digest);
        vcm_resource_set_prop(s, "pool", VCM_FILE_POOL);
        vcm_resource_set_prop(s, VCM_SEED_PROP_META_DATA, seed.meta_data);
        vcm_resource_set_prop(s, VCM_SEED_PROP_USER_DATA, seed.user_data);
        vcm_resource_set_prop(s, VCM_SEED_PROP_NETWORK_CONFIG, seed.network_config);
        vcm_resource_rehash(s);
        vcm_seed_clear(&seed);
        return 0;
}
