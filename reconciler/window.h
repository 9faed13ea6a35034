/* Reservation windows: is a cluster active at an instant, and when may that change next.
 *
 * A window is active inside start..end (start inclusive, end exclusive; a missing bound is
 * unbounded) and, when recurring slots are given, inside one of them in the slot's IANA time
 * zone. Daylight-saving changes come from the system tz database, so a 01:00-04:00 slot on the
 * night clocks go forward lasts two real hours. */
#ifndef VCM_WINDOW_H
#define VCM_WINDOW_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "specs/model.h"

typedef enum vcm_window_phase {
        VCM_WINDOW_BEFORE, /* start not reached */
        VCM_WINDOW_OPEN,   /* active */
        VCM_WINDOW_GAP,    /* inside start..end but between recurring slots */
        VCM_WINDOW_AFTER,  /* end passed */
} vcm_window_phase;

vcm_window_phase vcm_window_phase_at(const vcm_window *w, int64_t now);
bool vcm_window_active(const vcm_window *w, int64_t now);
/* A cluster without a window is always active. */
bool vcm_cluster_active(const vcm_cluster *c, int64_t now);

/* The first instant > now at which the window may open or close; INT64_MAX when none. */
int64_t vcm_window_next_edge(const vcm_window *w, int64_t now);
int64_t vcm_cluster_next_edge(const vcm_cluster *c, int64_t now);

/* A half-open span of time [start, end) in Unix seconds. */
typedef struct vcm_interval {
        int64_t start, end;
} vcm_interval;

/* Every span in [from, to) during which the window is active, in order, with touching spans
 * (a slot to 24:00 followed by one from 00:00) merged into one. Same rules as
 * vcm_window_active(): the slots' zones and DST come from the tz database. Returns 0 with a
 * malloc'ed array (NULL when empty), or -ENOENT for an unknown zone. */
int vcm_window_intervals(const vcm_window *w, int64_t from, int64_t to, vcm_interval **ret,
                         size_t *ret_n);

/* Local broken-down time of `t` in the IANA zone `tz`; -ENOENT when the zone is unknown. */
int vcm_tz_localtime(const char *tz, int64_t t, struct tm *ret_tm);

#endif
