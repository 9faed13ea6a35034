/* The ownership mark carried in each link's alias, and interface name rules. Pure functions, so
 * unit tests need no kernel. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/netlink/netlink.h"
#include "reconciler/props.h"

static bool mark_word_ok(const char *s) {
        return s && *s && !strpbrk(s, " =\t\n");
}

int vcm_netlink_mark_format(const char *site, const char *cluster, uint64_t hash, char *buf,
                            size_t len) {
        if (!mark_word_ok(site) || !mark_word_ok(cluster))
                return -EINVAL;
        int n = snprintf(buf, len, VCM_NETLINK_MARK_PREFIX "%s site=%s hash=%016" PRIx64, cluster,
                         site, hash);
        if (n < 0 || (size_t)n >= len || n > VCM_NETLINK_ALIAS_MAX)
                return -EINVAL;
        return 0;
}

/* Copy the word [s, e) into dst (size n): -EINVAL when empty or too long. */
static int word_copy(char *dst, size_t n, const char *s, const char *e) {
        size_t l = (size_t)(e - s);
        if (l == 0 || l >= n)
                return -EINVAL;
        memcpy(dst, s, l);
        dst[l] = '\0';
        return 0;
}

int vcm_netlink_mark_parse(const char *alias, vcm_netlink_mark *ret) {
        size_t pl = strlen(VCM_NETLINK_MARK_PREFIX);
        if (!alias || strncmp(alias, VCM_NETLINK_MARK_PREFIX, pl) != 0)
                return -ENOENT;
        vcm_netlink_mark m = { 0 };
        const char *p = alias + pl, *e = strchr(p, ' ');
        if (!e || word_copy(m.cluster, sizeof(m.cluster), p, e) < 0 || strchr(m.cluster, '='))
                return -EINVAL;
        bool have_site = false, have_hash = false;
        for (p = e + 1;; p = e + 1) {
                e = strchr(p, ' ');
                if (!e)
                        e = p + strlen(p);
                if (e == p)
                        return -EINVAL; /* empty field: two spaces, or a trailing one */
                if (strncmp(p, "site=", 5) == 0 && !have_site) {
                        if (word_copy(m.site, sizeof(m.site), p + 5, e) < 0)
                                return -EINVAL;
                        have_site = true;
                } else if (strncmp(p, "hash=", 5) == 0 && !have_hash) {
                        char hex[17];
                        if (e - (p + 5) != 16 || word_copy(hex, sizeof(hex), p + 5, e) < 0)
                                return -EINVAL;
                        char *end;
                        errno = 0;
                        unsigned long long v = strtoull(hex, &end, 16);
                        if (errno || *end || hex[0] == '-' || hex[0] == '+')
                                return -EINVAL;
                        m.hash = v;
                        have_hash = true;
                } else {
                        return -EINVAL; /* unknown or repeated field: not a mark we wrote */
                }
                if (!*e)
                        break;
        }
        if (!have_site || !have_hash)
                return -EINVAL;
        *ret = m;
        return 0;
}

int vcm_netlink_ifname_check(const char *name) {
        if (!name || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return -EINVAL;
        if (strlen(name) > VCM_IFNAME_MAX)
                return -ENAMETOOLONG;
        for (const char *p = name; *p; p++)
                if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
                        return -EINVAL;
        return 0;
}
