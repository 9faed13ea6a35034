/* The seed image with libisofs (seed_image.h): libisofs's conventions (1 on success, negative
 * ISO_* codes, a writer thread behind a burn_source) stay in this file. */
#include "seed_image.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* No libburn here: libisofs then declares struct burn_source itself. */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "specs/base/macro.h"

/* One fixed time for everything in the image: 2026-01-01T00:00:00Z. */
#define SEED_EPOCH ((time_t)1767225600)
#define SEED_EPOCH_UUID "2026010100000000" /* YYYYMMDDhhmmsscc, GMT */
#define SEED_BLOCK 2048

static pthread_once_t seed_once = PTHREAD_ONCE_INIT;
static int seed_init_result;

static void seed_init(void) {
        seed_init_result = iso_init() == 1 ? 0 : -ENOMEM;
        /* Library code does not print: libisofs keeps its messages to itself. */
        if (seed_init_result == 0)
                iso_set_msgs_severities("NEVER", "NEVER", "vcm");
}

static void image_unrefp(IsoImage **i) {
        if (*i)
                iso_image_unref(*i);
}
static void opts_freep(IsoWriteOpts **o) {
        if (*o)
                iso_write_opts_free(*o);
}

static void node_fix(IsoNode *node, mode_t mode) {
        iso_node_set_permissions(node, mode);
        iso_node_set_uid(node, 0);
        iso_node_set_gid(node, 0);
        iso_node_set_mtime(node, SEED_EPOCH);
        iso_node_set_atime(node, SEED_EPOCH);
        iso_node_set_ctime(node, SEED_EPOCH);
}

static int cmp_entry(const void *a, const void *b) {
        return strcmp(((const vcm_seed_entry *)a)->name, ((const vcm_seed_entry *)b)->name);
}

static int seed_tree(IsoImage *image, const vcm_seed_entry *files, size_t n) {
        IsoDir *root = iso_image_get_root(image);
        node_fix((IsoNode *)root, 0555);
        _cleanup_free_ vcm_seed_entry *sorted = calloc(n ? n : 1, sizeof(*sorted));
        if (!sorted)
                return -ENOMEM;
        memcpy(sorted, files, n * sizeof(*files));
        qsort(sorted, n, sizeof(*sorted), cmp_entry);
        for (size_t i = 0; i < n; i++) {
                const char *name = sorted[i].name, *content = sorted[i].content;
                if (!name || !*name || strchr(name, '/') || strlen(name) > 64 || !content)
                        return -EINVAL;
                size_t len = strlen(content);
                unsigned char *buf = malloc(len ? len : 1);
                if (!buf)
                        return -ENOMEM;
                memcpy(buf, content, len);
                IsoStream *st = NULL;
                if (iso_memory_stream_new(buf, len, &st) < 0) {
                        free(buf);
                        return -ENOMEM;
                }
                IsoFile *file = NULL;
                int r = iso_tree_add_new_file(root, name, st, &file);
                if (r < 0) {
                        iso_stream_unref(st);
                        return r == (int)ISO_NODE_NAME_NOT_UNIQUE ? -EEXIST : -ENOMEM;
                }
                node_fix((IsoNode *)file, 0444);
        }
        return 0;
}

static int seed_opts(IsoWriteOpts **ret) {
        _cleanup_(opts_freep) IsoWriteOpts *o = NULL;
        char uuid[] = SEED_EPOCH_UUID;
        if (iso_write_opts_new(&o, 0) < 0)
                return -ENOMEM;
        /* Rock Ridge for Linux (names like "meta-data"), Joliet for other readers. */
        if (iso_write_opts_set_iso_level(o, 3) < 0 || iso_write_opts_set_rockridge(o, 1) < 0 ||
            iso_write_opts_set_joliet(o, 1) < 0 || iso_write_opts_set_always_gmt(o, 1) < 0 ||
            iso_write_opts_set_pvd_times(o, SEED_EPOCH, SEED_EPOCH, 0, 0, uuid) < 0 ||
            iso_write_opts_set_replace_timestamps(o, 2) < 0 ||
            iso_write_opts_set_default_timestamp(o, SEED_EPOCH) < 0 ||
            iso_write_opts_set_dir_rec_mtime(o, 1) < 0 ||
            iso_write_opts_set_replace_mode(o, 2, 2, 2, 2) < 0 ||
            iso_write_opts_set_default_dir_mode(o, 0555) < 0 ||
            iso_write_opts_set_default_file_mode(o, 0444) < 0 ||
            iso_write_opts_set_default_uid(o, 0) < 0 || iso_write_opts_set_default_gid(o, 0) < 0)
                return -EINVAL;
        *ret = TAKE_PTR(o);
        return 0;
}

/* Drain the writer thread into one buffer. */
static int seed_drain(struct burn_source *src, unsigned char **ret_buf, size_t *ret_len) {
        size_t cap = 64 * SEED_BLOCK, len = 0;
        unsigned char *buf = malloc(cap);
        int r = buf ? 0 : -ENOMEM;
        for (;;) {
                if (r == 0 && len + SEED_BLOCK > cap) {
                        unsigned char *nb = realloc(buf, cap * 2);
                        if (nb) {
                                buf = nb;
                                cap *= 2;
                        } else {
                                r = -ENOMEM;
                        }
                }
                unsigned char block[SEED_BLOCK];
                int n = src->read_xt(src, r == 0 ? buf + len : block, SEED_BLOCK);
                if (n <= 0) {
                        if (n < 0 && r == 0)
                                r = -EIO;
                        break;
                }
                if (r == 0)
                        len += (size_t)n;
                /* On failure keep reading: the writer thread must finish before free_data. */
        }
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret_buf = buf;
        *ret_len = len;
        return 0;
}

static int seed_image_build_locked(const vcm_seed_entry *files, size_t n,
                                   unsigned char **ret_buf, size_t *ret_len) {
        _cleanup_(image_unrefp) IsoImage *image = NULL;
        if (iso_image_new(VCM_SEED_LABEL, &image) < 0)
                return -ENOMEM;
        iso_image_set_volume_id(image, VCM_SEED_LABEL);
        int r = seed_tree(image, files, n);
        if (r < 0)
                return r;
        _cleanup_(opts_freep) IsoWriteOpts *opts = NULL;
        r = seed_opts(&opts);
        if (r < 0)
                return r;
        struct burn_source *src = NULL;
        if (iso_image_create_burn_source(image, opts, &src) < 0)
                return -EIO;
        r = seed_drain(src, ret_buf, ret_len);
        src->free_data(src);
        free(src);
        return r;
}

/* One image at a time: libisofs is not safe to use from several threads (parallel applies
 * crashed in iso_image_unref, seen in bench/testdriver at 1,000 clusters). */
int vcm_seed_image_build(const vcm_seed_entry *files, size_t n, unsigned char **ret_buf,
                         size_t *ret_len) {
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        pthread_once(&seed_once, seed_init);
        if (seed_init_result < 0)
                return seed_init_result;
        pthread_mutex_lock(&lock);
        int r = seed_image_build_locked(files, n, ret_buf, ret_len);
        pthread_mutex_unlock(&lock);
        return r;
}
