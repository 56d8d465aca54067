/*
 * libFuzzer target for the writer (livebuy/codec/codec.h), the round trip the other way from fuzz_codec: the input is a
 * program of writer calls (maps, arrays, integers, strings, booleans, nulls and lb_writer_pack formats, nested up to 30
 * deep, keys and strings of any bytes), run on a JSON and a msgpack writer at once. A writer fails when, and only when,
 * a key or a string is not UTF-8; otherwise each decodes back to exactly the values written, in their order.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/codec/codec.h"
#include "fuzz_check.h"

#define MAX_DEPTH 30
#define MAX_TEXT  40

/* One value as written, in document order (the decoders' order). */
typedef struct st_written_t {
    lb_value_kind_t kind;
    char key[MAX_TEXT + 16]; /* "" for array items and the root */
    int has_key;
    int64_t integer;
    char string[MAX_TEXT + 1];
    uint32_t entries; /* a map's or array's */
} written_t;

typedef struct st_program_t {
    const uint8_t *p, *end;
    lb_writer_t json, msgpack;
    written_t *values;
    size_t count;
    size_t open[MAX_DEPTH + 1]; /* indexes of the open maps and arrays; [0] the root */
    unsigned depth;
    int bad_utf8;
} program_t;

/* UTF-8 as RFC 3629 has it: no overlongs, no surrogates, nothing past U+10FFFF. */
static int is_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != 0) {
        uint32_t c;
        int n;
        if (*p < 0x80) {
            ++p;
            continue;
        } else if ((*p & 0xe0) == 0xc0) {
            c = *p & 0x1f, n = 1;
        } else if ((*p & 0xf0) == 0xe0) {
            c = *p & 0x0f, n = 2;
        } else if ((*p & 0xf8) == 0xf0) {
            c = *p & 0x07, n = 3;
        } else {
            return 0;
        }
        for (int i = 1; i <= n; ++i) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            c = c << 6 | (p[i] & 0x3f);
        }
        if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) || c > 0x10ffff ||
            (c >= 0xd800 && c <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

static uint8_t take_byte(program_t *g)
{
    return g->p != g->end ? *g->p++ : 0;
}

/* Up to MAX_TEXT bytes of the program as a C string (a NUL byte becomes 'x'). */
static void take_text(program_t *g, char *out)
{
    size_t len = take_byte(g) % (MAX_TEXT + 1), i = 0;
    for (; i != len && g->p != g->end; ++i) {
        uint8_t c = *g->p++;
        out[i] = c != 0 ? (char)c : 'x';
    }
    out[i] = '\0';
    g->bad_utf8 |= !is_utf8(out);
}

/* A new value in the innermost open container; its key when that is a map (made unique by the entry's number). */
static written_t *add_value(program_t *g, lb_value_kind_t kind)
{
    written_t *parent = &g->values[g->open[g->depth]], *v = &g->values[g->count++];
    memset(v, 0, sizeof(*v));
    v->kind = kind;
    if (parent->kind == LB_VALUE_OBJECT) {
        char prefix[MAX_TEXT + 1];
        take_text(g, prefix);
        snprintf(v->key, sizeof(v->key), "%s#%u", prefix, parent->entries);
        v->has_key = 1;
    }
    ++parent->entries;
    return v;
}

static const char *key_of(const written_t *v)
{
    return v->has_key ? v->key : NULL;
}

static void open_container(program_t *g, int is_array)
{
    if (g->depth == MAX_DEPTH)
        return;
    written_t *v = add_value(g, is_array ? LB_VALUE_ARRAY : LB_VALUE_OBJECT);
    if (is_array) {
        lb_writer_array(&g->json, key_of(v));
        lb_writer_array(&g->msgpack, key_of(v));
    } else {
        lb_writer_map(&g->json, key_of(v));
        lb_writer_map(&g->msgpack, key_of(v));
    }
    g->open[++g->depth] = (size_t)(v - g->values);
}

static void end_container(program_t *g)
{
    lb_writer_end(&g->json);
    lb_writer_end(&g->msgpack);
    --g->depth;
}

/* lb_writer_pack with every type of its format, keys made unique for this map. */
static void pack(program_t *g)
{
    written_t *parent = &g->values[g->open[g->depth]];
    if (parent->kind != LB_VALUE_OBJECT || g->depth == MAX_DEPTH)
        return;
    char format[256], text[MAX_TEXT + 1], inner[MAX_TEXT + 1];
    unsigned n = parent->entries;
    int64_t i = (int64_t)((uint64_t)take_byte(g) << 56 | (uint64_t)take_byte(g) << 8 | take_byte(g)),
            maybe = take_byte(g) & 1 ? i : 0;
    int flag = take_byte(g) & 1;
    take_text(g, text);
    take_text(g, inner);
    snprintf(format, sizeof(format), "p%ua:I,p%ub:N,p%uc:s,p%ud:b,p%ue:n,p%uf:{g:s,h:I}", n, n, n, n, n, n);
    lb_writer_pack(&g->json, format, i, maybe, text, flag, inner, i);
    lb_writer_pack(&g->msgpack, format, i, maybe, text, flag, inner, i);
    const struct {
        const char *suffix;
        lb_value_kind_t kind;
    } fields[] = {{"a", LB_VALUE_INT},    {"b", maybe != 0 ? LB_VALUE_INT : LB_VALUE_NULL},
                  {"c", LB_VALUE_STRING}, {"d", LB_VALUE_BOOL},
                  {"e", LB_VALUE_NULL},   {"f", LB_VALUE_OBJECT}};
    for (size_t k = 0; k != LB_ARRAY_SIZE(fields); ++k) {
        written_t *v = &g->values[g->count++];
        memset(v, 0, sizeof(*v));
        v->kind = fields[k].kind;
        v->has_key = 1;
        snprintf(v->key, sizeof(v->key), "p%u%s", n, fields[k].suffix);
        v->integer = k == 0 || k == 1 ? i : flag;
        strcpy(v->string, text);
        v->entries = k == 5 ? 2 : 0;
    }
    ++parent->entries;
    parent->entries += 5;
    written_t *g_value = &g->values[g->count++], *h_value = &g->values[g->count++];
    *g_value = (written_t){.kind = LB_VALUE_STRING, .key = "g", .has_key = 1};
    strcpy(g_value->string, inner);
    *h_value = (written_t){.kind = LB_VALUE_INT, .key = "h", .has_key = 1, .integer = i};
}

static void run(program_t *g)
{
    while (g->p != g->end) {
        written_t *v;
        switch (take_byte(g) % 9) {
        case 0:
            open_container(g, 0);
            break;
        case 1:
            open_container(g, 1);
            break;
        case 2:
            if (g->depth != 0)
                end_container(g);
            break;
        case 3:
            v = add_value(g, LB_VALUE_INT);
            for (int k = 0; k != 8; ++k)
                v->integer = (int64_t)((uint64_t)v->integer << 8 | take_byte(g));
            lb_writer_integer(&g->json, key_of(v), v->integer);
            lb_writer_integer(&g->msgpack, key_of(v), v->integer);
            break;
        case 4:
            v = add_value(g, LB_VALUE_STRING);
            take_text(g, v->string);
            lb_writer_string(&g->json, key_of(v), v->string);
            lb_writer_string(&g->msgpack, key_of(v), v->string);
            break;
        case 5:
            v = add_value(g, LB_VALUE_BOOL);
            v->integer = take_byte(g) & 1;
            lb_writer_bool(&g->json, key_of(v), (int)v->integer);
            lb_writer_bool(&g->msgpack, key_of(v), (int)v->integer);
            break;
        case 6:
            v = add_value(g, LB_VALUE_NULL);
            lb_writer_null(&g->json, key_of(v));
            lb_writer_null(&g->msgpack, key_of(v));
            break;
        default:
            pack(g);
            break;
        }
    }
    while (g->depth != 0)
        end_container(g);
    lb_writer_end(&g->json);
    lb_writer_end(&g->msgpack);
}

/* The decoded document holds exactly the values written, in order. */
static void check_read_back(const program_t *g, lb_format_t format, const lb_buffer_t *out)
{
    lb_fields_t f;
    char err[256];
    lb_fields_init(&f);
    if (lb_codec_decode(format, out->bytes, out->len, &f, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_writer: %s written does not decode: %s\n", format == LB_FORMAT_JSON ? "JSON" : "msgpack", err);
        abort();
    }
    CHECK(f.count == g->count);
    for (size_t i = 0; i != g->count; ++i) {
        const lb_value_t *got = &f.values[i];
        const written_t *want = &g->values[i];
        CHECK(got->kind == want->kind);
        CHECK((got->key != NULL) == want->has_key);
        CHECK(!want->has_key || (got->key_len == strlen(want->key) && memcmp(got->key, want->key, got->key_len) == 0));
        switch (want->kind) {
        case LB_VALUE_INT:
        case LB_VALUE_BOOL:
            CHECK(got->integer == want->integer);
            break;
        case LB_VALUE_STRING:
            CHECK(strcmp(got->string, want->string) == 0);
            break;
        case LB_VALUE_ARRAY:
        case LB_VALUE_OBJECT:
            CHECK(got->len == want->entries);
            break;
        default:
            break;
        }
    }
    lb_fields_dispose(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    program_t g = {.p = data, .end = data + size};
    g.values = lb_calloc(8 * size + 8, sizeof(*g.values));
    g.values[0].kind = LB_VALUE_OBJECT;
    g.count = 1;
    lb_writer_init(&g.json, LB_FORMAT_JSON);
    lb_writer_init(&g.msgpack, LB_FORMAT_MSGPACK);
    lb_writer_map(&g.json, NULL);
    lb_writer_map(&g.msgpack, NULL);
    run(&g);
    CHECK(g.json.failed == g.bad_utf8 && g.msgpack.failed == g.bad_utf8);
    if (!g.bad_utf8) {
        check_read_back(&g, LB_FORMAT_JSON, &g.json.out);
        check_read_back(&g, LB_FORMAT_MSGPACK, &g.msgpack.out);
    }
    free(g.json.out.bytes);
    free(g.msgpack.out.bytes);
    free(g.values);
    return 0;
}
