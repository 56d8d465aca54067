/* Answers' bodies and how they go to h2o (livebuy/http/answer.h). */
#include <stdlib.h>
#include <string.h>
#include "livebuy/http/answer.h"
#include "livebuy/common.h"
#include "livebuy/http/connections.h"

lb_body_t *lb_body_adopt(char *bytes, size_t len)
{
    lb_body_t *body = lb_malloc(sizeof(*body));
    *body = (lb_body_t){bytes, len, 1, 0};
    return body;
}

lb_body_t *lb_body_copy(const void *bytes, size_t len)
{
    char *copy = lb_malloc(len + 1);
    memcpy(copy, bytes, len);
    return lb_body_adopt(copy, len);
}

void lb_body_retain(lb_body_t *body)
{
    ++body->refs;
}

void lb_body_release(lb_body_t *body)
{
    if (body == NULL || --body->refs != 0)
        return;
    free(body->bytes);
    free(body);
}

/* An answer on its way: in the request's pool, disposed of with it. */
typedef struct st_sending_t {
    h2o_generator_t super;
    lb_body_t *body;
    size_t sent;
    lb_answer_hold_t hold;
} sending_t;

static void send_next(sending_t *s, h2o_req_t *req)
{
    size_t left = s->body != NULL ? s->body->len - s->sent : 0;
    size_t chunk = left < LB_ANSWER_CHUNK ? left : LB_ANSWER_CHUNK;
    h2o_iovec_t buf = h2o_iovec_init(s->body != NULL ? s->body->bytes + s->sent : NULL, chunk);
    s->sent += chunk;
    h2o_send(req, &buf, chunk != 0, chunk == left ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void on_proceed(h2o_generator_t *generator, h2o_req_t *req)
{
    send_next((sending_t *)generator, req);
}

/* Nothing to stop: what the answer holds goes when the request is disposed of. */
static void on_stop(h2o_generator_t *generator, h2o_req_t *req)
{
}

static void on_disposed(void *p)
{
    sending_t *s = p;
    lb_connections_release(&s->hold);
    lb_body_release(s->body);
}

static void on_hold_disposed(void *p)
{
    lb_connections_release(p);
}

void lb_answer_hold(h2o_req_t *req)
{
    lb_answer_hold_t *hold = h2o_mem_alloc_shared(&req->pool, sizeof(*hold), on_hold_disposed);
    lb_connections_hold(req->conn, LB_ANSWER_COST, hold);
}

void lb_answer_send(h2o_req_t *req, lb_body_t *body)
{
    /* the head of the answer to a GET, without its body (h2o leaves that to the generator) */
    int head = h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD"));
    sending_t *s = h2o_mem_alloc_shared(&req->pool, sizeof(*s), on_disposed);
    *s = (sending_t){.super = {on_proceed, on_stop}, .body = body};
    if (body != NULL) { /* else no Content-Length is said: a 204 or a 304 has none */
        lb_body_retain(body);
        req->res.content_length = body->len;
    }
    /* the request's body too: h2o keeps it (and the call its decoded fields, LB_FIELDS_MAX_VALUES at most) until the
     * request is gone, which a client that does not read its answers puts off */
    lb_connections_hold(req->conn, LB_ANSWER_COST + (body != NULL && !body->shared && !head ? body->len : 0) + req->entity.len,
                        &s->hold);
    h2o_start_response(req, &s->super);
    if (head)
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        send_next(s, req);
}
