/* Diagnostics: located errors collected in one pass, printed as FILE:LINE:COLUMN: error: MESSAGE. */
#ifndef VCM_DIAG_H
#define VCM_DIAG_H

#include <stddef.h>
#include <stdio.h>

#include "macro.h"

/* A place in a spec file. `file` is borrowed from the repository's string pool; line and column
 * are 1-based; 0 means unknown. */
typedef struct vcm_pos {
        const char *file;
        int line;
        int column;
} vcm_pos;

typedef enum vcm_severity {
        VCM_SEV_ERROR,
        VCM_SEV_WARNING,
} vcm_severity;

typedef struct vcm_diag {
        vcm_severity severity;
        vcm_pos pos;
        char *message;
} vcm_diag;

/* A growing list of diagnostics. Library code appends here instead of logging. */
typedef struct vcm_diags {
        vcm_diag *items;
        size_t n;
        size_t cap;
        size_t n_errors;
} vcm_diags;

void vcm_diags_add(vcm_diags *d, vcm_severity sev, vcm_pos pos, const char *fmt, ...) _printf_(4, 5);
#define vcm_diags_error(d, pos, ...) vcm_diags_add((d), VCM_SEV_ERROR, (pos), __VA_ARGS__)
#define vcm_diags_warning(d, pos, ...) vcm_diags_add((d), VCM_SEV_WARNING, (pos), __VA_ARGS__)

/* Sort by file, line, column so that output is stable whatever order rules ran in. */
void vcm_diags_sort(vcm_diags *d);
/* One line per diagnostic: "FILE:LINE:COLUMN: error: MESSAGE". */
void vcm_diags_print(const vcm_diags *d, FILE *out);
void vcm_diags_clear(vcm_diags *d);

#endif
