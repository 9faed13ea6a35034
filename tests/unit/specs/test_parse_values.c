/* Value parsers: sizes, RFC 3339 times, OpenSSH public keys, time zones, CIDRs, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "specs/check.h"
#include "specs/fields.h"
#include "specs/load.h"

static void test_sizes(void **state) {
        uint64_t v;
        const char *hint;
        assert_int_equal(vcm_parse_size("512MiB", &v, &hint), 0);
        assert_int_equal(v, 512ull << 20);
        assert_null(hint);
        assert_int_equal(vcm_parse_size("4GiB", &v, NULL), 0);
        assert_int_equal(v, 4ull << 30);
        assert_int_equal(vcm_parse_size("1TiB", &v, NULL), 0);
        assert_int_equal(v, 1ull << 40);
        static const char *const bad[] = { "4G", "4GB", "4gib", "-1GiB", "4", "", "GiB", "4 GiB",
                                           "4GiBs", "4.5GiB", "+4GiB", "4KiB", "4PiB" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                v = 7;
                assert_int_equal(vcm_parse_size(bad[i], &v, &hint), -EINVAL);
                assert_string_equal(hint, "use binary units such as 4GiB");
                assert_int_equal(v, 7); /* outputs untouched on failure */
        }
        assert_int_equal(vcm_parse_size("0GiB", &v, &hint), -EINVAL);
        assert_string_equal(hint, "a size must be greater than zero, such as 4GiB");
        assert_int_equal(vcm_parse_size("99999999999999999999TiB", &v, &hint), -EINVAL);
        assert_string_equal(hint, "the size is too large");
        assert_int_equal(vcm_parse_size("16777216TiB", &v, &hint), -EINVAL); /* 2^64 bytes */
        assert_int_equal(vcm_parse_size("16777215TiB", &v, &hint), 0);
}

static void test_times(void **state) {
        int64_t t;
        assert_int_equal(vcm_parse_time("1970-01-01T00:00:00Z", &t), 0);
        assert_int_equal(t, 0);
        assert_int_equal(vcm_parse_time("2026-12-01T09:00:00+09:00", &t), 0);
        assert_int_equal(t, 1796083200);
        assert_int_equal(vcm_parse_time("2026-11-30T18:30:00-05:30", &t), 0);
        assert_int_equal(t, 1796083200);
        assert_int_equal(vcm_parse_time("2024-02-29t00:00:00.123z", &t), 0);
        assert_int_equal(t, 1709164800);
        static const char *const bad[] = {
                "2026-12-01T09:00:00",       /* no offset */
                "2026-12-01",                /* no time */
                "2026-12-01T09:00Z",         /* no seconds */
                "2026-13-01T09:00:00Z",      /* month */
                "2025-02-29T09:00:00Z",      /* not a leap year */
                "2026-12-01T24:00:00Z",      /* hour */
                "2026-12-01T09:00:00+0900",  /* offset without colon */
                "2026-12-01T09:00:00+09:00x",
                "2026-12-01T09:00:00.Z",
                "",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                t = 7;
                assert_int_equal(vcm_parse_time(bad[i], &t), -EINVAL);
                assert_int_equal(t, 7);
        }
}

static void test_ssh_key_types(void **state) {
        static const char *const good[] = {
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNNu47+uaHH6gX+cMEzABKA20i60w5fpo8EkIHUbr/B alice@laptop",
                "ssh-rsa AAAAB3NzaC1yc2EAAAAIAAAAAAAAAAA=",
                "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIAAAAAAAAAAA= x",
                "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIAAAAAAAAAAA=",
                "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIAAAAAAAAAAA=",
                "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAACAAAAAAAAAAA a b c",
                "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIAAAAAAAAAAA=",
        };
        char msg[256];
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_true(check_ssh_key(good[i], msg, sizeof(msg)));
        assert_false(check_ssh_key("ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIAAAAAAAAAAA=", msg, sizeof(msg)));
        assert_string_equal(msg, "ssh key data is a 'ecdsa-sha2-nistp256' key but the line says 'ecdsa-sha2-nistp384'");
        assert_false(check_ssh_key("", msg, sizeof(msg)));
        assert_false(check_ssh_key("ssh-rsa AAAA", msg, sizeof(msg)));
        assert_string_equal(msg, "ssh key data is too short to be a ssh-rsa key");
        assert_false(check_ssh_key("ssh-rsa AAAAB3NzaC1yc2E=AAAA", msg, sizeof(msg)));
        assert_string_equal(msg, "ssh key data is not valid base64: paste the whole line of the .pub file");
        /* length field larger than the blob */
        assert_false(check_ssh_key("ssh-rsa /////w==", msg, sizeof(msg)));
        assert_string_equal(msg, "ssh key data is truncated: paste the whole line of the .pub file");
}

static void test_timezones(void **state) {
        assert_true(check_timezone("Asia/Tokyo"));
        assert_true(check_timezone("UTC"));
        assert_true(check_timezone("America/Argentina/Buenos_Aires"));
        assert_false(check_timezone("Asia/Tokio"));
        assert_false(check_timezone("../zoneinfo/UTC"));
        assert_false(check_timezone("Asia/../UTC"));
        assert_false(check_timezone("/usr/share/zoneinfo/UTC"));
        assert_false(check_timezone("Asia"));      /* a directory */
        assert_false(check_timezone("zone.tab"));  /* not TZif */
        assert_false(check_timezone("Asia//Tokyo"));
        assert_false(check_timezone(""));
}

static void test_cidr_names_hhmm(void **state) {
        uint32_t a;
        int p;
        assert_true(parse_cidr("10.10.0.0/24", &a, &p));
        assert_int_equal(a, 0x0a0a0000);
        assert_int_equal(p, 24);
        assert_false(parse_cidr("10.10.0.256/24", &a, &p));
        assert_false(parse_cidr("10.10.0.0/33", &a, &p));
        assert_false(parse_cidr("10.10.0.00/24", &a, &p));
        assert_false(parse_cidr("10.10.0.0", &a, &p));
        assert_false(parse_cidr("10.10.0.0/24 ", &a, &p));
        assert_null(check_name("physics-lab", 24));
        assert_null(check_name("a1", 24));
        assert_non_null(check_name("a", 24));
        assert_non_null(check_name("1a", 24));
        assert_non_null(check_name("a_b", 24));
        assert_string_equal(check_name("abcdefghijklmnopqrstuvwxy", 24), "too long");
        assert_null(check_host_name("gw1.lab.example"));
        assert_non_null(check_host_name("-gw"));
        assert_non_null(check_host_name("gw..x"));
        int m;
        assert_true(parse_hhmm("24:00", true, &m));
        assert_int_equal(m, 1440);
        assert_false(parse_hhmm("24:00", false, &m));
        assert_false(parse_hhmm("9:00", true, &m));
        assert_false(parse_hhmm("12:60", true, &m));
        assert_true(check_portal("192.0.2.10:3260"));
        assert_false(check_portal("192.0.2.10:0"));
        assert_false(check_portal("192.0.2.10:99999"));
}

static void test_suggestions(void **state) {
        static const char *const keys[] = { "frontend", "nodes", "network", "sharedStorage" };
        assert_string_equal(closest_word("fronend", keys, 4), "frontend");
        assert_string_equal(closest_word("nodse", keys, 4), "nodes");
        assert_string_equal(closest_word("sharedstorage", keys, 4), "sharedStorage");
        assert_null(closest_word("colour", keys, 4));
        assert_int_equal(edit_distance("hcp", "hpc", 3), 1);
        assert_int_equal(edit_distance("kitten", "sitting", 5), 3);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sizes),
                cmocka_unit_test(test_times),
                cmocka_unit_test(test_ssh_key_types),
                cmocka_unit_test(test_timezones),
                cmocka_unit_test(test_cidr_names_hhmm),
                cmocka_unit_test(test_suggestions),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
