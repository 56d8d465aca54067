/*
 * Pure readers of an HTTP request's text: the framing headers of an HTTP/1.x head, NUL in a path, the query string, a
 * decimal id or number, the bearer token; and the hex digits of the ids the server makes for requests. No h2o here, no
 * allocation: the call layer (livebuy/http/call.h) reads requests through these, and the fuzz targets (tests/fuzz/)
 * call them directly.
 */
#ifndef LIVEBUY_REQUEST_H
#define LIVEBUY_REQUEST_H

#include <stddef.h>
#include <stdint.h>

/* The headers of an HTTP/1.x head that say where its body ends, counted. */
typedef struct st_lb_request_framing_t {
    unsigned content_length;    /* Content-Length lines */
    unsigned transfer_encoding; /* Transfer-Encoding lines */
} lb_request_framing_t;

/*
 * Counts the framing headers of the request head at the start of bytes (len bytes; the head ends at its first empty
 * line, and what follows it is not read; a head cut short is counted as far as it goes). Lines end in LF or CRLF; a name
 * is matched case-insensitively up to its colon, as h2o's parser takes it.
 */
void lb_request_framing(const char *bytes, size_t len, lb_request_framing_t *framing);
/*
 * Why a request with this framing is refused (400, and its connection closed, since where its body ends is in doubt),
 * or NULL when it is not: more than one Content-Length or Transfer-Encoding, or both at once. h2o 2.2.5 takes the first
 * Content-Length and lets a Transfer-Encoding win over it: a proxy in front that reads them otherwise would see
 * another request in the same bytes (request smuggling).
 */
const char *lb_request_framing_refusal(const lb_request_framing_t *framing);

/*
 * Does the request target (path and query, len bytes) hold a NUL byte, or a %00 in its path (before '?')? h2o decodes
 * %00 into the path it serves files from, where the C string ends at it: /web/shop.html%00.js would be shop.html.
 */
int lb_request_path_has_nul(const char *target, size_t len);

/*
 * Parses a positive int64 from [p, p+len), as an {id} of a path is written: digits only, no sign, no leading zero, at
 * most INT64_MAX. Returns it, or 0 when the text is not one.
 */
int64_t lb_request_id(const char *p, size_t len);
/* Parses a non-negative decimal integer from [p, p+len), digits only (leading zeros allowed): 0, or LB_EINPUT when the
 * text is empty, holds anything else or is above INT64_MAX. */
int lb_request_decimal(const char *p, size_t len, int64_t *out);

/*
 * The raw value of parameter name in query (the text after '?', len bytes; parameters separated by '&', each
 * NAME=VALUE): 0 with *value and *value_len (not decoded; it points into query), or LB_ENOTFOUND. The first of that name
 * wins; a parameter without '=' has no value and is not found.
 */
int lb_request_query(const char *query, size_t len, const char *name, const char **value, size_t *value_len);

/* A header value that must be 1 to max printable ASCII characters (0x20-0x7e), as an Idempotency-Key: 0, or LB_EINPUT. */
int lb_request_printable(const char *value, size_t len, size_t max);

/*
 * The token of an Authorization value "Bearer TOKEN" (scheme case-insensitive, blanks before the token skipped): 0 with
 * *token and *token_len (pointing into value), or LB_EAUTH when the value is not one or the token is empty.
 */
int lb_request_bearer(const char *value, size_t len, const char **token, size_t *token_len);

/*
 * Writes value in lower-case hex, at least min_digits (at most 16) digits, not terminated; returns the end. The request
 * ids and the server's idempotency keys are made with it, without printf's cost on every request.
 */
char *lb_request_put_hex(char *out, uint64_t value, int min_digits);
/*
 * Writes value in decimal, at least min_digits (at most 20) digits after a '-' if negative (as printf's "%.*lld"), not
 * terminated; returns the end. Orders' request hashes and the access log's numbers are written with it.
 */
char *lb_request_put_decimal(char *out, int64_t value, int min_digits);

#endif
