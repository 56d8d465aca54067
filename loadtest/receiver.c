/*
 * The shipping receiver (--receiver PORT): a small HTTP/1.1 server on its own thread and libuv loop that takes
 * livebuyd's shipment pushes. Each push must carry a valid X-Livebuy-Signature (HMAC-SHA256 of "TIMESTAMP.BODY" under
 * the shipping secret) and an Idempotency-Key; it is answered 200 and recorded: the key's body (a repeat with other
 * content is a violation) and the orders it hands over (an order in two shipments is one too).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "livebuy/common.h"
#include "livebuy/base/idmap.h"
#include "livebuy/base/token.h"
#include "h1parse.h"
#include "receiver.h"

#define MAX_REQUEST (1024 * 1024)

struct st_lb_receiver_t {
    pthread_t thread;
    pthread_mutex_t lock;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t stop;
    char *secret;
    /* under lock */
    lb_idmap_t shipments;    /* Idempotency-Key -> a 64-bit hash of its first body (never 0) */
    lb_idmap_t order_to_key; /* order id -> the shipment that handed it over */
    uint64_t pushes, bad, conflicts, twice;
    char first_problem[256];
};

typedef struct st_rconn_t {
    lb_receiver_t *receiver;
    uv_tcp_t tcp;
    char *buf;
    size_t len, cap;
} rconn_t;

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i != n; ++i)
        h = (h ^ (uint8_t)p[i]) * 1099511628211u;
    return h != 0 ? h : 1;
}

static void on_conn_closed(uv_handle_t *handle)
{
    rconn_t *c = handle->data;
    free(c->buf);
    free(c);
}

static void on_reply_written(uv_write_t *w, int status)
{
    free(w);
}

static void reply(rconn_t *c, int status)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
                      bad[] = "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
                      malformed[] = "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
    const char *text = status == 200 ? ok : status == 401 ? bad : malformed;
    uv_write_t *w = lb_malloc(sizeof(*w));
    uv_buf_t buf = uv_buf_init((char *)text, (unsigned)strlen(text));
    if (uv_write(w, (uv_stream_t *)&c->tcp, &buf, 1, on_reply_written) != 0)
        free(w);
}

static void problem(lb_receiver_t *r, const char *what)
{
    if (r->first_problem[0] == '\0')
        snprintf(r->first_problem, sizeof(r->first_problem), "%s", what);
}

/* One push: its status for the answer. */
static int take_push(lb_receiver_t *r, const char *head, size_t head_len, const char *body, size_t body_len)
{
    size_t ts_len = 0, sig_len = 0, key_len = 0;
    const char *ts = lb_h1_header(head, head_len, "x-livebuy-timestamp", &ts_len),
               *sig = lb_h1_header(head, head_len, "x-livebuy-signature", &sig_len),
               *key = lb_h1_header(head, head_len, "idempotency-key", &key_len);
    char timestamp[32], want[80], hex[65];
    pthread_mutex_lock(&r->lock);
    ++r->pushes;
    int status = 200;
    if (ts == NULL || sig == NULL || key == NULL || ts_len == 0 || ts_len >= sizeof(timestamp)) {
        ++r->bad;
        problem(r, "a push without X-Livebuy-Timestamp, X-Livebuy-Signature or Idempotency-Key");
        status = 401;
        goto Exit;
    }
    memcpy(timestamp, ts, ts_len);
    timestamp[ts_len] = '\0';
    lb_token_signature_hex(r->secret, timestamp, ts_len, body, body_len, hex);
    snprintf(want, sizeof(want), "sha256=%s", hex);
    if (sig_len != strlen(want) || memcmp(sig, want, sig_len) != 0) {
        ++r->bad;
        problem(r, "a push with a bad X-Livebuy-Signature");
        status = 401;
        goto Exit;
    }
    int64_t shipment = strtoll(key, NULL, 10);
    if (shipment <= 0) {
        ++r->bad;
        problem(r, "a push whose Idempotency-Key is not a shipment id");
        status = 400;
        goto Exit;
    }
    uint64_t h = hash_bytes(body, body_len);
    uintptr_t seen = (uintptr_t)lb_idmap_get(&r->shipments, shipment);
    if (seen != 0) {
        if (seen != (uintptr_t)h) {
            ++r->conflicts;
            problem(r, "a shipment key pushed again with other content");
        }
        goto Exit;
    }
    lb_idmap_set(&r->shipments, shipment, (void *)(uintptr_t)h);
    json_t *doc = json_loadb(body, body_len, 0, NULL), *id;
    size_t i;
    if (doc == NULL) {
        ++r->bad;
        problem(r, "a push whose body is not JSON (run livebuyd with the JSON shipping format)");
        status = 400;
        goto Exit;
    }
    json_array_foreach(json_object_get(doc, "orders"), i, id)
    {
        int64_t order = json_integer_value(id);
        intptr_t before = (intptr_t)lb_idmap_get(&r->order_to_key, order);
        if (before != 0 && before != (intptr_t)shipment)
            ++r->twice;
        else
            lb_idmap_set(&r->order_to_key, order, (void *)(intptr_t)shipment);
    }
    json_decref(doc);
Exit:
    pthread_mutex_unlock(&r->lock);
    return status;
}

/* Parses the pushes in c->buf; returns -1 when the connection must go. */
static int parse(rconn_t *c)
{
    for (;;) {
        const char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (end == NULL)
            return c->len > 65536 ? -1 : 0;
        size_t head_len = (size_t)(end - c->buf) + 4, cl_len = 0;
        const char *cl = lb_h1_header(c->buf, head_len, "content-length", &cl_len);
        size_t body_len = cl != NULL ? strtoul(cl, NULL, 10) : 0;
        if (body_len > MAX_REQUEST)
            return -1;
        if (c->len - head_len < body_len)
            return 0;
        int status = strncmp(c->buf, "POST ", 5) == 0 ? take_push(c->receiver, c->buf, head_len, c->buf + head_len, body_len) : 400;
        reply(c, status);
        size_t used = head_len + body_len;
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
    }
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    rconn_t *c = handle->data;
    if (c->cap - c->len < 16384) {
        c->cap = c->cap != 0 ? c->cap * 2 : 32768;
        c->buf = lb_realloc(c->buf, c->cap);
    }
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    rconn_t *c = stream->data;
    if (nread < 0) {
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    c->len += (size_t)nread;
    if (parse(c) != 0)
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
    lb_receiver_t *r = server->data;
    if (status != 0)
        return;
    rconn_t *c = lb_calloc(1, sizeof(*c));
    c->receiver = r;
    uv_tcp_init(&r->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void close_any(uv_handle_t *handle, void *arg)
{
    if (!uv_is_closing(handle))
        uv_close(handle, handle->type == UV_TCP && handle->data != arg ? on_conn_closed : NULL);
}

static void on_stop(uv_async_t *async)
{
    lb_receiver_t *r = async->data;
    uv_walk(&r->loop, close_any, r);
}

static void *run_thread(void *arg)
{
    lb_receiver_t *r = arg;
    uv_run(&r->loop, UV_RUN_DEFAULT);
    return NULL;
}

lb_receiver_t *lb_receiver_start(unsigned port, const char *secret)
{
    lb_receiver_t *r = lb_calloc(1, sizeof(*r));
    struct sockaddr_in addr;
    r->secret = lb_strdup(secret);
    pthread_mutex_init(&r->lock, NULL);
    uv_loop_init(&r->loop);
    uv_tcp_init(&r->loop, &r->listener);
    r->listener.data = r;
    uv_async_init(&r->loop, &r->stop, on_stop);
    r->stop.data = r;
    uv_ip4_addr("127.0.0.1", (int)port, &addr);
    int ret = uv_tcp_bind(&r->listener, (const struct sockaddr *)&addr, 0);
    if (ret == 0)
        ret = uv_listen((uv_stream_t *)&r->listener, 256, on_connection);
    if (ret != 0) {
        fprintf(stderr, "livebuy-load: --receiver %u: %s\n", port, uv_strerror(ret));
        on_stop(&r->stop);
        uv_run(&r->loop, UV_RUN_DEFAULT);
        uv_loop_close(&r->loop);
        free(r->secret);
        free(r);
        return NULL;
    }
    pthread_create(&r->thread, NULL, run_thread, r);
    return r;
}

int lb_receiver_has_order(lb_receiver_t *r, int64_t order_id)
{
    pthread_mutex_lock(&r->lock);
    int has = lb_idmap_get(&r->order_to_key, order_id) != NULL;
    pthread_mutex_unlock(&r->lock);
    return has;
}

void lb_receiver_stats(lb_receiver_t *r, lb_receiver_stats_t *stats)
{
    pthread_mutex_lock(&r->lock);
    stats->pushes = r->pushes;
    stats->shipments = r->shipments.size;
    stats->bad = r->bad;
    stats->conflicts = r->conflicts;
    stats->orders_twice = r->twice;
    snprintf(stats->first_problem, sizeof(stats->first_problem), "%s", r->first_problem);
    pthread_mutex_unlock(&r->lock);
}

void lb_receiver_stop(lb_receiver_t *r)
{
    if (r == NULL)
        return;
    uv_async_send(&r->stop);
    pthread_join(r->thread, NULL);
    uv_loop_close(&r->loop);
    lb_idmap_dispose(&r->shipments);
    lb_idmap_dispose(&r->order_to_key);
    pthread_mutex_destroy(&r->lock);
    free(r->secret);
    free(r);
}
