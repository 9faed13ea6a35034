/* vcm_validate_repo: the rules that span files (Rolls, appliances, VLAN ids, site roles). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "load.h"

static void check_rolls(const vcm_repo *repo, const vcm_cluster *c, vcm_diags *diags, bool *all_known) {
        *all_known = true;
        const char **names = calloc(repo->n_rolls + 1, sizeof(*names));
        for (size_t i = 0; names && i < repo->n_rolls; i++)
                names[i] = repo->rolls[i].name;
        for (size_t i = 0; i < c->n_rolls; i++) {
                if (vcm_repo_find_roll(repo, c->rolls[i]))
                        continue;
                *all_known = false;
                const char *near = names ? closest_word(c->rolls[i], names, repo->n_rolls) : NULL;
                if (near)
                        vcm_diags_error(diags, c->rolls_pos[i], "unknown Roll '%s': did you mean '%s'?",
                                        c->rolls[i], near);
                else
                        vcm_diags_error(diags, c->rolls_pos[i],
                                        "unknown Roll '%s': add rolls/%s.yaml or remove it from the list",
                                        c->rolls[i], c->rolls[i]);
        }
        free(names);
}

static bool appliance_provided(const vcm_repo *repo, const vcm_cluster *c, const char *appliance) {
        for (size_t i = 0; i < c->n_rolls; i++) {
                const vcm_roll *r = vcm_repo_find_roll(repo, c->rolls[i]);
                for (size_t j = 0; r && j < r->n_appliances; j++)
                        if (strcmp(r->appliances[j].name, appliance) == 0)
                                return true;
        }
        return false;
}

static void roll_list(const vcm_cluster *c, char *buf, size_t size) {
        size_t off = 0;
        buf[0] = 0;
        for (size_t i = 0; i < c->n_rolls && off < size; i++)
                off += snprintf(buf + off, size - off, "%s%s", i ? ", " : "", c->rolls[i]);
}

static void check_appliances(const vcm_repo *repo, const vcm_cluster *c, vcm_diags *diags) {
        char list[256];
        roll_list(c, list, sizeof(list));
        if (!appliance_provided(repo, c, "frontend"))
                vcm_diags_error(diags, c->frontend.pos,
                                "no Roll of this cluster (%s) provides the 'frontend' appliance: list a Roll that does",
                                list);
        for (size_t i = 0; i < c->n_nodes; i++) {
                const vcm_node_group *g = &c->nodes[i];
                if (appliance_provided(repo, c, g->appliance))
                        continue;
                vcm_diags_error(diags, g->appliance_pos.line ? g->appliance_pos : g->pos,
                                "appliance '%s' is not provided by any of this cluster's Rolls (%s): "
                                "list a Roll that provides it",
                                g->appliance, list);
        }
}

static void check_site_roles(const vcm_site *site, const vcm_cluster *c, vcm_diags *diags) {
        unsigned roles = 0;
        bool external = false;
        for (size_t i = 0; i < site->n_hosts; i++) {
                roles |= site->hosts[i].roles;
                if ((site->hosts[i].roles & VCM_ROLE_GATEWAY) && site->hosts[i].external)
                        external = true;
        }
        if (!(roles & VCM_ROLE_GATEWAY))
                vcm_diags_error(diags, c->frontend.pos,
                                "the site has no host with role 'gateway' to run this cluster's frontend: "
                                "add one to %s",
                                site->file);
        if (c->n_nodes && !(roles & VCM_ROLE_VM_SERVER))
                vcm_diags_error(diags, c->nodes_list_pos,
                                "the site has no host with role 'vm-server' to run this cluster's nodes: "
                                "add one to %s",
                                site->file);
        if (c->frontend.external && (roles & VCM_ROLE_GATEWAY) && !external)
                vcm_diags_error(diags, c->frontend.external_pos,
                                "the frontend asks for an external NIC but no gateway host in %s has "
                                "'external' set: add the bridge name there or set external: false",
                                site->file);
}

/* A cluster holds a network id from the site's range while it is active; a fixed id is held for
 * as long as its file exists. More clusters at once than the range can hold is an error, blamed
 * on each auto cluster (in name order) that would find no id: at some instant of its window
 * (start..end; recurring slots are not looked at, so this errs on the safe side) the range is
 * taken by fixed ids and by the auto clusters before it whose windows overlap then. */
typedef struct span {
        int64_t s, e;
} span;

static int edge_cmp(const void *a, const void *b) {
        const int64_t *x = a, *y = b; /* {time, +1 | -1}: ends before starts at one instant */
        return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

/* Most spans of `held` active at once inside `w`. */
static size_t most_at_once(const span *held, size_t n, span w, int64_t (*edges)[2]) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                int64_t s = held[i].s > w.s ? held[i].s : w.s, e = held[i].e < w.e ? held[i].e : w.e;
                if (s >= e)
                        continue;
                edges[k][0] = s;
                edges[k++][1] = 1;
                edges[k][0] = e;
                edges[k++][1] = -1;
        }
        qsort(edges, k, sizeof(*edges), edge_cmp);
        size_t now = 0, most = 0;
        for (size_t i = 0; i < k; i++) {
                now += (size_t)edges[i][1];
                if (now > most)
                        most = now;
        }
        return most;
}

static void check_vlan_range(const vcm_repo *repo, vcm_diags *diags) {
        const vcm_site *site = repo->site;
        if (!site || !site->vlan_from || site->vlan_to < site->vlan_from)
                return;
        uint32_t size = site->vlan_to - site->vlan_from + 1, fixed = 0;
        bool *taken = calloc(size, sizeof(*taken));
        span *held = calloc(repo->n_clusters + 1, sizeof(*held));
        int64_t(*edges)[2] = calloc(2 * repo->n_clusters + 1, sizeof(*edges));
        if (!taken || !held || !edges)
                goto out;
        for (size_t i = 0; i < repo->n_clusters; i++) {
                const vcm_cluster *c = &repo->clusters[i];
                uint32_t id = c->network.vlan;
                if (!c->network.vlan_auto && id >= site->vlan_from && id <= site->vlan_to &&
                    !taken[id - site->vlan_from]) {
                        taken[id - site->vlan_from] = true;
                        fixed++;
                }
        }
        size_t n_held = 0;
        for (size_t i = 0; i < repo->n_clusters; i++) {
                const vcm_cluster *c = &repo->clusters[i];
                if (!c->network.vlan_auto)
                        continue;
                const vcm_window *w = &c->window;
                span mine = { c->has_window && w->has_start ? w->start : INT64_MIN,
                              c->has_window && w->has_end ? w->end : INT64_MAX };
                if (mine.s >= mine.e)
                        continue;
                size_t busy = most_at_once(held, n_held, mine, edges);
                if (fixed + busy < size) {
                        held[n_held++] = mine;
                        continue;
                }
                vcm_diags_error(diags, c->network.vlan_pos.line ? c->network.vlan_pos : c->network.pos,
                                "no free VLAN id for cluster '%s': the site's range %u..%u holds "
                                "%u, taken by %u fixed id%s and %zu other cluster%s active during "
                                "its window; widen vlanRange in %s or move a window",
                                c->name, site->vlan_from, site->vlan_to, size, fixed,
                                fixed == 1 ? "" : "s", busy, busy == 1 ? "" : "s", site->file);
        }
out:
        free(taken);
        free(held);
        free(edges);
}

void vcm_validate_repo(const vcm_repo *repo, vcm_diags *diags) {
        const vcm_site *site = repo->site;
        size_t first_diag = diags->n;
        size_t *vlan_owner = calloc(4096, sizeof(*vlan_owner)); /* index + 1 of the first user */
        if (!vlan_owner)
                return;
        for (size_t i = 0; i < repo->n_clusters; i++) {
                const vcm_cluster *c = &repo->clusters[i];
                /* The loader already drops duplicates; clusters are sorted by name, so a
                 * duplicate in a repository built by other means sits next to its twin. */
                if (i > 0 && strcmp(repo->clusters[i - 1].name, c->name) == 0)
                        vcm_diags_error(diags, c->name_pos,
                                        "cluster name '%s' is already used by %s: choose another name",
                                        c->name, repo->clusters[i - 1].file);
                bool all_known;
                check_rolls(repo, c, diags, &all_known);
                /* Only when every listed Roll exists: a typo in a Roll name is reported once. */
                if (c->n_rolls && all_known)
                        check_appliances(repo, c, diags);
                if (!c->network.vlan_auto) {
                        if (site && site->network_backend == VCM_NET_VLAN && site->vlan_from &&
                            (c->network.vlan < site->vlan_from || c->network.vlan > site->vlan_to))
                                vcm_diags_error(diags, c->network.vlan_pos,
                                                "VLAN %u is outside the site's range %u..%u: pick one inside it or use 'auto'",
                                                c->network.vlan, site->vlan_from, site->vlan_to);
                        /* First user of each id, by cluster name order. */
                        uint32_t id = c->network.vlan;
                        if (id < 4096 && vlan_owner[id]) {
                                const vcm_cluster *o = &repo->clusters[vlan_owner[id] - 1];
                                vcm_diags_error(diags, c->network.vlan_pos,
                                                "VLAN %u is already used by cluster '%s' (%s): pick another or use 'auto'",
                                                id, o->name, o->file);
                        } else if (id < 4096) {
                                vlan_owner[id] = i + 1;
                        }
                }
                if (site)
                        check_site_roles(site, c, diags);
        }
        free(vlan_owner);
        check_vlan_range(repo, diags);
        diags_sanitize(diags, first_diag);
        vcm_diags_sort(diags);
}
