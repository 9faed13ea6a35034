/* Routed vtables: a host-side provider in-process for a host without `agent:`, through the host's
 * agent otherwise. open() is the only call that needs to know which provider it wraps (the others
 * find it in the connection), so each routed vtable differs from the others by its open(). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "providers/agent/agent_internal.h"
#include "reconciler/util.h"

#define VCM_AGENT_ROUTED_MAX 8

typedef struct routed_conn {
        const vcm_provider *local;
        void *local_conn;      /* in-process */
        agent_proc *agent;     /* through the agent: its process and our session in it */
        json_int_t session;
} routed_conn;

typedef struct slot {
        const vcm_provider *local;
        vcm_provider vt;
} slot;

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static slot slots[VCM_AGENT_ROUTED_MAX];

static vcm_host_ctx local_ctx(const vcm_host_ctx *ctx, const routed_conn *c) {
        return (vcm_host_ctx){ .site = ctx->site, .host = ctx->host, .conn = c->local_conn };
}

static int routed_open(const slot *s, const vcm_site *site, const vcm_host *host, void **ret_conn,
                       vcm_error *err) {
        const vcm_provider *local = s->local;
        if (!host->agent) {
                void *lc = NULL;
                if (local->open) {
                        int r = local->open(site, host, &lc, err);
                        if (r < 0)
                                return r;
                }
                routed_conn *c = xcalloc(1, sizeof(*c));
                *c = (routed_conn){ .local = local, .local_conn = lc };
                *ret_conn = c;
                return 0;
        }
        agent_proc *a = NULL;
        int r = agent_proc_get(host, &a, err);
        if (r < 0)
                return r;
        json_t *result = NULL;
        r = agent_proc_call(a, "open",
                            json_pack("{s:s,s:o,s:o}", "provider", local->name, "site",
                                      agent_json_site(site), "host", agent_json_str(host->name)),
                            &result, err);
        if (r == 0 && !json_is_integer(json_object_get(result, "session"))) {
                vcm_error_set(err, "agent on %s: open %s: reply without a session", host->name,
                              local->name);
                r = -EBADMSG;
        }
        if (r < 0) {
                json_decref(result);
                agent_proc_unref(a);
                return r;
        }
        routed_conn *c = xcalloc(1, sizeof(*c));
        *c = (routed_conn){ .local = local, .agent = a,
                            .session = json_integer_value(json_object_get(result, "session")) };
        json_decref(result);
        *ret_conn = c;
        return 0;
}

static void routed_close(void *conn) {
        routed_conn *c = conn;
        if (!c)
                return;
        if (c->agent) {
                vcm_error ignored;
                /* A dead agent took the session with it: nothing to close then. */
                agent_proc_call(c->agent, "close", json_pack("{s:I}", "session", c->session), NULL,
                                &ignored);
                agent_proc_unref(c->agent);
        } else if (c->local->close && c->local_conn) {
                c->local->close(c->local_conn);
        }
        free(c);
}

static int routed_observe(vcm_host_ctx *ctx, vcm_resource_set *out, vcm_error *err) {
        routed_conn *c = ctx->conn;
        if (!c->agent) {
                if (!c->local->observe)
                        return 0;
                vcm_host_ctx lctx = local_ctx(ctx, c);
                return c->local->observe(&lctx, out, err);
        }
        json_t *result = NULL;
        int r = agent_proc_call(c->agent, "observe", json_pack("{s:I}", "session", c->session),
                                &result, err);
        if (r < 0)
                return r;
        const json_t *list = json_object_get(result, "resources");
        if (!json_is_array(list)) {
                vcm_error_set(err, "agent on %s: observe %s: reply without resources",
                              agent_proc_host(c->agent), c->local->name);
                json_decref(result);
                return -EBADMSG;
        }
        size_t i;
        const json_t *v;
        json_array_foreach(list, i, v) {
                char why[256];
                r = agent_resource_from_json(v, out, "resource", why, sizeof(why));
                if (r < 0) {
                        vcm_error_set(err, "agent on %s: observe %s: resources[%zu]: %s",
                                      agent_proc_host(c->agent), c->local->name, i, why);
                        json_decref(result);
                        return -EBADMSG;
                }
        }
        json_decref(result);
        return 0;
}

static int remote_change(routed_conn *c, const char *op, const vcm_resource *res,
                         const vcm_resource *observed, vcm_error *err) {
        json_t *args = json_pack("{s:I,s:o}", "session", c->session, "resource",
                                 agent_json_resource(res));
        if (observed)
                json_object_set_new(args, "observed", agent_json_resource(observed));
        return agent_proc_call(c->agent, op, args, NULL, err);
}

static int routed_create(vcm_host_ctx *ctx, const vcm_resource *desired, vcm_error *err) {
        routed_conn *c = ctx->conn;
        if (c->agent)
                return remote_change(c, "create", desired, NULL, err);
        if (!c->local->create)
                return -EOPNOTSUPP;
        vcm_host_ctx lctx = local_ctx(ctx, c);
        return c->local->create(&lctx, desired, err);
}

static int routed_update(vcm_host_ctx *ctx, const vcm_resource *desired,
                         const vcm_resource *observed, vcm_error *err) {
        routed_conn *c = ctx->conn;
        if (c->agent)
                return remote_change(c, "update", desired, observed, err);
        if (!c->local->update)
                return -EOPNOTSUPP;
        vcm_host_ctx lctx = local_ctx(ctx, c);
        return c->local->update(&lctx, desired, observed, err);
}

static int routed_delete(vcm_host_ctx *ctx, const vcm_resource *observed, vcm_error *err) {
        routed_conn *c = ctx->conn;
        if (c->agent)
                return remote_change(c, "delete", observed, NULL, err);
        if (!c->local->delete)
                return -EOPNOTSUPP;
        vcm_host_ctx lctx = local_ctx(ctx, c);
        return c->local->delete(&lctx, observed, err);
}

/* One open() per slot, each knowing its slot. */
#define ROUTED_OPEN(i)                                                                             \
        static int routed_open_##i(const vcm_site *site, const vcm_host *host, void **ret_conn,   \
                                   vcm_error *err) {                                               \
                return routed_open(&slots[i], site, host, ret_conn, err);                          \
        }
ROUTED_OPEN(0)
ROUTED_OPEN(1)
ROUTED_OPEN(2)
ROUTED_OPEN(3)
ROUTED_OPEN(4)
ROUTED_OPEN(5)
ROUTED_OPEN(6)
ROUTED_OPEN(7)

typedef int (*open_fn)(const vcm_site *, const vcm_host *, void **, vcm_error *);
static const open_fn slot_opens[VCM_AGENT_ROUTED_MAX] = {
        routed_open_0, routed_open_1, routed_open_2, routed_open_3,
        routed_open_4, routed_open_5, routed_open_6, routed_open_7,
};

const vcm_provider *vcm_agent_route(const vcm_provider *local) {
        const vcm_provider *vt = NULL;
        pthread_mutex_lock(&slots_lock);
        for (size_t i = 0; i < VCM_AGENT_ROUTED_MAX && !vt; i++) {
                if (slots[i].local == local) {
                        vt = &slots[i].vt;
                } else if (!slots[i].local) {
                        slots[i].local = local;
                        slots[i].vt = (vcm_provider){
                                .name = local->name,
                                .kinds = local->kinds,
                                .open = slot_opens[i],
                                .close = routed_close,
                                .observe = routed_observe,
                                .create = routed_create,
                                .update = routed_update,
                                .delete = routed_delete,
                                .classify = local->classify,
                        };
                        vt = &slots[i].vt;
                }
        }
        pthread_mutex_unlock(&slots_lock);
        return vt;
}
