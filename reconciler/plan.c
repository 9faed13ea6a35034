#include "reconciler/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/util.h"

const char *vcm_action_name(vcm_action a) {
        switch (a) {
        case VCM_ACTION_CREATE:
                return "create";
        case VCM_ACTION_UPDATE:
                return "update";
        case VCM_ACTION_RESTART:
                return "restart";
        case VCM_ACTION_REPLACE:
                return "replace";
        case VCM_ACTION_DELETE:
                return "delete";
        }
        return "?";
}

static const vcm_resource *step_res(const vcm_step *s) {
        return s->desired ? s->desired : s->observed;
}

static bool is_frontend_domain(const vcm_resource *r) {
        if (r->kind != VCM_KIND_DOMAIN)
                return false;
        const char *node = vcm_resource_prop(r, "node");
        if (node)
                return strcmp(node, "frontend") == 0;
        size_t n = strlen(r->name);
        return n >= 9 && strcmp(r->name + n - 9, "-frontend") == 0;
}

static int step_cmp(const void *a, const void *b) {
        const vcm_step *x = a, *y = b;
        const vcm_resource *rx = step_res(x), *ry = step_res(y);
        int c = strcmp(x->cluster, y->cluster);
        if (c)
                return c;
        bool dx = x->action == VCM_ACTION_DELETE, dy = y->action == VCM_ACTION_DELETE;
        if (dx != dy)
                return dx ? 1 : -1;
        if (rx->kind != ry->kind)
                return dx ? (rx->kind > ry->kind ? -1 : 1) : (rx->kind < ry->kind ? -1 : 1);
        /* Frontend first when creating, last when deleting. */
        bool fx = is_frontend_domain(rx), fy = is_frontend_domain(ry);
        if (fx != fy)
                return (fx ? -1 : 1) * (dx ? -1 : 1);
        c = strcmp(rx->host, ry->host);
        if (c)
                return c;
        return strcmp(rx->name, ry->name);
}

static void dep_add(vcm_step *s, size_t d) {
        for (size_t i = 0; i < s->n_deps; i++)
                if (s->deps[i] == d)
                        return;
        s->deps = xrealloc(s->deps, (s->n_deps + 1) * sizeof(*s->deps));
        s->deps[s->n_deps++] = d;
}

static char *key_string(vcm_kind kind, const char *host, const char *name) {
        return xasprintf("%d|%s|%s", (int)kind, host, name);
}

/* Which other kinds' deletes a delete of `k` waits for on the same host (domains aside). */
static bool delete_waits_for(vcm_kind k, vcm_kind other) {
        switch (k) {
        case VCM_KIND_ISCSI_LUN:
                return other == VCM_KIND_ISCSI_ACL;
        case VCM_KIND_ISCSI_TARGET:
                return other == VCM_KIND_ISCSI_LUN || other == VCM_KIND_ISCSI_ACL;
        case VCM_KIND_VOLUME:
                return other == VCM_KIND_ISCSI_LUN || other == VCM_KIND_SEED;
        case VCM_KIND_VLAN_LINK:
                return other == VCM_KIND_BRIDGE;
        default:
                return false;
        }
}

static void delete_edges(vcm_step *steps, size_t a, size_t b) {
        size_t fe = SIZE_MAX;
        for (size_t i = a; i < b; i++)
                if (steps[i].action == VCM_ACTION_DELETE && is_frontend_domain(steps[i].observed))
                        fe = i;
        for (size_t i = a; i < b; i++) {
                vcm_step *s = &steps[i];
                if (s->action != VCM_ACTION_DELETE)
                        continue;
                const vcm_resource *r = s->observed;
                if (r->kind == VCM_KIND_DOMAIN) {
                        /* Nodes go before the frontend that serves them. */
                        if (i == fe)
                                for (size_t j = a; j < b; j++)
                                        if (j != i && steps[j].action == VCM_ACTION_DELETE &&
                                            steps[j].observed->kind == VCM_KIND_DOMAIN)
                                                dep_add(s, j);
                        continue;
                }
                if (fe != SIZE_MAX) {
                        dep_add(s, fe); /* the frontend goes after every node */
                } else {
                        for (size_t j = a; j < b; j++)
                                if (step_res(&steps[j])->kind == VCM_KIND_DOMAIN &&
                                    steps[j].action == VCM_ACTION_DELETE)
                                        dep_add(s, j);
                }
                for (size_t j = a; j < b; j++) {
                        const vcm_resource *o = step_res(&steps[j]);
                        if (j == i || strcmp(o->host, r->host) != 0)
                                continue;
                        /* A bridge goes after the domains on it have moved off. */
                        if (r->kind == VCM_KIND_BRIDGE && o->kind == VCM_KIND_DOMAIN &&
                            steps[j].action != VCM_ACTION_DELETE)
                                dep_add(s, j);
                        if (steps[j].action == VCM_ACTION_DELETE &&
                            delete_waits_for(r->kind, o->kind))
                                dep_add(s, j);
                }
        }
}

/* On each host, the `kind` resources (domains: vcpus and memory; volumes: a storage host's
 * space) of released clusters go before new ones come: placement counted their room as free
 * (desired.h, prune_allowed; storage placement likewise). */
static void capacity_edges(vcm_step *steps, size_t n, vcm_kind kind) {
        vcm_strmap dels = { .borrow = true }; /* host -> first index in `order` + 1 */
        size_t *order = xmalloc((n ? n : 1) * sizeof(size_t));
        size_t *next = xmalloc((n ? n : 1) * sizeof(size_t));
        size_t m = 0;
        /* Chain the deletes of each host (a list per host through `next`). */
        for (size_t i = 0; i < n; i++) {
                if (steps[i].action != VCM_ACTION_DELETE || steps[i].observed->kind != kind)
                        continue;
                const char *host = steps[i].observed->host;
                uintptr_t head = (uintptr_t)vcm_strmap_get(&dels, host);
                order[m] = i;
                next[m] = head ? head - 1 : SIZE_MAX;
                vcm_strmap_put(&dels, host, (void *)(uintptr_t)(m + 1));
                m++;
        }
        for (size_t i = 0; m && i < n; i++) {
                vcm_step *s = &steps[i];
                if ((s->action != VCM_ACTION_CREATE && s->action != VCM_ACTION_REPLACE) ||
                    s->desired->kind != kind)
                        continue;
                uintptr_t head = (uintptr_t)vcm_strmap_get(&dels, s->desired->host);
                for (size_t k = head ? head - 1 : SIZE_MAX; k != SIZE_MAX; k = next[k])
                        if (strcmp(steps[order[k]].cluster, s->cluster) != 0)
                                dep_add(s, order[k]);
        }
        vcm_strmap_clear(&dels);
        free(order);
        free(next);
}

/* Min-heap of step indices, so that Kahn's algorithm yields the stable order. */
typedef struct heap {
        size_t *v;
        size_t n;
} heap;

static void heap_push(heap *h, size_t x) {
        size_t i = h->n++;
        h->v[i] = x;
        while (i > 0 && h->v[(i - 1) / 2] > h->v[i]) {
                size_t p = (i - 1) / 2, t = h->v[p];
                h->v[p] = h->v[i];
                h->v[i] = t;
                i = p;
        }
}

static size_t heap_pop(heap *h) {
        size_t top = h->v[0];
        h->v[0] = h->v[--h->n];
        size_t i = 0;
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                if (l < h->n && h->v[l] < h->v[m])
                        m = l;
                if (r < h->n && h->v[r] < h->v[m])
                        m = r;
                if (m == i)
                        break;
                size_t t = h->v[m];
                h->v[m] = h->v[i];
                h->v[i] = t;
                i = m;
        }
        return top;
}

int vcm_plan_order(vcm_step *steps, size_t n) {
        if (n == 0)
                return 0;
        qsort(steps, n, sizeof(*steps), step_cmp);
        for (size_t i = 0; i < n; i++) {
                free(steps[i].deps);
                steps[i].deps = NULL;
                steps[i].n_deps = 0;
        }

        /* Creates and updates follow the steps on what their resource depends on. */
        vcm_strmap keys = { 0 };
        for (size_t i = 0; i < n; i++)
                if (steps[i].action != VCM_ACTION_DELETE) {
                        const vcm_resource *r = steps[i].desired;
                        char *k = key_string(r->kind, r->host, r->name);
                        vcm_strmap_put(&keys, k, (void *)(uintptr_t)(i + 1));
                        free(k);
                }
        for (size_t i = 0; i < n; i++) {
                vcm_step *s = &steps[i];
                if (s->action == VCM_ACTION_DELETE)
                        continue;
                for (size_t d = 0; d < s->desired->n_deps; d++) {
                        const vcm_res_key *dk = &s->desired->deps[d];
                        char *k = key_string(dk->kind, dk->host, dk->name);
                        uintptr_t j = (uintptr_t)vcm_strmap_get(&keys, k);
                        free(k);
                        if (j)
                                dep_add(s, j - 1);
                }
        }
        vcm_strmap_clear(&keys);

        for (size_t a = 0; a < n;) {
                size_t b = a + 1;
                while (b < n && strcmp(steps[b].cluster, steps[a].cluster) == 0)
                        b++;
                delete_edges(steps, a, b);
                a = b;
        }
        capacity_edges(steps, n, VCM_KIND_DOMAIN);
        capacity_edges(steps, n, VCM_KIND_VOLUME);

        /* Kahn's algorithm. */
        size_t *indeg = xcalloc(n, sizeof(*indeg));
        size_t *n_out = xcalloc(n, sizeof(*n_out));
        for (size_t i = 0; i < n; i++)
                for (size_t d = 0; d < steps[i].n_deps; d++)
                        n_out[steps[i].deps[d]]++;
        size_t **out = xcalloc(n, sizeof(*out));
        size_t *fill = xcalloc(n, sizeof(*fill));
        for (size_t i = 0; i < n; i++)
                out[i] = n_out[i] ? xmalloc(n_out[i] * sizeof(size_t)) : NULL;
        for (size_t i = 0; i < n; i++) {
                indeg[i] = steps[i].n_deps;
                for (size_t d = 0; d < steps[i].n_deps; d++) {
                        size_t j = steps[i].deps[d];
                        out[j][fill[j]++] = i;
                }
        }
        heap h = { xmalloc(n * sizeof(size_t)), 0 };
        for (size_t i = 0; i < n; i++)
                if (indeg[i] == 0)
                        heap_push(&h, i);
        size_t *order = xmalloc(n * sizeof(size_t));
        size_t done = 0;
        while (h.n > 0) {
                size_t i = heap_pop(&h);
                order[done++] = i;
                for (size_t k = 0; k < n_out[i]; k++)
                        if (--indeg[out[i][k]] == 0)
                                heap_push(&h, out[i][k]);
        }
        int r = 0;
        if (done != n) {
                r = -ELOOP;
        } else {
                size_t *pos = xmalloc(n * sizeof(size_t));
                for (size_t k = 0; k < n; k++)
                        pos[order[k]] = k;
                vcm_step *sorted = xmalloc(n * sizeof(*sorted));
                for (size_t k = 0; k < n; k++) {
                        sorted[k] = steps[order[k]];
                        for (size_t d = 0; d < sorted[k].n_deps; d++)
                                sorted[k].deps[d] = pos[sorted[k].deps[d]];
                }
                memcpy(steps, sorted, n * sizeof(*steps));
                free(sorted);
                free(pos);
        }
        for (size_t i = 0; i < n; i++)
                free(out[i]);
        free(out);
        free(fill);
        free(n_out);
        free(indeg);
        free(h.v);
        free(order);
        return r;
}

vcm_plan_summary vcm_plan_summarize(const vcm_step *steps, size_t n) {
        vcm_plan_summary s = { 0 };
        for (size_t i = 0; i < n; i++)
                switch (steps[i].action) {
                case VCM_ACTION_CREATE:
                        s.create++;
                        break;
                case VCM_ACTION_UPDATE:
                        s.update++;
                        break;
                case VCM_ACTION_RESTART:
                        s.restart++;
                        break;
                case VCM_ACTION_REPLACE:
                        s.replace++;
                        break;
                case VCM_ACTION_DELETE:
                        s.destroy++;
                        break;
                }
        return s;
}
