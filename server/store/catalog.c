/* The catalog: merchants, their products and SKUs, and the SKU counters the order path moves units between. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/db/rows.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/ledger.h"
#include "internal.h"

int lb_store_ping(lb_db_t *db)
{
    static const char sql[] = "SELECT 1";
    int64_t one;
    return lb_db_query_row(db, sql, "", "i", &one);
}

int lb_store_merchant_create(lb_db_t *db, const char *name, lb_merchant_kind_t kind, const uint8_t token_hash[LB_TOKEN_HASH_SIZE],
                             int64_t *id)
{
    static const char sql[] = "INSERT INTO merchants (name, kind, token_hash, created_at) VALUES (?, ?, ?, ?)";
    int64_t ret = lb_db_exec(db, sql, "ssbi", name, lb_merchant_kinds[kind], token_hash, (size_t)LB_TOKEN_HASH_SIZE, lb_now());
    if (ret < 0)
        return (int)ret;
    *id = lb_db_insert_id(db);
    return 0;
}

/* The merchant of a query run for one row of (id, kind - 1). */
static int fetch_merchant(lb_db_t *db, int ret, lb_merchant_t *merchant)
{
    int64_t kind;
    if (ret == 0 && (ret = lb_db_fetch(db, "ii", &merchant->id, &kind)) == 0)
        merchant->kind = (lb_merchant_kind_t)kind;
    return ret;
}

int lb_store_merchant_by_token(lb_db_t *db, const uint8_t token_hash[LB_TOKEN_HASH_SIZE], lb_merchant_t *merchant)
{
    static const char sql[] = "SELECT id, kind - 1 FROM merchants WHERE token_hash = ?";
    return fetch_merchant(db, lb_db_query(db, sql, "b", token_hash, (size_t)LB_TOKEN_HASH_SIZE), merchant);
}

int lb_store_merchant_get(lb_db_t *db, int64_t id, lb_merchant_t *merchant)
{
    static const char sql[] = "SELECT id, kind - 1 FROM merchants WHERE id = ?";
    return fetch_merchant(db, lb_db_query(db, sql, "i", id), merchant);
}

/* Reads one SKU row with sql (SKU_SELECT and a WHERE on the id). */
static int read_sku(lb_db_t *db, const char *sql, int64_t id, lb_sku_t *sku)
{
    return lb_db_query_row(db, sql, "i", SKU_TYPES, id, SKU_OUTPUTS(sku));
}

int lb_store_sku_get(lb_db_t *db, int64_t id, lb_sku_t *sku)
{
    /* A SKU of a product in the making (product_create.c) is nobody's to see or use yet. */
    static const char sql[] = "SELECT " SKU_SELECT_LIST("s.") "FROM skus s JOIN products p ON p.id = s.product_id "
                                                              "WHERE s.id = ? AND p.making IS NULL";
    return read_sku(db, sql, id, sku);
}

int lb_store_sku_lock(lb_db_t *db, int64_t id, lb_sku_t *sku)
{
    static const char sql[] = SKU_SELECT "WHERE id = ? FOR UPDATE";
    return read_sku(db, sql, id, sku);
}

/*
 * Runs a query of shape that names ids[0..n) (ascending, distinct) in an IN list between head and tail: over the primary
 * key it reads them in ascending order. The list is padded to a power of two with the last id (the same row).
 */
static int query_id_list(lb_db_t *db, const char *shape, const char *head, const char *tail, const int64_t *ids, size_t n)
{
    size_t size = lb_store__padded_size(n);
    lb_db_param_t *params = lb_store__params(size);
    for (size_t i = 0; i != size; ++i)
        params[i] = LB_DB_ID(ids[i < n ? i : n - 1]);
    char *sql = lb_store__list_sql(db, shape, size, head, "?", tail);
    int ret = lb_db_query_array(db, shape, size, sql, params, size);
    free(sql);
    return ret;
}

/*
 * Rows read in id order against ids[0..n) (ascending): moves *i on to id's place; whether ids holds it there (a missing
 * SKU's row is not read, and its place is skipped).
 */
static int next_of_sorted(const int64_t *ids, size_t n, size_t *i, int64_t id)
{
    while (*i != n && ids[*i] < id)
        ++*i;
    return *i != n && ids[*i] == id;
}

int lb_store_skus_lock(lb_db_t *db, const int64_t *ids, size_t n, lb_sku_t *skus)
{
    static const char shape[] = "skus_lock";
    int ret;
    memset(skus, 0, n * sizeof(*skus));
    if (n == 1) /* a hot SKU's batch: the one-row statement */
        return (ret = lb_store_sku_lock(db, ids[0], &skus[0])) == LB_ENOTFOUND ? 0 : ret;
    ret = query_id_list(db, shape, SKU_SELECT "WHERE id IN (", ") ORDER BY id FOR UPDATE", ids, n);
    for (size_t i = 0; ret == 0;) {
        lb_sku_t row;
        if ((ret = lb_db_fetch(db, SKU_TYPES, SKU_OUTPUTS(&row))) != 0)
            break;
        if (next_of_sorted(ids, n, &i, row.id))
            skus[i] = row;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_sku_add_counts(lb_db_t *db, int64_t sku_id, int64_t reserved, int64_t sold, int64_t held, int64_t now)
{
    static const char sql[] =
        "UPDATE skus SET reserved = reserved + ?, sold = sold + ?, held = held + ?, updated_at = ? WHERE id = ?";
    int64_t ret = lb_db_exec(db, sql, "iiiii", reserved, sold, held, now, sku_id);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_skus_add_counts(lb_db_t *db, const lb_sku_counts_t *adds, size_t n, int64_t now)
{
    static const char sql[] =
        "UPDATE skus SET reserved = reserved + ?, sold = sold + ?, held = held + ?, updated_at = ? WHERE id = ?";
    lb_db_rows_t *rows = lb_db_rows_start("iiiii", n);
    for (size_t i = 0; i != n; ++i) {
        lb_db_row_int(rows, 0, i, adds[i].reserved);
        lb_db_row_int(rows, 1, i, adds[i].sold);
        lb_db_row_int(rows, 2, i, adds[i].held);
        lb_db_row_int(rows, 3, i, now);
        lb_db_row_int(rows, 4, i, adds[i].sku_id);
    }
    int64_t ret = lb_db_exec_rows(db, sql, rows->columns, 5, n);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_sku_add_reserved(lb_db_t *db, int64_t sku_id, int64_t reserved_delta, int64_t from_held, int64_t now)
{
    return lb_store_sku_add_counts(db, sku_id, reserved_delta, 0, -from_held, now);
}

int lb_store_skus_add_reserved(lb_db_t *db, const lb_sku_reserved_t *adds, size_t n, int64_t now)
{
    static const char shape[] = "skus_add_reserved";
    if (n == 1)
        return lb_store_sku_add_reserved(db, adds[0].sku_id, adds[0].reserved, adds[0].from_held, now);
    /*
     * reserved += CASE id WHEN ? THEN ? ... END, held likewise, WHERE id IN (...): padded to a power of two with the
     * last SKU (a repeated WHEN is never reached, a repeated id is the same row).
     */
    size_t size = lb_store__padded_size(n), k = 0;
    lb_db_param_t *params = lb_store__params(5 * size + 1);
    for (size_t i = 0; i != size; ++i, k += 2) {
        const lb_sku_reserved_t *a = &adds[i < n ? i : n - 1];
        params[k] = params[2 * size + k] = LB_DB_ID(a->sku_id);
        params[k + 1] = LB_DB_INT(a->reserved);
        params[2 * size + k + 1] = LB_DB_INT(a->from_held);
        params[4 * size + 1 + i] = LB_DB_ID(a->sku_id);
    }
    params[4 * size] = LB_DB_INT(now);
    char *sql = NULL;
    if (!lb_db_is_prepared(db, shape, size)) {
        char *p = sql = lb_malloc(200 + size * 40);
        p += sprintf(p, "UPDATE skus SET reserved = reserved + CASE id ");
        p += lb_store__print_list(p, size, "WHEN ? THEN ?", " ");
        p += sprintf(p, " END, held = held - CASE id ");
        p += lb_store__print_list(p, size, "WHEN ? THEN ?", " ");
        p += sprintf(p, " END, updated_at = ? WHERE id IN (");
        p += lb_store__print_list(p, size, "?", ", ");
        strcpy(p, ")");
    }
    int64_t ret = lb_db_exec_array(db, shape, size, sql, params, 5 * size + 1);
    free(sql);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_sku_shipping(lb_db_t *db, int64_t sku_id, char title[LB_TEXT_SIZE(401)], int64_t *cold_chain)
{
    static const char sql[] = "SELECT CONCAT(p.title, ' ', s.name), p.cold_chain FROM skus s "
                              "JOIN products p ON p.id = s.product_id WHERE s.id = ?";
    return lb_db_query_row(db, sql, "i", "si", sku_id, title, (size_t)LB_TEXT_SIZE(401), cold_chain);
}

int lb_store_skus_shipping(lb_db_t *db, const int64_t *ids, size_t n, lb_sku_shipping_t *out)
{
    static const char shape[] = "skus_shipping";
    memset(out, 0, n * sizeof(*out));
    int ret = query_id_list(db, shape,
                            "SELECT s.id, CONCAT(p.title, ' ', s.name), p.cold_chain FROM skus s "
                            "JOIN products p ON p.id = s.product_id WHERE s.id IN (",
                            ") ORDER BY s.id", ids, n);
    for (size_t i = 0; ret == 0;) {
        lb_sku_shipping_t row;
        if ((ret = lb_db_fetch(db, "isi", &row.sku_id, row.title, sizeof(row.title), &row.cold_chain)) != 0)
            break;
        if (next_of_sorted(ids, n, &i, row.sku_id))
            out[i] = row;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store__ids(lb_db_t *db, const char *sql, int64_t param, int64_t **ids, size_t *n)
{
    size_t cap = 0;
    int ret = lb_db_query(db, sql, "i", param);
    *ids = NULL;
    *n = 0;
    while (ret == 0) {
        *ids = lb_grow(*ids, *n, &cap, sizeof(**ids));
        if ((ret = lb_db_fetch(db, "i", &(*ids)[*n])) != 0)
            break;
        ++*n;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_merchant_sku_ids(lb_db_t *db, int64_t merchant_id, int64_t **skus, size_t *n)
{
    static const char sql[] = "SELECT id FROM skus WHERE merchant_id = ? ORDER BY id";
    return lb_store__ids(db, sql, merchant_id, skus, n);
}

int lb_store_merchant_skus(lb_db_t *db, int64_t merchant_id, int64_t after, int64_t limit, lb_merchant_sku_t *out, size_t *found)
{
    static const char sql[] = "SELECT " SKU_SELECT_LIST(
        "s.") ", p.title, p.unit, p.cold_chain FROM skus s "
              "JOIN products p ON p.id = s.product_id WHERE s.merchant_id = ? AND s.id > ? AND p.making IS NULL "
              "ORDER BY s.id LIMIT ?";
    int ret = lb_db_query(db, sql, "iii", merchant_id, after, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        lb_merchant_sku_t *m = &out[*found];
        lb_sku_t *s = &m->sku;
        if ((ret = lb_db_fetch(db, SKU_TYPES "ssi", SKU_OUTPUTS(s), m->title, sizeof(m->title), m->unit, sizeof(m->unit),
                               &m->cold_chain)) != 0)
            break;
        ++*found;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}
