/*
 * The catalog's statements: merchants, products, SKUs and their counters. Like every store function, each runs on a
 * worker thread with that thread's connection (livebuy/db/db.h) and returns 0 or an LB_E* code (livebuy/common.h): a
 * row that is not there is LB_ENOTFOUND.
 */
#ifndef LIVEBUY_STORE_CATALOG_H
#define LIVEBUY_STORE_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/base/token.h"
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/merchant.h"
#include "livebuy/model/sku.h"

/* A trivial round trip: is the database there? */
int lb_store_ping(lb_db_t *db);

int lb_store_merchant_create(lb_db_t *db, const char *name, lb_merchant_kind_t kind, const uint8_t token_hash[LB_TOKEN_HASH_SIZE],
                             int64_t *id);
/* *merchant when a merchant has this token hash; LB_ENOTFOUND when none has. */
int lb_store_merchant_by_token(lb_db_t *db, const uint8_t token_hash[LB_TOKEN_HASH_SIZE], lb_merchant_t *merchant);

/* *merchant (its id and kind), or LB_ENOTFOUND. */
int lb_store_merchant_get(lb_db_t *db, int64_t id, lb_merchant_t *merchant);

/*
 * Makes a product with its SKUs, each SKU's ledger opened with its stock (an opening entry by merchant_id), in steps
 * that each write one database of a sharded deployment: the product hidden, each SKU, then the product published
 * (product_create.c says why, and what a failure leaves). *product_id: 0 on a job's first run; the product's id once it
 * is known, for the caller to keep and pass again when it runs the job again after a lost connection (LB_EDB_DOWN):
 * that run goes on with it, or finds it published (0). A hidden product the merchant left (a crash) is completed when
 * the same is asked again (its id is then the answer), else removed. LB_EBUSY when another product of the merchant was
 * in the making all along (10 s).
 * idem_key: the merchant's Idempotency-Key for this product, or NULL. When a product of the merchant holds it already
 * and asked the same, nothing is made: *product_id is that product and *replayed is set to 1 (left alone otherwise;
 * pass it again with *product_id on a run again); when it asked otherwise, LB_ECONFLICT and nothing changed.
 */
int lb_store_product_create(lb_db_t *db, int64_t merchant_id, const lb_product_t *product, const lb_sku_t *skus, size_t num_skus,
                            const char *idem_key, int64_t *product_id, int *replayed);

/* *sku, or LB_ENOTFOUND (also for a SKU of a product still in the making: lb_store_product_create). */
int lb_store_sku_get(lb_db_t *db, int64_t id, lb_sku_t *sku);
/*
 * Locks the SKU row (FOR UPDATE) and reads it, or LB_ENOTFOUND. Every transaction that changes a SKU's units takes this
 * lock before any order, live item or campaign row (one batch = one transaction on one SKU; see server/order/reserve.c);
 * only an offer row comes before it, in live item creation and closing, which the order path never locks
 * (store/offers.h).
 */
int lb_store_sku_lock(lb_db_t *db, int64_t id, lb_sku_t *sku);
/*
 * Locks the rows of the SKUs ids[0..n) (distinct, ascending: the order the rows are locked in) in one statement and reads
 * them into skus[0..n); skus[i].id is 0 when there is no SKU ids[i].
 */
int lb_store_skus_lock(lb_db_t *db, const int64_t *ids, size_t n, lb_sku_t *skus);
/* Moves units between the SKU's counters after a batch: reserved += reserved_delta, held -= from_held. */
int lb_store_sku_add_reserved(lb_db_t *db, int64_t sku_id, int64_t reserved_delta, int64_t from_held, int64_t now);
/* What a reservation transaction moves on one SKU's counters (lb_store_skus_add_reserved). */
typedef struct st_lb_sku_reserved_t {
    int64_t sku_id, reserved, from_held;
} lb_sku_reserved_t;
/* The same for several SKUs (distinct) in one statement. */
int lb_store_skus_add_reserved(lb_db_t *db, const lb_sku_reserved_t *adds, size_t n, int64_t now);
/* The general move behind it: each counter += its delta (payment moves reserved or held units to sold). */
int lb_store_sku_add_counts(lb_db_t *db, int64_t sku_id, int64_t reserved, int64_t sold, int64_t held, int64_t now);
/* A move of one SKU's reserved, sold and held (lb_store_skus_add_counts). */
typedef struct st_lb_sku_counts_t {
    int64_t sku_id, reserved, sold, held;
} lb_sku_counts_t;
/* The moves of several SKUs (distinct) in one round trip (bulk execution). */
int lb_store_skus_add_counts(lb_db_t *db, const lb_sku_counts_t *adds, size_t n, int64_t now);
/* What a shipment says about a SKU: the product's title and the SKU's name, and whether it travels cold. */
int lb_store_sku_shipping(lb_db_t *db, int64_t sku_id, char title[LB_TEXT_SIZE(401)], int64_t *cold_chain);
typedef struct st_lb_sku_shipping_t {
    int64_t sku_id; /* 0: no such SKU */
    char title[LB_TEXT_SIZE(401)];
    int64_t cold_chain;
} lb_sku_shipping_t;
/* The same for ids[0..n) (ascending, distinct) in one statement, into out[i] for ids[i]. */
int lb_store_skus_shipping(lb_db_t *db, const int64_t *ids, size_t n, lb_sku_shipping_t *out);

/* The merchant's SKU ids, by id, into *skus (malloc'd, the caller frees it, also on error). */
int lb_store_merchant_sku_ids(lb_db_t *db, int64_t merchant_id, int64_t **skus, size_t *n);
/* A page of a merchant's SKUs by id, after `after`, at most limit (out must hold that many); *found gets the count. */
int lb_store_merchant_skus(lb_db_t *db, int64_t merchant_id, int64_t after, int64_t limit, lb_merchant_sku_t *out, size_t *found);

#endif
