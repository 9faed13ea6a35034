/* The calendar's shared parts: utilisation rows and what they count. */
#include "calendar.h"
#include "reconciler/storage_placement.h"

#include "reconciler/util.h"

const calendar_util_row calendar_util_rows[] = {
        { "gateway vcpus", VCM_ROLE_GATEWAY, false },
        { "gateway memory", VCM_ROLE_GATEWAY, true },
        { "vm-server vcpus", VCM_ROLE_VM_SERVER, false },
        { "vm-server memory", VCM_ROLE_VM_SERVER, true },
        { "storage volumes", VCM_ROLE_STORAGE, false },
};
const size_t calendar_n_util_rows = ELEMENTSOF(calendar_util_rows);

void calendar_time_utc(int64_t t, char *buf, size_t len) {
        vcm_format_time_like(t, NULL, buf, len);
}

uint64_t calendar_role_capacity(const vcm_site *site, const calendar_util_row *u) {
        uint64_t sum = 0;
        /* Volumes are counted on the lvm-iscsi storage hosts only (reconciler/capacity.h): the
         * row is their sum, drawn only when every one of them gives capacity.storage. */
        if (u->role == VCM_ROLE_STORAGE) {
                if (site->storage_backend != VCM_STORAGE_LVM_ISCSI)
                        return 0;
                for (size_t h = 0; h < site->n_hosts; h++) {
                        if (!vcm_storage_host_eligible(&site->hosts[h]))
                                continue;
                        if (!site->hosts[h].capacity_storage)
                                return 0;
                        sum += site->hosts[h].capacity_storage;
                }
                return sum;
        }
        for (size_t h = 0; h < site->n_hosts; h++) {
                const vcm_host *host = &site->hosts[h];
                if (!(host->roles & u->role))
                        continue;
                uint64_t c = u->memory ? host->capacity_memory : host->capacity_vcpus;
                if (c == 0)
                        return 0;
                sum += c;
        }
        return sum;
}

uint64_t calendar_slice_used(const vcm_site *site, const vcm_capacity_slice *sl,
                             const calendar_util_row *u) {
        uint64_t sum = 0;
        if (u->role == VCM_ROLE_STORAGE)
                return sl->storage;
        for (size_t h = 0; h < site->n_hosts; h++)
                if (site->hosts[h].roles & u->role)
                        sum += u->memory ? sl->memory[h] : sl->vcpus[h];
        return sum;
}
