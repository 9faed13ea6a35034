/* Running lvm2 commands: fork/exec without a shell, stdout and stderr captured. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lvm_internal.h"
#include "reconciler/util.h"

typedef struct buf {
        char *data;
        size_t len;
} buf;

static bool buf_read(buf *b, int fd) {
        char chunk[4096];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n <= 0)
                return n < 0 && errno == EINTR;
        b->data = xrealloc(b->data, b->len + (size_t)n + 1);
        memcpy(b->data + b->len, chunk, (size_t)n);
        b->len += (size_t)n;
        b->data[b->len] = '\0';
        return true;
}

/* lvm2 warns about every inherited descriptor; C locale for messages we quote. */
static char *const lvm_env[] = { "LC_ALL=C", "LVM_SUPPRESS_FD_WARNINGS=1",
                                 "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };

int lvm_run(const char *const argv[], char **ret_out, char **ret_err) {
        int out[2], errp[2];
        if (pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(errp, O_CLOEXEC) < 0) {
                int r = -errno;
                close(out[0]);
                close(out[1]);
                return r;
        }
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(out[0]);
                close(out[1]);
                close(errp[0]);
                close(errp[1]);
                return r;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY);
                if (null >= 0)
                        dup2(null, 0);
                dup2(out[1], 1);
                dup2(errp[1], 2);
                signal(SIGPIPE, SIG_DFL);
                execve(argv[0], (char *const *)argv, lvm_env);
                dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
                _exit(127);
        }
        close(out[1]);
        close(errp[1]);
        buf bo = { 0 }, be = { 0 };
        struct pollfd p[2] = { { .fd = out[0], .events = POLLIN }, { .fd = errp[0], .events = POLLIN } };
        int open_fds = 2;
        while (open_fds > 0) {
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (int i = 0; i < 2; i++) {
                        if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        if (!buf_read(i == 0 ? &bo : &be, p[i].fd)) {
                                close(p[i].fd);
                                p[i].fd = -1;
                                open_fds--;
                        }
                }
        }
        for (int i = 0; i < 2; i++)
                if (p[i].fd >= 0)
                        close(p[i].fd);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        free(bo.data);
                        free(be.data);
                        return -ECHILD;
                }
        /* Messages end in newlines: trim them so they embed in one-line errors. */
        while (be.len && (be.data[be.len - 1] == '\n' || be.data[be.len - 1] == ' '))
                be.data[--be.len] = '\0';
        *ret_out = bo.data ? bo.data : xstrdup("");
        *ret_err = be.data ? be.data : xstrdup("");
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
