/*
 * Unit tests of request bodies as fields (livebuy/fields.h): a body the scanner takes reads exactly as the codec's tree
 * of it does, a body it does not take is left to the codec, and the readers answer as lb_field_int and lb_field_string.
 */
#include <stdint.h>
#include <stdlib.h>
#include "check.h"
#include "livebuy/codec/codec.h"
#include "livebuy/codec/fields.h"

static char err[256];

/* The key of the object a field is in ("" for the body's own fields): indices differ between the two forms. */
static const char *object_key(const lb_fields_t *f, const lb_field_t *field, size_t *len)
{
    if (field->object == LB_FIELDS_TOP) {
        *len = 0;
        return "";
    }
    *len = f->fields[field->object].key_len;
    return f->fields[field->object].key;
}

static int same_value(const lb_value_t *a, const lb_value_t *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == LB_VALUE_INT)
        return a->integer == b->integer;
    if (a->kind == LB_VALUE_STRING)
        return a->len == b->len && memcmp(a->string, b->string, a->len) == 0 && a->string[a->len] == '\0';
    return 1;
}

/* Whether every field of a is in b, in the same object, with the same value. */
static int contained(const lb_fields_t *a, const lb_fields_t *b)
{
    for (size_t i = 0; i != a->count; ++i) {
        const lb_field_t *x = &a->fields[i];
        size_t x_len, y_len;
        const char *x_object = object_key(a, x, &x_len);
        int found = 0;
        for (size_t j = 0; j != b->count && !found; ++j) {
            const lb_field_t *y = &b->fields[j];
            const char *y_object = object_key(b, y, &y_len);
            found = x->key_len == y->key_len && memcmp(x->key, y->key, x->key_len) == 0 && x_len == y_len &&
                    memcmp(x_object, y_object, x_len) == 0 && same_value(&x->value, &y->value);
        }
        if (!found)
            return 0;
    }
    return 1;
}

/*
 * The property: when the scanner takes a body, the codec takes it too and the fields are the same; when the codec
 * refuses a body, so does the scanner. Returns whether the scanner took it.
 */
static int scans_like_the_codec(const char *body, size_t len)
{
    lb_fields_t scanned, decoded;
    lb_fields_init(&scanned);
    lb_fields_init(&decoded);
    int took = lb_fields_scan(&scanned, body, len) == 0;
    json_t *tree = lb_codec_decode(LB_FORMAT_JSON, body, len, err, sizeof(err));
    if (tree != NULL)
        lb_fields_from_json(&decoded, tree);
    if (took) {
        CHECK(tree != NULL);
        for (size_t i = 0; i != scanned.count; ++i) {
            const lb_value_t *v = &scanned.fields[i].value;
            CHECK(v->kind != LB_VALUE_STRING || (v->counted && v->chars == lb_utf8_length(v->string, v->len)));
        }
        CHECK(scanned.count == decoded.count && contained(&scanned, &decoded) && contained(&decoded, &scanned));
    } else {
        CHECK(scanned.count == 0 && scanned.text == NULL && scanned.fields == scanned.local);
    }
    lb_fields_dispose(&scanned);
    lb_fields_dispose(&decoded);
    json_decref(tree);
    return took;
}

static void test_scanned(void)
{
    static const char *const bodies[] = {
        "{}",
        " { } ",
        "{\"sku_id\":42,\"qty\":1,\"ship_to\":{\"name\":\"\xe7\x8e\x8b\xe8\x8a\xb3\",\"phone\":\"13800000000\","
        "\"address\":\"\xe5\xb1\xb1\xe8\xa5\xbf\"}}",
        "{\n\t\"live_item_id\" : 9223372036854775 ,\r\n \"qty\": -12, \"pickup_point_id\": null}",
        "{\"a\":0,\"b\":-1,\"c\":999999999999999999,\"d\":-999999999999999999}",
        "{\"ship_to\":{},\"x\":\"\"}",
        "{\"ship_to\":{\"name\":null},\"qty\":\"1\"}",
        "{\"\":1,\"\xf0\x9f\x8d\x8e\":\"\xf0\x9f\x8d\x8e\"}",
        "{\"a\":{\"x\":1},\"b\":{\"x\":2}}",
    };
    for (size_t i = 0; i != sizeof(bodies) / sizeof(bodies[0]); ++i)
        CHECK(scans_like_the_codec(bodies[i], strlen(bodies[i])));
}

static void test_left_to_the_codec(void)
{
    static const char *const bodies[] = {
        "",
        "[]",
        "42",
        "{",
        "{\"a\":1",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{a:1}",
        "{\"a\":1}x",
        "{\"a\":1}{}",
        "{\"a\":01}",
        "{\"a\":-0}",
        "{\"a\":-}",
        "{\"a\":1.5}",
        "{\"a\":1e3}",
        "{\"a\":1234567890123456789}",
        "{\"a\":true}",
        "{\"a\":nul}",
        "{\"a\":[1]}",
        "{\"a\":{\"b\":{}}}",
        "{\"a\":\"\\n\"}",
        "{\"a\\u0062\":1}",
        "{\"a\":\"\x01\"}",
        "{\"a\":\"\x7f\"}",
        "{\"a\":\"\xc3\"}",
        "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"open}",
        "{\"a\":1,\"a\":2}",
        "{\"s\":{\"a\":1,\"a\":1}}",
    };
    for (size_t i = 0; i != sizeof(bodies) / sizeof(bodies[0]); ++i)
        CHECK(!scans_like_the_codec(bodies[i], strlen(bodies[i])));
    /* a NUL inside the body, and a body cut short inside a UTF-8 sequence */
    CHECK(!scans_like_the_codec("{\"a\":\"x\0y\"}", 11));
    CHECK(!scans_like_the_codec("{\"a\":\"\xe7\x8e", 8));
}

/* Bodies made of pieces the scanner takes and pieces it leaves to the codec, in any order: the property holds. */
static void test_random_bodies(void)
{
    static const char *const keys[] = {"\"qty\"", "\"sku_id\"", "\"ship_to\"", "\"name\"", "\"\\u0071ty\"", "\"\""};
    static const char *const values[] = {"1",          "-7",   "0",    "00", "18446744073709551616", "2.0",     "\"13800000000\"",
                                         "\"a\\\"b\"", "null", "true", "[]", "\"\xe6\xad\xa6\"",     "\"\x1f\""};
    static const char *const separators[] = {",", " , ", ":", "", "}"};
    char body[512];
    unsigned seed = 12345, took = 0;
    for (int round = 0; round != 20000; ++round) {
        size_t len = 0;
        int depth = 0, fields = (int)((seed = seed * 1103515245 + 12345) >> 16) % 6;
        len += (size_t)snprintf(body + len, sizeof(body) - len, "{");
        for (int i = 0; i != fields; ++i) {
            unsigned r = (seed = seed * 1103515245 + 12345) >> 16;
            const char *separator = i == 0 ? "" : separators[r % 8 < 5 ? 0 : (r >> 3) % 5];
            len += (size_t)snprintf(body + len, sizeof(body) - len, "%s%s:", separator, keys[(r >> 6) % 6]);
            if ((r >> 9) % 5 == 0 && depth < 2) {
                len += (size_t)snprintf(body + len, sizeof(body) - len, "{");
                ++depth;
                continue;
            }
            len += (size_t)snprintf(body + len, sizeof(body) - len, "%s", values[(r >> 12) % 13]);
            if (depth != 0 && (r >> 4) % 3 == 0) {
                len += (size_t)snprintf(body + len, sizeof(body) - len, "}");
                --depth;
            }
        }
        while (depth-- >= 0)
            len += (size_t)snprintf(body + len, sizeof(body) - len, "}");
        took += (unsigned)scans_like_the_codec(body, len);
    }
    CHECK(took > 1000); /* the pieces the scanner takes came together often enough to test it */
}

/* The readers give the same answers and the same messages as lb_field_int and lb_field_string on the codec's tree. */
static void test_readers(void)
{
    const char body[] = "{\"qty\":\"2\",\"sku_id\":0,\"big\":77,\"ship_to\":{\"name\":\"\",\"phone\":\"1380\","
                        "\"address\":\"\xe5\xb1\xb1\xe8\xa5\xbf\"},\"gone\":null}";
    static const char *const names[] = {"qty", "sku_id", "big", "gone", "missing", "ship_to"};
    static const char *const inner[] = {"name", "phone", "address", "missing"};
    lb_fields_t f;
    lb_fields_init(&f);
    CHECK(lb_fields_scan(&f, body, strlen(body)) == 0);
    json_t *tree = lb_codec_decode(LB_FORMAT_JSON, body, strlen(body), err, sizeof(err));
    CHECK(tree != NULL);
    for (int required = 0; required != 2; ++required) {
        for (size_t i = 0; i != sizeof(names) / sizeof(names[0]); ++i) {
            lb_input_error_t a = {0}, b = {0};
            int64_t x = -1, y = -1;
            const char *s = NULL, *t = NULL;
            CHECK(lb_fields_int(&f, LB_FIELDS_TOP, names[i], required, 1, 100, &x, &a) ==
                  lb_field_int(tree, names[i], required, 1, 100, &y, &b));
            CHECK(x == y && strcmp(a.message, b.message) == 0);
            CHECK(lb_fields_string(&f, LB_FIELDS_TOP, names[i], required, 1, 3, &s, &a) ==
                  lb_field_string(tree, names[i], required, 1, 3, &t, &b));
            CHECK((s == NULL) == (t == NULL) && strcmp(a.message, b.message) == 0);
        }
        const lb_field_t *ship_to = lb_fields_get(&f, LB_FIELDS_TOP, "ship_to");
        CHECK(ship_to != NULL && ship_to->value.kind == LB_VALUE_OBJECT);
        for (size_t i = 0; ship_to != NULL && i != sizeof(inner) / sizeof(inner[0]); ++i) {
            lb_input_error_t a = {.field_prefix = "ship_to."}, b = {.field_prefix = "ship_to."};
            const char *s = NULL, *t = NULL;
            CHECK(lb_fields_string(&f, lb_fields_index(&f, ship_to), inner[i], required, 1, 2, &s, &a) ==
                  lb_field_string(json_object_get(tree, "ship_to"), inner[i], required, 1, 2, &t, &b));
            CHECK(strcmp(a.message, b.message) == 0 && (s == NULL || strcmp(s, t) == 0));
        }
    }
    CHECK(lb_fields_get(&f, LB_FIELDS_TOP, "name") == NULL); /* name is ship_to's, not the body's */
    /* The strings outlive the fields once taken (an order keeps them until its batch has written it). */
    const char *address = NULL;
    lb_input_error_t e = {0};
    const lb_field_t *ship_to = lb_fields_get(&f, LB_FIELDS_TOP, "ship_to");
    CHECK(lb_fields_string(&f, lb_fields_index(&f, ship_to), "address", 1, 1, 10, &address, &e) == 0);
    char *text = lb_fields_take_text(&f);
    CHECK(text != NULL && f.text == NULL && lb_fields_take_text(&f) == NULL);
    lb_fields_dispose(&f);
    CHECK(strcmp(address, "\xe5\xb1\xb1\xe8\xa5\xbf") == 0);
    free(text);
    json_decref(tree);
}

/* More fields than the local room: they move to the heap, and all of them read back. */
static void test_many_fields(void)
{
    char body[1024] = "{";
    size_t len = 1;
    for (int i = 0; i != 40; ++i)
        len += (size_t)snprintf(body + len, sizeof(body) - len, "%s\"f%d\":%d", i == 0 ? "" : ",", i, i * 3);
    body[len++] = '}';
    lb_fields_t f;
    lb_fields_init(&f);
    CHECK(lb_fields_scan(&f, body, len) == 0 && f.count == 40 && f.fields != f.local);
    for (int i = 0; i != 40; ++i) {
        char name[8];
        int64_t value = -1;
        lb_input_error_t e = {0};
        snprintf(name, sizeof(name), "f%d", i);
        CHECK(lb_fields_int(&f, LB_FIELDS_TOP, name, 1, 0, 1000, &value, &e) == 0 && value == i * 3);
    }
    lb_fields_dispose(&f);
    CHECK(scans_like_the_codec(body, len));

    /* Past 64 fields the codec takes the body (the scanner's duplicate checks grow with the square of the count). */
    char big[4096] = "{";
    len = 1;
    for (int i = 0; i != 65; ++i)
        len += (size_t)snprintf(big + len, sizeof(big) - len, "%s\"f%d\":%d", i == 0 ? "" : ",", i, i);
    big[len++] = '}';
    CHECK(!scans_like_the_codec(big, len - 3) && !scans_like_the_codec(big, len)); /* cut short, and whole */
    lb_fields_t decoded;
    lb_fields_init(&decoded);
    json_t *tree = lb_codec_decode(LB_FORMAT_JSON, big, len, err, sizeof(err));
    CHECK(tree != NULL);
    lb_fields_from_json(&decoded, tree);
    CHECK(decoded.count == 65);
    lb_fields_dispose(&decoded);
    json_decref(tree);
}

int main(void)
{
    lb_codec_init();
    test_scanned();
    test_left_to_the_codec();
    test_random_bodies();
    test_readers();
    test_many_fields();
    return CHECK_RESULT("fields");
}
