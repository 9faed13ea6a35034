/* The libvirt provider opened on libvirt's test driver for one host "h1" of site "lab" (bridge
 * network, file storage), plus a raw libvirt connection for objects made behind the provider's
 * back. The test driver's state lives while a connection is open. Include after cmocka.h. */
#ifndef VCM_TEST_PROVIDER_FIXTURE_H
#define VCM_TEST_PROVIDER_FIXTURE_H

#include <stdlib.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "providers/libvirt/libvirt.h"

#define URI "test:///default"

static const vcm_provider *P = &vcm_provider_libvirt;

typedef struct fixture {
        vcm_host host;
        vcm_site site;
        vcm_host_ctx ctx;
        virConnectPtr raw; /* for objects made behind the provider's back */
} fixture;

static void quiet(void *u, virErrorPtr e) {
        (void)u;
        (void)e;
}

static int setup(void **state) {
        fixture *f = calloc(1, sizeof(*f));
        f->host = (vcm_host){ .name = "h1", .libvirt = URI, .pool_path = "/vcm-pool",
                              .roles = VCM_ROLE_VM_SERVER };
        f->site = (vcm_site){ .name = "lab", .hosts = &f->host, .n_hosts = 1,
                              .network_backend = VCM_NET_BRIDGE,
                              .storage_backend = VCM_STORAGE_FILE };
        vcm_error err = { { 0 } };
        void *conn = NULL;
        if (P->open(&f->site, &f->host, &conn, &err) < 0)
                fail_msg("open: %s", err.message);
        f->ctx = (vcm_host_ctx){ .site = &f->site, .host = &f->host, .conn = conn };
        virSetErrorFunc(NULL, quiet);
        f->raw = virConnectOpen(URI);
        assert_non_null(f->raw);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        fixture *f = *state;
        P->close(f->ctx.conn);
        virConnectClose(f->raw);
        free(f);
        return 0;
}

#endif
