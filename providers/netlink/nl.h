/* Internals of the netlink provider, shared by its files. Not for use outside this folder:
 * only this folder includes libnl's headers. */
#ifndef VCM_NL_H
#define VCM_NL_H

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <pthread.h>

#include "providers/netlink/netlink.h"
#include "reconciler/resource.h"

typedef struct nl_conn {
        struct nl_sock *sk;
        pthread_mutex_t lock; /* one request at a time on the socket: steps run in parallel */
        char *host;           /* site host name, for messages and observed resources */
        char *site;           /* site name: marks carry it, so sites sharing a host keep apart */
        char *trunk;          /* the host's trunk and external bridge: never touched */
        char *external;
} nl_conn;

int nlp_open(const vcm_site *site, const vcm_host *host, void **ret_conn, vcm_error *err);
void nlp_close(void *conn);

/* libnl's -NLE_* as a negative errno. */
int nlp_errno(int nlerr);
/* Report a failed libnl call: "host H: KIND NAME: WHAT: CAUSE", the cause spelled out for the
 * cases an operator can fix (no kernel support, no permission, missing device). Returns the
 * negative errno. */
int nlp_fail(vcm_error *err, const nl_conn *c, vcm_kind kind, const char *name, const char *what,
             int nlerr);

/* One RTM_GETLINK dump of the host's links (caller holds c->lock). */
int nlp_dump(nl_conn *c, struct nl_cache **ret, vcm_error *err);
/* The link `name` from a dump: NULL when absent. Not a reference: valid while the cache lives. */
struct rtnl_link *nlp_find(struct nl_cache *cache, const char *name);
/* The link's mark when it is one of this site's: 0, or -ENOENT. */
int nlp_mark_of(const nl_conn *c, struct rtnl_link *l, vcm_netlink_mark *ret);

int nlp_observe(nl_conn *c, vcm_resource_set *out, vcm_error *err);

/* Make the link exist as desired (create, adopt the half-made one, or fix mark, up and master);
 * also the update. */
int nlp_vlan_ensure(nl_conn *c, const vcm_resource *want, vcm_error *err);
int nlp_bridge_ensure(nl_conn *c, const vcm_resource *want, vcm_error *err);
int nlp_link_delete(nl_conn *c, const vcm_resource *have, vcm_error *err);

#endif
