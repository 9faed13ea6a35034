#include "reconciler/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *xmalloc(size_t n) {
        void *p = malloc(n ? n : 1);
        if (!p)
                abort();
        return p;
}

void *xcalloc(size_t n, size_t size) {
        void *p = calloc(n ? n : 1, size ? size : 1);
        if (!p)
                abort();
        return p;
}

void *xrealloc(void *p, size_t n) {
        p = realloc(p, n ? n : 1);
        if (!p)
                abort();
        return p;
}

char *xstrdup(const char *s) {
        char *p = strdup(s ? s : "");
        if (!p)
                abort();
        return p;
}

char *xasprintf(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *s = NULL;
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        return s;
}

void vcm_format_size(uint64_t bytes, char *buf, size_t len) {
        static const char *const units[] = { "TiB", "GiB", "MiB" };
        static const int shifts[] = { 40, 30, 20 };
        for (size_t i = 0; i < 3; i++) {
                uint64_t u = UINT64_C(1) << shifts[i];
                if (bytes >= u && bytes % u == 0) {
                        snprintf(buf, len, "%llu%s", (unsigned long long)(bytes / u), units[i]);
                        return;
                }
        }
        snprintf(buf, len, "%llu", (unsigned long long)bytes);
}

static size_t strmap_slot(const vcm_strmap *m, const char *key) {
        size_t mask = m->cap - 1;
        size_t i = vcm_hash_mix(vcm_fnv1a(VCM_FNV_INIT, key, strlen(key))) & mask;
        while (m->keys[i] && strcmp(m->keys[i], key) != 0)
                i = (i + 1) & mask;
        return i;
}

void vcm_strmap_put(vcm_strmap *m, const char *key, void *val) {
        if ((m->n + 1) * 2 > m->cap) {
                vcm_strmap old = *m;
                m->cap = old.cap ? old.cap * 2 : 64;
                m->keys = xcalloc(m->cap, sizeof(char *));
                m->vals = xcalloc(m->cap, sizeof(void *));
                for (size_t i = 0; i < old.cap; i++)
                        if (old.keys[i]) {
                                size_t s = strmap_slot(m, old.keys[i]);
                                m->keys[s] = old.keys[i];
                                m->vals[s] = old.vals[i];
                        }
                free(old.keys);
                free(old.vals);
        }
        size_t s = strmap_slot(m, key);
        if (!m->keys[s]) {
                m->keys[s] = m->borrow ? (char *)key : xstrdup(key);
                m->n++;
        }
        m->vals[s] = val;
}

void *vcm_strmap_get(const vcm_strmap *m, const char *key) {
        if (!m->cap)
                return NULL;
        size_t s = strmap_slot(m, key);
        return m->keys[s] ? m->vals[s] : NULL;
}

bool vcm_strmap_has(const vcm_strmap *m, const char *key) {
        return m->cap && m->keys[strmap_slot(m, key)];
}

void vcm_strmap_clear(vcm_strmap *m) {
        bool borrow = m->borrow;
        for (size_t i = 0; !borrow && i < m->cap; i++)
                free(m->keys[i]);
        free(m->keys);
        free(m->vals);
        *m = (vcm_strmap){ .borrow = borrow };
}

int64_t vcm_mono_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
