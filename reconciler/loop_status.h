/* The service's status file: STATE/status.json, written atomically after each pass and read by
 * `vcm status` (format_version 1; fields documented in docs/operations.md).
 *
 * Each cluster's condition keeps its `since` across passes (and service restarts) while its
 * state stays the same; a new state starts a new `since`. */
#ifndef VCM_LOOP_STATUS_H
#define VCM_LOOP_STATUS_H

#include <stdint.h>

#include <jansson.h>

#include "reconciler/engine.h"
#include "reconciler/informer.h"

#define VCM_STATUS_FILE "status.json"

/* What the loop knows beyond the pass. */
typedef struct vcm_status_info {
        const char *source;        /* vcm_source_describe() */
        const char *source_error;  /* the last load failed: why (the last good specs stay) */
        const vcm_diags *load_diags; /* problems of the specs in force (errors are listed) */
        const char *stop_reason;   /* the pass could not run at all (no site, no providers) */
        const char *trigger;       /* what started the pass: "start", "source change", ... */
        int64_t started_ms, duration_ms; /* wall clock, Unix milliseconds */
        const vcm_informer_stats *informer;
        long pid;
} vcm_status_info;

/* The status document of a pass (pass and repo may be NULL when no pass could run). `prev` is
 * the previous document (or NULL): each cluster keeps its `since` when its state is unchanged. */
json_t *vcm_status_build(const vcm_pass *pass, const vcm_repo *repo, const vcm_status_info *info,
                         const json_t *prev, int64_t now);

/* What the service keeps of a written document for the next one: the condition's and each
 * cluster's name, state and since (all vcm_status_build reads of `prev` when a pass ran; the
 * nodes and errors are in the file). A site's full document is megabytes of small objects. */
json_t *vcm_status_keep(const json_t *doc);

/* The `since` to report for a cluster now in `state`: the previous one when the previous
 * document had the same state for it, else `now`. */
int64_t vcm_status_since(const json_t *prev, const char *cluster, const char *state, int64_t now);

/* Write doc to DIR/status.json atomically (temporary file, fsync, rename). */
int vcm_status_write(const char *state_dir, const json_t *doc);
/* Read DIR/status.json: -ENOENT when absent, -EBADMSG when unreadable. */
int vcm_status_read(const char *state_dir, json_t **ret_doc);

/* RFC 3339 UTC ("2026-11-26T12:00:00Z") of Unix seconds. */
void vcm_status_format_time(int64_t t, char buf[32]);
/* Back from that form; -EINVAL when it is not one. */
int vcm_status_parse_time(const char *s, int64_t *ret);

#endif
