/*
 * A small blocking HTTP/1.1 client (one connection per request) for the generator's setup and its correctness check:
 * a handful of sequential requests before and after the run, where simplicity beats speed.
 */
#ifndef LIVEBUY_LOAD_HTTP1_H
#define LIVEBUY_LOAD_HTTP1_H

#include <stddef.h>
#include <jansson.h>

/* Where the server is: parsed from "http://HOST:PORT" by lb_http1_parse_url. */
typedef struct st_lb_http1_target_t {
    char host[256];
    char port[8];
} lb_http1_target_t;

/* Returns 0, or -1 when url is not http://HOST[:PORT][/]. */
int lb_http1_parse_url(const char *url, lb_http1_target_t *target);

/*
 * Sends method path with an optional bearer token and an optional JSON body (not consumed). Returns the HTTP status and
 * the decoded JSON answer in *answer (the caller owns it; NULL when the body is not JSON), or -1 on a network error
 * with a reason in err.
 */
int lb_http1_json(const lb_http1_target_t *target, const char *method, const char *path, const char *token, const json_t *body,
                  json_t **answer, char *err, size_t err_size);

#endif
