/* vcm_source against real repositories made in a temporary directory with the git command:
 * directory and git sources, reading a tree without a checkout, refs, a missing ref, an
 * unreachable remote, force-push detection, validate --base's read of a directory's base, the
 * history log, and the inotify descriptor firing on an edit and on a commit. */
#include <errno.h>
#include <poll.h>
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

/* tmp/wt: a work tree holding the quickstart specs on main, pushed to tmp/bare.git. */
static int setup(void **state) {
        strcpy(tmp, "/tmp/vcm-test-source-XXXXXX");
        if (!mkdtemp(tmp))
                return -1;
        const char *src = getenv("VCM_SOURCE_DIR");
        sh("mkdir %s/wt && cp -r %s/examples/quickstart/. %s/wt/", tmp, src ? src : ".", tmp);
        sh("cd %s/wt && " GIT "init -q && " GIT "add -A && " GIT "commit -qm one", tmp);
        sh("git clone -q --bare %s/wt %s/bare.git", tmp, tmp);
        sh("cd %s/wt && git remote add origin %s/bare.git", tmp, tmp);
        return 0;
}

static int teardown(void **state) {
        sh("rm -rf %s", tmp);
        return 0;
}

static vcm_source *open_src(const char *spec, const char *ref) {
        char st[128];
        snprintf(st, sizeof(st), "%s/state", tmp);
        vcm_source_opts o = { .ref = ref, .state_dir = st };
        vcm_source *s = NULL;
        char *err = NULL;
        int r = vcm_source_open(spec, &o, &s, &err);
        if (r < 0)
                fail_msg("open %s: %s", spec, err);
        return s;
}

static vcm_repo *load_ok(vcm_source *s) {
        vcm_diags d = {};
        vcm_repo *repo = NULL;
        char *err = NULL;
        int r = vcm_source_load(s, &d, &repo, &err);
        if (r < 0)
                fail_msg("load %s: %s", vcm_source_describe(s), err);
        assert_int_equal(d.n_errors, 0);
        vcm_diags_clear(&d);
        return repo;
}

static int load_fail(vcm_source *s, char **ret_err) {
        vcm_diags d = {};
        vcm_repo *repo = (vcm_repo *)0x1;
        int r = vcm_source_load(s, &d, &repo, ret_err);
        assert_true(r < 0);
        assert_ptr_equal(repo, (vcm_repo *)0x1);  /* untouched: the caller keeps its repo */
        assert_non_null(*ret_err);
        vcm_diags_clear(&d);
        return r;
}

/* Open a new source object, load it once: did that load find history rewritten? */
static bool fresh_load_rewritten(const char *url, const char *ref) {
        vcm_source *s = open_src(url, ref);
        vcm_repo *repo = load_ok(s);
        vcm_source_status st;
        vcm_source_get_status(s, &st);
        bool rewritten = st.rewritten;
        vcm_repo_free(repo);
        vcm_source_free(s);
        return rewritten;
}

static void test_directory(void **state) {
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/wt", tmp);
        vcm_source *s = open_src(dir, NULL);
        assert_false(vcm_source_is_git(s));
        vcm_repo *repo = load_ok(s);
        assert_null(repo->commit);
        assert_int_equal(repo->n_clusters, 1);
        vcm_repo_free(repo);
        vcm_source_free(s);
}

static void test_bare_default_head(void **state) {
        char url[128], head[64];
        snprintf(url, sizeof(url), "file://%s/bare.git", tmp);
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "git -C %s/bare.git rev-parse main", tmp);
        sh_out(head, sizeof(head), cmd);
        vcm_source *s = open_src(url, NULL);
        assert_true(vcm_source_is_git(s));
        vcm_repo *repo = load_ok(s);
        assert_string_equal(repo->commit, head);
        assert_int_equal(repo->n_clusters, 1);
        assert_string_equal(repo->clusters[0].name, "demo");
        vcm_source_status st;
        vcm_source_get_status(s, &st);
        assert_string_equal(st.commit, head);
        assert_false(st.rewritten);
        vcm_repo_free(repo);
        vcm_source_free(s);
}

/* The committed tree is read, not the work tree: an uncommitted change is not seen. */
static void test_tree_not_worktree(void **state) {
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/wt", tmp);
        sh("sed -i 's/name: demo/name: edited/' %s/wt/clusters/demo.yaml", tmp);
        vcm_source *s = open_src(dir, "main");
        assert_true(vcm_source_is_git(s));
        vcm_repo *repo = load_ok(s);
        assert_string_equal(repo->clusters[0].name, "demo");
        vcm_repo_free(repo);
        vcm_source_free(s);
        sh("cd %s/wt && git checkout -q -- .", tmp);
}

static void test_tag_and_missing_ref(void **state) {
        char url[128];
        snprintf(url, sizeof(url), "file://%s/bare.git", tmp);
        sh("git -C %s/bare.git tag v1 main", tmp);
        vcm_source *s = open_src(url, "v1");
        vcm_repo *repo = load_ok(s);
        assert_non_null(repo->commit);
        vcm_repo_free(repo);
        vcm_source_free(s);

        s = open_src(url, "no-such-branch");
        char *err = NULL;
        assert_int_equal(load_fail(s, &err), -ENOENT);
        assert_non_null(strstr(err, "'no-such-branch'"));
        free(err);
        vcm_source_free(s);

        /* A branch deleted upstream is missing here too (the fetch prunes), and the message
         * names the commit that stays in force. */
        sh("git -C %s/bare.git branch gone main", tmp);
        s = open_src(url, "gone");
        repo = load_ok(s);
        vcm_repo_free(repo);
        sh("git -C %s/bare.git branch -D -q gone", tmp);
        assert_int_equal(load_fail(s, &err), -ENOENT);
        assert_non_null(strstr(err, "stays in force"));
        free(err);
        vcm_source_free(s);
}

static void test_unreachable(void **state) {
        char url[128];
        snprintf(url, sizeof(url), "file://%s/nowhere.git", tmp);
        vcm_source *s = open_src(url, NULL);
        char *err = NULL;
        assert_int_equal(load_fail(s, &err), -EHOSTUNREACH);
        assert_non_null(strstr(err, "nowhere.git"));
        free(err);
        vcm_source_free(s);
        snprintf(url, sizeof(url), "git://127.0.0.1:1/x.git");  /* nothing listens on port 1 */
        s = open_src(url, NULL);
        assert_int_equal(load_fail(s, &err), -EHOSTUNREACH);
        free(err);
        vcm_source_free(s);
}

static void test_force_push(void **state) {
        char url[128], old[64], cmd[256];
        snprintf(url, sizeof(url), "file://%s/bare.git", tmp);
        sh("cd %s/wt && " GIT "checkout -q -b fp && echo '# a' >> site.yaml && " GIT
           "commit -qam a && git push -q origin fp", tmp);
        snprintf(cmd, sizeof(cmd), "git -C %s/wt rev-parse fp", tmp);
        sh_out(old, sizeof(old), cmd);
        vcm_source *s = open_src(url, "fp");
        vcm_repo *repo = load_ok(s);
        vcm_repo_free(repo);
        /* A fast-forward is no rewrite. */
        sh("cd %s/wt && echo '# b' >> site.yaml && " GIT "commit -qam b && git push -q origin fp",
           tmp);
        repo = load_ok(s);
        vcm_source_status st;
        vcm_source_get_status(s, &st);
        assert_false(st.rewritten);
        vcm_repo_free(repo);
        sh_out(old, sizeof(old), cmd);
        /* Amend and force-push: loaded, and reported as rewritten. */
        sh("cd %s/wt && echo '# c' >> site.yaml && " GIT "commit -q --amend -am c && "
           "git push -qf origin fp", tmp);
        repo = load_ok(s);
        vcm_source_get_status(s, &st);
        assert_true(st.rewritten);
        assert_string_equal(st.replaced, old);
        assert_string_equal(st.commit, repo->commit);
        vcm_repo_free(repo);
        vcm_source_free(s);
        /* Known across runs: a new source object over the same clone sees no new rewrite.
         * Each ref keeps its own last commit: following main (an ancestor of fp) from the same
         * clone is no rewrite of fp's history, nor is fp again afterwards. */
        assert_false(fresh_load_rewritten(url, "fp"));
        assert_false(fresh_load_rewritten(url, "main"));
        assert_false(fresh_load_rewritten(url, "fp"));
        sh("cd %s/wt && git checkout -q main", tmp);
}

/* validate --base: a directory below the top of a work tree, read at a ref. */
static void test_dir_load_at(void **state) {
        sh("mkdir -p %s/mono && cd %s/mono && " GIT "init -q && mkdir specs && cp -r %s/wt/. specs/"
           " && rm -rf specs/.git && " GIT "add -A && " GIT "commit -qm base && "
           "sed -i 's/name: demo/name: renamed/' specs/clusters/demo.yaml", tmp, tmp, tmp);
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/mono/specs", tmp);
        vcm_source *s = open_src(dir, NULL);
        assert_false(vcm_source_is_git(s));
        vcm_diags d = {};
        vcm_repo *repo = NULL;
        char *err = NULL;
        assert_int_equal(vcm_source_load_at(s, "main", &d, &repo, &err), 0);
        assert_int_equal(repo->n_clusters, 1);
        assert_string_equal(repo->clusters[0].name, "demo");
        assert_non_null(repo->commit);
        vcm_repo_free(repo);
        assert_int_equal(vcm_source_load_at(s, "nope", &d, &repo, &err), -ENOENT);
        free(err);
        vcm_diags_clear(&d);
        vcm_source_free(s);
}

static bool readable(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        /* a bound for a failing test, not a timing assertion */
        return poll(&p, 1, 10000) == 1;
}

static bool quiet(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        return poll(&p, 1, 0) == 0;
}

static void test_watch_directory(void **state) {
        sh("mkdir -p %s/wd/clusters", tmp);
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/wd", tmp);
        vcm_source *s = open_src(dir, NULL);
        int fd = vcm_source_watch_fd(s);
        assert_true(fd >= 0);
        assert_true(quiet(fd));
        sh("echo x > %s/wd/clusters/a.yaml", tmp);
        assert_true(readable(fd));
        vcm_source_watch_drain(s);
        assert_true(quiet(fd));
        /* rolls/ did not exist when the watch began: a file in it is still seen. */
        sh("mkdir %s/wd/rolls", tmp);
        assert_true(readable(fd));
        vcm_source_watch_drain(s);
        sh("echo x > %s/wd/rolls/b.yaml", tmp);
        assert_true(readable(fd));
        vcm_source_free(s);
}

static void test_watch_local_repository(void **state) {
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/wt", tmp);
        vcm_source *s = open_src(dir, "main");
        int fd = vcm_source_watch_fd(s);
        assert_true(fd >= 0);
        vcm_repo *repo = load_ok(s);
        vcm_repo_free(repo);
        vcm_source_watch_drain(s);
        assert_true(quiet(fd));
        sh("cd %s/wt && echo '# w' >> site.yaml && " GIT "commit -qam w", tmp);
        assert_true(readable(fd));
        vcm_source_watch_drain(s);
        char head[64], cmd[256];
        snprintf(cmd, sizeof(cmd), "git -C %s/wt rev-parse HEAD", tmp);
        sh_out(head, sizeof(head), cmd);
        repo = load_ok(s);
        assert_string_equal(repo->commit, head);
        vcm_repo_free(repo);
        /* A push into a bare repository is seen too. */
        vcm_source_free(s);
        snprintf(dir, sizeof(dir), "file://%s/bare.git", tmp);
        s = open_src(dir, "main");
        fd = vcm_source_watch_fd(s);
        assert_true(fd >= 0);
        sh("cd %s/wt && git push -q origin main", tmp);
        assert_true(readable(fd));
        vcm_source_free(s);
        /* Remote URLs are polled. */
        s = open_src("git://127.0.0.1:1/x.git", NULL);
        assert_int_equal(vcm_source_watch_fd(s), -1);
        vcm_source_free(s);
}

static void test_log(void **state) {
        sh("cd %s/wt && " GIT "checkout -q -b topic && sed -i 's/count: 2/count: 3/' "
           "clusters/demo.yaml && " GIT "commit -qam grow && " GIT "checkout -q main && "
           "echo '# s' >> site.yaml && " GIT "commit -qam site && " GIT
           "merge -q --no-ff -m 'merge topic' topic && git push -q origin main", tmp);
        char url[128], grow[64], merge[64], cmd[256];
        snprintf(url, sizeof(url), "file://%s/bare.git", tmp);
        snprintf(cmd, sizeof(cmd), "git -C %s/wt rev-parse topic", tmp);
        sh_out(grow, sizeof(grow), cmd);
        snprintf(cmd, sizeof(cmd), "git -C %s/wt rev-parse main", tmp);
        sh_out(merge, sizeof(merge), cmd);
        vcm_source *s = open_src(url, "main");
        vcm_repo *repo = load_ok(s);
        vcm_repo_free(repo);
        const char *paths[] = { "clusters/demo.yaml" };
        vcm_source_commit *log = NULL;
        size_t n = 0;
        char *err = NULL;
        assert_int_equal(vcm_source_log(s, paths, 1, &log, &n, &err), 0);
        assert_true(n >= 2);
        assert_string_equal(log[0].id, grow);
        assert_string_equal(log[0].merge, merge);
        assert_string_equal(log[0].message, "grow\n");
        assert_string_equal(log[0].author, "t");
        assert_null(log[n - 1].merge);  /* the first commit is on main itself */
        assert_int_equal(vcm_source_contains(s, merge, grow), 1);
        assert_int_equal(vcm_source_contains(s, log[n - 1].id, grow), 0);
        vcm_source_commits_free(log, n);
        vcm_source_free(s);

        char dir[128];
        snprintf(dir, sizeof(dir), "%s/wt", tmp);
        s = open_src(dir, NULL);
        assert_int_equal(vcm_source_log(s, paths, 1, &log, &n, &err), -EOPNOTSUPP);
        free(err);
        vcm_source_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_directory),
                cmocka_unit_test(test_bare_default_head),
                cmocka_unit_test(test_tree_not_worktree),
                cmocka_unit_test(test_tag_and_missing_ref),
                cmocka_unit_test(test_unreachable),
                cmocka_unit_test(test_force_push),
                cmocka_unit_test(test_dir_load_at),
                cmocka_unit_test(test_watch_directory),
                cmocka_unit_test(test_watch_local_repository),
                cmocka_unit_test(test_log),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
