/*
 * The HTTP/1.1 client: keep-alive connections on libuv, one request at a time on each (no pipelining, as browsers and
 * most HTTP/1.1 clients do). Requests beyond the idle connections wait in one queue, first come first served. A
 * request goes out with uv_try_write, straight from the loop callback that sends it (a queued write would cost an
 * epoll_ctl per request); only what the socket does not take at once is copied and queued. The answers are read by
 * h1parse.c. lb_h1_fetch runs a one-connection client on a loop of its own for the setup's and the check's calls.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "h1client.h"
#include "h1parse.h"

#define REQUEST_HEAD_MAX (8 * 1024)
#define FETCH_TIMEOUT_MS 30000
#define AFTER_PATH_MAX   300

typedef struct st_h1_conn_t {
    lb_h1_client_t *client;
    uv_tcp_t tcp;
    uv_connect_t connect;
    int up;
    lb_h2_request_t *req;           /* the request on the wire */
    struct st_h1_conn_t *next_idle; /* in the idle stack */
    char *buf;                      /* what was read and not yet taken */
    size_t len, cap;
    char head[REQUEST_HEAD_MAX]; /* the head of the request being sent */
} h1_conn_t;

/* What the socket did not take at once: a copy, written when it can be. */
typedef struct st_h1_write_t {
    uv_write_t write;
    char data[];
} h1_write_t;

struct st_lb_h1_client_t {
    uv_loop_t *loop;
    h1_conn_t *conns;
    size_t num_conns, pending_connects, num_open_handles, num_up, queued;
    h1_conn_t *idle;
    lb_h2_request_t *queue_head, *queue_tail;
    char after_path[AFTER_PATH_MAX]; /* " HTTP/1.1\r\nhost: HOST:PORT\r\n" */
    size_t after_path_len;
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

/* Closes conn, answering its request -1; says why on stderr unless why is NULL or the client is closing. */
static void close_conn(h1_conn_t *conn, const char *why)
{
    lb_h1_client_t *client = conn->client;
    if (!conn->up)
        return;
    if (why != NULL && !client->closing)
        fprintf(stderr, "livebuy-load: an HTTP/1.1 connection failed: %s\n", why);
    conn->up = 0;
    --client->num_up;
    for (h1_conn_t **p = &client->idle; *p != NULL; p = &(*p)->next_idle)
        if (*p == conn) {
            *p = conn->next_idle;
            break;
        }
    uv_close((uv_handle_t *)&conn->tcp, on_tcp_closed);
    if (conn->req != NULL) {
        lb_h2_request_t *req = conn->req;
        conn->req = NULL;
        lb_h2_request_answer(req, -1);
    }
    if (client->num_up == 0)
        fail_all_queued(client);
}

static void on_written(uv_write_t *write, int status)
{
    h1_conn_t *conn = write->data;
    free(write);
    if (status != 0)
        close_conn(conn, uv_strerror(status));
}

/* Queues what uv_try_write left of bufs (written bytes went out). */
static void write_rest(h1_conn_t *conn, const uv_buf_t *bufs, size_t nbufs, size_t written)
{
    size_t total = 0;
    for (size_t i = 0; i != nbufs; ++i)
        total += bufs[i].len;
    h1_write_t *w = lb_malloc(sizeof(*w) + total - written);
    size_t at = 0;
    for (size_t i = 0; i != nbufs; ++i) {
        size_t skip = written < bufs[i].len ? written : bufs[i].len;
        memcpy(w->data + at, bufs[i].base + skip, bufs[i].len - skip);
        at += bufs[i].len - skip;
        written -= skip;
    }
    uv_buf_t rest = uv_buf_init(w->data, (unsigned)at);
    w->write.data = conn;
    int ret = uv_write(&w->write, (uv_stream_t *)&conn->tcp, &rest, 1, on_written);
    if (ret != 0) {
        free(w);
        close_conn(conn, uv_strerror(ret));
    }
}

/* Appends n bytes of s to conn->head at *len; -1 when the head would be too long. */
static int put(h1_conn_t *conn, size_t *len, const char *s, size_t n)
{
    if (n > sizeof(conn->head) - *len)
        return -1;
    memcpy(conn->head + *len, s, n);
    *len += n;
    return 0;
}

/* Writes req's head into conn->head; its length, or 0 when it does not fit. */
static size_t format_head(h1_conn_t *conn, const lb_h2_request_t *req)
{
    lb_h1_client_t *client = conn->client;
    size_t len = 0;
    if (put(conn, &len, req->method, strlen(req->method)) != 0 || put(conn, &len, " ", 1) != 0 ||
        put(conn, &len, req->path, strlen(req->path)) != 0 || put(conn, &len, client->after_path, client->after_path_len) != 0)
        return 0;
    for (size_t i = 0; i != req->num_headers; ++i)
        if (put(conn, &len, req->header_names[i], strlen(req->header_names[i])) != 0 || put(conn, &len, ": ", 2) != 0 ||
            put(conn, &len, req->header_values[i], strlen(req->header_values[i])) != 0 || put(conn, &len, "\r\n", 2) != 0)
            return 0;
    if (req->body != NULL) {
        char line[48];
        int n = snprintf(line, sizeof(line), "content-length: %zu\r\n", req->body_len);
        if (put(conn, &len, line, (size_t)n) != 0)
            return 0;
    }
    return put(conn, &len, "\r\n", 2) == 0 ? len : 0;
}

static void conn_idle(h1_conn_t *conn);

static void send_on(h1_conn_t *conn, lb_h2_request_t *req)
{
    req->answer_len = 0;
    req->retry_after = 0;
    req->status = 0;
    size_t head_len = format_head(conn, req);
    if (head_len == 0) {
        lb_h2_request_answer(req, -1);
        conn_idle(conn);
        return;
    }
    conn->req = req;
    uv_buf_t bufs[2] = {uv_buf_init(conn->head, (unsigned)head_len),
                        uv_buf_init((char *)(req->body != NULL ? req->body : ""), (unsigned)req->body_len)};
    size_t nbufs = req->body_len != 0 ? 2 : 1;
    int written = uv_try_write((uv_stream_t *)&conn->tcp, bufs, (unsigned)nbufs);
    if (written == UV_EAGAIN)
        written = 0;
    if (written < 0)
        close_conn(conn, uv_strerror(written));
    else if ((size_t)written != head_len + req->body_len)
        write_rest(conn, bufs, nbufs, (size_t)written);
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

/* Answers the request on the wire with the answer at the start of conn->buf, then takes the next request. */
static void take_answer(h1_conn_t *conn, const lb_h1_response_t *res)
{
    lb_h2_request_t *req = conn->req;
    if (res->body_len + 1 > req->answer_cap) {
        req->answer_cap = (res->body_len + 1) * 2;
        req->answer = lb_realloc(req->answer, req->answer_cap);
    }
    lb_h1_response_body(conn->buf, res, req->answer);
    req->answer[res->body_len] = '\0';
    req->answer_len = res->body_len;
    req->retry_after = res->retry_after;
    conn->len -= res->wire_len;
    memmove(conn->buf, conn->buf + res->wire_len, conn->len);
    conn->req = NULL;
    lb_h2_request_answer(req, res->status);
    if (!res->keep_alive)
        close_conn(conn, "the server closed it after an answer (Connection: close)");
    else
        conn_idle(conn);
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
        close_conn(conn, nread == UV_EOF ? "closed by the server" : uv_strerror((int)nread));
        return;
    }
    conn->len += (size_t)nread;
    while (conn->up && conn->len != 0) {
        lb_h1_response_t res;
        int ret = conn->req != NULL ? lb_h1_parse_response(conn->buf, conn->len, &res) : -1;
        if (ret == 0)
            break;
        if (ret < 0) {
            close_conn(conn, conn->req != NULL ? "an answer that is not HTTP/1.1" : "bytes that answer no request");
            break;
        }
        take_answer(conn, &res);
    }
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
    char after_path[AFTER_PATH_MAX];
    int after_path_len = snprintf(after_path, sizeof(after_path), " HTTP/1.1\r\nhost: %s:%s\r\n", host, port);
    if (after_path_len < 0 || (size_t)after_path_len >= sizeof(after_path)) {
        fprintf(stderr, "livebuy-load: %s:%s: too long a host name\n", host, port);
        return NULL;
    }
    struct addrinfo *res = lb_load_resolve(host, port);
    if (res == NULL)
        return NULL;
    lb_h1_client_t *client = lb_calloc(1, sizeof(*client));
    memcpy(client->after_path, after_path, (size_t)after_path_len);
    client->after_path_len = (size_t)after_path_len;
    client->loop = loop;
    client->num_conns = num_connections;
    client->on_ready = on_ready;
    client->data = data;
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
        close_conn(&client->conns[i], NULL);
    fail_all_queued(client);
    release_handle(client);
}

int lb_h1_parse_url(const char *url, lb_h1_target_t *target)
{
    const char *p = url, *colon, *end;
    if (strncmp(p, "http://", 7) != 0)
        return -1;
    p += 7;
    end = p + strcspn(p, "/");
    colon = memchr(p, ':', (size_t)(end - p));
    size_t host_len = (size_t)((colon != NULL ? colon : end) - p);
    if (host_len == 0 || host_len >= sizeof(target->host))
        return -1;
    memcpy(target->host, p, host_len);
    target->host[host_len] = '\0';
    if (colon != NULL) {
        size_t port_len = (size_t)(end - colon - 1);
        if (port_len == 0 || port_len >= sizeof(target->port) || strspn(colon + 1, "0123456789") < port_len)
            return -1;
        memcpy(target->port, colon + 1, port_len);
        target->port[port_len] = '\0';
    } else {
        strcpy(target->port, "80");
    }
    return (*end == '\0' || strcmp(end, "/") == 0) ? 0 : -1;
}

/* The fetch's request is its client's data: sent once the connection is up, or failed. */
static void on_fetch_ready(lb_h1_client_t *client, int ok)
{
    lb_h2_request_t *req = lb_h1_client_data(client);
    if (ok)
        lb_h1_client_submit(client, req);
    else
        req->status = -1;
}

/* The answer stays in the request (status included) for lb_h1_fetch to return. */
static void on_fetched(lb_h2_request_t *req, int status, const char *body, size_t body_len) {}

static void on_fetch_timeout(uv_timer_t *timer) {}

int lb_h1_fetch(const lb_h1_target_t *target, lb_h2_request_t *req, char *err, size_t err_size)
{
    uv_loop_t loop;
    uv_timer_t timeout;
    const char *why = "no answer";
    uv_loop_init(&loop);
    req->status = 0;
    req->on_response = on_fetched;
    lb_h1_client_t *client = lb_h1_client_new(&loop, target->host, target->port, 1, on_fetch_ready, req);
    if (client != NULL) {
        uv_timer_init(&loop, &timeout);
        uv_timer_start(&timeout, on_fetch_timeout, FETCH_TIMEOUT_MS, 0);
        while (req->status == 0 && uv_is_active((uv_handle_t *)&timeout))
            uv_run(&loop, UV_RUN_ONCE);
        if (req->status == 0)
            why = "no answer in time";
        lb_h1_client_close(client);
        uv_close((uv_handle_t *)&timeout, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
    } else {
        why = "cannot resolve the host";
    }
    uv_loop_close(&loop);
    if (req->status > 0)
        return req->status;
    snprintf(err, err_size, "%s %s: %s (%s:%s)", req->method, req->path, why, target->host, target->port);
    return -1;
}
