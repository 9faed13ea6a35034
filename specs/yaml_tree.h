/* A small YAML node tree that keeps 1-based line/column of every node, built from libyaml's
 * event stream with hard limits (file size, nesting depth, node count; aliases refused). */
#ifndef VCM_YAML_TREE_H
#define VCM_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum ynode_kind {
        YNODE_SCALAR,
        YNODE_SEQ,
        YNODE_MAP,
} ynode_kind;

typedef struct ynode ynode;
struct ynode {
        ynode_kind kind;
        int line, column;   /* 1-based */
        bool quoted;        /* scalar written in quotes (a string, never a number or bool) */
        const char *value;  /* scalar text, NUL-terminated */
        size_t len;
        ynode **items;      /* SEQ: n items; MAP: n/2 pairs, key at 2i, value at 2i+1 */
        size_t n;
};

typedef struct ytree ytree;

/* The one problem that stopped parsing. */
typedef struct ytree_error {
        int line, column;
        char message[256];
} ytree_error;

/* Parse one YAML document. Returns 0 and the tree (root NULL for an empty document), -EINVAL
 * with ret_error filled for a syntax error or a limit, -ENOMEM. */
int ytree_parse(const char *data, size_t len, ytree **ret_tree, ytree_error *ret_error);
const ynode *ytree_root(const ytree *t);
void ytree_free(ytree *t);
static inline void ytree_freep(ytree **t) {
        ytree_free(*t);
}

static inline size_t ynode_n_pairs(const ynode *n) {
        return n->n / 2;
}
/* A plain (unquoted) scalar that YAML reads as null: empty, "~", "null". */
bool ynode_is_null(const ynode *n);

#endif
