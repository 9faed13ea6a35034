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

/* Readable when the source may have changed (inotify on a directory tree, or on the refs of a
 * local repository); -1 when the source must be polled. Drain after each wake-up. */
int vcm_source_watch_fd(vcm_source *s);
void vcm_source_watch_drain(vcm_source *s);

#endif
