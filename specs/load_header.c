#include <string.h>

#include "load_internal.h"

void load_header(spec_ctx *c, const ynode *root, const char *kind, const char *where,
                 const ynode **ret_metadata, const ynode **ret_spec) {
        static const key_spec keys[] = {
                { "apiVersion", true }, { "kind", true }, { "metadata", true }, { "spec", true },
        };
        const ynode *v[ELEMENTSOF(keys)];
        *ret_metadata = *ret_spec = NULL;
        if (!map_fields(c, root, "the file", keys, ELEMENTSOF(keys), v))
                return;
        char buf[64];
        if (v[0] && (v[0]->kind != YNODE_SCALAR || strcmp(v[0]->value, "vcm/v1") != 0))
                ctx_error(c, v[0], "apiVersion must be 'vcm/v1', not %s", node_describe(v[0], buf, sizeof(buf)));
        if (v[1] && (v[1]->kind != YNODE_SCALAR || strcmp(v[1]->value, kind) != 0))
                ctx_error(c, v[1], "kind must be '%s' for %s, not %s", kind, where,
                          node_describe(v[1], buf, sizeof(buf)));
        *ret_metadata = v[2];
        *ret_spec = v[3];
}
