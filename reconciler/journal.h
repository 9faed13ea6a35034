/* The apply journal: one JSON line per finished step, appended to <state_dir>/journal.jsonl.
 *
 * Line format (one object per line, keys always present):
 *   {"time": RFC 3339 UTC, "cluster", "kind", "host", "name", "action", "result": "ok"|"error",
 *    "error": message|null, "commit": spec commit|null}
 * Lines are written with one write() on an O_APPEND descriptor (whole lines even with several
 * writers) and fsync()ed when the journal is closed at the end of the apply. */
#ifndef VCM_JOURNAL_H
#define VCM_JOURNAL_H

#include "reconciler/engine.h"

typedef struct vcm_journal vcm_journal;

/* Creates state_dir (one level) if needed. */
int vcm_journal_open(const char *state_dir, vcm_journal **ret);
/* Thread-safe. */
int vcm_journal_append(vcm_journal *j, int64_t when, const vcm_step *s, int result,
                       const char *error, const char *commit);
/* fsync and close; returns the first write/fsync error. Accepts NULL. */
int vcm_journal_close(vcm_journal *j);

#endif
