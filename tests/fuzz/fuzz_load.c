/* libFuzzer target for the spec loader and the cross-file validator.
 *
 * One input is a whole small repository: parts separated by a line "%%%" become site.yaml,
 * rolls/r.yaml, then clusters/c0.yaml, clusters/c1.yaml, ... so that cross-file rules get
 * exercised too. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "specs/load.h"

#define MAX_PARTS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char sep[] = "\n%%%\n";
        static const char *const fixed[] = { "site.yaml", "rolls/r.yaml" };
        char paths[MAX_PARTS][32];
        vcm_source_file files[MAX_PARTS];
        size_t n = 0;
        const char *p = (const char *)data, *end = p + size;

        while (n < MAX_PARTS) {
                const char *s = memmem(p, (size_t)(end - p), sep, sizeof(sep) - 1);
                const char *stop = s && n + 1 < MAX_PARTS ? s : end;
                if (n < 2)
                        snprintf(paths[n], sizeof(paths[n]), "%s", fixed[n]);
                else
                        snprintf(paths[n], sizeof(paths[n]), "clusters/c%zu.yaml", n - 2);
                files[n] = (vcm_source_file){ paths[n], p, (size_t)(stop - p) };
                n++;
                if (stop == end)
                        break;
                p = stop + sizeof(sep) - 1;
        }

        vcm_diags d = { 0 };
        vcm_repo *repo = NULL;
        if (vcm_load_files(files, n, &d, &repo) == 0) {
                vcm_validate_repo(repo, &d);
                size_t before = repo->n_clusters + repo->n_failed_files;
                if (vcm_repo_drop_invalid(repo, &d) == 0 &&
                    repo->n_clusters + repo->n_failed_files != before)
                        __builtin_trap();
                /* Lookups over whatever loaded must be safe too. */
                for (size_t i = 0; i < repo->n_clusters; i++) {
                        const vcm_cluster *c = &repo->clusters[i];
                        if (vcm_repo_find_cluster(repo, c->name) == NULL)
                                __builtin_trap();
                        (void)vcm_cluster_node_count(c);
                }
                for (size_t i = 0; i < repo->n_rolls; i++)
                        if (vcm_repo_find_roll(repo, repo->rolls[i].name) == NULL)
                                __builtin_trap();
                vcm_repo_free(repo);
        }
        vcm_diags_clear(&d);
        return 0;
}
