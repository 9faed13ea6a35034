/* Malloc tuning for vcm's processes (reconciler/heap.h). */
#include "reconciler/heap.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>

static bool env_set(const char *name) {
        const char *v = getenv(name);
        return v && *v;
}

void vcm_heap_tune(int arenas) {
        if (!env_set("MALLOC_ARENA_MAX"))
                mallopt(M_ARENA_MAX, arenas > 0 ? arenas : 1);
}

void vcm_heap_release(void) {
        malloc_trim(0);
}
