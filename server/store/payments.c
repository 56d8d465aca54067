/* Payments: what is recorded under a provider's transaction ids, and recording them. */
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/db/rows.h"
#include "livebuy/model/text.h"
#include "livebuy/store/payments.h"
#include "internal.h"

/*
 * A list look-up written as rows, "(sku_id, x) IN ((?, ?), ...)", with the index forced (lb_store_payments_recorded;
 * the order path's look-ups go through JSON_TABLE, internal.h). With "sku_id = ? AND x IN (...)" MariaDB may read every row
 * of the SKU instead: past eq_range_index_dive_limit (200) it estimates the list's ranges from index statistics, and
 * its cost model rates a thousand ranges dearer than one pass over the SKU's rows. A drop once slowed down that way as
 * its SKU filled up: 40,000 orders/s held for two seconds, then 20,000/s and latencies near a second (perf:
 * in_vector::find, ha_index_next_same). Rows leave it no such plan, and FORCE INDEX none but the ranges.
 */
int lb_store_payments_recorded(lb_db_t *db, const int64_t *skus, const char *const *txns, size_t n, lb_payment_row_t *out,
                               size_t *found)
{
    static const char shape[] = "payments_recorded";
    size_t size = lb_store__padded_size(n), p = 0;
    lb_db_param_t *params = lb_store__params(2 * size);
    char *sql =
        lb_store__list_sql(db, shape, size,
                           "SELECT sku_id, provider_txn_id, order_id, outcome = 'refund_required' FROM payments FORCE INDEX (payments_txn) "
                           "WHERE (sku_id, provider_txn_id) IN (",
                           "(?, ?)", ")");
    for (size_t i = 0; i != size; ++i) {
        const char *txn = txns[i < n ? i : n - 1];
        params[p++] = LB_DB_ID(skus[i < n ? i : n - 1]);
        params[p++] = LB_DB_BYTES(txn, strlen(txn));
    }
    int ret = lb_db_query_array(db, shape, size, sql, params, p);
    free(sql);
    *found = 0;
    while (ret == 0) {
        char txn[LB_TEXT_SIZE(128)]; /* payments.provider_txn_id VARCHAR(128) */
        int64_t sku_id, order_id, refund_required;
        if ((ret = lb_db_fetch(db, "isii", &sku_id, txn, sizeof(txn), &order_id, &refund_required)) != 0)
            break;
        /* Byte for byte, as payments_txn compares (sql/009); a transaction id two notifies carry is found once. */
        for (size_t i = 0; i != n; ++i) {
            if (skus[i] == sku_id && strcmp(txns[i], txn) == 0) {
                out[(*found)++] = (lb_payment_row_t){.order_id = order_id,
                                                     .provider_txn_id = txns[i],
                                                     .refund_required = (int)refund_required,
                                                     .sku_id = sku_id};
                break;
            }
        }
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_payments_insert(lb_db_t *db, const lb_payment_row_t *rows, size_t n, int64_t now)
{
    static const char sql[] = "INSERT INTO payments (sku_id, order_id, provider_txn_id, amount_cents, outcome, created_at) "
                              "VALUES (?, ?, ?, ?, ?, ?)";
    static const char applied[] = "applied", refund_required[] = "refund_required";
    lb_db_rows_t *columns = lb_db_rows_start("iibibi", n);
    for (size_t i = 0; i != n; ++i) {
        const char *outcome = rows[i].refund_required ? refund_required : applied;
        lb_db_row_int(columns, 0, i, rows[i].sku_id);
        lb_db_row_int(columns, 1, i, rows[i].order_id);
        lb_db_row_text(columns, 2, i, rows[i].provider_txn_id);
        lb_db_row_int(columns, 3, i, rows[i].amount_cents);
        lb_db_row_text(columns, 4, i, outcome);
        lb_db_row_int(columns, 5, i, now);
    }
    int64_t ret = lb_db_exec_rows(db, sql, columns->columns, 6, n);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_order_payment(lb_db_t *db, int64_t sku_id, int64_t order_id, char *provider_txn_id, size_t size, int64_t *amount_cents)
{
    static const char sql[] = "SELECT provider_txn_id, amount_cents FROM payments WHERE order_id = ? AND sku_id = ? AND "
                              "outcome = 'applied' ORDER BY id LIMIT 1";
    return lb_db_query_row(db, sql, "ii", "si", order_id, sku_id, provider_txn_id, size, amount_cents);
}
