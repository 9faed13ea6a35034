/* Private-daemons mode of bench_testdriver (--daemons [K]): K libvirtd processes of the bench's
 * own, one per vcm host, each an unprivileged session daemon (uid/gid 65534) with its HOME,
 * XDG_RUNTIME_DIR, XDG_CONFIG_HOME and XDG_CACHE_HOME in a temp dir of its own, so that each
 * serves its own test driver (test+unix:///default?socket=DIR/run/libvirt/libvirt-sock; root may
 * connect to it). Through libvirtd one call lists at most 16,384 volumes of a pool, and every
 * client of one libvirtd shares one test driver: K daemons give K pools, so N clusters spread
 * over K hosts can be observed where one host caps N at 372 (td_daemon.h).
 *
 * The daemons are the bench's children: they are stopped (SIGTERM, then SIGKILL) by their pids
 * and their dirs removed at the end, on failure (atexit) and on SIGINT/SIGTERM/SIGHUP; a daemon
 * also gets SIGTERM when the bench dies otherwise (PR_SET_PDEATHSIG), its dir then stays. The
 * system libvirtd and its /run/libvirt are never touched. */
#ifndef VCM_BENCH_TD_DAEMONS_H
#define VCM_BENCH_TD_DAEMONS_H

#include <stdio.h>
#include <stddef.h>

#include <libvirt/libvirt.h>

/* Volumes each bench cluster puts in pool "vcm" (11 data volumes, 11 seeds, a marker each). */
#define TD_VOLS_PER_CLUSTER 44
/* What one RPC listing returns at most (libvirt's REMOTE_STORAGE_VOL_LIST_MAX). */
#define TD_RPC_LIST_MAX 16384
/* The automatic K keeps every host at most this many volumes on average (placement spreads
 * each cluster's nodes, so hosts differ by about one cluster's volumes). */
#define TD_AUTO_VOLS_PER_HOST 14000

typedef struct td_private {
        int pid;             /* libvirtd's pid, the bench's child */
        char *dir;           /* its temp dir (HOME and XDG dirs) */
        char *uri;           /* test+unix:///default?socket=... */
        virConnectPtr conn;  /* the raw connection held for the whole run */
} td_private;

/* K for N clusters: the fewest hosts that keep TD_AUTO_VOLS_PER_HOST (clusters above the 4094
 * network ids are Pending and own no volume). */
size_t td_daemons_auto(size_t n_clusters);
/* 0 when K hosts can be observed for N clusters (average per host plus one cluster's volumes
 * and the pool marker within TD_RPC_LIST_MAX), else -E2BIG with the reason in `why`. */
int td_daemons_check(size_t n_clusters, size_t k, char *why, size_t why_size);

/* Starts K daemons, waits until each answers, and opens the raw connections. On failure the
 * ones started are stopped and -errno returned (printed on stderr). The list is global: one set
 * per process. */
int td_daemons_start(size_t k);
/* The daemons started (valid until td_daemons_stop). */
td_private *td_daemons_list(size_t *ret_n);
/* Closes the raw connections, stops each daemon (SIGTERM, after 10 s SIGKILL; waited for),
 * removes its dir, then verifies: no pid alive, no dir left, no process with such a HOME in its
 * environment. Prints one line on `out` (nothing when none was started). Idempotent and
 * thread-safe. 0 or -EBUSY when something is left. */
int td_daemons_stop(const char *why, FILE *out);

/* The site.yaml: site "benchk", K hosts h1..hK, each with its daemon's URI. */
char *td_daemons_site(void);

/* Sum of the daemons' VmRSS in MiB / CPU time (utime+stime) in ms; -1 when unreadable. */
double td_daemons_rss_mib(void);
double td_daemons_cpu_ms(void);

#endif
