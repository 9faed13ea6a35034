/* rolls/NAME.yaml -> vcm_roll. */
#include <stdlib.h>
#include <string.h>

#include "load_internal.h"

static void load_file_entry(spec_ctx *c, const ynode *n, vcm_roll_file *f) {
        static const key_spec keys[] = { { "path", true }, { "content", true }, { "mode", false } };
        const ynode *v[ELEMENTSOF(keys)];
        f->pos = ctx_pos(c, n);
        f->mode = 0644;
        if (!map_fields(c, n, "the file entry", keys, ELEMENTSOF(keys), v))
                return;
        if (v[0] && get_str(c, v[0], "path", &f->path) && f->path[0] != '/')
                ctx_error(c, v[0], "path '%s' must be absolute, such as /etc/motd", f->path);
        if (v[1])
                get_str(c, v[1], "content", &f->content);
        if (v[2] && v[2]->kind == YNODE_SCALAR) {
                const char *m = v[2]->value;
                size_t len = strlen(m);
                if (v[2]->quoted && len >= 3 && len <= 4 && strspn(m, "01234567") == len)
                        f->mode = (uint32_t)strtoul(m, NULL, 8);
                else
                        ctx_error(c, v[2], "mode must be an octal string in quotes such as \"0644\", not '%s'", m);
        } else if (v[2]) {
                ctx_error(c, v[2], "mode must be an octal string in quotes such as \"0644\"");
        }
}

static void load_appliance(spec_ctx *c, const ynode *k, const ynode *n, vcm_roll_appliance *a) {
        static const key_spec keys[] = { { "packages", false }, { "runcmd", false }, { "files", false } };
        const ynode *v[ELEMENTSOF(keys)];
        a->name = ctx_strdup(c, k->value);
        a->pos = ctx_pos(c, k);
        if (!map_fields(c, n, "the appliance", keys, ELEMENTSOF(keys), v))
                return;
        if (v[0])
                get_strlist(c, v[0], "packages", &a->packages, &a->n_packages, NULL);
        if (v[1])
                get_strlist(c, v[1], "runcmd", &a->runcmd, &a->n_runcmd, NULL);
        if (v[2] && get_seq(c, v[2], "files")) {
                a->files = calloc(v[2]->n + 1, sizeof(*a->files));
                if (!a->files) {
                        c->oom = true;
                        return;
                }
                a->n_files = v[2]->n;
                for (size_t i = 0; i < v[2]->n; i++)
                        load_file_entry(c, v[2]->items[i], &a->files[i]);
        }
}

void load_roll(spec_ctx *c, const ynode *root, vcm_roll *r) {
        const ynode *meta, *spec;
        r->pos = ctx_pos(c, root);
        load_header(c, root, "Roll", "files in rolls/", &meta, &spec);
        static const key_spec meta_keys[] = { { "name", true } };
        const ynode *m[1];
        if (meta && map_fields(c, meta, "metadata", meta_keys, 1, m) && m[0]) {
                get_str(c, m[0], "name", &r->name);
                r->name_pos = ctx_pos(c, m[0]);
        }
        if (!spec)
                return;
        static const key_spec keys[] = { { "appliances", true } };
        const ynode *v[1];
        if (!map_fields(c, spec, "spec", keys, 1, v) || !v[0])
                return;
        size_t pairs = v[0]->kind == YNODE_MAP ? ynode_n_pairs(v[0]) : 0;
        bool *ok = calloc(pairs + 1, sizeof(*ok));
        r->appliances = calloc(pairs + 1, sizeof(*r->appliances));
        if (!ok || !r->appliances) {
                free(ok);
                c->oom = true;
                return;
        }
        if (map_check_free(c, v[0], "appliances", ok))
                for (size_t p = 0; p < pairs; p++)
                        if (ok[p])
                                load_appliance(c, v[0]->items[2 * p], v[0]->items[2 * p + 1],
                                               &r->appliances[r->n_appliances++]);
        free(ok);
}
