/* The lio provider's vtable: iscsi-target, iscsi-lun (with its backstore) and iscsi-acl. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lio_internal.h"
#include "reconciler/props.h"

typedef struct lio_conn {
        char *host;
        lio_root root;
        /* configfs changes and the save file are serialised per host. */
        pthread_mutex_t lock;
} lio_conn;

static int lio_open(const vcm_site *site, const vcm_host *host, void **ret_conn,
                    vcm_error *err) {
        (void)err;
        if (site->storage_backend != VCM_STORAGE_LVM_ISCSI || !(host->roles & VCM_ROLE_STORAGE) ||
            !host->portal)
                return -EOPNOTSUPP;
        lio_conn *c = xcalloc(1, sizeof(*c));
        c->host = xstrdup(host->name);
        c->root = (lio_root){ .dir = VCM_LIO_ROOT, .savefile = VCM_LIO_SAVEFILE,
                              .lockfile = VCM_LIO_LOCKFILE };
        pthread_mutex_init(&c->lock, NULL);
        *ret_conn = c;
        return 0;
}

static void lio_close(void *conn) {
        lio_conn *c = conn;
        if (!c)
                return;
        pthread_mutex_destroy(&c->lock);
        free(c->host);
        free(c);
}

static int lio_observe(vcm_host_ctx *ctx, vcm_resource_set *out, vcm_error *err) {
        lio_conn *c = ctx->conn;
        vcm_error e;
        /* Without configfs or the target modules nothing of vcm's can be exported: observe
         * nothing, and let creates fail with the reason. */
        if (lio_check(&c->root, &e) < 0)
                return 0;
        pthread_mutex_lock(&c->lock);
        int r = lio_scan(&c->root, c->host, out, err);
        pthread_mutex_unlock(&c->lock);
        return r;
}

static int ensure(lio_conn *c, const vcm_resource *want, vcm_error *e) {
        const char *target = vcm_resource_prop(want, "target");
        switch (want->kind) {
        case VCM_KIND_ISCSI_TARGET: {
                const char *portal = vcm_resource_prop(want, "portal");
                if (!portal) {
                        vcm_error_set(e, "no portal");
                        return -EINVAL;
                }
                return lio_target_ensure(&c->root, want->name, portal, e);
        }
        case VCM_KIND_ISCSI_LUN: {
                const char *dev = vcm_resource_prop(want, "device");
                const char *lun = vcm_resource_prop(want, "lun");
                _cleanup_free_ char *bs = lio_backstore_name(want->cluster, want->name);
                if (!dev || !lun || !target || !bs) {
                        vcm_error_set(e, "needs device, lun and target props and a volume "
                                      "name that starts with its cluster's");
                        return -EINVAL;
                }
                int r = lio_backstore_ensure(&c->root, bs, dev, e);
                if (r < 0)
                        return r;
                return lio_lun_ensure(&c->root, target, (unsigned)strtoul(lun, NULL, 10), bs, e);
        }
        case VCM_KIND_ISCSI_ACL: {
                const char *init = vcm_resource_prop(want, "initiator");
                _cleanup_free_ unsigned *luns = NULL;
                size_t n = 0;
                if (!init || !target ||
                    lio_luns_parse(vcm_resource_prop(want, "luns"), &luns, &n) < 0) {
                        vcm_error_set(e, "needs target, initiator and luns props");
                        return -EINVAL;
                }
                return lio_acl_ensure(&c->root, target, init, luns, n, e);
        }
        default:
                vcm_error_set(e, "the lio provider does not manage this kind");
                return -EOPNOTSUPP;
        }
}

static int removal(lio_conn *c, const vcm_resource *have, vcm_error *e) {
        const char *target = vcm_resource_prop(have, "target");
        switch (have->kind) {
        case VCM_KIND_ISCSI_TARGET:
                return lio_target_remove(&c->root, have->name, e);
        case VCM_KIND_ISCSI_LUN: {
                const char *lun = vcm_resource_prop(have, "lun");
                int r = 0;
                if (target && lun)
                        r = lio_lun_remove(&c->root, target, (unsigned)strtoul(lun, NULL, 10), e);
                _cleanup_free_ char *bs = lio_backstore_name(have->cluster, have->name);
                if (r >= 0 && bs)
                        r = lio_backstore_remove(&c->root, bs, e);
                return r;
        }
        case VCM_KIND_ISCSI_ACL: {
                const char *init = vcm_resource_prop(have, "initiator");
                return target && init ? lio_acl_remove(&c->root, target, init, e) : 0;
        }
        default:
                vcm_error_set(e, "the lio provider does not manage this kind");
                return -EOPNOTSUPP;
        }
}

/* Run a change, then save the configuration for targetctl; errors name host and resource. */
static int change(vcm_host_ctx *ctx, const vcm_resource *res, bool remove, vcm_error *err) {
        lio_conn *c = ctx->conn;
        vcm_error e = { { 0 } };
        int r = lio_check(&c->root, &e);
        if (r < 0) {
                vcm_error_set(err, "host %s: %s %s: %s", c->host, vcm_kind_name(res->kind),
                              res->name, e.message);
                return r;
        }
        pthread_mutex_lock(&c->lock);
        r = remove ? removal(c, res, &e) : ensure(c, res, &e);
        const char *what = "";
        if (r >= 0) {
                r = lio_save(&c->root, &e);
                what = "saving the configuration for reboots: ";
        }
        pthread_mutex_unlock(&c->lock);
        if (r < 0)
                vcm_error_set(err, "host %s: %s %s: %s%s", c->host, vcm_kind_name(res->kind),
                              res->name, what, e.message);
        return r;
}

static int lio_create(vcm_host_ctx *ctx, const vcm_resource *want, vcm_error *err) {
        return change(ctx, want, false, err);
}

static int lio_update(vcm_host_ctx *ctx, const vcm_resource *want, const vcm_resource *have,
                      vcm_error *err) {
        (void)have;
        return change(ctx, want, false, err);
}

static int lio_delete(vcm_host_ctx *ctx, const vcm_resource *have, vcm_error *err) {
        return change(ctx, have, true, err);
}

static vcm_change lio_classify(vcm_kind kind, const char *key, const char *old_value,
                               const char *new_value, const char **ret_reason) {
        (void)old_value;
        (void)new_value;
        const char *reason = NULL;
        vcm_change ch = VCM_CHANGE_LIVE;
        if (strncmp(key, VCM_PROP_META_PREFIX, strlen(VCM_PROP_META_PREFIX)) == 0)
                ch = VCM_CHANGE_LIVE;
        else if (kind == VCM_KIND_ISCSI_TARGET)
                reason = "the missing or wrong pieces of the target are made again";
        else if (kind == VCM_KIND_ISCSI_ACL && strcmp(key, "luns") == 0)
                reason = "mapped LUNs are added or removed";
        else if (kind == VCM_KIND_ISCSI_LUN && old_value == NULL)
                reason = "the export is completed";
        else {
                ch = VCM_CHANGE_REPLACE;
                reason = "the export is made again";
        }
        if (ret_reason)
                *ret_reason = reason;
        return ch;
}

const vcm_provider vcm_provider_lio = {
        .name = "lio",
        .kinds = (1u << VCM_KIND_ISCSI_TARGET) | (1u << VCM_KIND_ISCSI_LUN) |
                 (1u << VCM_KIND_ISCSI_ACL),
        .open = lio_open,
        .close = lio_close,
        .observe = lio_observe,
        .create = lio_create,
        .update = lio_update,
        .delete = lio_delete,
        .classify = lio_classify,
};
