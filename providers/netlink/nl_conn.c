/* The netlink socket of one host, and libnl's errors as errnos and readable causes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/errno.h>

#include "nl.h"
#include "reconciler/props.h"

int nlp_errno(int nlerr) {
        switch (nlerr < 0 ? -nlerr : nlerr) {
        case 0:
                return 0;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_EXIST:
                return -EEXIST;
        case NLE_NODEV:
        case NLE_OBJ_NOTFOUND:
                return -ENODEV;
        case NLE_OPNOTSUPP:
                return -EOPNOTSUPP;
        case NLE_PERM:
                return -EPERM;
        case NLE_INVAL:
        case NLE_RANGE:
                return -EINVAL;
        case NLE_BUSY:
                return -EBUSY;
        case NLE_AGAIN:
                return -EAGAIN;
        default:
                return -EIO;
        }
}

static const char *nlp_cause(vcm_kind kind, int nlerr) {
        switch (nlerr < 0 ? -nlerr : nlerr) {
        case NLE_OPNOTSUPP:
                return kind == VCM_KIND_VLAN_LINK
                               ? "the kernel has no 802.1Q VLAN support (module 8021q missing or "
                                 "not loadable)"
                               : "the kernel has no bridge support (module bridge missing or not "
                                 "loadable)";
        case NLE_PERM:
                return "operation not permitted: vcm needs CAP_NET_ADMIN on this host (run it as "
                       "root)";
        default:
                return nl_geterror(nlerr);
        }
}

int nlp_fail(vcm_error *err, const nl_conn *c, vcm_kind kind, const char *name, const char *what,
             int nlerr) {
        vcm_error_set(err, "host %s: %s %s: %s: %s", c->host, vcm_kind_name(kind), name, what,
                      nlp_cause(kind, nlerr));
        return nlp_errno(nlerr);
}

int nlp_open(const vcm_site *site, const vcm_host *host, void **ret_conn, vcm_error *err) {
        if (!(host->roles & (VCM_ROLE_VM_SERVER | VCM_ROLE_GATEWAY))) {
                /* Not a host this provider serves (provider.h: not an error). */
                vcm_error_set(err, "host %s: runs no VMs, so no cluster networks", host->name);
                return -EOPNOTSUPP;
        }
        nl_conn *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        pthread_mutex_init(&c->lock, NULL);
        c->host = strdup(host->name);
        c->site = strdup(site->name);
        c->trunk = host->trunk ? strdup(host->trunk) : NULL;
        c->external = host->external ? strdup(host->external) : NULL;
        c->sk = nl_socket_alloc();
        int r = 0;
        if (!c->host || !c->site || (host->trunk && !c->trunk) ||
            (host->external && !c->external) || !c->sk)
                r = -ENOMEM;
        else if ((r = nl_connect(c->sk, NETLINK_ROUTE)) < 0) {
                vcm_error_set(err, "host %s: cannot open a netlink socket: %s", c->host,
                              nl_geterror(r));
                r = nlp_errno(r);
        }
        if (r < 0) {
                nlp_close(c);
                return r;
        }
        *ret_conn = c;
        return 0;
}

void nlp_close(void *conn) {
        nl_conn *c = conn;
        if (!c)
                return;
        if (c->sk)
                nl_socket_free(c->sk); /* closes it */
        pthread_mutex_destroy(&c->lock);
        free(c->host);
        free(c->site);
        free(c->trunk);
        free(c->external);
        free(c);
}

int nlp_dump(nl_conn *c, struct nl_cache **ret, vcm_error *err) {
        struct nl_cache *cache = NULL;
        int r = rtnl_link_alloc_cache(c->sk, AF_UNSPEC, &cache);
        if (r < 0) {
                vcm_error_set(err, "host %s: cannot list network links: %s", c->host,
                              nl_geterror(r));
                return nlp_errno(r);
        }
        *ret = cache;
        return 0;
}

struct rtnl_link *nlp_find(struct nl_cache *cache, const char *name) {
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *)o;
                const char *n = rtnl_link_get_name(l);
                if (n && strcmp(n, name) == 0)
                        return l;
        }
        return NULL;
}

int nlp_mark_of(const nl_conn *c, struct rtnl_link *l, vcm_netlink_mark *ret) {
        vcm_netlink_mark m;
        if (vcm_netlink_mark_parse(rtnl_link_get_ifalias(l), &m) < 0 || strcmp(m.site, c->site) != 0)
                return -ENOENT;
        *ret = m;
        return 0;
}
