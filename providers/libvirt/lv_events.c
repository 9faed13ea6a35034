/* Lifecycle events: the watch ops that keep the service's informer cache current.
 *
 * libvirt delivers events only through an event loop the application runs: the default
 * implementation is registered once per process and run on a thread of its own. Each watch has
 * its own connection (opened after the loop exists, so the remote driver hooks its socket into
 * it), a lifecycle callback that queues the domain's name, and a close callback: a connection
 * that closes (libvirtd restarted, keepalive timeout) loses events, so the watch reports the
 * stream broken and the informer relists the host. Callbacks only queue and poke an eventfd;
 * the informer reads the queue from the loop's thread. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lv.h"
#include "specs/base/macro.h"

typedef struct lv_watch {
        atomic_int refs;          /* the owner, and the lifecycle registration until its freecb */
        pthread_mutex_t lock;
        virConnectPtr conn;
        int callback_id;
        bool close_registered;
        int efd;
        char **names;             /* queued domain names */
        size_t n, cap;
        bool broken;
        char *host;
} lv_watch;

static pthread_once_t lv_loop_once = PTHREAD_ONCE_INIT;
static int lv_loop_result;

static void *lv_event_thread(void *arg) {
        (void)arg;
        for (;;)
                if (virEventRunDefaultImpl() < 0)
                        usleep(100 * 1000); /* never spin on a broken loop */
        return NULL;
}

static void lv_loop_start(void) {
        lv_init();
        if (virEventRegisterDefaultImpl() < 0) {
                lv_loop_result = -EIO;
                return;
        }
        /* The thread must not take the service's signals (they are read from a signalfd). */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        pthread_t t;
        int r = pthread_create(&t, NULL, lv_event_thread, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0) {
                lv_loop_result = -r;
                return;
        }
        pthread_detach(t);
}

static void lv_watch_unref(void *opaque) {
        lv_watch *w = opaque;
        if (atomic_fetch_sub(&w->refs, 1) != 1)
                return;
        for (size_t i = 0; i < w->n; i++)
                free(w->names[i]);
        free(w->names);
        if (w->efd >= 0)
                close(w->efd);
        pthread_mutex_destroy(&w->lock);
        free(w->host);
        free(w);
}

static void lv_watch_poke(lv_watch *w) {
        uint64_t one = 1;
        (void)!write(w->efd, &one, sizeof(one));
}

static int lv_on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                           void *opaque) {
        lv_watch *w = opaque;
        const char *name = virDomainGetName(dom);
        char *copy = name ? strdup(name) : NULL;
        pthread_mutex_lock(&w->lock);
        if (!copy) {
                w->broken = true; /* a lost event: relist rather than miss it */
        } else {
                if (w->n == w->cap) {
                        size_t cap = w->cap ? w->cap * 2 : 16;
                        char **v = realloc(w->names, cap * sizeof(*v));
                        if (v) {
                                w->names = v;
                                w->cap = cap;
                        }
                }
                if (w->n < w->cap)
                        w->names[w->n++] = copy;
                else {
                        free(copy);
                        w->broken = true;
                }
        }
        pthread_mutex_unlock(&w->lock);
        lv_watch_poke(w);
        return 0;
}

static void lv_on_close(virConnectPtr conn, int reason, void *opaque) {
        lv_watch *w = opaque;
        pthread_mutex_lock(&w->lock);
        w->broken = true;
        pthread_mutex_unlock(&w->lock);
        lv_watch_poke(w);
}

void lv_watch_close(void *watch) {
        lv_watch *w = watch;
        if (!w)
                return;
        if (w->conn) {
                if (w->callback_id >= 0)
                        virConnectDomainEventDeregisterAny(w->conn, w->callback_id);
                if (w->close_registered)
                        virConnectUnregisterCloseCallback(w->conn, lv_on_close);
                virConnectClose(w->conn);
        }
        lv_watch_unref(w);
}

int vcm_libvirt_events_init(void) {
        pthread_once(&lv_loop_once, lv_loop_start);
        return lv_loop_result;
}

int lv_watch_open(const vcm_site *site, const vcm_host *host, void **ret_watch, int *ret_fd,
                  vcm_error *err) {
        if (!host->libvirt)
                return -EOPNOTSUPP;
        if (vcm_libvirt_events_init() < 0) {
                vcm_error_set(err, "host %s: libvirt events: cannot start the event loop",
                              host->name);
                return lv_loop_result;
        }
        lv_watch *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        atomic_init(&w->refs, 1);
        pthread_mutex_init(&w->lock, NULL);
        w->callback_id = -1;
        w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        w->host = strdup(host->name);
        if (w->efd < 0 || !w->host) {
                int r = w->efd < 0 ? -errno : -ENOMEM;
                lv_watch_unref(w);
                return r;
        }
        lv_conn who = { .host = w->host };
        w->conn = virConnectOpen(host->libvirt);
        if (!w->conn) {
                int r = lv_fail(err, &who, "libvirt events", host->libvirt, "cannot connect");
                lv_watch_close(w);
                return r < 0 && r != -EIO ? r : -ECONNREFUSED;
        }
        /* A dead peer is noticed within 15 s and reported through the close callback. Local
         * drivers do not support keepalive; that is fine (their connection cannot time out). */
        (void)virConnectSetKeepAlive(w->conn, 5, 3);
        /* No reference for the close callback: drivers without one (the test driver) accept
         * the registration and never call its free function, and unregistering waits for a
         * running call, so lv_watch_close() alone ends it. */
        if (virConnectRegisterCloseCallback(w->conn, lv_on_close, w, NULL) == 0)
                w->close_registered = true;
        atomic_fetch_add(&w->refs, 1);
        w->callback_id = virConnectDomainEventRegisterAny(
                w->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                VIR_DOMAIN_EVENT_CALLBACK(lv_on_lifecycle), w, lv_watch_unref);
        if (w->callback_id < 0) {
                atomic_fetch_sub(&w->refs, 1);
                int r = lv_fail(err, &who, "libvirt events", host->libvirt,
                                "cannot register for domain lifecycle events");
                lv_watch_close(w);
                return r;
        }
        (void)site;
        *ret_fd = w->efd;
        *ret_watch = w;
        return 0;
}

int lv_watch_read(void *watch, void (*fn)(void *userdata, vcm_kind kind, const char *name),
                  void *userdata) {
        lv_watch *w = watch;
        uint64_t v;
        (void)!read(w->efd, &v, sizeof(v));
        pthread_mutex_lock(&w->lock);
        char **names = w->names;
        size_t n = w->n;
        bool broken = w->broken;
        w->names = NULL;
        w->n = w->cap = 0;
        pthread_mutex_unlock(&w->lock);
        for (size_t i = 0; i < n; i++) {
                fn(userdata, VCM_KIND_DOMAIN, names[i]);
                free(names[i]);
        }
        free(names);
        return broken ? -ECONNRESET : 0;
}
