/* The merge of a cluster's Rolls for one appliance (rules in seed.h and docs/rolls.md). */
#include <errno.h>
#include <string.h>

#include "reconciler/seed.h"
#include "reconciler/util.h"

void vcm_seed_merged_clear(vcm_seed_merged *m) {
        free(m->packages);
        free(m->runcmd);
        free(m->files);
        *m = (vcm_seed_merged){ 0 };
}

static bool listed(const char **v, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

int vcm_seed_merge(const vcm_repo *repo, const vcm_cluster *c, const char *appliance,
                   vcm_seed_merged *ret) {
        vcm_seed_merged m = { 0 };
        size_t cap_p = 0, cap_r = 0, cap_f = 0;
        for (size_t i = 0; i < c->n_rolls; i++) {
                const vcm_roll *roll = vcm_repo_find_roll(repo, c->rolls[i]);
                if (!roll) {
                        /* The validator refuses unknown Rolls; a seed never guesses. */
                        vcm_seed_merged_clear(&m);
                        return -ENOENT;
                }
                const vcm_roll_appliance *a = NULL;
                for (size_t k = 0; k < roll->n_appliances && !a; k++)
                        if (roll->appliances[k].name &&
                            strcmp(roll->appliances[k].name, appliance) == 0)
                                a = &roll->appliances[k];
                if (!a)
                        continue;
                for (size_t k = 0; k < a->n_packages; k++) {
                        if (listed(m.packages, m.n_packages, a->packages[k]))
                                continue;
                        if (m.n_packages == cap_p) {
                                cap_p = cap_p ? 2 * cap_p : 8;
                                m.packages = xrealloc(m.packages, cap_p * sizeof(*m.packages));
                        }
                        m.packages[m.n_packages++] = a->packages[k];
                }
                for (size_t k = 0; k < a->n_runcmd; k++) {
                        if (m.n_runcmd == cap_r) {
                                cap_r = cap_r ? 2 * cap_r : 8;
                                m.runcmd = xrealloc(m.runcmd, cap_r * sizeof(*m.runcmd));
                        }
                        m.runcmd[m.n_runcmd++] = a->runcmd[k];
                }
                for (size_t k = 0; k < a->n_files; k++) {
                        const vcm_roll_file *f = &a->files[k];
                        vcm_seed_file *same = NULL;
                        for (size_t j = 0; j < m.n_files && !same; j++)
                                if (strcmp(m.files[j].file->path, f->path) == 0)
                                        same = &m.files[j];
                        if (same) {
                                /* Last Roll wins; a Roll repeating its own path is the loader's
                                 * business, here the later entry wins too. */
                                same->overrides = same->roll;
                                same->file = f;
                                same->roll = roll->name;
                                continue;
                        }
                        if (m.n_files == cap_f) {
                                cap_f = cap_f ? 2 * cap_f : 8;
                                m.files = xrealloc(m.files, cap_f * sizeof(*m.files));
                        }
                        m.files[m.n_files++] = (vcm_seed_file){ f, roll->name, NULL };
                }
        }
        *ret = m;
        return 0;
}
