/* Create, repair and delete VLAN links and bridges, touching only what carries this site's mark.
 *
 * Creating a link is two requests: RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL (without EXCL the
 * kernel would silently modify a same-named link), then the mark (IFLA_IFALIAS, which the kernel
 * ignores on create) together with IFF_UP (and the master, for the bridge's VLAN link). A crash
 * between the two leaves an unmarked link that is still down; that exact case is adopted:
 *   VLAN link: reserved name, kind vlan, parent = the host's trunk, the cluster's VLAN id, no
 *              alias, down, no master;
 *   bridge:    reserved name, kind bridge, no alias, down, no master, no ports.
 * Anything else with the name is left alone and the step fails, naming it. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/route/link/vlan.h>

#include "nl.h"
#include "specs/base/macro.h"

static void cache_freep(struct nl_cache **c) {
        if (*c)
                nl_cache_free(*c);
}
static void link_putp(struct rtnl_link **l) {
        if (*l)
                rtnl_link_put(*l);
}

static bool link_is(struct rtnl_link *l, const char *type) {
        const char *t = rtnl_link_get_type(l);
        return t && strcmp(t, type) == 0;
}

static bool has_ports(struct nl_cache *cache, int ifindex) {
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
                if (rtnl_link_get_master((struct rtnl_link *)o) == ifindex)
                        return true;
        return false;
}

static bool unmarked_and_down(struct rtnl_link *l) {
        const char *alias = rtnl_link_get_ifalias(l);
        return (!alias || !*alias) && !(rtnl_link_get_flags(l) & IFF_UP) &&
               rtnl_link_get_master(l) <= 0;
}

/* Mark, bring up and (master > 0) enslave the link `ifindex` in one request. */
static int link_mark_up(nl_conn *c, int ifindex, const char *alias, int master) {
        _cleanup_(link_putp) struct rtnl_link *orig = rtnl_link_alloc();
        _cleanup_(link_putp) struct rtnl_link *ch = rtnl_link_alloc();
        if (!orig || !ch)
                return -NLE_NOMEM;
        rtnl_link_set_ifindex(orig, ifindex);
        if (alias)
                rtnl_link_set_ifalias(ch, alias);
        rtnl_link_set_flags(ch, IFF_UP);
        if (master > 0)
                rtnl_link_set_master(ch, master);
        return rtnl_link_change(c->sk, orig, ch, 0);
}

/* Names go to the kernel as they are: libnl would truncate a long one silently. */
static int ifname_ok(nl_conn *c, const vcm_resource *want, const char *name, const char *what,
                     vcm_error *err) {
        if (!name || !*name) {
                vcm_error_set(err, "host %s: %s %s: no %s given", c->host,
                              vcm_kind_name(want->kind), want->name, what);
                return -EINVAL;
        }
        if (vcm_netlink_ifname_check(name) == 0)
                return 0;
        vcm_error_set(err, "host %s: %s %s: %s '%s' is not a usable interface name (1 to %d "
                      "characters, no '/', ':' or spaces)", c->host, vcm_kind_name(want->kind),
                      want->name, what, name, IF_NAMESIZE - 1);
        return -EINVAL;
}

static int mark_alias(nl_conn *c, const vcm_resource *want, char *buf, size_t len,
                      vcm_error *err) {
        if (vcm_netlink_mark_format(c->site, want->cluster, want->hash, buf, len) == 0)
                return 0;
        vcm_error_set(err, "host %s: %s %s: cannot make a mark of site '%s' and cluster '%s'",
                      c->host, vcm_kind_name(want->kind), want->name, c->site, want->cluster);
        return -EINVAL;
}

static int not_ours(nl_conn *c, vcm_kind kind, const char *name, const char *why,
                    vcm_error *err) {
        vcm_error_set(err, "host %s: %s %s: an interface with this name exists and %s; vcm "
                      "leaves it alone (remove or rename it, or give the cluster another network "
                      "id)", c->host, vcm_kind_name(kind), name, why);
        return -EEXIST;
}

/* What to do about an existing link `l` with the wanted name: 0 (ours or adopted: mark, up),
 * or a negative errno with the reason. */
static int existing_check(nl_conn *c, const vcm_resource *want, struct rtnl_link *l,
                          bool shape_ok, bool half_made_ok, vcm_error *err) {
        vcm_netlink_mark m;
        if (nlp_mark_of(c, l, &m) == 0) {
                if (strcmp(m.cluster, want->cluster) != 0)
                        return not_ours(c, want->kind, want->name, "belongs to another cluster",
                                        err);
                if (!shape_ok)
                        return not_ours(c, want->kind, want->name,
                                        "is vcm's but of another kind, parent or VLAN id", err);
                return 0;
        }
        const char *alias = rtnl_link_get_ifalias(l);
        if (alias && *alias)
                return not_ours(c, want->kind, want->name, "carries another alias (not a vcm "
                                "mark of this site)", err);
        if (!half_made_ok)
                return not_ours(c, want->kind, want->name, "has no vcm mark", err);
        return 0; /* the half-made link of an interrupted create: adopt it */
}

int nlp_vlan_ensure(nl_conn *c, const vcm_resource *want, vcm_error *err) {
        const char *trunk = vcm_resource_prop(want, "trunk");
        const char *vs = vcm_resource_prop(want, "vlan");
        char *end = NULL;
        long vid = vs ? strtol(vs, &end, 10) : 0;
        int r = ifname_ok(c, want, want->name, "name", err);
        if (r == 0)
                r = ifname_ok(c, want, trunk, "trunk", err);
        if (r < 0)
                return r;
        if (!vs || *end || vid < 1 || vid > 4094) {
                vcm_error_set(err, "host %s: vlan-link %s: VLAN id '%s' is not in 1..4094",
                              c->host, want->name, vs ? vs : "");
                return -EINVAL;
        }
        char alias[VCM_NETLINK_ALIAS_MAX + 1];
        r = mark_alias(c, want, alias, sizeof(alias), err);
        if (r < 0)
                return r;
        pthread_mutex_lock(&c->lock);
        for (int attempt = 0;; attempt++) {
                _cleanup_(cache_freep) struct nl_cache *cache = NULL;
                r = nlp_dump(c, &cache, err);
                if (r < 0)
                        break;
                struct rtnl_link *t = nlp_find(cache, trunk);
                if (!t) {
                        vcm_error_set(err, "host %s: vlan-link %s: trunk %s does not exist on this "
                                      "host (check 'trunk' of host %s in site.yaml)", c->host,
                                      want->name, trunk, c->host);
                        r = -ENODEV;
                        break;
                }
                int tidx = rtnl_link_get_ifindex(t);
                struct rtnl_link *l = nlp_find(cache, want->name);
                if (l) {
                        bool shape = link_is(l, "vlan") && rtnl_link_get_link(l) == tidx &&
                                     rtnl_link_vlan_get_id(l) == vid;
                        r = existing_check(c, want, l, shape, shape && unmarked_and_down(l), err);
                        if (r == 0 && (r = link_mark_up(c, rtnl_link_get_ifindex(l), alias, 0)) < 0)
                                r = nlp_fail(err, c, want->kind, want->name, "cannot mark it and "
                                             "bring it up", r);
                        break;
                }
                _cleanup_(link_putp) struct rtnl_link *nl = rtnl_link_vlan_alloc();
                if (!nl) {
                        r = -ENOMEM;
                        break;
                }
                rtnl_link_set_link(nl, tidx);
                rtnl_link_set_name(nl, want->name);
                rtnl_link_vlan_set_id(nl, (uint16_t)vid);
                r = rtnl_link_add(c->sk, nl, NLM_F_CREATE | NLM_F_EXCL);
                if (r == -NLE_EXIST && attempt == 0)
                        continue; /* made meanwhile: look again */
                if (r < 0) {
                        char what[64];
                        snprintf(what, sizeof(what), "cannot create it on trunk %s", trunk);
                        r = nlp_fail(err, c, want->kind, want->name, what, r);
                        break;
                }
                _cleanup_(link_putp) struct rtnl_link *got = NULL;
                r = rtnl_link_get_kernel(c->sk, 0, want->name, &got);
                if (r >= 0)
                        r = link_mark_up(c, rtnl_link_get_ifindex(got), alias, 0);
                if (r < 0)
                        r = nlp_fail(err, c, want->kind, want->name, "created, but cannot mark "
                                     "it and bring it up", r);
                break;
        }
        pthread_mutex_unlock(&c->lock);
        return r < 0 ? r : 0;
}

/* Enslave the cluster's VLAN link `port` to the bridge `bridx` (caller holds the lock). */
static int bridge_enslave(nl_conn *c, const vcm_resource *want, struct nl_cache *cache,
                          const char *port, int bridx, vcm_error *err) {
        struct rtnl_link *p = nlp_find(cache, port);
        vcm_netlink_mark m;
        if (!p || nlp_mark_of(c, p, &m) < 0 || strcmp(m.cluster, want->cluster) != 0 ||
            !link_is(p, "vlan")) {
                vcm_error_set(err, "host %s: bridge %s: its VLAN link %s %s", c->host, want->name,
                              port, p ? "is not this cluster's vcm VLAN link; it is left alone"
                                      : "does not exist");
                return p ? -EEXIST : -ENODEV;
        }
        if (rtnl_link_get_master(p) == bridx)
                return 0;
        int r = link_mark_up(c, rtnl_link_get_ifindex(p), NULL, bridx);
        if (r < 0) {
                char what[64];
                snprintf(what, sizeof(what), "cannot enslave VLAN link %s", port);
                return nlp_fail(err, c, want->kind, want->name, what, r);
        }
        return 0;
}

int nlp_bridge_ensure(nl_conn *c, const vcm_resource *want, vcm_error *err) {
        const char *port = vcm_resource_prop(want, "vlan-link");
        int r = ifname_ok(c, want, want->name, "name", err);
        if (r == 0 && port)
                r = ifname_ok(c, want, port, "VLAN link", err);
        if (r < 0)
                return r;
        char alias[VCM_NETLINK_ALIAS_MAX + 1];
        r = mark_alias(c, want, alias, sizeof(alias), err);
        if (r < 0)
                return r;
        pthread_mutex_lock(&c->lock);
        r = -EAGAIN;
        for (int attempt = 0; attempt < 3 && r == -EAGAIN; attempt++) {
                _cleanup_(cache_freep) struct nl_cache *cache = NULL;
                r = nlp_dump(c, &cache, err);
                if (r < 0)
                        break;
                struct rtnl_link *l = nlp_find(cache, want->name);
                if (l) {
                        int idx = rtnl_link_get_ifindex(l);
                        bool shape = link_is(l, "bridge");
                        r = existing_check(c, want, l, shape,
                                           shape && unmarked_and_down(l) && !has_ports(cache, idx),
                                           err);
                        if (r == 0 && (r = link_mark_up(c, idx, alias, 0)) < 0)
                                r = nlp_fail(err, c, want->kind, want->name, "cannot mark it and "
                                             "bring it up", r);
                        if (r == 0 && port)
                                r = bridge_enslave(c, want, cache, port, idx, err);
                        break;
                }
                _cleanup_(link_putp) struct rtnl_link *nl = rtnl_link_alloc();
                if (!nl) {
                        r = -ENOMEM;
                        break;
                }
                rtnl_link_set_name(nl, want->name);
                r = rtnl_link_set_type(nl, "bridge");
                if (r >= 0)
                        r = rtnl_link_add(c->sk, nl, NLM_F_CREATE | NLM_F_EXCL);
                if (r < 0 && r != -NLE_EXIST) {
                        r = nlp_fail(err, c, want->kind, want->name, "cannot create it", r);
                        break;
                }
                /* Made now (or meanwhile): look again; the branch above marks it, brings it up
                 * and gives it its port, as it would after an interrupted pass. */
                r = -EAGAIN;
        }
        if (r == -EAGAIN)
                vcm_error_set(err, "host %s: bridge %s: created, but it vanished again",
                              c->host, want->name);
        pthread_mutex_unlock(&c->lock);
        return r < 0 ? r : 0;
}

int nlp_link_delete(nl_conn *c, const vcm_resource *have, vcm_error *err) {
        const char *type = have->kind == VCM_KIND_VLAN_LINK ? "vlan" : "bridge";
        if ((c->trunk && strcmp(have->name, c->trunk) == 0) ||
            (c->external && strcmp(have->name, c->external) == 0)) {
                vcm_error_set(err, "host %s: %s %s: is the host's trunk or external bridge; vcm "
                              "never deletes it", c->host, vcm_kind_name(have->kind), have->name);
                return -EPERM;
        }
        pthread_mutex_lock(&c->lock);
        _cleanup_(cache_freep) struct nl_cache *cache = NULL;
        int r = nlp_dump(c, &cache, err);
        struct rtnl_link *l = r < 0 ? NULL : nlp_find(cache, have->name);
        vcm_netlink_mark m;
        if (!l) {
                /* already gone (r = 0), or the dump failed (r < 0) */
        } else if (nlp_mark_of(c, l, &m) < 0 || strcmp(m.cluster, have->cluster) != 0 ||
                   !link_is(l, type)) {
                vcm_error_set(err, "host %s: %s %s: no longer carries cluster %s's vcm mark; left "
                              "alone", c->host, vcm_kind_name(have->kind), have->name,
                              have->cluster);
                r = -EPERM;
        } else {
                int idx = rtnl_link_get_ifindex(l);
                /* Detach our own ports first (the cluster's VLAN link); the kernel frees any
                 * other port when the bridge goes, without deleting it. */
                for (struct nl_object *o = nl_cache_get_first(cache);
                     o && have->kind == VCM_KIND_BRIDGE && r >= 0; o = nl_cache_get_next(o)) {
                        struct rtnl_link *p = (struct rtnl_link *)o;
                        vcm_netlink_mark pm;
                        if (rtnl_link_get_master(p) == idx && nlp_mark_of(c, p, &pm) == 0 &&
                            (r = rtnl_link_release_ifindex(c->sk, rtnl_link_get_ifindex(p))) < 0 &&
                            r != -NLE_NODEV && r != -NLE_OBJ_NOTFOUND)
                                r = nlp_fail(err, c, have->kind, have->name, "cannot detach a port",
                                             r);
                        else
                                r = 0;
                }
                if (r >= 0) {
                        r = rtnl_link_delete(c->sk, l);
                        if (r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND)
                                r = 0;
                        else if (r < 0)
                                r = nlp_fail(err, c, have->kind, have->name, "cannot delete it", r);
                }
        }
        pthread_mutex_unlock(&c->lock);
        return r < 0 ? r : 0;
}
