/* The reconcile service's event loop (reconciler/loop.h). */
#include "reconciler/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "reconciler/control.h"
#include "reconciler/desired.h"
#include "reconciler/heap.h"
#include "reconciler/informer.h"
#include "reconciler/loop_status.h"
#include "reconciler/util.h"

#define MAX_WATCH_FDS 64

/* ---- small pure parts (unit-tested) ---------------------------------------------------- */

bool vcm_debounce_trigger(vcm_debounce *d, int64_t now_ms, int64_t delay_ms) {
        if (d->due_ms)
                return false;
        d->due_ms = now_ms + (delay_ms > 0 ? delay_ms : 0);
        if (d->due_ms == 0)
                d->due_ms = 1; /* 0 means "none" */
        return true;
}

void vcm_debounce_clear(vcm_debounce *d) {
        d->due_ms = 0;
}

bool vcm_loop_edge_deadline(int64_t next_edge, int64_t *ret_sec) {
        if (next_edge == INT64_MAX || next_edge <= 0)
                return false;
        *ret_sec = next_edge;
        return true;
}

void vcm_loop_block_signals(void) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGTERM);
        sigaddset(&s, SIGINT);
        sigaddset(&s, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &s, NULL);
}

/* Who holds the flock() on fd's file, from /proc/locks (0: not found). The pid written in the
 * file can be stale: a holder that may not write it (another user) leaves the last one's. */
static pid_t lock_holder(int fd) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return 0;
        FILE *f = fopen("/proc/locks", "re");
        if (!f)
                return 0;
        char line[256];
        pid_t holder = 0;
        while (!holder && fgets(line, sizeof(line), f)) {
                char type[16];
                long pid;
                unsigned maj, min;
                unsigned long long ino;
                /* "1: FLOCK  ADVISORY  WRITE 1234 fe:00:5678 0 EOF" */
                if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu", type, &pid, &maj, &min,
                           &ino) == 5 &&
                    strcmp(type, "FLOCK") == 0 && ino == (unsigned long long)st.st_ino &&
                    makedev(maj, min) == st.st_dev)
                        holder = (pid_t)pid;
        }
        fclose(f);
        return holder;
}

int vcm_state_lock(const char *state_dir, int *ret_fd, pid_t *ret_holder) {
        if (mkdir(state_dir, 0750) < 0 && errno != EEXIST)
                return -errno;
        _cleanup_free_ char *path = xasprintf("%s/lock", state_dir);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        /* A user who may not write the file (made by root) still locks it: flock() needs no
         * write access; only the holder's pid is then not recorded. */
        bool writable = fd >= 0;
        if (fd < 0 && errno == EACCES)
                fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
                pid_t holder = lock_holder(fd);
                char buf[32] = "";
                ssize_t n = holder ? 0 : pread(fd, buf, sizeof(buf) - 1, 0);
                close(fd);
                if (ret_holder)
                        *ret_holder = holder ? holder : n > 0 ? (pid_t)strtol(buf, NULL, 10) : 0;
                return r;
        }
        if (!writable) {
                *ret_fd = fd;
                return 0;
        }
        /* The holder's pid, for the message of the instance that is refused. */
        char buf[32];
        int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* ---- the loop ------------------------------------------------------------------------- */

enum {
        TRIG_START = 1 << 0,
        TRIG_SOURCE = 1 << 1,
        TRIG_EVENT = 1 << 2,
        TRIG_EDGE = 1 << 3,
        TRIG_RESYNC = 1 << 4,
        TRIG_POLL = 1 << 5,
        TRIG_HUP = 1 << 6,
        TRIG_RETRY = 1 << 7,
        TRIG_CLOCK = 1 << 8,
};

static const char *const trig_names[] = { "start", "source change", "resource event",
                                          "window edge", "resync", "source poll", "SIGHUP",
                                          "retry of failed steps", "clock set" };

typedef struct loop {
        const vcm_loop_source *src;
        vcm_loop_opts o;
        int sig_fd, edge_fd, resync_fd, due_fd, poll_fd;
        int ctl_fd;                /* STATE/vcm.sock; -1: plans are not served */
        vcm_debounce due;
        unsigned triggers;
        bool need_load;
        vcm_repo *repo;            /* the specs in force (last good load) */
        vcm_diags load_diags;      /* their load problems */
        char *source_error;        /* the last load failed: why */
        vcm_informer *inf;
        vcm_seed_memo *seeds;      /* digests of the specs in force */
        json_t *prev_status;
        int passes;
        int64_t edge;              /* the armed window edge (Unix seconds; 0: none) */
} loop;

static void logf_(loop *l, vcm_log_level level, const char *fmt, ...) _printf_(3, 4);
static void logf_(loop *l, vcm_log_level level, const char *fmt, ...) {
        if (!l->o.log)
                return;
        va_list ap;
        va_start(ap, fmt);
        char *s = NULL;
        if (vasprintf(&s, fmt, ap) >= 0) {
                l->o.log(l->o.userdata, level, s);
                free(s);
        }
        va_end(ap);
}

static int64_t wall_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void timer_set_ms(int fd, int64_t abs_mono_ms) {
        struct itimerspec it = { 0 };
        if (abs_mono_ms > 0) {
                it.it_value.tv_sec = abs_mono_ms / 1000;
                it.it_value.tv_nsec = (abs_mono_ms % 1000) * 1000000;
        }
        timerfd_settime(fd, TFD_TIMER_ABSTIME, &it, NULL);
}

static void timer_every_ms(int fd, int64_t period_ms) {
        struct itimerspec it = { 0 };
        it.it_value.tv_sec = it.it_interval.tv_sec = period_ms / 1000;
        it.it_value.tv_nsec = it.it_interval.tv_nsec = (period_ms % 1000) * 1000000;
        timerfd_settime(fd, 0, &it, NULL);
}

static void timer_ack(int fd) {
        uint64_t n;
        (void)!read(fd, &n, sizeof(n));
}

/* A reason to run a pass: after debounce_ms, or at once (delay 0). */
static void schedule(loop *l, unsigned trigger, int64_t delay_ms) {
        l->triggers |= trigger;
        int64_t now = vcm_mono_ms();
        if (delay_ms == 0 && l->due.due_ms > now) {
                vcm_debounce_clear(&l->due); /* something urgent: do not wait for the rest */
        }
        if (vcm_debounce_trigger(&l->due, now, delay_ms))
                timer_set_ms(l->due_fd, l->due.due_ms);
}

static void arm_edge(loop *l, int64_t next_edge) {
        struct itimerspec it = { 0 };
        int64_t sec;
        l->edge = 0;
        if (vcm_loop_edge_deadline(next_edge, &sec)) {
                it.it_value.tv_sec = (time_t)sec;
                l->edge = sec;
        }
        timerfd_settime(l->edge_fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &it, NULL);
}

static void trigger_text(unsigned t, char *buf, size_t len) {
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(trig_names); i++)
                if (t & (1u << i)) {
                        if (buf[0])
                                strncat(buf, ", ", len - strlen(buf) - 1);
                        strncat(buf, trig_names[i], len - strlen(buf) - 1);
                }
}

static void do_load(loop *l) {
        vcm_diags diags = { 0 };
        vcm_repo *repo = NULL;
        char *err = NULL;
        int r = l->src->load(l->src->userdata, &diags, &repo, &err);
        if (r < 0) {
                free(l->source_error);
                l->source_error = err ? err : xstrdup(strerror(-r));
                logf_(l, VCM_LOG_ERROR, "source %s: %s; %s", l->src->describe(l->src->userdata),
                      l->source_error,
                      l->repo ? "the last good specs stay in force" : "nothing is done");
                vcm_diags_clear(&diags);
                return;
        }
        free(l->source_error);
        l->source_error = NULL;
        vcm_repo_free(l->repo);
        l->repo = repo;
        vcm_seed_memo_reset(l->seeds);
        vcm_diags_clear(&l->load_diags);
        l->load_diags = diags;
        for (size_t i = 0; i < diags.n && i < 20; i++)
                logf_(l, diags.items[i].severity == VCM_SEV_ERROR ? VCM_LOG_ERROR
                                                                  : VCM_LOG_WARNING,
                      "%s:%d:%d: %s", diags.items[i].pos.file ? diags.items[i].pos.file : "?",
                      diags.items[i].pos.line, diags.items[i].pos.column,
                      diags.items[i].message);
        logf_(l, VCM_LOG_INFO, "specs loaded from %s%s%s: %zu cluster%s, %zu error%s",
              l->src->describe(l->src->userdata), repo->commit ? " at " : "",
              repo->commit ? repo->commit : "", repo->n_clusters,
              repo->n_clusters == 1 ? "" : "s", diags.n_errors, diags.n_errors == 1 ? "" : "s");
}

static void write_status(loop *l, const vcm_pass *pass, const char *stop, const char *trigger,
                         int64_t started, int64_t duration) {
        vcm_informer_stats st = vcm_informer_get_stats(l->inf);
        vcm_status_info info = {
                .source = l->src->describe(l->src->userdata),
                .source_error = l->source_error,
                .load_diags = &l->load_diags,
                .stop_reason = stop,
                .trigger = trigger,
                .started_ms = started,
                .duration_ms = duration,
                .informer = &st,
                .pid = (long)getpid(),
        };
        /* Without a pass the clusters of the last document stay as they were, nodes included:
         * those are in the file, not in what the loop keeps. */
        json_t *written = NULL;
        if (!pass)
                (void)vcm_status_read(l->o.state_dir, &written);
        json_t *doc = vcm_status_build(pass, l->repo, &info,
                                       written ? written : l->prev_status, time(NULL));
        json_decref(written);
        int r = vcm_status_write(l->o.state_dir, doc);
        if (r < 0)
                logf_(l, VCM_LOG_ERROR, "cannot write %s/%s: %s", l->o.state_dir,
                      VCM_STATUS_FILE, strerror(-r));
        json_decref(l->prev_status);
        l->prev_status = vcm_status_keep(doc);
        json_decref(doc);
}

static void run_pass(loop *l) {
        char why[160];
        trigger_text(l->triggers, why, sizeof(why));
        unsigned triggers = l->triggers;
        l->triggers = 0;
        vcm_debounce_clear(&l->due);
        timer_set_ms(l->due_fd, 0);
        if (triggers & (TRIG_RESYNC | TRIG_HUP))
                vcm_informer_invalidate_all(l->inf);
        if (l->need_load) {
                l->need_load = false;
                do_load(l);
        }
        int64_t started = wall_ms();
        l->passes++;
        if (!l->repo) {
                write_status(l, NULL, NULL, why, started, 0);
                return;
        }
        const char *stop = NULL;
        vcm_provider_table table = { 0 };
        if (!l->repo->site)
                stop = "site.yaml is missing or failed to load: nothing is observed, created or "
                       "deleted";
        else if (l->o.provider_table(l->repo->site, &table, &stop) < 0 && !stop)
                stop = "no providers for this site's backends";
        if (stop) {
                logf_(l, VCM_LOG_ERROR, "pass (%s) cannot run: %s", why, stop);
                write_status(l, NULL, stop, why, started, wall_ms() - started);
                return;
        }
        /* time() reads a coarse clock that can lag the timerfd's by a tick: at an edge, the
         * pass must see the edge's second, or the window would stay closed until the resync. */
        int64_t now = wall_ms() / 1000;
        if ((triggers & TRIG_EDGE) && now < l->edge && l->edge - now <= 1)
                now = l->edge;
        vcm_engine_opts eo = {
                .now = now,
                .parallel = l->o.parallel,
                .retries = l->o.retries,
                .state_dir = l->o.state_dir,
                .allow_empty = l->o.allow_empty,
                .on_step = l->o.on_step,
                .userdata = l->o.userdata,
                .informer = l->inf,
                .seed_memo = l->seeds,
        };
        vcm_pass *pass = NULL;
        int r = vcm_engine_run(l->repo, &table, &eo, &pass);
        int64_t duration = wall_ms() - started;
        if (r < 0) {
                logf_(l, VCM_LOG_ERROR, "pass (%s) failed to run: %s", why, strerror(-r));
                write_status(l, NULL, "the engine could not run a pass", why, started,
                             duration);
                return;
        }
        size_t failed = 0;
        for (size_t i = 0; pass->step_results && i < pass->n_steps; i++)
                failed += pass->step_results[i] < 0;
        for (size_t i = 0; i < pass->diags.n && i < 20; i++)
                if (pass->diags.items[i].severity == VCM_SEV_ERROR)
                        logf_(l, VCM_LOG_ERROR, "%s", pass->diags.items[i].message);
        logf_(l, failed ? VCM_LOG_WARNING : VCM_LOG_INFO,
              "pass (%s): %zu step%s, %zu failed, %zu resources observed, %lld ms%s", why,
              pass->n_steps, pass->n_steps == 1 ? "" : "s", failed,
              vcm_resource_set_size(pass->observed), (long long)duration,
              pass->pruning_stopped ? "; pruning stopped (safety rule 1)" : "");
        write_status(l, pass, NULL, why, started, duration);
        arm_edge(l, pass->next_edge);
        /* Failed steps are retried without waiting for the resync. */
        if (failed)
                schedule(l, TRIG_RETRY, 30000);
        vcm_pass_free(pass);
}

/* After a pass or a plan that relisted a host: the relist freed its libvirt objects and buffers
 * around the new cache, so hand that memory back now. Not after one from the cache: it frees
 * little, and the next pass would fault the pages in again (~30 ms at 1,000 clusters). */
static void release_after_relist(loop *l, size_t relists_before) {
        if (vcm_informer_get_stats(l->inf).relists != relists_before)
                vcm_heap_release();
}

/* `vcm plan` asks: the plan of the specs in force, from the cache, at the instant asked. Not a
 * pass: nothing is applied, written or counted. Declined when the client means other specs, or
 * when no pass could run (the client then plans alone and reports the problem itself). */
static void serve_plan(loop *l, const vcm_plan_request *req, vcm_plan_answer *ret,
                       vcm_pass **ret_pass) {
        const char *identity = l->src->identity ? l->src->identity(l->src->userdata)
                                                : l->src->describe(l->src->userdata);
        ret->pid = (long)getpid();
        if (strcmp(req->source, identity) != 0) {
                ret->declined = xasprintf("it reconciles %s, not %s", identity, req->source);
                return;
        }
        /* A change of the source that is still being debounced, or one that cannot be
         * watched (a remote URL): read it now, as a plan of its own would. */
        if (l->need_load || l->src->watch_fd(l->src->userdata) < 0) {
                l->need_load = false;
                do_load(l);
        }
        vcm_provider_table table = { 0 };
        const char *stop = NULL;
        if (l->source_error || !l->repo)
                ret->declined = xasprintf("its source cannot be read: %s",
                                          l->source_error ? l->source_error : "not loaded");
        else if (!l->repo->site)
                ret->declined = xstrdup("site.yaml is missing or failed to load");
        else if (l->o.provider_table(l->repo->site, &table, &stop) < 0)
                ret->declined = xstrdup(stop ? stop : "no providers for this site's backends");
        if (ret->declined)
                return;
        vcm_engine_opts eo = {
                .now = req->at ? req->at : wall_ms() / 1000,
                .parallel = l->o.parallel,
                .allow_empty = req->allow_empty,
                .plan_only = true,
                .informer = l->inf,
                .seed_memo = l->seeds,
        };
        vcm_pass *pass = NULL;
        int r = vcm_engine_run(l->repo, &table, &eo, &pass);
        if (r < 0) {
                ret->declined = xasprintf("the pass could not run: %s", strerror(-r));
                return;
        }
        vcm_diags_sort(&pass->diags);
        size_t len = 0;
        FILE *out = open_memstream(&ret->output, &len);
        if (out) {
                if (req->json)
                        vcm_plan_print_json(pass, out);
                else
                        vcm_plan_print_text(pass, out, req->color);
                fclose(out);
        }
        ret->exit_code = vcm_plan_exit_code(pass);
        ret->commit = l->repo->commit ? xstrdup(l->repo->commit) : NULL;
        /* Borrowed for the reply only: the caller sends it before the pass is freed. */
        ret->load_diags = l->load_diags;
        ret->pass_diags = pass->diags;
        *ret_pass = pass;
}

static void serve_requests(loop *l) {
        for (;;) {
                int conn = -1;
                vcm_plan_request req = { 0 };
                char *error = NULL;
                int r = vcm_control_accept(l->ctl_fd, &conn, &req, &error);
                if (r == -EAGAIN)
                        return;
                if (r < 0) {
                        logf_(l, VCM_LOG_WARNING, "control socket: %s",
                              error ? error : strerror(-r));
                        free(error);
                        continue;
                }
                int64_t started = vcm_mono_ms();
                size_t relists = vcm_informer_get_stats(l->inf).relists;
                vcm_plan_answer a = { 0 };
                vcm_pass *pass = NULL;
                serve_plan(l, &req, &a, &pass);
                r = vcm_control_reply(conn, &a);
                logf_(l, r < 0 ? VCM_LOG_WARNING : VCM_LOG_INFO, "plan asked%s: %s, %lld ms%s%s",
                      req.at ? " (--at)" : "",
                      a.declined ? "declined" : a.exit_code == 2 ? "changes"
                                                : a.exit_code == 0 ? "no changes" : "errors",
                      (long long)(vcm_mono_ms() - started), a.declined ? ": " : "",
                      a.declined ? a.declined : "");
                if (r < 0)
                        logf_(l, VCM_LOG_WARNING, "control socket: the answer was not sent: %s",
                              strerror(-r));
                vcm_pass_free(pass);
                a.load_diags = a.pass_diags = (vcm_diags){ 0 }; /* borrowed */
                vcm_plan_answer_clear(&a);
                vcm_plan_request_clear(&req);
                release_after_relist(l, relists);
        }
}

static void loop_close(loop *l) {
        int fds[] = { l->sig_fd, l->edge_fd, l->resync_fd, l->due_fd, l->poll_fd };
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        vcm_informer_free(l->inf);
        vcm_seed_memo_free(l->seeds);
        vcm_repo_free(l->repo);
        vcm_diags_clear(&l->load_diags);
        free(l->source_error);
        json_decref(l->prev_status);
        vcm_control_close(l->o.state_dir, l->ctl_fd);
}

int vcm_loop_run(const vcm_loop_source *src, const vcm_loop_opts *opts, char **ret_error) {
        if (!src || !opts || !opts->state_dir || !opts->provider_table)
                return -EINVAL;
        loop l = { .src = src, .o = *opts, .sig_fd = -1, .edge_fd = -1, .resync_fd = -1,
                   .due_fd = -1, .poll_fd = -1, .ctl_fd = -1 };
        vcm_heap_tune(1); /* before the passes' threads: one arena for a long life */
        if (l.o.resync_ms <= 0)
                l.o.resync_ms = 10 * 60 * 1000;
        if (l.o.interval_ms <= 0)
                l.o.interval_ms = 60 * 1000;
        if (l.o.debounce_ms < 0)
                l.o.debounce_ms = 0;
        else if (l.o.debounce_ms == 0)
                l.o.debounce_ms = 200;

        int lock_fd = -1;
        pid_t holder = 0;
        int r = vcm_state_lock(l.o.state_dir, &lock_fd, &holder);
        if (r < 0) {
                if (ret_error)
                        *ret_error = r == -EWOULDBLOCK
                                             ? (holder ? xasprintf("another vcm (pid %ld) is "
                                                                   "running on %s",
                                                                   (long)holder, l.o.state_dir)
                                                       : xasprintf("another vcm is "
                                                                   "running on %s",
                                                                   l.o.state_dir))
                                             : xasprintf("cannot lock %s/lock: %s",
                                                         l.o.state_dir, strerror(-r));
                return r;
        }

        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        sigaddset(&sigs, SIGHUP);
        l.sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
        l.edge_fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
        l.resync_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        l.due_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        l.poll_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (l.sig_fd < 0 || l.edge_fd < 0 || l.resync_fd < 0 || l.due_fd < 0 || l.poll_fd < 0) {
                r = -errno;
                if (ret_error)
                        *ret_error = xasprintf("cannot set up the event loop: %s", strerror(-r));
                loop_close(&l);
                close(lock_fd);
                return r;
        }
        l.inf = vcm_informer_new();
        l.seeds = vcm_seed_memo_new();
        r = vcm_control_listen(l.o.state_dir, &l.ctl_fd);
        if (r < 0)
                logf_(&l, VCM_LOG_WARNING, "no control socket %s/%s (%s): 'vcm plan' will "
                      "observe every host itself", l.o.state_dir, VCM_CONTROL_SOCKET,
                      strerror(-r));
        r = 0;
        json_t *last = NULL;
        if (vcm_status_read(l.o.state_dir, &last) == 0) { /* `since` survives restarts */
                l.prev_status = vcm_status_keep(last);
                json_decref(last);
        }
        timer_every_ms(l.resync_fd, l.o.resync_ms);
        if (src->watch_fd(src->userdata) < 0)
                timer_every_ms(l.poll_fd, l.o.interval_ms);
        l.need_load = true;
        schedule(&l, TRIG_START, 0);
        logf_(&l, VCM_LOG_INFO, "watching %s (state %s, resync every %llds)",
              src->describe(src->userdata), l.o.state_dir, (long long)(l.o.resync_ms / 1000));

        bool stop = false;
        while (!stop) {
                struct pollfd p[7 + MAX_WATCH_FDS];
                size_t n = 0;
                int sfd = src->watch_fd(src->userdata);
                p[n++] = (struct pollfd){ .fd = l.sig_fd, .events = POLLIN };
                p[n++] = (struct pollfd){ .fd = l.due_fd, .events = POLLIN };
                p[n++] = (struct pollfd){ .fd = l.edge_fd, .events = POLLIN };
                p[n++] = (struct pollfd){ .fd = l.resync_fd, .events = POLLIN };
                p[n++] = (struct pollfd){ .fd = l.poll_fd, .events = POLLIN };
                p[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN }; /* -1: ignored */
                p[n++] = (struct pollfd){ .fd = l.ctl_fd, .events = POLLIN };
                int wfds[MAX_WATCH_FDS];
                size_t nw = vcm_informer_fds(l.inf, wfds, MAX_WATCH_FDS);
                for (size_t i = 0; i < nw; i++)
                        p[n++] = (struct pollfd){ .fd = wfds[i], .events = POLLIN };
                if (poll(p, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(l.sig_fd, &si, sizeof(si)) == sizeof(si)) {
                                if (si.ssi_signo == SIGHUP) {
                                        logf_(&l, VCM_LOG_INFO, "SIGHUP: re-reading the source "
                                                                "and relisting every host");
                                        l.need_load = true;
                                        schedule(&l, TRIG_HUP, 0);
                                } else {
                                        logf_(&l, VCM_LOG_INFO, "%s: stopping",
                                              strsignal((int)si.ssi_signo));
                                        stop = true;
                                }
                        }
                        if (stop)
                                break;
                }
                if (p[2].revents & POLLIN) {
                        uint64_t v;
                        /* ECANCELED: the clock was set, not an edge; the pass re-arms it. */
                        bool set = read(l.edge_fd, &v, sizeof(v)) < 0 && errno == ECANCELED;
                        schedule(&l, set ? TRIG_CLOCK : TRIG_EDGE, 0);
                }
                if (p[3].revents & POLLIN) {
                        timer_ack(l.resync_fd);
                        l.need_load = true;
                        schedule(&l, TRIG_RESYNC, 0);
                }
                if (p[4].revents & POLLIN) {
                        timer_ack(l.poll_fd);
                        l.need_load = true;
                        schedule(&l, TRIG_POLL, 0);
                }
                if (sfd >= 0 && (p[5].revents & POLLIN)) {
                        src->drain(src->userdata);
                        l.need_load = true;
                        schedule(&l, TRIG_SOURCE, l.o.debounce_ms);
                }
                bool watch_ready = false;
                for (size_t i = 7; i < n; i++)
                        watch_ready = watch_ready || (p[i].revents & (POLLIN | POLLHUP | POLLERR));
                if (watch_ready && vcm_informer_drain(l.inf) > 0)
                        schedule(&l, TRIG_EVENT, l.o.debounce_ms);
                /* After the source and the watches: a plan asked right after an edit or an
                 * event sees it. */
                if (l.ctl_fd >= 0 && (p[6].revents & POLLIN))
                        serve_requests(&l);
                if (p[1].revents & POLLIN) {
                        timer_ack(l.due_fd);
                        size_t relists = vcm_informer_get_stats(l.inf).relists;
                        run_pass(&l);
                        release_after_relist(&l, relists);
                        if (l.o.max_passes && l.passes >= l.o.max_passes)
                                break;
                }
        }
        loop_close(&l);
        close(lock_fd);
        return r < 0 ? r : 0;
}
