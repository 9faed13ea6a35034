/* Seeds: a node's NoCloud image (built by providers/seed/) as the volume
 * "<name>.seed.iso" in vcm's pool, its bytes sent through libvirt's stream API
 * (virStorageVolUpload), which works the same for remote hosts.
 *
 * Ownership and state live in a zero-length marker volume next to it, as for volumes
 * (lv_volume.c):
 *     .vcm-seed.<SITE8>.<NAME>.<CLUSTER>.<DIGEST16 or "pending">
 * A write goes: "pending" marker (the data is vcm's before it exists), data deleted and uploaded
 * again, the digest marker, then every other marker of the name goes. Observation trusts a digest
 * only when it is the name's one marker and the data exists; otherwise the digest reads "-" and
 * the next pass writes the seed again, so a crash at any point never passes for converged. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "lv.h"
#include "providers/seed/seed_image.h"
#include "reconciler/props.h"
#include "reconciler/seed.h"
#include "specs/base/macro.h"

#define LV_SEED_MARK_PREFIX ".vcm-seed."
#define LV_SEED_PENDING "pending"

static void pool_freep(virStoragePoolPtr *p) {
        if (*p)
                virStoragePoolFree(*p);
}
static void vol_freep(virStorageVolPtr *v) {
        if (*v)
                virStorageVolFree(*v);
}

typedef struct lv_seed_mark {
        char *name, *cluster, *digest; /* digest: 16 hex, or LV_SEED_PENDING */
} lv_seed_mark;

static void lv_seed_mark_clear(lv_seed_mark *m) {
        free(m->name);
        free(m->cluster);
        free(m->digest);
        *m = (lv_seed_mark){ 0 };
}

static bool lv_seed_name_ok(const char *s) {
        if (!s || !*s || strlen(s) > 100)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
                        return false;
        return true;
}

static bool lv_digest_ok(const char *d) {
        return d && strlen(d) == 16 && strspn(d, "0123456789abcdef") == 16;
}

/* -EINVAL when `file` is not one of this site's seed markers. */
static int lv_seed_mark_parse(const lv_conn *c, const char *file, lv_seed_mark *ret) {
        size_t plen = strlen(LV_SEED_MARK_PREFIX);
        char tag[9];
        lv_site_tag(c->site, tag);
        if (strncmp(file, LV_SEED_MARK_PREFIX, plen) != 0 || strncmp(file + plen, tag, 8) != 0 ||
            file[plen + 8] != '.')
                return -EINVAL;
        const char *p = file + plen + 9, *d1 = strchr(p, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
        if (!d1 || !d2 || strchr(d2 + 1, '.'))
                return -EINVAL;
        lv_seed_mark m = { strndup(p, (size_t)(d1 - p)), strndup(d1 + 1, (size_t)(d2 - d1 - 1)),
                           strdup(d2 + 1) };
        if (!m.name || !m.cluster || !m.digest) {
                lv_seed_mark_clear(&m);
                return -ENOMEM;
        }
        if (!lv_seed_name_ok(m.name) || !lv_seed_name_ok(m.cluster) ||
            (!lv_digest_ok(m.digest) && strcmp(m.digest, LV_SEED_PENDING) != 0)) {
                lv_seed_mark_clear(&m);
                return -EINVAL;
        }
        *ret = m;
        return 0;
}

static void lv_seed_mark_name(const lv_conn *c, const char *name, const char *cluster,
                              const char *digest, char *buf, size_t len) {
        char tag[9];
        lv_site_tag(c->site, tag);
        snprintf(buf, len, LV_SEED_MARK_PREFIX "%s.%s.%s.%s", tag, name, cluster, digest);
}

int lv_seed_observe(lv_conn *c, const lv_pool_list *l, vcm_resource_set *out, vcm_error *err) {
        int r = 0;
        for (size_t i = 0; i < l->n && r >= 0; i++) {
                lv_seed_mark m = { 0 };
                if (lv_seed_mark_parse(c, l->vols[i].name, &m) < 0)
                        continue;
                vcm_resource *res = vcm_resource_set_put(out, VCM_KIND_SEED, c->host, m.name,
                                                         m.cluster);
                if (!res) {
                        /* A second marker of the name: the write did not finish. */
                        vcm_resource *have = NULL;
                        for (size_t k = vcm_resource_set_size(out); k-- > 0 && !have;) {
                                vcm_resource *x = vcm_resource_set_at_mut(out, k);
                                if (x->kind == VCM_KIND_SEED && strcmp(x->host, c->host) == 0 &&
                                    strcmp(x->name, m.name) == 0)
                                        have = x;
                        }
                        if (have) {
                                vcm_resource_set_prop(have, "digest", "-");
                                vcm_resource_rehash(have);
                        }
                        lv_seed_mark_clear(&m);
                        continue;
                }
                char data[160];
                snprintf(data, sizeof(data), "%s" VCM_SEED_VOLUME_SUFFIX, m.name);
                bool good = lv_digest_ok(m.digest) && lv_pool_list_find(l, data);
                vcm_resource_set_prop(res, "digest", good ? m.digest : "-");
                vcm_resource_set_prop(res, "pool", VCM_FILE_POOL);
                vcm_resource_rehash(res);
                lv_seed_mark_clear(&m);
        }
        return r;
}

/* Delete one marker of seed `name`; one already gone is fine. */
static int lv_seed_mark_drop(lv_conn *c, virStoragePoolPtr pool, const char *name,
                             const char *file, vcm_error *err) {
        _cleanup_(vol_freep) virStorageVolPtr v = virStorageVolLookupByName(pool, file);
        if (v && virStorageVolDelete(v, 0) < 0 && lv_last_code() != VIR_ERR_NO_STORAGE_VOL)
                return lv_fail(err, c, "seed", name, "cannot delete a marker");
        return 0;
}

/* Delete this site's markers of seed `name`, all but `keep` (NULL: all). */
static int lv_seed_marks_delete(lv_conn *c, virStoragePoolPtr pool, const char *name,
                                const char *keep, vcm_error *err) {
        char **names = NULL;
        size_t n = 0;
        int r = lv_pool_names(c, pool, &names, &n, NULL, err);
        for (size_t i = 0; i < n && r >= 0; i++) {
                lv_seed_mark m = { 0 };
                if (!names[i] || lv_seed_mark_parse(c, names[i], &m) < 0)
                        continue;
                if (strcmp(m.name, name) == 0 && (!keep || strcmp(names[i], keep) != 0))
                        r = lv_seed_mark_drop(c, pool, name, names[i], err);
                lv_seed_mark_clear(&m);
        }
        lv_names_free(names, n);
        return r;
}

/* A marker volume; one already there is fine (a retried write). */
static int lv_seed_mark_new(lv_conn *c, virStoragePoolPtr pool, const char *name,
                            vcm_error *err) {
        _cleanup_(vol_freep) virStorageVolPtr v = virStorageVolLookupByName(pool, name);
        if (v)
                return 0;
        int r = lv_vol_create_empty(c, pool, name, 0, NULL, err);
        return r < 0 && lv_last_code() == VIR_ERR_STORAGE_VOL_EXIST ? 0 : r;
}

typedef struct lv_seed_src {
        const unsigned char *buf;
        size_t len, off;
} lv_seed_src;

static int lv_seed_read(virStreamPtr st, char *data, size_t nbytes, void *opaque) {
        (void)st;
        lv_seed_src *s = opaque;
        size_t n = s->len - s->off < nbytes ? s->len - s->off : nbytes;
        memcpy(data, s->buf + s->off, n);
        s->off += n;
        return (int)n;
}

static int lv_seed_upload(lv_conn *c, virStorageVolPtr v, const char *name,
                          const unsigned char *buf, size_t len, vcm_error *err) {
        if (c->test_driver)
                return 0; /* no data behind the test driver's volumes */
        virStreamPtr st = virStreamNew(c->conn, 0);
        lv_seed_src src = { buf, len, 0 };
        int r = 0;
        if (!st || virStorageVolUpload(v, st, 0, len, 0) < 0 ||
            virStreamSendAll(st, lv_seed_read, &src) < 0 || virStreamFinish(st) < 0) {
                r = lv_fail(err, c, "seed", name, "cannot upload the image");
                if (st)
                        virStreamAbort(st);
        }
        if (st)
                virStreamFree(st);
        return r;
}

int lv_seed_create(lv_conn *c, const vcm_resource *want, const vcm_resource *have,
                   vcm_error *err) {
        const char *digest = vcm_resource_prop(want, "digest");
        const char *pool_name = vcm_resource_prop(want, "pool");
        if (!lv_seed_name_ok(want->name) || !lv_seed_name_ok(want->cluster) ||
            !lv_digest_ok(digest) || (pool_name && strcmp(pool_name, VCM_FILE_POOL) != 0)) {
                vcm_error_set(err,
                              "host %s: seed %s: the libvirt provider writes seeds in pool %s, "
                              "named [a-z0-9-], with a 16-digit digest",
                              c->host, want->name, VCM_FILE_POOL);
                return -EINVAL;
        }
        vcm_seed s = {
                .meta_data = (char *)vcm_resource_prop(want, VCM_SEED_PROP_META_DATA),
                .user_data = (char *)vcm_resource_prop(want, VCM_SEED_PROP_USER_DATA),
                .network_config = (char *)vcm_resource_prop(want, VCM_SEED_PROP_NETWORK_CONFIG),
        };
        if (!s.meta_data || !s.user_data || !s.network_config) {
                vcm_error_set(err, "host %s: seed %s: no seed content to write", c->host,
                              want->name);
                return -EINVAL;
        }
        vcm_seed_entry files[VCM_SEED_N_FILES];
        vcm_seed_entries(&s, files);
        _cleanup_free_ unsigned char *img = NULL;
        size_t len = 0;
        int r = vcm_seed_image_build(files, VCM_SEED_N_FILES, &img, &len);
        if (r < 0) {
                vcm_error_set(err, "host %s: seed %s: cannot build the ISO image: %s", c->host,
                              want->name, strerror(-r));
                return r;
        }

        _cleanup_(pool_freep) virStoragePoolPtr pool = NULL;
        r = lv_pool_get(c, true, &pool, err);
        if (r < 0)
                return r;
        char pending[256], mark[256], data[160];
        lv_seed_mark_name(c, want->name, want->cluster, LV_SEED_PENDING, pending, sizeof(pending));
        lv_seed_mark_name(c, want->name, want->cluster, digest, mark, sizeof(mark));
        snprintf(data, sizeof(data), "%s" VCM_SEED_VOLUME_SUFFIX, want->name);

        _cleanup_(vol_freep) virStorageVolPtr old = virStorageVolLookupByName(pool, data);
        if (old) {
                /* Only a marked seed is rewritten: someone else's file of that name stays. */
                char **names = NULL;
                size_t n = 0;
                bool marked = false;
                r = lv_pool_names(c, pool, &names, &n, NULL, err);
                for (size_t i = 0; i < n && r >= 0 && !marked; i++) {
                        lv_seed_mark m = { 0 };
                        if (names[i] && lv_seed_mark_parse(c, names[i], &m) == 0)
                                marked = strcmp(m.name, want->name) == 0;
                        lv_seed_mark_clear(&m);
                }
                lv_names_free(names, n);
                if (r < 0)
                        return r;
                if (!marked) {
                        vcm_error_set(err,
                                      "host %s: seed volume %s exists in pool %s without vcm's "
                                      "marker: it is not vcm's; vcm leaves it alone",
                                      c->host, data, VCM_FILE_POOL);
                        return -EPERM;
                }
        }
        r = lv_seed_mark_new(c, pool, pending, err);
        if (r < 0)
                return r;
        if (old && virStorageVolDelete(old, 0) < 0 && lv_last_code() != VIR_ERR_NO_STORAGE_VOL)
                return lv_fail(err, c, "seed", want->name, "cannot delete the old image");
        _cleanup_(vol_freep) virStorageVolPtr v = NULL;
        r = lv_vol_create_empty(c, pool, data, len, &v, err);
        if (r < 0)
                return r;
        r = lv_seed_upload(c, v, want->name, img, len, err);
        if (r < 0)
                return r;
        r = lv_seed_mark_new(c, pool, mark, err);
        if (r < 0)
                return r;
        /* A first write (nothing of that name observed, no image there) leaves only its own
         * "pending" marker behind: dropped by name, without listing the pool, whose cost grows
         * with the pool (creates at scale were quadratic). A rewrite lists it, for every
         * marker of the name. */
        if (!have && !old)
                return lv_seed_mark_drop(c, pool, want->name, pending, err);
        return lv_seed_marks_delete(c, pool, want->name, mark, err);
}

int lv_seed_delete(lv_conn *c, const vcm_resource *have, vcm_error *err) {
        if (!lv_seed_name_ok(have->name))
                return -EINVAL;
        _cleanup_(pool_freep) virStoragePoolPtr pool = NULL;
        int r = lv_pool_get(c, false, &pool, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        char data[160];
        snprintf(data, sizeof(data), "%s" VCM_SEED_VOLUME_SUFFIX, have->name);
        /* Observed, so marked: the data goes first, markers last. */
        _cleanup_(vol_freep) virStorageVolPtr v = virStorageVolLookupByName(pool, data);
        if (v) {
                if (virStorageVolWipe(v, 0) < 0 &&
                    !(c->test_driver && lv_last_code() == VIR_ERR_NO_SUPPORT))
                        return lv_fail(err, c, "seed", have->name, "cannot wipe");
                if (virStorageVolDelete(v, 0) < 0 && lv_last_code() != VIR_ERR_NO_STORAGE_VOL)
                        return lv_fail(err, c, "seed", have->name, "cannot delete");
        } else if (lv_last_code() != VIR_ERR_NO_STORAGE_VOL) {
                return lv_fail(err, c, "seed", have->name, "cannot look it up");
        }
        return lv_seed_marks_delete(c, pool, have->name, NULL, err);
}
