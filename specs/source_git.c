/* Git sources with libgit2: a bare clone in the state directory, fetched on every load; the spec
 * tree of the wanted commit is read from the object database, never checked out. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "source_git_internal.h"

const char *git_last_message(const char *fallback) {
        const git_error *e = git_error_last();
        return e && e->message ? e->message : fallback;
}

static bool has_scheme(const char *spec, const char *scheme) {
        size_t n = strlen(scheme);
        return !strncmp(spec, scheme, n) && !strncmp(spec + n, "://", 3);
}

/* FNV-1a: the clone's directory name only needs to be stable and distinct per URL. */
static uint64_t url_hash(const char *url) {
        uint64_t h = 14695981039346656037ull;
        for (const unsigned char *p = (const unsigned char *)url; *p; p++)
                h = (h ^ *p) * 1099511628211ull;
        return h;
}

/* The git directory of a local repository, without the trailing slash libgit2 gives. */
static char *local_gitdir(const char *path, bool *ret_bare) {
        git_repository *r = NULL;
        if (git_repository_open_ext(&r, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
                return NULL;
        char *d = strdup(git_repository_path(r));
        *ret_bare = git_repository_is_bare(r);
        git_repository_free(r);
        size_t n = d ? strlen(d) : 0;
        if (n > 1 && d[n - 1] == '/')
                d[n - 1] = 0;
        return d;
}

/* Could `path` be a bare repository (HEAD and objects/ at its top)? A cheap look first, since
 * libgit2's initialisation reads the whole system trust store (~35 ms here), which a directory
 * source never needs. */
static bool maybe_bare(const char *path) {
        char p[PATH_MAX];
        struct stat st;
        if (snprintf(p, sizeof(p), "%s/HEAD", path) >= (int)sizeof(p) || stat(p, &st) < 0 ||
            !S_ISREG(st.st_mode))
                return false;
        snprintf(p, sizeof(p), "%s/objects", path);
        return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int source_git_open(vcm_source *s, const char *spec, const vcm_source_opts *opts, bool *ret_git,
                    char **ret_error) {
        /* A path without --ref is git only when it is a bare repository (a work tree is read
         * as a directory, below): decided without libgit2 when it cannot be one. */
        if (!strstr(spec, "://") && !opts->ref && !maybe_bare(spec)) {
                *ret_git = false;
                return 0;
        }
        git_libgit2_init();
        bool bare = false;
        char *gitdir = NULL, *url = NULL;
        /* https:// with a private CA: SSL_CERT_FILE / SSL_CERT_DIR as OpenSSL and curl read
         * them; without, libgit2's default trust store. */
        if (getenv("SSL_CERT_FILE") || getenv("SSL_CERT_DIR"))
                git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, getenv("SSL_CERT_FILE"),
                                 getenv("SSL_CERT_DIR"));
        if (strstr(spec, "://")) {
                if (!has_scheme(spec, "file") && !has_scheme(spec, "git") &&
                    !has_scheme(spec, "ssh") && !has_scheme(spec, "https") &&
                    !has_scheme(spec, "http")) {
                        *ret_error = source_strf("'%s': vcm reads file://, git://, ssh:// and "
                                                 "https:// URLs, or a directory", spec);
                        git_libgit2_shutdown();
                        return -EINVAL;
                }
                url = strdup(spec);
                if (has_scheme(spec, "file"))
                        gitdir = local_gitdir(spec + 7, &bare);
        } else {
                gitdir = local_gitdir(spec, &bare);
                if (!gitdir || (!bare && !opts->ref)) {
                        /* A work tree without --ref is read as a directory. */
                        free(gitdir);
                        git_libgit2_shutdown();
                        *ret_git = false;
                        return 0;
                }
                url = realpath(spec, NULL);
        }
        s->git = true;
        s->url = url;
        s->local_gitdir = gitdir;
        if (!s->url)
                return -ENOMEM;
        if (!opts->state_dir) {
                *ret_error = source_strf("the git source %s needs a state directory to clone "
                                         "into (--state-dir)", spec);
                return -EINVAL;
        }
        s->ref = opts->ref ? strdup(opts->ref) : NULL;
        s->ssh_key = opts->ssh_key ? strdup(opts->ssh_key) : NULL;
        s->state_dir = strdup(opts->state_dir);
        s->clone_dir = source_strf("%s/sources/%016llx", opts->state_dir,
                                   (unsigned long long)url_hash(s->url));
        s->describe = source_strf("git:%s@%s", s->url, opts->ref ? opts->ref : "HEAD");
        if ((opts->ref && !s->ref) || (opts->ssh_key && !s->ssh_key) || !s->state_dir ||
            !s->clone_dir || !s->describe)
                return -ENOMEM;
        *ret_git = true;
        return 0;
}

void source_git_close(vcm_source *s) {
        git_repository_free(s->repo);
        s->repo = NULL;
        git_libgit2_shutdown();
}

/* ---- the clone ----------------------------------------------------------------------------- */

static int clone_open(vcm_source *s, char **ret_error) {
        if (s->repo)
                return 0;
        char *sources = source_strf("%s/sources", s->state_dir);
        if (!sources)
                return -ENOMEM;
        int r = 0;
        if ((mkdir(s->state_dir, 0700) < 0 && errno != EEXIST) ||
            (mkdir(sources, 0700) < 0 && errno != EEXIST))
                r = -errno;
        free(sources);
        if (r < 0) {
                *ret_error = source_strf("cannot create %s/sources for the clone of %s: %s",
                                         s->state_dir, s->url, strerror(-r));
                return r;
        }
        git_repository *repo = NULL;
        int gr = git_repository_open_bare(&repo, s->clone_dir);
        if (gr == GIT_ENOTFOUND)
                gr = git_repository_init(&repo, s->clone_dir, 1);
        if (gr < 0) {
                *ret_error = source_strf("cannot open the clone %s of %s: %s", s->clone_dir,
                                         s->url, git_last_message("unknown error"));
                return -EIO;
        }
        s->repo = repo;
        return 0;
}

/* The commit loaded last for the source's ref: refs/vcm/loaded/<ref> in the clone ('/' as
 * "%2F", so that "team" and "team/x" can both be followed), HEAD for the default branch. */
static char *loaded_ref(const vcm_source *s) {
        const char *ref = s->ref ? s->ref : "HEAD";
        char *out = malloc(strlen("refs/vcm/loaded/") + 3 * strlen(ref) + 1);
        if (!out)
                return NULL;
        char *p = stpcpy(out, "refs/vcm/loaded/");
        for (const char *c = ref; *c; c++)
                p = *c == '/' ? stpcpy(p, "%2F") : (*p = *c, p + 1);
        *p = 0;
        return out;
}

/* "(... abc1234 ... stays in force)" when a commit was loaded before. */
static char *still_at(const vcm_source *s) {
        git_oid id;
        _cleanup_free_ char *name = loaded_ref(s);
        if (!name || git_reference_name_to_id(&id, s->repo, name) < 0)
                return strdup("");
        char hex[GIT_OID_HEXSZ + 1];
        git_oid_tostr(hex, sizeof(hex), &id);
        return source_strf(" (the last commit loaded, %.12s, stays in force)", hex);
}

static int fetch_error(vcm_source *s, int gr, const git_auth *auth, char **ret_error) {
        /* Copied first: still_at() looks up a ref and may replace libgit2's last error. */
        _cleanup_free_ char *m = strdup(git_last_message("unknown error"));
        const git_error *e = git_error_last();
        int klass = e ? e->klass : GIT_ERROR_NET;
        const char *msg = m ? m : "unknown error";
        _cleanup_free_ char *kept = still_at(s);
        const char *k = kept ? kept : "";
        if (auth->hostkey_error) {
                *ret_error = source_strf("cannot fetch %s: %s%s", s->url, auth->hostkey_error, k);
                return -EPERM;
        }
        if (gr == GIT_EAUTH || auth->exhausted) {
                *ret_error = source_strf("authentication to %s failed (offered: %s): %s%s",
                                         s->url, auth->tried ? auth->tried : "nothing", msg, k);
                return -EACCES;
        }
        if (gr == GIT_ECERTIFICATE) {
                *ret_error = source_strf("cannot fetch %s: the server's certificate is not "
                                         "trusted: %s%s", s->url, msg, k);
                return -EPERM;
        }
        /* What went wrong on this side (a lock held by another vcm fetching into the same
         * clone, a full disk) is not the remote's fault: say so. */
        if (klass == GIT_ERROR_REFERENCE || klass == GIT_ERROR_ODB ||
            klass == GIT_ERROR_FILESYSTEM || klass == GIT_ERROR_OBJECT || gr == GIT_ELOCKED) {
                *ret_error = source_strf("cannot fetch %s into %s: %s%s", s->url, s->clone_dir,
                                         msg, k);
                return -EIO;
        }
        *ret_error = source_strf("cannot fetch %s: the remote is unreachable or is no git "
                                 "repository: %s%s", s->url, msg, k);
        return -EHOSTUNREACH;
}

static int clone_fetch(vcm_source *s, char **ret_error) {
        /* An in-memory remote: the clone is named after its URL, and no url.*.insteadOf
         * rewriting applies (looking those up leaks in libgit2 1.5's regex matching). */
        git_remote *remote = NULL;
        git_remote_create_options ro;
        git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
        ro.repository = s->repo;
        ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
        if (git_remote_create_with_opts(&remote, s->url, &ro) < 0) {
                *ret_error = source_strf("cannot fetch %s: %s", s->url,
                                         git_last_message("not a URL libgit2 understands"));
                return -EINVAL;
        }
        /* Branches are mirrored as remote branches, tags as tags (both forced, so that a
         * force-push is followed and then reported), and the remote's HEAD to refs/vcm/ for
         * the default ref. Prune: a branch deleted upstream is a missing ref here too. */
        char *refspecs[] = { "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*",
                             "+HEAD:refs/vcm/remote-HEAD" };
        git_strarray rs = { refspecs, ELEMENTSOF(refspecs) };
        git_fetch_options fo;
        git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
        fo.prune = GIT_FETCH_PRUNE;
        fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
        fo.update_fetchhead = 0;
        git_auth auth;
        git_auth_setup(&auth, s, &fo.callbacks);
        int gr = git_remote_fetch(remote, &rs, &fo, "vcm: fetch");
        int r = gr < 0 ? fetch_error(s, gr, &auth, ret_error) : 0;
        git_auth_done(&auth);
        git_remote_free(remote);
        return r;
}

/* ---- refs and trees ------------------------------------------------------------------------ */

static int peel_commit(git_repository *repo, const char *spec, git_commit **ret) {
        git_object *o = NULL, *c = NULL;
        if (git_revparse_single(&o, repo, spec) < 0)
                return -ENOENT;
        int gr = git_object_peel(&c, o, GIT_OBJECT_COMMIT);
        git_object_free(o);
        if (gr < 0)
                return -ENOENT;
        *ret = (git_commit *)c;
        return 0;
}

/* REF in the clone: a branch (mirrored under refs/remotes/origin/), a tag, a full ref name, or
 * anything git rev-parse takes (a commit id). NULL: the remote's HEAD. */
static int clone_resolve(vcm_source *s, const char *ref, git_commit **ret, char **ret_error) {
        git_repository *repo = s->repo;
        if (!ref) {
                if (peel_commit(repo, "refs/vcm/remote-HEAD", ret) == 0)
                        return 0;
                *ret_error = source_strf("%s has no default branch (its HEAD names no commit): "
                                         "give --ref BRANCH", s->url);
                return -ENOENT;
        }
        const char *rest = !strncmp(ref, "refs/heads/", 11) ? ref + 11 : ref;
        const char *dirs[] = { "refs/remotes/origin", "refs/tags" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *name = source_strf("%s/%s", dirs[i], rest);
                if (!name)
                        return -ENOMEM;
                if (peel_commit(repo, name, ret) == 0)
                        return 0;
        }
        /* Not "main" as a local branch of the clone: the clone has none; ids and full names. */
        if (peel_commit(repo, ref, ret) == 0)
                return 0;
        _cleanup_free_ char *kept = still_at(s);
        git_error_clear();
        *ret_error = source_strf("ref '%s' is neither a branch nor a tag of %s%s", ref, s->url,
                                 kept ? kept : "");
        return -ENOENT;
}

/* The files of a tree: data points into the blobs, which stay loaded until the list is
 * dropped, so nothing is copied. */
typedef struct blob_list {
        vcm_source_file *files;
        git_blob **blobs;
        size_t n, cap;
} blob_list;

static void blob_list_done(blob_list *bl) {
        for (size_t i = 0; i < bl->n; i++) {
                free((char *)bl->files[i].path);
                git_blob_free(bl->blobs[i]);
        }
        free(bl->files);
        free(bl->blobs);
}

static bool yaml_name(const char *s) {
        size_t n = strlen(s);
        return s[0] != '.' && ((n > 5 && !strcmp(s + n - 5, ".yaml")) ||
                               (n > 4 && !strcmp(s + n - 4, ".yml")));
}

/* One blob into the list; one over the size limit goes with no data (the loader reports it). */
static int add_blob(git_repository *repo, const git_tree_entry *e, const char *dir, blob_list *bl) {
        if (git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
            git_tree_entry_filemode(e) == GIT_FILEMODE_LINK || !yaml_name(git_tree_entry_name(e)))
                return 0;
        if (bl->n == bl->cap) {
                size_t c = bl->cap ? bl->cap * 2 : 16;
                vcm_source_file *f = realloc(bl->files, c * sizeof(*f));
                if (f)
                        bl->files = f;
                git_blob **b = f ? realloc(bl->blobs, c * sizeof(*b)) : NULL;
                if (!b)
                        return -ENOMEM;
                bl->blobs = b;
                bl->cap = c;
        }
        char *path = dir ? source_strf("%s/%s", dir, git_tree_entry_name(e))
                         : strdup(git_tree_entry_name(e));
        if (!path)
                return -ENOMEM;
        git_blob *blob = NULL;
        if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0) {
                free(path);
                return -EIO;
        }
        size_t len = (size_t)git_blob_rawsize(blob);
        bl->blobs[bl->n] = blob;
        bl->files[bl->n++] = (vcm_source_file){
                .path = path,
                .data = len > VCM_SPEC_FILE_MAX ? NULL : len ? git_blob_rawcontent(blob) : "",
                .len = len,
        };
        return 0;
}

/* site.yaml and the YAML files in clusters/ and rolls/ of `tree`, as the directory loader reads them. */
static int tree_files(git_repository *repo, const git_tree *tree, blob_list *fl) {
        int r = 0;
        for (size_t i = 0; r == 0 && i < git_tree_entrycount(tree); i++) {
                const git_tree_entry *e = git_tree_entry_byindex(tree, i);
                const char *name = git_tree_entry_name(e);
                if (!strcmp(name, "site.yaml") || !strcmp(name, "site.yml")) {
                        r = add_blob(repo, e, NULL, fl);
                        continue;
                }
                if ((strcmp(name, "clusters") && strcmp(name, "rolls")) ||
                    git_tree_entry_type(e) != GIT_OBJECT_TREE)
                        continue;
                git_tree *sub = NULL;
                if (git_tree_lookup(&sub, repo, git_tree_entry_id(e)) < 0)
                        return -EIO;
                for (size_t j = 0; r == 0 && j < git_tree_entrycount(sub); j++)
                        r = add_blob(repo, git_tree_entry_byindex(sub, j), name, fl);
                git_tree_free(sub);
        }
        return r;
}

static int path_cmp(const void *a, const void *b) {
        return strcmp(((const vcm_source_file *)a)->path, ((const vcm_source_file *)b)->path);
}

static int load_tree(git_repository *repo, const git_tree *tree, const git_oid *commit,
                     vcm_diags *diags, vcm_repo **ret_repo) {
        _cleanup_(blob_list_done) blob_list fl = {};
        int r = tree_files(repo, tree, &fl);
        if (r < 0)
                return r;
        /* blobs[] only holds references for blob_list_done: its order does not matter. */
        if (fl.n > 1)
                qsort(fl.files, fl.n, sizeof(*fl.files), path_cmp);
        vcm_repo *out = NULL;
        r = vcm_load_files(fl.files, fl.n, diags, &out);
        if (r < 0)
                return r;
        out->commit = malloc(GIT_OID_HEXSZ + 1);
        if (!out->commit) {
                vcm_repo_free(out);
                return -ENOMEM;
        }
        git_oid_tostr(out->commit, GIT_OID_HEXSZ + 1, commit);
        *ret_repo = out;
        return 0;
}

static int load_commit(git_repository *repo, git_commit *c, vcm_diags *diags,
                       vcm_repo **ret_repo, char **ret_error) {
        git_tree *tree = NULL;
        if (git_commit_tree(&tree, c) < 0) {
                *ret_error = source_strf("cannot read the tree of commit %s: %s",
                                         git_oid_tostr_s(git_commit_id(c)),
                                         git_last_message("unknown error"));
                return -EIO;
        }
        int r = load_tree(repo, tree, git_commit_id(c), diags, ret_repo);
        git_tree_free(tree);
        if (r < 0)
                *ret_error = source_strf("cannot load the specs of commit %s: %s",
                                         git_oid_tostr_s(git_commit_id(c)), strerror(-r));
        return r;
}

int source_git_load(vcm_source *s, vcm_diags *diags, vcm_repo **ret_repo, char **ret_error) {
        int r = clone_open(s, ret_error);
        if (r == 0)
                r = clone_fetch(s, ret_error);
        git_commit *c = NULL;
        if (r == 0)
                r = clone_resolve(s, s->ref, &c, ret_error);
        if (r < 0)
                return r;
        /* History was rewritten when the new commit does not descend from the one loaded last
         * for this ref (kept in the clone, so this holds across runs). */
        git_oid prev;
        /* A copy: the commit is freed below, and its id with it. */
        const git_oid tip = *git_commit_id(c), *id = &tip;
        _cleanup_free_ char *marker = loaded_ref(s);
        if (!marker) {
                git_commit_free(c);
                return -ENOMEM;
        }
        bool have_prev = git_reference_name_to_id(&prev, s->repo, marker) == 0;
        bool rewritten = have_prev && !git_oid_equal(&prev, id) &&
                         git_graph_descendant_of(s->repo, id, &prev) != 1;
        vcm_repo *repo = NULL;
        r = load_commit(s->repo, c, diags, &repo, ret_error);
        git_commit_free(c);
        if (r < 0)
                return r;
        /* Admission only orders contested capacity: unreadable history leaves it unknown. */
        (void)source_git_admit(s->repo, id, repo);
        git_reference *ref = NULL;
        if (git_reference_create(&ref, s->repo, marker, id, 1, "vcm: loaded") == 0)
                git_reference_free(ref);
        git_oid_tostr(s->commit, sizeof(s->commit), id);
        s->rewritten = rewritten;
        s->replaced[0] = 0;
        if (rewritten)
                git_oid_tostr(s->replaced, sizeof(s->replaced), &prev);
        *ret_repo = repo;
        return 0;
}

int source_git_load_at(vcm_source *s, const char *ref, vcm_diags *diags, vcm_repo **ret_repo,
                       char **ret_error) {
        int r = clone_open(s, ret_error);
        git_commit *c = NULL;
        if (r == 0)
                r = clone_resolve(s, ref, &c, ret_error);
        if (r < 0)
                return r;
        r = load_commit(s->repo, c, diags, ret_repo, ret_error);
        git_commit_free(c);
        return r;
}

/* ---- a directory inside a work tree (validate --base) ------------------------------------- */

/* Where `dir` sits inside the work tree of `repo`: "" at the top, "specs" below it. */
static int dir_prefix(git_repository *repo, const char *dir, char **ret) {
        const char *wd = git_repository_workdir(repo);
        _cleanup_free_ char *top = wd ? realpath(wd, NULL) : NULL;
        _cleanup_free_ char *here = realpath(dir, NULL);
        if (!top || !here)
                return -errno ? -errno : -ENOENT;
        size_t n = strlen(top);
        if (strncmp(here, top, n) || (here[n] && here[n] != '/'))
                return -EXDEV;
        char *p = strdup(here[n] ? here + n + 1 : "");
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static int load_dir_at(git_repository *repo, const char *dir, const char *ref, vcm_diags *diags,
                       vcm_repo **ret_repo, char **ret_error) {
        _cleanup_free_ char *prefix = NULL;
        int r = dir_prefix(repo, dir, &prefix);
        if (r < 0) {
                *ret_error = source_strf("cannot place '%s' in its git work tree: %s", dir,
                                         strerror(-r));
                return r;
        }
        git_commit *c = NULL;
        if (peel_commit(repo, ref, &c) < 0) {
                *ret_error = source_strf("ref '%s' does not exist in the git repository "
                                         "holding '%s'", ref, dir);
                return -ENOENT;
        }
        git_tree *tree = NULL;
        int gr = git_commit_tree(&tree, c);
        if (gr == 0 && prefix[0]) {
                git_tree_entry *e = NULL;
                git_tree *sub = NULL;
                gr = git_tree_entry_bypath(&e, tree, prefix);
                if (gr == 0 && git_tree_entry_type(e) == GIT_OBJECT_TREE)
                        gr = git_tree_lookup(&sub, repo, git_tree_entry_id(e));
                else if (gr == 0)
                        gr = GIT_ENOTFOUND;
                git_tree_entry_free(e);
                git_tree_free(tree);
                tree = sub;
        }
        if (gr < 0) {
                *ret_error = source_strf("'%s' does not exist at %s", prefix, ref);
                git_commit_free(c);
                return -ENOENT;
        }
        r = load_tree(repo, tree, git_commit_id(c), diags, ret_repo);
        if (r < 0)
                *ret_error = source_strf("cannot load the specs at %s: %s", ref, strerror(-r));
        git_tree_free(tree);
        git_commit_free(c);
        return r;
}

int source_git_load_dir_at(const char *dir, const char *ref, vcm_diags *diags,
                           vcm_repo **ret_repo, char **ret_error) {
        git_libgit2_init();
        git_repository *repo = NULL;
        int r;
        if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
                *ret_error = source_strf("'%s' is not inside a git repository", dir);
                r = -ENOTDIR;
        } else {
                r = load_dir_at(repo, dir, ref, diags, ret_repo, ret_error);
        }
        git_repository_free(repo);
        git_libgit2_shutdown();
        return r;
}
