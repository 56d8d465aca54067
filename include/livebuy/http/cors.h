/*
 * CORS for the origins of --cors-origin (livebuy/base/origins.h): the headers that let a page on one of them call the
 * API from a browser and read the answers, and the answer to a preflight (OPTIONS). docs/api.md (CORS) says what a
 * browser gets and why.
 */
#ifndef LIVEBUY_CORS_H
#define LIVEBUY_CORS_H

#include "livebuy/http/call.h"

/* The CORS headers of an answer about to go out (lb_call_answering calls it for every answer, errors included): with
 * --cors-origin, Vary: Origin; and when the request's Origin is listed, that origin in Access-Control-Allow-Origin and,
 * but for a preflight, the headers a script may read. Nothing without --cors-origin. On the loop thread. */
void lb_cors_answering(lb_call_t *call);

/*
 * Answers OPTIONS on a path that routes take: 204 with Allow (the path's methods), and for a preflight from a listed
 * origin Access-Control-Allow-Methods, -Allow-Headers (those every route may read, and the signature headers of the
 * path's signed routes) and -Max-Age. An unlisted origin, or none, gets the same 204 without them: the browser then
 * refuses the call itself. flags: the LB_ROUTE_* flags of the path's routes, or-ed.
 */
void lb_cors_preflight(lb_call_t *call, const char *allow, unsigned flags);

#endif
