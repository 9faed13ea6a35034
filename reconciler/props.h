/* The property vocabulary shared by desired() and the providers: which keys each kind carries.
 * Values are strings; sizes are bytes in decimal; booleans "true"/"false".
 *
 * Common to every kind (desired and observed):
 *   resource->cluster        owning cluster
 *
 * domain (name: "<cluster>-<node>", e.g. "physics-lab-compute-3"; host: the VM host)
 *   node          "frontend" or "<group>-<index>"
 *   appliance     appliance name
 *   vcpus         decimal
 *   memory        bytes
 *   state         "running" (desired); observed: "running" | "shutoff" | "paused" | ...
 *   disk0         "file:<pool>/<volume>" | "block:<path>" | "iscsi:<portal>/<iqn>/<lun>"
 *                 (file: pool VCM_FILE_POOL; lvm: block:/dev/<vg>/<volume>; lvm-iscsi: the
 *                 cluster's target VCM_IQN_PREFIX<cluster>, LUN 0 shared storage, 1.. nodes)
 *   disk0.initiator  initiator IQN (iscsi only)
 *   disk1         the frontend's shared storage volume, same forms as disk0 (when sharedStorage)
 *   seed          same forms as disk0, when the node has a seed disk
 *                 (desired: "file:" VCM_FILE_POOL "/<domain>" VCM_SEED_VOLUME_SUFFIX)
 *   seed.digest   the digest of the seed's own part (reconciler/seed.h, boot_digest): a change
 *                 restarts the guest, which reads its seed at boot
 *   nic0.bridge   private network bridge on the host ("vcmbr<netid>")
 *   nic0.mac      locally administered MAC, stable (derived from site, cluster, node)
 *   nic1.bridge   frontends with external: true: the site's external bridge
 *   nic1.mac
 *   boot          "disk" | "network" | "kernel"
 *   kernel, initrd, cmdline   with boot=kernel
 *   meta.commit   spec commit the domain was last applied from (metadata; not compared)
 *
 * volume (name: "<cluster>-<node>" node disk, "<cluster>-shared" shared storage;
 *         host: storage host, or the VM host for the file and lvm backends)
 *   size          bytes
 *   backend       "file" | "lvm"
 *   pool          libvirt pool name (file backend) or VG name (lvm)
 *   clone         image to copy at creation (volume name or file path); absent: empty
 *
 * bridge (name: "vcmbr<netid>"; host: every host that runs the cluster's VMs)
 *   netid         the cluster's network id (VLAN id on the vlan backend)
 *   vlan-link     enslaved VLAN link name (vlan backend); absent on the bridge backend
 *   state         "up" (vlan backend only; observed "up" | "down")
 *
 * vlan-link (name: "vcmv<netid>"; host: as bridge)
 *   trunk         parent NIC
 *   vlan          802.1Q id
 *   state         "up" (observed "up" | "down")
 *
 * Interface names (bridges, VLAN links, trunks, external bridges) are at most VCM_IFNAME_MAX
 * characters; the prefixes below plus a 4-digit id fit by construction.
 *
 * seed (name: as the domain; host: the domain's VM host): the node's NoCloud seed, a read-only
 *         ISO 9660 volume "<name>" VCM_SEED_VOLUME_SUFFIX in pool VCM_FILE_POOL
 *   digest        16 hex digits, FNV-1a 64 of the three files (reconciler/seed.h)
 *   pool          VCM_FILE_POOL
 *   meta.node, meta.appliance, meta.frontend, meta.install, meta.mac0, meta.mac1   what it is
 *                 rendered from; meta.meta-data, meta.user-data, meta.network-config   the files,
 *                 added only for a step that writes the seed (vcm_desired_seed_files); none compared
 *
 * volume, additionally (lvm backends): meta.cluster-bytes, the bytes all of the cluster's
 *   volumes on that host take, so the lvm provider refuses a cluster that does not fit before
 *   it creates any of its LVs.
 *
 * iscsi-target (name: the cluster's IQN VCM_IQN_PREFIX<cluster>; host: storage host)
 *   portal        "IP:PORT" of the storage host
 *   authentication, generate_node_acls   "0" (ACLs only: no demo mode)
 *   enabled       "1"
 *
 * iscsi-lun (name: the volume's name; host: storage host) a block backstore on the LV and a LUN
 *   target        the cluster's IQN
 *   lun           LUN number (0 shared storage, 1.. node disks, as in disk0)
 *   device        "/dev/<vg>/<volume>"
 *
 * iscsi-acl (name: "<cluster>/<initiator IQN>"; host: storage host) one per VM host running
 *           the cluster's nodes, mapping every LUN of the cluster
 *   target        the cluster's IQN
 *   initiator     VCM_INITIATOR_PREFIX<VM host name>
 *   luns          LUN numbers, ascending, comma-separated
 *
 * Keys prefixed with "meta." are recorded but never cause an update (e.g. meta.commit). */
#ifndef VCM_PROPS_H
#define VCM_PROPS_H

#define VCM_PROP_META_PREFIX "meta."

#define VCM_BRIDGE_PREFIX "vcmbr"          /* bridge name: prefix + netid */
#define VCM_VLAN_LINK_PREFIX "vcmv"        /* vlan-link name: prefix + netid */
#define VCM_IFNAME_MAX 15                  /* IFNAMSIZ - 1: the kernel's interface name limit */
#define VCM_FILE_POOL "vcm"                /* libvirt pool of the file storage backend */
#define VCM_SEED_VOLUME_SUFFIX ".seed.iso" /* seed volume: domain name + suffix */
#define VCM_IQN_PREFIX "iqn.2026-01.org.vcm:" /* + cluster name: the cluster's iSCSI target */
#define VCM_INITIATOR_PREFIX "iqn.2026-01.org.vcm.initiator:" /* + VM host name: its QEMU's */

#endif
