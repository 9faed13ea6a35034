/* clusters/NAME.yaml -> vcm_cluster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "load.h"
#include "load_internal.h"

void check_model_name(spec_ctx *c, const ynode *n, const char *what, const char *name) {
        const char *why = check_name(name, VCM_NAME_MAX);
        if (!why)
                return;
        if (strcmp(why, "too long") == 0)
                ctx_error(c, n, "%s '%s' is too long (%zu characters): use at most %d", what, name,
                          strlen(name), VCM_NAME_MAX);
        else
                ctx_error(c, n,
                          "%s '%s' is not valid: use lower-case letters, digits and '-', starting "
                          "with a letter and ending with a letter or digit",
                          what, name);
}

static bool load_time(spec_ctx *c, const ynode *n, const char *key, char **ret_text, int64_t *ret) {
        char *text;
        if (!get_str(c, n, key, &text))
                return false;
        if (vcm_parse_time(text, ret) == 0) {
                *ret_text = text;
                return true;
        }
        char with_z[128];
        int64_t ignored;
        snprintf(with_z, sizeof(with_z), "%sZ", text);
        if (strlen(text) < 100 && vcm_parse_time(with_z, &ignored) == 0)
                ctx_error(c, n, "time '%s' has no UTC offset: add one, e.g. '%s' or '%s+09:00'", text,
                          with_z, text);
        else
                ctx_error(c, n,
                          "time '%s' is not valid: use RFC 3339 with an offset, e.g. "
                          "'2026-12-01T09:00:00+09:00'",
                          text);
        free(text);
        return false;
}

static void load_slot(spec_ctx *c, const ynode *n, vcm_slot *s) {
        static const key_spec keys[] = {
                { "days", true }, { "from", true }, { "to", true }, { "timezone", true },
        };
        static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
        const ynode *v[ELEMENTSOF(keys)];
        s->pos = ctx_pos(c, n);
        if (!map_fields(c, n, "the recurring slot", keys, ELEMENTSOF(keys), v))
                return;
        bool times_ok = true;
        if (v[0] && get_seq(c, v[0], "days")) {
                s->days_pos = ctx_pos(c, v[0]);
                if (v[0]->n == 0)
                        ctx_error(c, v[0], "'days' must list at least one day, e.g. [mon, wed]");
                for (size_t i = 0; i < v[0]->n; i++) {
                        int d;
                        if (!get_enum(c, v[0]->items[i], "days", day_names, 7, &d))
                                continue;
                        if (s->days & (1u << d))
                                ctx_error(c, v[0]->items[i], "day '%s' is listed twice: list each day once",
                                          day_names[d]);
                        s->days |= (uint8_t)(1u << d);
                }
        }
        const ynode *hv[2] = { v[1], v[2] };
        int *hm[2] = { &s->from_minute, &s->to_minute };
        vcm_pos *hp[2] = { &s->from_pos, &s->to_pos };
        for (int i = 0; i < 2; i++) {
                if (!hv[i]) {
                        times_ok = false;
                        continue;
                }
                *hp[i] = ctx_pos(c, hv[i]);
                char buf[64];
                if (hv[i]->kind != YNODE_SCALAR || !parse_hhmm(hv[i]->value, i == 1, hm[i])) {
                        ctx_error(c, hv[i], "'%s' must be a time of day \"HH:MM\" such as \"09:00\"%s, not %s",
                                  keys[1 + i].name, i == 1 ? " (or \"24:00\")" : "",
                                  node_describe(hv[i], buf, sizeof(buf)));
                        times_ok = false;
                }
        }
        if (times_ok && s->from_minute >= s->to_minute)
                ctx_error(c, v[2], "slot ends at %s, not after it starts at %s: 'to' must be later than 'from'",
                          v[2]->value, v[1]->value);
        if (v[3] && get_str(c, v[3], "timezone", &s->timezone)) {
                s->timezone_pos = ctx_pos(c, v[3]);
                if (!ctx_check_timezone(c, s->timezone))
                        ctx_error(c, v[3], "unknown time zone '%s': use an IANA name such as 'Europe/Paris'",
                                  s->timezone);
        }
}

static void load_window(spec_ctx *c, const ynode *n, vcm_window *w) {
        static const key_spec keys[] = { { "start", false }, { "end", false }, { "recurring", false } };
        const ynode *v[ELEMENTSOF(keys)];
        w->pos = ctx_pos(c, n);
        if (!map_fields(c, n, "window", keys, ELEMENTSOF(keys), v))
                return;
        if (v[0]) {
                w->start_pos = ctx_pos(c, v[0]);
                w->has_start = load_time(c, v[0], "start", &w->start_text, &w->start);
        }
        if (v[1]) {
                w->end_pos = ctx_pos(c, v[1]);
                w->has_end = load_time(c, v[1], "end", &w->end_text, &w->end);
        }
        if (w->has_start && w->has_end && w->end <= w->start)
                ctx_error(c, v[1], "window end '%s' is not after its start '%s': end must be later",
                          w->end_text, w->start_text);
        if (v[2] && get_seq(c, v[2], "recurring")) {
                w->recurring_pos = ctx_pos(c, v[2]);
                w->recurring = calloc(v[2]->n + 1, sizeof(*w->recurring));
                if (!w->recurring) {
                        c->oom = true;
                        return;
                }
                w->n_recurring = v[2]->n;
                for (size_t i = 0; i < v[2]->n; i++)
                        load_slot(c, v[2]->items[i], &w->recurring[i]);
        }
}

static void load_network(spec_ctx *c, const ynode *n, vcm_cluster_network *net) {
        static const key_spec keys[] = { { "vlan", false }, { "subnet", true } };
        const ynode *v[ELEMENTSOF(keys)];
        net->pos = ctx_pos(c, n);
        net->vlan_auto = true;
        if (!map_fields(c, n, "network", keys, ELEMENTSOF(keys), v))
                return;
        if (v[0]) {
                net->vlan_pos = ctx_pos(c, v[0]);
                int64_t id;
                char buf[64];
                if (v[0]->kind == YNODE_SCALAR && strcmp(v[0]->value, "auto") == 0) {
                        net->vlan_auto = true;
                } else if (get_int_quiet(v[0], 1, 4094, &id)) {
                        net->vlan_auto = false;
                        net->vlan = (uint32_t)id;
                } else {
                        ctx_error(c, v[0], "'vlan' must be 'auto' or an integer between 1 and 4094, not %s",
                                  node_describe(v[0], buf, sizeof(buf)));
                }
        }
        if (v[1] && get_str(c, v[1], "subnet", &net->subnet)) {
                net->subnet_pos = ctx_pos(c, v[1]);
                uint32_t a;
                int p;
                if (!parse_cidr(net->subnet, &a, &p)) {
                        ctx_error(c, v[1], "subnet '%s' is not valid: use an IPv4 CIDR such as 10.10.0.0/24",
                                  net->subnet);
                } else if (p < 8 || p > 30) {
                        ctx_error(c, v[1], "subnet '%s' has prefix /%d: use a prefix between /8 and /30",
                                  net->subnet, p);
                } else if (a & ((1u << (32 - p)) - 1)) {
                        uint32_t m = a & ~((1u << (32 - p)) - 1);
                        ctx_error(c, v[1], "subnet '%s' has host bits set: use %u.%u.%u.%u/%d", net->subnet,
                                  m >> 24, (m >> 16) & 255, (m >> 8) & 255, m & 255, p);
                } else {
                        net->subnet_addr = a;
                        net->subnet_prefix = (uint8_t)p;
                }
        }
}

static void load_frontend(spec_ctx *c, const ynode *n, vcm_frontend *f) {
        static const key_spec keys[] = {
                { "vcpus", true }, { "memory", true }, { "disk", true }, { "external", false },
        };
        const ynode *v[ELEMENTSOF(keys)];
        f->pos = ctx_pos(c, n);
        if (!map_fields(c, n, "frontend", keys, ELEMENTSOF(keys), v))
                return;
        int64_t i;
        if (v[0] && get_int(c, v[0], "vcpus", 1, 256, &i))
                f->vcpus = (uint32_t)i;
        if (v[1])
                get_size(c, v[1], "memory", &f->memory);
        if (v[2])
                get_size(c, v[2], "disk", &f->disk);
        if (v[3])
                get_bool(c, v[3], "external", &f->external);
        f->vcpus_pos = ctx_pos(c, v[0]);
        f->memory_pos = ctx_pos(c, v[1]);
        f->disk_pos = ctx_pos(c, v[2]);
        f->external_pos = ctx_pos(c, v[3]);
}

static void load_node_group(spec_ctx *c, const ynode *n, vcm_node_group *g) {
        static const key_spec keys[] = {
                { "name", true },  { "appliance", false }, { "count", true },   { "vcpus", true },
                { "memory", true }, { "disk", true },      { "install", false },
        };
        static const char *const installs[] = { "image", "pxe" };
        const ynode *v[ELEMENTSOF(keys)];
        g->pos = ctx_pos(c, n);
        if (!map_fields(c, n, "the node group", keys, ELEMENTSOF(keys), v))
                return;
        if (v[0] && get_str(c, v[0], "name", &g->name)) {
                if (strcmp(g->name, "frontend") == 0)
                        ctx_error(c, v[0], "node group name 'frontend' is reserved for the frontend: choose another name");
                else
                        check_model_name(c, v[0], "node group name", g->name);
        }
        if (v[1])
                get_str(c, v[1], "appliance", &g->appliance);
        if (!g->appliance)
                g->appliance = ctx_strdup(c, "compute");
        int64_t i;
        if (v[2] && get_int(c, v[2], "count", 1, VCM_NODE_COUNT_MAX, &i))
                g->count = (uint32_t)i;
        if (v[3] && get_int(c, v[3], "vcpus", 1, 256, &i))
                g->vcpus = (uint32_t)i;
        if (v[4])
                get_size(c, v[4], "memory", &g->memory);
        if (v[5])
                get_size(c, v[5], "disk", &g->disk);
        int e;
        if (v[6] && get_enum(c, v[6], "install", installs, 2, &e))
                g->install = (vcm_install)e;
        g->name_pos = ctx_pos(c, v[0]);
        g->appliance_pos = ctx_pos(c, v[1]);
        g->count_pos = ctx_pos(c, v[2]);
        g->vcpus_pos = ctx_pos(c, v[3]);
        g->memory_pos = ctx_pos(c, v[4]);
        g->disk_pos = ctx_pos(c, v[5]);
        g->install_pos = ctx_pos(c, v[6]);
}

static void load_nodes(spec_ctx *c, const ynode *n, vcm_cluster *cl) {
        cl->nodes_list_pos = ctx_pos(c, n);
        if (!get_seq(c, n, "nodes"))
                return;
        cl->nodes = calloc(n->n + 1, sizeof(*cl->nodes));
        if (!cl->nodes) {
                c->oom = true;
                return;
        }
        cl->n_nodes = n->n;
        for (size_t i = 0; i < n->n; i++) {
                vcm_node_group *g = &cl->nodes[i];
                load_node_group(c, n->items[i], g);
                for (size_t j = 0; g->name && j < i; j++)
                        if (cl->nodes[j].name && strcmp(cl->nodes[j].name, g->name) == 0) {
                                vcm_diags_error(c->diags, g->name_pos,
                                                "node group name '%s' is already used at line %d: names must be unique in the cluster",
                                                g->name, cl->nodes[j].name_pos.line);
                                c->n_errors++;
                                break;
                        }
        }
}

/* The frontend is .1 and every node needs an address; network and broadcast are not usable. */
static void check_subnet_room(spec_ctx *c, const ynode *subnet, const vcm_cluster *cl) {
        if (!cl->network.subnet_prefix)
                return;
        uint64_t need = vcm_cluster_node_count(cl);
        uint64_t room = (1ull << (32 - cl->network.subnet_prefix)) - 2;
        if (need <= room)
                return;
        int p = 30;
        while (p > 8 && (1ull << (32 - p)) - 2 < need)
                p--;
        ctx_error(c, subnet,
                  "subnet '%s' has room for %llu hosts but the cluster needs %llu (the frontend and %llu nodes): "
                  "use a prefix of /%d or shorter",
                  cl->network.subnet, (unsigned long long)room, (unsigned long long)need,
                  (unsigned long long)(need - 1), p);
}

void load_cluster(spec_ctx *c, const ynode *root, vcm_cluster *cl) {
        const ynode *meta, *spec;
        cl->pos = ctx_pos(c, root);
        load_header(c, root, "VirtualCluster", "files in clusters/", &meta, &spec);

        static const key_spec meta_keys[] = { { "name", true }, { "owner", true } };
        const ynode *m[ELEMENTSOF(meta_keys)];
        if (meta && map_fields(c, meta, "metadata", meta_keys, ELEMENTSOF(meta_keys), m)) {
                if (m[0] && get_str(c, m[0], "name", &cl->name))
                        check_model_name(c, m[0], "cluster name", cl->name);
                if (m[1])
                        get_str(c, m[1], "owner", &cl->owner);
                cl->name_pos = ctx_pos(c, m[0]);
                cl->owner_pos = ctx_pos(c, m[1]);
        }
        if (!spec)
                return;

        static const key_spec keys[] = {
                { "window", false }, { "onExpire", false }, { "suspend", false },
                { "rolls", false },  { "sshKeys", false },  { "network", true },
                { "frontend", true }, { "nodes", false },   { "sharedStorage", false },
        };
        static const char *const on_expire[] = { "release", "keep-volumes" };
        const ynode *v[ELEMENTSOF(keys)];
        if (!map_fields(c, spec, "spec", keys, ELEMENTSOF(keys), v))
                return;
        if (v[0]) {
                cl->has_window = true;
                load_window(c, v[0], &cl->window);
        }
        int e;
        if (v[1] && get_enum(c, v[1], "onExpire", on_expire, 2, &e))
                cl->on_expire = (vcm_on_expire)e;
        cl->on_expire_pos = ctx_pos(c, v[1]);
        if (v[2])
                get_bool(c, v[2], "suspend", &cl->suspend);
        cl->suspend_pos = ctx_pos(c, v[2]);
        if (v[3]) {
                cl->rolls_list_pos = ctx_pos(c, v[3]);
                get_strlist(c, v[3], "rolls", &cl->rolls, &cl->n_rolls, &cl->rolls_pos);
                for (size_t i = 0; i < cl->n_rolls; i++)
                        for (size_t j = 0; j < i; j++)
                                if (strcmp(cl->rolls[i], cl->rolls[j]) == 0) {
                                        vcm_diags_error(c->diags, cl->rolls_pos[i],
                                                        "Roll '%s' is listed twice: list each Roll once",
                                                        cl->rolls[i]);
                                        c->n_errors++;
                                        break;
                                }
        }
        if (v[4]) {
                cl->ssh_keys_list_pos = ctx_pos(c, v[4]);
                get_strlist(c, v[4], "sshKeys", &cl->ssh_keys, &cl->n_ssh_keys, &cl->ssh_keys_pos);
                for (size_t i = 0; i < cl->n_ssh_keys; i++) {
                        /* A key pasted through a block scalar ends in a newline: not part of it. */
                        size_t len = strlen(cl->ssh_keys[i]);
                        while (len && strchr(" \t\r\n", cl->ssh_keys[i][len - 1]))
                                cl->ssh_keys[i][--len] = 0;
                        char msg[256];
                        if (!check_ssh_key(cl->ssh_keys[i], msg, sizeof(msg))) {
                                vcm_diags_error(c->diags, cl->ssh_keys_pos[i], "%s", msg);
                                c->n_errors++;
                        }
                }
        }
        if (v[5])
                load_network(c, v[5], &cl->network);
        else
                cl->network.vlan_auto = true;
        if (v[6])
                load_frontend(c, v[6], &cl->frontend);
        if (v[7])
                load_nodes(c, v[7], cl);
        if (v[8] && get_size(c, v[8], "sharedStorage", &cl->shared_storage))
                cl->shared_storage_pos = ctx_pos(c, v[8]);
        if (v[5] && v[5]->kind == YNODE_MAP) {
                const ynode *subnet = NULL;
                for (size_t p = 0; p < ynode_n_pairs(v[5]); p++)
                        if (strcmp(v[5]->items[2 * p]->value, "subnet") == 0)
                                subnet = v[5]->items[2 * p + 1];
                if (subnet)
                        check_subnet_room(c, subnet, cl);
        }
}
