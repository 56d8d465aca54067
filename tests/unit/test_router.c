/* Unit tests of the router: literal routes, {id} segments, 404 versus 405; and ids written back (request.h). */
#include "check.h"
#include "livebuy/common.h"
#include "livebuy/handlers.h"
#include "livebuy/base/request.h"

static int64_t sub_id;

static int match(const char *method, const char *path, int64_t *id)
{
    int64_t ids[LB_ROUTE_MAX_IDS];
    int route = lb_router_match(lb_routes, lb_num_routes, method, strlen(method), path, strlen(path), ids);
    *id = ids[0];
    sub_id = ids[1];
    return route;
}

static const char *pattern_of(int route)
{
    return route >= 0 ? lb_routes[route].pattern : "";
}

/* lb_request_put_decimal's text of v, plain and with 3 digits at least, equals printf's. */
static int decimal_as_printf(int64_t v)
{
    char ours[24], theirs[24], ours_padded[24], theirs_padded[24];
    *lb_request_put_decimal(ours, v, 1) = '\0';
    snprintf(theirs, sizeof(theirs), "%lld", (long long)v);
    *lb_request_put_decimal(ours_padded, v, 3) = '\0';
    snprintf(theirs_padded, sizeof(theirs_padded), "%.3lld", (long long)v);
    return strcmp(ours, theirs) == 0 && strcmp(ours_padded, theirs_padded) == 0;
}

int main(void)
{
    int64_t id;
    CHECK(decimal_as_printf(0) && decimal_as_printf(7) && decimal_as_printf(10) && decimal_as_printf(1000000000));
    CHECK(decimal_as_printf(INT64_MAX) && decimal_as_printf(INT64_MIN) && decimal_as_printf(-1) && decimal_as_printf(-42));
    CHECK(strcmp(pattern_of(match("GET", "/healthz", &id)), "/healthz") == 0);
    CHECK(strcmp(pattern_of(match("HEAD", "/healthz", &id)), "/healthz") == 0);
    CHECK(strcmp(pattern_of(match("GET", "/v1/skus/42", &id)), "/v1/skus/{id}") == 0 && id == 42);
    CHECK(strcmp(pattern_of(match("POST", "/v1/skus/7/restock", &id)), "/v1/skus/{id}/restock") == 0 && id == 7);
    CHECK(strcmp(pattern_of(match("GET", "/v1/skus/9223372036854775807", &id)), "/v1/skus/{id}") == 0);
    CHECK(match("GET", "/v1/skus/9223372036854775808", &id) == LB_ENOTFOUND);
    CHECK(match("GET", "/v1/skus/0", &id) == LB_ENOTFOUND);
    CHECK(match("GET", "/v1/skus/007", &id) == LB_ENOTFOUND);
    CHECK(match("GET", "/v1/skus/-1", &id) == LB_ENOTFOUND);
    CHECK(match("GET", "/v1/skus/1x", &id) == LB_ENOTFOUND);
    CHECK(match("GET", "/v1/skus/", &id) == LB_ENOTFOUND);
    CHECK(match("GET", "/v1/skus/1/restock/more", &id) == LB_ENOTFOUND);
    /* Two ids: a product's photo. */
    CHECK(strcmp(pattern_of(match("DELETE", "/v1/products/3/images/12", &id)), "/v1/products/{id}/images/{image_id}") == 0 &&
          id == 3 && sub_id == 12);
    CHECK(match("DELETE", "/v1/products/3/images/0", &id) == LB_ENOTFOUND);
    CHECK(match("DELETE", "/v1/products/3/images", &id) == LB_EMETHOD);
    CHECK(strcmp(pattern_of(match("GET", "/v1/skus/5", &id)), "/v1/skus/{id}") == 0 && sub_id == 0);
    CHECK(match("GET", "/healthz/", &id) == LB_ENOTFOUND);
    CHECK(match("DELETE", "/v1/skus/1", &id) == LB_EMETHOD);
    CHECK(match("GET", "/v1/merchants", &id) == LB_EMETHOD);
    char allow[64];
    unsigned flags;
    CHECK(lb_router_allow(lb_routes, lb_num_routes, "/v1/orders", 10, allow, sizeof(allow), &flags) == 4 &&
          strcmp(allow, "POST, GET, HEAD, OPTIONS") == 0 && (flags & LB_ROUTE_BUYER) != 0 && (flags & LB_ROUTE_SIGNED) == 0);
    CHECK(lb_router_allow(lb_routes, lb_num_routes, "/v1/skus/1", 10, allow, sizeof(allow), &flags) == 4 &&
          strcmp(allow, "GET, HEAD, PATCH, OPTIONS") == 0);
    CHECK(lb_router_allow(lb_routes, lb_num_routes, "/v1/merchants", 13, allow, sizeof(allow), &flags) == 2 &&
          strcmp(allow, "POST, OPTIONS") == 0 && flags == (LB_ROUTE_BODY | LB_ROUTE_ADMIN));
    CHECK(lb_router_allow(lb_routes, lb_num_routes, "/v1/nothing", 11, allow, sizeof(allow), &flags) == 0 && allow[0] == '\0' &&
          flags == 0);
    /* cut at whole methods: "POST, GET, HEAD" does not fit in 8 bytes, nor does ", OPTIONS" after it */
    CHECK(lb_router_allow(lb_routes, lb_num_routes, "/v1/orders", 10, allow, 8, &flags) == 1 && strcmp(allow, "POST") == 0);
    CHECK(lb_router_allow(lb_routes, lb_num_routes, "/v1/merchants", 13, allow, 12, &flags) == 1 && strcmp(allow, "POST") == 0);
    /* a preflight is counted under the path's first route */
    CHECK(strcmp(pattern_of(lb_router_first(lb_routes, lb_num_routes, "/v1/skus/1", 10)), "/v1/skus/{id}") == 0);
    CHECK(lb_router_first(lb_routes, lb_num_routes, "/v1/nothing", 11) == LB_ENOTFOUND);
    /* the signed callbacks: their preflights name the signature headers */
    CHECK(lb_router_allow(lb_routes, lb_num_routes, "/v1/payments/notify", 19, allow, sizeof(allow), &flags) == 2 &&
          (flags & LB_ROUTE_SIGNED) != 0);
    CHECK(lb_router_allow(lb_routes, lb_num_routes, "/v1/shipments/3/events", 22, allow, sizeof(allow), &flags) == 2 &&
          (flags & LB_ROUTE_SIGNED) != 0);
    CHECK(lb_router_allow(lb_routes, lb_num_routes, "/v1/payments/wechatpay/notify", 29, allow, sizeof(allow), &flags) == 2 &&
          (flags & LB_ROUTE_WECHATPAY) != 0);
    CHECK(match("GET", "/nothing", &id) == LB_ENOTFOUND);
    /* Query parameters: only the route's, each once. */
    const char *name;
    size_t name_len;
#define QUERY(allowed, q) lb_router_query_check(allowed, q, strlen(q), &name, &name_len)
    CHECK(QUERY("status,after,limit", "status=paid&after=3&limit=5") == 0);
    CHECK(QUERY("status,after,limit", "") == 0 && QUERY(NULL, "") == 0 && QUERY("mine", "mine&&") == 0);
    CHECK(QUERY("status,after,limit", "limit=5&live_id=1") == LB_QUERY_UNKNOWN && name_len == 7 && memcmp(name, "live_id", 7) == 0);
    CHECK(QUERY("status,after,limit", "stat=paid") == LB_QUERY_UNKNOWN && name_len == 4);
    CHECK(QUERY("status,after,limit", "statuses=paid") == LB_QUERY_UNKNOWN && name_len == 8);
    CHECK(QUERY("after,limit", "after") == 0 && QUERY("after,limit", "=3") == LB_QUERY_UNKNOWN && name_len == 0);
    CHECK(QUERY(NULL, "x=1") == LB_QUERY_UNKNOWN && name_len == 1 && *name == 'x');
    CHECK(QUERY("status,after", "status=paid&after=1&status=reserved") == LB_QUERY_REPEATED && name_len == 6);
    CHECK(QUERY("mine", "mine=1&mine") == LB_QUERY_REPEATED);
#undef QUERY
    return CHECK_RESULT("router");
}
