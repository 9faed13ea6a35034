/* Watching a source with inotify: a directory tree (site.yaml, clusters/, rolls/), or the refs
 * of a local git repository (HEAD, packed-refs, refs/ and every directory under it), so that an
 * edit, a commit or a push into it wakes the reconcile loop at once.
 *
 * The descriptor fires for every change, several times for one save or one commit (an editor's
 * temporary file and rename, git's lock files): debouncing is the loop's job, e.g. wait until
 * the descriptor stays quiet for a short while before loading. A wake-up that changed nothing
 * loads the same tree (or the same commit) again, which is harmless. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source_internal.h"

#define FILE_EVENTS                                                                                \
        (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF |   \
         IN_MOVE_SELF)
/* The git directory itself: only renames onto and deletions of HEAD and packed-refs matter
 * (git writes X.lock and renames it); the index and logs change far more often. */
#define GITDIR_EVENTS (IN_MOVED_TO | IN_DELETE | IN_ONLYDIR)

static int remember(vcm_source *s, int wd, const char *path) {
        for (size_t i = 0; i < s->n_wds; i++)
                if (s->wds[i] == wd)
                        return 0;
        if (s->n_wds == s->cap_wds) {
                size_t c = s->cap_wds ? s->cap_wds * 2 : 8;
                int *w = realloc(s->wds, c * sizeof(*w));
                if (!w)
                        return -ENOMEM;
                s->wds = w;
                char **p = realloc(s->wd_paths, c * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                s->wd_paths = p;
                s->cap_wds = c;
        }
        char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        s->wds[s->n_wds] = wd;
        s->wd_paths[s->n_wds++] = copy;
        return 0;
}

int source_watch_add(vcm_source *s, const char *path, bool recurse) {
        int wd = inotify_add_watch(s->watch_fd, path, FILE_EVENTS | IN_ONLYDIR);
        if (wd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        int r = remember(s, wd, path);
        if (r < 0 || !recurse)
                return r;
        DIR *d = opendir(path);
        if (!d)
                return 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                char *sub = source_strf("%s/%s", path, de->d_name);
                if (!sub) {
                        r = -ENOMEM;
                        break;
                }
                struct stat st;
                if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                        r = source_watch_add(s, sub, true);
                free(sub);
        }
        closedir(d);
        return r;
}

static int watch_setup(vcm_source *s) {
        if (s->git && !s->local_gitdir)
                return -EOPNOTSUPP;
        s->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (s->watch_fd < 0)
                return -errno;
        int r;
        if (s->git) {
                int wd = inotify_add_watch(s->watch_fd, s->local_gitdir, GITDIR_EVENTS);
                r = wd < 0 ? -errno : remember(s, wd, s->local_gitdir);
                char *refs = r == 0 ? source_strf("%s/refs", s->local_gitdir) : NULL;
                if (r == 0)
                        r = refs ? source_watch_add(s, refs, true) : -ENOMEM;
                free(refs);
        } else {
                char *clusters = source_strf("%s/clusters", s->dir);
                char *rolls = source_strf("%s/rolls", s->dir);
                r = clusters && rolls ? source_watch_add(s, s->dir, false) : -ENOMEM;
                if (r == 0)
                        r = source_watch_add(s, clusters, false);
                if (r == 0)
                        r = source_watch_add(s, rolls, false);
                free(clusters);
                free(rolls);
        }
        if (r < 0) {
                close(s->watch_fd);
                s->watch_fd = -1;
        }
        return r;
}

int vcm_source_watch_fd(vcm_source *s) {
        if (s->watch_fd < 0 && watch_setup(s) < 0)
                return -1;
        return s->watch_fd;
}

static const char *wd_path(const vcm_source *s, int wd) {
        for (size_t i = 0; i < s->n_wds; i++)
                if (s->wds[i] == wd)
                        return s->wd_paths[i];
        return NULL;
}

/* A directory created (or moved in) under a watched one: clusters/ or rolls/ of a directory
 * source, any directory under refs/ of a repository (a branch named team/x). */
static void watch_new_dir(vcm_source *s, const struct inotify_event *ev) {
        const char *parent = wd_path(s, ev->wd);
        if (!parent || !ev->len)
                return;
        bool want;
        if (s->git)
                want = strcmp(parent, s->local_gitdir) != 0;
        else
                want = !strcmp(parent, s->dir) &&
                       (!strcmp(ev->name, "clusters") || !strcmp(ev->name, "rolls"));
        if (!want)
                return;
        char *path = source_strf("%s/%s", parent, ev->name);
        if (path)
                (void)source_watch_add(s, path, s->git);
        free(path);
}

void vcm_source_watch_drain(vcm_source *s) {
        if (s->watch_fd < 0)
                return;
        char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
        for (;;) {
                ssize_t n = read(s->watch_fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;
                        if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
                                watch_new_dir(s, ev);
                        p += sizeof(*ev) + ev->len;
                }
        }
}
