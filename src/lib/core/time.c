/* time.c - RFC 3339 parsing and formatting without the C library's tz state.
 *
 * Timestamps are int64 milliseconds since the Unix epoch, UTC. Conversion
 * between civil dates and day numbers uses Howard Hinnant's days_from_civil
 * algorithm ("chrono-Compatible Low-Level Date Algorithms"), which is exact
 * for the proleptic Gregorian calendar and needs no gmtime/timegm.
 */
#include "aipm/core.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 ? 28 + leap : dm[m - 1];
}

int aipm_time_parse(int64_t *out_ms, const char *s, size_t len, int allow_date)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off = 0;
    size_t i;

    if (len < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
        s[7] != '-' || digits(s + 8, 2, &d))
        return AIPM_EINVALID;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return AIPM_EINVALID;
    if (len == 10) {
        if (!allow_date)
            return AIPM_EINVALID;
        *out_ms = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400000;
        return AIPM_OK;
    }
    if (len < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
        s[16] != ':' || digits(s + 17, 2, &sec))
        return AIPM_EINVALID;
    if (h > 23 || mi > 59 || sec > 60)
        return AIPM_EINVALID;
    if (sec == 60)
        sec = 59; /* a leap second folds into the second before it */
    i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        int scale = 100;

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            ms += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start)
            return AIPM_EINVALID;
    }
    if (i >= len)
        return AIPM_EINVALID; /* the offset is mandatory */
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        off = 0;
    } else if ((s[i] == '+' || s[i] == '-') && i + 6 == len &&
               s[i + 3] == ':') {
        int oh, om;

        if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om) || oh > 23 ||
            om > 59)
            return AIPM_EINVALID;
        off = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    } else {
        return AIPM_EINVALID;
    }
    *out_ms = (days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
               (int64_t)h * 3600 + mi * 60 + sec - (int64_t)off * 60) *
                  1000 +
              ms;
    return AIPM_OK;
}

void aipm_time_format(char out[32], int64_t ms)
{
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    int y;
    unsigned m, d;
    int hh = (int)(rem / 3600000), mm = (int)(rem / 60000 % 60),
        ss = (int)(rem / 1000 % 60), mss = (int)(rem % 1000);
    char *p = out;
    int v, k;

    civil_from_days(days, &y, &m, &d);
    /* Hand formatting keeps this free of snprintf's format warnings. */
    v = y < 0 ? 0 : y > 9999 ? 9999 : y;
    for (k = 3; k >= 0; k--, v /= 10)
        p[k] = (char)('0' + v % 10);
    p[4] = '-';
    p[5] = (char)('0' + m / 10);
    p[6] = (char)('0' + m % 10);
    p[7] = '-';
    p[8] = (char)('0' + d / 10);
    p[9] = (char)('0' + d % 10);
    p[10] = 'T';
    p[11] = (char)('0' + hh / 10);
    p[12] = (char)('0' + hh % 10);
    p[13] = ':';
    p[14] = (char)('0' + mm / 10);
    p[15] = (char)('0' + mm % 10);
    p[16] = ':';
    p[17] = (char)('0' + ss / 10);
    p[18] = (char)('0' + ss % 10);
    p[19] = '.';
    p[20] = (char)('0' + mss / 100);
    p[21] = (char)('0' + mss / 10 % 10);
    p[22] = (char)('0' + mss % 10);
    p[23] = 'Z';
    p[24] = '\0';
}

int64_t aipm_time_add_years(int64_t ms, int years)
{
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    int y;
    unsigned m, d;

    civil_from_days(days, &y, &m, &d);
    y += years;
    if (m == 2 && d == 29 && days_in_month(y, 2) == 28)
        d = 28;
    return days_from_civil(y, m, d) * 86400000 + rem;
}

int64_t aipm_now_ms(void)
{
    const char *env = getenv("AIPM_NOW");
    struct timespec ts;
    int64_t ms;

    if (env && *env && aipm_time_parse(&ms, env, strlen(env), 1) == AIPM_OK)
        return ms;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t aipm_clock_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
