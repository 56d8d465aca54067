/* The names of the model's enumerations, as the API and the schema spell them. */
#include <stddef.h>
#include "livebuy/model/group_buy.h"
#include "livebuy/model/merchant.h"
#include "livebuy/model/order.h"
#include "livebuy/model/reservation.h"
#include "livebuy/model/shipment.h"

const char *const lb_merchant_kinds[] = {"coop", "host", "shipper", "station", NULL};

const char *const lb_order_statuses[] = {"reserved",  "paid",      "handed_off", "shipped",
                                         "delivered", "expired",   "cancelled",  "refund_required",
                                         "refunded",  "collected", NULL};
const char *const lb_order_status_names_zh[] = {"待付款", "已付款", "已交物流", "运输中", "已送达", "已过期",
                                                "已取消", "待退款", "已退款",   "已取货", NULL};

const char *const lb_group_buy_statuses[] = {"open", "succeeded", "failed", NULL};

const char *const lb_delivery_event_types[] = {"picked_up", "in_transit", "delivered", NULL};

const char *const lb_order_outcome_labels[LB_OUTCOMES] = {
    [LB_OUTCOME_RESERVED] = "created",
    [LB_OUTCOME_REPLAYED] = "replayed",
    [LB_OUTCOME_KEY_REUSED] = "key_reused",
    [LB_OUTCOME_SOLD_OUT] = "sold_out",
    [LB_OUTCOME_LIMIT] = "buyer_limit",
    [LB_OUTCOME_NOT_OPEN] = "not_open",
    [LB_OUTCOME_OFF_AIR] = "off_air",
    [LB_OUTCOME_CLOSED] = "closed",
    [LB_OUTCOME_RETIRED] = "retired",
    [LB_OUTCOME_NOT_FOUND] = "not_found",
    [LB_OUTCOME_NO_PICKUP_POINT] = "no_pickup_point",
    [LB_OUTCOME_WRONG_PICKUP_POINT] = "wrong_pickup_point",
    [LB_OUTCOME_BUSY] = "busy",
    [LB_OUTCOME_UNAVAILABLE] = "unavailable",
    [LB_OUTCOME_TIMED_OUT] = "timed_out",
    [LB_OUTCOME_GONE] = "gone",
};
