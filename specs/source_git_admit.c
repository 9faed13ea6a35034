/* When each cluster's file entered the branch, for the rule that the reservation merged first
 * keeps contested capacity (reconciler/capacity.h, vcm_capacity_rank_default).
 *
 * A file is admitted at the oldest first-parent commit of the branch from which on it has been in
 * the tree without a gap (a file deleted and added again is admitted anew). The walk goes from the
 * tip back along first parents and looks a file up only where the tree of its directory changed,
 * so it costs a few lookups per commit that touched cluster files, and stops once every file's
 * start is known. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source_git_internal.h"

typedef struct admit_file {
        vcm_cluster *cluster;
        char *dir;       /* "clusters" of "clusters/a.yaml": its subtree id tells if it changed */
        git_oid dir_id;  /* in the newest commit seen so far */
        size_t since;    /* index in the chain (0 = tip) of the oldest commit holding the file */
        bool done;
} admit_file;

static int chain_collect(git_repository *repo, const git_oid *tip, git_oid **ret, size_t *ret_n) {
        git_revwalk *w = NULL;
        if (git_revwalk_new(&w, repo) < 0)
                return -EIO;
        git_revwalk_simplify_first_parent(w);
        if (git_revwalk_push(w, tip) < 0) {
                git_revwalk_free(w);
                return -EIO;
        }
        git_oid *ids = NULL, id;
        size_t n = 0, cap = 0;
        while (git_revwalk_next(&id, w) == 0) {
                if (n == cap) {
                        cap = cap ? 2 * cap : 64;
                        git_oid *grown = realloc(ids, cap * sizeof(*ids));
                        if (!grown) {
                                free(ids);
                                git_revwalk_free(w);
                                return -ENOMEM;
                        }
                        ids = grown;
                }
                ids[n++] = id;
        }
        git_revwalk_free(w);
        *ret = ids;
        *ret_n = n;
        return 0;
}

/* One commit's tree, read once however many files ask, with the last directory looked up
 * (cluster files mostly share "clusters"). */
typedef struct commit_tree {
        git_tree *tree;
        const char *dir;
        bool dir_found;
        git_oid dir_id;
} commit_tree;

static int commit_tree_open(git_repository *repo, const git_oid *id, commit_tree *ret) {
        git_commit *c = NULL;
        *ret = (commit_tree){ 0 };
        int r = git_commit_lookup(&c, repo, id) == 0 && git_commit_tree(&ret->tree, c) == 0 ? 0
                                                                                          : -EIO;
        git_commit_free(c);
        return r;
}

static void commit_tree_close(commit_tree *t) {
        git_tree_free(t->tree);
        *t = (commit_tree){ 0 };
}

/* The id of `path`'s entry; false when it is not there. */
static bool entry_id(commit_tree *t, const char *path, git_oid *ret) {
        git_tree_entry *e = NULL;
        bool found = git_tree_entry_bypath(&e, t->tree, path) == 0;
        if (found)
                *ret = *git_tree_entry_id(e);
        git_tree_entry_free(e);
        return found;
}

static bool dir_id(commit_tree *t, const char *dir, git_oid *ret) {
        if (!t->dir || strcmp(t->dir, dir) != 0) {
                t->dir = dir;
                t->dir_found = entry_id(t, dir, &t->dir_id);
        }
        *ret = t->dir_id;
        return t->dir_found;
}

static char *dir_of(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? strndup(path, (size_t)(slash - path)) : strdup("");
}

int source_git_admit(git_repository *repo, const git_oid *tip, vcm_repo *out) {
        if (out->n_clusters == 0)
                return 0;
        git_oid *chain = NULL;
        size_t n = 0;
        int r = chain_collect(repo, tip, &chain, &n);
        if (r < 0)
                return r;
        admit_file *files = calloc(out->n_clusters, sizeof(*files));
        if (!files) {
                free(chain);
                return -ENOMEM;
        }
        size_t open = 0;
        commit_tree t;
        if (commit_tree_open(repo, &chain[0], &t) < 0) {
                free(files);
                free(chain);
                return -EIO;
        }
        for (size_t i = 0; i < out->n_clusters; i++) {
                admit_file *f = &files[i];
                f->cluster = &out->clusters[i];
                f->dir = dir_of(f->cluster->file);
                /* A file at the top level has no directory entry: look it up every time. */
                f->done = !f->dir || !f->cluster->file;
                if (!f->done && *f->dir && !dir_id(&t, f->dir, &f->dir_id))
                        f->done = true; /* not in the tip's tree: not from this commit */
                open += !f->done;
        }
        commit_tree_close(&t);
        for (size_t k = 1; k < n && open > 0; k++) {
                if (commit_tree_open(repo, &chain[k], &t) < 0)
                        break; /* unreadable history: admitted where the walk got to */
                for (size_t i = 0; i < out->n_clusters; i++) {
                        admit_file *f = &files[i];
                        if (f->done)
                                continue;
                        git_oid d_id, file_id;
                        if (*f->dir) {
                                if (!dir_id(&t, f->dir, &d_id)) {
                                        f->done = true; /* the directory did not exist yet */
                                        open--;
                                        continue;
                                }
                                if (git_oid_equal(&d_id, &f->dir_id)) {
                                        f->since = k; /* same directory tree: the file is there */
                                        continue;
                                }
                                f->dir_id = d_id;
                        }
                        if (entry_id(&t, f->cluster->file, &file_id)) {
                                f->since = k;
                        } else {
                                f->done = true;
                                open--;
                        }
                }
                commit_tree_close(&t);
        }
        for (size_t i = 0; i < out->n_clusters; i++) {
                admit_file *f = &files[i];
                if (f->dir && f->cluster->file) {
                        char hex[GIT_OID_HEXSZ + 1];
                        git_oid_tostr(hex, sizeof(hex), &chain[f->since]);
                        free(f->cluster->admitted_commit);
                        f->cluster->admitted_commit = strdup(hex);
                        /* First-parent depth: the root commit is 1, later commits count up. */
                        f->cluster->admitted = f->cluster->admitted_commit ? n - f->since : 0;
                }
                free(f->dir);
        }
        free(files);
        free(chain);
        return 0;
}
