/* Unit tests of CSV for exports (server/codec/csv.c) and of the time bounds and China time it shows
 * (server/base/civil_time.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "livebuy/base/civil_time.h"
#include "livebuy/codec/csv.h"

static int row_is(lb_buffer_t *out, const char *expected)
{
    int same = out->len == strlen(expected) && memcmp(out->bytes, expected, out->len) == 0;
    if (!same)
        fprintf(stderr, "got [%.*s], want [%s]\n", (int)out->len, out->bytes, expected);
    out->len = 0;
    return same;
}

static void test_cells(void)
{
    lb_buffer_t out = {0};
    lb_csv_t csv = {&out, 0};
    lb_csv_text(&csv, "武乡小米");
    lb_csv_text(&csv, "");
    lb_csv_integer(&csv, -42);
    lb_csv_cents(&csv, 5990);
    lb_csv_cents(&csv, 5);
    lb_csv_cents(&csv, 0);
    lb_csv_cents(&csv, -1250);
    lb_csv_end_row(&csv);
    CHECK(row_is(&out, "武乡小米,,-42,59.90,0.05,0.00,-12.50\r\n"));
    lb_csv_text(&csv, "王,小明");
    lb_csv_text(&csv, "say \"hi\"");
    lb_csv_text(&csv, "\"");
    lb_csv_text(&csv, "line\nbreak");
    lb_csv_text(&csv, "cr\r");
    lb_csv_end_row(&csv);
    CHECK(row_is(&out, "\"王,小明\",\"say \"\"hi\"\"\",\"\"\"\",\"line\nbreak\",\"cr\r\"\r\n"));
    /* formulas never run: a ' before them, quoted */
    lb_csv_text(&csv, "=HYPERLINK(\"x\")");
    lb_csv_text(&csv, "+86 138");
    lb_csv_text(&csv, "-1");
    lb_csv_text(&csv, "@sum");
    lb_csv_text(&csv, "\tx");
    lb_csv_text(&csv, "a=b");
    lb_csv_end_row(&csv);
    CHECK(row_is(&out, "\"'=HYPERLINK(\"\"x\"\")\",\"'+86 138\",\"'-1\",\"'@sum\",\"'\tx\",a=b\r\n"));
    lb_csv_cents(&csv, INT64_MIN);
    lb_csv_integer(&csv, INT64_MAX);
    lb_csv_end_row(&csv);
    CHECK(row_is(&out, "-92233720368547758.08,9223372036854775807\r\n"));
    free(out.bytes);
}

static int64_t bound(const char *s, int day_end)
{
    int64_t t = -2;
    return lb_time_parse_bound(s, strlen(s), day_end, &t) == 0 ? t : -1;
}

static void test_bounds(void)
{
    /* 2026-12-05 00:00 in China (date -d '2026-12-05 00:00 +0800' +%s) */
    CHECK(bound("2026-12-05", 0) == 1796400000);
    CHECK(bound("2026-12-05", 1) == bound("2026-12-05", 0) + 86400);
    CHECK(bound("1970-01-01T00:00:00Z", 0) == 0);
    CHECK(bound("1970-01-01", 0) == -1); /* China's midnight is before the epoch */
    CHECK(bound("1970-01-02", 0) == 86400 - 8 * 3600);
    CHECK(bound("2026-12-05T08:00:00+08:00", 0) == bound("2026-12-05T00:00:00Z", 1));
    CHECK(bound("2026-12-05t00:00:00z", 0) == bound("2026-12-05T00:00:00Z", 0));
    CHECK(bound("2026-12-04T23:30:00-01:30", 0) == bound("2026-12-05T01:00:00Z", 0));
    CHECK(bound("2026-12-05T00:00:00.000Z", 0) == bound("2026-12-05T00:00:00Z", 0));
    CHECK(bound("2026-12-05T00:00:00.001Z", 0) == bound("2026-12-05T00:00:01Z", 0)); /* rounds up */
    CHECK(bound("2024-02-29", 0) > 0);
    CHECK(bound("2000-02-29", 0) > 0);
    CHECK(bound("9999-12-31T23:59:59Z", 0) == 253402300799);
    CHECK(bound("2026-12-31", 1) == bound("2027-01-01", 0));
    static const char *const bad[] = {
        "",
        "2026-12-5",
        "2026-13-01",
        "2026-00-10",
        "2026-02-29",
        "1900-02-29",
        "1969-12-31",
        "2026-04-31",
        "2026-12-05 ",
        "2026/12/05",
        "20261205",
        "2026-12-05T",
        "2026-12-05T08:00:00",
        "2026-12-05T24:00:00Z",
        "2026-12-05T08:60:00Z",
        "2026-12-05T08:00:60Z",
        "2026-12-05T08:00:00+8:00",
        "2026-12-05T08:00:00+24:00",
        "2026-12-05T08:00:00.Z",
        "2026-12-05T08:00:00+08:00x",
        "2026-12-05 08:00:00Z",
        "-026-12-05",
        "2026-12-05T08:00Z",
        "２０２６-12-05",
        "2026-12-05T08:00:00+08:0",
    };
    for (size_t i = 0; i != sizeof(bad) / sizeof(bad[0]); ++i) {
        if (bound(bad[i], 0) != -1)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(bound(bad[i], 0) == -1);
    }
}

static void test_china_time(void)
{
    char text[LB_CHINA_TIME_SIZE];
    lb_time_format_china(0, text);
    CHECK(strcmp(text, "1970-01-01 08:00:00") == 0);
    lb_time_format_china(bound("2026-12-05T23:59:59+08:00", 0), text);
    CHECK(strcmp(text, "2026-12-05 23:59:59") == 0);
    lb_time_format_china(bound("2024-02-28T16:00:00Z", 0), text);
    CHECK(strcmp(text, "2024-02-29 00:00:00") == 0);
    lb_time_format_china(bound("2026-12-31T16:00:00Z", 0), text);
    CHECK(strcmp(text, "2027-01-01 00:00:00") == 0);
    /* every day of 400 years round-trips through the parser */
    for (int64_t t = 86400; t < 400 * 366 * 86400LL; t += 86400 * 7 + 3601) {
        char iso[32];
        lb_time_format_china(t, text);
        snprintf(iso, sizeof(iso), "%.10sT%.8s+08:00", text, text + 11);
        if (bound(iso, 0) != t) {
            fprintf(stderr, "%lld -> %s -> %lld\n", (long long)t, iso, (long long)bound(iso, 0));
            CHECK(0);
            break;
        }
    }
}

int main(void)
{
    test_cells();
    test_bounds();
    test_china_time();
    return CHECK_RESULT("csv");
}
