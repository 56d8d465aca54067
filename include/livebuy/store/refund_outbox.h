/*
 * The refund outbox's statements (sql/013_refunds.sql): pending refunds claimed and read for their push to the payment
 * provider (server/jobs/refund_push.c), sent, retried or given up. What a provider's word does to a refund (refunded,
 * failed) is server/order/refund.c's. Worker threads; 0 or an LB_E* code.
 */
#ifndef LIVEBUY_STORE_REFUND_OUTBOX_H
#define LIVEBUY_STORE_REFUND_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/db/db.h"
#include "livebuy/model/text.h"

/* What a refund's push needs of it. */
typedef struct st_lb_refund_push_row_t {
    int64_t id, order_id, sku_id;
    int64_t amount_cents; /* what goes back */
    int64_t total_cents;  /* what the payment it gives back was (its amount_cents when the payment row is not there) */
    int64_t attempts;
    char provider_txn_id[LB_TEXT_SIZE(128)];
    char cause[16];
    char reason[LB_TEXT_SIZE(200)];
} lb_refund_push_row_t;

/*
 * In its own transaction: claims up to limit pending refunds that are due at now and not claimed by anyone (or whose
 * claim has run out), skipping rows other transactions hold (SKIP LOCKED), for claimer until claimed_until, and reads
 * them into out. Several processes claiming at once never get the same row. The refunds claimed are those of one slot
 * (SKU id modulo shards: one backend of a sharded database), the oldest due one's.
 */
int lb_store_refunds_claim(lb_db_t *db, const char *claimer, int64_t now, int64_t claimed_until, size_t limit, unsigned shards,
                           lb_refund_push_row_t *out, size_t *found);
/* Lets go of claimer's claims on pending refunds (a clean stop: another process may send them at once). */
int lb_store_refunds_release(lb_db_t *db, const char *claimer);
/* How many refunds are pending (waiting to be pushed; the livebuy_refunds_pending gauge). */
int lb_store_refunds_pending(lb_db_t *db, int64_t *pending);
/*
 * A failed push by claimer: attempts, next try and last error recorded and the claim let go; status becomes dead when
 * dead. *changed is 0 when the refund moved on meanwhile (a notification came first) or another process claims it now.
 */
int lb_store_refund_retry(lb_db_t *db, int64_t sku_id, int64_t id, const char *claimer, int64_t attempts, int64_t next_attempt_at,
                          int dead, const char *error, int64_t now, int *changed);
/*
 * The provider took claimer's push: pending -> sent, its provider_refund_id kept when given (may be NULL), the claim let
 * go. Nothing changes when the refund moved on meanwhile or another process claims it now.
 */
int lb_store_refund_sent(lb_db_t *db, int64_t sku_id, int64_t id, const char *claimer, const char *provider_refund_id, int64_t now);

#endif
