/* Row binding: the thread's buffer of columns for lb_db_exec_rows (livebuy/db/rows.h). */
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/db/rows.h"

lb_db_rows_t *lb_db_rows_start(const char *types, size_t num_rows)
{
    static _Thread_local lb_db_rows_t rows;
    static _Thread_local void *buffer;
    static _Thread_local size_t capacity;
    size_t num_columns = strlen(types), cells = num_columns * num_rows;
    size_t size = num_columns * sizeof(lb_db_column_t) + cells * (sizeof(int64_t) + sizeof(char *) + sizeof(unsigned long) + 1);
    if (size > capacity)
        buffer = lb_realloc(buffer, capacity = size);
    rows.num_rows = num_rows;
    rows.columns = buffer;
    rows.ints = (int64_t *)(rows.columns + num_columns);
    rows.bytes = (const char **)(rows.ints + cells);
    rows.lengths = (unsigned long *)(rows.bytes + cells);
    rows.nulls = (char *)(rows.lengths + cells);
    memset(rows.nulls, 0, cells);
    for (size_t c = 0; c != num_columns; ++c) {
        size_t at = c * num_rows;
        rows.columns[c] = (lb_db_column_t){types[c], rows.ints + at, rows.bytes + at, rows.lengths + at, rows.nulls + at};
    }
    return &rows;
}
