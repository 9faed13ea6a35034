#include "reconciler/apply.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconciler/util.h"

typedef struct apply_run {
        const vcm_step *steps;
        size_t n;
        const vcm_provider_table *providers;
        vcm_conns *conns;
        const vcm_engine_opts *opts;
        const char *commit;
        vcm_journal *journal;
        int *results;
        char **errors;

        pthread_mutex_t lock;
        pthread_cond_t cond;
        size_t *pending;      /* deps not yet finished */
        size_t **dependents;
        size_t *n_dependents;
        size_t *queue;        /* ready steps, FIFO */
        size_t q_head, q_tail;
        size_t finished;
} apply_run;

static void sleep_ms(long ms) {
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int run_once(apply_run *a, const vcm_step *s, vcm_error *err) {
        const vcm_resource *r = s->desired ? s->desired : s->observed;
        const vcm_provider *p = a->providers->by_kind[r->kind];
        if (!p) {
                vcm_error_set(err, "no provider for %s resources", vcm_kind_name(r->kind));
                return -EOPNOTSUPP;
        }
        vcm_conn *c = vcm_conns_find(a->conns, p, r->host);
        if (!c) {
                vcm_error_set(err, "host %s is not in the site", r->host);
                return -ENOENT;
        }
        if (c->open_result == -EOPNOTSUPP) {
                vcm_error_set(err, "provider %s does not serve host %s", p->name, r->host);
                return -EOPNOTSUPP;
        }
        if (c->open_result < 0) {
                vcm_error_set(err, "host %s unreachable: %s", r->host, c->err.message);
                return c->open_result;
        }
        switch (s->action) {
        case VCM_ACTION_CREATE:
                return p->create ? p->create(&c->ctx, s->desired, err) : -EOPNOTSUPP;
        case VCM_ACTION_UPDATE:
        case VCM_ACTION_RESTART:
                return p->update ? p->update(&c->ctx, s->desired, s->observed, err) : -EOPNOTSUPP;
        case VCM_ACTION_REPLACE: {
                if (!p->delete || !p->create)
                        return -EOPNOTSUPP;
                int k = p->delete(&c->ctx, s->observed, err);
                return k < 0 ? k : p->create(&c->ctx, s->desired, err);
        }
        case VCM_ACTION_DELETE:
                return p->delete ? p->delete(&c->ctx, s->observed, err) : -EOPNOTSUPP;
        }
        return -EINVAL;
}

static int run_step(apply_run *a, const vcm_step *s, char **ret_msg) {
        int attempts = a->opts->retries > 0 ? a->opts->retries : 1;
        long delay = a->opts->backoff_ms == 0 ? 200 : a->opts->backoff_ms;
        int r = 0;
        vcm_error err;
        for (int i = 0; i < attempts; i++) {
                err.message[0] = 0;
                r = run_once(a, s, &err);
                /* Permanent by nature: retrying cannot help. */
                if (r >= 0 || r == -EOPNOTSUPP || r == -ENOENT)
                        break;
                if (i + 1 < attempts && delay > 0) {
                        sleep_ms(delay);
                        delay *= 2;
                }
        }
        if (r < 0) {
                *ret_msg = xstrdup(err.message[0] ? err.message : strerror(-r));
                return r;
        }
        return 0;
}

static void finish_locked(apply_run *a, size_t i, int result, char *msg, bool ran);

/* A failed step fails everything after it, without running it. */
static void fail_dependents_locked(apply_run *a, size_t i) {
        for (size_t k = 0; k < a->n_dependents[i]; k++) {
                size_t d = a->dependents[i][k];
                if (a->pending[d] == SIZE_MAX)
                        continue; /* already failed through another dep */
                a->pending[d] = SIZE_MAX;
                finish_locked(a, d, -ECANCELED, xstrdup("dependency failed"), false);
        }
}

static void finish_locked(apply_run *a, size_t i, int result, char *msg, bool ran) {
        a->results[i] = result;
        a->errors[i] = msg;
        a->finished++;
        if (a->journal)
                vcm_journal_append(a->journal, (int64_t)time(NULL), &a->steps[i], result, msg,
                                   a->commit);
        if (!ran && a->opts->on_step)
                a->opts->on_step(a->opts->userdata, &a->steps[i], 1, result, msg);
        if (result < 0) {
                fail_dependents_locked(a, i);
        } else {
                for (size_t k = 0; k < a->n_dependents[i]; k++) {
                        size_t d = a->dependents[i][k];
                        if (a->pending[d] != SIZE_MAX && --a->pending[d] == 0)
                                a->queue[a->q_tail++] = d;
                }
        }
        pthread_cond_broadcast(&a->cond);
}

static void *worker(void *arg) {
        apply_run *a = arg;
        pthread_mutex_lock(&a->lock);
        for (;;) {
                while (a->q_head == a->q_tail && a->finished < a->n)
                        pthread_cond_wait(&a->cond, &a->lock);
                if (a->q_head == a->q_tail)
                        break;
                size_t i = a->queue[a->q_head++];
                pthread_mutex_unlock(&a->lock);

                const vcm_step *s = &a->steps[i];
                if (a->opts->on_step)
                        a->opts->on_step(a->opts->userdata, s, 0, 0, NULL);
                char *msg = NULL;
                int r = run_step(a, s, &msg);
                if (a->opts->on_step)
                        a->opts->on_step(a->opts->userdata, s, 1, r, msg);

                pthread_mutex_lock(&a->lock);
                finish_locked(a, i, r, msg, true);
        }
        pthread_mutex_unlock(&a->lock);
        return NULL;
}

void vcm_apply_steps(const vcm_step *steps, size_t n, const vcm_provider_table *providers,
                     vcm_conns *conns, const vcm_engine_opts *opts, const char *commit,
                     vcm_journal *journal, int *results, char **errors) {
        if (n == 0)
                return;
        apply_run a = {
                .steps = steps, .n = n, .providers = providers, .conns = conns, .opts = opts,
                .commit = commit, .journal = journal, .results = results, .errors = errors,
        };
        pthread_mutex_init(&a.lock, NULL);
        pthread_cond_init(&a.cond, NULL);
        a.pending = xcalloc(n, sizeof(size_t));
        a.n_dependents = xcalloc(n, sizeof(size_t));
        a.dependents = xcalloc(n, sizeof(size_t *));
        a.queue = xcalloc(n, sizeof(size_t));
        for (size_t i = 0; i < n; i++)
                for (size_t d = 0; d < steps[i].n_deps; d++)
                        a.n_dependents[steps[i].deps[d]]++;
        size_t *fill = xcalloc(n, sizeof(size_t));
        for (size_t i = 0; i < n; i++)
                a.dependents[i] = xcalloc(a.n_dependents[i] ? a.n_dependents[i] : 1, sizeof(size_t));
        for (size_t i = 0; i < n; i++) {
                a.pending[i] = steps[i].n_deps;
                for (size_t d = 0; d < steps[i].n_deps; d++) {
                        size_t j = steps[i].deps[d];
                        a.dependents[j][fill[j]++] = i;
                }
                if (steps[i].n_deps == 0)
                        a.queue[a.q_tail++] = i;
        }
        free(fill);

        int threads = opts->parallel > 0 ? opts->parallel : 8;
        if ((size_t)threads > n)
                threads = (int)n;
        pthread_t *tids = xcalloc((size_t)threads, sizeof(pthread_t));
        int started = 0;
        for (int t = 0; t < threads; t++)
                if (pthread_create(&tids[t], NULL, worker, &a) == 0)
                        started++;
        if (started == 0)
                worker(&a);
        for (int t = 0; t < started; t++)
                pthread_join(tids[t], NULL);
        free(tids);

        for (size_t i = 0; i < n; i++)
                free(a.dependents[i]);
        free(a.dependents);
        free(a.n_dependents);
        free(a.pending);
        free(a.queue);
        pthread_cond_destroy(&a.cond);
        pthread_mutex_destroy(&a.lock);
}
