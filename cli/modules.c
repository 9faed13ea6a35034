/* Modules of the vcm binary, loaded the first time a command needs them: the libvirt provider
 * (vcm-libvirt.so) and the calendar's drawing (vcm-calendar.so, cairo). Loading libvirt and the
 * libraries it pulls in costs every process ~30 ms, cairo's ~5 ms, which most commands never
 * use (providers/libvirt/CMakeLists.txt). A module is looked for in $VCM_MODULE_DIR, next to
 * the binary (the build tree), then in ../lib/vcm from the binary (an installed tree). */
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "cli.h"

#ifdef VCM_NO_MODULES
/* Sanitizer builds link both parts in (CMakeLists.txt says why). */
#include "providers/libvirt/libvirt.h"

const vcm_provider *cli_libvirt_provider(const char **ret_error) {
        return &vcm_provider_libvirt;
}

int cli_libvirt_events_init(void) {
        return vcm_libvirt_events_init();
}

int calendar_draw(const calendar *cal, calendar_image format, FILE *out) {
        return calendar_draw_image(cal, format, out);
}
#else

typedef struct module {
        const char *file;
        const char *what;
        pthread_once_t once;
        void *handle;
        char error[PATH_MAX * 2 + 256];
} module;

static module libvirt_module = { .file = "vcm-libvirt.so", .what = "the libvirt provider",
                                 .once = PTHREAD_ONCE_INIT };
static module calendar_module = { .file = "vcm-calendar.so", .what = "the calendar's drawing",
                                  .once = PTHREAD_ONCE_INIT };

static void *try_dir(const char *file, const char *dir, char *tried, size_t len) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
                return NULL;
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                const char *why = dlerror();
                size_t used = strlen(tried);
                snprintf(tried + used, len - used, "%s%s", used ? "; " : "", why ? why : path);
        }
        return h;
}

static void module_load(module *m) {
        char tried[PATH_MAX * 2] = "";
        const char *env = getenv("VCM_MODULE_DIR");
        if (env && *env)
                m->handle = try_dir(m->file, env, tried, sizeof(tried));
        char exe[PATH_MAX];
        ssize_t n = m->handle ? -1 : readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = '\0';
                char *dir = dirname(exe);
                m->handle = try_dir(m->file, dir, tried, sizeof(tried));
                char lib[PATH_MAX];
                if (!m->handle &&
                    snprintf(lib, sizeof(lib), "%s/../lib/vcm", dir) < (int)sizeof(lib))
                        m->handle = try_dir(m->file, lib, tried, sizeof(tried));
        }
        if (!m->handle)
                snprintf(m->error, sizeof(m->error),
                         "%s (%s) cannot be loaded: %s. It belongs next to the vcm binary or in "
                         "../lib/vcm from it (VCM_MODULE_DIR overrides)",
                         m->what, m->file, tried);
}

static void load_libvirt(void) {
        module_load(&libvirt_module);
}

static void load_calendar(void) {
        module_load(&calendar_module);
}

/* The symbol, or NULL with *ret_error set. */
static void *module_symbol(module *m, void (*load)(void), const char *symbol,
                           const char **ret_error) {
        pthread_once(&m->once, load);
        void *p = m->handle ? dlsym(m->handle, symbol) : NULL;
        if (!p && m->handle)
                snprintf(m->error, sizeof(m->error), "%s (%s) lacks %s: it is not this vcm's",
                         m->what, m->file, symbol);
        if (!p && ret_error)
                *ret_error = m->error;
        return p;
}

const vcm_provider *cli_libvirt_provider(const char **ret_error) {
        return module_symbol(&libvirt_module, load_libvirt, "vcm_provider_libvirt", ret_error);
}

int cli_libvirt_events_init(void) {
        int (*init)(void) = (int (*)(void))module_symbol(&libvirt_module, load_libvirt,
                                                         "vcm_libvirt_events_init", NULL);
        return init ? init() : -ENOENT;
}

int calendar_draw(const calendar *cal, calendar_image format, FILE *out) {
        const char *error = NULL;
        int (*draw)(const calendar *, calendar_image, FILE *) =
                (int (*)(const calendar *, calendar_image, FILE *))module_symbol(
                        &calendar_module, load_calendar, "calendar_draw_image", &error);
        if (!draw) {
                fprintf(stderr, "vcm calendar: %s\n", error);
                return -ENOENT;
        }
        return draw(cal, format, out);
}
#endif
