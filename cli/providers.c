/* Which provider implements each kind, from the site's backends. The CLI composes the engine
 * with the real providers here; tests compose it with fakes. */
#include <errno.h>

#include "cli.h"
#include "providers/libvirt/libvirt.h"
#include "providers/lio/lio.h"
#include "providers/lvm/lvm.h"

int cli_provider_table(const vcm_site *site, vcm_provider_table *ret, const char **ret_error) {
        vcm_provider_table t = {};
        t.by_kind[VCM_KIND_DOMAIN] = &vcm_provider_libvirt;

        switch (site->storage_backend) {
        case VCM_STORAGE_FILE:
                t.by_kind[VCM_KIND_VOLUME] = &vcm_provider_libvirt;
                break;
        case VCM_STORAGE_LVM:
                t.by_kind[VCM_KIND_VOLUME] = &vcm_provider_lvm;
                break;
        case VCM_STORAGE_LVM_ISCSI:
                t.by_kind[VCM_KIND_VOLUME] = &vcm_provider_lvm;
                t.by_kind[VCM_KIND_ISCSI_TARGET] = &vcm_provider_lio;
                t.by_kind[VCM_KIND_ISCSI_LUN] = &vcm_provider_lio;
                t.by_kind[VCM_KIND_ISCSI_ACL] = &vcm_provider_lio;
                break;
        }
        switch (site->network_backend) {
        case VCM_NET_BRIDGE:
                t.by_kind[VCM_KIND_BRIDGE] = &vcm_provider_libvirt;
                break;
        case VCM_NET_VLAN:
                *ret_error = "network backend 'vlan' is not in this build yet; use 'bridge' "
                             "(see docs/operations.md)";
                return -EOPNOTSUPP;
        }
        *ret = t;
        return 0;
}
