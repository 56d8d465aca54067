/*
 * libFuzzer target for the router (livebuy/http/router.h) on livebuy's own route table (handlers/routes.c; its handlers
 * are stubs here, never called): the input is METHOD\nPATH. The match is held to a plainer one that splits pattern and
 * path at their slashes and reads each {...} id with strtoll, and no path may match two patterns (routes.c's promise).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/http/router.h"
#include "fuzz_check.h"

extern const lb_route_t lb_routes[];
extern const size_t lb_num_routes;

/* An {id} segment: 1 to 19 digits without a leading zero, within int64; 0 when it is not one. */
static int64_t plain_id(const char *segment, size_t len)
{
    char text[24];
    if (len == 0 || len > 19 || segment[0] == '0')
        return 0;
    for (size_t i = 0; i != len; ++i)
        if (segment[i] < '0' || segment[i] > '9')
            return 0;
    memcpy(text, segment, len);
    text[len] = '\0';
    errno = 0;
    long long id = strtoll(text, NULL, 10);
    return errno == 0 ? (int64_t)id : 0;
}

/* Does path match pattern, segment by segment? ids[] gets the values of its {...} segments, in order. */
static int plain_match(const char *pattern, const char *path, size_t path_len, int64_t ids[LB_ROUTE_MAX_IDS])
{
    const char *end = path + path_len;
    size_t num_ids = 0;
    memset(ids, 0, LB_ROUTE_MAX_IDS * sizeof(*ids));
    for (;;) {
        const char *pattern_slash = strchr(pattern, '/'), *path_slash = memchr(path, '/', (size_t)(end - path));
        size_t pattern_len = pattern_slash != NULL ? (size_t)(pattern_slash - pattern) : strlen(pattern);
        size_t segment_len = (size_t)((path_slash != NULL ? path_slash : end) - path);
        if (pattern_len >= 2 && pattern[0] == '{' && pattern[pattern_len - 1] == '}') {
            if (num_ids == LB_ROUTE_MAX_IDS || (ids[num_ids++] = plain_id(path, segment_len)) == 0)
                return 0;
        } else if (pattern_len != segment_len || memcmp(pattern, path, segment_len) != 0) {
            return 0;
        }
        if ((pattern_slash == NULL) != (path_slash == NULL))
            return 0;
        if (pattern_slash == NULL)
            return 1;
        pattern = pattern_slash + 1;
        path = path_slash + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *nl = memchr(text, '\n', size);
    if (nl == NULL)
        return 0;
    const char *method = text, *path = nl + 1;
    size_t method_len = (size_t)(nl - text), path_len = size - method_len - 1;
    int64_t ids[LB_ROUTE_MAX_IDS], expected_ids[LB_ROUTE_MAX_IDS] = {0};
    int expected = LB_ENOTFOUND, matches = 0;
    for (size_t i = 0; i != lb_num_routes; ++i) {
        int64_t route_ids[LB_ROUTE_MAX_IDS];
        if (!plain_match(lb_routes[i].pattern, path, path_len, route_ids))
            continue;
        ++matches;
        int same_method = strlen(lb_routes[i].method) == method_len && memcmp(lb_routes[i].method, method, method_len) == 0;
        int head_on_get = method_len == 4 && memcmp(method, "HEAD", 4) == 0 && strcmp(lb_routes[i].method, "GET") == 0;
        if (expected < 0 && (same_method || head_on_get)) {
            expected = (int)i;
            memcpy(expected_ids, route_ids, sizeof(route_ids));
        } else if (expected == LB_ENOTFOUND) {
            expected = LB_EMETHOD;
        }
    }
    /* The same path under several methods is several routes of one pattern: count patterns, not routes. */
    for (size_t i = 0; i != lb_num_routes; ++i)
        for (size_t j = 0; j != i; ++j)
            if (strcmp(lb_routes[i].pattern, lb_routes[j].pattern) == 0) {
                int64_t ignored[LB_ROUTE_MAX_IDS];
                matches -= plain_match(lb_routes[i].pattern, path, path_len, ignored);
                break;
            }
    CHECK(matches <= 1);
    int route = lb_router_match(lb_routes, lb_num_routes, method, method_len, path, path_len, ids);
    CHECK(route == expected);
    if (route >= 0) {
        CHECK(memcmp(ids, expected_ids, sizeof(ids)) == 0);
        CHECK((strchr(lb_routes[route].pattern, '{') != NULL) == (ids[0] > 0));
    }
    return 0;
}
