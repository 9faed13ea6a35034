/* Observation: vcm's targets, LUNs, backstores and ACLs read back from configfs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lio_internal.h"

static char *join(char **v, const char *sep) {
        char *s = xstrdup("");
        for (char **x = v; x && *x; x++) {
                char *n = xasprintf("%s%s%s", s, x == v ? "" : sep, *x);
                free(s);
                s = n;
        }
        return s;
}

static void prop_from_file(vcm_resource *r, const char *key, const char *path) {
        _cleanup_free_ char *v = cfs_read(path);
        if (v)
                vcm_resource_set_prop(r, key, v);
}

/* A LUN backed by a vcm backstore, or a vcm backstore alone (no target/lun props). */
static int add_lun(const lio_root *root, const char *host, const char *so_rel, const char *iqn,
                   const char *lun, vcm_resource_set *out) {
        const char *so_name = strrchr(so_rel, '/') + 1;
        _cleanup_free_ char *cluster = NULL, *volume = NULL;
        if (lio_backstore_parse(so_name, &cluster, &volume) < 0)
                return 0;
        vcm_resource *r = vcm_resource_set_put(out, VCM_KIND_ISCSI_LUN, host, volume, cluster);
        if (!r)
                return 0; /* exported twice: the first one counts; diff repairs the rest */
        _cleanup_free_ char *udev = lio_path(root, "%s/udev_path", so_rel);
        prop_from_file(r, "device", udev);
        if (iqn) {
                vcm_resource_set_prop(r, "target", iqn);
                vcm_resource_set_prop(r, "lun", lun);
        }
        vcm_resource_rehash(r);
        return 1;
}

static void scan_target(const lio_root *root, const char *host, const char *iqn,
                        const char *cluster, vcm_resource_set *out, vcm_strmap *exported) {
        vcm_resource *t = vcm_resource_set_put(out, VCM_KIND_ISCSI_TARGET, host, iqn, cluster);
        if (!t)
                return;
        _cleanup_free_ char *tpg = lio_path(root, "iscsi/%s/" LIO_TPG, iqn);
        if (cfs_exists(tpg)) {
                _cleanup_free_ char *np = xasprintf("%s/np", tpg);
                _cleanup_strv_free_ char **portals = cfs_list(np);
                if (portals[0]) {
                        _cleanup_free_ char *p = join(portals, ",");
                        vcm_resource_set_prop(t, "portal", p);
                }
                static const char *const attrs[] = { "authentication", "generate_node_acls" };
                for (size_t i = 0; i < ELEMENTSOF(attrs); i++) {
                        _cleanup_free_ char *p = xasprintf("%s/attrib/%s", tpg, attrs[i]);
                        prop_from_file(t, attrs[i], p);
                }
                _cleanup_free_ char *en = xasprintf("%s/enable", tpg);
                prop_from_file(t, "enabled", en);
        }
        vcm_resource_rehash(t);

        _cleanup_free_ char *luns = xasprintf("%s/lun", tpg);
        _cleanup_strv_free_ char **ll = cfs_list(luns);
        for (char **l = ll; *l; l++) {
                if (strncmp(*l, "lun_", 4) != 0)
                        continue;
                _cleanup_free_ char *d = xasprintf("%s/%s", luns, *l);
                _cleanup_free_ char *name = NULL, *target = NULL;
                if (cfs_find_link(d, &name, &target) < 0)
                        continue; /* half-made: completed when its backstore is reconciled */
                _cleanup_free_ char *so_rel = xasprintf("core/%s", cfs_tail2(target));
                if (add_lun(root, host, so_rel, iqn, *l + 4, out) > 0)
                        vcm_strmap_put(exported, so_rel, (void *)1);
        }

        _cleanup_free_ char *acls = xasprintf("%s/acls", tpg);
        _cleanup_strv_free_ char **al = cfs_list(acls);
        for (char **a = al; *a; a++) {
                _cleanup_free_ char *rname = xasprintf("%s/%s", cluster, *a);
                vcm_resource *r = vcm_resource_set_put(out, VCM_KIND_ISCSI_ACL, host, rname,
                                                       cluster);
                if (!r)
                        continue;
                vcm_resource_set_prop(r, "target", iqn);
                vcm_resource_set_prop(r, "initiator", *a);
                _cleanup_free_ char *ad = xasprintf("%s/%s", acls, *a);
                _cleanup_strv_free_ char **ml = cfs_list(ad);
                /* Mapped LUNs with their link, in numeric order. */
                unsigned *nums = xcalloc(1, sizeof(unsigned));
                size_t n = 0;
                for (char **m = ml; *m; m++) {
                        if (strncmp(*m, "lun_", 4) != 0)
                                continue;
                        _cleanup_free_ char *md = xasprintf("%s/%s", ad, *m);
                        _cleanup_free_ char *name = NULL, *target = NULL;
                        if (cfs_find_link(md, &name, &target) < 0)
                                continue;
                        nums = xrealloc(nums, (n + 1) * sizeof(unsigned));
                        nums[n++] = (unsigned)strtoul(*m + 4, NULL, 10);
                }
                _cleanup_free_ char *s = xstrdup("");
                for (size_t i = 0; i < n; i++) /* insertion sort: a handful of LUNs */
                        for (size_t j = i; j > 0 && nums[j - 1] > nums[j]; j--) {
                                unsigned x = nums[j];
                                nums[j] = nums[j - 1];
                                nums[j - 1] = x;
                        }
                for (size_t i = 0; i < n; i++) {
                        char *ns = xasprintf("%s%s%u", s, i ? "," : "", nums[i]);
                        free(s);
                        s = ns;
                }
                free(nums);
                vcm_resource_set_prop(r, "luns", s);
                vcm_resource_rehash(r);
        }
}

typedef struct scan_ctx {
        const lio_root *root;
        const char *host;
        vcm_resource_set *out;
        vcm_strmap *exported;
} scan_ctx;

/* Backstores of vcm's without a LUN (a crash between the two) are reconciled too. */
static void scan_backstore(void *ctx, const char *rel, const char *name) {
        scan_ctx *sc = ctx;
        (void)name;
        if (!vcm_strmap_has(sc->exported, rel))
                add_lun(sc->root, sc->host, rel, NULL, NULL, sc->out);
}

int lio_scan(const lio_root *root, const char *host, vcm_resource_set *out, vcm_error *err) {
        (void)err;
        vcm_strmap exported = { 0 };
        _cleanup_free_ char *fabric = lio_path(root, "iscsi");
        _cleanup_strv_free_ char **targets = cfs_list(fabric);
        for (char **t = targets; *t; t++) {
                _cleanup_free_ char *cluster = lio_cluster_of_iqn(*t);
                if (cluster)
                        scan_target(root, host, *t, cluster, out, &exported);
        }
        scan_ctx sc = { root, host, out, &exported };
        lio_each_backstore(root, scan_backstore, &sc);
        vcm_strmap_clear(&exported);
        return 0;
}
