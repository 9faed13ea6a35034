/* vcm_source: a directory or a git repository, behind one interface (specs/source.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source_internal.h"

char *source_strf(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *s = NULL;
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        return n < 0 ? NULL : s;
}

int vcm_source_open(const char *spec, const vcm_source_opts *opts, vcm_source **ret,
                    char **ret_error) {
        vcm_source_opts none = {};
        if (!opts)
                opts = &none;
        vcm_source *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->watch_fd = -1;
        bool git = false;
        int r = source_git_open(s, spec, opts, &git, ret_error);
        if (r < 0) {
                vcm_source_free(s);
                return r;
        }
        if (!git) {
                struct stat st;
                if (stat(spec, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        r = stat(spec, &st) < 0 ? -errno : -ENOTDIR;
                        *ret_error = source_strf("cannot read the spec source '%s': %s", spec,
                                                 strerror(-r));
                        vcm_source_free(s);
                        return r;
                }
                if (opts->ref) {
                        *ret_error = source_strf("--ref %s needs a git source, and '%s' is a "
                                                 "directory that holds no git repository",
                                                 opts->ref, spec);
                        vcm_source_free(s);
                        return -EINVAL;
                }
                s->dir = strdup(spec);
                s->describe = source_strf("dir:%s", spec);
                _cleanup_free_ char *real = realpath(spec, NULL);
                s->identity = source_strf("dir:%s", real ? real : spec);
                if (!s->dir || !s->describe || !s->identity) {
                        vcm_source_free(s);
                        return -ENOMEM;
                }
        }
        *ret = s;
        return 0;
}

void vcm_source_free(vcm_source *s) {
        if (!s)
                return;
        if (s->git)
                source_git_close(s);
        if (s->watch_fd >= 0)
                close(s->watch_fd);
        for (size_t i = 0; i < s->n_wds; i++)
                free(s->wd_paths[i]);
        free(s->wds);
        free(s->wd_paths);
        free(s->describe);
        free(s->identity);
        free(s->dir);
        free(s->url);
        free(s->local_gitdir);
        free(s->ref);
        free(s->ssh_key);
        free(s->state_dir);
        free(s->clone_dir);
        free(s);
}

int vcm_source_load(vcm_source *s, vcm_diags *diags, vcm_repo **ret_repo, char **ret_error) {
        if (s->git)
                return source_git_load(s, diags, ret_repo, ret_error);
        int r = vcm_load_dir(s->dir, diags, ret_repo);
        if (r < 0)
                *ret_error = source_strf("cannot read the spec source '%s': %s", s->dir,
                                         strerror(-r));
        return r;
}

int vcm_source_load_at(vcm_source *s, const char *ref, vcm_diags *diags, vcm_repo **ret_repo,
                       char **ret_error) {
        if (s->git)
                return source_git_load_at(s, ref, diags, ret_repo, ret_error);
        return source_git_load_dir_at(s->dir, ref, diags, ret_repo, ret_error);
}

const char *vcm_source_describe(const vcm_source *s) {
        return s->describe;
}

const char *vcm_source_identity(const vcm_source *s) {
        return s->identity ? s->identity : s->describe;
}

bool vcm_source_is_git(const vcm_source *s) {
        return s->git;
}

void vcm_source_get_status(const vcm_source *s, vcm_source_status *ret) {
        *ret = (vcm_source_status){
                .commit = s->commit[0] ? s->commit : NULL,
                .replaced = s->rewritten ? s->replaced : NULL,
                .rewritten = s->rewritten,
        };
}
