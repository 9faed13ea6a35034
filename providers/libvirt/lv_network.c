/* Bridges of the bridge backend: one isolated libvirt network per cluster (no <forward>, no IP),
 * whose bridge device has the resource's name. Networks without vcm's mark are never touched,
 * and libvirt itself refuses a bridge name the host already uses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "lv.h"
#include "specs/base/macro.h"

static void net_freep(virNetworkPtr *n) {
        if (*n)
                virNetworkFree(*n);
}
#define _cleanup_net_ _cleanup_(net_freep)

/* The persistent definition, which carries the mark we wrote; drivers that cannot give it
 * separately (the test driver) give the one definition they have. */
static char *lv_network_xml(virNetworkPtr net) {
        char *xml = virNetworkGetXMLDesc(net, VIR_NETWORK_XML_INACTIVE);
        if (!xml && (lv_last_code() == VIR_ERR_INVALID_ARG || lv_last_code() == VIR_ERR_NO_SUPPORT))
                xml = virNetworkGetXMLDesc(net, 0);
        return xml;
}

int lv_network_xml_mark(const char *xml, const char *site, lv_mark *ret) {
        xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "network.xml", NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return -EBADMSG;
        int r = -ENOENT;
        xmlNode *root = xmlDocGetRootElement(doc);
        for (xmlNode *n = root ? root->children : NULL; n; n = n->next)
                if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "metadata") == 0)
                        r = lv_xml_read_mark(n, site, ret);
        xmlFreeDoc(doc);
        return r;
}

static int lv_network_xml_build(const char *site, const vcm_resource *want, const char *uuid,
                               char **ret_xml) {
        const char *netid = vcm_resource_prop(want, "netid");
        if (!netid || strlen(want->name) > 15) /* IFNAMSIZ - 1: the bridge device's name */
                return -EINVAL;
        xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
        xmlNode *net = xmlNewNode(NULL, (const xmlChar *)"network");
        xmlDocSetRootElement(doc, net);
        xmlNewTextChild(net, NULL, (const xmlChar *)"name", (const xmlChar *)want->name);
        if (uuid)
                xmlNewTextChild(net, NULL, (const xmlChar *)"uuid", (const xmlChar *)uuid);
        xmlNode *md = xmlNewChild(net, NULL, (const xmlChar *)"metadata", NULL);
        xmlNode *m = xmlNewChild(md, NULL, (const xmlChar *)"resource", NULL);
        xmlSetNs(m, xmlNewNs(m, (const xmlChar *)VCM_LIBVIRT_NS,
                             (const xmlChar *)VCM_LIBVIRT_NS_PREFIX));
        char hex[17];
        lv_hash_hex(want->hash, hex);
        xmlNewProp(m, (const xmlChar *)"site", (const xmlChar *)site);
        xmlNewProp(m, (const xmlChar *)"cluster", (const xmlChar *)(want->cluster ? want->cluster : ""));
        xmlNewProp(m, (const xmlChar *)"netid", (const xmlChar *)netid);
        xmlNewProp(m, (const xmlChar *)"hash", (const xmlChar *)hex);
        /* No <forward> and no <ip>: an isolated L2 segment, like a VLAN without a trunk. */
        xmlNode *br = xmlNewChild(net, NULL, (const xmlChar *)"bridge", NULL);
        xmlNewProp(br, (const xmlChar *)"name", (const xmlChar *)want->name);
        xmlNewProp(br, (const xmlChar *)"stp", (const xmlChar *)"off");
        xmlNewProp(br, (const xmlChar *)"delay", (const xmlChar *)"0");
        xmlChar *buf = NULL;
        int len = 0;
        xmlDocDumpMemory(doc, &buf, &len);
        xmlFreeDoc(doc);
        if (!buf)
                return -ENOMEM;
        *ret_xml = strdup((const char *)buf);
        xmlFree(buf);
        return *ret_xml ? 0 : -ENOMEM;
}

static int lv_network_observe_one(lv_conn *c, virNetworkPtr net, vcm_resource_set *out,
                                  vcm_error *err) {
        const char *name = virNetworkGetName(net);
        _cleanup_free_ char *xml = lv_network_xml(net);
        if (!xml) {
                if (lv_last_code() == VIR_ERR_NO_NETWORK)
                        return 0; /* undefined while we listed */
                return lv_fail(err, c, "network", name, "cannot read its XML");
        }
        if (!strstr(xml, VCM_LIBVIRT_NS))
                return 0;
        lv_mark m = { 0 };
        int r = lv_network_xml_mark(xml, c->site, &m);
        if (r < 0)
                return r == -ENOMEM ? r : 0; /* unmarked: not ours */
        vcm_resource *res = vcm_resource_set_put(out, VCM_KIND_BRIDGE, c->host, name, m.cluster);
        if (res) {
                if (m.netid)
                        vcm_resource_set_prop(res, "netid", m.netid);
                res->hash = m.hash;
        }
        lv_mark_clear(&m);
        return 0;
}

int lv_network_observe(lv_conn *c, vcm_resource_set *out, vcm_error *err) {
        virNetworkPtr *nets = NULL;
        int n = virConnectListAllNetworks(c->conn, &nets, 0);
        if (n < 0)
                return lv_fail(err, c, "networks", NULL, "cannot list");
        int ret = 0;
        for (int i = 0; i < n; i++) {
                if (ret >= 0)
                        ret = lv_network_observe_one(c, nets[i], out, err);
                virNetworkFree(nets[i]);
        }
        free(nets);
        return ret;
}

/* 0 with the network when it is vcm's, -ENOENT when absent, -EPERM when not vcm's. */
static int lv_network_owned(lv_conn *c, const char *name, virNetworkPtr *ret, uint64_t *ret_hash,
                            vcm_error *err) {
        _cleanup_net_ virNetworkPtr net = virNetworkLookupByName(c->conn, name);
        if (!net) {
                if (lv_last_code() == VIR_ERR_NO_NETWORK)
                        return -ENOENT;
                return lv_fail(err, c, "network", name, "cannot look it up");
        }
        _cleanup_free_ char *xml = lv_network_xml(net);
        if (!xml) {
                if (lv_last_code() == VIR_ERR_NO_NETWORK)
                        return -ENOENT;
                return lv_fail(err, c, "network", name, "cannot read its XML");
        }
        lv_mark m = { 0 };
        int r = lv_network_xml_mark(xml, c->site, &m);
        uint64_t hash = m.hash;
        lv_mark_clear(&m);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                vcm_error_set(err,
                              "host %s: network %s exists and is not vcm's (no vcm mark of site %s); "
                              "vcm leaves it alone",
                              c->host, name, c->site);
                return -EPERM;
        }
        if (ret_hash)
                *ret_hash = hash;
        *ret = TAKE_PTR(net);
        return 0;
}

int lv_network_create(lv_conn *c, const vcm_resource *want, vcm_error *err) {
        _cleanup_net_ virNetworkPtr net = NULL;
        uint64_t hash = 0;
        int r = lv_network_owned(c, want->name, &net, &hash, err);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r == -ENOENT || hash != want->hash) {
                /* New, or ours with another mark: (re)define, keeping the UUID. */
                char uuid[VIR_UUID_STRING_BUFLEN];
                if (net && virNetworkGetUUIDString(net, uuid) < 0)
                        return lv_fail(err, c, "network", want->name, "cannot read its UUID");
                _cleanup_free_ char *xml = NULL;
                r = lv_network_xml_build(c->site, want, net ? uuid : NULL, &xml);
                if (r < 0) {
                        vcm_error_set(err, "host %s: bridge %s: needs a netid and a name of at "
                                      "most 15 characters", c->host, want->name);
                        return r;
                }
                virNetworkPtr def = virNetworkDefineXML(c->conn, xml);
                if (!def)
                        return lv_fail(err, c, "network", want->name, "cannot define");
                if (net)
                        virNetworkFree(net);
                net = def;
        }
        if (virNetworkIsActive(net) != 1 && virNetworkCreate(net) < 0 &&
            lv_last_code() != VIR_ERR_OPERATION_INVALID)
                return lv_fail(err, c, "network", want->name, "cannot start");
        if (virNetworkSetAutostart(net, 1) < 0)
                return lv_fail(err, c, "network", want->name, "cannot mark autostart");
        return 0;
}

int lv_network_delete(lv_conn *c, const vcm_resource *have, vcm_error *err) {
        _cleanup_net_ virNetworkPtr net = NULL;
        int r = lv_network_owned(c, have->name, &net, NULL, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (virNetworkIsActive(net) == 1 && virNetworkDestroy(net) < 0 &&
            lv_last_code() != VIR_ERR_OPERATION_INVALID && lv_last_code() != VIR_ERR_NO_NETWORK)
                return lv_fail(err, c, "network", have->name, "cannot stop");
        if (virNetworkUndefine(net) < 0 && lv_last_code() != VIR_ERR_NO_NETWORK)
                return lv_fail(err, c, "network", have->name, "cannot undefine");
        return 0;
}
