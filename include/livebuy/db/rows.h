/*
 * Rows for lb_db_exec_rows (array binding: a batch's orders go to MariaDB as one statement and one packet, instead of
 * a statement per 64 rows), filled column by column. The rows live in a buffer of the calling thread's that grows as
 * needed and is reused by its next lb_db_rows_start: fill them and run the statement before starting others.
 */
#ifndef LIVEBUY_DB_ROWS_H
#define LIVEBUY_DB_ROWS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "livebuy/db/db.h"

typedef struct st_lb_db_rows_t {
    size_t num_rows;
    lb_db_column_t *columns; /* what lb_db_exec_rows takes */
    int64_t *ints;
    const char **bytes;
    unsigned long *lengths;
    char *nulls;
} lb_db_rows_t;

/* Rows of num_rows values in each of the columns described by types ('i' or 'b', one per column); all not NULL. */
lb_db_rows_t *lb_db_rows_start(const char *types, size_t num_rows);

/* The setters run for every cell of a batch: inline. */
static inline void lb_db_row_int(lb_db_rows_t *rows, size_t column, size_t row, int64_t value)
{
    rows->ints[column * rows->num_rows + row] = value;
}

/* An id, or NULL for 0 (no live item, group-buy or pickup point). */
static inline void lb_db_row_id_or_null(lb_db_rows_t *rows, size_t column, size_t row, int64_t id)
{
    rows->ints[column * rows->num_rows + row] = id;
    rows->nulls[column * rows->num_rows + row] = id == 0;
}

/* bytes[0..len), or NULL for a NULL pointer. The bytes are not copied: they must outlive the statement. */
static inline void lb_db_row_bytes(lb_db_rows_t *rows, size_t column, size_t row, const void *bytes, size_t len)
{
    size_t at = column * rows->num_rows + row;
    rows->bytes[at] = bytes;
    rows->lengths[at] = (unsigned long)len;
    rows->nulls[at] = bytes == NULL;
}

/* A NUL-terminated text, as bytes; NULL for a NULL pointer. */
static inline void lb_db_row_text(lb_db_rows_t *rows, size_t column, size_t row, const char *text)
{
    lb_db_row_bytes(rows, column, row, text, text != NULL ? strlen(text) : 0);
}

#endif
