/* The route table and the matcher: literal segments and one kind of variable, a positive decimal {id}. */
#include <string.h>
#include "livebuy/call.h"
#include "livebuy/handlers.h"

const lb_route_t lb_routes[] = {
    /* The hot path first: the matcher tries the patterns in order (no two patterns match the same path). */
    {"POST", "/v1/orders", lb_handle_order_create, 0, NULL}, /* reads its body as fields (lb_call_read_fields) */
    {"GET", "/healthz", lb_handle_healthz, 0, NULL},
    {"GET", "/readyz", lb_handle_readyz, 0, NULL},
    {"GET", "/metrics", lb_handle_metrics, 0, NULL},
    {"POST", "/v1/merchants", lb_handle_merchant_create, LB_ROUTE_BODY, NULL},
    {"POST", "/v1/products", lb_handle_product_create, LB_ROUTE_BODY, NULL},
    {"GET", "/v1/skus/{id}", lb_handle_sku_get, LB_ROUTE_PUBLIC, NULL},
    {"POST", "/v1/skus/{id}/restock", lb_handle_sku_restock, LB_ROUTE_BODY, NULL},
    {"POST", "/v1/lives", lb_handle_live_create, LB_ROUTE_BODY, NULL},
    {"POST", "/v1/lives/{id}/items", lb_handle_live_item_create, LB_ROUTE_BODY, NULL},
    {"GET", "/v1/lives/{id}", lb_handle_live_get, LB_ROUTE_PUBLIC, NULL},
    {"POST", "/v1/live-items/{id}/close", lb_handle_live_item_close, 0, NULL},
    {"GET", "/v1/lives/{id}/stock", lb_handle_live_stock, 0, NULL},
    {"GET", "/v1/orders/{id}", lb_handle_order_get, 0, NULL},
    {"POST", "/v1/orders/{id}/cancel", lb_handle_order_cancel, 0, NULL},
    {"GET", "/v1/merchant/orders", lb_handle_merchant_orders, 0, NULL},
    {"GET", "/v1/merchant/skus", lb_handle_merchant_skus, 0, NULL},
    {"POST", "/v1/pickup-points", lb_handle_pickup_point_create, LB_ROUTE_BODY, NULL},
    {"GET", "/v1/pickup-points", lb_handle_pickup_points_list, 0, NULL},
    {"POST", "/v1/group-buys", lb_handle_group_buy_create, LB_ROUTE_BODY, NULL},
    {"GET", "/v1/group-buys/{id}", lb_handle_group_buy_get, LB_ROUTE_PUBLIC, NULL},
    /* No LB_ROUTE_BODY: the signature covers the raw body, checked before it is decoded. */
    {"POST", "/v1/payments/notify", lb_handle_payment_notify, 0, NULL},
    {"GET", "/v1/shipments/feed", lb_handle_shipments_feed, 0, NULL},
    /* Signed like payment notifies: no LB_ROUTE_BODY. */
    {"POST", "/v1/shipments/{id}/events", lb_handle_shipment_event, 0, NULL},
};
const size_t lb_num_routes = sizeof(lb_routes) / sizeof(lb_routes[0]);

/* Parses a positive int64 from [p, end) with no sign, no leading zero and no overflow; 0 when it is not one. */
static int64_t parse_id(const char *p, const char *end)
{
    int64_t id = 0;
    if (p == end || *p == '0' || end - p > 19)
        return 0;
    for (; p != end; ++p) {
        if (*p < '0' || *p > '9')
            return 0;
        int digit = *p - '0';
        if (id > (INT64_MAX - digit) / 10)
            return 0;
        id = id * 10 + digit;
    }
    return id;
}

/* Does path match pattern? Sets *id from its {id} segment. One pass that stops at the first differing byte. */
static int path_matches(const char *pattern, const char *path, const char *path_end, int64_t *id)
{
    static const char var[] = "{id}";
    while (*pattern != '\0') {
        if (*pattern == '{') {
            const char *id_end = memchr(path, '/', (size_t)(path_end - path));
            if (id_end == NULL)
                id_end = path_end;
            if ((*id = parse_id(path, id_end)) == 0)
                return 0;
            pattern += sizeof(var) - 1;
            path = id_end;
        } else if (path != path_end && *pattern == *path) {
            ++pattern;
            ++path;
        } else {
            return 0;
        }
    }
    return path == path_end;
}

int lb_router_match(const char *method, size_t method_len, const char *path, size_t path_len, int64_t *id)
{
    int result = -1;
    *id = 0;
    for (size_t i = 0; i != lb_num_routes; ++i) {
        if (!path_matches(lb_routes[i].pattern, path, path + path_len, id))
            continue;
        if (strlen(lb_routes[i].method) == method_len && memcmp(lb_routes[i].method, method, method_len) == 0)
            return (int)i;
        /* HEAD is answered like GET (h2o drops the body). */
        if (method_len == 4 && memcmp(method, "HEAD", 4) == 0 && strcmp(lb_routes[i].method, "GET") == 0)
            return (int)i;
        result = -2;
    }
    return result;
}
