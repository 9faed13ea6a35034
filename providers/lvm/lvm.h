/* The lvm provider: each node disk and each cluster's shared volume is an LV in the host's
 * volume group (DESIGN.md §3 "Storage path", §5b "LVM").
 *
 * Ownership is in LVM tags, so it survives anything that keeps the LV:
 *   vcm:<cluster>        the LV is vcm's and belongs to <cluster> (never touched without it)
 *   vcm.size:<bytes>     the size asked for (LVM rounds up to whole extents)
 *   vcm.copying:<source> while the appliance image is being copied in, swapped for
 *   vcm.clone:<source>   once the copy is complete; a volume still marked copying after a
 *                        crash is replaced, never used half-copied
 * Release wipes the LV (BLKZEROOUT: the kernel uses write-zeroes/unmap where the device
 * offers it, plain zero writes elsewhere) before lvremove, so new LVs on the same extents read
 * zeroes. Creation checks the VG's free space for the whole cluster first (meta.cluster-bytes,
 * set by desired()), so a cluster that does not fit fails before any of its LVs exists. */
#ifndef VCM_PROVIDER_LVM_H
#define VCM_PROVIDER_LVM_H

#include <stdint.h>

#include "providers/provider.h"

#define VCM_LVM_TAG_CLUSTER "vcm:"
#define VCM_LVM_TAG_SIZE "vcm.size:"
#define VCM_LVM_TAG_CLONE "vcm.clone:"
#define VCM_LVM_TAG_COPYING "vcm.copying:"

extern const vcm_provider vcm_provider_lvm;

/* One row of `lvs --reportformat json`. */
typedef struct lvm_lv {
        char *name, *vg, *uuid, *path, *attr;
        char **tags;      /* NULL-terminated */
        uint64_t size;    /* bytes */
        uint64_t vg_free; /* bytes; 0 when the report had no vg_free column */
        uint64_t extent;  /* vg_extent_size in bytes; 0 when absent */
} lvm_lv;

void lvm_lvs_free(lvm_lv *lvs, size_t n);

/* Parse an lvs (report key "lv") or vgs (key "vg") JSON report. Numbers may be JSON strings
 * (Debian 12's lvm2 2.03.16) or numbers; tags one comma-separated string or an array. */
int lvm_report_parse_lvs(const char *json, lvm_lv **ret, size_t *ret_n, vcm_error *err);

typedef struct lvm_vg {
        char name[128];
        uint64_t size, free, extent;
} lvm_vg;
int lvm_report_parse_vg(const char *json, const char *vg, lvm_vg *ret, vcm_error *err);

/* The tag value after `prefix` ("vcm:" -> cluster), or NULL. */
const char *lvm_lv_tag(const lvm_lv *lv, const char *prefix);

/* An owned LV as a volume resource (props size, backend, pool, clone); 0 and nothing added
 * for an LV without vcm's tag. */
int lvm_lv_to_resource(const lvm_lv *lv, const char *host, vcm_resource_set *out);

/* Whether `s` may be an LVM tag value (A-Z a-z 0-9 _ + . - / = ! : # &). */
bool lvm_tag_valid(const char *s);

#endif
