/*
 * The door: a handler put first on every h2o path livebuyd serves (the web pages' files and the API), which refuses,
 * before any other handler sees them, requests no handler must take: an HTTP/1.x head whose body framing is in doubt
 * (livebuy/base/request.h: duplicate or conflicting Content-Length and Transfer-Encoding), answered 400 with the
 * connection closed after it; a path with a NUL or %00, answered 400; on a path of files, a method other than GET and
 * HEAD, answered 405, and in a folder of files a path that names a folder (ends in '/'), answered 404 (h2o's file
 * handler would answer both in plain text); below a web page's path, a path that names no page (/shop/abc, /coop/x),
 * answered 404. Everything else goes on to the path's handlers.
 */
#ifndef LIVEBUY_DOOR_H
#define LIVEBUY_DOOR_H

#include <h2o.h>
#include "livebuy/base/config.h"

/* What the door stands before. */
typedef enum en_lb_door_files_t {
    LB_DOOR_API,     /* the API alone */
    LB_DOOR_FILES,   /* files read as they are (the photos): GET and HEAD only, then the API */
    LB_DOOR_FOLDER,  /* a folder of such files, never listed */
    LB_DOOR_PAGE,    /* one web page, a file as above, at its path alone (a trailing '/' allowed) */
    LB_DOOR_PAGE_ID, /* one web page for many things, at its path alone and at its path and "/{id}" (digits; a trailing
                        '/' allowed): the page reads the id from its URL */
} lb_door_files_t;

/* Puts the door on path: register it before the path's other handlers. num_routes is the "unmatched" metrics label. */
void lb_door_register(h2o_pathconf_t *path, const lb_config_t *config, size_t num_routes, lb_door_files_t files);

#endif
