/* The netlink provider: the vlan network backend's VLAN links and bridges on each host that runs
 * a cluster's VMs (DESIGN.md §3 "Network path", §5b), through libnl-3 / libnl-route-3.
 *
 * Ownership: every link it makes carries an interface alias (IFLA_IFALIAS)
 *   "vcm:<cluster> site=<site> hash=<16 hex digits>"
 * It observes, changes and deletes only links of kind vlan or bridge whose alias parses as a
 * mark of its own site; the trunk, the external bridge and anything unmarked are never touched.
 * The one exception is adoption of the half-made link a crash between create and mark leaves
 * (nl_link.c says exactly which). */
#ifndef VCM_PROVIDER_NETLINK_H
#define VCM_PROVIDER_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "providers/provider.h"

extern const vcm_provider vcm_provider_netlink;

#define VCM_NETLINK_MARK_PREFIX "vcm:"
#define VCM_NETLINK_ALIAS_MAX 255 /* IFALIASZ - 1 */

typedef struct vcm_netlink_mark {
        char cluster[64];
        char site[128];
        uint64_t hash;
} vcm_netlink_mark;

/* The alias for a link of `cluster` in `site`: 0, or -EINVAL when a name is empty, holds a space
 * or '=', or the alias does not fit (len at most VCM_NETLINK_ALIAS_MAX + 1). */
int vcm_netlink_mark_format(const char *site, const char *cluster, uint64_t hash, char *buf,
                            size_t len);
/* 0 with the mark; -ENOENT when `alias` is not a vcm mark (NULL, empty, another prefix);
 * -EINVAL when it starts with the prefix but is malformed (treated as not ours too). */
int vcm_netlink_mark_parse(const char *alias, vcm_netlink_mark *ret);

/* An interface name the kernel takes as is: 1..15 characters (IFNAMSIZ - 1, which libnl would
 * truncate silently), no '/', ':' or white space, not "." or "..". 0, -ENAMETOOLONG or -EINVAL. */
int vcm_netlink_ifname_check(const char *name);

#endif
