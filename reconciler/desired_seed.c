/* desired(), guest part: each node's first-boot seed (NoCloud) as a resource of its own, a small
 * read-only disk on the node's VM host in vcm's pool. The desired set keeps each seed's digest
 * and what it was rendered from, not its files (about 1.5 KiB a node): a pass renders the files
 * again only for the seeds it writes (vcm_desired_seed_files). */
#include "reconciler/desired_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/props.h"
#include "reconciler/seed.h"
#include "reconciler/util.h"

/* What the seed was rendered from (meta: not compared; the digest is). */
#define SEED_IN_NODE "meta.node"
#define SEED_IN_APPLIANCE "meta.appliance"
#define SEED_IN_FRONTEND "meta.frontend"
#define SEED_IN_INSTALL "meta.install"
#define SEED_IN_MAC0 "meta.mac0"
#define SEED_IN_MAC1 "meta.mac1"

int desired_add_seed(vcm_resource_set *out, const vcm_repo *repo, const vcm_cluster *c,
                     const vcm_placed_node *n, uint32_t netid, vcm_resource *d) {
        (void)netid;
        /* Copied: d may move when the seed is added, its props with it. */
        char mac0[18] = "", mac1[18] = "";
        const char *m0 = vcm_resource_prop(d, "nic0.mac"), *m1 = vcm_resource_prop(d, "nic1.mac");
        if (m0)
                snprintf(mac0, sizeof(mac0), "%s", m0);
        if (m1)
                snprintf(mac1, sizeof(mac1), "%s", m1);
        vcm_seed_node sn = {
                .node = n->node,
                .appliance = n->appliance,
                .frontend = n->frontend,
                .install = n->install,
                .mac0 = m0 ? mac0 : NULL,
                .mac1 = m1 ? mac1 : NULL,
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
        vcm_resource_set_prop(s, SEED_IN_NODE, sn.node);
        vcm_resource_set_prop(s, SEED_IN_APPLIANCE, sn.appliance);
        vcm_resource_set_prop(s, SEED_IN_FRONTEND, sn.frontend ? "1" : "0");
        vcm_resource_set_propf(s, SEED_IN_INSTALL, "%d", (int)sn.install);
        vcm_resource_set_prop(s, SEED_IN_MAC0, sn.mac0);
        if (sn.mac1)
                vcm_resource_set_prop(s, SEED_IN_MAC1, sn.mac1);
        vcm_resource_rehash(s);
        vcm_seed_clear(&seed);
        return 0;
}

int vcm_desired_seed_files(const vcm_repo *repo, vcm_resource *seed) {
        if (vcm_resource_prop(seed, VCM_SEED_PROP_USER_DATA))
                return 0; /* made with its files (tests, older callers) */
        const vcm_cluster *c = vcm_repo_find_cluster(repo, seed->cluster);
        const char *node = vcm_resource_prop(seed, SEED_IN_NODE),
                   *install = vcm_resource_prop(seed, SEED_IN_INSTALL),
                   *frontend = vcm_resource_prop(seed, SEED_IN_FRONTEND),
                   *digest = vcm_resource_prop(seed, "digest");
        if (!c || !node || !install || !frontend || !digest)
                return -ENOENT;
        vcm_seed_node sn = {
                .node = node,
                .appliance = vcm_resource_prop(seed, SEED_IN_APPLIANCE),
                .frontend = strcmp(frontend, "1") == 0,
                .install = (vcm_install)atoi(install),
                .mac0 = vcm_resource_prop(seed, SEED_IN_MAC0),
                .mac1 = vcm_resource_prop(seed, SEED_IN_MAC1),
        };
        vcm_seed files = { 0 };
        int r = vcm_seed_render(repo, c, &sn, &files);
        if (r < 0)
                return r;
        /* Rendering is pure: the same inputs give the digest the plan compared. Anything else
         * would write a seed whose marker lies about its content. */
        char again[17];
        snprintf(again, sizeof(again), "%016llx", (unsigned long long)files.digest);
        if (strcmp(again, digest) != 0) {
                vcm_seed_clear(&files);
                return -ESTALE;
        }
        vcm_resource_set_prop(seed, VCM_SEED_PROP_META_DATA, files.meta_data);
        vcm_resource_set_prop(seed, VCM_SEED_PROP_USER_DATA, files.user_data);
        vcm_resource_set_prop(seed, VCM_SEED_PROP_NETWORK_CONFIG, files.network_config);
        vcm_seed_clear(&files);
        return 0;
}
