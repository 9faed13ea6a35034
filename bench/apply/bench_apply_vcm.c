/* The same N domains through vcm's libvirt provider: create() of desired resources (props
 * built and hashed before the clock starts, as the engine has them from the plan), P threads,
 * one provider connection. Prints the wall time. */
#include <stdio.h>
#include <stdlib.h>

#include "bench_apply_common.h"
#include "providers/libvirt/libvirt.h"
#include "reconciler/resource.h"

typedef struct vcm_bench {
        vcm_host_ctx ctx;
        vcm_resource_set *want;
} vcm_bench;

static int create_one(bench *b, int i, char *err, size_t errlen) {
        vcm_bench *v = b->userdata;
        vcm_error e = { { 0 } };
        int r = vcm_provider_libvirt.create(&v->ctx, vcm_resource_set_at(v->want, (size_t)i), &e);
        if (r < 0)
                snprintf(err, errlen, "%s", e.message);
        return r;
}

int main(int argc, char **argv) {
        bench b = { 0 };
        if (bench_args(argc, argv, &b) < 0)
                return 2;
        vcm_host host = { .name = "local", .libvirt = BENCH_URI, .domain_type = VCM_DOMAIN_TYPE_QEMU };
        vcm_site site = { .name = "bench", .hosts = &host, .n_hosts = 1 };
        vcm_bench v = { .want = vcm_resource_set_new() };
        vcm_error e = { { 0 } };
        void *conn = NULL;
        if (vcm_provider_libvirt.open(&site, &host, &conn, &e) < 0) {
                fprintf(stderr, "%s\n", e.message);
                return 1;
        }
        v.ctx = (vcm_host_ctx){ .site = &site, .host = &host, .conn = conn };
        for (int i = 0; i < b.n; i++) {
                char name[128];
                snprintf(name, sizeof(name), "%s-%d", b.prefix, i);
                vcm_resource *r = vcm_resource_set_put(v.want, VCM_KIND_DOMAIN, "local", name,
                                                       b.prefix);
                vcm_resource_set_propf(r, "node", "n-%d", i);
                vcm_resource_set_prop(r, "appliance", "compute");
                vcm_resource_set_prop(r, "vcpus", "1");
                vcm_resource_set_propf(r, "memory", "%d", BENCH_MEMORY_MIB * 1024 * 1024);
                vcm_resource_set_prop(r, "state", "running");
                vcm_resource_set_prop(r, "boot", "disk");
                vcm_resource_rehash(r);
        }
        /* The benchmark's own connection for cleanup, outside the timed part. */
        virConnectPtr raw = virConnectOpen(BENCH_URI);
        if (!raw)
                return 1;
        b.conn = raw;
        b.create_one = create_one;
        b.userdata = &v;
        bench_cleanup(raw, b.prefix);
        double s = bench_run(&b);
        bench_cleanup(raw, b.prefix);
        virConnectClose(raw);
        vcm_provider_libvirt.close(conn);
        vcm_resource_set_free(v.want);
        if (s < 0)
                return 1;
        printf("vcm %d domains %d threads %.3f s\n", b.n, b.threads, s);
        return 0;
}
