/* CORS (livebuy/http/cors.h): an allow-list of exact origins, echoed; never "*", never credentials (no cookies here). */
#include <string.h>
#include "livebuy/http/cors.h"

/* Request headers any route may read that a browser does not send on its own: a script sets them, so a preflight must
 * name them. (Accept is safelisted.) */
#define ALLOWED_HEADERS "Authorization, Content-Type, Idempotency-Key, X-Request-Id, Cache-Control"
/* The signature headers of signed callbacks (livebuy/base/token.h), and WeChat Pay's of its notify. */
#define SIGNED_HEADERS    ", X-Livebuy-Timestamp, X-Livebuy-Signature"
#define WECHATPAY_HEADERS ", Wechatpay-Timestamp, Wechatpay-Nonce, Wechatpay-Signature, Wechatpay-Serial"
/* Answer headers a script may read beyond the safelisted ones (Content-Type, Content-Length, ...). */
#define EXPOSED_HEADERS "Idempotent-Replayed, Retry-After, X-Request-Id, Link, Content-Disposition"
/* Seconds a browser may keep a preflight's answer (Chromium keeps at most 7200): a changed list reaches pages soon. */
#define MAX_AGE "600"

/* The request's Origin when --cors-origin lists it (the listed string, which outlives the answer), else NULL. */
static const char *listed_origin(lb_call_t *call)
{
    h2o_iovec_t origin = lb_call_header_named(call, "origin");
    return origin.base != NULL ? lb_origins_find(&call->config->cors_origins, origin.base, origin.len) : NULL;
}

static int is_options(const lb_call_t *call)
{
    return h2o_memis(call->req->method.base, call->req->method.len, H2O_STRLIT("OPTIONS"));
}

void lb_cors_answering(lb_call_t *call)
{
    if (call->config->cors_origins.num == 0)
        return;
    /* Every answer may differ by Origin, also one without CORS headers: a cache between must not give it to another. */
    lb_call_add_header(call, "vary", "Origin");
    const char *origin = listed_origin(call);
    if (origin == NULL)
        return;
    lb_call_add_header(call, "access-control-allow-origin", origin);
    if (!is_options(call))
        lb_call_add_header(call, "access-control-expose-headers", EXPOSED_HEADERS);
}

void lb_cors_preflight(lb_call_t *call, const char *allow, unsigned flags)
{
    lb_call_add_header_copy(call, "allow", allow);
    if (listed_origin(call) != NULL && lb_call_header_named(call, "access-control-request-method").base != NULL) {
        lb_call_add_header_copy(call, "access-control-allow-methods", allow);
        lb_call_add_header(call, "access-control-allow-headers",
                           (flags & LB_ROUTE_WECHATPAY) != 0 ? ALLOWED_HEADERS WECHATPAY_HEADERS
                           : (flags & LB_ROUTE_SIGNED) != 0  ? ALLOWED_HEADERS SIGNED_HEADERS
                                                             : ALLOWED_HEADERS);
        lb_call_add_header(call, "access-control-max-age", MAX_AGE);
    }
    lb_reply_no_content(call);
}
