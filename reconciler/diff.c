#include "reconciler/diff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/util.h"

typedef struct step_vec {
        vcm_step *items;
        size_t n, cap;
} step_vec;

static vcm_step *step_push(step_vec *v) {
        if (v->n == v->cap) {
                v->cap = v->cap ? v->cap * 2 : 64;
                v->items = xrealloc(v->items, v->cap * sizeof(*v->items));
        }
        v->items[v->n] = (vcm_step){ 0 };
        return &v->items[v->n++];
}

void vcm_steps_free(vcm_step *steps, size_t n) {
        if (!steps)
                return;
        for (size_t i = 0; i < n; i++) {
                free(steps[i].reason);
                free(steps[i].changes);
                free(steps[i].deps);
        }
        free(steps);
}

void vcm_prop_pretty(const char *key, const char *value, char *buf, size_t len) {
        if (!value) {
                snprintf(buf, len, "(none)");
                return;
        }
        if (strcmp(key, "memory") == 0 || strcmp(key, "size") == 0) {
                char *end;
                unsigned long long v = strtoull(value, &end, 10);
                if (*value && !*end) {
                        vcm_format_size(v, buf, len);
                        return;
                }
        }
        snprintf(buf, len, "%s", value);
}

static bool host_unreachable(const vcm_diff_opts *o, const char *host) {
        for (size_t i = 0; i < o->n_unreachable; i++)
                if (strcmp(o->unreachable_hosts[i], host) == 0)
                        return true;
        return false;
}

/* The changed keys of desired vs observed: meta.* and observed-only keys are ignored. */
static size_t changed_keys(const vcm_resource *d, const vcm_resource *o, vcm_step_change **ret) {
        vcm_step_change *ch = NULL;
        size_t n = 0;
        size_t j = 0;
        for (size_t i = 0; i < d->n_props; i++) {
                const vcm_prop *p = &d->props[i];
                while (j < o->n_props && strcmp(o->props[j].key, p->key) < 0)
                        j++;
                const char *old = j < o->n_props && strcmp(o->props[j].key, p->key) == 0
                                          ? o->props[j].value : NULL;
                if (vcm_prop_is_meta(p->key))
                        continue;
                if (old && strcmp(old, p->value) == 0)
                        continue;
                ch = xrealloc(ch, (n + 1) * sizeof(*ch));
                ch[n++] = (vcm_step_change){ p->key, old, p->value };
        }
        *ret = ch;
        return n;
}

static char *changes_reason(const vcm_step_change *ch, size_t n) {
        if (n == 1 && strcmp(ch[0].key, "state") == 0 && strcmp(ch[0].new_value, "running") == 0)
                return xstrdup("not running");
        size_t len = 0;
        char *s = xstrdup("");
        for (size_t i = 0; i < n; i++) {
                char a[128], b[128];
                vcm_prop_pretty(ch[i].key, ch[i].old_value, a, sizeof(a));
                vcm_prop_pretty(ch[i].key, ch[i].new_value, b, sizeof(b));
                char *part = xasprintf("%s%s: %s -> %s", i ? ", " : "", ch[i].key, a, b);
                size_t pl = strlen(part);
                s = xrealloc(s, len + pl + 1);
                memcpy(s + len, part, pl + 1);
                len += pl;
                free(part);
        }
        return s;
}

/* Resources of one cluster come in runs: remember the last lookup. */
typedef struct eval_cache {
        const vcm_strmap *map;
        const char *name;
        vcm_cluster_eval *eval;
} eval_cache;

static vcm_cluster_eval *eval_of(eval_cache *c, const char *cluster) {
        if (c->name && (c->name == cluster || strcmp(c->name, cluster) == 0))
                return c->eval;
        c->name = cluster;
        c->eval = vcm_strmap_get(c->map, cluster);
        return c->eval;
}

static const char *delete_reason(const vcm_cluster_eval *e) {
        if (!e)
                return "cluster removed from specs";
        if (!e->active) {
                switch (e->phase) {
                case VCM_WINDOW_BEFORE:
                        return "window has not started";
                case VCM_WINDOW_GAP:
                        return "outside the recurring slots";
                case VCM_WINDOW_AFTER:
                default:
                        return "window ended";
                }
        }
        return "no longer in the spec";
}

const char *vcm_prune_stop_reason(const vcm_repo *repo, const vcm_resource_set *observed,
                                  bool allow_empty) {
        if (!repo->site)
                return "site.yaml is missing or failed to load";
        if (repo->n_failed_files > 0)
                return "some cluster files failed to load";
        if (repo->n_clusters == 0 && vcm_resource_set_size(observed) > 0 && !allow_empty)
                return "the specs hold no clusters while vcm owns resources";
        return NULL;
}

int vcm_diff(const vcm_repo *repo, vcm_cluster_eval *evals, const vcm_resource_set *desired,
             const vcm_resource_set *observed, const vcm_provider_table *providers,
             const vcm_diff_opts *opts, vcm_diags *diags, vcm_step **ret_steps, size_t *ret_n,
             bool *ret_pruning_stopped) {
        static const vcm_diff_opts no_opts = { 0 };
        if (!opts)
                opts = &no_opts;
        vcm_strmap by_name = { .borrow = true }; /* names live in the repo */
        for (size_t i = 0; i < repo->n_clusters; i++)
                vcm_strmap_put(&by_name, repo->clusters[i].name, &evals[i]);
        /* Clusters owning something observed, to tell a new cluster from a missing piece. */
        vcm_strmap owning = { .borrow = true }; /* names live in `observed` */
        const char *last = NULL;
        for (size_t i = 0; i < vcm_resource_set_size(observed); i++) {
                const vcm_resource *o = vcm_resource_set_at(observed, i);
                if (!last || strcmp(last, o->cluster) != 0)
                        vcm_strmap_put(&owning, o->cluster, (void *)1);
                last = o->cluster;
        }

        step_vec v = { 0 };
        const vcm_pos nopos = { 0 };
        eval_cache cache = { .map = &by_name };
        size_t matched = 0; /* desired resources whose key is observed */

        for (size_t i = 0; i < vcm_resource_set_size(desired); i++) {
                const vcm_resource *d = vcm_resource_set_at(desired, i);
                vcm_cluster_eval *e = eval_of(&cache, d->cluster);
                vcm_pos pos = e && e->spec ? e->spec->pos : nopos;
                if (host_unreachable(opts, d->host))
                        continue;
                const vcm_resource *o = vcm_resource_set_find(observed, d->kind, d->host, d->name);
                matched += o != NULL;
                if (o && strcmp(o->cluster, d->cluster) != 0) {
                        vcm_diags_error(diags, pos, "%s %s on %s belongs to cluster %s, not %s; "
                                        "left alone", vcm_kind_name(d->kind), d->name, d->host,
                                        o->cluster, d->cluster);
                        if (e)
                                e->conflict = true;
                        continue;
                }
                if (!o) {
                        if (e && e->suspended) {
                                e->drift++;
                                continue;
                        }
                        vcm_step *s = step_push(&v);
                        s->action = VCM_ACTION_CREATE;
                        s->desired = d;
                        s->cluster = d->cluster;
                        bool owns = vcm_strmap_has(&owning, d->cluster);
                        /* (only for creates: rare on a converged site) */
                        s->reason = xstrdup(owns ? "missing"
                                            : e && e->spec && e->spec->has_window ? "window opened"
                                            : "new cluster");
                        continue;
                }
                vcm_step_change *ch = NULL;
                size_t n = changed_keys(d, o, &ch);
                if (n == 0)
                        continue;
                if (e && e->suspended) {
                        e->drift++;
                        free(ch);
                        continue;
                }
                const vcm_provider *p = providers ? providers->by_kind[d->kind] : NULL;
                vcm_change strongest = VCM_CHANGE_LIVE;
                const char *refused_key = NULL, *refused_why = NULL;
                for (size_t k = 0; k < n; k++) {
                        vcm_change c = VCM_CHANGE_REPLACE;
                        const char *why = NULL;
                        if (p && p->classify)
                                c = p->classify(d->kind, ch[k].key, ch[k].old_value,
                                                ch[k].new_value, &why);
                        if (c == VCM_CHANGE_REFUSED) {
                                refused_key = ch[k].key;
                                refused_why = why;
                                break;
                        }
                        if (c > strongest)
                                strongest = c;
                }
                if (refused_key) {
                        char a[128], b[128];
                        vcm_prop_pretty(refused_key, vcm_resource_prop(o, refused_key), a, sizeof(a));
                        vcm_prop_pretty(refused_key, vcm_resource_prop(d, refused_key), b, sizeof(b));
                        vcm_diags_error(diags, pos, "%s %s on %s: cannot change %s from %s to %s: %s",
                                        vcm_kind_name(d->kind), d->name, d->host, refused_key, a,
                                        b, refused_why ? refused_why : "refused by the provider");
                        if (e)
                                e->refused = true;
                        free(ch);
                        continue;
                }
                vcm_step *s = step_push(&v);
                s->action = strongest == VCM_CHANGE_LIVE      ? VCM_ACTION_UPDATE
                            : strongest == VCM_CHANGE_RESTART ? VCM_ACTION_RESTART
                                                              : VCM_ACTION_REPLACE;
                s->desired = d;
                s->observed = o;
                s->cluster = d->cluster;
                s->changes = ch;
                s->n_changes = n;
                s->reason = changes_reason(ch, n);
        }

        /* Safety rule 1: a repository that did not load completely never deletes anything. */
        const char *stop = vcm_prune_stop_reason(repo, observed, opts->allow_empty);
        size_t withheld = 0;

        /* Keys are unique in each set: when every observed key matched a desired one above,
         * nothing observed is undesired, and the converged case skips a lookup per resource. */
        size_t n_observed = vcm_resource_set_size(observed);
        if (matched == n_observed)
                n_observed = 0;
        for (size_t i = 0; i < n_observed; i++) {
                const vcm_resource *o = vcm_resource_set_at(observed, i);
                if (vcm_resource_set_find(desired, o->kind, o->host, o->name))
                        continue;
                vcm_cluster_eval *e = eval_of(&cache, o->cluster);
                if (e && e->suspended) {
                        e->drift++;
                        continue;
                }
                /* Active but not placed (no capacity, unreachable host): keep what exists. */
                if (e && e->active && !e->placed)
                        continue;
                if (e && !e->active && e->spec && o->kind == VCM_KIND_VOLUME &&
                    e->spec->on_expire == VCM_ON_EXPIRE_KEEP_VOLUMES)
                        continue;
                if (stop || host_unreachable(opts, o->host)) {
                        withheld++;
                        if (e)
                                e->withheld_deletes++;
                        continue;
                }
                vcm_step *s = step_push(&v);
                s->action = VCM_ACTION_DELETE;
                s->observed = o;
                s->cluster = o->cluster;
                s->reason = xstrdup(delete_reason(e));
        }
        if (stop) {
                vcm_diags_error(diags, nopos,
                                "pruning stopped: %s; %zu deletion%s held back. Nothing is deleted "
                                "until the specs load cleanly%s.", stop, withheld,
                                withheld == 1 ? "" : "s",
                                repo->site && repo->n_failed_files == 0
                                        ? " (if removing every cluster is intended, run with "
                                          "--allow-empty)"
                                        : " (fix the files reported above; 'vcm validate' shows "
                                          "them)");
        }
        vcm_strmap_clear(&by_name);
        vcm_strmap_clear(&owning);
        *ret_steps = v.items;
        *ret_n = v.n;
        *ret_pruning_stopped = stop != NULL;
        return 0;
}
