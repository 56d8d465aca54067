/*
 * Photo checks: the type from the magic bytes, then the whole file decoded by its own library (libjpeg-turbo, libpng,
 * libwebp), so that a file that merely starts like an image is refused. Decoding goes a row at a time (PNG), scaled to
 * an eighth (JPEG) or scaled to a thumbnail (WebP): every byte of image data is read, little memory is used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>
#include "livebuy/base/image.h"

/* What a check learned so far: the reason of a fault, and where a library's error handler jumps back to. */
typedef struct st_check_t {
    lb_image_fault_t fault;
    char *why;
    size_t whysize;
    jmp_buf jump;
} check_t;

static lb_image_fault_t refuse(check_t *check, lb_image_fault_t fault, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static lb_image_fault_t refuse(check_t *check, lb_image_fault_t fault, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(check->why, check->whysize, fmt, args);
    va_end(args);
    return check->fault = fault;
}

/* The pixel cap, before anything is decoded. */
static lb_image_fault_t check_size(check_t *check, const char *type, uint64_t width, uint64_t height)
{
    if (width == 0 || height == 0)
        return refuse(check, LB_IMAGE_CORRUPT, "the %s has no pixels", type);
    if (width * height > LB_IMAGE_MAX_PIXELS)
        return refuse(check, LB_IMAGE_TOO_MANY_PIXELS, "the %s is %llu x %llu pixels, more than %u in all", type,
                      (unsigned long long)width, (unsigned long long)height, LB_IMAGE_MAX_PIXELS);
    return LB_IMAGE_OK;
}

/* ---- JPEG -------------------------------------------------------------------------------------------------------- */

typedef struct st_jpeg_check_t {
    struct jpeg_error_mgr mgr; /* first: libjpeg hands it back as cinfo->err */
    check_t *check;
} jpeg_check_t;

static void jpeg_on_error(j_common_ptr cinfo)
{
    jpeg_check_t *jc = (jpeg_check_t *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, message);
    refuse(jc->check, LB_IMAGE_CORRUPT, "the JPEG is not whole: %s", message);
    longjmp(jc->check->jump, 1);
}

/* libjpeg goes on past a corrupt or truncated file with a warning (level -1) and grey pixels: such a file is refused. */
static void jpeg_on_message(j_common_ptr cinfo, int level)
{
    if (level < 0)
        jpeg_on_error(cinfo);
}

static lb_image_fault_t check_jpeg(check_t *check, const uint8_t *bytes, size_t len, lb_image_info_t *info)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_check_t jc = {.check = check};
    JSAMPLE *volatile row = NULL;

    cinfo.err = jpeg_std_error(&jc.mgr);
    jc.mgr.error_exit = jpeg_on_error;
    jc.mgr.emit_message = jpeg_on_message;
    jpeg_create_decompress(&cinfo);
    if (setjmp(check->jump) != 0)
        goto Exit;
    /* A progressive JPEG keeps its coefficients whole: bounded, and past it libjpeg fails (no backing store). */
    cinfo.mem->max_memory_to_use = 96L << 20;
    jpeg_mem_src(&cinfo, bytes, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    if (check_size(check, "JPEG", cinfo.image_width, cinfo.image_height) != LB_IMAGE_OK)
        goto Exit;
    info->width = cinfo.image_width;
    info->height = cinfo.image_height;
    cinfo.scale_num = 1;
    cinfo.scale_denom = 8;
    jpeg_start_decompress(&cinfo);
    row = malloc((size_t)cinfo.output_width * (size_t)cinfo.output_components);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_decompress(&cinfo);
Exit:
    jpeg_destroy_decompress(&cinfo);
    free(row);
    return check->fault;
}

/* ---- PNG --------------------------------------------------------------------------------------------------------- */

typedef struct st_png_check_t {
    check_t *check;
    const uint8_t *bytes;
    size_t len, pos;
} png_check_t;

static void png_on_error(png_structp png, png_const_charp message)
{
    png_check_t *pc = png_get_error_ptr(png);
    refuse(pc->check, LB_IMAGE_CORRUPT, "the PNG is not whole: %s", message);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp message) {}

static void png_read_bytes(png_structp png, png_bytep out, size_t n)
{
    png_check_t *pc = png_get_io_ptr(png);
    if (pc->len - pc->pos < n)
        png_error(png, "the file ends early");
    memcpy(out, pc->bytes + pc->pos, n);
    pc->pos += n;
}

static lb_image_fault_t check_png(check_t *check, const uint8_t *bytes, size_t len, lb_image_info_t *info)
{
    png_check_t pc = {check, bytes, len, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &pc, png_on_error, png_on_warning);
    png_infop png_info = png != NULL ? png_create_info_struct(png) : NULL;
    png_bytep volatile row = NULL;

    if (png_info == NULL) {
        refuse(check, LB_IMAGE_CORRUPT, "libpng could not start");
        goto Exit;
    }
    if (setjmp(png_jmpbuf(png)) != 0)
        goto Exit;
    png_set_read_fn(png, &pc, png_read_bytes);
    /* Ancillary chunks (text, ICC profiles) decompressed into memory are bounded as well. */
    png_set_chunk_malloc_max(png, 8u << 20);
    png_read_info(png, png_info);
    uint32_t width = png_get_image_width(png, png_info), height = png_get_image_height(png, png_info);
    if (check_size(check, "PNG", width, height) != LB_IMAGE_OK)
        goto Exit;
    info->width = width;
    info->height = height;
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, png_info);
    row = malloc(png_get_rowbytes(png, png_info));
    for (int pass = 0; pass != passes; ++pass)
        for (uint32_t y = 0; y != height; ++y)
            png_read_row(png, row, NULL);
    /* On to IEND: the chunks after the image data are checked too. */
    png_read_end(png, NULL);
Exit:
    png_destroy_read_struct(&png, &png_info, NULL);
    free(row);
    return check->fault;
}

/* ---- WebP -------------------------------------------------------------------------------------------------------- */

/* The WebP decoded into a thumbnail of at most this many pixels a side: every byte decoded, little memory. */
#define WEBP_CHECK_SIDE 64

static lb_image_fault_t check_webp(check_t *check, const uint8_t *bytes, size_t len, lb_image_info_t *info)
{
    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config))
        return refuse(check, LB_IMAGE_CORRUPT, "libwebp could not start");
    VP8StatusCode status = WebPGetFeatures(bytes, len, &config.input);
    if (status != VP8_STATUS_OK)
        return refuse(check, LB_IMAGE_CORRUPT, "the WebP is not whole (libwebp status %d)", (int)status);
    if (config.input.has_animation)
        return refuse(check, LB_IMAGE_UNSUPPORTED, "an animated WebP is not a photo");
    if (check_size(check, "WebP", (uint64_t)config.input.width, (uint64_t)config.input.height) != LB_IMAGE_OK)
        return check->fault;
    info->width = (uint32_t)config.input.width;
    info->height = (uint32_t)config.input.height;
    config.options.use_scaling = 1;
    config.options.scaled_width = config.input.width < WEBP_CHECK_SIDE ? config.input.width : WEBP_CHECK_SIDE;
    config.options.scaled_height = config.input.height < WEBP_CHECK_SIDE ? config.input.height : WEBP_CHECK_SIDE;
    config.output.colorspace = MODE_RGBA;
    status = WebPDecode(bytes, len, &config);
    WebPFreeDecBuffer(&config.output);
    if (status != VP8_STATUS_OK)
        return refuse(check, LB_IMAGE_CORRUPT, "the WebP is not whole (libwebp status %d)", (int)status);
    return LB_IMAGE_OK;
}

/* ---- The check --------------------------------------------------------------------------------------------------- */

lb_image_fault_t lb_image_check(const void *bytes, size_t len, lb_image_info_t *info, char *why, size_t whysize)
{
    static const uint8_t jpeg_magic[] = {0xff, 0xd8, 0xff}, png_magic[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const uint8_t *p = bytes;
    check_t check = {.fault = LB_IMAGE_OK, .why = why, .whysize = whysize};
    why[0] = '\0';
    if (len >= sizeof(jpeg_magic) && memcmp(p, jpeg_magic, sizeof(jpeg_magic)) == 0) {
        info->type = LB_IMAGE_JPEG;
        return check_jpeg(&check, p, len, info);
    }
    if (len >= sizeof(png_magic) && memcmp(p, png_magic, sizeof(png_magic)) == 0) {
        info->type = LB_IMAGE_PNG;
        return check_png(&check, p, len, info);
    }
    if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) {
        info->type = LB_IMAGE_WEBP;
        return check_webp(&check, p, len, info);
    }
    return refuse(&check, LB_IMAGE_UNSUPPORTED, "the body is not a JPEG, PNG or WebP image (by its first bytes)");
}

static const struct {
    const char *name, *media_type, *extension;
} types[] = {
    [LB_IMAGE_JPEG] = {"jpeg", "image/jpeg", "jpg"},
    [LB_IMAGE_PNG] = {"png", "image/png", "png"},
    [LB_IMAGE_WEBP] = {"webp", "image/webp", "webp"},
};

const char *lb_image_type_name(lb_image_type_t type)
{
    return types[type].name;
}

const char *lb_image_media_type(lb_image_type_t type)
{
    return types[type].media_type;
}

const char *lb_image_extension(lb_image_type_t type)
{
    return types[type].extension;
}

int lb_image_type_of_extension(const char *ext, size_t len)
{
    for (size_t i = 0; i != sizeof(types) / sizeof(types[0]); ++i)
        if (strlen(types[i].extension) == len && memcmp(types[i].extension, ext, len) == 0)
            return (int)i;
    return -1;
}
