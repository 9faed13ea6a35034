/* The calendar of reservations (vcm calendar): shared by its text/JSON printer
 * (cmd_calendar.c) and its drawing (calendar_draw.c, cairo: SVG and PNG). */
#ifndef VCM_CLI_CALENDAR_H
#define VCM_CLI_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "reconciler/capacity.h"

typedef struct calendar {
        const vcm_repo *repo;
        const vcm_capacity_report *rep;
        int64_t from, to;
        const vcm_capacity_conflict **conflict; /* per cluster index, or NULL */
} calendar;

/* Utilisation rows: a role and a resource, capacity summed over the role's hosts. */
typedef struct calendar_util_row {
        const char *label;
        unsigned role;
        bool memory;
} calendar_util_row;

extern const calendar_util_row calendar_util_rows[];
extern const size_t calendar_n_util_rows;

void calendar_time_utc(int64_t t, char *buf, size_t len);
/* Capacity of a role for a resource; 0 when some host of the role sets no limit. */
uint64_t calendar_role_capacity(const vcm_site *site, const calendar_util_row *u);
/* What the placed clusters use of a row's resource during one slice. */
uint64_t calendar_slice_used(const vcm_site *site, const vcm_capacity_slice *sl,
                             const calendar_util_row *u);

typedef enum calendar_image {
        CALENDAR_SVG,
        CALENDAR_PNG,
} calendar_image;

/* Draws the calendar with cairo and writes the image to `out`. Returns 0, -EIO, or -ENOENT
 * when the drawing module cannot be loaded (cli/modules.c; said on stderr). */
int calendar_draw(const calendar *cal, calendar_image format, FILE *out);
/* The same, in the module (cli/draw/calendar_draw.c): what calendar_draw() calls. */
__attribute__((visibility("default"))) int calendar_draw_image(const calendar *cal,
                                                               calendar_image format, FILE *out);

#endif
