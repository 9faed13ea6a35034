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

/* ---- spans of a window over a period (capacity over time) --------------------------------- */

typedef struct span_vec {
        vcm_interval *v;
        size_t n, cap;
} span_vec;

static void span_push(span_vec *a, int64_t s, int64_t e) {
        if (s >= e)
                return;
        if (a->n == a->cap) {
                size_t cap = a->cap ? a->cap * 2 : 16;
                vcm_interval *v = realloc(a->v, cap * sizeof(*v));
                if (!v)
                        abort(); /* as xmalloc elsewhere: out of memory is fatal */
                a->v = v;
                a->cap = cap;
        }
        a->v[a->n++] = (vcm_interval){ s, e };
}

/* One slot's occurrences in [lo, hi). Weekdays advance without mktime: only matching days pay
 * for the three conversions (the day itself, then both edges), so a year of weekly slots costs
 * about 150 mktime calls. */
static int slot_spans(const vcm_slot *s, int64_t lo, int64_t hi, span_vec *out) {
        tz_guard g;
        int r = tz_enter(s->timezone, &g);
        if (r < 0)
                return r;
        /* Start a day early: the local day holding `lo` may begin before lo - 12 h. */
        time_t t0 = (time_t)(lo - 86400);
        struct tm base;
        if (!localtime_r(&t0, &base)) {
                tz_leave(&g);
                return -EOVERFLOW;
        }
        int64_t days = (hi - (int64_t)t0) / 86400 + 2;
        for (int64_t k = 0; k <= days; k++) {
                if (!(s->days & (1u << ((base.tm_wday + k) % 7))))
                        continue;
                struct tm day = { .tm_year = base.tm_year, .tm_mon = base.tm_mon,
                                  .tm_mday = base.tm_mday + (int)k, .tm_hour = 12,
                                  .tm_isdst = -1 };
                if (mktime(&day) == (time_t)-1)
                        continue;
                time_t edge[2];
                int minutes[2] = { s->from_minute, s->to_minute };
                for (int i = 0; i < 2; i++) {
                        struct tm e = { .tm_year = day.tm_year, .tm_mon = day.tm_mon,
                                        .tm_mday = day.tm_mday, .tm_min = minutes[i],
                                        .tm_isdst = -1 };
                        edge[i] = mktime(&e);
                        if (edge[i] != (time_t)-1 && minutes[i] < 1440)
                                edge[i] = gap_fix(edge[i], day.tm_year, day.tm_yday, minutes[i]);
                }
                if (edge[0] == (time_t)-1 || edge[1] == (time_t)-1)
                        continue;
                int64_t a = edge[0] < lo ? lo : edge[0], b = edge[1] > hi ? hi : edge[1];
                span_push(out, a, b);
        }
        tz_leave(&g);
        return 0;
}

static int span_cmp(const void *a, const void *b) {
        const vcm_interval *x = a, *y = b;
        return x->start < y->start ? -1 : x->start > y->start;
}

int vcm_window_intervals(const vcm_window *w, int64_t from, int64_t to, vcm_interval **ret,
                         size_t *ret_n) {
        int64_t lo = from, hi = to;
        if (w->has_start && w->start > lo)
                lo = w->start;
        if (w->has_end && w->end < hi)
                hi = w->end;
        span_vec a = { 0 };
        if (lo < hi && w->n_recurring == 0)
                span_push(&a, lo, hi);
        for (size_t i = 0; lo < hi && i < w->n_recurring; i++) {
                int r = slot_spans(&w->recurring[i], lo, hi, &a);
                if (r < 0) {
                        free(a.v);
                        return r;
                }
        }
        if (a.n > 1) {
                qsort(a.v, a.n, sizeof(*a.v), span_cmp);
                size_t m = 0;
                for (size_t i = 1; i < a.n; i++) {
                        if (a.v[i].start <= a.v[m].end) {
                                if (a.v[i].end > a.v[m].end)
                                        a.v[m].end = a.v[i].end;
                        } else {
                                a.v[++m] = a.v[i];
                        }
                }
                a.n = m + 1;
        }
        *ret = a.v;
        *ret_n = a.n;
        return 0;
}
