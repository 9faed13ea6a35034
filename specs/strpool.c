#include "strpool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Open addressing over FNV-1a; a repository holds a few thousand file names at most. */
struct strpool {
        char **slots;
        size_t cap, n;
};

static uint64_t hash(const char *s) {
        uint64_t h = 1469598103934665603ull;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ull;
        return h;
}

static int grow(strpool *p) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        char **slots = calloc(cap, sizeof(*slots));
        if (!slots)
                return -1;
        for (size_t i = 0; i < p->cap; i++) {
                if (!p->slots[i])
                        continue;
                size_t j = hash(p->slots[i]) & (cap - 1);
                while (slots[j])
                        j = (j + 1) & (cap - 1);
                slots[j] = p->slots[i];
        }
        free(p->slots);
        p->slots = slots;
        p->cap = cap;
        return 0;
}

const char *strpool_intern(strpool **pool, const char *s) {
        if (!*pool && !(*pool = calloc(1, sizeof(**pool))))
                return NULL;
        strpool *p = *pool;
        if ((p->n + 1) * 2 > p->cap && grow(p) < 0)
                return NULL;
        size_t j = hash(s) & (p->cap - 1);
        for (; p->slots[j]; j = (j + 1) & (p->cap - 1))
                if (strcmp(p->slots[j], s) == 0)
                        return p->slots[j];
        p->slots[j] = strdup(s);
        if (!p->slots[j])
                return NULL;
        p->n++;
        return p->slots[j];
}

void strpool_free(strpool *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->cap; i++)
                free(p->slots[i]);
        free(p->slots);
        free(p);
}
