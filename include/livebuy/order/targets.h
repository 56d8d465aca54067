/*
 * The order path's way in: which SKU a request draws on, and whether its target takes orders. Live items and group-buys
 * never change their SKU, times or pickup point, and pickup points never go, so each loop thread keeps what it looked up
 * (no lock: only that thread reads or writes its cache) and asks the database once per target and thread.
 */
#ifndef LIVEBUY_TARGETS_H
#define LIVEBUY_TARGETS_H

#include <uv.h>
#include "livebuy/order/order.h"

/*
 * On loop's thread, for a validated request (sku_id set for SKU orders): finds the SKU its live item or group-buy draws
 * on and checks its pickup point, from this thread's cache or by one database look-up (orders for a target that is
 * being looked up wait for that look-up rather than make their own); refuses what the cache can refuse already, by the
 * batch's own rules (lb_alloc_check_window: the same outcome whichever finds it); queues the rest in their SKU's lane.
 * request->on_decided runs exactly once: later on this thread, or from inside this call. The request must stay put
 * until then.
 */
void lb_targets_submit(uv_loop_t *loop, lb_order_request_t *request);

#endif
