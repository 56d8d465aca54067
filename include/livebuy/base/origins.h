/*
 * The web origins allowed to call the API from a browser (--cors-origin): a list of exact origins, parsed and checked at
 * start, and the lookup of a request's Origin header in it. Pure: no I/O, no h2o (livebuy/http/cors.h answers with it).
 */
#ifndef LIVEBUY_ORIGINS_H
#define LIVEBUY_ORIGINS_H

#include <stddef.h>

/* Owned by the settings (livebuy/base/config.h): filled once at start, read by every loop thread after. */
typedef struct st_lb_origins_t {
    char **list; /* each "scheme://host[:port]", exactly as a browser sends it in Origin */
    size_t num;  /* 0: no origin allowed (livebuy answers no CORS header at all) */
} lb_origins_t;

/*
 * Parses a comma-separated list of origins (spaces around entries allowed) into origins. Each entry must be what a
 * browser sends: http:// or https://, a lower-case host name or address (IPv6 in brackets), a port only when it is not
 * the scheme's default, no path, not even "/". "*" and "null" are refused. Returns 0, or LB_EINPUT with a one-line
 * reason in err and origins empty.
 */
int lb_origins_parse(lb_origins_t *origins, const char *text, char *err, size_t errsize);
void lb_origins_free(lb_origins_t *origins);

/* The listed origin equal to [origin, origin + len) (the request's Origin header, compared byte for byte), or NULL. */
const char *lb_origins_find(const lb_origins_t *origins, const char *origin, size_t len);

#endif
