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

size_t lb_store__print_list(char *out, size_t n, const char *item, const char *separator)
{
    size_t len = 0;
    for (size_t i = 0; i != n; ++i)
        len += (size_t)sprintf(out + len, "%s%s", i == 0 ? "" : separator, item);
    out[len] = '\0';
    return len;
}

char *lb_store__list_sql(lb_db_t *db, const char *shape, size_t n, const char *head, const char *item, const char *tail)
{
    if (lb_db_is_prepared(db, shape, n))
        return NULL;
    char *sql = lb_malloc(strlen(head) + n * (strlen(item) + 2) + strlen(tail) + 1);
    size_t len = (size_t)sprintf(sql, "%s", head);
    len += lb_store__print_list(sql + len, n, item, ", ");
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

int lb_store__claim_due(lb_db_t *db, const lb_store__claim_t *claim, const char *claimer, int64_t now, int64_t claimed_until,
                        size_t limit, unsigned shards, void *rows, size_t *found)
{
    int64_t ids[64], skus[64];
    size_t n = 0;
    int ret;
    *found = 0;
    shards = shards > 1 ? shards : 1;
    if (limit > LB_ARRAY_SIZE(ids))
        limit = LB_ARRAY_SIZE(ids);
    /* Outside a transaction: a read of every backend's due rows takes no lock and is no backend's transaction. */
    if ((ret = lb_db_query(db, claim->due_sql, "iii", now, now, (int64_t)limit)) != 0)
        return ret;
    int64_t sku_id, id;
    while ((ret = lb_db_fetch(db, "ii", &sku_id, &id)) == 0)
        if (n == 0 || (uint64_t)sku_id % shards == (uint64_t)skus[0] % shards) {
            skus[n] = sku_id;
            ids[n++] = id;
        }
    if (ret != LB_ENOTFOUND)
        return ret;
    if ((ret = lb_db_begin(db)) != 0)
        return ret;
    /* Each row again under its lock, by id and SKU: still due and unclaimed, or skipped (another process has it). */
    for (size_t i = 0; i != n; ++i) {
        int64_t changed;
        if ((ret = lb_db_query(db, claim->lock_sql, "iiii", ids[i], skus[i], now, now)) != 0)
            return ret;
        if ((ret = claim->fetch(db, rows, *found, &id)) == LB_ENOTFOUND)
            continue;
        if (ret != 0)
            return ret;
        if ((changed = lb_db_exec(db, claim->claim_sql, "siii", claimer, claimed_until, ids[i], skus[i])) < 0)
            return (int)changed;
        ++*found;
    }
    return 0;
}

int lb_store__release_claims(lb_db_t *db, const char *find_sql, const char *free_sql, const char *claimer)
{
    int64_t ids[64], skus[64], freed;
    size_t n = 0;
    int ret = lb_db_query(db, find_sql, "s", claimer);
    while (ret == 0 && n != LB_ARRAY_SIZE(ids) && (ret = lb_db_fetch(db, "ii", &skus[n], &ids[n])) == 0)
        ++n;
    if (ret != 0 && ret != LB_ENOTFOUND)
        return ret;
    for (size_t i = 0; i != n; ++i)
        if ((freed = lb_db_exec(db, free_sql, "iis", ids[i], skus[i], claimer)) < 0)
            return (int)freed;
    return 0;
}

size_t lb_store__add_block_skus(int64_t *skus, size_t n, const char *list)
{
    for (const char *p = list; *p != '\0';) {
        if (*p < '0' || *p > '9') {
            ++p;
            continue;
        }
        char *end;
        skus[n++] = strtoll(p, &end, 10);
        p = end;
    }
    return n;
}

size_t lb_store__sorted_unique(int64_t *ids, size_t n)
{
    size_t m = 0;
    qsort(ids, n, sizeof(*ids), by_value);
    for (size_t i = 0; i != n; ++i)
        if (m == 0 || ids[i] != ids[m - 1])
            ids[m++] = ids[i];
    return m;
}
