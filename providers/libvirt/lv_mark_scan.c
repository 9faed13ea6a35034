/* Reading vcm's mark element without libxml2: virDomainGetMetadata returns it for every domain
 * of every observe, always in the one form libvirt formats, <resource a="v" .../>. Building a
 * DOM for it cost as much as fetching it. Anything else (a prefix, children, a DTD, odd
 * whitespace in values, non-ASCII, unknown entities) is left to libxml2 (-EPROTO), so the scanner
 * never has to be right about the rare cases, only about the common one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lv.h"

#define LV_SCAN_MAX_ATTRS 32

static bool lv_scan_ws(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
static bool lv_scan_name_start(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool lv_scan_name_char(char c) {
        return lv_scan_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static void lv_scan_utf8(unsigned long cp, char **o) {
        unsigned char *p = (unsigned char *)*o;
        if (cp < 0x80) {
                *p++ = (unsigned char)cp;
        } else if (cp < 0x800) {
                *p++ = (unsigned char)(0xC0 | (cp >> 6));
                *p++ = (unsigned char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
                *p++ = (unsigned char)(0xE0 | (cp >> 12));
                *p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                *p++ = (unsigned char)(0x80 | (cp & 0x3F));
        } else {
                *p++ = (unsigned char)(0xF0 | (cp >> 18));
                *p++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
                *p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                *p++ = (unsigned char)(0x80 | (cp & 0x3F));
        }
        *o = (char *)p;
}

/* "&...;" at s (s[0] == '&'): the decoded bytes appended at *o, the entity's length returned;
 * 0 when it is not one the scanner decodes. An entity never decodes to more bytes than it has. */
static size_t lv_scan_entity(const char *s, char **o) {
        static const struct {
                const char *ent;
                char c;
        } named[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
                      { "&quot;", '"' }, { "&apos;", '\'' } };
        for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
                size_t n = strlen(named[i].ent);
                if (strncmp(s, named[i].ent, n) == 0) {
                        *(*o)++ = named[i].c;
                        return n;
                }
        }
        if (s[1] != '#')
                return 0;
        bool hex = s[2] == 'x';
        const char *p = s + (hex ? 3 : 2), *digits = p;
        unsigned long cp = 0;
        for (; *p != ';'; p++) {
                unsigned d;
                if (*p >= '0' && *p <= '9')
                        d = (unsigned)(*p - '0');
                else if (hex && *p >= 'a' && *p <= 'f')
                        d = (unsigned)(*p - 'a' + 10);
                else if (hex && *p >= 'A' && *p <= 'F')
                        d = (unsigned)(*p - 'A' + 10);
                else
                        return 0;
                cp = cp * (hex ? 16 : 10) + d;
                if (cp > 0x10FFFF)
                        return 0;
        }
        if (p == digits)
                return 0;
        /* XML 1.0 characters only; the rest is libxml2's to judge. */
        if ((cp < 0x20 && cp != 0x9 && cp != 0xA && cp != 0xD) || (cp >= 0xD800 && cp < 0xE000) ||
            cp == 0xFFFE || cp == 0xFFFF)
                return 0;
        lv_scan_utf8(cp, o);
        return (size_t)(p + 1 - s);
}

/* One attribute value between quotes at *s; the decoded copy in *ret. */
static int lv_scan_value(const char **s, char **ret) {
        char q = **s;
        if (q != '"' && q != '\'')
                return -EPROTO;
        const char *start = *s + 1, *end = strchr(start, q);
        if (!end)
                return -EPROTO;
        char *v = malloc((size_t)(end - start) + 1), *o = v;
        if (!v)
                return -ENOMEM;
        for (const char *p = start; p < end;) {
                unsigned char c = (unsigned char)*p;
                /* '<' is an error, literal tabs and newlines are normalised to spaces, and
                 * non-ASCII must be valid UTF-8: libxml2 knows the rules. */
                if (c == '<' || c == '\t' || c == '\n' || c == '\r' || c >= 0x80) {
                        free(v);
                        return -EPROTO;
                }
                if (c == '&') {
                        size_t n = lv_scan_entity(p, &o);
                        if (n == 0) {
                                free(v);
                                return -EPROTO;
                        }
                        p += n;
                        continue;
                }
                *o++ = (char)c;
                p++;
        }
        *o = '\0';
        *ret = v;
        *s = end + 1;
        return 0;
}

void lv_mark_attrs_clear(lv_mark_attrs *a) {
        free(a->site);
        free(a->cluster);
        free(a->node);
        free(a->appliance);
        free(a->commit);
        free(a->netid);
        free(a->hash);
        free(a->props);
        *a = (lv_mark_attrs){ 0 };
}

static char **lv_scan_slot(lv_mark_attrs *a, const char *name, size_t len) {
        struct {
                const char *name;
                char **slot;
        } known[] = { { "site", &a->site },     { "cluster", &a->cluster },
                      { "node", &a->node },     { "appliance", &a->appliance },
                      { "commit", &a->commit }, { "netid", &a->netid },
                      { "hash", &a->hash },     { "props", &a->props } };
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
                if (strlen(known[i].name) == len && memcmp(known[i].name, name, len) == 0)
                        return known[i].slot;
        return NULL;
}

int lv_mark_scan(const char *xml, lv_mark_attrs *ret) {
        static const char open[] = "<resource";
        const char *p = xml;
        while (lv_scan_ws(*p))
                p++;
        if (strncmp(p, open, sizeof(open) - 1) != 0)
                return -EPROTO;
        p += sizeof(open) - 1;
        lv_mark_attrs a = { 0 };
        const char *names[LV_SCAN_MAX_ATTRS];
        size_t lens[LV_SCAN_MAX_ATTRS], n = 0;
        int r = -EPROTO;
        for (;;) {
                const char *ws = p;
                while (lv_scan_ws(*p))
                        p++;
                if (p[0] == '/' && p[1] == '>') {
                        p += 2;
                        break;
                }
                /* Attributes are separated by whitespace; names are plain (a prefix means a
                 * namespace, which xmlGetProp would ignore: libxml2 decides then). */
                if (p == ws || !lv_scan_name_start(*p) || n == LV_SCAN_MAX_ATTRS)
                        goto fail;
                const char *name = p;
                while (lv_scan_name_char(*p))
                        p++;
                size_t len = (size_t)(p - name);
                for (size_t i = 0; i < n; i++)
                        if (lens[i] == len && memcmp(names[i], name, len) == 0)
                                goto fail; /* redefined: not well-formed */
                names[n] = name;
                lens[n++] = len;
                while (lv_scan_ws(*p))
                        p++;
                if (*p++ != '=')
                        goto fail;
                while (lv_scan_ws(*p))
                        p++;
                char *v = NULL;
                r = lv_scan_value(&p, &v);
                if (r < 0)
                        goto fail;
                r = -EPROTO;
                char **slot = lv_scan_slot(&a, name, len);
                if (slot)
                        *slot = v;
                else
                        free(v);
        }
        while (lv_scan_ws(*p))
                p++;
        if (*p)
                goto fail; /* trailing content: not the one element we expect */
        *ret = a;
        return 0;
fail:
        lv_mark_attrs_clear(&a);
        return r;
}
