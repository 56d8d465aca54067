/*
 * Product photos: the rows of product_images and the files they name (livebuy/store/media.h) kept in step. Every change
 * takes the product row's lock first, then an upload or a delete takes the file's own lock (its media_files row): a
 * file is written after its row is inserted and removed with the last row naming it, in the same transaction, so that
 * an upload and a delete of the same bytes on two products at once never leave a row without its file. Like every store function
 * each runs on a worker thread with that thread's connection and returns 0 or an LB_E* code.
 */
#ifndef LIVEBUY_STORE_PRODUCT_IMAGES_H
#define LIVEBUY_STORE_PRODUCT_IMAGES_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/db/db.h"
#include "livebuy/model/product_image.h"

/* The photos of product_id in order, into out[0..LB_PRODUCT_IMAGES_MAX), and how many in *n. */
int lb_store_product_images(lb_db_t *db, int64_t product_id, lb_product_image_t *out, size_t *n);

/* The file name of product_id's first photo into name, "" when it has none. */
int lb_store_product_photo(lb_db_t *db, int64_t product_id, char name[LB_IMAGE_NAME_SIZE]);

/* A change of one product's photos by merchant_id, and what a refusal found. */
typedef struct st_lb_image_change_t {
    const char *media_dir;
    int64_t product_id, merchant_id;
    int64_t image_id; /* delete and move: the photo */
    int64_t position; /* move: where it goes */
    /* Out, on a refusal: */
    int image_missing;  /* LB_ENOTFOUND: the product is there, not this photo of it */
    int64_t retired_at; /* LB_ECONFLICT: the product's, when it is retired */
    int64_t num_images; /* LB_ECONFLICT: the photos it has (full); LB_EINPUT: a position past them */
} lb_image_change_t;

/*
 * Adds the photo bytes[0..len) as image describes it (sha256, type, bytes, width, height) to the change's product, last,
 * and writes its file (unless the same bytes are there already); image gets the row (id, position, created_at).
 * *created is 0 when the product had these bytes already (that row, nothing changed). LB_ENOTFOUND: no product;
 * LB_EFORBIDDEN: another merchant's; LB_ECONFLICT: retired, or LB_PRODUCT_IMAGES_MAX photos already. Nothing is left
 * behind on any error: no row, and no file that no row names.
 */
int lb_store_product_image_add(lb_db_t *db, lb_image_change_t *change, const void *bytes, size_t len, lb_product_image_t *image,
                               int *created);
/* Deletes a photo of the product, those after it moving up; its file goes when no row names its bytes any more. */
int lb_store_product_image_delete(lb_db_t *db, lb_image_change_t *change);
/* Moves a photo to position (from 0), the others keeping their order. LB_EINPUT: no such position (num_images set). */
int lb_store_product_image_move(lb_db_t *db, lb_image_change_t *change);

/*
 * The SQL of the first photo's file name ("ab/ab...cd.jpg") of the product whose id is the expression product, or NULL:
 * for the reads that show a product (a SKU, a live's items, a group-buy) to give its URL without a request of their own.
 */
#define LB_STORE_FIRST_PHOTO(product)                                                                                              \
    "(SELECT CONCAT(LEFT(ph.sha256, 2), '/', ph.sha256, '.', ELT(ph.type + 0, 'jpg', 'png', 'webp')) FROM product_images ph "      \
    "WHERE ph.product_id = " product " ORDER BY ph.position LIMIT 1)"

#endif
