/* Observation: one RTM_GETLINK dump per host; every link of kind vlan or bridge whose alias is a
 * mark of this site becomes a resource with what the kernel says about it. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/route/link/vlan.h>

#include "nl.h"
#include "reconciler/desired.h"
#include "reconciler/props.h"
#include "specs/base/macro.h"

static void cache_freep(struct nl_cache **c) {
        if (*c)
                nl_cache_free(*c);
}

/* A marked VLAN link enslaved to a bridge: the bridge reports it as its "vlan-link". */
typedef struct port {
        int master;
        const char *name;
        char cluster[sizeof(((vcm_netlink_mark *)0)->cluster)];
} port;

static vcm_kind kind_of(struct rtnl_link *l, bool *ret_known) {
        const char *t = rtnl_link_get_type(l);
        *ret_known = t && (strcmp(t, "vlan") == 0 || strcmp(t, "bridge") == 0);
        return t && strcmp(t, "vlan") == 0 ? VCM_KIND_VLAN_LINK : VCM_KIND_BRIDGE;
}

static vcm_resource *observe_put(nl_conn *c, vcm_resource_set *out, vcm_kind kind,
                                 struct rtnl_link *l, const vcm_netlink_mark *m) {
        vcm_resource *r = vcm_resource_set_put(out, kind, c->host, rtnl_link_get_name(l), m->cluster);
        if (!r)
                return NULL;
        r->hash = m->hash;
        vcm_resource_set_prop(r, "state", rtnl_link_get_flags(l) & IFF_UP ? "up" : "down");
        return r;
}

int nlp_observe(nl_conn *c, vcm_resource_set *out, vcm_error *err) {
        _cleanup_(cache_freep) struct nl_cache *cache = NULL;
        pthread_mutex_lock(&c->lock);
        int r = nlp_dump(c, &cache, err);
        pthread_mutex_unlock(&c->lock);
        if (r < 0)
                return r;
        size_t n_ports = 0, cap = (size_t)nl_cache_nitems(cache);
        _cleanup_free_ port *ports = calloc(cap ? cap : 1, sizeof(*ports));
        if (!ports)
                return -ENOMEM;
        /* VLAN links first, noting which bridge each is enslaved to. */
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *)o;
                vcm_netlink_mark m;
                bool known;
                if (nlp_mark_of(c, l, &m) < 0 || kind_of(l, &known) != VCM_KIND_VLAN_LINK || !known)
                        continue;
                vcm_resource *res = observe_put(c, out, VCM_KIND_VLAN_LINK, l, &m);
                if (!res)
                        continue;
                vcm_resource_set_propf(res, "vlan", "%d", rtnl_link_vlan_get_id(l));
                char parent[IF_NAMESIZE + 1] = "";
                if (rtnl_link_get_link(l) > 0)
                        rtnl_link_i2name(cache, rtnl_link_get_link(l), parent, sizeof(parent));
                vcm_resource_set_prop(res, "trunk", parent);
                if (rtnl_link_get_master(l) > 0 && n_ports < cap) {
                        port *p = &ports[n_ports++];
                        p->master = rtnl_link_get_master(l);
                        p->name = rtnl_link_get_name(l);
                        memcpy(p->cluster, m.cluster, sizeof(p->cluster));
                }
        }
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *)o;
                vcm_netlink_mark m;
                bool known;
                if (nlp_mark_of(c, l, &m) < 0 || kind_of(l, &known) != VCM_KIND_BRIDGE || !known)
                        continue;
                vcm_resource *res = observe_put(c, out, VCM_KIND_BRIDGE, l, &m);
                if (!res)
                        continue;
                uint32_t id = vcm_netid_from_name(res->name);
                if (id)
                        vcm_resource_set_propf(res, "netid", "%u", id);
                /* Only a port of the same cluster counts as the bridge's VLAN link. */
                for (size_t i = 0; i < n_ports; i++)
                        if (ports[i].master == rtnl_link_get_ifindex(l) &&
                            strcmp(ports[i].cluster, m.cluster) == 0) {
                                vcm_resource_set_prop(res, "vlan-link", ports[i].name);
                                break;
                        }
        }
        return 0;
}
