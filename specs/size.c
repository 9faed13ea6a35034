/* vcm_parse_size: binary units only, so that "4G" never silently means 4,000,000,000 bytes. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "load.h"

int vcm_parse_size(const char *text, uint64_t *ret_bytes, const char **ret_hint) {
        static const char *const hint_units = "use binary units such as 4GiB";
        static const char *const hint_zero = "a size must be greater than zero, such as 4GiB";
        static const char *const hint_big = "the size is too large";
        static const char *const hint_zeros = "write the number without leading zeros, such as 4GiB";
        const char *s = text;
        uint64_t v = 0;
        bool digits = false, overflow = false;

        if (ret_hint)
                *ret_hint = hint_units;
        for (; *s >= '0' && *s <= '9'; s++) {
                digits = true;
                if (v > (UINT64_MAX - 9) / 10)
                        overflow = true;
                else
                        v = v * 10 + (uint64_t)(*s - '0');
        }
        if (!digits)
                return -EINVAL;
        if (text[0] == '0' && text[1] >= '0' && text[1] <= '9') {
                if (ret_hint)
                        *ret_hint = hint_zeros;
                return -EINVAL;
        }
        unsigned shift;
        if (strcmp(s, "MiB") == 0)
                shift = 20;
        else if (strcmp(s, "GiB") == 0)
                shift = 30;
        else if (strcmp(s, "TiB") == 0)
                shift = 40;
        else
                return -EINVAL;
        if (v == 0) {
                if (ret_hint)
                        *ret_hint = hint_zero;
                return -EINVAL;
        }
        if (overflow || v > (UINT64_MAX >> shift)) {
                if (ret_hint)
                        *ret_hint = hint_big;
                return -EINVAL;
        }
        if (ret_hint)
                *ret_hint = NULL;
        *ret_bytes = v << shift;
        return 0;
}
