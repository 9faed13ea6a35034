#include "yaml_tree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/macro.h"
#include "load.h"

/* Nodes and strings live in one arena: the tree is built once, read once, freed at once. */
typedef struct chunk {
        struct chunk *next;
        size_t used, cap;
        _Alignas(max_align_t) char data[];
} chunk;

struct ytree {
        chunk *chunks;
        ynode *root;
};

static void *arena_alloc(ytree *t, size_t size) {
        size = (size + 15) & ~(size_t)15;
        chunk *c = t->chunks;
        if (!c || c->cap - c->used < size) {
                size_t cap = size > 65536 ? size : 65536;
                chunk *n = malloc(sizeof(*n) + cap);
                if (!n)
                        return NULL;
                n->used = 0;
                n->cap = cap;
                n->next = t->chunks;
                t->chunks = c = n;
        }
        void *p = c->data + c->used;
        c->used += size;
        return p;
}

void ytree_free(ytree *t) {
        if (!t)
                return;
        for (chunk *c = t->chunks, *next; c; c = next) {
                next = c->next;
                free(c);
        }
        free(t);
}

const ynode *ytree_root(const ytree *t) {
        return t->root;
}

bool ynode_is_null(const ynode *n) {
        if (n->kind != YNODE_SCALAR || n->quoted)
                return false;
        return n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
               strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0;
}

/* An open sequence or mapping and the children collected so far. */
typedef struct frame {
        ynode *node;
        ynode **kids;
        size_t n, cap;
} frame;

typedef struct builder {
        ytree *tree;
        frame *stack;
        size_t depth;
        size_t n_nodes;
        ytree_error *error;
} builder;

_printf_(4, 5) static int fail(builder *b, int line, int column, const char *fmt, ...) {
        b->error->line = line;
        b->error->column = column;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->error->message, sizeof(b->error->message), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static int attach(builder *b, ynode *n) {
        if (b->depth == 0) {
                b->tree->root = n;
                return 0;
        }
        frame *f = &b->stack[b->depth - 1];
        if (f->n == f->cap) {
                size_t cap = f->cap ? f->cap * 2 : 8;
                ynode **k = realloc(f->kids, cap * sizeof(*k));
                if (!k)
                        return -ENOMEM;
                f->kids = k;
                f->cap = cap;
        }
        f->kids[f->n++] = n;
        return 0;
}

static ynode *node_new(builder *b, ynode_kind kind, const yaml_mark_t *m) {
        ynode *n = arena_alloc(b->tree, sizeof(*n));
        if (!n)
                return NULL;
        *n = (ynode){ .kind = kind, .line = (int)m->line + 1, .column = (int)m->column + 1,
                      .value = "" };
        return n;
}

static bool tag_is_str(const yaml_char_t *tag) {
        return tag && (strcmp((const char *)tag, "tag:yaml.org,2002:str") == 0 ||
                       strcmp((const char *)tag, "!") == 0);
}

static int on_event(builder *b, const yaml_event_t *ev) {
        const yaml_mark_t *m = &ev->start_mark;
        int line = (int)m->line + 1, col = (int)m->column + 1;
        ynode *n;
        int r;

        switch (ev->type) {
        case YAML_ALIAS_EVENT:
                /* Refused outright: this bounds "billion laughs" and specs never need them. */
                return fail(b, line, col,
                            "YAML aliases (*%s) are not allowed in specs: write the value out in full",
                            (const char *)ev->data.alias.anchor);
        case YAML_SCALAR_EVENT: {
                const yaml_char_t *tag = ev->data.scalar.tag;
                if (tag && !tag_is_str(tag))
                        return fail(b, line, col,
                                    "YAML tag '%s' is not allowed in specs: remove it", (const char *)tag);
                if (++b->n_nodes > VCM_SPEC_NODES_MAX)
                        return fail(b, line, col, "too many YAML nodes (more than %d)",
                                    VCM_SPEC_NODES_MAX);
                n = node_new(b, YNODE_SCALAR, m);
                if (!n)
                        return -ENOMEM;
                size_t len = ev->data.scalar.length;
                char *v = arena_alloc(b->tree, len + 1);
                if (!v)
                        return -ENOMEM;
                memcpy(v, ev->data.scalar.value, len);
                v[len] = 0;
                n->value = v;
                n->len = len;
                n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || tag != NULL;
                return attach(b, n);
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
                const yaml_char_t *tag = ev->type == YAML_SEQUENCE_START_EVENT
                                                 ? ev->data.sequence_start.tag
                                                 : ev->data.mapping_start.tag;
                if (tag)
                        return fail(b, line, col,
                                    "YAML tag '%s' is not allowed in specs: remove it", (const char *)tag);
                if (b->depth >= VCM_SPEC_DEPTH_MAX)
                        return fail(b, line, col, "nesting is deeper than %d levels",
                                    VCM_SPEC_DEPTH_MAX);
                if (++b->n_nodes > VCM_SPEC_NODES_MAX)
                        return fail(b, line, col, "too many YAML nodes (more than %d)",
                                    VCM_SPEC_NODES_MAX);
                n = node_new(b, ev->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQ : YNODE_MAP, m);
                if (!n)
                        return -ENOMEM;
                r = attach(b, n);
                if (r < 0)
                        return r;
                b->stack[b->depth++] = (frame){ .node = n };
                return 0;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
                frame *f = &b->stack[--b->depth];
                if (f->n) {
                        f->node->items = arena_alloc(b->tree, f->n * sizeof(ynode *));
                        if (!f->node->items) {
                                free(f->kids);
                                return -ENOMEM;
                        }
                        memcpy(f->node->items, f->kids, f->n * sizeof(ynode *));
                }
                f->node->n = f->n;
                free(f->kids);
                *f = (frame){ 0 };
                return 0;
        }
        default:
                return 0;
        }
}

/* libyaml's reader errors carry only a byte offset. */
static void offset_to_pos(const char *data, size_t len, size_t off, int *line, int *col) {
        int l = 1, c = 1;
        for (size_t i = 0; i < off && i < len; i++) {
                if (data[i] == '\n') {
                        l++;
                        c = 1;
                } else if (((unsigned char)data[i] & 0xC0) != 0x80) {
                        c++;
                }
        }
        *line = l;
        *col = c;
}

static int parser_fail(builder *b, const yaml_parser_t *p, const char *data, size_t len) {
        if (p->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        if (p->error == YAML_READER_ERROR) {
                int line, col;
                offset_to_pos(data, len, p->problem_offset, &line, &col);
                return fail(b, line, col, "YAML syntax error: %s",
                            p->problem ? p->problem : "cannot read input");
        }
        int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
        if (p->context)
                return fail(b, line, col, "YAML syntax error: %s %s", p->context,
                            p->problem ? p->problem : "");
        return fail(b, line, col, "YAML syntax error: %s", p->problem ? p->problem : "unknown");
}

int ytree_parse(const char *data, size_t len, ytree **ret_tree, ytree_error *ret_error) {
        if (len > VCM_SPEC_FILE_MAX) {
                *ret_error = (ytree_error){ .line = 1, .column = 1 };
                snprintf(ret_error->message, sizeof(ret_error->message),
                         "file is %zu bytes, more than the limit of %u bytes: split it or shorten it",
                         len, VCM_SPEC_FILE_MAX);
                return -EINVAL;
        }

        ytree *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        frame stack[VCM_SPEC_DEPTH_MAX] = { 0 };
        builder b = { .tree = t, .stack = stack, .error = ret_error };
        yaml_parser_t p;
        if (!yaml_parser_initialize(&p)) {
                free(t);
                return -ENOMEM;
        }
        yaml_parser_set_input_string(&p, (const unsigned char *)data, len);

        int r = 0, documents = 0;
        for (bool done = false; !done;) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&p, &ev)) {
                        r = parser_fail(&b, &p, data, len);
                        break;
                }
                if (ev.type == YAML_DOCUMENT_START_EVENT && ++documents > 1)
                        r = fail(&b, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                                 "only one YAML document is allowed per file: remove this '---'");
                else
                        r = on_event(&b, &ev);
                done = ev.type == YAML_STREAM_END_EVENT;
                yaml_event_delete(&ev);
                if (r < 0)
                        break;
        }
        yaml_parser_delete(&p);
        for (size_t i = 0; i < b.depth; i++)
                free(stack[i].kids);
        if (r < 0) {
                ytree_free(t);
                return r;
        }
        *ret_tree = t;
        return 0;
}
