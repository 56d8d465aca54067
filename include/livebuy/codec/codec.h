/*
 * The one codec layer: request bodies (JSON or msgpack, by Content-Type) become a jansson json_t, answers (json_t) become
 * JSON or msgpack by Accept. Field readers validate one field each and name it in their error message.
 */
#ifndef LIVEBUY_CODEC_H
#define LIVEBUY_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

typedef enum en_lb_format_t { LB_FORMAT_JSON, LB_FORMAT_MSGPACK } lb_format_t;

/*
 * Picks the body format from a Content-Type value (parameters such as charset ignored, case-insensitive). NULL or empty
 * means JSON. Returns -1 for any other media type (the caller answers 415).
 */
int lb_codec_request_format(const char *content_type, size_t len, lb_format_t *format);
/* Picks the answer format from an Accept value: msgpack when it asks for application/msgpack (or x-msgpack) and not
 * for JSON first; JSON otherwise (also for NULL). */
lb_format_t lb_codec_answer_format(const char *accept, size_t len);
/* The Content-Type value to send for a format. */
const char *lb_codec_media_type(lb_format_t format);

/* Installs the codec's allocation hooks in jansson (decoded bodies then live in one arena each); call once at start,
 * before any jansson value exists. Without it everything works, with malloc per value. */
void lb_codec_init(void);

/*
 * Decodes a whole body into a new JSON object (the caller owns the reference). A body that is not one well-formed value
 * of the format, whose top level is not a map/object, that holds invalid UTF-8, a non-string map key, binary or ext
 * data, an integer outside int64, or nesting deeper than 32 levels gives NULL and a message in err (answered 400).
 */
json_t *lb_codec_decode(lb_format_t format, const char *body, size_t len, char *err, size_t errsize);
/* Encodes value; returns a buffer from malloc (the caller frees it) and its length in *len. */
char *lb_codec_encode(lb_format_t format, const json_t *value, size_t *len);

/*
 * The one way answers (and the documents livebuy sends) are written: values go straight into JSON or msgpack, with no
 * tree built and freed per answer, in the order of the calls, which is the order clients see. key is NULL for the
 * top-level value and for array items. Strings must be UTF-8: one that is not marks the writer failed (the caller
 * answers 500). A writer is used by one thread at a time.
 */
typedef struct st_lb_buffer_t {
    char *bytes; /* from malloc; the owner frees it */
    size_t len, capacity;
} lb_buffer_t;

#define LB_WRITER_DEPTH 40 /* maps and arrays open at once, at most (a decoded body nests 32 deep at most) */

typedef struct st_lb_writer_t {
    lb_format_t format;
    int failed;
    lb_buffer_t out;
    unsigned depth; /* open maps and arrays */
    struct st_lb_writer_open_t {
        size_t start;   /* where it starts in out (msgpack: its header, written when it ends) */
        uint32_t count; /* entries so far */
        int is_array;
    } open[LB_WRITER_DEPTH]; /* [0]: the top level */
} lb_writer_t;

void lb_writer_init(lb_writer_t *w, lb_format_t format);
/* Opens a map or an array; lb_writer_end closes the innermost one. Entries are counted as they come. */
void lb_writer_map(lb_writer_t *w, const char *key);
void lb_writer_array(lb_writer_t *w, const char *key);
void lb_writer_end(lb_writer_t *w);
void lb_writer_int(lb_writer_t *w, const char *key, int64_t value);
void lb_writer_string(lb_writer_t *w, const char *key, const char *value);
void lb_writer_bool(lb_writer_t *w, const char *key, int value);
void lb_writer_null(lb_writer_t *w, const char *key);
/*
 * Writes fields into the open map, as format lists them: "name:type" separated by commas, the values taken from the
 * arguments in order. Types: I an int64_t; N an int64_t written as null when 0 (an id that is not there); s a UTF-8
 * string (const char *); b an int written as true or false; n null (no argument); {...} a map of such fields. E.g.
 *   lb_writer_pack(w, "id:I,title:s,ship_to:{name:s,phone:s},next:n", id, title, name, phone);
 * Pass int64_t for I and N (cast other integer types): the arguments are read as such.
 */
void lb_writer_pack(lb_writer_t *w, const char *format, ...);

/* A decoded value (of lb_codec_decode, or a stored document read back), in its own order. */
void lb_writer_json(lb_writer_t *w, const char *key, const json_t *value);

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
 * Field readers. Each returns 0 and sets *out when the field is present and valid; when it is absent, returns 0 and
 * leaves *out alone if optional, or LB_EINPUT (422 invalid, "NAME is required") if required. A present field of the
 * wrong type or out of range gives LB_EINPUT (422 invalid) with a message naming the field. JSON null counts as absent.
 * Strings are measured in characters (code points), must not contain control characters
 * (U+0000-U+001F, U+007F), and point into obj.
 */
int lb_field_string(const json_t *obj, const char *name, int required, size_t min_chars, size_t max_chars, const char **out,
                    lb_input_error_t *err);
int lb_field_int(const json_t *obj, const char *name, int required, int64_t min, int64_t max, int64_t *out, lb_input_error_t *err);
int lb_field_bool(const json_t *obj, const char *name, int required, int *out, lb_input_error_t *err);
/* A string that must be one of the NULL-terminated allowed values; *index gets its position. */
int lb_field_enum(const json_t *obj, const char *name, int required, const char *const *allowed, int *index, lb_input_error_t *err);
/* An array of 1..max_items objects; *out borrows it. */
int lb_field_object_array(const json_t *obj, const char *name, int required, size_t max_items, const json_t **out,
                          lb_input_error_t *err);
/*
 * The checks behind lb_field_string and lb_field_int, on a value found by any reader of a body (a json_t object, or
 * lb_fields_t in livebuy/fields.h): the same rules and messages whichever form the body took.
 */
typedef enum en_lb_value_kind_t { LB_VALUE_NULL, LB_VALUE_INT, LB_VALUE_STRING, LB_VALUE_OBJECT, LB_VALUE_OTHER } lb_value_kind_t;
typedef struct st_lb_value_t {
    lb_value_kind_t kind; /* LB_VALUE_NULL also for an absent field */
    int64_t integer;
    const char *string; /* NUL-terminated, len bytes before the NUL (a string may hold a NUL of its own) */
    size_t len;
    int counted; /* a reader counted the string's code points (chars) and found no control character */
    size_t chars;
} lb_value_t;
/* The value as those checks see it; NULL (absent) gives LB_VALUE_NULL. Strings point into value. */
lb_value_t lb_codec_value(const json_t *value);
int lb_value_string(const lb_value_t *value, const char *name, int required, size_t min_chars, size_t max_chars, const char **out,
                    lb_input_error_t *err);
int lb_value_int(const lb_value_t *value, const char *name, int required, int64_t min, int64_t max, int64_t *out,
                 lb_input_error_t *err);
/* 1 for the bytes that stand for themselves inside a JSON string: 0x20-0x7f (DEL included) other than '"' and '\\'. */
extern const unsigned char lb_json_plain[256];
/* The length of the valid UTF-8 sequence at s (shortest form, no surrogates, at most U+10FFFF), or 0 if it is not one. */
size_t lb_utf8_sequence_length(const unsigned char *s, size_t len);
/* Counts UTF-8 code points of a valid UTF-8 string. */
size_t lb_utf8_length(const char *s, size_t len);
/* Error messages go out inside JSON answers, which need valid UTF-8; they may quote client bytes or be cut short:
 * replaces each byte that starts no valid UTF-8 sequence with '?'. */
void lb_utf8_mend(char *s);

#endif
