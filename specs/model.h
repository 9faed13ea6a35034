/* The typed, immutable model of a spec repository: VirtualCluster, Site and Roll (DESIGN.md §2).
 *
 * Built once by the loader (specs/load.h) and never changed afterwards; every stage after
 * loading reads it through const pointers. Every value keeps the position it was read from so
 * that later stages (capacity checks, plan errors) can point at the spec. Strings are owned by the
 * model and freed by vcm_repo_free(). */
#ifndef VCM_MODEL_H
#define VCM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"

#define VCM_NAME_MAX 24          /* metadata.name of a cluster */
#define VCM_NODE_COUNT_MAX 1024  /* nodes in one group */

/* ---- VirtualCluster ---------------------------------------------------------------------- */

typedef enum vcm_on_expire {
        VCM_ON_EXPIRE_RELEASE,      /* delete VMs, wipe and delete volumes */
        VCM_ON_EXPIRE_KEEP_VOLUMES, /* delete VMs, keep volumes */
} vcm_on_expire;

typedef enum vcm_install {
        VCM_INSTALL_IMAGE, /* clone the appliance image */
        VCM_INSTALL_PXE,   /* network-install from the frontend */
} vcm_install;

/* Weekday bits follow struct tm's tm_wday: bit 0 is Sunday, bit 6 Saturday. */
enum {
        VCM_DAY_SUN = 1 << 0,
        VCM_DAY_MON = 1 << 1,
        VCM_DAY_TUE = 1 << 2,
        VCM_DAY_WED = 1 << 3,
        VCM_DAY_THU = 1 << 4,
        VCM_DAY_FRI = 1 << 5,
        VCM_DAY_SAT = 1 << 6,
};

/* One recurring slot: on these weekdays, from..to local time in `timezone`. */
typedef struct vcm_slot {
        uint8_t days;       /* VCM_DAY_* bits */
        int from_minute;    /* minutes after local midnight, 0..1439 */
        int to_minute;      /* minutes after local midnight, 1..1440 ("24:00" allowed) */
        char *timezone;     /* IANA name, e.g. "Asia/Tokyo" */
        vcm_pos pos, days_pos, from_pos, to_pos, timezone_pos;
} vcm_slot;

typedef struct vcm_window {
        bool has_start, has_end;
        int64_t start, end;           /* Unix seconds; meaningful when has_start / has_end */
        char *start_text, *end_text;  /* as written, RFC 3339 with offset */
        vcm_slot *recurring;
        size_t n_recurring;
        vcm_pos pos, start_pos, end_pos, recurring_pos;
} vcm_window;

typedef struct vcm_frontend {
        uint32_t vcpus;
        uint64_t memory;  /* bytes */
        uint64_t disk;    /* bytes */
        bool external;    /* second NIC on the site's external network */
        vcm_pos pos, vcpus_pos, memory_pos, disk_pos, external_pos;
} vcm_frontend;

typedef struct vcm_node_group {
        char *name;       /* nodes are <name>-0 .. <name>-(count-1) */
        char *appliance;
        uint32_t count;
        uint32_t vcpus;
        uint64_t memory;  /* bytes */
        uint64_t disk;    /* bytes */
        vcm_install install;
        vcm_pos pos, name_pos, appliance_pos, count_pos, vcpus_pos, memory_pos, disk_pos,
                install_pos;
} vcm_node_group;

typedef struct vcm_cluster_network {
        bool vlan_auto;   /* vlan: auto */
        uint32_t vlan;    /* fixed id when !vlan_auto */
        char *subnet;     /* as written, e.g. "10.10.0.0/24" */
        uint32_t subnet_addr; /* host byte order, network address */
        uint8_t subnet_prefix;
        vcm_pos pos, vlan_pos, subnet_pos;
} vcm_cluster_network;

typedef struct vcm_cluster {
        char *file;       /* path relative to the repository root, e.g. "clusters/physics-lab.yaml" */
        char *name;
        char *owner;
        bool has_window;
        vcm_window window;
        vcm_on_expire on_expire;
        bool suspend;
        char **rolls;     /* n_rolls names, in spec order */
        size_t n_rolls;
        vcm_pos *rolls_pos;
        char **ssh_keys;  /* n_ssh_keys OpenSSH public key lines */
        size_t n_ssh_keys;
        vcm_pos *ssh_keys_pos;
        vcm_cluster_network network;
        vcm_frontend frontend;
        vcm_node_group *nodes;
        size_t n_nodes;
        uint64_t shared_storage; /* bytes; 0 when absent */
        /* When the cluster's file entered the source's branch: git sources set the first-parent
         * position of the commit that added it (1 = oldest) and that commit; 0/NULL when unknown
         * (directory sources). Earlier admission keeps a contested reservation. */
        uint64_t admitted;
        char *admitted_commit;
        vcm_pos pos, name_pos, owner_pos, on_expire_pos, suspend_pos, rolls_list_pos,
                ssh_keys_list_pos, nodes_list_pos, shared_storage_pos;
} vcm_cluster;

/* ---- Site -------------------------------------------------------------------------------- */

typedef enum vcm_net_backend {
        VCM_NET_VLAN,   /* tagged VLANs on each host's trunk */
        VCM_NET_BRIDGE, /* one host, no trunk: an isolated bridge per cluster */
} vcm_net_backend;

typedef enum vcm_storage_backend {
        VCM_STORAGE_LVM_ISCSI,
        VCM_STORAGE_LVM,
        VCM_STORAGE_FILE,
} vcm_storage_backend;

enum {
        VCM_ROLE_GATEWAY = 1 << 0,   /* hosts frontends */
        VCM_ROLE_VM_SERVER = 1 << 1, /* hosts nodes */
        VCM_ROLE_STORAGE = 1 << 2,   /* volumes and iSCSI targets */
};

typedef enum vcm_domain_type {
        VCM_DOMAIN_TYPE_AUTO, /* kvm when KVM really works on the host, else qemu (TCG) */
        VCM_DOMAIN_TYPE_KVM,
        VCM_DOMAIN_TYPE_QEMU,
} vcm_domain_type;

typedef struct vcm_host {
        char *name;
        unsigned roles;         /* VCM_ROLE_* bits */
        char *libvirt;          /* libvirt URI; NULL when the host runs no domains */
        char **agent;           /* argv to reach the host's agent, NULL-terminated; NULL: this host */
        size_t n_agent;
        uint32_t capacity_vcpus;   /* 0 when not given */
        uint64_t capacity_memory;  /* bytes; 0 when not given */
        uint64_t capacity_storage; /* bytes of the volume group for cluster volumes; 0: not given */
        char *trunk;            /* NIC carrying tagged VLANs */
        char *external;         /* existing bridge for frontends' public NICs */
        char *volume_group;     /* storage hosts */
        char *portal;           /* storage hosts: "IP:PORT" */
        char *pool_path;        /* file backend: directory of the libvirt pool; NULL: default */
        vcm_domain_type domain_type;
        vcm_pos pos, name_pos, roles_pos, libvirt_pos, agent_pos, capacity_pos, trunk_pos,
                external_pos, volume_group_pos, portal_pos, pool_path_pos, domain_type_pos;
} vcm_host;

/* An appliance image: a volume or file that node disks are cloned from, or a kernel and initrd
 * booted directly (tiny test guests, diskless appliances). Exactly one of volume, file, kernel. */
typedef struct vcm_image {
        char *appliance;  /* key under spec.images */
        char *volume;     /* volume name in the storage host's VG or pool */
        char *file;       /* image file path on the storage host */
        char *kernel;     /* direct kernel boot: kernel path on the VM host */
        char *initrd;     /* optional with kernel */
        char *cmdline;    /* optional with kernel */
        vcm_pos pos;
} vcm_image;

typedef struct vcm_site {
        char *file;       /* "site.yaml" */
        char *name;
        vcm_net_backend network_backend;
        uint32_t vlan_from, vlan_to; /* inclusive; VLAN backend */
        vcm_storage_backend storage_backend;
        vcm_host *hosts;
        size_t n_hosts;
        vcm_image *images;
        size_t n_images;
        vcm_pos pos, name_pos, network_pos, backend_pos, vlan_range_pos, storage_pos, hosts_pos,
                images_pos;
} vcm_site;

/* ---- Roll -------------------------------------------------------------------------------- */

typedef struct vcm_roll_file {
        char *path;       /* absolute path in the guest */
        char *content;
        uint32_t mode;    /* octal permission bits; 0644 when not given */
        vcm_pos pos;
} vcm_roll_file;

/* What one Roll gives one appliance. */
typedef struct vcm_roll_appliance {
        char *name;       /* appliance name, e.g. "frontend", "compute" */
        char **packages;
        size_t n_packages;
        char **runcmd;
        size_t n_runcmd;
        vcm_roll_file *files;
        size_t n_files;
        vcm_pos pos;
} vcm_roll_appliance;

typedef struct vcm_roll {
        char *file;
        char *name;
        vcm_roll_appliance *appliances;
        size_t n_appliances;
        vcm_pos pos, name_pos;
} vcm_roll;

/* ---- Repository -------------------------------------------------------------------------- */

typedef struct vcm_repo {
        vcm_site *site;           /* NULL when site.yaml is missing or failed to load */
        vcm_cluster *clusters;    /* sorted by name */
        size_t n_clusters;
        vcm_roll *rolls;          /* sorted by name */
        size_t n_rolls;
        char **failed_files;      /* cluster files that did not load; their clusters are unknown */
        size_t n_failed_files;
        char *commit;             /* source commit id, or NULL for a directory source */
        void *strings;            /* interned file names that vcm_pos.file points into */
} vcm_repo;

void vcm_repo_free(vcm_repo *repo);
static inline void vcm_repo_freep(vcm_repo **r) {
        vcm_repo_free(*r);
}
#define _cleanup_repo_ _cleanup_(vcm_repo_freep)

const vcm_cluster *vcm_repo_find_cluster(const vcm_repo *repo, const char *name);
const vcm_roll *vcm_repo_find_roll(const vcm_repo *repo, const char *name);
const vcm_host *vcm_site_find_host(const vcm_site *site, const char *name);
const vcm_image *vcm_site_find_image(const vcm_site *site, const char *appliance);

/* Number of nodes in the cluster, the frontend included. */
size_t vcm_cluster_node_count(const vcm_cluster *c);

#endif
