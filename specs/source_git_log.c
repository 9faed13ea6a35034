/* vcm_source_log: the commits that changed a cluster's file, for `vcm history`. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source_git_internal.h"

void vcm_source_commits_free(vcm_source_commit *c, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(c[i].id);
                free(c[i].author);
                free(c[i].author_email);
                free(c[i].committer);
                free(c[i].committer_email);
                free(c[i].message);
                free(c[i].path);
                free(c[i].merge);
        }
        free(c);
}

/* The blob id of `path` in the commit's tree, or a zero id when the file is absent. */
static void path_id(git_commit *c, const char *path, git_oid *ret) {
        git_tree *tree = NULL;
        git_tree_entry *e = NULL;
        memset(ret, 0, sizeof(*ret));
        if (git_commit_tree(&tree, c) == 0 && git_tree_entry_bypath(&e, tree, path) == 0)
                git_oid_cpy(ret, git_tree_entry_id(e));
        git_tree_entry_free(e);
        git_tree_free(tree);
}

/* The path among `paths` the commit changed: against its parent, or for a merge against every
 * parent (a merge that only brought a change in is listed as the change's merge, not itself). */
static const char *changed_path(git_commit *c, const char *const *paths, size_t n_paths,
                                bool *ret_deleted) {
        unsigned np = git_commit_parentcount(c);
        for (size_t i = 0; i < n_paths; i++) {
                git_oid mine;
                path_id(c, paths[i], &mine);
                bool differs_all = true;
                for (unsigned p = 0; p < (np ? np : 1) && differs_all; p++) {
                        git_oid theirs;
                        memset(&theirs, 0, sizeof(theirs));
                        git_commit *parent = NULL;
                        if (np && git_commit_parent(&parent, c, p) == 0)
                                path_id(parent, paths[i], &theirs);
                        git_commit_free(parent);
                        differs_all = !git_oid_equal(&mine, &theirs);
                }
                if (differs_all) {
                        *ret_deleted = git_oid_is_zero(&mine);
                        return paths[i];
                }
        }
        return NULL;
}

typedef struct chain {
        git_oid *ids;           /* first-parent chain from the tip, newest first */
        size_t n;
} chain;

static int chain_build(git_repository *repo, const git_oid *tip, chain *ret) {
        git_revwalk *w = NULL;
        if (git_revwalk_new(&w, repo) < 0)
                return -ENOMEM;
        git_revwalk_simplify_first_parent(w);
        git_revwalk_push(w, tip);
        size_t cap = 0;
        git_oid id;
        int r = 0;
        while (git_revwalk_next(&id, w) == 0) {
                if (ret->n == cap) {
                        cap = cap ? cap * 2 : 64;
                        git_oid *a = realloc(ret->ids, cap * sizeof(*a));
                        if (!a) {
                                r = -ENOMEM;
                                break;
                        }
                        ret->ids = a;
                }
                ret->ids[ret->n++] = id;
        }
        git_revwalk_free(w);
        return r;
}

/* The oldest commit of the first-parent chain that reaches `c` (reachability only grows toward
 * the tip, so a binary search finds it): the merge that brought `c` in. NULL when `c` is on the
 * chain itself. */
static char *merge_of(git_repository *repo, const chain *ch, const git_oid *c) {
        for (size_t i = 0; i < ch->n; i++)
                if (git_oid_equal(&ch->ids[i], c))
                        return NULL;
        size_t lo = 0, hi = ch->n;  /* ids[lo] reaches c; find the largest such index */
        if (ch->n == 0 || git_graph_descendant_of(repo, &ch->ids[0], c) != 1)
                return NULL;
        while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                if (git_graph_descendant_of(repo, &ch->ids[mid], c) == 1)
                        lo = mid;
                else
                        hi = mid;
        }
        char *s = malloc(GIT_OID_HEXSZ + 1);
        if (s)
                git_oid_tostr(s, GIT_OID_HEXSZ + 1, &ch->ids[lo]);
        return s;
}

static char *dup_or_empty(const char *s) {
        return strdup(s ? s : "");
}

static int fill(git_repository *repo, const chain *ch, git_commit *c, const char *path,
                bool deleted, vcm_source_commit *e) {
        const git_signature *a = git_commit_author(c), *k = git_commit_committer(c);
        e->id = malloc(GIT_OID_HEXSZ + 1);
        if (e->id)
                git_oid_tostr(e->id, GIT_OID_HEXSZ + 1, git_commit_id(c));
        e->author = dup_or_empty(a->name);
        e->author_email = dup_or_empty(a->email);
        e->author_time = a->when.time;
        e->author_offset = a->when.offset;
        e->committer = dup_or_empty(k->name);
        e->committer_email = dup_or_empty(k->email);
        e->commit_time = k->when.time;
        e->commit_offset = k->when.offset;
        e->message = dup_or_empty(git_commit_message(c));
        e->path = strdup(path);
        e->deleted = deleted;
        e->merge = merge_of(repo, ch, git_commit_id(c));
        if (!e->id || !e->author || !e->author_email || !e->committer || !e->committer_email ||
            !e->message || !e->path)
                return -ENOMEM;
        return 0;
}

int vcm_source_log(vcm_source *s, const char *const *paths, size_t n_paths,
                   vcm_source_commit **ret_commits, size_t *ret_n, char **ret_error) {
        if (!s->git) {
                *ret_error = source_strf("%s is a directory: history needs a git source (a URL, "
                                         "or a repository with --ref)", s->describe);
                return -EOPNOTSUPP;
        }
        if (!s->repo || !s->commit[0]) {
                *ret_error = source_strf("%s: load the source before reading its history",
                                         s->describe);
                return -EINVAL;
        }
        git_repository *repo = s->repo;
        git_oid tip;
        git_oid_fromstr(&tip, s->commit);
        chain ch = {};
        git_revwalk *w = NULL;
        int r = chain_build(repo, &tip, &ch);
        if (r == 0 && git_revwalk_new(&w, repo) < 0)
                r = -ENOMEM;
        vcm_source_commit *out = NULL;
        size_t n = 0, cap = 0;
        if (r == 0) {
                git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
                git_revwalk_push(w, &tip);
        }
        git_oid id;
        while (r == 0 && git_revwalk_next(&id, w) == 0) {
                git_commit *c = NULL;
                if (git_commit_lookup(&c, repo, &id) < 0) {
                        r = -EIO;
                        break;
                }
                bool deleted = false;
                const char *path = changed_path(c, paths, n_paths, &deleted);
                if (path) {
                        if (n == cap) {
                                cap = cap ? cap * 2 : 16;
                                vcm_source_commit *a = realloc(out, cap * sizeof(*a));
                                if (!a)
                                        r = -ENOMEM;
                                else
                                        out = a;
                        }
                        if (r == 0) {
                                memset(&out[n], 0, sizeof(out[n]));
                                r = fill(repo, &ch, c, path, deleted, &out[n++]);
                        }
                }
                git_commit_free(c);
        }
        git_revwalk_free(w);
        free(ch.ids);
        if (r < 0) {
                vcm_source_commits_free(out, n);
                *ret_error = source_strf("cannot read the history of %s: %s", s->describe,
                                         strerror(-r));
                return r;
        }
        *ret_commits = out;
        *ret_n = n;
        return 0;
}

int vcm_source_contains(vcm_source *s, const char *commit, const char *ancestor) {
        if (!s->git)
                return -EOPNOTSUPP;
        git_object *c = NULL, *a = NULL;
        int r = 0;
        if (s->repo && git_revparse_single(&c, s->repo, commit) == 0 &&
            git_revparse_single(&a, s->repo, ancestor) == 0)
                r = git_oid_equal(git_object_id(c), git_object_id(a)) ||
                    git_graph_descendant_of(s->repo, git_object_id(c), git_object_id(a)) == 1;
        git_object_free(c);
        git_object_free(a);
        git_error_clear();
        return r;
}
