/* Products and their SKUs, with the counters the order path moves units between. */
#ifndef LIVEBUY_MODEL_SKU_H
#define LIVEBUY_MODEL_SKU_H

#include <stdint.h>
#include "livebuy/base/image.h"
#include "livebuy/model/text.h"

/* The most stock a SKU may have. */
#define LB_STOCK_MAX 1000000000000LL

typedef struct st_lb_sku_t {
    int64_t id, product_id, merchant_id;
    char name[LB_TEXT_SIZE(200)];
    int64_t price_cents, weight_grams;
    int64_t stock, reserved, sold;
    int64_t held;       /* set aside for live items' quotas */
    int64_t retired_at; /* 0: on sale; else when it was retired (no new orders, items, offers or group-buys) */
} lb_sku_t;

/* What can still be ordered straight from the SKU. */
#define LB_SKU_AVAILABLE(sku) ((sku)->stock - (sku)->reserved - (sku)->sold - (sku)->held)

/* A product as a co-op lists it; the strings belong to the caller. */
typedef struct st_lb_product_t {
    const char *title, *unit, *origin, *description; /* description NULL: none */
    int cold_chain;
} lb_product_t;

/* The longest description of a product, in characters (products.description). */
#define LB_DESCRIPTION_MAX 2000

/* A product as it is stored (GET /v1/products/{id}); retired_at and updated_at 0 when never. */
typedef struct st_lb_product_record_t {
    int64_t id, merchant_id;
    char title[LB_TEXT_SIZE(200)], unit[LB_TEXT_SIZE(32)], origin[LB_TEXT_SIZE(200)];
    char description[LB_TEXT_SIZE(LB_DESCRIPTION_MAX)];
    int64_t cold_chain, created_at, updated_at, retired_at;
    char photo[LB_IMAGE_NAME_SIZE]; /* its first photo's file name, "" when it has none (read only) */
} lb_product_record_t;

/*
 * A change of a product or a SKU (PATCH): the fields given, NULL (strings) or -1 (numbers) for those left alone. The
 * strings belong to the caller.
 */
typedef struct st_lb_product_patch_t {
    const char *title, *unit, *origin, *description;
    int cold_chain;
} lb_product_patch_t;
typedef struct st_lb_sku_patch_t {
    const char *name;
    int64_t price_cents, weight_grams;
} lb_sku_patch_t;

/* A SKU with its product's title, unit and cold-chain flag (the co-op dashboard's list). */
typedef struct st_lb_merchant_sku_t {
    lb_sku_t sku;
    char title[LB_TEXT_SIZE(200)], unit[LB_TEXT_SIZE(32)];
    int64_t cold_chain;
} lb_merchant_sku_t;

#endif
