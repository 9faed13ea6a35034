/* Names of vcm's LIO objects: target and initiator IQNs, backstore names, LUN lists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lio.h"
#include "reconciler/props.h"
#include "reconciler/util.h"

/* IQNs are lower case: letters, digits, '.', '-', ':' (RFC 3722 after stringprep). */
static bool iqn_valid(const char *s) {
        if (strncmp(s, "iqn.", 4) != 0 || strlen(s) > 223)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
                      *s == '-' || *s == ':'))
                        return false;
        return true;
}

char *lio_target_iqn(const char *cluster) {
        if (!cluster || !*cluster || strchr(cluster, ':') || strchr(cluster, '.'))
                return NULL;
        char *iqn = xasprintf(VCM_IQN_PREFIX "%s", cluster);
        if (!iqn_valid(iqn)) {
                free(iqn);
                return NULL;
        }
        return iqn;
}

char *lio_initiator_iqn(const char *host) {
        if (!host || !*host)
                return NULL;
        char *iqn = xasprintf(VCM_INITIATOR_PREFIX "%s", host);
        if (!iqn_valid(iqn)) {
                free(iqn);
                return NULL;
        }
        return iqn;
}

char *lio_cluster_of_iqn(const char *iqn) {
        size_t pl = strlen(VCM_IQN_PREFIX);
        if (!iqn || strncmp(iqn, VCM_IQN_PREFIX, pl) != 0 || !iqn[pl])
                return NULL;
        const char *c = iqn + pl;
        if (strchr(c, ':') || strchr(c, '.'))
                return NULL;
        return xstrdup(c);
}

char *lio_backstore_name(const char *cluster, const char *volume) {
        size_t cl = strlen(cluster);
        if (!*cluster || strchr(cluster, '.') || strncmp(volume, cluster, cl) != 0 ||
            volume[cl] != '-' || !volume[cl + 1] || strchr(volume, '/') || strchr(volume, ' '))
                return NULL;
        return xasprintf(VCM_LIO_BACKSTORE_PREFIX "%s.%s", cluster, volume + cl + 1);
}

int lio_backstore_parse(const char *name, char **ret_cluster, char **ret_volume) {
        size_t pl = strlen(VCM_LIO_BACKSTORE_PREFIX);
        if (strncmp(name, VCM_LIO_BACKSTORE_PREFIX, pl) != 0)
                return -EINVAL;
        const char *c = name + pl, *dot = strchr(c, '.');
        if (!dot || dot == c || !dot[1])
                return -EINVAL;
        *ret_cluster = strndup(c, (size_t)(dot - c));
        *ret_volume = xasprintf("%.*s-%s", (int)(dot - c), c, dot + 1);
        return 0;
}

static int cmp_unsigned(const void *a, const void *b) {
        unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
        return x < y ? -1 : x > y;
}

int lio_luns_parse(const char *s, unsigned **ret, size_t *ret_n) {
        unsigned *v = NULL;
        size_t n = 0;
        while (s && *s) {
                char *end;
                errno = 0;
                unsigned long x = strtoul(s, &end, 10);
                if (errno || end == s || x > 65535 || (*end && *end != ',')) {
                        free(v);
                        return -EINVAL;
                }
                v = xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = (unsigned)x;
                s = *end ? end + 1 : end;
        }
        if (n)
                qsort(v, n, sizeof(*v), cmp_unsigned);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
                if (m == 0 || v[m - 1] != v[i])
                        v[m++] = v[i];
        *ret = v;
        *ret_n = m;
        return 0;
}

void lio_unit_serial(const char *name, char ret[37]) {
        uint64_t a = vcm_hash_mix(vcm_fnv1a(VCM_FNV_INIT, name, strlen(name)));
        uint64_t b = vcm_hash_mix(a ^ UINT64_C(0x9e3779b97f4a7c15));
        snprintf(ret, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
                 (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xffff, (unsigned)(b >> 48),
                 (unsigned long long)(b & UINT64_C(0xffffffffffff)));
}
