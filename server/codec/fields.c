/*
 * Request bodies as flat lists of fields (livebuy/fields.h): the scanner for the plain JSON objects orders come as, and
 * the same fields taken from any object the codec decoded.
 */
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/codec/fields.h"

void lb_fields_init(lb_fields_t *f)
{
    f->fields = f->local;
    f->count = 0;
    f->capacity = LB_FIELDS_LOCAL;
    f->text = NULL;
}

void lb_fields_dispose(lb_fields_t *f)
{
    if (f->fields != f->local)
        free(f->fields);
    free(f->text);
    lb_fields_init(f);
}

char *lb_fields_take_text(lb_fields_t *f)
{
    char *text = f->text;
    f->text = NULL;
    return text;
}

static lb_field_t *add_field(lb_fields_t *f, const char *key, size_t key_len, int object)
{
    if (f->count == f->capacity) {
        lb_field_t *more = lb_malloc(2 * f->capacity * sizeof(*more));
        memcpy(more, f->fields, f->count * sizeof(*more));
        if (f->fields != f->local)
            free(f->fields);
        f->fields = more;
        f->capacity *= 2;
    }
    lb_field_t *field = &f->fields[f->count++];
    *field = (lb_field_t){.key = key, .key_len = key_len, .object = object};
    return field;
}

static const lb_field_t *find(const lb_fields_t *f, int object, const char *key, size_t key_len)
{
    for (size_t i = 0; i != f->count; ++i) {
        const lb_field_t *field = &f->fields[i];
        if (field->object == object && field->key_len == key_len && (key_len == 0 || field->key[0] == key[0]) &&
            memcmp(field->key, key, key_len) == 0)
            return field;
    }
    return NULL;
}

/* Scanning */

#define SCAN_FIELDS_MAX 64

typedef struct st_scanner_t {
    const char *p, *end;
    char *text;         /* where the next string's copy goes */
    uint64_t keys_seen; /* a bit for each (object, key) scanned (key_bit): a key whose bit is clear is no duplicate */
} scanner_t;

/* A key's bit in keys_seen, from its object, length and first and last bytes. */
static uint64_t key_bit(int object, const char *key, size_t key_len)
{
    unsigned h = (unsigned)(object + 1) * 7 + (unsigned)key_len * 3;
    if (key_len != 0)
        h += (unsigned char)key[0] + (unsigned char)key[key_len - 1] * 5;
    return (uint64_t)1 << (h & 63);
}

static void skip_whitespace(scanner_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* Takes c, after whitespace; 0 or -1. */
static int take(scanner_t *s, char c)
{
    skip_whitespace(s);
    if (s->p == s->end || *s->p != c)
        return -1;
    s->p++;
    return 0;
}

/*
 * A string without escapes or control characters (U+0000-U+001F, U+007F), in valid UTF-8, whose opening quote is at
 * s->p; its code points counted on the way.
 */
static int scan_string(scanner_t *s, const char **start, size_t *len, size_t *chars)
{
    const unsigned char *p = (const unsigned char *)s->p + 1, *end = (const unsigned char *)s->end;
    size_t count = 0, n;
    for (;;) {
        const unsigned char *run = p;
        while (p < end && lb_json_plain[*p] && *p != 0x7f) /* DEL, a control character, is left to the codec */
            p++;
        count += (size_t)(p - run);
        if (p == end || *p < 0x80)
            break;
        /* Most of what is not ASCII in a Chinese address is three bytes whose lead byte needs no narrower check of the
         * second (not E0, which could be overlong, nor ED, which could be a surrogate); the rest is checked in full. */
        if (*p >= 0xe1 && *p <= 0xef && *p != 0xed && end - p >= 3 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80)
            n = 3;
        else if ((n = lb_utf8_sequence_length(p, (size_t)(end - p))) == 0)
            return -1;
        p += n;
        ++count;
    }
    if (p == end || *p != '"')
        return -1;
    *start = s->p + 1;
    *len = (size_t)((const char *)p - *start);
    *chars = count;
    s->p = (const char *)p + 1;
    return 0;
}

/* -?[1-9][0-9]{0,17} or 0, ending where a number ends: the integers that fit int64_t without a check. */
static int scan_integer(scanner_t *s, int64_t *out)
{
    const char *p = s->p;
    int negative = *p == '-';
    int64_t n = 0;
    p += negative;
    if (p == s->end || *p < '0' || *p > '9' || (*p == '0' && negative))
        return -1;
    const char *digits = p;
    for (; p < s->end && *p >= '0' && *p <= '9'; p++) {
        if (p - digits == 18)
            return -1;
        n = n * 10 + (*p - '0');
    }
    if ((*digits == '0' && p - digits > 1) || (p < s->end && (*p == '.' || *p == 'e' || *p == 'E')))
        return -1;
    *out = negative ? -n : n;
    s->p = p;
    return 0;
}

static int scan_object(lb_fields_t *f, scanner_t *s, int object);

static int scan_value(lb_fields_t *f, scanner_t *s, lb_field_t *field, int depth)
{
    skip_whitespace(s);
    if (s->p == s->end)
        return -1;
    lb_value_t *value = &field->value;
    switch (*s->p) {
    case '"': {
        const char *start;
        size_t len, chars;
        if (scan_string(s, &start, &len, &chars) != 0)
            return -1;
        memcpy(s->text, start, len);
        s->text[len] = '\0';
        *value = (lb_value_t){.kind = LB_VALUE_STRING, .string = s->text, .len = len, .chars = chars, .counted = 1};
        s->text += len + 1;
        return 0;
    }
    case 'n':
        if (s->end - s->p < 4 || memcmp(s->p, "null", 4) != 0)
            return -1;
        s->p += 4;
        value->kind = LB_VALUE_NULL;
        return 0;
    case '{':
        if (depth != 0)
            return -1;
        value->kind = LB_VALUE_OBJECT;
        return scan_object(f, s, (int)(field - f->fields));
    default:
        value->kind = LB_VALUE_INT;
        return scan_integer(s, &value->integer);
    }
}

/* The members of the object whose '{' is at s->p, as fields of object, up to its '}'. */
static int scan_object(lb_fields_t *f, scanner_t *s, int object)
{
    s->p++;
    skip_whitespace(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        const char *key;
        size_t key_len, chars;
        skip_whitespace(s);
        if (s->p == s->end || *s->p != '"' || scan_string(s, &key, &key_len, &chars) != 0 || take(s, ':') != 0)
            return -1;
        /* A duplicate is the codec's to refuse; so is a body of many fields, whose duplicate checks here would cost the
         * square of their number (the codec's hash table does not). */
        uint64_t bit = key_bit(object, key, key_len);
        if (f->count == SCAN_FIELDS_MAX || ((s->keys_seen & bit) != 0 && find(f, object, key, key_len) != NULL))
            return -1;
        s->keys_seen |= bit;
        lb_field_t *field = add_field(f, key, key_len, object);
        if (scan_value(f, s, field, object != LB_FIELDS_TOP) != 0)
            return -1;
        skip_whitespace(s);
        if (s->p == s->end)
            return -1;
        if (*s->p++ == '}')
            return 0;
        if (s->p[-1] != ',')
            return -1;
    }
}

int lb_fields_scan(lb_fields_t *f, const char *body, size_t len)
{
    /* Every string's copy and its NUL fit in the bytes of the string and its quotes. */
    scanner_t s = {.p = body, .end = body + len, .text = f->text = lb_malloc(len + 1)};
    if (take(&s, '{') == 0) {
        s.p--;
        if (scan_object(f, &s, LB_FIELDS_TOP) == 0) {
            skip_whitespace(&s);
            if (s.p == s.end)
                return 0;
        }
    }
    lb_fields_dispose(f);
    return -1;
}

/* From the codec's tree */

static void add_members(lb_fields_t *f, const json_t *obj, int object, int depth)
{
    for (void *it = json_object_iter((json_t *)obj); it != NULL; it = json_object_iter_next((json_t *)obj, it)) {
        const json_t *value = json_object_iter_value(it);
        lb_field_t *field = add_field(f, json_object_iter_key(it), json_object_iter_key_len(it), object);
        field->value = lb_codec_value(value);
        if (depth == 0 && json_is_object(value))
            add_members(f, value, (int)(field - f->fields), 1);
    }
}

void lb_fields_from_json(lb_fields_t *f, const json_t *obj)
{
    add_members(f, obj, LB_FIELDS_TOP, 0);
}

/* Readers */

const lb_field_t *lb_fields_get(const lb_fields_t *f, int object, const char *name)
{
    return find(f, object, name, strlen(name));
}

int lb_fields_index(const lb_fields_t *f, const lb_field_t *field)
{
    return (int)(field - f->fields);
}

static const lb_value_t *value_named(const lb_fields_t *f, int object, const char *name)
{
    static const lb_value_t absent = {.kind = LB_VALUE_NULL};
    const lb_field_t *field = lb_fields_get(f, object, name);
    return field != NULL ? &field->value : &absent;
}

int lb_fields_int(const lb_fields_t *f, int object, const char *name, int required, int64_t min, int64_t max, int64_t *out,
                  lb_input_error_t *err)
{
    return lb_value_int(value_named(f, object, name), name, required, min, max, out, err);
}

int lb_fields_string(const lb_fields_t *f, int object, const char *name, int required, size_t min_chars, size_t max_chars,
                     const char **out, lb_input_error_t *err)
{
    return lb_value_string(value_named(f, object, name), name, required, min_chars, max_chars, out, err);
}
