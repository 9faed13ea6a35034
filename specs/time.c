/* vcm_parse_time: RFC 3339 date-time with a mandatory offset ("Z" or +HH:MM). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "load.h"

static bool digits(const char *s, int n, int *ret) {
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d) {
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m) {
        static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        return m == 2 && leap ? 29 : dm[m - 1];
}

int vcm_parse_time(const char *text, int64_t *ret_seconds) {
        const char *s = text;
        int y, mo, d, h, mi, se;
        if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
            !digits(s + 8, 2, &d))
                return -EINVAL;
        s += 10;
        if (*s != 'T' && *s != 't' && *s != ' ')
                return -EINVAL;
        s++;
        if (!digits(s, 2, &h) || s[2] != ':' || !digits(s + 3, 2, &mi) || s[5] != ':' ||
            !digits(s + 6, 2, &se))
                return -EINVAL;
        s += 8;
        if (*s == '.') {
                s++;
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                while (*s >= '0' && *s <= '9')
                        s++;
        }
        int off = 0;
        if (*s == 'Z' || *s == 'z') {
                s++;
        } else if (*s == '+' || *s == '-') {
                int oh, om;
                if (!digits(s + 1, 2, &oh) || s[3] != ':' || !digits(s + 4, 2, &om) || oh > 23 ||
                    om > 59)
                        return -EINVAL;
                off = (oh * 60 + om) * 60 * (*s == '-' ? -1 : 1);
                s += 6;
        } else {
                return -EINVAL; /* no offset: local time is ambiguous across hosts */
        }
        if (*s)
                return -EINVAL;
        if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 60)
                return -EINVAL;
        if (se == 60)
                se = 59; /* a leap second: Unix time has no room for it */
        *ret_seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
        return 0;
}
