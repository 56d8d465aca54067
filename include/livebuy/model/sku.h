/* Products and their SKUs, with the counters the order path moves units between. */
#ifndef LIVEBUY_MODEL_SKU_H
#define LIVEBUY_MODEL_SKU_H

#include <stdint.h>
#include "livebuy/model/text.h"

/* The most stock a SKU may have. */
#define LB_STOCK_MAX 1000000000000LL

typedef struct st_lb_sku_t {
    int64_t id, product_id, merchant_id;
    char name[LB_TEXT_SIZE(200)];
    int64_t price_cents, weight_grams;
    int64_t stock, reserved, sold;
    int64_t held; /* set aside for live items' quotas */
} lb_sku_t;

/* What can still be ordered straight from the SKU. */
#define LB_SKU_AVAILABLE(sku) ((sku)->stock - (sku)->reserved - (sku)->sold - (sku)->held)

/* A product as a co-op lists it; the strings belong to the caller. */
typedef struct st_lb_product_t {
    const char *title, *unit, *origin;
    int cold_chain;
} lb_product_t;

/* A SKU with its product's title, unit and cold-chain flag (the co-op dashboard's list). */
typedef struct st_lb_merchant_sku_t {
    lb_sku_t sku;
    char title[LB_TEXT_SIZE(200)], unit[LB_TEXT_SIZE(32)];
    int64_t cold_chain;
} lb_merchant_sku_t;

#endif
