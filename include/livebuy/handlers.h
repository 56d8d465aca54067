/* The HTTP handlers, one file per resource in handlers/; the route table in handlers/routes.c names them. */
#ifndef LIVEBUY_HANDLERS_H
#define LIVEBUY_HANDLERS_H

#include "livebuy/base/token.h"
#include "livebuy/http/bodies.h"
#include "livebuy/http/call.h"
#include "livebuy/model/live.h"
#include "livebuy/model/merchant.h"
#include "livebuy/model/offer.h"
#include "livebuy/model/order.h"
#include "livebuy/model/product_image.h"
#include "livebuy/model/refund.h"
#include "livebuy/model/sku.h"
#include "livebuy/order/payment.h"

/* The route table (handlers/routes.c) and its size; metrics labels follow its order. */
extern const lb_route_t lb_routes[];
extern const size_t lb_num_routes;

/* handlers/ops.c */
void lb_handle_healthz(lb_call_t *call);
void lb_handle_readyz(lb_call_t *call);
void lb_handle_metrics(lb_call_t *call);

/* handlers/merchants.c */
void lb_handle_merchant_create(lb_call_t *call);

/*
 * handlers/products.c; lb_product_write: a product with its SKUs (skus[0..num_skus)) and its first photo's URL as every
 * answer shows it (its own map), with its photos (images[0..num_images)) unless images is NULL (the merchant's list).
 */
void lb_product_write(lb_writer_t *w, const lb_product_record_t *product, const lb_sku_t *skus, size_t num_skus,
                      const lb_product_image_t *images, size_t num_images);
void lb_handle_product_create(lb_call_t *call);
void lb_handle_product_get(lb_call_t *call);
void lb_handle_product_patch(lb_call_t *call);
void lb_handle_product_retire(lb_call_t *call);

/*
 * handlers/images.c. lb_photo_write: a photo's URL ("/media/" and its file name, livebuy/store/media.h) under key, or
 * null when name is empty (no photo). lb_product_image_write: a photo as every answer shows it (its own map);
 * lb_product_images_write: "images", a product's photos in order.
 */
void lb_photo_write(lb_writer_t *w, const char *key, const char *name);
void lb_product_image_write(lb_writer_t *w, const lb_product_image_t *image);
void lb_product_images_write(lb_writer_t *w, const lb_product_image_t *images, size_t n);
void lb_handle_product_image_upload(lb_call_t *call);
void lb_handle_product_image_move(lb_call_t *call);
void lb_handle_product_image_delete(lb_call_t *call);

/* handlers/merchant_products.c */
void lb_handle_merchant_products(lb_call_t *call);

/*
 * handlers/skus.c. lb_sku_write: a SKU's fields as its answers show them, into the open map. On a worker, for the SKU's
 * routes: lb_sku_answer answers 200 the SKU alone with its product's first photo (photo_url, read here); lb_sku_refused records the 404 or 403 of an LB_ENOTFOUND or
 * LB_EFORBIDDEN about SKU sku_id (and returns other codes as they are); lb_sku_merchant is the co-op or host whose token
 * hashes to token_hash (else a 401 or 403 recorded, as lb_auth_merchant); lb_sku_merchant_to_change is that merchant
 * when SKU {id} can be changed at all: a SKU of a product still in the making (server/store/product_create.c) is
 * nobody's yet, a 404 recorded, as its reads answer. lb_sku_stock_changed, a job's on_done on the loop thread: the
 * lanes of the SKU {id} drop their sold-out hints.
 */
void lb_sku_write(lb_writer_t *w, const lb_sku_t *sku);
int lb_sku_answer(lb_call_job_t *job, lb_db_t *db, const lb_sku_t *sku);
int lb_sku_refused(lb_call_job_t *job, int ret, int64_t sku_id);
int lb_sku_merchant(lb_call_job_t *job, lb_db_t *db, const uint8_t token_hash[LB_TOKEN_HASH_SIZE], lb_merchant_t *merchant);
int lb_sku_merchant_to_change(lb_call_job_t *job, lb_db_t *db, const uint8_t token_hash[LB_TOKEN_HASH_SIZE],
                              lb_merchant_t *merchant);
void lb_sku_stock_changed(lb_call_job_t *job);
void lb_handle_sku_get(lb_call_t *call);
void lb_handle_sku_restock(lb_call_t *call);
void lb_handle_sku_patch(lb_call_t *call);
void lb_handle_sku_retire(lb_call_t *call);

/* handlers/ledger.c */
void lb_handle_sku_adjust(lb_call_t *call);
void lb_handle_sku_ledger(lb_call_t *call);

/* handlers/orders.c */
void lb_handle_order_create(lb_call_t *call);

/*
 * handlers/lives.c; lb_live_of_host: on a worker, the live live_id when the merchant whose token hashes to token_hash
 * is its host; otherwise a 401, 403 or 404 answer recorded in job and LB_EINPUT (or an LB_EDB_* code).
 */
int lb_live_of_host(lb_call_job_t *job, lb_db_t *db, const uint8_t token_hash[LB_TOKEN_HASH_SIZE], int64_t live_id,
                    lb_live_t *live);
void lb_handle_live_create(lb_call_t *call);
void lb_handle_lives_list(lb_call_t *call);
void lb_handle_live_item_create(lb_call_t *call);
void lb_handle_live_get(lb_call_t *call);
void lb_handle_live_item_close(lb_call_t *call);

/* handlers/stock.c */
void lb_handle_live_stock(lb_call_t *call);
void lb_handle_live_sales_stream(lb_call_t *call);

/*
 * handlers/orders_read.c; lb_order_write: opens the map of an order as every answer shows it (GET /v1/orders/{id}, the
 * lists, cancel, refund): its row and its details (lb_store_orders_details), for the caller to end after fields of its
 * own.
 */
void lb_order_write(lb_writer_t *w, const lb_order_t *order, const lb_order_details_t *details);
void lb_handle_order_get(lb_call_t *call);
/*
 * handlers/orders_csv.c: a page of a merchant's orders (and their details) as a CSV file of its own, into out: the
 * UTF-8 byte order mark, the header row, a row per order (docs/api.md, "Orders as CSV").
 */
void lb_orders_csv_write(lb_buffer_t *out, const lb_order_t *orders, const lb_order_details_t *details, size_t n);
void lb_handle_buyer_orders(lb_call_t *call);
void lb_handle_order_cancel(lb_call_t *call);
void lb_handle_merchant_orders(lb_call_t *call);

/* handlers/sales.c */
void lb_handle_merchant_sales(lb_call_t *call);

/* handlers/merchant_skus.c */
void lb_handle_merchant_skus(lb_call_t *call);

/* handlers/group_buys.c */
void lb_handle_pickup_point_create(lb_call_t *call);
void lb_handle_pickup_points_list(lb_call_t *call);
void lb_handle_pickup_point_get(lb_call_t *call);
void lb_handle_pickup_point_bind(lb_call_t *call);
void lb_handle_group_buy_create(lb_call_t *call);
void lb_handle_group_buys_list(lb_call_t *call);
void lb_handle_group_buy_get(lb_call_t *call);

/* handlers/stations.c */
void lb_handle_station_shipments(lb_call_t *call);
void lb_handle_pick_list(lb_call_t *call);
void lb_handle_shipment_collect(lb_call_t *call);

/* handlers/offers.c; lb_offer_write: an offer as every answer shows it (its own map), "current" as of now. */
void lb_offer_write(lb_writer_t *w, const lb_offer_t *offer, int64_t now);
void lb_handle_offer_create(lb_call_t *call);
void lb_handle_offers_list(lb_call_t *call);
void lb_handle_offer_get(lb_call_t *call);
void lb_handle_offer_accept(lb_call_t *call);
void lb_handle_offer_decline(lb_call_t *call);
void lb_handle_offer_end(lb_call_t *call);

/* handlers/holds.c; lb_hold_write: a live item's fields with its live and host, as holds and sales show them, into the
 * open map. */
void lb_hold_write(lb_writer_t *w, const lb_hold_t *hold);
void lb_handle_merchant_holds(lb_call_t *call);

/*
 * handlers/payments.c. lb_payment_submit: applies a provider's word that an order is paid (notice's order_id,
 * provider_txn_id and amount_cents; the transaction id is copied) exactly as POST /v1/payments/notify does, through the
 * order's SKU action lane (server/order/payment.c decides), counts what was decided in /metrics and calls answer once,
 * on the loop thread: status 0 and the payment as decided, or an LB_E* code when nothing was decided (the provider
 * should send it again). The call is kept until then.
 */
typedef void (*lb_payment_answer_cb)(lb_call_t *call, int status, const lb_payment_t *payment);
void lb_payment_submit(lb_call_t *call, const lb_payment_t *notice, lb_payment_answer_cb answer);
void lb_handle_payment_notify(lb_call_t *call);

/*
 * handlers/refunds.c; lb_refund_write: a refund as the co-op's list and decisions show it (a whole map).
 */
void lb_refund_write(lb_writer_t *w, const lb_refund_t *refund);
void lb_handle_order_refund(lb_call_t *call);
void lb_handle_merchant_refunds(lb_call_t *call);
void lb_handle_refund_approve(lb_call_t *call);
void lb_handle_refund_reject(lb_call_t *call);
void lb_handle_refund_retry(lb_call_t *call);
void lb_handle_refund_notify(lb_call_t *call);

/* handlers/sandbox.c (LB_ROUTE_SANDBOX: only with --payment-sandbox) */
void lb_handle_sandbox_pay(lb_call_t *call);
void lb_handle_sandbox_refund(lb_call_t *call);

/* handlers/wechatpay.c: WeChat Pay API v3 notifications (--payment-provider wechatpay). */
void lb_handle_wechatpay_notify(lb_call_t *call);

/* handlers/shipments.c */
void lb_handle_shipments_feed(lb_call_t *call);
void lb_handle_shipment_event(lb_call_t *call);

#endif
