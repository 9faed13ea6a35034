/* Ownership helpers in the style of systemd: _cleanup_ attributes and TAKE_PTR. */
#ifndef VCM_MACRO_H
#define VCM_MACRO_H

#include <stdlib.h>

#define _cleanup_(fn) __attribute__((cleanup(fn)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

/* Hand the pointer over: returns it and leaves NULL behind so the cleanup does nothing. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _ptr_ = (p);                                                         \
                (p) = NULL;                                                                        \
                _ptr_;                                                                             \
        })

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p) {
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Free a NULL-terminated array of strings and the array itself. */
static inline void strv_free(char **v) {
        if (!v)
                return;
        for (char **s = v; *s; s++)
                free(*s);
        free(v);
}
static inline void strv_freep(char ***v) {
        strv_free(*v);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

#endif
