/* Plan output: terraform-like text for people, stable JSON for tools.
 *
 * JSON format, version 1 (fields are only ever added, never renamed, within a version):
 *   {"format_version": 1,
 *    "changes": [{"action": "create"|"update"|"restart"|"replace"|"delete",
 *                 "kind": "domain"|"volume"|..., "host": str, "name": str, "cluster": str,
 *                 "reason": str,
 *                 "changes": {key: [old, new], ...}}],     create: old null; delete: {}
 *    "summary": {"create": n, "update": n, "restart": n, "replace": n, "destroy": n},
 *    "pruning_stopped": bool,
 *    "diagnostics": [{"severity": "error"|"warning", "file": str|null, "line": n,
 *                     "column": n, "message": str}]}
 * "changes" is in plan order (a topological order of the dependency DAG); "restart" is an update
 * that restarts the resource; "replace" deletes and creates it. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/diff.h"
#include "reconciler/engine.h"
#include "reconciler/plan.h"
#include "reconciler/util.h"

#define C_RESET "\033[0m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_RED "\033[31m"
#define C_BOLD "\033[1m"

const char *vcm_action_symbol(vcm_action a) {
        switch (a) {
        case VCM_ACTION_CREATE:
                return "+";
        case VCM_ACTION_UPDATE:
        case VCM_ACTION_RESTART:
                return "~";
        case VCM_ACTION_REPLACE:
                return "-/+";
        case VCM_ACTION_DELETE:
                return "-";
        }
        return "?";
}

const char *vcm_action_verb(vcm_action a) {
        switch (a) {
        case VCM_ACTION_CREATE:
                return "create";
        case VCM_ACTION_UPDATE:
                return "update";
        case VCM_ACTION_RESTART:
                return "update (requires restart)";
        case VCM_ACTION_REPLACE:
                return "replace";
        case VCM_ACTION_DELETE:
                return "destroy";
        }
        return "?";
}

static const char *color_of(vcm_action a) {
        switch (a) {
        case VCM_ACTION_CREATE:
                return C_GREEN;
        case VCM_ACTION_UPDATE:
        case VCM_ACTION_RESTART:
                return C_YELLOW;
        default:
                return C_RED;
        }
}

static void print_step(const vcm_step *s, FILE *out, bool color) {
        const vcm_resource *r = s->desired ? s->desired : s->observed;
        const char *on = color ? color_of(s->action) : "", *off = color ? C_RESET : "";
        fprintf(out, "  %s%s %s%s %s %s on %s (%s)\n", on, vcm_action_symbol(s->action),
                vcm_action_verb(s->action), off,
                vcm_kind_name(r->kind), r->name, r->host, s->reason ? s->reason : "");
        char a[128], b[128];
        if (s->action == VCM_ACTION_CREATE) {
                for (size_t i = 0; i < r->n_props; i++) {
                        if (vcm_prop_is_meta(r->props[i].key))
                                continue;
                        vcm_prop_pretty(r->props[i].key, r->props[i].value, b, sizeof(b));
                        fprintf(out, "      %s+%s %s = %s\n", on, off, r->props[i].key, b);
                }
                return;
        }
        for (size_t i = 0; i < s->n_changes; i++) {
                const vcm_step_change *c = &s->changes[i];
                vcm_prop_pretty(c->key, c->old_value, a, sizeof(a));
                vcm_prop_pretty(c->key, c->new_value, b, sizeof(b));
                fprintf(out, "      %s~%s %s: %s -> %s\n", on, off, c->key, a, b);
        }
}

void vcm_plan_print_text(const vcm_pass *p, FILE *out, bool color) {
        if (p->n_steps == 0) {
                /* With errors (an unreachable host, a broken spec) nothing is known to match. */
                if (p->diags.n_errors > 0)
                        fprintf(out, "No changes planned, but with the errors above: what "
                                "they concern is not known to match the specs.\n");
                else
                        fprintf(out, "No changes. Infrastructure matches the specs.\n");
                return;
        }
        fprintf(out, "vcm will perform the following actions:\n");
        /* Group per cluster (in order of first appearance), plan order inside each group.
         * Mostly plan order is grouped already; capacity edges between clusters on a host
         * (plan.c) can interleave them. */
        vcm_strmap rank = { .borrow = true };
        size_t *idx = malloc(p->n_steps * sizeof(size_t));
        size_t *key = malloc(p->n_steps * sizeof(size_t));
        if (!idx || !key) {
                free(idx);
                free(key);
                return;
        }
        size_t n_ranks = 0;
        for (size_t i = 0; i < p->n_steps; i++) {
                uintptr_t r = (uintptr_t)vcm_strmap_get(&rank, p->steps[i].cluster);
                if (!r) {
                        r = ++n_ranks;
                        vcm_strmap_put(&rank, p->steps[i].cluster, (void *)r);
                }
                key[i] = r;
        }
        /* Counting sort by rank: stable. */
        size_t *start = calloc(n_ranks + 2, sizeof(size_t));
        if (!start) {
                free(idx);
                free(key);
                vcm_strmap_clear(&rank);
                return;
        }
        for (size_t i = 0; i < p->n_steps; i++)
                start[key[i] + 1]++;
        for (size_t r = 1; r <= n_ranks + 1; r++)
                start[r] += start[r - 1];
        for (size_t i = 0; i < p->n_steps; i++)
                idx[start[key[i]]++] = i;
        const char *cur = NULL;
        for (size_t k = 0; k < p->n_steps; k++) {
                const vcm_step *st = &p->steps[idx[k]];
                if (!cur || strcmp(cur, st->cluster) != 0) {
                        cur = st->cluster;
                        fprintf(out, "\n%scluster %s%s\n", color ? C_BOLD : "", cur,
                                color ? C_RESET : "");
                }
                print_step(st, out, color);
        }
        free(start);
        free(idx);
        free(key);
        vcm_strmap_clear(&rank);
        vcm_plan_summary s = vcm_plan_summarize(p->steps, p->n_steps);
        fprintf(out, "\nPlan: %zu to create, %zu to update, %zu to destroy.\n",
                s.create + s.replace, s.update + s.restart, s.destroy + s.replace);
        if (s.restart)
                fprintf(out, "      %zu update%s restart%s a resource.\n", s.restart,
                        s.restart == 1 ? "" : "s", s.restart == 1 ? "s" : "");
}

static json_t *step_json(const vcm_step *s) {
        const vcm_resource *r = s->desired ? s->desired : s->observed;
        json_t *ch = json_object();
        if (s->action == VCM_ACTION_CREATE) {
                for (size_t i = 0; i < r->n_props; i++)
                        if (!vcm_prop_is_meta(r->props[i].key))
                                json_object_set_new(ch, r->props[i].key,
                                                    json_pack("[n, s]", r->props[i].value));
        } else {
                for (size_t i = 0; i < s->n_changes; i++) {
                        const vcm_step_change *c = &s->changes[i];
                        json_object_set_new(ch, c->key,
                                            json_pack("[s?, s?]", c->old_value, c->new_value));
                }
        }
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "action",
                         vcm_action_name(s->action), "kind", vcm_kind_name(r->kind), "host",
                         r->host, "name", r->name, "cluster", s->cluster, "reason",
                         s->reason ? s->reason : "", "changes", ch);
}

void vcm_plan_print_json(const vcm_pass *p, FILE *out) {
        json_t *changes = json_array();
        for (size_t i = 0; i < p->n_steps; i++)
                json_array_append_new(changes, step_json(&p->steps[i]));
        vcm_plan_summary s = vcm_plan_summarize(p->steps, p->n_steps);
        json_t *diags = json_array();
        for (size_t i = 0; i < p->diags.n; i++) {
                const vcm_diag *d = &p->diags.items[i];
                json_array_append_new(
                        diags, json_pack("{s:s, s:s?, s:i, s:i, s:s}", "severity",
                                         d->severity == VCM_SEV_ERROR ? "error" : "warning",
                                         "file", d->pos.file, "line", d->pos.line, "column",
                                         d->pos.column, "message", d->message));
        }
        json_t *root = json_pack(
                "{s:i, s:o, s:{s:I, s:I, s:I, s:I, s:I}, s:b, s:o}", "format_version", 1,
                "changes", changes, "summary", "create", (json_int_t)s.create, "update",
                (json_int_t)s.update, "restart", (json_int_t)s.restart, "replace",
                (json_int_t)s.replace, "destroy", (json_int_t)s.destroy, "pruning_stopped",
                (int)p->pruning_stopped, "diagnostics", diags);
        json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', out);
        json_decref(root);
}

int vcm_plan_exit_code(const vcm_pass *p) {
        return p->diags.n_errors > 0 ? 1 : p->n_steps > 0 ? 2 : 0;
}
