/* Hostile input stays bounded: huge files, deep nesting, alias bombs, node floods, bad UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spec_fixture.h"

static char *load_one(const char *path, const char *data, size_t len, vcm_repo **ret_repo) {
        vcm_source_file f[] = { { "site.yaml", SITE, sizeof(SITE) - 1 }, { path, data, len } };
        vcm_diags d = { 0 };
        vcm_repo *repo = NULL;
        assert_int_equal(vcm_load_files(f, 2, &d, &repo), 0);
        char *t = diags_text(&d);
        vcm_diags_clear(&d);
        if (ret_repo)
                *ret_repo = repo;
        else
                vcm_repo_free(repo);
        return t;
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_file_too_big(void **state) {
        size_t len = 50u << 20;
        char *big = malloc(len);
        assert_non_null(big);
        memset(big, 'a', len); /* not even YAML worth parsing: rejected before the parser runs */
        vcm_repo *repo;
        double t0 = now_s();
        assert_diags(load_one("clusters/big.yaml", big, len, &repo),
                     "clusters/big.yaml:1:1: error: file is 52428800 bytes, more than the limit of 4194304 "
                     "bytes: split it or shorten it\n");
        assert_true(now_s() - t0 < 0.5);
        assert_int_equal(repo->n_failed_files, 1);
        assert_string_equal(repo->failed_files[0], "clusters/big.yaml");
        vcm_repo_free(repo);
        free(big);
}

static void test_deep_flow_nesting(void **state) {
        size_t n = 10000;
        char *deep = malloc(2 * n + 2);
        memset(deep, '[', n);
        memset(deep + n, ']', n);
        deep[2 * n] = '\n';
        deep[2 * n + 1] = 0;
        assert_diags(load_one("clusters/deep.yaml", deep, 2 * n + 1, NULL),
                     "clusters/deep.yaml:1:65: error: nesting is deeper than 64 levels\n");
        free(deep);
}

static void test_deep_unclosed_nesting(void **state) {
        size_t n = 100000;
        char *deep = malloc(n + 1);
        memset(deep, '[', n);
        deep[n] = 0;
        assert_diags(load_one("clusters/deep.yaml", deep, n, NULL),
                     "clusters/deep.yaml:1:65: error: nesting is deeper than 64 levels\n");
        free(deep);
}

static void test_deep_block_mappings(void **state) {
        /* a:\n  a:\n    a: ... 100 levels of block mappings */
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        for (int i = 0; i < 100; i++)
                fprintf(f, "%*sa:\n", 2 * i, "");
        fclose(f);
        assert_diags(load_one("clusters/deep.yaml", s, len, NULL),
                     "clusters/deep.yaml:65:129: error: nesting is deeper than 64 levels\n");
        free(s);
}

static void test_billion_laughs_refused(void **state) {
        static const char bomb[] =
                "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
                "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
        assert_diags(load_one("clusters/lol.yaml", bomb, sizeof(bomb) - 1, NULL),
                     "clusters/lol.yaml:2:8: error: YAML aliases (*a) are not allowed in specs: write the "
                     "value out in full\n");
}

static void test_too_many_nodes(void **state) {
        size_t n = VCM_SPEC_NODES_MAX + 10;
        char *s = malloc(2 * n + 3);
        s[0] = '[';
        for (size_t i = 0; i < n; i++) {
                s[1 + 2 * i] = '1';
                s[2 + 2 * i] = ',';
        }
        s[2 * n] = ']';
        s[2 * n + 1] = 0;
        assert_diags(load_one("clusters/flood.yaml", s, 2 * n + 1, NULL),
                     "clusters/flood.yaml:1:400000: error: too many YAML nodes (more than 200000)\n");
        free(s);
}

static void test_invalid_utf8(void **state) {
        static const char bad[] = "apiVersion: vcm/v1\nkind: \xff\xfe\n";
        assert_diags(load_one("clusters/utf.yaml", bad, sizeof(bad) - 1, NULL),
                     "clusters/utf.yaml:2:7: error: YAML syntax error: invalid leading UTF-8 octet\n");
}

static void test_nul_byte(void **state) {
        static const char bad[] = "apiVersion: vcm/v1\nkind: a\0b\n";
        assert_diags(load_one("clusters/nul.yaml", bad, sizeof(bad) - 1, NULL),
                     "clusters/nul.yaml:2:8: error: YAML syntax error: control characters are not allowed\n");
}

static void test_odd_keys(void **state) {
        static const char odd[] = "? [a]\n: 1\n? {b: c}\n: 2\n~: 3\n";
        assert_diags(load_one("clusters/odd.yaml", odd, sizeof(odd) - 1, NULL),
                     "clusters/odd.yaml:1:1: error: missing required key 'apiVersion' in the file\n"
                     "clusters/odd.yaml:1:1: error: missing required key 'kind' in the file\n"
                     "clusters/odd.yaml:1:1: error: missing required key 'metadata' in the file\n"
                     "clusters/odd.yaml:1:1: error: missing required key 'spec' in the file\n"
                     "clusters/odd.yaml:1:3: error: keys must be plain words, not a list\n"
                     "clusters/odd.yaml:3:3: error: keys must be plain words, not a mapping\n"
                     "clusters/odd.yaml:5:1: error: unknown key '~' in the file: expected one of apiVersion, "
                     "kind, metadata, spec\n");
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p);
}

/* vcm_load_dir: a file over the limit is refused without being read. */
static void test_load_dir_big_file(void **state) {
        char dir[] = "/tmp/vcm-specs-test-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char p[256];
        snprintf(p, sizeof(p), "%s/clusters", dir);
        assert_int_equal(mkdir(p, 0700), 0);
        snprintf(p, sizeof(p), "%s/site.yaml", dir);
        FILE *f = fopen(p, "w");
        fputs(SITE, f);
        fclose(f);
        snprintf(p, sizeof(p), "%s/clusters/physics-lab.yaml", dir);
        f = fopen(p, "w");
        fputs(CLUSTER, f);
        fclose(f);
        snprintf(p, sizeof(p), "%s/clusters/huge.yaml", dir);
        int fd = open(p, O_CREAT | O_WRONLY, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 50 << 20), 0); /* sparse: costs no disk */
        close(fd);

        vcm_diags d = { 0 };
        vcm_repo *repo = NULL;
        int r = vcm_load_dir(dir, &d, &repo);
        char *t = diags_text(&d);
        nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
        assert_int_equal(r, 0);
        assert_string_equal(t, "clusters/huge.yaml:1:1: error: file is 52428800 bytes, more than the limit of "
                               "4194304 bytes: split it or shorten it\n");
        assert_int_equal(repo->n_clusters, 1);
        assert_int_equal(repo->n_failed_files, 1);
        free(t);
        vcm_diags_clear(&d);
        vcm_repo_free(repo);
        assert_int_equal(vcm_load_dir("/nonexistent/vcm", &d, &repo), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_file_too_big),
                cmocka_unit_test(test_deep_flow_nesting),
                cmocka_unit_test(test_deep_unclosed_nesting),
                cmocka_unit_test(test_deep_block_mappings),
                cmocka_unit_test(test_billion_laughs_refused),
                cmocka_unit_test(test_too_many_nodes),
                cmocka_unit_test(test_invalid_utf8),
                cmocka_unit_test(test_nul_byte),
                cmocka_unit_test(test_odd_keys),
                cmocka_unit_test(test_load_dir_big_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
