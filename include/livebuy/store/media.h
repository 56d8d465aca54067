/*
 * The photo files under --media-dir, named by their content: "ab/abcd...ef.jpg", the first two hex digits of the
 * SHA-256 of the bytes as a folder, the whole hash and the type's extension as the name. The bytes never pass through
 * the database; product_images rows name the files (livebuy/store/product_images.h decides when one goes). Files are
 * only written and removed on worker threads.
 */
#ifndef LIVEBUY_STORE_MEDIA_H
#define LIVEBUY_STORE_MEDIA_H

#include <stddef.h>
#include "livebuy/base/image.h"

/* The URL path of a file: "/media/" and its name. */
#define LB_MEDIA_URL_PREFIX "/media/"

/* The lower-case hex SHA-256 of bytes[0..len). */
void lb_media_hash(const void *bytes, size_t len, char hash[LB_IMAGE_HASH_SIZE]);
/* The name of the file of hash and type ("ab/ab...cd.jpg"). */
void lb_media_name(const char *hash, lb_image_type_t type, char name[LB_IMAGE_NAME_SIZE]);
/* Is name[0..len) a file name this folder can hold (two hex digits, '/', the 64 that start with them, an extension)?
 * 0 and its type and hash, else LB_ENOTFOUND. */
int lb_media_name_parse(const char *name, size_t len, lb_image_type_t *type, char hash[LB_IMAGE_HASH_SIZE]);

/* Makes the folder (and its parents) if it is not there, and removes the temporary files of uploads stopped mid-write
 * more than an hour ago; 0, or LB_EINPUT with the reason in err. At start-up. */
int lb_media_dir_prepare(const char *dir, char *err, size_t errsize);
/*
 * Puts bytes under dir as name: written to a temporary file in the same folder, flushed, then renamed, so a crash never
 * leaves half a file under its final name. A file already there under that name holds these bytes (the name is their
 * hash) and is kept. 0, or LB_EDB (logged): the disk refused.
 */
int lb_media_write(const char *dir, const char *name, const void *bytes, size_t len);
/* Removes the file name under dir; gone already is fine. 0, or LB_EDB (logged). */
int lb_media_remove(const char *dir, const char *name);

#endif
