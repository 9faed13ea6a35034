/* Where specs come from: a directory, or a git repository read with libgit2 (file://, git://,
 * ssh://, https:// URLs, or a local repository path, with a branch or tag).
 *
 * A git source is cloned once into the state directory and fetched afterwards; the spec tree of
 * the fetched commit is read straight from the object database (no checkout). A failed fetch or a
 * missing ref keeps the last good commit in force and says why (see vcm_source_status).
 *
 * Contract for the reconcile loop: vcm_source_watch_fd() gives a descriptor to poll; when it is
 * readable, call vcm_source_watch_drain() and then vcm_source_load(). Sources that cannot be
 * watched (remote URLs) return -1 and are polled at the loop's --interval. */
#ifndef VCM_SOURCE_H
#define VCM_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "specs/load.h"

typedef struct vcm_source vcm_source;

typedef struct vcm_source_opts {
        const char *ref;        /* branch or tag (git); NULL: the remote's default branch */
        const char *state_dir;  /* where git sources are cloned (STATE/sources/<hash>) */
        const char *ssh_key;    /* private key file for ssh://; NULL: ssh agent, then ~/.ssh */
} vcm_source_opts;

/* `spec` is a directory path or a git URL/path (a path is git when it holds a repository and
 * opts->ref is given, or when it is a bare repository). Does no I/O beyond checking the kind. */
int vcm_source_open(const char *spec, const vcm_source_opts *opts, vcm_source **ret,
                    char **ret_error);
void vcm_source_free(vcm_source *s);

/* Fetch if remote, then load the current tree. On success *ret_repo is set (repo->commit is the
 * commit id for git, NULL for a directory) and load problems go to diags. On failure (-errno)
 * *ret_error says what and *ret_repo is untouched: the caller keeps the last good repo. */
int vcm_source_load(vcm_source *s, vcm_diags *diags, vcm_repo **ret_repo, char **ret_error);

/* "dir:/path" or "git:URL@ref": for messages and status. */
const char *vcm_source_describe(const vcm_source *s);
/* The same source whatever path names it: describe() with a directory's real path (a git
 * source's URL is already absolute). Two processes compare it to tell whether they read the
 * same specs (`vcm plan` asking the service). */
const char *vcm_source_identity(const vcm_source *s);

/* Readable when the source may have changed (inotify on a directory tree, or on the refs of a
 * local repository); -1 when the source must be polled. Drain after each wake-up. */
int vcm_source_watch_fd(vcm_source *s);
void vcm_source_watch_drain(vcm_source *s);

/* What the last successful vcm_source_load found. `commit` is the full id of the commit loaded
 * last (NULL for a directory or before the first load). A force-push is not an error: the new
 * commit is loaded, and `rewritten` says it does not descend from the one loaded before it
 * (`replaced`), so the caller can report it. The commit loaded last is kept in the clone as
 * refs/vcm/loaded/<ref>, so this holds across runs of vcm, not only within one process. */
typedef struct vcm_source_status {
        const char *commit;
        const char *replaced;   /* set only when rewritten */
        bool rewritten;
} vcm_source_status;
void vcm_source_get_status(const vcm_source *s, vcm_source_status *ret);

bool vcm_source_is_git(const vcm_source *s);

/* Load the tree at REF (branch, tag, remote branch such as origin/main, or commit id) without
 * fetching and without changing the status. For a directory source, REF is read from the git
 * repository holding the directory, at the directory's place in it (for `validate --base`).
 * Sets repo->commit. -ENOENT when REF does not exist, -ENOTDIR when there is no repository. */
int vcm_source_load_at(vcm_source *s, const char *ref, vcm_diags *diags, vcm_repo **ret_repo,
                       char **ret_error);

/* One commit that changed a file, for `vcm history`. Strings are owned by the entry. */
typedef struct vcm_source_commit {
        char *id;                       /* full commit id */
        char *author, *author_email;
        int64_t author_time;            /* Unix seconds */
        int author_offset;              /* minutes east of UTC */
        char *committer, *committer_email;
        int64_t commit_time;
        int commit_offset;
        char *message;                  /* the whole message */
        char *path;                     /* the path it changed (one of the paths asked for) */
        bool deleted;                   /* the commit removed the file */
        char *merge;                    /* first-parent commit of the ref that brought it in
                                         * (a merge), NULL when the commit is on the ref itself */
} vcm_source_commit;

/* Commits reachable from the source's current commit (load first) that changed any of `paths`,
 * newest first. Directory sources: -EOPNOTSUPP with an error saying history needs git. */
int vcm_source_log(vcm_source *s, const char *const *paths, size_t n_paths,
                   vcm_source_commit **ret_commits, size_t *ret_n, char **ret_error);
void vcm_source_commits_free(vcm_source_commit *c, size_t n);

/* 1 when `commit` is `ancestor` or descends from it, 0 when not (or either is unknown here),
 * -EOPNOTSUPP for a directory source. Full or abbreviated ids. */
int vcm_source_contains(vcm_source *s, const char *commit, const char *ancestor);

#endif
