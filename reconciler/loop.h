/* The reconcile service (`vcm reconcile --watch`): one event loop, one pass at a time.
 *
 * What wakes it (poll over descriptors, no busy polling):
 *  - the source's watch descriptor (debounced): reload the specs, then a pass;
 *  - a watch of the informer cache (libvirt lifecycle events; debounced): a pass that re-reads
 *    only the named resources;
 *  - a timerfd on CLOCK_REALTIME at the next window edge, so a window opens on its second;
 *  - the resync timer: reload and relist everything (drift that sends no event);
 *  - the interval timer, for sources that cannot be watched (remote git);
 *  - the control socket STATE/vcm.sock: `vcm plan` asks for a plan from the cache, answered
 *    between passes (reconciler/control.h);
 *  - a signalfd: SIGTERM/SIGINT end the loop between passes (a running pass, and so every
 *    running step, finishes first); SIGHUP re-reads the source and relists every host.
 *
 * Safety: a source that cannot be read keeps the last good specs in force (nothing that they
 * do not say is deleted), and the status says Stalled and why; specs that fail to load or hold
 * no clusters are the engine's safety rule 1 (pruning stops), surfaced the same way.
 *
 * Exclusive per state directory: STATE/lock is held with flock() for the life of the loop. */
#ifndef VCM_LOOP_H
#define VCM_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "reconciler/engine.h"
#include "specs/load.h"

/* The spec source as the loop sees it: the CLI adapts specs/source.h, tests use fakes. */
typedef struct vcm_loop_source {
        /* Load the current specs (validated, broken clusters moved to failed_files). On
         * failure *ret_error says why and the loop keeps its last good repo. */
        int (*load)(void *userdata, vcm_diags *diags, vcm_repo **ret_repo, char **ret_error);
        int (*watch_fd)(void *userdata);   /* -1: poll at interval_ms */
        void (*drain)(void *userdata);
        const char *(*describe)(void *userdata);
        /* The same source whatever path names it (vcm_source_identity); NULL: describe. A
         * `vcm plan` of the same identity is answered from the cache (reconciler/control.h). */
        const char *(*identity)(void *userdata);
        void *userdata;
} vcm_loop_source;

typedef enum vcm_log_level {
        VCM_LOG_INFO,
        VCM_LOG_WARNING,
        VCM_LOG_ERROR,
} vcm_log_level;

typedef struct vcm_loop_opts {
        const char *state_dir;   /* lock, status.json, journal, sources (required) */
        int64_t resync_ms;       /* full relist and reload; default 10 min */
        int64_t interval_ms;     /* polling of unwatched sources; default 1 min */
        int64_t debounce_ms;     /* after a source change or an event; default 200 ms */
        int parallel;
        int retries;
        bool allow_empty;
        /* The providers for a site's backends (the CLI: cli_provider_table). */
        int (*provider_table)(const vcm_site *site, vcm_provider_table *ret,
                              const char **ret_error);
        /* One line per thing that happened; from the loop's thread only (may be NULL). */
        void (*log)(void *userdata, vcm_log_level level, const char *line);
        /* Passed to the engine (progress of steps; from worker threads). */
        void (*on_step)(void *userdata, const struct vcm_step *step, int phase, int result,
                        const char *message);
        void *userdata;
        int max_passes;          /* tests and benchmarks: return after this many (0: no limit) */
} vcm_loop_opts;

/* Run until SIGTERM/SIGINT (or max_passes). The caller must have blocked SIGTERM, SIGINT and
 * SIGHUP in every thread (vcm_loop_block_signals() before starting threads). Returns 0 on a
 * clean stop; -EWOULDBLOCK when another instance holds the state directory (*ret_error names
 * it); other -errno when the loop cannot start. */
int vcm_loop_run(const vcm_loop_source *src, const vcm_loop_opts *opts, char **ret_error);

void vcm_loop_block_signals(void);

/* The state directory lock: 0 and the locked descriptor, -EWOULDBLOCK with the holder's pid
 * (0 when unknown) when another process holds it. Release with close(). */
int vcm_state_lock(const char *state_dir, int *ret_fd, pid_t *ret_holder);

/* Debounce: the first trigger arms the pass `debounce_ms` later; triggers while armed do not
 * push it back (a steady stream of events still gets a pass every debounce_ms). */
typedef struct vcm_debounce {
        int64_t due_ms;          /* monotonic ms of the pending pass; 0: none */
} vcm_debounce;
/* Returns true when this trigger armed the timer (the caller sets the timerfd to due_ms). */
bool vcm_debounce_trigger(vcm_debounce *d, int64_t now_ms, int64_t delay_ms);
/* Timer fired or the pass is starting: nothing pending any more. */
void vcm_debounce_clear(vcm_debounce *d);

/* The window-edge timer: the absolute CLOCK_REALTIME instant to arm for `next_edge` (Unix
 * seconds, INT64_MAX: none), or false when the timer must be disarmed. */
bool vcm_loop_edge_deadline(int64_t next_edge, int64_t *ret_sec);

#endif
