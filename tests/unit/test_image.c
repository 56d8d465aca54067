/*
 * Unit tests of the photo checks (server/base/image.c) and the media files' names (server/store/media.c): each type
 * made here by its own library's encoder (libjpeg-turbo, libpng, libwebp) and then cut short, corrupted, or declared
 * too large; names that are and are not a photo's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>
#include <png.h>
#include <zlib.h>
#include <webp/encode.h>
#include "check.h"
#include "livebuy/common.h"
#include "livebuy/base/image.h"
#include "livebuy/store/media.h"

#define W 96
#define H 64

/* A test picture: a gradient with a band, RGB. */
static unsigned char *picture(void)
{
    unsigned char *rgb = malloc(W * H * 3);
    for (int y = 0; y != H; ++y)
        for (int x = 0; x != W; ++x) {
            unsigned char *p = rgb + (y * W + x) * 3;
            p[0] = (unsigned char)(x * 2), p[1] = (unsigned char)(y * 3), p[2] = y == H / 2 ? 255 : 40;
        }
    return rgb;
}

static unsigned char *make_png(size_t *len)
{
    png_image image = {.version = PNG_IMAGE_VERSION, .width = W, .height = H, .format = PNG_FORMAT_RGB};
    unsigned char *rgb = picture();
    png_alloc_size_t size = 0;
    png_image_write_to_memory(&image, NULL, &size, 0, rgb, 0, NULL);
    unsigned char *out = malloc(size);
    CHECK(png_image_write_to_memory(&image, out, &size, 0, rgb, 0, NULL) != 0);
    free(rgb);
    *len = size;
    return out;
}

static unsigned char *make_jpeg(size_t *len, int progressive)
{
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr err;
    unsigned char *out = NULL, *rgb = picture();
    unsigned long size = 0;
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &out, &size);
    cinfo.image_width = W, cinfo.image_height = H, cinfo.input_components = 3, cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    if (progressive)
        jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < H) {
        JSAMPROW row = rgb + cinfo.next_scanline * W * 3;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    free(rgb);
    *len = size;
    return out;
}

static unsigned char *make_webp(size_t *len, int lossless)
{
    unsigned char *rgb = picture(), *out = NULL;
    *len = lossless ? WebPEncodeLosslessRGB(rgb, W, H, W * 3, &out) : WebPEncodeRGB(rgb, W, H, W * 3, 80, &out);
    free(rgb);
    return out;
}

/*
 * A good file is taken with its type and size; cut in half it is refused. A PNG or JPEG with its last quarter zeroed is
 * refused too (a chunk's CRC, the end marker); a lossy WebP has neither, and zeros decode as some picture.
 */
static void check_whole_and_cut(const char *what, unsigned char *bytes, size_t len, lb_image_type_t type)
{
    lb_image_info_t info = {0};
    char why[256];
    CHECK(len > 64);
    CHECK(lb_image_check(bytes, len, &info, why, sizeof(why)) == LB_IMAGE_OK);
    CHECK(info.type == type && info.width == W && info.height == H);
    if (info.type != type || info.width != W)
        fprintf(stderr, "%s: %s\n", what, why);
    CHECK(lb_image_check(bytes, len / 2, &info, why, sizeof(why)) == LB_IMAGE_CORRUPT);
    CHECK_CONTAINS(why, "not whole");
    if (type == LB_IMAGE_WEBP)
        return;
    memset(bytes + len - len / 4, 0, len / 4);
    CHECK(lb_image_check(bytes, len, &info, why, sizeof(why)) == LB_IMAGE_CORRUPT);
}

static void test_types(void)
{
    size_t len;
    unsigned char *b = make_png(&len);
    check_whole_and_cut("png", b, len, LB_IMAGE_PNG);
    free(b);
    b = make_jpeg(&len, 0);
    check_whole_and_cut("jpeg", b, len, LB_IMAGE_JPEG);
    free(b);
    b = make_jpeg(&len, 1);
    check_whole_and_cut("progressive jpeg", b, len, LB_IMAGE_JPEG);
    free(b);
    b = make_webp(&len, 0);
    check_whole_and_cut("webp", b, len, LB_IMAGE_WEBP);
    WebPFree(b);
    b = make_webp(&len, 1);
    check_whole_and_cut("lossless webp", b, len, LB_IMAGE_WEBP);
    WebPFree(b);
}

static void test_not_images(void)
{
    static const char text[] = "这不是图片 not a picture at all, just words\n";
    static const unsigned char gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    lb_image_info_t info;
    char why[256];
    CHECK(lb_image_check(text, sizeof(text) - 1, &info, why, sizeof(why)) == LB_IMAGE_UNSUPPORTED);
    CHECK_CONTAINS(why, "not a JPEG, PNG or WebP");
    CHECK(lb_image_check(gif, sizeof(gif) - 1, &info, why, sizeof(why)) == LB_IMAGE_UNSUPPORTED);
    CHECK(lb_image_check("", 0, &info, why, sizeof(why)) == LB_IMAGE_UNSUPPORTED);
    /* The magic alone is not an image. */
    CHECK(lb_image_check("\xff\xd8\xff", 3, &info, why, sizeof(why)) == LB_IMAGE_CORRUPT);
    CHECK(lb_image_check("\x89PNG\r\n\x1a\n", 8, &info, why, sizeof(why)) == LB_IMAGE_CORRUPT);
    CHECK(lb_image_check("RIFF\0\0\0\0WEBP", 12, &info, why, sizeof(why)) == LB_IMAGE_CORRUPT);
}

/* A PNG whose header says 20000 x 20000: refused by the pixel cap before a row is decoded. */
static void test_pixel_cap(void)
{
    size_t len;
    unsigned char *b = make_png(&len);
    lb_image_info_t info;
    char why[256];
    /* IHDR's width and height at bytes 16..23, and its CRC after them, recomputed. */
    static const unsigned char big[8] = {0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20};
    memcpy(b + 16, big, 8);
    uint32_t crc = (uint32_t)crc32(0, b + 12, 17);
    b[29] = (unsigned char)(crc >> 24), b[30] = (unsigned char)(crc >> 16), b[31] = (unsigned char)(crc >> 8),
    b[32] = (unsigned char)crc;
    CHECK(lb_image_check(b, len, &info, why, sizeof(why)) == LB_IMAGE_TOO_MANY_PIXELS);
    CHECK_CONTAINS(why, "20000 x 20000");
    free(b);
}

static void test_names(void)
{
    char hash[LB_IMAGE_HASH_SIZE], name[LB_IMAGE_NAME_SIZE], parsed[LB_IMAGE_HASH_SIZE];
    lb_image_type_t type;
    lb_media_hash("abc", 3, hash);
    CHECK(strcmp(hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    lb_media_name(hash, LB_IMAGE_WEBP, name);
    CHECK(strcmp(name, "ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.webp") == 0);
    CHECK(lb_media_name_parse(name, strlen(name), &type, parsed) == 0 && type == LB_IMAGE_WEBP && strcmp(parsed, hash) == 0);
    static const char *const refused[] = {
        "ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.gif",
        "ba/BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD.jpg",
        "00/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.jpg",
        "ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a.jpg",
        "ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.jpg/",
        "ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015adjpg",
        "ba/../7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.jpg",
        "ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.",
        "",
    };
    for (size_t i = 0; i != LB_ARRAY_SIZE(refused); ++i)
        CHECK(lb_media_name_parse(refused[i], strlen(refused[i]), &type, parsed) == LB_ENOTFOUND);
}

int main(void)
{
    test_types();
    test_not_images();
    test_pixel_cap();
    test_names();
    return CHECK_RESULT("image");
}
