/*
 * What the codec's files share and nobody else sees: how the decoders (json.c, msgpack.c) build fields (fields.c),
 * and the UTF-8 and JSON byte classes (codec.c) the decoders and the writer (writer.c) use.
 */
#ifndef LIVEBUY_CODEC_INTERNAL_H
#define LIVEBUY_CODEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/codec/codec.h"

#define LB_CODEC_MAX_DEPTH 32 /* nesting levels a decoded document may have, its own object the first */

/* 1 for the bytes that stand for themselves inside a JSON string: 0x20-0x7f (DEL included) other than '"' and '\\'. */
extern const unsigned char lb_codec__json_plain[256];
/* The length of the valid UTF-8 sequence at s (shortest form, no surrogates, at most U+10FFFF), or 0 if it is not one. */
size_t lb_codec__utf8_sequence_length(const unsigned char *s, size_t len);
/* Whether len bytes at s are valid UTF-8. */
int lb_codec__utf8_is_valid(const char *s, size_t len);

/*
 * Building fields while a document is decoded. Values are added in document order: a container, then its entries (each
 * added with its key, then filled in), so the entries of a container follow it. Indices, not pointers, name values
 * while building: adding one may move them all.
 *
 * The fields keep a copy of the document's bytes, and keys and strings point into it: a string is made a C string in
 * place, its NUL where its closing quote was (JSON), or moved over its length header (msgpack); an escaped one is
 * written unescaped where it was, never longer.
 */
typedef struct st_lb_fields_builder_t {
    lb_fields_t *f;
    const char *bytes;  /* the document decoded */
    char *copy;         /* its copy, f->copy */
    uint64_t keys_seen; /* a bit per (object, key) added: a key whose bit is clear is no duplicate */
    struct st_lb_fields_key_t {
        uint32_t object, member; /* member 0: an empty slot */
    } * keys;                    /* once a document has many values: a hash set of the object members added */
    uint32_t keys_mask, keyed;
    uint64_t seed;
} lb_fields_builder_t;

/* Starts decoding the len bytes at bytes into f (emptied first). Adds the root (a null until it is filled in): index 0. */
void lb_fields__begin(lb_fields_builder_t *b, lb_fields_t *f, const char *bytes, size_t len);
/* Ends building: f done, or emptied when the decode failed (failed != 0). */
void lb_fields__end(lb_fields_builder_t *b, int failed);
/*
 * Duplicate keys. Each member added sets a bit of keys_seen chosen by its object and key; a key whose bit was clear is
 * new, and for the small bodies most requests are (an order has six fields), that is every key. A set bit means a walk
 * of the object's members. Once a document has more than LB_FIELDS_KEYS_WALKED values it keeps a hash set of its
 * objects' members instead (fields.c), so that many keys cost no square of their number.
 */
#define LB_FIELDS_KEYS_WALKED 64

static inline uint64_t lb_fields__key_bit(uint32_t object, const char *key, size_t len)
{
    unsigned h = object * 7 + (unsigned)len * 3;
    if (len != 0)
        h += (unsigned char)key[0] + (unsigned char)key[len - 1] * 5;
    return (uint64_t)1 << (h & 63);
}

/*
 * lb_fields__add the whole way: room made, a key checked against those its object has, the hash set kept; 0 when the
 * document has LB_FIELDS_MAX_VALUES already (lb_fields__full) or the object has the key.
 */
uint32_t lb_fields__add_checked(lb_fields_builder_t *b, uint32_t container, const char *key, size_t key_len);

/* Does the document hold as many values as it may (lb_fields_t's max_values, LB_FIELDS_MAX_VALUES)? */
static inline int lb_fields__full(const lb_fields_builder_t *b)
{
    return b->f->count >= b->f->max_values;
}

/*
 * Adds an entry (a null until it is filled in) to the container at index container: an object's member named key
 * (key_len bytes in the copy), or an array's item (key NULL). Returns its index, or 0 when the object has a member of
 * that name or the document is full (lb_fields__full). Inline for the common case: there is room, and the key is new by its bit.
 */
static inline uint32_t lb_fields__add(lb_fields_builder_t *b, uint32_t container, const char *key, size_t key_len)
{
    lb_fields_t *f = b->f;
    uint64_t bit = key != NULL ? lb_fields__key_bit(container, key, key_len) : 0;
    if (f->count == f->capacity || f->count >= LB_FIELDS_KEYS_WALKED || (b->keys_seen & bit) != 0)
        return lb_fields__add_checked(b, container, key, key_len);
    b->keys_seen |= bit;
    uint32_t index = f->count++;
    lb_value_t *value = &f->values[index], *parent = &f->values[container];
    value->key = key;
    value->key_len = (uint32_t)key_len;
    value->next = 0;
    value->kind = LB_VALUE_NULL;
    value->len = 0;
    if (parent->len++ != 0)
        f->values[parent->last].next = index - parent->last;
    parent->last = index;
    return index;
}
/* The value at index (valid until the next add). */
static inline lb_value_t *lb_fields__at(lb_fields_builder_t *b, uint32_t index)
{
    return &b->f->values[index];
}
/* Where a byte of the document is in the copy. */
static inline char *lb_fields__copy(const lb_fields_builder_t *b, const char *at)
{
    return b->copy + (at - b->bytes);
}
/* Makes the value at index the string of len bytes at text (in the copy), ending it with a NUL at text[len]. */
void lb_fields__keep_string(lb_fields_builder_t *b, uint32_t index, char *text, size_t len, size_t chars, int counted);

/* The decoders: 0 with f filled, or -1 with a message in err (errsize may be 0). */
int lb_codec__decode_json(lb_fields_t *f, const char *body, size_t len, char *err, size_t errsize);
int lb_codec__decode_msgpack(lb_fields_t *f, const char *body, size_t len, char *err, size_t errsize);

#endif
