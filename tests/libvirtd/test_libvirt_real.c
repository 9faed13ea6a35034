/* The libvirt provider against the real libvirtd: a vcm pool volume (grown, cloned by upload),
 * an isolated network and three TCG domains booting the tiny guest; each guest's serial log
 * must show its VCM-GUEST-INIT line. A domain destroyed behind vcm's back is observed shut off
 * and started again by update. Then everything is deleted, nothing of the run is left, and
 * objects the test did not create (including unmarked decoys with vcm-like names) are untouched.
 * Names are unique per run; teardown removes the run's objects also when a step failed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "providers/libvirt/libvirt.h"
#include "reconciler/props.h"
#include "reconciler/resource.h"

#define URI "qemu:///system"
#define TINY "/var/lib/vcm/images/tiny"
#define N_DOMAINS 3
#define BOOT_TIMEOUT_S 240 /* three TCG guests on a shared 2-core machine */
#define MiB (1024ull * 1024)

static const vcm_provider *P = &vcm_provider_libvirt;

typedef struct run {
        vcm_host host;
        vcm_site site;
        vcm_host_ctx ctx;
        virConnectPtr raw;
        char cluster[32];
        char bridge[16];
        unsigned netid;
        char clone_src[64];
        /* what existed before the test, as sorted "kind:name" lines */
        char *before;
} run;

static void quiet(void *u, virErrorPtr e) {
        (void)u;
        (void)e;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every domain, network and vcm-pool volume, except those named for this run. */
static char *inventory(run *t) {
        char *lines[4096];
        size_t n = 0;
        virDomainPtr *doms = NULL;
        int nd = virConnectListAllDomains(t->raw, &doms, 0);
        for (int i = 0; i < nd; i++) {
                const char *name = virDomainGetName(doms[i]);
                if (strncmp(name, t->cluster, strlen(t->cluster)) != 0 && n < 4096)
                        asprintf(&lines[n++], "domain:%s:%d", name, virDomainIsActive(doms[i]));
                virDomainFree(doms[i]);
        }
        free(doms);
        virNetworkPtr *nets = NULL;
        int nn = virConnectListAllNetworks(t->raw, &nets, 0);
        for (int i = 0; i < nn; i++) {
                const char *name = virNetworkGetName(nets[i]);
                if (strcmp(name, t->bridge) != 0 && n < 4096)
                        asprintf(&lines[n++], "network:%s:%d", name, virNetworkIsActive(nets[i]));
                virNetworkFree(nets[i]);
        }
        free(nets);
        virStoragePoolPtr pool = virStoragePoolLookupByName(t->raw, VCM_FILE_POOL);
        if (pool) {
                virStoragePoolRefresh(pool, 0);
                virStorageVolPtr *vols = NULL;
                int nv = virStoragePoolListAllVolumes(pool, &vols, 0);
                for (int i = 0; i < nv; i++) {
                        const char *name = virStorageVolGetName(vols[i]);
                        /* The pool's own marker comes with the pool, which the provider makes
                         * on first use and keeps as vcm's. */
                        if (!strstr(name, t->cluster) && strcmp(name, ".vcm-pool") != 0 &&
                            n < 4096)
                                asprintf(&lines[n++], "volume:%s", name);
                        virStorageVolFree(vols[i]);
                }
                free(vols);
                virStoragePoolFree(pool);
        }
        qsort(lines, n, sizeof(char *), cmp_str);
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += strlen(lines[i]) + 1;
        char *s = calloc(1, len);
        for (size_t i = 0; i < n; i++) {
                strcat(s, lines[i]);
                strcat(s, "\n");
                free(lines[i]);
        }
        return s;
}

/* Remove everything named for this run, through raw libvirt: the safety net for failures. */
static void cleanup_run(run *t) {
        virDomainPtr *doms = NULL;
        int nd = virConnectListAllDomains(t->raw, &doms, 0);
        for (int i = 0; i < nd; i++) {
                const char *name = virDomainGetName(doms[i]);
                if (strncmp(name, t->cluster, strlen(t->cluster)) == 0) {
                        virDomainDestroy(doms[i]);
                        virDomainUndefine(doms[i]);
                }
                virDomainFree(doms[i]);
        }
        free(doms);
        virNetworkPtr net = virNetworkLookupByName(t->raw, t->bridge);
        if (net) {
                virNetworkDestroy(net);
                virNetworkUndefine(net);
                virNetworkFree(net);
        }
        virStoragePoolPtr pool = virStoragePoolLookupByName(t->raw, VCM_FILE_POOL);
        if (pool) {
                virStoragePoolRefresh(pool, 0);
                virStorageVolPtr *vols = NULL;
                int nv = virStoragePoolListAllVolumes(pool, &vols, 0);
                for (int i = 0; i < nv; i++) {
                        if (strstr(virStorageVolGetName(vols[i]), t->cluster))
                                virStorageVolDelete(vols[i], 0);
                        virStorageVolFree(vols[i]);
                }
                free(vols);
                virStoragePoolFree(pool);
        }
        if (t->clone_src[0])
                unlink(t->clone_src);
        /* The guests' serial logs. */
        DIR *d = opendir(VCM_LIBVIRT_SERIAL_DIR);
        struct dirent *e;
        while (d && (e = readdir(d)))
                if (strncmp(e->d_name, t->cluster, strlen(t->cluster)) == 0 &&
                    strstr(e->d_name, ".serial.log")) {
                        char log[512];
                        snprintf(log, sizeof(log), VCM_LIBVIRT_SERIAL_DIR "/%s", e->d_name);
                        unlink(log);
                }
        if (d)
                closedir(d);
}

static bool iface_exists(const char *name) {
        char p[128];
        snprintf(p, sizeof(p), "/sys/class/net/%s", name);
        return access(p, F_OK) == 0;
}

static int setup(void **state) {
        run *t = calloc(1, sizeof(*t));
        virSetErrorFunc(NULL, quiet);
        t->raw = virConnectOpen(URI);
        if (!t->raw) {
                fprintf(stderr, "cannot connect to %s\n", URI);
                return -1;
        }
        /* Cluster names are at most 24 characters: "lvt" + 6 hex of pid and time. */
        srand((unsigned)(getpid() ^ time(NULL)));
        snprintf(t->cluster, sizeof(t->cluster), "lvt%06x", (unsigned)rand() & 0xffffff);
        for (int tries = 0; tries < 100; tries++) {
                t->netid = 3000 + (unsigned)rand() % 900;
                snprintf(t->bridge, sizeof(t->bridge), VCM_BRIDGE_PREFIX "%u", t->netid);
                virNetworkPtr n = virNetworkLookupByName(t->raw, t->bridge);
                if (!n && !iface_exists(t->bridge))
                        break;
                if (n)
                        virNetworkFree(n);
                t->bridge[0] = '\0';
        }
        if (!t->bridge[0])
                return -1;
        t->host = (vcm_host){ .name = "local", .libvirt = URI, .roles = VCM_ROLE_VM_SERVER };
        t->site = (vcm_site){ .name = "lab", .hosts = &t->host, .n_hosts = 1,
                              .network_backend = VCM_NET_BRIDGE,
                              .storage_backend = VCM_STORAGE_FILE };
        vcm_error err = { { 0 } };
        void *conn = NULL;
        if (P->open(&t->site, &t->host, &conn, &err) < 0) {
                fprintf(stderr, "open: %s\n", err.message);
                return -1;
        }
        t->ctx = (vcm_host_ctx){ .site = &t->site, .host = &t->host, .conn = conn };
        t->before = inventory(t);
        *state = t;
        return 0;
}

static int teardown(void **state) {
        run *t = *state;
        if (!t)
                return 0;
        cleanup_run(t);
        P->close(t->ctx.conn);
        virConnectClose(t->raw);
        free(t->before);
        free(t);
        return 0;
}

#define OK(call)                                                                                   \
        do {                                                                                       \
                vcm_error err_ = { { 0 } };                                                        \
                int r_ = (call);                                                                   \
                if (r_ != 0)                                                                       \
                        fail_msg("%s: %d: %s", #call, r_, err_.message);                           \
        } while (0)
#define E (&err_)

static vcm_resource_set *observe(run *t) {
        vcm_resource_set *s = vcm_resource_set_new();
        vcm_error err = { { 0 } };
        if (P->observe(&t->ctx, s, &err) < 0)
                fail_msg("observe: %s", err.message);
        return s;
}

static void assert_matches(const vcm_resource *want, const vcm_resource *have) {
        if (!have)
                fail_msg("%s not observed", want->name);
        assert_string_equal(have->cluster, want->cluster);
        assert_true(have->hash == want->hash);
        for (size_t i = 0; i < want->n_props; i++) {
                const char *v = vcm_resource_prop(have, want->props[i].key);
                if (!v || strcmp(v, want->props[i].value) != 0)
                        fail_msg("%s: %s observed as \"%s\", wanted \"%s\"", want->name,
                                 want->props[i].key, v ? v : "(none)", want->props[i].value);
        }
}

static vcm_resource *put_volume(vcm_resource_set *s, run *t, const char *node, uint64_t size,
                                const char *clone) {
        char name[64];
        snprintf(name, sizeof(name), "%s-%s", t->cluster, node);
        vcm_resource *v = vcm_resource_set_put(s, VCM_KIND_VOLUME, "local", name, t->cluster);
        vcm_resource_set_propf(v, "size", "%llu", (unsigned long long)size);
        vcm_resource_set_prop(v, "backend", "file");
        vcm_resource_set_prop(v, "pool", VCM_FILE_POOL);
        if (clone)
                vcm_resource_set_prop(v, "clone", clone);
        vcm_resource_rehash(v);
        return v;
}

static vcm_resource *put_domain(vcm_resource_set *s, run *t, const char *node, unsigned i) {
        char name[64];
        snprintf(name, sizeof(name), "%s-%s", t->cluster, node);
        vcm_resource *d = vcm_resource_set_put(s, VCM_KIND_DOMAIN, "local", name, t->cluster);
        vcm_resource_set_prop(d, "node", node);
        vcm_resource_set_prop(d, "appliance", "compute");
        vcm_resource_set_prop(d, "vcpus", "1");
        vcm_resource_set_propf(d, "memory", "%llu", 256 * MiB);
        vcm_resource_set_prop(d, "state", "running");
        vcm_resource_set_propf(d, "disk0", "file:" VCM_FILE_POOL "/%s", name);
        vcm_resource_set_prop(d, "nic0.bridge", t->bridge);
        vcm_resource_set_propf(d, "nic0.mac", "52:54:00:%02x:%02x:%02x", (t->netid >> 8) & 0xff,
                               t->netid & 0xff, i);
        vcm_resource_set_prop(d, "boot", "kernel");
        vcm_resource_set_prop(d, "kernel", TINY "/vmlinuz");
        vcm_resource_set_prop(d, "initrd", TINY "/initrd.img");
        vcm_resource_set_propf(d, "cmdline", "console=ttyS0 no_timer_check quiet vcm.hostname=%s.%s", node,
                               t->cluster);
        vcm_resource_set_prop(d, "meta.commit", "c0ffee");
        vcm_resource_rehash(d);
        return d;
}

static bool log_has(const char *domain, const char *needle) {
        char path[256];
        snprintf(path, sizeof(path), VCM_LIBVIRT_SERIAL_DIR "/%s.serial.log", domain);
        FILE *f = fopen(path, "r");
        if (!f)
                return false;
        char line[1024];
        bool found = false;
        while (!found && fgets(line, sizeof(line), f))
                found = strstr(line, needle) != NULL;
        fclose(f);
        return found;
}

/* Wait until every domain's serial log shows its init line; returns the seconds it took. */
static double wait_guests(run *t, vcm_resource *const *doms, size_t n) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        bool done[8] = { 0 };
        size_t left = n;
        for (;;) {
                for (size_t i = 0; i < n; i++) {
                        char needle[128];
                        snprintf(needle, sizeof(needle), "VCM-GUEST-INIT hostname=%s.%s",
                                 vcm_resource_prop(doms[i], "node"), t->cluster);
                        if (!done[i] && log_has(doms[i]->name, needle)) {
                                done[i] = true;
                                left--;
                        }
                }
                clock_gettime(CLOCK_MONOTONIC, &b);
                double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
                if (!left)
                        return s;
                if (s > BOOT_TIMEOUT_S) {
                        for (size_t i = 0; i < n; i++)
                                if (!done[i])
                                        print_error("no VCM-GUEST-INIT in %s's serial log\n",
                                                    doms[i]->name);
                        fail_msg("guests did not reach init within %d s", BOOT_TIMEOUT_S);
                }
                usleep(500 * 1000);
        }
}

static void test_real_libvirtd(void **state) {
        run *t = *state;
        vcm_resource_set *want = vcm_resource_set_new();
        print_message("run %s, bridge %s, domain type %s\n", t->cluster, t->bridge,
                      vcm_libvirt_domain_type(t->ctx.conn));

        /* Unmarked decoys with this run's vcm-like names: never listed or deleted. */
        char decoy[64];
        snprintf(decoy, sizeof(decoy), "%s-compute-9", t->cluster);
        char dxml[512];
        snprintf(dxml, sizeof(dxml),
                 "<domain type='qemu'><name>%s</name><memory unit='MiB'>32</memory>"
                 "<os><type arch='x86_64'>hvm</type></os></domain>", decoy);
        virDomainPtr decoy_dom = virDomainDefineXML(t->raw, dxml);
        assert_non_null(decoy_dom);

        /* Network and volumes. */
        vcm_resource *br = vcm_resource_set_put(want, VCM_KIND_BRIDGE, "local", t->bridge,
                                                t->cluster);
        vcm_resource_set_propf(br, "netid", "%u", t->netid);
        vcm_resource_rehash(br);
        OK(P->create(&t->ctx, br, E));
        assert_true(iface_exists(t->bridge));

        virStoragePoolPtr pool = NULL;
        vcm_resource *vols[N_DOMAINS], *doms[N_DOMAINS];
        const char *nodes[N_DOMAINS] = { "frontend", "compute-0", "compute-1" };
        for (unsigned i = 0; i < N_DOMAINS; i++) {
                vols[i] = put_volume(want, t, nodes[i], 16 * MiB, NULL);
                OK(P->create(&t->ctx, vols[i], E));
        }
        pool = virStoragePoolLookupByName(t->raw, VCM_FILE_POOL);
        assert_non_null(pool);
        char vxml[256];
        snprintf(vxml, sizeof(vxml),
                 "<volume><name>%s</name><capacity>1048576</capacity></volume>", decoy);
        virStorageVolPtr decoy_vol = virStorageVolCreateXML(pool, vxml, 0);
        assert_non_null(decoy_vol);

        /* Grow a real volume: live, and the capacity follows. */
        vcm_resource_set *grown = vcm_resource_set_new();
        vcm_resource *g = put_volume(grown, t, "frontend", 32 * MiB, NULL);
        OK(P->update(&t->ctx, g, vols[0], E));
        virStorageVolPtr fv = virStorageVolLookupByName(pool, g->name);
        virStorageVolInfo info;
        assert_int_equal(virStorageVolGetInfo(fv, &info), 0);
        assert_int_equal(info.capacity, 32 * MiB);
        virStorageVolFree(fv);

        /* Clone by upload from a local file; the bytes arrive. */
        snprintf(t->clone_src, sizeof(t->clone_src), "/tmp/%s-image.raw", t->cluster);
        int fd = open(t->clone_src, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        char block[4096];
        memset(block, 'v', sizeof(block));
        memcpy(block, "VCM-IMAGE", 9);
        assert_int_equal(write(fd, block, sizeof(block)), (ssize_t)sizeof(block));
        close(fd);
        vcm_resource *cl = put_volume(want, t, "image-copy", 4 * MiB, t->clone_src);
        OK(P->create(&t->ctx, cl, E));
        virStorageVolPtr cv = virStorageVolLookupByName(pool, cl->name);
        char *cpath = virStorageVolGetPath(cv);
        char head[16] = { 0 };
        fd = open(cpath, O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(read(fd, head, 9), 9);
        close(fd);
        assert_string_equal(head, "VCM-IMAGE");
        free(cpath);
        virStorageVolFree(cv);

        /* Three TCG domains booting the tiny guest. */
        for (unsigned i = 0; i < N_DOMAINS; i++) {
                doms[i] = put_domain(want, t, nodes[i], i);
                OK(P->create(&t->ctx, doms[i], E));
        }
        vcm_resource_set *s = observe(t);
        for (unsigned i = 0; i < N_DOMAINS; i++) {
                const vcm_resource *have =
                        vcm_resource_set_find(s, VCM_KIND_DOMAIN, "local", doms[i]->name);
                assert_matches(doms[i], have);
        }
        assert_matches(br, vcm_resource_set_find(s, VCM_KIND_BRIDGE, "local", t->bridge));
        assert_matches(g, vcm_resource_set_find(s, VCM_KIND_VOLUME, "local", g->name));
        assert_matches(cl, vcm_resource_set_find(s, VCM_KIND_VOLUME, "local", cl->name));
        assert_null(vcm_resource_set_find(s, VCM_KIND_DOMAIN, "local", decoy));
        assert_null(vcm_resource_set_find(s, VCM_KIND_VOLUME, "local", decoy));
        vcm_resource_set_free(s);

        double secs = wait_guests(t, doms, N_DOMAINS);
        print_message("all %d guests printed VCM-GUEST-INIT after %.1f s\n", N_DOMAINS, secs);

        /* Drift: destroyed behind vcm's back, observed shut off, started again by update. */
        virDomainPtr victim = virDomainLookupByName(t->raw, doms[1]->name);
        assert_int_equal(virDomainDestroy(victim), 0);
        s = observe(t);
        const vcm_resource *have = vcm_resource_set_find(s, VCM_KIND_DOMAIN, "local",
                                                         doms[1]->name);
        assert_string_equal(vcm_resource_prop(have, "state"), "shutoff");
        const char *why;
        assert_int_equal(P->classify(VCM_KIND_DOMAIN, "state", "shutoff", "running", &why),
                         VCM_CHANGE_LIVE);
        OK(P->update(&t->ctx, doms[1], have, E));
        vcm_resource_set_free(s);
        assert_int_equal(virDomainIsActive(victim), 1);
        s = observe(t);
        assert_string_equal(vcm_resource_prop(vcm_resource_set_find(s, VCM_KIND_DOMAIN, "local",
                                                                    doms[1]->name),
                                              "state"),
                            "running");
        vcm_resource_set_free(s);
        secs = wait_guests(t, &doms[1], 1);
        print_message("restarted guest printed VCM-GUEST-INIT after %.1f s\n", secs);
        virDomainFree(victim);

        /* Memory change: requires a restart; the domain comes back with the new size. */
        assert_int_equal(P->classify(VCM_KIND_DOMAIN, "memory", "268435456", "201326592", &why),
                         VCM_CHANGE_RESTART);
        s = observe(t);
        have = vcm_resource_set_find(s, VCM_KIND_DOMAIN, "local", doms[2]->name);
        virDomainPtr d2 = virDomainLookupByName(t->raw, doms[2]->name);
        unsigned id_before = virDomainGetID(d2);
        vcm_resource_set *smaller = vcm_resource_set_new();
        vcm_resource *d2want = put_domain(smaller, t, nodes[2], 2);
        vcm_resource_set_propf(d2want, "memory", "%llu", 192 * MiB);
        vcm_resource_rehash(d2want);
        OK(P->update(&t->ctx, d2want, have, E));
        vcm_resource_set_free(s);
        assert_int_equal(virDomainIsActive(d2), 1);
        virDomainFree(d2); /* a domain pointer caches its id: look it up again */
        d2 = virDomainLookupByName(t->raw, doms[2]->name);
        assert_true(virDomainGetID(d2) != id_before); /* a new QEMU process */
        s = observe(t);
        have = vcm_resource_set_find(s, VCM_KIND_DOMAIN, "local", doms[2]->name);
        assert_matches(d2want, have);
        assert_string_equal(vcm_resource_prop(have, "state"), "running");
        vcm_resource_set_free(s);
        virDomainFree(d2);
        vcm_resource_set_free(smaller);

        /* Delete everything through the provider, domains first; deleting twice is fine. */
        s = observe(t);
        for (int pass = 0; pass < 2; pass++)
                for (int k = VCM_KIND__COUNT - 1; k >= 0; k--)
                        for (size_t i = 0; i < vcm_resource_set_size(s); i++) {
                                const vcm_resource *r = vcm_resource_set_at(s, i);
                                if ((int)r->kind == k && strcmp(r->cluster, t->cluster) == 0)
                                        OK(P->delete(&t->ctx, r, E));
                        }
        vcm_resource_set_free(s);
        s = observe(t);
        for (size_t i = 0; i < vcm_resource_set_size(s); i++)
                assert_string_not_equal(vcm_resource_set_at(s, i)->cluster, t->cluster);
        vcm_resource_set_free(s);
        assert_false(iface_exists(t->bridge));
        assert_null(virNetworkLookupByName(t->raw, t->bridge));

        /* Only the decoys are left of the run; they are intact. */
        assert_int_equal(virDomainIsActive(decoy_dom), 0);
        char *x = virDomainGetXMLDesc(decoy_dom, 0);
        assert_null(strstr(x, VCM_LIBVIRT_NS));
        free(x);
        assert_int_equal(virStorageVolGetInfo(decoy_vol, &info), 0);
        virStoragePoolRefresh(pool, 0);
        virStorageVolPtr *left = NULL;
        int nv = virStoragePoolListAllVolumes(pool, &left, 0);
        for (int i = 0; i < nv; i++) {
                const char *name = virStorageVolGetName(left[i]);
                if (strstr(name, t->cluster) && strcmp(name, decoy) != 0)
                        fail_msg("volume %s of the run is left", name);
                virStorageVolFree(left[i]);
        }
        free(left);
        virDomainPtr *dl = NULL;
        int nd = virConnectListAllDomains(t->raw, &dl, 0);
        for (int i = 0; i < nd; i++) {
                const char *name = virDomainGetName(dl[i]);
                if (strncmp(name, t->cluster, strlen(t->cluster)) == 0 && strcmp(name, decoy) != 0)
                        fail_msg("domain %s of the run is left", name);
                virDomainFree(dl[i]);
        }
        free(dl);
        virStorageVolDelete(decoy_vol, 0);
        virStorageVolFree(decoy_vol);
        virDomainUndefine(decoy_dom);
        virDomainFree(decoy_dom);

        /* Everything the test did not create is as it was. */
        char *after = inventory(t);
        assert_string_equal(after, t->before);
        free(after);

        virStoragePoolFree(pool);
        vcm_resource_set_free(grown);
        vcm_resource_set_free(want);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_real_libvirtd, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
