/* The provider vtable: dispatch by kind, and what each property change needs. */
#include <errno.h>
#include <string.h>

#include "nl.h"
#include "reconciler/props.h"

static nl_conn *nl_from_ctx(vcm_host_ctx *ctx) {
        return ctx->conn;
}

static int nl_unsupported(nl_conn *c, const vcm_resource *res, vcm_error *err) {
        vcm_error_set(err, "host %s: %s %s: the netlink provider does not manage this kind",
                      c->host, vcm_kind_name(res->kind), res->name);
        return -EOPNOTSUPP;
}

static int nl_observe_host(vcm_host_ctx *ctx, vcm_resource_set *out, vcm_error *err) {
        return nlp_observe(nl_from_ctx(ctx), out, err);
}

static int nl_create(vcm_host_ctx *ctx, const vcm_resource *want, vcm_error *err) {
        nl_conn *c = nl_from_ctx(ctx);
        switch (want->kind) {
        case VCM_KIND_VLAN_LINK:
                return nlp_vlan_ensure(c, want, err);
        case VCM_KIND_BRIDGE:
                return nlp_bridge_ensure(c, want, err);
        default:
                return nl_unsupported(c, want, err);
        }
}

/* Only live changes reach update (state, the bridge's port, the mark): ensure does them all. */
static int nl_update(vcm_host_ctx *ctx, const vcm_resource *want, const vcm_resource *have,
                     vcm_error *err) {
        (void)have;
        return nl_create(ctx, want, err);
}

static int nl_delete(vcm_host_ctx *ctx, const vcm_resource *have, vcm_error *err) {
        nl_conn *c = nl_from_ctx(ctx);
        if (have->kind != VCM_KIND_VLAN_LINK && have->kind != VCM_KIND_BRIDGE)
                return nl_unsupported(c, have, err);
        return nlp_link_delete(c, have, err);
}

static vcm_change nl_classify(vcm_kind kind, const char *key, const char *old_value,
                              const char *new_value, const char **ret_reason) {
        (void)kind;
        (void)old_value;
        (void)new_value;
        const char *reason = NULL;
        vcm_change ch = VCM_CHANGE_REPLACE;
        if (strncmp(key, VCM_PROP_META_PREFIX, strlen(VCM_PROP_META_PREFIX)) == 0 ||
            strcmp(key, "state") == 0) {
                ch = VCM_CHANGE_LIVE;
        } else if (kind == VCM_KIND_BRIDGE && strcmp(key, "vlan-link") == 0) {
                ch = VCM_CHANGE_LIVE;
                reason = "the VLAN link is enslaved again";
        } else {
                /* trunk, VLAN id, network id: another link altogether */
                reason = "the link is deleted and made again";
        }
        if (ret_reason)
                *ret_reason = reason;
        return ch;
}

const vcm_provider vcm_provider_netlink = {
        .name = "netlink",
        .kinds = (1u << VCM_KIND_VLAN_LINK) | (1u << VCM_KIND_BRIDGE),
        .open = nlp_open,
        .close = nlp_close,
        .observe = nl_observe_host,
        .create = nl_create,
        .update = nl_update,
        .delete = nl_delete,
        .classify = nl_classify,
};
