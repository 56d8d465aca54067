/* The route matcher (livebuy/http/router.h): literal segments and one kind of variable, a positive decimal id ({id}, {image_id},
 * ...). */
#include <stdio.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/base/request.h"
#include "livebuy/http/router.h"

/*
 * Does path match pattern? Sets ids[0..LB_ROUTE_MAX_IDS) from its {...} segments, in order. One pass that stops at
 * the first differing byte.
 */
static int path_matches(const char *pattern, const char *path, const char *path_end, int64_t *ids)
{
    size_t num_ids = 0;
    while (*pattern != '\0') {
        if (*pattern == '{') {
            const char *id_end = memchr(path, '/', (size_t)(path_end - path));
            if (id_end == NULL)
                id_end = path_end;
            if (num_ids == LB_ROUTE_MAX_IDS || (ids[num_ids++] = lb_request_id(path, (size_t)(id_end - path))) == 0)
                return 0;
            pattern = strchr(pattern, '}') + 1;
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

int lb_router_match(const lb_route_t *routes, size_t num_routes, const char *method, size_t method_len, const char *path,
                    size_t path_len, int64_t ids[LB_ROUTE_MAX_IDS])
{
    int result = LB_ENOTFOUND;
    for (size_t i = 0; i != num_routes; ++i) {
        memset(ids, 0, LB_ROUTE_MAX_IDS * sizeof(*ids));
        if (!path_matches(routes[i].pattern, path, path + path_len, ids))
            continue;
        if (strlen(routes[i].method) == method_len && memcmp(routes[i].method, method, method_len) == 0)
            return (int)i;
        /* HEAD is answered like GET (h2o drops the body). */
        if (method_len == 4 && memcmp(method, "HEAD", 4) == 0 && strcmp(routes[i].method, "GET") == 0)
            return (int)i;
        result = LB_EMETHOD;
    }
    return result;
}

int lb_router_first(const lb_route_t *routes, size_t num_routes, const char *path, size_t path_len)
{
    int64_t ids[LB_ROUTE_MAX_IDS];
    for (size_t i = 0; i != num_routes; ++i)
        if (path_matches(routes[i].pattern, path, path + path_len, ids))
            return (int)i;
    return LB_ENOTFOUND;
}

/* Appends ", " (unless first) and method to out, which holds len bytes of size: 0, or -1 when it does not fit whole. */
static int append_method(char *out, size_t size, size_t *len, const char *method)
{
    int n = snprintf(out + *len, size - *len, "%s%s", *len != 0 ? ", " : "", method);
    if (n < 0 || (size_t)n >= size - *len) {
        out[*len] = '\0';
        return -1;
    }
    *len += (size_t)n;
    return 0;
}

size_t lb_router_allow(const lb_route_t *routes, size_t num_routes, const char *path, size_t path_len, char *out, size_t size,
                       unsigned *flags)
{
    int64_t ids[LB_ROUTE_MAX_IDS];
    size_t num = 0, len = 0;
    out[0] = '\0';
    *flags = 0;
    for (size_t i = 0; i != num_routes; ++i) {
        if (!path_matches(routes[i].pattern, path, path + path_len, ids))
            continue;
        *flags |= routes[i].flags;
        int is_get = strcmp(routes[i].method, "GET") == 0;
        if (append_method(out, size, &len, is_get ? "GET, HEAD" : routes[i].method) != 0)
            return num;
        num += is_get ? 2 : 1;
    }
    /* OPTIONS is answered on every path a route takes (livebuy/http/cors.h) */
    if (num != 0 && append_method(out, size, &len, "OPTIONS") == 0)
        ++num;
    return num;
}

/* Is [name, name + len) one of the comma-separated names of allowed (NULL: none)? */
static int query_name_allowed(const char *allowed, const char *name, size_t len)
{
    for (const char *p = allowed; p != NULL && *p != '\0';) {
        const char *comma = strchr(p, ','), *end = comma != NULL ? comma : p + strlen(p);
        if ((size_t)(end - p) == len && memcmp(p, name, len) == 0)
            return 1;
        p = comma != NULL ? comma + 1 : NULL;
    }
    return 0;
}

/* The name of the parameter that starts at p (up to '=' or the parameter's end). */
static size_t query_name_len(const char *p, const char *param_end)
{
    const char *eq = memchr(p, '=', (size_t)(param_end - p));
    return (size_t)((eq != NULL ? eq : param_end) - p);
}

int lb_router_query_check(const char *allowed, const char *query, size_t len, const char **name, size_t *name_len)
{
    const char *end = query + len;
    for (const char *p = query; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *param_end = amp != NULL ? amp : end;
        size_t n = query_name_len(p, param_end);
        *name = p;
        *name_len = n;
        if (param_end != p && !query_name_allowed(allowed, p, n))
            return LB_QUERY_UNKNOWN;
        /* a later parameter of the same name: the parameters are few, so a scan of the rest */
        for (const char *q = param_end + 1; param_end != p && q < end;) {
            const char *q_amp = memchr(q, '&', (size_t)(end - q)), *q_end = q_amp != NULL ? q_amp : end;
            if (query_name_len(q, q_end) == n && memcmp(q, p, n) == 0)
                return LB_QUERY_REPEATED;
            q = q_end + 1;
        }
        p = param_end + 1;
    }
    return 0;
}
