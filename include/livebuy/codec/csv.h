/*
 * CSV as spreadsheet programs read it (RFC 4180, UTF-8): for exports, a row at a time into a buffer the caller owns.
 * No tree, no row kept: what is written is in out.
 */
#ifndef LIVEBUY_CSV_H
#define LIVEBUY_CSV_H

#include <stdint.h>
#include "livebuy/codec/codec.h"

/* The byte order mark a CSV for people starts with, so that spreadsheet programs read it as UTF-8 (and show Chinese). */
#define LB_CSV_BOM "\xEF\xBB\xBF"

typedef struct st_lb_csv_t {
    lb_buffer_t *out; /* where the rows go (the caller's) */
    int cells;        /* in the current row so far */
} lb_csv_t;

/*
 * A text cell: quoted when it holds a comma, a quote, CR or LF (quotes doubled). Text that starts with = + - @ or a tab
 * gets a ' before it, inside quotes, so that no spreadsheet takes a buyer's name for a formula (CSV injection).
 */
void lb_csv_text(lb_csv_t *csv, const char *text);
void lb_csv_integer(lb_csv_t *csv, int64_t value);
/* cents as yuan with two decimals, "-" before a negative amount: 1250 -> 12.50. */
void lb_csv_cents(lb_csv_t *csv, int64_t cents);
/* Ends the row (CRLF, as RFC 4180 has it). */
void lb_csv_end_row(lb_csv_t *csv);

#endif
