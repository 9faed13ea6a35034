/* The informer cache: what the service observed, kept current between passes.
 *
 * As Kubernetes informers do: list each (provider, host) pair once, then watch it. A provider's
 * watch names the resources that may have changed; the cache re-reads only those (observe_one),
 * so a pass after one event reads one resource, not the site. A pair is relisted when it is new,
 * when its watch stream broke (events may have been lost), when it failed last time, when a
 * resource it holds cannot be read alone, and on every resync (drift that sends no event).
 * vcm's own steps are re-read too, at the next sync, so the cache never depends on an event
 * for a change vcm made itself.
 *
 * Memory: a re-read replaces the resource in the set, but the set's arena keeps the old copy's
 * strings until the set is rebuilt, which every full relist (each resync) does: between resyncs
 * the cache grows by what events re-read.
 *
 * Threading: everything runs on the loop's thread; only the engine's apply workers use the
 * connections concurrently (providers make that safe). The cache is not changed during a pass:
 * the pass borrows it (vcm_engine_opts.informer) and notes what its steps touched. */
#ifndef VCM_INFORMER_H
#define VCM_INFORMER_H

#include <stdbool.h>
#include <stddef.h>

#include "reconciler/conns.h"
#include "reconciler/engine.h"

typedef struct vcm_informer vcm_informer;

/* What the cache did, cumulative since vcm_informer_new(); for logs and benchmarks. */
typedef struct vcm_informer_stats {
        size_t relists;         /* (provider, host) pairs listed in full */
        size_t rereads;         /* single resources re-read */
        size_t notifications;   /* resources named by watches */
        size_t broken_streams;  /* watches that broke and were reopened */
} vcm_informer_stats;

vcm_informer *vcm_informer_new(void);
void vcm_informer_free(vcm_informer *inf);

/* Bring the cache up to date for this site and provider table, before a pass: open the pairs
 * that are new (and their watches), close those that left the site or changed (URI, agent),
 * relist what needs it, re-read what watches and steps named. Never fails as a whole: a pair
 * that cannot be opened or listed holds nothing and reports its error to the next pass. */
void vcm_informer_sync(vcm_informer *inf, const vcm_site *site, const vcm_provider_table *t,
                       int parallel);

/* Relist every pair at the next sync (the resync timer, SIGHUP). */
void vcm_informer_invalidate_all(vcm_informer *inf);
/* This resource may have changed (a step ran on it): re-read it at the next sync. */
void vcm_informer_invalidate(vcm_informer *inf, const vcm_provider *p, const char *host,
                             vcm_kind kind, const char *name);

/* Descriptors of the open watches (at most `max`), to poll for readability; the count. */
size_t vcm_informer_fds(const vcm_informer *inf, int *fds, size_t max);
/* Read every pending notification, without host I/O: what they name is re-read at the next
 * sync. Returns how many resources were named plus how many streams broke (0: nothing new). */
size_t vcm_informer_drain(vcm_informer *inf);

/* For the engine, after a sync: the pairs' connections and results (borrowed: conns->borrowed
 * is set, vcm_conns_close leaves them open) and the observed set (owned by the cache). */
void vcm_informer_lend(vcm_informer *inf, vcm_conns *ret_conns);
const vcm_resource_set *vcm_informer_observed(const vcm_informer *inf);

vcm_informer_stats vcm_informer_get_stats(const vcm_informer *inf);

#endif
