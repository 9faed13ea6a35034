/* Storage placement on the lvm-iscsi backend: which storage host holds a cluster's volumes, its
 * iSCSI target, LUNs and ACLs. One host per cluster (its target holds all its LUNs). The rule is
 * shared by desired() (reconcile) and the validate-time capacity check so that both choose
 * alike:
 *   - eligible: role storage with a volumeGroup and a portal;
 *   - a host with capacity.storage has room when `need` fits in capacity minus `used`; a host
 *     without it always has room (its volume group is checked by the lvm provider at apply);
 *   - among hosts with room the most free room wins, a host without capacity.storage counting
 *     as unlimited; between such hosts the least used wins (spread); ties go in site order.
 * Callers keep a cluster whose storage exists on its host (a pass never moves volumes) and
 * count that host's use before choosing for new clusters. */
#ifndef VCM_STORAGE_PLACEMENT_H
#define VCM_STORAGE_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "specs/model.h"

bool vcm_storage_host_eligible(const vcm_host *h);

/* The storage host for `need` bytes given `used` bytes per site host (indexed as site->hosts).
 * Returns 0 with *ret_host, -ENOSPC when every eligible host has capacity.storage and none has
 * room, -ENODEV when no host is eligible. */
int vcm_storage_choose(const vcm_site *site, const uint64_t *used, uint64_t need,
                       size_t *ret_host);

/* Whether any eligible host gives capacity.storage (else nothing is counted or refused). */
bool vcm_storage_counted(const vcm_site *site);

/* The free room of every eligible host with capacity.storage, for messages:
 * "st1 30GiB free, st2 20GiB free". Caller frees. */
char *vcm_storage_free_text(const vcm_site *site, const uint64_t *used);

#endif
