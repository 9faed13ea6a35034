/* Shared by specs/source_git*.c only: the libgit2 side of the source. */
#ifndef VCM_SOURCE_GIT_INTERNAL_H
#define VCM_SOURCE_GIT_INTERNAL_H

#include <git2.h>

#include "source_internal.h"

/* Fetch callbacks' state: which credential was tried, and why a host key was refused. */
typedef struct git_auth {
        const vcm_source *s;
        int attempt;            /* credential callback calls so far */
        bool exhausted;         /* every credential was offered and refused */
        char *tried;            /* what was offered, for the message */
        char *hostkey_error;    /* set when the host key check refused the server */
} git_auth;

/* Fill the callbacks of a fetch (credentials and host key check) with `auth` as payload. */
void git_auth_setup(git_auth *auth, const vcm_source *s, git_remote_callbacks *cb);
void git_auth_done(git_auth *auth);

/* source_git_admit.c: set each cluster's `admitted` and `admitted_commit` from the first-parent
 * history of `tip` (when its file entered the branch). */
int source_git_admit(git_repository *repo, const git_oid *tip, vcm_repo *out);

/* libgit2's last error message, or `fallback`. */
const char *git_last_message(const char *fallback);

#endif
