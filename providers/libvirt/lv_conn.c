/* Connection to one host's libvirt: open, close, the domain type decision, error conversion. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "lv.h"
#include "specs/base/macro.h"

/* libvirt prints every error to stderr by default; library code must not print. */
static void lv_silent(void *userdata, virErrorPtr e) {
        (void)userdata;
        (void)e;
}
static pthread_once_t lv_once = PTHREAD_ONCE_INIT;
static void lv_init_once(void) {
        virInitialize();
        virSetErrorFunc(NULL, lv_silent);
}

void lv_init(void) {
        pthread_once(&lv_once, lv_init_once);
}

int lv_last_code(void) {
        virErrorPtr e = virGetLastError();
        return e ? e->code : VIR_ERR_OK;
}

static int lv_errno_of(int code) {
        switch (code) {
        case VIR_ERR_NO_DOMAIN:
        case VIR_ERR_NO_NETWORK:
        case VIR_ERR_NO_STORAGE_POOL:
        case VIR_ERR_NO_STORAGE_VOL:
        case VIR_ERR_NO_DOMAIN_METADATA:
                return -ENOENT;
        case VIR_ERR_NO_SUPPORT:
                return -EOPNOTSUPP;
        case VIR_ERR_OPERATION_DENIED:
        case VIR_ERR_AUTH_FAILED:
                return -EACCES;
        case VIR_ERR_SYSTEM_ERROR:
        case VIR_ERR_NO_CONNECT:
        case VIR_ERR_RPC:
                return -ECONNREFUSED;
        case VIR_ERR_XML_ERROR:
        case VIR_ERR_XML_DETAIL:
        case VIR_ERR_CONFIG_UNSUPPORTED:
        case VIR_ERR_INVALID_ARG:
                return -EINVAL;
        default:
                return -EIO;
        }
}

int lv_fail(vcm_error *err, const lv_conn *c, const char *kind, const char *name,
            const char *what) {
        virErrorPtr e = virGetLastError();
        const char *msg = e && e->message ? e->message : "unknown libvirt error";
        int r = lv_errno_of(e ? e->code : VIR_ERR_INTERNAL_ERROR);
        if (name)
                vcm_error_set(err, "host %s: %s %s: %s: %s", c->host, kind, name, what, msg);
        else
                vcm_error_set(err, "host %s: %s: %s: %s", c->host, kind, what, msg);
        return r;
}

void lv_hash_hex(uint64_t hash, char ret[17]) {
        snprintf(ret, 17, "%016" PRIx64, hash);
}

int lv_hash_parse(const char *s, uint64_t *ret) {
        if (!s || strlen(s) != 16)
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 16);
        if (errno || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

void lv_set_prop_ll(vcm_resource *r, const char *key, long long v) {
        char buf[24], *p = buf + sizeof(buf);
        unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
        *--p = '\0';
        do
                *--p = (char)('0' + u % 10);
        while ((u /= 10) != 0);
        if (v < 0)
                *--p = '-';
        vcm_resource_set_prop(r, key, p);
}

int lv_parse_u64(const char *s, uint64_t *ret) {
        if (!s || !*s)
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

void lv_mark_clear(lv_mark *m) {
        free(m->cluster);
        free(m->node);
        free(m->appliance);
        free(m->commit);
        free(m->netid);
        *m = (lv_mark){ 0 };
}

/* A URI without a host part ("qemu:///system", "qemu+unix:///system") reaches this machine. */
static bool lv_uri_is_local(const char *uri) {
        const char *p = strstr(uri, "://");
        return p && p[3] == '/';
}

/* /dev/kvm may exist while KVM cannot run a VM (nested or locked-down hosts): try it. */
static bool lv_local_kvm_works(void) {
        int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return false;
        bool ok = ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
        if (ok) {
                int vm = ioctl(fd, KVM_CREATE_VM, 0);
                ok = vm >= 0;
                if (vm >= 0)
                        close(vm);
        }
        close(fd);
        return ok;
}

static const char *lv_pick_domain_type(virConnectPtr conn, const char *uri,
                                       vcm_domain_type want) {
        const char *type = virConnectGetType(conn);
        if (type && strcasecmp(type, "TEST") == 0)
                return "test";
        if (want == VCM_DOMAIN_TYPE_KVM)
                return "kvm";
        if (want == VCM_DOMAIN_TYPE_QEMU)
                return "qemu";
        /* auto: libvirt must offer kvm, and on this machine KVM must really create a VM. On a
         * remote host libvirt's own probe (it runs QEMU with accel=kvm) is all we can ask. */
        char *caps = virConnectGetDomainCapabilities(conn, NULL, "x86_64", NULL, "kvm", 0);
        if (!caps)
                return "qemu";
        free(caps);
        if (lv_uri_is_local(uri) && !lv_local_kvm_works())
                return "qemu";
        return "kvm";
}

static void lv_conn_free(lv_conn *c) {
        if (!c)
                return;
        if (c->conn)
                virConnectClose(c->conn);
        pthread_mutex_destroy(&c->pool_lock);
        free(c->host);
        free(c->site);
        free(c->uri);
        free(c->pool_path);
        free(c);
}

int lv_open(const vcm_site *site, const vcm_host *host, void **ret_conn, vcm_error *err) {
        pthread_once(&lv_once, lv_init_once);
        if (!host->libvirt) {
                /* Not a host this provider serves (provider.h: not an error). */
                vcm_error_set(err, "host %s: no libvirt URI in the site", host->name);
                return -EOPNOTSUPP;
        }
        lv_conn *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        pthread_mutex_init(&c->pool_lock, NULL);
        c->host = strdup(host->name);
        c->site = strdup(site->name);
        c->uri = strdup(host->libvirt);
        c->pool_path = strdup(host->pool_path ? host->pool_path : VCM_LIBVIRT_POOL_PATH);
        if (!c->host || !c->site || !c->uri || !c->pool_path) {
                lv_conn_free(c);
                return -ENOMEM;
        }
        c->conn = virConnectOpen(c->uri);
        if (!c->conn) {
                int r = lv_fail(err, c, "libvirt", c->uri, "cannot connect");
                lv_conn_free(c);
                return r < 0 && r != -EIO ? r : -ECONNREFUSED;
        }
        /* QEMU writes the serial logs there but does not make the directory; on a remote host
         * it is part of the host's setup (scripts/libvirtd-start.sh). */
        if (lv_uri_is_local(c->uri))
                (void)mkdir(VCM_LIBVIRT_SERIAL_DIR, 0750);
        c->domain_type = lv_pick_domain_type(c->conn, c->uri, host->domain_type);
        c->test_driver = strcmp(c->domain_type, "test") == 0;
        /* The test driver accepts qemu domains; keep the type the spec would give a real host. */
        if (c->test_driver)
                c->domain_type = host->domain_type == VCM_DOMAIN_TYPE_KVM ? "kvm" : "qemu";
        *ret_conn = c;
        return 0;
}

void lv_close(void *conn) {
        lv_conn_free(conn);
}

const char *vcm_libvirt_domain_type(const void *conn) {
        const lv_conn *c = conn;
        return c ? c->domain_type : NULL;
}
