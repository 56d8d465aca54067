/*
 * Decoding JSON into fields: one recursive-descent pass over the bytes (RFC 8259, strictly). It refuses a duplicate
 * key, a NUL byte anywhere outside a string's escapes (\u0000 too: handlers read strings as C strings), a number
 * outside int64 (an integer) or double (a real), and nesting past LB_CODEC_MAX_DEPTH as soon as it gets there; an
 * error names its line and column. The common case, an order's small object of plain strings and short integers, takes
 * the shortest way through each token.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "internal.h"

typedef struct st_json_decoder_t {
    const char *start, *p, *end;
    const char *error_at; /* where the problem is, for the line and column of the message */
    char reason[64];      /* empty while all is well */
    int too_deep;
    lb_fields_builder_t b;
} json_decoder_t;

static int decode_value(json_decoder_t *d, uint32_t at, int depth);

__attribute__((format(printf, 3, 4))) static int fail(json_decoder_t *d, const char *at, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(d->reason, sizeof(d->reason), fmt, args);
    va_end(args);
    d->error_at = at;
    return -1;
}

static int fail_unexpected(json_decoder_t *d, const char *at)
{
    if (at == d->end)
        return fail(d, at, "unexpected end of input");
    unsigned char c = (unsigned char)*at;
    if (c > 0x20 && c < 0x7f)
        return fail(d, at, "unexpected character '%c'", c);
    return fail(d, at, "unexpected byte 0x%02x", c);
}

/* Fails at d->p, where what (say "':'") should have been. */
static int fail_expected(json_decoder_t *d, const char *what)
{
    if (d->p == d->end)
        return fail(d, d->p, "unexpected end of input");
    return fail(d, d->p, "expected %s", what);
}

/* Inline everywhere: it runs before and after every token, and most often finds nothing to skip. */
__attribute__((always_inline)) static inline void skip_whitespace(json_decoder_t *d)
{
    const char *p = d->p;
    while (p < d->end && (unsigned char)*p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    d->p = p;
}

/* The byte at d->p after any whitespace, or -1 at the end. Most often there is no whitespace to skip. */
__attribute__((always_inline)) static inline int peek(json_decoder_t *d)
{
    if (d->p < d->end && (unsigned char)*d->p > ' ')
        return (unsigned char)*d->p;
    skip_whitespace(d);
    return d->p < d->end ? (unsigned char)*d->p : -1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Strings */

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
static int32_t read_escape(json_decoder_t *d, const char **p)
{
    const char *at = *p, *end = d->end;
    if (end - at < 2)
        return fail(d, end, "unterminated string");
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
        return fail(d, at, "invalid escape");
    }
    int32_t unit = read_hex4(at + 2, end), low;
    if (unit < 0)
        return fail(d, at, "invalid \\u escape");
    if (unit == 0)
        return fail(d, at, "\\u0000 is not allowed");
    *p = at + 6;
    if (unit < 0xd800 || unit > 0xdfff)
        return unit;
    /* a UTF-16 surrogate: only a high one followed by the escape of a low one makes a character */
    if (unit > 0xdbff || end - *p < 6 || (*p)[0] != '\\' || (*p)[1] != 'u' || (low = read_hex4(*p + 2, end)) < 0xdc00 ||
        low > 0xdfff)
        return fail(d, at, "invalid UTF-16 surrogate");
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

/* A string as scanned: where its bytes are between the quotes, and what the scan learnt of them. */
typedef struct st_json_text_t {
    const char *bytes;
    size_t len, chars;
    int escaped, plain; /* plain: no escape and no DEL, so chars counts its characters and none is a control one */
} json_text_t;

/*
 * Scans the string whose opening quote is at d->p, up to after its closing one: checks it and counts its characters.
 * Most strings are runs of printable ASCII and, in a Chinese address, three-byte characters whose lead byte needs no
 * narrower check of the second (not E0, which could be overlong, nor ED, which could be a surrogate).
 */
__attribute__((always_inline)) static inline int scan_text(json_decoder_t *d, json_text_t *text)
{
    const unsigned char *start = (const unsigned char *)d->p + 1, *p = start, *end = (const unsigned char *)d->end;
    size_t chars = 0, n;
    int escaped = 0, del = 0;
    for (;;) {
        const unsigned char *run = p;
        while (p < end && lb_codec__json_plain[*p] && *p != 0x7f) /* DEL: a control character, for the readers */
            p++;
        chars += (size_t)(p - run);
        if (p == end)
            return fail(d, (const char *)p, "unterminated string");
        if (*p == '"')
            break;
        if (*p >= 0xe1 && *p <= 0xef && *p != 0xed && end - p >= 3 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
            n = 3;
        } else if (*p == '\\') {
            const char *q = (const char *)p;
            if (read_escape(d, &q) < 0)
                return -1;
            escaped = 1;
            n = (size_t)((const unsigned char *)q - p);
        } else if (*p == 0x7f) {
            del = 1;
            n = 1;
        } else if (*p < 0x20) {
            return fail(d, (const char *)p, "control character in string");
        } else if ((n = lb_codec__utf8_sequence_length(p, (size_t)(end - p))) == 0) {
            return fail(d, (const char *)p, "invalid UTF-8 in string");
        }
        p += n;
        ++chars;
    }
    *text = (json_text_t){(const char *)start, (size_t)(p - start), chars, escaped, !escaped && !del};
    d->p = (const char *)p + 1;
    return 0;
}

/* Writes a scanned string with escapes, unescaped, at out (its place in the copy: never longer than it was); returns its
 * length. */
static size_t unescape(json_decoder_t *d, const json_text_t *text, char *out)
{
    const char *p = text->bytes, *end = text->bytes + text->len;
    char *o = out;
    while (p < end) {
        const char *backslash = memchr(p, '\\', (size_t)(end - p));
        size_t run = (size_t)((backslash != NULL ? backslash : end) - p);
        memcpy(o, p, run);
        o += run;
        p += run;
        if (p < end)
            o = put_utf8(o, read_escape(d, &p)); /* checked by the scan */
    }
    return (size_t)(o - out);
}

/* The string value whose opening quote is at d->p, into the value at index at: in place in the copy. */
static inline int decode_string(json_decoder_t *d, uint32_t at)
{
    json_text_t text;
    if (scan_text(d, &text) != 0)
        return -1;
    char *copy = lb_fields__copy(&d->b, text.bytes);
    if (!text.escaped)
        lb_fields__keep_string(&d->b, at, copy, text.len, text.chars, text.plain);
    else
        lb_fields__keep_string(&d->b, at, copy, unescape(d, &text, copy), 0, 0);
    return 0;
}

/* Numbers and literals */

/* A real: strtod wants a NUL-terminated string, and the body is not one, so it reads a copy. */
static int decode_real(json_decoder_t *d, uint32_t at, const char *start, size_t len)
{
    char local[64], *copy = len < sizeof(local) ? local : lb_malloc(len + 1);
    memcpy(copy, start, len);
    copy[len] = '\0';
    double value = strtod(copy, NULL);
    if (copy != local)
        free(copy);
    if (isinf(value))
        return fail(d, start, "number out of range");
    lb_value_t *v = lb_fields__at(&d->b, at);
    v->kind = LB_VALUE_REAL;
    v->real = value;
    return 0;
}

/*
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?: an integer without fraction or exponent, a real with. The first 18
 * digits cannot overflow; only longer integers are checked digit by digit.
 */
static int decode_number(json_decoder_t *d, uint32_t at)
{
    const char *start = d->p, *p = start, *end = d->end;
    int negative = *p == '-', is_real = 0, overflow = 0;
    uint64_t magnitude = 0;
    p += negative;
    if (p == end || !is_digit(*p))
        return fail_unexpected(d, p);
    if (*p == '0') {
        if (++p < end && is_digit(*p))
            return fail(d, p, "leading zeros are not allowed");
    } else {
        const char *digits = p;
        for (; p < end && is_digit(*p) && p - digits < 18; p++)
            magnitude = magnitude * 10 + (unsigned)(*p - '0');
        for (; p < end && is_digit(*p); p++) {
            unsigned digit = (unsigned)(*p - '0');
            overflow |= magnitude > (UINT64_MAX - digit) / 10;
            magnitude = magnitude * 10 + digit;
        }
    }
    if (p < end && *p == '.') {
        is_real = 1;
        if (++p == end || !is_digit(*p))
            return fail(d, p, "expected a digit after '.'");
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_real = 1;
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !is_digit(*p))
            return fail(d, p, "expected a digit in the exponent");
        while (p < end && is_digit(*p))
            p++;
    }
    d->p = p;
    if (is_real)
        return decode_real(d, at, start, (size_t)(p - start));
    if (overflow || magnitude > (uint64_t)INT64_MAX + (uint64_t)negative)
        return fail(d, start, "integer out of range");
    lb_value_t *v = lb_fields__at(&d->b, at);
    v->kind = LB_VALUE_INT;
    v->integer = negative && magnitude != 0 ? -(int64_t)(magnitude - 1) - 1 : (int64_t)magnitude; /* INT64_MIN too */
    return 0;
}

static int decode_literal(json_decoder_t *d, uint32_t at, const char *word, size_t len, lb_value_kind_t kind, int64_t integer)
{
    if ((size_t)(d->end - d->p) < len || memcmp(d->p, word, len) != 0)
        return fail_unexpected(d, d->p);
    d->p += len;
    lb_value_t *v = lb_fields__at(&d->b, at);
    v->kind = kind;
    v->integer = integer;
    return 0;
}

/*
 * The integers most bodies hold, up to 18 digits with nothing of a real after them, read without decode_number's
 * checks (they cannot overflow); 0 when it took one, -1 (nothing read) for decode_number to read whatever is there.
 */
static inline int decode_short_integer(json_decoder_t *d, uint32_t at)
{
    const char *p = d->p, *end = d->end;
    int negative = *p == '-';
    int64_t n = 0;
    p += negative;
    if (p == end || *p < '1' || *p > '9')
        return -1;
    for (const char *digits = p; p < end && is_digit(*p) && p - digits < 18; p++)
        n = n * 10 + (*p - '0');
    if (p < end && (is_digit(*p) || *p == '.' || *p == 'e' || *p == 'E'))
        return -1;
    lb_value_t *v = lb_fields__at(&d->b, at);
    v->kind = LB_VALUE_INT;
    v->integer = negative ? -n : n;
    d->p = p;
    return 0;
}

/* Containers */

/* Reads one "key": value pair into the object at index object. */
static int decode_member(json_decoder_t *d, uint32_t object, int depth)
{
    json_text_t key;
    if (peek(d) != '"')
        return fail_expected(d, "a string key");
    const char *key_at = d->p;
    if (scan_text(d, &key) != 0)
        return -1;
    char *name = lb_fields__copy(&d->b, key.bytes);
    size_t name_len = key.escaped ? unescape(d, &key, name) : key.len;
    if (peek(d) != ':')
        return fail_expected(d, "':'");
    d->p++;
    uint32_t at = lb_fields__add(&d->b, object, name, name_len);
    if (at == 0 && lb_fields__full(&d->b))
        return fail(d, key_at, "more than %u values", d->b.f->max_values);
    if (at == 0)
        return fail(d, key_at, "duplicate object key");
    /* most values of a body are strings and numbers: read without the call that finds out */
    int c = peek(d);
    if (c == '"')
        return decode_string(d, at);
    if (c == '-' || (c >= '0' && c <= '9'))
        return decode_short_integer(d, at) == 0 ? 0 : decode_number(d, at);
    return decode_value(d, at, depth + 1);
}

/* Reads the array or object whose opening bracket is at d->p, up to its closing one, into the value at index at. */
static int decode_container(json_decoder_t *d, uint32_t at, int depth)
{
    int is_object = *d->p == '{';
    char close = is_object ? '}' : ']';
    lb_fields__at(&d->b, at)->kind = is_object ? LB_VALUE_OBJECT : LB_VALUE_ARRAY;
    d->p++;
    if (peek(d) == close) {
        d->p++;
        return 0;
    }
    for (;;) {
        uint32_t item = is_object ? 0 : lb_fields__add(&d->b, at, NULL, 0);
        if (!is_object && item == 0)
            return fail(d, d->p, "more than %u values", d->b.f->max_values);
        if (is_object ? decode_member(d, at, depth) : decode_value(d, item, depth + 1))
            return -1;
        int c = peek(d);
        if (c == ',') {
            d->p++;
        } else if (c == close) {
            d->p++;
            return 0;
        } else {
            return fail_expected(d, is_object ? "',' or '}'" : "',' or ']'");
        }
    }
}

/* Reads one value after optional whitespace into the value at index at; depth is the level a container there would
 * be, the top one being 1. */
static int decode_value(json_decoder_t *d, uint32_t at, int depth)
{
    skip_whitespace(d);
    if (d->p == d->end)
        return fail_unexpected(d, d->p);
    switch (*d->p) {
    case '{':
    case '[':
        if (depth > LB_CODEC_MAX_DEPTH) {
            d->too_deep = 1;
            return -1;
        }
        return decode_container(d, at, depth);
    case '"':
        return decode_string(d, at);
    case 't':
        return decode_literal(d, at, "true", 4, LB_VALUE_BOOL, 1);
    case 'f':
        return decode_literal(d, at, "false", 5, LB_VALUE_BOOL, 0);
    case 'n':
        return decode_literal(d, at, "null", 4, LB_VALUE_NULL, 0);
    default:
        if (*d->p == '-' || is_digit(*d->p))
            return decode_number(d, at);
        return fail_unexpected(d, d->p);
    }
}

/* The message for a failed decode, with the 1-based line and column (in characters) of where the problem is. */
static void error_message(const json_decoder_t *d, char *err, size_t errsize)
{
    int line = 1, column = 1;
    if (d->too_deep) {
        snprintf(err, errsize, "body nests deeper than %d levels", LB_CODEC_MAX_DEPTH);
        return;
    }
    for (const char *p = d->start; p < d->error_at; p++) {
        if (*p == '\n') {
            line++;
            column = 1;
        } else if (((unsigned char)*p & 0xc0) != 0x80) {
            column++;
        }
    }
    snprintf(err, errsize, "malformed JSON at line %d column %d: %s", line, column, d->reason);
}

int lb_codec__decode_json(lb_fields_t *f, const char *body, size_t len, char *err, size_t errsize)
{
    json_decoder_t d; /* not all zeroed: reason is written when something fails */
    d.start = d.p = body;
    d.end = body + len;
    d.error_at = NULL;
    d.reason[0] = '\0';
    d.too_deep = 0;
    lb_fields__begin(&d.b, f, body, len);
    if (decode_value(&d, 0, 1) != 0)
        goto Error;
    skip_whitespace(&d);
    if (d.p != d.end) {
        fail(&d, d.p, "more after the value");
        goto Error;
    }
    if (f->values[0].kind != LB_VALUE_OBJECT) {
        snprintf(err, errsize, "body must be a JSON object");
        lb_fields__end(&d.b, 1);
        return -1;
    }
    lb_fields__end(&d.b, 0);
    return 0;
Error:
    error_message(&d, err, errsize);
    lb_fields__end(&d.b, 1);
    return -1;
}
