/* File volumes in vcm's libvirt directory pool "vcm".
 *
 * Ownership: a raw file in a directory pool has nowhere to carry metadata, so each volume NAME
 * has a zero-length marker volume next to it,
 *     .vcm.<SITE8>.<NAME>.<CLUSTER>.<HASH16>.<CLONE-HEX or ->
 * (SITE8: a fingerprint of the site's name, so that sites sharing a host never claim each
 * other's volumes)
 * which stores what observation must give back (cluster, spec hash, clone source). The marker is
 * created before the data volume and deleted after it, so a crash never leaves vcm's data
 * unmarked; a volume without a marker is never listed, resized, wiped or deleted, whatever its
 * name. The pool itself is vcm's when it holds the marker volume ".vcm-pool". */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>
#include <libxml/entities.h>

#include "lv.h"
#include "reconciler/props.h"
#include "specs/base/macro.h"

#define LV_POOL_MARK ".vcm-pool"
#define LV_VOL_MARK_PREFIX ".vcm."
#define LV_NAME_MAX 255

static void pool_freep(virStoragePoolPtr *p) {
        if (*p)
                virStoragePoolFree(*p);
}
#define _cleanup_pool_ _cleanup_(pool_freep)
static void vol_freep(virStorageVolPtr *v) {
        if (*v)
                virStorageVolFree(*v);
}
#define _cleanup_vol_ _cleanup_(vol_freep)

typedef struct lv_vol_mark {
        char *file;     /* the marker volume's name */
        char *name;     /* the data volume it marks */
        char *cluster;
        char *clone;    /* NULL: none */
        uint64_t hash;
} lv_vol_mark;

static void lv_vol_mark_clear(lv_vol_mark *m) {
        free(m->file);
        free(m->name);
        free(m->cluster);
        free(m->clone);
        *m = (lv_vol_mark){ 0 };
}

/* The marker's file name for a desired volume; -ENAMETOOLONG when the clone path is too long. */
/* FNV-1a 32 of the site name, as 8 hex digits. */
void lv_site_tag(const char *site, char ret[9]) {
        uint32_t h = 2166136261u;
        for (const unsigned char *p = (const unsigned char *)site; *p; p++)
                h = (h ^ *p) * 16777619u;
        snprintf(ret, 9, "%08x", h);
}

static int lv_vol_mark_name(const lv_conn *c, const vcm_resource *want, char **ret) {
        const char *clone = vcm_resource_prop(want, "clone");
        size_t clen = clone ? strlen(clone) : 0;
        size_t need = strlen(LV_VOL_MARK_PREFIX) + 9 + strlen(want->name) + 1 +
                      strlen(want->cluster ? want->cluster : "") + 1 + 16 + 1 +
                      (clone ? 2 * clen : 1) + 1;
        if (need > LV_NAME_MAX + 1)
                return -ENAMETOOLONG;
        char *s = malloc(need), hex[17], tag[9];
        if (!s)
                return -ENOMEM;
        lv_hash_hex(want->hash, hex);
        lv_site_tag(c->site, tag);
        int n = snprintf(s, need, LV_VOL_MARK_PREFIX "%s.%s.%s.%s.", tag, want->name,
                         want->cluster ? want->cluster : "", hex);
        if (clone) {
                for (size_t i = 0; i < clen; i++)
                        n += snprintf(s + n, need - (size_t)n, "%02x", (unsigned char)clone[i]);
        } else {
                snprintf(s + n, need - (size_t)n, "-");
        }
        *ret = s;
        return 0;
}

static int lv_unhex(const char *h, char **ret) {
        size_t n = strlen(h);
        if (n % 2)
                return -EINVAL;
        char *s = malloc(n / 2 + 1);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < n / 2; i++) {
                unsigned v;
                if (sscanf(h + 2 * i, "%2x", &v) != 1 || v == 0) {
                        free(s);
                        return -EINVAL;
                }
                s[i] = (char)v;
        }
        s[n / 2] = '\0';
        *ret = s;
        return 0;
}

/* Parse a marker file name; -EINVAL when `file` is not one of this site's markers. */
static int lv_vol_mark_parse(const lv_conn *c, const char *file, lv_vol_mark *ret) {
        size_t plen = strlen(LV_VOL_MARK_PREFIX);
        char tag[9];
        lv_site_tag(c->site, tag);
        if (strncmp(file, LV_VOL_MARK_PREFIX, plen) != 0 || strncmp(file + plen, tag, 8) != 0 ||
            file[plen + 8] != '.')
                return -EINVAL;
        _cleanup_free_ char *copy = strdup(file + plen + 9);
        if (!copy)
                return -ENOMEM;
        char *parts[4], *p = copy;
        for (int i = 0; i < 4; i++) {
                parts[i] = p;
                char *dot = i < 3 ? strchr(p, '.') : NULL;
                if (i < 3) {
                        if (!dot)
                                return -EINVAL;
                        *dot = '\0';
                        p = dot + 1;
                }
        }
        if (!*parts[0] || !*parts[1] || !*parts[3] || strchr(parts[3], '.'))
                return -EINVAL;
        lv_vol_mark m = { 0 };
        if (lv_hash_parse(parts[2], &m.hash) < 0)
                return -EINVAL;
        if (strcmp(parts[3], "-") != 0 && lv_unhex(parts[3], &m.clone) < 0)
                return -EINVAL;
        m.file = strdup(file);
        m.name = strdup(parts[0]);
        m.cluster = strdup(parts[1]);
        if (!m.file || !m.name || !m.cluster) {
                lv_vol_mark_clear(&m);
                return -ENOMEM;
        }
        *ret = m;
        return 0;
}

static bool lv_name_valid(const char *name) {
        return name && *name && *name != '.' && !strchr(name, '.') && !strchr(name, '/') &&
               strlen(name) < 200;
}

/* Every volume name in the pool (one bulk call). */
int lv_pool_names(lv_conn *c, virStoragePoolPtr pool, char ***ret_names, size_t *ret_n,
                  virStorageVolPtr **ret_vols, vcm_error *err) {
        virStorageVolPtr *vols = NULL;
        int n = virStoragePoolListAllVolumes(pool, &vols, 0);
        if (n < 0)
                return lv_fail(err, c, "pool", VCM_FILE_POOL, "cannot list volumes");
        char **names = calloc((size_t)n + 1, sizeof(char *));
        if (!names) {
                for (int i = 0; i < n; i++)
                        virStorageVolFree(vols[i]);
                free(vols);
                return -ENOMEM;
        }
        for (int i = 0; i < n; i++)
                names[i] = strdup(virStorageVolGetName(vols[i]));
        if (ret_vols) {
                *ret_vols = vols;
        } else {
                for (int i = 0; i < n; i++)
                        virStorageVolFree(vols[i]);
                free(vols);
        }
        *ret_names = names;
        *ret_n = (size_t)n;
        return 0;
}

void lv_names_free(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

static bool lv_names_has(char **names, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (names[i] && strcmp(names[i], name) == 0)
                        return true;
        return false;
}

int lv_vol_create_empty(lv_conn *c, virStoragePoolPtr pool, const char *name, uint64_t size,
                        virStorageVolPtr *ret, vcm_error *err) {
        char xml[512];
        /* Names are checked (no markup characters: [a-z0-9-] and the marker's hex) before. */
        snprintf(xml, sizeof(xml),
                 "<volume><name>%s</name><capacity unit='bytes'>%" PRIu64 "</capacity>"
                 "<allocation unit='bytes'>0</allocation>"
                 "<target><format type='raw'/><permissions><mode>0600</mode></permissions>"
                 "</target></volume>",
                 name, size);
        virStorageVolPtr v = virStorageVolCreateXML(pool, xml, 0);
        if (!v)
                return lv_fail(err, c, "volume", name, "cannot create");
        if (ret)
                *ret = v;
        else
                virStorageVolFree(v);
        return 0;
}

static bool lv_safe_name(const char *s) {
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_'))
                        return false;
        return true;
}

/* Find or make vcm's pool: defined, built, started, autostarted and carrying the pool marker. */
int lv_pool_get(lv_conn *c, bool create, virStoragePoolPtr *ret, vcm_error *err) {
        pthread_mutex_lock(&c->pool_lock);
        _cleanup_pool_ virStoragePoolPtr pool = virStoragePoolLookupByName(c->conn, VCM_FILE_POOL);
        int r = 0;
        if (!pool) {
                if (lv_last_code() != VIR_ERR_NO_STORAGE_POOL) {
                        r = lv_fail(err, c, "pool", VCM_FILE_POOL, "cannot look it up");
                        goto out;
                }
                if (!create) {
                        r = -ENOENT;
                        goto out;
                }
                xmlChar *path = xmlEncodeEntitiesReentrant(NULL, (const xmlChar *)c->pool_path);
                char *xml = NULL;
                if (!path || asprintf(&xml,
                                      "<pool type='dir'><name>" VCM_FILE_POOL "</name>"
                                      "<target><path>%s</path></target></pool>",
                                      (const char *)path) < 0)
                        xml = NULL;
                xmlFree(path);
                if (!xml) {
                        r = -ENOMEM;
                        goto out;
                }
                pool = virStoragePoolDefineXML(c->conn, xml, 0);
                free(xml);
                if (!pool) {
                        r = lv_fail(err, c, "pool", VCM_FILE_POOL, "cannot define");
                        goto out;
                }
                if (virStoragePoolBuild(pool, 0) < 0 && lv_last_code() != VIR_ERR_NO_SUPPORT) {
                        r = lv_fail(err, c, "pool", VCM_FILE_POOL, "cannot build its directory");
                        goto out;
                }
                virStoragePoolSetAutostart(pool, 1);
        }
        if (virStoragePoolIsActive(pool) != 1) {
                if (!create) {
                        r = -ENOENT; /* an inactive pool shows nothing; create starts it */
                        goto out;
                }
                if (virStoragePoolCreate(pool, 0) < 0 &&
                    lv_last_code() != VIR_ERR_OPERATION_INVALID) {
                        r = lv_fail(err, c, "pool", VCM_FILE_POOL, "cannot start");
                        goto out;
                }
        }
        if (!c->pool_ready) {
                _cleanup_vol_ virStorageVolPtr mark = virStorageVolLookupByName(pool, LV_POOL_MARK);
                if (!mark) {
                        int n = virStoragePoolNumOfVolumes(pool);
                        /* An empty pool of that name is adopted; one holding other files is
                         * someone else's. */
                        if (n != 0 || !create) {
                                if (!create) {
                                        r = -ENOENT;
                                        goto out;
                                }
                                vcm_error_set(err,
                                              "host %s: storage pool %s exists, holds %d volumes "
                                              "and has no %s marker: it is not vcm's; vcm will "
                                              "not use it",
                                              c->host, VCM_FILE_POOL, n, LV_POOL_MARK);
                                r = -EPERM;
                                goto out;
                        }
                        r = lv_vol_create_empty(c, pool, LV_POOL_MARK, 0, NULL, err);
                        if (r < 0)
                                goto out;
                }
                c->pool_ready = true;
        }
        *ret = TAKE_PTR(pool);
out:
        pthread_mutex_unlock(&c->pool_lock);
        return r;
}

int lv_volume_observe(lv_conn *c, const lv_pool_list *l, vcm_resource_set *out,
                      vcm_error *err) {
        int r = 0;
        for (size_t i = 0; i < l->n && r >= 0; i++) {
                lv_vol_mark m = { 0 };
                if (lv_vol_mark_parse(c, l->vols[i].name, &m) < 0)
                        continue;
                uint64_t size = 0;
                const lv_pool_vol *data = lv_pool_list_find(l, m.name);
                if (data) {
                        virStorageVolInfo info;
                        if (virStorageVolGetInfo(data->vol, &info) < 0)
                                r = lv_fail(err, c, "volume", m.name, "cannot read its size");
                        else
                                size = info.capacity;
                }
                /* A marker without its data volume (deleted outside vcm, or a crash between
                 * the two) shows as size 0: growing it recreates the data, deleting it removes
                 * the marker. Two markers for one name (crash while re-marking): first wins. */
                vcm_resource *res = r >= 0 ? vcm_resource_set_put(out, VCM_KIND_VOLUME, c->host,
                                                                  m.name, m.cluster)
                                           : NULL;
                if (res) {
                        vcm_resource_set_propf(res, "size", "%" PRIu64, size);
                        vcm_resource_set_prop(res, "backend", "file");
                        vcm_resource_set_prop(res, "pool", VCM_FILE_POOL);
                        if (m.clone)
                                vcm_resource_set_prop(res, "clone", m.clone);
                        res->hash = m.hash;
                }
                lv_vol_mark_clear(&m);
        }
        return r;
}

typedef struct lv_upload {
        int fd;
} lv_upload;

static int lv_upload_read(virStreamPtr st, char *data, size_t nbytes, void *opaque) {
        (void)st;
        lv_upload *u = opaque;
        ssize_t n = read(u->fd, data, nbytes);
        return n < 0 ? -1 : (int)n;
}

/* Fill a new volume from `clone`: a libvirt volume (by path anywhere, or by name in the vcm pool)
 * is copied by libvirt; otherwise a file readable here is uploaded (local hosts). */
static int lv_vol_create_clone(lv_conn *c, virStoragePoolPtr pool, const char *name,
                               uint64_t size, const char *clone, vcm_error *err) {
        _cleanup_vol_ virStorageVolPtr src = clone[0] == '/'
                                                     ? virStorageVolLookupByPath(c->conn, clone)
                                                     : virStorageVolLookupByName(pool, clone);
        char xml[512];
        snprintf(xml, sizeof(xml),
                 "<volume><name>%s</name><capacity unit='bytes'>%" PRIu64 "</capacity>"
                 "<target><format type='raw'/><permissions><mode>0600</mode></permissions>"
                 "</target></volume>",
                 name, size);
        if (src) {
                virStorageVolPtr v = virStorageVolCreateXMLFrom(pool, xml, src, 0);
                if (!v)
                        return lv_fail(err, c, "volume", name, "cannot clone");
                virStorageVolFree(v);
                return 0;
        }
        int fd = clone[0] == '/' ? open(clone, O_RDONLY | O_CLOEXEC) : -1;
        if (fd < 0) {
                vcm_error_set(err,
                              "host %s: volume %s: clone source %s is neither a libvirt volume "
                              "nor a file readable by vcm",
                              c->host, name, clone);
                return -ENOENT;
        }
        _cleanup_vol_ virStorageVolPtr v = NULL;
        int r = lv_vol_create_empty(c, pool, name, size, &v, err);
        if (r < 0) {
                close(fd);
                return r;
        }
        virStreamPtr st = virStreamNew(c->conn, 0);
        lv_upload u = { fd };
        r = 0;
        if (!st || virStorageVolUpload(v, st, 0, 0, 0) < 0 ||
            virStreamSendAll(st, lv_upload_read, &u) < 0 || virStreamFinish(st) < 0) {
                r = lv_fail(err, c, "volume", name, "cannot upload the clone source");
                if (st)
                        virStreamAbort(st);
        }
        if (st)
                virStreamFree(st);
        close(fd);
        return r;
}

/* Delete this site's markers of volume `name` among the pool's `names`, all but `keep` (NULL:
 * all of them). A marker already gone is fine. */
static int lv_vol_marks_delete(lv_conn *c, virStoragePoolPtr pool, char **names, size_t n,
                               const char *name, const char *keep, vcm_error *err) {
        for (size_t i = 0; i < n; i++) {
                lv_vol_mark m = { 0 };
                if (!names[i] || lv_vol_mark_parse(c, names[i], &m) < 0)
                        continue;
                if (strcmp(m.name, name) == 0 && (!keep || strcmp(m.file, keep) != 0)) {
                        _cleanup_vol_ virStorageVolPtr mv = virStorageVolLookupByName(pool, m.file);
                        if (mv && virStorageVolDelete(mv, 0) < 0 &&
                            lv_last_code() != VIR_ERR_NO_STORAGE_VOL) {
                                int r = lv_fail(err, c, "volume", m.file, "cannot delete marker");
                                lv_vol_mark_clear(&m);
                                return r;
                        }
                }
                lv_vol_mark_clear(&m);
        }
        return 0;
}

/* Whether the pool holds a volume of that name (one lookup by name). */
static int lv_vol_exists(lv_conn *c, virStoragePoolPtr pool, const char *name, bool *ret,
                         vcm_error *err) {
        virStorageVolPtr v = virStorageVolLookupByName(pool, name);
        if (!v && lv_last_code() != VIR_ERR_NO_STORAGE_VOL)
                return lv_fail(err, c, "volume", name, "cannot look it up");
        if (v)
                virStorageVolFree(v);
        *ret = v != NULL;
        return 0;
}

int lv_volume_create(lv_conn *c, const vcm_resource *want, const vcm_resource *have,
                     vcm_error *err) {
        uint64_t size;
        const char *pool_name = vcm_resource_prop(want, "pool");
        const char *backend = vcm_resource_prop(want, "backend");
        if (!lv_name_valid(want->name) || !lv_safe_name(want->name) || !want->cluster ||
            !lv_safe_name(want->cluster) || strchr(want->cluster, '.') ||
            lv_parse_u64(vcm_resource_prop(want, "size"), &size) < 0 ||
            (pool_name && strcmp(pool_name, VCM_FILE_POOL) != 0) ||
            (backend && strcmp(backend, "file") != 0)) {
                vcm_error_set(err,
                              "host %s: volume %s: the libvirt provider makes file volumes in "
                              "pool %s with a size in bytes and a name without dots",
                              c->host, want->name, VCM_FILE_POOL);
                return -EINVAL;
        }
        _cleanup_free_ char *mark = NULL;
        int r = lv_vol_mark_name(c, want, &mark);
        if (r < 0) {
                vcm_error_set(err, "host %s: volume %s: clone source name too long", c->host,
                              want->name);
                return r;
        }
        _cleanup_pool_ virStoragePoolPtr pool = NULL;
        r = lv_pool_get(c, true, &pool, err);
        if (r < 0)
                return r;
        /* Two lookups by name answer the common cases without listing the pool, which costs
         * as much as the pool is large (creates at scale were quadratic): a volume absent or
         * carrying this very marker. The pool is listed when the data volume exists without it
         * (is it marked at all?) and on update, whose observed marker (and any stray one of the
         * same name) goes once the new one is in place. A create (`have` NULL) follows an
         * observation that saw no marker of this name; a stray one made since is found by the
         * next update or delete, which list. */
        bool data = false, have_mark = false;
        r = lv_vol_exists(c, pool, want->name, &data, err);
        if (r >= 0)
                r = lv_vol_exists(c, pool, mark, &have_mark, err);
        if (r < 0)
                return r;
        bool listed = have || (data && !have_mark), marked = have_mark;
        char **names = NULL;
        size_t n = 0;
        if (listed) {
                r = lv_pool_names(c, pool, &names, &n, NULL, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                lv_vol_mark m = { 0 };
                if (names[i] && lv_vol_mark_parse(c, names[i], &m) == 0) {
                        if (strcmp(m.name, want->name) == 0)
                                marked = true;
                        lv_vol_mark_clear(&m);
                }
        }
        if (data && !marked) {
                lv_names_free(names, n);
                vcm_error_set(err,
                              "host %s: volume %s exists in pool %s without vcm's marker: it is "
                              "not vcm's; vcm leaves it alone",
                              c->host, want->name, VCM_FILE_POOL);
                return -EPERM;
        }
        /* Mark first, so the data volume is never vcm's and unmarked at the same time. */
        if (!have_mark) {
                r = lv_vol_create_empty(c, pool, mark, 0, NULL, err);
                if (r < 0 && lv_last_code() != VIR_ERR_STORAGE_VOL_EXIST)
                        goto out;
                r = 0;
        }
        if (!data) {
                const char *clone = vcm_resource_prop(want, "clone");
                r = clone ? lv_vol_create_clone(c, pool, want->name, size, clone, err)
                          : lv_vol_create_empty(c, pool, want->name, size, NULL, err);
                if (r < 0)
                        goto out;
        } else {
                _cleanup_vol_ virStorageVolPtr v = virStorageVolLookupByName(pool, want->name);
                virStorageVolInfo info;
                if (!v || virStorageVolGetInfo(v, &info) < 0) {
                        r = lv_fail(err, c, "volume", want->name, "cannot read its size");
                        goto out;
                }
                if (info.capacity < size && virStorageVolResize(v, size, 0) < 0) {
                        r = lv_fail(err, c, "volume", want->name, "cannot grow");
                        goto out;
                }
        }
        /* Old markers of this volume (an earlier hash) go once the new one is in place. */
        if (listed)
                r = lv_vol_marks_delete(c, pool, names, n, want->name, mark, err);
out:
        lv_names_free(names, n);
        return r;
}

int lv_volume_update(lv_conn *c, const vcm_resource *want, const vcm_resource *have,
                     vcm_error *err) {
        uint64_t a, b;
        if (lv_parse_u64(vcm_resource_prop(want, "size"), &a) == 0 &&
            lv_parse_u64(vcm_resource_prop(have, "size"), &b) == 0 && a < b) {
                vcm_error_set(err, "host %s: volume %s: shrinking a volume loses data", c->host,
                              want->name);
                return -EINVAL;
        }
        return lv_volume_create(c, want, have, err);
}

/* lv_pool_get (without creating) then lv_pool_names: -ENOENT when vcm has no pool here. */
static int lv_pool_open_names(lv_conn *c, virStoragePoolPtr *ret_pool, char ***ret_names,
                              size_t *ret_n, vcm_error *err) {
        _cleanup_pool_ virStoragePoolPtr pool = NULL;
        int r = lv_pool_get(c, false, &pool, err);
        if (r < 0)
                return r;
        r = lv_pool_names(c, pool, ret_names, ret_n, NULL, err);
        if (r < 0)
                return r;
        *ret_pool = TAKE_PTR(pool);
        return 0;
}

int lv_volume_delete(lv_conn *c, const vcm_resource *have, vcm_error *err) {
        _cleanup_pool_ virStoragePoolPtr pool = NULL;
        char **names = NULL;
        size_t n = 0;
        int r = lv_pool_open_names(c, &pool, &names, &n, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        bool data = lv_names_has(names, n, have->name), marked = false;
        for (size_t i = 0; i < n && !marked; i++) {
                lv_vol_mark m = { 0 };
                if (names[i] && lv_vol_mark_parse(c, names[i], &m) == 0) {
                        marked = strcmp(m.name, have->name) == 0;
                        lv_vol_mark_clear(&m);
                }
        }
        if (!marked) {
                lv_names_free(names, n);
                if (!data)
                        return 0;
                vcm_error_set(err,
                              "host %s: volume %s has no vcm marker in pool %s: not vcm's, not "
                              "deleted",
                              c->host, have->name, VCM_FILE_POOL);
                return -EPERM;
        }
        if (data) {
                _cleanup_vol_ virStorageVolPtr v = virStorageVolLookupByName(pool, have->name);
                if (v) {
                        /* Released space is wiped before anyone else can get it (safety rule 3).
                         * The test driver has no wipe and no data. */
                        if (virStorageVolWipe(v, 0) < 0 &&
                            !(c->test_driver && lv_last_code() == VIR_ERR_NO_SUPPORT)) {
                                r = lv_fail(err, c, "volume", have->name, "cannot wipe");
                                goto out;
                        }
                        if (virStorageVolDelete(v, 0) < 0 &&
                            lv_last_code() != VIR_ERR_NO_STORAGE_VOL) {
                                r = lv_fail(err, c, "volume", have->name, "cannot delete");
                                goto out;
                        }
                } else if (lv_last_code() != VIR_ERR_NO_STORAGE_VOL) {
                        r = lv_fail(err, c, "volume", have->name, "cannot look it up");
                        goto out;
                }
        }
        /* Markers last: until the data is gone it stays marked as vcm's. */
        r = lv_vol_marks_delete(c, pool, names, n, have->name, NULL, err);
out:
        lv_names_free(names, n);
        return r;
}
