/* The process-wide registry of agents, one per host name: the first open of a host starts its
 * agent, later opens (of any provider, in any pass) share it, and one found dead or reached by
 * another argv is replaced. Hosts are served in parallel: a slow ssh handshake to one host holds
 * up only the opens of that host. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "providers/agent/agent_internal.h"
#include "reconciler/util.h"

typedef struct host_entry {
        char *name;
        pthread_mutex_t lock; /* held while spawning, so one host gets one agent */
        agent_proc *current;
} host_entry;

static pthread_mutex_t hosts_lock = PTHREAD_MUTEX_INITIALIZER;
static host_entry **hosts;
static size_t n_hosts;

static host_entry *entry_get(const char *name, bool create) {
        host_entry *e = NULL;
        pthread_mutex_lock(&hosts_lock);
        for (size_t i = 0; i < n_hosts && !e; i++)
                if (strcmp(hosts[i]->name, name) == 0)
                        e = hosts[i];
        if (!e && create) {
                e = xcalloc(1, sizeof(*e));
                e->name = xstrdup(name);
                pthread_mutex_init(&e->lock, NULL);
                hosts = xrealloc(hosts, (n_hosts + 1) * sizeof(*hosts));
                hosts[n_hosts++] = e;
        }
        pthread_mutex_unlock(&hosts_lock);
        return e;
}

int agent_proc_get(const vcm_host *host, agent_proc **ret, vcm_error *err) {
        host_entry *e = entry_get(host->name, true);
        pthread_mutex_lock(&e->lock);
        agent_proc *a = e->current;
        if (a && !agent_proc_usable(a, host)) {
                /* Died, or the site now reaches the host another way: start afresh. */
                e->current = NULL;
                agent_proc_unref(a);
                a = NULL;
        }
        int r = 0;
        if (!a) {
                r = agent_proc_spawn(host, &a, err);
                if (r == 0)
                        e->current = a;
        }
        if (r == 0)
                agent_proc_ref(a);
        pthread_mutex_unlock(&e->lock);
        if (r < 0)
                return r;
        *ret = a;
        return 0;
}

int vcm_agent_pid(const char *host_name) {
        host_entry *e = entry_get(host_name, false);
        if (!e)
                return 0;
        pthread_mutex_lock(&e->lock);
        int pid = e->current ? agent_proc_pid(e->current) : 0;
        pthread_mutex_unlock(&e->lock);
        return pid;
}

void vcm_agent_shutdown_all(void) {
        pthread_mutex_lock(&hosts_lock);
        host_entry **list = hosts;
        size_t n = n_hosts;
        hosts = NULL;
        n_hosts = 0;
        pthread_mutex_unlock(&hosts_lock);
        for (size_t i = 0; i < n; i++) {
                host_entry *e = list[i];
                agent_proc_unref(e->current);
                pthread_mutex_destroy(&e->lock);
                free(e->name);
                free(e);
        }
        free(list);
}
