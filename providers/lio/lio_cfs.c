/* configfs primitives. On a scratch tree (tests) they also make the directories and files
 * configfs would make by itself, and rmdir removes such default contents. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lio_internal.h"

char *lio_path(const lio_root *root, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *rel = NULL;
        if (vasprintf(&rel, fmt, ap) < 0)
                abort();
        va_end(ap);
        char *p = xasprintf("%s/%s", root->dir, rel);
        free(rel);
        return p;
}

static int mkdir_parents(const char *abs) {
        _cleanup_free_ char *p = xstrdup(abs);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        return 0;
}

int cfs_mkdir(const lio_root *root, const char *abs, vcm_error *err) {
        if (root->scratch)
                mkdir_parents(abs);
        if (mkdir(abs, 0755) == 0 || errno == EEXIST)
                return 0;
        int r = -errno;
        vcm_error_set(err, "mkdir %s: %s", abs, strerror(-r));
        return r;
}

static int rm_tree(const char *abs) {
        char **e = cfs_list(abs);
        for (char **x = e; x && *x; x++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", abs, *x);
                struct stat st;
                if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                        rm_tree(p);
                else
                        unlink(p);
        }
        strv_free(e);
        return rmdir(abs) < 0 ? -errno : 0;
}

int cfs_rmdir(const lio_root *root, const char *abs, vcm_error *err) {
        if (rmdir(abs) == 0 || errno == ENOENT)
                return 0;
        int r = -errno;
        if (root->scratch && r == -ENOTEMPTY) {
                /* configfs removes a group's default children itself. */
                r = rm_tree(abs);
                if (r == 0)
                        return 0;
        }
        vcm_error_set(err, "rmdir %s: %s", abs, strerror(-r));
        return r;
}

int cfs_write(const lio_root *root, const char *abs, const char *value, vcm_error *err) {
        int flags = O_WRONLY | O_TRUNC | O_CLOEXEC;
        if (root->scratch) {
                mkdir_parents(abs);
                flags |= O_CREAT;
        }
        int fd = open(abs, flags, 0644);
        if (fd < 0) {
                int r = -errno;
                vcm_error_set(err, "open %s: %s", abs, strerror(-r));
                return r;
        }
        size_t len = strlen(value);
        ssize_t n = write(fd, value, len);
        int r = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r < 0)
                vcm_error_set(err, "write '%s' to %s: %s", value, abs, strerror(-r));
        return r;
}

int cfs_symlink(const char *target, const char *abs, vcm_error *err) {
        if (symlink(target, abs) == 0 || errno == EEXIST)
                return 0;
        int r = -errno;
        vcm_error_set(err, "symlink %s -> %s: %s", abs, target, strerror(-r));
        return r;
}

int cfs_unlink(const char *abs, vcm_error *err) {
        if (unlink(abs) == 0 || errno == ENOENT)
                return 0;
        int r = -errno;
        vcm_error_set(err, "unlink %s: %s", abs, strerror(-r));
        return r;
}

char *cfs_read(const char *abs) {
        int fd = open(abs, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        char b[4096];
        ssize_t n = read(fd, b, sizeof(b) - 1);
        close(fd);
        if (n < 0)
                return NULL;
        while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == ' ' || b[n - 1] == '\0'))
                n--;
        b[n] = '\0';
        return xstrdup(b);
}

bool cfs_exists(const char *abs) {
        struct stat st;
        return lstat(abs, &st) == 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

char **cfs_list(const char *abs) {
        size_t n = 0;
        char **v = xcalloc(1, sizeof(char *));
        DIR *d = opendir(abs);
        if (!d)
                return v;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                        continue;
                v = xrealloc(v, (n + 2) * sizeof(char *));
                v[n++] = xstrdup(e->d_name);
                v[n] = NULL;
        }
        closedir(d);
        qsort(v, n, sizeof(char *), cmp_str);
        return v;
}

int cfs_find_link(const char *abs, char **ret_name, char **ret_target) {
        _cleanup_strv_free_ char **e = cfs_list(abs);
        for (char **x = e; *x; x++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", abs, *x);
                struct stat st;
                if (lstat(p, &st) < 0 || !S_ISLNK(st.st_mode))
                        continue;
                char t[4096];
                ssize_t n = readlink(p, t, sizeof(t) - 1);
                if (n < 0)
                        continue;
                t[n] = '\0';
                *ret_name = xstrdup(*x);
                *ret_target = xstrdup(t);
                return 0;
        }
        return -ENOENT;
}

const char *cfs_tail2(const char *path) {
        const char *end = path + strlen(path);
        while (end > path && end[-1] == '/')
                end--;
        int slashes = 0;
        for (const char *p = end; p > path; p--)
                if (p[-1] == '/' && ++slashes == 2)
                        return p;
        return path;
}

char *lio_backstore_find(const lio_root *root, const char *name) {
        _cleanup_free_ char *core = lio_path(root, "core");
        _cleanup_strv_free_ char **hbas = cfs_list(core);
        for (char **h = hbas; *h; h++) {
                if (strncmp(*h, "iblock_", 7) != 0)
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s/%s", core, *h, name);
                struct stat st;
                if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
                        return xasprintf("core/%s/%s", *h, name);
        }
        return NULL;
}

void lio_each_backstore(const lio_root *root, void (*fn)(void *ctx, const char *rel,
                                                         const char *name), void *ctx) {
        _cleanup_free_ char *core = lio_path(root, "core");
        _cleanup_strv_free_ char **hbas = cfs_list(core);
        for (char **h = hbas; *h; h++) {
                if (strncmp(*h, "iblock_", 7) != 0)
                        continue;
                _cleanup_free_ char *hd = xasprintf("%s/%s", core, *h);
                _cleanup_strv_free_ char **names = cfs_list(hd);
                for (char **n = names; *n; n++)
                        if (strncmp(*n, VCM_LIO_BACKSTORE_PREFIX,
                                    strlen(VCM_LIO_BACKSTORE_PREFIX)) == 0) {
                                _cleanup_free_ char *rel = xasprintf("core/%s/%s", *h, *n);
                                fn(ctx, rel, *n);
                        }
        }
}
