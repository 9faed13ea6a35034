/* Private libvirtd daemons of bench_testdriver (td_daemons.h). */
#include "td_daemons.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "td_daemon.h"

#define TD_NOBODY 65534
#define TD_LIBVIRTD "/usr/sbin/libvirtd"
#define TD_NET_IDS 4094

static td_private *list;
static size_t n_list;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

size_t td_daemons_auto(size_t n_clusters) {
        size_t ready = n_clusters < TD_NET_IDS ? n_clusters : TD_NET_IDS;
        size_t vols = TD_VOLS_PER_CLUSTER * ready;
        size_t k = (vols + TD_AUTO_VOLS_PER_HOST - 1) / TD_AUTO_VOLS_PER_HOST;
        return k ? k : 1;
}

int td_daemons_check(size_t n_clusters, size_t k, char *why, size_t why_size) {
        size_t ready = n_clusters < TD_NET_IDS ? n_clusters : TD_NET_IDS;
        /* One host holds everything exactly; several differ by up to a cluster's volumes. */
        size_t per_host = k == 1 ? TD_VOLS_PER_CLUSTER * ready + 1
                                 : (TD_VOLS_PER_CLUSTER * ready + k - 1) / k +
                                           TD_VOLS_PER_CLUSTER + 1;
        if (k >= 1 && per_host <= TD_RPC_LIST_MAX)
                return 0;
        snprintf(why, why_size,
                 "%zu clusters on %zu host(s) put up to ~%zu volumes in a host's pool \"vcm\", "
                 "more than the %d one RPC listing returns (the provider lists the pool in one "
                 "call): use more daemons (at least %zu)",
                 ready, k, per_host, TD_RPC_LIST_MAX, td_daemons_auto(n_clusters));
        return -E2BIG;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int rm_tree(const char *dir) {
        if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
                return -errno;
        return access(dir, F_OK) == 0 ? -EBUSY : 0;
}

static bool alive(int pid) {
        return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

/* Processes whose environment holds HOME=DIR of one of the daemons: what a daemon may have
 * spawned and left (none expected). */
static size_t count_strays(void) {
        size_t n = 0;
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
                if (!isdigit((unsigned char)e->d_name[0]))
                        continue;
                char path[300], buf[8192];
                snprintf(path, sizeof(path), "/proc/%s/environ", e->d_name);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                ssize_t len = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                if (len <= 0)
                        continue;
                buf[len] = '\0';
                for (char *p = buf; p < buf + len; p += strlen(p) + 1)
                        for (size_t i = 0; i < n_list; i++)
                                if (!strncmp(p, "HOME=", 5) && !strcmp(p + 5, list[i].dir))
                                        n++;
        }
        if (d)
                closedir(d);
        return n;
}

/* The bench's child: drops to nobody, a clean environment in its dir, and libvirtd. Only
 * async-signal-safe calls between fork and exec (the strings are built before the fork). */
static void child_exec(char *const env[], const char *dir, int log_fd) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL); /* the bench blocks its signals for a thread */
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
                _exit(126);
        /* Its own session: a terminal's ^C reaches the bench alone, which stops the daemons. */
        setsid();
        if (setgroups(0, NULL) < 0 || setresgid(TD_NOBODY, TD_NOBODY, TD_NOBODY) < 0 ||
            setresuid(TD_NOBODY, TD_NOBODY, TD_NOBODY) < 0)
                _exit(126);
        /* After the uid change, which clears it: SIGTERM when the bench dies without stopping
         * it (SIGKILL). */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1 || chdir(dir) < 0)
                _exit(126);
        char *const argv[] = { (char *)"libvirtd", NULL };
        execve(TD_LIBVIRTD, argv, env);
        _exit(127);
}

static int mkdir_nobody(const char *dir, const char *sub) {
        char path[256];
        snprintf(path, sizeof(path), "%s%s", dir, sub);
        if (sub[0] && mkdir(path, 0700) < 0)
                return -errno;
        return chown(path, TD_NOBODY, TD_NOBODY) < 0 ? -errno : 0;
}

static void print_log_tail(const td_private *p) {
        char path[256], buf[2048];
        snprintf(path, sizeof(path), "%s/libvirtd.log", p->dir);
        FILE *f = fopen(path, "r");
        if (!f)
                return;
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0, SEEK_SET);
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        fprintf(stderr, "libvirtd (pid %d) log, end:\n%s\n", p->pid, buf);
}

static void quiet(void *userdata, virErrorPtr e) {
        (void)userdata;
        (void)e;
}

/* Forks one daemon; it is on the list (so stopped by any exit path) before it runs. */
static int spawn_one(void) {
        char tmpl[] = "/tmp/vcm-bench-td.XXXXXX";
        if (!mkdtemp(tmpl))
                return -errno;
        td_private p = { .pid = -1, .dir = strdup(tmpl) };
        if (!p.dir) {
                rmdir(tmpl);
                return -ENOMEM;
        }
        pthread_mutex_lock(&lock);
        td_private *grown = realloc(list, (n_list + 1) * sizeof(*list));
        if (grown) {
                list = grown;
                list[n_list++] = p;
        }
        pthread_mutex_unlock(&lock);
        if (!grown) {
                rmdir(p.dir);
                free(p.dir);
                return -ENOMEM;
        }
        td_private *me = &list[n_list - 1];
        int r = 0;
        static const char *const subs[] = { "", "/run", "/config", "/cache" };
        for (size_t i = 0; i < 4 && r == 0; i++)
                r = mkdir_nobody(me->dir, subs[i]);
        if (r < 0)
                return r;
        char *env[6] = { 0 }, *log = NULL;
        if (asprintf(&env[0], "HOME=%s", me->dir) < 0 ||
            asprintf(&env[1], "XDG_RUNTIME_DIR=%s/run", me->dir) < 0 ||
            asprintf(&env[2], "XDG_CONFIG_HOME=%s/config", me->dir) < 0 ||
            asprintf(&env[3], "XDG_CACHE_HOME=%s/cache", me->dir) < 0 ||
            asprintf(&env[4], "PATH=/usr/sbin:/usr/bin:/sbin:/bin") < 0 ||
            asprintf(&log, "%s/libvirtd.log", me->dir) < 0 ||
            asprintf(&me->uri, "test+unix:///default?socket=%s/run/libvirt/libvirt-sock",
                     me->dir) < 0) {
                r = -ENOMEM;
                goto out;
        }
        int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (log_fd < 0) {
                r = -errno;
                goto out;
        }
        /* The child's dup2 clears O_CLOEXEC on 1 and 2 only. */
        pid_t pid = fork();
        if (pid == 0)
                child_exec(env, me->dir, log_fd);
        close(log_fd);
        if (pid < 0) {
                r = -errno;
                goto out;
        }
        pthread_mutex_lock(&lock);
        me->pid = pid;
        pthread_mutex_unlock(&lock);
out:
        for (size_t i = 0; i < 5; i++)
                free(env[i]);
        free(log);
        return r;
}

/* Waits until the daemon accepts a client (up to 60 s: the machine may be loaded). */
static int connect_one(td_private *p) {
        virSetErrorFunc(NULL, quiet);
        for (int i = 0; i < 1200; i++) {
                int st;
                if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
                        fprintf(stderr, "libvirtd (pid %d, dir %s) exited early (status %d)\n",
                                p->pid, p->dir, st);
                        print_log_tail(p);
                        p->pid = -1;
                        return -ECHILD;
                }
                char sock[256];
                snprintf(sock, sizeof(sock), "%s/run/libvirt/libvirt-sock", p->dir);
                if (access(sock, F_OK) == 0) {
                        p->conn = virConnectOpen(p->uri);
                        if (p->conn) {
                                virSetErrorFunc(NULL, NULL);
                                return 0;
                        }
                }
                nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
        }
        fprintf(stderr, "libvirtd (pid %d) did not answer at %s within 60 s\n", p->pid, p->uri);
        print_log_tail(p);
        virSetErrorFunc(NULL, NULL);
        return -ETIMEDOUT;
}

int td_daemons_start(size_t k) {
        if (access(TD_LIBVIRTD, X_OK) < 0) {
                fprintf(stderr, "--daemons: %s not found\n", TD_LIBVIRTD);
                return -ENOENT;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "--daemons: needs root (to start the daemons as uid %d)\n",
                        TD_NOBODY);
                return -EPERM;
        }
        int r = 0;
        for (size_t i = 0; i < k && r == 0; i++)
                r = spawn_one();
        for (size_t i = 0; i < n_list && r == 0; i++)
                r = connect_one(&list[i]);
        if (r < 0) {
                fprintf(stderr, "--daemons: cannot start %zu libvirtd: %s\n", k, strerror(-r));
                td_daemons_stop("failed start", stderr);
        }
        return r;
}

td_private *td_daemons_list(size_t *ret_n) {
        *ret_n = n_list;
        return list;
}

/* Stops one daemon; 0 when it is gone and reaped. */
static int stop_one(td_private *p) {
        if (p->pid <= 0)
                return 0;
        kill(p->pid, SIGTERM);
        for (int i = 0; i < 200; i++) {
                pid_t w = waitpid(p->pid, NULL, WNOHANG);
                if (w == p->pid || (w < 0 && errno == ECHILD && !alive(p->pid)))
                        return 0;
                nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
        }
        kill(p->pid, SIGKILL);
        return waitpid(p->pid, NULL, 0) == p->pid ? 0 : -EBUSY;
}

int td_daemons_stop(const char *why, FILE *out) {
        pthread_mutex_lock(&lock);
        if (!n_list) {
                pthread_mutex_unlock(&lock);
                return 0;
        }
        size_t stopped = 0, removed = 0, procs_left = 0, dirs_left = 0;
        char pids[512] = "";
        size_t pl = 0;
        for (size_t i = 0; i < n_list; i++) {
                td_private *p = &list[i];
                if (p->conn)
                        virConnectClose(p->conn);
                p->conn = NULL;
                if (p->pid > 0 && pl < sizeof(pids) - 16)
                        pl += (size_t)snprintf(pids + pl, sizeof(pids) - pl, "%s%d", pl ? "," : "",
                                               p->pid);
                stopped += p->pid > 0 && stop_one(p) == 0;
        }
        size_t strays = count_strays();
        for (size_t i = 0; i < n_list; i++) {
                td_private *p = &list[i];
                procs_left += alive(p->pid);
                int e = rm_tree(p->dir);
                removed += e == 0;
                dirs_left += access(p->dir, F_OK) == 0;
        }
        fprintf(out,
                "  daemons (%s): stopped %zu libvirtd (pids %s), removed %zu dirs; left: %zu "
                "processes, %zu dirs, %zu processes with a daemon's HOME\n",
                why, stopped, pids, removed, procs_left, dirs_left, strays);
        int r = procs_left || dirs_left || strays ? -EBUSY : 0;
        for (size_t i = 0; i < n_list; i++) {
                free(list[i].dir);
                free(list[i].uri);
        }
        free(list);
        list = NULL;
        n_list = 0;
        pthread_mutex_unlock(&lock);
        return r;
}

char *td_daemons_site(void) {
        size_t cap = 1024 + n_list * 512, len = 0;
        char *s = malloc(cap);
        if (!s)
                return NULL;
        len += (size_t)snprintf(s + len, cap - len,
                                "apiVersion: vcm/v1\n"
                                "kind: Site\n"
                                "metadata: {name: benchk}\n"
                                "spec:\n"
                                "  network: {backend: bridge}\n"
                                "  storage: {backend: file}\n"
                                "  hosts:\n");
        for (size_t i = 0; i < n_list; i++)
                len += (size_t)snprintf(s + len, cap - len,
                                        "    - name: h%zu\n"
                                        "      roles: [gateway, vm-server]\n"
                                        "      libvirt: %s\n"
                                        "      capacity: {vcpus: 1000000, memory: 100000GiB}\n"
                                        "      poolPath: /vcm-bench-pool\n",
                                        i + 1, list[i].uri);
        snprintf(s + len, cap - len,
                 "  images:\n"
                 "    frontend: {kernel: /boot/vmlinuz, initrd: /boot/initrd.img}\n"
                 "    compute: {kernel: /boot/vmlinuz, initrd: /boot/initrd.img}\n");
        return s;
}

/* The sum of `of` over the daemons; -1 when one is unreadable. */
static double sum_of(double (*of)(int pid)) {
        double sum = 0;
        for (size_t i = 0; i < n_list; i++) {
                double v = of(list[i].pid);
                if (v < 0)
                        return -1;
                sum += v;
        }
        return sum;
}

double td_daemons_rss_mib(void) {
        return sum_of(td_pid_rss_mib);
}

double td_daemons_cpu_ms(void) {
        return sum_of(td_pid_cpu_ms);
}
