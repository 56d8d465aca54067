/*
 * A decoded body as flat fields: what both decoders (JSON and msgpack, livebuy/codec/codec.h) make of a document, and
 * what handlers read it with. The values sit in one array in document order, each container followed by its entries,
 * so a value's links are offsets within the array and a `const lb_value_t *` is all a reader needs. Nested objects
 * (an order's ship_to) and arrays (a product's skus) are values like the others; no tree of allocations is built.
 *
 * The field readers validate one field each and name it in their error message; both formats read the same.
 */
#ifndef LIVEBUY_FIELDS_H
#define LIVEBUY_FIELDS_H

#include <stddef.h>
#include <stdint.h>

typedef enum en_lb_value_kind_t {
    LB_VALUE_NULL,
    LB_VALUE_BOOL,
    LB_VALUE_INT,
    LB_VALUE_REAL,
    LB_VALUE_STRING,
    LB_VALUE_ARRAY,
    LB_VALUE_OBJECT
} lb_value_kind_t;

typedef struct st_lb_value_t {
    const char *key; /* an object member's name, key_len bytes (not NUL-terminated); NULL for array items and the root */
    uint32_t key_len;
    uint32_t next; /* the next entry of the same object or array is this value + next; 0 after the last */
    lb_value_kind_t kind;
    uint32_t len;   /* a string's bytes; an object's or array's entries (the first is this value + 1) */
    uint32_t chars; /* a string's characters (code points), when counted */
    int counted;    /* a string whose characters the decoder counted and found no control character among */
    union {
        int64_t integer;    /* LB_VALUE_INT; LB_VALUE_BOOL: 0 or 1 */
        double real;        /* LB_VALUE_REAL: finite */
        const char *string; /* LB_VALUE_STRING: NUL-terminated, valid UTF-8 without NUL */
        uint32_t last;      /* LB_VALUE_ARRAY and LB_VALUE_OBJECT while decoded: its last entry's index */
    };
} lb_value_t;

#define LB_FIELDS_LOCAL      8   /* values held without an allocation (an order's body has 7) */
#define LB_FIELDS_LOCAL_COPY 192 /* bytes of a document copied without an allocation (an order's body has 100-150) */
/*
 * Values a document may hold at most (a product of 50 SKUs has some 600): a value costs 40 bytes against its one byte
 * or so of input, and a body is decoded before its credential is checked, so a 1 MiB array of small values would
 * hold 40 MiB until the request is gone. A document with more is refused as malformed.
 */
#define LB_FIELDS_MAX_VALUES 4096

/*
 * A decoded document. It keeps a copy of the bytes it was decoded from; its keys and strings point into that copy. It
 * points into itself: never copy or move an lb_fields_t that holds a document.
 */
typedef struct st_lb_fields_t {
    lb_value_t *values; /* [0] is the document's own object; local, or from malloc once there are more */
    uint32_t count, capacity;
    uint32_t max_values; /* LB_FIELDS_MAX_VALUES from lb_fields_init; a test of huge documents may raise it */
    char *copy; /* the document's bytes: local_copy, from malloc, or NULL */
    lb_value_t local[LB_FIELDS_LOCAL];
    char local_copy[LB_FIELDS_LOCAL_COPY];
} lb_fields_t;

void lb_fields_init(lb_fields_t *f);
/* Frees what f holds and leaves it empty (initialised). */
void lb_fields_dispose(lb_fields_t *f);
/* The document's own object; NULL when nothing was decoded into f. */
const lb_value_t *lb_fields_root(const lb_fields_t *f);

/* The first entry of an object or array (NULL when it has none), and the entry after one (NULL after the last). */
static inline const lb_value_t *lb_value_first(const lb_value_t *container)
{
    return container->len != 0 ? container + 1 : NULL;
}
static inline const lb_value_t *lb_value_next(const lb_value_t *entry)
{
    return entry->next != 0 ? entry + entry->next : NULL;
}
/* Whether an object's member is called name. */
int lb_value_named(const lb_value_t *member, const char *name);
/* The member name of object (JSON null included), or NULL when it has none. */
const lb_value_t *lb_value_member(const lb_value_t *object, const char *name);

/* What went wrong with a field: HTTP status (400 or 422), API error code and a message that names the field. */
typedef struct st_lb_input_error_t {
    int status;
    const char *code;
    char message[256];
    /* Set by the caller before reading fields of a nested object, e.g. "skus[1].": messages then name "skus[1].price_cents". */
    const char *field_prefix;
} lb_input_error_t;

/* Sets err and returns LB_EINPUT; for handlers' own checks. */
int lb_input_error(lb_input_error_t *err, int status, const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Field readers, on a member of object (the body's own, lb_fields_root, or a nested one). Each returns 0 and sets *out
 * when the field is present and valid; when it is absent, returns 0 and leaves *out alone if optional, or LB_EINPUT
 * (422 invalid, "NAME is required") if required. A present field of the wrong type or out of range gives LB_EINPUT
 * (422 invalid) with a message naming the field. JSON null (msgpack nil) counts as absent. Strings are measured in
 * characters (code points), must not contain control characters (U+0000-U+001F, U+007F), and point into the fields.
 */
int lb_field_string(const lb_value_t *object, const char *name, int required, size_t min_chars, size_t max_chars, const char **out,
                    lb_input_error_t *err);
int lb_field_int(const lb_value_t *object, const char *name, int required, int64_t min, int64_t max, int64_t *out,
                 lb_input_error_t *err);
int lb_field_bool(const lb_value_t *object, const char *name, int required, int *out, lb_input_error_t *err);
/* A string that must be one of the NULL-terminated allowed values; *index gets its position. */
int lb_field_enum(const lb_value_t *object, const char *name, int required, const char *const *allowed, int *index,
                  lb_input_error_t *err);
/* An array of 1..max_items objects; *out is the array (walk its items with lb_value_first and lb_value_next). */
int lb_field_object_array(const lb_value_t *object, const char *name, int required, size_t max_items, const lb_value_t **out,
                          lb_input_error_t *err);
/*
 * For a change of some fields (PATCH): every member of object is one of known (NULL-terminated), and at least one is
 * given (not null). Otherwise LB_EINPUT (422 invalid) naming the unknown field, or saying that nothing was given.
 */
int lb_fields_some_of(const lb_value_t *object, const char *const *known, lb_input_error_t *err);

#endif
