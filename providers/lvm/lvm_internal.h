/* Shared by the lvm provider's files. */
#ifndef VCM_PROVIDER_LVM_INTERNAL_H
#define VCM_PROVIDER_LVM_INTERNAL_H

#include <pthread.h>

#include "lvm.h"
#include "reconciler/util.h"

#define LVM_BIN "/sbin/lvm"

/* Run argv (argv[0] a full path); the exit status (>= 0) or -errno when it could not run.
 * On success (any exit status) *ret_out and *ret_err hold the output (caller frees). */
int lvm_run(const char *const argv[], char **ret_out, char **ret_err);

typedef struct lvm_conn {
        char *host;
        char *vg;
        /* Clusters whose volumes this pass started creating -> bytes they need in total,
         * so that another cluster does not take the room a half-made one still needs. */
        pthread_mutex_t lock;
        vcm_strmap reserved; /* cluster -> (uintptr_t) bytes */
} lvm_conn;

/* The VG's LVs (all of them; callers filter on tags). -ENOENT when the VG does not exist. */
int lvm_list(lvm_conn *c, lvm_lv **ret, size_t *ret_n, vcm_error *err);
int lvm_vg_info(lvm_conn *c, lvm_vg *ret, vcm_error *err);

/* Zero a block device from start to end (BLKZEROOUT), refusing one someone holds open
 * exclusively (a mounted file system, an LIO backstore). */
int lvm_wipe_device(const char *path, vcm_error *err);
/* Copy `from` into `to` (both block devices), as much as the smaller holds. */
int lvm_copy_device(const char *from, const char *to, vcm_error *err);

#endif
