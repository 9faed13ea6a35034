/* The minimal program: the libvirt calls vcm's provider makes to create a new domain
 * (virDomainDefineXML, then virDomainCreate) with the same XML, from P threads on one
 * connection. Prints the wall time of creating N domains. */
#include <stdio.h>
#include <stdlib.h>

#include <libvirt/virterror.h>

#include "bench_apply_common.h"

static void quiet(void *u, virErrorPtr e) {
        (void)u;
        (void)e;
}

/* The same definition the provider writes for these props (no disk, no NIC, firmware boot). */
static int create_one(bench *b, int i, char *err, size_t errlen) {
        char xml[2048];
        snprintf(xml, sizeof(xml),
                 "<domain type='qemu'><name>%s-%d</name>"
                 "<metadata><vcm:resource xmlns:vcm=\"https://vcm.dev/xmlns/libvirt/1\" "
                 "cluster=\"%s\" node=\"n-%d\" appliance=\"compute\" hash=\"0123456789abcdef\"/>"
                 "</metadata>"
                 "<memory unit='KiB'>%d</memory><vcpu>1</vcpu>"
                 "<os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>"
                 "<features><acpi/></features>"
                 "<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot>"
                 "<on_crash>destroy</on_crash>"
                 "<devices><serial type='file'><source path='/var/log/vcm/%s-%d.serial.log'/>"
                 "<target port='0'/></serial><memballoon model='none'/></devices></domain>",
                 b->prefix, i, b->prefix, i, BENCH_MEMORY_MIB * 1024, b->prefix, i);
        virDomainPtr d = virDomainDefineXML(b->conn, xml);
        if (!d || virDomainCreate(d) < 0) {
                snprintf(err, errlen, "%s", virGetLastErrorMessage());
                if (d)
                        virDomainFree(d);
                return -1;
        }
        virDomainFree(d);
        return 0;
}

int main(int argc, char **argv) {
        bench b = { 0 };
        if (bench_args(argc, argv, &b) < 0)
                return 2;
        virSetErrorFunc(NULL, quiet);
        b.conn = virConnectOpen(BENCH_URI);
        if (!b.conn)
                return 1;
        b.create_one = create_one;
        bench_cleanup(b.conn, b.prefix);
        double s = bench_run(&b);
        bench_cleanup(b.conn, b.prefix);
        virConnectClose(b.conn);
        if (s < 0)
                return 1;
        printf("raw %d domains %d threads %.3f s\n", b.n, b.threads, s);
        return 0;
}
