/* vcm's LIO objects in configfs, each made (or removed) piece by piece, each piece only when
 * it is missing, so a run cut short at any point is completed by the next one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "lio_internal.h"

#define CONFIGFS_MAGIC 0x62656570

int lio_check(const lio_root *root, vcm_error *err) {
        if (root->scratch)
                return cfs_mkdir(root, root->dir, err);
        struct statfs sf;
        if (statfs(VCM_LIO_CONFIGFS, &sf) < 0 || sf.f_type != CONFIGFS_MAGIC) {
                vcm_error_set(err, "configfs is not mounted at " VCM_LIO_CONFIGFS
                              " (mount -t configfs configfs " VCM_LIO_CONFIGFS ")");
                return -ENOTCONN;
        }
        if (!cfs_exists(root->dir)) {
                vcm_error_set(err, "the kernel's iSCSI target is not loaded: %s is missing "
                              "(modprobe target_core_mod target_core_iblock iscsi_target_mod)",
                              root->dir);
                return -ENODEV;
        }
        return 0;
}

static void closep(int *fd) {
        if (*fd >= 0) {
                flock(*fd, LOCK_UN);
                close(*fd);
        }
}

/* An HBA directory without a storage object left by a crash between the two mkdirs of a
 * backstore. rtslib makes its storage object right after the HBA, so one that has been empty
 * for a minute is nobody's work in progress. Called under rtslib's lock. */
static void remove_orphan_hbas(const lio_root *root) {
        _cleanup_free_ char *core = lio_path(root, "core");
        _cleanup_strv_free_ char **hbas = cfs_list(core);
        time_t now = time(NULL);
        for (char **h = hbas; *h; h++) {
                if (strncmp(*h, "iblock_", 7) != 0)
                        continue;
                _cleanup_free_ char *hd = xasprintf("%s/%s", core, *h);
                _cleanup_strv_free_ char **in = cfs_list(hd);
                bool empty = true;
                for (char **x = in; *x && empty; x++) {
                        _cleanup_free_ char *p = xasprintf("%s/%s", hd, *x);
                        struct stat st;
                        empty = lstat(p, &st) == 0 && !S_ISDIR(st.st_mode);
                }
                struct stat st;
                vcm_error e;
                if (empty && stat(hd, &st) == 0 && now - st.st_mtime > 60)
                        cfs_rmdir(root, hd, &e);
        }
}

/* Lowest HBA index no backstore of any plugin uses, as rtslib allocates them. */
static unsigned free_hba_index(const lio_root *root) {
        _cleanup_free_ char *core = lio_path(root, "core");
        _cleanup_strv_free_ char **hbas = cfs_list(core);
        for (unsigned i = 0;; i++) {
                bool used = false;
                for (char **h = hbas; *h && !used; h++) {
                        const char *us = strrchr(*h, '_');
                        char *end;
                        used = us && strtoul(us + 1, &end, 10) == i && !*end && us[1];
                }
                if (!used)
                        return i;
        }
}

/* As rtslib does when it starts: point the target's dbroot (where persistent reservation state
 * lives) at the directory of the save file, where targetcli expects it. The kernel refuses once
 * a fabric (iscsi) is registered, so this is tried before vcm makes its first one. */
static void set_dbroot(const lio_root *root) {
        _cleanup_free_ char *p = lio_path(root, "dbroot");
        _cleanup_free_ char *want = xstrdup(root->savefile);
        char *slash = strrchr(want, '/');
        if (!slash || slash == want)
                return;
        *slash = '\0';
        _cleanup_free_ char *cur = cfs_read(p);
        struct stat st;
        if (!cur || strcmp(cur, want) == 0 || stat(want, &st) < 0 || !S_ISDIR(st.st_mode))
                return;
        vcm_error e;
        cfs_write(root, p, want, &e);
}

int lio_backstore_ensure(const lio_root *root, const char *name, const char *dev,
                         vcm_error *err) {
        _cleanup_free_ char *rel = lio_backstore_find(root, name);
        if (!rel) {
                /* rtslib's lock: targetcli allocating an index at the same time waits. */
                _cleanup_(closep) int lk = open(root->lockfile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
                if (lk < 0 || flock(lk, LOCK_EX) < 0) {
                        int r = -errno;
                        vcm_error_set(err, "backstore %s: cannot take rtslib's lock %s: %s", name,
                                      root->lockfile, strerror(-r));
                        return r;
                }
                rel = lio_backstore_find(root, name);
                if (!rel) {
                        set_dbroot(root);
                        remove_orphan_hbas(root);
                        unsigned idx = free_hba_index(root);
                        _cleanup_free_ char *hba = lio_path(root, "core/iblock_%u", idx);
                        _cleanup_free_ char *so = lio_path(root, "core/iblock_%u/%s", idx, name);
                        vcm_error e;
                        int r = cfs_mkdir(root, hba, &e);
                        if (r >= 0)
                                r = cfs_mkdir(root, so, &e);
                        if (r < 0) {
                                rmdir(hba);
                                vcm_error_set(err, "backstore %s: %s%s", name, e.message,
                                              r == -ENOENT || r == -EINVAL
                                                      ? " (is target_core_iblock loaded?)" : "");
                                return r;
                        }
                        rel = xasprintf("core/iblock_%u/%s", idx, name);
                }
        }
        _cleanup_free_ char *base = lio_path(root, "%s", rel);
        _cleanup_free_ char *enable_p = xasprintf("%s/enable", base);
        _cleanup_free_ char *udev_p = xasprintf("%s/udev_path", base);
        _cleanup_free_ char *enabled = cfs_read(enable_p);
        _cleanup_free_ char *udev = cfs_read(udev_p);
        vcm_error e;
        int r = 0;
        if (!enabled || strcmp(enabled, "1") != 0) {
                _cleanup_free_ char *control = xasprintf("%s/control", base);
                _cleanup_free_ char *c1 = xasprintf("udev_path=%s", dev);
                r = cfs_write(root, udev_p, dev, &e);
                if (r >= 0)
                        r = cfs_write(root, control, c1, &e);
                if (r >= 0)
                        r = cfs_write(root, control, "readonly=0", &e);
                if (r >= 0)
                        r = cfs_write(root, enable_p, "1", &e);
        } else if (!udev || strcmp(udev, dev) != 0) {
                vcm_error_set(err, "backstore %s exports %s, not %s; remove it to re-export",
                              name, udev ? udev : "(unknown)", dev);
                return -EEXIST;
        }
        if (r < 0) {
                vcm_error_set(err, "backstore %s: %s", name, e.message);
                return r;
        }
        /* A stable serial (initiators tell disks apart by it); the kernel refuses a new one
         * while the backstore is exported, so a failure here is left for a later pass. */
        char serial[37];
        lio_unit_serial(name, serial);
        _cleanup_free_ char *wwn_p = xasprintf("%s/wwn/vpd_unit_serial", base);
        _cleanup_free_ char *wwn = cfs_read(wwn_p);
        if (!wwn || !strstr(wwn, serial))
                cfs_write(root, wwn_p, serial, &e);
        return 0;
}

int lio_backstore_remove(const lio_root *root, const char *name, vcm_error *err) {
        _cleanup_free_ char *rel = lio_backstore_find(root, name);
        if (!rel)
                return 0;
        _cleanup_free_ char *so = lio_path(root, "%s", rel);
        vcm_error e;
        int r = cfs_rmdir(root, so, &e);
        if (r < 0) {
                vcm_error_set(err, "backstore %s: %s%s", name, e.message,
                              r == -EBUSY ? " (a LUN still uses it)" : "");
                return r;
        }
        /* Its HBA directory, if nothing else is in it (one backstore per HBA, as rtslib). */
        char *slash = strrchr(so, '/');
        *slash = '\0';
        _cleanup_strv_free_ char **left = cfs_list(so);
        bool other = false;
        for (char **x = left; *x; x++)
                other |= strcmp(*x, "hba_info") != 0 && strcmp(*x, "hba_mode") != 0;
        if (!other)
                cfs_rmdir(root, so, &e);
        return 0;
}

static int check_portal(const char *portal) {
        const char *colon = strrchr(portal, ':');
        return colon && colon != portal && colon[1] && !strchr(portal, '/') ? 0 : -EINVAL;
}

static int set_attr(const lio_root *root, const char *path, const char *value, vcm_error *err) {
        _cleanup_free_ char *cur = cfs_read(path);
        if (cur && strcmp(cur, value) == 0)
                return 0;
        return cfs_write(root, path, value, err);
}

int lio_target_ensure(const lio_root *root, const char *iqn, const char *portal,
                      vcm_error *err) {
        if (check_portal(portal) < 0) {
                vcm_error_set(err, "target %s: portal '%s' is not IP:PORT", iqn, portal);
                return -EINVAL;
        }
        _cleanup_free_ char *fabric = lio_path(root, "iscsi");
        _cleanup_free_ char *t = lio_path(root, "iscsi/%s", iqn);
        _cleanup_free_ char *tpg = lio_path(root, "iscsi/%s/" LIO_TPG, iqn);
        vcm_error e;
        /* mkdir of "iscsi" makes the kernel load the iSCSI fabric. */
        if (!cfs_exists(fabric))
                set_dbroot(root);
        int r = cfs_mkdir(root, fabric, &e);
        if (r < 0) {
                vcm_error_set(err, "target %s: the iSCSI fabric is not available: %s "
                              "(modprobe iscsi_target_mod)", iqn, e.message);
                return r;
        }
        if (r >= 0)
                r = cfs_mkdir(root, t, &e);
        if (r >= 0)
                r = cfs_mkdir(root, tpg, &e);
        static const char *const attrs[][2] = { { "authentication", "0" },
                                                { "generate_node_acls", "0" },
                                                { "demo_mode_write_protect", "1" } };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(attrs); i++) {
                _cleanup_free_ char *p = xasprintf("%s/attrib/%s", tpg, attrs[i][0]);
                r = set_attr(root, p, attrs[i][1], &e);
        }
        if (r >= 0) {
                /* Exactly one portal: the storage host's. */
                _cleanup_free_ char *np = xasprintf("%s/np", tpg);
                _cleanup_strv_free_ char **have = cfs_list(np);
                for (char **x = have; r >= 0 && *x; x++)
                        if (strcmp(*x, portal) != 0) {
                                _cleanup_free_ char *p = xasprintf("%s/%s", np, *x);
                                r = cfs_rmdir(root, p, &e);
                        }
                _cleanup_free_ char *want = xasprintf("%s/%s", np, portal);
                if (r >= 0)
                        r = cfs_mkdir(root, want, &e);
                if (r == -EADDRNOTAVAIL || r == -EINVAL)
                        vcm_error_set(&e, "portal %s: the address is not on this host", portal);
        }
        if (r >= 0) {
                _cleanup_free_ char *p = xasprintf("%s/enable", tpg);
                r = set_attr(root, p, "1", &e);
        }
        if (r < 0)
                vcm_error_set(err, "target %s: %s", iqn, e.message);
        return r;
}

int lio_target_remove(const lio_root *root, const char *iqn, vcm_error *err) {
        _cleanup_free_ char *t = lio_path(root, "iscsi/%s", iqn);
        if (!cfs_exists(t))
                return 0;
        vcm_error e;
        int r = 0;
        _cleanup_strv_free_ char **tpgs = cfs_list(t);
        for (char **g = tpgs; r >= 0 && *g; g++) {
                if (strncmp(*g, "tpgt_", 5) != 0)
                        continue;
                _cleanup_free_ char *tpg = xasprintf("%s/%s", t, *g);
                _cleanup_free_ char *en = xasprintf("%s/enable", tpg);
                if (cfs_exists(en))
                        r = set_attr(root, en, "0", &e);
                /* Whatever the ACL and LUN steps left: reverse order of creation. */
                _cleanup_free_ char *acls = xasprintf("%s/acls", tpg);
                _cleanup_strv_free_ char **al = cfs_list(acls);
                for (char **a = al; r >= 0 && *a; a++)
                        r = lio_acl_remove(root, iqn, *a, &e);
                _cleanup_free_ char *luns = xasprintf("%s/lun", tpg);
                _cleanup_strv_free_ char **ll = cfs_list(luns);
                for (char **l = ll; r >= 0 && *l; l++)
                        if (strncmp(*l, "lun_", 4) == 0)
                                r = lio_lun_remove(root, iqn, (unsigned)atoi(*l + 4), &e);
                _cleanup_free_ char *np = xasprintf("%s/np", tpg);
                _cleanup_strv_free_ char **nl = cfs_list(np);
                for (char **n = nl; r >= 0 && *n; n++) {
                        _cleanup_free_ char *p = xasprintf("%s/%s", np, *n);
                        r = cfs_rmdir(root, p, &e);
                }
                if (r >= 0)
                        r = cfs_rmdir(root, tpg, &e);
        }
        if (r >= 0)
                r = cfs_rmdir(root, t, &e);
        if (r < 0)
                vcm_error_set(err, "target %s: %s", iqn, e.message);
        return r;
}

int lio_lun_ensure(const lio_root *root, const char *iqn, unsigned lun, const char *backstore,
                   vcm_error *err) {
        _cleanup_free_ char *tpg = lio_path(root, "iscsi/%s/" LIO_TPG, iqn);
        if (!cfs_exists(tpg)) {
                vcm_error_set(err, "LUN %u of %s: the target does not exist yet", lun, iqn);
                return -ENOENT;
        }
        _cleanup_free_ char *so_rel = lio_backstore_find(root, backstore);
        if (!so_rel) {
                vcm_error_set(err, "LUN %u of %s: backstore %s does not exist", lun, iqn,
                              backstore);
                return -ENOENT;
        }
        _cleanup_free_ char *dir = xasprintf("%s/lun/lun_%u", tpg, lun);
        vcm_error e;
        int r = cfs_mkdir(root, dir, &e);
        if (r < 0) {
                vcm_error_set(err, "LUN %u of %s: %s", lun, iqn, e.message);
                return r;
        }
        _cleanup_free_ char *name = NULL, *target = NULL;
        _cleanup_free_ char *so = lio_path(root, "%s", so_rel);
        if (cfs_find_link(dir, &name, &target) == 0) {
                if (strcmp(cfs_tail2(target), cfs_tail2(so)) == 0)
                        return 0;
                vcm_error_set(err, "LUN %u of %s exports %s, not backstore %s", lun, iqn,
                              cfs_tail2(target), backstore);
                return -EEXIST;
        }
        _cleanup_free_ char *link = xasprintf("%s/" LIO_LUN_LINK, dir);
        r = cfs_symlink(so, link, &e);
        if (r < 0)
                vcm_error_set(err, "LUN %u of %s: %s", lun, iqn, e.message);
        return r;
}

/* Remove mapped LUN directory `mdir` (its link first). */
static int mlun_remove(const lio_root *root, const char *mdir, vcm_error *err) {
        _cleanup_free_ char *name = NULL, *target = NULL;
        if (cfs_find_link(mdir, &name, &target) == 0) {
                _cleanup_free_ char *l = xasprintf("%s/%s", mdir, name);
                int r = cfs_unlink(l, err);
                if (r < 0)
                        return r;
        }
        return cfs_rmdir(root, mdir, err);
}

int lio_lun_remove(const lio_root *root, const char *iqn, unsigned lun, vcm_error *err) {
        _cleanup_free_ char *tpg = lio_path(root, "iscsi/%s/" LIO_TPG, iqn);
        _cleanup_free_ char *dir = xasprintf("%s/lun/lun_%u", tpg, lun);
        if (!cfs_exists(dir))
                return 0;
        char want[32];
        snprintf(want, sizeof(want), "lun/lun_%u", lun);
        vcm_error e;
        int r = 0;
        _cleanup_free_ char *acls = xasprintf("%s/acls", tpg);
        _cleanup_strv_free_ char **al = cfs_list(acls);
        for (char **a = al; r >= 0 && *a; a++) {
                _cleanup_free_ char *ad = xasprintf("%s/%s", acls, *a);
                _cleanup_strv_free_ char **ml = cfs_list(ad);
                for (char **m = ml; r >= 0 && *m; m++) {
                        if (strncmp(*m, "lun_", 4) != 0)
                                continue;
                        _cleanup_free_ char *md = xasprintf("%s/%s", ad, *m);
                        _cleanup_free_ char *name = NULL, *target = NULL;
                        if (cfs_find_link(md, &name, &target) == 0 &&
                            strcmp(cfs_tail2(target), want) == 0)
                                r = mlun_remove(root, md, &e);
                }
        }
        _cleanup_free_ char *name = NULL, *target = NULL;
        if (r >= 0 && cfs_find_link(dir, &name, &target) == 0) {
                _cleanup_free_ char *l = xasprintf("%s/%s", dir, name);
                r = cfs_unlink(l, &e);
        }
        if (r >= 0)
                r = cfs_rmdir(root, dir, &e);
        if (r < 0)
                vcm_error_set(err, "LUN %u of %s: %s", lun, iqn, e.message);
        return r;
}

int lio_acl_ensure(const lio_root *root, const char *iqn, const char *initiator,
                   const unsigned *luns, size_t n_luns, vcm_error *err) {
        _cleanup_free_ char *tpg = lio_path(root, "iscsi/%s/" LIO_TPG, iqn);
        if (!cfs_exists(tpg)) {
                vcm_error_set(err, "ACL %s of %s: the target does not exist yet", initiator, iqn);
                return -ENOENT;
        }
        _cleanup_free_ char *acl = xasprintf("%s/acls/%s", tpg, initiator);
        vcm_error e;
        int r = cfs_mkdir(root, acl, &e);
        /* Mapped LUNs no longer wanted go first. */
        _cleanup_strv_free_ char **ml = cfs_list(acl);
        for (char **m = ml; r >= 0 && *m; m++) {
                if (strncmp(*m, "lun_", 4) != 0)
                        continue;
                unsigned n = (unsigned)strtoul(*m + 4, NULL, 10);
                bool wanted = false;
                for (size_t i = 0; i < n_luns && !wanted; i++)
                        wanted = luns[i] == n;
                if (!wanted) {
                        _cleanup_free_ char *md = xasprintf("%s/%s", acl, *m);
                        r = mlun_remove(root, md, &e);
                }
        }
        for (size_t i = 0; r >= 0 && i < n_luns; i++) {
                _cleanup_free_ char *tl = xasprintf("%s/lun/lun_%u", tpg, luns[i]);
                if (!cfs_exists(tl)) {
                        vcm_error_set(&e, "LUN %u does not exist yet", luns[i]);
                        r = -ENOENT;
                        break;
                }
                _cleanup_free_ char *md = xasprintf("%s/lun_%u", acl, luns[i]);
                r = cfs_mkdir(root, md, &e);
                _cleanup_free_ char *name = NULL, *target = NULL;
                if (r >= 0 && cfs_find_link(md, &name, &target) < 0) {
                        _cleanup_free_ char *l = xasprintf("%s/" LIO_MLUN_LINK, md);
                        r = cfs_symlink(tl, l, &e);
                }
        }
        if (r < 0)
                vcm_error_set(err, "ACL %s of %s: %s", initiator, iqn, e.message);
        return r;
}

int lio_acl_remove(const lio_root *root, const char *iqn, const char *initiator,
                   vcm_error *err) {
        _cleanup_free_ char *acl = lio_path(root, "iscsi/%s/" LIO_TPG "/acls/%s", iqn, initiator);
        if (!cfs_exists(acl))
                return 0;
        vcm_error e;
        int r = 0;
        _cleanup_strv_free_ char **ml = cfs_list(acl);
        for (char **m = ml; r >= 0 && *m; m++)
                if (strncmp(*m, "lun_", 4) == 0) {
                        _cleanup_free_ char *md = xasprintf("%s/%s", acl, *m);
                        r = mlun_remove(root, md, &e);
                }
        if (r >= 0)
                r = cfs_rmdir(root, acl, &e);
        if (r < 0)
                vcm_error_set(err, "ACL %s of %s: %s", initiator, iqn, e.message);
        return r;
}
