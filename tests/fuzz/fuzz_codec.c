/*
 * libFuzzer target for the codec: any body decoded as JSON and as msgpack must, once encoded in either format, decode
 * back to an equal value; a body the fields scanner takes (server/codec/fields.c) must decode as JSON to the same fields.
 * Not built by default; from the source root:
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/fuzz_codec.c \
 *       server/codec/codec.c server/codec/fields.c server/base/alloc.c -ljansson -lmsgpackc -o fuzz_codec && ./fuzz_codec
 * -max_len=4096
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/codec/codec.h"
#include "livebuy/codec/fields.h"

static void check_round_trip(const json_t *value, lb_format_t format)
{
    char err[256];
    size_t len;
    char *bytes = lb_codec_encode(format, value, &len);
    json_t *again = lb_codec_decode(format, bytes, len, err, sizeof(err));
    if (again == NULL || !json_equal(value, again))
        abort();
    json_decref(again);
    free(bytes);
}

/* Every scanned field is in the codec's tree of the body, with the same value. */
static void check_scanned(const char *body, size_t size)
{
    char err[256];
    lb_fields_t f;
    lb_fields_init(&f);
    if (lb_fields_scan(&f, body, size) != 0)
        return;
    json_t *tree = lb_codec_decode(LB_FORMAT_JSON, body, size, err, sizeof(err));
    if (tree == NULL)
        abort();
    for (size_t i = 0; i != f.count; ++i) {
        const lb_field_t *field = &f.fields[i];
        const json_t *object = field->object == LB_FIELDS_TOP
                                   ? tree
                                   : json_object_getn(tree, f.fields[field->object].key, f.fields[field->object].key_len);
        lb_value_t value = lb_codec_value(json_object_getn(object, field->key, field->key_len));
        if (value.kind != field->value.kind || value.integer != field->value.integer || value.len != field->value.len ||
            (value.kind == LB_VALUE_STRING && memcmp(value.string, field->value.string, value.len + 1) != 0))
            abort();
    }
    json_decref(tree);
    lb_fields_dispose(&f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    lb_codec_init(); /* decoded bodies in arenas, as in livebuyd */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const lb_format_t formats[] = {LB_FORMAT_JSON, LB_FORMAT_MSGPACK};
    char err[256];
    check_scanned((const char *)data, size);
    for (size_t i = 0; i < 2; i++) {
        json_t *value = lb_codec_decode(formats[i], (const char *)data, size, err, sizeof(err));
        if (value == NULL)
            continue;
        check_round_trip(value, LB_FORMAT_JSON);
        check_round_trip(value, LB_FORMAT_MSGPACK);
        json_decref(value);
    }
    return 0;
}
