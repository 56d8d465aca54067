/*
 * The one codec layer: a request body, JSON or msgpack by its Content-Type, is decoded by the one decoder of its format
 * into flat fields (livebuy/codec/fields.h), and both formats give the same fields; an answer is written once, with the
 * writer, as JSON or msgpack by Accept. No tree of allocations is built either way.
 */
#ifndef LIVEBUY_CODEC_H
#define LIVEBUY_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/codec/fields.h"

typedef enum en_lb_format_t { LB_FORMAT_JSON, LB_FORMAT_MSGPACK } lb_format_t;

/*
 * Picks the body format from a Content-Type value (parameters such as charset ignored, case-insensitive). NULL or empty
 * means JSON. Returns -1 for any other media type (the caller answers 415).
 */
int lb_codec_request_format(const char *content_type, size_t len, lb_format_t *format);
/* Picks the answer format from an Accept value: msgpack when it asks for application/msgpack (or x-msgpack) and not
 * for JSON first; JSON otherwise (also for NULL). */
lb_format_t lb_codec_answer_format(const char *accept, size_t len);
/*
 * Which of n offered media types (e.g. {"application/json", "application/msgpack", "text/csv"}) an Accept value takes
 * best: its index, or -1 when it takes none (the caller answers 406). Each offered type gets the q of the most specific
 * range that names it (the type itself, else its type with any subtype, else any type; application/x-msgpack is
 * application/msgpack); q=0 refuses it. The highest q wins; a tie goes to the range listed first, then to the type offered first. NULL or an empty Accept
 * takes the first offered.
 */
int lb_codec_negotiate(const char *accept, size_t len, const char *const *offered, size_t n);
/* The Content-Type value to send for a format. */
const char *lb_codec_media_type(lb_format_t format);

/*
 * Decodes a whole document into out (initialised; what it held is freed first): 0, or -1 with out empty and a message in
 * err (answered 400; errsize may be 0) when it is not one well-formed value of the format, its top level is not a
 * map/object, or it holds a duplicate key, invalid UTF-8 or a NUL in a string, a non-string map key, binary or ext
 * data, an integer outside int64, a number outside double, or nesting deeper than 32 levels.
 */
int lb_codec_decode(lb_format_t format, const char *body, size_t len, lb_fields_t *out, char *err, size_t errsize);

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

/* Appends len bytes to out (growing it; aborts when memory runs out, like every allocation). */
void lb_buffer_append(lb_buffer_t *out, const void *bytes, size_t len);

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
void lb_writer_integer(lb_writer_t *w, const char *key, int64_t value);
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

/* A decoded value (of lb_codec_decode: a body, or a stored document read back), under its own key when it is an
 * object's member, with all it holds in its own order. */
void lb_writer_value(lb_writer_t *w, const lb_value_t *value);

/* Error messages go out inside JSON answers, which need valid UTF-8; they may quote client bytes or be cut short:
 * replaces each byte that starts no valid UTF-8 sequence with '?'. */
void lb_utf8_mend(char *s);

#endif
