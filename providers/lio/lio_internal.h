/* Shared by the lio provider's files: configfs access relative to a root. */
#ifndef VCM_PROVIDER_LIO_INTERNAL_H
#define VCM_PROVIDER_LIO_INTERNAL_H

#include "lio.h"
#include "reconciler/util.h"

#define LIO_TPG "tpgt_1"
#define LIO_LUN_LINK "vcm_lun"    /* name of the LUN -> backstore symlink */
#define LIO_MLUN_LINK "vcm_mlun"  /* name of the mapped LUN -> LUN symlink */

/* root->dir + "/" + rel (caller frees). */
char *lio_path(const lio_root *root, const char *fmt, ...) _printf_(2, 3);

/* Each returns 0 or -errno with the path and cause in err. An existing directory or link is
 * success for mkdir/symlink, a missing one for rmdir/unlink. */
int cfs_mkdir(const lio_root *root, const char *abs, vcm_error *err);
int cfs_rmdir(const lio_root *root, const char *abs, vcm_error *err);
int cfs_write(const lio_root *root, const char *abs, const char *value, vcm_error *err);
int cfs_symlink(const char *target, const char *abs, vcm_error *err);
int cfs_unlink(const char *abs, vcm_error *err);
/* Contents with trailing white space trimmed; NULL when missing or unreadable. */
char *cfs_read(const char *abs);
bool cfs_exists(const char *abs);
/* Entries of a directory, sorted, NULL-terminated (empty when it does not exist). */
char **cfs_list(const char *abs);
/* The symlink inside directory `abs` (a LUN or mapped LUN): its name and where it points. */
int cfs_find_link(const char *abs, char **ret_name, char **ret_target);
/* The last two components of a link target ("iblock_0/vcm.c.n" or "lun/lun_3"). */
const char *cfs_tail2(const char *path);

/* fn(ctx, "core/iblock_N/<name>", name) for each block backstore named vcm.*. */
void lio_each_backstore(const lio_root *root, void (*fn)(void *ctx, const char *rel,
                                                         const char *name), void *ctx);
/* "core/iblock_N/<name>" of a block backstore, or NULL. */
char *lio_backstore_find(const lio_root *root, const char *name);

#endif
