/* vcm_repo_drop_invalid: clusters with errors in their file join the failed files. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "load_internal.h"

static bool has_error_in(const vcm_diags *d, const char *file) {
        for (size_t i = 0; i < d->n; i++)
                if (d->items[i].severity == VCM_SEV_ERROR && d->items[i].pos.file &&
                    strcmp(d->items[i].pos.file, file) == 0)
                        return true;
        return false;
}

static int str_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int vcm_repo_drop_invalid(vcm_repo *repo, const vcm_diags *diags) {
        size_t n_bad = 0;
        for (size_t i = 0; i < repo->n_clusters; i++)
                n_bad += has_error_in(diags, repo->clusters[i].file);
        if (n_bad == 0)
                return 0;
        char **failed = realloc(repo->failed_files, (repo->n_failed_files + n_bad) * sizeof(char *));
        if (!failed)
                return -ENOMEM;
        repo->failed_files = failed;
        /* Copy every name first so that running out of memory leaves the repo as it was. */
        char **names = calloc(n_bad, sizeof(char *));
        if (!names)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < repo->n_clusters; i++)
                if (has_error_in(diags, repo->clusters[i].file)) {
                        names[k] = strdup(repo->clusters[i].file);
                        if (!names[k]) {
                                while (k > 0)
                                        free(names[--k]);
                                free(names);
                                return -ENOMEM;
                        }
                        k++;
                }
        size_t keep = 0;
        for (size_t i = 0; i < repo->n_clusters; i++) {
                if (has_error_in(diags, repo->clusters[i].file)) {
                        cluster_done(&repo->clusters[i]);
                        continue;
                }
                repo->clusters[keep++] = repo->clusters[i];
        }
        repo->n_clusters = keep;
        for (size_t i = 0; i < n_bad; i++)
                repo->failed_files[repo->n_failed_files++] = names[i];
        free(names);
        qsort(repo->failed_files, repo->n_failed_files, sizeof(char *), str_cmp);
        return 0;
}
