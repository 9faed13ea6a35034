/* vcm_load_files / vcm_load_dir: one file at a time into the model, failures isolated per file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load.h"
#include "load_internal.h"
#include "strpool.h"
#include "yaml_tree.h"

typedef enum file_kind { FILE_OTHER, FILE_SITE, FILE_CLUSTER, FILE_ROLL } file_kind;

static bool has_yaml_suffix(const char *s) {
        size_t n = strlen(s);
        return (n > 5 && strcmp(s + n - 5, ".yaml") == 0) || (n > 4 && strcmp(s + n - 4, ".yml") == 0);
}

static file_kind classify(const char *path) {
        if (strcmp(path, "site.yaml") == 0 || strcmp(path, "site.yml") == 0)
                return FILE_SITE;
        const char *rest;
        file_kind k;
        if (strncmp(path, "clusters/", 9) == 0) {
                rest = path + 9;
                k = FILE_CLUSTER;
        } else if (strncmp(path, "rolls/", 6) == 0) {
                rest = path + 6;
                k = FILE_ROLL;
        } else {
                return FILE_OTHER;
        }
        if (strchr(rest, '/') || rest[0] == '.' || !has_yaml_suffix(rest))
                return FILE_OTHER;
        return k;
}

typedef struct loader {
        vcm_repo *repo;
        vcm_diags *diags;
        size_t cap_clusters, cap_rolls, cap_failed;
        bool saw_site;
        bool oom;
        tz_cache tz;
} loader;

static int push(void **arr, size_t *n, size_t *cap, size_t size) {
        if (*n == *cap) {
                size_t c = *cap ? *cap * 2 : 16;
                void *a = realloc(*arr, c * size);
                if (!a)
                        return -ENOMEM;
                *arr = a;
                *cap = c;
        }
        (*n)++;
        return 0;
}

static void add_failed(loader *l, const char *path) {
        vcm_repo *r = l->repo;
        char *p = strdup(path);
        if (!p || push((void **)&r->failed_files, &r->n_failed_files, &l->cap_failed, sizeof(char *)) < 0) {
                free(p);
                l->oom = true;
                return;
        }
        r->failed_files[r->n_failed_files - 1] = p;
}

/* Parses the file; returns the tree or NULL after reporting why there is none. */
static ytree *parse_file(spec_ctx *c, const vcm_source_file *f) {
        ytree *t = NULL;
        ytree_error err;
        int r = ytree_parse(f->data, f->len, &t, &err);
        if (r == -ENOMEM) {
                c->oom = true;
                return NULL;
        }
        if (r < 0) {
                vcm_diags_error(c->diags, ((vcm_pos){ c->file, err.line, err.column }), "%s", err.message);
                c->n_errors++;
                return NULL;
        }
        if (!ytree_root(t)) {
                vcm_diags_error(c->diags, ((vcm_pos){ c->file, 1, 1 }),
                                "file is empty: a spec needs apiVersion, kind, metadata and spec");
                c->n_errors++;
                ytree_free(t);
                return NULL;
        }
        return t;
}

static void load_one(loader *l, const vcm_source_file *f, file_kind kind) {
        vcm_repo *repo = l->repo;
        const char *file = strpool_intern((strpool **)&repo->strings, f->path);
        if (!file) {
                l->oom = true;
                return;
        }
        spec_ctx c = { .diags = l->diags, .file = file, .tz = &l->tz };
        _cleanup_(ytree_freep) ytree *t = parse_file(&c, f);
        l->oom |= c.oom;

        switch (kind) {
        case FILE_CLUSTER: {
                vcm_cluster cl = { .file = (char *)file };
                if (t)
                        load_cluster(&c, ytree_root(t), &cl);
                if (c.n_errors || c.oom || !cl.name) {
                        cluster_done(&cl);
                        add_failed(l, f->path);
                        break;
                }
                if (push((void **)&repo->clusters, &repo->n_clusters, &l->cap_clusters, sizeof(cl)) < 0) {
                        cluster_done(&cl);
                        l->oom = true;
                        break;
                }
                repo->clusters[repo->n_clusters - 1] = cl;
                break;
        }
        case FILE_ROLL: {
                vcm_roll ro = { .file = (char *)file };
                if (t)
                        load_roll(&c, ytree_root(t), &ro);
                if (c.n_errors || c.oom || !ro.name ||
                    push((void **)&repo->rolls, &repo->n_rolls, &l->cap_rolls, sizeof(ro)) < 0) {
                        roll_done(&ro);
                        break;
                }
                repo->rolls[repo->n_rolls - 1] = ro;
                break;
        }
        case FILE_SITE: {
                if (l->saw_site) {
                        vcm_diags_error(l->diags, ((vcm_pos){ file, 1, 1 }),
                                        "a second site file: keep only site.yaml");
                        break;
                }
                l->saw_site = true;
                vcm_site *s = calloc(1, sizeof(*s));
                if (!s) {
                        l->oom = true;
                        break;
                }
                s->file = (char *)file;
                if (t)
                        load_site(&c, ytree_root(t), s);
                if (c.n_errors || c.oom) {
                        site_done(s);
                        free(s);
                        break;
                }
                repo->site = s;
                break;
        }
        default:
                break;
        }
        l->oom |= c.oom;
}

static int cluster_cmp(const void *a, const void *b) {
        const vcm_cluster *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ? c : strcmp(x->file, y->file);
}

static int roll_cmp(const void *a, const void *b) {
        const vcm_roll *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ? c : strcmp(x->file, y->file);
}

static int str_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The same name in two files: the first file (by path) keeps it, the others fail. */
static void drop_duplicate_clusters(loader *l) {
        vcm_repo *r = l->repo;
        size_t k = 0;
        for (size_t i = 0; i < r->n_clusters; i++) {
                vcm_cluster *c = &r->clusters[i];
                if (k > 0 && strcmp(r->clusters[k - 1].name, c->name) == 0) {
                        vcm_diags_error(l->diags, c->name_pos,
                                        "cluster name '%s' is already used by %s: choose another name",
                                        c->name, r->clusters[k - 1].file);
                        add_failed(l, c->file);
                        cluster_done(c);
                        continue;
                }
                r->clusters[k++] = *c;
        }
        r->n_clusters = k;
}

static void drop_duplicate_rolls(loader *l) {
        vcm_repo *r = l->repo;
        size_t k = 0;
        for (size_t i = 0; i < r->n_rolls; i++) {
                vcm_roll *ro = &r->rolls[i];
                if (k > 0 && strcmp(r->rolls[k - 1].name, ro->name) == 0) {
                        vcm_diags_error(l->diags, ro->name_pos,
                                        "Roll name '%s' is already used by %s: choose another name",
                                        ro->name, r->rolls[k - 1].file);
                        roll_done(ro);
                        continue;
                }
                r->rolls[k++] = *ro;
        }
        r->n_rolls = k;
}

static void loader_done(loader *l) {
        for (size_t i = 0; i < l->tz.n; i++)
                free(l->tz.names[i]);
}

int vcm_load_files(const vcm_source_file *files, size_t n_files, vcm_diags *diags,
                   vcm_repo **ret_repo) {
        _cleanup_repo_ vcm_repo *repo = calloc(1, sizeof(*repo));
        if (!repo)
                return -ENOMEM;
        _cleanup_(loader_done) loader l = { .repo = repo, .diags = diags };
        size_t first_diag = diags->n;

        for (size_t i = 0; i < n_files && !l.oom; i++) {
                file_kind kind = classify(files[i].path);
                if (kind == FILE_OTHER)
                        continue;
                if (files[i].len > VCM_SPEC_FILE_MAX || !files[i].data) {
                        /* Checked before the data is touched: vcm_load_dir passes no data then. */
                        const char *file = strpool_intern((strpool **)&repo->strings, files[i].path);
                        if (!file)
                                return -ENOMEM;
                        vcm_diags_error(diags, ((vcm_pos){ file, 1, 1 }),
                                        "file is %zu bytes, more than the limit of %u bytes: split it or shorten it",
                                        files[i].len, VCM_SPEC_FILE_MAX);
                        if (kind == FILE_CLUSTER)
                                add_failed(&l, files[i].path);
                        if (kind == FILE_SITE)
                                l.saw_site = true;
                        continue;
                }
                load_one(&l, &files[i], kind);
        }
        if (l.oom)
                return -ENOMEM;
        if (!l.saw_site) {
                const char *file = strpool_intern((strpool **)&repo->strings, "site.yaml");
                if (!file)
                        return -ENOMEM;
                vcm_diags_error(diags, ((vcm_pos){ file, 1, 1 }),
                                "site.yaml is missing: every spec repository needs one describing its hosts");
        }
        if (repo->n_clusters > 1)
                qsort(repo->clusters, repo->n_clusters, sizeof(*repo->clusters), cluster_cmp);
        drop_duplicate_clusters(&l);
        if (repo->n_rolls > 1)
                qsort(repo->rolls, repo->n_rolls, sizeof(*repo->rolls), roll_cmp);
        drop_duplicate_rolls(&l);
        if (l.oom)
                return -ENOMEM;
        if (repo->n_failed_files > 1)
                qsort(repo->failed_files, repo->n_failed_files, sizeof(char *), str_cmp);
        diags_sanitize(diags, first_diag);
        vcm_diags_sort(diags);
        *ret_repo = TAKE_PTR(repo);
        return 0;
}

/* ---- directories ------------------------------------------------------------------------ */

typedef struct file_list {
        vcm_source_file *files;
        size_t n, cap;
} file_list;

static void file_list_done(file_list *fl) {
        for (size_t i = 0; i < fl->n; i++) {
                free((char *)fl->files[i].path);
                free((char *)fl->files[i].data);
        }
        free(fl->files);
}

/* Reads dir/rel into the list; a file over the limit is listed with no data. */
static int read_one(int dirfd, const char *rel, file_list *fl) {
        int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return 0;
        }
        char *data = NULL;
        size_t len = (size_t)st.st_size;
        if (len <= VCM_SPEC_FILE_MAX) {
                data = malloc(len + 1);
                if (!data) {
                        close(fd);
                        return -ENOMEM;
                }
                size_t got = 0;
                while (got < len) {
                        ssize_t r = read(fd, data + got, len - got);
                        if (r < 0 && errno == EINTR)
                                continue;
                        if (r <= 0)
                                break;
                        got += (size_t)r;
                }
                len = got;
                data[len] = 0;
        }
        close(fd);
        char *path = strdup(rel);
        if (!path || push((void **)&fl->files, &fl->n, &fl->cap, sizeof(*fl->files)) < 0) {
                free(path);
                free(data);
                return -ENOMEM;
        }
        fl->files[fl->n - 1] = (vcm_source_file){ .path = path, .data = data, .len = len };
        return 0;
}

static int read_subdir(int dirfd, const char *sub, file_list *fl) {
        int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                if (de->d_name[0] == '.' || !has_yaml_suffix(de->d_name))
                        continue;
                char rel[4096];
                if ((size_t)snprintf(rel, sizeof(rel), "%s/%s", sub, de->d_name) >= sizeof(rel))
                        continue;
                r = read_one(dirfd, rel, fl);
        }
        closedir(d);
        return r;
}

static int source_cmp(const void *a, const void *b) {
        return strcmp(((const vcm_source_file *)a)->path, ((const vcm_source_file *)b)->path);
}

int vcm_load_dir(const char *dir, vcm_diags *diags, vcm_repo **ret_repo) {
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        _cleanup_(file_list_done) file_list fl = { 0 };
        int r = read_one(dirfd, "site.yaml", &fl);
        if (r == 0)
                r = read_one(dirfd, "site.yml", &fl);
        if (r == 0)
                r = read_subdir(dirfd, "clusters", &fl);
        if (r == 0)
                r = read_subdir(dirfd, "rolls", &fl);
        close(dirfd);
        if (r < 0)
                return r;
        /* readdir order is the file system's: sort so results never depend on it. */
        if (fl.n > 1)
                qsort(fl.files, fl.n, sizeof(*fl.files), source_cmp);
        return vcm_load_files(fl.files, fl.n, diags, ret_repo);
}
