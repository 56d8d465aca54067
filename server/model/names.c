/* The names of the model's enumerations, as the API and the schema spell them. */
#include <stddef.h>
#include "livebuy/model/group_buy.h"
#include "livebuy/model/merchant.h"
#include "livebuy/model/order.h"

const char *const lb_merchant_kinds[] = {"coop", "host", "shipper", "station", NULL};

const char *const lb_order_statuses[] = {"reserved",  "paid",      "handed_off", "shipped",
                                         "delivered", "expired",   "cancelled",  "refund_required",
                                         "refunded",  "collected", NULL};

const char *const lb_group_buy_statuses[] = {"open", "succeeded", "failed", NULL};
