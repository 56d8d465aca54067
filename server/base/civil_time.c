/* Dates and times as people write them (livebuy/base/civil_time.h): the proleptic Gregorian calendar in day counts. */
#include <stdio.h>
#include "livebuy/base/civil_time.h"

#define DAY 86400

/* Days from 1970-01-01 to y-m-d (y >= 1), by March-based years so that the leap day ends a year. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = y / 400, year_of_era = y - era * 400;
    int64_t day_of_year = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

/* The inverse of days_from_civil, for days >= 0. */
static void civil_from_days(int64_t days, int64_t *y, int64_t *m, int64_t *d)
{
    days += 719468;
    int64_t era = days / 146097, day_of_era = days - era * 146097;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t mp = (5 * day_of_year + 2) / 153;
    *d = day_of_year - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = year_of_era + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int64_t m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* n decimal digits at s into *out: 0, or -1 when one is not a digit. */
static int read_digits(const char *s, int n, int64_t *out)
{
    *out = 0;
    for (int i = 0; i != n; ++i) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *out = *out * 10 + (s[i] - '0');
    }
    return 0;
}

/* "YYYY-MM-DD" at s (10 bytes) into days since 1970-01-01: 0, or -1. */
static int read_date(const char *s, int64_t *days)
{
    int64_t y, m, d;
    if (read_digits(s, 4, &y) != 0 || s[4] != '-' || read_digits(s + 5, 2, &m) != 0 || s[7] != '-' ||
        read_digits(s + 8, 2, &d) != 0)
        return -1;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    *days = days_from_civil(y, m, d);
    return 0;
}

/* "HH:MM:SS[.frac]" then "Z" or "+HH:MM" / "-HH:MM", the whole of s[0..len): seconds since midnight UTC (may be
 * negative or past a day by the offset), rounded up when the fraction is not zero. */
static int read_time(const char *s, size_t len, int64_t *seconds)
{
    int64_t h, min, sec, off_h, off_min;
    size_t i = 8;
    int fraction = 0;
    if (len < 9 || read_digits(s, 2, &h) != 0 || s[2] != ':' || read_digits(s + 3, 2, &min) != 0 || s[5] != ':' ||
        read_digits(s + 6, 2, &sec) != 0 || h > 23 || min > 59 || sec > 59)
        return -1;
    if (s[i] == '.') {
        size_t digits = ++i;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; ++i)
            fraction |= s[i] != '0';
        if (i == digits)
            return -1;
    }
    *seconds = h * 3600 + min * 60 + sec + fraction;
    if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z'))
        return 0;
    if (i + 6 != len || (s[i] != '+' && s[i] != '-') || read_digits(s + i + 1, 2, &off_h) != 0 || s[i + 3] != ':' ||
        read_digits(s + i + 4, 2, &off_min) != 0 || off_h > 23 || off_min > 59)
        return -1;
    *seconds -= (s[i] == '+' ? 1 : -1) * (off_h * 3600 + off_min * 60);
    return 0;
}

int lb_time_parse_bound(const char *s, size_t len, int day_end, int64_t *out)
{
    int64_t days, seconds;
    if (len < 10 || read_date(s, &days) != 0)
        return -1;
    if (len == 10)
        seconds = (day_end ? DAY : 0) - LB_CHINA_UTC_OFFSET;
    else if (s[10] != 'T' && s[10] != 't')
        return -1;
    else if (read_time(s + 11, len - 11, &seconds) != 0)
        return -1;
    *out = days * DAY + seconds;
    return *out >= 0 ? 0 : -1;
}

void lb_time_format_china(int64_t t, char out[LB_CHINA_TIME_SIZE])
{
    int64_t local = t + LB_CHINA_UTC_OFFSET, y, m, d;
    unsigned second = (unsigned)(local % DAY);
    civil_from_days(local / DAY, &y, &m, &d);
    /* The remainders tell the compiler each number's width: a year past 9999 is not a time livebuy keeps. */
    snprintf(out, LB_CHINA_TIME_SIZE, "%04u-%02u-%02u %02u:%02u:%02u", (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u,
             second / 3600 % 100u, second / 60 % 60, second % 60);
}
