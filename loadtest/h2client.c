/*
 * The HTTP/2 client: one nghttp2 session per libuv TCP handle. Frames nghttp2 produces during a loop iteration are
 * written once, by a prepare handle, just before the loop waits again: one write per connection per iteration.
 * A connection that breaks (a server restarted, a load balancer's idle cut) is made again after a pause that doubles
 * from 100 ms to 2 s; its requests in flight are answered as network errors (the scenario retries them).
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nghttp2/nghttp2.h>
#include "livebuy/common.h"
#include "h2client.h"

#define READ_BUFFER_SIZE (256 * 1024)
#define WINDOW_SIZE      (16 * 1024 * 1024)
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 2000

typedef struct st_connection_t {
    lb_h2_client_t *client;
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_timer_t reconnect;
    unsigned reconnect_ms; /* the pause before the next try; 0 while the connection is up */
    nghttp2_session *session;
    int up, dirty, tcp_open;
    size_t streams;          /* requests on the wire */
    lb_h2_request_t *flying; /* their list */
    struct st_connection_t *next_dirty;
} connection_t;

typedef struct st_write_t {
    uv_write_t write;
    size_t len;
    uint8_t data[];
} write_t;

/*
 * nghttp2's allocations (streams, frames, header copies) come and go by the thousand per loop iteration: a free list
 * per power-of-two size class up to 4 KB keeps them off malloc's slow paths. Each block starts with its class.
 */
#define MEM_CLASSES   9 /* 16 B .. 4 KB */
#define MEM_MIN_SHIFT 4
#define MEM_HEADER    16

typedef struct st_mem_block_t {
    struct st_mem_block_t *next;
} mem_block_t;

typedef struct st_mem_pool_t {
    mem_block_t *free[MEM_CLASSES];
} mem_pool_t;

static size_t size_class(size_t size)
{
    size_t c = 0;
    while (((size_t)1 << (c + MEM_MIN_SHIFT)) < size)
        ++c;
    return c;
}

static void *mem_malloc(size_t size, void *data)
{
    mem_pool_t *pool = data;
    size_t c = size_class(size);
    uint8_t *p;
    if (c >= MEM_CLASSES) {
        p = lb_malloc(size + MEM_HEADER);
    } else if (pool->free[c] != NULL) {
        p = (uint8_t *)pool->free[c];
        pool->free[c] = pool->free[c]->next;
    } else {
        p = lb_malloc(((size_t)1 << (c + MEM_MIN_SHIFT)) + MEM_HEADER);
    }
    *(size_t *)p = c;
    return p + MEM_HEADER;
}

static void mem_free(void *ptr, void *data)
{
    mem_pool_t *pool = data;
    if (ptr == NULL)
        return;
    uint8_t *p = (uint8_t *)ptr - MEM_HEADER;
    size_t c = *(size_t *)p;
    if (c >= MEM_CLASSES) {
        free(p);
        return;
    }
    ((mem_block_t *)p)->next = pool->free[c];
    pool->free[c] = (mem_block_t *)p;
}

static void *mem_calloc(size_t n, size_t size, void *data)
{
    void *p = mem_malloc(n * size, data);
    memset(p, 0, n * size);
    return p;
}

static void *mem_realloc(void *ptr, size_t size, void *data)
{
    if (ptr == NULL)
        return mem_malloc(size, data);
    size_t c = *(size_t *)((uint8_t *)ptr - MEM_HEADER), have = c < MEM_CLASSES ? (size_t)1 << (c + MEM_MIN_SHIFT) : 0;
    if (c >= MEM_CLASSES) {
        uint8_t *p = lb_realloc((uint8_t *)ptr - MEM_HEADER, size + MEM_HEADER);
        *(size_t *)p = size_class(size) >= MEM_CLASSES ? size_class(size) : MEM_CLASSES;
        return p + MEM_HEADER;
    }
    if (size <= have)
        return ptr;
    void *q = mem_malloc(size, data);
    memcpy(q, ptr, have);
    mem_free(ptr, data);
    return q;
}

static void mem_pool_dispose(mem_pool_t *pool)
{
    for (size_t c = 0; c != MEM_CLASSES; ++c)
        while (pool->free[c] != NULL) {
            mem_block_t *b = pool->free[c];
            pool->free[c] = b->next;
            free(b);
        }
}

struct st_lb_h2_client_t {
    uv_loop_t *loop;
    mem_pool_t pool;
    nghttp2_mem mem;
    nghttp2_option *options;
    connection_t *hint; /* the connection that freed a stream last */
    uv_prepare_t flusher;
    connection_t *connections;
    size_t num_connections, max_streams, pending_connects, round_robin, in_flight, num_open_handles, num_up;
    lb_h2_request_t *queue_head, *queue_tail;
    size_t queued;
    connection_t *dirty;
    struct addrinfo *addr; /* the server's, for connecting again */
    lb_h2_ready_cb on_ready;
    void *data;
    int closing, ready;
    char read_buffer[READ_BUFFER_SIZE];
};

static void mark_dirty(connection_t *conn)
{
    if (!conn->dirty) {
        conn->dirty = 1;
        conn->next_dirty = conn->client->dirty;
        conn->client->dirty = conn;
    }
}

void lb_h2_request_answer(lb_h2_request_t *req, int status)
{
    req->status = status;
    req->on_response(req, status, req->answer != NULL ? req->answer : "", req->answer_len);
}

struct addrinfo *lb_load_resolve(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    int ret = getaddrinfo(host, port, &hints, &res);
    if (ret != 0) {
        fprintf(stderr, "livebuy-load: %s: %s\n", host, gai_strerror(ret));
        return NULL;
    }
    return res;
}

int lb_load_connect(uv_loop_t *loop, uv_tcp_t *tcp, uv_connect_t *connect, void *data, const struct addrinfo *addr,
                    uv_connect_cb on_connect, uv_close_cb on_closed)
{
    uv_tcp_init(loop, tcp);
    tcp->data = data;
    connect->data = data;
    int ret = uv_tcp_connect(connect, tcp, addr->ai_addr, on_connect);
    if (ret != 0) {
        fprintf(stderr, "livebuy-load: cannot connect: %s\n", uv_strerror(ret));
        uv_close((uv_handle_t *)tcp, on_closed);
    }
    return ret;
}

static void unlink_flying(connection_t *conn, lb_h2_request_t *req)
{
    if (req->prev != NULL)
        req->prev->next = req->next;
    else
        conn->flying = req->next;
    if (req->next != NULL)
        req->next->prev = req->prev;
    req->prev = req->next = NULL;
    --conn->streams;
    --conn->client->in_flight;
    conn->client->hint = conn;
}

static void release_handle(lb_h2_client_t *client)
{
    if (--client->num_open_handles != 0 || !client->closing)
        return;
    for (size_t i = 0; i != client->num_connections; ++i)
        if (client->connections[i].session != NULL)
            nghttp2_session_del(client->connections[i].session);
    free(client->connections);
    freeaddrinfo(client->addr);
    nghttp2_option_del(client->options);
    mem_pool_dispose(&client->pool);
    free(client);
}

static void on_reconnect(uv_timer_t *timer);

static void on_handle_closed(uv_handle_t *handle)
{
    release_handle(((connection_t *)handle->data)->client);
}

/* A connection's TCP handle is closed: the client is done with it, or it connects again after a pause. */
static void on_tcp_closed(uv_handle_t *handle)
{
    connection_t *conn = handle->data;
    conn->tcp_open = 0;
    if (conn->client->closing) {
        release_handle(conn->client);
        return;
    }
    conn->reconnect_ms = conn->reconnect_ms == 0                     ? RECONNECT_MIN_MS
                         : conn->reconnect_ms * 2 < RECONNECT_MAX_MS ? conn->reconnect_ms * 2
                                                                     : RECONNECT_MAX_MS;
    uv_timer_start(&conn->reconnect, on_reconnect, conn->reconnect_ms, 0);
}

static void fail_connection(connection_t *conn, const char *why)
{
    if (!conn->up)
        return;
    if (!conn->client->closing)
        fprintf(stderr, "livebuy-load: a connection failed: %s\n", why);
    conn->up = 0;
    --conn->client->num_up;
    while (conn->flying != NULL) {
        lb_h2_request_t *req = conn->flying;
        unlink_flying(conn, req);
        lb_h2_request_answer(req, -1);
    }
    uv_close((uv_handle_t *)&conn->tcp, on_tcp_closed);
}

static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length, uint32_t *flags,
                         nghttp2_data_source *source, void *user_data)
{
    lb_h2_request_t *req = source->ptr;
    size_t n = req->body_len - req->body_sent;
    if (n > length)
        n = length;
    memcpy(buf, req->body + req->body_sent, n);
    req->body_sent += n;
    if (req->body_sent == req->body_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* Names and values outlive the stream (the caller keeps req alive until on_response): nghttp2 need not copy them. */
#define NO_COPY (NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE)
#define NV(n, nlen, v, vlen, flags)                                                                                                \
    {                                                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), (nlen), (vlen), NO_COPY | (flags)                                                          \
    }

static void send_request(connection_t *conn, lb_h2_request_t *req)
{
    nghttp2_nv nva[4 + LB_H2_MAX_HEADERS] = {NV(":method", 7, req->method, strlen(req->method), 0), NV(":scheme", 7, "http", 4, 0),
                                             NV(":authority", 10, "livebuy", 7, 0),
                                             NV(":path", 5, req->path, strlen(req->path), 0)};
    size_t n = 4;
    /* Values that change per request (tokens of many buyers, idempotency keys) stay out of the HPACK table: indexing
     * them would only churn it. */
    for (size_t i = 0; i != req->num_headers; ++i)
        nva[n++] = (nghttp2_nv)NV(req->header_names[i], strlen(req->header_names[i]), req->header_values[i],
                                  strlen(req->header_values[i]), req->header_no_index & (1u << i) ? NGHTTP2_NV_FLAG_NO_INDEX : 0);
    nghttp2_data_provider provider = {.source.ptr = req, .read_callback = read_body};
    req->body_sent = 0;
    req->answer_len = 0;
    req->retry_after = 0;
    req->status = 0;
    int32_t stream = nghttp2_submit_request(conn->session, NULL, nva, n, req->body != NULL ? &provider : NULL, req);
    if (stream < 0) {
        lb_h2_request_answer(req, -1);
        return;
    }
    req->prev = NULL;
    req->next = conn->flying;
    if (conn->flying != NULL)
        conn->flying->prev = req;
    conn->flying = req;
    ++conn->streams;
    ++conn->client->in_flight;
    mark_dirty(conn);
}

/* A connection with a free stream, round robin; NULL when all are full. */
static connection_t *free_connection(lb_h2_client_t *client)
{
    connection_t *hint = client->hint;
    if (hint != NULL && hint->up && hint->streams < client->max_streams)
        return hint;
    for (size_t i = 0; i != client->num_connections; ++i) {
        connection_t *conn = &client->connections[client->round_robin++ % client->num_connections];
        if (conn->up && conn->streams < client->max_streams)
            return conn;
    }
    return NULL;
}

static int any_up(lb_h2_client_t *client)
{
    return client->num_up != 0;
}

static void drain_queue(lb_h2_client_t *client)
{
    connection_t *conn;
    if (client->queue_head == NULL)
        return;
    while (client->queue_head != NULL && (conn = free_connection(client)) != NULL) {
        lb_h2_request_t *req = client->queue_head;
        if ((client->queue_head = req->next) == NULL)
            client->queue_tail = NULL;
        --client->queued;
        req->next = NULL;
        send_request(conn, req);
    }
    if (!any_up(client)) {
        while (client->queue_head != NULL) {
            lb_h2_request_t *req = client->queue_head;
            client->queue_head = req->next;
            --client->queued;
            lb_h2_request_answer(req, -1);
        }
        client->queue_tail = NULL;
    }
}

void lb_h2_client_submit(lb_h2_client_t *client, lb_h2_request_t *req)
{
    connection_t *conn;
    req->prev = req->next = NULL;
    if (client->queue_head == NULL && (conn = free_connection(client)) != NULL) {
        send_request(conn, req);
        return;
    }
    if (client->queue_tail != NULL)
        client->queue_tail->next = req;
    else
        client->queue_head = req;
    client->queue_tail = req;
    ++client->queued;
    drain_queue(client);
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
    lb_h2_request_t *req = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (req == NULL || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0)
        req->status = (int)strtol((const char *)value, NULL, 10);
    else if (namelen == 11 && memcmp(name, "retry-after", 11) == 0)
        req->retry_after = (unsigned)strtoul((const char *)value, NULL, 10);
    return 0;
}

static int on_data(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len, void *user_data)
{
    lb_h2_request_t *req = nghttp2_session_get_stream_user_data(session, stream_id);
    if (req == NULL)
        return 0;
    if (req->answer_len + len + 1 > req->answer_cap) {
        req->answer_cap = (req->answer_len + len + 1) * 2;
        req->answer = lb_realloc(req->answer, req->answer_cap);
    }
    memcpy(req->answer + req->answer_len, data, len);
    req->answer_len += len;
    req->answer[req->answer_len] = '\0';
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
    connection_t *conn = user_data;
    lb_h2_request_t *req = nghttp2_session_get_stream_user_data(session, stream_id);
    if (req == NULL)
        return 0;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    unlink_flying(conn, req);
    lb_h2_request_answer(req, error_code == NGHTTP2_NO_ERROR && req->status > 0 ? req->status : -1);
    drain_queue(conn->client);
    return 0;
}

static void on_written(uv_write_t *write, int status)
{
    write_t *w = (write_t *)write;
    connection_t *conn = write->data;
    free(w);
    if (status != 0)
        fail_connection(conn, uv_strerror(status));
}

static void flush_connection(connection_t *conn)
{
    const uint8_t *data;
    ssize_t n;
    write_t *w = NULL;
    size_t cap = 0;
    conn->dirty = 0;
    if (!conn->up)
        return;
    while ((n = nghttp2_session_mem_send(conn->session, &data)) > 0) {
        size_t len = w != NULL ? w->len : 0;
        if (len + (size_t)n > cap) {
            cap = (len + (size_t)n) * 2 + 16384;
            w = lb_realloc(w, sizeof(*w) + cap);
            w->len = len;
        }
        memcpy(w->data + w->len, data, (size_t)n);
        w->len += (size_t)n;
    }
    if (n < 0) {
        free(w);
        fail_connection(conn, nghttp2_strerror((int)n));
        return;
    }
    if (w == NULL)
        return;
    uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)w->len);
    w->write.data = conn;
    int ret = uv_write(&w->write, (uv_stream_t *)&conn->tcp, &buf, 1, on_written);
    if (ret != 0) {
        free(w);
        fail_connection(conn, uv_strerror(ret));
    }
}

static void on_prepare(uv_prepare_t *prepare)
{
    lb_h2_client_t *client = prepare->data;
    while (client->dirty != NULL) {
        connection_t *conn = client->dirty;
        client->dirty = conn->next_dirty;
        flush_connection(conn);
    }
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    connection_t *conn = handle->data;
    *buf = uv_buf_init(conn->client->read_buffer, sizeof(conn->client->read_buffer));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    connection_t *conn = stream->data;
    if (nread < 0) {
        fail_connection(conn, nread == UV_EOF ? "closed by the server" : uv_strerror((int)nread));
        drain_queue(conn->client);
        return;
    }
    ssize_t used = nghttp2_session_mem_recv(conn->session, (const uint8_t *)buf->base, (size_t)nread);
    if (used < 0) {
        fail_connection(conn, nghttp2_strerror((int)used));
        drain_queue(conn->client);
        return;
    }
    mark_dirty(conn);
}

static void start_session(connection_t *conn)
{
    nghttp2_session_callbacks *callbacks;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
    nghttp2_session_client_new3(&conn->session, callbacks, conn, conn->client->options, &conn->client->mem);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}, {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, WINDOW_SIZE}};
    nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, settings, LB_ARRAY_SIZE(settings));
    nghttp2_session_set_local_window_size(conn->session, NGHTTP2_FLAG_NONE, 0, WINDOW_SIZE);
    conn->up = 1;
    ++conn->client->num_up;
    mark_dirty(conn);
}

static void on_connect(uv_connect_t *connect, int status)
{
    connection_t *conn = connect->data;
    lb_h2_client_t *client = conn->client;
    if (status == 0 && !client->closing) {
        uv_tcp_nodelay(&conn->tcp, 1);
        start_session(conn);
        uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read);
        if (conn->reconnect_ms != 0)
            fprintf(stderr, "livebuy-load: connected again\n");
        conn->reconnect_ms = 0;
        drain_queue(client);
    } else {
        if (status != UV_ECANCELED && conn->reconnect_ms == 0)
            fprintf(stderr, "livebuy-load: cannot connect: %s\n", uv_strerror(status));
        if (!uv_is_closing((uv_handle_t *)&conn->tcp))
            uv_close((uv_handle_t *)&conn->tcp, on_tcp_closed);
    }
    if (!client->ready && --client->pending_connects == 0) {
        client->ready = 1;
        client->on_ready(client, any_up(client));
    }
}

static void connect_again(connection_t *conn)
{
    lb_h2_client_t *client = conn->client;
    if (conn->session != NULL) {
        nghttp2_session_del(conn->session);
        conn->session = NULL;
    }
    conn->tcp_open = 1;
    if (lb_load_connect(client->loop, &conn->tcp, &conn->connect, conn, client->addr, on_connect, on_tcp_closed) != 0 &&
        !client->ready && --client->pending_connects == 0) {
        client->ready = 1;
        client->on_ready(client, any_up(client));
    }
}

static void on_reconnect(uv_timer_t *timer)
{
    connection_t *conn = timer->data;
    if (!conn->client->closing)
        connect_again(conn);
}

lb_h2_client_t *lb_h2_client_new(uv_loop_t *loop, const char *host, const char *port, size_t num_connections, size_t streams,
                                 lb_h2_ready_cb on_ready, void *data)
{
    struct addrinfo *res = lb_load_resolve(host, port);
    if (res == NULL)
        return NULL;
    lb_h2_client_t *client = lb_calloc(1, sizeof(*client));
    client->loop = loop;
    client->addr = res;
    client->num_connections = num_connections;
    client->max_streams = streams;
    client->on_ready = on_ready;
    client->data = data;
    client->connections = lb_calloc(num_connections, sizeof(*client->connections));
    client->mem = (nghttp2_mem){&client->pool, mem_malloc, mem_free, mem_calloc, mem_realloc};
    nghttp2_option_new(&client->options);
    /* The server is ours and trusted: no header validation on answers, no closed streams kept for priorities. */
    nghttp2_option_set_no_http_messaging(client->options, 1);
    nghttp2_option_set_no_closed_streams(client->options, 1);
    uv_prepare_init(loop, &client->flusher);
    client->flusher.data = client;
    uv_prepare_start(&client->flusher, on_prepare);
    client->pending_connects = num_connections;
    /* per connection: its TCP handle (open, or about to be again) and its reconnect timer; and the flusher */
    client->num_open_handles = 2 * num_connections + 1;
    for (size_t i = 0; i != num_connections; ++i) {
        connection_t *conn = &client->connections[i];
        conn->client = client;
        uv_timer_init(loop, &conn->reconnect);
        conn->reconnect.data = conn;
        connect_again(conn);
    }
    return client;
}

void *lb_h2_client_data(lb_h2_client_t *client)
{
    return client->data;
}

size_t lb_h2_client_in_flight(const lb_h2_client_t *client)
{
    return client->in_flight;
}

size_t lb_h2_client_queued(const lb_h2_client_t *client)
{
    return client->queued;
}

static void on_flusher_closed(uv_handle_t *handle)
{
    release_handle(handle->data);
}

void lb_h2_request_dispose(lb_h2_request_t *req)
{
    free(req->answer);
    req->answer = NULL;
    req->answer_len = req->answer_cap = 0;
}

void lb_h2_client_close(lb_h2_client_t *client)
{
    client->closing = 1;
    for (size_t i = 0; i != client->num_connections; ++i) {
        connection_t *conn = &client->connections[i];
        uv_close((uv_handle_t *)&conn->reconnect, on_handle_closed);
        if (conn->up) {
            nghttp2_session_terminate_session(conn->session, NGHTTP2_NO_ERROR);
            flush_connection(conn);
            fail_connection(conn, "closing");
        } else if (conn->tcp_open && !uv_is_closing((uv_handle_t *)&conn->tcp)) {
            uv_close((uv_handle_t *)&conn->tcp, on_tcp_closed); /* still connecting */
        } else if (!conn->tcp_open) {
            release_handle(client); /* waiting to connect again: its TCP handle is closed already */
        }
    }
    while (client->queue_head != NULL) {
        lb_h2_request_t *req = client->queue_head;
        client->queue_head = req->next;
        lb_h2_request_answer(req, -1);
    }
    client->queue_tail = NULL;
    client->queued = 0;
    uv_close((uv_handle_t *)&client->flusher, on_flusher_closed);
}
