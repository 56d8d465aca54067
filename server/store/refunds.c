/* The refunds: written where they are decided, decided by the co-op, pushed by the outbox, confirmed by the provider. */
#include <stdio.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/store/refunds.h"

/* The columns of lb_refund_t, in the order REFUND_OUTPUTS lists them. */
#define REFUND_SELECT                                                                                                              \
    "SELECT id, sku_id, order_id, buyer_id, coop_id, amount_cents, attempts, next_attempt_at, created_at, "                        \
    "COALESCE(updated_at, created_at), provider_txn_id, cause, status, reason, COALESCE(last_error, ''), "                         \
    "COALESCE(provider_refund_id, '') FROM refunds "
#define REFUND_TYPES "iiiiiiiiiissssss"
#define REFUND_OUTPUTS(r)                                                                                                          \
    &(r)->id, &(r)->sku_id, &(r)->order_id, &(r)->buyer_id, &(r)->coop_id, &(r)->amount_cents, &(r)->attempts,                     \
        &(r)->next_attempt_at, &(r)->created_at, &(r)->updated_at, (r)->provider_txn_id, sizeof((r)->provider_txn_id), (r)->cause, \
        sizeof((r)->cause), (r)->status, sizeof((r)->status), (r)->reason, sizeof((r)->reason), (r)->last_error,                   \
        sizeof((r)->last_error), (r)->provider_refund_id, sizeof((r)->provider_refund_id)

int lb_store_refund_get(lb_db_t *db, int64_t id, lb_refund_t *refund)
{
    static const char sql[] = REFUND_SELECT "WHERE id = ?";
    return lb_db_query_row(db, sql, "i", REFUND_TYPES, id, REFUND_OUTPUTS(refund));
}

int lb_store_refund_lock(lb_db_t *db, int64_t sku_id, int64_t id, lb_refund_t *refund)
{
    static const char sql[] = REFUND_SELECT "WHERE id = ? AND sku_id = ? FOR UPDATE";
    return lb_db_query_row(db, sql, "ii", REFUND_TYPES, id, sku_id, REFUND_OUTPUTS(refund));
}

int lb_store_refund_set_outcome(lb_db_t *db, lb_refund_t *refund, const char *status, const char *last_error,
                                const char *provider_refund_id, int64_t now)
{
    static const char sql[] = "UPDATE refunds SET status = ?, last_error = COALESCE(?, last_error), "
                              "provider_refund_id = COALESCE(?, provider_refund_id), claimed_by = NULL, claimed_until = NULL, "
                              "updated_at = ? WHERE id = ? AND sku_id = ?";
    lb_db_param_t params[] = {LB_DB_TEXT(status),
                              last_error != NULL ? LB_DB_TEXT(last_error) : LB_DB_NULL,
                              provider_refund_id != NULL ? LB_DB_TEXT(provider_refund_id) : LB_DB_NULL,
                              LB_DB_INT(now),
                              LB_DB_INT(refund->id),
                              LB_DB_INT(refund->sku_id)};
    int64_t ret = lb_db_exec_array(db, sql, 0, sql, params, LB_ARRAY_SIZE(params));
    if (ret < 0)
        return (int)ret;
    snprintf(refund->status, sizeof(refund->status), "%s", status);
    refund->updated_at = now;
    return 0;
}

int lb_store_refund_create(lb_db_t *db, lb_refund_t *refund, int64_t now)
{
    static const char sql[] = "INSERT INTO refunds (sku_id, order_id, buyer_id, coop_id, provider_txn_id, amount_cents, cause, "
                              "reason, status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    int64_t ret =
        lb_db_exec(db, sql, "iiiisisssii", refund->sku_id, refund->order_id, refund->buyer_id, refund->coop_id,
                   refund->provider_txn_id, refund->amount_cents, refund->cause, refund->reason, refund->status, now, now);
    if (ret < 0)
        return (int)ret;
    refund->id = lb_db_insert_id(db);
    refund->attempts = 0;
    refund->next_attempt_at = refund->created_at = refund->updated_at = now;
    refund->last_error[0] = refund->provider_refund_id[0] = '\0';
    return 0;
}

int lb_store_refund_of_payment(lb_db_t *db, int64_t sku_id, const char *provider_txn_id, lb_refund_t *refund)
{
    static const char sql[] = REFUND_SELECT "WHERE sku_id = ? AND provider_txn_id = ?";
    return lb_db_query_row(db, sql, "is", REFUND_TYPES, sku_id, provider_txn_id, REFUND_OUTPUTS(refund));
}

int lb_store_refund_of_order(lb_db_t *db, int64_t sku_id, int64_t order_id, lb_refund_t *refund)
{
    static const char sql[] = REFUND_SELECT "WHERE order_id = ? AND sku_id = ? ORDER BY id DESC LIMIT 1";
    return lb_db_query_row(db, sql, "ii", REFUND_TYPES, order_id, sku_id, REFUND_OUTPUTS(refund));
}

int lb_store_refund_set_status(lb_db_t *db, lb_refund_t *refund, const char *status, const char *reason, int64_t now)
{
    /* Sent again: the push counts its attempts from nought and is due at once. */
    static const char sql[] = "UPDATE refunds SET status = ?, reason = COALESCE(?, reason), "
                              "attempts = IF(? = 'pending', 0, attempts), next_attempt_at = IF(? = 'pending', ?, next_attempt_at), "
                              "claimed_by = NULL, claimed_until = NULL, updated_at = ? WHERE id = ? AND sku_id = ?";
    lb_db_param_t params[] = {LB_DB_TEXT(status),    reason != NULL ? LB_DB_TEXT(reason) : LB_DB_NULL,
                              LB_DB_TEXT(status),    LB_DB_TEXT(status),
                              LB_DB_INT(now),        LB_DB_INT(now),
                              LB_DB_INT(refund->id), LB_DB_INT(refund->sku_id)};
    int64_t ret = lb_db_exec_array(db, sql, 0, sql, params, LB_ARRAY_SIZE(params));
    if (ret < 0)
        return (int)ret;
    if (strcmp(status, "pending") == 0) {
        refund->attempts = 0;
        refund->next_attempt_at = now;
    }
    if (reason != NULL)
        snprintf(refund->reason, sizeof(refund->reason), "%s", reason);
    snprintf(refund->status, sizeof(refund->status), "%s", status);
    refund->updated_at = now;
    return 0;
}

int lb_store_coop_refunds(lb_db_t *db, int64_t coop_id, const char *status, int64_t after, int64_t limit, lb_refund_t *out,
                          size_t *found)
{
    static const char all_sql[] = REFUND_SELECT "WHERE coop_id = ? AND id > ? ORDER BY id LIMIT ?";
    static const char status_sql[] = REFUND_SELECT "WHERE coop_id = ? AND id > ? AND status = ? ORDER BY id LIMIT ?";
    int ret = status != NULL ? lb_db_query(db, status_sql, "iisi", coop_id, after, status, limit)
                             : lb_db_query(db, all_sql, "iii", coop_id, after, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit && (ret = lb_db_fetch(db, REFUND_TYPES, REFUND_OUTPUTS(&out[*found]))) == 0)
        ++*found;
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_refund_goods_gone(lb_db_t *db, const lb_order_t *order, int64_t now)
{
    static const char sku_sql[] = "UPDATE skus SET stock = stock - ?, sold = sold - ?, updated_at = ? WHERE id = ?";
    static const char item_sql[] = "UPDATE live_items SET sold = sold - ?, quota = quota - ? WHERE sku_id = ? AND id = ?";
    /* merchant_id NULL: livebuy moves the stock on the refund's behalf; no merchant changed it by hand. */
    static const char ledger_sql[] = "INSERT INTO stock_ledger (sku_id, kind, delta, stock_after, merchant_id, order_id, "
                                     "reason, created_at) SELECT id, 'refund_after_handoff', ?, stock, NULL, ?, ?, ? FROM "
                                     "skus WHERE id = ?";
    int64_t ret = lb_db_exec(db, sku_sql, "iiii", order->qty, order->qty, now, order->sku_id);
    if (ret >= 0 && order->live_item_id != 0)
        ret = lb_db_exec(db, item_sql, "iiii", order->qty, order->qty, order->sku_id, order->live_item_id);
    if (ret >= 0)
        ret = lb_db_exec(db, ledger_sql, "iisii", -order->qty, order->id, "refund after handoff", now, order->sku_id);
    return ret < 0 ? (int)ret : 0;
}
