/* Lives (a host's broadcast) and live items (a SKU on air, with a quota set aside from its stock). */
#ifndef LIVEBUY_MODEL_LIVE_H
#define LIVEBUY_MODEL_LIVE_H

#include <stdint.h>
#include "livebuy/base/image.h"
#include "livebuy/model/text.h"

typedef struct st_lb_live_t {
    int64_t id, merchant_id;
    char title[LB_TEXT_SIZE(200)];
    int64_t starts_at;
} lb_live_t;

/* A live in its host's list: how many items it has put on air (closed ones too). */
typedef struct st_lb_live_summary_t {
    lb_live_t live;
    int64_t num_items;
} lb_live_summary_t;

typedef struct st_lb_live_item_t {
    int64_t id, live_id, sku_id;
    int64_t offer_id;              /* the offer it went on air under; 0 for a host's own SKU (no offer needed) */
    char title[LB_TEXT_SIZE(401)]; /* the product's title and the SKU's name (read only) */
    int64_t price_cents, quota, reserved, sold, per_buyer_limit, opens_at;
    int64_t reserve_ttl;            /* seconds; 0 = the server default */
    int closed;                     /* taken off air: its quota shrank to what was reserved and sold, it takes no more orders */
    char photo[LB_IMAGE_NAME_SIZE]; /* its product's first photo's file name, "" when none (read with the live only) */
} lb_live_item_t;

/* What can still be reserved through a live item. */
#define LB_LIVE_ITEM_AVAILABLE(item) ((item)->quota - (item)->reserved - (item)->sold)

/* A live item with its live and host: as the co-op whose SKU it holds sees it on air, and in sales listings. */
typedef struct st_lb_hold_t {
    lb_live_item_t item;
    char live_title[LB_TEXT_SIZE(200)];
    int64_t host_id;
    char host_name[LB_TEXT_SIZE(200)];
} lb_hold_t;

#endif
