/* Small helpers shared by the engine's files: allocation that aborts on exhaustion (the engine
 * cannot report anything sensible without memory, like vcm_diags_add), FNV-1a, string building. */
#ifndef VCM_RECONCILER_UTIL_H
#define VCM_RECONCILER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "specs/base/macro.h"

#define VCM_FNV_INIT UINT64_C(0xcbf29ce484222325)

static inline uint64_t vcm_fnv1a(uint64_t h, const void *data, size_t len) {
        const unsigned char *p = data;
        for (size_t i = 0; i < len; i++) {
                h ^= p[i];
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

/* FNV-1a's low bits only ever see the low bits of each byte (multiplication carries upwards),
 * so a table indexed by `hash & mask` needs them mixed first: murmur3's 64-bit finaliser. */
static inline uint64_t vcm_hash_mix(uint64_t h) {
        h ^= h >> 33;
        h *= UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 33;
        h *= UINT64_C(0xc4ceb9fe1a85ec53);
        h ^= h >> 33;
        return h;
}

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);

/* CLOCK_MONOTONIC in milliseconds: deadlines and durations. */
int64_t vcm_mono_ms(void);

/* "512MiB", "4GiB", or bytes when not a whole binary unit; for plan reasons. */
void vcm_format_size(uint64_t bytes, char *buf, size_t len);


/* A string -> pointer hash map (open addressing); keys are copied, unless `borrow` is set
 * (then they must outlive the map: names borrowed from the repo or a resource set). */
typedef struct vcm_strmap {
        char **keys;
        void **vals;
        size_t n, cap;
        bool borrow;
} vcm_strmap;

void vcm_strmap_put(vcm_strmap *m, const char *key, void *val);
void *vcm_strmap_get(const vcm_strmap *m, const char *key);
bool vcm_strmap_has(const vcm_strmap *m, const char *key);
void vcm_strmap_clear(vcm_strmap *m);

#endif
