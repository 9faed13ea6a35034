/* desired(), guest part: each node's first-boot seed (NoCloud) as a resource of its own, a small
 * read-only disk on the node's VM host in vcm's pool. The desired set keeps each seed's digest
 * and what it was rendered from, not its files (about 1.5 KiB a node): a pass renders the files
 * again only for the seeds it writes (vcm_desired_seed_files). */
#include "reconciler/desired_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/parallel.h"
#include "reconciler/props.h"
#include "reconciler/seed.h"
#include "reconciler/util.h"

/* What the seed was rendered from (meta: not compared; the digest is). */
#define SEED_IN_NODE "meta.node"
#define SEED_IN_APPLIANCE "meta.appliance"
#define SEED_IN_FRONTEND "meta.frontend"
#define SEED_IN_INSTALL "meta.install"
#define SEED_IN_MAC0 "meta.mac0"
#define SEED_IN_MAC1 "meta.mac1"

/* A seed waiting for its digest: rendering is the largest part of desired()'s own work (the
 * user-data of every node, each pass), pure and independent per node, so the seeds of every
 * cluster are rendered together once all are placed (desired_seeds_render). */
typedef struct desired_seed_job {
        const vcm_cluster *c;
        size_t seed_at, domain_at; /* positions in the desired set */
        char node[64], mac0[18], mac1[18];
        const char *appliance;     /* the spec's (or a literal): lives as long as the repo */
        vcm_install install;
        bool frontend, has_mac1;
        uint64_t digest, boot_digest;
        int result;
} desired_seed_job;

struct desired_seeds {
        desired_seed_job *v;
        size_t n, cap;
};

/* Fewer seeds than this are rendered on the calling thread. */
#define DESIRED_SEEDS_PER_THREAD 64
/* Overridable at build time to compare with rendering on one thread (bench/informer). */
#ifndef DESIRED_SEED_THREADS
#define DESIRED_SEED_THREADS 4
#endif

desired_seeds *desired_seeds_new(void) {
        return xcalloc(1, sizeof(desired_seeds));
}

void desired_seeds_free(desired_seeds *s) {
        if (!s)
                return;
        free(s->v);
        free(s);
}

size_t desired_seeds_count(const desired_seeds *s) {
        return s->n;
}

void desired_seeds_truncate(desired_seeds *s, size_t n) {
        if (n < s->n)
                s->n = n;
}

int desired_add_seed(vcm_resource_set *out, desired_seeds *jobs, const vcm_cluster *c,
                     const vcm_placed_node *n, vcm_resource *d) {
        desired_seed_job j = {
                .c = c,
                .appliance = n->appliance,
                .install = n->install,
                .frontend = n->frontend,
                .domain_at = vcm_resource_set_size(out) - 1,
        };
        /* Copied: d may move when the seed is added, its props with it. */
        const char *m0 = vcm_resource_prop(d, "nic0.mac"), *m1 = vcm_resource_prop(d, "nic1.mac");
        if (!m0 || vcm_resource_set_at(out, j.domain_at) != d)
                return -EINVAL; /* a domain has a MAC, and is the set's last resource */
        snprintf(j.node, sizeof(j.node), "%s", n->node);
        snprintf(j.mac0, sizeof(j.mac0), "%s", m0);
        if ((j.has_mac1 = m1 != NULL))
                snprintf(j.mac1, sizeof(j.mac1), "%s", m1);
        /* The domain names its seed disk; the digest of its own part (seed.digest) follows
         * once rendered. */
        vcm_resource_set_propf(d, "seed", "file:" VCM_FILE_POOL "/%s" VCM_SEED_VOLUME_SUFFIX,
                               d->name);
        vcm_resource_add_dep(d, VCM_KIND_SEED, d->host, d->name);
        /* Neither d nor the seed is hashed here: desired_seeds_render() adds their digests and
         * hashes both, or takes the cluster back. */
        _cleanup_free_ char *host = xstrdup(d->host), *name = xstrdup(d->name);
        vcm_resource *s = vcm_resource_set_put(out, VCM_KIND_SEED, host, name, c->name);
        if (!s)
                return -EEXIST;
        j.seed_at = vcm_resource_set_size(out) - 1;
        vcm_resource_set_prop(s, "pool", VCM_FILE_POOL);
        vcm_resource_set_prop(s, SEED_IN_NODE, j.node);
        vcm_resource_set_prop(s, SEED_IN_APPLIANCE, j.appliance);
        vcm_resource_set_prop(s, SEED_IN_FRONTEND, j.frontend ? "1" : "0");
        vcm_resource_set_propf(s, SEED_IN_INSTALL, "%d", (int)j.install);
        vcm_resource_set_prop(s, SEED_IN_MAC0, j.mac0);
        if (j.has_mac1)
                vcm_resource_set_prop(s, SEED_IN_MAC1, j.mac1);
        if (jobs->n == jobs->cap) {
                jobs->cap = jobs->cap ? 2 * jobs->cap : 256;
                jobs->v = xrealloc(jobs->v, jobs->cap * sizeof(*jobs->v));
        }
        jobs->v[jobs->n++] = j;
        return 0;
}

typedef struct seed_digests {
        uint64_t digest, boot_digest;
} seed_digests;

struct vcm_seed_memo {
        const vcm_repo *repo; /* the repo the digests were rendered from */
        vcm_strmap index;     /* seed_key() -> position in v, plus one */
        seed_digests *v;
        size_t n, cap;
        size_t hits, rendered;
};

vcm_seed_memo *vcm_seed_memo_new(void) {
        return xcalloc(1, sizeof(vcm_seed_memo));
}

void vcm_seed_memo_reset(vcm_seed_memo *m) {
        if (!m)
                return;
        vcm_strmap_clear(&m->index);
        free(m->v);
        m->v = NULL;
        m->n = m->cap = 0;
        m->repo = NULL;
}

void vcm_seed_memo_free(vcm_seed_memo *m) {
        vcm_seed_memo_reset(m);
        free(m);
}

void vcm_seed_memo_counts(const vcm_seed_memo *m, size_t *ret_hits, size_t *ret_rendered) {
        *ret_hits = m->hits;
        *ret_rendered = m->rendered;
}

/* Appends `s` and a separator at *at; false when it does not fit. */
static bool key_part(char *buf, size_t len, size_t *at, const char *s) {
        size_t n = strlen(s);
        if (*at + n + 1 >= len)
                return false;
        memcpy(buf + *at, s, n);
        buf[*at + n] = '\x1f';
        *at += n + 1;
        return true;
}

/* Everything a seed is rendered from besides the repo: false when it does not fit (then the
 * seed is rendered every time). Built by hand, not with snprintf: it runs for every node on
 * every pass of the service. */
static bool seed_key(const desired_seed_job *j, char *buf, size_t len) {
        char flags[3] = { j->frontend ? '1' : '0', (char)('0' + (int)j->install), '\0' };
        size_t at = 0;
        if (!key_part(buf, len, &at, j->c->name) || !key_part(buf, len, &at, j->node) ||
            !key_part(buf, len, &at, j->appliance ? j->appliance : "") ||
            !key_part(buf, len, &at, flags) || !key_part(buf, len, &at, j->mac0) ||
            !key_part(buf, len, &at, j->has_mac1 ? j->mac1 : ""))
                return false;
        buf[at] = '\0';
        return true;
}

/* "%016llx", without vfprintf (two per node per pass). */
static void hex16(uint64_t v, char ret[17]) {
        static const char digits[] = "0123456789abcdef";
        for (int i = 15; i >= 0; i--, v >>= 4)
                ret[i] = digits[v & 0xf];
        ret[16] = '\0';
}

static const seed_digests *memo_get(const vcm_seed_memo *m, const desired_seed_job *j) {
        char key[320];
        if (!seed_key(j, key, sizeof(key)))
                return NULL;
        uintptr_t at = (uintptr_t)vcm_strmap_get(&m->index, key);
        return at ? &m->v[at - 1] : NULL;
}

static void memo_put(vcm_seed_memo *m, const desired_seed_job *j) {
        char key[320];
        if (!seed_key(j, key, sizeof(key)) || vcm_strmap_has(&m->index, key))
                return;
        if (m->n == m->cap) {
                m->cap = m->cap ? 2 * m->cap : 256;
                m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
        }
        m->v[m->n++] = (seed_digests){ j->digest, j->boot_digest };
        vcm_strmap_put(&m->index, key, (void *)(uintptr_t)m->n);
}

typedef struct seed_render_ctx {
        const vcm_repo *repo;
        desired_seeds *jobs;
        size_t *todo; /* positions in jobs of the seeds to render */
} seed_render_ctx;

static void seed_render_one(void *ctx, size_t i) {
        seed_render_ctx *x = ctx;
        desired_seed_job *j = &x->jobs->v[x->todo[i]];
        vcm_seed_node sn = {
                .node = j->node,
                .appliance = j->appliance,
                .frontend = j->frontend,
                .install = j->install,
                .mac0 = j->mac0,
                .mac1 = j->has_mac1 ? j->mac1 : NULL,
        };
        vcm_seed seed = { 0 };
        j->result = vcm_seed_render(x->repo, j->c, &sn, &seed);
        j->digest = seed.digest;
        j->boot_digest = seed.boot_digest;
        vcm_seed_clear(&seed);
}

void desired_seeds_render(desired_seeds *jobs, const vcm_repo *repo, vcm_seed_memo *memo,
                          vcm_resource_set *out,
                          void (*failed)(void *ctx, const vcm_cluster *c, int err), void *ctx) {
        if (memo && memo->repo != repo) {
                vcm_seed_memo_reset(memo);
                memo->repo = repo;
        }
        seed_render_ctx x = { repo, jobs, xcalloc(jobs->n ? jobs->n : 1, sizeof(size_t)) };
        size_t n_todo = 0;
        for (size_t i = 0; i < jobs->n; i++) {
                desired_seed_job *j = &jobs->v[i];
                const seed_digests *known = memo ? memo_get(memo, j) : NULL;
                if (known) {
                        j->digest = known->digest;
                        j->boot_digest = known->boot_digest;
                        j->result = 0;
                        memo->hits++;
                } else {
                        x.todo[n_todo++] = i;
                }
        }
        int threads = (int)(n_todo / DESIRED_SEEDS_PER_THREAD);
        vcm_parallel_for(n_todo, threads < DESIRED_SEED_THREADS ? threads : DESIRED_SEED_THREADS,
                         seed_render_one, &x);
        if (memo) {
                memo->rendered += n_todo;
                for (size_t k = 0; k < n_todo; k++)
                        if (jobs->v[x.todo[k]].result == 0)
                                memo_put(memo, &jobs->v[x.todo[k]]);
        }
        free(x.todo);
        /* Written back in order, on this thread: the set is not shared between threads. */
        for (size_t i = 0; i < jobs->n; i++) {
                const desired_seed_job *j = &jobs->v[i];
                if (j->result < 0) {
                        failed(ctx, j->c, j->result);
                        continue;
                }
                char digest[17];
                vcm_resource *s = vcm_resource_set_at_mut(out, j->seed_at);
                hex16(j->digest, digest);
                vcm_resource_set_prop(s, "digest", digest);
                vcm_resource_rehash(s);
                /* A change in the node's own part restarts the guest, which reads its seed at
                 * boot. */
                vcm_resource *d = vcm_resource_set_at_mut(out, j->domain_at);
                hex16(j->boot_digest, digest);
                vcm_resource_set_prop(d, "seed.digest", digest);
                vcm_resource_rehash(d);
        }
        jobs->n = 0;
}

int vcm_desired_seed_files(const vcm_repo *repo, vcm_resource *seed) {
        if (vcm_resource_prop(seed, VCM_SEED_PROP_USER_DATA))
                return 0; /* made with its files (tests, older callers) */
        const vcm_cluster *c = vcm_repo_find_cluster(repo, seed->cluster);
        const char *node = vcm_resource_prop(seed, SEED_IN_NODE),
                   *install = vcm_resource_prop(seed, SEED_IN_INSTALL),
                   *frontend = vcm_resource_prop(seed, SEED_IN_FRONTEND),
                   *digest = vcm_resource_prop(seed, "digest");
        if (!c || !node || !install || !frontend || !digest)
                return -ENOENT;
        vcm_seed_node sn = {
                .node = node,
                .appliance = vcm_resource_prop(seed, SEED_IN_APPLIANCE),
                .frontend = strcmp(frontend, "1") == 0,
                .install = (vcm_install)atoi(install),
                .mac0 = vcm_resource_prop(seed, SEED_IN_MAC0),
                .mac1 = vcm_resource_prop(seed, SEED_IN_MAC1),
        };
        vcm_seed files = { 0 };
        int r = vcm_seed_render(repo, c, &sn, &files);
        if (r < 0)
                return r;
        /* Rendering is pure: the same inputs give the digest the plan compared. Anything else
         * would write a seed whose marker lies about its content. */
        char again[17];
        snprintf(again, sizeof(again), "%016llx", (unsigned long long)files.digest);
        if (strcmp(again, digest) != 0) {
                vcm_seed_clear(&files);
                return -ESTALE;
        }
        vcm_resource_set_prop(seed, VCM_SEED_PROP_META_DATA, files.meta_data);
        vcm_resource_set_prop(seed, VCM_SEED_PROP_USER_DATA, files.user_data);
        vcm_resource_set_prop(seed, VCM_SEED_PROP_NETWORK_CONFIG, files.network_config);
        vcm_seed_clear(&files);
        return 0;
}
