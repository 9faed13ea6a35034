/* Storage placement: the choice of a storage host for a new cluster's volumes. */
#include "reconciler/storage_placement.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/util.h"

bool vcm_storage_host_eligible(const vcm_host *h) {
        return (h->roles & VCM_ROLE_STORAGE) && h->volume_group && h->portal;
}

static uint64_t free_room(const vcm_host *h, uint64_t used) {
        if (!h->capacity_storage)
                return UINT64_MAX;
        return used < h->capacity_storage ? h->capacity_storage - used : 0;
}

int vcm_storage_choose(const vcm_site *site, const uint64_t *used, uint64_t need,
                       size_t *ret_host) {
        size_t best = SIZE_MAX;
        bool any = false;
        for (size_t i = 0; i < site->n_hosts; i++) {
                const vcm_host *h = &site->hosts[i];
                if (!vcm_storage_host_eligible(h))
                        continue;
                any = true;
                uint64_t fr = free_room(h, used[i]);
                if (fr < need)
                        continue;
                if (best == SIZE_MAX) {
                        best = i;
                        continue;
                }
                uint64_t fb = free_room(&site->hosts[best], used[best]);
                /* Strict comparisons: ties stay with the host first in the site. */
                if (fr > fb || (fr == fb && fr == UINT64_MAX && used[i] < used[best]))
                        best = i;
        }
        if (best == SIZE_MAX)
                return any ? -ENOSPC : -ENODEV;
        *ret_host = best;
        return 0;
}

bool vcm_storage_counted(const vcm_site *site) {
        for (size_t i = 0; i < site->n_hosts; i++)
                if (vcm_storage_host_eligible(&site->hosts[i]) && site->hosts[i].capacity_storage)
                        return true;
        return false;
}

char *vcm_storage_free_text(const vcm_site *site, const uint64_t *used) {
        char *text = xstrdup("");
        for (size_t i = 0; i < site->n_hosts; i++) {
                const vcm_host *h = &site->hosts[i];
                if (!vcm_storage_host_eligible(h) || !h->capacity_storage)
                        continue;
                char fr[32];
                vcm_format_size(free_room(h, used[i]), fr, sizeof(fr));
                char *more = xasprintf("%s%s%s %s free", text, *text ? ", " : "", h->name, fr);
                free(text);
                text = more;
        }
        return text;
}
