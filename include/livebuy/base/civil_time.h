/*
 * Dates and times as people write them: the bounds of a date filter (a day in China time, or an RFC 3339 time) and
 * China time as exports show it. Pure: no clock, no locale, no time zone database (China keeps UTC+8 all year).
 */
#ifndef LIVEBUY_CIVIL_TIME_H
#define LIVEBUY_CIVIL_TIME_H

#include <stddef.h>
#include <stdint.h>

#define LB_CHINA_UTC_OFFSET (8 * 3600)
#define LB_CHINA_TIME_SIZE  20 /* "2026-12-05 19:30:12" and its NUL */

/*
 * Parses s[0..len) as a time bound in Unix seconds (created_at and the like count whole seconds):
 *   "2026-12-05"                a day in China time: its first second, or with day_end the first second of the next day
 *                               (so that a range "to" a day takes the whole of it);
 *   "2026-12-05T08:00:00+08:00" an RFC 3339 time ('T' or 't', 'Z' or 'z' or an offset, a fraction of any length);
 *                               a fraction rounds up: t >= bound and t < bound then mean what they say in whole seconds.
 * Years 1970 to 9999, real days only (29 February in leap years). 0, or -1 when s is neither or before 1970.
 */
int lb_time_parse_bound(const char *s, size_t len, int day_end, int64_t *out);
/* t (Unix seconds, >= 0) as China time, "YYYY-MM-DD HH:MM:SS", into out. */
void lb_time_format_china(int64_t t, char out[LB_CHINA_TIME_SIZE]);

#endif
