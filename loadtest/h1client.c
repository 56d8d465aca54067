/*
 * The non-blocking HTTP/1.1 client (--http1): keep-alive connections on libuv, one request at a time on each (no
 * pipelining, as browsers and most HTTP/1.1 clients do). Requests beyond the idle connections wait in one queue, first
 * come first served. Answers with Content-Length or chunked bodies.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "livebuy/common.h"
#include "h1client.h"

#define HEAD_MAX (8 * 1024)

typedef struct st_h1_conn_t {
    lb_h1_client_t *client;
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    int up, writing;
    lb_h2_request_t *req;           /* the request on the wire */
    struct st_h1_conn_t *next_idle; /* in the idle stack */
    char *buf;                      /* what was read and not yet parsed */
    size_t len, cap;
    char head[HEAD_MAX];
} h1_conn_t;

/* A request head written while the connection's own buffer is still in a write (rare): its own copy. */
typedef struct st_h1_extra_write_t {
    uv_write_t write;
    char head[];
} h1_extra_write_t;

struct st_lb_h1_client_t {
    uv_loop_t *loop;
    h1_conn_t *conns;
    size_t num_conns, pending_connects, in_flight, num_open_handles, num_up, queued;
    h1_conn_t *idle;
    lb_h2_request_t *queue_head, *queue_tail;
    char host[300];
    lb_h1_ready_cb on_ready;
    void *data;
    int closing;
};

static void release_handle(lb_h1_client_t *client)
{
    if (--client->num_open_handles != 0 || !client->closing)
        return;
    for (size_t i = 0; i != client->num_conns; ++i)
        free(client->conns[i].buf);
    free(client->conns);
    free(client);
}

static void on_tcp_closed(uv_handle_t *handle)
{
    release_handle(((h1_conn_t *)handle->data)->client);
}

static void fail_all_queued(lb_h1_client_t *client)
{
    while (client->queue_head != NULL) {
        lb_h2_request_t *req = client->queue_head;
        client->queue_head = req->next;
        --client->queued;
        lb_h2_request_answer(req, -1);
    }
    client->queue_tail = NULL;
}

static void fail_conn(h1_conn_t *conn, const char *why)
{
    lb_h1_client_t *client = conn->client;
    if (!conn->up)
        return;
    if (!client->closing)
        fprintf(stderr, "livebuy-load: an HTTP/1.1 connection failed: %s\n", why);
    conn->up = 0;
    --client->num_up;
    /* off the idle stack */
    for (h1_conn_t **p = &client->idle; *p != NULL; p = &(*p)->next_idle)
        if (*p == conn) {
            *p = conn->next_idle;
            break;
        }
    uv_close((uv_handle_t *)&conn->tcp, on_tcp_closed);
    if (conn->req != NULL) {
        lb_h2_request_t *req = conn->req;
        conn->req = NULL;
        --client->in_flight;
        lb_h2_request_answer(req, -1);
    }
    if (client->num_up == 0)
        fail_all_queued(client);
}

static void on_written(uv_write_t *write, int status)
{
    h1_conn_t *conn = write->data;
    if (write == &conn->write)
        conn->writing = 0;
    else
        free(write);
    if (status != 0)
        fail_conn(conn, uv_strerror(status));
}

static void send_on(h1_conn_t *conn, lb_h2_request_t *req)
{
    lb_h1_client_t *client = conn->client;
    char *head = conn->head;
    h1_extra_write_t *extra = NULL;
    if (conn->writing) {
        extra = lb_malloc(sizeof(*extra) + HEAD_MAX);
        head = extra->head;
    }
    int n = snprintf(head, HEAD_MAX, "%s %s HTTP/1.1\r\nhost: %s\r\n", req->method, req->path, client->host);
    for (size_t i = 0; i != req->num_headers && n < HEAD_MAX; ++i)
        n += snprintf(head + n, HEAD_MAX - (size_t)n, "%s: %s\r\n", req->header_names[i], req->header_values[i]);
    if (n < HEAD_MAX && req->body != NULL)
        n += snprintf(head + n, HEAD_MAX - (size_t)n, "content-length: %zu\r\n", req->body_len);
    if (n < HEAD_MAX)
        n += snprintf(head + n, HEAD_MAX - (size_t)n, "\r\n");
    req->answer_len = 0;
    req->retry_after = 0;
    req->status = 0;
    if (n >= HEAD_MAX) {
        free(extra);
        lb_h2_request_answer(req, -1);
        return;
    }
    conn->req = req;
    ++client->in_flight;
    uv_buf_t bufs[2] = {uv_buf_init(head, (unsigned)n),
                        uv_buf_init((char *)(req->body != NULL ? req->body : ""), (unsigned)req->body_len)};
    uv_write_t *w = extra != NULL ? &extra->write : &conn->write;
    w->data = conn;
    if (extra == NULL)
        conn->writing = 1;
    int ret = uv_write(w, (uv_stream_t *)&conn->tcp, bufs, req->body != NULL ? 2 : 1, on_written);
    if (ret != 0) {
        if (extra != NULL)
            free(extra);
        else
            conn->writing = 0;
        fail_conn(conn, uv_strerror(ret));
    }
}

/* The next queued request on an idle connection, or the connection back on the idle stack. */
static void conn_idle(h1_conn_t *conn)
{
    lb_h1_client_t *client = conn->client;
    if (!conn->up)
        return;
    if (client->queue_head != NULL) {
        lb_h2_request_t *req = client->queue_head;
        if ((client->queue_head = req->next) == NULL)
            client->queue_tail = NULL;
        --client->queued;
        req->next = NULL;
        send_on(conn, req);
        return;
    }
    conn->next_idle = client->idle;
    client->idle = conn;
}

void lb_h1_client_submit(lb_h1_client_t *client, lb_h2_request_t *req)
{
    req->prev = req->next = NULL;
    if (client->idle != NULL) {
        h1_conn_t *conn = client->idle;
        client->idle = conn->next_idle;
        send_on(conn, req);
        return;
    }
    if (client->num_up == 0) {
        lb_h2_request_answer(req, -1);
        return;
    }
    if (client->queue_tail != NULL)
        client->queue_tail->next = req;
    else
        client->queue_head = req;
    client->queue_tail = req;
    ++client->queued;
}

static void set_answer(lb_h2_request_t *req, const char *data, size_t len)
{
    if (len + 1 > req->answer_cap) {
        req->answer_cap = (len + 1) * 2;
        req->answer = lb_realloc(req->answer, req->answer_cap);
    }
    memcpy(req->answer, data, len);
    req->answer[len] = '\0';
    req->answer_len = len;
}

/* A header's value (up to the end of its line) when the head has it, else NULL. */
static const char *find_header(const char *head, size_t head_len, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *p = head, *end = head + head_len; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            break;
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                ++v;
            return v;
        }
        p = eol + 1;
    }
    return NULL;
}

/* Decodes a chunked body from data; returns the bytes used (0: incomplete, -1: malformed) and the body in req. */
static ssize_t parse_chunked(lb_h2_request_t *req, const char *data, size_t len)
{
    size_t at = 0;
    req->answer_len = 0;
    for (;;) {
        const char *eol = memmem(data + at, len - at, "\r\n", 2);
        if (eol == NULL)
            return 0;
        char *end;
        size_t chunk = strtoul(data + at, &end, 16);
        if (end == data + at)
            return -1;
        at = (size_t)(eol - data) + 2;
        if (chunk == 0)
            return len - at >= 2 ? (ssize_t)(at + 2) : 0; /* no trailers from our server */
        if (len - at < chunk + 2)
            return 0;
        size_t have = req->answer_len;
        if (have + chunk + 1 > req->answer_cap) {
            req->answer_cap = (have + chunk + 1) * 2;
            req->answer = lb_realloc(req->answer, req->answer_cap);
        }
        memcpy(req->answer + have, data + at, chunk);
        req->answer_len = have + chunk;
        req->answer[req->answer_len] = '\0';
        at += chunk + 2;
    }
}

/* Parses the answers in conn->buf; returns -1 when the connection must go. */
static int parse(h1_conn_t *conn)
{
    lb_h1_client_t *client = conn->client;
    while (conn->len != 0) {
        lb_h2_request_t *req = conn->req;
        if (req == NULL)
            return -1; /* bytes nobody asked for */
        const char *end = memmem(conn->buf, conn->len, "\r\n\r\n", 4);
        if (end == NULL)
            return conn->len > HEAD_MAX * 4 ? -1 : 0;
        size_t head_len = (size_t)(end - conn->buf) + 4;
        int status = 0;
        if (conn->len < 12 || memcmp(conn->buf, "HTTP/1.", 7) != 0 || (status = atoi(conn->buf + 9)) <= 0)
            return -1;
        const char *cl = find_header(conn->buf, head_len, "content-length"),
                   *te = find_header(conn->buf, head_len, "transfer-encoding");
        const char *ra = find_header(conn->buf, head_len, "retry-after"), *co = find_header(conn->buf, head_len, "connection");
        size_t used;
        if (te != NULL && strncasecmp(te, "chunked", 7) == 0) {
            ssize_t n = parse_chunked(req, conn->buf + head_len, conn->len - head_len);
            if (n < 0)
                return -1;
            if (n == 0)
                return 0;
            used = head_len + (size_t)n;
        } else {
            size_t body_len = cl != NULL ? strtoul(cl, NULL, 10) : 0;
            if (conn->len - head_len < body_len)
                return 0;
            set_answer(req, conn->buf + head_len, body_len);
            used = head_len + body_len;
        }
        req->retry_after = ra != NULL ? (unsigned)strtoul(ra, NULL, 10) : 0;
        int closing = co != NULL && strncasecmp(co, "close", 5) == 0;
        memmove(conn->buf, conn->buf + used, conn->len - used);
        conn->len -= used;
        conn->req = NULL;
        --client->in_flight;
        lb_h2_request_answer(req, status);
        if (closing)
            return -1;
        conn_idle(conn);
        if (!conn->up)
            return 0;
    }
    return 0;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    h1_conn_t *conn = handle->data;
    if (conn->cap - conn->len < 16384) {
        conn->cap = conn->cap != 0 ? conn->cap * 2 : 65536;
        conn->buf = lb_realloc(conn->buf, conn->cap);
    }
    *buf = uv_buf_init(conn->buf + conn->len, (unsigned)(conn->cap - conn->len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    h1_conn_t *conn = stream->data;
    if (nread < 0) {
        fail_conn(conn, nread == UV_EOF ? "closed by the server" : uv_strerror((int)nread));
        return;
    }
    conn->len += (size_t)nread;
    if (parse(conn) != 0)
        fail_conn(conn, "the server closed the connection or answered out of turn");
}

static void on_connect(uv_connect_t *connect, int status)
{
    h1_conn_t *conn = connect->data;
    lb_h1_client_t *client = conn->client;
    if (status == 0) {
        uv_tcp_nodelay(&conn->tcp, 1);
        conn->up = 1;
        ++client->num_up;
        uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read);
        conn_idle(conn);
    } else {
        fprintf(stderr, "livebuy-load: cannot connect: %s\n", uv_strerror(status));
        uv_close((uv_handle_t *)&conn->tcp, on_tcp_closed);
    }
    if (--client->pending_connects == 0)
        client->on_ready(client, client->num_up != 0);
}

lb_h1_client_t *lb_h1_client_new(uv_loop_t *loop, const char *host, const char *port, size_t num_connections,
                                 lb_h1_ready_cb on_ready, void *data)
{
    struct addrinfo *res = lb_load_resolve(host, port);
    if (res == NULL)
        return NULL;
    lb_h1_client_t *client = lb_calloc(1, sizeof(*client));
    client->loop = loop;
    client->num_conns = num_connections;
    client->on_ready = on_ready;
    client->data = data;
    snprintf(client->host, sizeof(client->host), "%s:%s", host, port);
    client->conns = lb_calloc(num_connections, sizeof(*client->conns));
    client->pending_connects = num_connections;
    client->num_open_handles = num_connections;
    for (size_t i = 0; i != num_connections; ++i) {
        h1_conn_t *conn = &client->conns[i];
        conn->client = client;
        if (lb_load_connect(loop, &conn->tcp, &conn->connect, conn, res, on_connect, on_tcp_closed) != 0 &&
            --client->pending_connects == 0)
            on_ready(client, client->num_up != 0);
    }
    freeaddrinfo(res);
    return client;
}

void *lb_h1_client_data(lb_h1_client_t *client)
{
    return client->data;
}

size_t lb_h1_client_queued(const lb_h1_client_t *client)
{
    return client->queued;
}

void lb_h1_client_close(lb_h1_client_t *client)
{
    client->closing = 1;
    /* Kept alive until every handle is closed, even if all close at once below. */
    ++client->num_open_handles;
    for (size_t i = 0; i != client->num_conns; ++i)
        fail_conn(&client->conns[i], "closing");
    fail_all_queued(client);
    release_handle(client);
}
