/*
 * The route table's type and its matcher: literal segments and one kind of variable, a positive decimal id ({id}, {image_id}). No
 * h2o here (a call is only named), so the matcher runs, and is fuzzed (tests/fuzz/fuzz_router.c), on its own.
 */
#ifndef LIVEBUY_ROUTER_H
#define LIVEBUY_ROUTER_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/base/image.h"

typedef struct st_lb_call_t lb_call_t;
typedef void (*lb_handler_cb)(lb_call_t *call);

/* Route flags. */
#define LB_ROUTE_BODY    1 /* the handler reads a body (decoded into call->body first; 415/400 answered without it) */
#define LB_ROUTE_PUBLIC  2 /* a public GET whose 200 answers anonymous readers may get again for 250 ms (call.c) */
#define LB_ROUTE_SANDBOX 4 /* a route of the payment sandbox: there only with --payment-sandbox, else 404 like no route */
#define LB_ROUTE_UPLOAD  8 /* the body is a file's bytes (read by the handler), up to LB_UPLOAD_MAX_BODY, not --max-body */
/* Who the route is for: a refusal of its query or body waits for the credential's check (lb_auth_refuse), so that a
 * caller without a good one gets 401, not a word on the input. */
#define LB_ROUTE_ADMIN    16 /* the admin token */
#define LB_ROUTE_BUYER    32 /* a buyer token */
#define LB_ROUTE_MERCHANT 64 /* a merchant token (looked up in the database) */
/* Signed callbacks: a preflight names the signature headers the route reads (livebuy/http/cors.h). */
#define LB_ROUTE_SIGNED    128 /* X-Livebuy-Timestamp and X-Livebuy-Signature (livebuy/base/token.h) */
#define LB_ROUTE_WECHATPAY 256 /* WeChat Pay's Wechatpay-Timestamp, -Nonce, -Signature and -Serial */

/* The largest body of an LB_ROUTE_UPLOAD route: a photo (livebuy/base/image.h). */
#define LB_UPLOAD_MAX_BODY LB_IMAGE_MAX_BYTES
/* The most ids a route's path has ({id} and one more). */
#define LB_ROUTE_MAX_IDS 2

typedef struct st_lb_route_t {
    const char *method;
    /* e.g. "/v1/skus/{id}/restock": {id} matches a decimal id from 1 to 2^63-1; a second {...} (e.g. {image_id}) too */
    const char *pattern;
    lb_handler_cb handler;
    unsigned flags;
    const char *label; /* metrics label; the pattern when NULL */
    /* the query parameters the route reads, comma-separated ("status,after,limit"); NULL: none. Any other is a 400. */
    const char *query;
} lb_route_t;

/*
 * Finds the route for method and path (path without the query) in a table of num_routes, tried in order. Returns its
 * index and sets ids (0 for those the route lacks); LB_ENOTFOUND when no pattern matches (404), LB_EMETHOD when a pattern matches
 * with another method (405).
 */
int lb_router_match(const lb_route_t *routes, size_t num_routes, const char *method, size_t method_len, const char *path,
                    size_t path_len, int64_t ids[LB_ROUTE_MAX_IDS]);

/*
 * The methods path takes, for the Allow header of a 405 or of an OPTIONS answer: those of every route whose pattern
 * matches it, in table order, comma-separated, with HEAD after GET and OPTIONS last ("GET, HEAD, POST, OPTIONS");
 * written into out (size bytes, cut short at a whole method if too small). Returns the number of methods (0: no route
 * takes the path). *flags gets the LB_ROUTE_* flags of those routes, or-ed.
 */
size_t lb_router_allow(const lb_route_t *routes, size_t num_routes, const char *path, size_t path_len, char *out, size_t size,
                       unsigned *flags);

/* The index of the first route whose pattern matches path, whatever its method, or LB_ENOTFOUND: whose label a
 * preflight of the path is counted and logged under. */
int lb_router_first(const lb_route_t *routes, size_t num_routes, const char *path, size_t path_len);

/* What lb_router_query_check finds wrong with a query string. */
#define LB_QUERY_UNKNOWN  1 /* a parameter the route does not read */
#define LB_QUERY_REPEATED 2 /* a parameter given twice: which one counts would be a guess */

/*
 * Checks a query string (after the '?', len bytes) against a route's parameter names (lb_route_t.query): 0 when every
 * parameter is one of them and none comes twice; else LB_QUERY_UNKNOWN or LB_QUERY_REPEATED with the parameter's name
 * (as sent, not unescaped) in *name and *name_len. Empty parameters ("a=1&&b=2", a trailing '&') are skipped.
 */
int lb_router_query_check(const char *allowed, const char *query, size_t len, const char **name, size_t *name_len);

#endif
