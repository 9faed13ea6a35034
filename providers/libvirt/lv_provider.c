/* The provider vtable: dispatch by kind, and what each property change needs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lv.h"
#include "reconciler/props.h"

static int lv_observe(vcm_host_ctx *ctx, vcm_resource_set *out, vcm_error *err) {
        return lv_observe_host(lv_from_ctx(ctx), out, err);
}

static int lv_unsupported(lv_conn *c, const vcm_resource *res, vcm_error *err) {
        vcm_error_set(err, "host %s: %s %s: the libvirt provider does not manage this kind",
                      c->host, vcm_kind_name(res->kind), res->name);
        return -EOPNOTSUPP;
}

static int lv_create(vcm_host_ctx *ctx, const vcm_resource *want, vcm_error *err) {
        lv_conn *c = lv_from_ctx(ctx);
        switch (want->kind) {
        case VCM_KIND_DOMAIN:
                return lv_domain_create(c, want, err);
        case VCM_KIND_VOLUME:
                return lv_volume_create(c, want, NULL, err);
        case VCM_KIND_SEED:
                return lv_seed_create(c, want, NULL, err);
        case VCM_KIND_BRIDGE:
                return lv_network_create(c, want, err);
        default:
                return lv_unsupported(c, want, err);
        }
}

static int lv_update(vcm_host_ctx *ctx, const vcm_resource *want, const vcm_resource *have,
                     vcm_error *err) {
        lv_conn *c = lv_from_ctx(ctx);
        switch (want->kind) {
        case VCM_KIND_DOMAIN:
                return lv_domain_update(c, want, have, err);
        case VCM_KIND_VOLUME:
                return lv_volume_update(c, want, have, err);
        case VCM_KIND_SEED:
                return lv_seed_create(c, want, have, err); /* written again whole */
        case VCM_KIND_BRIDGE:
                /* Only the mark can change in place (netid changes are REPLACE). */
                return lv_network_create(c, want, err);
        default:
                return lv_unsupported(c, want, err);
        }
}

static int lv_delete(vcm_host_ctx *ctx, const vcm_resource *have, vcm_error *err) {
        lv_conn *c = lv_from_ctx(ctx);
        switch (have->kind) {
        case VCM_KIND_DOMAIN:
                return lv_domain_delete(c, have, err);
        case VCM_KIND_VOLUME:
                return lv_volume_delete(c, have, err);
        case VCM_KIND_SEED:
                return lv_seed_delete(c, have, err);
        case VCM_KIND_BRIDGE:
                return lv_network_delete(c, have, err);
        default:
                return lv_unsupported(c, have, err);
        }
}

static int lv_cmp_u64(const char *a, const char *b) {
        unsigned long long x = a ? strtoull(a, NULL, 10) : 0, y = b ? strtoull(b, NULL, 10) : 0;
        return x < y ? -1 : x > y;
}

static vcm_change lv_classify(vcm_kind kind, const char *key, const char *old_value,
                              const char *new_value, const char **ret_reason) {
        const char *reason = NULL;
        vcm_change ch = VCM_CHANGE_REPLACE;
        if (strncmp(key, VCM_PROP_META_PREFIX, strlen(VCM_PROP_META_PREFIX)) == 0) {
                ch = VCM_CHANGE_LIVE;
        } else if (kind == VCM_KIND_DOMAIN) {
                if (strcmp(key, "state") == 0 || strcmp(key, "node") == 0 ||
                    strcmp(key, "appliance") == 0) {
                        ch = VCM_CHANGE_LIVE; /* start/stop, or vcm's metadata only */
                } else if (strcmp(key, "seed.digest") == 0) {
                        ch = VCM_CHANGE_RESTART;
                        reason = "the guest reads its new seed when it restarts";
                } else {
                        /* vcpus, memory, disks, NICs, boot: redefine, then restart. */
                        ch = VCM_CHANGE_RESTART;
                        reason = "the domain is redefined and restarted";
                }
        } else if (kind == VCM_KIND_VOLUME) {
                if (strcmp(key, "size") == 0) {
                        if (lv_cmp_u64(new_value, old_value) < 0) {
                                ch = VCM_CHANGE_REFUSED;
                                reason = "shrinking a volume loses data";
                        } else {
                                ch = VCM_CHANGE_LIVE;
                        }
                } else if (strcmp(key, "clone") == 0) {
                        ch = VCM_CHANGE_LIVE;
                        reason = "the clone source is only used when a volume is created";
                } else {
                        ch = VCM_CHANGE_REFUSED;
                        reason = "moving a volume to another pool or backend loses data";
                }
        } else if (kind == VCM_KIND_BRIDGE) {
                ch = VCM_CHANGE_REPLACE;
        } else if (kind == VCM_KIND_SEED) {
                /* The image is written again in place; its domain restarts for it. */
                ch = strcmp(key, "digest") == 0 ? VCM_CHANGE_LIVE : VCM_CHANGE_REPLACE;
                if (ch == VCM_CHANGE_LIVE)
                        reason = "the seed image is written again";
        }
        if (ret_reason)
                *ret_reason = reason;
        return ch;
}

/* Domains can be read alone; volumes and networks only by relisting the host. */
static int lv_observe_one(vcm_host_ctx *ctx, vcm_kind kind, const char *name,
                          vcm_resource_set *out, vcm_error *err) {
        if (kind != VCM_KIND_DOMAIN)
                return -EOPNOTSUPP;
        return lv_domain_observe_name(lv_from_ctx(ctx), name, out, err);
}

const vcm_provider vcm_provider_libvirt = {
        .name = "libvirt",
        .kinds = (1u << VCM_KIND_DOMAIN) | (1u << VCM_KIND_VOLUME) | (1u << VCM_KIND_BRIDGE) |
                 (1u << VCM_KIND_SEED),
        .open = lv_open,
        .close = lv_close,
        .observe = lv_observe,
        .create = lv_create,
        .update = lv_update,
        .delete = lv_delete,
        .classify = lv_classify,
        .watch_open = lv_watch_open,
        .watch_read = lv_watch_read,
        .watch_close = lv_watch_close,
        .observe_one = lv_observe_one,
};
