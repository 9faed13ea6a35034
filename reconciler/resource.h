/* Resources: everything vcm manages, keyed by (kind, host, name), with desired properties.
 *
 * Properties are a sorted list of string key/value pairs. That keeps the engine generic: diff
 * compares them without knowing the kind, plan prints per-key changes, and the canonical form
 * gives a stable hash that providers store on the resource (domain metadata, LV tags) so that
 * observation can tell whether a resource matches the spec. */
#ifndef VCM_RESOURCE_H
#define VCM_RESOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum vcm_kind {
        /* Listed in creation order; deletion goes the other way. */
        VCM_KIND_VLAN_LINK,
        VCM_KIND_BRIDGE,
        VCM_KIND_VOLUME,
        VCM_KIND_ISCSI_TARGET,
        VCM_KIND_ISCSI_LUN,
        VCM_KIND_ISCSI_ACL,
        VCM_KIND_SEED,
        VCM_KIND_DOMAIN,
        VCM_KIND__COUNT,
} vcm_kind;

const char *vcm_kind_name(vcm_kind k);          /* "domain", "vlan-link", ... */
int vcm_kind_from_name(const char *s, vcm_kind *ret);

typedef struct vcm_prop {
        char *key;
        char *value;
} vcm_prop;

typedef struct vcm_res_key {
        vcm_kind kind;
        const char *host;
        const char *name;
} vcm_res_key;

typedef struct vcm_resource {
        vcm_kind kind;
        char *host;      /* site host name */
        char *name;      /* unique per (kind, host) */
        char *cluster;   /* owning cluster */
        vcm_prop *props; /* sorted by key, keys unique */
        size_t n_props;
        uint64_t hash;   /* of the canonical props; observed resources carry the stored hash */
        /* Resources that must exist before this one is created (and be deleted after it).
         * The strings of each key are owned by this resource. */
        vcm_res_key *deps;
        size_t n_deps;
        /* Where the strings and arrays above live: NULL for a resource built by hand (each
         * malloc'd, as vcm_resource_set_add takes them); otherwise the arena of the set that
         * made it (vcm_resource_set_put/add_copy), freed with the set. Either way, change props
         * and deps only through vcm_resource_set_prop/propf/add_dep. */
        struct vcm_arena *arena;
} vcm_resource;

/* A set of resources with an index on (kind, host, name). */
typedef struct vcm_resource_set vcm_resource_set;

vcm_resource_set *vcm_resource_set_new(void);
void vcm_resource_set_free(vcm_resource_set *s);
static inline void vcm_resource_set_freep(vcm_resource_set **s) {
        vcm_resource_set_free(*s);
}

/* Add a resource; the set takes ownership of its strings (a resource built by hand, or a draft
 * of another set, is copied into the set's arena). Either way `r` is left empty. -EEXIST when
 * the key is taken (the resource is then freed). */
int vcm_resource_set_add(vcm_resource_set *s, vcm_resource *r);
/* Convenience: a new empty resource in the set, props added afterwards with vcm_resource_set_prop. */
/* NULL when the key is taken. */
vcm_resource *vcm_resource_set_put(vcm_resource_set *s, vcm_kind kind, const char *host,
                                   const char *name, const char *cluster);
/* A resource whose strings live in the set's arena but that is not in the set yet: what
 * observation builds before it knows whether to keep it. Fill it (vcm_resource_set_prop,
 * vcm_resource_add_dep, vcm_resource_set_cluster), then add it to this set with
 * vcm_resource_set_add (no copy), or drop it with vcm_resource_clear (its few bytes stay in the
 * arena until the set is freed). */
vcm_resource vcm_resource_set_draft(vcm_resource_set *s, vcm_kind kind, const char *host,
                                    const char *name);
/* Set the owning cluster (a copy, kept where r's other strings are). */
void vcm_resource_set_cluster(vcm_resource *r, const char *cluster);
size_t vcm_resource_set_size(const vcm_resource_set *s);
/* Make room for n resources in total (saves rehashing when the size is known). */
void vcm_resource_set_reserve(vcm_resource_set *s, size_t n);
const vcm_resource *vcm_resource_set_at(const vcm_resource_set *s, size_t i);
const vcm_resource *vcm_resource_set_find(const vcm_resource_set *s, vcm_kind kind,
                                          const char *host, const char *name);

/* Set (or replace) a property; keeps props sorted. */
void vcm_resource_set_prop(vcm_resource *r, const char *key, const char *value);
void vcm_resource_set_propf(vcm_resource *r, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
const char *vcm_resource_prop(const vcm_resource *r, const char *key);
void vcm_resource_add_dep(vcm_resource *r, vcm_kind kind, const char *host, const char *name);
/* Compute r->hash from the props (FNV-1a 64 over "key=value\n" lines, in key order, skipping
 * keys that start with "meta."). */
void vcm_resource_rehash(vcm_resource *r);
uint64_t vcm_props_hash(const vcm_prop *props, size_t n);
bool vcm_prop_is_meta(const char *key);

/* Free a resource's strings (not the struct); for resources not (yet) in a set. */
void vcm_resource_clear(vcm_resource *r);
/* Deep copy of `r` into the set (fake providers, observe adapters). -EEXIST when the key is taken. */
int vcm_resource_set_add_copy(vcm_resource_set *s, const vcm_resource *r);
/* Move every resource of `src` into `dst`; `src` is left empty. Returns how many were dropped
 * because `dst` already had their key. */
size_t vcm_resource_set_merge(vcm_resource_set *dst, vcm_resource_set *src);
/* Remove by key: -ENOENT when absent. Invalidates pointers into the set. */
int vcm_resource_set_remove(vcm_resource_set *s, vcm_kind kind, const char *host,
                            const char *name);
/* Mutable access (e.g. to add props to an observed resource); NULL past the end. */
vcm_resource *vcm_resource_set_at_mut(vcm_resource_set *s, size_t i);

#endif
