/* vcm history CLUSTER: the audit trail of one cluster, from the git history of its spec file
 * and the apply journal: who changed it, when, with what message, which merge brought it to the
 * ref, and what vcm did with it and when. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "reconciler/util.h"

/* RFC 3339 with the signature's own offset. */
static void format_time(int64_t when, int offset_min, char *buf, size_t len) {
        time_t t = (time_t)(when + (int64_t)offset_min * 60);
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
        int off = offset_min < 0 ? -offset_min : offset_min;
        snprintf(buf + n, len - n, "%c%02d:%02d", offset_min < 0 ? '-' : '+', off / 60,
                 off % 60);
}

/* The journal's lines for `cluster`, in file order (oldest first). A missing journal is an
 * empty one: nothing was applied from this state directory. */
static json_t *journal_read(const char *state_dir, const char *cluster) {
        json_t *out = json_array();
        _cleanup_free_ char *path = xasprintf("%s/journal.jsonl", state_dir);
        FILE *f = fopen(path, "re");
        if (!f)
                return out;
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
                json_t *o = json_loads(line, 0, NULL);
                const char *c = json_string_value(json_object_get(o, "cluster"));
                if (c && !strcmp(c, cluster))
                        json_array_append(out, o);
                json_decref(o);
        }
        free(line);
        fclose(f);
        return out;
}

/* The spec file names to follow: the file that holds the cluster now (found by
 * metadata.name), and clusters/NAME.yaml / .yml for a cluster whose file is gone. */
static size_t cluster_paths(const vcm_repo *repo, const char *name, char *paths[3]) {
        size_t n = 0;
        const vcm_cluster *c = vcm_repo_find_cluster(repo, name);
        if (c)
                paths[n++] = xstrdup(c->file);
        const char *exts[] = { "yaml", "yml" };
        for (size_t i = 0; i < ELEMENTSOF(exts); i++) {
                char *p = xasprintf("clusters/%s.%s", name, exts[i]);
                if (c && !strcmp(p, c->file))
                        free(p);
                else
                        paths[n++] = p;
        }
        return n;
}

static json_t *signature(const char *name, const char *email, int64_t when, int offset) {
        char t[48];
        format_time(when, offset, t, sizeof(t));
        return json_pack("{s:s, s:s, s:s}", "name", name, "email", email, "date", t);
}

/* Each journal line goes to the newest commit of the log its spec commit contains: the version
 * of the file that was in force when vcm applied it. Lines of other commits stay in `other`. */
static json_t *history_build(vcm_source *src, const char *cluster, const vcm_source_commit *log,
                             size_t n, json_t *journal) {
        json_t *commits = json_array();
        for (size_t i = 0; i < n; i++) {
                const vcm_source_commit *c = &log[i];
                json_t *o = json_pack("{s:s, s:o, s:o, s:s, s:s, s:b, s:s?, s:[]}", "commit",
                                      c->id, "author",
                                      signature(c->author, c->author_email, c->author_time,
                                                c->author_offset),
                                      "committer",
                                      signature(c->committer, c->committer_email,
                                                c->commit_time, c->commit_offset),
                                      "message", c->message, "path", c->path, "deleted",
                                      c->deleted, "merge", c->merge, "applied");
                json_array_append_new(commits, o);
        }
        json_t *other = json_array();
        size_t k;
        json_t *e;
        json_array_foreach(journal, k, e) {
                const char *j = json_string_value(json_object_get(e, "commit"));
                size_t i = n;
                for (i = 0; j && i < n; i++)
                        if (vcm_source_contains(src, j, log[i].id) == 1)
                                break;
                json_t *to = j && i < n ? json_object_get(json_array_get(commits, i), "applied")
                                        : other;
                json_array_append(to, e);
        }
        return json_pack("{s:s, s:s, s:o, s:o}", "cluster", cluster, "source",
                         vcm_source_describe(src), "commits", commits, "other", other);
}

static void print_entry(json_t *e) {
        const char *err = json_string_value(json_object_get(e, "error"));
        const char *commit = json_string_value(json_object_get(e, "commit"));
        printf("    %s %-7s %s %s/%s %s", json_string_value(json_object_get(e, "time")),
               json_string_value(json_object_get(e, "action")),
               json_string_value(json_object_get(e, "kind")),
               json_string_value(json_object_get(e, "host")),
               json_string_value(json_object_get(e, "name")),
               json_string_value(json_object_get(e, "result")));
        if (err)
                printf(": %s", err);
        printf(" (spec %.7s)\n", commit ? commit : "-");
}

static void print_text(json_t *h) {
        size_t i, k;
        json_t *c, *e;
        json_array_foreach(json_object_get(h, "commits"), i, c) {
                const char *merge = json_string_value(json_object_get(c, "merge"));
                printf("commit %s", json_string_value(json_object_get(c, "commit")));
                if (merge)
                        printf(" (merged in %.12s)", merge);
                printf("\n");
                json_t *a = json_object_get(c, "author"), *m = json_object_get(c, "committer");
                printf("Author:    %s <%s>  %s\n", json_string_value(json_object_get(a, "name")),
                       json_string_value(json_object_get(a, "email")),
                       json_string_value(json_object_get(a, "date")));
                printf("Committer: %s <%s>  %s\n", json_string_value(json_object_get(m, "name")),
                       json_string_value(json_object_get(m, "email")),
                       json_string_value(json_object_get(m, "date")));
                printf("File:      %s%s\n\n", json_string_value(json_object_get(c, "path")),
                       json_is_true(json_object_get(c, "deleted")) ? " (deleted)" : "");
                const char *msg = json_string_value(json_object_get(c, "message"));
                for (const char *p = msg; *p;) {
                        size_t len = strcspn(p, "\n");
                        printf("%s%.*s\n", len ? "    " : "", (int)len, p);
                        p += len + (p[len] == '\n');
                }
                json_t *applied = json_object_get(c, "applied");
                if (json_array_size(applied) == 0)
                        printf("\n  vcm: nothing applied from this version\n");
                else
                        printf("\n  vcm applied:\n");
                json_array_foreach(applied, k, e)
                        print_entry(e);
                printf("\n");
        }
        json_t *other = json_object_get(h, "other");
        if (json_array_size(other) > 0)
                printf("Applied from specs outside this history (a directory source, or "
                       "rewritten history):\n");
        json_array_foreach(other, k, e)
                print_entry(e);
}

static int run_history(vcm_cli_opts *opts) {
        if (opts->n_args != 1) {
                fprintf(stderr, "vcm history: name one cluster. Run 'vcm history --help'.\n");
                return 64;
        }
        const char *name = opts->args[0];
        _cleanup_(cli_source_freep) vcm_source *src = NULL;
        if (cli_open_source(opts, &src) < 0)
                return 1;
        if (!vcm_source_is_git(src)) {
                fprintf(stderr, "vcm history: %s is a directory; history is read from git: give "
                        "--source URL, or a repository with --ref BRANCH\n",
                        vcm_source_describe(src));
                return 1;
        }
        /* Problems in the specs do not matter here: only the file names are needed. */
        vcm_diags diags = {};
        _cleanup_repo_ vcm_repo *repo = NULL;
        char *error = NULL;
        int r = vcm_source_load(src, &diags, &repo, &error);
        vcm_diags_clear(&diags);
        if (r < 0) {
                fprintf(stderr, "vcm history: %s\n", error ? error : strerror(-r));
                free(error);
                return 1;
        }
        char *paths[3];
        size_t n_paths = cluster_paths(repo, name, paths);
        vcm_source_commit *log = NULL;
        size_t n = 0;
        r = vcm_source_log(src, (const char *const *)paths, n_paths, &log, &n, &error);
        if (r < 0) {
                fprintf(stderr, "vcm history: %s\n", error ? error : strerror(-r));
                free(error);
        } else if (n == 0) {
                fprintf(stderr, "vcm history: no commit of %s touched %s: is '%s' a cluster of "
                        "this source?\n", vcm_source_describe(src), paths[0], name);
        }
        int ret = 1;
        if (r == 0 && n > 0) {
                json_t *journal = journal_read(opts->state_dir, name);
                json_t *h = history_build(src, name, log, n, journal);
                json_decref(journal);
                if (opts->output == VCM_OUTPUT_JSON) {
                        json_dumpf(h, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                        printf("\n");
                } else {
                        print_text(h);
                }
                json_decref(h);
                ret = 0;
        }
        vcm_source_commits_free(log, n);
        for (size_t i = 0; i < n_paths; i++)
                free(paths[i]);
        return ret;
}

const vcm_command cli_cmd_history = {
        .name = "history",
        .summary = "a cluster's spec changes from git next to what vcm applied (audit trail)",
        .usage = "Usage: vcm history CLUSTER --source SRC [--ref REF] [--state-dir DIR] [-o json]\n"
                 "\n"
                 "Every commit of the git source that changed the cluster's spec file (found by\n"
                 "metadata.name; clusters/CLUSTER.yaml once the file is gone), newest first: its\n"
                 "author, committer, dates, message, and the merge that brought it into REF\n"
                 "(first-parent history). Under each commit, the steps vcm applied while that\n"
                 "version was in force, from DIR/journal.jsonl: time, action, resource, result and\n"
                 "the spec commit applied. Works from the git history and the journal alone.\n"
                 "\n"
                 "Options:\n"
                 "  --source SRC     a git URL (file://, git://, ssh://, https://) or repository\n"
                 "  --ref REF        branch or tag (default: the remote's HEAD)\n"
                 "  --ssh-key FILE   private key for ssh:// sources\n"
                 "  --state-dir DIR  where the journal and the clone live (default /var/lib/vcm)\n"
                 "  -o json          one JSON object: {cluster, source, commits: [{commit,\n"
                 "                   author, committer, message, path, deleted, merge, applied:\n"
                 "                   [journal lines]}], other: [journal lines of other commits]}\n"
                 "\n"
                 "Exit: 0 printed, 1 the source cannot be read or no commit touched the cluster,\n"
                 "64 usage error.\n",
        .run = run_history,
};
