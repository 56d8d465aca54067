/* Pure readers of an HTTP request's text (livebuy/base/request.h): no h2o, no allocation, fuzzed in tests/fuzz/. */
#include <string.h>
#include <strings.h>
#include "livebuy/common.h"
#include "livebuy/base/request.h"

/* Does the header line [line, end) have the name name (lower case) before its colon? */
static int header_named(const char *line, const char *end, const char *name)
{
    size_t len = strlen(name);
    return (size_t)(end - line) > len && line[len] == ':' && strncasecmp(line, name, len) == 0;
}

void lb_request_framing(const char *bytes, size_t len, lb_request_framing_t *framing)
{
    const char *p = bytes, *end = bytes + len, *line_end;
    framing->content_length = 0;
    framing->transfer_encoding = 0;
    /* The request line first, then one header a line up to the empty line. */
    if ((line_end = memchr(p, '\n', len)) == NULL)
        return;
    for (p = line_end + 1; p < end; p = line_end + 1) {
        if ((line_end = memchr(p, '\n', (size_t)(end - p))) == NULL)
            line_end = end;
        const char *text_end = line_end > p && line_end[-1] == '\r' ? line_end - 1 : line_end;
        if (text_end == p)
            return; /* the empty line: the body follows */
        framing->content_length += header_named(p, text_end, "content-length");
        framing->transfer_encoding += header_named(p, text_end, "transfer-encoding");
    }
}

const char *lb_request_framing_refusal(const lb_request_framing_t *framing)
{
    if (framing->content_length != 0 && framing->transfer_encoding != 0)
        return "Content-Length and Transfer-Encoding together: where the body ends is in doubt";
    if (framing->content_length > 1)
        return "more than one Content-Length: where the body ends is in doubt";
    if (framing->transfer_encoding > 1)
        return "more than one Transfer-Encoding: where the body ends is in doubt";
    return NULL;
}

int lb_request_path_has_nul(const char *target, size_t len)
{
    if (memchr(target, '\0', len) != NULL)
        return 1;
    const char *query = memchr(target, '?', len);
    size_t path_len = query != NULL ? (size_t)(query - target) : len;
    for (const char *p = target, *end = target + path_len; (p = memchr(p, '%', (size_t)(end - p))) != NULL; ++p)
        if (end - p >= 3 && p[1] == '0' && p[2] == '0')
            return 1;
    return 0;
}

int64_t lb_request_id(const char *p, size_t len)
{
    int64_t id;
    if (len == 0 || *p == '0' || lb_request_decimal(p, len, &id) != 0)
        return 0;
    return id;
}

int lb_request_decimal(const char *p, size_t len, int64_t *out)
{
    int64_t n = 0;
    if (len == 0)
        return LB_EINPUT;
    for (const char *end = p + len; p != end; ++p) {
        if (*p < '0' || *p > '9')
            return LB_EINPUT;
        int digit = *p - '0';
        if (n > (INT64_MAX - digit) / 10)
            return LB_EINPUT;
        n = n * 10 + digit;
    }
    *out = n;
    return 0;
}

int lb_request_query(const char *query, size_t len, const char *name, const char **value, size_t *value_len)
{
    size_t name_len = strlen(name);
    for (const char *p = query, *end = query + len; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *param_end = amp != NULL ? amp : end;
        if ((size_t)(param_end - p) > name_len && memcmp(p, name, name_len) == 0 && p[name_len] == '=') {
            *value = p + name_len + 1;
            *value_len = (size_t)(param_end - *value);
            return 0;
        }
        p = param_end + 1;
    }
    return LB_ENOTFOUND;
}

int lb_request_printable(const char *value, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return LB_EINPUT;
    for (size_t i = 0; i != len; ++i)
        if (value[i] < 0x20 || value[i] > 0x7e)
            return LB_EINPUT;
    return 0;
}

int lb_request_bearer(const char *value, size_t len, const char **token, size_t *token_len)
{
    static const char scheme[] = "Bearer ";
    if (value == NULL || len < sizeof(scheme) - 1 || strncasecmp(value, scheme, sizeof(scheme) - 1) != 0)
        return LB_EAUTH;
    const char *p = value + sizeof(scheme) - 1, *end = value + len;
    while (p != end && *p == ' ')
        ++p;
    if (p == end)
        return LB_EAUTH;
    *token = p;
    *token_len = (size_t)(end - p);
    return 0;
}

char *lb_request_put_hex(char *out, uint64_t value, int min_digits)
{
    int digits = 1;
    while (digits < 16 && value >> 4 * digits != 0)
        ++digits;
    if (digits < min_digits)
        digits = min_digits;
    for (int i = digits - 1; i >= 0; --i)
        *out++ = "0123456789abcdef"[value >> 4 * i & 0xf];
    return out;
}

char *lb_request_put_decimal(char *out, int64_t value, int min_digits)
{
    char digits[20], *p = digits + sizeof(digits);
    uint64_t u = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (p != digits && (u != 0 || digits + sizeof(digits) - p < min_digits));
    if (value < 0)
        *out++ = '-';
    size_t n = (size_t)(digits + sizeof(digits) - p);
    memcpy(out, p, n);
    return out + n;
}
