/* One listing of vcm's pool per observation, shared by volumes and seeds (both keep their
 * markers there): refreshed, listed once, sorted by name so that each marker finds its data
 * volume by binary search instead of a scan (a scan per marker made observe quadratic). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "lv.h"
#include "reconciler/props.h"

static int lv_pool_vol_cmp(const void *a, const void *b) {
        return strcmp(((const lv_pool_vol *)a)->name, ((const lv_pool_vol *)b)->name);
}

void lv_pool_list_clear(lv_pool_list *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->vols[i].name);
                virStorageVolFree(l->vols[i].vol);
        }
        free(l->vols);
        if (l->pool)
                virStoragePoolFree(l->pool);
        *l = (lv_pool_list){ 0 };
}

/* Pick up files that appeared or vanished outside libvirt. libvirtd refuses to refresh while it
 * still builds or wipes a volume for a client that went away (an apply killed mid-step): wait
 * for that a little, then go on with libvirt's own list, which already holds every volume
 * libvirt made. */
static int lv_pool_refresh(lv_conn *c, virStoragePoolPtr pool, vcm_error *err) {
        for (int attempt = 0; virStoragePoolRefresh(pool, 0) < 0; attempt++) {
                if (lv_last_code() == VIR_ERR_NO_SUPPORT)
                        break;
                const char *msg = virGetLastErrorMessage();
                if (!msg || !strstr(msg, "asynchronous jobs"))
                        return lv_fail(err, c, "pool", VCM_FILE_POOL, "cannot refresh");
                if (attempt == 50)
                        break;
                usleep(200 * 1000);
        }
        return 0;
}

int lv_pool_list_read(lv_conn *c, lv_pool_list *ret, vcm_error *err) {
        lv_pool_list l = { 0 };
        int r = lv_pool_get(c, false, &l.pool, err);
        if (r == -ENOENT) {
                *ret = l; /* no pool of vcm's here: nothing of vcm's in it */
                return 0;
        }
        if (r < 0)
                return r;
        char **names = NULL;
        virStorageVolPtr *vols = NULL;
        size_t n = 0;
        r = lv_pool_refresh(c, l.pool, err);
        if (r >= 0)
                r = lv_pool_names(c, l.pool, &names, &n, &vols, err);
        if (r >= 0 && !(l.vols = calloc(n ? n : 1, sizeof(*l.vols))))
                r = -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (r >= 0 && !names[i])
                        r = -ENOMEM; /* a name not copied */
                if (r >= 0) {
                        l.vols[l.n++] = (lv_pool_vol){ names[i], vols[i] };
                        continue;
                }
                free(names[i]);
                virStorageVolFree(vols[i]);
        }
        free(names);
        free(vols);
        if (r < 0) {
                lv_pool_list_clear(&l);
                return r;
        }
        qsort(l.vols, l.n, sizeof(*l.vols), lv_pool_vol_cmp);
        *ret = l;
        return 0;
}

const lv_pool_vol *lv_pool_list_find(const lv_pool_list *l, const char *name) {
        lv_pool_vol key = { (char *)name, NULL };
        return l->n ? bsearch(&key, l->vols, l->n, sizeof(*l->vols), lv_pool_vol_cmp) : NULL;
}
