/* The libvirt provider against libvirt's test driver: observe, create, update, delete of
 * bridges, volumes and domains, and that objects without vcm's mark are never listed, changed
 * or deleted even when their names look like vcm's. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "providers/libvirt/libvirt.h"
#include "providers/libvirt/lv.h" /* the mark scanner, tested directly */
#include "reconciler/props.h"
#include "reconciler/resource.h"

#include "provider_fixture.h"

#define OK(call)                                                                                   \
        do {                                                                                       \
                int r_ = (call);                                                                   \
                if (r_ != 0)                                                                       \
                        fail_msg("%s: %d: %s", #call, r_, err.message);                            \
        } while (0)

static vcm_resource_set *observe(fixture *f) {
        vcm_resource_set *s = vcm_resource_set_new();
        vcm_error err = { { 0 } };
        int r = P->observe(&f->ctx, s, &err);
        if (r < 0)
                fail_msg("observe: %s", err.message);
        return s;
}

/* Every desired prop (but state) is observed with the same value, and the stored hash is back. */
static void assert_matches(const vcm_resource *want, const vcm_resource *have) {
        assert_non_null(have);
        assert_string_equal(have->cluster, want->cluster);
        assert_true(have->hash == want->hash);
        for (size_t i = 0; i < want->n_props; i++) {
                const char *v = vcm_resource_prop(have, want->props[i].key);
                if (!v)
                        fail_msg("observed %s lacks %s", want->name, want->props[i].key);
                if (strcmp(v, want->props[i].value) != 0)
                        fail_msg("%s: %s observed as \"%s\", wanted \"%s\"", want->name,
                                 want->props[i].key, v, want->props[i].value);
        }
}

static vcm_resource *desired_domain(vcm_resource_set *s, const char *name, const char *mem) {
        vcm_resource *d = vcm_resource_set_put(s, VCM_KIND_DOMAIN, "h1", name, "c1");
        vcm_resource_set_prop(d, "node", "compute-0");
        vcm_resource_set_prop(d, "appliance", "compute");
        vcm_resource_set_prop(d, "vcpus", "2");
        vcm_resource_set_prop(d, "memory", mem);
        vcm_resource_set_prop(d, "state", "running");
        vcm_resource_set_prop(d, "disk0", "file:vcm/c1-compute-0");
        vcm_resource_set_prop(d, "disk1", "iscsi:192.0.2.10:3260/iqn.2026-01.org.vcm:c1/1");
        vcm_resource_set_prop(d, "disk1.initiator", "iqn.2026-01.org.vcm:h1");
        vcm_resource_set_prop(d, "nic0.bridge", "vcmbr7");
        vcm_resource_set_prop(d, "nic0.mac", "52:54:00:12:34:56");
        vcm_resource_set_prop(d, "boot", "kernel");
        vcm_resource_set_prop(d, "kernel", "/var/lib/vcm/images/tiny/vmlinuz");
        vcm_resource_set_prop(d, "initrd", "/var/lib/vcm/images/tiny/initrd.img");
        /* Characters that must be escaped in XML: built with libxml2, they survive. */
        vcm_resource_set_prop(d, "cmdline", "console=ttyS0 vcm.hostname=compute-0.c1 x=\"<&>'\"");
        vcm_resource_set_prop(d, "meta.commit", "0123abcd");
        vcm_resource_rehash(d);
        return d;
}

static void test_open_without_libvirt(void **state) {
        (void)state;
        vcm_host host = { .name = "st1", .roles = VCM_ROLE_STORAGE };
        vcm_site site = { .name = "lab", .hosts = &host, .n_hosts = 1 };
        vcm_error err = { { 0 } };
        void *conn = NULL;
        assert_int_equal(P->open(&site, &host, &conn, &err), -EOPNOTSUPP);
        assert_null(conn);
}

static void test_observe_empty(void **state) {
        fixture *f = *state;
        /* The test driver has its own domain "test", network "default" and pool "default-pool":
         * none of them is vcm's. */
        vcm_resource_set *s = observe(f);
        assert_int_equal(vcm_resource_set_size(s), 0);
        vcm_resource_set_free(s);
        assert_string_equal(vcm_libvirt_domain_type(f->ctx.conn), "qemu");
}

static void test_bridge_lifecycle(void **state) {
        fixture *f = *state;
        vcm_resource_set *want = vcm_resource_set_new();
        vcm_resource *b = vcm_resource_set_put(want, VCM_KIND_BRIDGE, "h1", "vcmbr7", "c1");
        vcm_resource_set_prop(b, "netid", "7");
        vcm_resource_rehash(b);
        vcm_error err = { { 0 } };
        OK(P->create(&f->ctx, b, &err));
        OK(P->create(&f->ctx, b, &err)); /* idempotent */

        vcm_resource_set *s = observe(f);
        assert_int_equal(vcm_resource_set_size(s), 1);
        assert_matches(b, vcm_resource_set_find(s, VCM_KIND_BRIDGE, "h1", "vcmbr7"));
        vcm_resource_set_free(s);

        virNetworkPtr n = virNetworkLookupByName(f->raw, "vcmbr7");
        assert_non_null(n);
        assert_int_equal(virNetworkIsActive(n), 1);
        int autostart = 0;
        virNetworkGetAutostart(n, &autostart);
        assert_int_equal(autostart, 1);
        char *xml = virNetworkGetXMLDesc(n, 0);
        assert_null(strstr(xml, "<forward")); /* isolated */
        assert_non_null(strstr(xml, "bridge name='vcmbr7'"));
        free(xml);
        virNetworkFree(n);

        const char *why;
        assert_int_equal(P->classify(VCM_KIND_BRIDGE, "netid", "7", "8", &why),
                         VCM_CHANGE_REPLACE);

        OK(P->delete(&f->ctx, b, &err));
        OK(P->delete(&f->ctx, b, &err)); /* already gone */
        s = observe(f);
        assert_int_equal(vcm_resource_set_size(s), 0);
        vcm_resource_set_free(s);
        assert_null(virNetworkLookupByName(f->raw, "vcmbr7"));
        vcm_resource_set_free(want);
}

static virStoragePoolPtr vcm_pool(fixture *f) {
        return virStoragePoolLookupByName(f->raw, VCM_FILE_POOL);
}

static void test_volume_lifecycle(void **state) {
        fixture *f = *state;
        vcm_resource_set *want = vcm_resource_set_new();
        vcm_resource *v = vcm_resource_set_put(want, VCM_KIND_VOLUME, "h1", "c1-frontend", "c1");
        vcm_resource_set_prop(v, "size", "16777216");
        vcm_resource_set_prop(v, "backend", "file");
        vcm_resource_set_prop(v, "pool", VCM_FILE_POOL);
        vcm_resource_rehash(v);
        vcm_error err = { { 0 } };
        if (P->create(&f->ctx, v, &err) < 0)
                fail_msg("create volume: %s", err.message);
        OK(P->create(&f->ctx, v, &err)); /* idempotent */

        vcm_resource_set *s = observe(f);
        assert_int_equal(vcm_resource_set_size(s), 1);
        const vcm_resource *have = vcm_resource_set_find(s, VCM_KIND_VOLUME, "h1", "c1-frontend");
        assert_matches(v, have);
        assert_null(vcm_resource_prop(have, "clone"));

        /* Grow: live. Shrink: refused, and update refuses it too. */
        const char *why = NULL;
        assert_int_equal(P->classify(VCM_KIND_VOLUME, "size", "16777216", "33554432", &why),
                         VCM_CHANGE_LIVE);
        assert_int_equal(P->classify(VCM_KIND_VOLUME, "size", "33554432", "16777216", &why),
                         VCM_CHANGE_REFUSED);
        assert_string_equal(why, "shrinking a volume loses data");
        /* The test driver cannot resize (tests/libvirtd grows a real volume); a change of the
         * clone source is live and only re-marks the volume: new hash, old marker gone. */
        vcm_resource_set *want2 = vcm_resource_set_new();
        vcm_resource *v2 = vcm_resource_set_put(want2, VCM_KIND_VOLUME, "h1", "c1-frontend", "c1");
        vcm_resource_set_prop(v2, "size", "16777216");
        vcm_resource_set_prop(v2, "backend", "file");
        vcm_resource_set_prop(v2, "pool", VCM_FILE_POOL);
        vcm_resource_set_prop(v2, "clone", "/var/lib/vcm/images/x.img");
        vcm_resource_rehash(v2);
        assert_int_equal(P->classify(VCM_KIND_VOLUME, "clone", NULL, "/x", &why),
                         VCM_CHANGE_LIVE);
        OK(P->update(&f->ctx, v2, have, &err));
        vcm_resource_set_free(s);
        s = observe(f);
        have = vcm_resource_set_find(s, VCM_KIND_VOLUME, "h1", "c1-frontend");
        assert_matches(v2, have); /* the new clone and the new hash */
        {
                virStoragePoolPtr p = vcm_pool(f);
                /* .vcm-pool, c1-frontend and exactly one marker */
                assert_int_equal(virStoragePoolNumOfVolumes(p), 3);
                virStoragePoolFree(p);
        }
        /* Shrinking is refused by update as well. */
        vcm_resource_set_prop(v, "size", "8388608");
        vcm_resource_rehash(v);
        assert_int_equal(P->update(&f->ctx, v, have, &err), -EINVAL);
        assert_non_null(strstr(err.message, "shrinking"));

        /* Clone from an image volume in the pool that is not vcm's (the operator put it there). */
        virStoragePoolPtr pool = vcm_pool(f);
        assert_non_null(pool);
        virStorageVolPtr img = virStorageVolCreateXML(
                pool, "<volume><name>img-tiny</name><capacity>1048576</capacity></volume>", 0);
        assert_non_null(img);
        vcm_resource *c = vcm_resource_set_put(want, VCM_KIND_VOLUME, "h1", "c1-compute-0", "c1");
        vcm_resource_set_prop(c, "size", "8388608");
        vcm_resource_set_prop(c, "backend", "file");
        vcm_resource_set_prop(c, "pool", VCM_FILE_POOL);
        vcm_resource_set_prop(c, "clone", "img-tiny");
        vcm_resource_rehash(c);
        if (P->create(&f->ctx, c, &err) < 0)
                fail_msg("clone: %s", err.message);
        vcm_resource_set_free(s);
        s = observe(f);
        assert_int_equal(vcm_resource_set_size(s), 2); /* img-tiny is not listed */
        assert_matches(c, vcm_resource_set_find(s, VCM_KIND_VOLUME, "h1", "c1-compute-0"));

        /* Delete both; the image stays. */
        for (size_t i = 0; i < vcm_resource_set_size(s); i++)
                if (P->delete(&f->ctx, vcm_resource_set_at(s, i), &err) < 0)
                        fail_msg("delete: %s", err.message);
        OK(P->delete(&f->ctx, c, &err)); /* already gone */
        vcm_resource_set_free(s);
        s = observe(f);
        assert_int_equal(vcm_resource_set_size(s), 0);
        vcm_resource_set_free(s);
        virStoragePoolRefresh(pool, 0);
        /* Only the image and the pool's own marker are left. */
        char *names[8];
        int n = virStoragePoolListVolumes(pool, names, 8);
        assert_int_equal(n, 2);
        for (int i = 0; i < n; i++) {
                assert_true(strcmp(names[i], "img-tiny") == 0 || strcmp(names[i], ".vcm-pool") == 0);
                free(names[i]);
        }
        assert_int_equal(virStorageVolDelete(img, 0), 0);
        virStorageVolFree(img);
        virStoragePoolFree(pool);
        vcm_resource_set_free(want);
        vcm_resource_set_free(want2);
}

static void test_domain_lifecycle(void **state) {
        fixture *f = *state;
        vcm_resource_set *want = vcm_resource_set_new();
        vcm_resource *d = desired_domain(want, "c1-compute-0", "268435456");
        vcm_error err = { { 0 } };
        if (P->create(&f->ctx, d, &err) < 0)
                fail_msg("create domain: %s", err.message);
        OK(P->create(&f->ctx, d, &err)); /* idempotent */

        vcm_resource_set *s = observe(f);
        assert_int_equal(vcm_resource_set_size(s), 1);
        const vcm_resource *have = vcm_resource_set_find(s, VCM_KIND_DOMAIN, "h1", "c1-compute-0");
        assert_matches(d, have);
        assert_string_equal(vcm_resource_prop(have, "state"), "running");

        virDomainPtr dom = virDomainLookupByName(f->raw, "c1-compute-0");
        assert_non_null(dom);
        char *xml = virDomainGetXMLDesc(dom, 0);
        assert_non_null(strstr(xml, "<serial type='file'>"));
        assert_non_null(strstr(xml, "/var/log/vcm/c1-compute-0.serial.log"));
        assert_non_null(strstr(xml, "<domain type='qemu'"));
        free(xml);

        /* Memory change: restart path; the domain is redefined and running again. */
        const char *why = NULL;
        assert_int_equal(P->classify(VCM_KIND_DOMAIN, "memory", "268435456", "536870912", &why),
                         VCM_CHANGE_RESTART);
        vcm_resource_set *want2 = vcm_resource_set_new();
        vcm_resource *d2 = desired_domain(want2, "c1-compute-0", "536870912");
        if (P->update(&f->ctx, d2, have, &err) < 0)
                fail_msg("update memory: %s", err.message);
        vcm_resource_set_free(s);
        s = observe(f);
        have = vcm_resource_set_find(s, VCM_KIND_DOMAIN, "h1", "c1-compute-0");
        assert_matches(d2, have);
        assert_string_equal(vcm_resource_prop(have, "state"), "running");

        /* State drift: destroyed behind vcm's back, observed shut off, started by update. */
        assert_int_equal(virDomainDestroy(dom), 0);
        vcm_resource_set_free(s);
        s = observe(f);
        have = vcm_resource_set_find(s, VCM_KIND_DOMAIN, "h1", "c1-compute-0");
        assert_string_equal(vcm_resource_prop(have, "state"), "shutoff");
        assert_int_equal(P->classify(VCM_KIND_DOMAIN, "state", "shutoff", "running", &why),
                         VCM_CHANGE_LIVE);
        if (P->update(&f->ctx, d2, have, &err) < 0)
                fail_msg("start: %s", err.message);
        assert_int_equal(virDomainIsActive(dom), 1);

        /* A new commit only: metadata changes in place, no restart. */
        vcm_resource_set_free(s);
        s = observe(f);
        have = vcm_resource_set_find(s, VCM_KIND_DOMAIN, "h1", "c1-compute-0");
        unsigned int id_before = virDomainGetID(dom);
        vcm_resource_set_prop(d2, "meta.commit", "feedface");
        if (P->update(&f->ctx, d2, have, &err) < 0)
                fail_msg("metadata: %s", err.message);
        assert_int_equal(virDomainGetID(dom), id_before);
        vcm_resource_set_free(s);
        s = observe(f);
        assert_string_equal(vcm_resource_prop(vcm_resource_set_find(s, VCM_KIND_DOMAIN, "h1",
                                                                    "c1-compute-0"),
                                              "meta.commit"),
                            "feedface");

        OK(P->delete(&f->ctx, d2, &err));
        OK(P->delete(&f->ctx, d2, &err));
        vcm_resource_set_free(s);
        s = observe(f);
        assert_int_equal(vcm_resource_set_size(s), 0);
        assert_null(virDomainLookupByName(f->raw, "c1-compute-0"));
        virDomainFree(dom);
        vcm_resource_set_free(s);
        vcm_resource_set_free(want);
        vcm_resource_set_free(want2);
}

/* Marks written before they recorded the definition's props (no props="1") are still read,
 * through the domain's whole XML. */
static void test_domain_old_mark(void **state) {
        fixture *f = *state;
        vcm_resource_set *want = vcm_resource_set_new();
        vcm_resource *d = desired_domain(want, "c1-compute-0", "268435456");
        vcm_error err = { { 0 } };
        OK(P->create(&f->ctx, d, &err));
        virDomainPtr dom = virDomainLookupByName(f->raw, "c1-compute-0");
        assert_non_null(dom);
        char mark[512];
        snprintf(mark, sizeof(mark),
                 "<resource site='lab' cluster='c1' node='compute-0' appliance='compute' "
                 "hash='%016" PRIx64 "' commit='0123abcd'/>", d->hash);
        assert_int_equal(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, mark,
                                              VCM_LIBVIRT_NS_PREFIX, VCM_LIBVIRT_NS,
                                              VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG),
                         0);
        char *xml = virDomainGetXMLDesc(dom, 0);
        assert_null(strstr(xml, "props="));
        free(xml);
        vcm_resource_set *s = observe(f);
        assert_int_equal(vcm_resource_set_size(s), 1);
        assert_matches(d, vcm_resource_set_find(s, VCM_KIND_DOMAIN, "h1", "c1-compute-0"));
        OK(P->delete(&f->ctx, d, &err));
        virDomainFree(dom);
        vcm_resource_set_free(s);
        vcm_resource_set_free(want);
}

/* Objects with vcm-like names but without vcm's mark: never listed, changed or deleted. */
static void test_unmarked_untouched(void **state) {
        fixture *f = *state;
        virDomainPtr dom = virDomainDefineXML(
                f->raw, "<domain type='test'><name>c1-compute-9</name><memory>65536</memory>"
                        "<metadata><x:resource xmlns:x='https://example.org/other' "
                        "cluster='c1' hash='0000000000000000'/></metadata>"
                        "<os><type>hvm</type></os></domain>");
        assert_non_null(dom);
        assert_int_equal(virDomainCreate(dom), 0);
        virNetworkPtr net = virNetworkDefineXML(
                f->raw, "<network><name>vcmbr9</name><bridge name='vcmbr9'/></network>");
        assert_non_null(net);
        /* The vcm pool exists from the volume test or is made here by a volume create. */
        vcm_resource_set *want = vcm_resource_set_new();
        vcm_resource *v = vcm_resource_set_put(want, VCM_KIND_VOLUME, "h1", "c1-tmp", "c1");
        vcm_resource_set_prop(v, "size", "1048576");
        vcm_resource_rehash(v);
        vcm_error err = { { 0 } };
        OK(P->create(&f->ctx, v, &err));
        virStoragePoolPtr pool = vcm_pool(f);
        virStorageVolPtr vol = virStorageVolCreateXML(
                pool, "<volume><name>c1-compute-9</name><capacity>1048576</capacity></volume>", 0);
        assert_non_null(vol);

        vcm_resource_set *s = observe(f);
        assert_int_equal(vcm_resource_set_size(s), 1); /* only c1-tmp */
        assert_non_null(vcm_resource_set_find(s, VCM_KIND_VOLUME, "h1", "c1-tmp"));
        vcm_resource_set_free(s);

        /* Delete by name refuses; create over them refuses and changes nothing. */
        vcm_resource_set *fake = vcm_resource_set_new();
        vcm_resource *fd = desired_domain(fake, "c1-compute-9", "268435456");
        vcm_resource *fn = vcm_resource_set_put(fake, VCM_KIND_BRIDGE, "h1", "vcmbr9", "c1");
        vcm_resource_set_prop(fn, "netid", "9");
        vcm_resource *fv = vcm_resource_set_put(fake, VCM_KIND_VOLUME, "h1", "c1-compute-9", "c1");
        vcm_resource_set_prop(fv, "size", "2097152");
        const vcm_resource *all[] = { fd, fn, fv };
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(P->delete(&f->ctx, all[i], &err), -EPERM);
                assert_non_null(strstr(err.message, "not vcm's"));
                assert_int_equal(P->create(&f->ctx, all[i], &err), -EPERM);
                assert_int_equal(P->update(&f->ctx, all[i], all[i], &err), -EPERM);
        }
        assert_int_equal(virDomainIsActive(dom), 1);
        char *xml = virDomainGetXMLDesc(dom, 0);
        assert_null(strstr(xml, VCM_LIBVIRT_NS));
        free(xml);
        xml = virNetworkGetXMLDesc(net, 0);
        assert_null(strstr(xml, VCM_LIBVIRT_NS));
        free(xml);
        virStorageVolInfo info;
        assert_int_equal(virStorageVolGetInfo(vol, &info), 0);
        assert_int_equal(info.capacity, 1048576);

        OK(P->delete(&f->ctx, v, &err));
        virDomainDestroy(dom);
        virDomainUndefine(dom);
        virDomainFree(dom);
        virNetworkUndefine(net);
        virNetworkFree(net);
        virStorageVolDelete(vol, 0);
        virStorageVolFree(vol);
        virStoragePoolFree(pool);
        vcm_resource_set_free(fake);
        vcm_resource_set_free(want);
}

/* Enough domains that observation reads them in several ranges on several threads beside the
 * networks and the pool: every marked domain is seen once with its hash, unmarked ones in
 * between never, and two observations agree exactly (the parts are merged in a fixed order). */
static void test_observe_in_parts(void **state) {
        fixture *f = *state;
        enum { N = 700 };
        vcm_resource_set *want = vcm_resource_set_new();
        vcm_error err = { { 0 } };
        char name[64];
        for (int i = 0; i < N; i++) {
                snprintf(name, sizeof(name), "c1-compute-%d", i);
                OK(P->create(&f->ctx, desired_domain(want, name, "268435456"), &err));
                if (i % 100 != 0)
                        continue;
                char xml[256];
                snprintf(xml, sizeof(xml), "<domain type='test'><name>c1-stray-%d</name>"
                         "<memory>65536</memory><os><type>hvm</type></os></domain>", i);
                virDomainPtr stray = virDomainDefineXML(f->raw, xml);
                assert_non_null(stray);
                virDomainFree(stray);
        }
        vcm_resource *v = vcm_resource_set_put(want, VCM_KIND_VOLUME, "h1", "c1-parts", "c1");
        vcm_resource_set_prop(v, "size", "1048576");
        vcm_resource_rehash(v);
        OK(P->create(&f->ctx, v, &err));

        vcm_resource_set *a = observe(f), *b = observe(f);
        assert_int_equal(vcm_resource_set_size(a), N + 1);
        assert_int_equal(vcm_resource_set_size(b), N + 1);
        for (size_t i = 0; i < vcm_resource_set_size(want); i++) {
                const vcm_resource *w = vcm_resource_set_at(want, i);
                const vcm_resource *x = vcm_resource_set_find(a, w->kind, "h1", w->name);
                if (!x)
                        fail_msg("%s not observed", w->name);
                assert_true(x->hash == w->hash);
        }
        for (size_t i = 0; i < vcm_resource_set_size(a); i++) {
                const vcm_resource *x = vcm_resource_set_at(a, i), *y = vcm_resource_set_at(b, i);
                assert_int_equal(x->kind, y->kind);
                assert_string_equal(x->name, y->name);
                assert_true(x->hash == y->hash);
        }
        vcm_resource_set_free(a);
        vcm_resource_set_free(b);

        for (size_t i = 0; i < vcm_resource_set_size(want); i++)
                OK(P->delete(&f->ctx, vcm_resource_set_at(want, i), &err));
        for (int i = 0; i < N; i += 100) {
                snprintf(name, sizeof(name), "c1-stray-%d", i);
                virDomainPtr stray = virDomainLookupByName(f->raw, name);
                assert_non_null(stray); /* not vcm's: still there */
                virDomainUndefine(stray);
                virDomainFree(stray);
        }
        a = observe(f);
        assert_int_equal(vcm_resource_set_size(a), 0);
        vcm_resource_set_free(a);
        vcm_resource_set_free(want);
}

/* A pool named "vcm" that holds someone else's files is not adopted: a private test driver
 * state from a custom XML file, where such a pool exists already. */
static void test_foreign_pool_refused(void **state) {
        (void)state;
        char path[] = "/tmp/vcm-testdriver-XXXXXX.xml";
        int fd = mkstemps(path, 4);
        assert_true(fd >= 0);
        const char *xml =
                "<node>"
                "<pool type='dir'><name>vcm</name><uuid>35bb2ad9-388a-cdfe-461a-b8907f6e53fe</uuid>"
                "<capacity>107374182400</capacity><allocation>0</allocation>"
                "<available>107374182400</available>"
                "<target><path>/vcm-pool</path></target>"
                "<volume><name>c1-frontend</name><capacity>1048576</capacity></volume>"
                "</pool></node>";
        assert_int_equal(write(fd, xml, strlen(xml)), (ssize_t)strlen(xml));
        close(fd);
        char uri[128];
        snprintf(uri, sizeof(uri), "test://%s", path);
        vcm_host host = { .name = "h2", .libvirt = uri };
        vcm_site site = { .name = "lab", .hosts = &host, .n_hosts = 1 };
        vcm_error err = { { 0 } };
        void *conn = NULL;
        int r = P->open(&site, &host, &conn, &err);
        unlink(path);
        if (r < 0)
                fail_msg("open: %s", err.message);
        vcm_host_ctx ctx = { .site = &site, .host = &host, .conn = conn };
        vcm_resource_set *s = vcm_resource_set_new();
        assert_int_equal(P->observe(&ctx, s, &err), 0);
        assert_int_equal(vcm_resource_set_size(s), 0);
        vcm_resource *v = vcm_resource_set_put(s, VCM_KIND_VOLUME, "h2", "c1-frontend", "c1");
        vcm_resource_set_prop(v, "size", "1048576");
        vcm_resource_rehash(v);
        assert_int_equal(P->create(&ctx, v, &err), -EPERM);
        assert_non_null(strstr(err.message, "not vcm's"));
        OK(P->delete(&ctx, v, &err)); /* no vcm pool: nothing of vcm's */

        vcm_resource_set_free(s);
        P->close(conn);
}

/* Two sites on one libvirtd (or a test beside a real site): each sees and touches only the
 * resources marked with its own site name. */
static void test_other_site_untouched(void **state) {
        fixture *f = *state;
        vcm_error err = { { 0 } };
        vcm_resource_set *want = vcm_resource_set_new();
        vcm_resource *d = desired_domain(want, "c9-compute-0", "268435456");
        vcm_resource *v = vcm_resource_set_put(want, VCM_KIND_VOLUME, "h1", "c9-compute-0", "c9");
        vcm_resource_set_prop(v, "size", "1048576");
        vcm_resource_set_prop(v, "backend", "file");
        vcm_resource_set_prop(v, "pool", VCM_FILE_POOL);
        vcm_resource_rehash(v);
        OK(P->create(&f->ctx, v, &err));
        OK(P->create(&f->ctx, d, &err));

        vcm_site other = f->site;
        other.name = "other-site";
        void *conn = NULL;
        OK(P->open(&other, &f->host, &conn, &err));
        vcm_host_ctx octx = { .site = &other, .host = &f->host, .conn = conn };
        vcm_resource_set *seen = vcm_resource_set_new();
        OK(P->observe(&octx, seen, &err));
        assert_null(vcm_resource_set_find(seen, VCM_KIND_DOMAIN, "h1", "c9-compute-0"));
        assert_null(vcm_resource_set_find(seen, VCM_KIND_VOLUME, "h1", "c9-compute-0"));
        assert_int_equal(P->delete(&octx, d, &err), -EPERM);
        assert_non_null(strstr(err.message, "no vcm mark of site other-site"));
        /* The volume carries no marker of the other site: refused, not wiped. */
        assert_int_equal(P->delete(&octx, v, &err), -EPERM);

        vcm_resource_set *mine = observe(f);
        assert_non_null(vcm_resource_set_find(mine, VCM_KIND_DOMAIN, "h1", "c9-compute-0"));
        assert_non_null(vcm_resource_set_find(mine, VCM_KIND_VOLUME, "h1", "c9-compute-0"));
        OK(P->delete(&f->ctx, d, &err));
        OK(P->delete(&f->ctx, v, &err));
        vcm_resource_set_free(mine);
        vcm_resource_set_free(seen);
        vcm_resource_set_free(want);
        P->close(conn);
}

/* The mark scanner reads exactly libvirt's form and decodes every entity; every other form is
 * left to libxml2 (-EPROTO), never misread. */
static void test_mark_scan(void **state) {
        (void)state;
        lv_mark_attrs a = { 0 };
        assert_int_equal(lv_mark_scan("<resource site=\"lab\" cluster=\"a&amp;b&lt;c&gt;d\" "
                                      "node='q&quot;&apos;\"' extra=\"x\" hash=\"&#48;&#x41;&#xe9;\" "
                                      "props=\"cmdline=x%3Dy &quot;&lt;&amp;&gt;&apos;\"/>\n",
                                      &a),
                         0);
        assert_string_equal(a.site, "lab");
        assert_string_equal(a.cluster, "a&b<c>d");
        assert_string_equal(a.node, "q\"'\"");
        assert_string_equal(a.hash, "0A\xc3\xa9");
        assert_string_equal(a.props, "cmdline=x%3Dy \"<&>'");
        assert_null(a.appliance);
        assert_null(a.commit);
        lv_mark_attrs_clear(&a);
        assert_int_equal(lv_mark_scan("  <resource\tsite = 'a&#10;b' />", &a), 0);
        assert_string_equal(a.site, "a\nb");
        lv_mark_attrs_clear(&a);
        assert_int_equal(lv_mark_scan("<resource/>", &a), 0);
        assert_null(a.site);
        lv_mark_attrs_clear(&a);
        const char *other[] = {
                "<vcm:resource site=\"lab\"/>",         /* prefixed element */
                "<resource vcm:site=\"lab\"/>",         /* prefixed attribute */
                "<resource site=\"lab\"></resource>",   /* not empty-element form */
                "<resource site=\"lab\"><x/></resource>",
                "<resources site=\"lab\"/>",
                "<resource site=\"lab\"cluster=\"c\"/>", /* no space between attributes */
                "<resource site=\"lab\" site=\"x\"/>",  /* redefined */
                "<resource site=\"l<b\"/>",             /* '<' in a value */
                "<resource site=\"l&b\"/>",             /* bare '&' */
                "<resource site=\"l&foo;\"/>",          /* unknown entity */
                "<resource site=\"&#1;\"/>",            /* not an XML character */
                "<resource site=\"&#;\"/>",
                "<resource site=\"&#x110000;\"/>",
                "<resource site=\"a\nb\"/>",           /* normalised by XML: libxml2's job */
                "<resource site=\"\xc3\xa9\"/>",        /* non-ASCII */
                "<resource site=\"lab\"/><x/>",         /* trailing content */
                "<resource site=\"lab\"",               /* truncated */
                "<resource site=\"lab/>",
                "<resource site=lab/>",
                "<?xml version=\"1.0\"?><resource site=\"lab\"/>",
                "",
        };
        for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
                if (lv_mark_scan(other[i], &a) != -EPROTO)
                        fail_msg("scanned, not left to libxml2: %s", other[i]);
}

/* Mark attributes with characters libvirt escapes (and one it cannot pass to the scanner)
 * survive create and observe. */
static void test_domain_tricky_mark(void **state) {
        fixture *f = *state;
        const char *clusters[] = { "c1 & <x> \"q\" 'a'", "c1\n\tx &#38;", "c1-\xc3\xa9" };
        for (size_t i = 0; i < sizeof(clusters) / sizeof(clusters[0]); i++) {
                vcm_resource_set *want = vcm_resource_set_new();
                vcm_resource *d = desired_domain(want, "c1-compute-0", "268435456");
                d->cluster = (char *)clusters[i]; /* the set's arena owns the old one */
                vcm_resource_set_prop(d, "node", "n \"<&>'");
                vcm_resource_set_prop(d, "meta.commit", "&amp; %41 ;=");
                vcm_resource_rehash(d);
                vcm_error err = { { 0 } };
                OK(P->create(&f->ctx, d, &err));
                vcm_resource_set *s = observe(f);
                assert_int_equal(vcm_resource_set_size(s), 1);
                assert_matches(d, vcm_resource_set_find(s, VCM_KIND_DOMAIN, "h1", "c1-compute-0"));
                OK(P->delete(&f->ctx, d, &err));
                vcm_resource_set_free(s);
                vcm_resource_set_free(want);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_open_without_libvirt),
                cmocka_unit_test(test_observe_empty),
                cmocka_unit_test(test_bridge_lifecycle),
                cmocka_unit_test(test_volume_lifecycle),
                cmocka_unit_test(test_domain_lifecycle),
                cmocka_unit_test(test_domain_old_mark),
                cmocka_unit_test(test_mark_scan),
                cmocka_unit_test(test_domain_tricky_mark),
                cmocka_unit_test(test_unmarked_untouched),
                cmocka_unit_test(test_observe_in_parts),
                cmocka_unit_test(test_foreign_pool_refused),
                cmocka_unit_test(test_other_site_untouched),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
