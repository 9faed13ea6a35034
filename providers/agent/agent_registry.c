/* The host-side providers this binary carries, by name: what `vcm agent` serves. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "providers/agent/agent_internal.h"

#define REGISTRY_MAX 16

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static const vcm_provider *registry[REGISTRY_MAX];
static size_t n_registry;

int vcm_agent_register(const vcm_provider *p) {
        int r = 0;
        pthread_mutex_lock(&registry_lock);
        for (size_t i = 0; i < n_registry; i++)
                if (strcmp(registry[i]->name, p->name) == 0) {
                        r = registry[i] == p ? 0 : -EEXIST;
                        goto out;
                }
        if (n_registry == REGISTRY_MAX) {
                r = -ENOSPC;
                goto out;
        }
        registry[n_registry++] = p;
out:
        pthread_mutex_unlock(&registry_lock);
        return r;
}

const vcm_provider *vcm_agent_lookup(const char *name) {
        const vcm_provider *p = NULL;
        pthread_mutex_lock(&registry_lock);
        for (size_t i = 0; i < n_registry && !p; i++)
                if (strcmp(registry[i]->name, name) == 0)
                        p = registry[i];
        pthread_mutex_unlock(&registry_lock);
        return p;
}

const vcm_provider *agent_registry_at(size_t i) {
        pthread_mutex_lock(&registry_lock);
        const vcm_provider *p = i < n_registry ? registry[i] : NULL;
        pthread_mutex_unlock(&registry_lock);
        return p;
}
