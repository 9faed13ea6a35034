/* Which provider implements each kind, from the site's backends. The CLI composes the engine
 * with the real providers here; tests compose it with fakes. */
#include <errno.h>

#include "cli.h"
#include "providers/agent/agent.h"
#include "providers/lio/lio.h"
#include "providers/lvm/lvm.h"
#include "providers/netlink/netlink.h"

/* Host-side providers: what libvirt does not manage (VLAN links, bridges, LVs, iSCSI targets).
 * Each is listed here, so that `vcm agent` serves it, and put in the table below through
 * vcm_agent_route(), so that a host with `agent:` in site.yaml is served by its agent and any
 * other host in-process. */
static const vcm_provider *const host_side[] = {
        &vcm_provider_netlink,
        &vcm_provider_lvm,
        &vcm_provider_lio,
        NULL,
};

void cli_register_host_providers(void) {
        for (size_t i = 0; host_side[i]; i++)
                vcm_agent_register(host_side[i]);
}

int cli_provider_table(const vcm_site *site, vcm_provider_table *ret, const char **ret_error) {
        vcm_provider_table t = {};
        const vcm_provider *libvirt = cli_libvirt_provider(ret_error);
        if (!libvirt)
                return -ENOENT;
        t.by_kind[VCM_KIND_DOMAIN] = libvirt;
        t.by_kind[VCM_KIND_SEED] = libvirt; /* seeds live on the VM host */

        switch (site->storage_backend) {
        case VCM_STORAGE_FILE:
                t.by_kind[VCM_KIND_VOLUME] = libvirt;
                break;
        case VCM_STORAGE_LVM:
                t.by_kind[VCM_KIND_VOLUME] = vcm_agent_route(&vcm_provider_lvm);
                break;
        case VCM_STORAGE_LVM_ISCSI:
                t.by_kind[VCM_KIND_VOLUME] = vcm_agent_route(&vcm_provider_lvm);
                t.by_kind[VCM_KIND_ISCSI_TARGET] = vcm_agent_route(&vcm_provider_lio);
                t.by_kind[VCM_KIND_ISCSI_LUN] = vcm_agent_route(&vcm_provider_lio);
                t.by_kind[VCM_KIND_ISCSI_ACL] = vcm_agent_route(&vcm_provider_lio);
                break;
        }
        switch (site->network_backend) {
        case VCM_NET_BRIDGE:
                t.by_kind[VCM_KIND_BRIDGE] = libvirt;
                break;
        case VCM_NET_VLAN:
                t.by_kind[VCM_KIND_VLAN_LINK] = vcm_agent_route(&vcm_provider_netlink);
                t.by_kind[VCM_KIND_BRIDGE] = vcm_agent_route(&vcm_provider_netlink);
                break;
        }
        *ret = t;
        return 0;
}
