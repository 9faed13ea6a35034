/* The resource set: index, sorted props, hash, kind names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reconciler/resource.h"

static void test_kind_names(void **state) {
        const char *names[] = { "vlan-link", "bridge", "volume", "iscsi-target",
                                "iscsi-lun", "iscsi-acl", "seed", "domain" };
        for (int k = 0; k < VCM_KIND__COUNT; k++) {
                assert_string_equal(vcm_kind_name((vcm_kind)k), names[k]);
                vcm_kind back;
                assert_int_equal(vcm_kind_from_name(names[k], &back), 0);
                assert_int_equal(back, k);
        }
        vcm_kind x;
        assert_int_equal(vcm_kind_from_name("vm", &x), -EINVAL);
}

static void test_find_add_remove(void **state) {
        vcm_resource_set *s = vcm_resource_set_new();
        char name[64];
        for (int i = 0; i < 5000; i++) {
                snprintf(name, sizeof(name), "c-%d", i);
                vcm_resource *r = vcm_resource_set_put(s, VCM_KIND_DOMAIN, i % 2 ? "h1" : "h2",
                                                       name, "c");
                assert_non_null(r);
                vcm_resource_set_propf(r, "i", "%d", i);
        }
        assert_int_equal(vcm_resource_set_size(s), 5000);
        /* Same name on another host or of another kind is another key. */
        assert_non_null(vcm_resource_set_put(s, VCM_KIND_VOLUME, "h1", "c-1", "c"));
        assert_null(vcm_resource_set_put(s, VCM_KIND_DOMAIN, "h1", "c-1", "c"));
        assert_null(vcm_resource_set_find(s, VCM_KIND_DOMAIN, "h2", "c-1"));
        const vcm_resource *r = vcm_resource_set_find(s, VCM_KIND_DOMAIN, "h1", "c-4999");
        assert_non_null(r);
        assert_string_equal(vcm_resource_prop(r, "i"), "4999");

        /* Remove every third; the rest stays findable. */
        for (int i = 0; i < 5000; i += 3) {
                snprintf(name, sizeof(name), "c-%d", i);
                assert_int_equal(vcm_resource_set_remove(s, VCM_KIND_DOMAIN, i % 2 ? "h1" : "h2",
                                                         name), 0);
        }
        assert_int_equal(vcm_resource_set_remove(s, VCM_KIND_DOMAIN, "h2", "c-0"), -ENOENT);
        for (int i = 0; i < 5000; i++) {
                snprintf(name, sizeof(name), "c-%d", i);
                r = vcm_resource_set_find(s, VCM_KIND_DOMAIN, i % 2 ? "h1" : "h2", name);
                if (i % 3 == 0) {
                        assert_null(r);
                } else {
                        assert_non_null(r);
                        char want[16];
                        snprintf(want, sizeof(want), "%d", i);
                        assert_string_equal(vcm_resource_prop(r, "i"), want);
                }
        }
        vcm_resource_set_free(s);
}

static void test_props_sorted_and_hash(void **state) {
        vcm_resource_set *s = vcm_resource_set_new();
        vcm_resource *a = vcm_resource_set_put(s, VCM_KIND_VOLUME, "h", "a", "c");
        vcm_resource_set_prop(a, "size", "1");
        vcm_resource_set_prop(a, "backend", "file");
        vcm_resource_set_prop(a, "pool", "vcm");
        vcm_resource_set_prop(a, "size", "2"); /* replaces */
        assert_int_equal(a->n_props, 3);
        assert_string_equal(a->props[0].key, "backend");
        assert_string_equal(a->props[1].key, "pool");
        assert_string_equal(a->props[2].key, "size");
        assert_string_equal(vcm_resource_prop(a, "size"), "2");
        vcm_resource_rehash(a);
        uint64_t h = a->hash;

        /* FNV-1a 64 over "backend=file\npool=vcm\nsize=2\n", computed independently. */
        const char *canon = "backend=file\npool=vcm\nsize=2\n";
        uint64_t want = UINT64_C(0xcbf29ce484222325);
        for (const char *p = canon; *p; p++) {
                want ^= (unsigned char)*p;
                want *= UINT64_C(0x100000001b3);
        }
        assert_true(h == want);

        vcm_resource_set_prop(a, "meta.commit", "abc");
        vcm_resource_rehash(a);
        assert_true(a->hash == h);
        vcm_resource_set_prop(a, "size", "3");
        vcm_resource_rehash(a);
        assert_true(a->hash != h);
        vcm_resource_set_free(s);
}

static void test_merge_and_copy(void **state) {
        vcm_resource_set *a = vcm_resource_set_new(), *b = vcm_resource_set_new();
        vcm_resource *r = vcm_resource_set_put(a, VCM_KIND_BRIDGE, "h", "vcmbr1", "x");
        vcm_resource_set_prop(r, "netid", "1");
        vcm_resource_add_dep(r, VCM_KIND_VLAN_LINK, "h", "vcmv1");
        assert_int_equal(vcm_resource_set_add_copy(b, r), 0);
        assert_int_equal(vcm_resource_set_add_copy(b, r), -EEXIST);
        vcm_resource_set_put(b, VCM_KIND_BRIDGE, "h", "vcmbr2", "y");
        size_t dups = vcm_resource_set_merge(a, b);
        assert_int_equal(dups, 1);
        assert_int_equal(vcm_resource_set_size(a), 2);
        assert_int_equal(vcm_resource_set_size(b), 0);
        const vcm_resource *c = vcm_resource_set_find(a, VCM_KIND_BRIDGE, "h", "vcmbr1");
        assert_int_equal(c->n_deps, 1);
        assert_string_equal(c->deps[0].name, "vcmv1");
        vcm_resource_set_free(a);
        vcm_resource_set_free(b);
}

/* Hand-built resources (malloc'd strings, as providers make them) mix with arena ones. */
static void test_add_hand_built(void **state) {
        vcm_resource_set *s = vcm_resource_set_new();
        vcm_resource r = { .kind = VCM_KIND_DOMAIN, .host = strdup("h"), .name = strdup("d") };
        vcm_resource_set_prop(&r, "state", "running");
        vcm_resource_set_prop(&r, "node", "frontend");
        assert_int_equal(vcm_resource_set_add(s, &r), 0);
        const vcm_resource *x = vcm_resource_set_find(s, VCM_KIND_DOMAIN, "h", "d");
        assert_string_equal(x->cluster, "");
        assert_string_equal(vcm_resource_prop(x, "node"), "frontend");
        vcm_resource bad = { .kind = VCM_KIND_DOMAIN, .host = strdup("h") };
        assert_int_equal(vcm_resource_set_add(s, &bad), -EINVAL);
        vcm_resource dup = { .kind = VCM_KIND_DOMAIN, .host = strdup("h"), .name = strdup("d") };
        assert_int_equal(vcm_resource_set_add(s, &dup), -EEXIST);
        /* Many props on an arena resource: the implied capacity grows correctly. */
        vcm_resource *a = vcm_resource_set_put(s, VCM_KIND_VOLUME, "h", "v", "c");
        for (int i = 99; i >= 0; i--) {
                vcm_resource_set_propf(a, "k", "%d", i); /* replaced in place */
                vcm_resource_set_propf(a, "x", "%d", i);
        }
        char key[16];
        for (int i = 0; i < 100; i++) {
                snprintf(key, sizeof(key), "key%03d", 99 - i);
                vcm_resource_set_propf(a, key, "%d", i);
        }
        assert_int_equal(a->n_props, 102);
        for (size_t i = 1; i < a->n_props; i++)
                assert_true(strcmp(a->props[i - 1].key, a->props[i].key) < 0);
        assert_string_equal(vcm_resource_prop(a, "key000"), "99");
        for (int i = 0; i < 10; i++)
                vcm_resource_add_dep(a, VCM_KIND_BRIDGE, "h", key);
        assert_int_equal(a->n_deps, 10);
        vcm_resource_set_free(s);
}

/* Drafts: built in a set's arena, then added without a copy, dropped, or added to another set
 * (copied there: it must outlive the set it was drafted in; ASan checks). */
static void test_drafts(void **state) {
        vcm_resource_set *s = vcm_resource_set_new(), *other = vcm_resource_set_new();
        vcm_resource r = vcm_resource_set_draft(s, VCM_KIND_DOMAIN, "h", "d");
        vcm_resource_set_prop(&r, "state", "running");
        vcm_resource_set_cluster(&r, "alpha");
        vcm_resource_add_dep(&r, VCM_KIND_VOLUME, "h", "d-disk");
        const char *name_in_arena = r.name;
        assert_int_equal(vcm_resource_set_add(s, &r), 0);
        assert_null(r.name);
        const vcm_resource *x = vcm_resource_set_find(s, VCM_KIND_DOMAIN, "h", "d");
        assert_ptr_equal(x->name, name_in_arena); /* not copied */
        assert_string_equal(x->cluster, "alpha");
        assert_string_equal(vcm_resource_prop(x, "state"), "running");
        assert_int_equal(x->n_deps, 1);

        vcm_resource dropped = vcm_resource_set_draft(s, VCM_KIND_DOMAIN, "h", "gone");
        vcm_resource_set_prop(&dropped, "state", "shutoff");
        vcm_resource_clear(&dropped);
        assert_int_equal(vcm_resource_set_size(s), 1);

        vcm_resource dup = vcm_resource_set_draft(s, VCM_KIND_DOMAIN, "h", "d");
        assert_int_equal(vcm_resource_set_add(s, &dup), -EEXIST);

        vcm_resource moved = vcm_resource_set_draft(s, VCM_KIND_DOMAIN, "h", "e");
        vcm_resource_set_prop(&moved, "node", "compute-1");
        assert_int_equal(vcm_resource_set_add(other, &moved), 0);
        vcm_resource_set_free(s);
        const vcm_resource *y = vcm_resource_set_find(other, VCM_KIND_DOMAIN, "h", "e");
        assert_non_null(y);
        assert_string_equal(y->cluster, "");
        assert_string_equal(vcm_resource_prop(y, "node"), "compute-1");
        vcm_resource_set_free(other);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kind_names),
                cmocka_unit_test(test_find_add_remove),
                cmocka_unit_test(test_props_sorted_and_hash),
                cmocka_unit_test(test_merge_and_copy),
                cmocka_unit_test(test_add_hand_built),
                cmocka_unit_test(test_drafts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
