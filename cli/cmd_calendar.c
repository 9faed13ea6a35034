/* vcm calendar: reservations as a Gantt chart per cluster and utilisation per host role over
 * time, from the capacity check (reconciler/capacity.h). Text for terminals, JSON for tools;
 * SVG and PNG (drawn with cairo, calendar_draw.c) for documents and browsers. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "cli.h"
#include "reconciler/capacity.h"
#include "reconciler/util.h"

#define TEXT_COLUMNS 72

static int64_t overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1) {
        int64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
        return hi > lo ? hi - lo : 0;
}

/* ---- text ------------------------------------------------------------------------------- */

static void text_axis(const calendar *cal, int64_t col, size_t width) {
        char line[TEXT_COLUMNS + 16];
        memset(line, ' ', sizeof(line));
        bool months = cal->to - cal->from > 45 * 86400;
        int last = -1;
        for (size_t i = 0; i < width; i++) {
                time_t t = (time_t)(cal->from + (int64_t)i * col);
                struct tm tm;
                gmtime_r(&t, &tm);
                int key = months ? tm.tm_year * 12 + tm.tm_mon : tm.tm_year * 400 + tm.tm_yday;
                if (key == last)
                        continue;
                last = key;
                char label[16];
                if (months)
                        strftime(label, sizeof(label), "%b", &tm);
                else
                        strftime(label, sizeof(label), "%d", &tm);
                size_t n = strlen(label);
                /* Only where the label fits before the next one could start. */
                if (i + n < width && (i == 0 || line[i - 1] == ' '))
                        memcpy(&line[i], label, n);
        }
        line[width] = 0;
        printf("%-18s %s\n", "", line);
}

static void print_text(const calendar *cal) {
        const vcm_repo *repo = cal->repo;
        const vcm_capacity_report *rep = cal->rep;
        size_t width = TEXT_COLUMNS;
        int64_t col = (cal->to - cal->from + (int64_t)width - 1) / (int64_t)width;
        if (col < 1)
                col = 1;
        char a[48], b[48];
        calendar_time_utc(cal->from, a, sizeof(a));
        calendar_time_utc(cal->to, b, sizeof(b));
        printf("Reservations on site %s, %s .. %s (UTC), one column = %lldh%s\n\n",
               repo->site->name, a, b, (long long)(col / 3600),
               col % 3600 ? " (rounded)" : "");
        text_axis(cal, col, width);
        for (size_t c = 0; c < repo->n_clusters; c++) {
                char row[TEXT_COLUMNS + 1];
                for (size_t i = 0; i < width; i++) {
                        int64_t c0 = cal->from + (int64_t)i * col, c1 = c0 + col;
                        int64_t on = 0;
                        for (size_t k = 0; k < rep->n_spans[c]; k++)
                                on += overlap(c0, c1, rep->spans[c][k].start, rep->spans[c][k].end);
                        const vcm_capacity_conflict *k = cal->conflict[c];
                        char ch = on == 0 ? ' ' : on * 2 >= col ? '#' : '|';
                        if (on && k && overlap(c0, c1, k->at, k->until))
                                ch = '!';
                        row[i] = ch;
                }
                row[width] = 0;
                printf("%-18.18s|%s|\n", repo->clusters[c].name, row);
        }
        printf("\nUtilisation, peak per column (' ' none, 1-9 tenths rounded up, @ full):\n");
        for (size_t u = 0; u < calendar_n_util_rows; u++) {
                uint64_t capacity = calendar_role_capacity(repo->site, &calendar_util_rows[u]);
                if (capacity == 0)
                        continue;
                char row[TEXT_COLUMNS + 1];
                double peak_all = 0;
                for (size_t i = 0; i < width; i++) {
                        int64_t c0 = cal->from + (int64_t)i * col, c1 = c0 + col;
                        double peak = 0;
                        for (size_t s = 0; s < rep->n_slices; s++) {
                                const vcm_capacity_slice *sl = &rep->slices[s];
                                if (!overlap(c0, c1, sl->start, sl->end))
                                        continue;
                                double f = (double)calendar_slice_used(repo->site, sl, &calendar_util_rows[u]) /
                                           (double)capacity;
                                if (f > peak)
                                        peak = f;
                        }
                        if (peak > peak_all)
                                peak_all = peak;
                        /* Tenths rounded up, so any use shows; '@' only when full. */
                        int level = peak <= 0 ? 0 : peak >= 1 ? 10 : (int)(peak * 10 + 0.999);
                        if (level > 9 && peak < 1)
                                level = 9;
                        row[i] = level == 0 ? ' ' : level == 10 ? '@' : (char)('0' + level);
                }
                row[width] = 0;
                printf("%-18.18s|%s| peak %.0f%%\n", calendar_util_rows[u].label, row, peak_all * 100);
        }
        printf("\n# active most of the column  | active part of it  ! does not fit (Pending)\n");
        for (size_t i = 0; i < rep->n_conflicts; i++) {
                char *msg = vcm_capacity_conflict_message(repo, &rep->conflicts[i]);
                printf("! %s\n", msg);
                free(msg);
        }
}

/* ---- json ------------------------------------------------------------------------------- */

static json_t *json_time(int64_t t) {
        char buf[48];
        calendar_time_utc(t, buf, sizeof(buf));
        return json_string(buf);
}

/* format_version 1: {"format_version", "site", "from", "to", "hosts": [{"name", "roles",
 * "vcpus", "memory", "storage"}], "clusters": [{"name", "file", "spans": [{"start", "end"}],
 * "conflict": null | {"at", "message", "with": [names]}}], "intervals": [{"start", "end",
 * "active", "placed", "storage" (volume bytes on the lvm-iscsi storage hosts, 0 when their
 * capacity.storage is not given), "hosts": [{"vcpus", "memory"}] (site host order)}]}. Times are RFC 3339
 * UTC, memory in bytes. */
static void print_json(const calendar *cal) {
        const vcm_repo *repo = cal->repo;
        const vcm_site *site = repo->site;
        const vcm_capacity_report *rep = cal->rep;
        json_t *hosts = json_array();
        for (size_t h = 0; h < site->n_hosts; h++) {
                const vcm_host *host = &site->hosts[h];
                json_t *roles = json_array();
                if (host->roles & VCM_ROLE_GATEWAY)
                        json_array_append_new(roles, json_string("gateway"));
                if (host->roles & VCM_ROLE_VM_SERVER)
                        json_array_append_new(roles, json_string("vm-server"));
                if (host->roles & VCM_ROLE_STORAGE)
                        json_array_append_new(roles, json_string("storage"));
                json_array_append_new(hosts, json_pack("{s:s, s:o, s:I, s:I, s:I}", "name",
                                                       host->name, "roles", roles, "vcpus",
                                                       (json_int_t)host->capacity_vcpus, "memory",
                                                       (json_int_t)host->capacity_memory,
                                                       "storage",
                                                       (json_int_t)host->capacity_storage));
        }
        json_t *clusters = json_array();
        for (size_t c = 0; c < repo->n_clusters; c++) {
                json_t *spans = json_array();
                for (size_t k = 0; k < rep->n_spans[c]; k++)
                        json_array_append_new(spans, json_pack("{s:o, s:o}", "start",
                                                               json_time(rep->spans[c][k].start),
                                                               "end",
                                                               json_time(rep->spans[c][k].end)));
                json_t *conflict = json_null();
                const vcm_capacity_conflict *k = cal->conflict[c];
                if (k) {
                        json_t *with = json_array();
                        for (size_t w = 0; w < k->n_with; w++)
                                json_array_append_new(with,
                                                      json_string(repo->clusters[k->with[w]].name));
                        char *msg = vcm_capacity_conflict_message(repo, k);
                        conflict = json_pack("{s:o, s:s, s:o}", "at", json_time(k->at), "message",
                                             msg, "with", with);
                        free(msg);
                }
                json_array_append_new(clusters,
                                      json_pack("{s:s, s:s, s:o, s:o}", "name",
                                                repo->clusters[c].name, "file",
                                                repo->clusters[c].file, "spans", spans,
                                                "conflict", conflict));
        }
        json_t *intervals = json_array();
        for (size_t s = 0; s < rep->n_slices; s++) {
                const vcm_capacity_slice *sl = &rep->slices[s];
                json_t *use = json_array();
                for (size_t h = 0; h < site->n_hosts; h++)
                        json_array_append_new(use, json_pack("{s:I, s:I}", "vcpus",
                                                             (json_int_t)sl->vcpus[h], "memory",
                                                             (json_int_t)sl->memory[h]));
                json_array_append_new(intervals,
                                      json_pack("{s:o, s:o, s:I, s:I, s:I, s:o}", "start",
                                                json_time(sl->start), "end", json_time(sl->end),
                                                "active", (json_int_t)sl->n_active, "placed",
                                                (json_int_t)sl->n_placed, "storage",
                                                (json_int_t)sl->storage, "hosts", use));
        }
        json_t *root = json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o}", "format_version", 1,
                                 "site", site->name, "from", json_time(cal->from), "to",
                                 json_time(cal->to), "hosts", hosts, "clusters", clusters,
                                 "intervals", intervals);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(root);
}

/* The cluster an argument names: its metadata.name or its file ("clusters/x.yaml"). */
static const vcm_cluster *named_cluster(const vcm_repo *repo, const char *arg) {
        const vcm_cluster *c = vcm_repo_find_cluster(repo, arg);
        for (size_t i = 0; !c && i < repo->n_clusters; i++) {
                const char *f = repo->clusters[i].file;
                size_t lf = strlen(f), la = strlen(arg);
                /* "./clusters/x.yaml" and "specs/clusters/x.yaml" name "clusters/x.yaml" too. */
                if (la >= lf && strcmp(arg + la - lf, f) == 0 && (la == lf || arg[la - lf - 1] == '/'))
                        c = &repo->clusters[i];
        }
        return c;
}

/* The period around the named clusters' windows: from a day before the earliest start to a day
 * after the latest end (a week after the start for a window without end), so a reviewer sees
 * the new reservation next to those it meets. */
static int period_around(const vcm_cli_opts *opts, const vcm_repo *repo, int64_t *from,
                         int64_t *to) {
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (int a = 0; a < opts->n_args; a++) {
                const vcm_cluster *c = named_cluster(repo, opts->args[a]);
                if (!c) {
                        fprintf(stderr, "vcm calendar: no cluster '%s' in %s (give a cluster name "
                                        "or its file)\n", opts->args[a], opts->source);
                        return -ENOENT;
                }
                const vcm_window *w = &c->window;
                int64_t start = c->has_window && w->has_start ? w->start : opts->at;
                int64_t end = c->has_window && w->has_end ? w->end : start + 7 * 86400;
                lo = start < lo ? start : lo;
                hi = end > hi ? end : hi;
        }
        if (!opts->from_given)
                *from = lo - 86400;
        if (!opts->to_given)
                *to = hi + 86400;
        return 0;
}

static int run_calendar(vcm_cli_opts *opts) {
        _cleanup_repo_ vcm_repo *repo = NULL;
        size_t errors = 0;
        if (cli_load_source(opts, &repo, &errors) < 0)
                return 1;
        if (!repo->site) {
                fprintf(stderr, "vcm calendar: %s has no valid site.yaml\n", opts->source);
                return 1;
        }
        if (opts->output == VCM_OUTPUT_PNG && isatty(STDOUT_FILENO)) {
                fprintf(stderr, "vcm calendar: -o png writes a binary picture; redirect it to a "
                                "file (vcm calendar -o png > calendar.png)\n");
                return 64;
        }
        int64_t from = opts->from_given ? opts->from : opts->at;
        int64_t to = opts->to_given ? opts->to : vcm_capacity_horizon(repo, from);
        if (opts->n_args > 0 && period_around(opts, repo, &from, &to) < 0)
                return 64;
        if (from >= to) {
                fprintf(stderr, "vcm calendar: --to must be later than --from\n");
                return 64;
        }
        vcm_capacity_opts copts = { .keep_slices = true };
        _cleanup_(vcm_capacity_report_freep) vcm_capacity_report *rep = NULL;
        int r = vcm_capacity_check(repo, from, to, &copts, &rep);
        if (r < 0) {
                fprintf(stderr, "vcm calendar: %s\n", strerror(-r));
                return 1;
        }
        calendar cal = { .repo = repo, .rep = rep, .from = from, .to = to };
        cal.conflict = xcalloc(repo->n_clusters ? repo->n_clusters : 1, sizeof(*cal.conflict));
        for (size_t i = 0; i < rep->n_conflicts; i++)
                cal.conflict[rep->conflicts[i].cluster] = &rep->conflicts[i];
        switch (opts->output) {
        case VCM_OUTPUT_JSON:
                print_json(&cal);
                break;
        case VCM_OUTPUT_SVG:
        case VCM_OUTPUT_PNG:
                r = calendar_draw(&cal, opts->output == VCM_OUTPUT_SVG ? CALENDAR_SVG : CALENDAR_PNG,
                                  stdout);
                if (r < 0)
                        fprintf(stderr, "vcm calendar: cannot write the picture: %s\n",
                                strerror(-r));
                break;
        default:
                print_text(&cal);
                break;
        }
        free(cal.conflict);
        if (r < 0)
                return 1;
        /* Spec errors were printed; the calendar shows the clusters that loaded. */
        return errors > 0 ? 1 : 0;
}

const vcm_command cli_cmd_calendar = {
        .name = "calendar",
        .summary = "reservations and capacity use over time (text, json, svg or png)",
        .usage = "Usage: vcm calendar [--source SRC [--ref REF]] [--from TIME] [--to TIME] [CLUSTER...]\n"
                 "                    [-o text|json|svg|png]\n"
                 "\n"
                 "Show every cluster's reservation as a Gantt chart and the use of each host\n"
                 "role (gateway, vm-server: vCPUs and memory; storage: volumes, when the site\n"
                 "gives the storage hosts' capacity.storage) over time, as the capacity check\n"
                 "of 'vcm validate' places them. Reservations that do not fit are marked.\n"
                 "With CLUSTER arguments (names or their files) the period is the one around\n"
                 "their windows (a day either side), as a pull request review wants it.\n"
                 "\n"
                 "Options:\n"
                 "  --source SRC   the spec repository (default .): a directory or a git URL\n"
                 "  --ref REF      branch or tag of a git source\n"
                 "  --from TIME    start of the period (default --at, or now)\n"
                 "  --to TIME      end of the period (default: the last window end, and at\n"
                 "                 least eight days after --from)\n"
                 "  -o FORMAT      text (default), json (format_version 1), svg or png (drawn\n"
                 "                 with cairo; png to a file or pipe, not a terminal)\n"
                 "\n"
                 "Exit: 0 shown, 1 spec errors (the calendar shows what loaded) or unreadable\n"
                 "source, 64 usage error.\n",
        .run = run_calendar,
};
