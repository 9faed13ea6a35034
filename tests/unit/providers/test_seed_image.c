/* The seed image builder: a real ISO 9660 volume labelled cidata, the same bytes for the same
 * files whenever and wherever it is built, other bytes for other files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

#include <cmocka.h>

#include "providers/seed/seed_image.h"

static const vcm_seed_entry files[] = {
        { "meta-data", "instance-id: demo-frontend-1\nlocal-hostname: frontend.demo\n" },
        { "user-data", "#cloud-config\nssh_authorized_keys:\n  - \"ssh-ed25519 AAAA k1\"\n" },
        { "network-config", "version: 2\n" },
};

static void build(const vcm_seed_entry *f, size_t n, unsigned char **buf, size_t *len) {
        assert_int_equal(vcm_seed_image_build(f, n, buf, len), 0);
        assert_true(*len >= 16 * 2048 + 2048);
        assert_int_equal(*len % 2048, 0);
}

static void test_iso_volume(void **state) {
        (void)state;
        unsigned char *buf;
        size_t len;
        build(files, 3, &buf, &len);
        /* The primary volume descriptor at sector 16: type 1, "CD001", volume id CIDATA (d-
         * characters are upper case); the Joliet descriptor at sector 17 keeps "cidata", which
         * blkid reports as the label. cloud-init takes either. */
        assert_int_equal(buf[0x8000], 1);
        assert_memory_equal(buf + 0x8001, "CD001", 5);
        assert_memory_equal(buf + 0x8028, "CIDATA  ", 8);
        assert_int_equal(buf[0x8800], 2);
        assert_memory_equal(buf + 0x8801, "CD001", 5);
        assert_memory_equal(buf + 0x8828, "\0c\0i\0d\0a\0t\0a", 12);
        /* Contents are stored as they are; Rock Ridge keeps the names (NM entries). */
        assert_non_null(memmem(buf, len, files[0].content, strlen(files[0].content)));
        assert_non_null(memmem(buf, len, files[1].content, strlen(files[1].content)));
        assert_non_null(memmem(buf, len, "NM", 2));
        assert_non_null(memmem(buf, len, "network-config", strlen("network-config")));
        free(buf);
}

static void test_byte_identical_rebuilds(void **state) {
        (void)state;
        unsigned char *a, *b, *c;
        size_t la, lb, lc;
        build(files, 3, &a, &la);
        sleep(1); /* a clock tick between the builds: nothing in the image may follow it */
        build(files, 3, &b, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        /* Input order does not matter either: files are written in name order. */
        vcm_seed_entry rev[3] = { files[2], files[0], files[1] };
        build(rev, 3, &c, &lc);
        assert_int_equal(la, lc);
        assert_memory_equal(a, c, la);
        free(b);
        free(c);
        /* One changed byte of content gives another image. */
        vcm_seed_entry other[3] = { files[0], files[1],
                                    { "network-config", "version: 3\n" } };
        build(other, 3, &b, &lb);
        assert_true(la != lb || memcmp(a, b, la) != 0);
        free(a);
        free(b);
}

static void test_bad_names(void **state) {
        (void)state;
        unsigned char *buf = NULL;
        size_t len = 0;
        vcm_seed_entry bad[] = { { "a/b", "x" } };
        assert_int_equal(vcm_seed_image_build(bad, 1, &buf, &len), -EINVAL);
        vcm_seed_entry dup[] = { { "user-data", "x" }, { "user-data", "y" } };
        assert_int_equal(vcm_seed_image_build(dup, 2, &buf, &len), -EEXIST);
        assert_null(buf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_iso_volume),
                cmocka_unit_test(test_byte_identical_rebuilds),
                cmocka_unit_test(test_bad_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
