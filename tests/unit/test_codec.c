/* Unit tests of the codec: media types, JSON and msgpack decoding and encoding, and the field readers. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <msgpack.h>
#include "check.h"
#include "livebuy/common.h"
#include "livebuy/codec.h"

#define MILLET "\xe6\xad\xa6\xe4\xb9\xa1\xe5\xb0\x8f\xe7\xb1\xb3" /* "武乡小米", 4 code points in 12 bytes */

static char err[256];

static json_t *decode_json(const char *text)
{
    return lb_codec_decode(LB_FORMAT_JSON, text, strlen(text), err, sizeof(err));
}

static json_t *decode_msgpack(const msgpack_sbuffer *buffer)
{
    return lb_codec_decode(LB_FORMAT_MSGPACK, buffer->data, buffer->size, err, sizeof(err));
}

static json_t *decode_msgpack_bytes(const char *bytes, size_t len)
{
    return lb_codec_decode(LB_FORMAT_MSGPACK, bytes, len, err, sizeof(err));
}

static void pack_text(msgpack_packer *packer, const char *text)
{
    msgpack_pack_str_with_body(packer, text, strlen(text));
}

/* Whether s is valid UTF-8, checked by jansson, because error messages go into JSON answers. */
static int is_utf8(const char *s)
{
    json_t *string = json_string(s);
    json_decref(string);
    return string != NULL;
}

static void test_request_format(void)
{
    lb_format_t format = LB_FORMAT_MSGPACK;
    CHECK(lb_codec_request_format(NULL, 0, &format) == 0 && format == LB_FORMAT_JSON);
    format = LB_FORMAT_MSGPACK;
    CHECK(lb_codec_request_format("", 0, &format) == 0 && format == LB_FORMAT_JSON);
    CHECK(lb_codec_request_format("application/msgpack", 19, &format) == 0 && format == LB_FORMAT_MSGPACK);
    CHECK(lb_codec_request_format("application/json", 16, &format) == 0 && format == LB_FORMAT_JSON);
    CHECK(lb_codec_request_format("Application/X-MsgPack", 21, &format) == 0 && format == LB_FORMAT_MSGPACK);
    const char *with_charset = "application/json; charset=utf-8";
    format = LB_FORMAT_MSGPACK;
    CHECK(lb_codec_request_format(with_charset, strlen(with_charset), &format) == 0 && format == LB_FORMAT_JSON);
    const char *spaced = " APPLICATION/MSGPACK ;foo=bar";
    CHECK(lb_codec_request_format(spaced, strlen(spaced), &format) == 0 && format == LB_FORMAT_MSGPACK);
    /* only the first len bytes count */
    CHECK(lb_codec_request_format("application/jsonx", 16, &format) == 0 && format == LB_FORMAT_JSON);
    CHECK(lb_codec_request_format("application/jsonx", 17, &format) == -1);
    CHECK(lb_codec_request_format("text/plain", 10, &format) == -1);
    CHECK(lb_codec_request_format("application/xml", 15, &format) == -1);
    CHECK(lb_codec_request_format("multipart/form-data; boundary=x", 31, &format) == -1);
}

static lb_format_t answer(const char *accept)
{
    return lb_codec_answer_format(accept, accept != NULL ? strlen(accept) : 0);
}

static void test_answer_format(void)
{
    CHECK(answer(NULL) == LB_FORMAT_JSON);
    CHECK(answer("") == LB_FORMAT_JSON);
    CHECK(answer("*/*") == LB_FORMAT_JSON);
    CHECK(answer("application/msgpack") == LB_FORMAT_MSGPACK);
    CHECK(answer("application/x-msgpack") == LB_FORMAT_MSGPACK);
    CHECK(answer("Application/MsgPack;q=0.9") == LB_FORMAT_MSGPACK);
    CHECK(answer("text/html, application/msgpack, application/json") == LB_FORMAT_MSGPACK);
    CHECK(answer("application/json, application/msgpack") == LB_FORMAT_JSON);
    CHECK(answer("application/json;q=0.1,application/msgpack;q=1") == LB_FORMAT_JSON);
    CHECK(answer("application/msgpackx, text/plain") == LB_FORMAT_JSON);
    CHECK(lb_codec_answer_format("application/msgpack", 11) == LB_FORMAT_JSON);
    CHECK(strcmp(lb_codec_media_type(LB_FORMAT_JSON), "application/json") == 0);
    CHECK(strcmp(lb_codec_media_type(LB_FORMAT_MSGPACK), "application/msgpack") == 0);
}

/* The same document in both formats, the msgpack one using every integer and float width. */
static const char document_json[] =
    "{\"title\":\"" MILLET "\",\"u8\":200,\"u16\":60000,\"u32\":4000000000,"
    "\"u64\":9223372036854775807,\"i8\":-100,\"i16\":-30000,\"i32\":-2000000000,"
    "\"i64\":-9223372036854775808,\"small\":-3,\"f32\":1.5,\"f64\":-0.25,"
    "\"yes\":true,\"no\":false,\"nothing\":null,\"tags\":[\"a\",[],{}],"
    "\"nested\":{\"inner\":{\"x\":1}},\"long\":\"" MILLET MILLET MILLET MILLET MILLET MILLET MILLET MILLET MILLET MILLET MILLET
        MILLET MILLET MILLET MILLET MILLET MILLET MILLET MILLET MILLET MILLET MILLET "\"}";

static void pack_document(msgpack_packer *packer)
{
    msgpack_pack_map(packer, 18);
    pack_text(packer, "title");
    pack_text(packer, MILLET);
    pack_text(packer, "u8");
    msgpack_pack_fix_uint8(packer, 200);
    pack_text(packer, "u16");
    msgpack_pack_fix_uint16(packer, 60000);
    pack_text(packer, "u32");
    msgpack_pack_fix_uint32(packer, 4000000000u);
    pack_text(packer, "u64");
    msgpack_pack_fix_uint64(packer, INT64_MAX);
    pack_text(packer, "i8");
    msgpack_pack_fix_int8(packer, -100);
    pack_text(packer, "i16");
    msgpack_pack_fix_int16(packer, -30000);
    pack_text(packer, "i32");
    msgpack_pack_fix_int32(packer, -2000000000);
    pack_text(packer, "i64");
    msgpack_pack_fix_int64(packer, INT64_MIN);
    pack_text(packer, "small");
    msgpack_pack_int(packer, -3); /* negative fixint */
    pack_text(packer, "f32");
    msgpack_pack_float(packer, 1.5f);
    pack_text(packer, "f64");
    msgpack_pack_double(packer, -0.25);
    pack_text(packer, "yes");
    msgpack_pack_true(packer);
    pack_text(packer, "no");
    msgpack_pack_false(packer);
    pack_text(packer, "nothing");
    msgpack_pack_nil(packer);
    pack_text(packer, "tags");
    msgpack_pack_array(packer, 3);
    pack_text(packer, "a");
    msgpack_pack_array(packer, 0);
    msgpack_pack_map(packer, 0);
    pack_text(packer, "nested");
    msgpack_pack_map(packer, 1);
    pack_text(packer, "inner");
    msgpack_pack_map(packer, 1);
    pack_text(packer, "x");
    msgpack_pack_int(packer, 1);
    pack_text(packer, "long"); /* 264 bytes: str 16 */
    msgpack_pack_str(packer, 22 * 12);
    for (int i = 0; i < 22; i++)
        msgpack_pack_str_body(packer, MILLET, 12);
}

static void test_same_document(void)
{
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
    pack_document(&packer);

    json_t *from_json = decode_json(document_json);
    CHECK(from_json != NULL);
    json_t *from_msgpack = decode_msgpack(&buffer);
    CHECK(from_msgpack != NULL);
    CHECK(json_equal(from_json, from_msgpack));
    CHECK(json_integer_value(json_object_get(from_msgpack, "i64")) == INT64_MIN);
    CHECK(json_integer_value(json_object_get(from_msgpack, "u32")) == 4000000000);
    CHECK(json_is_real(json_object_get(from_msgpack, "f32")) && json_real_value(json_object_get(from_msgpack, "f32")) == 1.5);
    CHECK(json_is_null(json_object_get(from_msgpack, "nothing")));
    CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(from_msgpack, "nested"), "inner"), "x")) == 1);
    CHECK(strcmp(json_string_value(json_object_get(from_msgpack, "title")), MILLET) == 0);
    CHECK(lb_utf8_length(MILLET, strlen(MILLET)) == 4);
    CHECK(lb_utf8_length("a\xc3\xa9\xf0\x9f\x98\x80", 7) == 3); /* 1-, 2- and 4-byte sequences */
    CHECK(lb_utf8_length("", 0) == 0);
    json_decref(from_json);
    json_decref(from_msgpack);
    msgpack_sbuffer_destroy(&buffer);
}

static void test_json_errors(void)
{
    CHECK(lb_codec_decode(LB_FORMAT_JSON, NULL, 0, err, sizeof(err)) == NULL);
    CHECK(strcmp(err, "empty body") == 0);
    CHECK(decode_json("{\"a\": }") == NULL);
    CHECK_CONTAINS(err, "malformed JSON at line 1 column 7: ");
    CHECK(decode_json("{\"a\":1}\n{") == NULL);
    CHECK_CONTAINS(err, "malformed JSON at line 2");
    CHECK(decode_json("[1]") == NULL);
    CHECK(strcmp(err, "body must be a JSON object") == 0);
    CHECK(decode_json("\"text\"") == NULL);
    CHECK(strcmp(err, "body must be a JSON object") == 0);
    CHECK(decode_json("{\"a\":1,\"a\":2}") == NULL);
    CHECK_CONTAINS(err, "duplicate");
    CHECK(decode_json("{\"qty\":9223372036854775808}") == NULL);
    CHECK_CONTAINS(err, "malformed JSON");
    CHECK(decode_json("{\"qty\":-9223372036854775809}") == NULL);
    json_t *value = decode_json("{\"qty\":-9223372036854775808}");
    CHECK(value != NULL && json_integer_value(json_object_get(value, "qty")) == INT64_MIN);
    json_decref(value);
    CHECK(decode_json("{\"a\":\"\\u0000\"}") == NULL);
    CHECK(decode_json("{\"a\":\"\xff\"}") == NULL);
    CHECK_CONTAINS(err, "malformed JSON");
    CHECK(is_utf8(err));
    CHECK(decode_json("{\"a\":\xe6\xad}") == NULL); /* a cut-off character in the token jansson quotes back */
    CHECK(is_utf8(err));
    CHECK(decode_json("{\"a\":\"\xed\xa0\x80\"}") == NULL); /* a UTF-16 surrogate */
    CHECK(lb_codec_decode(LB_FORMAT_JSON, "{\"a\":1}\0", 8, err, sizeof(err)) == NULL);
}

/* A body of depth nested containers: the top object, then arrays. */
static char *nested_json(int depth)
{
    char *text = lb_malloc((size_t)depth * 2 + 16), *p = text;
    p += sprintf(p, "{\"a\":");
    for (int i = 1; i < depth; i++)
        *p++ = '[';
    *p++ = '1';
    for (int i = 1; i < depth; i++)
        *p++ = ']';
    strcpy(p, "}");
    return text;
}

static json_t *nested_msgpack(int depth)
{
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map(&packer, 1);
    pack_text(&packer, "a");
    for (int i = 1; i < depth; i++)
        msgpack_pack_array(&packer, 1);
    msgpack_pack_int(&packer, 1);
    json_t *value = decode_msgpack(&buffer);
    msgpack_sbuffer_destroy(&buffer);
    return value;
}

static void test_depth(void)
{
    char *text = nested_json(32);
    json_t *value = decode_json(text), *packed = nested_msgpack(32);
    CHECK(value != NULL && packed != NULL && json_equal(value, packed));
    json_decref(value);
    json_decref(packed);
    free(text);

    text = nested_json(33);
    CHECK(decode_json(text) == NULL);
    CHECK_CONTAINS(err, "deeper than 32");
    free(text);
    CHECK(nested_msgpack(33) == NULL);
    CHECK_CONTAINS(err, "deeper than 32");
    CHECK(nested_msgpack(100000) == NULL);
    CHECK_CONTAINS(err, "deeper than 32");
    text = nested_json(3000); /* deeper than jansson's own limit */
    CHECK(decode_json(text) == NULL);
    free(text);
}

/* Decodes the packed map {key: <what pack wrote>} and checks the error message. */
#define CHECK_MSGPACK_FAILS(key, pack, message)                                                                                    \
    do {                                                                                                                           \
        msgpack_sbuffer buffer_;                                                                                                   \
        msgpack_packer packer_;                                                                                                    \
        msgpack_sbuffer_init(&buffer_);                                                                                            \
        msgpack_packer_init(&packer_, &buffer_, msgpack_sbuffer_write);                                                            \
        msgpack_pack_map(&packer_, 1);                                                                                             \
        pack_text(&packer_, key);                                                                                                  \
        msgpack_packer *packer = &packer_;                                                                                         \
        pack;                                                                                                                      \
        CHECK(decode_msgpack(&buffer_) == NULL);                                                                                   \
        CHECK_CONTAINS(err, message);                                                                                              \
        msgpack_sbuffer_destroy(&buffer_);                                                                                         \
    } while (0)

static void test_msgpack_values(void)
{
    CHECK_MSGPACK_FAILS("qty", msgpack_pack_uint64(packer, (uint64_t)INT64_MAX + 1), "field \"qty\": integer out of range");
    CHECK_MSGPACK_FAILS("qty", msgpack_pack_uint64(packer, UINT64_MAX), "field \"qty\": integer out of range");
    CHECK_MSGPACK_FAILS("title", msgpack_pack_str_with_body(packer, "\xc3\x28", 2), "field \"title\": invalid UTF-8");
    CHECK_MSGPACK_FAILS("title", msgpack_pack_str_with_body(packer, "\xc0\xaf", 2), "field \"title\": invalid UTF-8");
    CHECK_MSGPACK_FAILS("title", msgpack_pack_str_with_body(packer, "\xed\xa0\x80", 3), "field \"title\": invalid UTF-8");
    CHECK_MSGPACK_FAILS("title", msgpack_pack_str_with_body(packer, "\xf4\x90\x80\x80", 4), "field \"title\": invalid UTF-8");
    CHECK_MSGPACK_FAILS("title", msgpack_pack_str_with_body(packer, "\xe6\xad", 2), "field \"title\": invalid UTF-8");
    CHECK_MSGPACK_FAILS("title", msgpack_pack_str_with_body(packer, "a\0b", 3), "field \"title\": NUL");
    CHECK_MSGPACK_FAILS("photo", msgpack_pack_bin_with_body(packer, "\x89PNG", 4), "field \"photo\": binary data");
    CHECK_MSGPACK_FAILS("when", msgpack_pack_ext_with_body(packer, "abcd", 4, -1), "field \"when\": ext data");
    CHECK_MSGPACK_FAILS("when", msgpack_pack_ext_with_body(packer, "abcdefghijklmnopq", 17, 5), "field \"when\": ext data");
    CHECK_MSGPACK_FAILS("price", msgpack_pack_double(packer, NAN), "field \"price\": number must be finite");
    CHECK_MSGPACK_FAILS("price", msgpack_pack_float(packer, -INFINITY), "field \"price\": number must be finite");
    CHECK_MSGPACK_FAILS("skus",
                        (msgpack_pack_array(packer, 2), msgpack_pack_map(packer, 0), msgpack_pack_map(packer, 1),
                         pack_text(packer, "price_cents"), msgpack_pack_uint64(packer, UINT64_MAX)),
                        "field \"skus[1].price_cents\": integer out of range");
    CHECK_MSGPACK_FAILS("ship_to", (msgpack_pack_map(packer, 1), msgpack_pack_int(packer, 7), msgpack_pack_nil(packer)),
                        "field \"ship_to\": map keys must be strings");
    CHECK_MSGPACK_FAILS("ship_to",
                        (msgpack_pack_map(packer, 1), msgpack_pack_str_with_body(packer, "\xff", 1), msgpack_pack_nil(packer)),
                        "field \"ship_to\": invalid UTF-8");
    CHECK_MSGPACK_FAILS("ship_to",
                        (msgpack_pack_map(packer, 2), pack_text(packer, "name"), msgpack_pack_nil(packer),
                         pack_text(packer, "name"), msgpack_pack_true(packer)),
                        "field \"ship_to.name\": duplicate key");
    CHECK_MSGPACK_FAILS(MILLET, msgpack_pack_bin(packer, 0), "field \"" MILLET "\": binary data");

    json_t *value = decode_msgpack_bytes("\x81\xa1q\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", 12); /* uint 64 of INT64_MAX */
    CHECK(value != NULL && json_integer_value(json_object_get(value, "q")) == INT64_MAX);
    json_decref(value);
    value = decode_msgpack_bytes("\x81\xa1q\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 12); /* int 64 of INT64_MIN */
    CHECK(value != NULL && json_integer_value(json_object_get(value, "q")) == INT64_MIN);
    json_decref(value);
    value = decode_msgpack_bytes("\x81\xa1q\xa4\xf0\x9f\x98\x80", 8); /* a 4-byte character */
    CHECK(value != NULL && json_string_length(json_object_get(value, "q")) == 4);
    json_decref(value);
}

static void test_msgpack_framing(void)
{
    CHECK(decode_msgpack_bytes(NULL, 0) == NULL);
    CHECK(strcmp(err, "empty body") == 0);
    CHECK(decode_msgpack_bytes("\x91\x01", 2) == NULL);
    CHECK(strcmp(err, "body must be a msgpack map") == 0);
    CHECK(decode_msgpack_bytes("\x01", 1) == NULL);
    CHECK(strcmp(err, "body must be a msgpack map") == 0);
    CHECK(decode_msgpack_bytes("{\"a\":1}", 7) == NULL); /* JSON sent as msgpack */
    json_t *value = decode_msgpack_bytes("\x80", 1);
    CHECK(value != NULL && json_object_size(value) == 0);
    json_decref(value);
    CHECK(decode_msgpack_bytes("\x80\x80", 2) == NULL);
    CHECK_CONTAINS(err, "1 bytes after the map");
    CHECK(decode_msgpack_bytes("\x81\xa1q\x01\xc0", 5) == NULL);
    CHECK_CONTAINS(err, "after the map");
    CHECK(decode_msgpack_bytes("\x82\xa1q\x01", 4) == NULL);
    CHECK_CONTAINS(err, "unexpected end of data");
    CHECK(decode_msgpack_bytes("\x81\xa5qty", 5) == NULL);
    CHECK_CONTAINS(err, "unexpected end of data");
    CHECK(decode_msgpack_bytes("\x81\xa1q\xcd\x01", 5) == NULL);
    CHECK_CONTAINS(err, "field \"q\": malformed msgpack: unexpected end of data");
    CHECK(decode_msgpack_bytes("\x81\xa1q\xc1", 4) == NULL);
    CHECK_CONTAINS(err, "malformed msgpack");
    /* huge declared counts and lengths cost nothing before the bytes are there */
    CHECK(decode_msgpack_bytes("\xdf\xff\xff\xff\xff", 5) == NULL);
    CHECK_CONTAINS(err, "unexpected end of data");
    CHECK(decode_msgpack_bytes("\x81\xa1q\xdd\x7f\xff\xff\xff", 8) == NULL);
    CHECK_CONTAINS(err, "unexpected end of data");
    CHECK(decode_msgpack_bytes("\x81\xa1q\xdb\xff\xff\xff\xff", 8) == NULL);
    CHECK_CONTAINS(err, "unexpected end of data");
    CHECK(decode_msgpack_bytes("\x81\xda\x00\x01", 4) == NULL);
    CHECK_CONTAINS(err, "unexpected end of data");
}

static void check_round_trip(lb_format_t format, const json_t *value)
{
    size_t len;
    char *bytes = lb_codec_encode(format, value, &len);
    CHECK(bytes != NULL && len > 0);
    json_t *again = lb_codec_decode(format, bytes, len, err, sizeof(err));
    CHECK(again != NULL && json_equal(value, again));
    json_decref(again);
    free(bytes);
}

static void test_encode(void)
{
    json_t *value = json_pack("{s:i,s:s,s:[b,n,f],s:{}}", "id", 7, "title", MILLET, "list", 1, 0.5, "empty");
    size_t len;
    char *bytes = lb_codec_encode(LB_FORMAT_JSON, value, &len);
    const char expected[] = "{\"id\":7,\"title\":\"" MILLET "\",\"list\":[true,null,0.5],\"empty\":{}}";
    CHECK(bytes != NULL && len == strlen(expected) && memcmp(bytes, expected, len) == 0);
    free(bytes);
    json_decref(value);

    value = json_pack("{s:I,s:i,s:s}", "a", (json_int_t)INT64_MIN, "b", -1, "c", "x");
    bytes = lb_codec_encode(LB_FORMAT_MSGPACK, value, &len);
    const char packed[] = "\x83\xa1"
                          "a\xd3\x80\x00\x00\x00\x00\x00\x00\x00\xa1"
                          "b\xff\xa1"
                          "c\xa1x";
    CHECK(bytes != NULL && len == sizeof(packed) - 1 && memcmp(bytes, packed, len) == 0);
    free(bytes);
    json_decref(value);

    json_t *document = decode_json(document_json);
    CHECK(document != NULL);
    check_round_trip(LB_FORMAT_JSON, document);
    check_round_trip(LB_FORMAT_MSGPACK, document);
    json_t *big = json_object();
    for (int i = 0; i < 70000; i++) { /* map 32 and array 32, and a buffer that grows many times */
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        json_object_set_new(big, key, json_pack("[s,i]", MILLET, i));
    }
    json_object_set_new(big, "items", json_array());
    for (int i = 0; i < 70000; i++)
        json_array_append_new(json_object_get(big, "items"), json_real(i / 4.0));
    json_object_set_new(big, "doc", document);
    check_round_trip(LB_FORMAT_JSON, big);
    check_round_trip(LB_FORMAT_MSGPACK, big);
    json_decref(big);
}

/* A body for the field readers; "skus" has an object then a non-object. */
static const char fields_json[] = "{\"title\":\"" MILLET "\",\"empty\":\"\",\"tab\":\"a\\tb\",\"del\":\"a\\u007fb\",\"qty\":5,"
                                  "\"real\":1.0,\"text_qty\":\"5\",\"big\":9223372036854775807,\"nil\":null,\"yes\":true,"
                                  "\"zero\":0,\"kind\":\"host\",\"bad_kind\":\"co-op\",\"skus\":[{\"a\":1}],"
                                  "\"mixed\":[{},1],\"none\":[],\"obj\":{}}";

static void test_field_string(json_t *body)
{
    lb_input_error_t e = {0};
    const char *s = "untouched";
    CHECK(lb_field_string(body, "title", 1, 1, 4, &s, &e) == 0 && strcmp(s, MILLET) == 0);
    CHECK(lb_field_string(body, "title", 1, 1, 3, &s, &e) == LB_EINPUT);
    CHECK(e.status == 422 && strcmp(e.code, "invalid") == 0 && strcmp(e.message, "title must be 1-3 characters") == 0);
    CHECK(lb_field_string(body, "title", 1, 5, 200, &s, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "title must be 5-200 characters") == 0);
    CHECK(lb_field_string(body, "empty", 1, 1, 200, &s, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "empty must be 1-200 characters") == 0);
    CHECK(lb_field_string(body, "empty", 1, 0, 200, &s, &e) == 0 && strcmp(s, "") == 0);
    s = "untouched";
    CHECK(lb_field_string(body, "missing", 0, 1, 200, &s, &e) == 0 && strcmp(s, "untouched") == 0);
    CHECK(lb_field_string(body, "nil", 0, 1, 200, &s, &e) == 0 && strcmp(s, "untouched") == 0);
    CHECK(lb_field_string(body, "missing", 1, 1, 200, &s, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "missing is required") == 0);
    CHECK(lb_field_string(body, "nil", 1, 1, 200, &s, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "nil is required") == 0);
    CHECK(lb_field_string(body, "qty", 1, 1, 200, &s, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "qty must be a string") == 0);
    CHECK(lb_field_string(body, "tab", 1, 1, 200, &s, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "tab must not contain control characters") == 0);
    CHECK(lb_field_string(body, "del", 1, 1, 200, &s, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "del must not contain control characters") == 0);
    CHECK(strcmp(s, "untouched") == 0);
}

static void test_field_int(json_t *body)
{
    lb_input_error_t e = {0};
    int64_t n = -42;
    CHECK(lb_field_int(body, "qty", 1, 1, 5, &n, &e) == 0 && n == 5);
    CHECK(lb_field_int(body, "big", 1, 0, INT64_MAX, &n, &e) == 0 && n == INT64_MAX);
    CHECK(lb_field_int(body, "qty", 1, 1, 4, &n, &e) == LB_EINPUT && n == INT64_MAX);
    CHECK(e.status == 422 && strcmp(e.code, "invalid") == 0 && strcmp(e.message, "qty must be between 1 and 4") == 0);
    CHECK(lb_field_int(body, "zero", 1, 1, INT64_MAX, &n, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "zero must be between 1 and 9223372036854775807") == 0);
    CHECK(lb_field_int(body, "qty", 1, -10, -1, &n, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "qty must be between -10 and -1") == 0);
    CHECK(lb_field_int(body, "real", 1, 0, 10, &n, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "real must be an integer") == 0);
    CHECK(lb_field_int(body, "text_qty", 1, 0, 10, &n, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "text_qty must be an integer") == 0);
    CHECK(lb_field_int(body, "yes", 1, 0, 10, &n, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "yes must be an integer") == 0);
    CHECK(lb_field_int(body, "missing", 0, 0, 10, &n, &e) == 0 && n == INT64_MAX);
    CHECK(lb_field_int(body, "nil", 1, 0, 10, &n, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "nil is required") == 0);
}

static void test_field_bool_and_enum(json_t *body)
{
    static const char *const kinds[] = {"coop", "host", "shipper", NULL};
    lb_input_error_t e = {0};
    int flag = 7, index = 7;
    CHECK(lb_field_bool(body, "yes", 1, &flag, &e) == 0 && flag == 1);
    CHECK(lb_field_bool(body, "missing", 0, &flag, &e) == 0 && flag == 1);
    CHECK(lb_field_bool(body, "zero", 1, &flag, &e) == LB_EINPUT);
    CHECK(e.status == 422 && strcmp(e.message, "zero must be true or false") == 0);
    CHECK(lb_field_bool(body, "empty", 1, &flag, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "empty must be true or false") == 0);
    CHECK(lb_field_bool(body, "missing", 1, &flag, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "missing is required") == 0);

    CHECK(lb_field_enum(body, "kind", 1, kinds, &index, &e) == 0 && index == 1);
    CHECK(lb_field_enum(body, "missing", 0, kinds, &index, &e) == 0 && index == 1);
    CHECK(lb_field_enum(body, "bad_kind", 1, kinds, &index, &e) == LB_EINPUT && index == 1);
    CHECK(e.status == 422 && strcmp(e.message, "bad_kind must be one of \"coop\", \"host\", \"shipper\"") == 0);
    CHECK(lb_field_enum(body, "qty", 1, kinds, &index, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "qty must be one of \"coop\", \"host\", \"shipper\"") == 0);
    CHECK(lb_field_enum(body, "nil", 1, kinds, &index, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "nil is required") == 0);
}

static void test_field_object_array(json_t *body)
{
    lb_input_error_t e = {0};
    const json_t *items = NULL;
    CHECK(lb_field_object_array(body, "skus", 1, 50, &items, &e) == 0 && items == json_object_get(body, "skus"));
    CHECK(lb_field_object_array(body, "skus", 1, 1, &items, &e) == 0);
    CHECK(lb_field_object_array(body, "missing", 0, 50, &items, &e) == 0 && items == json_object_get(body, "skus"));
    CHECK(lb_field_object_array(body, "missing", 1, 50, &items, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "missing is required") == 0);
    CHECK(lb_field_object_array(body, "mixed", 1, 50, &items, &e) == LB_EINPUT);
    CHECK(e.status == 422 && strcmp(e.message, "mixed must be an array of 1-50 objects") == 0);
    CHECK(lb_field_object_array(body, "mixed", 1, 1, &items, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "mixed must be an array of 1-1 objects") == 0);
    CHECK(lb_field_object_array(body, "none", 1, 50, &items, &e) == LB_EINPUT);
    CHECK_CONTAINS(e.message, "none must be an array");
    CHECK(lb_field_object_array(body, "obj", 1, 50, &items, &e) == LB_EINPUT);
    CHECK_CONTAINS(e.message, "obj must be an array");
}

static void test_field_prefix_and_input_error(json_t *body)
{
    lb_input_error_t e = {0};
    const char *s;
    int64_t n;
    e.field_prefix = "skus[1].";
    CHECK(lb_field_int(body, "real", 1, 0, 10, &n, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "skus[1].real must be an integer") == 0);
    CHECK(lb_field_string(body, "price_cents", 1, 1, 2, &s, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "skus[1].price_cents is required") == 0);
    CHECK(strcmp(e.field_prefix, "skus[1].") == 0);
    /* a non-object (say, a nested value of the wrong type) just has no fields */
    CHECK(lb_field_int(json_object_get(body, "qty"), "x", 1, 0, 1, &n, &e) == LB_EINPUT);

    lb_input_error_t f = {0};
    CHECK(lb_input_error(&f, 400, "malformed", "give %s or %d", "this", 2) == LB_EINPUT);
    CHECK(f.status == 400 && strcmp(f.code, "malformed") == 0 && strcmp(f.message, "give this or 2") == 0);
    char name[400];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    CHECK(lb_field_int(body, name, 1, 0, 1, &n, &f) == LB_EINPUT && strlen(f.message) == sizeof(f.message) - 1);
}

static void test_fields(void)
{
    json_t *body = decode_json(fields_json);
    CHECK(body != NULL);
    if (body == NULL)
        return;
    test_field_string(body);
    test_field_int(body);
    test_field_bool_and_enum(body);
    test_field_object_array(body);
    test_field_prefix_and_input_error(body);
    json_decref(body);
}

int main(void)
{
    test_request_format();
    test_answer_format();
    test_same_document();
    test_json_errors();
    test_depth();
    test_msgpack_values();
    test_msgpack_framing();
    test_encode();
    test_fields();
    return CHECK_RESULT("codec");
}
