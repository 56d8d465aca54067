/* Calls: from an h2o request to a handler and back to one answer, through database jobs when needed. */
#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/rand.h>
#include "livebuy/http/call.h"
#include "livebuy/common.h"
#include "livebuy/http/answer.h"
#include "livebuy/http/auth.h"
#include "livebuy/http/cors.h"
#include "livebuy/base/civil_time.h"
#include "livebuy/base/limits.h"
#include "livebuy/base/log.h"
#include "livebuy/base/metrics.h"
#include "livebuy/base/request.h"

/* Seconds a client should wait before retrying a 429 or 503. */
#define RETRY_AFTER "1"

void lb_call_shutdown_connection(lb_call_t *call, const char *why)
{
    if (call->req != NULL) {
        h2o_conn_t *conn = call->req->conn;
        h2o_socket_t *sock = conn->callbacks->get_socket != NULL ? conn->callbacks->get_socket(conn) : NULL;
        int fd = sock != NULL ? h2o_socket_get_fd(sock) : -1;
        if (fd >= 0)
            shutdown(fd, SHUT_RDWR);
    }
    lb_reply_error(call, 429, "busy", "%s: the connection is closed", why);
}

typedef struct st_call_deadline_t {
    uv_timer_t timer;
    lb_call_t *call;
    int status;
    const char *code, *message;
} call_deadline_t;

static void on_deadline_closed(uv_handle_t *handle)
{
    call_deadline_t *d = handle->data;
    lb_call_release(d->call);
    free(d);
}

static void on_deadline(uv_timer_t *timer)
{
    call_deadline_t *d = timer->data;
    lb_reply_error(d->call, d->status, d->code, "%s", d->message); /* nothing if the call answered already */
    uv_close((uv_handle_t *)timer, on_deadline_closed);
}

void lb_call_deadline(lb_call_t *call, unsigned ms, int status, const char *code, const char *message)
{
    call_deadline_t *d = lb_malloc(sizeof(*d));
    *d = (call_deadline_t){.call = call, .status = status, .code = code, .message = message};
    lb_call_retain(call);
    uv_timer_init(call->loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, on_deadline, ms, 0);
    uv_unref((uv_handle_t *)&d->timer);
}

void lb_call_retain(lb_call_t *call)
{
    ++call->refs;
}

void lb_call_release(lb_call_t *call)
{
    if (--call->refs != 0)
        return;
    lb_fields_dispose(&call->fields);
    free(call);
}

/* Lives in the request's pool: when h2o frees the request (answered, or the client gone), the call forgets it. */
typedef struct st_call_guard_t {
    lb_call_t *call;
} call_guard_t;

static void on_request_disposed(void *p)
{
    call_guard_t *guard = p;
    lb_call_t *call = guard->call;
    call->req = NULL;
    if (call->on_gone != NULL)
        call->on_gone(call, call->on_gone_data);
    lb_call_release(call);
}

/* The client's X-Request-Id when it is 1-64 visible ASCII characters but '"' and '\\' (it goes into log lines as it is). */
static int take_request_id(lb_call_t *call)
{
    h2o_iovec_t given = lb_call_header_named(call, "x-request-id");
    if (given.base == NULL || given.len == 0 || given.len > LB_REQUEST_ID_MAX)
        return -1;
    for (size_t i = 0; i != given.len; ++i)
        if (given.base[i] <= ' ' || given.base[i] > '~' || given.base[i] == '"' || given.base[i] == '\\')
            return -1;
    memcpy(call->request_id, given.base, given.len);
    call->request_id[given.len] = '\0';
    return 0;
}

/*
 * A request id of our own: this thread's random 64-bit prefix and a counter, unique without a random draw per request;
 * as "%016llx%08llx" would print them, without printf's 1,500 instructions a request.
 */
static void make_request_id(lb_call_t *call)
{
    static _Thread_local unsigned long long prefix, counter;
    if (prefix == 0 && RAND_bytes((unsigned char *)&prefix, sizeof(prefix)) != 1)
        prefix = lb_monotonic_ns();
    *lb_request_put_hex(lb_request_put_hex(call->request_id, prefix, 16), ++counter, 8) = '\0';
}

static void find_client_address(h2o_req_t *req, char *out, size_t size)
{
    struct sockaddr_storage sa;
    socklen_t len = req->conn->callbacks->get_peername != NULL ? req->conn->callbacks->get_peername(req->conn, (void *)&sa) : 0;
    const void *addr = NULL;
    if (len != 0 && sa.ss_family == AF_INET)
        addr = &((struct sockaddr_in *)&sa)->sin_addr;
    else if (len != 0 && sa.ss_family == AF_INET6)
        addr = &((struct sockaddr_in6 *)&sa)->sin6_addr;
    if (addr == NULL || inet_ntop(sa.ss_family, addr, out, (socklen_t)size) == NULL)
        snprintf(out, size, "?");
}

/*
 * The client's address as text ("?" when h2o cannot say). The last connection's is kept: asking costs a getpeername(2),
 * and the streams of one HTTP/2 connection come one after another.
 */
static const char *client_address(h2o_req_t *req)
{
    static _Thread_local uint64_t last_conn_id = UINT64_MAX;
    static _Thread_local char last[INET6_ADDRSTRLEN];
    if (req->conn->id != last_conn_id) {
        find_client_address(req, last, sizeof(last));
        last_conn_id = req->conn->id;
    }
    return last;
}

void lb_call_answering(lb_call_t *call, int status, size_t bytes)
{
    uint64_t duration_ns = lb_monotonic_ns() - call->started_ns;
    lb_metrics_request(call->route, status, duration_ns);
    h2o_add_header_by_str(&call->req->pool, &call->req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL, call->request_id,
                          strlen(call->request_id));
    lb_cors_answering(call);
    if (!lb_log_access_on())
        return;
    char method[16];
    size_t method_len = call->req->method.len < sizeof(method) - 1 ? call->req->method.len : sizeof(method) - 1;
    memcpy(method, call->req->method.base, method_len);
    method[method_len] = '\0';
    lb_access_t access = {call->request_id, method, lb_metrics_route_label(call->route), call->error_code, client_address(call->req), status,
                          duration_ns, bytes, call->buyer_id, call->merchant_id};
    lb_log_access(&access);
}

lb_call_t *lb_call_new(const lb_http_handler_t *handler, h2o_req_t *req)
{
    /* Zeroed but for the room of the body's fields (the last member), which lb_fields_init makes ready. */
    lb_call_t *call = lb_malloc(sizeof(*call));
    memset(call, 0, offsetof(lb_call_t, fields));
    lb_fields_init(&call->fields);
    call->req = req;
    call->config = handler->config;
    call->wechatpay = handler->wechatpay;
    call->loop = req->conn->ctx->loop;
    call->started_ns = lb_monotonic_ns();
    call->refs = 1;
    h2o_iovec_t accept = lb_call_header(call, H2O_TOKEN_ACCEPT);
    call->answer_format = lb_codec_answer_format(accept.base, accept.len);
    if (take_request_id(call) != 0)
        make_request_id(call);
    call_guard_t *guard = h2o_mem_alloc_shared(&req->pool, sizeof(*guard), on_request_disposed);
    guard->call = call;
    return call;
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status < 400 ? "OK" : "Error";
    }
}

/*
 * The public answer cache. GET /v1/lives/{id}, /v1/skus/{id} and /v1/group-buys/{id} are what thousands of viewers of
 * a live poll; for 250 ms a thread answers an anonymous one again with the answer it sent last for the same resource
 * and format, without a database job. A request with credentials (a merchant or buyer reading what they just wrote)
 * or Cache-Control: no-cache always reads the database. Each thread keeps its own slots; a slot holds one answer.
 */
#define PUBLIC_CACHE_SLOTS 1024
#define PUBLIC_CACHE_NS    250000000ull

typedef struct st_cached_answer_t {
    size_t route;
    int64_t id;
    lb_format_t format;
    uint64_t stored_ns;
    lb_body_t *body; /* shared with the answers on their way */
} cached_answer_t;
static _Thread_local cached_answer_t *public_cache;

static cached_answer_t *public_cache_slot(const lb_call_t *call)
{
    if (public_cache == NULL)
        public_cache = lb_calloc(PUBLIC_CACHE_SLOTS, sizeof(*public_cache));
    uint64_t key = ((uint64_t)call->id * 64 + call->route) * 2 + (call->answer_format == LB_FORMAT_MSGPACK);
    return &public_cache[(key * 0x9e3779b97f4a7c15ull >> 32) % PUBLIC_CACHE_SLOTS];
}

/* An anonymous read that accepts a cached answer? */
static int reads_public_cache(lb_call_t *call)
{
    h2o_iovec_t control = lb_call_header(call, H2O_TOKEN_CACHE_CONTROL);
    return lb_call_header(call, H2O_TOKEN_AUTHORIZATION).len == 0 &&
           (control.len == 0 || (h2o_strstr(control.base, control.len, H2O_STRLIT("no-cache")) == SIZE_MAX &&
                                 h2o_strstr(control.base, control.len, H2O_STRLIT("max-age=0")) == SIZE_MAX));
}

/*
 * Answers call from the public cache when it can (0); else (LB_ENOTFOUND) marks it, if it is an anonymous read, for its
 * answer to be kept there.
 */
static int answer_from_public_cache(lb_call_t *call)
{
    if (!reads_public_cache(call))
        return LB_ENOTFOUND;
    const cached_answer_t *slot = public_cache_slot(call);
    if (slot->body != NULL && slot->route == call->route && slot->id == call->id && slot->format == call->answer_format &&
        lb_monotonic_ns() - slot->stored_ns < PUBLIC_CACHE_NS) {
        lb_metrics_public_cache_hit();
        lb_reply_body(call, 200, lb_codec_media_type(call->answer_format), slot->body);
        return 0;
    }
    call->cache_answer = 1;
    return LB_ENOTFOUND;
}

static void keep_public_answer(const lb_call_t *call, lb_body_t *body)
{
    cached_answer_t *slot = public_cache_slot(call);
    lb_body_release(slot->body);
    *slot = (cached_answer_t){call->route, call->id, call->answer_format, lb_monotonic_ns(), body};
    lb_body_retain(body);
    body->shared = 1;
}

void lb_reply_body(lb_call_t *call, int status, const char *content_type, lb_body_t *body)
{
    h2o_req_t *req = call->req;
    if (req == NULL || call->answered)
        return;
    call->answered = 1;
    if (call->cache_answer && status == 200)
        keep_public_answer(call, body);
    lb_call_answering(call, status, body != NULL ? body->len : 0);
    req->res.status = status;
    req->res.reason = reason_phrase(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    if (status == 429 || status == 503)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT(RETRY_AFTER));
    lb_answer_send(req, body);
}

void lb_reply_raw(lb_call_t *call, int status, const char *content_type, const char *body, size_t len)
{
    if (call->req == NULL || call->answered)
        return;
    lb_body_t *copy = lb_body_copy(body, len);
    lb_reply_body(call, status, content_type, copy);
    lb_body_release(copy);
}

/* Only a string built without a UTF-8 check can make an answer unencodable: a bug, answered as one. */
static void reply_unencodable(lb_call_t *call)
{
    static const char internal[] = "{\"error\":{\"code\":\"internal\",\"message\":\"unencodable answer\"}}";
    lb_reply_raw(call, 500, "application/json", internal, sizeof(internal) - 1);
}

void lb_writer_start(lb_call_t *call, lb_writer_t *w)
{
    lb_writer_init(w, call->answer_format);
}

void lb_reply_written(lb_call_t *call, int status, lb_writer_t *w)
{
    if (call->req == NULL || call->answered || w->failed) {
        if (w->failed)
            reply_unencodable(call);
        free(w->out.bytes);
        return;
    }
    /* the writer's bytes become the answer's, without a copy */
    lb_body_t *body = lb_body_adopt(w->out.bytes, w->out.len);
    lb_reply_body(call, status, lb_codec_media_type(w->format), body);
    lb_body_release(body);
}

static void reply_error_v(lb_call_t *call, int status, const char *code, const lb_error_detail_t *detail, const char *fmt,
                          va_list args)
{
    char message[512];
    lb_writer_t w;
    vsnprintf(message, sizeof(message), fmt, args);
    lb_utf8_mend(message); /* a message cut short may end inside a UTF-8 sequence */
    call->error_code = code;
    lb_writer_start(call, &w);
    lb_writer_map(&w, NULL);
    lb_writer_map(&w, "error");
    lb_writer_string(&w, "code", code);
    lb_writer_string(&w, "message", message);
    if (detail != NULL && detail->reason != NULL)
        lb_writer_string(&w, "reason", detail->reason);
    for (size_t i = 0; detail != NULL && i != detail->num_fields; ++i)
        lb_writer_integer(&w, detail->fields[i].name, detail->fields[i].value);
    lb_writer_end(&w);
    lb_writer_end(&w);
    lb_reply_written(call, status, &w);
}

void lb_reply_error(lb_call_t *call, int status, const char *code, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    reply_error_v(call, status, code, NULL, fmt, args);
    va_end(args);
}

void lb_reply_error_detail(lb_call_t *call, int status, const char *code, const lb_error_detail_t *detail, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    reply_error_v(call, status, code, detail, fmt, args);
    va_end(args);
}

void lb_reply_input_error(lb_call_t *call, const lb_input_error_t *err)
{
    lb_auth_refuse(call, err);
}

/* The answer each LB_E* code gets from lb_reply_failure; any code not here is a 500. */
static const struct {
    int lb_error, status;
    const char *code, *message;
} failure_answers[] = {
    {LB_EDB_DOWN, 503, "unavailable", "the database is unavailable; retry shortly"},
    {LB_EDB_RETRY, 503, "unavailable", "the database is unavailable; retry shortly"}, /* still deadlocked after retries */
    {LB_EBUSY, 429, "busy", "too many requests in flight; retry shortly"},
    {LB_ENOTFOUND, 404, "not_found", "no such resource"},
    {LB_EAUTH, 401, "unauthorized", "a valid bearer token is required"},
    {LB_EFORBIDDEN, 403, "forbidden", "this token may not do that"},
    {LB_ESTORAGE, 507, "insufficient_storage", "the server's disk is full: the file was not stored (logged); retry later"},
};

int lb_call_failure_status(int lb_error, const char **code, const char **message)
{
    for (size_t i = 0; i != LB_ARRAY_SIZE(failure_answers); ++i) {
        if (failure_answers[i].lb_error == lb_error) {
            *code = failure_answers[i].code;
            *message = failure_answers[i].message;
            return failure_answers[i].status;
        }
    }
    *code = "internal";
    *message = "internal error (logged)";
    return 500;
}

void lb_reply_failure(lb_call_t *call, int lb_error)
{
    const char *code, *message;
    int status = lb_call_failure_status(lb_error, &code, &message);
    lb_reply_error(call, status, code, "%s", message);
}

void lb_reply_no_content(lb_call_t *call)
{
    h2o_req_t *req = call->req;
    if (req == NULL || call->answered)
        return;
    call->answered = 1;
    lb_call_answering(call, 204, 0);
    req->res.status = 204;
    req->res.reason = reason_phrase(204);
    lb_answer_send(req, NULL);
}

void lb_call_add_header(lb_call_t *call, const char *name, const char *value)
{
    if (call->req == NULL)
        return;
    h2o_add_header_by_str(&call->req->pool, &call->req->res.headers, name, strlen(name), 0, NULL, value, strlen(value));
}

void lb_call_add_header_copy(lb_call_t *call, const char *name, const char *value)
{
    if (call->req == NULL)
        return;
    h2o_iovec_t copy = h2o_strdup(&call->req->pool, value, SIZE_MAX);
    h2o_add_header_by_str(&call->req->pool, &call->req->res.headers, name, strlen(name), 0, NULL, copy.base, copy.len);
}

h2o_iovec_t lb_call_header(lb_call_t *call, const h2o_token_t *token)
{
    ssize_t i = h2o_find_header(&call->req->headers, token, -1);
    return i < 0 ? h2o_iovec_init(NULL, 0) : call->req->headers.entries[i].value;
}

h2o_iovec_t lb_call_header_named(lb_call_t *call, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&call->req->headers, name, strlen(name), -1);
    return i < 0 ? h2o_iovec_init(NULL, 0) : call->req->headers.entries[i].value;
}

int lb_call_idempotency_key(lb_call_t *call, char *key, lb_input_error_t *err)
{
    h2o_iovec_t value = lb_call_header_named(call, "idempotency-key");
    if (value.base == NULL)
        return LB_ENOTFOUND;
    if (lb_request_printable(value.base, value.len, LB_IDEMPOTENCY_KEY_MAX) != 0)
        return lb_input_error(err, 422, "invalid", "Idempotency-Key must be 1-%d printable ASCII characters",
                              LB_IDEMPOTENCY_KEY_MAX);
    memcpy(key, value.base, value.len);
    key[value.len] = '\0';
    return 0;
}

int lb_call_bearer(lb_call_t *call, h2o_iovec_t *token)
{
    h2o_iovec_t value = lb_call_header(call, H2O_TOKEN_AUTHORIZATION);
    return lb_request_bearer(value.base, value.len, (const char **)&token->base, &token->len);
}


/* Reads query parameter name as a decimal integer from min to max; leaves *out alone when it is absent. */
int lb_call_query_int(lb_call_t *call, const char *name, int64_t min, int64_t max, int64_t *out, lb_input_error_t *err)
{
    h2o_iovec_t value = lb_call_query(call, name);
    int64_t n;
    if (value.base == NULL)
        return 0;
    if (lb_request_decimal(value.base, value.len, &n) != 0 || n < min || n > max)
        return lb_input_error(err, 422, "invalid", "%s must be an integer from %lld to %lld", name, (long long)min, (long long)max);
    *out = n;
    return 0;
}

h2o_iovec_t lb_call_query_raw(lb_call_t *call, const char *name)
{
    h2o_req_t *req = call->req;
    h2o_iovec_t value = h2o_iovec_init(NULL, 0);
    if (req->query_at != SIZE_MAX && lb_request_query(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1, name,
                                                      (const char **)&value.base, &value.len) != 0)
        value = h2o_iovec_init(NULL, 0);
    return value;
}

/* value with its %XX escapes undone into out (value.len + 1 bytes at most, with the NUL): its length, or -1 when an escape
 * is not one or makes a NUL. A '+' stays a '+' (a time's offset), not a space. */
static ssize_t query_unescaped(h2o_iovec_t value, char *out)
{
    size_t len = 0;
    for (size_t i = 0; i != value.len; ++i) {
        char c = value.base[i];
        if (c == '%') {
            unsigned char byte;
            if (i + 2 >= value.len || h2o_hex_decode(&byte, value.base + i + 1, 2) != 0)
                return -1;
            c = (char)byte;
            i += 2;
        }
        if (c == '\0')
            return -1;
        out[len++] = c;
    }
    out[len] = '\0';
    return (ssize_t)len;
}

h2o_iovec_t lb_call_query(lb_call_t *call, const char *name)
{
    h2o_iovec_t value = lb_call_query_raw(call, name);
    if (value.base == NULL || memchr(value.base, '%', value.len) == NULL)
        return value;
    /* A value whose escapes are not all escapes stays as it was sent, and fails the check of what it must be by name. */
    char *decoded = h2o_mem_alloc_pool(&call->req->pool, value.len + 1);
    ssize_t len = query_unescaped(value, decoded);
    return len < 0 ? value : h2o_iovec_init(decoded, (size_t)len);
}

int lb_call_query_time(lb_call_t *call, const char *name, int day_end, int64_t *out, lb_input_error_t *err)
{
    h2o_iovec_t value = lb_call_query(call, name);
    if (value.base == NULL)
        return 0;
    if (lb_time_parse_bound(value.base, value.len, day_end, out) != 0)
        return lb_input_error(err, 422, "invalid",
                              "%s must be a date in China time (2026-12-05) or an RFC 3339 time (2026-12-05T08:00:00+08:00)", name);
    return 0;
}

int lb_call_negotiate(lb_call_t *call, const char *const *offered, size_t n)
{
    h2o_iovec_t accept = lb_call_header(call, H2O_TOKEN_ACCEPT);
    int chosen = lb_codec_negotiate(accept.base, accept.len, offered, n);
    if (chosen < 0) {
        char types[256];
        size_t len = 0;
        types[0] = '\0';
        for (size_t i = 0; i != n && len < sizeof(types); ++i) /* past the end, snprintf's count would wrap the room */
            len += (size_t)snprintf(types + len, sizeof(types) - len, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", offered[i]);
        lb_reply_error(call, 406, "not_acceptable", "this route answers %s, not %.*s", types,
                       (int)(accept.len < 80 ? accept.len : 80), accept.base);
    }
    return chosen;
}

int lb_call_query_enum(lb_call_t *call, const char *name, const char *const *allowed, int *index, lb_input_error_t *err)
{
    h2o_iovec_t value = lb_call_query(call, name);
    char names[256] = "";
    size_t len = 0;
    if (value.base == NULL)
        return 0;
    for (const char *const *s = allowed; *s != NULL; ++s) {
        if (h2o_memis(value.base, value.len, *s, strlen(*s))) {
            *index = (int)(s - allowed);
            return 0;
        }
        if (len < sizeof(names)) /* past the end, snprintf's count would wrap the room */
            len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", s == allowed ? "" : ", ", *s);
    }
    return lb_input_error(err, 400, "invalid_query", "%s must be one of %s", name, names);
}

int lb_call_read_body(lb_call_t *call)
{
    h2o_iovec_t type = lb_call_header(call, H2O_TOKEN_CONTENT_TYPE);
    lb_format_t format;
    char err[256];
    lb_input_error_t refusal = {0};
    if (lb_codec_request_format(type.base, type.len, &format) != 0) {
        lb_input_error(&refusal, 415, "unsupported_media_type", "send application/json or application/msgpack, not %.*s",
                       (int)(type.len < 80 ? type.len : 80), type.base);
        lb_reply_input_error(call, &refusal);
        return LB_EINPUT;
    }
    if (lb_codec_decode(format, call->req->entity.base, call->req->entity.len, &call->fields, err, sizeof(err)) != 0) {
        lb_input_error(&refusal, 400, "malformed", "%s", err);
        lb_reply_input_error(call, &refusal);
        return LB_EINPUT;
    }
    call->body = lb_fields_root(&call->fields);
    return 0;
}

/*
 * Answers 413 when the body is over max bytes: by what Content-Length says it is (a body h2o has not read whole if it
 * says more than h2o's own limit, see server.c), then by what was read.
 */
static int body_too_large(lb_call_t *call, h2o_req_t *req, size_t max)
{
    h2o_iovec_t declared = lb_call_header(call, H2O_TOKEN_CONTENT_LENGTH);
    size_t length = declared.base != NULL ? h2o_strtosize(declared.base, declared.len) : 0;
    if (length == SIZE_MAX)
        length = 0; /* not a number: h2o's own parser has judged it */
    if (length <= max && req->entity.len <= max)
        return 0;
    lb_reply_error(call, 413, "too_large", "the body is larger than %zu bytes", max);
    return 1;
}

/* Answers 400 invalid_query when the query has a parameter the route does not read, or one twice (a client's typo or
 * a filter this route lacks would otherwise be ignored in silence, and the answer taken for a filtered one). */
static int query_refused(lb_call_t *call, const lb_route_t *route)
{
    h2o_req_t *req = call->req;
    const char *name;
    size_t len;
    if (req->query_at == SIZE_MAX)
        return 0;
    int found =
        lb_router_query_check(route->query, req->path.base + req->query_at + 1, req->path.len - req->query_at - 1, &name, &len);
    if (found == 0)
        return 0;
    int shown = len < 64 ? (int)len : 64;
    lb_input_error_t refusal = {0};
    if (found == LB_QUERY_REPEATED)
        lb_input_error(&refusal, 400, "invalid_query", "query parameter %.*s is given twice", shown, name);
    else if (route->query == NULL)
        lb_input_error(&refusal, 400, "invalid_query", "unknown query parameter %.*s: this route takes none", shown, name);
    else
        lb_input_error(&refusal, 400, "invalid_query", "unknown query parameter %.*s: this route takes %s", shown, name,
                       route->query);
    lb_reply_input_error(call, &refusal);
    return 1;
}

/*
 * Answers a request no route takes: OPTIONS on a path routes take (a preflight, livebuy/http/cors.h), 405 with Allow for
 * another method there, else 404. A sandbox path without --payment-sandbox is no path.
 */
static void answer_unrouted(const lb_http_handler_t *handler, lb_call_t *call, int route, const char *path, size_t path_len)
{
    h2o_req_t *req = call->req;
    char allow[128];
    unsigned flags;
    call->route = handler->num_routes; /* the "unmatched" label */
    if (route == LB_EMETHOD &&
        lb_router_allow(handler->routes, handler->num_routes, path, path_len, allow, sizeof(allow), &flags) != 0 &&
        ((flags & LB_ROUTE_SANDBOX) == 0 || call->config->payment_sandbox)) {
        if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("OPTIONS"))) {
            call->route = (size_t)lb_router_first(handler->routes, handler->num_routes, path, path_len);
            lb_cors_preflight(call, allow, flags);
            return;
        }
        lb_call_add_header_copy(call, "allow", allow);
        lb_reply_error(call, 405, "method_not_allowed", "%.*s is not allowed here: %s only", (int)req->method.len, req->method.base,
                       allow);
        return;
    }
    lb_reply_error(call, 404, "not_found", "no route for %.*s", (int)(path_len < 200 ? path_len : 200), path);
}

/* h2o's entry point for every request: route, decode, hand to the handler. */
static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    const lb_http_handler_t *handler = (const lb_http_handler_t *)self;
    const lb_route_t *routes = handler->routes;
    lb_call_t *call = lb_call_new(handler, req);

    const char *path = req->path_normalized.base;
    size_t path_len = req->path_normalized.len;
    int64_t ids[LB_ROUTE_MAX_IDS];
    int route = lb_router_match(routes, handler->num_routes, req->method.base, req->method.len, path, path_len, ids);
    call->id = ids[0];
    call->sub_id = ids[1];
    if (route >= 0 && (routes[route].flags & LB_ROUTE_SANDBOX) != 0 && !call->config->payment_sandbox)
        route = LB_ENOTFOUND;
    if (route < 0) {
        answer_unrouted(handler, call, route, path, path_len);
        return 0;
    }
    call->route = (size_t)route;
    call->route_flags = routes[route].flags;
    if (body_too_large(call, req, (routes[route].flags & LB_ROUTE_UPLOAD) != 0 ? LB_UPLOAD_MAX_BODY : call->config->max_body))
        return 0;
    if (query_refused(call, &routes[route]))
        return 0;
    if ((routes[route].flags & LB_ROUTE_BODY) != 0 && lb_call_read_body(call) != 0)
        return 0;
    if ((routes[route].flags & LB_ROUTE_PUBLIC) != 0 && answer_from_public_cache(call) == 0)
        return 0;
    routes[route].handler(call);
    return 0;
}

lb_http_handler_t *lb_call_register(h2o_pathconf_t *path, const lb_config_t *config, const lb_route_t *routes, size_t num_routes)
{
    lb_http_handler_t *handler = (lb_http_handler_t *)h2o_create_handler(path, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->config = config;
    handler->routes = routes;
    handler->num_routes = num_routes;
    return handler;
}

void *lb_call_job_new(lb_call_t *call, size_t size)
{
    assert(size >= sizeof(lb_call_job_t));
    lb_call_job_t *job = lb_calloc(1, size);
    job->call = call;
    lb_writer_init(&job->answer, call->answer_format);
    ++call->refs;
    return job;
}

static int call_job_work(lb_db_job_t *db_job, lb_db_t *db)
{
    lb_call_job_t *job = H2O_STRUCT_FROM_MEMBER(lb_call_job_t, db, db_job);
    /* A retried transaction starts from scratch: forget what the failed attempt prepared. */
    free(job->answer.out.bytes);
    lb_writer_init(&job->answer, job->call->answer_format);
    job->status = 0;
    return job->work(job, db);
}

void lb_call_job_discard(lb_call_job_t *job)
{
    free(job->answer.out.bytes);
    lb_call_release(job->call);
    free(job);
}

/* ---- Admission to the database pool (livebuy/http/call.h, lb_call_job_submit) ------------------------------------ */

#define ADMISSION_TICK_MS 250

static unsigned admission_max_out = 3;
static size_t admission_max_waiting = 4096;
static uint64_t admission_wait_ns = 5000000000ull;
static _Thread_local unsigned calls_out;     /* this loop thread's call jobs in the pool, not those submitted first */
static _Thread_local size_t num_waiting;
static _Thread_local lb_call_job_t *waiting_head, *waiting_last; /* in arrival order */
static _Thread_local uv_timer_t *admission_timer; /* answers those that waited too long; unreferenced, as lanes.c's */

static void call_job_done(lb_db_job_t *db_job, int status);
static void call_job_done_first(lb_db_job_t *db_job, int status);

void lb_call_admission(unsigned max_out, size_t max_waiting, unsigned wait_ms)
{
    admission_max_out = max_out != 0 ? max_out : 1;
    admission_max_waiting = max_waiting;
    admission_wait_ns = (uint64_t)wait_ms * 1000000;
}

static lb_call_job_t *take_waiting(void)
{
    lb_call_job_t *job = waiting_head;
    if ((waiting_head = job->next_waiting) == NULL)
        waiting_last = NULL;
    job->next_waiting = NULL;
    --num_waiting;
    lb_metrics_calls_waiting(-1);
    return job;
}

static void refuse_call(lb_call_job_t *job, const char *why)
{
    lb_metrics_call_refused();
    lb_reply_error(job->call, 503, "unavailable", "the database is busy: %s; retry after Retry-After", why);
    lb_call_job_discard(job);
}

static void on_admission_tick(uv_timer_t *timer)
{
    (void)timer;
    uint64_t now = lb_monotonic_ns();
    while (waiting_head != NULL && admission_wait_ns != 0 && now - waiting_head->waiting_since_ns >= admission_wait_ns)
        refuse_call(take_waiting(), "this request waited too long for it");
}

/* Sends the calls that wait while this thread may have more out. */
static void admit_waiting(void)
{
    while (waiting_head != NULL && calls_out < admission_max_out) {
        lb_call_job_t *job = take_waiting();
        ++calls_out;
        lb_db_submit(job->call->loop, &job->db, call_job_work, call_job_done);
    }
}

void lb_call_job_submit(lb_call_job_t *job, lb_call_work_cb work)
{
    job->work = work;
    if (calls_out < admission_max_out && waiting_head == NULL) {
        ++calls_out;
        lb_db_submit(job->call->loop, &job->db, call_job_work, call_job_done);
        return;
    }
    if (num_waiting >= admission_max_waiting) {
        refuse_call(job, "too many requests wait for it");
        return;
    }
    if (admission_timer == NULL) {
        admission_timer = lb_malloc(sizeof(*admission_timer));
        uv_timer_init(job->call->loop, admission_timer);
        uv_timer_start(admission_timer, on_admission_tick, ADMISSION_TICK_MS, ADMISSION_TICK_MS);
        uv_unref((uv_handle_t *)admission_timer);
    }
    job->waiting_since_ns = lb_monotonic_ns();
    if (waiting_last != NULL)
        waiting_last->next_waiting = job;
    else
        waiting_head = job;
    waiting_last = job;
    ++num_waiting;
    lb_metrics_calls_waiting(1);
}

void lb_call_job_submit_first(lb_call_job_t *job, lb_call_work_cb work)
{
    job->work = work;
    lb_db_submit(job->call->loop, &job->db, call_job_work, call_job_done_first);
}

static void answer_call_job(lb_call_job_t *job, int status);

static void call_job_done(lb_db_job_t *db_job, int status)
{
    --calls_out;
    answer_call_job(H2O_STRUCT_FROM_MEMBER(lb_call_job_t, db, db_job), status);
    admit_waiting();
}

static void call_job_done_first(lb_db_job_t *db_job, int status)
{
    answer_call_job(H2O_STRUCT_FROM_MEMBER(lb_call_job_t, db, db_job), status);
}

static void answer_call_job(lb_call_job_t *job, int status)
{
    lb_call_t *call = job->call;
    if (status == 0 && job->start_stream != NULL) {
        if (call->req != NULL && !call->answered)
            job->start_stream(call);
    } else if (status == 0) {
        if (job->on_done != NULL)
            job->on_done(job);
        int answer_status = job->status != 0 ? job->status : 200;
        if (job->answer_type != NULL) {
            lb_reply_raw(call, answer_status, job->answer_type, job->answer.out.bytes, job->answer.out.len);
        } else {
            if (job->answer.out.len == 0) {
                lb_writer_map(&job->answer, NULL);
                lb_writer_end(&job->answer);
            }
            lb_reply_written(call, answer_status, &job->answer);
            job->answer.out.bytes = NULL;
        }
    } else if (status == LB_EINPUT) {
        lb_reply_error(call, job->error.status, job->error.code, "%s", job->error.message); /* the credential was checked */
    } else {
        lb_reply_failure(call, status);
    }
    lb_call_job_discard(job);
}

int lb_call_job_fail(lb_call_job_t *job, int status, const char *code, const char *fmt, ...)
{
    va_list args;
    job->error.status = status;
    job->error.code = code;
    va_start(args, fmt);
    vsnprintf(job->error.message, sizeof(job->error.message), fmt, args);
    va_end(args);
    return LB_EINPUT;
}

lb_writer_t *lb_call_job_answer(lb_call_job_t *job, int status)
{
    free(job->answer.out.bytes);
    lb_writer_init(&job->answer, job->call->answer_format);
    job->status = status;
    return &job->answer;
}
