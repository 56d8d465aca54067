/*
 * libFuzzer target for the codec: any body decoded as JSON and as msgpack must, once encoded in either format, decode
 * back to an equal value. Not built by default; from the source root:
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/fuzz_codec.c \
 *       server/codec.c server/alloc.c -ljansson -lmsgpackc -o fuzz_codec && ./fuzz_codec -max_len=4096
 */
#include <stdint.h>
#include <stdlib.h>
#include "livebuy/codec.h"

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
