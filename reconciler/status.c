#include "reconciler/status.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconciler/util.h"

typedef struct tally {
        size_t steps, failed, deletes, owned, kept_volumes;
        const char *first_error;
        const char *unreachable; /* the first unreachable host the cluster uses */
        bool root_error;
} tally;

static int status_cmp(const void *a, const void *b) {
        return strcmp(((const vcm_cluster_status *)a)->cluster,
                      ((const vcm_cluster_status *)b)->cluster);
}

static void fmt_time(int64_t t, char *buf, size_t len) {
        if (t == INT64_MAX) {
                snprintf(buf, len, "never");
                return;
        }
        time_t tt = (time_t)t;
        struct tm tm;
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
}

static bool host_in(const vcm_pass *p, const char *host) {
        for (size_t i = 0; i < p->n_unreachable; i++)
                if (strcmp(p->unreachable_hosts[i], host) == 0)
                        return true;
        return false;
}

static void spec_status(const vcm_pass *p, const vcm_cluster_eval *e, const tally *t,
                        bool plan_only, int64_t now, vcm_cluster_status *s) {
        const vcm_cluster *c = e->spec;
        char when[40];
        if (e->suspended) {
                s->state = VCM_STATE_STALLED;
                s->reason = t->steps || e->drift
                                    ? xasprintf("suspended (suspend: true): %zu difference%s "
                                                "reported, not acted on", e->drift,
                                                e->drift == 1 ? "" : "s")
                                    : xstrdup("suspended (suspend: true); no drift");
                return;
        }
        if (e->active && !e->placed) {
                s->state = e->blocked_state;
                s->reason = xstrdup(e->blocked_reason ? e->blocked_reason : "not placed");
                return;
        }
        if (!plan_only && t->failed) {
                s->state = VCM_STATE_DEGRADED;
                s->reason = xasprintf("%zu of %zu steps failed: %s", t->failed, t->steps,
                                      t->first_error ? t->first_error : "error");
                return;
        }
        if (t->unreachable) {
                s->state = VCM_STATE_DEGRADED;
                s->reason = xasprintf("host %s is unreachable (nothing is deleted there this "
                                      "pass; see diagnostics)", t->unreachable);
                return;
        }
        if (e->conflict || e->refused) {
                s->state = VCM_STATE_DEGRADED;
                s->reason = xstrdup(e->refused ? "a change is refused by its provider (see plan "
                                                 "diagnostics)"
                                               : "a resource it needs belongs to another cluster");
                return;
        }
        if (p->pruning_stopped && e->withheld_deletes) {
                s->state = VCM_STATE_STALLED;
                s->reason = xasprintf("pruning stopped: %zu deletion%s held back until the specs "
                                      "load cleanly", e->withheld_deletes,
                                      e->withheld_deletes == 1 ? "" : "s");
                return;
        }
        if (t->steps && plan_only) {
                s->state = VCM_STATE_PROGRESSING;
                s->reason = e->active ? xasprintf("%zu step%s planned", t->steps,
                                                  t->steps == 1 ? "" : "s")
                                      : xasprintf("releasing: %zu resource%s to delete", t->deletes,
                                                  t->deletes == 1 ? "" : "s");
                return;
        }
        if (e->active) {
                s->state = VCM_STATE_READY;
                s->reason = t->steps ? xasprintf("converged (%zu step%s applied)", t->steps,
                                                 t->steps == 1 ? "" : "s")
                                     : xstrdup("converged");
                return;
        }
        int64_t edge = vcm_cluster_next_edge(c, now);
        fmt_time(edge, when, sizeof(when));
        switch (e->phase) {
        case VCM_WINDOW_BEFORE:
                s->state = VCM_STATE_PENDING;
                s->reason = xasprintf("window opens at %s", when);
                return;
        case VCM_WINDOW_GAP:
                s->state = VCM_STATE_PENDING;
                s->reason = xasprintf("between recurring slots; next edge at %s", when);
                return;
        default:
                s->state = VCM_STATE_RELEASED;
                s->reason = c->on_expire == VCM_ON_EXPIRE_KEEP_VOLUMES && t->kept_volumes
                                    ? xasprintf("window ended; %zu volume%s kept (onExpire: "
                                                "keep-volumes)", t->kept_volumes,
                                                t->kept_volumes == 1 ? "" : "s")
                                    : xstrdup("window ended; released");
                return;
        }
}

static void orphan_status(const vcm_pass *p, const tally *t, bool plan_only,
                          vcm_cluster_status *s) {
        if (p->pruning_stopped) {
                s->state = VCM_STATE_STALLED;
                s->reason = xstrdup("not in the loaded specs, but pruning is stopped (see "
                                    "diagnostics)");
        } else if (!plan_only && t->failed) {
                s->state = VCM_STATE_DEGRADED;
                s->reason = xasprintf("removed from specs; %zu of %zu deletions failed: %s",
                                      t->failed, t->steps,
                                      t->first_error ? t->first_error : "error");
        } else if (t->steps && plan_only) {
                s->state = VCM_STATE_PROGRESSING;
                s->reason = xasprintf("removed from specs; %zu resource%s to delete", t->deletes,
                                      t->deletes == 1 ? "" : "s");
        } else if (t->steps == 0 && t->owned) {
                s->state = VCM_STATE_DEGRADED;
                s->reason = xstrdup("removed from specs; its resources cannot be deleted now "
                                    "(see diagnostics)");
        } else {
                s->state = VCM_STATE_RELEASED;
                s->reason = xstrdup("removed from specs; released");
        }
}

void vcm_status_compute(vcm_pass *p, const vcm_repo *repo, const vcm_cluster_eval *evals,
                        bool plan_only, int64_t now) {
        /* Every cluster we know of: the specs first, then owners of observed resources. */
        vcm_strmap idx = { .borrow = true }; /* names live in the repo and the pass */
        size_t n = 0, cap = repo->n_clusters + 8;
        tally *tallies = xcalloc(cap, sizeof(*tallies));
        const char **names = xcalloc(cap, sizeof(*names));
        const vcm_cluster_eval **ev = xcalloc(cap, sizeof(*ev));
#define SLOT(name_)                                                                                \
        ({                                                                                         \
                uintptr_t k_ = (uintptr_t)vcm_strmap_get(&idx, (name_));                            \
                if (!k_) {                                                                         \
                        if (n == cap) {                                                            \
                                cap *= 2;                                                          \
                                tallies = xrealloc(tallies, cap * sizeof(*tallies));               \
                                names = xrealloc(names, cap * sizeof(*names));                     \
                                ev = xrealloc(ev, cap * sizeof(*ev));                              \
                        }                                                                          \
                        tallies[n] = (tally){ 0 };                                                 \
                        names[n] = (name_);                                                        \
                        ev[n] = NULL;                                                              \
                        vcm_strmap_put(&idx, (name_), (void *)(uintptr_t)(n + 1));                 \
                        k_ = ++n;                                                                  \
                }                                                                                  \
                k_ - 1;                                                                            \
        })
        for (size_t i = 0; i < repo->n_clusters; i++)
                ev[SLOT(repo->clusters[i].name)] = &evals[i];
        const char *last = NULL;
        size_t k = 0;
        for (size_t i = 0; i < vcm_resource_set_size(p->observed); i++) {
                const vcm_resource *r = vcm_resource_set_at(p->observed, i);
                /* Resources of a cluster come in runs: skip the lookup within one. */
                if (!last || strcmp(last, r->cluster) != 0)
                        k = SLOT(r->cluster);
                last = r->cluster;
                tallies[k].owned++;
                if (r->kind == VCM_KIND_VOLUME)
                        tallies[k].kept_volumes++;
        }
        for (size_t i = 0; i < p->n_steps; i++) {
                k = SLOT(p->steps[i].cluster);
                tallies[k].steps++;
                if (p->steps[i].action == VCM_ACTION_DELETE) {
                        tallies[k].deletes++;
                        if (p->steps[i].observed->kind == VCM_KIND_VOLUME &&
                            tallies[k].kept_volumes)
                                tallies[k].kept_volumes--;
                }
                if (p->step_results && p->step_results[i] < 0) {
                        /* Name the root cause, not the "dependency failed" it caused. */
                        tally *t = &tallies[k];
                        bool root = p->step_results[i] != -ECANCELED;
                        if (!t->first_error || (root && !t->root_error)) {
                                t->first_error = p->step_errors[i];
                                t->root_error = root;
                        }
                        t->failed++;
                }
        }
        for (size_t i = 0; p->n_unreachable && i < vcm_resource_set_size(p->desired); i++) {
                const vcm_resource *r = vcm_resource_set_at(p->desired, i);
                tally *t = &tallies[SLOT(r->cluster)];
                if (!t->unreachable && host_in(p, r->host))
                        t->unreachable = r->host;
        }
#undef SLOT

        p->status = xcalloc(n ? n : 1, sizeof(*p->status));
        p->n_status = n;
        for (size_t j = 0; j < n; j++) {
                vcm_cluster_status *s = &p->status[j];
                s->cluster = xstrdup(names[j]);
                if (ev[j])
                        spec_status(p, ev[j], &tallies[j], plan_only, now, s);
                else
                        orphan_status(p, &tallies[j], plan_only, s);
        }
        qsort(p->status, n, sizeof(*p->status), status_cmp);
        vcm_strmap_clear(&idx);
        free(tallies);
        free(names);
        free(ev);
}
