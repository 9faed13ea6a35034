/* vcm_engine_run: observe -> desired -> diff -> plan -> apply -> status, for one pass. */
#include "reconciler/engine.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconciler/apply.h"
#include "reconciler/conns.h"
#include "reconciler/desired.h"
#include "reconciler/diff.h"
#include "reconciler/informer.h"
#include "reconciler/journal.h"
#include "reconciler/plan.h"
#include "reconciler/status.h"
#include "reconciler/util.h"

typedef struct pass_internal {
        vcm_cluster_eval *evals;
        size_t n_evals;
} pass_internal;

const char *vcm_cluster_state_name(vcm_cluster_state s) {
        switch (s) {
        case VCM_STATE_PENDING:
                return "Pending";
        case VCM_STATE_PROGRESSING:
                return "Progressing";
        case VCM_STATE_READY:
                return "Ready";
        case VCM_STATE_DEGRADED:
                return "Degraded";
        case VCM_STATE_STALLED:
                return "Stalled";
        case VCM_STATE_RELEASED:
                return "Released";
        }
        return "?";
}

void vcm_pass_free(vcm_pass *p) {
        if (!p)
                return;
        if (p->step_errors)
                for (size_t i = 0; i < p->n_steps; i++)
                        free(p->step_errors[i]);
        free(p->step_errors);
        free(p->step_results);
        vcm_steps_free(p->steps, p->n_steps);
        for (size_t i = 0; i < p->n_status; i++) {
                free(p->status[i].cluster);
                free(p->status[i].reason);
        }
        free(p->status);
        vcm_diags_clear(&p->diags);
        for (size_t i = 0; i < p->n_unreachable; i++)
                free(p->unreachable_hosts[i]);
        free(p->unreachable_hosts);
        pass_internal *in = p->internal;
        if (in) {
                vcm_cluster_evals_free(in->evals, in->n_evals);
                free(in);
        }
        vcm_resource_set_free(p->desired);
        if (!p->observed_borrowed)
                vcm_resource_set_free(p->observed);
        free(p);
}

static void note_unreachable(vcm_pass *p, const char *host) {
        for (size_t i = 0; i < p->n_unreachable; i++)
                if (strcmp(p->unreachable_hosts[i], host) == 0)
                        return;
        p->unreachable_hosts = xrealloc(p->unreachable_hosts,
                                        (p->n_unreachable + 1) * sizeof(char *));
        p->unreachable_hosts[p->n_unreachable++] = xstrdup(host);
}

/* Merge per-(provider, host) observations; a failed host contributes nothing at all, so that no
 * partial view of it can lead to deletes there. */
static void collect_observed(vcm_pass *p, vcm_conns *conns) {
        p->observed = vcm_resource_set_new();
        for (size_t i = 0; i < conns->n; i++) {
                vcm_conn *c = &conns->items[i];
                const char *host = c->ctx.host->name;
                if (c->open_result == -EOPNOTSUPP)
                        continue; /* the provider does not serve this host */
                if (c->open_result < 0 || c->observe_result < 0) {
                        note_unreachable(p, host);
                        /* Providers served by one agent fail alike when it is down: say it once. */
                        bool said = false;
                        for (size_t j = 0; j < i && !said; j++) {
                                const vcm_conn *o = &conns->items[j];
                                said = o->ctx.host == c->ctx.host && c->err.message[0] &&
                                       (o->open_result < 0 || o->observe_result < 0) &&
                                       strcmp(o->err.message, c->err.message) == 0;
                        }
                        if (said)
                                continue;
                        vcm_diags_error(&p->diags, c->ctx.host->pos,
                                        "host %s: %s: %s %s; its clusters are Degraded and nothing "
                                        "is deleted on it this pass", host, c->provider->name,
                                        c->open_result < 0 ? "cannot connect:" : "cannot observe:",
                                        c->err.message[0] ? c->err.message
                                                          : strerror(-(c->open_result < 0
                                                                               ? c->open_result
                                                                               : c->observe_result)));
                }
        }
        size_t total = 0;
        for (size_t i = 0; i < conns->n; i++)
                total += vcm_resource_set_size(conns->items[i].observed);
        vcm_resource_set_reserve(p->observed, total);
        for (size_t i = 0; i < conns->n; i++) {
                vcm_conn *c = &conns->items[i];
                if (!c->observed)
                        continue;
                bool bad = false;
                for (size_t k = 0; k < p->n_unreachable && !bad; k++)
                        bad = strcmp(p->unreachable_hosts[k], c->ctx.host->name) == 0;
                if (!bad)
                        vcm_resource_set_merge(p->observed, c->observed);
        }
}

/* The seeds this pass writes get their files now (the desired set holds only their digests).
 * One that cannot be rendered as planned fails in its provider ("no seed content"), said here. */
static void seed_files_for_steps(vcm_pass *p, const vcm_repo *repo) {
        for (size_t i = 0; i < p->n_steps; i++) {
                const vcm_step *s = &p->steps[i];
                if (!s->desired || s->desired->kind != VCM_KIND_SEED ||
                    s->action == VCM_ACTION_DELETE)
                        continue;
                /* The pass owns its desired set; steps only borrow it read-only. */
                int r = vcm_desired_seed_files(repo, (vcm_resource *)s->desired);
                if (r < 0)
                        vcm_diags_error(&p->diags, (vcm_pos){ 0 },
                                        "seed %s on %s: cannot render its files as planned: %s",
                                        s->desired->name, s->desired->host, strerror(-r));
        }
}

/* The service's pass: the cache's view, borrowed, unless a host failed (its resources must not
 * be seen at all, as in collect_observed; rare, so a filtered copy is fine). */
static void informer_observed(vcm_pass *p, vcm_informer *inf, vcm_conns *conns) {
        vcm_informer_lend(inf, conns);
        collect_observed(p, conns); /* notes failed hosts; lent pairs carry no sets */
        const vcm_resource_set *cached = vcm_informer_observed(inf);
        if (p->n_unreachable == 0) {
                vcm_resource_set_free(p->observed);
                p->observed = (vcm_resource_set *)cached;
                p->observed_borrowed = true;
                return;
        }
        for (size_t i = 0; i < vcm_resource_set_size(cached); i++) {
                const vcm_resource *r = vcm_resource_set_at(cached, i);
                bool bad = false;
                for (size_t k = 0; k < p->n_unreachable && !bad; k++)
                        bad = strcmp(p->unreachable_hosts[k], r->host) == 0;
                if (!bad)
                        vcm_resource_set_add_copy(p->observed, r);
        }
}

/* Steps changed these resources: the cache re-reads them at its next sync. */
static void informer_note_steps(vcm_informer *inf, const vcm_pass *p,
                                const vcm_provider_table *providers) {
        for (size_t i = 0; i < p->n_steps; i++) {
                const vcm_resource *r = p->steps[i].desired ? p->steps[i].desired
                                                            : p->steps[i].observed;
                if (providers->by_kind[r->kind])
                        vcm_informer_invalidate(inf, providers->by_kind[r->kind], r->host,
                                                r->kind, r->name);
        }
}

/* Kinds without a provider in the table are not managed at this site (e.g. a build without the
 * netlink provider): they are left out of the desired set, with one warning per kind, rather
 * than planned as steps that can only fail and block the domains that wait for them. */
static void drop_unprovided(vcm_pass *p, const vcm_provider_table *providers) {
        size_t dropped[VCM_KIND__COUNT] = { 0 };
        for (size_t i = vcm_resource_set_size(p->desired); i-- > 0;) {
                const vcm_resource *r = vcm_resource_set_at(p->desired, i);
                if (providers->by_kind[r->kind])
                        continue;
                dropped[r->kind]++;
                vcm_resource_set_remove(p->desired, r->kind, r->host, r->name);
        }
        for (int k = 0; k < VCM_KIND__COUNT; k++)
                if (dropped[k])
                        vcm_diags_warning(&p->diags, (vcm_pos){ 0 },
                                          "no provider manages %s resources at this site: %zu "
                                          "desired %s left out (they must exist by other means)",
                                          vcm_kind_name((vcm_kind)k), dropped[k],
                                          dropped[k] == 1 ? "is" : "are");
}

int vcm_engine_run(const vcm_repo *repo, const vcm_provider_table *providers,
                   const vcm_engine_opts *opts, vcm_pass **ret_pass) {
        if (!repo || !providers || !opts)
                return -EINVAL;
        vcm_engine_opts o = *opts;
        if (o.now == 0)
                o.now = (int64_t)time(NULL);
        if (o.parallel <= 0)
                o.parallel = 8;
        if (o.retries <= 0)
                o.retries = 3;

        vcm_pass *p = xcalloc(1, sizeof(*p));
        pass_internal *in = xcalloc(1, sizeof(*in));
        p->internal = in;
        p->next_edge = INT64_MAX;
        const vcm_pos nopos = { 0 };

        vcm_conns conns = { 0 };
        if (repo->site && o.informer) {
                vcm_informer_sync(o.informer, repo->site, providers, o.parallel);
                informer_observed(p, o.informer, &conns);
        } else if (repo->site) {
                vcm_conns_open_observe(&conns, repo->site, providers, o.parallel);
                collect_observed(p, &conns);
        } else {
                /* Without a site vcm cannot even tell which hosts to look at. */
                p->observed = vcm_resource_set_new();
                vcm_diags_error(&p->diags, nopos, "site.yaml is missing or failed to load: "
                                "nothing is observed, created or deleted this pass");
        }

        /* Placement must not trust capacity on, or absence of nodes from, VM hosts it could not
         * see, nor absence of volumes from storage hosts (desired.c tells the two apart);
         * agent-only hosts hold neither. */
        const char **vm_unreachable = xcalloc(p->n_unreachable + 1, sizeof(char *));
        size_t n_vm_unreachable = 0;
        for (size_t i = 0; i < p->n_unreachable; i++) {
                const vcm_host *h = NULL;
                for (size_t k = 0; repo->site && k < repo->site->n_hosts; k++)
                        if (strcmp(repo->site->hosts[k].name, p->unreachable_hosts[i]) == 0)
                                h = &repo->site->hosts[k];
                if (h && (h->roles &
                          (VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER | VCM_ROLE_STORAGE)))
                        vm_unreachable[n_vm_unreachable++] = p->unreachable_hosts[i];
        }

        int r = 0;
        if (repo->site) {
                vcm_desired_opts dopts = {
                        .unreachable_hosts = vm_unreachable,
                        .n_unreachable = n_vm_unreachable,
                        .prune_allowed = !vcm_prune_stop_reason(repo, p->observed, o.allow_empty),
                        .seed_memo = o.seed_memo,
                };
                r = vcm_desired_build(repo, o.now, p->observed, &dopts, &p->diags, &p->desired,
                                      &in->evals);
                if (r < 0)
                        goto fail;
                in->n_evals = repo->n_clusters;
                drop_unprovided(p, providers);
        } else {
                p->desired = vcm_resource_set_new();
                in->evals = xcalloc(repo->n_clusters, sizeof(*in->evals));
                in->n_evals = repo->n_clusters;
                for (size_t i = 0; i < repo->n_clusters; i++)
                        in->evals[i] = (vcm_cluster_eval){
                                .spec = &repo->clusters[i],
                                .phase = VCM_WINDOW_OPEN,
                                .active = true, /* unknown: treated as "cannot act" */
                                .blocked_state = VCM_STATE_STALLED,
                                .blocked_reason = xstrdup("site.yaml is missing or failed to "
                                                          "load; nothing is done"),
                        };
        }

        vcm_diff_opts diffo = { .allow_empty = o.allow_empty,
                                .unreachable_hosts = (const char *const *)p->unreachable_hosts,
                                .n_unreachable = p->n_unreachable };
        r = vcm_diff(repo, in->evals, p->desired, p->observed, providers, &diffo, &p->diags,
                     &p->steps, &p->n_steps, &p->pruning_stopped);
        if (r < 0)
                goto fail;
        r = vcm_plan_order(p->steps, p->n_steps);
        if (r < 0)
                goto fail;

        if (!o.plan_only && o.on_plan)
                o.on_plan(o.userdata, p->n_steps);
        if (!o.plan_only && p->n_steps > 0) {
                seed_files_for_steps(p, repo);
                p->step_results = xcalloc(p->n_steps, sizeof(int));
                p->step_errors = xcalloc(p->n_steps, sizeof(char *));
                vcm_journal *j = NULL;
                if (o.state_dir) {
                        int jr = vcm_journal_open(o.state_dir, &j);
                        if (jr < 0)
                                vcm_diags_warning(&p->diags, nopos,
                                                  "cannot open the journal in %s: %s; applying "
                                                  "without it", o.state_dir, strerror(-jr));
                }
                vcm_apply_steps(p->steps, p->n_steps, providers, &conns, &o, repo->commit, j,
                                p->step_results, p->step_errors);
                if (o.informer)
                        informer_note_steps(o.informer, p, providers);
                int jr = vcm_journal_close(j);
                if (jr < 0)
                        vcm_diags_warning(&p->diags, nopos, "journal in %s: %s", o.state_dir,
                                          strerror(-jr));
        }

        for (size_t i = 0; i < repo->n_clusters; i++) {
                int64_t e = vcm_cluster_next_edge(&repo->clusters[i], o.now);
                if (e < p->next_edge)
                        p->next_edge = e;
        }
        vcm_status_compute(p, repo, in->evals, o.plan_only, o.now);

        free(vm_unreachable);
        vcm_conns_close(&conns);
        *ret_pass = p;
        return 0;
fail:
        free(vm_unreachable);
        vcm_conns_close(&conns);
        vcm_pass_free(p);
        return r;
}
