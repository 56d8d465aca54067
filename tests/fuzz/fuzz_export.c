/*
 * libFuzzer target for what the orders export reads and writes: the date filter's bounds
 * (livebuy/base/civil_time.h), the Accept negotiation among JSON, msgpack and CSV (lb_codec_negotiate) and CSV cells
 * (livebuy/codec/csv.h). The input is a bound, an Accept value and cells, split at the byte 0x1F. Held: a bound is a
 * time that China time writes back as itself, a day's end is its start and a day; the negotiation picks an offered
 * type or none, the same whatever the case; a row of cells reads back (RFC 4180) as the cells, a formula-like one with
 * its ' in front.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/base/civil_time.h"
#include "livebuy/codec/codec.h"
#include "livebuy/codec/csv.h"
#include "fuzz_check.h"

#define MAX_INPUT 2048
#define SEPARATOR 0x1f
/* The last second whose China time has a four-digit year. */
#define CHINA_TIME_LAST (253402300799 - LB_CHINA_UTC_OFFSET)

static void bound(const char *s, size_t len)
{
    int64_t start = -1, end = -1;
    int parsed = lb_time_parse_bound(s, len, 0, &start);
    CHECK((lb_time_parse_bound(s, len, 1, &end) == 0) == (parsed == 0));
    if (parsed != 0)
        return;
    CHECK(start >= 0 && end == start + (len == 10 ? 86400 : 0));
    if (start > CHINA_TIME_LAST)
        return;
    /* China time written out and read back as an RFC 3339 time is the same second. */
    char china[LB_CHINA_TIME_SIZE], again[40];
    int64_t back = -1;
    lb_time_format_china(start, china);
    snprintf(again, sizeof(again), "%.10sT%.8s+08:00", china, china + 11);
    CHECK(lb_time_parse_bound(again, strlen(again), 0, &back) == 0 && back == start);
}

static void negotiate(const char *s, size_t len)
{
    static const char *const offered[] = {"application/json", "application/msgpack", "text/csv"};
    char upper[MAX_INPUT];
    int chosen = lb_codec_negotiate(s, len, offered, 3);
    CHECK(chosen >= -1 && chosen < 3);
    for (size_t i = 0; i != len; ++i)
        upper[i] = (char)toupper((unsigned char)s[i]);
    CHECK(lb_codec_negotiate(upper, len, offered, 3) == chosen);
    CHECK(lb_codec_negotiate(s, len, offered, 0) == -1);
}

/* Reads one CSV row (RFC 4180) at *p, up to its CRLF, into cells (NUL-terminated, each at most MAX_INPUT + 2 bytes). */
static size_t read_row(const char **p, const char *end, char cells[][MAX_INPUT + 3], size_t max_cells)
{
    size_t n = 0;
    for (;;) {
        CHECK(n != max_cells);
        size_t len = 0;
        if (*p < end && **p == '"') {
            for (++*p;; ++*p) {
                CHECK(*p < end);
                if (**p == '"' && (*p + 1 == end || (*p)[1] != '"'))
                    break;
                if (**p == '"')
                    ++*p;
                cells[n][len++] = **p;
            }
            ++*p;
        } else {
            for (; *p < end && **p != ',' && **p != '\r'; ++*p) {
                CHECK(**p != '"' && **p != '\n');
                cells[n][len++] = **p;
            }
        }
        cells[n++][len] = '\0';
        CHECK(*p < end);
        if (**p == ',') {
            ++*p;
            continue;
        }
        CHECK(end - *p >= 2 && (*p)[0] == '\r' && (*p)[1] == '\n');
        *p += 2;
        return n;
    }
}

static void csv_cells(const char *s, size_t len)
{
    static char texts[MAX_INPUT / 2 + 2][MAX_INPUT + 1], read[MAX_INPUT / 2 + 2][MAX_INPUT + 3];
    size_t n = 0;
    for (const char *p = s, *end = s + len; n != sizeof(texts) / sizeof(texts[0]); ++n) {
        const char *cut = memchr(p, SEPARATOR, (size_t)(end - p));
        size_t cell = (size_t)((cut != NULL ? cut : end) - p);
        memcpy(texts[n], p, cell);
        texts[n][cell] = '\0'; /* a NUL inside ends the text, as it would a C string */
        if (cut == NULL) {
            ++n;
            break;
        }
        p = cut + 1;
    }
    lb_buffer_t out = {0};
    lb_csv_t csv = {&out, 0};
    for (size_t i = 0; i != n; ++i)
        lb_csv_text(&csv, texts[i]);
    lb_csv_end_row(&csv);
    const char *p = out.bytes;
    CHECK(read_row(&p, out.bytes + out.len, read, sizeof(read) / sizeof(read[0])) == n && p == out.bytes + out.len);
    for (size_t i = 0; i != n; ++i) {
        int formula = texts[i][0] != '\0' && strchr("=+-@\t", texts[i][0]) != NULL;
        CHECK(strcmp(read[i] + formula, texts[i]) == 0 && (!formula || read[i][0] == '\''));
    }
    free(out.bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    if (size > MAX_INPUT)
        return 0;
    const char *first = memchr(s, SEPARATOR, size);
    size_t head = first != NULL ? (size_t)(first - s) : size;
    bound(s, head);
    negotiate(s, head);
    csv_cells(s, size);
    return 0;
}
