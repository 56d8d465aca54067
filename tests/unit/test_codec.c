/*
 * Unit tests of the codec: media types, the JSON and msgpack decoders, the writer and the field readers; jansson
 * (tests/unit/oracle.h) is the reference they are held to.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <msgpack.h>
#include "check.h"
#include "livebuy/common.h"
#include "livebuy/codec/codec.h"
#include "oracle.h"

#define MILLET "\xe6\xad\xa6\xe4\xb9\xa1\xe5\xb0\x8f\xe7\xb1\xb3" /* "武乡小米", 4 code points in 12 bytes */

static char err[256];

static json_t *decode_json(const char *text)
{
    return oracle_decode(LB_FORMAT_JSON, text, strlen(text), err, sizeof(err));
}

static json_t *decode_msgpack(const msgpack_sbuffer *buffer)
{
    return oracle_decode(LB_FORMAT_MSGPACK, buffer->data, buffer->size, err, sizeof(err));
}

static json_t *decode_msgpack_bytes(const char *bytes, size_t len)
{
    return oracle_decode(LB_FORMAT_MSGPACK, bytes, len, err, sizeof(err));
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

static int negotiate(const char *accept)
{
    static const char *const offered[] = {"application/json", "application/msgpack", "text/csv"};
    return lb_codec_negotiate(accept, accept != NULL ? strlen(accept) : 0, offered, 3);
}

/* What GET /v1/merchant/orders offers: JSON (the default), msgpack, CSV; anything else is 406 (-1). */
static void test_negotiate(void)
{
    CHECK(negotiate(NULL) == 0);
    CHECK(negotiate("") == 0);
    CHECK(negotiate("*/*") == 0);
    CHECK(negotiate("application/*") == 0);
    CHECK(negotiate("text/csv") == 2);
    CHECK(negotiate("TEXT/CSV; charset=utf-8") == 2);
    CHECK(negotiate("text/*") == 2);
    CHECK(negotiate("application/x-msgpack") == 1);
    CHECK(negotiate("application/msgpack, application/json") == 1); /* the first listed of equals */
    CHECK(negotiate("application/json;q=0.5, text/csv") == 2);
    CHECK(negotiate("text/csv;q=0.2, application/json;q=0.9") == 0);
    CHECK(negotiate("text/csv;q=0.25, */*;q=0.2") == 2);
    CHECK(negotiate("text/html, */*;q=0.1") == 0); /* a browser's */
    CHECK(negotiate("text/html") == -1);
    CHECK(negotiate("image/png, text/plain") == -1);
    CHECK(negotiate("text/csv;q=0") == -1);
    CHECK(negotiate("*/*, application/json;q=0, application/msgpack;q=0") == 2); /* the specific range refuses */
    CHECK(negotiate("text/csv ; q=1.0 , application/json ; q=0.999") == 2);
    CHECK(negotiate(",,") == -1);
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
    json_decref(from_json);
    json_decref(from_msgpack);
    msgpack_sbuffer_destroy(&buffer);
}

static void test_json_errors(void)
{
    CHECK(oracle_decode(LB_FORMAT_JSON, NULL, 0, err, sizeof(err)) == NULL);
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
    CHECK(decode_json("{\"a\":\xe6\xad}") == NULL); /* a cut-off character where a value should start */
    CHECK(is_utf8(err));
    CHECK(decode_json("{\"a\":\"\xed\xa0\x80\"}") == NULL); /* a UTF-16 surrogate */
    CHECK(oracle_decode(LB_FORMAT_JSON, "{\"a\":1}\0", 8, err, sizeof(err)) == NULL);
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

/* {"a": ...} in msgpack, what "a" holds packed by pack (n: its size), decoded by ours. */
static json_t *decode_packed_a(void (*pack)(msgpack_packer *, int), int n)
{
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map(&packer, 1);
    pack_text(&packer, "a");
    pack(&packer, n);
    json_t *value = decode_msgpack(&buffer);
    msgpack_sbuffer_destroy(&buffer);
    return value;
}

static void pack_nested(msgpack_packer *packer, int depth)
{
    for (int i = 1; i < depth; i++)
        msgpack_pack_array(packer, 1);
    msgpack_pack_int(packer, 1);
}

static json_t *nested_msgpack(int depth)
{
    return decode_packed_a(pack_nested, depth);
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
    text = nested_json(3000); /* refused without descending 3000 levels */
    CHECK(decode_json(text) == NULL);
    free(text);
}

/* {"a": [0, 0, ...]} with n zeros, and its msgpack twin: n + 2 values in all (the document, the array, the zeros). */
static json_t *wide_json(int n)
{
    char *text = lb_malloc((size_t)n * 2 + 16), *p = text;
    p += sprintf(p, "{\"a\":[");
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s0", i == 0 ? "" : ",");
    strcpy(p, "]}");
    json_t *value = decode_json(text);
    free(text);
    return value;
}

static void pack_zeros(msgpack_packer *packer, int n)
{
    msgpack_pack_array(packer, (size_t)n);
    for (int i = 0; i < n; i++)
        msgpack_pack_int(packer, 0);
}

static json_t *wide_msgpack(int n)
{
    return decode_packed_a(pack_zeros, n);
}

/* A body holds LB_FIELDS_MAX_VALUES values at most: one more is refused, in both formats, and says so. */
static void test_most_values(void)
{
    json_t *value = wide_json(LB_FIELDS_MAX_VALUES - 2), *packed = wide_msgpack(LB_FIELDS_MAX_VALUES - 2);
    CHECK(value != NULL && packed != NULL && json_equal(value, packed));
    json_decref(value);
    json_decref(packed);
    CHECK(wide_json(LB_FIELDS_MAX_VALUES - 1) == NULL);
    CHECK_CONTAINS(err, "more than 4096 values");
    CHECK(wide_msgpack(LB_FIELDS_MAX_VALUES - 1) == NULL);
    CHECK_CONTAINS(err, "more than 4096 values");
    CHECK(wide_msgpack(1000000) == NULL);
    CHECK_CONTAINS(err, "more than 4096 values");
    /* members count too */
    char *text = lb_malloc(LB_FIELDS_MAX_VALUES * 12 + 16), *p = text;
    *p++ = '{';
    for (int i = 0; i < LB_FIELDS_MAX_VALUES; i++)
        p += sprintf(p, "%s\"k%d\":1", i == 0 ? "" : ",", i);
    strcpy(p, "}");
    CHECK(decode_json(text) == NULL);
    CHECK_CONTAINS(err, "more than 4096 values");
    free(text);
}

/* Objects nested depth levels: {"a":{"a":...{"a":1}...}}. */
static char *nested_objects(int depth)
{
    char *text = lb_malloc((size_t)depth * 6 + 2), *p = text;
    for (int i = 0; i < depth; i++)
        p += sprintf(p, "{\"a\":");
    *p++ = '1';
    for (int i = 0; i < depth; i++)
        *p++ = '}';
    *p = '\0';
    return text;
}

/* Bodies the JSON decoder must refuse, each with a part of the message that says where and why. */
static void test_json_rejects(void)
{
    static const struct {
        const char *body, *message;
    } cases[] = {
        {"{\"a\":1} x", "at line 1 column 9: more after the value"},
        {"{\"a\":1}{}", "column 8: more after the value"},
        {"{\"a\":1}\n\n  ]", "at line 3 column 3: more after the value"},
        {"{\"a\":\n  x}", "at line 2 column 3: unexpected character 'x'"},
        {"{\"" MILLET "\":x}", "at line 1 column 9: unexpected character 'x'"}, /* columns count characters */
        {" \n\t", "at line 2 column 2: unexpected end of input"},
        {"{", "column 2: unexpected end of input"},
        {"{\"a\":1", "column 7: unexpected end of input"},
        {"{\"a\":[1,2", "unexpected end of input"},
        {"{\"a\"", "unexpected end of input"},
        /* numbers */
        {"{\"a\":01}", "column 7: leading zeros are not allowed"},
        {"{\"a\":-00}", "leading zeros are not allowed"},
        {"{\"a\":+1}", "column 6: unexpected character '+'"},
        {"{\"a\":.5}", "unexpected character '.'"},
        {"{\"a\":1.}", "column 8: expected a digit after '.'"},
        {"{\"a\":1.e5}", "expected a digit after '.'"},
        {"{\"a\":1e}", "expected a digit in the exponent"},
        {"{\"a\":1E+}", "expected a digit in the exponent"},
        {"{\"a\":-}", "column 7: unexpected character '}'"},
        {"{\"a\":-", "unexpected end of input"},
        {"{\"a\":- 1}", "unexpected byte 0x20"},
        {"{\"a\":0x10}", "expected ',' or '}'"},
        {"{\"a\":1_000}", "expected ',' or '}'"},
        {"{\"a\":NaN}", "unexpected character 'N'"},
        {"{\"a\":Infinity}", "unexpected character 'I'"},
        {"{\"a\":-Infinity}", "unexpected character 'I'"},
        {"{\"a\":9223372036854775808}", "column 6: integer out of range"},
        {"{\"a\":-9223372036854775809}", "integer out of range"},
        {"{\"a\":18446744073709551616}", "integer out of range"},
        {"{\"a\":100000000000000000000000000000}", "integer out of range"},
        {"{\"a\":1e400}", "column 6: number out of range"},
        {"{\"a\":-1.5e309}", "number out of range"},
        /* strings */
        {"{\"a\":\"abc}", "column 11: unterminated string"},
        {"{\"a\":\"abc\\", "unterminated string"},
        {"{\"a\":'x'}", "unexpected character '''"},
        {"{\"a\":\"\\x\"}", "column 7: invalid escape"},
        {"{\"a\":\"\\U0041\"}", "invalid escape"},
        {"{\"a\":\"\\u12\"}", "invalid \\u escape"},
        {"{\"a\":\"\\u12g4\"}", "invalid \\u escape"},
        {"{\"a\":\"\\u004", "invalid \\u escape"},
        {"{\"a\":\"a\tb\"}", "column 8: control character in string"},
        {"{\"a\":\"\x01\"}", "control character in string"},
        {"{\"a\":\"\x1f\"}", "control character in string"},
        {"{\"a\":\"line\nbreak\"}", "control character in string"},
        {"{\"a\":\"\\u0000\"}", "column 7: \\u0000 is not allowed"},
        {"{\"\\u0000\":1}", "\\u0000 is not allowed"},
        {"{\"a\":\"\\ud83d\"}", "column 7: invalid UTF-16 surrogate"},
        {"{\"a\":\"\\ud83dx\"}", "invalid UTF-16 surrogate"},
        {"{\"a\":\"\\ud83d\\u0041\"}", "invalid UTF-16 surrogate"},
        {"{\"a\":\"\\ud83d\\ud83d\"}", "invalid UTF-16 surrogate"},
        {"{\"a\":\"\\ude00\\ud83d\"}", "invalid UTF-16 surrogate"},
        {"{\"a\":\"\\ude00\"}", "invalid UTF-16 surrogate"},
        {"{\"a\":\"\\ud83d\\n\"}", "invalid UTF-16 surrogate"},
        /* UTF-8 */
        {"{\"a\":\"\xff\"}", "column 7: invalid UTF-8 in string"},
        {"{\"a\":\"\x80\"}", "invalid UTF-8 in string"},             /* a lone continuation byte */
        {"{\"a\":\"\xc0\xaf\"}", "invalid UTF-8 in string"},         /* overlong '/' */
        {"{\"a\":\"\xc1\xbf\"}", "invalid UTF-8 in string"},         /* overlong */
        {"{\"a\":\"\xe0\x80\xaf\"}", "invalid UTF-8 in string"},     /* overlong, 3 bytes */
        {"{\"a\":\"\xf0\x80\x80\xaf\"}", "invalid UTF-8 in string"}, /* overlong, 4 bytes */
        {"{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8 in string"},     /* a UTF-16 surrogate */
        {"{\"a\":\"\xed\xbf\xbf\"}", "invalid UTF-8 in string"},     /* another */
        {"{\"a\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8 in string"}, /* U+110000 */
        {"{\"a\":\"\xf5\x80\x80\x80\"}", "invalid UTF-8 in string"},
        {"{\"a\":\"\xe6\xad\"}", "invalid UTF-8 in string"},     /* cut short */
        {"{\"a\":\"\xf0\x9f\x98\"}", "invalid UTF-8 in string"}, /* cut short */
        {"{\"a\":\"\xe6\xad", "invalid UTF-8 in string"},        /* at the end of the body */
        {"{\"\xff\":1}", "invalid UTF-8 in string"},
        {"{\"a\":\xe6\xad\xa6}", "unexpected byte 0xe6"},
        {"\xef\xbb\xbf{}", "column 1: unexpected byte 0xef"}, /* no byte order mark */
        /* structure */
        {"{\"a\":1,}", "column 8: expected a string key"},
        {"{,}", "expected a string key"},
        {"{\"a\":[1,]}", "column 9: unexpected character ']'"},
        {"{\"a\":[,1]}", "unexpected character ','"},
        {"{\"a\":[1 2]}", "expected ',' or ']'"},
        {"{\"a\":1 \"b\":2}", "expected ',' or '}'"},
        {"{\"a\" 1}", "column 6: expected ':'"},
        {"{\"a\"=1}", "expected ':'"},
        {"{a:1}", "column 2: expected a string key"},
        {"{1:1}", "expected a string key"},
        {"{\"a\":1 /* note */}", "expected ',' or '}'"},
        {"// note\n{\"a\":1}", "at line 1 column 1: unexpected character '/'"},
        {"{\"a\":1}// note", "more after the value"},
        {"{\"a\":tru}", "unexpected character 't'"},
        {"{\"a\":True}", "unexpected character 'T'"},
        {"{\"a\":nul", "unexpected character 'n'"},
        {"{\"a\":nulll}", "expected ',' or '}'"},
        {"{\"a\":undefined}", "unexpected character 'u'"},
        {"{\"a\":1}\x0c", "more after the value"}, /* form feed is not JSON whitespace */
        {"{\"a\":1,\"b\":2,\"a\":3}", "column 14: duplicate object key"},
        {"{\"\":1,\"\":2}", "duplicate object key"},
        {"{\"A\":1,\"\\u0041\":2}", "duplicate object key"},
        {"{\"a\":{\"b\":1,\"c\":{},\"b\":1}}", "duplicate object key"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *value = decode_json(cases[i].body);
        CHECK(value == NULL);
        json_decref(value);
        CHECK_CONTAINS(err, "malformed JSON at line ");
        CHECK_CONTAINS(err, cases[i].message);
        CHECK(is_utf8(err));
    }
    CHECK(oracle_decode(LB_FORMAT_JSON, "{\"a\":\"\0\"}", 9, err, sizeof(err)) == NULL);
    CHECK_CONTAINS(err, "column 7: control character in string");
    CHECK(oracle_decode(LB_FORMAT_JSON, "{\"a\":1}\0", 8, err, sizeof(err)) == NULL);
    CHECK_CONTAINS(err, "column 8: more after the value");
    CHECK(oracle_decode(LB_FORMAT_JSON, "{\"a\":1\0}", 8, err, sizeof(err)) == NULL); /* jansson let this one through */
    CHECK_CONTAINS(err, "column 7: expected ',' or '}'");
    CHECK(oracle_decode(LB_FORMAT_JSON, "{\"a\":12}", 7, err, sizeof(err)) == NULL); /* only len bytes count */
    CHECK_CONTAINS(err, "unexpected end of input");
    CHECK(decode_json("[{\"a\":1}]") == NULL);
    CHECK(strcmp(err, "body must be a JSON object") == 0);
    CHECK(decode_json(" null ") == NULL);
    CHECK(strcmp(err, "body must be a JSON object") == 0);
    CHECK(decode_json("12") == NULL);
    CHECK(strcmp(err, "body must be a JSON object") == 0);
}

static json_t *field(json_t *object, const char *name)
{
    return json_object_get(object, name);
}

static int is_real_value(json_t *value, double expected)
{
    return json_is_real(value) && json_real_value(value) == expected;
}

static int is_integer_value(json_t *value, json_int_t expected)
{
    return json_is_integer(value) && json_integer_value(value) == expected;
}

static int is_string_value(json_t *value, const char *expected, size_t len)
{
    return json_is_string(value) && json_string_length(value) == len && memcmp(json_string_value(value), expected, len) == 0;
}

static void test_json_accepts(void)
{
    json_t *value = decode_json(" \t\r\n{ \"i\" : [ -0 , 0 , 7 , -12 ] ,\n\"max\":9223372036854775807,"
                                "\"min\":-9223372036854775808, \"e\":1e5,\"E\":1.5E-3,\"z\":-0.0,\"p\":2E+2,"
                                "\"tiny\":1e-400,\"pi\":3.141592653589793,\"t\":true,\"f\":false,\"n\":null,"
                                "\"\":\"\",\"o\":{},\"a\":[],\"oa\":[{}, [[]]]} \r\n");
    CHECK(value != NULL);
    if (value == NULL)
        return;
    json_t *integers = field(value, "i");
    CHECK(json_array_size(integers) == 4 && is_integer_value(json_array_get(integers, 0), 0));
    CHECK(is_integer_value(json_array_get(integers, 1), 0) && is_integer_value(json_array_get(integers, 2), 7));
    CHECK(is_integer_value(json_array_get(integers, 3), -12));
    CHECK(is_integer_value(field(value, "max"), INT64_MAX) && is_integer_value(field(value, "min"), INT64_MIN));
    CHECK(is_real_value(field(value, "e"), 1e5) && is_real_value(field(value, "E"), 1.5e-3));
    CHECK(is_real_value(field(value, "z"), 0.0) && signbit(json_real_value(field(value, "z"))));
    CHECK(is_real_value(field(value, "p"), 200.0) && is_real_value(field(value, "tiny"), 0.0));
    CHECK(is_real_value(field(value, "pi"), 3.141592653589793));
    CHECK(json_is_true(field(value, "t")) && json_is_false(field(value, "f")) && json_is_null(field(value, "n")));
    CHECK(is_string_value(field(value, ""), "", 0));
    CHECK(json_is_object(field(value, "o")) && json_object_size(field(value, "o")) == 0);
    CHECK(json_is_array(field(value, "a")) && json_array_size(field(value, "a")) == 0);
    CHECK(json_array_size(field(value, "oa")) == 2);
    /* the members keep their order */
    void *it = json_object_iter(value);
    CHECK(it != NULL && strcmp(json_object_iter_key(it), "i") == 0);
    CHECK(strcmp(json_object_iter_key(json_object_iter_next(value, it)), "max") == 0);
    json_decref(value);

    value = decode_json("{\"esc\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"u\":\"\\u00e9\\u4E2D\\u007f\\u0001\","
                        "\"pair\":\"\\ud83d\\ude00\",\"PAIR\":\"\\uD83D\\uDE00\",\"max\":\"\\udbff\\udfff\","
                        "\"raw\":\"" MILLET "\xf0\x9f\x98\x80\x7f/\",\"k\\u0065y\":1,\"mixed\":\"a\\nb" MILLET "\\u00e9!\"}");
    CHECK(value != NULL);
    if (value == NULL)
        return;
    CHECK(is_string_value(field(value, "esc"), "\"\\/\b\f\n\r\t", 8));
    CHECK(is_string_value(field(value, "u"), "\xc3\xa9\xe4\xb8\xad\x7f\x01", 7));
    CHECK(is_string_value(field(value, "pair"), "\xf0\x9f\x98\x80", 4));
    CHECK(is_string_value(field(value, "PAIR"), "\xf0\x9f\x98\x80", 4));
    CHECK(is_string_value(field(value, "max"), "\xf4\x8f\xbf\xbf", 4));
    CHECK(is_string_value(field(value, "raw"), MILLET "\xf0\x9f\x98\x80\x7f/", 18));
    CHECK(is_integer_value(field(value, "key"), 1));
    CHECK(is_string_value(field(value, "mixed"), "a\nb" MILLET "\xc3\xa9!", 18));
    json_decref(value);
}

/* Strings, keys and numbers too long for the decoder's stack buffers. */
static void test_json_long_tokens(void)
{
    char body[4096], expected[1024], *p = body;
    p += sprintf(p, "{\"");
    for (int i = 0; i < 100; i++)
        p += sprintf(p, "k\\u00e9"); /* a 300-byte key, 700 bytes escaped */
    p += sprintf(p, "\":\"");
    for (int i = 0; i < 200; i++)
        p += sprintf(p, "\\ud83d\\ude00"); /* 800 bytes, 2400 escaped */
    p += sprintf(p, "\",\"r\":0.");
    for (int i = 0; i < 100; i++)
        *p++ = '0';
    sprintf(p, "15e2}");
    json_t *value = decode_json(body);
    CHECK(value != NULL && json_object_size(value) == 2);
    if (value == NULL)
        return;
    for (int i = 0; i < 100; i++)
        memcpy(expected + i * 3, "k\xc3\xa9", 3);
    void *it = json_object_iter(value);
    CHECK(json_object_iter_key_len(it) == 300 && memcmp(json_object_iter_key(it), expected, 300) == 0);
    json_t *text = json_object_iter_value(it);
    CHECK(json_string_length(text) == 800 && memcmp(json_string_value(text) + 796, "\xf0\x9f\x98\x80", 4) == 0);
    CHECK(is_real_value(field(value, "r"), 1.5e-99));
    json_decref(value);
}

static void test_json_depth(void)
{
    char *text = nested_objects(32);
    json_t *value = decode_json(text);
    CHECK(value != NULL);
    json_decref(value);
    free(text);
    text = nested_objects(33);
    CHECK(decode_json(text) == NULL);
    CHECK(strcmp(err, "body nests deeper than 32 levels") == 0);
    free(text);
    CHECK(decode_json("{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[") == NULL); /* stops before the end */
    CHECK(strcmp(err, "body nests deeper than 32 levels") == 0);
    char *flat = lb_malloc(200000), *p = flat; /* wide is fine, up to LB_FIELDS_MAX_VALUES values */
    p += sprintf(p, "{\"a\":[");
    for (int i = 0; i < 4000; i++)
        p += sprintf(p, "%s[]", i != 0 ? "," : "");
    strcpy(p, "]}");
    value = decode_json(flat);
    CHECK(value != NULL && json_array_size(json_object_get(value, "a")) == 4000);
    json_decref(value);
    free(flat);
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
    char *bytes = oracle_encode(format, value, &len);
    CHECK(bytes != NULL && len > 0);
    json_t *again = oracle_decode(format, bytes, len, err, sizeof(err));
    CHECK(again != NULL && json_equal(value, again));
    json_decref(again);
    free(bytes);
}

static void test_encode(void)
{
    json_t *value = json_pack("{s:i,s:s,s:[b,n,f],s:{}}", "id", 7, "title", MILLET, "list", 1, 0.5, "empty");
    size_t len;
    char *bytes = oracle_encode(LB_FORMAT_JSON, value, &len);
    const char expected[] = "{\"id\":7,\"title\":\"" MILLET "\",\"list\":[true,null,0.5],\"empty\":{}}";
    CHECK(bytes != NULL && len == strlen(expected) && memcmp(bytes, expected, len) == 0);
    free(bytes);
    json_decref(value);

    value = json_pack("{s:I,s:i,s:s}", "a", (json_int_t)INT64_MIN, "b", -1, "c", "x");
    bytes = oracle_encode(LB_FORMAT_MSGPACK, value, &len);
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
    oracle_max_values = UINT32_MAX; /* a document larger than any body may be: the writer's, read back */
    check_round_trip(LB_FORMAT_JSON, big);
    check_round_trip(LB_FORMAT_MSGPACK, big);
    oracle_max_values = LB_FIELDS_MAX_VALUES;
    json_decref(big);
}

/* Checks that value (in an object, when it is not one) goes through our decoder and writer to the very bytes jansson's
 * json_dumps writes with the flags we used to give it. */
static void check_like_jansson(json_t *value)
{
    json_t *holder = json_is_object(value) ? json_incref(value) : json_pack("{s:O}", "v", value);
    size_t len;
    char *ours = oracle_encode(LB_FORMAT_JSON, holder, &len), *theirs = json_dumps(holder, JSON_COMPACT);
    int same = ours != NULL && theirs != NULL && len == strlen(theirs) && memcmp(ours, theirs, len) == 0;
    CHECK(same);
    if (!same && ours != NULL && theirs != NULL)
        fprintf(stderr, "  ours:    %.*s\n  jansson: %s\n", (int)len, ours, theirs);
    free(ours);
    free(theirs);
    json_decref(holder);
}

/* Checks two numbers, then puts them into array. */
static void add_number_like_jansson(json_t *array, json_t *number, json_t *other)
{
    check_like_jansson(number);
    check_like_jansson(other);
    json_array_append_new(array, number);
    json_array_append_new(array, other);
}

static void test_encode_like_jansson(void)
{
    char controls[40];
    for (int i = 1; i < 0x20; i++)
        controls[i - 1] = (char)i;
    memcpy(controls + 31, "\x7f\"\\/ok", 6);
    static const double reals[] = {0.5, 0.0,    0.1,   1e15,   1e16,    1e17,    1e20, 1e21,   1e-4,    1e-5,     1e100,    100.0,
                                   3.0, 1.5e-7, 1e300, 5e-324, DBL_MIN, DBL_MAX, 4.35, 1e-100, 1.5e300, 0.000123, 12345.678};
    static const json_int_t integers[] = {0, 1, 9, 10, 99, 100, 12345, 987654321, 4294967296, 1000000000000000000};
    json_t *array = json_array();
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
        add_number_like_jansson(array, json_real(reals[i]), json_real(-reals[i]));
    add_number_like_jansson(array, json_real(1.0 / 3), json_real(-2.0 / 3));
    add_number_like_jansson(array, json_real(123456789012345678.0), json_real(9007199254740993.0));
    for (size_t i = 0; i < sizeof(integers) / sizeof(integers[0]); i++)
        add_number_like_jansson(array, json_integer(integers[i]), json_integer(-integers[i]));
    add_number_like_jansson(array, json_integer(INT64_MAX), json_integer(INT64_MIN));
    add_number_like_jansson(array, json_integer(INT64_MAX - 1), json_integer(INT64_MIN + 1));
    json_t *strings[] = {
        json_stringn(controls, 37),  json_string(""),           json_string(MILLET "\xf0\x9f\x98\x80 \xc3\xa9\xf4\x8f\xbf\xbf"),
        json_string("ends with \\"), json_string("\"quoted\""), json_string("</script>")};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        check_like_jansson(strings[i]);
        json_array_append_new(array, strings[i]);
    }
    json_t *keys = json_object();
    json_object_setn_new(keys, controls, 37, json_true());
    json_object_set_new(keys, "", json_false());
    json_object_set_new(keys, MILLET, json_null());
    json_object_set_new(keys, "z", json_object());
    json_object_set_new(keys, "a", json_array());
    json_object_set_new(keys, "list", array);
    json_t *document =
        json_pack("{s:o,s:[{s:[{},[[]],{s:n}]},b,b,n,i,f],s:s}", "keys", keys, "deep", "x", "y", 1, 0, 5, 2.5, "answer", "end");
    check_like_jansson(document);
    check_like_jansson(keys);
    check_like_jansson(json_true());
    check_like_jansson(json_false());
    check_like_jansson(json_null());
    json_decref(document);

    json_t *answer = json_pack("{s:I,s:s,s:i,s:i,s:i,s:I,s:n}", "order_id", (json_int_t)123456, "status", "reserved", "sku_id", 12,
                               "qty", 1, "amount_cents", 3980, "expires_at", (json_int_t)1790000000, "live_item_id");
    size_t len;
    char *bytes = oracle_encode(LB_FORMAT_JSON, answer, &len);
    const char expected[] = "{\"order_id\":123456,\"status\":\"reserved\",\"sku_id\":12,\"qty\":1,\"amount_cents\":3980,"
                            "\"expires_at\":1790000000,\"live_item_id\":null}";
    CHECK(bytes != NULL && len == strlen(expected) && memcmp(bytes, expected, len) == 0);
    free(bytes);
    json_decref(answer);
}

/* A fixed-seed xorshift generator, so a failure shows up the same way on every run. */
static uint64_t random_state = 0x9e3779b97f4a7c15u;

static uint64_t random_next(void)
{
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return random_state;
}

static unsigned random_below(unsigned n)
{
    return (unsigned)(random_next() % n);
}

/* Text made of pieces that exercise every kind of character: escapes, controls, 2-, 3- and 4-byte UTF-8. */
static json_t *random_string(void)
{
    static const char *const pieces[] = {"a",
                                         "Z",
                                         "0",
                                         " ",
                                         "\"",
                                         "\\",
                                         "/",
                                         "\n",
                                         "\t",
                                         "\b",
                                         "\x01",
                                         "\x1f",
                                         "\x7f",
                                         "\xc3\xa9",
                                         "\xe6\xad\xa6",
                                         "\xf0\x9f\x98\x80",
                                         "key",
                                         "\xef\xbf\xbf"};
    char text[128];
    size_t len = 0;
    for (unsigned i = random_below(12); i > 0; i--) {
        const char *piece = pieces[random_below(sizeof(pieces) / sizeof(pieces[0]))];
        memcpy(text + len, piece, strlen(piece));
        len += strlen(piece);
    }
    return json_stringn(text, len);
}

static json_t *random_number(void)
{
    double real;
    switch (random_below(6)) {
    case 0:
        return json_integer((json_int_t)random_below(100) - 50);
    case 1:
        return json_integer((json_int_t)random_next());
    case 2:
        return json_integer(random_below(2) ? INT64_MAX : INT64_MIN);
    case 3:
        return json_real((double)((int)random_below(2000) - 1000) / 8);
    default:
        do {
            uint64_t bits = random_next();
            memcpy(&real, &bits, sizeof(real));
        } while (!isfinite(real));
        return json_real(real);
    }
}

static json_t *random_value(int depth);

static json_t *random_object(int depth)
{
    json_t *object = json_object();
    for (unsigned i = random_below(depth == 1 ? 8 : 6); i > 0; i--) {
        json_t *key = random_string();
        json_object_setn_new(object, json_string_value(key), json_string_length(key), random_value(depth + 1));
        json_decref(key);
    }
    return object;
}

static json_t *random_value(int depth)
{
    switch (random_below(depth < 6 ? 8 : 6)) {
    case 0:
        return random_string();
    case 1:
    case 2:
        return random_number();
    case 3:
        return json_true();
    case 4:
        return json_false();
    case 5:
        return json_null();
    case 6: {
        json_t *array = json_array();
        for (unsigned i = random_below(6); i > 0; i--)
            json_array_append_new(array, random_value(depth + 1));
        return array;
    }
    default:
        return random_object(depth);
    }
}

/* Broken copies of an encoded body: we accept what jansson (as we used it) accepted, and decode it to the same value. */
static void check_mutations_like_jansson(const char *bytes, size_t len)
{
    static const char inserts[] = "{}[],:\"\\0-.eE+ \n/ux\x80\xc3\xed\x01";
    char *copy = lb_malloc(len + 1);
    for (int round = 0; round < 8; round++) {
        size_t at = random_below((unsigned)len), copy_len = len;
        memcpy(copy, bytes, len);
        switch (random_below(3)) {
        case 0: /* overwrite a byte */
            copy[at] = inserts[random_below(sizeof(inserts) - 1)];
            break;
        case 1: /* insert one */
            memmove(copy + at + 1, copy + at, len - at);
            copy[at] = inserts[random_below(sizeof(inserts) - 1)];
            copy_len++;
            break;
        default: /* delete one */
            memmove(copy + at, copy + at + 1, len - at - 1);
            copy_len--;
        }
        json_t *ours = oracle_decode(LB_FORMAT_JSON, copy, copy_len, err, sizeof(err));
        json_t *theirs = json_loadb(copy, copy_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
        if (theirs != NULL && !json_is_object(theirs)) {
            json_decref(theirs);
            theirs = NULL;
        }
        CHECK((ours == NULL) == (theirs == NULL) && (ours == NULL || json_equal(ours, theirs)));
        if ((ours == NULL) != (theirs == NULL))
            fprintf(stderr, "  %s: %.*s (%s)\n", ours != NULL ? "only we accept" : "only jansson accepts", (int)copy_len, copy,
                    err);
        json_decref(ours);
        json_decref(theirs);
    }
    free(copy);
}

/* For generated trees: we write what jansson writes, read back what we wrote, and agree with jansson on broken bodies. */
static void test_random_round_trips(void)
{
    for (int i = 0; i < 400; i++) {
        json_t *value = random_object(1);
        check_like_jansson(value);
        size_t len, again_len;
        char *bytes = oracle_encode(LB_FORMAT_JSON, value, &len);
        json_t *again = oracle_decode(LB_FORMAT_JSON, bytes, len, err, sizeof(err));
        CHECK(again != NULL && json_equal(value, again));
        char *bytes_again = oracle_encode(LB_FORMAT_JSON, again, &again_len); /* the order of members survives too */
        CHECK(bytes_again != NULL && again_len == len && memcmp(bytes, bytes_again, len) == 0);
        if (len > 2)
            check_mutations_like_jansson(bytes, len);
        free(bytes_again);
        json_decref(again);
        free(bytes);
        json_decref(value);
    }
}

/* A body for the field readers; "skus" has an object then a non-object. */
static const char fields_json[] = "{\"title\":\"" MILLET "\",\"empty\":\"\",\"tab\":\"a\\tb\",\"del\":\"a\\u007fb\",\"qty\":5,"
                                  "\"real\":1.0,\"text_qty\":\"5\",\"big\":9223372036854775807,\"nil\":null,\"yes\":true,"
                                  "\"zero\":0,\"kind\":\"host\",\"bad_kind\":\"co-op\",\"skus\":[{\"a\":1}],"
                                  "\"mixed\":[{},1],\"none\":[],\"obj\":{}}";

static void test_field_string(const lb_value_t *body)
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

static void test_field_int(const lb_value_t *body)
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

static void test_field_bool_and_enum(const lb_value_t *body)
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

static void test_field_object_array(const lb_value_t *body)
{
    lb_input_error_t e = {0};
    const lb_value_t *items = NULL;
    CHECK(lb_field_object_array(body, "skus", 1, 50, &items, &e) == 0 && items == lb_value_member(body, "skus"));
    CHECK(lb_field_object_array(body, "skus", 1, 1, &items, &e) == 0);
    CHECK(lb_field_object_array(body, "missing", 0, 50, &items, &e) == 0 && items == lb_value_member(body, "skus"));
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

static void test_field_prefix_and_input_error(const lb_value_t *body)
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
    CHECK(lb_field_int(lb_value_member(body, "qty"), "x", 1, 0, 1, &n, &e) == LB_EINPUT);

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
    lb_fields_t f;
    lb_fields_init(&f);
    CHECK(lb_codec_decode(LB_FORMAT_JSON, fields_json, strlen(fields_json), &f, err, sizeof(err)) == 0);
    const lb_value_t *body = lb_fields_root(&f);
    if (body == NULL)
        return;
    test_field_string(body);
    test_field_int(body);
    test_field_bool_and_enum(body);
    test_field_object_array(body);
    test_field_prefix_and_input_error(body);
    lb_fields_dispose(&f);
}

/* Writes {"id":..,"error":{"code":..,"message":..},"n":-1} with the writer in format. */
static void write_sample(lb_writer_t *w, lb_format_t format, const char *message)
{
    lb_writer_init(w, format);
    lb_writer_map(w, NULL);
    lb_writer_integer(w, "id", INT64_MAX);
    lb_writer_map(w, "error");
    lb_writer_string(w, "code", "sold_out");
    lb_writer_string(w, "message", message);
    lb_writer_end(w);
    lb_writer_integer(w, "n", -1);
    lb_writer_end(w);
}

/* The writer gives the bytes lb_codec_encode gives for the same document, in both formats; bad UTF-8 fails it. */
static void test_writer(void)
{
    json_t *doc = json_pack("{s:I,s:{s:s,s:s},s:I}", "id", (json_int_t)INT64_MAX, "error", "code", "sold_out", "message",
                            "只剩 \"3\" 件\n", "n", (json_int_t)-1);
    for (int f = 0; f != 2; ++f) {
        lb_format_t format = f == 0 ? LB_FORMAT_JSON : LB_FORMAT_MSGPACK;
        lb_writer_t w;
        size_t len;
        char *expected = oracle_encode(format, doc, &len);
        write_sample(&w, format, "只剩 \"3\" 件\n");
        CHECK(!w.failed && w.out.len == len && memcmp(w.out.bytes, expected, len) == 0);
        free(expected);
        free(w.out.bytes);
        write_sample(&w, format, "\xff\xfe");
        CHECK(w.failed);
        free(w.out.bytes);
    }
    lb_writer_t w;
    lb_writer_init(&w, LB_FORMAT_JSON);
    lb_writer_map(&w, NULL);
    lb_writer_end(&w);
    CHECK(w.out.len == 2 && memcmp(w.out.bytes, "{}", 2) == 0);
    free(w.out.bytes);
    json_decref(doc);

    /* Keys that are not plain ASCII are escaped like values (the plain ones take a shorter way), bad UTF-8 fails. */
    doc = json_pack("{s:i,s:i,s:i}", "plain", 1, "q\"uo\\te\t", 2, "名字", 3);
    size_t len;
    char *expected = oracle_encode(LB_FORMAT_JSON, doc, &len);
    lb_writer_init(&w, LB_FORMAT_JSON);
    lb_writer_map(&w, NULL);
    lb_writer_integer(&w, "plain", 1);
    lb_writer_integer(&w, "q\"uo\\te\t", 2);
    lb_writer_integer(&w, "名字", 3);
    lb_writer_end(&w);
    CHECK(!w.failed && w.out.len == len && memcmp(w.out.bytes, expected, len) == 0);
    free(w.out.bytes);
    free(expected);
    json_decref(doc);
    lb_writer_init(&w, LB_FORMAT_JSON);
    lb_writer_map(&w, NULL);
    lb_writer_integer(&w, "\xff", 1);
    lb_writer_end(&w);
    CHECK(w.failed);
    free(w.out.bytes);
}

/* Arrays, booleans and nulls: JSON as jansson's own dumper writes it, msgpack as msgpack-c packs it. */
static void write_containers(lb_writer_t *w, lb_format_t format)
{
    lb_writer_init(w, format);
    lb_writer_map(w, NULL);
    lb_writer_array(w, "orders");
    lb_writer_integer(w, NULL, 1);
    lb_writer_integer(w, NULL, 300);
    lb_writer_end(w);
    lb_writer_array(w, "items");
    lb_writer_map(w, NULL);
    lb_writer_bool(w, "cold_chain", 1);
    lb_writer_end(w);
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "ship_to:n,title:s", MILLET);
    lb_writer_end(w);
    lb_writer_end(w);
    lb_writer_array(w, "empty");
    lb_writer_end(w);
    lb_writer_pack(w, "next:N,reserve_ttl:N,replayed:b,to:{name:s,id:I},last:I", (int64_t)0, (int64_t)60, 0, "x", (int64_t)-5,
                   INT64_MIN);
    lb_writer_end(w);
}

static void test_writer_containers(void)
{
    lb_writer_t w;
    json_t *doc = json_pack("{s:[i,i],s:[{s:b},{s:n,s:s}],s:[],s:n,s:i,s:b,s:{s:s,s:i},s:I}", "orders", 1, 300, "items",
                            "cold_chain", 1, "ship_to", "title", MILLET, "empty", "next", "reserve_ttl", 60, "replayed", 0, "to",
                            "name", "x", "id", -5, "last", (json_int_t)INT64_MIN);
    char *expected = json_dumps(doc, JSON_COMPACT);
    write_containers(&w, LB_FORMAT_JSON);
    CHECK(!w.failed && w.depth == 0 && w.out.len == strlen(expected) && memcmp(w.out.bytes, expected, w.out.len) == 0);
    if (w.out.len != strlen(expected) || memcmp(w.out.bytes, expected, w.out.len) != 0)
        fprintf(stderr, "  ours:    %.*s\n  jansson: %s\n", (int)w.out.len, w.out.bytes, expected);
    free(w.out.bytes);
    json_free_t jansson_free;
    json_malloc_t jansson_malloc;
    json_get_alloc_funcs(&jansson_malloc, &jansson_free);
    jansson_free(expected);
    json_decref(doc);

    msgpack_sbuffer buffer;
    msgpack_packer packer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map(&packer, 8);
    pack_text(&packer, "orders");
    msgpack_pack_array(&packer, 2);
    msgpack_pack_int64(&packer, 1);
    msgpack_pack_int64(&packer, 300);
    pack_text(&packer, "items");
    msgpack_pack_array(&packer, 2);
    msgpack_pack_map(&packer, 1);
    pack_text(&packer, "cold_chain");
    msgpack_pack_true(&packer);
    msgpack_pack_map(&packer, 2);
    pack_text(&packer, "ship_to");
    msgpack_pack_nil(&packer);
    pack_text(&packer, "title");
    pack_text(&packer, MILLET);
    pack_text(&packer, "empty");
    msgpack_pack_array(&packer, 0);
    pack_text(&packer, "next");
    msgpack_pack_nil(&packer);
    pack_text(&packer, "reserve_ttl");
    msgpack_pack_int64(&packer, 60);
    pack_text(&packer, "replayed");
    msgpack_pack_false(&packer);
    pack_text(&packer, "to");
    msgpack_pack_map(&packer, 2);
    pack_text(&packer, "name");
    pack_text(&packer, "x");
    pack_text(&packer, "id");
    msgpack_pack_int64(&packer, -5);
    pack_text(&packer, "last");
    msgpack_pack_int64(&packer, INT64_MIN);
    write_containers(&w, LB_FORMAT_MSGPACK);
    CHECK(!w.failed && w.out.len == buffer.size && memcmp(w.out.bytes, buffer.data, buffer.size) == 0);
    free(w.out.bytes);
    msgpack_sbuffer_destroy(&buffer);
}

/* msgpack counts are written when a map or array ends, in the header msgpack-c would have chosen for the count. */
static void test_writer_counts(void)
{
    static const size_t counts[] = {0, 1, 15, 16, 17, 65535, 65536, 70000};
    for (size_t c = 0; c != sizeof(counts) / sizeof(counts[0]); ++c) {
        msgpack_sbuffer buffer;
        msgpack_packer packer;
        lb_writer_t w;
        msgpack_sbuffer_init(&buffer);
        msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
        lb_writer_init(&w, LB_FORMAT_MSGPACK);
        msgpack_pack_array(&packer, 2);
        lb_writer_array(&w, NULL);
        msgpack_pack_array(&packer, counts[c]);
        lb_writer_array(&w, NULL);
        for (size_t i = 0; i != counts[c]; ++i) {
            msgpack_pack_int64(&packer, (int64_t)i);
            lb_writer_integer(&w, NULL, (int64_t)i);
        }
        lb_writer_end(&w);
        msgpack_pack_map(&packer, counts[c]);
        lb_writer_map(&w, NULL);
        for (size_t i = 0; i != counts[c]; ++i) {
            char key[24]; /* "k" and any size_t: -O1 (the TSan build) checks snprintf for truncation */
            snprintf(key, sizeof(key), "k%zu", i);
            pack_text(&packer, key);
            msgpack_pack_true(&packer);
            lb_writer_bool(&w, key, 1);
        }
        lb_writer_end(&w);
        lb_writer_end(&w);
        CHECK(!w.failed && w.depth == 0 && w.out.len == buffer.size && memcmp(w.out.bytes, buffer.data, buffer.size) == 0);
        free(w.out.bytes);
        msgpack_sbuffer_destroy(&buffer);
    }
}

/* A message cut inside a UTF-8 sequence, or quoting bad bytes, becomes valid UTF-8; valid text stays as it is. */
static void test_utf8_mend(void)
{
    char cut[] = "只剩 \xe4\xb8",
         bad[] = "a\xff\xfe"
                 "b",
         fine[] = "武乡小米 ok";
    lb_utf8_mend(cut);
    lb_utf8_mend(bad);
    lb_utf8_mend(fine);
    CHECK(strcmp(cut, "只剩 ??") == 0);
    CHECK(strcmp(bad, "a??b") == 0);
    CHECK(strcmp(fine, "武乡小米 ok") == 0);
}

int main(void)
{
    test_request_format();
    test_answer_format();
    test_negotiate();
    test_same_document();
    test_json_errors();
    test_depth();
    test_most_values();
    test_json_rejects();
    test_json_accepts();
    test_json_long_tokens();
    test_json_depth();
    test_msgpack_values();
    test_msgpack_framing();
    test_encode();
    test_encode_like_jansson();
    test_random_round_trips();
    test_fields();
    test_writer();
    test_writer_containers();
    test_writer_counts();
    test_utf8_mend();
    return CHECK_RESULT("codec");
}
