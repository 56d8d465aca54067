/*
 * Answers' bodies and how they go to h2o.
 *
 * A body is counted (refs), so that one rendering can be the body of many answers without a copy: /metrics scraped by
 * many at once, an answer of the public cache. h2o gets the body's bytes a chunk at a time, the next when it has sent
 * the last (the generator's proceed), and the body is released when h2o disposes of the request.
 *
 * An answer handed to h2o and not yet delivered (a client that does not read, a flow-control window it never opens) is
 * memory held for it: its cost is counted against its connection's budget and the process's until h2o disposes of the
 * request (livebuy/http/connections.h), and a connection over budget is closed.
 */
#ifndef LIVEBUY_HTTP_ANSWER_H
#define LIVEBUY_HTTP_ANSWER_H

#include <stddef.h>
#include <h2o.h>

typedef struct st_lb_body_t {
    char *bytes;
    size_t len;
    unsigned refs; /* on one loop thread: not atomic */
    int shared;    /* kept by a cache for the answers to come: held by none of them alone, counted in no budget */
} lb_body_t;

/* A body of bytes (from malloc, taken over) or of a copy of them; its one reference is the caller's. */
lb_body_t *lb_body_adopt(char *bytes, size_t len);
lb_body_t *lb_body_copy(const void *bytes, size_t len);
void lb_body_retain(lb_body_t *body);
void lb_body_release(lb_body_t *body);

/* What h2o gets per proceed: an answer up to this size goes at once, a larger one in chunks of this size. */
#define LB_ANSWER_CHUNK 65536

/*
 * Memory one answer holds in h2o until it is delivered, besides the bytes of a body of its own: the request, its pool,
 * the stream (loadtest/zero-window.py measured about 5.7 KB an answer of a shared body; counted a little above).
 */
#define LB_ANSWER_COST 6656

/*
 * Sends body (NULL: none, for a 204 or a 304) as the answer of req, whose status and headers are set (content_length is
 * set here; a HEAD gets the head alone), and
 * takes a reference of its own until h2o disposes of req. The answer holds LB_ANSWER_COST, the request body's bytes
 * and, unless the body is shared, the answer body's bytes against the budgets. On req's loop thread.
 */
void lb_answer_send(h2o_req_t *req, lb_body_t *body);

/* Holds LB_ANSWER_COST for req until h2o disposes of it, for an answer another handler sends (h2o's files: over HTTP/2
 * they are read as the window opens, so they hold no more than that). */
void lb_answer_hold(h2o_req_t *req);

#endif
