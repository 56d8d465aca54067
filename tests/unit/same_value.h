/* Whether two decoded documents are the same, for the tests and the fuzz targets of the codec. */
#ifndef LIVEBUY_TESTS_SAME_VALUE_H
#define LIVEBUY_TESTS_SAME_VALUE_H

#include <string.h>
#include "livebuy/codec/fields.h"

/*
 * The same kind, key and value, and the same entries in the same order. Strings compare their bytes and, when both
 * decoders counted them, their characters.
 */
static int same_value(const lb_value_t *a, const lb_value_t *b)
{
    if (a->kind != b->kind || (a->key == NULL) != (b->key == NULL) || a->key_len != b->key_len ||
        (a->key != NULL && memcmp(a->key, b->key, a->key_len) != 0))
        return 0;
    switch (a->kind) {
    case LB_VALUE_NULL:
        return 1;
    case LB_VALUE_BOOL:
    case LB_VALUE_INT:
        return a->integer == b->integer;
    case LB_VALUE_REAL:
        return a->real == b->real;
    case LB_VALUE_STRING:
        return a->len == b->len && memcmp(a->string, b->string, a->len + 1) == 0 &&
               (!a->counted || !b->counted || a->chars == b->chars);
    default:
        break;
    }
    if (a->len != b->len)
        return 0;
    for (const lb_value_t *x = lb_value_first(a), *y = lb_value_first(b); x != NULL; x = lb_value_next(x), y = lb_value_next(y))
        if (y == NULL || !same_value(x, y))
            return 0;
    return 1;
}

#endif
