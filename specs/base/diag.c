#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vcm_diags_add(vcm_diags *d, vcm_severity sev, vcm_pos pos, const char *fmt, ...) {
        if (d->n == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 16;
                vcm_diag *items = realloc(d->items, cap * sizeof(*items));
                if (!items)
                        abort(); /* out of memory while reporting: nothing sensible is left */
                d->items = items;
                d->cap = cap;
        }
        va_list ap;
        va_start(ap, fmt);
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        d->items[d->n++] = (vcm_diag){ .severity = sev, .pos = pos, .message = msg };
        if (sev == VCM_SEV_ERROR)
                d->n_errors++;
}

static int diag_cmp(const void *a, const void *b) {
        const vcm_diag *x = a, *y = b;
        int c = strcmp(x->pos.file ? x->pos.file : "", y->pos.file ? y->pos.file : "");
        if (c)
                return c;
        if (x->pos.line != y->pos.line)
                return x->pos.line < y->pos.line ? -1 : 1;
        if (x->pos.column != y->pos.column)
                return x->pos.column < y->pos.column ? -1 : 1;
        return strcmp(x->message, y->message);
}

void vcm_diags_sort(vcm_diags *d) {
        if (d->n > 1)
                qsort(d->items, d->n, sizeof(*d->items), diag_cmp);
}

void vcm_diags_print(const vcm_diags *d, FILE *out) {
        for (size_t i = 0; i < d->n; i++) {
                const vcm_diag *g = &d->items[i];
                const char *sev = g->severity == VCM_SEV_ERROR ? "error" : "warning";
                if (!g->pos.file) /* about the repository as a whole */
                        fprintf(out, "vcm: %s: %s\n", sev, g->message);
                else
                        fprintf(out, "%s:%d:%d: %s: %s\n", g->pos.file, g->pos.line,
                                g->pos.column, sev, g->message);
        }
}

void vcm_diags_clear(vcm_diags *d) {
        for (size_t i = 0; i < d->n; i++)
                free(d->items[i].message);
        free(d->items);
        *d = (vcm_diags){ 0 };
}
