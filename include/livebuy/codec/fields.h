/*
 * A request body as a flat list of fields, for the handler on the hot path (POST /v1/orders). An order's body is a small
 * object of integers, strings and one nested object (ship_to). Building jansson's tree for it (a hash table per object,
 * a node per value) and looking its fields up cost about 8,000 instructions, a third of livebuyd's work per order.
 *
 * lb_fields_scan reads such a body straight into fields. A body it does not take (string escapes, reals, literals other
 * than null, arrays, deeper nesting, a duplicate key, more than 64 fields, anything malformed) goes through the codec instead
 * (lb_codec_decode, with its one set of rules and error messages) and lb_fields_from_json. The fields read the same
 * either way, through the checks of livebuy/codec.h.
 */
#ifndef LIVEBUY_FIELDS_H
#define LIVEBUY_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "livebuy/codec/codec.h"

#define LB_FIELDS_TOP   (-1) /* the index of the body's own object */
#define LB_FIELDS_LOCAL 12   /* fields held without an allocation */

typedef struct st_lb_field_t {
    const char *key; /* not NUL-terminated: key_len bytes */
    size_t key_len;
    int object; /* the index of the field (an object) it is in, or LB_FIELDS_TOP */
    lb_value_t value;
} lb_field_t;

typedef struct st_lb_fields_t {
    lb_field_t *fields; /* local, or from malloc once there are more */
    size_t count, capacity;
    char *text; /* the NUL-terminated copies of a scanned body's strings (malloc), or NULL */
    lb_field_t local[LB_FIELDS_LOCAL];
} lb_fields_t;

void lb_fields_init(lb_fields_t *f);
void lb_fields_dispose(lb_fields_t *f);
/* Hands the copies of a scanned body's strings over to the caller (who frees them); NULL when f holds none. */
char *lb_fields_take_text(lb_fields_t *f);
/*
 * Reads a JSON body that is an object of integers, plain strings, nulls and objects of those: 0 with f filled (its
 * strings are copies, owned by f), or -1 and f empty when the body is anything else.
 */
int lb_fields_scan(lb_fields_t *f, const char *body, size_t len);
/* Fills f with obj's fields and those of the objects in it, one level down; the strings point into obj. */
void lb_fields_from_json(lb_fields_t *f, const json_t *obj);

/* The field name of the object at index object (LB_FIELDS_TOP for the body), or NULL. */
const lb_field_t *lb_fields_get(const lb_fields_t *f, int object, const char *name);
/* Its index, for reading the fields of an object field. */
int lb_fields_index(const lb_fields_t *f, const lb_field_t *field);
/* As lb_field_int and lb_field_string (livebuy/codec.h), for the field name of the object at index object. */
int lb_fields_int(const lb_fields_t *f, int object, const char *name, int required, int64_t min, int64_t max, int64_t *out,
                  lb_input_error_t *err);
int lb_fields_string(const lb_fields_t *f, int object, const char *name, int required, size_t min_chars, size_t max_chars,
                     const char **out, lb_input_error_t *err);

#endif
