/* Reading vcm's ownership mark: <metadata><vcm:resource xmlns:vcm=NS attr=.../></metadata>. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "lv.h"

static int lv_xml_dup_attr(xmlNode *n, const char *name, char **ret) {
        xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
        if (!v)
                return 0;
        *ret = strdup((const char *)v);
        xmlFree(v);
        return *ret ? 0 : -ENOMEM;
}

int lv_xml_read_mark_element(xmlNode *n, const char *site, lv_mark *ret) {
        xmlChar *owner = xmlGetProp(n, (const xmlChar *)"site");
        bool ours = owner && strcmp((const char *)owner, site) == 0;
        xmlFree(owner);
        if (!ours)
                return -ENOENT; /* another site's (or no site's): not ours */
        lv_mark m = { 0 };
        int r = lv_xml_dup_attr(n, "cluster", &m.cluster);
        if (r >= 0)
                r = lv_xml_dup_attr(n, "node", &m.node);
        if (r >= 0)
                r = lv_xml_dup_attr(n, "appliance", &m.appliance);
        if (r >= 0)
                r = lv_xml_dup_attr(n, "commit", &m.commit);
        if (r >= 0)
                r = lv_xml_dup_attr(n, "netid", &m.netid);
        char *hash = NULL;
        if (r >= 0)
                r = lv_xml_dup_attr(n, "hash", &hash);
        if (r >= 0 && (!m.cluster || !hash || lv_hash_parse(hash, &m.hash) < 0))
                r = -EBADMSG; /* a mark without cluster or hash is not one we wrote */
        free(hash);
        if (r < 0) {
                lv_mark_clear(&m);
                return r;
        }
        *ret = m;
        return 0;
}

int lv_xml_read_mark(xmlNode *metadata, const char *site, lv_mark *ret) {
        if (!metadata)
                return -ENOENT;
        for (xmlNode *n = metadata->children; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE || !n->ns || !n->ns->href ||
                    strcmp((const char *)n->ns->href, VCM_LIBVIRT_NS) != 0 ||
                    strcmp((const char *)n->name, "resource") != 0)
                        continue;
                return lv_xml_read_mark_element(n, site, ret);
        }
        return -ENOENT;
}
