/* The origins of --cors-origin (livebuy/base/origins.h): each entry checked to be what a browser sends in Origin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/base/origins.h"

static int is_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/*
 * The end of the host that starts at host: a bracketed IPv6 address, or a name or IPv4 address of lower-case letters,
 * digits, '-' and '.'. Stops at the first other character (a ':' before the port, or what makes the entry wrong).
 */
static const char *host_end(const char *host, const char *end)
{
    const char *p = host;
    if (p != end && *p == '[') {
        while (++p != end && strchr("0123456789abcdef:.", *p) != NULL)
            ;
        return p != end && *p == ']' ? p + 1 : host;
    }
    while (p != end && is_host_char(*p))
        ++p;
    return p;
}

/* What is wrong with the entry [entry, end), or NULL when it is an origin. */
static const char *origin_fault(const char *entry, const char *end)
{
    size_t len = (size_t)(end - entry);
    const char *host, *default_port;
    if (len == 1 && *entry == '*')
        return "is refused: name exact origins; livebuy's clients send Authorization, and the list names each page that may "
               "read its answers (docs/api.md, CORS)";
    if (len > 7 && memcmp(entry, "http://", 7) == 0) {
        host = entry + 7;
        default_port = "80";
    } else if (len > 8 && memcmp(entry, "https://", 8) == 0) {
        host = entry + 8;
        default_port = "443";
    } else {
        return "is not an origin: it must start with http:// or https://";
    }
    for (const char *c = host; c != end; ++c)
        if (*c >= 'A' && *c <= 'Z')
            return "must be in lower case, as browsers send it";
    const char *port = host_end(host, end);
    if (port != end && *port != ':')
        return "is not scheme://host[:port] (no path, not even /, no user)";
    if (port == host)
        return "has no host";
    if (port == end)
        return NULL;
    const char *digits = port + 1;
    size_t num_digits = (size_t)(end - digits);
    long value = 0;
    for (const char *d = digits; d != end && value <= 65535; ++d)
        value = *d >= '0' && *d <= '9' ? value * 10 + (*d - '0') : 65536;
    if (num_digits == 0 || num_digits > 5 || *digits == '0' || value > 65535)
        return "has a port that is not 1-65535";
    if (num_digits == strlen(default_port) && memcmp(digits, default_port, num_digits) == 0)
        return "names its scheme's default port, which browsers leave out of Origin";
    return NULL;
}

/* Appends [entry, end) to origins. */
static void add_origin(lb_origins_t *origins, const char *entry, const char *end)
{
    size_t len = (size_t)(end - entry);
    char *copy = lb_malloc(len + 1);
    memcpy(copy, entry, len);
    copy[len] = '\0';
    origins->list = lb_realloc(origins->list, (origins->num + 1) * sizeof(*origins->list));
    origins->list[origins->num++] = copy;
}

int lb_origins_parse(lb_origins_t *origins, const char *text, char *err, size_t errsize)
{
    memset(origins, 0, sizeof(*origins));
    const char *p = text;
    while (1) {
        const char *comma = strchr(p, ','), *end = comma != NULL ? comma : p + strlen(p);
        while (p != end && *p == ' ')
            ++p;
        while (end != p && end[-1] == ' ')
            --end;
        const char *fault = p == end ? "is empty (two commas, or one at an end)" : origin_fault(p, end);
        if (fault != NULL) {
            snprintf(err, errsize, "--cors-origin: \"%.*s\" %s", (int)(end - p), p, fault);
            lb_origins_free(origins);
            return LB_EINPUT;
        }
        add_origin(origins, p, end);
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

void lb_origins_free(lb_origins_t *origins)
{
    for (size_t i = 0; i != origins->num; ++i)
        free(origins->list[i]);
    free(origins->list);
    memset(origins, 0, sizeof(*origins));
}

const char *lb_origins_find(const lb_origins_t *origins, const char *origin, size_t len)
{
    for (size_t i = 0; i != origins->num; ++i)
        if (strlen(origins->list[i]) == len && memcmp(origins->list[i], origin, len) == 0)
            return origins->list[i];
    return NULL;
}
