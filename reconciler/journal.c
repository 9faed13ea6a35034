#include "reconciler/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reconciler/util.h"

struct vcm_journal {
        int fd;
        int error;
        pthread_mutex_t lock;
};

int vcm_journal_open(const char *state_dir, vcm_journal **ret) {
        if (mkdir(state_dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        char *path = xasprintf("%s/journal.jsonl", state_dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        int saved = errno;
        free(path);
        if (fd < 0)
                return -saved;
        vcm_journal *j = xcalloc(1, sizeof(*j));
        j->fd = fd;
        pthread_mutex_init(&j->lock, NULL);
        *ret = j;
        return 0;
}

int vcm_journal_append(vcm_journal *j, int64_t when, const vcm_step *s, int result,
                       const char *error, const char *commit) {
        const vcm_resource *r = s->desired ? s->desired : s->observed;
        char stamp[32];
        time_t t = (time_t)when;
        struct tm tm;
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?}", "time", stamp,
                              "cluster", s->cluster, "kind", vcm_kind_name(r->kind), "host",
                              r->host, "name", r->name, "action", vcm_action_name(s->action),
                              "result", result < 0 ? "error" : "ok", "error",
                              result < 0 ? (error ? error : strerror(-result)) : NULL, "commit",
                              commit);
        if (!o)
                return -ENOMEM;
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (!line)
                return -ENOMEM;
        size_t len = strlen(line);
        line[len] = '\n'; /* json_dumps' terminator becomes the newline; write len + 1 bytes */
        pthread_mutex_lock(&j->lock);
        ssize_t w = write(j->fd, line, len + 1);
        int res = w == (ssize_t)(len + 1) ? 0 : w < 0 ? -errno : -EIO;
        if (res < 0 && !j->error)
                j->error = res;
        pthread_mutex_unlock(&j->lock);
        free(line);
        return res;
}

int vcm_journal_close(vcm_journal *j) {
        if (!j)
                return 0;
        int r = j->error;
        if (fsync(j->fd) < 0 && !r)
                r = -errno;
        close(j->fd);
        pthread_mutex_destroy(&j->lock);
        free(j);
        return r;
}
