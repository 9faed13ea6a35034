#include "reconciler/window.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Time zone conversions go through glibc (localtime_r/mktime after setenv("TZ") + tzset()),
 * serialised by one mutex and with the previous TZ restored afterwards. Why not a private TZif
 * reader: glibc already handles every TZif version and the POSIX footer rule for dates past the
 * last transition, and a second implementation would be a second source of DST bugs. The cost is
 * that while the lock is held the process zone is briefly the slot's zone; vcm never formats
 * local time elsewhere (logs and the journal use UTC via gmtime_r), so nothing observes it.
 * Each switch re-reads a small zone file (tens of microseconds); only clusters with recurring
 * slots pay it. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct tz_guard {
        char *saved;
        bool had;
} tz_guard;

static int tz_enter(const char *tz, tz_guard *g) {
        /* Reject names glibc would silently read as UTC. */
        if (!tz || !*tz || tz[0] == '/' || strstr(tz, ".."))
                return -ENOENT;
        char path[512];
        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
        if (access(path, R_OK) < 0)
                return -ENOENT;
        pthread_mutex_lock(&tz_lock);
        const char *old = getenv("TZ");
        g->had = old != NULL;
        g->saved = old ? strdup(old) : NULL;
        if (!old || strcmp(old, tz) != 0) {
                setenv("TZ", tz, 1);
                tzset();
        }
        return 0;
}

static void tz_leave(tz_guard *g) {
        const char *cur = getenv("TZ");
        if (g->had && (!cur || strcmp(cur, g->saved) != 0)) {
                setenv("TZ", g->saved, 1);
                tzset();
        } else if (!g->had) {
                unsetenv("TZ");
                tzset();
        }
        free(g->saved);
        pthread_mutex_unlock(&tz_lock);
}

int vcm_tz_localtime(const char *tz, int64_t t, struct tm *ret_tm) {
        tz_guard g;
        int r = tz_enter(tz, &g);
        if (r < 0)
                return r;
        time_t tt = (time_t)t;
        struct tm tm;
        bool ok = localtime_r(&tt, &tm) != NULL;
        tz_leave(&g);
        if (!ok)
                return -EOVERFLOW;
        *ret_tm = tm;
        return 0;
}

static bool slot_contains(const vcm_slot *s, int64_t now) {
        struct tm tm;
        if (vcm_tz_localtime(s->timezone, now, &tm) < 0)
                return false;
        if (!(s->days & (1u << tm.tm_wday)))
                return false;
        int minute = tm.tm_hour * 60 + tm.tm_min;
        return minute >= s->from_minute && minute < s->to_minute;
}

vcm_window_phase vcm_window_phase_at(const vcm_window *w, int64_t now) {
        if (w->has_start && now < w->start)
                return VCM_WINDOW_BEFORE;
        if (w->has_end && now >= w->end)
                return VCM_WINDOW_AFTER;
        if (w->n_recurring == 0)
                return VCM_WINDOW_OPEN;
        for (size_t i = 0; i < w->n_recurring; i++)
                if (slot_contains(&w->recurring[i], now))
                        return VCM_WINDOW_OPEN;
        return VCM_WINDOW_GAP;
}

bool vcm_window_active(const vcm_window *w, int64_t now) {
        return vcm_window_phase_at(w, now) == VCM_WINDOW_OPEN;
}

bool vcm_cluster_active(const vcm_cluster *c, int64_t now) {
        return !c->has_window || vcm_window_active(&c->window, now);
}

static void edge_consider(int64_t *best, int64_t t, int64_t now, const vcm_window *w) {
        if (t <= now || t >= *best)
                return;
        if (w->has_start && t < w->start)
                return;
        if (w->has_end && t > w->end)
                return;
        *best = t;
}

/* The local minute-of-day on the given local day, or -1 / 1440 before / after that day. */
static int local_minute(time_t t, int year, int yday) {
        struct tm tm;
        if (!localtime_r(&t, &tm))
                return -1;
        if (tm.tm_year != year || tm.tm_yday != yday)
                return (tm.tm_year < year || (tm.tm_year == year && tm.tm_yday < yday)) ? -1 : 1440;
        return tm.tm_hour * 60 + tm.tm_min;
}

/* A local time inside a DST gap (02:30 on the night clocks go forward) does not exist; mktime
 * maps it somewhere near. The slot really starts when the local clock first reaches `minute`:
 * search the three hours before for that instant. Called with the zone set (tz_enter). */
static time_t gap_fix(time_t t, int year, int yday, int minute) {
        struct tm tm;
        if (!localtime_r(&t, &tm) || tm.tm_hour * 60 + tm.tm_min == minute)
                return t;
        time_t lo = t - 3 * 3600, hi = t + 3 * 3600;
        if (local_minute(lo, year, yday) >= minute)
                return t;
        while (hi - lo > 1) {
                time_t mid = lo + (hi - lo) / 2;
                if (local_minute(mid, year, yday) >= minute)
                        hi = mid;
                else
                        lo = mid;
        }
        return hi;
}

/* Slot edges on the local days around `now`: a week and a day covers every weekday. */
static void slot_edges(const vcm_slot *s, int64_t now, const vcm_window *w, int64_t *best) {
        tz_guard g;
        if (tz_enter(s->timezone, &g) < 0)
                return;
        time_t tt = (time_t)now;
        struct tm base;
        if (!localtime_r(&tt, &base)) {
                tz_leave(&g);
                return;
        }
        for (int off = -1; off <= 8; off++) {
                struct tm day = { .tm_year = base.tm_year, .tm_mon = base.tm_mon,
                                  .tm_mday = base.tm_mday + off, .tm_hour = 12, .tm_isdst = -1 };
                if (mktime(&day) == (time_t)-1)
                        continue;
                if (!(s->days & (1u << day.tm_wday)))
                        continue;
                int minutes[2] = { s->from_minute, s->to_minute };
                for (int k = 0; k < 2; k++) {
                        /* tm_min past 59 (and "24:00" = 1440) is normalised by mktime; a local
                         * time inside a DST gap maps to the instant after the gap. */
                        struct tm e = { .tm_year = day.tm_year, .tm_mon = day.tm_mon,
                                        .tm_mday = day.tm_mday, .tm_min = minutes[k],
                                        .tm_isdst = -1 };
                        time_t t = mktime(&e);
                        if (t == (time_t)-1)
                                continue;
                        if (minutes[k] < 1440)
                                t = gap_fix(t, day.tm_year, day.tm_yday, minutes[k]);
                        edge_consider(best, (int64_t)t, now, w);
                }
        }
        tz_leave(&g);
}

int64_t vcm_window_next_edge(const vcm_window *w, int64_t now) {
        int64_t best = INT64_MAX;
        if (w->has_start)
                edge_consider(&best, w->start, now, w);
        if (w->has_end)
                edge_consider(&best, w->end, now, w);
        for (size_t i = 0; i < w->n_recurring; i++)
                slot_edges(&w->recurring[i], now, w, &best);
        return best;
}

int64_t vcm_cluster_next_edge(const vcm_cluster *c, int64_t now) {
        return c->has_window ? vcm_window_next_edge(&c->window, now) : INT64_MAX;
}
