/* The reconcile service's loop with fake providers and a fake source: debounce, the window-edge
 * timer, the state-directory lock, status `since` tracking, the informer cache (events re-read
 * one resource; a broken stream relists), and the loop end to end (source change, broken source,
 * window edge, SIGTERM). */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"
#include "reconciler/informer.h"
#include "reconciler/loop.h"
#include "reconciler/loop_status.h"

/* ---- temp dirs ----------------------------------------------------------------------- */

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
        return remove(path);
}

static char *tmp_make(void) {
        char *p = strdup("/tmp/vcm-loop-test-XXXXXX");
        assert_non_null(mkdtemp(p));
        return p;
}

static void tmp_remove(char *p) {
        nftw(p, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
        free(p);
}

/* ---- a fake provider with a watch ------------------------------------------------------ */

typedef struct fw_watch {
        int efd;
        char *names[64];
        size_t n;
        bool broken;
        long opens;
} fw_watch;

static fw_watch fw; /* one watch for the one host of these tests */

static int fw_watch_open(const vcm_site *site, const vcm_host *host, void **ret_watch, int *ret_fd,
                         vcm_error *err) {
        if (fw.efd <= 0)
                fw.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        fw.opens++;
        *ret_watch = &fw;
        *ret_fd = fw.efd;
        return 0;
}

static int fw_watch_read(void *watch, void (*fn)(void *, vcm_kind, const char *), void *u) {
        uint64_t v;
        (void)!read(fw.efd, &v, sizeof(v));
        for (size_t i = 0; i < fw.n; i++) {
                fn(u, VCM_KIND_DOMAIN, fw.names[i]);
                free(fw.names[i]);
        }
        fw.n = 0;
        bool b = fw.broken;
        fw.broken = false;
        return b ? -ECONNRESET : 0;
}

static void fw_watch_close(void *watch) {
}

static void fw_notify(const char *name) {
        if (name)
                fw.names[fw.n++] = strdup(name);
        else
                fw.broken = true;
        uint64_t one = 1;
        (void)!write(fw.efd, &one, sizeof(one));
}

static int fw_observe_one(vcm_host_ctx *ctx, vcm_kind kind, const char *name,
                          vcm_resource_set *out, vcm_error *err) {
        fx_world *w = ctx->conn;
        pthread_mutex_lock(&w->lock);
        const vcm_resource *r = vcm_resource_set_find(w->res, kind, ctx->host->name, name);
        if (r)
                vcm_resource_set_add_copy(out, r);
        pthread_mutex_unlock(&w->lock);
        return 0;
}

static vcm_provider fw_provider;

static vcm_provider_table fw_table(void) {
        fw_provider = fx_provider;
        fw_provider.name = "fake-watch";
        fw_provider.watch_open = fw_watch_open;
        fw_provider.watch_read = fw_watch_read;
        fw_provider.watch_close = fw_watch_close;
        fw_provider.observe_one = fw_observe_one;
        vcm_provider_table t = { 0 };
        for (int k = 0; k < VCM_KIND__COUNT; k++)
                t.by_kind[k] = &fw_provider;
        return t;
}

static int fw_table_cb(const vcm_site *site, vcm_provider_table *ret, const char **ret_error) {
        *ret = fw_table();
        return 0;
}

/* ---- a fake source: YAML in memory, versions switched by the test ------------------------ */

static const char SITE[] = "apiVersion: vcm/v1\nkind: Site\nmetadata: {name: lab}\nspec:\n"
                           "  network: {backend: bridge}\n  storage: {backend: file}\n"
                           "  hosts:\n    - name: h1\n      roles: [gateway, vm-server]\n"
                           "      libvirt: test:///default\n"
                           "      capacity: {vcpus: 64, memory: 256GiB}\n"
                           "  images:\n"
                           "    frontend: {kernel: /boot/vmlinuz, initrd: /boot/initrd.img}\n"
                           "    compute: {kernel: /boot/vmlinuz, initrd: /boot/initrd.img}\n";

static char *cluster_yaml(const char *name, int count, const char *window) {
        char *s = NULL;
        assert_true(asprintf(&s,
                             "apiVersion: vcm/v1\nkind: VirtualCluster\n"
                             "metadata: {name: %s, owner: ops@example.org}\nspec:\n%s"
                             "  network: {subnet: 10.1.0.0/24}\n"
                             "  frontend: {vcpus: 1, memory: 256MiB, disk: 64MiB}\n"
                             "  nodes:\n"
                             "    - {name: compute, count: %d, vcpus: 1, memory: 256MiB, "
                             "disk: 64MiB}\n",
                             name, window ? window : "", count) > 0);
        return s;
}

typedef struct fake_source {
        int pipe[2];
        char *cluster;       /* the one cluster file's text; NULL: none */
        bool fail;           /* load fails (an unreadable source) */
        int loads;
} fake_source;

static int fs_load(void *u, vcm_diags *diags, vcm_repo **ret, char **ret_error) {
        fake_source *s = u;
        s->loads++;
        if (s->fail) {
                *ret_error = strdup("fetch failed: connection refused");
                return -ECONNREFUSED;
        }
        vcm_source_file files[2] = { { "site.yaml", SITE, strlen(SITE) } };
        size_t n = 1;
        if (s->cluster)
                files[n++] = (vcm_source_file){ "clusters/c.yaml", s->cluster,
                                                strlen(s->cluster) };
        vcm_repo *repo = NULL;
        assert_int_equal(vcm_load_files(files, n, diags, &repo), 0);
        vcm_validate_repo(repo, diags);
        assert_int_equal(vcm_repo_drop_invalid(repo, diags), 0);
        *ret = repo;
        return 0;
}

static int fs_fd(void *u) {
        return ((fake_source *)u)->pipe[0];
}

static void fs_drain(void *u) {
        char buf[64];
        while (read(((fake_source *)u)->pipe[0], buf, sizeof(buf)) > 0)
                ;
}

static const char *fs_describe(void *u) {
        return "fake:";
}

static vcm_loop_source fs_make(fake_source *s) {
        assert_int_equal(pipe2(s->pipe, O_NONBLOCK | O_CLOEXEC), 0);
        return (vcm_loop_source){ .load = fs_load, .watch_fd = fs_fd, .drain = fs_drain,
                                  .describe = fs_describe, .userdata = s };
}

static void fs_poke(fake_source *s) {
        assert_int_equal(write(s->pipe[1], "x", 1), 1);
}

/* The loop's log, kept for assertions. After the first pass it can switch the source to a
 * new version and poke its watch, as a commit would. */
typedef struct logbuf {
        char text[16384];
        int passes;
        fake_source *src;
        char *next_cluster;
} logbuf;

static void log_cb(void *u, vcm_log_level level, const char *line) {
        logbuf *l = u;
        strncat(l->text, line, sizeof(l->text) - strlen(l->text) - 2);
        strcat(l->text, "\n");
        if (strncmp(line, "pass (", 6) == 0 && ++l->passes == 1 && l->src) {
                free(l->src->cluster);
                l->src->cluster = l->next_cluster;
                l->next_cluster = NULL;
                fs_poke(l->src);
        }
}

static json_t *status_of(const char *dir) {
        json_t *doc = NULL;
        assert_int_equal(vcm_status_read(dir, &doc), 0);
        return doc;
}

static const char *cluster_state(json_t *doc, const char *name) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(doc, "clusters"), i, c)
                if (!strcmp(json_string_value(json_object_get(c, "name")), name))
                        return json_string_value(json_object_get(c, "state"));
        return NULL;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_debounce(void **state) {
        vcm_debounce d = { 0 };
        assert_true(vcm_debounce_trigger(&d, 1000, 200));
        assert_int_equal(d.due_ms, 1200);
        /* More triggers while armed do not push the pass back. */
        assert_false(vcm_debounce_trigger(&d, 1100, 200));
        assert_false(vcm_debounce_trigger(&d, 1199, 200));
        assert_int_equal(d.due_ms, 1200);
        vcm_debounce_clear(&d);
        assert_true(vcm_debounce_trigger(&d, 1300, 200));
        assert_int_equal(d.due_ms, 1500);
}

static void test_edge_deadline(void **state) {
        int64_t sec = 0;
        assert_false(vcm_loop_edge_deadline(INT64_MAX, &sec));
        assert_true(vcm_loop_edge_deadline(1796094000, &sec));
        assert_int_equal(sec, 1796094000);

        /* A pass before a window reports its start as the next edge; inside, its end. */
        fx_world *w = fx_world_new();
        fake_source s = { .cluster = cluster_yaml("alpha", 1,
                                                  "  window: {start: 2026-12-01T09:00:00+09:00, "
                                                  "end: 2026-12-20T18:00:00+09:00}\n") };
        vcm_diags d = { 0 };
        vcm_repo *repo = NULL;
        char *err = NULL;
        assert_int_equal(fs_load(&s, &d, &repo, &err), 0);
        vcm_provider_table t = fx_table();
        vcm_engine_opts o = { .now = 1796094000 - 3600 * 24, .backoff_ms = -1 };
        vcm_pass *p = NULL;
        assert_int_equal(vcm_engine_run(repo, &t, &o, &p), 0);
        assert_int_equal(p->next_edge, 1796094000 - 3 * 3600); /* 09:00+09:00 = 00:00Z */
        vcm_pass_free(p);
        o.now = 1796094000;
        assert_int_equal(vcm_engine_run(repo, &t, &o, &p), 0);
        int64_t end;
        assert_int_equal(vcm_status_parse_time("2026-12-20T09:00:00Z", &end), 0);
        assert_int_equal(p->next_edge, end);
        vcm_pass_free(p);
        vcm_repo_free(repo);
        vcm_diags_clear(&d);
        free(s.cluster);
        fx_world_free(w);
}

static void test_lock_refusal(void **state) {
        char *dir = tmp_make();
        int fd = -1, fd2 = -1;
        pid_t holder = 0;
        assert_int_equal(vcm_state_lock(dir, &fd, &holder), 0);
        assert_int_equal(vcm_state_lock(dir, &fd2, &holder), -EWOULDBLOCK);
        assert_int_equal(holder, getpid());

        /* The loop refuses to start, and says who holds it. */
        fake_source s = { 0 };
        vcm_loop_source src = fs_make(&s);
        vcm_loop_opts o = { .state_dir = dir, .provider_table = fw_table_cb, .max_passes = 1 };
        char *err = NULL;
        assert_int_equal(vcm_loop_run(&src, &o, &err), -EWOULDBLOCK);
        assert_non_null(err);
        char want[64];
        snprintf(want, sizeof(want), "pid %ld", (long)getpid());
        assert_non_null(strstr(err, want));
        assert_int_equal(s.loads, 0);
        free(err);
        close(fd);
        /* Released: the next one gets it. */
        assert_int_equal(vcm_state_lock(dir, &fd2, &holder), 0);
        close(fd2);

        /* The holder is named from the kernel's locks, not from a pid left in the file (a
         * holder that could not write it). */
        int ready[2], done[2];
        assert_int_equal(pipe(ready), 0);
        assert_int_equal(pipe(done), 0);
        pid_t child = fork();
        if (child == 0) {
                close(done[1]); /* or its own end would keep the read below from seeing EOF */
                int cfd = -1;
                pid_t h = 0;
                char c = vcm_state_lock(dir, &cfd, &h) == 0 ? 'y' : 'n';
                (void)!write(ready[1], &c, 1);
                (void)!read(done[0], &c, 1); /* until the parent has looked */
                _exit(0);
        }
        char c = 0;
        assert_int_equal(read(ready[0], &c, 1), 1);
        assert_int_equal(c, 'y');
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/lock", dir);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("999999\n", f); /* stale */
        fclose(f);
        assert_int_equal(vcm_state_lock(dir, &fd2, &holder), -EWOULDBLOCK);
        assert_int_equal(holder, child);
        close(done[1]);
        int status;
        assert_int_equal(waitpid(child, &status, 0), child);
        close(ready[0]);
        close(ready[1]);
        close(done[0]);
        close(s.pipe[0]);
        close(s.pipe[1]);
        tmp_remove(dir);
}

static void test_status_since(void **state) {
        json_t *prev = json_pack("{s:[{s:s, s:s, s:s}]}", "clusters", "name", "alpha", "state",
                                 "Ready", "since", "2026-11-26T10:00:00Z");
        int64_t t0;
        assert_int_equal(vcm_status_parse_time("2026-11-26T10:00:00Z", &t0), 0);
        assert_int_equal(vcm_status_since(prev, "alpha", "Ready", t0 + 500), t0);
        assert_int_equal(vcm_status_since(prev, "alpha", "Degraded", t0 + 500), t0 + 500);
        assert_int_equal(vcm_status_since(prev, "beta", "Ready", t0 + 500), t0 + 500);
        assert_int_equal(vcm_status_since(NULL, "alpha", "Ready", t0 + 9), t0 + 9);
        json_decref(prev);

        /* Through whole documents: a second pass with the same state keeps `since`. */
        fx_world *w = fx_world_new();
        fake_source s = { .cluster = cluster_yaml("alpha", 1, NULL) };
        vcm_diags d = { 0 };
        vcm_repo *repo = NULL;
        char *err = NULL;
        assert_int_equal(fs_load(&s, &d, &repo, &err), 0);
        vcm_provider_table t = fx_table();
        vcm_engine_opts o = { .now = t0, .backoff_ms = -1 };
        vcm_pass *p = NULL;
        assert_int_equal(vcm_engine_run(repo, &t, &o, &p), 0);
        vcm_status_info info = { .source = "fake:", .load_diags = &d };
        json_t *doc1 = vcm_status_build(p, repo, &info, NULL, t0);
        vcm_pass_free(p);
        assert_string_equal(cluster_state(doc1, "alpha"), "Ready");
        assert_int_equal(vcm_engine_run(repo, &t, &o, &p), 0);
        /* What the service keeps of doc1 (name, state, since) is enough for the next one. */
        json_t *kept = vcm_status_keep(doc1);
        json_t *kc = json_array_get(json_object_get(kept, "clusters"), 0);
        assert_null(json_object_get(kc, "nodes"));
        assert_string_equal(json_string_value(json_object_get(kc, "state")), "Ready");
        json_t *doc2 = vcm_status_build(p, repo, &info, kept, t0 + 60);
        json_t *c = json_array_get(json_object_get(doc2, "clusters"), 0);
        assert_string_equal(json_string_value(json_object_get(c, "since")),
                            "2026-11-26T10:00:00Z");
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(doc2, "condition"), "since")),
                json_string_value(json_object_get(json_object_get(doc1, "condition"), "since")));
        assert_int_equal(json_array_size(json_object_get(c, "nodes")), 2);
        json_decref(kept);
        vcm_pass_free(p);
        /* A new condition starts a new since. */
        json_t *doc3 = vcm_status_build(NULL, repo, &info, doc2, t0 + 120);
        json_decref(doc3);
        json_decref(doc1);
        json_decref(doc2);
        vcm_repo_free(repo);
        vcm_diags_clear(&d);
        free(s.cluster);
        fx_world_free(w);
}

/* suspend: true holds every change; the status says so and counts the drift. */
static void test_status_suspended(void **state) {
        fx_world *w = fx_world_new();
        fake_source s = { .cluster = cluster_yaml("alpha", 2, "  suspend: true\n") };
        vcm_diags d = { 0 };
        vcm_repo *repo = NULL;
        char *err = NULL;
        assert_int_equal(fs_load(&s, &d, &repo, &err), 0);
        assert_int_equal(d.n_errors, 0);
        vcm_provider_table t = fx_table();
        vcm_engine_opts o = { .now = 1796094000, .backoff_ms = -1 };
        vcm_pass *p = NULL;
        assert_int_equal(vcm_engine_run(repo, &t, &o, &p), 0);
        assert_int_equal(p->n_steps, 0);
        assert_int_equal(vcm_resource_set_size(w->res), 0);
        vcm_status_info info = { .source = "fake:", .load_diags = &d };
        json_t *doc = vcm_status_build(p, repo, &info, NULL, 1796094000);
        json_t *c = json_array_get(json_object_get(doc, "clusters"), 0);
        assert_string_equal(json_string_value(json_object_get(c, "state")), "Stalled");
        assert_true(json_is_true(json_object_get(c, "suspended")));
        assert_non_null(strstr(json_string_value(json_object_get(c, "reason")), "suspend"));
        json_decref(doc);
        vcm_pass_free(p);
        vcm_repo_free(repo);
        vcm_diags_clear(&d);
        free(s.cluster);
        fx_world_free(w);
}

static void test_informer_events(void **state) {
        fx_world *w = fx_world_new();
        fw = (fw_watch){ 0 };
        fake_source s = { .cluster = cluster_yaml("alpha", 3, NULL) };
        vcm_diags d = { 0 };
        vcm_repo *repo = NULL;
        char *err = NULL;
        assert_int_equal(fs_load(&s, &d, &repo, &err), 0);
        vcm_provider_table t = fw_table();
        vcm_informer *inf = vcm_informer_new();
        vcm_engine_opts o = { .now = 1796094000, .backoff_ms = -1, .informer = inf };
        vcm_pass *p = NULL;
        assert_int_equal(vcm_engine_run(repo, &t, &o, &p), 0);
        assert_true(p->n_steps > 0);
        vcm_pass_free(p);
        vcm_informer_stats st = vcm_informer_get_stats(inf);
        assert_int_equal(st.relists, 1);
        long observes = w->observes;

        /* The steps' resources are re-read; nothing is listed again. */
        assert_int_equal(vcm_engine_run(repo, &t, &o, &p), 0);
        assert_int_equal(p->n_steps, 0);
        vcm_pass_free(p);
        assert_int_equal(w->observes, observes);
        assert_int_equal(vcm_informer_get_stats(inf).relists, 1);

        /* A domain stopped behind vcm's back: the event re-reads it alone, one step. */
        pthread_mutex_lock(&w->lock);
        vcm_resource *dom = (vcm_resource *)vcm_resource_set_find(w->res, VCM_KIND_DOMAIN, "h1",
                                                                  "alpha-compute-1");
        assert_non_null(dom);
        vcm_resource_set_prop(dom, "state", "shutoff");
        pthread_mutex_unlock(&w->lock);
        fw_notify("alpha-compute-1");
        int fds[4];
        assert_int_equal(vcm_informer_fds(inf, fds, 4), 1);
        assert_int_equal(vcm_informer_drain(inf), 1);
        st = vcm_informer_get_stats(inf);
        assert_int_equal(vcm_engine_run(repo, &t, &o, &p), 0);
        assert_int_equal(p->n_steps, 1);
        assert_int_equal(p->steps[0].action, VCM_ACTION_UPDATE);
        vcm_pass_free(p);
        assert_int_equal(w->observes, observes);
        assert_int_equal(vcm_informer_get_stats(inf).rereads, st.rereads + 1);

        /* A change with no event is not seen until a resync... */
        pthread_mutex_lock(&w->lock);
        vcm_resource_set_remove(w->res, VCM_KIND_DOMAIN, "h1", "alpha-compute-2");
        pthread_mutex_unlock(&w->lock);
        assert_int_equal(vcm_engine_run(repo, &t, &o, &p), 0);
        assert_int_equal(p->n_steps, 0);
        vcm_pass_free(p);
        /* ...or a broken stream, which relists the host and reopens the watch. */
        long wopens = fw.opens;
        fw_notify(NULL);
        assert_int_equal(vcm_informer_drain(inf), 1);
        assert_int_equal(vcm_informer_get_stats(inf).broken_streams, 1);
        assert_int_equal(vcm_engine_run(repo, &t, &o, &p), 0);
        assert_int_equal(p->n_steps, 1);
        assert_int_equal(p->steps[0].action, VCM_ACTION_CREATE);
        vcm_pass_free(p);
        assert_int_equal(w->observes, observes + 1);
        assert_int_equal(fw.opens, wopens + 1);

        vcm_informer_free(inf);
        vcm_repo_free(repo);
        vcm_diags_clear(&d);
        free(s.cluster);
        fx_world_free(w);
}

/* The loop end to end: start, a source change adds a node, a broken source is Stalled and
 * deletes nothing, and a change that removes the cluster releases it. */
static void test_loop_source_changes(void **state) {
        fx_world *w = fx_world_new();
        fw = (fw_watch){ 0 };
        char *dir = tmp_make();
        fake_source s = { .cluster = cluster_yaml("alpha", 1, NULL) };
        vcm_loop_source src = fs_make(&s);
        logbuf log = { .src = &s, .next_cluster = cluster_yaml("alpha", 2, NULL) };
        vcm_loop_opts o = { .state_dir = dir, .provider_table = fw_table_cb, .log = log_cb,
                            .userdata = &log, .debounce_ms = 10, .max_passes = 2 };
        /* Pass 1 at start creates 1 node + frontend; then a new version with 2 nodes arrives
         * and pass 2 is a source change (debounced). */
        char *err = NULL;
        assert_int_equal(vcm_loop_run(&src, &o, &err), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "alpha"), 3);
        assert_int_equal(s.loads, 2);
        json_t *doc = status_of(dir);
        assert_string_equal(cluster_state(doc, "alpha"), "Ready");
        assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "condition"),
                                                              "state")),
                            "Ready");
        json_decref(doc);
        assert_non_null(strstr(log.text, "pass (start)"));
        assert_non_null(strstr(log.text, "source change"));

        /* From here each run is one pass that loads at start. A new version with 3 nodes. */
        log.src = NULL;
        o.max_passes = 1;
        free(s.cluster);
        s.cluster = cluster_yaml("alpha", 3, NULL);
        assert_int_equal(vcm_loop_run(&src, &o, &err), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "alpha"), 4);

        /* A broken spec: the cluster keeps what it has and the status says Stalled. */
        free(s.cluster);
        s.cluster = strdup("apiVersion: vcm/v1\nkind: VirtualCluster\nmetadata: {name: alpha}\n"
                           "spec: {nodes: [{count: -1}], bogus: 1}\n");
        assert_int_equal(vcm_loop_run(&src, &o, &err), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "alpha"), 4);
        doc = status_of(dir);
        assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "condition"),
                                                              "state")),
                            "Stalled");
        assert_true(json_array_size(json_object_get(doc, "last_errors")) > 0);
        json_t *before = json_incref(json_object_get(doc, "clusters"));
        assert_true(json_array_size(before) > 0);
        json_decref(doc);

        /* An unreadable source: Stalled, the last good specs stay, nothing deleted; with no
         * pass the clusters of the last document stay as written, nodes included (read back
         * from the file: the loop keeps only states and times). */
        s.fail = true;
        assert_int_equal(vcm_loop_run(&src, &o, &err), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "alpha"), 4);
        doc = status_of(dir);
        assert_true(json_equal(json_object_get(doc, "clusters"), before));
        json_decref(before);
        json_t *cond = json_object_get(doc, "condition");
        assert_string_equal(json_string_value(json_object_get(cond, "state")), "Stalled");
        assert_non_null(strstr(json_string_value(json_object_get(cond, "reason")),
                               "connection refused"));
        json_decref(doc);

        /* The file removed (the tree loads with no clusters while vcm owns resources): pruning
         * stops, nothing is deleted. */
        s.fail = false;
        free(s.cluster);
        s.cluster = NULL;
        assert_int_equal(vcm_loop_run(&src, &o, &err), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "alpha"), 4);
        doc = status_of(dir);
        assert_string_equal(cluster_state(doc, "alpha"), "Stalled");
        json_decref(doc);
        /* With --allow-empty it is released. */
        o.allow_empty = true;
        assert_int_equal(vcm_loop_run(&src, &o, &err), 0);
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "alpha"), 0);

        close(s.pipe[0]);
        close(s.pipe[1]);
        tmp_remove(dir);
        fx_world_free(w);
}

/* The edge timer: a window opening two seconds from now is acted on when it opens, with no
 * other event. */
static void test_loop_window_edge(void **state) {
        fx_world *w = fx_world_new();
        fw = (fw_watch){ 0 };
        char *dir = tmp_make();
        time_t start = time(NULL) + 2;
        char when[64], window[160];
        struct tm tm;
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&start, &tm));
        snprintf(window, sizeof(window), "  window: {start: %s}\n", when);
        /* RFC 3339 needs an offset: Z is one. */
        fake_source s = { .cluster = cluster_yaml("alpha", 1, window) };
        vcm_loop_source src = fs_make(&s);
        logbuf log = { .passes = 0 };
        vcm_loop_opts o = { .state_dir = dir, .provider_table = fw_table_cb, .log = log_cb,
                            .userdata = &log, .max_passes = 2 };
        char *err = NULL;
        assert_int_equal(vcm_loop_run(&src, &o, &err), 0);
        assert_non_null(strstr(log.text, "pass (window edge)"));
        assert_int_equal(fx_count(w->res, VCM_KIND_DOMAIN, "alpha"), 2);
        json_t *doc = status_of(dir);
        assert_string_equal(cluster_state(doc, "alpha"), "Ready");
        json_decref(doc);
        free(s.cluster);
        close(s.pipe[0]);
        close(s.pipe[1]);
        tmp_remove(dir);
        fx_world_free(w);
}

/* SIGTERM between passes: the loop returns 0; SIGHUP reloads (a SIGHUP pending at start falls
 * into the first pass: one load). */
static void test_loop_signals(void **state) {
        fx_world *w = fx_world_new();
        fw = (fw_watch){ 0 };
        char *dir = tmp_make();
        fake_source s = { .cluster = cluster_yaml("alpha", 1, NULL) };
        vcm_loop_source src = fs_make(&s);
        logbuf log = { .passes = 0 };
        vcm_loop_opts o = { .state_dir = dir, .provider_table = fw_table_cb, .log = log_cb,
                            .userdata = &log, .max_passes = 1 };
        vcm_loop_block_signals();
        assert_int_equal(kill(getpid(), SIGHUP), 0);
        char *err = NULL;
        assert_int_equal(vcm_loop_run(&src, &o, &err), 0);
        assert_non_null(strstr(log.text, "SIGHUP"));
        assert_non_null(strstr(log.text, "pass (start, SIGHUP)"));
        assert_int_equal(s.loads, 1);
        o.max_passes = 0;
        assert_int_equal(kill(getpid(), SIGTERM), 0);
        assert_int_equal(vcm_loop_run(&src, &o, &err), 0);
        assert_non_null(strstr(log.text, "stopping"));
        free(s.cluster);
        close(s.pipe[0]);
        close(s.pipe[1]);
        tmp_remove(dir);
        fx_world_free(w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_debounce),
                cmocka_unit_test(test_edge_deadline),
                cmocka_unit_test(test_lock_refusal),
                cmocka_unit_test(test_status_since),
                cmocka_unit_test(test_status_suspended),
                cmocka_unit_test(test_informer_events),
                cmocka_unit_test(test_loop_source_changes),
                cmocka_unit_test(test_loop_window_edge),
                cmocka_unit_test(test_loop_signals),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
