/* The lio provider: one iSCSI target per cluster on the storage host, a block backstore and a
 * LUN per volume, a portal on the storage host's address, an ACL per VM host initiator, all
 * through configfs as rtslib-fb does it (DESIGN.md §5b), no Python at run time.
 *
 * Ownership: targets carry vcm's IQN prefix (VCM_IQN_PREFIX<cluster>); backstores are named
 * "vcm.<cluster>.<volume suffix>". Nothing else under configfs is changed or deleted.
 *
 * Every piece (backstore, TPG attributes, portal, enable, LUN, ACL, mapped LUN) is checked and
 * made on its own, so a half-made export left by a crash is completed, not skipped. After each
 * change vcm's part of saveconfig.json is rewritten (temp file, 0600, rename) next to the
 * entries of other tools, which are kept as they are, so Debian's targetctl restores vcm's
 * exports after a reboot. Backstore index allocation holds rtslib's lock.
 *
 * The library takes its root directories as parameters: unit tests run it on a scratch tree,
 * where `scratch` makes it create the directories configfs would create by itself. */
#ifndef VCM_PROVIDER_LIO_H
#define VCM_PROVIDER_LIO_H

#include <stdbool.h>
#include <stddef.h>

#include "providers/provider.h"

#define VCM_LIO_CONFIGFS "/sys/kernel/config"
#define VCM_LIO_ROOT VCM_LIO_CONFIGFS "/target"
#define VCM_LIO_SAVEFILE "/etc/rtslib-fb-target/saveconfig.json"
#define VCM_LIO_LOCKFILE "/var/run/rtslib_backstore.lock"
#define VCM_LIO_BACKSTORE_PREFIX "vcm."

extern const vcm_provider vcm_provider_lio;

typedef struct lio_root {
        const char *dir;       /* configfs target directory (VCM_LIO_ROOT) */
        const char *savefile;  /* saveconfig.json (VCM_LIO_SAVEFILE) */
        const char *lockfile;  /* rtslib's backstore lock (VCM_LIO_LOCKFILE) */
        bool scratch;          /* a plain directory tree standing in for configfs (tests) */
} lio_root;

/* ---- names (lio_names.c); returned strings are the caller's ---- */
char *lio_target_iqn(const char *cluster);          /* NULL when not a valid IQN */
char *lio_initiator_iqn(const char *host);
/* Cluster of a vcm target IQN, or NULL when the IQN is not vcm's. */
char *lio_cluster_of_iqn(const char *iqn);
/* "vcm.<cluster>.<suffix>" for volume "<cluster>-<suffix>"; NULL if the volume is not the
 * cluster's. And back: the volume name and cluster of a vcm backstore name. */
char *lio_backstore_name(const char *cluster, const char *volume);
int lio_backstore_parse(const char *name, char **ret_cluster, char **ret_volume);
/* "0,2,10" -> sorted unique numbers. */
int lio_luns_parse(const char *s, unsigned **ret, size_t *ret_n);
/* A stable unit serial for a backstore (same name, same serial), in rtslib's uuid form. */
void lio_unit_serial(const char *name, char ret[37]);

/* ---- configfs objects (lio_objects.c): idempotent, each piece on its own ---- */
/* Fails with a clear message when configfs is not mounted or the target core not loaded. */
int lio_check(const lio_root *root, vcm_error *err);
int lio_backstore_ensure(const lio_root *root, const char *name, const char *dev, vcm_error *err);
int lio_backstore_remove(const lio_root *root, const char *name, vcm_error *err);
int lio_target_ensure(const lio_root *root, const char *iqn, const char *portal, vcm_error *err);
int lio_target_remove(const lio_root *root, const char *iqn, vcm_error *err);
int lio_lun_ensure(const lio_root *root, const char *iqn, unsigned lun, const char *backstore,
                   vcm_error *err);
/* Also drops mapped LUNs of the target's ACLs that point at it. */
int lio_lun_remove(const lio_root *root, const char *iqn, unsigned lun, vcm_error *err);
int lio_acl_ensure(const lio_root *root, const char *iqn, const char *initiator,
                   const unsigned *luns, size_t n_luns, vcm_error *err);
int lio_acl_remove(const lio_root *root, const char *iqn, const char *initiator, vcm_error *err);

/* ---- observation (lio_scan.c) ---- */
/* vcm's targets, LUNs (with their backstores, and backstores left without a LUN) and ACLs as
 * resources of `host`. A root that does not exist reads as empty. */
int lio_scan(const lio_root *root, const char *host, vcm_resource_set *out, vcm_error *err);

/* ---- persistence (lio_save.c) ---- */
/* Rewrite vcm's part of root->savefile from configfs, keeping everything else in the file. */
int lio_save(const lio_root *root, vcm_error *err);

#endif
