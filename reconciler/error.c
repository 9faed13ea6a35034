#include "providers/provider.h"

#include <stdarg.h>
#include <stdio.h>

void vcm_error_set(vcm_error *err, const char *fmt, ...) {
        if (!err)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
}
