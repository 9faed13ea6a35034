/* The resource set: an array of resources with an open-addressing index on (kind, host, name). */
#include "reconciler/resource.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "reconciler/props.h"
#include "reconciler/util.h"

struct vcm_resource_set {
        vcm_resource *items;
        size_t n, cap;
        uint32_t *index;   /* slot -> item index + 1; 0 is empty. Linear probing. */
        size_t index_cap;  /* power of two, at least 2 * cap */
};

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
        return vcm_fnv1a(h, name, strlen(name));
}

static bool key_eq(const vcm_resource *r, vcm_kind kind, const char *host, const char *name) {
        return r->kind == kind && strcmp(r->host, host) == 0 && strcmp(r->name, name) == 0;
}

void vcm_resource_clear(vcm_resource *r) {
        if (!r)
                return;
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
        return xcalloc(1, sizeof(vcm_resource_set));
}

void vcm_resource_set_free(vcm_resource_set *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n; i++)
                vcm_resource_clear(&s->items[i]);
        free(s->items);
        free(s->index);
        free(s);
}

/* Slot holding item `key`, or the empty slot where it would go. */
static size_t index_slot(const vcm_resource_set *s, vcm_kind kind, const char *host,
                         const char *name) {
        size_t mask = s->index_cap - 1;
        size_t i = key_hash(kind, host, name) & mask;
        while (s->index[i] && !key_eq(&s->items[s->index[i] - 1], kind, host, name))
                i = (i + 1) & mask;
        return i;
}

static void index_rebuild(vcm_resource_set *s, size_t cap) {
        free(s->index);
        s->index_cap = cap;
        s->index = xcalloc(cap, sizeof(*s->index));
        for (size_t k = 0; k < s->n; k++) {
                const vcm_resource *r = &s->items[k];
                s->index[index_slot(s, r->kind, r->host, r->name)] = (uint32_t)(k + 1);
        }
}

static vcm_resource *set_insert(vcm_resource_set *s, vcm_resource *r) {
        if (!s->index || (s->n + 1) * 2 > s->index_cap)
                index_rebuild(s, s->index_cap ? s->index_cap * 2 : 64);
        size_t slot = index_slot(s, r->kind, r->host, r->name);
        if (s->index[slot]) {
                vcm_resource_clear(r);
                return NULL;
        }
        if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 32;
                s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
        }
        s->items[s->n] = *r;
        *r = (vcm_resource){ 0 };
        s->index[slot] = (uint32_t)(++s->n);
        return &s->items[s->n - 1];
}

int vcm_resource_set_add(vcm_resource_set *s, vcm_resource *r) {
        return set_insert(s, r) ? 0 : -EEXIST;
}

vcm_resource *vcm_resource_set_put(vcm_resource_set *s, vcm_kind kind, const char *host,
                                   const char *name, const char *cluster) {
        vcm_resource r = {
                .kind = kind,
                .host = xstrdup(host),
                .name = xstrdup(name),
                .cluster = xstrdup(cluster ? cluster : ""),
        };
        return set_insert(s, &r);
}

int vcm_resource_set_add_copy(vcm_resource_set *s, const vcm_resource *src) {
        vcm_resource *r = vcm_resource_set_put(s, src->kind, src->host, src->name, src->cluster);
        if (!r)
                return -EEXIST;
        r->props = xcalloc(src->n_props ? src->n_props : 1, sizeof(*r->props));
        for (size_t i = 0; i < src->n_props; i++)
                r->props[i] = (vcm_prop){ xstrdup(src->props[i].key),
                                          xstrdup(src->props[i].value) };
        r->n_props = src->n_props;
        for (size_t i = 0; i < src->n_deps; i++)
                vcm_resource_add_dep(r, src->deps[i].kind, src->deps[i].host, src->deps[i].name);
        r->hash = src->hash;
        return 0;
}

size_t vcm_resource_set_merge(vcm_resource_set *dst, vcm_resource_set *src) {
        size_t dups = 0;
        for (size_t i = 0; i < src->n; i++)
                if (!set_insert(dst, &src->items[i]))
                        dups++;
        src->n = 0;
        if (src->index)
                memset(src->index, 0, src->index_cap * sizeof(*src->index));
        return dups;
}

int vcm_resource_set_remove(vcm_resource_set *s, vcm_kind kind, const char *host,
                            const char *name) {
        if (!s->index)
                return -ENOENT;
        size_t mask = s->index_cap - 1;
        size_t slot = index_slot(s, kind, host, name);
        if (!s->index[slot])
                return -ENOENT;
        size_t k = s->index[slot] - 1;
        vcm_resource_clear(&s->items[k]);
        /* Backward-shift deletion keeps every probe chain intact without tombstones. */
        s->index[slot] = 0;
        for (size_t j = (slot + 1) & mask; s->index[j]; j = (j + 1) & mask) {
                const vcm_resource *o = &s->items[s->index[j] - 1];
                size_t home = key_hash(o->kind, o->host, o->name) & mask;
                /* Move j into the hole unless its home lies cyclically in (slot, j]. */
                bool stays = slot <= j ? (slot < home && home <= j) : (slot < home || home <= j);
                if (!stays) {
                        s->index[slot] = s->index[j];
                        s->index[j] = 0;
                        slot = j;
                }
        }
        /* Fill the array hole with the last item and repoint its slot. */
        size_t last = s->n - 1;
        if (k != last) {
                vcm_resource *m = &s->items[last];
                size_t ms = index_slot(s, m->kind, m->host, m->name);
                s->items[k] = *m;
                s->index[ms] = (uint32_t)(k + 1);
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
        size_t slot = index_slot(s, kind, host, name);
        return s->index[slot] ? &s->items[s->index[slot] - 1] : NULL;
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

static void prop_set_owned(vcm_resource *r, const char *key, char *value) {
        ssize_t i = prop_search(r, key);
        if (i >= 0) {
                free(r->props[i].value);
                r->props[i].value = value;
                return;
        }
        size_t at = (size_t)(-i - 1);
        r->props = xrealloc(r->props, (r->n_props + 1) * sizeof(*r->props));
        memmove(&r->props[at + 1], &r->props[at], (r->n_props - at) * sizeof(*r->props));
        r->props[at] = (vcm_prop){ xstrdup(key), value };
        r->n_props++;
}

void vcm_resource_set_prop(vcm_resource *r, const char *key, const char *value) {
        prop_set_owned(r, key, xstrdup(value));
}

void vcm_resource_set_propf(vcm_resource *r, const char *key, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *v = NULL;
        if (vasprintf(&v, fmt, ap) < 0)
                abort();
        va_end(ap);
        prop_set_owned(r, key, v);
}

const char *vcm_resource_prop(const vcm_resource *r, const char *key) {
        ssize_t i = prop_search(r, key);
        return i >= 0 ? r->props[i].value : NULL;
}

void vcm_resource_add_dep(vcm_resource *r, vcm_kind kind, const char *host, const char *name) {
        r->deps = xrealloc(r->deps, (r->n_deps + 1) * sizeof(*r->deps));
        r->deps[r->n_deps++] = (vcm_res_key){ kind, xstrdup(host), xstrdup(name) };
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
