/* Internals of the libvirt provider, shared by its files. Not for use outside this folder. */
#ifndef VCM_LV_H
#define VCM_LV_H

#include <libvirt/libvirt.h>
#include <pthread.h>
#include <stdbool.h>

#include "providers/libvirt/libvirt.h"
#include "reconciler/resource.h"

typedef struct lv_conn {
        virConnectPtr conn;
        char *host;            /* site host name, for messages and observed resources */
        char *site;            /* site name: marks carry it, so one libvirtd can serve several
                                * sites (and tests) without one pruning another's resources */
        char *uri;
        const char *domain_type;   /* "kvm" or "qemu" */
        bool test_driver;          /* libvirt's test driver: no wipe, no real files */
        char *pool_path;
        pthread_mutex_t pool_lock; /* pool creation happens once even with parallel creates */
        bool pool_ready;
} lv_conn;

/* Once per process: libvirt initialised, its default error printing silenced. */
void lv_init(void);
int lv_open(const vcm_site *site, const vcm_host *host, void **ret_conn, vcm_error *err);
void lv_close(void *conn);

static inline lv_conn *lv_from_ctx(vcm_host_ctx *ctx) {
        return ctx->conn;
}

/* Report a failed libvirt call: "host H: KIND NAME: WHAT: libvirt's message". Returns a negative
 * errno derived from libvirt's error code. */
int lv_fail(vcm_error *err, const lv_conn *c, const char *kind, const char *name,
            const char *what);
/* The last libvirt error code of this thread (VIR_ERR_OK when none). */
int lv_last_code(void);

/* Hash as stored in marks: 16 lower-case hex digits. */
void lv_hash_hex(uint64_t hash, char ret[17]);
int lv_hash_parse(const char *s, uint64_t *ret);
/* A decimal property value (bytes, counts); -EINVAL when empty or not all digits. */
int lv_parse_u64(const char *s, uint64_t *ret);

/* vcm_resource_set_propf(r, key, "%lld", v) without printf: observe sets a few per resource. */
void lv_set_prop_ll(vcm_resource *r, const char *key, long long v);

/* Ownership mark shared by domains and networks. */
typedef struct lv_mark {
        char *cluster;
        char *node;
        char *appliance;
        char *commit;
        char *netid;
        uint64_t hash;
} lv_mark;
void lv_mark_clear(lv_mark *m);

/* Everything of vcm's on the host, observed in parts at once (lv_observe.c). */
int lv_observe_host(lv_conn *c, vcm_resource_set *out, vcm_error *err);

/* Domains (lv_domain.c). */
/* What one bulk stats record says of a domain; -1 where it says nothing. */
typedef struct lv_dom_stats {
        int state;
        long long vcpus;
        long long max_kib;
} lv_dom_stats;
/* Every domain of the connection, listed once per observation (bulk stats where the driver has
 * them, else a plain listing); read in ranges, possibly by several threads at once. */
typedef struct lv_dom_list {
        virDomainStatsRecordPtr *recs; /* NULL on drivers without bulk stats */
        virDomainPtr *doms;            /* borrowed from recs, or owned */
        lv_dom_stats *stats;
        size_t n;
} lv_dom_list;
int lv_domain_list(lv_conn *c, lv_dom_list *ret, vcm_error *err);
void lv_domain_list_clear(lv_dom_list *l);
/* Add the domains [from, to) of the list that carry vcm's mark of this site to `out`. */
int lv_domain_observe_range(lv_conn *c, const lv_dom_list *l, size_t from, size_t to,
                            vcm_resource_set *out, vcm_error *err);
int lv_domain_create(lv_conn *c, const vcm_resource *want, vcm_error *err);
int lv_domain_update(lv_conn *c, const vcm_resource *want, const vcm_resource *have,
                     vcm_error *err);
int lv_domain_delete(lv_conn *c, const vcm_resource *have, vcm_error *err);
/* One domain by name (the informer re-reads what an event named): 0 and nothing added when it
 * is gone or not vcm's. */
int lv_domain_observe_name(lv_conn *c, const char *name, vcm_resource_set *out, vcm_error *err);

/* Lifecycle events (lv_events.c): the provider's watch ops. */
int lv_watch_open(const vcm_site *site, const vcm_host *host, void **ret_watch, int *ret_fd,
                  vcm_error *err);
int lv_watch_read(void *watch, void (*fn)(void *userdata, vcm_kind kind, const char *name),
                  void *userdata);
void lv_watch_close(void *watch);

/* Domain XML (lv_domain_xml.c). */
/* uuid: the existing domain's, when redefining it; NULL for a new one. */
int lv_domain_xml_build(const char *domain_type, const char *site, const vcm_resource *want,
                        const char *uuid, char **ret_xml);
/* The <vcm:resource> element alone, for virDomainSetMetadata. */
int lv_domain_xml_mark(const char *site, const vcm_resource *want, char **ret_xml);
/* Parse a domain's XML. Returns 0 and fills `r`'s props and `ret_mark` when it carries vcm's
 * mark for `site`, -ENOENT when it does not, other negative errno when it cannot be parsed. */
int lv_domain_xml_parse(const char *xml, const char *site, vcm_resource *r, lv_mark *ret_mark);

/* Props that observe reads from libvirt (memory, vcpus, state) or the mark's attributes, and
 * so are not copied into the mark's <prop> children. */
bool lv_domain_key_is_read_live(const char *key);
/* Parse the mark element alone (virDomainGetMetadata): 0 and the definition props it records,
 * -ENOENT when it is not this site's mark, -ENODATA when it is a mark without (readable) recorded props
 * (read the whole XML then). */
int lv_domain_mark_parse(const char *xml, const char *site, vcm_resource *r, lv_mark *ret_mark);

/* The mark element's attributes (lv_mark_scan.c), each NULL when absent, entities decoded. */
typedef struct lv_mark_attrs {
        char *site, *cluster, *node, *appliance, *commit, *netid, *hash, *props;
} lv_mark_attrs;
/* Read `xml` without libxml2 when it is exactly one <resource .../> element with plain
 * attributes, as libvirt formats it: 0, -ENOMEM, or -EPROTO for any other form (parse it with
 * libxml2 then, which decides). */
int lv_mark_scan(const char *xml, lv_mark_attrs *ret);
void lv_mark_attrs_clear(lv_mark_attrs *a);

/* Networks (lv_network.c). */
int lv_network_observe(lv_conn *c, vcm_resource_set *out, vcm_error *err);
int lv_network_create(lv_conn *c, const vcm_resource *want, vcm_error *err);
int lv_network_delete(lv_conn *c, const vcm_resource *have, vcm_error *err);
/* Read vcm's mark from a network's XML: -ENOENT when there is none. */
int lv_network_xml_mark(const char *xml, const char *site, lv_mark *ret);

/* One listing of vcm's pool for an observation (lv_pool_list.c): refreshed, sorted by name. */
typedef struct lv_pool_vol {
        char *name;
        virStorageVolPtr vol;
} lv_pool_vol;
typedef struct lv_pool_list {
        virStoragePoolPtr pool; /* NULL: vcm has no pool on this host (then n is 0) */
        lv_pool_vol *vols;
        size_t n;
} lv_pool_list;

/* Volumes (lv_volume.c). */
int lv_volume_observe(lv_conn *c, const lv_pool_list *l, vcm_resource_set *out, vcm_error *err);
/* Create, or finish and re-mark an existing vcm volume (grow only). `have`: the observed volume
 * on update, NULL on create (when nothing of that name was observed). */
int lv_volume_create(lv_conn *c, const vcm_resource *want, const vcm_resource *have,
                     vcm_error *err);
int lv_volume_update(lv_conn *c, const vcm_resource *want, const vcm_resource *have,
                     vcm_error *err);
int lv_volume_delete(lv_conn *c, const vcm_resource *have, vcm_error *err);
/* Shared with seeds (lv_seed.c): vcm's pool ("vcm", marked; -ENOENT when absent and !create),
 * the names of its volumes in one bulk call, and the site fingerprint markers carry. */
int lv_pool_get(lv_conn *c, bool create, virStoragePoolPtr *ret, vcm_error *err);
int lv_pool_names(lv_conn *c, virStoragePoolPtr pool, char ***ret_names, size_t *ret_n,
                  virStorageVolPtr **ret_vols, vcm_error *err);
void lv_names_free(char **names, size_t n);
void lv_site_tag(const char *site, char ret[9]);
/* An empty raw volume of `size` bytes (names checked by the caller: no markup characters). */
int lv_vol_create_empty(lv_conn *c, virStoragePoolPtr pool, const char *name, uint64_t size,
                        virStorageVolPtr *ret, vcm_error *err);
/* vcm's pool refreshed and listed (lv_pool_list.c); an empty list when it has no pool here. */
int lv_pool_list_read(lv_conn *c, lv_pool_list *ret, vcm_error *err);
void lv_pool_list_clear(lv_pool_list *l);
/* The volume of that name, or NULL. */
const lv_pool_vol *lv_pool_list_find(const lv_pool_list *l, const char *name);

/* Seeds (lv_seed.c): the node's NoCloud image, a volume in vcm's pool. */
int lv_seed_observe(lv_conn *c, const lv_pool_list *l, vcm_resource_set *out, vcm_error *err);
/* `have`: the observed seed on update, NULL on create (nothing of that name observed). */
int lv_seed_create(lv_conn *c, const vcm_resource *want, const vcm_resource *have,
                   vcm_error *err);
int lv_seed_delete(lv_conn *c, const vcm_resource *have, vcm_error *err);

/* Small XML helpers over libxml2 (lv_xml.c): parse a document and read the mark element. */
struct _xmlNode;
/* -ENOENT when there is no mark, or when the mark belongs to another site. */
int lv_xml_read_mark(struct _xmlNode *metadata, const char *site, lv_mark *ret);
/* The same for the mark element itself (virDomainGetMetadata gives it without its namespace:
 * libvirt already picked it by namespace). */
int lv_xml_read_mark_element(struct _xmlNode *mark, const char *site, lv_mark *ret);

#endif
