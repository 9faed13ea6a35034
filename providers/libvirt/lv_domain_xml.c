/* Domain XML both ways: built from a desired resource with libxml2 (user values are escaped by
 * the library, never pasted into strings), and parsed back into the same props for observe. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "lv.h"
#include "reconciler/props.h"
#include "specs/base/macro.h"

#define LV_MAX_DISKS 16
#define LV_MAX_NICS 8
#define LV_SEED_TARGET "vdz"

static void xml_doc_freep(xmlDoc **d) {
        if (*d)
                xmlFreeDoc(*d);
}
#define _cleanup_xml_doc_ _cleanup_(xml_doc_freep)

static char *attr(xmlNode *n, const char *name);
static char *lv_props_encode(const vcm_resource *want);

static xmlNode *add(xmlNode *parent, const char *name, const char *text) {
        return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text);
}
static void set(xmlNode *n, const char *name, const char *value) {
        xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)value);
}

/* namespaced: false for virDomainSetMetadata, which puts the element in the namespace itself
 * (and fails when the element declares it already). */
static xmlNode *lv_mark_node(const char *site, const vcm_resource *want, bool namespaced) {
        xmlNode *m = xmlNewNode(NULL, (const xmlChar *)"resource");
        if (namespaced) {
                xmlNs *ns = xmlNewNs(m, (const xmlChar *)VCM_LIBVIRT_NS,
                                     (const xmlChar *)VCM_LIBVIRT_NS_PREFIX);
                xmlSetNs(m, ns);
        }
        char hex[17];
        lv_hash_hex(want->hash, hex);
        set(m, "site", site);
        set(m, "cluster", want->cluster ? want->cluster : "");
        const char *v;
        if ((v = vcm_resource_prop(want, "node")))
                set(m, "node", v);
        if ((v = vcm_resource_prop(want, "appliance")))
                set(m, "appliance", v);
        set(m, "hash", hex);
        if ((v = vcm_resource_prop(want, "meta.commit")))
                set(m, "commit", v);
        /* The definition's props as applied (disks, NICs, boot), so that observe reads them
         * from this small element instead of formatting and parsing every domain's whole XML;
         * memory, vcpus and state are read from libvirt itself. One attribute, not an element
         * per prop: libvirt copies and formats the mark on every read, and keeps it in memory
         * for every domain. Marks without it (older ones) are read through the whole XML. */
        char *props = lv_props_encode(want);
        if (props)
                set(m, "props", props);
        free(props);
        return m;
}

/* "k=v;k=v": '%', ';', '=' and control characters as %XX. */
static void lv_put_enc(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p == '%' || *p == ';' || *p == '=' || *p < 0x20)
                        fprintf(f, "%%%02X", *p);
                else
                        fputc(*p, f);
}

static char *lv_props_encode(const vcm_resource *want) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        bool first = true;
        for (size_t i = 0; i < want->n_props; i++) {
                const char *key = want->props[i].key;
                if (lv_domain_key_is_read_live(key))
                        continue;
                if (!first)
                        fputc(';', f);
                first = false;
                lv_put_enc(f, key);
                fputc('=', f);
                lv_put_enc(f, want->props[i].value);
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* Decode one %XX-encoded field in place; -EINVAL when malformed. */
static int lv_dec(char *s) {
        char *o = s;
        for (char *p = s; *p; p++) {
                if (*p != '%') {
                        *o++ = *p;
                        continue;
                }
                unsigned v;
                if (!p[1] || !p[2] || sscanf(p + 1, "%2x", &v) != 1 || v == 0)
                        return -EINVAL;
                *o++ = (char)v;
                p += 2;
        }
        *o = '\0';
        return 0;
}

static int lv_props_decode(const char *enc, vcm_resource *r) {
        _cleanup_free_ char *copy = strdup(enc);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *pair = strtok_r(copy, ";", &save); pair; pair = strtok_r(NULL, ";", &save)) {
                char *eq = strchr(pair, '=');
                if (!eq)
                        return -EBADMSG;
                *eq = '\0';
                if (lv_dec(pair) < 0 || lv_dec(eq + 1) < 0)
                        return -EBADMSG;
                if (!lv_domain_key_is_read_live(pair))
                        vcm_resource_set_prop(r, pair, eq + 1);
        }
        return 0;
}

bool lv_domain_key_is_read_live(const char *key) {
        return !strcmp(key, "memory") || !strcmp(key, "vcpus") || !strcmp(key, "state") ||
               !strcmp(key, "node") || !strcmp(key, "appliance") || vcm_prop_is_meta(key);
}

/* The mark element through libxml2, for the forms the scanner leaves to it. */
static int lv_mark_attrs_read_xml(const char *xml, lv_mark_attrs *ret) {
        _cleanup_xml_doc_ xmlDoc *doc =
                xmlReadMemory(xml, (int)strlen(xml), "mark.xml", NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return -EBADMSG;
        xmlNode *root = xmlDocGetRootElement(doc);
        if (!root || strcmp((const char *)root->name, "resource") != 0)
                return -EBADMSG;
        lv_mark_attrs a = { 0 };
        struct {
                const char *name;
                char **slot;
        } want[] = { { "site", &a.site },     { "cluster", &a.cluster },
                     { "node", &a.node },     { "appliance", &a.appliance },
                     { "commit", &a.commit }, { "netid", &a.netid },
                     { "hash", &a.hash },     { "props", &a.props } };
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                xmlChar *v = xmlGetProp(root, (const xmlChar *)want[i].name);
                if (!v)
                        continue;
                *want[i].slot = strdup((const char *)v);
                xmlFree(v);
                if (!*want[i].slot) {
                        lv_mark_attrs_clear(&a);
                        return -ENOMEM;
                }
        }
        *ret = a;
        return 0;
}

int lv_domain_mark_parse(const char *xml, const char *site, vcm_resource *r, lv_mark *ret_mark) {
        _cleanup_(lv_mark_attrs_clear) lv_mark_attrs a = { 0 };
        int ret = lv_mark_scan(xml, &a);
        if (ret == -EPROTO)
                ret = lv_mark_attrs_read_xml(xml, &a);
        if (ret < 0)
                return ret;
        if (!a.site || strcmp(a.site, site) != 0)
                return -ENOENT; /* another site's (or no site's): not ours */
        uint64_t hash;
        if (!a.cluster || !a.hash || lv_hash_parse(a.hash, &hash) < 0)
                return -ENOENT; /* a mark without cluster or hash is not one we wrote */
        if (!a.props)
                return -ENODATA;
        ret = lv_props_decode(a.props, r);
        if (ret < 0)
                return ret == -ENOMEM ? ret : -ENODATA; /* unreadable: the XML tells */
        if (a.node)
                vcm_resource_set_prop(r, "node", a.node);
        if (a.appliance)
                vcm_resource_set_prop(r, "appliance", a.appliance);
        if (a.commit)
                vcm_resource_set_prop(r, "meta.commit", a.commit);
        *ret_mark = (lv_mark){ .cluster = TAKE_PTR(a.cluster), .node = TAKE_PTR(a.node),
                               .appliance = TAKE_PTR(a.appliance), .commit = TAKE_PTR(a.commit),
                               .netid = TAKE_PTR(a.netid), .hash = hash };
        return 0;
}

static int lv_dump(xmlDoc *doc, xmlNode *root, char **ret_xml) {
        xmlChar *buf = NULL;
        int len = 0;
        if (root) {
                xmlBuffer *b = xmlBufferCreate();
                if (!b)
                        return -ENOMEM;
                xmlNodeDump(b, doc, root, 0, 0);
                char *s = strdup((const char *)xmlBufferContent(b));
                xmlBufferFree(b);
                if (!s)
                        return -ENOMEM;
                *ret_xml = s;
                return 0;
        }
        xmlDocDumpMemory(doc, &buf, &len);
        if (!buf)
                return -ENOMEM;
        char *s = strdup((const char *)buf);
        xmlFree(buf);
        if (!s)
                return -ENOMEM;
        *ret_xml = s;
        return 0;
}

int lv_domain_xml_mark(const char *site, const vcm_resource *want, char **ret_xml) {
        _cleanup_xml_doc_ xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
        if (!doc)
                return -ENOMEM;
        xmlNode *m = lv_mark_node(site, want, false);
        xmlDocSetRootElement(doc, m);
        return lv_dump(doc, m, ret_xml);
}

/* "file:<pool>/<volume>" | "block:<path>" | "iscsi:<host>:<port>/<iqn>/<lun>" */
static int lv_add_disk(xmlNode *devices, const char *spec, const char *initiator,
                       const char *target, bool readonly) {
        xmlNode *d = add(devices, "disk", NULL);
        set(d, "device", "disk");
        xmlNode *drv = add(d, "driver", NULL);
        set(drv, "name", "qemu");
        set(drv, "type", "raw");
        xmlNode *src;
        if (strncmp(spec, "file:", 5) == 0) {
                const char *pool = spec + 5, *slash = strchr(pool, '/');
                if (!slash || slash == pool || !slash[1])
                        return -EINVAL;
                _cleanup_free_ char *p = strndup(pool, (size_t)(slash - pool));
                if (!p)
                        return -ENOMEM;
                set(d, "type", "volume");
                src = add(d, "source", NULL);
                set(src, "pool", p);
                set(src, "volume", slash + 1);
        } else if (strncmp(spec, "block:", 6) == 0) {
                if (spec[6] != '/')
                        return -EINVAL;
                set(d, "type", "block");
                src = add(d, "source", NULL);
                set(src, "dev", spec + 6);
        } else if (strncmp(spec, "iscsi:", 6) == 0) {
                const char *portal = spec + 6, *slash = strchr(portal, '/');
                if (!slash)
                        return -EINVAL;
                _cleanup_free_ char *hp = strndup(portal, (size_t)(slash - portal));
                if (!hp)
                        return -ENOMEM;
                char *colon = strrchr(hp, ':');
                if (!colon || colon == hp || !colon[1])
                        return -EINVAL;
                *colon = '\0';
                set(d, "type", "network");
                src = add(d, "source", NULL);
                set(src, "protocol", "iscsi");
                set(src, "name", slash + 1); /* "<iqn>/<lun>" as libvirt expects */
                xmlNode *h = add(src, "host", NULL);
                set(h, "name", hp);
                set(h, "port", colon + 1);
                if (initiator) {
                        xmlNode *in = add(src, "initiator", NULL);
                        xmlNode *iqn = add(in, "iqn", NULL);
                        set(iqn, "name", initiator);
                }
        } else {
                return -EINVAL;
        }
        xmlNode *t = add(d, "target", NULL);
        set(t, "dev", target);
        set(t, "bus", "virtio");
        if (readonly)
                add(d, "readonly", NULL);
        return 0;
}

int lv_domain_xml_build(const char *domain_type, const char *site, const vcm_resource *want,
                        const char *uuid,
                        char **ret_xml) {
        uint64_t memory, vcpus;
        if (lv_parse_u64(vcm_resource_prop(want, "memory"), &memory) < 0 || memory < 1024 * 1024 ||
            lv_parse_u64(vcm_resource_prop(want, "vcpus"), &vcpus) < 0 || vcpus < 1 ||
            vcpus > 4096)
                return -EINVAL;
        const char *boot = vcm_resource_prop(want, "boot");
        if (!boot)
                boot = "disk";

        _cleanup_xml_doc_ xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
        if (!doc)
                return -ENOMEM;
        xmlNode *dom = xmlNewNode(NULL, (const xmlChar *)"domain");
        xmlDocSetRootElement(doc, dom);
        set(dom, "type", domain_type);
        add(dom, "name", want->name);
        if (uuid)
                add(dom, "uuid", uuid);
        xmlNode *md = add(dom, "metadata", NULL);
        xmlAddChild(md, lv_mark_node(site, want, true));

        char buf[64];
        snprintf(buf, sizeof(buf), "%" PRIu64, (memory + 1023) / 1024);
        set(add(dom, "memory", buf), "unit", "KiB");
        snprintf(buf, sizeof(buf), "%" PRIu64, vcpus);
        add(dom, "vcpu", buf);

        xmlNode *os = add(dom, "os", NULL);
        xmlNode *type = add(os, "type", "hvm");
        set(type, "arch", "x86_64");
        if (strcmp(boot, "kernel") == 0) {
                const char *k = vcm_resource_prop(want, "kernel");
                if (!k)
                        return -EINVAL;
                add(os, "kernel", k);
                const char *v;
                if ((v = vcm_resource_prop(want, "initrd")))
                        add(os, "initrd", v);
                if ((v = vcm_resource_prop(want, "cmdline")))
                        add(os, "cmdline", v);
        } else if (strcmp(boot, "network") == 0) {
                set(add(os, "boot", NULL), "dev", "network");
        } else if (strcmp(boot, "disk") == 0) {
                set(add(os, "boot", NULL), "dev", "hd");
        } else {
                return -EINVAL;
        }
        add(add(dom, "features", NULL), "acpi", NULL);
        add(dom, "on_poweroff", "destroy");
        add(dom, "on_reboot", "restart");
        add(dom, "on_crash", "destroy");

        xmlNode *dev = add(dom, "devices", NULL);
        for (unsigned i = 0; i < LV_MAX_DISKS; i++) {
                char key[32], ikey[48], target[8];
                snprintf(key, sizeof(key), "disk%u", i);
                snprintf(ikey, sizeof(ikey), "disk%u.initiator", i);
                const char *spec = vcm_resource_prop(want, key);
                if (!spec)
                        continue;
                snprintf(target, sizeof(target), "vd%c", 'a' + i);
                int r = lv_add_disk(dev, spec, vcm_resource_prop(want, ikey), target, false);
                if (r < 0)
                        return r;
        }
        const char *seed = vcm_resource_prop(want, "seed");
        if (seed) {
                int r = lv_add_disk(dev, seed, vcm_resource_prop(want, "seed.initiator"),
                                    LV_SEED_TARGET, true);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < LV_MAX_NICS; i++) {
                char bkey[32], mkey[32];
                snprintf(bkey, sizeof(bkey), "nic%u.bridge", i);
                snprintf(mkey, sizeof(mkey), "nic%u.mac", i);
                const char *br = vcm_resource_prop(want, bkey);
                if (!br)
                        continue;
                xmlNode *nic = add(dev, "interface", NULL);
                set(nic, "type", "bridge");
                set(add(nic, "source", NULL), "bridge", br);
                const char *mac = vcm_resource_prop(want, mkey);
                if (mac)
                        set(add(nic, "mac", NULL), "address", mac);
                set(add(nic, "model", NULL), "type", "virtio");
        }
        /* The serial console goes to a file on the VM host so people and tests can read what
         * the guest printed. */
        xmlNode *serial = add(dev, "serial", NULL);
        set(serial, "type", "file");
        char path[512];
        snprintf(path, sizeof(path), "%s/%s.serial.log", VCM_LIBVIRT_SERIAL_DIR, want->name);
        set(add(serial, "source", NULL), "path", path);
        set(add(serial, "target", NULL), "port", "0");
        set(add(dev, "memballoon", NULL), "model", "none");
        return lv_dump(doc, NULL, ret_xml);
}

/* ---- parsing ----------------------------------------------------------------------------- */

static xmlNode *child(xmlNode *n, const char *name) {
        for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
                        return c;
        return NULL;
}

/* Attribute value as a malloc'd string (NULL when absent). */
static char *attr(xmlNode *n, const char *name) {
        if (!n)
                return NULL;
        xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
        if (!v)
                return NULL;
        char *s = strdup((const char *)v);
        xmlFree(v);
        return s;
}
static char *text(xmlNode *n) {
        if (!n)
                return NULL;
        xmlChar *v = xmlNodeGetContent(n);
        if (!v)
                return NULL;
        char *s = strdup((const char *)v);
        xmlFree(v);
        return s;
}

static uint64_t lv_unit_scale(const char *unit) {
        if (!unit || !strcmp(unit, "KiB") || !strcmp(unit, "k") || !strcmp(unit, "K"))
                return 1024;
        if (!strcmp(unit, "b") || !strcmp(unit, "bytes"))
                return 1;
        if (!strcmp(unit, "MiB") || !strcmp(unit, "M"))
                return 1024ull * 1024;
        if (!strcmp(unit, "GiB") || !strcmp(unit, "G"))
                return 1024ull * 1024 * 1024;
        return 0;
}

static void lv_parse_disk(xmlNode *d, vcm_resource *r) {
        _cleanup_free_ char *type = attr(d, "type");
        _cleanup_free_ char *device = attr(d, "device");
        xmlNode *t = child(d, "target"), *src = child(d, "source");
        _cleanup_free_ char *dev = attr(t, "dev");
        if (!type || !dev || (device && strcmp(device, "disk") != 0))
                return;
        char key[32], ikey[48];
        if (strcmp(dev, LV_SEED_TARGET) == 0) {
                snprintf(key, sizeof(key), "seed");
        } else if (strlen(dev) == 3 && dev[0] == 'v' && dev[1] == 'd' && dev[2] >= 'a' &&
                   dev[2] < 'a' + LV_MAX_DISKS) {
                snprintf(key, sizeof(key), "disk%d", dev[2] - 'a');
        } else {
                return;
        }
        snprintf(ikey, sizeof(ikey), "%s.initiator", key);
        if (strcmp(type, "volume") == 0) {
                _cleanup_free_ char *pool = attr(src, "pool"), *vol = attr(src, "volume");
                if (pool && vol)
                        vcm_resource_set_propf(r, key, "file:%s/%s", pool, vol);
        } else if (strcmp(type, "block") == 0) {
                _cleanup_free_ char *path = attr(src, "dev");
                if (path)
                        vcm_resource_set_propf(r, key, "block:%s", path);
        } else if (strcmp(type, "network") == 0) {
                _cleanup_free_ char *name = attr(src, "name");
                xmlNode *h = child(src, "host");
                _cleanup_free_ char *hn = attr(h, "name"), *port = attr(h, "port");
                if (name && hn)
                        vcm_resource_set_propf(r, key, "iscsi:%s:%s/%s", hn,
                                               port ? port : "3260", name);
                _cleanup_free_ char *iqn = attr(child(child(src, "initiator"), "iqn"), "name");
                if (iqn)
                        vcm_resource_set_prop(r, ikey, iqn);
        } else if (strcmp(type, "file") == 0) {
                _cleanup_free_ char *path = attr(src, "file");
                if (path)
                        vcm_resource_set_propf(r, key, "path:%s", path);
        }
}

int lv_domain_xml_parse(const char *xml, const char *site, vcm_resource *r, lv_mark *ret_mark) {
        _cleanup_xml_doc_ xmlDoc *doc =
                xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return -EBADMSG;
        xmlNode *dom = xmlDocGetRootElement(doc);
        if (!dom || strcmp((const char *)dom->name, "domain") != 0)
                return -EBADMSG;
        lv_mark m = { 0 };
        int ret = lv_xml_read_mark(child(dom, "metadata"), site, &m);
        if (ret < 0)
                return ret == -ENOMEM ? ret : -ENOENT;

        xmlNode *mem = child(dom, "memory");
        _cleanup_free_ char *mem_text = text(mem), *mem_unit = attr(mem, "unit");
        uint64_t v;
        if (mem_text && lv_parse_u64(mem_text, &v) == 0)
                vcm_resource_set_propf(r, "memory", "%" PRIu64, v * lv_unit_scale(mem_unit));
        _cleanup_free_ char *vcpu = text(child(dom, "vcpu"));
        if (vcpu)
                vcm_resource_set_prop(r, "vcpus", vcpu);

        xmlNode *os = child(dom, "os");
        _cleanup_free_ char *kernel = text(child(os, "kernel"));
        if (kernel) {
                vcm_resource_set_prop(r, "boot", "kernel");
                vcm_resource_set_prop(r, "kernel", kernel);
                _cleanup_free_ char *initrd = text(child(os, "initrd"));
                _cleanup_free_ char *cmdline = text(child(os, "cmdline"));
                if (initrd)
                        vcm_resource_set_prop(r, "initrd", initrd);
                if (cmdline)
                        vcm_resource_set_prop(r, "cmdline", cmdline);
        } else {
                _cleanup_free_ char *dev = attr(child(os, "boot"), "dev");
                vcm_resource_set_prop(r, "boot",
                                      dev && strcmp(dev, "network") == 0 ? "network" : "disk");
        }

        xmlNode *devices = child(dom, "devices");
        unsigned nic = 0;
        for (xmlNode *d = devices ? devices->children : NULL; d; d = d->next) {
                if (d->type != XML_ELEMENT_NODE)
                        continue;
                if (strcmp((const char *)d->name, "disk") == 0) {
                        lv_parse_disk(d, r);
                } else if (strcmp((const char *)d->name, "interface") == 0) {
                        _cleanup_free_ char *br = attr(child(d, "source"), "bridge");
                        _cleanup_free_ char *mac = attr(child(d, "mac"), "address");
                        char key[32];
                        snprintf(key, sizeof(key), "nic%u.bridge", nic);
                        vcm_resource_set_prop(r, key, br ? br : "");
                        if (mac) {
                                snprintf(key, sizeof(key), "nic%u.mac", nic);
                                vcm_resource_set_prop(r, key, mac);
                        }
                        nic++;
                }
        }
        if (m.node)
                vcm_resource_set_prop(r, "node", m.node);
        if (m.appliance)
                vcm_resource_set_prop(r, "appliance", m.appliance);
        if (m.commit)
                vcm_resource_set_prop(r, "meta.commit", m.commit);
        *ret_mark = m;
        return 0;
}
