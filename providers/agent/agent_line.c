/* Line framing of the agent protocol: one JSON document per line, bounded in length. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "providers/agent/agent_internal.h"
#include "reconciler/util.h"

void agent_reader_init(agent_reader *r, int fd, size_t max) {
        *r = (agent_reader){ .fd = fd, .max = max };
}

void agent_reader_done(agent_reader *r) {
        free(r->buf);
        *r = (agent_reader){ .fd = -1 };
}

int agent_reader_next(agent_reader *r, char **ret_line, size_t *ret_len) {
        for (;;) {
                if (r->len == 0)
                        return 0;
                char *p = r->buf + r->start;
                char *nl = memchr(p, '\n', r->len);
                if (r->skipping) {
                        /* Drop the rest of an overlong line, up to and with its newline. */
                        if (!nl) {
                                r->start = r->len = 0;
                                return 0;
                        }
                        size_t n = (size_t)(nl - p) + 1;
                        r->start += n;
                        r->len -= n;
                        r->skipping = false;
                        continue;
                }
                if (!nl) {
                        if (r->len > r->max) {
                                r->skipping = true;
                                r->start = r->len = 0;
                                return -E2BIG;
                        }
                        return 0;
                }
                size_t n = (size_t)(nl - p);
                r->start += n + 1;
                r->len -= n + 1;
                if (n > r->max)
                        return -E2BIG;
                *nl = '\0';
                *ret_line = p;
                *ret_len = n;
                return 1;
        }
}

int agent_reader_fill(agent_reader *r) {
        if (r->eof)
                return 0;
        /* Move unread bytes to the front, then make room for a read. */
        if (r->start > 0) {
                memmove(r->buf, r->buf + r->start, r->len);
                r->start = 0;
        }
        if (r->cap - r->len < 4096) {
                size_t cap = r->cap ? r->cap * 2 : 65536;
                r->buf = xrealloc(r->buf, cap);
                r->cap = cap;
        }
        ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
        if (n < 0)
                return -errno;
        if (n == 0) {
                r->eof = true;
                return 0;
        }
        r->len += (size_t)n;
        return 1;
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                /* send() with MSG_NOSIGNAL so a vanished peer is -EPIPE, not a fatal SIGPIPE; plain
                 * write() when the fd is a pipe or a file. */
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
                if (w < 0 && errno == ENOTSOCK)
                        w = write(fd, p, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

int agent_write_msg(int fd, const json_t *msg) {
        char *s = json_dumps(msg, JSON_COMPACT);
        if (!s)
                return -ENOMEM;
        size_t n = strlen(s);
        char *line = xmalloc(n + 1);
        memcpy(line, s, n);
        line[n] = '\n';
        free(s);
        int r = write_all(fd, line, n + 1);
        free(line);
        return r;
}
