/* Rendering a node's NoCloud files from the model (seed.h). Output is YAML written by hand:
 * every string vcm did not make itself is double-quoted with escapes, file contents are literal
 * blocks when that reads back exactly, so a Roll cannot inject keys into a seed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reconciler/desired.h"
#include "reconciler/seed.h"
#include "reconciler/util.h"
#include "specs/check.h"

void vcm_seed_clear(vcm_seed *s) {
        free(s->meta_data);
        free(s->user_data);
        free(s->network_config);
        *s = (vcm_seed){ 0 };
}

void vcm_seed_entries(const vcm_seed *s, vcm_seed_entry ret[VCM_SEED_N_FILES]) {
        ret[0] = (vcm_seed_entry){ "meta-data", s->meta_data };
        ret[1] = (vcm_seed_entry){ "user-data", s->user_data };
        ret[2] = (vcm_seed_entry){ "network-config", s->network_config };
}

/* The group of node "<group>-<index>" and the index; NULL when the cluster has no such node. */
static const vcm_node_group *find_group(const vcm_cluster *c, const char *node, uint32_t *ret_base,
                                        uint32_t *ret_index) {
        uint32_t base = 2;
        for (size_t g = 0; g < c->n_nodes; g++) {
                const vcm_node_group *grp = &c->nodes[g];
                size_t len = strlen(grp->name);
                if (strncmp(node, grp->name, len) == 0 && node[len] == '-' && node[len + 1]) {
                        char *end;
                        unsigned long i = strtoul(node + len + 1, &end, 10);
                        /* "-" then digits only, no leading zero: the names desired() makes. */
                        if (!*end && node[len + 1] >= '0' && node[len + 1] <= '9' &&
                            (node[len + 1] != '0' || !node[len + 2]) && i < grp->count) {
                                *ret_base = base;
                                *ret_index = (uint32_t)i;
                                return grp;
                        }
                }
                base += grp->count;
        }
        return NULL;
}

int vcm_seed_node_index(const vcm_cluster *c, const char *node, uint32_t *ret) {
        if (strcmp(node, "frontend") == 0) {
                *ret = 1;
                return 0;
        }
        uint32_t base, i;
        if (!find_group(c, node, &base, &i))
                return -ENOENT;
        *ret = base + i;
        return 0;
}

static void put_quoted(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p == '\t')
                        fputs("\\t", f);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

/* `key:` and its items, quoted; an empty list is `key: []` when `always`, else left out. */
static void put_list(FILE *f, const char *key, const char *const *items, size_t n, bool always) {
        if (!n) {
                if (always)
                        fprintf(f, "%s: []\n", key);
                return;
        }
        fprintf(f, "%s:\n", key);
        for (size_t i = 0; i < n; i++) {
                fputs("  - ", f);
                put_quoted(f, items[i]);
                fputc('\n', f);
        }
}

/* A literal block reads back byte for byte when no line starts with a space (the indentation
 * would be taken as content), there are no control characters but tab and newline, and the
 * content has some text. */
static bool block_safe(const char *s) {
        bool text = false, line_start = true;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (line_start && *p == ' ')
                        return false;
                if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
                        return false;
                if (*p != '\n')
                        text = true;
                line_start = *p == '\n';
        }
        return text;
}

/* `key: value` for file contents at `indent` spaces. */
static void put_content(FILE *f, int indent, const char *s) {
        if (!block_safe(s)) {
                fprintf(f, "%*scontent: ", indent, "");
                put_quoted(f, s);
                fputc('\n', f);
                return;
        }
        size_t len = strlen(s), nl = 0;
        while (nl < len && s[len - 1 - nl] == '\n')
                nl++;
        fprintf(f, "%*scontent: |%s\n", indent, "", nl == 0 ? "-" : nl == 1 ? "" : "+");
        const char *p = s, *end = s + len - nl;
        while (p < end) {
                const char *e = memchr(p, '\n', (size_t)(end - p));
                size_t l = e ? (size_t)(e - p) : (size_t)(end - p);
                if (l)
                        fprintf(f, "%*s%.*s\n", indent + 2, "", (int)l, p);
                else
                        fputc('\n', f);
                p += l + 1;
        }
        for (size_t i = 1; i < nl; i++)
                fputc('\n', f);
}

static void put_file(FILE *f, const char *path, uint32_t mode, const char *content,
                     const char *from) {
        if (from)
                fprintf(f, "  # from Roll %s\n", from);
        fputs("  - path: ", f);
        put_quoted(f, path);
        fprintf(f, "\n    permissions: \"%04o\"\n", mode);
        put_content(f, 4, content);
}

static void ip_text(uint32_t a, char ret[16]) {
        snprintf(ret, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

typedef struct seed_net {
        char addr[16], frontend[16], network[16], netmask[16];
        unsigned prefix;
} seed_net;

static int seed_net_for(const vcm_cluster *c, uint32_t index, seed_net *ret) {
        unsigned p = c->network.subnet_prefix;
        uint32_t base = c->network.subnet_addr;
        int prefix;
        /* Models built without the loader (tests) may carry the text only. */
        if (p == 0 && c->network.subnet && parse_cidr(c->network.subnet, &base, &prefix))
                p = (unsigned)prefix;
        if (p < 8 || p > 30)
                return -EINVAL;
        uint32_t hosts = (UINT32_C(1) << (32 - p)) - 2; /* without network and broadcast */
        if (index < 1 || index > hosts)
                return -ERANGE;
        uint32_t mask = ~((UINT32_C(1) << (32 - p)) - 1);
        base &= mask;
        ip_text(base + index, ret->addr);
        ip_text(base + 1, ret->frontend);
        ip_text(base, ret->network);
        ip_text(mask, ret->netmask);
        ret->prefix = p;
        return 0;
}

/* Every node's name, address and MAC: the frontend's DNS and DHCP tables. */
static int put_cluster_tables(FILE *f, const vcm_repo *repo, const vcm_cluster *c) {
        char *hosts = NULL, *dhcp = NULL;
        size_t hl = 0, dl = 0;
        FILE *h = open_memstream(&hosts, &hl), *d = open_memstream(&dhcp, &dl);
        if (!h || !d) {
                if (h)
                        fclose(h);
                free(hosts);
                return -ENOMEM;
        }
        int r = 0;
        for (size_t g = 0; g <= c->n_nodes && r == 0; g++) {
                uint32_t count = g == 0 ? 1 : c->nodes[g - 1].count;
                for (uint32_t i = 0; i < count && r == 0; i++) {
                        char node[96], mac[18];
                        if (g == 0)
                                snprintf(node, sizeof(node), "frontend");
                        else
                                snprintf(node, sizeof(node), "%s-%u", c->nodes[g - 1].name, i);
                        uint32_t idx;
                        seed_net net;
                        r = vcm_seed_node_index(c, node, &idx);
                        if (r == 0)
                                r = seed_net_for(c, idx, &net);
                        if (r < 0)
                                break;
                        vcm_mac_for(repo->site ? repo->site->name : "", c->name, node, 0, mac);
                        fprintf(h, "%s %s.%s %s\n", net.addr, node, c->name, node);
                        fprintf(d, "%s,%s,%s\n", mac, net.addr, node);
                }
        }
        fclose(h);
        fclose(d);
        if (r == 0) {
                put_file(f, "/etc/vcm/hosts", 0644, hosts, NULL);
                put_file(f, "/etc/vcm/dhcp-hosts", 0644, dhcp, NULL);
        }
        free(hosts);
        free(dhcp);
        return r;
}

/* ret_own: the length of the part that is the node's own, before the cluster's tables. */
static int render_user_data(FILE *f, const vcm_repo *repo, const vcm_cluster *c,
                            const vcm_seed_node *n, const seed_net *net,
                            const vcm_seed_merged *m, size_t *ret_own) {
        fputs("#cloud-config\n", f);
        fprintf(f, "# vcm seed of node %s in cluster %s (appliance %s).\n", n->node, c->name,
                n->appliance);
        fputs("# Rolls merged in this order:", f);
        for (size_t i = 0; i < c->n_rolls; i++)
                fprintf(f, "%s %s", i ? "," : "", c->rolls[i]);
        fputs(c->n_rolls ? ". See docs/rolls.md.\n" : " none.\n", f);
        fprintf(f, "fqdn: %s.%s\n", n->node, c->name);
        fputs("prefer_fqdn_over_hostname: true\nmanage_etc_hosts: true\n", f);
        /* Keys go to root too, as on a Rocks cluster where the owner administers it. */
        fputs("disable_root: false\n", f);
        put_list(f, "ssh_authorized_keys", (const char *const *)c->ssh_keys, c->n_ssh_keys,
                 true);
        if (m->n_packages)
                fputs("package_update: true\n", f);
        put_list(f, "packages", m->packages, m->n_packages, false);
        put_list(f, "runcmd", m->runcmd, m->n_runcmd, false);
        fputs("write_files:\n", f);
        char *env = NULL;
        size_t el = 0;
        FILE *e = open_memstream(&env, &el);
        if (!e)
                return -ENOMEM;
        fprintf(e, "VCM_CLUSTER=%s\nVCM_NODE=%s\nVCM_FQDN=%s.%s\nVCM_APPLIANCE=%s\n", c->name,
                n->node, n->node, c->name, n->appliance);
        fprintf(e, "VCM_INSTALL=%s\nVCM_ROLLS=\"", n->install == VCM_INSTALL_PXE ? "pxe" : "image");
        for (size_t i = 0; i < c->n_rolls; i++)
                fprintf(e, "%s%s", i ? " " : "", c->rolls[i]);
        fprintf(e, "\"\nVCM_SUBNET=%s/%u\nVCM_NETWORK=%s\nVCM_NETMASK=%s\nVCM_PREFIX=%u\n",
                net->network, net->prefix, net->network, net->netmask, net->prefix);
        fprintf(e, "VCM_ADDRESS=%s\nVCM_FRONTEND_ADDRESS=%s\n", net->addr, net->frontend);
        fprintf(e, "VCM_PRIVATE_IF=private\nVCM_EXTERNAL_IF=%s\n", n->mac1 ? "external" : "");
        fprintf(e, "VCM_SHARED_STORAGE=%s\n",
                n->frontend && c->shared_storage ? "/dev/vdb" : "");
        fclose(e);
        put_file(f, "/etc/vcm/cluster.env", 0644, env, NULL);
        free(env);
        for (size_t i = 0; i < m->n_files; i++) {
                const vcm_seed_file *sf = &m->files[i];
                char from[160];
                if (sf->overrides)
                        snprintf(from, sizeof(from), "%s (replaces Roll %s's file)", sf->roll,
                                 sf->overrides);
                else
                        snprintf(from, sizeof(from), "%s", sf->roll);
                put_file(f, sf->file->path, sf->file->mode, sf->file->content, from);
        }
        /* Last, so what comes before is the node's own part (vcm_seed.boot_digest). */
        if (fflush(f) != 0)
                return -ENOMEM;
        *ret_own = (size_t)ftell(f);
        if (n->frontend) {
                int r = put_cluster_tables(f, repo, c);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void render_network(FILE *f, const vcm_cluster *c, const vcm_seed_node *n,
                           const seed_net *net) {
        fputs("version: 2\nethernets:\n  private:\n    match:\n", f);
        fprintf(f, "      macaddress: \"%s\"\n    set-name: private\n", n->mac0);
        fprintf(f, "    addresses:\n      - %s/%u\n", net->addr, net->prefix);
        if (!n->frontend) {
                /* The frontend routes and answers names for its nodes. */
                fprintf(f, "    routes:\n      - to: 0.0.0.0/0\n        via: %s\n", net->frontend);
                fprintf(f, "    nameservers:\n      addresses: [%s]\n      search: [%s]\n",
                        net->frontend, c->name);
        }
        if (n->mac1) {
                fputs("  external:\n    match:\n", f);
                fprintf(f, "      macaddress: \"%s\"\n    set-name: external\n", n->mac1);
                fputs("    dhcp4: true\n", f);
        }
}

static uint64_t digest_add(uint64_t h, const char *name, const char *content) {
        h = vcm_fnv1a(h, name, strlen(name) + 1);
        return vcm_fnv1a(h, content, strlen(content) + 1);
}

static int stream_close(FILE *f, char **buf) {
        bool bad = ferror(f);
        if (fclose(f) != 0 || bad) {
                free(*buf);
                *buf = NULL;
                return -ENOMEM;
        }
        return 0;
}

int vcm_seed_render(const vcm_repo *repo, const vcm_cluster *c, const vcm_seed_node *n,
                    vcm_seed *ret) {
        if (!n->mac0)
                return -EINVAL;
        uint32_t index;
        int r = vcm_seed_node_index(c, n->node, &index);
        if (r < 0)
                return r;
        seed_net net;
        r = seed_net_for(c, index, &net);
        if (r < 0)
                return r;
        vcm_seed_merged m = { 0 };
        r = vcm_seed_merge(repo, c, n->appliance, &m);
        if (r < 0)
                return r;

        vcm_seed s = { 0 };
        size_t len;
        FILE *f = open_memstream(&s.user_data, &len);
        if (!f) {
                vcm_seed_merged_clear(&m);
                return -ENOMEM;
        }
        size_t own = 0;
        r = render_user_data(f, repo, c, n, &net, &m, &own);
        vcm_seed_merged_clear(&m);
        int r2 = stream_close(f, &s.user_data);
        if (r < 0 || r2 < 0) {
                vcm_seed_clear(&s);
                return r < 0 ? r : r2;
        }
        f = open_memstream(&s.network_config, &len);
        if (!f) {
                vcm_seed_clear(&s);
                return -ENOMEM;
        }
        render_network(f, c, n, &net);
        if ((r = stream_close(f, &s.network_config)) < 0) {
                vcm_seed_clear(&s);
                return r;
        }
        /* The instance id follows the content: cloud-init runs its per-instance modules (keys,
         * files, commands) again when it changes, so a changed seed is applied at next boot. */
        /* What the node itself gets is the user-data's first `own` bytes (the frontend's tables
         * of the other nodes follow). FNV-1a is a left fold, so the whole file's digest goes on
         * from that prefix's: the same values as hashing each from the start, read once. */
        uint64_t b = vcm_fnv1a(VCM_FNV_INIT, "user-data", sizeof("user-data"));
        b = vcm_fnv1a(b, s.user_data, own);
        uint64_t h = vcm_fnv1a(b, s.user_data + own, strlen(s.user_data + own) + 1);
        h = digest_add(h, "network-config", s.network_config);
        s.boot_digest = digest_add(b, "network-config", s.network_config);
        f = open_memstream(&s.meta_data, &len);
        if (!f) {
                vcm_seed_clear(&s);
                return -ENOMEM;
        }
        fprintf(f, "instance-id: %s-%s-%08x\n", c->name, n->node, (unsigned)(h >> 32));
        fprintf(f, "local-hostname: %s.%s\n", n->node, c->name);
        fprintf(f, "vcm-cluster: %s\nvcm-node: %s\nvcm-appliance: %s\n", c->name, n->node,
                n->appliance);
        if ((r = stream_close(f, &s.meta_data)) < 0) {
                vcm_seed_clear(&s);
                return r;
        }
        s.digest = digest_add(h, "meta-data", s.meta_data);
        *ret = s;
        return 0;
}

int vcm_seed_render_node(const vcm_repo *repo, const vcm_cluster *c, const char *node,
                         vcm_seed *ret) {
        uint32_t index;
        int r = vcm_seed_node_index(c, node, &index);
        if (r < 0)
                return r;
        vcm_seed_node n = { .node = node, .frontend = index == 1 };
        if (n.frontend) {
                n.appliance = "frontend";
        } else {
                uint32_t base, i;
                const vcm_node_group *g = find_group(c, node, &base, &i);
                /* As placement names it (reconciler/placement.c). */
                n.appliance = g->appliance ? g->appliance : "compute";
                n.install = g->install;
        }
        const char *site = repo->site ? repo->site->name : "";
        char mac0[18], mac1[18];
        vcm_mac_for(site, c->name, node, 0, mac0);
        n.mac0 = mac0;
        bool ext = false;
        for (size_t i = 0; repo->site && i < repo->site->n_hosts; i++)
                ext |= (repo->site->hosts[i].roles & VCM_ROLE_GATEWAY) &&
                       repo->site->hosts[i].external;
        if (n.frontend && c->frontend.external && ext) {
                vcm_mac_for(site, c->name, node, 1, mac1);
                n.mac1 = mac1;
        }
        return vcm_seed_render(repo, c, &n, ret);
}
