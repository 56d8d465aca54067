/* Lives (a host's broadcast) and live items (a SKU on air, with a quota set aside from its stock). */
#ifndef LIVEBUY_MODEL_LIVE_H
#define LIVEBUY_MODEL_LIVE_H

#include <stdint.h>
#include "livebuy/model/text.h"

typedef struct st_lb_live_t {
    int64_t id, merchant_id;
    char title[LB_TEXT_SIZE(200)];
    int64_t starts_at;
} lb_live_t;

typedef struct st_lb_live_item_t {
    int64_t id, live_id, sku_id;
    char title[LB_TEXT_SIZE(401)]; /* the product's title and the SKU's name (read only) */
    int64_t price_cents, quota, reserved, sold, per_buyer_limit, opens_at;
    int64_t reserve_ttl; /* seconds; 0 = the server default */
} lb_live_item_t;

/* What can still be reserved through a live item. */
#define LB_LIVE_ITEM_AVAILABLE(item) ((item)->quota - (item)->reserved - (item)->sold)

#endif
