/* The calendar as a picture, drawn once with cairo onto an SVG or a PNG surface: a Gantt chart
 * of the reservations (conflicts in red) above the utilisation of each host role over time. */
#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/calendar.h"
#include "reconciler/util.h"

#define LEFT 170.0
#define WIDTH 1000.0
#define ROW 22.0
#define UTIL 56.0
#define TOP 64.0 /* first Gantt row, under the title and the grid labels */

typedef struct rgb {
        double r, g, b;
} rgb;

static const rgb INK = { 0, 0, 0 }, GREY = { 0.33, 0.33, 0.33 }, GRID = { 0.87, 0.87, 0.87 },
                 FRAME = { 0.6, 0.6, 0.6 }, SPAN = { 0.29, 0.48, 0.82 },
                 CONFLICT = { 0.82, 0.27, 0.23 }, USED = { 0.5, 0.69, 0.41 };

static void colour(cairo_t *cr, rgb c) {
        cairo_set_source_rgb(cr, c.r, c.g, c.b);
}

static void text(cairo_t *cr, double x, double y, rgb c, double size, bool bold, const char *s) {
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr, size);
        colour(cr, c);
        cairo_move_to(cr, x, y);
        cairo_show_text(cr, s);
}

static void box(cairo_t *cr, double x, double y, double w, double h, rgb c) {
        colour(cr, c);
        cairo_rectangle(cr, x, y, w, h);
        cairo_fill(cr);
}

static double time_x(const calendar *cal, int64_t t) {
        if (t < cal->from)
                t = cal->from;
        if (t > cal->to)
                t = cal->to;
        return LEFT + (WIDTH - LEFT - 10) * (double)(t - cal->from) / (double)(cal->to - cal->from);
}

static size_t util_rows_shown(const calendar *cal) {
        size_t n = 0;
        for (size_t u = 0; u < calendar_n_util_rows; u++)
                n += calendar_role_capacity(cal->repo->site, &calendar_util_rows[u]) ? 1 : 0;
        return n;
}

static double picture_height(const calendar *cal) {
        return TOP + ROW * (double)cal->repo->n_clusters + 30 +
               (UTIL + 10) * (double)util_rows_shown(cal) + 30 + 16 * (double)cal->rep->n_conflicts;
}

/* Month starts for long ranges, day starts otherwise. */
static void draw_grid(cairo_t *cr, const calendar *cal, double top, double bottom) {
        bool months = cal->to - cal->from > 45 * 86400;
        time_t t0 = (time_t)cal->from;
        struct tm tm;
        gmtime_r(&t0, &tm);
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        if (months)
                tm.tm_mday = 1;
        cairo_set_line_width(cr, 1);
        for (int i = 0; i < 400; i++) {
                struct tm g = tm;
                if (months)
                        g.tm_mon += i;
                else
                        g.tm_mday += i;
                int64_t t = (int64_t)timegm(&g);
                if (t >= cal->to)
                        break;
                if (t < cal->from)
                        continue;
                char label[16];
                strftime(label, sizeof(label), months ? "%b %Y" : "%d %b", &g);
                double x = time_x(cal, t);
                colour(cr, GRID);
                cairo_move_to(cr, x + 0.5, top - 4);
                cairo_line_to(cr, x + 0.5, bottom);
                cairo_stroke(cr);
                text(cr, x + 2, top - 6, GREY, 12, false, label);
        }
}

static void draw_gantt(cairo_t *cr, const calendar *cal, double top) {
        const vcm_capacity_report *rep = cal->rep;
        for (size_t c = 0; c < cal->repo->n_clusters; c++) {
                double y = top + ROW * (double)c;
                text(cr, 10, y + 15, INK, 12, false, cal->repo->clusters[c].name);
                for (size_t k = 0; k < rep->n_spans[c]; k++) {
                        double x0 = time_x(cal, rep->spans[c][k].start);
                        double x1 = time_x(cal, rep->spans[c][k].end);
                        box(cr, x0, y + 3, x1 - x0 < 1 ? 1 : x1 - x0, ROW - 6, SPAN);
                }
                const vcm_capacity_conflict *k = cal->conflict[c];
                if (k) {
                        double x0 = time_x(cal, k->at), x1 = time_x(cal, k->until);
                        box(cr, x0, y + 3, x1 - x0 < 2 ? 2 : x1 - x0, ROW - 6, CONFLICT);
                }
        }
}

/* One band per role and resource: the share in use, red where some active cluster is not placed. */
static double draw_utilisation(cairo_t *cr, const calendar *cal, double y) {
        const vcm_site *site = cal->repo->site;
        for (size_t u = 0; u < calendar_n_util_rows; u++) {
                const calendar_util_row *row = &calendar_util_rows[u];
                uint64_t capacity = calendar_role_capacity(site, row);
                if (!capacity)
                        continue;
                text(cr, 10, y + UTIL / 2 + 4, INK, 12, false, row->label);
                for (size_t s = 0; s < cal->rep->n_slices; s++) {
                        const vcm_capacity_slice *sl = &cal->rep->slices[s];
                        double f = (double)calendar_slice_used(site, sl, row) / (double)capacity;
                        if (f <= 0)
                                continue;
                        if (f > 1)
                                f = 1;
                        double x0 = time_x(cal, sl->start), x1 = time_x(cal, sl->end);
                        box(cr, x0, y + UTIL * (1 - f), x1 - x0 < 1 ? 1 : x1 - x0, UTIL * f,
                            sl->n_placed < sl->n_active ? CONFLICT : USED);
                }
                colour(cr, FRAME);
                cairo_set_line_width(cr, 1);
                cairo_rectangle(cr, LEFT + 0.5, y + 0.5, WIDTH - LEFT - 10, UTIL);
                cairo_stroke(cr);
                y += UTIL + 10;
        }
        return y;
}

static void draw(cairo_t *cr, const calendar *cal, double height) {
        box(cr, 0, 0, WIDTH, height, (rgb){ 1, 1, 1 });
        char a[48], b[48], range[112];
        calendar_time_utc(cal->from, a, sizeof(a));
        calendar_time_utc(cal->to, b, sizeof(b));
        snprintf(range, sizeof(range), "%s .. %s (UTC)", a, b);
        char *title = xasprintf("Reservations on site %s", cal->repo->site->name);
        text(cr, 10, 20, INK, 15, true, title);
        free(title);
        text(cr, 10, 38, GREY, 12, false, range);

        double top = TOP, util_top = top + ROW * (double)cal->repo->n_clusters + 30;
        draw_grid(cr, cal, top, util_top + (UTIL + 10) * (double)util_rows_shown(cal));
        draw_gantt(cr, cal, top);
        double y = draw_utilisation(cr, cal, util_top) + 14;
        for (size_t i = 0; i < cal->rep->n_conflicts; i++, y += 16) {
                char *msg = vcm_capacity_conflict_message(cal->repo, &cal->rep->conflicts[i]);
                text(cr, 10, y, CONFLICT, 12, false, msg);
                free(msg);
        }
}

static cairo_status_t write_out(void *closure, const unsigned char *data, unsigned int length) {
        return fwrite(data, 1, length, closure) == length ? CAIRO_STATUS_SUCCESS
                                                          : CAIRO_STATUS_WRITE_ERROR;
}

int calendar_draw_image(const calendar *cal, calendar_image format, FILE *out) {
        double height = picture_height(cal);
        cairo_surface_t *s;
        if (format == CALENDAR_SVG) {
                s = cairo_svg_surface_create_for_stream(write_out, out, WIDTH, height);
                cairo_svg_surface_restrict_to_version(s, CAIRO_SVG_VERSION_1_1);
        } else {
                s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)WIDTH, (int)height);
        }
        cairo_t *cr = cairo_create(s);
        draw(cr, cal, height);
        cairo_status_t st = cairo_status(cr);
        cairo_destroy(cr);
        if (st == CAIRO_STATUS_SUCCESS && format == CALENDAR_PNG)
                st = cairo_surface_write_to_png_stream(s, write_out, out);
        cairo_surface_finish(s); /* the SVG surface writes its document here */
        if (st == CAIRO_STATUS_SUCCESS)
                st = cairo_surface_status(s);
        cairo_surface_destroy(s);
        /* The text's fonts come through fontconfig, which caches for the process: give it all
         * back (one picture per run), so leak checkers see only real leaks. */
        cairo_debug_reset_static_data();
        FcFini();
        return st == CAIRO_STATUS_SUCCESS && fflush(out) == 0 ? 0 : -EIO;
}
