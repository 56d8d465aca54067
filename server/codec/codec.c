/*
 * The codec layer's front: which format a request speaks (Content-Type) and wants back (Accept), decoding a body in
 * either format into fields (json.c, msgpack.c, fields.c), and the UTF-8 rules both directions share.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "livebuy/common.h"
#include "internal.h"

/* Media types */

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* The media type of one Content-Type or Accept element: its part before any ';', without surrounding blanks. */
static void media_type_trim(const char **start, const char **end)
{
    const char *semicolon = memchr(*start, ';', (size_t)(*end - *start));
    if (semicolon != NULL)
        *end = semicolon;
    while (*start < *end && is_space(**start))
        ++*start;
    while (*end > *start && is_space((*end)[-1]))
        --*end;
}

static int media_type_is(const char *start, const char *end, const char *type)
{
    size_t len = strlen(type);
    return (size_t)(end - start) == len && strncasecmp(start, type, len) == 0;
}

static int media_type_is_msgpack(const char *start, const char *end)
{
    return media_type_is(start, end, "application/msgpack") || media_type_is(start, end, "application/x-msgpack");
}

int lb_codec_request_format(const char *content_type, size_t len, lb_format_t *format)
{
    const char *start = content_type != NULL ? content_type : "", *end = start + (content_type != NULL ? len : 0);
    media_type_trim(&start, &end);
    if (start == end || media_type_is(start, end, "application/json")) {
        *format = LB_FORMAT_JSON;
        return 0;
    }
    if (media_type_is_msgpack(start, end)) {
        *format = LB_FORMAT_MSGPACK;
        return 0;
    }
    return -1;
}

lb_format_t lb_codec_answer_format(const char *accept, size_t len)
{
    if (accept == NULL)
        return LB_FORMAT_JSON;
    for (const char *element = accept, *end = accept + len; element < end;) {
        const char *comma = memchr(element, ',', (size_t)(end - element));
        const char *type_start = element, *type_end = comma != NULL ? comma : end;
        media_type_trim(&type_start, &type_end);
        if (media_type_is(type_start, type_end, "application/json"))
            return LB_FORMAT_JSON;
        if (media_type_is_msgpack(type_start, type_end))
            return LB_FORMAT_MSGPACK;
        element = comma != NULL ? comma + 1 : end;
    }
    return LB_FORMAT_JSON;
}

/* The q of one Accept element's parameters (after its media range, from the first ';'), in thousandths: 1000 when it has
 * none or one that is not a number. */
static int accept_q(const char *params, const char *end)
{
    for (const char *p = params; p < end;) {
        const char *next = memchr(p + 1, ';', (size_t)(end - p - 1));
        const char *name = p + 1, *name_end = next != NULL ? next : end;
        while (name < name_end && is_space(*name))
            ++name;
        if (name_end - name >= 2 && (name[0] == 'q' || name[0] == 'Q') && name[1] == '=') {
            int q = 0, scale = 1000;
            const char *v = name + 2;
            if (v == name_end || (*v != '0' && *v != '1'))
                return 1000;
            q = (*v++ - '0') * 1000;
            if (v < name_end && *v == '.')
                for (++v; v < name_end && *v >= '0' && *v <= '9' && scale > 1; ++v)
                    q += (*v - '0') * (scale /= 10);
            return q > 1000 ? 1000 : q;
        }
        p = name_end;
    }
    return 1000;
}

/* How specifically the range [start, end) names type: 3 the type itself, 2 its type with any subtype, 1 any type, 0 not. */
static int accept_match(const char *start, const char *end, const char *type)
{
    const char *slash = strchr(type, '/');
    size_t major = (size_t)(slash - type);
    if (media_type_is(start, end, type) ||
        (strcmp(type, "application/msgpack") == 0 && media_type_is(start, end, "application/x-msgpack")))
        return 3;
    if ((size_t)(end - start) == major + 2 && strncasecmp(start, type, major + 1) == 0 && end[-1] == '*')
        return 2;
    return media_type_is(start, end, "*/*") ? 1 : 0;
}

int lb_codec_negotiate(const char *accept, size_t len, const char *const *offered, size_t n)
{
    int best = -1, best_q = 0;
    size_t best_element = SIZE_MAX;
    if (accept == NULL || len == 0)
        return n != 0 ? 0 : -1;
    for (size_t i = 0; i != n; ++i) {
        int specificity = 0, q = 0;
        size_t index = 0, position = 0;
        for (const char *element = accept, *end = accept + len; element < end; ++index) {
            const char *comma = memchr(element, ',', (size_t)(end - element));
            const char *type_start = element, *type_end = comma != NULL ? comma : end, *element_end = type_end;
            media_type_trim(&type_start, &type_end);
            int match = accept_match(type_start, type_end, offered[i]);
            if (match > specificity) {
                const char *params = memchr(element, ';', (size_t)(element_end - element));
                specificity = match;
                q = params != NULL ? accept_q(params, element_end) : 1000;
                position = index;
            }
            element = comma != NULL ? comma + 1 : end;
        }
        if (q > best_q || (q == best_q && q != 0 && position < best_element)) {
            best = (int)i;
            best_q = q;
            best_element = position;
        }
    }
    return best;
}

const char *lb_codec_media_type(lb_format_t format)
{
    return format == LB_FORMAT_MSGPACK ? "application/msgpack" : "application/json";
}

/* UTF-8 */

size_t lb_codec__utf8_sequence_length(const unsigned char *s, size_t len)
{
    size_t need;
    unsigned char min2 = 0x80, max2 = 0xbf; /* the range of the second byte, narrowed to rule out overlongs and surrogates */
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        need = 2;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        need = 3;
        min2 = s[0] == 0xe0 ? 0xa0 : 0x80;
        max2 = s[0] == 0xed ? 0x9f : 0xbf;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        need = 4;
        min2 = s[0] == 0xf0 ? 0x90 : 0x80;
        max2 = s[0] == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (len < need || s[1] < min2 || s[1] > max2)
        return 0;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return need;
}

int lb_codec__utf8_is_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    for (size_t n; p < end; p += n)
        if ((n = lb_codec__utf8_sequence_length(p, (size_t)(end - p))) == 0)
            return 0;
    return 1;
}

/* Whether a byte stands for itself inside a JSON string, both ways: ASCII other than control characters, '"' and '\\'. */
#define PLAIN(c)   ((c) >= 0x20 && (c) < 0x80 && (c) != '"' && (c) != '\\')
#define PLAIN4(c)  PLAIN(c), PLAIN((c) + 1), PLAIN((c) + 2), PLAIN((c) + 3)
#define PLAIN16(c) PLAIN4(c), PLAIN4((c) + 4), PLAIN4((c) + 8), PLAIN4((c) + 12)
#define PLAIN64(c) PLAIN16(c), PLAIN16((c) + 16), PLAIN16((c) + 32), PLAIN16((c) + 48)
const unsigned char lb_codec__json_plain[256] = {PLAIN64(0), PLAIN64(64), PLAIN64(128), PLAIN64(192)};
#undef PLAIN64
#undef PLAIN16
#undef PLAIN4
#undef PLAIN

void lb_utf8_mend(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0, n; i < len; i += n) {
        if ((n = lb_codec__utf8_sequence_length(p + i, len - i)) == 0) {
            p[i] = '?';
            n = 1;
        }
    }
}

int lb_codec_decode(lb_format_t format, const char *body, size_t len, lb_fields_t *out, char *err, size_t errsize)
{
    int ret;
    lb_fields_dispose(out); /* emptied whatever comes */
    if (errsize != 0)
        err[0] = '\0';
    if (len == 0) {
        snprintf(err, errsize, "empty body");
        return -1;
    }
    if (format == LB_FORMAT_MSGPACK)
        ret = lb_codec__decode_msgpack(out, body, len, err, errsize);
    else
        ret = lb_codec__decode_json(out, body, len, err, errsize);
    if (ret != 0 && errsize != 0)
        lb_utf8_mend(err); /* a message may quote a key of bad bytes, or be cut inside a character */
    return ret;
}
