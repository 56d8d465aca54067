/*
 * libFuzzer targets for the codec, one per wire format (FUZZ_MSGPACK 0: fuzz_codec_json, 1: fuzz_codec_msgpack). An
 * input the decoder takes must give well-formed fields, and the same fields again once written in the other format
 * and decoded, and once more back in its own; the field readers must take any of its members. Any input must leave the
 * fields empty when refused, with a message that is valid UTF-8.
 * Built and run by the test build when clang with libFuzzer is there (tests/CMakeLists.txt, ctest -R fuzz_codec).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/codec/codec.h"
#include "same_value.h"

#ifndef FUZZ_MSGPACK
#define FUZZ_MSGPACK 0
#endif

static const lb_format_t format = FUZZ_MSGPACK ? LB_FORMAT_MSGPACK : LB_FORMAT_JSON;

/* Links stay inside, entries are counted right, strings are C strings of valid UTF-8 whose count is right. */
static void check_well_formed(const lb_fields_t *f)
{
    for (uint32_t i = 0; i != f->count; ++i) {
        const lb_value_t *v = &f->values[i];
        uint32_t entries = 0;
        if (v->next != 0 && i + v->next >= f->count)
            abort();
        if (v->kind == LB_VALUE_ARRAY || v->kind == LB_VALUE_OBJECT) {
            for (const lb_value_t *e = lb_value_first(v); e != NULL; e = lb_value_next(e))
                if ((e->key != NULL) != (v->kind == LB_VALUE_OBJECT) || ++entries > v->len)
                    abort();
            if (entries != v->len)
                abort();
        }
        if (v->kind != LB_VALUE_STRING)
            continue;
        if (strlen(v->string) != v->len)
            abort();
        size_t chars = 0;
        int control = 0;
        for (uint32_t j = 0; j != v->len; ++j) {
            unsigned char c = (unsigned char)v->string[j];
            chars += (c & 0xc0) != 0x80;
            control |= c < 0x20 || c == 0x7f;
        }
        if (v->counted && (chars != v->chars || control))
            abort();
    }
}

/* Writes f's document in format and decodes it into again; w keeps the bytes again's keys point into. */
static void rewrite(const lb_fields_t *f, lb_format_t to, lb_writer_t *w, lb_fields_t *again)
{
    char err[256];
    lb_writer_init(w, to);
    lb_writer_value(w, lb_fields_root(f));
    if (w->failed || lb_codec_decode(to, w->out.bytes, w->out.len, again, err, sizeof(err)) != 0 ||
        !same_value(lb_fields_root(f), lb_fields_root(again)))
        abort();
}

/* The readers on every member of every object: whatever they answer, they must not fail otherwise. */
static void read_members(const lb_fields_t *f)
{
    static const char *const kinds[] = {"coop", "host", "shipper", NULL};
    for (uint32_t i = 0; i != f->count; ++i) {
        const lb_value_t *object = &f->values[i];
        for (const lb_value_t *m = object->kind == LB_VALUE_OBJECT ? lb_value_first(object) : NULL; m != NULL;
             m = lb_value_next(m)) {
            char name[64];
            lb_input_error_t err = {.field_prefix = "x."};
            const char *s;
            const lb_value_t *array;
            int64_t n;
            int flag;
            if (m->key_len >= sizeof(name) || memchr(m->key, '\0', m->key_len) != NULL)
                continue;
            memcpy(name, m->key, m->key_len);
            name[m->key_len] = '\0';
            if (lb_value_member(object, name) != m) /* the first of that name: there is only one */
                abort();
            lb_field_string(object, name, 1, 1, 200, &s, &err);
            lb_field_int(object, name, 1, 1, 1000, &n, &err);
            lb_field_bool(object, name, 1, &flag, &err);
            lb_field_enum(object, name, 1, kinds, &flag, &err);
            lb_field_object_array(object, name, 1, 50, &array, &err);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    lb_fields_t f, other, back;
    lb_writer_t w1, w2;
    lb_fields_init(&f);
    lb_fields_init(&other);
    lb_fields_init(&back);
    if (lb_codec_decode(format, (const char *)data, size, &f, err, sizeof(err)) != 0) {
        if (f.count != 0 || f.copy != NULL)
            abort();
        lb_writer_init(&w1, LB_FORMAT_JSON);
        lb_writer_string(&w1, NULL, err); /* the message goes out in a JSON answer */
        if (w1.failed)
            abort();
        free(w1.out.bytes);
        return 0;
    }
    check_well_formed(&f);
    read_members(&f);
    rewrite(&f, FUZZ_MSGPACK ? LB_FORMAT_JSON : LB_FORMAT_MSGPACK, &w1, &other);
    rewrite(&other, format, &w2, &back);
    free(w1.out.bytes);
    free(w2.out.bytes);
    lb_fields_dispose(&f);
    lb_fields_dispose(&other);
    lb_fields_dispose(&back);
    return 0;
}
