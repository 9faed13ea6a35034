/* Capacity over time: interval sweep over every cluster's spans, placement per interval. */
#include "reconciler/capacity.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconciler/resource.h"
#include "reconciler/storage_placement.h"
#include "reconciler/util.h"

typedef struct edge {
        int64_t t;
        int delta;      /* -1 end, +1 start: ends sort first, so end == next start is no overlap */
        bool volume;    /* the cluster's volumes start or stop taking room (else: it runs) */
        size_t cluster;
} edge;

static int edge_cmp(const void *a, const void *b) {
        const edge *x = a, *y = b;
        if (x->t != y->t)
                return x->t < y->t ? -1 : 1;
        return x->delta - y->delta;
}

typedef struct sweep {
        const vcm_repo *repo;
        const uint64_t *rank;
        size_t *active;          /* cluster indices, kept sorted by rank */
        size_t n_active;
        size_t *holders;         /* clusters whose volumes exist, sorted by rank */
        size_t n_holders;
        size_t *place;           /* this interval: active clusters not refused for storage */
        size_t n_place;
        bool *vol_failed;        /* this interval: volumes refused */
        const uint64_t *demand;  /* volume bytes per cluster */
        bool count_storage;      /* volumes counted on the storage hosts (lvm-iscsi) */
        size_t *vol_host;        /* per cluster: the storage host its volumes are on, while they
                                  * exist (never moved, as in reconcile); SIZE_MAX: none yet */
        uint64_t *stor_used;     /* this interval: bytes per site host */
        bool *reported;          /* per cluster: conflict recorded */
        vcm_resource_set *none;  /* empty observation: a reservation check assumes nothing runs */
        /* Active sets already found to fit entirely (hash -> copy of the set): weekly slots
         * repeat the same sets, which need not be placed again. */
        uint64_t *memo_hash;
        size_t **memo_set;
        size_t *memo_n;
        size_t memo_cap, memo_used;
} sweep;

static bool rank_before(const sweep *s, size_t a, size_t b) {
        if (s->rank[a] != s->rank[b])
                return s->rank[a] < s->rank[b];
        return a < b;
}

static void set_add(sweep *s, size_t *set, size_t *n, size_t c) {
        size_t i = *n;
        while (i > 0 && rank_before(s, c, set[i - 1])) {
                set[i] = set[i - 1];
                i--;
        }
        set[i] = c;
        (*n)++;
}

static void set_remove(size_t *set, size_t *n, size_t c) {
        for (size_t i = 0; i < *n; i++)
                if (set[i] == c) {
                        memmove(&set[i], &set[i + 1], (*n - i - 1) * sizeof(*set));
                        (*n)--;
                        return;
                }
}

static uint64_t set_hash(const sweep *s) {
        return vcm_hash_mix(vcm_fnv1a(VCM_FNV_INIT, s->place, s->n_place * sizeof(*s->place)));
}

static size_t memo_slot(const sweep *s, uint64_t h) {
        size_t mask = s->memo_cap - 1, i = (size_t)h & mask;
        while (s->memo_set[i]) {
                if (s->memo_hash[i] == h && s->memo_n[i] == s->n_place &&
                    memcmp(s->memo_set[i], s->place, s->n_place * sizeof(size_t)) == 0)
                        return i;
                i = (i + 1) & mask;
        }
        return i;
}

static bool memo_has(const sweep *s, uint64_t h) {
        return s->memo_cap && s->memo_set[memo_slot(s, h)] != NULL;
}

static void memo_put(sweep *s, uint64_t h) {
        if ((s->memo_used + 1) * 2 > s->memo_cap) {
                size_t old_cap = s->memo_cap;
                uint64_t *oh = s->memo_hash;
                size_t **os = s->memo_set, *on = s->memo_n;
                s->memo_cap = old_cap ? old_cap * 2 : 256;
                s->memo_hash = xcalloc(s->memo_cap, sizeof(*s->memo_hash));
                s->memo_set = xcalloc(s->memo_cap, sizeof(*s->memo_set));
                s->memo_n = xcalloc(s->memo_cap, sizeof(*s->memo_n));
                size_t mask = s->memo_cap - 1;
                for (size_t i = 0; i < old_cap; i++) {
                        if (!os[i])
                                continue;
                        size_t j = (size_t)oh[i] & mask;
                        while (s->memo_set[j])
                                j = (j + 1) & mask;
                        s->memo_hash[j] = oh[i];
                        s->memo_set[j] = os[i];
                        s->memo_n[j] = on[i];
                }
                free(oh);
                free(os);
                free(on);
        }
        size_t i = memo_slot(s, h);
        size_t *copy = xmalloc((s->n_place ? s->n_place : 1) * sizeof(size_t));
        memcpy(copy, s->place, s->n_place * sizeof(size_t));
        s->memo_hash[i] = h;
        s->memo_set[i] = copy;
        s->memo_n[i] = s->n_place;
        s->memo_used++;
}

static int name_cmp(const void *a, const void *b, void *repo) {
        const vcm_repo *r = repo;
        return strcmp(r->clusters[*(const size_t *)a].name, r->clusters[*(const size_t *)b].name);
}

/* `others`: the clusters competing for the same thing (running ones, or volume holders). */
static vcm_capacity_conflict *conflict_add(sweep *s, vcm_capacity_report *rep, size_t c,
                                           int64_t at, int64_t until, const vcm_place_failure *f,
                                           const size_t *others, size_t n_others) {
        rep->conflicts = xrealloc(rep->conflicts, (rep->n_conflicts + 1) * sizeof(*rep->conflicts));
        vcm_capacity_conflict *k = &rep->conflicts[rep->n_conflicts++];
        *k = (vcm_capacity_conflict){ .cluster = c, .at = at, .until = until, .failure = *f };
        k->with = xmalloc((n_others ? n_others : 1) * sizeof(*k->with));
        for (size_t i = 0; i < n_others; i++)
                if (others[i] != c)
                        k->with[k->n_with++] = others[i];
        qsort_r(k->with, k->n_with, sizeof(*k->with), name_cmp, (void *)s->repo);
        s->reported[c] = true;
        return k;
}

/* Cluster c's volumes fit on no storage host: the conflict names the host with the most room
 * and, with several, every host's free room. */
static void storage_conflict(sweep *s, vcm_capacity_report *rep, size_t c, int64_t t,
                             int64_t until) {
        const vcm_site *site = s->repo->site;
        vcm_place_failure f = { .role = VCM_ROLE_STORAGE };
        vcm_capacity_conflict *k = conflict_add(s, rep, c, t, until, &f, s->holders, s->n_holders);
        k->storage = true;
        k->need_storage = s->demand[c];
        size_t n_counted = 0;
        for (size_t h = 0; h < site->n_hosts; h++) {
                const vcm_host *host = &site->hosts[h];
                if (!vcm_storage_host_eligible(host) || !host->capacity_storage)
                        continue;
                uint64_t fr = s->stor_used[h] < host->capacity_storage
                                      ? host->capacity_storage - s->stor_used[h] : 0;
                if (n_counted++ == 0 || fr > k->free_storage) {
                        k->storage_host = host->name;
                        k->free_storage = fr;
                }
        }
        k->failure.n_candidates = n_counted;
        if (n_counted > 1)
                k->storage_free = vcm_storage_free_text(site, s->stor_used);
}

/* Volumes into the storage hosts' volume groups. As reconcile does it: volumes that exist stay on
 * their host, new ones go where vcm_storage_choose() says counting all that exist. When a new one
 * finds no room that way, the interval is placed by rank instead, as compute is (each holder in
 * rank order keeps its host if it still fits there, else chooses again), so that the holder
 * ranked last is the one refused (its cluster, Pending, runs nowhere this interval). Returns the
 * bytes used on all storage hosts. */
static uint64_t storage_check(sweep *s, vcm_capacity_report *rep, int64_t t, int64_t until) {
        if (!s->count_storage)
                return 0;
        const vcm_site *site = s->repo->site;
        uint64_t *used = s->stor_used;
        memset(used, 0, (site->n_hosts ? site->n_hosts : 1) * sizeof(*used));
        uint64_t total = 0;
        for (size_t i = 0; i < s->n_holders; i++) {
                size_t c = s->holders[i];
                if (s->vol_host[c] != SIZE_MAX) {
                        used[s->vol_host[c]] += s->demand[c];
                        total += s->demand[c];
                }
        }
        bool by_rank = false;
        for (size_t i = 0; i < s->n_holders && !by_rank; i++) {
                size_t c = s->holders[i], h;
                if (s->vol_host[c] != SIZE_MAX)
                        continue;
                if (vcm_storage_choose(site, used, s->demand[c], &h) < 0) {
                        by_rank = true;
                        break;
                }
                s->vol_host[c] = h;
                used[h] += s->demand[c];
                total += s->demand[c];
        }
        if (!by_rank)
                return total;

        memset(used, 0, (site->n_hosts ? site->n_hosts : 1) * sizeof(*used));
        total = 0;
        for (size_t i = 0; i < s->n_holders; i++) {
                size_t c = s->holders[i], h = s->vol_host[c];
                uint64_t d = s->demand[c];
                uint64_t cap = h != SIZE_MAX ? site->hosts[h].capacity_storage : 0;
                if (h == SIZE_MAX || (cap && used[h] + d > cap)) {
                        if (vcm_storage_choose(site, used, d, &h) < 0) {
                                s->vol_host[c] = SIZE_MAX;
                                s->vol_failed[c] = true;
                                if (!s->reported[c])
                                        storage_conflict(s, rep, c, t, until);
                                continue;
                        }
                }
                s->vol_host[c] = h;
                used[h] += d;
                total += d;
        }
        return total;
}

/* Place every active cluster in rank order for [t, until). */
static void interval_check(sweep *s, vcm_capacity_report *rep, int64_t t, int64_t until,
                           bool keep) {
        const vcm_site *site = s->repo->site;
        uint64_t storage_used = storage_check(s, rep, t, until);
        s->n_place = 0;
        for (size_t i = 0; i < s->n_active; i++)
                if (!s->vol_failed[s->active[i]])
                        s->place[s->n_place++] = s->active[i];
        for (size_t i = 0; i < s->n_holders; i++)
                s->vol_failed[s->holders[i]] = false;
        uint64_t h = 0;
        if (!keep) {
                h = set_hash(s);
                if (memo_has(s, h))
                        return;
        }
        rep->n_intervals++;
        vcm_capacity *cap = vcm_capacity_new(site, s->none, NULL, NULL);
        size_t placed = 0;
        for (size_t i = 0; i < s->n_place; i++) {
                size_t ci = s->place[i];
                const vcm_cluster *c = &s->repo->clusters[ci];
                vcm_placement pl = { 0 };
                vcm_cluster_state state;
                char *why = NULL;
                vcm_place_failure f = { 0 };
                int r = vcm_place_cluster_explain(cap, site, c, s->none, NULL, 0, &pl, &state,
                                                  &why, &f);
                free(why);
                if (r < 0) {
                        if (!s->reported[ci])
                                conflict_add(s, rep, ci, t, until, &f, s->active, s->n_active);
                        continue;
                }
                placed++;
                vcm_placement_clear(&pl);
        }
        if (keep) {
                rep->slices = xrealloc(rep->slices, (rep->n_slices + 1) * sizeof(*rep->slices));
                vcm_capacity_slice *sl = &rep->slices[rep->n_slices++];
                *sl = (vcm_capacity_slice){ .start = t, .end = until, .n_active = s->n_active,
                                            .n_placed = placed, .storage = storage_used };
                sl->vcpus = xcalloc(site->n_hosts ? site->n_hosts : 1, sizeof(*sl->vcpus));
                sl->memory = xcalloc(site->n_hosts ? site->n_hosts : 1, sizeof(*sl->memory));
                for (size_t hi = 0; hi < site->n_hosts; hi++) {
                        uint32_t v;
                        vcm_capacity_used(cap, hi, &v, &sl->memory[hi]);
                        sl->vcpus[hi] = v;
                }
        }
        vcm_capacity_free(cap);
        if (!keep && placed == s->n_place)
                memo_put(s, h);
}

static int64_t cluster_start(const vcm_cluster *c) {
        return c->has_window && c->window.has_start ? c->window.start : INT64_MIN;
}

static int default_rank_cmp(const void *a, const void *b, void *repo) {
        const vcm_repo *r = repo;
        const vcm_cluster *x = &r->clusters[*(const size_t *)a], *y = &r->clusters[*(const size_t *)b];
        /* Admitted first keeps its reservation; a cluster of unknown admission (a directory
         * source, or a file not yet committed) comes after the known ones. */
        if (x->admitted != y->admitted) {
                if (!x->admitted || !y->admitted)
                        return x->admitted ? -1 : 1;
                return x->admitted < y->admitted ? -1 : 1;
        }
        int64_t sx = cluster_start(x), sy = cluster_start(y);
        if (sx != sy)
                return sx < sy ? -1 : 1;
        return strcmp(x->name, y->name);
}

static int conflict_cmp(const void *a, const void *b, void *repo) {
        const vcm_capacity_conflict *x = a, *y = b;
        if (x->at != y->at)
                return x->at < y->at ? -1 : 1;
        return name_cmp(&x->cluster, &y->cluster, repo);
}

/* What a reservation asks of the site: its window and its sizes. */
static uint64_t reservation_hash(const vcm_cluster *c) {
        uint64_t h = VCM_FNV_INIT;
        const vcm_window *w = &c->window;
        int64_t bounds[4] = { c->has_window, w->has_start ? w->start : INT64_MIN,
                              w->has_end ? w->end : INT64_MAX, (int64_t)w->n_recurring };
        h = vcm_fnv1a(h, bounds, sizeof(bounds));
        for (size_t i = 0; c->has_window && i < w->n_recurring; i++) {
                const vcm_slot *s = &w->recurring[i];
                int v[3] = { s->days, s->from_minute, s->to_minute };
                h = vcm_fnv1a(h, v, sizeof(v));
                h = vcm_fnv1a(h, s->timezone, strlen(s->timezone) + 1);
        }
        uint64_t fe[4] = { c->frontend.vcpus, c->frontend.memory, c->frontend.external,
                           c->n_nodes };
        h = vcm_fnv1a(h, fe, sizeof(fe));
        for (size_t i = 0; i < c->n_nodes; i++) {
                uint64_t g[3] = { c->nodes[i].count, c->nodes[i].vcpus, c->nodes[i].memory };
                h = vcm_fnv1a(h, g, sizeof(g));
        }
        return h;
}

typedef struct rank_ctx {
        const vcm_repo *repo;
        const bool *changed;
} rank_ctx;

static int changed_rank_cmp(const void *a, const void *b, void *ctx) {
        const rank_ctx *rc = ctx;
        size_t x = *(const size_t *)a, y = *(const size_t *)b;
        if (rc->changed[x] != rc->changed[y])
                return rc->changed[x] ? 1 : -1;
        return default_rank_cmp(a, b, (void *)rc->repo);
}

void vcm_capacity_rank_default(const vcm_repo *repo, uint64_t *ret_rank) {
        size_t n = repo->n_clusters;
        size_t *order = xmalloc((n ? n : 1) * sizeof(*order));
        for (size_t i = 0; i < n; i++)
                order[i] = i;
        qsort_r(order, n, sizeof(*order), default_rank_cmp, (void *)repo);
        for (size_t i = 0; i < n; i++)
                ret_rank[order[i]] = i;
        free(order);
}

void vcm_capacity_rank_against(const vcm_repo *repo, const vcm_repo *base, uint64_t *ret_rank) {
        size_t n = repo->n_clusters;
        bool *changed = xcalloc(n ? n : 1, sizeof(*changed));
        size_t *order = xmalloc((n ? n : 1) * sizeof(*order));
        for (size_t i = 0; i < n; i++) {
                const vcm_cluster *c = &repo->clusters[i];
                const vcm_cluster *old = base ? vcm_repo_find_cluster(base, c->name) : NULL;
                changed[i] = !old || reservation_hash(old) != reservation_hash(c);
                order[i] = i;
        }
        rank_ctx rc = { repo, changed };
        qsort_r(order, n, sizeof(*order), changed_rank_cmp, &rc);
        for (size_t i = 0; i < n; i++)
                ret_rank[order[i]] = i;
        free(order);
        free(changed);
}

int64_t vcm_capacity_horizon(const vcm_repo *repo, int64_t from) {
        int64_t to = from + 8 * 86400;
        for (size_t i = 0; i < repo->n_clusters; i++) {
                const vcm_cluster *c = &repo->clusters[i];
                if (!c->has_window)
                        continue;
                if (c->window.has_end && c->window.end > to)
                        to = c->window.end;
                /* An open end: cover a week and a day of its slots after it starts. */
                if (!c->window.has_end && c->window.has_start && c->window.start + 8 * 86400 > to)
                        to = c->window.start + 8 * 86400;
        }
        return to;
}

/* Whether cluster volumes are counted: on the storage hosts of the lvm-iscsi backend, when one
 * of them gives capacity.storage. Other backends put volumes on the VM hosts: not counted. */
static bool volumes_counted(const vcm_site *site) {
        return site->storage_backend == VCM_STORAGE_LVM_ISCSI && vcm_storage_counted(site);
}

uint64_t vcm_cluster_volume_bytes(const vcm_cluster *c) {
        uint64_t sum = c->frontend.disk + c->shared_storage;
        for (size_t g = 0; g < c->n_nodes; g++)
                sum += (uint64_t)c->nodes[g].count * c->nodes[g].disk;
        return sum;
}

/* Volumes exist from the first active instant until release at the window's end; with
 * keep-volumes, for as long as the spec exists (to the end of the period). */
static bool volume_span(const vcm_cluster *c, const vcm_interval *spans, size_t n_spans,
                        int64_t from, int64_t to, vcm_interval *ret) {
        bool keep = c->on_expire == VCM_ON_EXPIRE_KEEP_VOLUMES;
        int64_t start, end = to;
        if (n_spans > 0)
                start = spans[0].start;
        else if (keep && (!c->has_window || !c->window.has_start || c->window.start < from))
                start = from; /* ended or between slots: what it kept is still there */
        else
                return false;
        if (!keep && c->has_window && c->window.has_end && c->window.end < end)
                end = c->window.end;
        if (start >= end)
                return false;
        *ret = (vcm_interval){ start, end };
        return true;
}

int vcm_capacity_check(const vcm_repo *repo, int64_t from, int64_t to,
                       const vcm_capacity_opts *opts, vcm_capacity_report **ret_report) {
        static const vcm_capacity_opts no_opts = { 0 };
        if (!opts)
                opts = &no_opts;
        if (!repo->site || from >= to)
                return -EINVAL;
        size_t n = repo->n_clusters;
        vcm_capacity_report *rep = xcalloc(1, sizeof(*rep));
        rep->from = from;
        rep->to = to;
        rep->n_clusters = n;
        rep->spans = xcalloc(n ? n : 1, sizeof(*rep->spans));
        rep->n_spans = xcalloc(n ? n : 1, sizeof(*rep->n_spans));

        size_t n_edges = 0, cap_edges = 0;
        edge *edges = NULL;
        bool counted = volumes_counted(repo->site);
        uint64_t *demand = xcalloc(n ? n : 1, sizeof(*demand));
        for (size_t i = 0; i < n; i++) {
                const vcm_cluster *c = &repo->clusters[i];
                if (c->has_window) {
                        if (vcm_window_intervals(&c->window, from, to, &rep->spans[i],
                                                 &rep->n_spans[i]) < 0)
                                continue;
                } else {
                        rep->spans[i] = xmalloc(sizeof(vcm_interval));
                        rep->spans[i][0] = (vcm_interval){ from, to };
                        rep->n_spans[i] = 1;
                }
                if (n_edges + 2 * rep->n_spans[i] + 2 > cap_edges) {
                        cap_edges = (n_edges + 2 * rep->n_spans[i] + 2) * 2;
                        edges = xrealloc(edges, cap_edges * sizeof(*edges));
                }
                for (size_t k = 0; k < rep->n_spans[i]; k++) {
                        edges[n_edges++] = (edge){ rep->spans[i][k].start, +1, false, i };
                        edges[n_edges++] = (edge){ rep->spans[i][k].end, -1, false, i };
                }
                vcm_interval vs;
                demand[i] = vcm_cluster_volume_bytes(c);
                if (counted &&
                    volume_span(c, rep->spans[i], rep->n_spans[i], from, to, &vs)) {
                        edges[n_edges++] = (edge){ vs.start, +1, true, i };
                        edges[n_edges++] = (edge){ vs.end, -1, true, i };
                }
        }
        qsort(edges, n_edges, sizeof(*edges), edge_cmp);

        uint64_t *rank = NULL;
        if (!opts->rank) {
                rank = xmalloc((n ? n : 1) * sizeof(*rank));
                vcm_capacity_rank_default(repo, rank);
        }
        sweep s = { .repo = repo, .rank = opts->rank ? opts->rank : rank };
        s.active = xmalloc((n ? n : 1) * sizeof(*s.active));
        s.holders = xmalloc((n ? n : 1) * sizeof(*s.holders));
        s.place = xmalloc((n ? n : 1) * sizeof(*s.place));
        s.vol_failed = xcalloc(n ? n : 1, sizeof(*s.vol_failed));
        s.demand = demand;
        s.count_storage = counted;
        s.vol_host = xmalloc((n ? n : 1) * sizeof(*s.vol_host));
        for (size_t i = 0; i < n; i++)
                s.vol_host[i] = SIZE_MAX;
        s.stor_used = xcalloc(repo->site->n_hosts ? repo->site->n_hosts : 1,
                              sizeof(*s.stor_used));
        s.reported = xcalloc(n ? n : 1, sizeof(*s.reported));
        s.none = vcm_resource_set_new();

        for (size_t e = 0; e < n_edges;) {
                int64_t t = edges[e].t;
                for (; e < n_edges && edges[e].t == t; e++) {
                        size_t *set = edges[e].volume ? s.holders : s.active;
                        size_t *cnt = edges[e].volume ? &s.n_holders : &s.n_active;
                        if (edges[e].delta < 0)
                                set_remove(set, cnt, edges[e].cluster);
                        else
                                set_add(&s, set, cnt, edges[e].cluster);
                        if (edges[e].delta < 0 && edges[e].volume)
                                s.vol_host[edges[e].cluster] = SIZE_MAX; /* released */
                }
                if (e < n_edges && (s.n_active > 0 || s.n_holders > 0))
                        interval_check(&s, rep, t, edges[e].t, opts->keep_slices);
        }
        if (rep->n_conflicts > 1)
                qsort_r(rep->conflicts, rep->n_conflicts, sizeof(*rep->conflicts), conflict_cmp,
                        (void *)repo);

        for (size_t i = 0; i < s.memo_cap; i++)
                free(s.memo_set[i]);
        free(s.memo_set);
        free(s.memo_hash);
        free(s.memo_n);
        vcm_resource_set_free(s.none);
        free(s.active);
        free(s.holders);
        free(s.place);
        free(s.vol_failed);
        free(s.vol_host);
        free(s.stor_used);
        free(demand);
        free(s.reported);
        free(rank);
        free(edges);
        *ret_report = rep;
        return 0;
}

void vcm_capacity_report_free(vcm_capacity_report *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_clusters; i++)
                free(r->spans[i]);
        free(r->spans);
        free(r->n_spans);
        for (size_t i = 0; i < r->n_conflicts; i++) {
                free(r->conflicts[i].with);
                free(r->conflicts[i].storage_free);
        }
        free(r->conflicts);
        for (size_t i = 0; i < r->n_slices; i++) {
                free(r->slices[i].vcpus);
                free(r->slices[i].memory);
        }
        free(r->slices);
        free(r);
}

/* ---- messages ----------------------------------------------------------------------------- */

static int offset_of(const char *like) {
        size_t len = like ? strlen(like) : 0;
        if (len < 6)
                return 0;
        const char *o = like + len - 6;
        int hh, mm;
        if ((o[0] != '+' && o[0] != '-') || o[3] != ':' || sscanf(o + 1, "%2d:%2d", &hh, &mm) != 2)
                return 0;
        return (o[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
}

void vcm_format_time_like(int64_t t, const char *like, char *buf, size_t len) {
        int off = offset_of(like);
        time_t lt = (time_t)(t + off);
        struct tm tm;
        if (!gmtime_r(&lt, &tm)) {
                snprintf(buf, len, "@%lld", (long long)t);
                return;
        }
        char base[32];
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        if (off == 0)
                snprintf(buf, len, "%sZ", base);
        else
                snprintf(buf, len, "%s%c%02d:%02d", base, off < 0 ? '-' : '+',
                         abs(off) / 3600, abs(off) % 3600 / 60);
}

static const char *role_name(unsigned role) {
        return role == VCM_ROLE_GATEWAY ? "gateway" : "vm-server";
}

/* The resource that is short: memory when no candidate has enough, then vCPUs, then (each
 * enough somewhere but never both on one host) vCPUs on the host with the most free memory. */
static char *shortfall_text(const vcm_capacity_conflict *k) {
        const vcm_place_failure *f = &k->failure;
        if (k->storage) {
                char need[32], have[32], shortby[32];
                vcm_format_size(k->need_storage, need, sizeof(need));
                vcm_format_size(k->free_storage, have, sizeof(have));
                vcm_format_size(k->need_storage - k->free_storage, shortby, sizeof(shortby));
                if (k->storage_free)
                        return xasprintf("storage volume groups short by %s (needs %s for "
                                         "volumes on one storage host; %s)", shortby, need,
                                         k->storage_free);
                return xasprintf("storage volume group short by %s (needs %s for volumes, %s "
                                 "free on %s)", shortby, need, have, k->storage_host);
        }
        const char *role = role_name(f->role);
        if (f->n_candidates == 0)
                return xasprintf("no %s host%s for %s", role,
                                 f->need_external ? " with an external bridge" : "", f->node);
        char need[32], have[32], shortby[32];
        if (f->free_memory < f->need_memory) {
                vcm_format_size(f->need_memory, need, sizeof(need));
                vcm_format_size(f->free_memory, have, sizeof(have));
                vcm_format_size(f->need_memory - f->free_memory, shortby, sizeof(shortby));
                return xasprintf("%s memory short by %s (needs %s, %s free on the best host)",
                                 role, shortby, need, have);
        }
        uint64_t fv = f->free_vcpus < f->need_vcpus ? f->free_vcpus : f->free_vcpus_on_memory_best;
        if (fv >= f->need_vcpus) /* cannot happen after a -ENOSPC, but never print nonsense */
                return xasprintf("no %s host has room for %s", role, f->node);
        return xasprintf("%s vcpus short by %llu (needs %u, %llu free on the best host)", role,
                         (unsigned long long)(f->need_vcpus - fv), f->need_vcpus,
                         (unsigned long long)fv);
}

char *vcm_capacity_conflict_message(const vcm_repo *repo, const vcm_capacity_conflict *k) {
        const vcm_cluster *c = &repo->clusters[k->cluster];
        char when[48];
        vcm_format_time_like(k->at, c->has_window ? c->window.start_text : NULL, when,
                             sizeof(when));
        char *what = shortfall_text(k);
        size_t len = 0;
        for (size_t i = 0; i < k->n_with; i++)
                len += strlen(repo->clusters[k->with[i]].name) + 2;
        char *with = xcalloc(1, len + 1);
        for (size_t i = 0; i < k->n_with; i++) {
                if (i)
                        strcat(with, ", ");
                strcat(with, repo->clusters[k->with[i]].name);
        }
        char *msg = xasprintf("cluster %s does not fit from %s: %s%s%s", c->name, when, what,
                              k->n_with ? "; overlaps with " : "", with);
        free(what);
        free(with);
        return msg;
}
