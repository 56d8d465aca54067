/*
 * jansson as the codec tests' oracle: decoded fields turned into jansson values, to compare with what jansson itself
 * reads and writes (json_loadb, json_dumps, json_equal). Only the tests use jansson; livebuyd does not.
 */
#ifndef LIVEBUY_TESTS_ORACLE_H
#define LIVEBUY_TESTS_ORACLE_H

#include <stdlib.h>
#include <jansson.h>
#include "livebuy/codec/codec.h"

/* A decoded value as a new jansson value, members in their order. */
static json_t *oracle_value(const lb_value_t *value)
{
    json_t *out = NULL;
    switch (value->kind) {
    case LB_VALUE_NULL:
        return json_null();
    case LB_VALUE_BOOL:
        return json_boolean(value->integer);
    case LB_VALUE_INT:
        return json_integer(value->integer);
    case LB_VALUE_REAL:
        return json_real(value->real);
    case LB_VALUE_STRING:
        return json_stringn(value->string, value->len);
    case LB_VALUE_ARRAY:
        out = json_array();
        for (const lb_value_t *item = lb_value_first(value); item != NULL; item = lb_value_next(item))
            json_array_append_new(out, oracle_value(item));
        return out;
    case LB_VALUE_OBJECT:
        out = json_object();
        for (const lb_value_t *member = lb_value_first(value); member != NULL; member = lb_value_next(member))
            json_object_setn_new(out, member->key, member->key_len, oracle_value(member));
        return out;
    }
    return NULL;
}

/* The values a document decoded by the oracle may hold (lb_fields_t's max_values): a test of huge ones raises it. */
static uint32_t oracle_max_values = LB_FIELDS_MAX_VALUES;

/* Decodes bytes with our decoder: the document as a jansson value, or NULL with the message in err. */
static json_t *oracle_decode(lb_format_t format, const char *bytes, size_t len, char *err, size_t errsize)
{
    lb_fields_t f;
    lb_fields_init(&f);
    f.max_values = oracle_max_values;
    json_t *value = lb_codec_decode(format, bytes, len, &f, err, errsize) == 0 ? oracle_value(lb_fields_root(&f)) : NULL;
    lb_fields_dispose(&f);
    return value;
}

/*
 * An object through our codec: jansson writes it, our JSON decoder reads it, our writer writes it in format. Returns
 * the bytes (malloc) and their length, or NULL when our decoder refuses it (a NUL in a string) or the writer fails.
 */
static char *oracle_encode(lb_format_t format, const json_t *object, size_t *len)
{
    char *text = json_dumps(object, JSON_COMPACT);
    lb_fields_t f;
    lb_writer_t w;
    lb_fields_init(&f);
    f.max_values = oracle_max_values;
    lb_writer_init(&w, format);
    if (text != NULL && lb_codec_decode(LB_FORMAT_JSON, text, strlen(text), &f, NULL, 0) == 0)
        lb_writer_value(&w, lb_fields_root(&f));
    else
        w.failed = 1;
    free(text);
    lb_fields_dispose(&f);
    if (w.failed) {
        free(w.out.bytes);
        *len = 0;
        return NULL;
    }
    *len = w.out.len;
    return w.out.bytes;
}

#endif
