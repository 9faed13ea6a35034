/* When a cluster's file entered the branch (vcm_cluster.admitted), read from the first-parent
 * history of a real repository: the order of merges into the branch counts, not the order in
 * which the requests were written; edits keep the admission, a delete and re-add renews it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "git_fixture.h"
#include "specs/source.h"

static char tmp[64];

static void rev(const char *what, char ret[64]) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "git -C %s/wt rev-parse %s", tmp, what);
        sh_out(ret, 64, cmd);
}

/* A cluster file named NAME from the quickstart's demo, on the current branch. */
#define ADD_CLUSTER(name)                                                                         \
        "sed 's/^  name: demo$/  name: " name "/' clusters/demo.yaml > clusters/" name ".yaml && " \
        GIT "add clusters/" name ".yaml && " GIT "commit -qm 'add " name "'"

static int setup(void **state) {
        strcpy(tmp, "/tmp/vcm-test-admit-XXXXXX");
        if (!mkdtemp(tmp))
                return -1;
        const char *src = getenv("VCM_SOURCE_DIR");
        sh("mkdir %s/wt && cp -r %s/examples/quickstart/. %s/wt/", tmp, src ? src : ".", tmp);
        sh("cd %s/wt && " GIT "init -q && " GIT "add -A && " GIT "commit -qm one", tmp);
        /* Request "written-first" is branched and committed before "merged-first", but merged
         * after it. */
        sh("cd %s/wt && " GIT "checkout -q -b req-a && " ADD_CLUSTER("written-first") " && "
           GIT "checkout -q main && " GIT "checkout -q -b req-b && " ADD_CLUSTER("merged-first")
           " && " GIT "checkout -q main && " GIT "merge -q --no-ff -m 'merge b' req-b && "
           GIT "merge -q --no-ff -m 'merge a' req-a", tmp);
        /* demo is edited (keeps its admission); a cluster is deleted and added again. */
        sh("cd %s/wt && sed -i 's/count: 2/count: 3/' clusters/demo.yaml && " GIT
           "commit -qam grow && " ADD_CLUSTER("again") " && " GIT "rm -q clusters/again.yaml && "
           GIT "commit -qm gone && " ADD_CLUSTER("again"), tmp);
        return 0;
}

static int teardown(void **state) {
        sh("rm -rf %s", tmp);
        return 0;
}

static const vcm_cluster *find(const vcm_repo *r, const char *name) {
        const vcm_cluster *c = vcm_repo_find_cluster(r, name);
        if (!c)
                fail_msg("no cluster %s", name);
        return c;
}

static void test_admission_follows_merges(void **state) {
        char url[128], st[128];
        snprintf(url, sizeof(url), "file://%s/wt", tmp);
        snprintf(st, sizeof(st), "%s/state", tmp);
        vcm_source_opts o = { .ref = "main", .state_dir = st };
        vcm_source *s = NULL;
        char *err = NULL;
        if (vcm_source_open(url, &o, &s, &err) < 0)
                fail_msg("open: %s", err);
        vcm_diags d = {};
        vcm_repo *repo = NULL;
        if (vcm_source_load(s, &d, &repo, &err) < 0)
                fail_msg("load: %s", err);

        const vcm_cluster *demo = find(repo, "demo"), *a = find(repo, "written-first"),
                          *b = find(repo, "merged-first"), *again = find(repo, "again");
        char first[64], merge_a[64], merge_b[64], readded[64];
        rev("main~6", first);
        rev("main~5", merge_b);
        rev("main~4", merge_a);
        rev("main", readded);
        /* First-parent depth from the root: one, merge b, merge a, grow, add, gone, add. */
        assert_int_equal(demo->admitted, 1);
        assert_string_equal(demo->admitted_commit, first);
        assert_int_equal(b->admitted, 2);
        assert_string_equal(b->admitted_commit, merge_b);
        assert_int_equal(a->admitted, 3);
        assert_string_equal(a->admitted_commit, merge_a);
        assert_int_equal(again->admitted, 7);
        assert_string_equal(again->admitted_commit, readded);

        vcm_repo_free(repo);
        vcm_diags_clear(&d);
        vcm_source_free(s);

        /* A directory source knows nothing of admission. */
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/wt", tmp);
        assert_int_equal(vcm_source_open(dir, &(vcm_source_opts){ 0 }, &s, &err), 0);
        assert_int_equal(vcm_source_load(s, &d, &repo, &err), 0);
        assert_int_equal(find(repo, "demo")->admitted, 0);
        assert_null(find(repo, "demo")->admitted_commit);
        vcm_repo_free(repo);
        vcm_diags_clear(&d);
        vcm_source_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_admission_follows_merges),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
