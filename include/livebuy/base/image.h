/*
 * Photos as uploaded: the type by magic bytes (JPEG, PNG, WebP) and a whole decode by libjpeg-turbo, libpng or libwebp
 * that proves the file is whole and gives its size in pixels. Pure: bytes in, facts out, no I/O; any thread.
 */
#ifndef LIVEBUY_IMAGE_H
#define LIVEBUY_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* The largest photo file taken, in bytes (2 MiB), and the most pixels one may have, checked before it is decoded. */
#define LB_IMAGE_MAX_BYTES  (2u << 20)
#define LB_IMAGE_MAX_PIXELS (24u << 20) /* 25 megapixels: a 12 MP phone photo fits twice, a decompression bomb does not */

/* A photo's SHA-256 in lower-case hex and the NUL: its identity and file name (livebuy/store/media.h). */
#define LB_IMAGE_HASH_SIZE 65
/* A photo's file name under --media-dir, "ab/" + the hash + ".webp" and the NUL (livebuy/store/media.h). */
#define LB_IMAGE_NAME_SIZE 73

typedef enum en_lb_image_type_t { LB_IMAGE_JPEG, LB_IMAGE_PNG, LB_IMAGE_WEBP } lb_image_type_t;

/* Why a file is refused: not one of the three types (415), or one of them but not whole or too large to decode. */
typedef enum en_lb_image_fault_t { LB_IMAGE_OK, LB_IMAGE_UNSUPPORTED, LB_IMAGE_CORRUPT, LB_IMAGE_TOO_MANY_PIXELS } lb_image_fault_t;

typedef struct st_lb_image_info_t {
    lb_image_type_t type;
    uint32_t width, height;
} lb_image_info_t;

/*
 * Checks bytes[0..len): the type from its first bytes, then its header (the pixel cap) and every byte of its image
 * data decoded to the end (a truncated or corrupt file is refused; a row at a time or scaled down, so memory stays
 * small). LB_IMAGE_OK with *info, or the fault with a one-line reason in why.
 */
lb_image_fault_t lb_image_check(const void *bytes, size_t len, lb_image_info_t *info, char *why, size_t whysize);

/* "jpeg", "png", "webp" (the API's and the table's name); "image/jpeg", ...; the file name's extension "jpg", .... */
const char *lb_image_type_name(lb_image_type_t type);
const char *lb_image_media_type(lb_image_type_t type);
const char *lb_image_extension(lb_image_type_t type);
/* The type whose extension is ext[0..len), or -1. */
int lb_image_type_of_extension(const char *ext, size_t len);

#endif
