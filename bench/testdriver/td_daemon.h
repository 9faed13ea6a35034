/* Daemon mode of bench_testdriver: libvirt's test driver served by the system libvirtd
 * (test+unix:///default), so that the "hypervisor's" objects live in libvirtd and the bench's
 * own RSS is vcm's alone, as against a real host.
 *
 * That test driver is shared by every client of test+unix:///default, so the bench uses a site
 * and a pool path of its own and removes what it made (td_cleanup) at the end, on failure and on
 * SIGINT/SIGTERM/SIGHUP; objects of other sites and the driver's defaults (domain "test",
 * network "default", pool "default-pool") are never touched. */
#ifndef VCM_BENCH_TD_DAEMON_H
#define VCM_BENCH_TD_DAEMON_H

#include <stddef.h>

#include <libvirt/libvirt.h>

#define TD_DAEMON_URI "test+unix:///default"
#define TD_DAEMON_SITE "benchd"
#define TD_DAEMON_POOL_PATH "/vcm-bench-testdriver-daemon"
/* Through libvirtd one call lists at most 16,384 volumes (libvirt's REMOTE_STORAGE_VOL_LIST_MAX)
 * and the provider lists vcm's pool in one call per pass; each bench cluster puts 44 volumes in
 * it (11 data volumes, 11 seeds, a marker each), plus the pool's own marker. Above this many
 * clusters the host cannot be observed. */
#define TD_DAEMON_MAX_CLUSTERS ((16384 - 1) / 44)

/* The site.yaml of the daemon mode: `base` (BENCH_TD_SITE) with the daemon's URI, site name
 * and pool path. Exits when `base` lacks one of the strings it replaces. */
char *td_daemon_site(const char *base);

/* The pid of the running libvirtd (/run/libvirtd.pid, checked against /proc/PID/comm; else the
 * one process named libvirtd), or -1. */
int td_libvirtd_pid(void);
/* VmRSS of a process in MiB, -1 when unreadable. */
double td_pid_rss_mib(int pid);
/* User + system CPU time of a process in ms, -1 when unreadable. */
double td_pid_cpu_ms(int pid);

typedef struct td_counts {
        size_t domains, networks, volumes;
        int pool; /* vcm's pool at the bench's path: 1 present, 0 absent */
} td_counts;

/* Removes the site's domains and networks (vcm's mark with site="SITE") and, in pool "vcm",
 * the site's marker volumes and the data volumes they name; then the pool itself when it has
 * the bench's path and holds nothing but vcm's pool marker. ret: what was removed (pool: 1 when
 * the pool was). 0 or -errno (the first failure; the rest is still tried). */
int td_cleanup(virConnectPtr conn, const char *site, const char *pool_path, td_counts *ret);
/* What of the site is there (same rules as td_cleanup; pool: 1 when vcm's pool with the bench's
 * path exists), and the driver's totals (every domain, network, volume of pool "vcm"; pool: the
 * number of pools). */
int td_count(virConnectPtr conn, const char *site, const char *pool_path, td_counts *ret_site,
             td_counts *ret_all);

#endif
