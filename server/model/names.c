/* The names of the model's enumerations, as the API and the schema spell them. */
#include <stddef.h>
#include "livebuy/model/group_buy.h"
#include "livebuy/model/merchant.h"
#include "livebuy/model/order.h"
#include "livebuy/model/shipment.h"

const char *const lb_merchant_kinds[] = {"coop", "host", "shipper", "station", NULL};

const char *const lb_order_statuses[] = {"reserved",  "paid",      "handed_off", "shipped",
                                         "delivered", "expired",   "cancelled",  "refund_required",
                                         "refunded",  "collected", NULL};
const char *const lb_order_status_names_zh[] = {"待付款", "已付款", "已交物流", "运输中", "已送达", "已过期",
                                                "已取消", "待退款", "已退款",   "已取货", NULL};

const char *const lb_group_buy_statuses[] = {"open", "succeeded", "failed", NULL};

const char *const lb_delivery_event_types[] = {"picked_up", "in_transit", "delivered", NULL};
