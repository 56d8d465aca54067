/*
 * Decoding msgpack into fields. We read the bytes ourselves rather than through msgpack_unpack_next: msgpack-c
 * allocates room for an array or map's declared count before reading it, so a 5-byte body could ask for tens of
 * gigabytes. The same documents as JSON are taken: a map at the top, string keys, UTF-8 strings without NUL, integers
 * within int64, finite floats, at most LB_CODEC_MAX_DEPTH levels; no binary or ext data. An error names the field it
 * is in, e.g. "skus[1].price_cents".
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "livebuy/common.h"
#include "internal.h"

typedef struct st_mp_decoder_t {
    const unsigned char *p, *end;
    char *err;
    size_t errsize;
    lb_fields_builder_t b;
    /*
     * Where the decoder is, for error messages: path[1..depth] are the key of the member (or, key NULL, the index of
     * the item) being read in the map or array at each level, the body's own map the first.
     */
    struct {
        const char *key;
        size_t key_len;
        uint64_t index;
    } path[LB_CODEC_MAX_DEPTH + 1];
    int depth;
} mp_decoder_t;

static int read_value(mp_decoder_t *d, uint32_t at, int depth);

/* Writes the path as the message shows it ("skus[1].price_cents"), cut short at 127 bytes. */
static void path_text(const mp_decoder_t *d, char *path, size_t size)
{
    size_t used = 0;
    path[0] = '\0';
    for (int i = 1; i <= d->depth && used < size; i++) {
        if (d->path[i].key != NULL) {
            int len = (int)(d->path[i].key_len < size ? d->path[i].key_len : size);
            used += (size_t)snprintf(path + used, size - used, "%s%.*s", used != 0 ? "." : "", len, d->path[i].key);
        } else {
            used += (size_t)snprintf(path + used, size - used, "[%llu]", (unsigned long long)d->path[i].index);
        }
    }
}

__attribute__((format(printf, 2, 3))) static int fail(mp_decoder_t *d, const char *fmt, ...)
{
    char message[160], path[128];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    path_text(d, path, sizeof(path));
    if (path[0] != '\0')
        snprintf(d->err, d->errsize, "field \"%s\": %s", path, message);
    else
        snprintf(d->err, d->errsize, "%s", message);
    return -1;
}

static int truncated(mp_decoder_t *d)
{
    return fail(d, "malformed msgpack: unexpected end of data");
}

static const unsigned char *take(mp_decoder_t *d, size_t n)
{
    const unsigned char *start = d->p;
    if ((size_t)(d->end - d->p) < n)
        return NULL;
    d->p += n;
    return start;
}

/* Reads an n-byte big-endian unsigned integer; 0 on success. */
static int read_uint(mp_decoder_t *d, size_t n, uint64_t *out)
{
    const unsigned char *bytes = take(d, n);
    if (bytes == NULL)
        return -1;
    *out = 0;
    for (size_t i = 0; i < n; i++)
        *out = *out << 8 | bytes[i];
    return 0;
}

/* Makes the value at index at a null, a boolean or an integer. */
static int set_scalar(mp_decoder_t *d, uint32_t at, lb_value_kind_t kind, int64_t integer)
{
    lb_value_t *value = lb_fields__at(&d->b, at);
    value->kind = kind;
    value->integer = integer;
    return 0;
}

static int read_signed(mp_decoder_t *d, uint32_t at, size_t n)
{
    uint64_t bits;
    if (read_uint(d, n, &bits) != 0)
        return truncated(d);
    int shift = (int)(64 - 8 * n); /* sign-extend from n bytes */
    return set_scalar(d, at, LB_VALUE_INT, (int64_t)(bits << shift) >> shift);
}

static int read_unsigned(mp_decoder_t *d, uint32_t at, size_t n)
{
    uint64_t bits;
    if (read_uint(d, n, &bits) != 0)
        return truncated(d);
    if (bits > INT64_MAX)
        return fail(d, "integer out of range");
    return set_scalar(d, at, LB_VALUE_INT, (int64_t)bits);
}

static int read_float(mp_decoder_t *d, uint32_t at, size_t n)
{
    uint64_t bits;
    double real;
    if (read_uint(d, n, &bits) != 0)
        return truncated(d);
    if (n == 4) {
        uint32_t bits32 = (uint32_t)bits;
        float real32;
        memcpy(&real32, &bits32, sizeof(real32));
        real = real32;
    } else {
        memcpy(&real, &bits, sizeof(real));
    }
    if (!isfinite(real))
        return fail(d, "number must be finite");
    lb_value_t *value = lb_fields__at(&d->b, at);
    value->kind = LB_VALUE_REAL;
    value->real = real;
    return 0;
}

/*
 * Reads len bytes of string: NULL with a message unless they are valid UTF-8 without NUL (as JSON bodies must be).
 * Counts its characters and says whether it has a control character on the way.
 */
static const char *read_text(mp_decoder_t *d, size_t len, size_t *chars, int *control)
{
    const unsigned char *text = take(d, len), *p, *end;
    int nul = 0;
    if (text == NULL) {
        truncated(d);
        return NULL;
    }
    *chars = 0;
    *control = 0;
    for (p = text, end = text + len; p < end; ++*chars) {
        size_t n = 1;
        if (*p < 0x80) {
            nul |= *p == 0;
            *control |= *p < 0x20 || *p == 0x7f;
        } else if ((n = lb_codec__utf8_sequence_length(p, (size_t)(end - p))) == 0) {
            fail(d, "invalid UTF-8");
            return NULL;
        }
        p += n;
    }
    if (nul) {
        fail(d, "NUL characters are not allowed");
        return NULL;
    }
    return (const char *)text;
}

/* The string of len bytes at d->p, whose type (and length) took the bytes from header: moved over them in the copy, so
 * that its NUL fits. */
static int read_string(mp_decoder_t *d, uint32_t at, const unsigned char *header, size_t len)
{
    size_t chars;
    int control;
    const char *text = read_text(d, len, &chars, &control);
    if (text == NULL)
        return -1;
    char *copy = lb_fields__copy(&d->b, (const char *)header);
    memmove(copy, lb_fields__copy(&d->b, text), len);
    lb_fields__keep_string(&d->b, at, copy, len, chars, !control);
    return 0;
}

/* The entries of the array or map at depth: path[depth] says which one is being read (read_map, read_array). */
static int read_array(mp_decoder_t *d, uint32_t at, uint64_t count, int depth)
{
    lb_fields__at(&d->b, at)->kind = LB_VALUE_ARRAY;
    for (uint64_t i = 0; i < count; i++) {
        d->path[depth].key = NULL;
        d->path[depth].index = i;
        d->depth = depth;
        uint32_t item = lb_fields__add(&d->b, at, NULL, 0);
        if (item == 0)
            return fail(d, "more than %u values", d->b.f->max_values);
        if (read_value(d, item, depth + 1) != 0)
            return -1;
    }
    d->depth = depth - 1;
    return 0;
}

/* Reads one map key; 0 on success, -1 with a message naming the map. */
static int read_key(mp_decoder_t *d, const char **key, size_t *key_len)
{
    uint64_t len;
    size_t chars;
    int control;
    if (d->p == d->end)
        return truncated(d);
    unsigned char type = *d->p++;
    if (type >= 0xa0 && type <= 0xbf)
        len = type & 0x1f;
    else if (type < 0xd9 || type > 0xdb)
        return fail(d, "map keys must be strings");
    else if (read_uint(d, (size_t)1 << (type - 0xd9), &len) != 0)
        return truncated(d);
    *key_len = (size_t)len;
    *key = read_text(d, *key_len, &chars, &control);
    if (*key == NULL)
        return -1;
    *key = lb_fields__copy(&d->b, *key);
    return 0;
}

static int read_map(mp_decoder_t *d, uint32_t at, uint64_t count, int depth)
{
    lb_fields__at(&d->b, at)->kind = LB_VALUE_OBJECT;
    for (uint64_t i = 0; i < count; i++) {
        const char *key = NULL; /* set by read_key when it returns 0 (GCC at -O1 cannot tell) */
        size_t key_len = 0;
        d->depth = depth - 1;
        if (read_key(d, &key, &key_len) != 0)
            return -1;
        d->path[depth].key = key;
        d->path[depth].key_len = key_len;
        d->depth = depth;
        uint32_t member = lb_fields__add(&d->b, at, key, key_len);
        if (member == 0 && lb_fields__full(&d->b))
            return fail(d, "more than %u values", d->b.f->max_values);
        if (member == 0)
            return fail(d, "duplicate key");
        if (read_value(d, member, depth + 1) != 0)
            return -1;
    }
    d->depth = depth - 1;
    return 0;
}

/* Containers: fixmap/fixarray carry their count in the type byte, the others in the 2 or 4 bytes after it. */
static int read_container(mp_decoder_t *d, uint32_t at, unsigned char type, int depth)
{
    int is_map = (type >= 0x80 && type <= 0x8f) || type == 0xde || type == 0xdf;
    uint64_t count = type & 0x0f;
    if (depth > LB_CODEC_MAX_DEPTH)
        return fail(d, "nesting deeper than %d levels", LB_CODEC_MAX_DEPTH);
    if (type >= 0xdc && read_uint(d, (type & 1) ? 4 : 2, &count) != 0)
        return truncated(d);
    return is_map ? read_map(d, at, count, depth) : read_array(d, at, count, depth);
}

/* Reads one value into the value at index at; depth is the level a container there would be, the top one being 1. */
static int read_value(mp_decoder_t *d, uint32_t at, int depth)
{
    uint64_t len;
    if (d->p == d->end)
        return truncated(d);
    const unsigned char *header = d->p;
    unsigned char type = *d->p++;
    if (type <= 0x7f)
        return set_scalar(d, at, LB_VALUE_INT, type);
    if (type >= 0xe0)
        return set_scalar(d, at, LB_VALUE_INT, (int64_t)type - 256); /* negative fixint */
    if (type <= 0x9f || type == 0xdc || type == 0xdd || type == 0xde || type == 0xdf)
        return read_container(d, at, type, depth);
    if (type <= 0xbf)
        return read_string(d, at, header, type & 0x1f);
    switch (type) {
    case 0xc0:
        return set_scalar(d, at, LB_VALUE_NULL, 0);
    case 0xc2:
        return set_scalar(d, at, LB_VALUE_BOOL, 0);
    case 0xc3:
        return set_scalar(d, at, LB_VALUE_BOOL, 1);
    case 0xc4: /* bin 8, 16, 32 */
    case 0xc5:
    case 0xc6:
        return fail(d, "binary data is not supported");
    case 0xca:
        return read_float(d, at, 4);
    case 0xcb:
        return read_float(d, at, 8);
    case 0xcc: /* uint 8, 16, 32, 64 */
    case 0xcd:
    case 0xce:
    case 0xcf:
        return read_unsigned(d, at, (size_t)1 << (type - 0xcc));
    case 0xd0: /* int 8, 16, 32, 64 */
    case 0xd1:
    case 0xd2:
    case 0xd3:
        return read_signed(d, at, (size_t)1 << (type - 0xd0));
    case 0xd9: /* str 8, 16, 32 */
    case 0xda:
    case 0xdb:
        if (read_uint(d, (size_t)1 << (type - 0xd9), &len) != 0)
            return truncated(d);
        return read_string(d, at, header, (size_t)len);
    case 0xc1:
        return fail(d, "malformed msgpack: byte 0xc1 is never used");
    default: /* 0xc7-0xc9 and 0xd4-0xd8 */
        return fail(d, "ext data is not supported");
    }
}

int lb_codec__decode_msgpack(lb_fields_t *f, const char *body, size_t len, char *err, size_t errsize)
{
    mp_decoder_t d = {.p = (const unsigned char *)body, .end = (const unsigned char *)body + len, .err = err, .errsize = errsize};
    unsigned char type = d.p[0]; /* the caller has made sure there is a byte */
    if (!((type >= 0x80 && type <= 0x8f) || type == 0xde || type == 0xdf)) {
        snprintf(err, errsize, "body must be a msgpack map");
        return -1;
    }
    lb_fields__begin(&d.b, f, body, len);
    int ret = read_value(&d, 0, 1);
    if (ret == 0 && d.p != d.end) {
        snprintf(err, errsize, "malformed msgpack: %zu bytes after the map", (size_t)(d.end - d.p));
        ret = -1;
    }
    lb_fields__end(&d.b, ret != 0);
    return ret;
}
