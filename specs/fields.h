/* Mapping the YAML node tree onto typed fields: a table of known keys per mapping, typed
 * getters, and located errors for everything that does not fit. */
#ifndef VCM_FIELDS_H
#define VCM_FIELDS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/diag.h"
#include "yaml_tree.h"

/* Time zone names already found good in this load: most clusters repeat a handful of zones. */
typedef struct tz_cache {
        char *names[32];
        size_t n;
} tz_cache;

/* One file being mapped. */
typedef struct spec_ctx {
        vcm_diags *diags;
        const char *file;  /* interned, relative to the repository root */
        size_t n_errors;   /* errors reported for this file */
        bool oom;
        tz_cache *tz;      /* NULL: no caching */
} spec_ctx;

typedef struct key_spec {
        const char *name;
        bool required;
} key_spec;

vcm_pos ctx_pos(const spec_ctx *c, const ynode *n);
void ctx_error(spec_ctx *c, const ynode *at, const char *fmt, ...) _printf_(3, 4);
/* Messages quote spec values: control characters become '?' so each diagnostic stays one line. */
void diags_sanitize(vcm_diags *d, size_t from);
char *ctx_strdup(spec_ctx *c, const char *s);

/* Levenshtein distance, capped: returns cap+1 when larger (and for words over 64 bytes). */
size_t edit_distance(const char *a, const char *b, size_t cap);
/* The candidate closest to word when close enough to be a likely typo, else NULL. */
const char *closest_word(const char *word, const char *const *cands, size_t n);

/* "a list", "a mapping", "null", or the scalar quoted: for "must be X, not Y" messages. */
const char *node_describe(const ynode *n, char *buf, size_t size);

/* Checks that n is a mapping whose keys are plain scalars from `keys`, with no duplicates and all
 * required keys present (a missing key is reported at the mapping). vals[i] gets the value of
 * keys[i] or NULL. Returns false (after reporting) when n is not a mapping at all. */
bool map_fields(spec_ctx *c, const ynode *n, const char *what, const key_spec *keys, size_t n_keys,
                const ynode **vals);
/* Checks that n is a mapping (of free-form keys, e.g. appliance names) with scalar, unique keys.
 * Returns false when n is not a mapping. Bad pairs are reported and have their key set to NULL in
 * ret_ok (n/2 entries, caller-provided) so callers skip them. */
bool map_check_free(spec_ctx *c, const ynode *n, const char *what, bool *ok);

/* check_timezone() through the context's cache. */
bool ctx_check_timezone(spec_ctx *c, const char *name);

bool get_str(spec_ctx *c, const ynode *n, const char *key, char **ret);
bool get_int(spec_ctx *c, const ynode *n, const char *key, int64_t min, int64_t max, int64_t *ret);
/* An integer in min..max without reporting anything (for "auto or an integer" values). */
bool get_int_quiet(const ynode *n, int64_t min, int64_t max, int64_t *ret);
bool get_bool(spec_ctx *c, const ynode *n, const char *key, bool *ret);
bool get_enum(spec_ctx *c, const ynode *n, const char *key, const char *const *names, size_t n_names,
              int *ret);
bool get_size(spec_ctx *c, const ynode *n, const char *key, uint64_t *ret);
/* A list; reports and returns false otherwise. */
bool get_seq(spec_ctx *c, const ynode *n, const char *key);
/* A list of strings. ret_pos may be NULL. */
bool get_strlist(spec_ctx *c, const ynode *n, const char *key, char ***ret, size_t *ret_n,
                 vcm_pos **ret_pos);

#endif
