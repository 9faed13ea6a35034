/* Domains: observe in bulk, create (define + start), update (metadata, start, or redefine and
 * restart), delete (destroy + undefine). Only domains carrying vcm's mark are touched. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "lv.h"
#include "reconciler/props.h"
#include "specs/base/macro.h"

static void dom_freep(virDomainPtr *d) {
        if (*d)
                virDomainFree(*d);
}
#define _cleanup_dom_ _cleanup_(dom_freep)

static const char *lv_state_name(int state) {
        switch (state) {
        case VIR_DOMAIN_RUNNING:
        case VIR_DOMAIN_BLOCKED:
                return "running";
        case VIR_DOMAIN_PAUSED:
                return "paused";
        case VIR_DOMAIN_SHUTDOWN:
                return "shutdown";
        case VIR_DOMAIN_SHUTOFF:
                return "shutoff";
        case VIR_DOMAIN_CRASHED:
                return "crashed";
        case VIR_DOMAIN_PMSUSPENDED:
                return "pmsuspended";
        default:
                return "nostate";
        }
}

/* Props that live only in vcm's mark: changing them never needs a restart. */
static bool lv_key_is_mark_only(const char *key) {
        return vcm_prop_is_meta(key) || strcmp(key, "node") == 0 ||
               strcmp(key, "appliance") == 0;
}

/* The slow way: the whole XML, parsed. The XML is the live one for running domains, so a
 * redefinition that was never followed by its restart still shows as drift. */
static int lv_domain_read_xml(lv_conn *c, virDomainPtr dom, vcm_resource *r, lv_mark *m,
                              vcm_error *err) {
        _cleanup_free_ char *xml = virDomainGetXMLDesc(dom, 0);
        if (!xml) {
                if (lv_last_code() == VIR_ERR_NO_DOMAIN)
                        return -ENOENT; /* undefined while we listed */
                return lv_fail(err, c, "domain", r->name, "cannot read its XML");
        }
        if (!strstr(xml, VCM_LIBVIRT_NS))
                return -ENOENT; /* cheap skip of everything that is not vcm's */
        int ret = lv_domain_xml_parse(xml, c->site, r, m);
        return ret == -ENOMEM ? ret : ret < 0 ? -ENOENT : 0; /* unmarked or unreadable */
}

/* The fast way: the mark alone (a small element, no XML of the whole domain to format and
 * parse) holds the definition's props as applied; memory and vcpus come from the stats record
 * or virDomainGetInfo, both of the live domain like the live XML. -ENODATA: read the XML. */
static int lv_domain_read_mark(lv_conn *c, virDomainPtr dom, lv_dom_stats *st, vcm_resource *r,
                               lv_mark *m, vcm_error *err) {
        _cleanup_free_ char *xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
                                                        VCM_LIBVIRT_NS, 0);
        if (!xml) {
                int code = lv_last_code();
                if (code == VIR_ERR_NO_DOMAIN_METADATA || code == VIR_ERR_NO_DOMAIN)
                        return -ENOENT; /* not vcm's, or undefined while we listed */
                return -ENODATA;
        }
        int ret = lv_domain_mark_parse(xml, c->site, r, m);
        if (ret < 0)
                return ret == -EBADMSG ? -ENOENT : ret;
        if (st->vcpus < 0 || st->max_kib < 0 || st->state < 0) {
                virDomainInfo info;
                if (virDomainGetInfo(dom, &info) < 0) {
                        lv_mark_clear(m);
                        if (lv_last_code() == VIR_ERR_NO_DOMAIN)
                                return -ENOENT;
                        return lv_fail(err, c, "domain", r->name, "cannot read its info");
                }
                st->vcpus = info.nrVirtCpu;
                st->max_kib = (long long)info.maxMem;
                if (st->state < 0)
                        st->state = info.state;
        }
        lv_set_prop_ll(r, "memory", st->max_kib * 1024);
        lv_set_prop_ll(r, "vcpus", st->vcpus);
        return 0;
}

/* Add one domain to `out` when it carries vcm's mark of this site. */
static int lv_domain_observe_one(lv_conn *c, virDomainPtr dom, lv_dom_stats st,
                                 vcm_resource_set *out, vcm_error *err) {
        const char *name = virDomainGetName(dom);
        /* Built in out's arena: a site's domains are tens of thousands of small strings. */
        vcm_resource r = vcm_resource_set_draft(out, VCM_KIND_DOMAIN, c->host, name);
        lv_mark m = { 0 };
        int ret = lv_domain_read_mark(c, dom, &st, &r, &m, err);
        if (ret == -ENODATA) {
                vcm_resource_clear(&r);
                r = vcm_resource_set_draft(out, VCM_KIND_DOMAIN, c->host, name);
                ret = lv_domain_read_xml(c, dom, &r, &m, err);
        }
        if (ret < 0) {
                vcm_resource_clear(&r);
                return ret == -ENOENT ? 0 : ret;
        }
        int state = st.state;
        if (state < 0) {
                int reason;
                if (virDomainGetState(dom, &state, &reason, 0) < 0) {
                        lv_mark_clear(&m);
                        vcm_resource_clear(&r);
                        return lv_fail(err, c, "domain", name, "cannot read its state");
                }
        }
        vcm_resource_set_prop(&r, "state", lv_state_name(state));
        vcm_resource_set_cluster(&r, m.cluster);
        r.hash = m.hash;
        lv_mark_clear(&m);
        ret = vcm_resource_set_add(out, &r);
        if (ret < 0) {
                vcm_error_set(err, "host %s: domain %s observed twice", c->host, name);
                return ret;
        }
        return 0;
}

int lv_domain_list(lv_conn *c, lv_dom_list *ret, vcm_error *err) {
        lv_dom_list l = { 0 };
        /* One bulk call gives every domain with its state, and on drivers that report them its
         * vcpus and memory (QEMU does; the test driver does not, virDomainGetInfo fills in). */
        int n = virConnectGetAllDomainStats(
                c->conn, VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_BALLOON,
                &l.recs, 0);
        if (n < 0 && lv_last_code() != VIR_ERR_NO_SUPPORT)
                return lv_fail(err, c, "domains", NULL, "cannot list");
        if (n < 0) {
                l.recs = NULL;
                n = virConnectListAllDomains(c->conn, &l.doms, 0);
                if (n < 0)
                        return lv_fail(err, c, "domains", NULL, "cannot list");
        } else if (!(l.doms = calloc((size_t)n + 1, sizeof(*l.doms)))) {
                virDomainStatsRecordListFree(l.recs);
                return -ENOMEM;
        }
        l.n = (size_t)n;
        if (!(l.stats = calloc(l.n + 1, sizeof(*l.stats)))) {
                lv_domain_list_clear(&l);
                return -ENOMEM;
        }
        for (size_t i = 0; i < l.n; i++) {
                lv_dom_stats st = { -1, -1, -1 };
                for (int j = 0; l.recs && j < l.recs[i]->nparams; j++) {
                        const virTypedParameter *p = &l.recs[i]->params[j];
                        if (strcmp(p->field, "state.state") == 0)
                                st.state = p->value.i;
                        else if (strcmp(p->field, "vcpu.current") == 0)
                                st.vcpus = p->value.ui;
                        else if (strcmp(p->field, "balloon.maximum") == 0)
                                st.max_kib = (long long)p->value.ul;
                }
                if (l.recs)
                        l.doms[i] = l.recs[i]->dom;
                l.stats[i] = st;
        }
        *ret = l;
        return 0;
}

void lv_domain_list_clear(lv_dom_list *l) {
        if (l->recs) {
                virDomainStatsRecordListFree(l->recs); /* owns the domains too */
        } else {
                for (size_t i = 0; i < l->n; i++)
                        virDomainFree(l->doms[i]);
        }
        free(l->doms);
        free(l->stats);
        *l = (lv_dom_list){ 0 };
}

int lv_domain_observe_range(lv_conn *c, const lv_dom_list *l, size_t from, size_t to,
                            vcm_resource_set *out, vcm_error *err) {
        int ret = 0;
        for (size_t i = from; i < to && i < l->n && ret >= 0; i++)
                ret = lv_domain_observe_one(c, l->doms[i], l->stats[i], out, err);
        return ret;
}

/* Look the domain up and check vcm's mark. 0 with *ret_dom (and its UUID), -ENOENT when absent,
 * -EPERM when it exists without the mark. */
static int lv_domain_owned(lv_conn *c, const char *name, virDomainPtr *ret_dom,
                           char ret_uuid[VIR_UUID_STRING_BUFLEN], vcm_error *err) {
        _cleanup_dom_ virDomainPtr dom = virDomainLookupByName(c->conn, name);
        if (!dom) {
                if (lv_last_code() == VIR_ERR_NO_DOMAIN)
                        return -ENOENT;
                return lv_fail(err, c, "domain", name, "cannot look it up");
        }
        /* The persistent definition carries the mark we wrote with define. */
        _cleanup_free_ char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
        if (!xml) {
                if (lv_last_code() == VIR_ERR_NO_DOMAIN)
                        return -ENOENT;
                return lv_fail(err, c, "domain", name, "cannot read its XML");
        }
        vcm_resource tmp = { 0 };
        lv_mark m = { 0 };
        int r = lv_domain_xml_parse(xml, c->site, &tmp, &m);
        vcm_resource_clear(&tmp);
        lv_mark_clear(&m);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                vcm_error_set(err,
                              "host %s: domain %s exists and is not vcm's (no vcm mark of site %s); "
                              "vcm leaves it alone: rename or remove it",
                              c->host, name, c->site);
                return -EPERM;
        }
        if (ret_uuid && virDomainGetUUIDString(dom, ret_uuid) < 0)
                return lv_fail(err, c, "domain", name, "cannot read its UUID");
        *ret_dom = TAKE_PTR(dom);
        return 0;
}

static bool lv_want_running(const vcm_resource *want) {
        const char *s = vcm_resource_prop(want, "state");
        return !s || strcmp(s, "running") == 0;
}

/* Bring the domain to the desired run state. */
static int lv_domain_converge_state(lv_conn *c, virDomainPtr dom, const vcm_resource *want,
                                    vcm_error *err) {
        int state, reason;
        if (virDomainGetState(dom, &state, &reason, 0) < 0)
                return lv_fail(err, c, "domain", want->name, "cannot read its state");
        if (lv_want_running(want)) {
                if (state == VIR_DOMAIN_PAUSED) {
                        if (virDomainResume(dom) < 0)
                                return lv_fail(err, c, "domain", want->name, "cannot resume");
                } else if (state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED ||
                           state == VIR_DOMAIN_NOSTATE) {
                        if (virDomainCreate(dom) < 0 && lv_last_code() != VIR_ERR_OPERATION_INVALID)
                                return lv_fail(err, c, "domain", want->name, "cannot start");
                }
        } else if (state != VIR_DOMAIN_SHUTOFF) {
                if (virDomainDestroy(dom) < 0 && lv_last_code() != VIR_ERR_OPERATION_INVALID)
                        return lv_fail(err, c, "domain", want->name, "cannot stop");
        }
        return 0;
}

/* Redefine an existing owned domain (same UUID) with the desired XML. */
static int lv_domain_redefine(lv_conn *c, const vcm_resource *want, const char *uuid,
                              vcm_error *err) {
        _cleanup_free_ char *xml = NULL;
        int r = lv_domain_xml_build(c->domain_type, c->site, want, uuid, &xml);
        if (r < 0) {
                vcm_error_set(err, "host %s: domain %s: invalid desired properties", c->host,
                              want->name);
                return r;
        }
        _cleanup_dom_ virDomainPtr dom = virDomainDefineXML(c->conn, xml);
        if (!dom)
                return lv_fail(err, c, "domain", want->name, "cannot define");
        return 0;
}

int lv_domain_create(lv_conn *c, const vcm_resource *want, vcm_error *err) {
        _cleanup_free_ char *xml = NULL;
        int r = lv_domain_xml_build(c->domain_type, c->site, want, NULL, &xml);
        if (r < 0) {
                vcm_error_set(err, "host %s: domain %s: invalid desired properties", c->host,
                              want->name);
                return r;
        }
        /* The common case costs exactly define + start. Defining a name that exists fails
         * (our XML has no UUID), so an existing domain is never overwritten here. */
        _cleanup_dom_ virDomainPtr dom = virDomainDefineXML(c->conn, xml);
        if (!dom) {
                vcm_error e2;
                int fr = lv_fail(&e2, c, "domain", want->name, "cannot define");
                char uuid[VIR_UUID_STRING_BUFLEN];
                r = lv_domain_owned(c, want->name, &dom, uuid, err);
                if (r == -ENOENT) {
                        /* Not there: the define failed for its own reasons. */
                        *err = e2;
                        return fr;
                }
                if (r < 0)
                        return r;
                /* Ours already (an interrupted earlier create): finish the job. */
                r = lv_domain_redefine(c, want, uuid, err);
                if (r < 0)
                        return r;
                return lv_domain_converge_state(c, dom, want, err);
        }
        if (!lv_want_running(want))
                return 0;
        if (virDomainCreate(dom) < 0)
                return lv_fail(err, c, "domain", want->name, "cannot start");
        return 0;
}

static bool lv_prop_changed(const vcm_resource *a, const vcm_resource *b, const char *key) {
        const char *x = vcm_resource_prop(a, key), *y = vcm_resource_prop(b, key);
        if (!x || !y)
                return x != y;
        return strcmp(x, y) != 0;
}

/* Whether any prop that lives in the domain definition differs. */
static bool lv_definition_changed(const vcm_resource *want, const vcm_resource *have) {
        const vcm_resource *both[2] = { want, have };
        for (int k = 0; k < 2; k++)
                for (size_t i = 0; i < both[k]->n_props; i++) {
                        const char *key = both[k]->props[i].key;
                        if (strcmp(key, "state") == 0 || lv_key_is_mark_only(key))
                                continue;
                        if (lv_prop_changed(want, have, key))
                                return true;
                }
        return false;
}

static bool lv_mark_changed(const vcm_resource *want, const vcm_resource *have) {
        if (want->hash != have->hash || strcmp(want->cluster ? want->cluster : "",
                                               have->cluster ? have->cluster : "") != 0)
                return true;
        const vcm_resource *both[2] = { want, have };
        for (int k = 0; k < 2; k++)
                for (size_t i = 0; i < both[k]->n_props; i++)
                        if (lv_key_is_mark_only(both[k]->props[i].key) &&
                            lv_prop_changed(want, have, both[k]->props[i].key))
                                return true;
        return false;
}

int lv_domain_update(lv_conn *c, const vcm_resource *want, const vcm_resource *have,
                     vcm_error *err) {
        _cleanup_dom_ virDomainPtr dom = NULL;
        char uuid[VIR_UUID_STRING_BUFLEN];
        int r = lv_domain_owned(c, want->name, &dom, uuid, err);
        if (r == -ENOENT) {
                vcm_error_set(err, "host %s: domain %s: gone before its update", c->host,
                              want->name);
                return r;
        }
        if (r < 0)
                return r;
        int active = virDomainIsActive(dom);
        if (active < 0)
                return lv_fail(err, c, "domain", want->name, "cannot read its state");

        if (lv_definition_changed(want, have)) {
                /* No live changes: redefine, and a running domain restarts on the new
                 * definition. Destroy, not shutdown: guests may ignore ACPI, and the plan said
                 * "requires restart". */
                r = lv_domain_redefine(c, want, uuid, err);
                if (r < 0)
                        return r;
                if (active && virDomainDestroy(dom) < 0 &&
                    lv_last_code() != VIR_ERR_OPERATION_INVALID)
                        return lv_fail(err, c, "domain", want->name, "cannot stop to restart");
        } else if (lv_mark_changed(want, have)) {
                _cleanup_free_ char *mark = NULL;
                r = lv_domain_xml_mark(c->site, want, &mark);
                if (r < 0)
                        return r;
                unsigned flags = VIR_DOMAIN_AFFECT_CONFIG | (active ? VIR_DOMAIN_AFFECT_LIVE : 0);
                if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, mark,
                                         VCM_LIBVIRT_NS_PREFIX, VCM_LIBVIRT_NS, flags) < 0)
                        return lv_fail(err, c, "domain", want->name, "cannot update its metadata");
        }
        return lv_domain_converge_state(c, dom, want, err);
}

int lv_domain_delete(lv_conn *c, const vcm_resource *have, vcm_error *err) {
        _cleanup_dom_ virDomainPtr dom = NULL;
        int r = lv_domain_owned(c, have->name, &dom, NULL, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0 &&
            lv_last_code() != VIR_ERR_OPERATION_INVALID && lv_last_code() != VIR_ERR_NO_DOMAIN)
                return lv_fail(err, c, "domain", have->name, "cannot stop");
        unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                         VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;
        if (virDomainUndefineFlags(dom, flags) < 0) {
                int code = lv_last_code();
                if (code == VIR_ERR_NO_DOMAIN)
                        return 0;
                if (code == VIR_ERR_NO_SUPPORT || code == VIR_ERR_INVALID_ARG) {
                        if (virDomainUndefine(dom) == 0 || lv_last_code() == VIR_ERR_NO_DOMAIN)
                                return 0;
                }
                return lv_fail(err, c, "domain", have->name, "cannot undefine");
        }
        return 0;
}

int lv_domain_observe_name(lv_conn *c, const char *name, vcm_resource_set *out, vcm_error *err) {
        _cleanup_dom_ virDomainPtr dom = virDomainLookupByName(c->conn, name);
        if (!dom) {
                if (lv_last_code() == VIR_ERR_NO_DOMAIN)
                        return 0; /* gone: nothing to report */
                return lv_fail(err, c, "domain", name, "cannot look it up");
        }
        return lv_domain_observe_one(c, dom, (lv_dom_stats){ -1, -1, -1 }, out, err);
}
