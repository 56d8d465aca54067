/*
 * The answer writer (livebuy/codec/codec.h): values straight into JSON or msgpack. JSON comes out as jansson's
 * json_dumps wrote it (JSON_COMPACT), msgpack as msgpack-c's packer does, so answers kept their bytes when the trees
 * went.
 */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>
#include "livebuy/common.h"
#include "internal.h"

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

void lb_buffer_append(lb_buffer_t *out, const void *bytes, size_t len)
{
    if (len != 0) /* nothing to add to a buffer that may have none yet (NULL + 0 is undefined) */
        out_append(out, bytes, len);
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
        while (p < end && lb_codec__json_plain[*p])
            p++;
        memcpy(w, run, (size_t)(p - run));
        w += p - run;
        if (p == end)
            break;
        size_t n;
        if (*p >= 0x80) {
            if ((n = lb_codec__utf8_sequence_length(p, (size_t)(end - p))) == 0)
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
static void write_json_integer(out_buffer_t *out, int64_t value)
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
        return -1; /* the decoders refuse these, so they cannot be here */
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
            size_t len = strlen(key);
            /* as JSON's keys are: a key that is not UTF-8 would make a document no decoder takes (fuzz_writer found it) */
            if (!lb_codec__utf8_is_valid(key, len))
                w->failed = 1;
            msgpack_pack_str_with_body(&packer, key, len);
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
    while (lb_codec__json_plain[(unsigned char)key[len]])
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
        if (!lb_codec__utf8_is_valid(value, len))
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

void lb_writer_integer(lb_writer_t *w, const char *key, int64_t value)
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
            lb_writer_integer(w, key, va_arg(*args, int64_t));
            break;
        case 'N':
            if ((value = va_arg(*args, int64_t)) != 0)
                lb_writer_integer(w, key, value);
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

void lb_writer_value(lb_writer_t *w, const lb_value_t *value)
{
    if (value->key != NULL)
        writer_key_bytes(w, value->key, value->key_len);
    else
        writer_entry(w);
    switch (value->kind) {
    case LB_VALUE_OBJECT:
    case LB_VALUE_ARRAY:
        put_open(w, value->kind == LB_VALUE_ARRAY);
        for (const lb_value_t *entry = lb_value_first(value); entry != NULL; entry = lb_value_next(entry))
            lb_writer_value(w, entry);
        lb_writer_end(w);
        break;
    case LB_VALUE_STRING:
        put_string(w, value->string, value->len);
        break;
    case LB_VALUE_INT:
        put_int(w, value->integer);
        break;
    case LB_VALUE_REAL:
        put_real(w, value->real);
        break;
    case LB_VALUE_BOOL:
        put_bool(w, (int)value->integer);
        break;
    case LB_VALUE_NULL:
        put_null(w);
        break;
    }
}
