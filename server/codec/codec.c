/*
 * The one codec layer: JSON and msgpack bodies become jansson values, answers become JSON or msgpack, and the field
 * readers validate one field each. Both formats accept the same documents, so handlers never look at the format.
 */
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <msgpack.h>
#include "livebuy/common.h"
#include "livebuy/codec/codec.h"

#define MAX_DEPTH 32

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

const char *lb_codec_media_type(lb_format_t format)
{
    return format == LB_FORMAT_MSGPACK ? "application/msgpack" : "application/json";
}

/* UTF-8 */

size_t lb_utf8_sequence_length(const unsigned char *s, size_t len)
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

static int utf8_is_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    for (size_t n; p < end; p += n)
        if ((n = lb_utf8_sequence_length(p, (size_t)(end - p))) == 0)
            return 0;
    return 1;
}

/* Whether a byte stands for itself inside a JSON string, both ways: ASCII other than control characters, '"' and '\\'. */
#define PLAIN(c)   ((c) >= 0x20 && (c) < 0x80 && (c) != '"' && (c) != '\\')
#define PLAIN4(c)  PLAIN(c), PLAIN((c) + 1), PLAIN((c) + 2), PLAIN((c) + 3)
#define PLAIN16(c) PLAIN4(c), PLAIN4((c) + 4), PLAIN4((c) + 8), PLAIN4((c) + 12)
#define PLAIN64(c) PLAIN16(c), PLAIN16((c) + 16), PLAIN16((c) + 32), PLAIN16((c) + 48)
const unsigned char lb_json_plain[256] = {PLAIN64(0), PLAIN64(64), PLAIN64(128), PLAIN64(192)};
#undef PLAIN64
#undef PLAIN16
#undef PLAIN4
#undef PLAIN

void lb_utf8_mend(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0, n; i < len; i += n) {
        if ((n = lb_utf8_sequence_length(p + i, len - i)) == 0) {
            p[i] = '?';
            n = 1;
        }
    }
}

size_t lb_utf8_length(const char *s, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        count += ((unsigned char)s[i] & 0xc0) != 0x80;
    return count;
}

/*
 * Decoding JSON: one recursive-descent pass over the bytes (RFC 8259, strictly) that builds the jansson tree directly,
 * at a fraction of json_loadb's cost: the only allocations are the json_t values themselves. It refuses all that
 * json_loadb with JSON_REJECT_DUPLICATES refused, a NUL byte after a number or literal (which jansson let through), and
 * nesting past MAX_DEPTH as soon as it gets there.
 */

typedef struct st_json_parser_t {
    const char *start, *p, *end;
    const char *error_at; /* where the problem is, for the line and column of the message */
    char reason[64];      /* empty while all is well; stays empty when a jansson constructor ran out of memory */
    int too_deep;
} json_parser_t;

/* A string as read: into the body when it has no escapes, else into the caller's buffer or into heap (freed by the caller). */
typedef struct st_json_text_t {
    const char *bytes;
    size_t len;
    char *heap;
} json_text_t;

static json_t *parse_value(json_parser_t *ps, int depth);

__attribute__((format(printf, 3, 4))) static void *parse_fail(json_parser_t *ps, const char *at, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(ps->reason, sizeof(ps->reason), fmt, args);
    va_end(args);
    ps->error_at = at;
    return NULL;
}

static void *parse_fail_unexpected(json_parser_t *ps, const char *at)
{
    if (at == ps->end)
        return parse_fail(ps, at, "unexpected end of input");
    unsigned char c = (unsigned char)*at;
    if (c > 0x20 && c < 0x7f)
        return parse_fail(ps, at, "unexpected character '%c'", c);
    return parse_fail(ps, at, "unexpected byte 0x%02x", c);
}

/* Fails at ps->p, where what (say "':'") should have been. */
static void *parse_fail_expected(json_parser_t *ps, const char *what)
{
    if (ps->p == ps->end)
        return parse_fail(ps, ps->p, "unexpected end of input");
    return parse_fail(ps, ps->p, "expected %s", what);
}

static void skip_whitespace(json_parser_t *ps)
{
    const char *p = ps->p;
    while (p < ps->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    ps->p = p;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The four hex digits at p as a number, or -1. */
static int32_t read_hex4(const char *p, const char *end)
{
    int32_t value = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int digit = is_digit(c) ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
        if (digit < 0)
            return -1;
        value = value << 4 | digit;
    }
    return value;
}

/* Reads the escape whose backslash is at *p, moving *p past it: the code point it stands for, or -1 with a reason. */
static int32_t read_escape(json_parser_t *ps, const char **p)
{
    const char *at = *p, *end = ps->end;
    if (end - at < 2)
        return parse_fail(ps, end, "unterminated string"), -1;
    *p = at + 2;
    switch (at[1]) {
    case '"':
    case '\\':
    case '/':
        return at[1];
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'u':
        break;
    default:
        return parse_fail(ps, at, "invalid escape"), -1;
    }
    int32_t unit = read_hex4(at + 2, end), low;
    if (unit < 0)
        return parse_fail(ps, at, "invalid \\u escape"), -1;
    if (unit == 0)
        return parse_fail(ps, at, "\\u0000 is not allowed"), -1; /* handlers read strings as C strings; jansson refused it too */
    *p = at + 6;
    if (unit < 0xd800 || unit > 0xdfff)
        return unit;
    /* a UTF-16 surrogate: only a high one followed by the escape of a low one makes a character */
    if (unit > 0xdbff || end - *p < 6 || (*p)[0] != '\\' || (*p)[1] != 'u' || (low = read_hex4(*p + 2, end)) < 0xdc00 ||
        low > 0xdfff)
        return parse_fail(ps, at, "invalid UTF-16 surrogate"), -1;
    *p = at + 12;
    return 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
}

static char *put_utf8(char *out, int32_t code_point)
{
    if (code_point < 0x80) {
        *out++ = (char)code_point;
    } else if (code_point < 0x800) {
        *out++ = (char)(0xc0 | code_point >> 6);
        *out++ = (char)(0x80 | (code_point & 0x3f));
    } else if (code_point < 0x10000) {
        *out++ = (char)(0xe0 | code_point >> 12);
        *out++ = (char)(0x80 | (code_point >> 6 & 0x3f));
        *out++ = (char)(0x80 | (code_point & 0x3f));
    } else {
        *out++ = (char)(0xf0 | code_point >> 18);
        *out++ = (char)(0x80 | (code_point >> 12 & 0x3f));
        *out++ = (char)(0x80 | (code_point >> 6 & 0x3f));
        *out++ = (char)(0x80 | (code_point & 0x3f));
    }
    return out;
}

/*
 * Reads the string whose opening quote is at ps->p: 0 with text set, or -1. A first pass checks it and finds its end;
 * only a string with escapes takes a second, into local when it fits (an escape never grows when unescaped).
 */
static int parse_text(json_parser_t *ps, json_text_t *text, char *local, size_t local_size)
{
    const char *start = ps->p + 1, *p = start, *end = ps->end;
    int escaped = 0;
    for (;;) {
        while (p < end && lb_json_plain[(unsigned char)*p])
            p++;
        if (p == end)
            return parse_fail(ps, p, "unterminated string"), -1;
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c == '\\') {
            escaped = 1;
            if (read_escape(ps, &p) < 0)
                return -1;
        } else if (c < 0x20) {
            return parse_fail(ps, p, "control character in string"), -1;
        } else {
            size_t n = lb_utf8_sequence_length((const unsigned char *)p, (size_t)(end - p));
            if (n == 0)
                return parse_fail(ps, p, "invalid UTF-8 in string"), -1;
            p += n;
        }
    }
    ps->p = p + 1;
    text->heap = NULL;
    text->len = (size_t)(p - start);
    text->bytes = start;
    if (!escaped)
        return 0;
    char *out = text->len <= local_size ? local : (text->heap = lb_malloc(text->len));
    text->bytes = out;
    for (const char *q = start; q < p;) {
        const char *backslash = memchr(q, '\\', (size_t)(p - q));
        size_t plain = (size_t)((backslash != NULL ? backslash : p) - q);
        memcpy(out, q, plain);
        out += plain;
        q += plain;
        if (q < p)
            out = put_utf8(out, read_escape(ps, &q)); /* checked by the first pass */
    }
    text->len = (size_t)(out - text->bytes);
    return 0;
}

static json_t *parse_string(json_parser_t *ps)
{
    char local[256];
    json_text_t text;
    if (parse_text(ps, &text, local, sizeof(local)) != 0)
        return NULL;
    json_t *value = json_stringn_nocheck(text.bytes, text.len);
    free(text.heap);
    return value;
}

/* A real: strtod wants a NUL-terminated string, and the body is not one, so it reads a copy. */
static json_t *parse_real(json_parser_t *ps, const char *start, size_t len)
{
    char local[64], *copy = len < sizeof(local) ? local : lb_malloc(len + 1);
    memcpy(copy, start, len);
    copy[len] = '\0';
    double value = strtod(copy, NULL);
    if (copy != local)
        free(copy);
    if (isinf(value))
        return parse_fail(ps, start, "number out of range");
    return json_real(value);
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?: an integer without fraction or exponent, a real with. */
static json_t *parse_number(json_parser_t *ps)
{
    const char *start = ps->p, *p = start, *end = ps->end;
    int negative = *p == '-', is_real = 0, overflow = 0;
    uint64_t magnitude = 0;
    p += negative;
    if (p == end || !is_digit(*p))
        return parse_fail_unexpected(ps, p);
    if (*p == '0') {
        if (++p < end && is_digit(*p))
            return parse_fail(ps, p, "leading zeros are not allowed");
    } else {
        for (; p < end && is_digit(*p); p++) {
            unsigned digit = (unsigned)(*p - '0');
            overflow |= magnitude > (UINT64_MAX - digit) / 10;
            magnitude = magnitude * 10 + digit;
        }
    }
    if (p < end && *p == '.') {
        is_real = 1;
        if (++p == end || !is_digit(*p))
            return parse_fail(ps, p, "expected a digit after '.'");
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_real = 1;
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !is_digit(*p))
            return parse_fail(ps, p, "expected a digit in the exponent");
        while (p < end && is_digit(*p))
            p++;
    }
    ps->p = p;
    if (is_real)
        return parse_real(ps, start, (size_t)(p - start));
    if (overflow || magnitude > (uint64_t)INT64_MAX + (uint64_t)negative)
        return parse_fail(ps, start, "integer out of range");
    if (negative && magnitude != 0)
        return json_integer(-(json_int_t)(magnitude - 1) - 1); /* no overflow for INT64_MIN */
    return json_integer((json_int_t)magnitude);
}

static json_t *parse_literal(json_parser_t *ps, const char *word, size_t len, json_t *value)
{
    if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
        return parse_fail_unexpected(ps, ps->p);
    ps->p += len;
    return value;
}

/* Reads one array item into array; 0 on success. */
static int parse_item(json_parser_t *ps, json_t *array, int depth)
{
    json_t *item = parse_value(ps, depth + 1);
    return item != NULL && json_array_append_new(array, item) == 0 ? 0 : -1;
}

/* Reads one "key": value pair into object; 0 on success. */
static int parse_member(json_parser_t *ps, json_t *object, int depth)
{
    char local[64];
    json_text_t key;
    json_t *value = NULL;
    skip_whitespace(ps);
    const char *key_at = ps->p;
    if (key_at == ps->end || *key_at != '"') {
        parse_fail_expected(ps, "a string key");
        return -1;
    }
    if (parse_text(ps, &key, local, sizeof(local)) != 0)
        return -1;
    skip_whitespace(ps);
    if (ps->p < ps->end && *ps->p == ':') {
        ps->p++;
        value = parse_value(ps, depth + 1);
    } else {
        parse_fail_expected(ps, "':'");
    }
    size_t size = json_object_size(object);
    /* setting a key that is there already replaces its value, so the size tells a duplicate without a second lookup */
    int rc = value != NULL ? json_object_setn_new_nocheck(object, key.bytes, key.len, value) : -1;
    free(key.heap);
    if (rc == 0 && json_object_size(object) == size) {
        parse_fail(ps, key_at, "duplicate object key");
        rc = -1;
    }
    return rc;
}

/* Reads the array or object (container, new and empty) whose opening bracket is at ps->p, up to its closing one. */
static json_t *parse_container(json_parser_t *ps, int depth, json_t *container)
{
    int is_object = json_is_object(container);
    char close = is_object ? '}' : ']';
    if (container == NULL)
        return NULL;
    ps->p++;
    skip_whitespace(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return container;
    }
    for (;;) {
        if ((is_object ? parse_member(ps, container, depth) : parse_item(ps, container, depth)) != 0)
            goto Error;
        skip_whitespace(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
        } else if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return container;
        } else {
            parse_fail_expected(ps, is_object ? "',' or '}'" : "',' or ']'");
            goto Error;
        }
    }
Error:
    json_decref(container);
    return NULL;
}

/* Reads one value after optional whitespace; depth is the level a container here would be, the top one being 1. */
static json_t *parse_value(json_parser_t *ps, int depth)
{
    skip_whitespace(ps);
    if (ps->p == ps->end)
        return parse_fail_unexpected(ps, ps->p);
    switch (*ps->p) {
    case '{':
    case '[':
        if (depth > MAX_DEPTH) {
            ps->too_deep = 1;
            return NULL;
        }
        return parse_container(ps, depth, *ps->p == '{' ? json_object() : json_array());
    case '"':
        return parse_string(ps);
    case 't':
        return parse_literal(ps, "true", 4, json_true());
    case 'f':
        return parse_literal(ps, "false", 5, json_false());
    case 'n':
        return parse_literal(ps, "null", 4, json_null());
    default:
        if (*ps->p == '-' || is_digit(*ps->p))
            return parse_number(ps);
        return parse_fail_unexpected(ps, ps->p);
    }
}

/* The message for a failed parse, with the 1-based line and column (in characters) of where the problem is. */
static void parse_error_message(const json_parser_t *ps, char *err, size_t errsize)
{
    int line = 1, column = 1;
    if (ps->too_deep) {
        snprintf(err, errsize, "body nests deeper than %d levels", MAX_DEPTH);
        return;
    }
    if (ps->reason[0] == '\0')
        return; /* out of memory: the caller says so */
    for (const char *p = ps->start; p < ps->error_at; p++) {
        if (*p == '\n') {
            line++;
            column = 1;
        } else if (((unsigned char)*p & 0xc0) != 0x80) {
            column++;
        }
    }
    snprintf(err, errsize, "malformed JSON at line %d column %d: %s", line, column, ps->reason);
}

static json_t *decode_json(const char *body, size_t len, char *err, size_t errsize)
{
    json_parser_t ps = {.start = body, .p = body, .end = body + len};
    json_t *value = parse_value(&ps, 1);
    if (value == NULL)
        goto Error;
    skip_whitespace(&ps);
    if (ps.p != ps.end) {
        parse_fail(&ps, ps.p, "more after the value");
        goto Error;
    }
    if (!json_is_object(value)) {
        snprintf(err, errsize, "body must be a JSON object");
        json_decref(value);
        return NULL;
    }
    return value;
Error:
    parse_error_message(&ps, err, errsize);
    json_decref(value);
    return NULL;
}

/*
 * Decoding msgpack. We read the bytes ourselves rather than through msgpack_unpack_next: msgpack-c allocates room for
 * an array or map's declared count before reading it, so a 5-byte body could ask for tens of gigabytes.
 */

typedef struct st_mp_reader_t {
    const unsigned char *p, *end;
    char path[128]; /* where the reader is, e.g. "skus[1].price_cents", for error messages */
    char *err;
    size_t errsize;
} mp_reader_t;

static json_t *mp_read_value(mp_reader_t *r, int depth);

__attribute__((format(printf, 2, 3))) static json_t *mp_fail(mp_reader_t *r, const char *fmt, ...)
{
    char message[160];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    if (r->path[0] != '\0')
        snprintf(r->err, r->errsize, "field \"%s\": %s", r->path, message);
    else
        snprintf(r->err, r->errsize, "%s", message);
    return NULL;
}

static const unsigned char *mp_take(mp_reader_t *r, size_t n)
{
    const unsigned char *start = r->p;
    if ((size_t)(r->end - r->p) < n)
        return NULL;
    r->p += n;
    return start;
}

/* Reads an n-byte big-endian unsigned integer; 0 on success. */
static int mp_read_uint(mp_reader_t *r, size_t n, uint64_t *out)
{
    const unsigned char *bytes = mp_take(r, n);
    if (bytes == NULL)
        return -1;
    *out = 0;
    for (size_t i = 0; i < n; i++)
        *out = *out << 8 | bytes[i];
    return 0;
}

static json_t *mp_truncated(mp_reader_t *r)
{
    return mp_fail(r, "malformed msgpack: unexpected end of data");
}

static json_t *mp_read_signed(mp_reader_t *r, size_t n)
{
    uint64_t bits;
    if (mp_read_uint(r, n, &bits) != 0)
        return mp_truncated(r);
    int shift = (int)(64 - 8 * n); /* sign-extend from n bytes */
    return json_integer((json_int_t)((int64_t)(bits << shift) >> shift));
}

static json_t *mp_read_unsigned(mp_reader_t *r, size_t n)
{
    uint64_t bits;
    if (mp_read_uint(r, n, &bits) != 0)
        return mp_truncated(r);
    if (bits > INT64_MAX)
        return mp_fail(r, "integer out of range");
    return json_integer((json_int_t)bits);
}

static json_t *mp_read_float(mp_reader_t *r, size_t n)
{
    uint64_t bits;
    double value;
    if (mp_read_uint(r, n, &bits) != 0)
        return mp_truncated(r);
    if (n == 4) {
        uint32_t bits32 = (uint32_t)bits;
        float value32;
        memcpy(&value32, &bits32, sizeof(value32));
        value = value32;
    } else {
        memcpy(&value, &bits, sizeof(value));
    }
    if (!isfinite(value))
        return mp_fail(r, "number must be finite");
    return json_real(value);
}

/* Reads len bytes of string; NULL with a message unless they are valid UTF-8 without NUL (as JSON bodies must be). */
static const char *mp_read_text(mp_reader_t *r, size_t len)
{
    const char *text = (const char *)mp_take(r, len);
    if (text == NULL)
        mp_truncated(r);
    else if (!utf8_is_valid(text, len))
        mp_fail(r, "invalid UTF-8");
    else if (memchr(text, '\0', len) != NULL)
        mp_fail(r, "NUL characters are not allowed");
    else
        return text;
    return NULL;
}

static json_t *mp_read_string(mp_reader_t *r, size_t len)
{
    const char *text = mp_read_text(r, len);
    return text != NULL ? json_stringn_nocheck(text, len) : NULL;
}

/* Appends to the path the way the message will show it, cutting it short when it does not fit. */
__attribute__((format(printf, 2, 3))) static void mp_path_append(mp_reader_t *r, const char *fmt, ...)
{
    size_t used = strlen(r->path);
    va_list args;
    va_start(args, fmt);
    vsnprintf(r->path + used, sizeof(r->path) - used, fmt, args);
    va_end(args);
}

static json_t *mp_read_array(mp_reader_t *r, uint64_t count, int depth)
{
    json_t *array = json_array();
    size_t path_len = strlen(r->path);
    for (uint64_t i = 0; i < count; i++) {
        mp_path_append(r, "[%llu]", (unsigned long long)i);
        json_t *item = mp_read_value(r, depth + 1);
        r->path[path_len] = '\0';
        if (item == NULL) {
            json_decref(array);
            return NULL;
        }
        json_array_append_new(array, item);
    }
    return array;
}

/* Reads one map key; 0 on success, -1 with a message naming the map. */
static int mp_read_key(mp_reader_t *r, const char **key, size_t *key_len)
{
    uint64_t len;
    if (r->p == r->end) {
        mp_truncated(r);
        return -1;
    }
    unsigned char type = *r->p++;
    if (type >= 0xa0 && type <= 0xbf) {
        len = type & 0x1f;
    } else if (type < 0xd9 || type > 0xdb) {
        mp_fail(r, "map keys must be strings");
        return -1;
    } else if (mp_read_uint(r, (size_t)1 << (type - 0xd9), &len) != 0) {
        mp_truncated(r);
        return -1;
    }
    *key_len = (size_t)len;
    *key = mp_read_text(r, *key_len);
    return *key != NULL ? 0 : -1;
}

static json_t *mp_read_map(mp_reader_t *r, uint64_t count, int depth)
{
    json_t *map = json_object();
    size_t path_len = strlen(r->path);
    for (uint64_t i = 0; i < count; i++) {
        const char *key;
        size_t key_len;
        if (mp_read_key(r, &key, &key_len) != 0)
            goto Error;
        mp_path_append(r, "%s%.*s", path_len != 0 ? "." : "", (int)(key_len < sizeof(r->path) ? key_len : sizeof(r->path)), key);
        if (json_object_getn(map, key, key_len) != NULL) {
            mp_fail(r, "duplicate key");
            goto Error;
        }
        json_t *value = mp_read_value(r, depth + 1);
        r->path[path_len] = '\0';
        if (value == NULL)
            goto Error;
        json_object_setn_new_nocheck(map, key, key_len, value);
    }
    return map;
Error:
    json_decref(map);
    return NULL;
}

/* Containers: fixmap/fixarray carry their count in the type byte, the others in the 2 or 4 bytes after it. */
static json_t *mp_read_container(mp_reader_t *r, unsigned char type, int depth)
{
    int is_map = (type >= 0x80 && type <= 0x8f) || type == 0xde || type == 0xdf;
    uint64_t count = type & 0x0f;
    if (depth > MAX_DEPTH)
        return mp_fail(r, "nesting deeper than %d levels", MAX_DEPTH);
    if (type >= 0xdc && mp_read_uint(r, (type & 1) ? 4 : 2, &count) != 0)
        return mp_truncated(r);
    return is_map ? mp_read_map(r, count, depth) : mp_read_array(r, count, depth);
}

static json_t *mp_read_value(mp_reader_t *r, int depth)
{
    uint64_t len;
    if (r->p == r->end)
        return mp_truncated(r);
    unsigned char type = *r->p++;
    if (type <= 0x7f)
        return json_integer(type);
    if (type >= 0xe0)
        return json_integer((json_int_t)type - 256); /* negative fixint */
    if (type <= 0x9f || type == 0xdc || type == 0xdd || type == 0xde || type == 0xdf)
        return mp_read_container(r, type, depth);
    if (type <= 0xbf)
        return mp_read_string(r, type & 0x1f);
    switch (type) {
    case 0xc0:
        return json_null();
    case 0xc2:
        return json_false();
    case 0xc3:
        return json_true();
    case 0xc4: /* bin 8, 16, 32 */
    case 0xc5:
    case 0xc6:
        return mp_fail(r, "binary data is not supported");
    case 0xca:
        return mp_read_float(r, 4);
    case 0xcb:
        return mp_read_float(r, 8);
    case 0xcc: /* uint 8, 16, 32, 64 */
    case 0xcd:
    case 0xce:
    case 0xcf:
        return mp_read_unsigned(r, (size_t)1 << (type - 0xcc));
    case 0xd0: /* int 8, 16, 32, 64 */
    case 0xd1:
    case 0xd2:
    case 0xd3:
        return mp_read_signed(r, (size_t)1 << (type - 0xd0));
    case 0xd9: /* str 8, 16, 32 */
    case 0xda:
    case 0xdb:
        if (mp_read_uint(r, (size_t)1 << (type - 0xd9), &len) != 0)
            return mp_truncated(r);
        return mp_read_string(r, (size_t)len);
    case 0xc1:
        return mp_fail(r, "malformed msgpack: byte 0xc1 is never used");
    default: /* 0xc7-0xc9 and 0xd4-0xd8 */
        return mp_fail(r, "ext data is not supported");
    }
}

static json_t *decode_msgpack(const char *body, size_t len, char *err, size_t errsize)
{
    mp_reader_t r = {.p = (const unsigned char *)body, .end = (const unsigned char *)body + len, .err = err, .errsize = errsize};
    unsigned char type = r.p[0]; /* the caller has made sure there is a byte */
    if (!((type >= 0x80 && type <= 0x8f) || type == 0xde || type == 0xdf)) {
        snprintf(err, errsize, "body must be a msgpack map");
        return NULL;
    }
    json_t *value = mp_read_value(&r, 1);
    if (value != NULL && r.p != r.end) {
        snprintf(err, errsize, "malformed msgpack: %zu bytes after the map", (size_t)(r.end - r.p));
        json_decref(value);
        return NULL;
    }
    return value;
}

/*
 * Decoded bodies live in arenas. A body is a tree of a dozen or more small jansson allocations, made and freed by one
 * request: through jansson's allocation hooks, the values made while a body is decoded come from one arena, which counts
 * them and goes when the last is freed. Every jansson allocation carries a header saying where it came from; outside a
 * decode they come from malloc as before.
 */
typedef struct st_arena_chunk_t {
    struct st_arena_chunk_t *next; /* the first chunk's next is the newest chunk, whose next is the one before... */
    size_t used, size;
    size_t live; /* in the first chunk: allocations not freed yet */
    max_align_t bytes[];
} arena_chunk_t;

typedef struct st_alloc_header_t {
    arena_chunk_t *arena; /* NULL: from malloc; else the arena's first chunk */
    max_align_t bytes[];
} alloc_header_t;

static int arenas_installed;
static _Thread_local arena_chunk_t *decoding; /* the arena of the body being decoded on this thread */

static void *jansson_malloc(size_t size)
{
    alloc_header_t *header;
    size_t need = sizeof(*header) + (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    arena_chunk_t *first = decoding;
    if (first == NULL) {
        header = lb_malloc(sizeof(*header) + size);
        header->arena = NULL;
        return header->bytes;
    }
    arena_chunk_t *chunk = first->next != NULL ? first->next : first;
    if (chunk->size - chunk->used < need) {
        size_t chunk_size = chunk->size * 2 > need ? chunk->size * 2 : need;
        arena_chunk_t *added = lb_malloc(sizeof(*added) + chunk_size);
        *added = (arena_chunk_t){.next = first->next, .size = chunk_size};
        first->next = added;
        chunk = added;
    }
    header = (alloc_header_t *)((char *)chunk->bytes + chunk->used);
    header->arena = first;
    chunk->used += need;
    ++first->live;
    return header->bytes;
}

static void arena_free(arena_chunk_t *first)
{
    if (first == decoding)
        decoding = NULL; /* a decode that failed and freed what it had made: the rest of it uses malloc */
    for (arena_chunk_t *chunk = first; chunk != NULL;) {
        arena_chunk_t *next = chunk->next;
        free(chunk);
        chunk = next;
    }
}

static void jansson_free(void *p)
{
    if (p == NULL)
        return;
    alloc_header_t *header = (alloc_header_t *)((char *)p - offsetof(alloc_header_t, bytes));
    if (header->arena == NULL)
        free(header);
    else if (--header->arena->live == 0)
        arena_free(header->arena);
}

void lb_codec_init(void)
{
    json_set_alloc_funcs(jansson_malloc, jansson_free);
    arenas_installed = 1;
}

json_t *lb_codec_decode(lb_format_t format, const char *body, size_t len, char *err, size_t errsize)
{
    json_t *value;
    if (len == 0) {
        snprintf(err, errsize, "empty body");
        return NULL;
    }
    if (arenas_installed) {
        /* room for the tree of a typical body in one chunk; a bigger tree chains more */
        size_t size = 1024 + 8 * len;
        decoding = lb_malloc(sizeof(*decoding) + size);
        *decoding = (arena_chunk_t){.size = size};
    }
    if (errsize != 0)
        err[0] = '\0';
    value = format == LB_FORMAT_MSGPACK ? decode_msgpack(body, len, err, errsize) : decode_json(body, len, err, errsize);
    if (decoding != NULL && decoding->live == 0)
        arena_free(decoding); /* nothing was made, or all of it freed */
    decoding = NULL;
    if (value == NULL && errsize != 0) {
        /* jansson's constructors fail only for want of memory; every other failure has said why */
        if (err[0] == '\0')
            snprintf(err, errsize, "out of memory");
        lb_utf8_mend(err);
    }
    return value;
}

/* Encoding */

typedef lb_buffer_t out_buffer_t;

/* Makes room for len more bytes; returns where they go. */
static char *out_reserve(out_buffer_t *out, size_t len)
{
    if (out->capacity - out->len < len) {
        while (out->capacity - out->len < len)
            out->capacity = out->capacity != 0 ? out->capacity * 2 : 512; /* a typical answer fits the first buffer */
        out->bytes = lb_realloc(out->bytes, out->capacity);
    }
    return out->bytes + out->len;
}

static void out_append(out_buffer_t *out, const void *bytes, size_t len)
{
    memcpy(out_reserve(out, len), bytes, len);
    out->len += len;
}

static void out_byte(out_buffer_t *out, char byte)
{
    *out_reserve(out, 1) = byte;
    out->len++;
}

/*
 * Encoding JSON: the same bytes as jansson's json_dump_callback with JSON_COMPACT | JSON_ENCODE_ANY, which spent much of
 * its time guarding against reference cycles (our values have none) and printf-ing integers.
 */

/* A string with the escapes jansson writes: \" \\ \b \f \n \r \t, \u00XX for other control characters; -1 if not UTF-8. */
static int write_json_string(out_buffer_t *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    /* room for the string as it is and its quotes; each escape makes room for what it adds */
    char *w = out_reserve(out, len + 2);
    *w++ = '"';
    while (p < end) {
        /* Runs of bytes that stand for themselves are copied whole; most strings are one run. */
        const unsigned char *run = p;
        while (p < end && lb_json_plain[*p])
            p++;
        memcpy(w, run, (size_t)(p - run));
        w += p - run;
        if (p == end)
            break;
        size_t n;
        if (*p >= 0x80) {
            if ((n = lb_utf8_sequence_length(p, (size_t)(end - p))) == 0)
                return -1;
            memcpy(w, p, n);
            w += n;
            p += n;
            continue;
        }
        out->len = (size_t)(w - out->bytes);
        w = out_reserve(out, (size_t)(end - p) + 6);
        *w++ = '\\';
        switch (*p) {
        case '"':
        case '\\':
            *w++ = (char)*p;
            break;
        case '\b':
            *w++ = 'b';
            break;
        case '\f':
            *w++ = 'f';
            break;
        case '\n':
            *w++ = 'n';
            break;
        case '\r':
            *w++ = 'r';
            break;
        case '\t':
            *w++ = 't';
            break;
        default:
            memcpy(w, "u00", 3);
            w[3] = hex[*p >> 4];
            w[4] = hex[*p & 0xf];
            w += 5;
        }
        p++;
    }
    *w++ = '"';
    out->len = (size_t)(w - out->bytes);
    return 0;
}

/* Written two digits at a time, from the right. */
static void write_json_integer(out_buffer_t *out, json_int_t value)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    char digits[24], *p = digits + sizeof(digits);
    uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    while (magnitude >= 100) {
        p -= 2;
        memcpy(p, &pairs[2 * (magnitude % 100)], 2);
        magnitude /= 100;
    }
    if (magnitude >= 10) {
        p -= 2;
        memcpy(p, &pairs[2 * magnitude], 2);
    } else {
        *--p = (char)('0' + magnitude);
    }
    if (value < 0)
        *--p = '-';
    out_append(out, p, (size_t)(digits + sizeof(digits) - p));
}

/* As jansson writes a real: %.17g, ".0" added when that looks like an integer, no '+' or leading zeros in the exponent. */
static int write_json_real(out_buffer_t *out, double value)
{
    char text[40];
    if (!isfinite(value))
        return -1; /* jansson's json_real refuses these, so they cannot be here */
    int len = snprintf(text, sizeof(text) - 2, "%.17g", value);
    char *exponent = strchr(text, 'e');
    if (exponent == NULL && strchr(text, '.') == NULL) {
        memcpy(text + len, ".0", 3);
        len += 2;
    } else if (exponent != NULL) {
        char *to = exponent + 1 + (exponent[1] == '-'), *from = exponent + 2; /* %g always writes the sign */
        while (*from == '0' && from[1] != '\0')
            from++;
        memmove(to, from, strlen(from) + 1);
        len = (int)strlen(text);
    }
    out_append(out, text, (size_t)len);
    return 0;
}

static int out_append_msgpack(void *out, const char *bytes, size_t len)
{
    out_append(out, bytes, len);
    return 0;
}

/* The answer writer */

static msgpack_packer writer_packer(lb_writer_t *w)
{
    msgpack_packer packer;
    msgpack_packer_init(&packer, &w->out, out_append_msgpack);
    return packer;
}

void lb_writer_init(lb_writer_t *w, lb_format_t format)
{
    w->format = format;
    w->failed = 0;
    w->out = (lb_buffer_t){NULL, 0, 0};
    w->depth = 0;
    w->open[0].count = 0;
}

/* Counts an entry into the innermost open container; in JSON, writes the comma after the entry before it. */
static void writer_entry(lb_writer_t *w)
{
    if (w->open[w->depth].count++ != 0 && w->format == LB_FORMAT_JSON)
        out_byte(&w->out, ',');
}

/* Writes what comes before a value: the comma (JSON), and the key when it is a map's field. */
static void writer_key(lb_writer_t *w, const char *key)
{
    out_buffer_t *out = &w->out;
    if (w->format == LB_FORMAT_MSGPACK) {
        w->open[w->depth].count++;
        if (key != NULL) {
            msgpack_packer packer = writer_packer(w);
            msgpack_pack_str_with_body(&packer, key, strlen(key));
        }
        return;
    }
    int comma = w->open[w->depth].count++ != 0;
    if (key == NULL) {
        if (comma)
            out_byte(out, ',');
        return;
    }
    /* Keys are names in our code, nearly always plain ASCII: ,"key": in one piece, or else by write_json_string. */
    size_t len = 0;
    while (lb_json_plain[(unsigned char)key[len]])
        len++;
    if (key[len] == '\0') {
        char *o = out_reserve(out, len + 4);
        *o = ',';
        o += comma;
        *o++ = '"';
        memcpy(o, key, len);
        memcpy(o + len, "\":", 2);
        out->len = (size_t)(o + len + 2 - out->bytes);
        return;
    }
    if (comma)
        out_byte(out, ',');
    if (write_json_string(out, key, strlen(key)) != 0)
        w->failed = 1;
    out_byte(out, ':');
}

/* The same for a key of key_len bytes (a decoded document's, which may hold any character). */
static void writer_key_bytes(lb_writer_t *w, const char *key, size_t key_len)
{
    writer_entry(w);
    if (w->format == LB_FORMAT_MSGPACK) {
        msgpack_packer packer = writer_packer(w);
        msgpack_pack_str_with_body(&packer, key, key_len);
        return;
    }
    if (write_json_string(&w->out, key, key_len) != 0)
        w->failed = 1;
    out_byte(&w->out, ':');
}

/*
 * Opens a map or an array, after its key. msgpack writes the number of entries first: a fixmap or fixarray byte holds
 * its place, and lb_writer_end puts the count there (moving the entries along when it takes the 3 or 5 bytes of a
 * map16/32 or array16/32), so the bytes are the ones msgpack_pack_map and msgpack_pack_array would have given.
 */
static void put_open(lb_writer_t *w, int is_array)
{
    ++w->depth;
    assert(w->depth < LB_WRITER_DEPTH);
    w->open[w->depth] = (struct st_lb_writer_open_t){.start = w->out.len, .count = 0, .is_array = is_array};
    out_byte(&w->out, w->format == LB_FORMAT_MSGPACK ? (char)0x80 : is_array ? '[' : '{');
}

/* Puts a closed msgpack map or array's count in its header. */
static void put_count(lb_writer_t *w, size_t start, uint32_t count, int is_array)
{
    static const unsigned char fix[2] = {0x80, 0x90}, wide16[2] = {0xde, 0xdc}, wide32[2] = {0xdf, 0xdd};
    unsigned char header[5];
    size_t header_len;
    if (count < 16) {
        w->out.bytes[start] = (char)(fix[is_array] | count);
        return;
    }
    if (count <= 0xffff) {
        header[0] = wide16[is_array];
        header[1] = (unsigned char)(count >> 8);
        header[2] = (unsigned char)count;
        header_len = 3;
    } else {
        header[0] = wide32[is_array];
        for (int i = 0; i != 4; ++i)
            header[1 + i] = (unsigned char)(count >> (24 - 8 * i));
        header_len = 5;
    }
    out_reserve(&w->out, header_len - 1);
    memmove(w->out.bytes + start + header_len, w->out.bytes + start + 1, w->out.len - start - 1);
    memcpy(w->out.bytes + start, header, header_len);
    w->out.len += header_len - 1;
}

void lb_writer_end(lb_writer_t *w)
{
    assert(w->depth != 0);
    const struct st_lb_writer_open_t *open = &w->open[w->depth--];
    if (w->format == LB_FORMAT_MSGPACK)
        put_count(w, open->start, open->count, open->is_array);
    else
        out_byte(&w->out, open->is_array ? ']' : '}');
}

static void put_int(lb_writer_t *w, int64_t value)
{
    if (w->format == LB_FORMAT_MSGPACK) {
        msgpack_packer packer = writer_packer(w);
        msgpack_pack_int64(&packer, value);
    } else {
        write_json_integer(&w->out, value);
    }
}

/* A string of len bytes (NULs allowed); marks the writer failed unless it is UTF-8. */
static void put_string(lb_writer_t *w, const char *value, size_t len)
{
    if (w->format == LB_FORMAT_MSGPACK) {
        msgpack_packer packer = writer_packer(w);
        if (!utf8_is_valid(value, len))
            w->failed = 1;
        msgpack_pack_str_with_body(&packer, value, len);
    } else if (write_json_string(&w->out, value, len) != 0) {
        w->failed = 1;
    }
}

static void put_bool(lb_writer_t *w, int value)
{
    if (w->format == LB_FORMAT_MSGPACK)
        out_byte(&w->out, value ? (char)0xc3 : (char)0xc2);
    else if (value)
        out_append(&w->out, "true", 4);
    else
        out_append(&w->out, "false", 5);
}

static void put_null(lb_writer_t *w)
{
    if (w->format == LB_FORMAT_MSGPACK)
        out_byte(&w->out, (char)0xc0);
    else
        out_append(&w->out, "null", 4);
}

static void put_real(lb_writer_t *w, double value)
{
    if (w->format == LB_FORMAT_MSGPACK) {
        msgpack_packer packer = writer_packer(w);
        msgpack_pack_double(&packer, value);
    } else if (write_json_real(&w->out, value) != 0) {
        w->failed = 1;
    }
}

void lb_writer_map(lb_writer_t *w, const char *key)
{
    writer_key(w, key);
    put_open(w, 0);
}

void lb_writer_array(lb_writer_t *w, const char *key)
{
    writer_key(w, key);
    put_open(w, 1);
}

void lb_writer_int(lb_writer_t *w, const char *key, int64_t value)
{
    writer_key(w, key);
    put_int(w, value);
}

void lb_writer_string(lb_writer_t *w, const char *key, const char *value)
{
    writer_key(w, key);
    put_string(w, value, strlen(value));
}

void lb_writer_bool(lb_writer_t *w, const char *key, int value)
{
    writer_key(w, key);
    put_bool(w, value);
}

void lb_writer_null(lb_writer_t *w, const char *key)
{
    writer_key(w, key);
    put_null(w);
}

/* The name of the field at *format (up to ':'), copied into name; moves *format past the ':'. */
static const char *pack_name(const char **format, char *name, size_t size)
{
    const char *colon = strchr(*format, ':');
    size_t len = (size_t)(colon - *format);
    assert(colon != NULL && len < size);
    memcpy(name, *format, len);
    name[len] = '\0';
    *format = colon + 1;
    return name;
}

/* The fields of format up to its end or to the '}' that closes a map it opened; returns where it stopped. */
static const char *pack_fields(lb_writer_t *w, const char *format, va_list *args)
{
    char name[64];
    while (*format != '\0' && *format != '}') {
        const char *key = pack_name(&format, name, sizeof(name));
        int64_t value;
        switch (*format++) {
        case 'I':
            lb_writer_int(w, key, va_arg(*args, int64_t));
            break;
        case 'N':
            if ((value = va_arg(*args, int64_t)) != 0)
                lb_writer_int(w, key, value);
            else
                lb_writer_null(w, key);
            break;
        case 's':
            lb_writer_string(w, key, va_arg(*args, const char *));
            break;
        case 'b':
            lb_writer_bool(w, key, va_arg(*args, int));
            break;
        case 'n':
            lb_writer_null(w, key);
            break;
        case '{':
            lb_writer_map(w, key);
            format = pack_fields(w, format, args);
            assert(*format == '}');
            format++;
            lb_writer_end(w);
            break;
        default:
            assert(!"unknown type in an lb_writer_pack format");
        }
        if (*format == ',')
            format++;
    }
    return format;
}

void lb_writer_pack(lb_writer_t *w, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    const char *end = pack_fields(w, format, &args);
    assert(*end == '\0');
    (void)end;
    va_end(args);
}

/* A decoded value, after its key. */
static void put_json(lb_writer_t *w, const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        put_open(w, 0);
        for (void *it = json_object_iter((json_t *)value); it != NULL; it = json_object_iter_next((json_t *)value, it)) {
            writer_key_bytes(w, json_object_iter_key(it), json_object_iter_key_len(it));
            put_json(w, json_object_iter_value(it));
        }
        lb_writer_end(w);
        break;
    case JSON_ARRAY:
        put_open(w, 1);
        for (size_t i = 0; i < json_array_size(value); i++) {
            writer_entry(w);
            put_json(w, json_array_get(value, i));
        }
        lb_writer_end(w);
        break;
    case JSON_STRING:
        put_string(w, json_string_value(value), json_string_length(value));
        break;
    case JSON_INTEGER:
        put_int(w, json_integer_value(value));
        break;
    case JSON_REAL:
        put_real(w, json_real_value(value));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        put_bool(w, json_is_true(value));
        break;
    case JSON_NULL:
        put_null(w);
        break;
    }
}

void lb_writer_json(lb_writer_t *w, const char *key, const json_t *value)
{
    writer_key(w, key);
    put_json(w, value);
}

char *lb_codec_encode(lb_format_t format, const json_t *value, size_t *len)
{
    lb_writer_t w;
    lb_writer_init(&w, format);
    if (value != NULL)
        lb_writer_json(&w, NULL, value);
    if (value == NULL || w.failed) {
        /* only a value our own code built wrongly (NULL, or a string made unchecked with invalid UTF-8) gets here */
        free(w.out.bytes);
        *len = 0;
        return NULL;
    }
    *len = w.out.len;
    return w.out.bytes;
}

/* Field readers */

int lb_input_error(lb_input_error_t *err, int status, const char *code, const char *fmt, ...)
{
    va_list args;
    err->status = status;
    err->code = code;
    va_start(args, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, args);
    va_end(args);
    return LB_EINPUT;
}

/* A 422 "invalid" whose message starts with the field's full name. */
__attribute__((format(printf, 3, 4))) static int field_error(lb_input_error_t *err, const char *name, const char *fmt, ...)
{
    char problem[200];
    va_list args;
    va_start(args, fmt);
    vsnprintf(problem, sizeof(problem), fmt, args);
    va_end(args);
    return lb_input_error(err, 422, "invalid", "%s%s %s", err->field_prefix != NULL ? err->field_prefix : "", name, problem);
}

/* Finds a field: 1 when present, 0 when absent or null and optional, LB_EINPUT when absent or null and required. */
lb_value_t lb_codec_value(const json_t *value)
{
    if (value == NULL)
        return (lb_value_t){.kind = LB_VALUE_NULL};
    switch (json_typeof(value)) {
    case JSON_INTEGER:
        return (lb_value_t){.kind = LB_VALUE_INT, .integer = json_integer_value(value)};
    case JSON_STRING:
        return (lb_value_t){.kind = LB_VALUE_STRING, .string = json_string_value(value), .len = json_string_length(value)};
    case JSON_OBJECT:
        return (lb_value_t){.kind = LB_VALUE_OBJECT};
    case JSON_NULL:
        return (lb_value_t){.kind = LB_VALUE_NULL};
    default:
        return (lb_value_t){.kind = LB_VALUE_OTHER};
    }
}

static int field_find(const json_t *obj, const char *name, int required, const json_t **value, lb_input_error_t *err)
{
    *value = json_object_get(obj, name);
    if (*value != NULL && !json_is_null(*value))
        return 1;
    return required ? field_error(err, name, "is required") : 0;
}

/* Counts the characters of a valid UTF-8 string and says whether it holds a control character, in one pass. */
static size_t text_length(const char *s, size_t len, int *control)
{
    size_t count = 0;
    *control = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        count += (c & 0xc0) != 0x80;
        *control |= c < 0x20 || c == 0x7f;
    }
    return count;
}

int lb_value_string(const lb_value_t *value, const char *name, int required, size_t min_chars, size_t max_chars, const char **out,
                    lb_input_error_t *err)
{
    int control;
    if (value->kind == LB_VALUE_NULL)
        return required ? field_error(err, name, "is required") : 0;
    if (value->kind != LB_VALUE_STRING)
        return field_error(err, name, "must be a string");
    size_t chars = value->counted ? (control = 0, value->chars) : text_length(value->string, value->len, &control);
    if (chars < min_chars || chars > max_chars)
        return field_error(err, name, "must be %zu-%zu characters", min_chars, max_chars);
    if (control)
        return field_error(err, name, "must not contain control characters");
    *out = value->string;
    return 0;
}

int lb_value_int(const lb_value_t *value, const char *name, int required, int64_t min, int64_t max, int64_t *out,
                 lb_input_error_t *err)
{
    if (value->kind == LB_VALUE_NULL)
        return required ? field_error(err, name, "is required") : 0;
    if (value->kind != LB_VALUE_INT)
        return field_error(err, name, "must be an integer");
    if (value->integer < min || value->integer > max)
        return field_error(err, name, "must be between %lld and %lld", (long long)min, (long long)max);
    *out = value->integer;
    return 0;
}

int lb_field_string(const json_t *obj, const char *name, int required, size_t min_chars, size_t max_chars, const char **out,
                    lb_input_error_t *err)
{
    lb_value_t value = lb_codec_value(json_object_get(obj, name));
    return lb_value_string(&value, name, required, min_chars, max_chars, out, err);
}

int lb_field_int(const json_t *obj, const char *name, int required, int64_t min, int64_t max, int64_t *out, lb_input_error_t *err)
{
    lb_value_t value = lb_codec_value(json_object_get(obj, name));
    return lb_value_int(&value, name, required, min, max, out, err);
}

int lb_field_bool(const json_t *obj, const char *name, int required, int *out, lb_input_error_t *err)
{
    const json_t *value;
    int found = field_find(obj, name, required, &value, err);
    if (found <= 0)
        return found;
    if (!json_is_boolean(value))
        return field_error(err, name, "must be true or false");
    *out = json_is_true(value);
    return 0;
}

static int enum_error(lb_input_error_t *err, const char *name, const char *const *allowed)
{
    char list[160] = "";
    size_t used = 0;
    for (size_t i = 0; allowed[i] != NULL && used < sizeof(list); i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s\"%s\"", i != 0 ? ", " : "", allowed[i]);
    return field_error(err, name, "must be one of %s", list);
}

int lb_field_enum(const json_t *obj, const char *name, int required, const char *const *allowed, int *index, lb_input_error_t *err)
{
    const json_t *value;
    int found = field_find(obj, name, required, &value, err);
    if (found <= 0)
        return found;
    if (json_is_string(value)) {
        /* compared with lengths, so "coop" followed by a NUL and more is not "coop" */
        for (int i = 0; allowed[i] != NULL; i++) {
            if (json_string_length(value) == strlen(allowed[i]) &&
                memcmp(json_string_value(value), allowed[i], strlen(allowed[i])) == 0) {
                *index = i;
                return 0;
            }
        }
    }
    return enum_error(err, name, allowed);
}

int lb_field_object_array(const json_t *obj, const char *name, int required, size_t max_items, const json_t **out,
                          lb_input_error_t *err)
{
    const json_t *value;
    int found = field_find(obj, name, required, &value, err);
    if (found <= 0)
        return found;
    int ok = json_is_array(value) && json_array_size(value) >= 1 && json_array_size(value) <= max_items;
    for (size_t i = 0; ok && i < json_array_size(value); i++)
        ok = json_is_object(json_array_get(value, i));
    if (!ok)
        return field_error(err, name, "must be an array of 1-%zu objects", max_items);
    *out = value;
    return 0;
}
