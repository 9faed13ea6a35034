/* Freeing and looking things up in the model (specs/model.h). */
#include <stdlib.h>
#include <string.h>

#include "load_internal.h"
#include "model.h"
#include "strpool.h"

static void strv_n_free(char **v, size_t n) {
        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

void cluster_done(vcm_cluster *c) {
        free(c->name);
        free(c->owner);
        free(c->admitted_commit);
        free(c->window.start_text);
        free(c->window.end_text);
        for (size_t i = 0; i < c->window.n_recurring; i++)
                free(c->window.recurring[i].timezone);
        free(c->window.recurring);
        strv_n_free(c->rolls, c->n_rolls);
        free(c->rolls_pos);
        strv_n_free(c->ssh_keys, c->n_ssh_keys);
        free(c->ssh_keys_pos);
        free(c->network.subnet);
        for (size_t i = 0; i < c->n_nodes; i++) {
                free(c->nodes[i].name);
                free(c->nodes[i].appliance);
        }
        free(c->nodes);
        /* c->file lives in the repository's string pool. */
}

void site_done(vcm_site *s) {
        free(s->name);
        for (size_t i = 0; i < s->n_hosts; i++) {
                vcm_host *h = &s->hosts[i];
                free(h->name);
                free(h->libvirt);
                strv_n_free(h->agent, h->n_agent);
                free(h->trunk);
                free(h->external);
                free(h->volume_group);
                free(h->portal);
                free(h->pool_path);
        }
        free(s->hosts);
        for (size_t i = 0; i < s->n_images; i++) {
                vcm_image *im = &s->images[i];
                free(im->appliance);
                free(im->volume);
                free(im->file);
                free(im->kernel);
                free(im->initrd);
                free(im->cmdline);
        }
        free(s->images);
}

void roll_done(vcm_roll *r) {
        free(r->name);
        for (size_t i = 0; i < r->n_appliances; i++) {
                vcm_roll_appliance *a = &r->appliances[i];
                free(a->name);
                strv_n_free(a->packages, a->n_packages);
                strv_n_free(a->runcmd, a->n_runcmd);
                for (size_t j = 0; j < a->n_files; j++) {
                        free(a->files[j].path);
                        free(a->files[j].content);
                }
                free(a->files);
        }
        free(r->appliances);
}

void vcm_repo_free(vcm_repo *repo) {
        if (!repo)
                return;
        if (repo->site) {
                site_done(repo->site);
                free(repo->site);
        }
        for (size_t i = 0; i < repo->n_clusters; i++)
                cluster_done(&repo->clusters[i]);
        free(repo->clusters);
        for (size_t i = 0; i < repo->n_rolls; i++)
                roll_done(&repo->rolls[i]);
        free(repo->rolls);
        strv_n_free(repo->failed_files, repo->n_failed_files);
        free(repo->commit);
        strpool_free(repo->strings);
        free(repo);
}

/* Clusters and Rolls are sorted by name: binary search. */
const vcm_cluster *vcm_repo_find_cluster(const vcm_repo *repo, const char *name) {
        size_t lo = 0, hi = repo ? repo->n_clusters : 0;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(repo->clusters[mid].name, name);
                if (c == 0)
                        return &repo->clusters[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

const vcm_roll *vcm_repo_find_roll(const vcm_repo *repo, const char *name) {
        size_t lo = 0, hi = repo ? repo->n_rolls : 0;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(repo->rolls[mid].name, name);
                if (c == 0)
                        return &repo->rolls[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

const vcm_host *vcm_site_find_host(const vcm_site *site, const char *name) {
        for (size_t i = 0; site && i < site->n_hosts; i++)
                if (site->hosts[i].name && strcmp(site->hosts[i].name, name) == 0)
                        return &site->hosts[i];
        return NULL;
}

const vcm_image *vcm_site_find_image(const vcm_site *site, const char *appliance) {
        for (size_t i = 0; site && i < site->n_images; i++)
                if (site->images[i].appliance && strcmp(site->images[i].appliance, appliance) == 0)
                        return &site->images[i];
        return NULL;
}

size_t vcm_cluster_node_count(const vcm_cluster *c) {
        size_t n = 1;
        for (size_t i = 0; i < c->n_nodes; i++)
                n += c->nodes[i].count;
        return n;
}
