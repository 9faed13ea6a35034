/* The libvirt provider: domains, file volumes in vcm's libvirt directory pool, and isolated
 * libvirt networks for the bridge network backend (DESIGN.md §3).
 *
 * Everything it creates carries vcm's mark and it never lists, changes or deletes anything
 * without it: domains and networks carry <metadata><vcm:resource xmlns:vcm=VCM_LIBVIRT_NS .../>,
 * volumes a marker volume next to them in the pool (see lv_volume.c). */
#ifndef VCM_PROVIDER_LIBVIRT_H
#define VCM_PROVIDER_LIBVIRT_H

#include "providers/provider.h"

/* What the module build (vcm-libvirt.so) exports; everything else in it stays hidden. */
#ifdef VCM_LIBVIRT_MODULE
#define VCM_LIBVIRT_EXPORT __attribute__((visibility("default")))
#else
#define VCM_LIBVIRT_EXPORT
#endif

/* XML namespace of vcm's ownership metadata on domains and networks. */
#define VCM_LIBVIRT_NS "https://vcm.dev/xmlns/libvirt/1"
#define VCM_LIBVIRT_NS_PREFIX "vcm"

/* Default directory of the "vcm" pool when the host gives no pool_path. */
#define VCM_LIBVIRT_POOL_PATH "/var/lib/vcm/pool"
/* Where each domain's serial console is logged: <dir>/<domain>.serial.log on the VM host. */
#define VCM_LIBVIRT_SERIAL_DIR "/var/log/vcm"

VCM_LIBVIRT_EXPORT extern const vcm_provider vcm_provider_libvirt;

/* Start libvirt's event loop (a thread of its own) for the watch ops. Once per process,
 * idempotent; the service calls it before any connection is opened, as libvirt asks, so that
 * every connection is hooked into the loop. 0 or a negative errno. */
VCM_LIBVIRT_EXPORT int vcm_libvirt_events_init(void);

/* The domain type open() chose for this connection: "kvm" or "qemu". */
VCM_LIBVIRT_EXPORT const char *vcm_libvirt_domain_type(const void *conn);

#endif
