/* Shared by specs/source*.c: the source object. Only specs/source_git*.c include git2.h. */
#ifndef VCM_SOURCE_INTERNAL_H
#define VCM_SOURCE_INTERNAL_H

#include "source.h"

struct vcm_source {
        bool git;
        char *describe;         /* "dir:/path" or "git:URL@ref" */
        char *identity;         /* describe, with a directory's real path */
        char *dir;              /* directory source: the tree */

        /* git */
        char *url;              /* as libgit2 takes it (a local path made absolute) */
        char *local_gitdir;     /* local repositories: their git directory, for the watch */
        char *ref;              /* NULL: the remote's HEAD */
        char *ssh_key;
        char *state_dir;
        char *clone_dir;        /* STATE/sources/<hash of url> */
        void *repo;             /* git_repository of the clone, opened on first load */
        char commit[41];        /* last loaded ("" before) */
        char replaced[41];
        bool rewritten;

        /* watch: one inotify descriptor; wds of the directories it watches, with their paths so
         * that new subdirectories (clusters/, rolls/, refs/heads/team/) are added on drain */
        int watch_fd;
        int *wds;
        char **wd_paths;
        size_t n_wds, cap_wds;
};

/* source_git.c */
int source_git_open(vcm_source *s, const char *spec, const vcm_source_opts *opts, bool *ret_git,
                    char **ret_error);
void source_git_close(vcm_source *s);
int source_git_load(vcm_source *s, vcm_diags *diags, vcm_repo **ret_repo, char **ret_error);
int source_git_load_at(vcm_source *s, const char *ref, vcm_diags *diags, vcm_repo **ret_repo,
                       char **ret_error);
/* The tree of `dir` at REF of the git repository holding `dir` (validate --base). */
int source_git_load_dir_at(const char *dir, const char *ref, vcm_diags *diags,
                           vcm_repo **ret_repo, char **ret_error);

/* source_watch.c: add an inotify watch on `path` (and, with `recurse`, its subdirectories). */
int source_watch_add(vcm_source *s, const char *path, bool recurse);

/* printf into a new string; NULL on ENOMEM. */
char *source_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
