/*
 * libFuzzer target for product photos as uploaded (livebuy/base/image.h): the type from the magic bytes, the pixel cap
 * from the header, the whole file decoded by libjpeg-turbo, libpng or libwebp. The input is the file. A photo taken is
 * of the type its first bytes name, has pixels and no more than the cap; one refused says why; what is not one of the
 * three types is refused as such, and what starts like one of them is refused as corrupt or too large, never as that.
 */
#include <stdint.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/base/image.h"
#include "fuzz_check.h"

/* The type the first bytes name, or -1. */
static int magic_type(const uint8_t *data, size_t size)
{
    if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        return LB_IMAGE_JPEG;
    if (size >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
        return LB_IMAGE_PNG;
    if (size >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
        return LB_IMAGE_WEBP;
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lb_image_info_t info;
    char why[256] = "";
    lb_image_fault_t fault = lb_image_check(data, size, &info, why, sizeof(why));
    int type = magic_type(data, size);
    if (fault == LB_IMAGE_OK) {
        CHECK((int)info.type == type);
        CHECK(info.width >= 1 && info.height >= 1 && (uint64_t)info.width * info.height <= LB_IMAGE_MAX_PIXELS);
        const char *ext = lb_image_extension(info.type);
        CHECK(lb_image_type_of_extension(ext, strlen(ext)) == (int)info.type);
        return 0;
    }
    CHECK(fault == LB_IMAGE_UNSUPPORTED || fault == LB_IMAGE_CORRUPT || fault == LB_IMAGE_TOO_MANY_PIXELS);
    CHECK((fault == LB_IMAGE_UNSUPPORTED) == (type < 0));
    CHECK(why[0] != '\0' && memchr(why, '\0', sizeof(why)) != NULL);
    return 0;
}
