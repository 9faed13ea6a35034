/* Daemon mode helpers of bench_testdriver (td_daemon.h): the site, libvirtd's pid, RSS and CPU
 * time, and removing the bench's objects from the shared test driver. */
#include "td_daemon.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "providers/libvirt/libvirt.h"
#include "reconciler/props.h"

static char *replace_once(char *s, const char *from, const char *to) {
        const char *at = strstr(s, from);
        if (!at) {
                fprintf(stderr, "bench: site.yaml template lacks \"%s\"\n", from);
                exit(1);
        }
        size_t head = (size_t)(at - s), fl = strlen(from), tl = strlen(to), len = strlen(s);
        char *out = malloc(len - fl + tl + 1);
        if (!out)
                exit(1);
        memcpy(out, s, head);
        memcpy(out + head, to, tl);
        memcpy(out + head + tl, s + head + fl, len - head - fl + 1);
        free(s);
        return out;
}

char *td_daemon_site(const char *base) {
        char *s = strdup(base);
        if (!s)
                exit(1);
        s = replace_once(s, "libvirt: test:///default", "libvirt: " TD_DAEMON_URI);
        s = replace_once(s, "metadata: {name: bench}", "metadata: {name: " TD_DAEMON_SITE "}");
        return replace_once(s, "poolPath: /vcm-bench-pool", "poolPath: " TD_DAEMON_POOL_PATH);
}

static int is_libvirtd(long pid) {
        char path[64], comm[32] = "";
        snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
        FILE *f = fopen(path, "r");
        if (!f)
                return 0;
        int ok = fgets(comm, sizeof(comm), f) && strcmp(comm, "libvirtd\n") == 0;
        fclose(f);
        return ok;
}

int td_libvirtd_pid(void) {
        long pid = -1;
        FILE *f = fopen("/run/libvirtd.pid", "r");
        if (f) {
                if (fscanf(f, "%ld", &pid) != 1)
                        pid = -1;
                fclose(f);
        }
        if (pid > 0 && is_libvirtd(pid))
                return (int)pid;
        /* No usable pid file: the one process of that name (several: cannot tell which). */
        DIR *d = opendir("/proc");
        struct dirent *e;
        pid = -1;
        while (d && (e = readdir(d))) {
                if (!isdigit((unsigned char)e->d_name[0]) || !is_libvirtd(atol(e->d_name)))
                        continue;
                pid = pid == -1 ? atol(e->d_name) : -2;
        }
        if (d)
                closedir(d);
        return pid > 0 ? (int)pid : -1;
}

double td_pid_rss_mib(int pid) {
        char path[64], line[256];
        double v = -1;
        snprintf(path, sizeof(path), "/proc/%d/status", pid);
        FILE *f = pid > 0 ? fopen(path, "r") : NULL;
        while (f && fgets(line, sizeof(line), f))
                if (!strncmp(line, "VmRSS:", 6))
                        v = strtod(line + 6, NULL) / 1024.0;
        if (f)
                fclose(f);
        return v;
}

double td_pid_cpu_ms(int pid) {
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        FILE *f = pid > 0 ? fopen(path, "r") : NULL;
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        if (f)
                fclose(f);
        buf[n] = '\0';
        /* Fields after the command name (which may hold spaces): state is field 3, utime 14. */
        char *p = strrchr(buf, ')');
        unsigned long long ut, st;
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                         &st) != 2)
                return -1;
        return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* The provider's site fingerprint in marker volume names (FNV-1a 32 of the site name, 8 hex
 * digits; providers/libvirt/lv_volume.c, lv_site_tag). */
static void site_tag(const char *site, char ret[9]) {
        uint32_t h = 2166136261u;
        for (const unsigned char *p = (const unsigned char *)site; *p; p++)
                h = (h ^ *p) * 16777619u;
        snprintf(ret, 9, "%08x", h);
}

static void note(int *r, int err) {
        if (*r == 0 && err < 0)
                *r = err;
}

/* Domains (nets false) or networks carrying vcm's mark for the site: counted, and with `remove`
 * stopped and undefined. Domains give their mark alone (virDomainGetMetadata picks it by its
 * namespace), networks their whole XML. */
static void walk_marked(virConnectPtr conn, bool nets, const char *needle, int remove,
                        size_t *site, size_t *all, int *r) {
        virDomainPtr *doms = NULL;
        virNetworkPtr *nl = NULL;
        int n = nets ? virConnectListAllNetworks(conn, &nl, 0)
                     : virConnectListAllDomains(conn, &doms, 0);
        if (n < 0) {
                note(r, -EIO);
                return;
        }
        *all += (size_t)n;
        for (int i = 0; i < n; i++) {
                char *mark = nets ? virNetworkGetXMLDesc(nl[i], 0)
                                  : virDomainGetMetadata(doms[i], VIR_DOMAIN_METADATA_ELEMENT,
                                                         VCM_LIBVIRT_NS, 0);
                if (mark && strstr(mark, needle) && (!nets || strstr(mark, VCM_LIBVIRT_NS))) {
                        ++*site;
                        int active = nets ? virNetworkIsActive(nl[i]) : virDomainIsActive(doms[i]);
                        if (remove && active == 1 &&
                            (nets ? virNetworkDestroy(nl[i]) : virDomainDestroy(doms[i])) < 0)
                                note(r, -EIO);
                        if (remove &&
                            (nets ? virNetworkUndefine(nl[i]) : virDomainUndefine(doms[i])) < 0)
                                note(r, -EIO);
                }
                free(mark);
                if (nets)
                        virNetworkFree(nl[i]);
                else
                        virDomainFree(doms[i]);
        }
        free(doms);
        free(nl);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The data volume a marker of this site names, or NULL when `name` is not such a marker.
 * Volume markers: .vcm.TAG.NAME.CLUSTER.HASH.CLONE (data: NAME); seed markers
 * .vcm-seed.TAG.DOMAIN.CLUSTER.DIGEST (data: DOMAIN.seed.iso). The bench's cluster names hold
 * no dots, so the trailing fields are cut from the right. */
static char *marker_data_name(const char *name, const char *tag) {
        static const struct {
                const char *prefix, *suffix;
                int fields;
        } kinds[] = { { ".vcm.", "", 3 }, { ".vcm-seed.", VCM_SEED_VOLUME_SUFFIX, 2 } };
        for (size_t k = 0; k < 2; k++) {
                size_t pl = strlen(kinds[k].prefix);
                if (strncmp(name, kinds[k].prefix, pl) != 0 || strncmp(name + pl, tag, 8) != 0 ||
                    name[pl + 8] != '.')
                        continue;
                char *s = strdup(name + pl + 9);
                for (int f = 0; s && f < kinds[k].fields; f++) {
                        char *dot = strrchr(s, '.');
                        if (!dot) {
                                free(s);
                                return NULL;
                        }
                        *dot = '\0';
                }
                char *data = NULL;
                if (s && asprintf(&data, "%s%s", s, kinds[k].suffix) < 0)
                        data = NULL;
                free(s);
                return data;
        }
        return NULL;
}

/* The bench's pool goes whole: its volumes with it (the test driver frees them). */
static int pool_remove(virStoragePoolPtr pool) {
        if (virStoragePoolIsActive(pool) == 1 && virStoragePoolDestroy(pool) < 0)
                return -EIO;
        return virStoragePoolUndefine(pool) < 0 ? -EIO : 0;
}

static void walk_pool(virConnectPtr conn, const char *site_name, const char *pool_path,
                      int remove, td_counts *site, td_counts *all, int *r) {
        virStoragePoolPtr pool = virStoragePoolLookupByName(conn, "vcm");
        all->pool = virConnectNumOfStoragePools(conn) + virConnectNumOfDefinedStoragePools(conn);
        if (!pool)
                return;
        char *xml = virStoragePoolGetXMLDesc(pool, 0), *want = NULL;
        if (asprintf(&want, "<path>%s</path>", pool_path) < 0)
                want = NULL;
        int ours = xml && want && strstr(xml, want);
        free(xml);
        free(want);
        site->pool = ours && !remove;
        virStorageVolPtr *vols = NULL;
        int n = virStoragePoolIsActive(pool) == 1 ? virStoragePoolListAllVolumes(pool, &vols, 0)
                                                  : 0;
        if (n < 0) {
                /* More volumes than one RPC reply may list (REMOTE_STORAGE_VOL_LIST_MAX, 16,384):
                 * only the bench's own pool (its path) can be dealt with, as a whole. */
                int total = virStoragePoolNumOfVolumes(pool);
                if (!ours || total < 0) {
                        note(r, -EIO);
                } else {
                        site->volumes += (size_t)total;
                        all->volumes += (size_t)total;
                        if (remove) {
                                int e = pool_remove(pool);
                                note(r, e);
                                site->pool = e == 0;
                        }
                }
                virStoragePoolFree(pool);
                return;
        }
        all->volumes += (size_t)n;
        char tag[9];
        site_tag(site_name, tag);
        char **data = calloc((size_t)n + 1, sizeof(*data));
        size_t n_data = 0, kept = 0;
        int *what = calloc((size_t)n + 1, sizeof(*what)); /* 0 not ours, 1 data, 2 marker */
        for (int i = 0; i < n; i++) {
                char *d = marker_data_name(virStorageVolGetName(vols[i]), tag);
                if (d) {
                        data[n_data++] = d;
                        what[i] = 2;
                }
        }
        qsort(data, n_data, sizeof(*data), cmp_str);
        for (int i = 0; i < n; i++) {
                const char *name = virStorageVolGetName(vols[i]);
                if (!what[i] && bsearch(&name, data, n_data, sizeof(*data), cmp_str))
                        what[i] = 1;
                site->volumes += what[i] != 0;
                kept += !what[i] && strcmp(name, ".vcm-pool") != 0;
        }
        /* Data volumes first, markers after them, as the provider deletes. */
        for (int pass = 1; remove && pass <= 2; pass++)
                for (int i = 0; i < n; i++)
                        if (what[i] == pass && virStorageVolDelete(vols[i], 0) < 0)
                                note(r, -EIO);
        /* The pool goes when it is the bench's (its path) and holds only vcm's pool marker. */
        if (remove && ours && kept == 0) {
                int e = pool_remove(pool);
                note(r, e);
                site->pool = e == 0;
        }
        for (size_t i = 0; i < n_data; i++)
                free(data[i]);
        free(data);
        free(what);
        for (int i = 0; i < n; i++)
                virStorageVolFree(vols[i]);
        free(vols);
        virStoragePoolFree(pool);
}

static int walk(virConnectPtr conn, const char *site_name, const char *pool_path, int remove,
                td_counts *site, td_counts *all) {
        /* ` site="SITE"` in vcm's mark: attribute values cannot hold a raw quote, so this matches
         * the site attribute's whole value. */
        char *needle = NULL;
        if (asprintf(&needle, " site=\"%s\"", site_name) < 0)
                return -ENOMEM;
        int r = 0;
        *site = (td_counts){ 0 };
        *all = (td_counts){ 0 };
        /* Domains before the networks and volumes they use. */
        walk_marked(conn, false, needle, remove, &site->domains, &all->domains, &r);
        walk_marked(conn, true, needle, remove, &site->networks, &all->networks, &r);
        walk_pool(conn, site_name, pool_path, remove, site, all, &r);
        free(needle);
        return r;
}

int td_cleanup(virConnectPtr conn, const char *site, const char *pool_path, td_counts *ret) {
        td_counts s, a;
        int r = walk(conn, site, pool_path, 1, &s, &a);
        *ret = s;
        return r;
}

int td_count(virConnectPtr conn, const char *site, const char *pool_path, td_counts *ret_site,
             td_counts *ret_all) {
        td_counts s, a;
        int r = walk(conn, site, pool_path, 0, &s, &a);
        if (r == 0) {
                *ret_site = s;
                *ret_all = a;
        }
        return r;
}
