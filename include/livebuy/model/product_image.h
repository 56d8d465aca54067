/* A product's photos: what a row of product_images says about a file under --media-dir. */
#ifndef LIVEBUY_MODEL_PRODUCT_IMAGE_H
#define LIVEBUY_MODEL_PRODUCT_IMAGE_H

#include <stdint.h>
#include "livebuy/base/image.h"

/* The most photos a product may have. */
#define LB_PRODUCT_IMAGES_MAX 8

typedef struct st_lb_product_image_t {
    int64_t id, product_id;
    char sha256[LB_IMAGE_HASH_SIZE]; /* the file's name (livebuy/store/media.h) */
    lb_image_type_t type;
    int64_t bytes, width, height;
    int64_t position; /* 0 first: the photo shown with the product */
    int64_t merchant_id, created_at;
} lb_product_image_t;

#endif
