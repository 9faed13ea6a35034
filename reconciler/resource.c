/* The resource set: an array of resources with an open-addressing index on (kind, host, name). */
#include "reconciler/resource.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "reconciler/props.h"
#include "reconciler/util.h"

/* Strings and arrays of the resources a set makes come from a chunked arena: a pass creates and
 * frees hundreds of thousands of small strings, and one malloc each dominated its cost. */
typedef struct arena_chunk {
        struct arena_chunk *next;
        size_t used, cap;
        max_align_t data[];
} arena_chunk;

struct vcm_arena {
        arena_chunk *head;
};

#define ARENA_CHUNK (64 * 1024)
#define ARENA_CACHE_MAX 512 /* chunks kept for the next pass: 32 MiB */
#ifdef __SANITIZE_ADDRESS__
#define ARENA_CACHE 0 /* reuse would hide use-after-free from ASan */
#else
#define ARENA_CACHE 1
#endif

/* Freed standard chunks are kept for reuse: every pass builds and drops sets of the same size,
 * and handing the memory back to the kernel only to fault it in again cost a third of a pass. */
static pthread_mutex_t chunk_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static arena_chunk *chunk_cache;
static size_t chunk_cache_n;

static arena_chunk *chunk_new(size_t cap) {
        arena_chunk *c = NULL;
        if (cap == ARENA_CHUNK) {
                pthread_mutex_lock(&chunk_cache_lock);
                if (chunk_cache) {
                        c = chunk_cache;
                        chunk_cache = c->next;
                        chunk_cache_n--;
                }
                pthread_mutex_unlock(&chunk_cache_lock);
        }
        if (!c)
                c = xmalloc(sizeof(*c) + cap);
        c->used = 0;
        c->cap = cap;
        c->next = NULL;
        return c;
}

static void chunk_release(arena_chunk *c) {
        if (ARENA_CACHE && c->cap == ARENA_CHUNK) {
                pthread_mutex_lock(&chunk_cache_lock);
                if (chunk_cache_n < ARENA_CACHE_MAX) {
                        c->next = chunk_cache;
                        chunk_cache = c;
                        chunk_cache_n++;
                        c = NULL;
                }
                pthread_mutex_unlock(&chunk_cache_lock);
        }
        free(c);
}

static void *arena_alloc(struct vcm_arena *a, size_t n) {
        n = (n + 7) & ~(size_t)7;
        arena_chunk *c = a->head;
        if (!c || c->cap - c->used < n) {
                size_t cap = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
                arena_chunk *nc = chunk_new(cap);
                if (c && n > ARENA_CHUNK / 4) {
                        /* A big block gets its own chunk behind the current one. */
                        nc->next = c->next;
                        c->next = nc;
                } else {
                        nc->next = c;
                        a->head = nc;
                }
                c = nc;
        }
        void *p = (char *)c->data + c->used;
        c->used += n;
        return p;
}

static char *arena_strdup(struct vcm_arena *a, const char *s) {
        if (!s)
                s = "";
        size_t n = strlen(s) + 1;
        char *p = arena_alloc(a, n);
        memcpy(p, s, n);
        return p;
}

static void arena_free(struct vcm_arena *a) {
        for (arena_chunk *c = a->head, *next; c; c = next) {
                next = c->next;
                chunk_release(c);
        }
        a->head = NULL;
}

/* Move every chunk of src to dst. */
static void arena_splice(struct vcm_arena *dst, struct vcm_arena *src) {
        if (!src->head)
                return;
        arena_chunk *tail = src->head;
        while (tail->next)
                tail = tail->next;
        /* Keep dst's current chunk first so that its free space is still used. */
        if (dst->head) {
                tail->next = dst->head->next;
                dst->head->next = src->head;
        } else {
                dst->head = src->head;
        }
        src->head = NULL;
}

static char *res_strdup(vcm_resource *r, const char *s) {
        return r->arena ? arena_strdup(r->arena, s) : xstrdup(s);
}

static bool is_pow2(size_t n) {
        return n && !(n & (n - 1));
}

/* Arena arrays have an implied capacity of max(min, next power of two >= n), so they grow
 * exactly when n is zero or a power of two at least `min`. */
static bool arena_array_full(size_t n, size_t min) {
        return n == 0 || (n >= min && is_pow2(n));
}

static size_t arena_array_cap(size_t n, size_t min) {
        size_t cap = min;
        while (cap < n)
                cap *= 2;
        return cap;
}

#define PROPS_MIN 8
#define DEPS_MIN 4

struct vcm_resource_set {
        struct vcm_arena *arena;
        vcm_resource *items;
        uint64_t *hashes;  /* key hash per item, for rebuilds and removal */
        size_t n, cap;
        /* Linear probing; an entry is (upper 32 bits of the key hash) << 32 | (item index + 1),
         * 0 when empty, so that most mismatches are rejected without touching the item. */
        uint64_t *index;
        size_t index_cap;  /* power of two, at least twice the items */
};

#define ENTRY_ITEM(e) ((size_t)((e) & 0xffffffffu) - 1)
#define ENTRY_TAG(e) ((uint32_t)((e) >> 32))
#define ENTRY(h, i) (((h) & ~UINT64_C(0xffffffff)) | (uint64_t)((i) + 1))

static const char *const kind_names[VCM_KIND__COUNT] = {
        [VCM_KIND_VLAN_LINK] = "vlan-link",       [VCM_KIND_BRIDGE] = "bridge",
        [VCM_KIND_VOLUME] = "volume",             [VCM_KIND_ISCSI_TARGET] = "iscsi-target",
        [VCM_KIND_ISCSI_LUN] = "iscsi-lun",       [VCM_KIND_ISCSI_ACL] = "iscsi-acl",
        [VCM_KIND_SEED] = "seed",                 [VCM_KIND_DOMAIN] = "domain",
};

const char *vcm_kind_name(vcm_kind k) {
        return (unsigned)k < VCM_KIND__COUNT ? kind_names[k] : "?";
}

int vcm_kind_from_name(const char *s, vcm_kind *ret) {
        for (int k = 0; k < VCM_KIND__COUNT; k++)
                if (s && strcmp(s, kind_names[k]) == 0) {
                        *ret = (vcm_kind)k;
                        return 0;
                }
        return -EINVAL;
}

static uint64_t key_hash(vcm_kind kind, const char *host, const char *name) {
        uint64_t h = vcm_fnv1a(VCM_FNV_INIT, &(uint8_t){ (uint8_t)kind }, 1);
        h = vcm_fnv1a(h, host, strlen(host) + 1);
        return vcm_hash_mix(vcm_fnv1a(h, name, strlen(name)));
}

static bool key_eq(const vcm_resource *r, vcm_kind kind, const char *host, const char *name) {
        return r->kind == kind && strcmp(r->host, host) == 0 && strcmp(r->name, name) == 0;
}

void vcm_resource_clear(vcm_resource *r) {
        if (!r)
                return;
        if (r->arena) {
                /* Everything lives in the set's arena. */
                *r = (vcm_resource){ 0 };
                return;
        }
        free(r->host);
        free(r->name);
        free(r->cluster);
        for (size_t i = 0; i < r->n_props; i++) {
                free(r->props[i].key);
                free(r->props[i].value);
        }
        free(r->props);
        for (size_t i = 0; i < r->n_deps; i++) {
                free((char *)r->deps[i].host);
                free((char *)r->deps[i].name);
        }
        free(r->deps);
        *r = (vcm_resource){ 0 };
}

vcm_resource_set *vcm_resource_set_new(void) {
        vcm_resource_set *s = xcalloc(1, sizeof(vcm_resource_set));
        s->arena = xcalloc(1, sizeof(*s->arena));
        return s;
}

void vcm_resource_set_free(vcm_resource_set *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n; i++)
                vcm_resource_clear(&s->items[i]);
        free(s->items);
        free(s->hashes);
        free(s->index);
        arena_free(s->arena);
        free(s->arena);
        free(s);
}

/* Slot holding item `key`, or the empty slot where it would go. */
static size_t index_slot(const vcm_resource_set *s, uint64_t h, vcm_kind kind, const char *host,
                         const char *name) {
        size_t mask = s->index_cap - 1;
        size_t i = h & mask;
        uint32_t tag = (uint32_t)(h >> 32);
        for (uint64_t e; (e = s->index[i]); i = (i + 1) & mask)
                if (ENTRY_TAG(e) == tag && key_eq(&s->items[ENTRY_ITEM(e)], kind, host, name))
                        break;
        return i;
}

/* Slot of an item known to be in the set (by its index), for moving entries around. */
static size_t index_slot_of(const vcm_resource_set *s, size_t k) {
        size_t mask = s->index_cap - 1;
        size_t i = s->hashes[k] & mask;
        while (ENTRY_ITEM(s->index[i]) != k)
                i = (i + 1) & mask;
        return i;
}

static void index_rebuild(vcm_resource_set *s, size_t cap) {
        free(s->index);
        s->index_cap = cap;
        s->index = xcalloc(cap, sizeof(*s->index));
        size_t mask = cap - 1;
        for (size_t k = 0; k < s->n; k++) {
                size_t i = s->hashes[k] & mask;
                while (s->index[i])
                        i = (i + 1) & mask;
                s->index[i] = ENTRY(s->hashes[k], k);
        }
}

void vcm_resource_set_reserve(vcm_resource_set *s, size_t n) {
        if (n > s->cap) {
                s->cap = n;
                s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
                s->hashes = xrealloc(s->hashes, s->cap * sizeof(*s->hashes));
        }
        size_t want = s->index_cap ? s->index_cap : 64;
        while (n * 2 > want)
                want *= 2;
        if (want != s->index_cap)
                index_rebuild(s, want);
}

static vcm_resource *set_insert(vcm_resource_set *s, vcm_resource *r) {
        if (!s->index || (s->n + 1) * 2 > s->index_cap)
                index_rebuild(s, s->index_cap ? s->index_cap * 2 : 64);
        uint64_t h = key_hash(r->kind, r->host, r->name);
        size_t slot = index_slot(s, h, r->kind, r->host, r->name);
        if (s->index[slot]) {
                vcm_resource_clear(r);
                return NULL;
        }
        if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 32;
                s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
                s->hashes = xrealloc(s->hashes, s->cap * sizeof(*s->hashes));
        }
        s->items[s->n] = *r;
        s->hashes[s->n] = h;
        *r = (vcm_resource){ 0 };
        s->index[slot] = ENTRY(h, s->n);
        s->n++;
        return &s->items[s->n - 1];
}

int vcm_resource_set_add(vcm_resource_set *s, vcm_resource *r) {
        if (!r->host || !r->name) {
                vcm_resource_clear(r);
                return -EINVAL;
        }
        if (r->arena != s->arena) {
                /* A resource built by hand moves into the set's arena: its two dozen small
                 * strings each cost a malloc chunk and header, and a cache of what a site holds
                 * keeps tens of thousands of them. (Observation drafts in the set instead.) */
                if (!r->cluster)
                        vcm_resource_set_cluster(r, "");
                int ret = vcm_resource_set_add_copy(s, r);
                vcm_resource_clear(r);
                return ret;
        }
        if (!r->cluster)
                r->cluster = arena_strdup(r->arena, "");
        return set_insert(s, r) ? 0 : -EEXIST;
}

vcm_resource vcm_resource_set_draft(vcm_resource_set *s, vcm_kind kind, const char *host,
                                    const char *name) {
        return (vcm_resource){
                .kind = kind,
                .host = arena_strdup(s->arena, host),
                .name = arena_strdup(s->arena, name),
                .arena = s->arena,
        };
}

void vcm_resource_set_cluster(vcm_resource *r, const char *cluster) {
        if (!r->arena)
                free(r->cluster);
        r->cluster = res_strdup(r, cluster ? cluster : "");
}

vcm_resource *vcm_resource_set_put(vcm_resource_set *s, vcm_kind kind, const char *host,
                                   const char *name, const char *cluster) {
        vcm_resource r = {
                .kind = kind,
                .host = arena_strdup(s->arena, host),
                .name = arena_strdup(s->arena, name),
                .cluster = arena_strdup(s->arena, cluster),
                .arena = s->arena,
        };
        return set_insert(s, &r);
}

int vcm_resource_set_add_copy(vcm_resource_set *s, const vcm_resource *src) {
        vcm_resource *r = vcm_resource_set_put(s, src->kind, src->host, src->name, src->cluster);
        if (!r)
                return -EEXIST;
        r->props = arena_alloc(s->arena, arena_array_cap(src->n_props, PROPS_MIN) *
                                                 sizeof(*r->props));
        for (size_t i = 0; i < src->n_props; i++)
                r->props[i] = (vcm_prop){ arena_strdup(s->arena, src->props[i].key),
                                          arena_strdup(s->arena, src->props[i].value) };
        r->n_props = src->n_props;
        for (size_t i = 0; i < src->n_deps; i++)
                vcm_resource_add_dep(r, src->deps[i].kind, src->deps[i].host, src->deps[i].name);
        r->hash = src->hash;
        return 0;
}

size_t vcm_resource_set_merge(vcm_resource_set *dst, vcm_resource_set *src) {
        size_t dups = 0;
        vcm_resource_set_reserve(dst, dst->n + src->n);
        for (size_t i = 0; i < src->n; i++) {
                if (src->items[i].arena == src->arena)
                        src->items[i].arena = dst->arena;
                if (!set_insert(dst, &src->items[i]))
                        dups++;
        }
        arena_splice(dst->arena, src->arena);
        src->n = 0;
        if (src->index)
                memset(src->index, 0, src->index_cap * sizeof(*src->index));
        return dups;
}

int vcm_resource_set_remove(vcm_resource_set *s, vcm_kind kind, const char *host,
                            const char *name) {
        if (!s->index || !host || !name)
                return -ENOENT;
        size_t mask = s->index_cap - 1;
        size_t slot = index_slot(s, key_hash(kind, host, name), kind, host, name);
        if (!s->index[slot])
                return -ENOENT;
        size_t k = ENTRY_ITEM(s->index[slot]);
        vcm_resource_clear(&s->items[k]);
        /* Backward-shift deletion keeps every probe chain intact without tombstones. */
        s->index[slot] = 0;
        for (size_t j = (slot + 1) & mask; s->index[j]; j = (j + 1) & mask) {
                size_t home = s->hashes[ENTRY_ITEM(s->index[j])] & mask;
                /* Move j into the hole unless its home lies cyclically in (slot, j]. */
                bool stays = slot <= j ? (slot < home && home <= j) : (slot < home || home <= j);
                if (!stays) {
                        s->index[slot] = s->index[j];
                        s->index[j] = 0;
                        slot = j;
                }
        }
        /* Fill the array hole with the last item and repoint its entry. */
        size_t last = s->n - 1;
        if (k != last) {
                size_t ms = index_slot_of(s, last);
                s->items[k] = s->items[last];
                s->hashes[k] = s->hashes[last];
                s->index[ms] = ENTRY(s->hashes[k], k);
        }
        s->n--;
        return 0;
}

size_t vcm_resource_set_size(const vcm_resource_set *s) {
        return s ? s->n : 0;
}

const vcm_resource *vcm_resource_set_at(const vcm_resource_set *s, size_t i) {
        return i < s->n ? &s->items[i] : NULL;
}

vcm_resource *vcm_resource_set_at_mut(vcm_resource_set *s, size_t i) {
        return i < s->n ? &s->items[i] : NULL;
}

const vcm_resource *vcm_resource_set_find(const vcm_resource_set *s, vcm_kind kind,
                                          const char *host, const char *name) {
        if (!s || !s->index || !host || !name)
                return NULL;
        size_t slot = index_slot(s, key_hash(kind, host, name), kind, host, name);
        return s->index[slot] ? &s->items[ENTRY_ITEM(s->index[slot])] : NULL;
}

/* Index of `key` in the sorted props, or -(insertion point) - 1. */
static ssize_t prop_search(const vcm_resource *r, const char *key) {
        size_t lo = 0, hi = r->n_props;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(r->props[mid].key, key);
                if (c == 0)
                        return (ssize_t)mid;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -(ssize_t)lo - 1;
}

/* Room for one more prop; malloc'd arrays grow by realloc. */
static void props_grow(vcm_resource *r) {
        if (!r->arena) {
                r->props = xrealloc(r->props, (r->n_props + 1) * sizeof(*r->props));
                return;
        }
        if (arena_array_full(r->n_props, PROPS_MIN)) {
                size_t cap = arena_array_cap(r->n_props + 1, PROPS_MIN);
                vcm_prop *np = arena_alloc(r->arena, cap * sizeof(*np));
                if (r->n_props)
                        memcpy(np, r->props, r->n_props * sizeof(*np));
                r->props = np;
        }
}

void vcm_resource_set_prop(vcm_resource *r, const char *key, const char *value) {
        ssize_t i = prop_search(r, key);
        if (i >= 0) {
                if (!r->arena)
                        free(r->props[i].value);
                r->props[i].value = res_strdup(r, value);
                return;
        }
        size_t at = (size_t)(-i - 1);
        props_grow(r);
        memmove(&r->props[at + 1], &r->props[at], (r->n_props - at) * sizeof(*r->props));
        r->props[at] = (vcm_prop){ res_strdup(r, key), res_strdup(r, value) };
        r->n_props++;
}

void vcm_resource_set_propf(vcm_resource *r, const char *key, const char *fmt, ...) {
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof(buf)) {
                vcm_resource_set_prop(r, key, buf);
                return;
        }
        char *v = NULL;
        va_start(ap, fmt);
        if (vasprintf(&v, fmt, ap) < 0)
                abort();
        va_end(ap);
        vcm_resource_set_prop(r, key, v);
        free(v);
}

const char *vcm_resource_prop(const vcm_resource *r, const char *key) {
        ssize_t i = prop_search(r, key);
        return i >= 0 ? r->props[i].value : NULL;
}

void vcm_resource_add_dep(vcm_resource *r, vcm_kind kind, const char *host, const char *name) {
        if (!r->arena) {
                r->deps = xrealloc(r->deps, (r->n_deps + 1) * sizeof(*r->deps));
        } else if (arena_array_full(r->n_deps, DEPS_MIN)) {
                size_t cap = arena_array_cap(r->n_deps + 1, DEPS_MIN);
                vcm_res_key *nd = arena_alloc(r->arena, cap * sizeof(*nd));
                if (r->n_deps)
                        memcpy(nd, r->deps, r->n_deps * sizeof(*nd));
                r->deps = nd;
        }
        r->deps[r->n_deps++] = (vcm_res_key){ kind, res_strdup(r, host), res_strdup(r, name) };
}

bool vcm_prop_is_meta(const char *key) {
        return strncmp(key, VCM_PROP_META_PREFIX, sizeof(VCM_PROP_META_PREFIX) - 1) == 0;
}

uint64_t vcm_props_hash(const vcm_prop *props, size_t n) {
        uint64_t h = VCM_FNV_INIT;
        for (size_t i = 0; i < n; i++) {
                if (vcm_prop_is_meta(props[i].key))
                        continue;
                h = vcm_fnv1a(h, props[i].key, strlen(props[i].key));
                h = vcm_fnv1a(h, "=", 1);
                h = vcm_fnv1a(h, props[i].value, strlen(props[i].value));
                h = vcm_fnv1a(h, "\n", 1);
        }
        return h;
}

void vcm_resource_rehash(vcm_resource *r) {
        r->hash = vcm_props_hash(r->props, r->n_props);
}
