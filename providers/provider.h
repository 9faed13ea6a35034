/* The provider interface: how the engine observes and changes one kind of thing on one host.
 *
 * A provider is a const vtable. The engine never includes a provider's library headers; it only
 * sees this interface. Every operation is idempotent: create of something that already exists as
 * desired succeeds, delete of something already gone succeeds. Errors are negative errnos with a
 * message in `err` that names the host, the resource and the cause.
 *
 * Contract with the engine (reconciler/engine.h):
 *  - open() returns -EOPNOTSUPP for a host the provider does not serve; that is not an error.
 *  - create/update/delete may run concurrently on one connection (the worker pool runs steps of
 *    one host in parallel), so a connection must be safe for that.
 *  - observe() reports a domain's "state"; desired always asks for "running". */
#ifndef VCM_PROVIDER_H
#define VCM_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include "../reconciler/resource.h"
#include "../specs/model.h"

typedef struct vcm_error {
        char message[512];
} vcm_error;

void vcm_error_set(vcm_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What an update of a property needs. */
typedef enum vcm_change {
        VCM_CHANGE_LIVE,    /* applied in place, no interruption */
        VCM_CHANGE_RESTART, /* applied, but the resource restarts (plan says "requires restart") */
        VCM_CHANGE_REPLACE, /* delete and create (plan shows -/+) */
        VCM_CHANGE_REFUSED, /* not allowed (e.g. shrinking a volume); plan error with reason */
} vcm_change;

/* Per-host context handed to providers: the site host and anything a provider opened for it. */
typedef struct vcm_host_ctx {
        const vcm_site *site;
        const vcm_host *host;
        void *conn;  /* provider-owned connection, from open() */
} vcm_host_ctx;

typedef struct vcm_provider {
        const char *name;
        /* Kinds this provider implements; a bit per vcm_kind. */
        unsigned kinds;

        /* Open the host's connection (may be lazy); close frees it. */
        int (*open)(const vcm_site *site, const vcm_host *host, void **ret_conn, vcm_error *err);
        void (*close)(void *conn);

        /* Add every resource of this provider's kinds on the host that vcm owns to `out`, with
         * the props it can read back and the hash stored on the resource. Bulk calls only. */
        int (*observe)(vcm_host_ctx *ctx, vcm_resource_set *out, vcm_error *err);

        int (*create)(vcm_host_ctx *ctx, const vcm_resource *desired, vcm_error *err);
        int (*update)(vcm_host_ctx *ctx, const vcm_resource *desired,
                      const vcm_resource *observed, vcm_error *err);
        int (*delete)(vcm_host_ctx *ctx, const vcm_resource *observed, vcm_error *err);

        /* What changing `key` from observed to desired needs. NULL: everything is REPLACE.
         * ret_reason is a static string shown in the plan (may be NULL). */
        vcm_change (*classify)(vcm_kind kind, const char *key, const char *old_value,
                               const char *new_value, const char **ret_reason);

        /* Optional, for the service's informer cache (reconciler/informer.h); NULL: the cache
         * relists the host on resync only (and after vcm's own steps). */

        /* Start watching the host for changes of this provider's resources, by anyone. The
         * watch has its own connection; *ret_fd becomes readable when notifications are
         * pending (then call watch_read). */
        int (*watch_open)(const vcm_site *site, const vcm_host *host, void **ret_watch,
                          int *ret_fd, vcm_error *err);
        /* Drain pending notifications without blocking: fn() once per resource that may have
         * changed. -ECONNRESET when the stream broke (notifications may have been lost): close
         * the watch, open a new one and relist the host. */
        int (*watch_read)(void *watch, void (*fn)(void *userdata, vcm_kind kind, const char *name),
                          void *userdata);
        void (*watch_close)(void *watch);
        /* Re-read one resource: add it to `out` when it exists and is owned, nothing when it is
         * gone or not vcm's. -EOPNOTSUPP: this kind cannot be read alone (relist the host). */
        int (*observe_one)(vcm_host_ctx *ctx, vcm_kind kind, const char *name,
                           vcm_resource_set *out, vcm_error *err);
} vcm_provider;

#endif
