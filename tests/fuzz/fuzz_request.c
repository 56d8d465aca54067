/*
 * libFuzzer target for the readers of a request's text (livebuy/base/request.h), each held to a plainer reading of its
 * rule: the framing headers of a head, NUL in a path, decimal numbers and ids, query parameters, the bearer token, an
 * Idempotency-Key's characters.
 * The input is the text itself; each reader gets all of it (the query reader also takes its first line as the name).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "livebuy/common.h"
#include "livebuy/base/request.h"
#include "fuzz_check.h"

/* The framing counted line by line, each line copied out without its line end; the empty line ends the head. */
static void check_framing(const char *text, size_t len)
{
    lb_request_framing_t framing, head_only;
    unsigned content_length = 0, transfer_encoding = 0;
    size_t head_end = len;
    lb_request_framing(text, len, &framing);
    const char *first = memchr(text, '\n', len);
    for (const char *p = first != NULL ? first + 1 : text + len, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl != NULL ? nl : end) - p);
        char line[32] = "";
        if (n != 0 && p[n - 1] == '\r')
            --n;
        if (n == 0) {
            head_end = nl != NULL ? (size_t)(nl + 1 - text) : len;
            break;
        }
        memcpy(line, p, n < sizeof(line) - 1 ? n : sizeof(line) - 1);
        content_length += strncasecmp(line, "content-length:", 15) == 0;
        transfer_encoding += strncasecmp(line, "transfer-encoding:", 18) == 0;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    CHECK(framing.content_length == content_length && framing.transfer_encoding == transfer_encoding);
    CHECK((lb_request_framing_refusal(&framing) != NULL) == (content_length + transfer_encoding > 1));
    /* What follows the head (a body) is not read. */
    lb_request_framing(text, head_end, &head_only);
    CHECK(head_only.content_length == content_length && head_only.transfer_encoding == transfer_encoding);
}

static void check_path(const char *text, size_t len)
{
    const char *query = memchr(text, '?', len);
    size_t path_len = query != NULL ? (size_t)(query - text) : len;
    int expected = memchr(text, '\0', len) != NULL || memmem(text, path_len, "%00", 3) != NULL;
    CHECK(lb_request_path_has_nul(text, len) == expected);
}

/* Digits only, at most INT64_MAX: compared as digit strings without their leading zeros. */
static void check_numbers(const char *text, size_t len)
{
    static const char max[] = "9223372036854775807";
    int64_t n = -1;
    size_t digits = 0, zeros = 0;
    while (digits != len && text[digits] >= '0' && text[digits] <= '9')
        ++digits;
    while (zeros != len && text[zeros] == '0')
        ++zeros;
    if (zeros > digits)
        zeros = digits;
    size_t significant = digits - zeros;
    int fits = significant < sizeof(max) - 1 || (significant == sizeof(max) - 1 && memcmp(text + zeros, max, sizeof(max) - 1) <= 0);
    int expected = len != 0 && digits == len && fits;
    CHECK((lb_request_decimal(text, len, &n) == 0) == expected);
    if (expected) {
        char back[32];
        int printed = snprintf(back, sizeof(back), "%lld", (long long)n);
        CHECK(n >= 0);
        CHECK(significant == 0 ? n == 0 : (size_t)printed == significant && memcmp(back, text + zeros, significant) == 0);
    }
    int64_t id = lb_request_id(text, len);
    CHECK(id == (expected && zeros == 0 && n > 0 ? n : 0));
}

/* The first parameter NAME=... of the query, found by splitting it into its parameters. */
static void check_query(const char *text, size_t len)
{
    const char *nl = memchr(text, '\n', len);
    if (nl == NULL || (size_t)(nl - text) > 32 || memchr(text, '\0', (size_t)(nl - text)) != NULL)
        return;
    char name[33];
    memcpy(name, text, (size_t)(nl - text));
    name[nl - text] = '\0';
    const char *query = nl + 1, *value = NULL, *expected = NULL;
    size_t query_len = len - (size_t)(query - text), value_len = 0, expected_len = 0, name_len = strlen(name);
    for (const char *p = query, *end = query + query_len; p <= end && expected == NULL;) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp != NULL ? amp : end;
        if ((size_t)(stop - p) >= name_len + 1 && memcmp(p, name, name_len) == 0 && p[name_len] == '=') {
            expected = p + name_len + 1;
            expected_len = (size_t)(stop - expected);
        }
        if (amp == NULL)
            break;
        p = amp + 1;
    }
    int ret = lb_request_query(query, query_len, name, &value, &value_len);
    CHECK((ret == 0) == (expected != NULL));
    if (ret == 0)
        CHECK(value == expected && value_len == expected_len && memchr(value, '&', value_len) == NULL);
}

static void check_bearer(const char *text, size_t len)
{
    const char *token = NULL;
    size_t token_len = 0;
    size_t skip = 7;
    int scheme = len >= 7 && strncasecmp(text, "bearer ", 7) == 0;
    while (scheme && skip != len && text[skip] == ' ')
        ++skip;
    int expected = scheme && skip != len;
    int ret = lb_request_bearer(text, len, &token, &token_len);
    CHECK((ret == 0) == expected);
    if (expected)
        CHECK(token == text + skip && token_len == len - skip && token[0] != ' ');
}

/* 1 to 64 bytes of 0x20-0x7e, as an Idempotency-Key. */
static void check_printable(const char *text, size_t len)
{
    int expected = len >= 1 && len <= 64;
    for (size_t i = 0; i != len && expected; ++i)
        expected = (unsigned char)text[i] >= 0x20 && (unsigned char)text[i] <= 0x7e;
    CHECK((lb_request_printable(text, len, 64) == 0) == expected);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    check_framing(text, size);
    check_path(text, size);
    check_numbers(text, size);
    check_query(text, size);
    check_bearer(text, size);
    check_printable(text, size);
    return 0;
}
