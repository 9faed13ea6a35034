/* vcm reconcile: the service. The loop is reconciler/loop.c; here it is wired to the real
 * source (specs/source.h), the real providers, and log lines on stdout/stderr. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "reconciler/loop.h"

typedef struct service {
        vcm_cli_opts *opts;
        vcm_source *src;
        pthread_mutex_t lock;   /* log lines come from the loop and from apply's workers */
} service;

static void stamp(char buf[40]) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        size_t n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", gmtime_r(&ts.tv_sec, &tm));
        snprintf(buf + n, 40 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void svc_log(void *userdata, vcm_log_level level, const char *line) {
        service *s = userdata;
        char ts[40];
        stamp(ts);
        pthread_mutex_lock(&s->lock);
        FILE *out = level == VCM_LOG_INFO ? stdout : stderr;
        fprintf(out, "%s %s%s\n", ts,
                level == VCM_LOG_ERROR ? "error: " : level == VCM_LOG_WARNING ? "warning: " : "",
                line);
        fflush(out);
        pthread_mutex_unlock(&s->lock);
}

static void svc_step(void *userdata, const vcm_step *step, int phase, int result,
                     const char *message) {
        service *s = userdata;
        const vcm_resource *r = step->desired ? step->desired : step->observed;
        char ts[40];
        stamp(ts);
        pthread_mutex_lock(&s->lock);
        if (phase == 0)
                printf("%s %s %s %s/%s on %s: start\n", ts, vcm_action_symbol(step->action),
                       vcm_action_verb(step->action), vcm_kind_name(r->kind), r->name, r->host);
        else if (result < 0)
                printf("%s %s %s/%s on %s: FAILED: %s\n", ts, vcm_action_verb(step->action),
                       vcm_kind_name(r->kind), r->name, r->host,
                       message ? message : strerror(-result));
        else
                printf("%s %s %s/%s on %s: done\n", ts, vcm_action_verb(step->action),
                       vcm_kind_name(r->kind), r->name, r->host);
        fflush(stdout);
        pthread_mutex_unlock(&s->lock);
}

/* The source as the loop wants it: loaded, validated, broken clusters set aside. */
static int svc_load(void *userdata, vcm_diags *diags, vcm_repo **ret_repo, char **ret_error) {
        service *s = userdata;
        vcm_repo *repo = NULL;
        int r = vcm_source_load(s->src, diags, &repo, ret_error);
        if (r < 0)
                return r;
        vcm_source_status st;
        vcm_source_get_status(s->src, &st);
        if (st.rewritten)
                vcm_diags_warning(diags, (vcm_pos){ 0 },
                                  "the history of %s was rewritten (force-push): %.12s does not "
                                  "descend from %.12s, loaded before; reconciling %.12s",
                                  vcm_source_describe(s->src), st.commit, st.replaced,
                                  st.commit);
        vcm_validate_repo(repo, diags);
        r = vcm_repo_drop_invalid(repo, diags);
        if (r < 0) {
                vcm_repo_free(repo);
                return r;
        }
        vcm_diags_sort(diags);
        *ret_repo = repo;
        return 0;
}

static int svc_watch_fd(void *userdata) {
        return vcm_source_watch_fd(((service *)userdata)->src);
}

static void svc_drain(void *userdata) {
        vcm_source_watch_drain(((service *)userdata)->src);
}

static const char *svc_describe(void *userdata) {
        return vcm_source_describe(((service *)userdata)->src);
}

static const char *svc_identity(void *userdata) {
        return vcm_source_identity(((service *)userdata)->src);
}

static int run_reconcile(vcm_cli_opts *opts) {
        /* Before any thread exists (libvirt's event loop, apply's workers), so that the
         * signals reach the loop's signalfd only. */
        vcm_loop_block_signals();
        /* libvirt wants its event loop registered before any connection is opened. */
        int er = cli_libvirt_events_init();
        if (er < 0)
                fprintf(stderr, "vcm reconcile: warning: libvirt's event loop did not start (%s): "
                                "domains changed behind vcm's back are seen at the resync only\n",
                        strerror(-er));
        service s = { .opts = opts, .lock = PTHREAD_MUTEX_INITIALIZER };
        if (cli_open_source(opts, &s.src) < 0)
                return 1;
        vcm_loop_source src = { .load = svc_load, .watch_fd = svc_watch_fd, .drain = svc_drain,
                                .describe = svc_describe, .identity = svc_identity,
                                .userdata = &s };
        vcm_loop_opts lo = {
                .state_dir = opts->state_dir,
                .resync_ms = opts->resync_ms,
                .interval_ms = opts->interval_ms,
                .debounce_ms = opts->debounce_ms,
                .parallel = opts->parallel,
                .retries = 3,
                .allow_empty = opts->allow_empty,
                .provider_table = cli_provider_table,
                .log = svc_log,
                .on_step = svc_step,
                .userdata = &s,
                .max_passes = opts->watch ? 0 : 1,
        };
        char *error = NULL;
        int r = vcm_loop_run(&src, &lo, &error);
        vcm_source_free(s.src);
        if (r < 0) {
                fprintf(stderr, "vcm reconcile: %s\n", error ? error : strerror(-r));
                free(error);
                return r == -EWOULDBLOCK ? 3 : 1;
        }
        return 0;
}

const vcm_command cli_cmd_reconcile = {
        .name = "reconcile",
        .summary = "the service: reconcile on every commit, window edge, drift event and resync",
        .usage = "Usage: vcm reconcile [--source SRC] [--ref REF] --watch [--state-dir DIR]\n"
                 "                     [--resync DUR] [--interval DUR] [--debounce DUR]\n"
                 "                     [--parallel N] [--allow-empty]\n"
                 "\n"
                 "Run as a service: reload the specs when the source changes (inotify on a\n"
                 "directory or a local repository, polling every --interval for remote URLs),\n"
                 "act on each window edge on its second, repair domains stopped or undefined\n"
                 "behind vcm's back from libvirt's lifecycle events, and relist every host\n"
                 "every --resync for drift that sends no event. Between resyncs the observed\n"
                 "state is kept from events, so a pass reads only what changed.\n"
                 "Without --watch: one pass, with the status file written, then exit.\n"
                 "\n"
                 "Status goes to STATE_DIR/status.json after every pass ('vcm status' reads it).\n"
                 "One instance per state directory (STATE_DIR/lock). Signals: SIGTERM or\n"
                 "SIGINT stop after the running pass (its steps finish); SIGHUP re-reads the\n"
                 "source and relists every host.\n"
                 "\n"
                 "Options:\n"
                 "  --source SRC      directory, git URL or repository path (default .)\n"
                 "  --ref REF         branch or tag of a git source\n"
                 "  --ssh-key FILE    private key for ssh:// sources\n"
                 "  --state-dir DIR   lock, status, journal, clones (default /var/lib/vcm)\n"
                 "  --resync DUR      full relist and reload (default 10m)\n"
                 "  --interval DUR    polling of sources that cannot be watched (default 1m)\n"
                 "  --debounce DUR    wait after a change or event before the pass (default 200ms)\n"
                 "  --parallel N      worker threads for steps (default 8)\n"
                 "  --allow-empty     allow releasing everything when the specs hold no clusters\n"
                 "\n"
                 "Exit: 0 stopped by a signal (or one pass done), 1 error, 3 another instance\n"
                 "holds the state directory, 64 usage error.\n",
        .run = run_reconcile,
};
