/*
 * The shipping outbox's statements: shipments are made in the transaction that pays their orders, then claimed and
 * pushed by the dispatcher (server/jobs/dispatcher.c), acknowledged and advanced by delivery events
 * (server/order/shipping.c), and offered in the shippers' feed. Worker threads; 0 or an LB_E* code (LB_ENOTFOUND).
 */
#ifndef LIVEBUY_STORE_SHIPMENTS_H
#define LIVEBUY_STORE_SHIPMENTS_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/base/token.h"
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/shipment.h"

/* Inserts a pending shipment, due now, and its shipment_orders rows; *id gets its id (the shipment_id it is sent as). */
int lb_store_shipment_create(lb_db_t *db, const lb_shipment_t *shipment, int64_t now, int64_t *id);
/* Inserts shipments[0..n) (no group-buy, one order each) as lb_store_shipment_create would, in a few statements. */
int lb_store_shipments_create(lb_db_t *db, const lb_shipment_t *shipments, size_t n, int64_t now);

/* Frees the payloads of rows[0..n). */
void lb_store_shipment_rows_free(lb_shipment_row_t *rows, size_t n);
/*
 * In its own transaction: claims up to limit pending shipments that are due at now and not claimed by anyone (or whose
 * claim has run out), skipping rows other transactions hold (SKIP LOCKED), for claimer until claimed_until; reads them
 * with their payloads into out. Several processes claiming at once never get the same row. The shipments claimed are
 * those of one slot (SKU id modulo shards: one backend of a sharded database), the oldest due one's.
 */
int lb_store_shipments_claim(lb_db_t *db, const char *claimer, int64_t now, int64_t claimed_until, size_t limit, unsigned shards,
                             lb_shipment_row_t *out, size_t *found);
/* Lets go of claimer's claims on pending shipments (a clean stop: another process may send them at once). */
int lb_store_shipments_release(lb_db_t *db, const char *claimer);
/* How many shipments are pending (the outbox backlog). */
int lb_store_shipments_backlog(lb_db_t *db, int64_t *pending);
/*
 * A failed push by claimer: the shipment's attempts, next try and last error are recorded and the claim let go; status
 * becomes dead when dead. Nothing changes when the row was acked meanwhile or is claimed by another process now.
 */
int lb_store_shipment_retry(lb_db_t *db, int64_t sku_id, int64_t id, const char *claimer, int64_t attempts, int64_t next_attempt_at,
                            int dead, const char *error);

/*
 * Inside a transaction: locks a shipment row (FOR UPDATE) and reads it without its payload, or LB_ENOTFOUND. Its SKU is
 * named (lb_store_shipment_sku) so that a sharded database looks on one backend; this and the calls below that take
 * the SKU too.
 */
int lb_store_shipment_lock(lb_db_t *db, int64_t sku_id, int64_t id, lb_shipment_row_t *row);
/* The SKU of a shipment, read without a lock (it never changes), or LB_ENOTFOUND. */
int lb_store_shipment_sku(lb_db_t *db, int64_t id, int64_t *sku_id);
/* Marks a (locked) pending or dead shipment acked at now; *changed is 0 when it was acked already (or cancelled). */
int lb_store_shipment_set_acked(lb_db_t *db, int64_t sku_id, int64_t id, int64_t now, int *changed);
/*
 * Cancels the shipment of one order (a paid order refunded before handoff) if shipping cannot have it: a pending
 * shipment of that order alone, never claimed for a push (sql/024). *cancelled says whether it was. A cancelled shipment
 * is never pushed or acked; it takes a new place in the feed, so that a shipper who pulled it sees it again, cancelled.
 * Inside a transaction that holds the SKU row.
 */
int lb_store_order_shipment_cancel(lb_db_t *db, int64_t sku_id, int64_t order_id, int *cancelled);
/*
 * Takes a delivery event's signature for shipment_id (sql/022): *signed_for is shipment_id when it is new or was taken
 * for this shipment before (a retry), or the other shipment it was taken for. 0 or an LB_EDB_* code.
 */
int lb_store_shipment_signature_take(lb_db_t *db, const uint8_t signature[LB_SIGNATURE_SIZE], int64_t shipment_id, int64_t now,
                                     int64_t *signed_for);
/* Records a delivery event once: LB_EDB_DUP when this type was recorded for the shipment already. */
int lb_store_shipment_event_insert(lb_db_t *db, int64_t id, const char *type, const char *tracking_no, int64_t now);
/* Sets a (locked) shipment's delivery status and tracking number. */
int lb_store_shipment_set_delivery(lb_db_t *db, int64_t sku_id, int64_t id, const char *delivery_status, const char *tracking_no);
/*
 * Moves the shipment's orders (their SKU row locked first) forward to status along paid -> handed_off -> shipped ->
 * delivered; orders already there or further on, and orders in other states (refunds), are left alone.
 */
int lb_store_shipment_orders_advance(lb_db_t *db, int64_t sku_id, int64_t id, const char *status, int64_t now);

/*
 * Gives up to limit committed shipments that have no place in the feed yet the next places (feed_seq), one placer at a
 * time (a named lock of the session): the counter moves on first, in a statement of its own, then the places are given
 * in one transaction per slot (SKU id modulo shards: one backend of a sharded database), in id order within a slot. A
 * place is given only once every shipment before it is committed and placed, so a shipper polling by place never
 * passes one it has not seen (sql/008); a failure between the steps leaves a gap in the places, never a place given
 * twice (shipments.c says why).
 */
int lb_store_shipments_sequence(lb_db_t *db, size_t limit, unsigned shards, size_t *sequenced);
/* A page of the feed: places after `after`, at most limit rows (out holds that many), payloads included. */
int lb_store_shipments_page(lb_db_t *db, int64_t after, int64_t limit, lb_shipment_row_t *out, size_t *found);

#endif
