/* The libvirt provider's seeds against libvirt's test driver: create, observe, rewrite, delete;
 * markers that say a write did not finish never pass for converged; a volume of a seed's name
 * without vcm's marker is never overwritten. (Real bytes: tests/cli/seed.sh.) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "providers/libvirt/libvirt.h"
#include "reconciler/props.h"
#include "reconciler/resource.h"
#include "reconciler/seed.h"

#include "provider_fixture.h"

static vcm_resource *seed(vcm_resource_set *s, const char *name, const char *digest,
                          const char *user_data) {
        vcm_resource *r = vcm_resource_set_put(s, VCM_KIND_SEED, "h1", name, "c1");
        vcm_resource_set_prop(r, "digest", digest);
        vcm_resource_set_prop(r, "pool", VCM_FILE_POOL);
        vcm_resource_set_prop(r, VCM_SEED_PROP_META_DATA, "instance-id: x\n");
        vcm_resource_set_prop(r, VCM_SEED_PROP_USER_DATA, user_data);
        vcm_resource_set_prop(r, VCM_SEED_PROP_NETWORK_CONFIG, "version: 2\n");
        vcm_resource_rehash(r);
        return r;
}

static vcm_resource_set *observe(fixture *f) {
        vcm_resource_set *s = vcm_resource_set_new();
        vcm_error err = { { 0 } };
        if (P->observe(&f->ctx, s, &err) < 0)
                fail_msg("observe: %s", err.message);
        return s;
}

static int n_volumes(fixture *f, const char *prefix) {
        virStoragePoolPtr p = virStoragePoolLookupByName(f->raw, VCM_FILE_POOL);
        assert_non_null(p);
        virStoragePoolRefresh(p, 0);
        virStorageVolPtr *vols = NULL;
        int n = virStoragePoolListAllVolumes(p, &vols, 0), k = 0;
        for (int i = 0; i < n; i++) {
                if (!strncmp(virStorageVolGetName(vols[i]), prefix, strlen(prefix)))
                        k++;
                virStorageVolFree(vols[i]);
        }
        free(vols);
        virStoragePoolFree(p);
        return k;
}

static void make_volume(fixture *f, const char *name) {
        virStoragePoolPtr p = virStoragePoolLookupByName(f->raw, VCM_FILE_POOL);
        char xml[256];
        snprintf(xml, sizeof(xml), "<volume><name>%s</name><capacity>0</capacity></volume>", name);
        virStorageVolPtr v = virStorageVolCreateXML(p, xml, 0);
        assert_non_null(v);
        virStorageVolFree(v);
        virStoragePoolFree(p);
}

static void test_seed_lifecycle(void **state) {
        fixture *f = *state;
        vcm_error err = { { 0 } };
        vcm_resource_set *want = vcm_resource_set_new();
        vcm_resource *a = seed(want, "c1-frontend", "00000000000000aa", "#cloud-config\n");
        if (P->create(&f->ctx, a, &err) < 0)
                fail_msg("create: %s", err.message);
        if (P->create(&f->ctx, a, &err) < 0) /* idempotent */
                fail_msg("create again: %s", err.message);

        vcm_resource_set *s = observe(f);
        const vcm_resource *have = vcm_resource_set_find(s, VCM_KIND_SEED, "h1", "c1-frontend");
        assert_non_null(have);
        assert_string_equal(have->cluster, "c1");
        assert_string_equal(vcm_resource_prop(have, "digest"), "00000000000000aa");
        assert_true(have->hash == a->hash); /* meta.* props are not part of it */
        /* Seeds are not volumes. */
        assert_null(vcm_resource_set_find(s, VCM_KIND_VOLUME, "h1", "c1-frontend"));
        assert_int_equal(n_volumes(f, "c1-frontend.seed.iso"), 1);
        assert_int_equal(n_volumes(f, ".vcm-seed."), 1);

        /* A new digest: written again in place, one marker left. */
        const char *why = NULL;
        assert_int_equal(P->classify(VCM_KIND_SEED, "digest", "a", "b", &why), VCM_CHANGE_LIVE);
        assert_int_equal(P->classify(VCM_KIND_DOMAIN, "seed.digest", "a", "b", &why),
                         VCM_CHANGE_RESTART);
        vcm_resource_set *want2 = vcm_resource_set_new();
        vcm_resource *b = seed(want2, "c1-frontend", "00000000000000bb", "#cloud-config\n#2\n");
        if (P->update(&f->ctx, b, have, &err) < 0)
                fail_msg("update: %s", err.message);
        vcm_resource_set_free(s);
        s = observe(f);
        have = vcm_resource_set_find(s, VCM_KIND_SEED, "h1", "c1-frontend");
        assert_string_equal(vcm_resource_prop(have, "digest"), "00000000000000bb");
        assert_int_equal(n_volumes(f, ".vcm-seed."), 1);

        /* A write that stopped after its "pending" marker: the digest is not trusted. */
        make_volume(f, ".vcm-seed.626092f4.c1-frontend.c1.pending");
        vcm_resource_set_free(s);
        s = observe(f);
        have = vcm_resource_set_find(s, VCM_KIND_SEED, "h1", "c1-frontend");
        assert_non_null(have);
        assert_string_equal(vcm_resource_prop(have, "digest"), "-");
        /* The next write finishes the job. */
        if (P->update(&f->ctx, b, have, &err) < 0)
                fail_msg("update: %s", err.message);
        vcm_resource_set_free(s);
        s = observe(f);
        have = vcm_resource_set_find(s, VCM_KIND_SEED, "h1", "c1-frontend");
        assert_string_equal(vcm_resource_prop(have, "digest"), "00000000000000bb");
        assert_int_equal(n_volumes(f, ".vcm-seed."), 1);

        /* Delete: data and markers go. */
        if (P->delete(&f->ctx, have, &err) < 0)
                fail_msg("delete: %s", err.message);
        assert_int_equal(n_volumes(f, "c1-frontend.seed.iso"), 0);
        assert_int_equal(n_volumes(f, ".vcm-seed."), 0);
        vcm_resource_set_free(s);
        s = observe(f);
        assert_null(vcm_resource_set_find(s, VCM_KIND_SEED, "h1", "c1-frontend"));
        vcm_resource_set_free(s);
        vcm_resource_set_free(want);
        vcm_resource_set_free(want2);
}

static void test_unmarked_seed_volume_left_alone(void **state) {
        fixture *f = *state;
        vcm_error err = { { 0 } };
        vcm_resource_set *want = vcm_resource_set_new();
        vcm_resource *a = seed(want, "c2-compute-0", "00000000000000cc", "#cloud-config\n");
        /* The pool exists (the previous test made it); someone else's file has the name. */
        make_volume(f, "c2-compute-0.seed.iso");
        assert_int_equal(P->create(&f->ctx, a, &err), -EPERM);
        assert_non_null(strstr(err.message, "not vcm's"));
        assert_int_equal(n_volumes(f, ".vcm-seed."), 0);
        vcm_resource_set *s = observe(f);
        assert_null(vcm_resource_set_find(s, VCM_KIND_SEED, "h1", "c2-compute-0"));
        vcm_resource_set_free(s);
        /* Bad input is refused before anything is touched. */
        vcm_resource *bad = seed(want, "Bad.Name", "00000000000000cc", "x");
        assert_int_equal(P->create(&f->ctx, bad, &err), -EINVAL);
        vcm_resource_set_free(want);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seed_lifecycle),
                cmocka_unit_test(test_unmarked_seed_volume_left_alone),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
