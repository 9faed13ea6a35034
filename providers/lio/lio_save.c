/* saveconfig.json, the file Debian's targetctl restores at boot (rtslib-fb's dump format).
 * vcm rewrites only its own entries (backstores named vcm.*, targets with vcm's IQN prefix)
 * and keeps every other entry as the other tool saved it. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lio_internal.h"
#include "reconciler/props.h"

static json_t *dump_backstore(const lio_root *root, const char *rel, const char *name) {
        _cleanup_free_ char *udev = lio_path(root, "%s/udev_path", rel);
        _cleanup_free_ char *wwn_p = lio_path(root, "%s/wwn/vpd_unit_serial", rel);
        _cleanup_free_ char *dev = cfs_read(udev), *wwn = cfs_read(wwn_p);
        /* The kernel prints "T10 VPD Unit Serial Number: <serial>". */
        const char *serial = wwn ? strrchr(wwn, ' ') : NULL;
        serial = serial ? serial + 1 : wwn;
        json_t *so = json_pack("{s:s, s:s, s:s, s:b, s:b}", "plugin", "block", "name", name,
                               "dev", dev ? dev : "", "readonly", 0, "write_back", 0);
        if (serial && *serial)
                json_object_set_new(so, "wwn", json_string(serial));
        return so;
}

typedef struct save_ctx {
        const lio_root *root;
        json_t *sos;
} save_ctx;

static void save_backstore(void *ctx, const char *rel, const char *name) {
        save_ctx *sc = ctx;
        json_array_append_new(sc->sos, dump_backstore(sc->root, rel, name));
}

static json_t *dump_portal(const char *np) {
        const char *colon = strrchr(np, ':');
        _cleanup_free_ char *ip = strndup(np, colon ? (size_t)(colon - np) : strlen(np));
        size_t l = strlen(ip);
        if (l >= 2 && ip[0] == '[' && ip[l - 1] == ']') { /* IPv6 */
                memmove(ip, ip + 1, l - 2);
                ip[l - 2] = '\0';
        }
        return json_pack("{s:s, s:i, s:b, s:b}", "ip_address", ip, "port",
                         colon ? atoi(colon + 1) : 3260, "iser", 0, "offload", 0);
}

static int int_attr(const char *path, int dflt) {
        _cleanup_free_ char *v = cfs_read(path);
        return v ? atoi(v) : dflt;
}

static json_t *dump_target(const lio_root *root, const char *iqn) {
        _cleanup_free_ char *tpg = lio_path(root, "iscsi/%s/" LIO_TPG, iqn);
        json_t *tpgs = json_array();
        if (cfs_exists(tpg)) {
                _cleanup_free_ char *a1 = xasprintf("%s/attrib/authentication", tpg);
                _cleanup_free_ char *a2 = xasprintf("%s/attrib/generate_node_acls", tpg);
                _cleanup_free_ char *a3 = xasprintf("%s/attrib/demo_mode_write_protect", tpg);
                _cleanup_free_ char *en = xasprintf("%s/enable", tpg);
                json_t *t = json_pack("{s:i, s:b, s:{s:i, s:i, s:i}, s:{}}", "tag", 1, "enable",
                                      int_attr(en, 0), "attributes", "authentication",
                                      int_attr(a1, 0), "generate_node_acls", int_attr(a2, 0),
                                      "demo_mode_write_protect", int_attr(a3, 1), "parameters");
                json_t *luns = json_array(), *portals = json_array(), *acls = json_array();
                _cleanup_free_ char *ld = xasprintf("%s/lun", tpg);
                _cleanup_strv_free_ char **ll = cfs_list(ld);
                for (char **l = ll; *l; l++) {
                        _cleanup_free_ char *d = xasprintf("%s/%s", ld, *l);
                        _cleanup_free_ char *name = NULL, *target = NULL;
                        if (strncmp(*l, "lun_", 4) != 0 || cfs_find_link(d, &name, &target) < 0)
                                continue;
                        const char *so = strrchr(target, '/');
                        _cleanup_free_ char *sop = xasprintf("/backstores/block/%s",
                                                             so ? so + 1 : target);
                        json_array_append_new(luns, json_pack("{s:i, s:s, s:s}", "index",
                                                              atoi(*l + 4), "storage_object",
                                                              sop, "alias", name));
                }
                _cleanup_free_ char *np = xasprintf("%s/np", tpg);
                _cleanup_strv_free_ char **nl = cfs_list(np);
                for (char **n = nl; *n; n++)
                        json_array_append_new(portals, dump_portal(*n));
                _cleanup_free_ char *ad = xasprintf("%s/acls", tpg);
                _cleanup_strv_free_ char **al = cfs_list(ad);
                for (char **a = al; *a; a++) {
                        json_t *mls = json_array();
                        _cleanup_free_ char *acl = xasprintf("%s/%s", ad, *a);
                        _cleanup_strv_free_ char **ml = cfs_list(acl);
                        for (char **m = ml; *m; m++) {
                                _cleanup_free_ char *md = xasprintf("%s/%s", acl, *m);
                                _cleanup_free_ char *name = NULL, *target = NULL;
                                if (strncmp(*m, "lun_", 4) != 0 ||
                                    cfs_find_link(md, &name, &target) < 0)
                                        continue;
                                const char *tl = strrchr(target, '_');
                                json_array_append_new(
                                        mls, json_pack("{s:i, s:i, s:b, s:s}", "index",
                                                       atoi(*m + 4), "tpg_lun",
                                                       tl ? atoi(tl + 1) : 0, "write_protect", 0,
                                                       "alias", name));
                        }
                        json_array_append_new(acls, json_pack("{s:s, s:o}", "node_wwn", *a,
                                                              "mapped_luns", mls));
                }
                json_object_set_new(t, "luns", luns);
                json_object_set_new(t, "portals", portals);
                json_object_set_new(t, "node_acls", acls);
                json_array_append_new(tpgs, t);
        }
        return json_pack("{s:s, s:s, s:o}", "fabric", "iscsi", "wwn", iqn, "tpgs", tpgs);
}

/* The entries of `key` in `old` that are not vcm's. */
static json_t *others(json_t *old, const char *key, const char *field, const char *prefix) {
        json_t *keep = json_array();
        json_t *v = json_object_get(old, key);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
                const char *s = json_string_value(json_object_get(e, field));
                if (!s || strncmp(s, prefix, strlen(prefix)) != 0)
                        json_array_append(keep, e);
        }
        return keep;
}

static int write_atomic(const char *path, json_t *doc, vcm_error *err) {
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                        int r = -errno;
                        vcm_error_set(err, "cannot make %s: %s", dir, strerror(-r));
                        return r;
                }
        }
        _cleanup_free_ char *tmp = xasprintf("%s.vcm-temp", path);
        unlink(tmp);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
                int r = -errno;
                vcm_error_set(err, "cannot write %s: %s", tmp, strerror(-r));
                return r;
        }
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
        size_t len = text ? strlen(text) : 0;
        int r = 0;
        errno = 0;
        if (!text || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
            fsync(fd) < 0)
                r = errno ? -errno : -EIO;
        free(text);
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                vcm_error_set(err, "cannot write %s: %s", path, strerror(-r));
        }
        return r;
}

int lio_save(const lio_root *root, vcm_error *err) {
        json_auto_t *old = NULL;
        if (cfs_exists(root->savefile)) {
                json_error_t jerr;
                old = json_load_file(root->savefile, 0, &jerr);
                if (!json_is_object(old)) {
                        vcm_error_set(err, "%s is not a saveconfig JSON object (line %d: %s); "
                                      "not overwriting it", root->savefile, jerr.line, jerr.text);
                        return -EBADMSG;
                }
        }
        json_auto_t *doc = old ? json_deep_copy(old) : json_object();
        json_t *sos = others(old, "storage_objects", "name", VCM_LIO_BACKSTORE_PREFIX);
        json_t *tgs = others(old, "targets", "wwn", VCM_IQN_PREFIX);
        if (!json_object_get(doc, "fabric_modules"))
                json_object_set_new(doc, "fabric_modules", json_array());

        save_ctx sc = { root, sos };
        lio_each_backstore(root, save_backstore, &sc);
        _cleanup_free_ char *fabric = lio_path(root, "iscsi");
        _cleanup_strv_free_ char **targets = cfs_list(fabric);
        for (char **t = targets; *t; t++) {
                _cleanup_free_ char *cluster = lio_cluster_of_iqn(*t);
                if (cluster)
                        json_array_append_new(tgs, dump_target(root, *t));
        }
        json_object_set_new(doc, "storage_objects", sos);
        json_object_set_new(doc, "targets", tgs);
        return write_atomic(root->savefile, doc, err);
}
