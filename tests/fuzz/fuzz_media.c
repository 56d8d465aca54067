/*
 * libFuzzer target for the media types (livebuy/codec/codec.h): Content-Type picks the body's format, Accept the
 * answer's. The input is the header's value. A Content-Type is held to its rule read plainly (the type before any ';',
 * blanks around it dropped, compared without case) and must not change with case, blanks or a parameter added; an
 * Accept is held to its elements taken in order.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/codec/codec.h"
#include "fuzz_check.h"

#define MAX_VALUE 1024

/* The media type of one element, lower-cased into type: before ';', without the blanks around it. */
static void plain_type(const char *s, size_t len, char type[MAX_VALUE + 1])
{
    const char *semicolon = memchr(s, ';', len);
    size_t end = semicolon != NULL ? (size_t)(semicolon - s) : len, start = 0, n = 0;
    while (start < end && (s[start] == ' ' || s[start] == '\t'))
        ++start;
    while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
        --end;
    for (size_t i = start; i != end; ++i)
        type[n++] = (char)tolower((unsigned char)s[i]);
    type[n] = '\0';
    if (memchr(s + start, '\0', end - start) != NULL)
        type[0] = '?'; /* a NUL inside is no type's name */
}

/* -1 for no format, else the format the type names (the empty type is JSON for a body only) */
static int format_of(const char *type)
{
    if (strcmp(type, "application/json") == 0)
        return LB_FORMAT_JSON;
    if (strcmp(type, "application/msgpack") == 0 || strcmp(type, "application/x-msgpack") == 0)
        return LB_FORMAT_MSGPACK;
    return -1;
}

static int request_format(const char *s, size_t len)
{
    lb_format_t format;
    return lb_codec_request_format(s, len, &format) == 0 ? (int)format : -1;
}

static void content_type(const char *s, size_t len)
{
    char type[MAX_VALUE + 1], changed[MAX_VALUE + 32];
    plain_type(s, len, type);
    int expected = type[0] == '\0' ? LB_FORMAT_JSON : format_of(type);
    CHECK(request_format(s, len) == expected);
    /* upper case, blanks around, a parameter after */
    size_t n = 0;
    changed[n++] = ' ';
    for (size_t i = 0; i != len; ++i)
        changed[n++] = (char)toupper((unsigned char)s[i]);
    if (memchr(s, ';', len) == NULL) {
        memcpy(changed + n, "\t; charset=utf-8", 16);
        n += 16;
    }
    CHECK(request_format(changed, n) == expected);
}

static void accept(const char *s, size_t len)
{
    int expected = LB_FORMAT_JSON;
    for (const char *p = s, *end = s + len; p <= end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        char type[MAX_VALUE + 1];
        plain_type(p, (size_t)((comma != NULL ? comma : end) - p), type);
        int format = format_of(type);
        if (format >= 0) {
            expected = format;
            break;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    CHECK((int)lb_codec_answer_format(s, len) == expected);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_VALUE)
        return 0;
    content_type((const char *)data, size);
    accept((const char *)data, size);
    CHECK(lb_codec_answer_format(NULL, 0) == LB_FORMAT_JSON && request_format(NULL, 0) == LB_FORMAT_JSON);
    return 0;
}
