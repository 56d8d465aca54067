/* Statements with lists: IN lists padded to a few shapes, JSON id lists, multi-row inserts (internal.h says why). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "internal.h"

lb_db_param_t *lb_store__params(size_t n)
{
    static _Thread_local lb_db_param_t *params;
    static _Thread_local size_t capacity;
    if (n > capacity) {
        params = lb_realloc(params, n * sizeof(*params));
        capacity = n;
    }
    return params;
}

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

char *lb_store__json_ids(const int64_t *ids, size_t n, size_t *len)
{
    int64_t *sorted = lb_malloc((n != 0 ? n : 1) * sizeof(*sorted));
    char *json = lb_malloc(2 + n * 21), *p = json;
    memcpy(sorted, ids, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), by_value);
    *p++ = '[';
    for (size_t i = 0; i != n; ++i)
        if (i == 0 || sorted[i] != sorted[i - 1])
            p += sprintf(p, "%s%lld", p == json + 1 ? "" : ",", (long long)sorted[i]);
    *p++ = ']';
    *len = (size_t)(p - json);
    free(sorted);
    return json;
}

int lb_store__query_json_list(lb_db_t *db, const char *sql, char *list, size_t len, int64_t sku_id)
{
    lb_db_param_t params[] = {LB_DB_BYTES(list, len), LB_DB_INT(sku_id)};
    int ret = lb_db_query_array(db, sql, 0, sql, params, LB_ARRAY_SIZE(params));
    free(list);
    return ret;
}

char *lb_store__list_sql(lb_db_t *db, const char *shape, size_t n, const char *head, const char *item, const char *tail)
{
    if (lb_db_is_prepared(db, shape, n))
        return NULL;
    char *sql = lb_malloc(strlen(head) + n * (strlen(item) + 2) + strlen(tail) + 1);
    size_t len = (size_t)sprintf(sql, "%s", head);
    for (size_t i = 0; i != n; ++i)
        len += (size_t)sprintf(sql + len, "%s%s", i == 0 ? "" : ", ", item);
    strcpy(sql + len, tail);
    return sql;
}

int lb_store__insert_returning(lb_db_t *db, const char *shape, const char *head, const char *row, const char *returned,
                               const lb_db_param_t *params, size_t num_params, size_t n, int64_t *out)
{
    char tail[64];
    snprintf(tail, sizeof(tail), " RETURNING %s", returned);
    char *sql = lb_store__list_sql(db, shape, n, head, row, tail);
    int ret = lb_db_query_array(db, shape, n, sql, params, num_params);
    free(sql);
    for (size_t i = 0; ret == 0 && i != n; ++i) {
        if ((ret = lb_db_fetch(db, "i", &out[i])) != 0)
            return ret == LB_ENOTFOUND ? LB_EDB : ret;
    }
    return ret;
}

int lb_store__claim_due(lb_db_t *db, const char *due_sql, const char *claim_sql, const char *claimer, int64_t now,
                        int64_t claimed_until, size_t limit, lb_store__fetch_cb fetch, void *rows, size_t *found)
{
    int64_t ids[64], changed;
    int ret;
    *found = 0;
    if (limit > LB_ARRAY_SIZE(ids))
        limit = LB_ARRAY_SIZE(ids);
    if ((ret = lb_db_begin(db)) != 0 || (ret = lb_db_query(db, due_sql, "iii", now, now, (int64_t)limit)) != 0)
        return ret;
    while (*found != limit && (ret = fetch(db, rows, *found, &ids[*found])) == 0)
        ++*found;
    if (ret != 0 && ret != LB_ENOTFOUND)
        return ret;
    for (size_t i = 0; i != *found; ++i)
        if ((changed = lb_db_exec(db, claim_sql, "sii", claimer, claimed_until, ids[i])) < 0)
            return (int)changed;
    return 0;
}
