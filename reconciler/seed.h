/* A node's first-boot seed (cloud-init NoCloud): meta-data, user-data and network-config,
 * rendered from the model. Pure functions: the same spec gives the same bytes, so a seed only
 * shows as changed in a plan when its content really changed.
 *
 * Merge of Rolls (docs/rolls.md): the cluster's `rolls` list is walked in order and each Roll's
 * entry for the node's appliance is added:
 *   packages  union, in order of first mention (a package listed again is not repeated);
 *   runcmd    concatenated, Roll by Roll, each Roll's commands in their order;
 *   files     a later Roll's file with the same path replaces the earlier one (last Roll wins;
 *             the file keeps the place of its first mention); the override is reported.
 * A Roll that says nothing for the appliance adds nothing. */
#ifndef VCM_SEED_H
#define VCM_SEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "specs/model.h"

/* One merged file, and which Roll it came from. */
typedef struct vcm_seed_file {
        const vcm_roll_file *file;
        const char *roll;
        const char *overrides; /* the Roll whose file of the same path it replaced, or NULL */
} vcm_seed_file;

/* The merge of a cluster's Rolls for one appliance; borrows the repo's strings. */
typedef struct vcm_seed_merged {
        const char **packages;
        size_t n_packages;
        const char **runcmd;
        size_t n_runcmd;
        vcm_seed_file *files;
        size_t n_files;
} vcm_seed_merged;

int vcm_seed_merge(const vcm_repo *repo, const vcm_cluster *c, const char *appliance,
                   vcm_seed_merged *ret);
void vcm_seed_merged_clear(vcm_seed_merged *m);

/* What a seed says of its node beyond the spec: its NICs' MACs (NULL: no such NIC). */
typedef struct vcm_seed_node {
        const char *node;      /* "frontend" or "<group>-<index>" */
        const char *appliance;
        bool frontend;
        vcm_install install;
        const char *mac0;      /* private NIC */
        const char *mac1;      /* external NIC (frontends with external: true), or NULL */
} vcm_seed_node;

typedef struct vcm_seed {
        char *meta_data;
        char *user_data;
        char *network_config;
        uint64_t digest;       /* of the three files: what the seed resource compares */
        /* Of the node's own part: the files without the frontend's tables of the other nodes
         * (/etc/vcm/hosts, /etc/vcm/dhcp-hosts). The domain compares it, so a node added to or
         * removed from the cluster rewrites the frontend's seed without restarting it; the
         * frontend reads the new tables when it next boots. */
        uint64_t boot_digest;
} vcm_seed;

void vcm_seed_clear(vcm_seed *s);

/* The node's position on the private network: 1 for the frontend, 2.. for the nodes in spec
 * order (groups in order, indexes ascending). -ENOENT for a node the cluster does not have. */
int vcm_seed_node_index(const vcm_cluster *c, const char *node, uint32_t *ret);

/* Render the three files. -ERANGE when the subnet has no address for the node. */
int vcm_seed_render(const vcm_repo *repo, const vcm_cluster *c, const vcm_seed_node *n,
                    vcm_seed *ret);

/* The seed of `node` from the model alone, as desired() renders it (for `vcm seed`): MACs as
 * vcm_mac_for gives them, an external NIC when the cluster asks for one and a gateway of the
 * site has an external bridge. -ENOENT for an unknown node. */
int vcm_seed_render_node(const vcm_repo *repo, const vcm_cluster *c, const char *node,
                         vcm_seed *ret);

/* The seed's files by their NoCloud names, for the image builder and `vcm seed`. */
typedef struct vcm_seed_entry {
        const char *name;      /* "meta-data", "user-data", "network-config" */
        const char *content;
} vcm_seed_entry;
#define VCM_SEED_N_FILES 3
void vcm_seed_entries(const vcm_seed *s, vcm_seed_entry ret[VCM_SEED_N_FILES]);

/* Resource props: the seed resource keeps its files in these meta props (so they reach the
 * provider without being compared); "digest" is what diff compares. */
#define VCM_SEED_PROP_META_DATA "meta.meta-data"
#define VCM_SEED_PROP_USER_DATA "meta.user-data"
#define VCM_SEED_PROP_NETWORK_CONFIG "meta.network-config"

#endif
