/* The lvm provider's vtable: observe, create (with the cluster-wide free-space check and the
 * image copy), grow, wipe-and-remove. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvm_internal.h"
#include "reconciler/props.h"

static const char *vg_for(const vcm_site *site, const vcm_host *host) {
        if (host->volume_group)
                return host->volume_group;
        if (site->storage_backend != VCM_STORAGE_LVM ||
            !(host->roles & (VCM_ROLE_VM_SERVER | VCM_ROLE_GATEWAY)))
                return NULL;
        /* lvm backend: a VM host without its own volumeGroup uses the storage host's VG name. */
        for (size_t i = 0; i < site->n_hosts; i++)
                if ((site->hosts[i].roles & VCM_ROLE_STORAGE) && site->hosts[i].volume_group)
                        return site->hosts[i].volume_group;
        return NULL;
}

static int lvm_open(const vcm_site *site, const vcm_host *host, void **ret_conn, vcm_error *err) {
        (void)err;
        if (site->storage_backend == VCM_STORAGE_FILE)
                return -EOPNOTSUPP;
        const char *vg = vg_for(site, host);
        if (!vg)
                return -EOPNOTSUPP;
        lvm_conn *c = xcalloc(1, sizeof(*c));
        c->host = xstrdup(host->name);
        c->vg = xstrdup(vg);
        pthread_mutex_init(&c->lock, NULL);
        *ret_conn = c;
        return 0;
}

static void lvm_close(void *conn) {
        lvm_conn *c = conn;
        if (!c)
                return;
        vcm_strmap_clear(&c->reserved);
        pthread_mutex_destroy(&c->lock);
        free(c->host);
        free(c->vg);
        free(c);
}

/* Runs `lvm ARGS...`; a non-zero exit is -EIO with lvm's own message. */
static int lvm_cmd(lvm_conn *c, const char *const argv[], char **ret_out, const char *what,
                   const char *name, vcm_error *err) {
        _cleanup_free_ char *out = NULL, *msg = NULL;
        int r = lvm_run(argv, &out, &msg);
        if (r < 0) {
                vcm_error_set(err, "host %s: volume %s: cannot run %s: %s", c->host, name,
                              argv[0], strerror(-r));
                return r;
        }
        if (r != 0) {
                vcm_error_set(err, "host %s: volume %s: %s failed (exit %d): %s", c->host, name,
                              what, r, *msg ? msg : "no message");
                return strstr(msg, "not found") ? -ENOENT
                       : strstr(msg, "insufficient free space") ? -ENOSPC : -EIO;
        }
        if (ret_out)
                *ret_out = TAKE_PTR(out);
        return 0;
}

/* An lvs/vgs report of the conn's VG; a missing VG is -ENOENT with what to do about it. */
static int lvm_report(lvm_conn *c, const char *const argv[], char **ret_out, vcm_error *err) {
        int r = lvm_cmd(c, argv, ret_out, argv[1], c->vg, err);
        if (r == -ENOENT)
                vcm_error_set(err, "host %s: volume group %s not found (create it with "
                              "pvcreate and vgcreate, or fix volumeGroup in site.yaml)",
                              c->host, c->vg);
        return r;
}

int lvm_list(lvm_conn *c, lvm_lv **ret, size_t *ret_n, vcm_error *err) {
        const char *argv[] = { LVM_BIN, "lvs", "--reportformat", "json", "--units", "b",
                               "--nosuffix", "-o",
                               "lv_name,vg_name,lv_uuid,lv_size,lv_tags,lv_path,lv_attr,"
                               "vg_free,vg_extent_size",
                               c->vg, NULL };
        _cleanup_free_ char *out = NULL;
        int r = lvm_report(c, argv, &out, err);
        if (r < 0)
                return r;
        vcm_error perr;
        r = lvm_report_parse_lvs(out, ret, ret_n, &perr);
        if (r < 0)
                vcm_error_set(err, "host %s: VG %s: %s", c->host, c->vg, perr.message);
        return r;
}

int lvm_vg_info(lvm_conn *c, lvm_vg *ret, vcm_error *err) {
        const char *argv[] = { LVM_BIN, "vgs", "--reportformat", "json", "--units", "b",
                               "--nosuffix", "-o", "vg_name,vg_size,vg_free,vg_extent_size",
                               c->vg, NULL };
        _cleanup_free_ char *out = NULL;
        int r = lvm_report(c, argv, &out, err);
        if (r < 0)
                return r;
        vcm_error perr;
        r = lvm_report_parse_vg(out, c->vg, ret, &perr);
        if (r < 0)
                vcm_error_set(err, "host %s: %s", c->host, perr.message);
        return r;
}

typedef struct lv_list {
        lvm_lv *v;
        size_t n;
} lv_list;

static void lv_list_clear(lv_list *l) {
        lvm_lvs_free(l->v, l->n);
        *l = (lv_list){ 0 };
}

static const lvm_lv *lv_find(const lv_list *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].name, name) == 0)
                        return &l->v[i];
        return NULL;
}

static int lvm_observe(vcm_host_ctx *ctx, vcm_resource_set *out, vcm_error *err) {
        lvm_conn *c = ctx->conn;
        _cleanup_(lv_list_clear) lv_list l = { 0 };
        vcm_error lerr;
        int r = lvm_list(c, &l.v, &l.n, &lerr);
        if (r == -ENOENT)
                return 0; /* no VG, so nothing of vcm's: creates say why they fail */
        if (r < 0) {
                *err = lerr;
                return r;
        }
        for (size_t i = 0; i < l.n; i++) {
                r = lvm_lv_to_resource(&l.v[i], c->host, out);
                if (r < 0) {
                        vcm_error_set(err, "host %s: two LVs named %s", c->host, l.v[i].name);
                        return r;
                }
        }
        return 0;
}

static bool lv_name_valid(const char *s) {
        if (!s || !*s || *s == '-' || strlen(s) > 127)
                return false;
        for (; *s; s++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+_.-",
                            *s))
                        return false;
        return true;
}

static uint64_t prop_u64(const vcm_resource *r, const char *key) {
        const char *v = vcm_resource_prop(r, key);
        if (!v)
                return 0;
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        return *end ? 0 : n;
}

/* Bytes the cluster's LVs in the VG take now. */
static uint64_t cluster_used(const lv_list *l, const char *cluster) {
        uint64_t used = 0;
        for (size_t i = 0; i < l->n; i++) {
                const char *t = lvm_lv_tag(&l->v[i], VCM_LVM_TAG_CLUSTER);
                if (t && strcmp(t, cluster) == 0)
                        used += l->v[i].size;
        }
        return used;
}

/* Caller holds c->lock. Refuses (-ENOSPC) unless the VG holds what this cluster still needs
 * plus what other clusters being created in this pass still need. */
static int check_room(lvm_conn *c, const vcm_resource *want, uint64_t size, const lv_list *l,
                      vcm_error *err) {
        lvm_vg vg;
        int r = lvm_vg_info(c, &vg, err);
        if (r < 0)
                return r;
        uint64_t total = prop_u64(want, "meta.cluster-bytes");
        if (total < size)
                total = size;
        vcm_strmap_put(&c->reserved, want->cluster, (void *)(uintptr_t)total);
        uint64_t used = cluster_used(l, want->cluster);
        uint64_t need = total > used ? total - used : size;
        uint64_t others = 0;
        for (size_t i = 0; i < c->reserved.cap; i++) {
                if (!c->reserved.keys || !c->reserved.keys[i] ||
                    strcmp(c->reserved.keys[i], want->cluster) == 0)
                        continue;
                uint64_t t = (uint64_t)(uintptr_t)c->reserved.vals[i];
                uint64_t u = cluster_used(l, c->reserved.keys[i]);
                others += t > u ? t - u : 0;
        }
        if (vg.free >= need + others)
                return 0;
        char f[32], n[32], o[32];
        vcm_format_size(vg.free, f, sizeof(f));
        vcm_format_size(need, n, sizeof(n));
        vcm_format_size(others, o, sizeof(o));
        vcm_error_set(err, "host %s: volume %s: volume group %s has %s free but cluster %s "
                      "needs %s more%s%s%s; nothing of it was created (free space in %s or "
                      "make the cluster smaller)",
                      c->host, want->name, c->vg, f, want->cluster, n,
                      others ? " (and " : "", others ? o : "",
                      others ? " is promised to clusters being created)" : "", c->vg);
        return -ENOSPC;
}

static int tag_arg(char *buf, size_t len, const char *prefix, const char *value) {
        if (snprintf(buf, len, "%s%s", prefix, value) >= (int)len || !lvm_tag_valid(buf))
                return -EINVAL;
        return 0;
}

/* Copy the image and then mark the copy complete (one metadata update swaps the tags). */
static int finish_clone(lvm_conn *c, const char *vg, const char *name, const char *clone,
                        const lv_list *l, vcm_error *err) {
        const lvm_lv *src = lv_find(l, clone);
        _cleanup_free_ char *dst = xasprintf("/dev/%s/%s", vg, name);
        _cleanup_free_ char *from = xasprintf("/dev/%s/%s", vg, clone);
        vcm_error cerr;
        int r = src ? lvm_copy_device(src->path && *src->path ? src->path : from, dst, &cerr)
                    : -ENOENT;
        if (r < 0) {
                vcm_error_set(err, "host %s: volume %s: %s", c->host, name, cerr.message);
                return r;
        }
        char pending[1100], done[1100];
        tag_arg(pending, sizeof(pending), VCM_LVM_TAG_COPYING, clone);
        tag_arg(done, sizeof(done), VCM_LVM_TAG_CLONE, clone);
        _cleanup_free_ char *lv = xasprintf("%s/%s", vg, name);
        const char *argv[] = { LVM_BIN, "lvchange", "--deltag", pending, "--addtag", done, lv,
                               NULL };
        return lvm_cmd(c, argv, NULL, "lvchange (marking the image copy complete)", name, err);
}

static int lvm_create(vcm_host_ctx *ctx, const vcm_resource *want, vcm_error *err) {
        lvm_conn *c = ctx->conn;
        const char *vg = vcm_resource_prop(want, "pool");
        const char *clone = vcm_resource_prop(want, "clone");
        uint64_t size = prop_u64(want, "size");
        char tcluster[1100], tsize[64], tclone[1100];
        if (!vg || strcmp(vg, c->vg) != 0 || !lv_name_valid(want->name) || !size ||
            tag_arg(tcluster, sizeof(tcluster), VCM_LVM_TAG_CLUSTER, want->cluster) < 0 ||
            (clone && (tag_arg(tclone, sizeof(tclone), VCM_LVM_TAG_COPYING, clone) < 0 ||
                       !lv_name_valid(clone)))) {
                vcm_error_set(err, "host %s: volume %s: bad request (VG %s, size %s, clone %s)",
                              c->host, want->name, vg ? vg : "(none)",
                              vcm_resource_prop(want, "size") ?: "(none)", clone ?: "(none)");
                return -EINVAL;
        }
        snprintf(tsize, sizeof(tsize), VCM_LVM_TAG_SIZE "%llu", (unsigned long long)size);

        pthread_mutex_lock(&c->lock);
        _cleanup_(lv_list_clear) lv_list l = { 0 };
        int r = lvm_list(c, &l.v, &l.n, err);
        const lvm_lv *have = r < 0 ? NULL : lv_find(&l, want->name);
        if (r >= 0 && have) {
                /* Created by an earlier attempt, or someone else's LV with our name. */
                const char *owner = lvm_lv_tag(have, VCM_LVM_TAG_CLUSTER);
                if (!owner || strcmp(owner, want->cluster) != 0) {
                        vcm_error_set(err, "host %s: volume %s: an LV of that name exists in "
                                      "VG %s without vcm's tag for cluster %s; vcm leaves it "
                                      "alone (rename or remove it)",
                                      c->host, want->name, vg, want->cluster);
                        r = -EEXIST;
                } else if (clone && !lvm_lv_tag(have, VCM_LVM_TAG_CLONE)) {
                        r = finish_clone(c, vg, want->name, clone, &l, err);
                }
                pthread_mutex_unlock(&c->lock);
                return r;
        }
        const lvm_lv *image = r >= 0 && clone ? lv_find(&l, clone) : NULL;
        if (r >= 0 && clone && !image) {
                vcm_error_set(err, "host %s: volume %s: the appliance image volume %s is not "
                              "in VG %s (images: in site.yaml)", c->host, want->name, clone, vg);
                r = -ENOENT;
        } else if (r >= 0 && image && image->size > size) {
                /* A copy cut short would leave a disk whose file systems end past its end. */
                char have_s[32], need_s[32];
                vcm_format_size(size, have_s, sizeof(have_s));
                vcm_format_size(image->size, need_s, sizeof(need_s));
                vcm_error_set(err, "host %s: volume %s: the disk (%s) is smaller than its "
                              "appliance image %s (%s); give the nodes a disk of at least %s",
                              c->host, want->name, have_s, clone, need_s, need_s);
                r = -EFBIG;
        }
        if (r >= 0)
                r = check_room(c, want, size, &l, err);
        if (r >= 0) {
                char sz[32];
                snprintf(sz, sizeof(sz), "%llub", (unsigned long long)size);
                const char *argv[20] = { LVM_BIN, "lvcreate", "-y", "-Wy", "-Zy", "-n",
                                         want->name, "-L", sz, "--addtag", tcluster,
                                         "--addtag", tsize };
                size_t n = 13;
                if (clone) {
                        argv[n++] = "--addtag";
                        argv[n++] = tclone;
                }
                argv[n++] = vg;
                argv[n] = NULL;
                r = lvm_cmd(c, argv, NULL, "lvcreate", want->name, err);
        }
        pthread_mutex_unlock(&c->lock);
        if (r >= 0 && clone)
                r = finish_clone(c, vg, want->name, clone, &l, err);
        return r;
}

static int lvm_update(vcm_host_ctx *ctx, const vcm_resource *want, const vcm_resource *have,
                      vcm_error *err) {
        lvm_conn *c = ctx->conn;
        uint64_t size = prop_u64(want, "size"), old = prop_u64(have, "size");
        if (size < old) {
                vcm_error_set(err, "host %s: volume %s: shrinking from %llu to %llu bytes is "
                              "refused (it would cut off data)", c->host, want->name,
                              (unsigned long long)old, (unsigned long long)size);
                return -EPERM;
        }
        if (size == old)
                return 0; /* only the clone source changed: used at creation only */
        _cleanup_(lv_list_clear) lv_list l = { 0 };
        int r = lvm_list(c, &l.v, &l.n, err);
        if (r < 0)
                return r;
        const lvm_lv *lv = lv_find(&l, want->name);
        const char *owner = lv ? lvm_lv_tag(lv, VCM_LVM_TAG_CLUSTER) : NULL;
        if (!owner || strcmp(owner, want->cluster) != 0) {
                vcm_error_set(err, "host %s: volume %s: no LV of cluster %s by that name in %s",
                              c->host, want->name, want->cluster, c->vg);
                return -ENOENT;
        }
        _cleanup_free_ char *path = xasprintf("%s/%s", c->vg, want->name);
        char sz[32], tnew[64], told[64];
        snprintf(sz, sizeof(sz), "%llub", (unsigned long long)size);
        snprintf(tnew, sizeof(tnew), VCM_LVM_TAG_SIZE "%llu", (unsigned long long)size);
        if (lv->size < size) {
                const char *argv[] = { LVM_BIN, "lvextend", "-L", sz, path, NULL };
                r = lvm_cmd(c, argv, NULL, "lvextend", want->name, err);
                if (r < 0)
                        return r;
        }
        const char *t = lvm_lv_tag(lv, VCM_LVM_TAG_SIZE);
        snprintf(told, sizeof(told), VCM_LVM_TAG_SIZE "%s", t ? t : "0");
        const char *argv[] = { LVM_BIN, "lvchange", "--deltag", told, "--addtag", tnew, path,
                               NULL };
        return lvm_cmd(c, argv, NULL, "lvchange (size tag)", want->name, err);
}

static int lvm_delete(vcm_host_ctx *ctx, const vcm_resource *have, vcm_error *err) {
        lvm_conn *c = ctx->conn;
        _cleanup_(lv_list_clear) lv_list l = { 0 };
        int r = lvm_list(c, &l.v, &l.n, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        const lvm_lv *lv = lv_find(&l, have->name);
        if (!lv)
                return 0;
        const char *owner = lvm_lv_tag(lv, VCM_LVM_TAG_CLUSTER);
        if (!owner || strcmp(owner, have->cluster) != 0) {
                vcm_error_set(err, "host %s: volume %s: the LV no longer carries vcm's tag for "
                              "cluster %s; left alone", c->host, have->name, have->cluster);
                return -EPERM;
        }
        _cleanup_free_ char *dev = xasprintf("/dev/%s/%s", c->vg, have->name);
        vcm_error werr;
        r = lvm_wipe_device(*lv->path ? lv->path : dev, &werr);
        if (r < 0) {
                vcm_error_set(err, "host %s: volume %s: not removed, the wipe failed: %s",
                              c->host, have->name, werr.message);
                return r;
        }
        _cleanup_free_ char *path = xasprintf("%s/%s", c->vg, have->name);
        const char *argv[] = { LVM_BIN, "lvremove", "-y", path, NULL };
        return lvm_cmd(c, argv, NULL, "lvremove", have->name, err);
}

static vcm_change lvm_classify(vcm_kind kind, const char *key, const char *old_value,
                               const char *new_value, const char **ret_reason) {
        const char *reason = NULL;
        vcm_change ch = VCM_CHANGE_REFUSED;
        if (strncmp(key, VCM_PROP_META_PREFIX, strlen(VCM_PROP_META_PREFIX)) == 0) {
                ch = VCM_CHANGE_LIVE;
        } else if (kind != VCM_KIND_VOLUME) {
                ch = VCM_CHANGE_REPLACE;
        } else if (strcmp(key, "size") == 0) {
                unsigned long long o = old_value ? strtoull(old_value, NULL, 10) : 0;
                unsigned long long n = new_value ? strtoull(new_value, NULL, 10) : 0;
                if (n < o) {
                        reason = "shrinking a volume is refused: it would cut off its data";
                } else {
                        ch = VCM_CHANGE_LIVE;
                        reason = "lvextend";
                }
        } else if (strcmp(key, "clone") == 0) {
                if (old_value && strncmp(old_value, "incomplete:", 11) == 0) {
                        ch = VCM_CHANGE_REPLACE;
                        reason = "the copy of the image did not finish";
                } else {
                        ch = VCM_CHANGE_LIVE;
                        reason = "the clone source is only used when a volume is created";
                }
        } else {
                reason = "moving a volume to another volume group or backend loses data";
        }
        if (ret_reason)
                *ret_reason = reason;
        return ch;
}

const vcm_provider vcm_provider_lvm = {
        .name = "lvm",
        .kinds = 1u << VCM_KIND_VOLUME,
        .open = lvm_open,
        .close = lvm_close,
        .observe = lvm_observe,
        .create = lvm_create,
        .update = lvm_update,
        .delete = lvm_delete,
        .classify = lvm_classify,
};
