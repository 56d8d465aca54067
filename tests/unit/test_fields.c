/*
 * Unit tests of decoded fields (livebuy/codec/fields.h): JSON and msgpack of the same document decode to the same
 * fields, in the same order; nested objects and arrays are walked as the handlers walk them; duplicate keys are caught
 * in small bodies and in big ones; counted strings are counted right.
 */
#include <stdint.h>
#include <stdlib.h>
#include <msgpack.h>
#include "check.h"
#include "livebuy/common.h"
#include "livebuy/codec/codec.h"
#include "same_value.h"

static char err[256];

/* Every string the decoder counted has that many characters and no control character; the links stay inside. */
static int well_formed(const lb_fields_t *f)
{
    for (uint32_t i = 0; i != f->count; ++i) {
        const lb_value_t *v = &f->values[i];
        if (v->next != 0 && i + v->next >= f->count)
            return 0;
        if (v->kind != LB_VALUE_STRING || !v->counted)
            continue;
        size_t chars = 0;
        for (uint32_t j = 0; j != v->len; ++j) {
            unsigned char c = (unsigned char)v->string[j];
            chars += (c & 0xc0) != 0x80;
            if (c < 0x20 || c == 0x7f)
                return 0;
        }
        if (chars != v->chars || v->string[v->len] != '\0')
            return 0;
    }
    return 1;
}

/* Writes the decoded document in format into w, and decodes that into again (whose keys point into w's bytes). */
static int rewrite(const lb_fields_t *f, lb_format_t format, lb_writer_t *w, lb_fields_t *again)
{
    lb_writer_init(w, format);
    lb_writer_value(w, lb_fields_root(f));
    return w->failed ? -1 : lb_codec_decode(format, w->out.bytes, w->out.len, again, err, sizeof(err));
}

/*
 * The property: a document decoded from one format, written in the other and decoded again, gives the same fields;
 * and again through the first. Returns whether the body decoded at all.
 */
static int formats_agree(lb_format_t format, const char *body, size_t len)
{
    lb_fields_t f, other, back;
    lb_writer_t w1, w2;
    lb_writer_init(&w1, format);
    lb_writer_init(&w2, format);
    lb_fields_init(&f);
    lb_fields_init(&other);
    lb_fields_init(&back);
    int took = lb_codec_decode(format, body, len, &f, err, sizeof(err)) == 0;
    if (took) {
        lb_format_t second = format == LB_FORMAT_JSON ? LB_FORMAT_MSGPACK : LB_FORMAT_JSON;
        CHECK(well_formed(&f));
        CHECK(rewrite(&f, second, &w1, &other) == 0 && well_formed(&other) &&
              same_value(lb_fields_root(&f), lb_fields_root(&other)));
        CHECK(rewrite(&other, format, &w2, &back) == 0 && same_value(lb_fields_root(&f), lb_fields_root(&back)));
    } else {
        CHECK(f.count == 0 && f.values == f.local && f.copy == NULL); /* nothing left behind */
    }
    lb_fields_dispose(&f);
    lb_fields_dispose(&other);
    lb_fields_dispose(&back);
    free(w1.out.bytes);
    free(w2.out.bytes);
    return took;
}

static void test_documents(void)
{
    static const char *const bodies[] = {
        "{}",
        "{\"sku_id\":42,\"qty\":1,\"ship_to\":{\"name\":\"\xe7\x8e\x8b\xe8\x8a\xb3\",\"phone\":\"13800000000\","
        "\"address\":\"\xe5\xb1\xb1\xe8\xa5\xbf\"}}",
        "{\"title\":\"t\",\"unit\":\"u\",\"cold_chain\":true,\"skus\":[{\"name\":\"a\",\"price_cents\":1},{\"name\":\"b\"}]}",
        "{\"a\":[1,-1,0.5,-0.0,1e300,true,false,null,\"x\",[],{},[[{\"deep\":[]}]]],\"b\":{\"a\":{\"a\":{}}}}",
        "{\"esc\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u007f\",\"k\\u0065y\":\"a\\u0001b\",\"\":\"\"}",
        "{\"min\":-9223372036854775808,\"max\":9223372036854775807,\"tiny\":5e-324,\"big\":1.7976931348623157e308}",
    };
    for (size_t i = 0; i != sizeof(bodies) / sizeof(bodies[0]); ++i)
        CHECK(formats_agree(LB_FORMAT_JSON, bodies[i], strlen(bodies[i])));
    CHECK(!formats_agree(LB_FORMAT_JSON, "{\"a\":1,\"a\":2}", 13));
    CHECK(!formats_agree(LB_FORMAT_JSON, "[1]", 3));
    CHECK(!formats_agree(LB_FORMAT_JSON, "{\"a\":", 5));
    CHECK(!formats_agree(LB_FORMAT_MSGPACK, "\x81\xa1q\xc1", 4));
}

/* Random documents of msgpack's every type and width, packed by msgpack-c: they agree with their JSON. */
static unsigned seed = 12345;

static unsigned random_below(unsigned n)
{
    seed = seed * 1103515245 + 12345;
    return (seed >> 8) % n;
}

static void pack_random(msgpack_packer *packer, int depth)
{
    static const char *const texts[] = {"", "qty", "\xe6\xad\xa6\xe4\xb9\xa1", "a\"b\\c", "\x7f", "\t", "\xf0\x9f\x98\x80", "ok"};
    unsigned n;
    switch (random_below(depth < 4 ? 12 : 9)) {
    case 0:
        msgpack_pack_nil(packer);
        break;
    case 1:
        msgpack_pack_true(packer);
        break;
    case 2:
        msgpack_pack_int64(packer, (int64_t)random_below(1000) - 500);
        break;
    case 3:
        msgpack_pack_uint64(packer, (uint64_t)random_below(1u << 30) << 33);
        break;
    case 4:
        msgpack_pack_int64(packer, -((int64_t)random_below(1u << 30) << 32));
        break;
    case 5:
        msgpack_pack_float(packer, (float)random_below(1000) / 16);
        break;
    case 6:
        msgpack_pack_double(packer, (double)random_below(100000) / 7);
        break;
    case 7:
    case 8:
        n = random_below(8);
        msgpack_pack_str_with_body(packer, texts[n], strlen(texts[n]));
        break;
    case 9:
    case 10: {
        unsigned count = random_below(20);
        msgpack_pack_map(packer, count);
        for (unsigned i = 0; i != count; ++i) {
            char key[16];
            snprintf(key, sizeof(key), "k%u", i); /* no duplicates */
            msgpack_pack_str_with_body(packer, key, strlen(key));
            pack_random(packer, depth + 1);
        }
        break;
    }
    default:
        n = random_below(20);
        msgpack_pack_array(packer, n);
        while (n-- != 0)
            pack_random(packer, depth + 1);
    }
}

static void test_random_msgpack(void)
{
    unsigned took = 0;
    for (int round = 0; round != 2000; ++round) {
        msgpack_sbuffer buffer;
        msgpack_packer packer;
        msgpack_sbuffer_init(&buffer);
        msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
        unsigned count = random_below(8);
        msgpack_pack_map(&packer, count + 1);
        msgpack_pack_str_with_body(&packer, "top", 3);
        pack_random(&packer, 1);
        for (unsigned i = 0; i != count; ++i) {
            char key[16];
            snprintf(key, sizeof(key), "m%u", i);
            msgpack_pack_str_with_body(&packer, key, strlen(key));
            pack_random(&packer, 1);
        }
        took += (unsigned)formats_agree(LB_FORMAT_MSGPACK, buffer.data, buffer.size);
        msgpack_sbuffer_destroy(&buffer);
    }
    CHECK(took == 2000);
}

/* Nested objects and arrays read as the handlers read them: an order's ship_to, a product's skus. */
static void test_nested(void)
{
    const char body[] = "{\"qty\":\"2\",\"sku_id\":0,\"ship_to\":{\"name\":\"\",\"phone\":\"1380\",\"address\":\"\xe5\xb1\xb1\"},"
                        "\"skus\":[{\"name\":\"a\",\"stock\":3},{\"name\":\"b\",\"stock\":-1}],\"gone\":null}";
    lb_fields_t f;
    lb_input_error_t e = {0};
    const char *s = NULL;
    int64_t n = 0;
    lb_fields_init(&f);
    CHECK(lb_codec_decode(LB_FORMAT_JSON, body, strlen(body), &f, err, sizeof(err)) == 0);
    const lb_value_t *root = lb_fields_root(&f), *ship_to = lb_value_member(root, "ship_to"), *skus = NULL;
    CHECK(root->kind == LB_VALUE_OBJECT && root->len == 5 && ship_to != NULL && ship_to->kind == LB_VALUE_OBJECT);
    CHECK(lb_value_member(root, "name") == NULL);                      /* name is ship_to's, not the body's */
    CHECK(lb_value_member(lb_value_member(root, "qty"), "x") == NULL); /* a string has no members */
    e.field_prefix = "ship_to.";
    CHECK(lb_field_string(ship_to, "address", 1, 1, 10, &s, &e) == 0 && strcmp(s, "\xe5\xb1\xb1") == 0);
    CHECK(lb_field_string(ship_to, "name", 1, 1, 10, &s, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "ship_to.name must be 1-10 characters") == 0);
    CHECK(lb_field_string(ship_to, "missing", 1, 1, 10, &s, &e) == LB_EINPUT);
    CHECK(strcmp(e.message, "ship_to.missing is required") == 0);
    e.field_prefix = NULL;
    CHECK(lb_field_object_array(root, "skus", 1, 50, &skus, &e) == 0 && skus->len == 2);
    const lb_value_t *item = lb_value_first(skus);
    CHECK(lb_field_int(item, "stock", 1, 0, 10, &n, &e) == 0 && n == 3);
    item = lb_value_next(item);
    CHECK(lb_field_int(item, "stock", 1, 0, 10, &n, &e) == LB_EINPUT && lb_value_next(item) == NULL);
    n = -1;
    CHECK(lb_field_int(root, "gone", 0, 0, 10, &n, &e) == 0 && n == -1);
    CHECK(lb_value_member(root, "gone") != NULL && lb_value_member(root, "gone")->kind == LB_VALUE_NULL);
    lb_fields_dispose(&f);
    CHECK(lb_fields_root(&f) == NULL);
}

/* A body of count members "k0".."k{count-1}", with the member at dup named again at the end when dup >= 0. */
static char *many_members(int count, int dup, int nested, size_t *len)
{
    char *body = lb_malloc((size_t)count * 24 + 64), *p = body;
    p += sprintf(p, nested ? "{\"x\":1,\"o\":{" : "{");
    for (int i = 0; i != count; ++i)
        p += sprintf(p, "%s\"k%d\":%d", i == 0 ? "" : ",", i, i);
    if (dup >= 0)
        p += sprintf(p, ",\"k%d\":0", dup);
    p += sprintf(p, nested ? "},\"k1\":2}" : "}");
    *len = (size_t)(p - body);
    return body;
}

/* Duplicate keys are caught by the walk in small bodies and by the hash set in big ones; other objects may repeat them. */
static void test_duplicates(void)
{
    static const int counts[] = {1, 5, 12, 13, 40, 63, 64, 65, 200, 4000}; /* 4,000: a body holds 4,096 values at most */
    for (size_t c = 0; c != sizeof(counts) / sizeof(counts[0]); ++c) {
        for (int nested = 0; nested != 2; ++nested) {
            size_t len;
            char *body = many_members(counts[c], -1, nested, &len);
            lb_fields_t f;
            lb_fields_init(&f);
            CHECK(lb_codec_decode(LB_FORMAT_JSON, body, len, &f, err, sizeof(err)) == 0);
            CHECK(lb_fields_root(&f) != NULL && lb_fields_root(&f)->len == (nested ? 3u : (uint32_t)counts[c]));
            free(body);
            int64_t n = -1;
            lb_input_error_t e = {0};
            const lb_value_t *object = nested ? lb_value_member(lb_fields_root(&f), "o") : lb_fields_root(&f);
            CHECK(lb_field_int(object, "k0", 1, 0, 10, &n, &e) == 0 && n == 0);
            CHECK(formats_agree(LB_FORMAT_JSON, body = many_members(counts[c], -1, nested, &len), len));
            free(body);
            for (int dup = 0; dup < counts[c]; dup += counts[c] / 3 + 1) {
                body = many_members(counts[c], dup, nested, &len);
                CHECK(lb_codec_decode(LB_FORMAT_JSON, body, len, &f, err, sizeof(err)) == -1 && f.count == 0);
                CHECK_CONTAINS(err, "duplicate object key");
                free(body);
            }
            lb_fields_dispose(&f);
        }
    }
}

int main(void)
{
    test_documents();
    test_random_msgpack();
    test_nested();
    test_duplicates();
    return CHECK_RESULT("fields");
}
