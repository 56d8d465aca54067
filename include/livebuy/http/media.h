/*
 * /media/{ab}/{hash}.{jpg|png|webp}: the product photos under --media-dir, read on libuv's thread pool (never on the
 * loop) and served immutable: Cache-Control for a year, the hash as the ETag (304 for If-None-Match), the type's
 * Content-Type and nosniff. Any other name (not a hash, a path outside the folder) is a 404 with the API's error body.
 */
#ifndef LIVEBUY_HTTP_MEDIA_H
#define LIVEBUY_HTTP_MEDIA_H

#include <h2o.h>

/* Puts the photo handler on an h2o path ("/media"); dir (--media-dir) must outlive the server. */
void lb_media_register(h2o_pathconf_t *path, const char *dir);

#endif
