#include "fields.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "load.h"

vcm_pos ctx_pos(const spec_ctx *c, const ynode *n) {
        return (vcm_pos){ .file = c->file, .line = n ? n->line : 0, .column = n ? n->column : 0 };
}

void ctx_error(spec_ctx *c, const ynode *at, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        vcm_diags_error(c->diags, ctx_pos(c, at), "%s", msg ? msg : "out of memory");
        free(msg);
        c->n_errors++;
}

void diags_sanitize(vcm_diags *d, size_t from) {
        for (size_t i = from; i < d->n; i++)
                for (char *m = d->items[i].message; *m; m++)
                        if ((unsigned char)*m < 0x20 || *m == 0x7f)
                                *m = '?';
}

char *ctx_strdup(spec_ctx *c, const char *s) {
        char *d = strdup(s);
        if (!d)
                c->oom = true;
        return d;
}

bool ctx_check_timezone(spec_ctx *c, const char *name) {
        for (size_t i = 0; c->tz && i < c->tz->n; i++)
                if (strcmp(c->tz->names[i], name) == 0)
                        return true;
        if (!check_timezone(name))
                return false;
        if (c->tz && c->tz->n < ELEMENTSOF(c->tz->names)) {
                char *d = strdup(name);
                if (d)
                        c->tz->names[c->tz->n++] = d;
        }
        return true;
}

size_t edit_distance(const char *a, const char *b, size_t cap) {
        /* Optimal string alignment: a swap of two neighbours ("hcp" for "hpc") counts as one. */
        size_t la = strlen(a), lb = strlen(b);
        if (la > 64 || lb > 64)
                return cap + 1;
        size_t d[65][65];
        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++) {
                for (size_t j = 1; j <= lb; j++) {
                        size_t v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
                        if (d[i - 1][j] + 1 < v)
                                v = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < v)
                                v = d[i][j - 1] + 1;
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                            d[i - 2][j - 2] + 1 < v)
                                v = d[i - 2][j - 2] + 1;
                        d[i][j] = v;
                }
        }
        return d[la][lb] > cap ? cap + 1 : d[la][lb];
}

const char *closest_word(const char *word, const char *const *cands, size_t n) {
        size_t len = strlen(word);
        /* Two edits for longer words, one for short ones: "nmae" -> "name", not "x" -> "os". */
        size_t cap = len <= 4 ? 1 : len <= 8 ? 2 : 3;
        const char *best = NULL;
        size_t best_d = cap + 1;
        for (size_t i = 0; i < n; i++) {
                size_t d = edit_distance(word, cands[i], cap);
                if (d == 0) {
                        /* Same letters, other case: always worth suggesting. */
                        continue;
                }
                if (d < best_d) {
                        best_d = d;
                        best = cands[i];
                }
        }
        if (!best)
                for (size_t i = 0; i < n; i++)
                        if (strcasecmp(word, cands[i]) == 0)
                                return cands[i];
        return best;
}

const char *node_describe(const ynode *n, char *buf, size_t size) {
        if (!n)
                return "nothing";
        switch (n->kind) {
        case YNODE_SEQ:
                return "a list";
        case YNODE_MAP:
                return "a mapping";
        default:
                break;
        }
        if (ynode_is_null(n))
                return "null";
        if (n->len > 40)
                snprintf(buf, size, "'%.37s...'", n->value);
        else
                snprintf(buf, size, "'%s'", n->value);
        return buf;
}

/* YAML 1.2 core schema resolution of a plain scalar, as editors and the JSON Schema check see it. */
typedef enum plain_type { PLAIN_STR, PLAIN_INT, PLAIN_FLOAT, PLAIN_BOOL, PLAIN_NULL } plain_type;

static bool all_in(const char *s, const char *set) {
        return *s && strspn(s, set) == strlen(s);
}

/* Decimal, 0o octal or 0x hex, as YAML 1.2 reads integers. False when not one or out of range. */
static bool parse_yaml_int(const char *s, long long *ret) {
        const char *digits = s;
        int base = 10;
        bool neg = false;
        if (s[0] == '0' && s[1] == 'o' && all_in(s + 2, "01234567")) {
                base = 8;
                digits = s + 2;
        } else if (s[0] == '0' && s[1] == 'x' && all_in(s + 2, "0123456789abcdefABCDEF")) {
                base = 16;
                digits = s + 2;
        } else {
                if (*digits == '-' || *digits == '+')
                        neg = *digits++ == '-';
                if (!all_in(digits, "0123456789"))
                        return false;
        }
        errno = 0;
        unsigned long long v = strtoull(digits, NULL, base);
        if (errno == ERANGE || v > (unsigned long long)INT64_MAX)
                return false;
        *ret = neg ? -(long long)v : (long long)v;
        return true;
}

static bool is_yaml_float(const char *s) {
        static const char *const special[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
                                               "-.Inf", "-.INF", ".nan", ".NaN", ".NAN" };
        for (size_t i = 0; i < ELEMENTSOF(special); i++)
                if (strcmp(s, special[i]) == 0)
                        return true;
        if (*s == '-' || *s == '+')
                s++;
        size_t before = strspn(s, "0123456789");
        s += before;
        size_t after = 0;
        if (*s == '.') {
                s++;
                after = strspn(s, "0123456789");
                s += after;
        }
        if (before == 0 && after == 0)
                return false;
        if (*s == 'e' || *s == 'E') {
                s++;
                if (*s == '-' || *s == '+')
                        s++;
                if (!all_in(s, "0123456789"))
                        return false;
                return true;
        }
        return *s == 0;
}

static plain_type plain_type_of(const ynode *n) {
        long long ignored;
        if (n->quoted)
                return PLAIN_STR;
        if (ynode_is_null(n))
                return PLAIN_NULL;
        static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE" };
        for (size_t i = 0; i < ELEMENTSOF(bools); i++)
                if (strcmp(n->value, bools[i]) == 0)
                        return PLAIN_BOOL;
        if (parse_yaml_int(n->value, &ignored) || all_in(n->value[0] == '-' || n->value[0] == '+' ? n->value + 1 : n->value, "0123456789"))
                return PLAIN_INT;
        if (is_yaml_float(n->value))
                return PLAIN_FLOAT;
        return PLAIN_STR;
}

static const char *kind_word(const ynode *n) {
        return n->kind == YNODE_SEQ ? "a list" : n->kind == YNODE_MAP ? "a mapping" : "null";
}

bool map_fields(spec_ctx *c, const ynode *n, const char *what, const key_spec *keys, size_t n_keys,
                const ynode **vals) {
        for (size_t i = 0; i < n_keys; i++)
                vals[i] = NULL;
        if (!n || n->kind != YNODE_MAP) {
                char buf[64];
                ctx_error(c, n, "%s must be a mapping, not %s", what, node_describe(n, buf, sizeof(buf)));
                return false;
        }
        const ynode *key_nodes[32] = { 0 };
        for (size_t p = 0; p < ynode_n_pairs(n); p++) {
                const ynode *k = n->items[2 * p], *v = n->items[2 * p + 1];
                if (k->kind != YNODE_SCALAR) {
                        ctx_error(c, k, "keys must be plain words, not %s", kind_word(k));
                        continue;
                }
                size_t i = 0;
                while (i < n_keys && strcmp(keys[i].name, k->value) != 0)
                        i++;
                if (i == n_keys) {
                        const char *cands[32];
                        for (size_t j = 0; j < n_keys && j < 32; j++)
                                cands[j] = keys[j].name;
                        const char *near = closest_word(k->value, cands, n_keys < 32 ? n_keys : 32);
                        if (near) {
                                ctx_error(c, k, "unknown key '%s' in %s: did you mean '%s'?", k->value,
                                          what, near);
                        } else {
                                char list[512] = "";
                                size_t off = 0;
                                for (size_t j = 0; j < n_keys && off < sizeof(list); j++)
                                        off += snprintf(list + off, sizeof(list) - off, "%s%s",
                                                        j ? ", " : "", keys[j].name);
                                ctx_error(c, k, "unknown key '%s' in %s: expected one of %s", k->value,
                                          what, list);
                        }
                        continue;
                }
                if (vals[i]) {
                        ctx_error(c, k, "duplicate key '%s' in %s (first set at line %d): keep only one",
                                  k->value, what, key_nodes[i]->line);
                        continue;
                }
                vals[i] = v;
                if (i < 32)
                        key_nodes[i] = k;
        }
        for (size_t i = 0; i < n_keys; i++)
                if (keys[i].required && !vals[i])
                        ctx_error(c, n, "missing required key '%s' in %s", keys[i].name, what);
        return true;
}

bool map_check_free(spec_ctx *c, const ynode *n, const char *what, bool *ok) {
        if (!n || n->kind != YNODE_MAP) {
                char buf[64];
                ctx_error(c, n, "%s must be a mapping, not %s", what, node_describe(n, buf, sizeof(buf)));
                return false;
        }
        for (size_t p = 0; p < ynode_n_pairs(n); p++) {
                const ynode *k = n->items[2 * p];
                ok[p] = false;
                if (k->kind != YNODE_SCALAR || ynode_is_null(k)) {
                        ctx_error(c, k, "keys in %s must be plain words, not %s", what, kind_word(k));
                        continue;
                }
                const ynode *first = NULL;
                for (size_t q = 0; q < p && !first; q++) {
                        const ynode *o = n->items[2 * q];
                        if (o->kind == YNODE_SCALAR && strcmp(o->value, k->value) == 0)
                                first = o;
                }
                if (first) {
                        ctx_error(c, k, "duplicate key '%s' in %s (first set at line %d): keep only one",
                                  k->value, what, first->line);
                        continue;
                }
                ok[p] = true;
        }
        return true;
}

static bool want_scalar(spec_ctx *c, const ynode *n, const char *key, const char *type) {
        if (n->kind == YNODE_SCALAR && !ynode_is_null(n))
                return true;
        ctx_error(c, n, "'%s' must be %s, not %s", key, type, kind_word(n));
        return false;
}

bool get_str(spec_ctx *c, const ynode *n, const char *key, char **ret) {
        if (!want_scalar(c, n, key, "a string"))
                return false;
        plain_type t = plain_type_of(n);
        if (t != PLAIN_STR) {
                ctx_error(c, n, "'%s' must be a string, not the %s %s: put it in quotes if you mean the text",
                          key, t == PLAIN_INT ? "number" : t == PLAIN_FLOAT ? "number" : "boolean", n->value);
                return false;
        }
        char *s = ctx_strdup(c, n->value);
        if (!s)
                return false;
        *ret = s;
        return true;
}

bool get_int(spec_ctx *c, const ynode *n, const char *key, int64_t min, int64_t max, int64_t *ret) {
        if (!want_scalar(c, n, key, "an integer"))
                return false;
        const char *s = n->value;
        long long v;
        if (plain_type_of(n) != PLAIN_INT) {
                char buf[64];
                ctx_error(c, n, "'%s' must be an integer, not %s", key, node_describe(n, buf, sizeof(buf)));
                return false;
        }
        const char *digits = (*s == '-' || *s == '+') ? s + 1 : s;
        if (!all_in(digits, "0123456789")) {
                ctx_error(c, n, "'%s' must be written in decimal digits, not '%s'", key, s);
                return false;
        }
        if (!parse_yaml_int(s, &v) || v < min || v > max) {
                ctx_error(c, n, "'%s' must be between %lld and %lld, not %s", key, (long long)min,
                          (long long)max, s);
                return false;
        }
        *ret = v;
        return true;
}

bool get_bool(spec_ctx *c, const ynode *n, const char *key, bool *ret) {
        if (!want_scalar(c, n, key, "true or false"))
                return false;
        static const char *const t[] = { "true", "True", "TRUE" }, *const f[] = { "false", "False", "FALSE" };
        for (size_t i = 0; !n->quoted && i < ELEMENTSOF(t); i++) {
                if (strcmp(n->value, t[i]) == 0) {
                        *ret = true;
                        return true;
                }
                if (strcmp(n->value, f[i]) == 0) {
                        *ret = false;
                        return true;
                }
        }
        char buf[64];
        ctx_error(c, n, "'%s' must be true or false, not %s", key, node_describe(n, buf, sizeof(buf)));
        return false;
}

bool get_enum(spec_ctx *c, const ynode *n, const char *key, const char *const *names, size_t n_names,
              int *ret) {
        if (!want_scalar(c, n, key, "a string"))
                return false;
        for (size_t i = 0; i < n_names; i++)
                if (strcmp(n->value, names[i]) == 0) {
                        *ret = (int)i;
                        return true;
                }
        char list[256] = "", buf[64];
        size_t off = 0;
        for (size_t j = 0; j < n_names && off < sizeof(list); j++)
                off += snprintf(list + off, sizeof(list) - off, "%s%s", j ? ", " : "", names[j]);
        const char *near = closest_word(n->value, names, n_names);
        if (near)
                ctx_error(c, n, "'%s' must be one of %s, not %s: did you mean '%s'?", key, list,
                          node_describe(n, buf, sizeof(buf)), near);
        else
                ctx_error(c, n, "'%s' must be one of %s, not %s", key, list,
                          node_describe(n, buf, sizeof(buf)));
        return false;
}

bool get_size(spec_ctx *c, const ynode *n, const char *key, uint64_t *ret) {
        if (!want_scalar(c, n, key, "a size such as 4GiB"))
                return false;
        const char *hint = NULL;
        uint64_t v;
        if (vcm_parse_size(n->value, &v, &hint) < 0) {
                char buf[64];
                ctx_error(c, n, "size %s is not valid: %s", node_describe(n, buf, sizeof(buf)),
                          hint ? hint : "use binary units such as 4GiB");
                return false;
        }
        *ret = v;
        return true;
}

bool get_int_quiet(const ynode *n, int64_t min, int64_t max, int64_t *ret) {
        long long v;
        if (n->kind != YNODE_SCALAR || n->quoted ||
            !all_in(n->value[0] == '-' || n->value[0] == '+' ? n->value + 1 : n->value, "0123456789") ||
            !parse_yaml_int(n->value, &v) || v < min || v > max)
                return false;
        *ret = v;
        return true;
}

bool get_seq(spec_ctx *c, const ynode *n, const char *key) {
        if (n->kind == YNODE_SEQ)
                return true;
        char buf[64];
        ctx_error(c, n, "'%s' must be a list, not %s", key, node_describe(n, buf, sizeof(buf)));
        return false;
}

bool get_strlist(spec_ctx *c, const ynode *n, const char *key, char ***ret, size_t *ret_n,
                 vcm_pos **ret_pos) {
        if (!get_seq(c, n, key))
                return false;
        char **v = calloc(n->n + 1, sizeof(*v));
        vcm_pos *pos = ret_pos ? calloc(n->n + 1, sizeof(*pos)) : NULL;
        if (!v || (ret_pos && !pos)) {
                free(v);
                free(pos);
                c->oom = true;
                return false;
        }
        bool ok = true;
        size_t k = 0;
        for (size_t i = 0; i < n->n; i++) {
                char *s;
                if (!get_str(c, n->items[i], key, &s)) {
                        ok = false;
                        continue;
                }
                if (pos)
                        pos[k] = ctx_pos(c, n->items[i]);
                v[k++] = s;
        }
        *ret = v;
        *ret_n = k;
        if (ret_pos)
                *ret_pos = pos;
        return ok;
}
