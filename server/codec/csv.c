/* CSV for exports (livebuy/codec/csv.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "livebuy/codec/csv.h"

static void cell_start(lb_csv_t *csv)
{
    if (csv->cells++ != 0)
        lb_buffer_append(csv->out, ",", 1);
}

void lb_csv_text(lb_csv_t *csv, const char *text)
{
    int formula = strchr("=+-@\t", text[0]) != NULL && text[0] != '\0';
    cell_start(csv);
    if (!formula && strpbrk(text, ",\"\r\n") == NULL) {
        lb_buffer_append(csv->out, text, strlen(text));
        return;
    }
    lb_buffer_append(csv->out, formula ? "\"'" : "\"", formula ? 2 : 1);
    for (const char *quote; (quote = strchr(text, '"')) != NULL; text = quote + 1) {
        lb_buffer_append(csv->out, text, (size_t)(quote - text) + 1); /* up to the quote, and the quote again */
        lb_buffer_append(csv->out, "\"", 1);
    }
    lb_buffer_append(csv->out, text, strlen(text));
    lb_buffer_append(csv->out, "\"", 1);
}

void lb_csv_integer(lb_csv_t *csv, int64_t value)
{
    char digits[24];
    cell_start(csv);
    lb_buffer_append(csv->out, digits, (size_t)snprintf(digits, sizeof(digits), "%" PRId64, value));
}

void lb_csv_cents(lb_csv_t *csv, int64_t cents)
{
    char digits[32];
    uint64_t magnitude = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    cell_start(csv);
    lb_buffer_append(csv->out, digits,
                     (size_t)snprintf(digits, sizeof(digits), "%s%" PRIu64 ".%02u", cents < 0 ? "-" : "", magnitude / 100,
                                      (unsigned)(magnitude % 100)));
}

void lb_csv_end_row(lb_csv_t *csv)
{
    lb_buffer_append(csv->out, "\r\n", 2);
    csv->cells = 0;
}
