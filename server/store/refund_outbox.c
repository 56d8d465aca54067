/* The refund outbox: pending refunds claimed, read for their push, and what a push came to (livebuy/store/refund_outbox.h). */
#include "livebuy/common.h"
#include "livebuy/store/refund_outbox.h"
#include "internal.h"

#define REFUND_PUSH_COLUMNS "id, order_id, sku_id, amount_cents, attempts, provider_txn_id, cause, reason "
#define REFUND_PUSH_TYPES   "iiiiisss"
#define REFUND_PUSH_OUTPUTS(r)                                                                                                     \
    &(r)->id, &(r)->order_id, &(r)->sku_id, &(r)->amount_cents, &(r)->attempts, (r)->provider_txn_id,                              \
        sizeof((r)->provider_txn_id), (r)->cause, sizeof((r)->cause), (r)->reason, sizeof((r)->reason)

/* The payment each refund gives back: its amount is the "total" a provider's refund request names. */
static int read_totals(lb_db_t *db, lb_refund_push_row_t *rows, size_t n)
{
    static const char sql[] = "SELECT amount_cents FROM payments WHERE sku_id = ? AND provider_txn_id = ?";
    for (size_t i = 0; i != n; ++i) {
        int ret = lb_db_query_row(db, sql, "is", "i", rows[i].sku_id, rows[i].provider_txn_id, &rows[i].total_cents);
        if (ret == LB_ENOTFOUND)
            rows[i].total_cents = rows[i].amount_cents;
        else if (ret != 0)
            return ret;
    }
    return 0;
}

static int fetch_push_row(lb_db_t *db, void *rows, size_t i, int64_t *id)
{
    lb_refund_push_row_t *row = (lb_refund_push_row_t *)rows + i;
    int ret = lb_db_fetch(db, REFUND_PUSH_TYPES, REFUND_PUSH_OUTPUTS(row));
    *id = row->id;
    return ret;
}

int lb_store_refunds_claim(lb_db_t *db, const char *claimer, int64_t now, int64_t claimed_until, size_t limit, unsigned shards,
                           lb_refund_push_row_t *out, size_t *found)
{
    /* refunds_due (status, next_attempt_at) finds them; the oldest due first, as the shipping outbox does. */
#define REFUND_DUE "status = 'pending' AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)"
    static const lb_store__claim_t claim = {
        .due_sql = "SELECT sku_id, id FROM refunds WHERE " REFUND_DUE " ORDER BY next_attempt_at, id LIMIT ?",
        .lock_sql =
            "SELECT " REFUND_PUSH_COLUMNS "FROM refunds WHERE id = ? AND sku_id = ? AND " REFUND_DUE " FOR UPDATE SKIP LOCKED",
        .claim_sql = "UPDATE refunds SET claimed_by = ?, claimed_until = ? WHERE id = ? AND sku_id = ?",
        .fetch = fetch_push_row};
#undef REFUND_DUE
    int ret = lb_store__claim_due(db, &claim, claimer, now, claimed_until, limit, shards, out, found);
    if (ret != 0 || (ret = read_totals(db, out, *found)) != 0)
        return ret;
    return lb_db_commit(db);
}

int lb_store_refunds_release(lb_db_t *db, const char *claimer)
{
    static const char find_sql[] = "SELECT sku_id, id FROM refunds WHERE claimed_by = ? AND status = 'pending'";
    static const char free_sql[] = "UPDATE refunds SET claimed_by = NULL, claimed_until = NULL WHERE id = ? AND sku_id = ? AND "
                                   "claimed_by = ? AND status = 'pending'";
    return lb_store__release_claims(db, find_sql, free_sql, claimer);
}

int lb_store_refunds_pending(lb_db_t *db, int64_t *pending)
{
    static const char sql[] = "SELECT COUNT(*) FROM refunds WHERE status = 'pending'";
    return lb_db_query_row(db, sql, "", "i", pending);
}

int lb_store_refund_retry(lb_db_t *db, int64_t sku_id, int64_t id, const char *claimer, int64_t attempts, int64_t next_attempt_at,
                          int dead, const char *error, int64_t now, int *changed)
{
    static const char sql[] =
        "UPDATE refunds SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ?, "
        "claimed_by = NULL, claimed_until = NULL WHERE id = ? AND sku_id = ? AND status = 'pending' AND claimed_by = ?";
    int64_t ret =
        lb_db_exec(db, sql, "siisiiis", dead ? "dead" : "pending", attempts, next_attempt_at, error, now, id, sku_id, claimer);
    *changed = ret == 1;
    return ret < 0 ? (int)ret : 0;
}

int lb_store_refund_sent(lb_db_t *db, int64_t sku_id, int64_t id, const char *claimer, const char *provider_refund_id, int64_t now)
{
    static const char sql[] = "UPDATE refunds SET status = 'sent', provider_refund_id = COALESCE(?, provider_refund_id), "
                              "last_error = NULL, updated_at = ?, claimed_by = NULL, claimed_until = NULL "
                              "WHERE id = ? AND sku_id = ? AND status = 'pending' AND claimed_by = ?";
    int64_t ret = provider_refund_id != NULL ? lb_db_exec(db, sql, "siiis", provider_refund_id, now, id, sku_id, claimer)
                                             : lb_db_exec(db, sql, "niiis", now, id, sku_id, claimer);
    return ret < 0 ? (int)ret : 0;
}
