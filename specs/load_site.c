/* site.yaml -> vcm_site. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "load.h"
#include "load_internal.h"

static const char *const role_names[] = { "gateway", "vm-server", "storage" };

static void missing(spec_ctx *c, const ynode *host, const vcm_host *h, const char *key, const char *why) {
        ctx_error(c, host, "missing required key '%s' in host '%s': %s", key, h->name ? h->name : "?", why);
}

static void load_host(spec_ctx *c, const ynode *n, vcm_site *s, vcm_host *h) {
        static const key_spec keys[] = {
                { "name", true },    { "roles", false },       { "libvirt", false }, { "agent", false },
                { "capacity", false }, { "trunk", false },     { "external", false }, { "volumeGroup", false },
                { "portal", false }, { "poolPath", false },    { "domainType", false },
        };
        static const char *const domain_types[] = { "auto", "kvm", "qemu" };
        const ynode *v[ELEMENTSOF(keys)];
        h->pos = ctx_pos(c, n);
        if (!map_fields(c, n, "the host", keys, ELEMENTSOF(keys), v))
                return;
        if (v[0] && get_str(c, v[0], "name", &h->name) && check_host_name(h->name))
                ctx_error(c, v[0],
                          "host name '%s' is not valid: use lower-case letters, digits, '-' and '.' "
                          "as in a DNS name",
                          h->name);
        if (!v[1])
                ctx_error(c, n, "missing required key 'roles' in the host");
        else if (get_seq(c, v[1], "roles")) {
                if (v[1]->n == 0)
                        ctx_error(c, v[1], "'roles' must list at least one of gateway, vm-server, storage");
                for (size_t i = 0; i < v[1]->n; i++) {
                        int r;
                        if (!get_enum(c, v[1]->items[i], "roles", role_names, 3, &r))
                                continue;
                        if (h->roles & (1u << r))
                                ctx_error(c, v[1]->items[i], "role '%s' is listed twice", role_names[r]);
                        h->roles |= 1u << r;
                }
        }
        if (v[2])
                get_str(c, v[2], "libvirt", &h->libvirt);
        if (v[3]) {
                get_strlist(c, v[3], "agent", &h->agent, &h->n_agent, NULL);
                if (v[3]->kind == YNODE_SEQ && v[3]->n == 0)
                        ctx_error(c, v[3], "'agent' must be a command such as [ssh, root@host, vcm, agent], or left out for this host");
        }
        if (v[4]) {
                /* {vcpus, memory} for the hosts that run VMs, {storage} alone for a storage-only
                 * host (its volume group's room for cluster volumes), or all three. */
                static const key_spec cap_keys[] = { { "vcpus", false }, { "memory", false },
                                                     { "storage", false } };
                const ynode *cv[3];
                if (map_fields(c, v[4], "capacity", cap_keys, 3, cv)) {
                        int64_t i;
                        bool storage_only = cv[2] && !cv[0] && !cv[1] &&
                                            !(h->roles & (VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER));
                        for (size_t k = 0; k < 2 && !storage_only; k++)
                                if (!cv[k])
                                        ctx_error(c, v[4], "missing required key '%s' in capacity",
                                                  cap_keys[k].name);
                        if (cv[0] && get_int(c, cv[0], "vcpus", 1, 1 << 20, &i))
                                h->capacity_vcpus = (uint32_t)i;
                        if (cv[1])
                                get_size(c, cv[1], "memory", &h->capacity_memory);
                        if (cv[2])
                                get_size(c, cv[2], "storage", &h->capacity_storage);
                }
        }
        if (v[5])
                get_str(c, v[5], "trunk", &h->trunk);
        if (v[6])
                get_str(c, v[6], "external", &h->external);
        if (v[7])
                get_str(c, v[7], "volumeGroup", &h->volume_group);
        if (v[8] && get_str(c, v[8], "portal", &h->portal) && !check_portal(h->portal))
                ctx_error(c, v[8], "portal '%s' is not valid: use IP:PORT such as 192.0.2.10:3260", h->portal);
        if (v[9] && get_str(c, v[9], "poolPath", &h->pool_path) && h->pool_path[0] != '/')
                ctx_error(c, v[9], "poolPath '%s' must be an absolute path such as /var/lib/vcm/pool", h->pool_path);
        int e;
        if (v[10] && get_enum(c, v[10], "domainType", domain_types, 3, &e))
                h->domain_type = (vcm_domain_type)e;

        vcm_pos *pp[] = { &h->name_pos,         &h->roles_pos,    &h->libvirt_pos,   &h->agent_pos,
                          &h->capacity_pos,     &h->trunk_pos,    &h->external_pos,  &h->volume_group_pos,
                          &h->portal_pos,       &h->pool_path_pos, &h->domain_type_pos };
        for (size_t i = 0; i < ELEMENTSOF(pp); i++)
                *pp[i] = ctx_pos(c, v[i]);

        bool runs_vms = h->roles & (VCM_ROLE_GATEWAY | VCM_ROLE_VM_SERVER);
        if (runs_vms && !v[2])
                missing(c, n, h, "libvirt", "gateway and vm-server hosts need a libvirt URI such as qemu:///system");
        if (runs_vms && !v[4])
                missing(c, n, h, "capacity", "gateway and vm-server hosts need {vcpus, memory}");
        if (runs_vms && s->network_backend == VCM_NET_VLAN && !v[5])
                missing(c, n, h, "trunk", "with the vlan network backend, gateway and vm-server hosts need the NIC that carries the VLANs");
        if ((h->roles & VCM_ROLE_STORAGE) && s->storage_backend != VCM_STORAGE_FILE && !v[7])
                missing(c, n, h, "volumeGroup", "storage hosts need the LVM volume group for the lvm and lvm-iscsi backends");
        if ((h->roles & VCM_ROLE_STORAGE) && s->storage_backend == VCM_STORAGE_LVM_ISCSI && !v[8])
                missing(c, n, h, "portal", "storage hosts need an iSCSI portal IP:PORT for the lvm-iscsi backend");
}

static void load_image(spec_ctx *c, const ynode *k, const ynode *n, vcm_image *im) {
        static const key_spec keys[] = {
                { "volume", false }, { "file", false }, { "kernel", false }, { "initrd", false }, { "cmdline", false },
        };
        const ynode *v[ELEMENTSOF(keys)];
        im->appliance = ctx_strdup(c, k->value);
        im->pos = ctx_pos(c, k);
        if (!map_fields(c, n, "the image", keys, ELEMENTSOF(keys), v))
                return;
        char **dst[] = { &im->volume, &im->file, &im->kernel, &im->initrd, &im->cmdline };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (v[i])
                        get_str(c, v[i], keys[i].name, dst[i]);
        int kinds = !!v[0] + !!v[1] + !!v[2];
        if (kinds != 1)
                ctx_error(c, n, "image for '%s' must have exactly one of 'volume', 'file' or 'kernel'", k->value);
        if (!v[2] && (v[3] || v[4]))
                ctx_error(c, v[3] ? v[3] : v[4], "'initrd' and 'cmdline' go with 'kernel' only");
}

void load_site(spec_ctx *c, const ynode *root, vcm_site *s) {
        const ynode *meta, *spec;
        s->pos = ctx_pos(c, root);
        load_header(c, root, "Site", "site.yaml", &meta, &spec);
        static const key_spec meta_keys[] = { { "name", true } };
        const ynode *m[1];
        if (meta && map_fields(c, meta, "metadata", meta_keys, 1, m) && m[0]) {
                get_str(c, m[0], "name", &s->name);
                s->name_pos = ctx_pos(c, m[0]);
        }
        if (!spec)
                return;
        static const key_spec keys[] = {
                { "network", true }, { "storage", true }, { "hosts", true }, { "images", false },
        };
        const ynode *v[ELEMENTSOF(keys)];
        if (!map_fields(c, spec, "spec", keys, ELEMENTSOF(keys), v))
                return;

        static const key_spec net_keys[] = { { "backend", true }, { "vlanRange", false } };
        static const char *const net_backends[] = { "vlan", "bridge" };
        const ynode *nv[2];
        s->network_pos = ctx_pos(c, v[0]);
        if (v[0] && map_fields(c, v[0], "network", net_keys, 2, nv)) {
                int e;
                if (nv[0] && get_enum(c, nv[0], "backend", net_backends, 2, &e))
                        s->network_backend = (vcm_net_backend)e;
                s->backend_pos = ctx_pos(c, nv[0]);
                s->vlan_range_pos = ctx_pos(c, nv[1]);
                if (!nv[1] && s->network_backend == VCM_NET_VLAN && nv[0])
                        ctx_error(c, v[0], "missing required key 'vlanRange' in network: the vlan backend needs {from, to}");
                static const key_spec range_keys[] = { { "from", true }, { "to", true } };
                const ynode *rv[2];
                if (nv[1] && map_fields(c, nv[1], "vlanRange", range_keys, 2, rv)) {
                        int64_t from = 0, to = 0;
                        bool ok = rv[0] && get_int(c, rv[0], "from", 1, 4094, &from);
                        ok = (rv[1] && get_int(c, rv[1], "to", 1, 4094, &to)) && ok;
                        if (ok && from > to)
                                ctx_error(c, rv[1], "vlanRange 'to' (%lld) is below 'from' (%lld)", (long long)to,
                                          (long long)from);
                        else if (ok) {
                                s->vlan_from = (uint32_t)from;
                                s->vlan_to = (uint32_t)to;
                        }
                }
        }
        static const key_spec st_keys[] = { { "backend", true } };
        static const char *const st_backends[] = { "lvm-iscsi", "lvm", "file" };
        const ynode *sv[1];
        s->storage_pos = ctx_pos(c, v[1]);
        if (v[1] && map_fields(c, v[1], "storage", st_keys, 1, sv) && sv[0]) {
                int e;
                if (get_enum(c, sv[0], "backend", st_backends, 3, &e))
                        s->storage_backend = (vcm_storage_backend)e;
        }

        s->hosts_pos = ctx_pos(c, v[2]);
        if (v[2] && get_seq(c, v[2], "hosts")) {
                if (v[2]->n == 0)
                        ctx_error(c, v[2], "'hosts' must list at least one host");
                s->hosts = calloc(v[2]->n + 1, sizeof(*s->hosts));
                if (!s->hosts) {
                        c->oom = true;
                        return;
                }
                s->n_hosts = v[2]->n;
                unsigned roles = 0;
                for (size_t i = 0; i < s->n_hosts; i++) {
                        vcm_host *h = &s->hosts[i];
                        load_host(c, v[2]->items[i], s, h);
                        roles |= h->roles;
                        for (size_t j = 0; h->name && j < i; j++)
                                if (s->hosts[j].name && strcmp(s->hosts[j].name, h->name) == 0) {
                                        vcm_diags_error(c->diags, h->name_pos,
                                                        "host name '%s' is already used at line %d: host names must be unique",
                                                        h->name, s->hosts[j].name_pos.line);
                                        c->n_errors++;
                                        break;
                                }
                }
                if (s->storage_backend == VCM_STORAGE_LVM_ISCSI && s->n_hosts && !(roles & VCM_ROLE_STORAGE))
                        ctx_error(c, v[2], "the lvm-iscsi storage backend needs a host with role 'storage'");
        }

        s->images_pos = ctx_pos(c, v[3]);
        if (v[3]) {
                size_t pairs = v[3]->kind == YNODE_MAP ? ynode_n_pairs(v[3]) : 0;
                bool *ok = calloc(pairs + 1, sizeof(*ok));
                s->images = calloc(pairs + 1, sizeof(*s->images));
                if (!ok || !s->images) {
                        free(ok);
                        c->oom = true;
                        return;
                }
                if (map_check_free(c, v[3], "images", ok))
                        for (size_t p = 0; p < pairs; p++)
                                if (ok[p])
                                        load_image(c, v[3]->items[2 * p], v[3]->items[2 * p + 1],
                                                   &s->images[s->n_images++]);
                free(ok);
        }
}
