/* Product photos: product_images rows and the files under --media-dir that they name, changed together. */
#include <stdio.h>
#include "livebuy/common.h"
#include "livebuy/base/log.h"
#include "livebuy/store/media.h"
#include "livebuy/store/product_images.h"

#define IMAGE_SELECT                                                                                                               \
    "SELECT id, product_id, sha256, type - 1, bytes, width, height, position, merchant_id, created_at FROM product_images "
#define IMAGE_TYPES "iisiiiiiii"

static int fetch_image(lb_db_t *db, lb_product_image_t *image)
{
    int64_t type;
    int ret = lb_db_fetch(db, IMAGE_TYPES, &image->id, &image->product_id, image->sha256, sizeof(image->sha256), &type,
                          &image->bytes, &image->width, &image->height, &image->position, &image->merchant_id, &image->created_at);
    if (ret == 0)
        image->type = (lb_image_type_t)type;
    return ret;
}

int lb_store_product_images(lb_db_t *db, int64_t product_id, lb_product_image_t *out, size_t *n)
{
    static const char sql[] = IMAGE_SELECT "WHERE product_id = ? ORDER BY position";
    int ret = lb_db_query(db, sql, "i", product_id);
    for (*n = 0; ret == 0 && *n != LB_PRODUCT_IMAGES_MAX; ++*n)
        if ((ret = fetch_image(db, &out[*n])) != 0)
            break;
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_product_photo(lb_db_t *db, int64_t product_id, char name[LB_IMAGE_NAME_SIZE])
{
    static const char sql[] = "SELECT " LB_STORE_FIRST_PHOTO("?");
    int ret = lb_db_query_row(db, sql, "i", "s", product_id, name, (size_t)LB_IMAGE_NAME_SIZE);
    return ret == LB_ENOTFOUND ? (name[0] = '\0', 0) : ret;
}

/*
 * In the change's transaction: locks its product's row (every change of its photos goes through it) and counts its
 * photos. LB_ENOTFOUND, LB_EFORBIDDEN as the header says.
 */
static int lock_product(lb_db_t *db, lb_image_change_t *change)
{
    static const char lock_sql[] = "SELECT merchant_id, COALESCE(retired_at, 0) FROM products WHERE id = ? AND "
                                   "making IS NULL FOR UPDATE";
    static const char count_sql[] = "SELECT COUNT(*) FROM product_images WHERE product_id = ?";
    int64_t owner;
    int ret = lb_db_query_row(db, lock_sql, "i", "ii", change->product_id, &owner, &change->retired_at);
    if (ret == 0 && owner != change->merchant_id)
        ret = LB_EFORBIDDEN;
    if (ret == 0)
        ret = lb_db_query_row(db, count_sql, "i", "i", change->product_id, &change->num_images);
    return ret;
}

/*
 * In an upload's transaction: takes the lock of the file of image's bytes (its media_files row, made if new, sql/018),
 * which a delete of the same bytes takes before it decides the file's fate.
 */
static int lock_file_for_upload(lb_db_t *db, const lb_product_image_t *image, int64_t now)
{
    static const char sql[] = "INSERT INTO media_files (sha256, type, bytes, created_at) VALUES (?, ?, ?, ?) "
                              "ON DUPLICATE KEY UPDATE sha256 = sha256";
    int64_t ret = lb_db_exec(db, sql, "siii", image->sha256, (int64_t)image->type + 1, image->bytes, now);
    return ret < 0 ? (int)ret : 0;
}

/*
 * In a transaction: removes the file of sha256 (and its media_files row) when no product_images row names it any more.
 * The file's lock comes first: an upload of the same bytes holds it from before it inserts its row until it commits,
 * so the rows counted here are all there will be until this transaction ends.
 */
static int release_file(lb_db_t *db, const char *media_dir, const char *sha256, lb_image_type_t type)
{
    static const char lock_sql[] = "SELECT type FROM media_files WHERE sha256 = ? FOR UPDATE";
    static const char named_sql[] = "SELECT id FROM product_images WHERE sha256 = ? LIMIT 1";
    static const char forget_sql[] = "DELETE FROM media_files WHERE sha256 = ?";
    char name[LB_IMAGE_NAME_SIZE], locked_type[8];
    int64_t id, ret = lb_db_query_row(db, lock_sql, "s", "s", sha256, locked_type, sizeof(locked_type));
    if (ret != 0 && ret != LB_ENOTFOUND)
        return (int)ret;
    if ((ret = lb_db_query_row(db, named_sql, "s", "i", sha256, &id)) != LB_ENOTFOUND)
        return (int)ret;
    if ((ret = lb_db_exec(db, forget_sql, "s", sha256)) < 0)
        return (int)ret;
    lb_media_name(sha256, type, name);
    return lb_media_remove(media_dir, name);
}

/* After an add failed with its file written: the file goes unless another row names it (own transaction). */
static void forget_written_file(lb_db_t *db, const char *media_dir, const lb_product_image_t *image)
{
    int ret = lb_db_begin(db);
    if (ret == 0 && (ret = release_file(db, media_dir, image->sha256, image->type)) == 0)
        ret = lb_db_commit(db);
    if (ret != 0) {
        lb_db_rollback(db);
        lb_log(LB_LOG_ERROR, "media: %.64s may be left without a row (%d)", image->sha256, ret);
    }
}

int lb_store_product_image_add(lb_db_t *db, lb_image_change_t *change, const void *bytes, size_t len, lb_product_image_t *image,
                               int *created)
{
    static const char same_sql[] = IMAGE_SELECT "WHERE sha256 = ? AND product_id = ?";
    static const char insert_sql[] = "INSERT INTO product_images (product_id, sha256, type, bytes, width, height, position, "
                                     "merchant_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
    char name[LB_IMAGE_NAME_SIZE];
    int written = 0;
    int64_t now = lb_now();
    int ret = lb_db_begin(db);
    *created = 0;
    if (ret != 0 || (ret = lock_product(db, change)) != 0)
        goto Exit;
    /* The same bytes again (a retried upload): the photo it has, before the limits, which it does not add to. */
    if ((ret = lb_db_query(db, same_sql, "si", image->sha256, change->product_id)) == 0 && (ret = fetch_image(db, image)) == 0) {
        ret = lb_db_commit(db);
        goto Exit;
    }
    if (ret != LB_ENOTFOUND)
        goto Exit;
    if (change->retired_at != 0 || change->num_images >= LB_PRODUCT_IMAGES_MAX) {
        ret = LB_ECONFLICT;
        goto Exit;
    }
    if ((ret = lock_file_for_upload(db, image, now)) != 0)
        goto Exit;
    int64_t inserted = lb_db_exec(db, insert_sql, "isiiiiiii", change->product_id, image->sha256, (int64_t)image->type + 1,
                                  image->bytes, image->width, image->height, change->num_images, change->merchant_id, now);
    if ((ret = inserted < 0 ? (int)inserted : 0) != 0)
        goto Exit;
    image->id = lb_db_insert_id(db);
    /* Under the file's lock: a delete of these bytes elsewhere has removed the file and committed, or waits for us. */
    lb_media_name(image->sha256, image->type, name);
    if ((ret = lb_media_write(change->media_dir, name, bytes, len)) != 0)
        goto Exit;
    written = 1;
    if ((ret = lb_db_commit(db)) != 0)
        goto Exit;
    image->product_id = change->product_id;
    image->position = change->num_images;
    image->merchant_id = change->merchant_id;
    image->created_at = now;
    *created = 1;
Exit:
    if (ret != 0) {
        lb_db_rollback(db);
        if (written)
            forget_written_file(db, change->media_dir, image);
    }
    return ret;
}

/* In the change's transaction: its photo (of its product), or LB_ENOTFOUND with image_missing set. */
static int lock_image(lb_db_t *db, lb_image_change_t *change, lb_product_image_t *image)
{
    static const char sql[] = IMAGE_SELECT "WHERE id = ? AND product_id = ? FOR UPDATE";
    int ret = lb_db_query(db, sql, "ii", change->image_id, change->product_id);
    if (ret == 0)
        ret = fetch_image(db, image);
    change->image_missing = ret == LB_ENOTFOUND;
    return ret;
}

int lb_store_product_image_delete(lb_db_t *db, lb_image_change_t *change)
{
    static const char delete_sql[] = "DELETE FROM product_images WHERE id = ?";
    static const char close_gap_sql[] = "UPDATE product_images SET position = position - 1 WHERE product_id = ? AND position > ?";
    lb_product_image_t image;
    int64_t ret = lb_db_begin(db);
    if (ret != 0 || (ret = lock_product(db, change)) != 0 || (ret = lock_image(db, change, &image)) != 0)
        goto Exit;
    if ((ret = lb_db_exec(db, delete_sql, "i", image.id)) < 0 ||
        (ret = lb_db_exec(db, close_gap_sql, "ii", change->product_id, image.position)) < 0)
        goto Exit;
    if ((ret = release_file(db, change->media_dir, image.sha256, image.type)) == 0)
        ret = lb_db_commit(db);
Exit:
    if (ret != 0)
        lb_db_rollback(db);
    return (int)ret;
}

int lb_store_product_image_move(lb_db_t *db, lb_image_change_t *change)
{
    /* The photos between the old place and the new one move one step towards the old place. */
    static const char shift_sql[] = "UPDATE product_images SET position = position + IF(? < ?, 1, -1) "
                                    "WHERE product_id = ? AND position BETWEEN LEAST(?, ?) AND GREATEST(?, ?) AND id <> ?";
    static const char move_sql[] = "UPDATE product_images SET position = ? WHERE id = ?";
    lb_product_image_t image;
    int64_t ret = lb_db_begin(db), to = change->position;
    if (ret != 0 || (ret = lock_product(db, change)) != 0 || (ret = lock_image(db, change, &image)) != 0)
        goto Exit;
    if (to >= change->num_images) {
        ret = LB_EINPUT;
        goto Exit;
    }
    int64_t from = image.position;
    if ((ret = lb_db_exec(db, shift_sql, "iiiiiiii", to, from, change->product_id, from, to, from, to, image.id)) < 0 ||
        (ret = lb_db_exec(db, move_sql, "ii", to, image.id)) < 0)
        goto Exit;
    ret = lb_db_commit(db);
Exit:
    if (ret != 0)
        lb_db_rollback(db);
    return (int)ret;
}
