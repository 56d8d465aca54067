/* The refunds: written where they are decided, decided by the co-op, pushed by the outbox, confirmed by the provider. */
#include <stdio.h>
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

int lb_store_refund_lock(lb_db_t *db, int64_t id, lb_refund_t *refund)
{
    static const char sql[] = REFUND_SELECT "WHERE id = ? FOR UPDATE";
    return lb_db_query_row(db, sql, "i", REFUND_TYPES, id, REFUND_OUTPUTS(refund));
}

int lb_store_refund_set_outcome(lb_db_t *db, lb_refund_t *refund, const char *status, const char *last_error,
                                const char *provider_refund_id, int64_t now)
{
    static const char sql[] = "UPDATE refunds SET status = ?, last_error = COALESCE(?, last_error), "
                              "provider_refund_id = COALESCE(?, provider_refund_id), claimed_by = NULL, claimed_until = NULL, "
                              "updated_at = ? WHERE id = ?";
    lb_db_param_t params[] = {LB_DB_TEXT(status), last_error != NULL ? LB_DB_TEXT(last_error) : LB_DB_NULL,
                              provider_refund_id != NULL ? LB_DB_TEXT(provider_refund_id) : LB_DB_NULL, LB_DB_INT(now),
                              LB_DB_INT(refund->id)};
    int64_t ret = lb_db_exec_array(db, sql, 0, sql, params, LB_ARRAY_SIZE(params));
    if (ret < 0)
        return (int)ret;
    snprintf(refund->status, sizeof(refund->status), "%s", status);
    refund->updated_at = now;
    return 0;
}
