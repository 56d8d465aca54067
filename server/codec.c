/*
 * The one codec layer: JSON and msgpack bodies become jansson values, answers become JSON or msgpack, and the field
 * readers validate one field each. Both formats accept the same documents, so handlers never look at the format.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <msgpack.h>
#include "livebuy/common.h"
#include "livebuy/codec.h"

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

/* The length of the valid UTF-8 sequence at s (shortest form, no surrogates, at most U+10FFFF), or 0 if it is not one. */
static size_t utf8_sequence_length(const unsigned char *s, size_t len)
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
        if ((n = utf8_sequence_length(p, (size_t)(end - p))) == 0)
            return 0;
    return 1;
}

/* Error messages go out inside JSON answers, which need valid UTF-8; they quote client bytes, so mend them. */
static void utf8_mend(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0, n; i < len; i += n) {
        if ((n = utf8_sequence_length(p + i, len - i)) == 0) {
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

/* Decoding JSON */

/* Whether value nests deeper than MAX_DEPTH, counting value itself as level depth; stops descending past the limit. */
static int too_deep(const json_t *value, int depth)
{
    if (!json_is_object(value) && !json_is_array(value))
        return 0;
    if (depth > MAX_DEPTH)
        return 1;
    for (size_t i = 0; i < json_array_size(value); i++)
        if (too_deep(json_array_get(value, i), depth + 1))
            return 1;
    for (void *it = json_object_iter((json_t *)value); it != NULL; it = json_object_iter_next((json_t *)value, it))
        if (too_deep(json_object_iter_value(it), depth + 1))
            return 1;
    return 0;
}

static json_t *decode_json(const char *body, size_t len, char *err, size_t errsize)
{
    json_error_t error;
    json_t *value = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
    if (value == NULL) {
        snprintf(err, errsize, "malformed JSON at line %d column %d: %s", error.line, error.column, error.text);
        return NULL;
    }
    if (!json_is_object(value)) {
        snprintf(err, errsize, "body must be a JSON object");
        goto Error;
    }
    if (too_deep(value, 1)) {
        snprintf(err, errsize, "body nests deeper than %d levels", MAX_DEPTH);
        goto Error;
    }
    return value;
Error:
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

json_t *lb_codec_decode(lb_format_t format, const char *body, size_t len, char *err, size_t errsize)
{
    json_t *value;
    if (len == 0) {
        snprintf(err, errsize, "empty body");
        return NULL;
    }
    snprintf(err, errsize, "out of memory"); /* jansson's constructors fail only for that; every other failure says why */
    value = format == LB_FORMAT_MSGPACK ? decode_msgpack(body, len, err, errsize) : decode_json(body, len, err, errsize);
    if (value == NULL && errsize != 0)
        utf8_mend(err);
    return value;
}

/* Encoding */

typedef struct st_out_buffer_t {
    char *bytes;
    size_t len, capacity;
} out_buffer_t;

static void out_append(out_buffer_t *out, const void *bytes, size_t len)
{
    if (out->capacity - out->len < len) {
        while (out->capacity - out->len < len)
            out->capacity = out->capacity != 0 ? out->capacity * 2 : 256;
        out->bytes = lb_realloc(out->bytes, out->capacity);
    }
    memcpy(out->bytes + out->len, bytes, len);
    out->len += len;
}

static int out_append_json(const char *bytes, size_t len, void *out)
{
    out_append(out, bytes, len);
    return 0;
}

static int out_append_msgpack(void *out, const char *bytes, size_t len)
{
    out_append(out, bytes, len);
    return 0;
}

static void encode_msgpack(msgpack_packer *packer, const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        msgpack_pack_map(packer, json_object_size(value));
        for (void *it = json_object_iter((json_t *)value); it != NULL; it = json_object_iter_next((json_t *)value, it)) {
            msgpack_pack_str_with_body(packer, json_object_iter_key(it), json_object_iter_key_len(it));
            encode_msgpack(packer, json_object_iter_value(it));
        }
        break;
    case JSON_ARRAY:
        msgpack_pack_array(packer, json_array_size(value));
        for (size_t i = 0; i < json_array_size(value); i++)
            encode_msgpack(packer, json_array_get(value, i));
        break;
    case JSON_STRING:
        msgpack_pack_str_with_body(packer, json_string_value(value), json_string_length(value));
        break;
    case JSON_INTEGER:
        msgpack_pack_int64(packer, json_integer_value(value));
        break;
    case JSON_REAL:
        msgpack_pack_double(packer, json_real_value(value));
        break;
    case JSON_TRUE:
        msgpack_pack_true(packer);
        break;
    case JSON_FALSE:
        msgpack_pack_false(packer);
        break;
    case JSON_NULL:
        msgpack_pack_nil(packer);
        break;
    }
}

/* Both encoders write into our own growing buffer, so running out of memory aborts like every other allocation. */
char *lb_codec_encode(lb_format_t format, const json_t *value, size_t *len)
{
    out_buffer_t out = {NULL, 0, 0};
    if (format == LB_FORMAT_MSGPACK) {
        msgpack_packer packer;
        msgpack_packer_init(&packer, &out, out_append_msgpack);
        encode_msgpack(&packer, value);
    } else if (json_dump_callback(value, out_append_json, &out, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
        /* only a value our own code built wrongly (NULL, or a string made unchecked with invalid UTF-8) gets here */
        free(out.bytes);
        *len = 0;
        return NULL;
    }
    *len = out.len;
    return out.bytes;
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
static int field_find(const json_t *obj, const char *name, int required, const json_t **value, lb_input_error_t *err)
{
    *value = json_object_get(obj, name);
    if (*value != NULL && !json_is_null(*value))
        return 1;
    return required ? field_error(err, name, "is required") : 0;
}

static int has_control_characters(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    return 0;
}

int lb_field_string(const json_t *obj, const char *name, int required, size_t min_chars, size_t max_chars, const char **out,
                    lb_input_error_t *err)
{
    const json_t *value;
    int found = field_find(obj, name, required, &value, err);
    if (found <= 0)
        return found;
    if (!json_is_string(value))
        return field_error(err, name, "must be a string");
    size_t len = json_string_length(value), chars = lb_utf8_length(json_string_value(value), len);
    if (chars < min_chars || chars > max_chars)
        return field_error(err, name, "must be %zu-%zu characters", min_chars, max_chars);
    if (has_control_characters(json_string_value(value), len))
        return field_error(err, name, "must not contain control characters");
    *out = json_string_value(value);
    return 0;
}

int lb_field_int(const json_t *obj, const char *name, int required, int64_t min, int64_t max, int64_t *out, lb_input_error_t *err)
{
    const json_t *value;
    int found = field_find(obj, name, required, &value, err);
    if (found <= 0)
        return found;
    if (!json_is_integer(value))
        return field_error(err, name, "must be an integer");
    int64_t n = json_integer_value(value);
    if (n < min || n > max)
        return field_error(err, name, "must be between %lld and %lld", (long long)min, (long long)max);
    *out = n;
    return 0;
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
