/* The JSON forms of what crosses the agent protocol: the site (the agent has no spec files, so
 * open() carries everything a host-side provider may read from the site) and resources. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/agent/agent_internal.h"
#include "reconciler/util.h"

static const char *const role_names[] = { "gateway", "vm-server", "storage" };
static const char *const net_names[] = { [VCM_NET_VLAN] = "vlan", [VCM_NET_BRIDGE] = "bridge" };
static const char *const storage_names[] = { [VCM_STORAGE_LVM_ISCSI] = "lvm-iscsi",
                                             [VCM_STORAGE_LVM] = "lvm",
                                             [VCM_STORAGE_FILE] = "file" };
static const char *const domain_type_names[] = { [VCM_DOMAIN_TYPE_AUTO] = "auto",
                                                 [VCM_DOMAIN_TYPE_KVM] = "kvm",
                                                 [VCM_DOMAIN_TYPE_QEMU] = "qemu" };

json_t *agent_json_str(const char *s) {
        if (!s)
                return json_null();
        json_t *j = json_string(s);
        if (j)
                return j;
        /* Not valid UTF-8: keep ASCII, mark the rest. */
        char *copy = xstrdup(s);
        for (char *p = copy; *p; p++)
                if ((unsigned char)*p >= 0x80)
                        *p = '?';
        j = json_string(copy);
        free(copy);
        return j;
}

const char *agent_errno_name(int errnum, char *buf, size_t len) {
        const char *n = strerrorname_np(errnum);
        if (n)
                return n;
        snprintf(buf, len, "E%d", errnum);
        return buf;
}

/* ---- encoding -------------------------------------------------------------------------------- */

static void set_str(json_t *o, const char *key, const char *value) {
        if (value)
                json_object_set_new(o, key, agent_json_str(value));
}

static json_t *host_json(const vcm_host *h) {
        json_t *o = json_object();
        set_str(o, "name", h->name);
        json_t *roles = json_array();
        for (size_t i = 0; i < ELEMENTSOF(role_names); i++)
                if (h->roles & (1u << i))
                        json_array_append_new(roles, json_string(role_names[i]));
        json_object_set_new(o, "roles", roles);
        set_str(o, "libvirt", h->libvirt);
        if (h->agent) {
                json_t *argv = json_array();
                for (size_t i = 0; i < h->n_agent; i++)
                        json_array_append_new(argv, agent_json_str(h->agent[i]));
                json_object_set_new(o, "agent", argv);
        }
        json_object_set_new(o, "capacity",
                            json_pack("{s:I,s:I,s:I}", "vcpus", (json_int_t)h->capacity_vcpus,
                                      "memory", (json_int_t)h->capacity_memory, "storage",
                                      (json_int_t)h->capacity_storage));
        set_str(o, "trunk", h->trunk);
        set_str(o, "external", h->external);
        set_str(o, "volumeGroup", h->volume_group);
        set_str(o, "portal", h->portal);
        set_str(o, "poolPath", h->pool_path);
        if ((size_t)h->domain_type < ELEMENTSOF(domain_type_names))
                set_str(o, "domainType", domain_type_names[h->domain_type]);
        return o;
}

static json_t *image_json(const vcm_image *im) {
        json_t *o = json_object();
        set_str(o, "appliance", im->appliance);
        set_str(o, "volume", im->volume);
        set_str(o, "file", im->file);
        set_str(o, "kernel", im->kernel);
        set_str(o, "initrd", im->initrd);
        set_str(o, "cmdline", im->cmdline);
        return o;
}

json_t *agent_json_site(const vcm_site *s) {
        json_t *o = json_object();
        set_str(o, "name", s->name);
        json_object_set_new(o, "network",
                            json_pack("{s:s,s:I,s:I}", "backend", net_names[s->network_backend],
                                      "vlanFrom", (json_int_t)s->vlan_from, "vlanTo",
                                      (json_int_t)s->vlan_to));
        json_object_set_new(o, "storage",
                            json_pack("{s:s}", "backend", storage_names[s->storage_backend]));
        json_t *hosts = json_array();
        for (size_t i = 0; i < s->n_hosts; i++)
                json_array_append_new(hosts, host_json(&s->hosts[i]));
        json_object_set_new(o, "hosts", hosts);
        json_t *images = json_array();
        for (size_t i = 0; i < s->n_images; i++)
                json_array_append_new(images, image_json(&s->images[i]));
        json_object_set_new(o, "images", images);
        return o;
}

json_t *agent_json_resource(const vcm_resource *r) {
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string(vcm_kind_name(r->kind)));
        set_str(o, "host", r->host);
        set_str(o, "name", r->name);
        set_str(o, "cluster", r->cluster);
        json_t *props = json_object();
        for (size_t i = 0; i < r->n_props; i++)
                json_object_set_new(props, r->props[i].key, agent_json_str(r->props[i].value));
        json_object_set_new(o, "props", props);
        /* 64 bits do not fit JSON numbers everywhere: hex. */
        char hash[17];
        snprintf(hash, sizeof(hash), "%016" PRIx64, r->hash);
        json_object_set_new(o, "hash", json_string(hash));
        if (r->n_deps > 0) {
                json_t *deps = json_array();
                for (size_t i = 0; i < r->n_deps; i++)
                        json_array_append_new(deps, json_pack("{s:s,s:o,s:o}", "kind",
                                                              vcm_kind_name(r->deps[i].kind),
                                                              "host", agent_json_str(r->deps[i].host),
                                                              "name", agent_json_str(r->deps[i].name)));
                json_object_set_new(o, "deps", deps);
        }
        return o;
}

/* ---- decoding -------------------------------------------------------------------------------- */

typedef struct decoder {
        char *why;
        size_t why_len;
        bool failed;
} decoder;

static void fail(decoder *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(decoder *d, const char *fmt, ...) {
        if (d->failed)
                return;
        d->failed = true;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->why, d->why_len, fmt, ap);
        va_end(ap);
}

/* A string member: NULL when absent or null; an error when present with another type. */
static char *get_str(decoder *d, const json_t *o, const char *where, const char *key,
                     bool required) {
        const json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v)) {
                if (required)
                        fail(d, "%s: '%s' is missing", where, key);
                return NULL;
        }
        if (!json_is_string(v)) {
                fail(d, "%s: '%s' must be a string", where, key);
                return NULL;
        }
        return xstrdup(json_string_value(v));
}

static uint64_t get_uint(decoder *d, const json_t *o, const char *where, const char *key,
                         uint64_t max) {
        const json_t *v = json_object_get(o, key);
        if (!v)
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            (uint64_t)json_integer_value(v) > max) {
                fail(d, "%s: '%s' must be an integer from 0 to %" PRIu64, where, key, max);
                return 0;
        }
        return (uint64_t)json_integer_value(v);
}

static int get_enum(decoder *d, const json_t *o, const char *where, const char *key,
                    const char *const *names, size_t n) {
        _cleanup_free_ char *s = get_str(d, o, where, key, false);
        if (!s)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (names[i] && strcmp(s, names[i]) == 0)
                        return (int)i;
        fail(d, "%s: unknown %s '%s'", where, key, s);
        return 0;
}

static const json_t *get_obj(decoder *d, const json_t *o, const char *where, const char *key) {
        const json_t *v = json_object_get(o, key);
        if (v && !json_is_object(v)) {
                fail(d, "%s: '%s' must be an object", where, key);
                return NULL;
        }
        return v;
}

static const json_t *get_arr(decoder *d, const json_t *o, const char *where, const char *key) {
        const json_t *v = json_object_get(o, key);
        if (v && !json_is_array(v)) {
                fail(d, "%s: '%s' must be an array", where, key);
                return NULL;
        }
        return v;
}

static void host_from_json(decoder *d, const json_t *o, size_t index, vcm_host *h) {
        char where[64];
        snprintf(where, sizeof(where), "site.hosts[%zu]", index);
        if (!json_is_object(o)) {
                fail(d, "%s must be an object", where);
                return;
        }
        h->name = get_str(d, o, where, "name", true);
        const json_t *roles = get_arr(d, o, where, "roles");
        size_t i;
        const json_t *v;
        json_array_foreach(roles, i, v) {
                bool known = false;
                for (size_t k = 0; k < ELEMENTSOF(role_names); k++)
                        if (json_is_string(v) && strcmp(json_string_value(v), role_names[k]) == 0) {
                                h->roles |= 1u << k;
                                known = true;
                        }
                if (!known)
                        fail(d, "%s: unknown role at roles[%zu]", where, i);
        }
        h->libvirt = get_str(d, o, where, "libvirt", false);
        const json_t *agent = get_arr(d, o, where, "agent");
        if (agent) {
                h->n_agent = json_array_size(agent);
                h->agent = xcalloc(h->n_agent + 1, sizeof(char *));
                json_array_foreach(agent, i, v) {
                        if (!json_is_string(v)) {
                                fail(d, "%s: agent[%zu] must be a string", where, i);
                                h->agent[i] = xstrdup("");
                        } else {
                                h->agent[i] = xstrdup(json_string_value(v));
                        }
                }
        }
        const json_t *cap = get_obj(d, o, where, "capacity");
        if (cap) {
                h->capacity_vcpus = (uint32_t)get_uint(d, cap, where, "vcpus", UINT32_MAX);
                h->capacity_memory = get_uint(d, cap, where, "memory", INT64_MAX);
                h->capacity_storage = get_uint(d, cap, where, "storage", INT64_MAX);
        }
        h->trunk = get_str(d, o, where, "trunk", false);
        h->external = get_str(d, o, where, "external", false);
        h->volume_group = get_str(d, o, where, "volumeGroup", false);
        h->portal = get_str(d, o, where, "portal", false);
        h->pool_path = get_str(d, o, where, "poolPath", false);
        h->domain_type = (vcm_domain_type)get_enum(d, o, where, "domainType", domain_type_names,
                                                   ELEMENTSOF(domain_type_names));
}

static void image_from_json(decoder *d, const json_t *o, size_t index, vcm_image *im) {
        char where[64];
        snprintf(where, sizeof(where), "site.images[%zu]", index);
        if (!json_is_object(o)) {
                fail(d, "%s must be an object", where);
                return;
        }
        im->appliance = get_str(d, o, where, "appliance", true);
        im->volume = get_str(d, o, where, "volume", false);
        im->file = get_str(d, o, where, "file", false);
        im->kernel = get_str(d, o, where, "kernel", false);
        im->initrd = get_str(d, o, where, "initrd", false);
        im->cmdline = get_str(d, o, where, "cmdline", false);
}

int agent_site_from_json(const json_t *j, vcm_repo **ret_repo, char *why, size_t why_len) {
        decoder d = { .why = why, .why_len = why_len };
        if (!json_is_object(j)) {
                snprintf(why, why_len, "'site' must be an object");
                return -EINVAL;
        }
        /* A repository of just the site, so that the model's own destructor frees it. */
        vcm_repo *repo = xcalloc(1, sizeof(*repo));
        vcm_site *s = repo->site = xcalloc(1, sizeof(*s));
        s->name = get_str(&d, j, "site", "name", true);
        const json_t *net = get_obj(&d, j, "site", "network");
        if (net) {
                s->network_backend = (vcm_net_backend)get_enum(&d, net, "site.network", "backend",
                                                               net_names, ELEMENTSOF(net_names));
                s->vlan_from = (uint32_t)get_uint(&d, net, "site.network", "vlanFrom", 4094);
                s->vlan_to = (uint32_t)get_uint(&d, net, "site.network", "vlanTo", 4094);
        }
        const json_t *st = get_obj(&d, j, "site", "storage");
        if (st)
                s->storage_backend = (vcm_storage_backend)get_enum(
                        &d, st, "site.storage", "backend", storage_names, ELEMENTSOF(storage_names));
        const json_t *hosts = get_arr(&d, j, "site", "hosts");
        if (hosts && json_array_size(hosts) > 0) {
                s->hosts = xcalloc(json_array_size(hosts), sizeof(*s->hosts));
                size_t i;
                const json_t *v;
                json_array_foreach(hosts, i, v) {
                        s->n_hosts++;
                        host_from_json(&d, v, i, &s->hosts[i]);
                }
        }
        const json_t *images = get_arr(&d, j, "site", "images");
        if (images && json_array_size(images) > 0) {
                s->images = xcalloc(json_array_size(images), sizeof(*s->images));
                size_t i;
                const json_t *v;
                json_array_foreach(images, i, v) {
                        s->n_images++;
                        image_from_json(&d, v, i, &s->images[i]);
                }
        }
        if (d.failed) {
                vcm_repo_free(repo);
                return -EINVAL;
        }
        *ret_repo = repo;
        return 0;
}

static int kind_of(decoder *d, const json_t *o, const char *where, vcm_kind *ret) {
        const json_t *v = json_object_get(o, "kind");
        if (!json_is_string(v)) {
                fail(d, "%s: 'kind' must be a string", where);
                return -EINVAL;
        }
        if (vcm_kind_from_name(json_string_value(v), ret) < 0) {
                fail(d, "%s: unknown kind '%s'", where, json_string_value(v));
                return -EINVAL;
        }
        return 0;
}

static const char *str_of(decoder *d, const json_t *o, const char *where, const char *key) {
        const json_t *v = json_object_get(o, key);
        if (!json_is_string(v) || json_string_length(v) == 0) {
                fail(d, "%s: '%s' must be a non-empty string", where, key);
                return NULL;
        }
        return json_string_value(v);
}

int agent_resource_from_json(const json_t *j, vcm_resource_set *set, const char *what, char *why,
                             size_t why_len) {
        decoder d = { .why = why, .why_len = why_len };
        if (!json_is_object(j)) {
                snprintf(why, why_len, "%s: a resource must be an object", what);
                return -EINVAL;
        }
        vcm_kind kind;
        if (kind_of(&d, j, what, &kind) < 0)
                return -EINVAL;
        const char *host = str_of(&d, j, what, "host");
        const char *name = str_of(&d, j, what, "name");
        const char *cluster = str_of(&d, j, what, "cluster");
        const json_t *props = get_obj(&d, j, what, "props");
        const json_t *deps = get_arr(&d, j, what, "deps");
        const json_t *hash = json_object_get(j, "hash");
        uint64_t h = 0;
        if (hash) {
                const char *hs = json_string_value(hash);
                char *end = NULL;
                errno = 0;
                if (hs && *hs)
                        h = strtoull(hs, &end, 16);
                if (!hs || !*hs || *end || errno || strlen(hs) > 16)
                        fail(&d, "%s: 'hash' must be 1 to 16 hex digits", what);
        }
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)props, key, v)
                if (!json_is_string(v))
                        fail(&d, "%s: props.%s must be a string", what, key);
        size_t i;
        json_array_foreach(deps, i, v) {
                vcm_kind dk;
                if (!json_is_object(v))
                        fail(&d, "%s: deps[%zu] must be an object", what, i);
                else if (kind_of(&d, v, "deps", &dk) == 0) {
                        str_of(&d, v, "deps", "host");
                        str_of(&d, v, "deps", "name");
                }
        }
        if (d.failed)
                return -EINVAL;

        vcm_resource *r = vcm_resource_set_put(set, kind, host, name, cluster);
        if (!r) {
                snprintf(why, why_len, "resource %s %s on %s given twice", vcm_kind_name(kind),
                         name, host);
                return -EEXIST;
        }
        json_object_foreach((json_t *)props, key, v)
                vcm_resource_set_prop(r, key, json_string_value(v));
        json_array_foreach(deps, i, v) {
                vcm_kind dk;
                vcm_kind_from_name(json_string_value(json_object_get(v, "kind")), &dk);
                vcm_resource_add_dep(r, dk, json_string_value(json_object_get(v, "host")),
                                     json_string_value(json_object_get(v, "name")));
        }
        if (hash)
                r->hash = h;
        else
                vcm_resource_rehash(r);
        return 0;
}
