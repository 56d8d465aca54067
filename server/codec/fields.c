/*
 * Decoded documents as flat fields (livebuy/codec/fields.h): the storage, how the decoders build it (one array of
 * values, a duplicate key caught as it is added), and the field readers with their one set of rules and messages.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "internal.h"

void lb_fields_init(lb_fields_t *f)
{
    f->values = f->local;
    f->count = 0;
    f->capacity = LB_FIELDS_LOCAL;
    f->max_values = LB_FIELDS_MAX_VALUES;
    f->copy = NULL;
}

void lb_fields_dispose(lb_fields_t *f)
{
    uint32_t max_values = f->max_values; /* kept: a document decoded into f again has the same bound */
    if (f->values != f->local)
        free(f->values);
    if (f->copy != f->local_copy)
        free(f->copy);
    lb_fields_init(f);
    f->max_values = max_values;
}

const lb_value_t *lb_fields_root(const lb_fields_t *f)
{
    return f->count != 0 ? &f->values[0] : NULL;
}

/*
 * Whether member's key is name, compared a byte at a time: most keys differ in their first byte, and a key holds no NUL
 * (the decoders refuse one), so the comparison stops at name's end without measuring it first.
 */
__attribute__((always_inline)) static inline int key_is(const lb_value_t *member, const char *name)
{
    const char *key = member->key;
    uint32_t len = member->key_len;
    if (len == 0 || key[0] != name[0])
        return len == 0 && name[0] == '\0';
    for (uint32_t i = 1; i != len; i++)
        if (key[i] != name[i])
            return 0;
    return name[len] == '\0';
}

int lb_value_named(const lb_value_t *member, const char *name)
{
    return key_is(member, name);
}

const lb_value_t *lb_value_member(const lb_value_t *object, const char *name)
{
    if (object->kind != LB_VALUE_OBJECT)
        return NULL;
    for (const lb_value_t *member = lb_value_first(object); member != NULL; member = lb_value_next(member))
        if (key_is(member, name))
            return member;
    return NULL;
}

/* Building */

/* The hash set of members (internal.h, "Duplicate keys"), seeded per document so that nobody can choose keys that all
 * collide. */
typedef struct st_lb_fields_key_t key_slot_t;

static uint32_t key_slot(const lb_fields_builder_t *b, uint32_t object, const char *key, size_t len)
{
    uint64_t h = b->seed ^ ((uint64_t)object * 0x9e3779b97f4a7c15ull) ^ len;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 0x100000001b3ull;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return (uint32_t)(h ^ h >> 29) & b->keys_mask;
}

/* Finds object's member named key in the hash set: its index, or 0 after putting member (when not 0) in its place. */
static uint32_t keys_find(lb_fields_builder_t *b, uint32_t object, const char *key, size_t len, uint32_t member)
{
    const lb_value_t *values = b->f->values;
    for (uint32_t slot = key_slot(b, object, key, len);; slot = (slot + 1) & b->keys_mask) {
        key_slot_t *k = &b->keys[slot];
        if (k->member == 0) {
            if (member != 0) {
                *k = (key_slot_t){object, member};
                b->keyed++;
            }
            return 0;
        }
        if (k->object == object && values[k->member].key_len == len && memcmp(values[k->member].key, key, len) == 0)
            return k->member;
    }
}

/* The first entry of the container at index, or 0; the entry after the one at index, or 0. */
static uint32_t first_entry(const lb_value_t *values, uint32_t index)
{
    return values[index].len != 0 ? index + 1 : 0;
}

static uint32_t next_entry(const lb_value_t *values, uint32_t index)
{
    return values[index].next != 0 ? index + values[index].next : 0;
}

/* (Re)builds the hash set with room for twice the values there are: every member of every object so far. */
static void keys_build(lb_fields_builder_t *b)
{
    const lb_value_t *values = b->f->values;
    uint32_t size = 64;
    while (size < 4 * b->f->count)
        size *= 2;
    free(b->keys);
    b->keys = lb_calloc(size, sizeof(*b->keys));
    b->keys_mask = size - 1;
    b->keyed = 0;
    if (b->seed == 0)
        b->seed = lb_monotonic_ns() ^ (uintptr_t)b ^ 0x2545f4914f6cdd1dull;
    for (uint32_t object = 0; object != b->f->count; ++object)
        if (values[object].kind == LB_VALUE_OBJECT)
            for (uint32_t at = first_entry(values, object); at != 0; at = next_entry(values, at))
                keys_find(b, object, values[at].key, values[at].key_len, at);
}

/* Whether object has a member named key already. */
static int has_member(lb_fields_builder_t *b, uint32_t object, const char *key, size_t len)
{
    const lb_value_t *values = b->f->values;
    if (b->keys != NULL)
        return keys_find(b, object, key, len, 0) != 0;
    uint64_t bit = lb_fields__key_bit(object, key, len);
    if ((b->keys_seen & bit) == 0) {
        b->keys_seen |= bit;
        return 0;
    }
    for (uint32_t at = first_entry(values, object); at != 0; at = next_entry(values, at))
        if (values[at].key_len == len && memcmp(values[at].key, key, len) == 0)
            return 1;
    return 0;
}

void lb_fields__begin(lb_fields_builder_t *b, lb_fields_t *f, const char *bytes, size_t len)
{
    lb_fields_dispose(f);
    f->copy = len < sizeof(f->local_copy) ? f->local_copy : lb_malloc(len + 1);
    *b = (lb_fields_builder_t){.f = f, .bytes = bytes, .copy = f->copy};
    memcpy(f->copy, bytes, len);
    f->copy[len] = '\0';
    f->count = 1;
    f->values[0] = (lb_value_t){.kind = LB_VALUE_NULL};
}

void lb_fields__end(lb_fields_builder_t *b, int failed)
{
    free(b->keys);
    if (failed)
        lb_fields_dispose(b->f);
}

uint32_t lb_fields__add_checked(lb_fields_builder_t *b, uint32_t container, const char *key, size_t key_len)
{
    lb_fields_t *f = b->f;
    if (lb_fields__full(b) || (key != NULL && has_member(b, container, key, key_len)))
        return 0;
    if (f->count == f->capacity) {
        lb_value_t *more = lb_malloc(2 * (size_t)f->capacity * sizeof(*more));
        memcpy(more, f->values, f->count * sizeof(*more));
        if (f->values != f->local)
            free(f->values);
        f->values = more;
        f->capacity *= 2;
    }
    uint32_t index = f->count++;
    lb_value_t *parent = &f->values[container];
    f->values[index] = (lb_value_t){.key = key, .key_len = (uint32_t)key_len, .kind = LB_VALUE_NULL};
    if (parent->len++ != 0)
        f->values[parent->last].next = index - parent->last;
    parent->last = index;
    if (key != NULL && b->keys != NULL)
        keys_find(b, container, key, key_len, index);
    /* Past LB_FIELDS_KEYS_WALKED values, the hash set; rebuilt bigger when half full. */
    if ((b->keys == NULL && f->count > LB_FIELDS_KEYS_WALKED) || (b->keys != NULL && 2 * b->keyed > b->keys_mask))
        keys_build(b);
    return index;
}

void lb_fields__keep_string(lb_fields_builder_t *b, uint32_t index, char *text, size_t len, size_t chars, int counted)
{
    lb_value_t *value = &b->f->values[index];
    text[len] = '\0';
    value->kind = LB_VALUE_STRING;
    value->string = text;
    value->len = (uint32_t)len;
    value->chars = (uint32_t)chars;
    value->counted = counted;
}

/* Readers */

int lb_input_error(lb_input_error_t *err, int status, const char *code, const char *fmt, ...)
{
    va_list args;
    err->status = status;
    err->code = code;
    va_start(args, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, args);
    va_end(args);
    /* A message may quote a key of the client's, cut at the message's end inside a character (fuzz_bodies found it) */
    lb_utf8_mend(err->message);
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

/* Finds a field: the value when present, NULL (and 0 in *ret) when absent or null and optional, NULL (and LB_EINPUT)
 * when absent or null and required. */
static const lb_value_t *field_find(const lb_value_t *object, const char *name, int required, int *ret, lb_input_error_t *err)
{
    const lb_value_t *value = lb_value_member(object, name);
    *ret = 0;
    if (value != NULL && value->kind != LB_VALUE_NULL)
        return value;
    if (required)
        *ret = field_error(err, name, "is required");
    return NULL;
}

/* Finds a field that must be of kind when present: as field_find, and NULL with LB_EINPUT (the field "must_be ...")
 * when it is of another kind. */
static const lb_value_t *field_typed(const lb_value_t *object, const char *name, int required, lb_value_kind_t kind,
                                     const char *must_be, int *ret, lb_input_error_t *err)
{
    const lb_value_t *value = field_find(object, name, required, ret, err);
    if (value != NULL && value->kind != kind) {
        *ret = field_error(err, name, "must be %s", must_be);
        return NULL;
    }
    return value;
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

int lb_field_string(const lb_value_t *object, const char *name, int required, size_t min_chars, size_t max_chars, const char **out,
                    lb_input_error_t *err)
{
    int ret, control = 0;
    const lb_value_t *value = field_typed(object, name, required, LB_VALUE_STRING, "a string", &ret, err);
    if (value == NULL)
        return ret;
    size_t chars = value->counted ? value->chars : text_length(value->string, value->len, &control);
    if (chars < min_chars || chars > max_chars)
        return field_error(err, name, "must be %zu-%zu characters", min_chars, max_chars);
    if (control)
        return field_error(err, name, "must not contain control characters");
    *out = value->string;
    return 0;
}

int lb_field_int(const lb_value_t *object, const char *name, int required, int64_t min, int64_t max, int64_t *out,
                 lb_input_error_t *err)
{
    int ret;
    const lb_value_t *value = field_typed(object, name, required, LB_VALUE_INT, "an integer", &ret, err);
    if (value == NULL)
        return ret;
    if (value->integer < min || value->integer > max)
        return field_error(err, name, "must be between %lld and %lld", (long long)min, (long long)max);
    *out = value->integer;
    return 0;
}

int lb_field_bool(const lb_value_t *object, const char *name, int required, int *out, lb_input_error_t *err)
{
    int ret;
    const lb_value_t *value = field_typed(object, name, required, LB_VALUE_BOOL, "true or false", &ret, err);
    if (value == NULL)
        return ret;
    *out = (int)value->integer;
    return 0;
}

int lb_field_enum(const lb_value_t *object, const char *name, int required, const char *const *allowed, int *index,
                  lb_input_error_t *err)
{
    char list[160] = "";
    size_t used = 0;
    int ret;
    const lb_value_t *value = field_find(object, name, required, &ret, err);
    if (value == NULL)
        return ret;
    for (int i = 0; value->kind == LB_VALUE_STRING && allowed[i] != NULL; i++) {
        if (value->len == strlen(allowed[i]) && memcmp(value->string, allowed[i], value->len) == 0) {
            *index = i;
            return 0;
        }
    }
    for (size_t i = 0; allowed[i] != NULL && used < sizeof(list); i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s\"%s\"", i != 0 ? ", " : "", allowed[i]);
    return field_error(err, name, "must be one of %s", list);
}

int lb_field_object_array(const lb_value_t *object, const char *name, int required, size_t max_items, const lb_value_t **out,
                          lb_input_error_t *err)
{
    int ret;
    const lb_value_t *value = field_find(object, name, required, &ret, err);
    if (value == NULL)
        return ret;
    int ok = value->kind == LB_VALUE_ARRAY && value->len >= 1 && value->len <= max_items;
    for (const lb_value_t *item = ok ? lb_value_first(value) : NULL; item != NULL; item = lb_value_next(item))
        ok &= item->kind == LB_VALUE_OBJECT;
    if (!ok)
        return field_error(err, name, "must be an array of 1-%zu objects", max_items);
    *out = value;
    return 0;
}

int lb_fields_some_of(const lb_value_t *object, const char *const *known, lb_input_error_t *err)
{
    char list[200];
    size_t used = 0;
    int given = 0;
    for (size_t i = 0; known[i] != NULL && used < sizeof(list); i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i != 0 ? ", " : "", known[i]);
    for (const lb_value_t *member = lb_value_first(object); member != NULL; member = lb_value_next(member)) {
        size_t i = 0;
        while (known[i] != NULL && !key_is(member, known[i]))
            ++i;
        if (known[i] == NULL)
            return lb_input_error(err, 422, "invalid", "%.*s is not a field that can be changed (only %s)", (int)member->key_len,
                                  member->key, list);
        given |= member->kind != LB_VALUE_NULL;
    }
    if (!given)
        return lb_input_error(err, 422, "invalid", "nothing to change: give one or more of %s", list);
    return 0;
}
