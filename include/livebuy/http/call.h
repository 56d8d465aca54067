/*
 * One HTTP request as livebuy's handlers see it (a "call"): the matched route, the {id} from the path, the decoded body,
 * the answer format, and the one way to answer, now or after a database job. A call outlives its h2o request when the
 * client goes away while a job runs; the job's late answer is then dropped.
 */
#ifndef LIVEBUY_CALL_H
#define LIVEBUY_CALL_H

#include <stdint.h>
#include <h2o.h>
#include "livebuy/codec/codec.h"
#include "livebuy/base/config.h"
#include "livebuy/base/wechatpay.h"
#include "livebuy/db/db.h"
#include "livebuy/http/answer.h"
#include "livebuy/http/router.h"

/*
 * livebuy's h2o handler: every request on its path becomes a call. Like h2o's own handlers it carries what its calls
 * need in itself: the settings and the route table (both must outlive the server).
 */
typedef struct st_lb_http_handler_t {
    h2o_handler_t super;
    const lb_config_t *config;
    const lb_route_t *routes;
    size_t num_routes;
    const lb_wechatpay_platform_t *wechatpay; /* WeChat Pay's certificate (--payment-provider wechatpay), else NULL */
} lb_http_handler_t;

/* Puts livebuy's handler on an h2o path (after any handler registered there before it). */
lb_http_handler_t *lb_call_register(h2o_pathconf_t *path, const lb_config_t *config, const lb_route_t *routes, size_t num_routes);

/* The longest X-Request-Id taken from a request; a longer one, or one with other than visible ASCII, is replaced. */
#define LB_REQUEST_ID_MAX 64

struct st_lb_call_t {
    h2o_req_t *req; /* NULL once the client has gone: never answer then */
    const lb_config_t *config;
    const lb_wechatpay_platform_t *wechatpay; /* the handler's */
    uv_loop_t *loop;
    size_t route;         /* index in the route table, for metrics */
    unsigned route_flags; /* the route's LB_ROUTE_* flags, 0 before routing */
    int64_t id;           /* the {id} of the path, or 0 */
    int64_t sub_id;       /* the path's second id ({image_id} in /v1/products/{id}/images/{image_id}), or 0 */
    lb_format_t answer_format;
    const lb_value_t *body; /* the body's object once read (LB_ROUTE_BODY, lb_call_read_body), else NULL */
    uint64_t started_ns;
    unsigned refs;
    int cache_answer;   /* an anonymous read of an LB_ROUTE_PUBLIC route: its 200 answer goes to the public cache */
    int answered;       /* an answer went out: any later one is dropped (lb_call_deadline) */
    /* Called on the loop thread when the client goes before the call has answered (a reset stream, a closed
     * connection), so that work queued for nobody can be dropped; the handler sets it and clears it once it answers. */
    void (*on_gone)(lb_call_t *call, void *data);
    void *on_gone_data;
    /* For the access log: who asked (0 until a token says), the error code answered (NULL, or valid until it is sent). */
    int64_t buyer_id, merchant_id;
    const char *error_code;
    char request_id[LB_REQUEST_ID_MAX + 1]; /* X-Request-Id as given (when valid) or made; echoed in the answer */
    lb_fields_t fields; /* what body points into, kept as long as the call; the last member (call_new) */
};

/* A new call for req on behalf of handler, its answer format read from Accept: what the handler does first with every
 * request, and what a handler that answers before routing (the door, livebuy/http/door.h) answers through. Owned by
 * req (released when h2o disposes of it). */
lb_call_t *lb_call_new(const lb_http_handler_t *handler, h2o_req_t *req);

/*
 * An answer with status and bytes of body is going out: counts it (metrics, the access log) and echoes X-Request-Id.
 * Every way of answering calls it once, on the loop thread, before h2o sends the headers.
 */
void lb_call_answering(lb_call_t *call, int status, size_t bytes);

/* Answers are written with a writer (livebuy/codec/codec.h) in the call's answer format: start one, write a map,
 * reply; the reply frees what the writer holds, also when the client is gone. */
void lb_writer_start(lb_call_t *call, lb_writer_t *w);
void lb_reply_written(lb_call_t *call, int status, lb_writer_t *w);
/* Answers with the API error body {"error":{"code","message"}}; 429 and 503 carry Retry-After. */
void lb_reply_error(lb_call_t *call, int status, const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * What an error body may say beside its code and message, for a client that words the refusal in its own language: a
 * reason (a 409 conflict's: off_air, not_open, closed, retired) and named integers (left, limit, held, opens_at,
 * closes_at), each written when set (the names are docs/openapi.yaml's Error).
 */
typedef struct st_lb_error_field_t {
    const char *name;
    int64_t value;
} lb_error_field_t;
typedef struct st_lb_error_detail_t {
    const char *reason; /* NULL: none */
    lb_error_field_t fields[2];
    size_t num_fields;
} lb_error_detail_t;
void lb_reply_error_detail(lb_call_t *call, int status, const char *code, const lb_error_detail_t *detail, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Answers an input error found on the loop thread (the query, the body, its fields), once the call's credential is known
 * good (lb_auth_refuse: on a merchant's route after the token's lookup), else 401. */
void lb_reply_input_error(lb_call_t *call, const lb_input_error_t *err);
/* Answers an LB_E* code with its usual status and a generic message (503 for LB_EDB_DOWN, 500 for LB_EDB, ...). */
void lb_reply_failure(lb_call_t *call, int lb_error);
/* What lb_reply_failure answers for an LB_E* code: returns the status and sets the API error code and the message; for
 * answers in a provider's own error format. */
int lb_call_failure_status(int lb_error, const char **code, const char **message);
/* Answers 204 No Content: no body, no Content-Type. */
void lb_reply_no_content(lb_call_t *call);
/* Answers raw bytes (copied) with a Content-Type. */
void lb_reply_raw(lb_call_t *call, int status, const char *content_type, const char *body, size_t len);
/* Answers a body (livebuy/http/answer.h) with a Content-Type: the answer takes a reference of its own, and the body
 * may be the answer of many (a rendering kept and shared). */
void lb_reply_body(lb_call_t *call, int status, const char *content_type, lb_body_t *body);

/*
 * Closes the call's connection as when its client leaves (the socket is shut down; h2o then closes it and every request
 * on it), and answers the call with 429 busy for whatever may still read it. For a connection that attacks.
 */
void lb_call_shutdown_connection(lb_call_t *call, const char *why);

/*
 * Answers the call with the error status/code/message if it has not answered within ms (a database job that does not
 * come back); the job's own answer is then dropped. For answers a caller needs in time, such as /readyz's.
 */
void lb_call_deadline(lb_call_t *call, unsigned ms, int status, const char *code, const char *message);

/* Keeps the call alive past its handler (for answers that come later); every retain needs a release. */
void lb_call_retain(lb_call_t *call);
void lb_call_release(lb_call_t *call);
/* Adds a response header for the coming answer (name in lower case; both strings must outlive the answer). */
void lb_call_add_header(lb_call_t *call, const char *name, const char *value);
/* The same with a copy of value (in the request's pool), for a value made for this answer. On the loop thread. */
void lb_call_add_header_copy(lb_call_t *call, const char *name, const char *value);

/*
 * Decodes the raw body (req->entity) by its Content-Type into call->body: what the router does for LB_ROUTE_BODY routes,
 * and what a route without it that must look at the raw bytes first (a signed callback) calls then. 0, or LB_EINPUT
 * having answered 415 or 400. The body (its keys and strings) stays with the call.
 */
int lb_call_read_body(lb_call_t *call);
/* The Bearer token of the Authorization header; 0 and the token, or LB_EAUTH when there is none. */
int lb_call_bearer(lb_call_t *call, h2o_iovec_t *token);
/* The value of a request header (name in lower case), or an empty iovec. */
h2o_iovec_t lb_call_header(lb_call_t *call, const h2o_token_t *token);
/* The same for a header h2o has no token for. */
h2o_iovec_t lb_call_header_named(lb_call_t *call, const char *name);
/*
 * The Idempotency-Key header (an order's, a product's) into key (LB_IDEMPOTENCY_KEY_MAX + 1 bytes, livebuy/base/limits.h):
 * 0 with the key NUL-terminated, LB_ENOTFOUND when the request has none, or LB_EINPUT with a 422 in *err when it is not
 * 1 to LB_IDEMPOTENCY_KEY_MAX printable ASCII characters.
 */
int lb_call_idempotency_key(lb_call_t *call, char *key, lb_input_error_t *err);
/* A query-string parameter's value with its %XX escapes undone (as sent when one is not an escape or makes a NUL), or an
 * empty iovec with base NULL when absent. */
h2o_iovec_t lb_call_query(lb_call_t *call, const char *name);
/* The same as the request spells it, escapes and all (for a link that repeats it). */
h2o_iovec_t lb_call_query_raw(lb_call_t *call, const char *name);
/* A query parameter that must be a decimal integer from min to max (422 naming it otherwise); absent leaves *out. */
int lb_call_query_int(lb_call_t *call, const char *name, int64_t min, int64_t max, int64_t *out, lb_input_error_t *err);
/* A query parameter that must be one of the NULL-terminated allowed values (400 invalid_query listing them otherwise); *index gets
 * its position; absent leaves *index. */
int lb_call_query_enum(lb_call_t *call, const char *name, const char *const *allowed, int *index, lb_input_error_t *err);

/*
 * A query parameter that must be a time bound (livebuy/base/civil_time.h: a day in China time, its first second or with
 * day_end the next day's, or an RFC 3339 time; %XX escapes undone): 422 naming it otherwise; absent leaves *out.
 */
int lb_call_query_time(lb_call_t *call, const char *name, int day_end, int64_t *out, lb_input_error_t *err);
/*
 * Which of the n media types a route can answer in the call's Accept takes best (lb_codec_negotiate): its index, or -1
 * having answered 406 naming them.
 */
int lb_call_negotiate(lb_call_t *call, const char *const *offered, size_t n);

/*
 * A database job on behalf of a call. Embed it first in a handler's job struct, allocate that with lb_call_job_new,
 * and submit it: work runs on a worker (its return: 0 to answer status/answer, an error code after lb_call_job_fail,
 * or an LB_EDB_* code from the database layer); the answer is sent on the loop thread if the client is still there.
 */
typedef struct st_lb_call_job_t lb_call_job_t;
typedef int (*lb_call_work_cb)(lb_call_job_t *job, lb_db_t *db);
struct st_lb_call_job_t {
    lb_db_job_t db;
    lb_call_t *call;
    lb_call_work_cb work;
    int status;
    lb_writer_t answer; /* in the call's answer format; what work wrote after lb_call_job_answer */
    lb_input_error_t error;
    /*
     * Optional (set before submitting): runs on the loop thread after work succeeded (returned 0), before the answer
     * goes out, whether or not the client is still there; for effects the loop thread owns (e.g. lane hints).
     */
    void (*on_done)(lb_call_job_t *job);
    /*
     * Optional (set before submitting): after work succeeded, answers the call on the loop thread instead of what work
     * wrote, if the client is still there: a stream that starts once work has allowed it (checked a credential).
     */
    void (*start_stream)(lb_call_t *call);
    /*
     * Optional: the Content-Type of an answer that is not JSON or msgpack (an export); its bytes are what work put in
     * answer.out (lb_buffer_append), sent as they are.
     */
    const char *answer_type;
    /* Admission (lb_call_job_submit): the next call job waiting for a database worker, and since when. */
    lb_call_job_t *next_waiting;
    uint64_t waiting_since_ns;
};

/* Allocates a zeroed job of size bytes (the handler's struct) that holds a reference to call. */
void *lb_call_job_new(lb_call_t *call, size_t size);
/*
 * Runs work on a database worker, then answers the call (call_job_done). Admission: a loop thread has at most
 * lb_call_admission's max_out call jobs in the database pool at once, fewer than its share of the workers, so that the
 * order and payment batches (the lanes, not admitted here) always find a worker within one job's time, whatever floods
 * the other routes (unknown merchant tokens, listings, exports); the rest wait in arrival order, up to max_waiting, past
 * which (or past wait_ms of waiting) a call is answered 503 `unavailable` with Retry-After.
 */
void lb_call_job_submit(lb_call_job_t *job, lb_call_work_cb work);
/* Submits at once, ahead of the calls waiting: /readyz, whose answer must say whether the database answers, not how busy
 * the other routes keep it. */
void lb_call_job_submit_first(lb_call_job_t *job, lb_call_work_cb work);
/* Sets the admission's limits (process start): max_out call jobs per loop thread in the pool (at least 1), max_waiting
 * waiting per loop thread, wait_ms the longest wait (0: none). */
void lb_call_admission(unsigned max_out, size_t max_waiting, unsigned wait_ms);
/* Frees a job that will not be submitted after all (the handler answered already). */
void lb_call_job_discard(lb_call_job_t *job);
/* Records an error answer for a work function and returns LB_EINPUT. */
int lb_call_job_fail(lb_call_job_t *job, int status, const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * Starts the success answer of a work function (on its worker thread): returns the writer to write its one map into.
 * A retried transaction starts again from an empty answer. Work that answers nothing answers {}.
 */
lb_writer_t *lb_call_job_answer(lb_call_job_t *job, int status);

#endif
