/*
 * The catalogue as its merchant manages it: a product with its SKUs read, changed (PATCH) and retired. Like every store
 * function, each runs on a worker thread with that thread's connection (livebuy/db/db.h) and returns 0 or an LB_E*
 * code (livebuy/common.h). Stock changes are the ledger's (livebuy/store/ledger.h).
 */
#ifndef LIVEBUY_STORE_PRODUCTS_H
#define LIVEBUY_STORE_PRODUCTS_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/db/db.h"
#include "livebuy/model/sku.h"

/* *product, or LB_ENOTFOUND (also while it is in the making: lb_store_product_create). The reads and changes below
 * likewise leave a product in the making, and its SKUs, alone. */
int lb_store_product_get(lb_db_t *db, int64_t id, lb_product_record_t *product);
/*
 * The SKUs of the products whose ids are first..last (of merchant_id), by product then id, into *skus (malloc'd, the
 * caller frees it, also on error) and *n. For one product, first = last.
 */
int lb_store_products_skus(lb_db_t *db, int64_t merchant_id, int64_t first, int64_t last, lb_sku_t **skus, size_t *n);
/*
 * A page of merchant_id's products by id, after `after`, at most limit (out must hold that many); retired: 0 those on
 * sale, 1 those retired, -1 both.
 */
int lb_store_merchant_products(lb_db_t *db, int64_t merchant_id, int64_t after, int64_t limit, int retired,
                               lb_product_record_t *out, size_t *found);

/*
 * Changes the fields patch gives of a product of merchant_id; *product gets it after. LB_ENOTFOUND: no such product;
 * LB_EFORBIDDEN: another merchant's.
 */
int lb_store_product_patch(lb_db_t *db, int64_t id, int64_t merchant_id, const lb_product_patch_t *patch,
                           lb_product_record_t *product);
/*
 * Changes the fields patch gives of a SKU of merchant_id; *sku gets it after. The orders, live items and group-buys
 * made before keep their own prices (each has its own price_cents). LB_ENOTFOUND, LB_EFORBIDDEN as above.
 */
int lb_store_sku_patch(lb_db_t *db, int64_t id, int64_t merchant_id, const lb_sku_patch_t *patch, lb_sku_t *sku);

/*
 * Retires a SKU of merchant_id at now (once: a retired one keeps its first retired_at); *sku gets it after. The order
 * path reads retired_at with the SKU row it locks anyway. LB_ENOTFOUND, LB_EFORBIDDEN as above.
 */
int lb_store_sku_retire(lb_db_t *db, int64_t id, int64_t merchant_id, int64_t now, lb_sku_t *sku);
/* Retires a product of merchant_id and every SKU of it (the SKUs first, the product last); *product gets it after. As
 * above. */
int lb_store_product_retire(lb_db_t *db, int64_t id, int64_t merchant_id, int64_t now, lb_product_record_t *product);

#endif
