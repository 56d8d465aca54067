/* The route table: every route of the API and the handler that serves it. */
#include "livebuy/handlers.h"

const lb_route_t lb_routes[] = {
    /* The hot path first: the matcher tries the patterns in order (no two patterns match the same path). */
    {"POST", "/v1/orders", lb_handle_order_create, LB_ROUTE_BODY, NULL},
    {"GET", "/healthz", lb_handle_healthz, 0, NULL},
    {"GET", "/readyz", lb_handle_readyz, 0, NULL},
    {"GET", "/metrics", lb_handle_metrics, 0, NULL},
    {"POST", "/v1/merchants", lb_handle_merchant_create, LB_ROUTE_BODY, NULL},
    {"POST", "/v1/products", lb_handle_product_create, LB_ROUTE_BODY, NULL},
    {"GET", "/v1/skus/{id}", lb_handle_sku_get, LB_ROUTE_PUBLIC, NULL},
    {"POST", "/v1/skus/{id}/restock", lb_handle_sku_restock, LB_ROUTE_BODY, NULL},
    {"POST", "/v1/lives", lb_handle_live_create, LB_ROUTE_BODY, NULL},
    {"GET", "/v1/lives", lb_handle_lives_list, 0, NULL},
    {"POST", "/v1/lives/{id}/items", lb_handle_live_item_create, LB_ROUTE_BODY, NULL},
    {"GET", "/v1/lives/{id}", lb_handle_live_get, LB_ROUTE_PUBLIC, NULL},
    {"POST", "/v1/live-items/{id}/close", lb_handle_live_item_close, 0, NULL},
    {"GET", "/v1/lives/{id}/stock", lb_handle_live_stock, 0, NULL},
    {"GET", "/v1/lives/{id}/sales/stream", lb_handle_live_sales_stream, 0, NULL},
    {"GET", "/v1/orders", lb_handle_buyer_orders, 0, NULL},
    {"GET", "/v1/orders/{id}", lb_handle_order_get, 0, NULL},
    {"POST", "/v1/orders/{id}/cancel", lb_handle_order_cancel, 0, NULL},
    /* Its body ({"reason"}) is optional: read by the handler when there is one. */
    {"POST", "/v1/orders/{id}/refund", lb_handle_order_refund, 0, NULL},
    {"GET", "/v1/merchant/orders", lb_handle_merchant_orders, 0, NULL},
    {"GET", "/v1/merchant/skus", lb_handle_merchant_skus, 0, NULL},
    {"GET", "/v1/merchant/holds", lb_handle_merchant_holds, 0, NULL},
    {"POST", "/v1/offers", lb_handle_offer_create, LB_ROUTE_BODY, NULL},
    {"GET", "/v1/offers", lb_handle_offers_list, 0, NULL},
    {"GET", "/v1/offers/{id}", lb_handle_offer_get, 0, NULL},
    {"POST", "/v1/offers/{id}/accept", lb_handle_offer_accept, 0, NULL},
    {"POST", "/v1/offers/{id}/decline", lb_handle_offer_decline, 0, NULL},
    {"POST", "/v1/offers/{id}/end", lb_handle_offer_end, 0, NULL},
    {"GET", "/v1/merchant/sales", lb_handle_merchant_sales, 0, NULL},
    {"GET", "/v1/merchant/refunds", lb_handle_merchant_refunds, 0, NULL},
    {"POST", "/v1/refunds/{id}/approve", lb_handle_refund_approve, 0, NULL},
    {"POST", "/v1/refunds/{id}/reject", lb_handle_refund_reject, 0, NULL},
    {"POST", "/v1/refunds/{id}/retry", lb_handle_refund_retry, 0, NULL},
    {"POST", "/v1/pickup-points", lb_handle_pickup_point_create, LB_ROUTE_BODY, NULL},
    {"GET", "/v1/pickup-points", lb_handle_pickup_points_list, 0, NULL},
    {"GET", "/v1/pickup-points/{id}", lb_handle_pickup_point_get, 0, NULL},
    {"PATCH", "/v1/pickup-points/{id}", lb_handle_pickup_point_bind, LB_ROUTE_BODY, NULL},
    {"POST", "/v1/group-buys", lb_handle_group_buy_create, LB_ROUTE_BODY, NULL},
    {"GET", "/v1/group-buys", lb_handle_group_buys_list, 0, NULL},
    {"GET", "/v1/group-buys/{id}", lb_handle_group_buy_get, LB_ROUTE_PUBLIC, NULL},
    /* No LB_ROUTE_BODY: the signature covers the raw body, checked before it is decoded. */
    {"POST", "/v1/payments/notify", lb_handle_payment_notify, 0, NULL},
    /* Signed in WeChat Pay's own way (handlers/wechatpay.c): no LB_ROUTE_BODY either. */
    {"POST", "/v1/payments/wechatpay/notify", lb_handle_wechatpay_notify, 0, NULL},
    /* Signed like payment notifies: no LB_ROUTE_BODY. */
    {"POST", "/v1/refunds/notify", lb_handle_refund_notify, 0, NULL},
    {"GET", "/v1/shipments/feed", lb_handle_shipments_feed, 0, NULL},
    /* Signed like payment notifies: no LB_ROUTE_BODY. */
    {"POST", "/v1/shipments/{id}/events", lb_handle_shipment_event, 0, NULL},
    {"GET", "/v1/station/shipments", lb_handle_station_shipments, 0, NULL},
    {"GET", "/v1/shipments/{id}/pick-list", lb_handle_pick_list, 0, NULL},
    {"POST", "/v1/shipments/{id}/collect", lb_handle_shipment_collect, LB_ROUTE_BODY, NULL},
    /* The payment sandbox: 404 unless --payment-sandbox. The refund receiver is signed: no LB_ROUTE_BODY. */
    {"POST", "/sandbox/pay/{id}", lb_handle_sandbox_pay, LB_ROUTE_BODY | LB_ROUTE_SANDBOX, NULL},
    {"POST", "/sandbox/refunds", lb_handle_sandbox_refund, LB_ROUTE_SANDBOX, NULL},
};
const size_t lb_num_routes = sizeof(lb_routes) / sizeof(lb_routes[0]);
