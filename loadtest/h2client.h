/*
 * The generator's HTTP/2 client: cleartext HTTP/2 with prior knowledge (nghttp2) over libuv TCP, several connections,
 * many concurrent streams on each. Requests beyond the free streams wait in one queue, first come first served.
 */
#ifndef LIVEBUY_LOAD_H2CLIENT_H
#define LIVEBUY_LOAD_H2CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <netdb.h>
#include <uv.h>

#define LB_H2_MAX_HEADERS 8

typedef struct st_lb_h2_client_t lb_h2_client_t;
typedef struct st_lb_h2_request_t lb_h2_request_t;

/* Called once per submit with the answer: status is -1 when the stream or the connection failed. */
typedef void (*lb_h2_response_cb)(lb_h2_request_t *req, int status, const char *body, size_t body_len);

/*
 * One request, owned by the caller, who keeps it (and what it points to) alive until on_response. It may be submitted
 * again after on_response (a retry).
 */
struct st_lb_h2_request_t {
    const char *method, *path;
    const char *header_names[LB_H2_MAX_HEADERS], *header_values[LB_H2_MAX_HEADERS];
    size_t num_headers;
    unsigned header_no_index; /* bit i: header i changes per request, keep it out of the HPACK table */
    const char *body;
    size_t body_len;
    lb_h2_response_cb on_response;
    /* The answer, valid during on_response: the Retry-After seconds (0 when absent). */
    unsigned retry_after;
    /* The client's own. */
    int status;
    size_t body_sent;
    char *answer;
    size_t answer_len, answer_cap;
    lb_h2_request_t *prev, *next; /* in the wait queue, or in its connection's list while on the wire */
};

/* Frees what the client allocated for req's answers (call it once the caller is done with req). */
void lb_h2_request_dispose(lb_h2_request_t *req);
/* Ends req with status (-1: no answer) and what was read of its body; for the clients (HTTP/2 here, HTTP/1.1). */
void lb_h2_request_answer(lb_h2_request_t *req, int status);

/* Resolves host:port for the clients' connections; NULL with a message on stderr when it cannot. */
struct addrinfo *lb_load_resolve(const char *host, const char *port);
/*
 * Starts connecting tcp (data: the caller's connection) to addr; on an error, says so, closes tcp (on_closed runs)
 * and returns it (the caller counts the connection as failed).
 */
int lb_load_connect(uv_loop_t *loop, uv_tcp_t *tcp, uv_connect_t *connect, void *data, const struct addrinfo *addr,
                    uv_connect_cb on_connect, uv_close_cb on_closed);

/* Called once every connection is up (or failed: then ok is 0). */
typedef void (*lb_h2_ready_cb)(lb_h2_client_t *client, int ok);

/* Connects num_connections connections to host:port on loop; each carries at most streams concurrent requests. */
lb_h2_client_t *lb_h2_client_new(uv_loop_t *loop, const char *host, const char *port, size_t num_connections, size_t streams,
                                 lb_h2_ready_cb on_ready, void *data);
void *lb_h2_client_data(lb_h2_client_t *client);
/* Sends req now, or queues it until a stream is free. */
void lb_h2_client_submit(lb_h2_client_t *client, lb_h2_request_t *req);
/* Requests on the wire and queued. */
size_t lb_h2_client_in_flight(const lb_h2_client_t *client);
size_t lb_h2_client_queued(const lb_h2_client_t *client);
/* Closes every connection (requests still open are answered -1 first); the client is freed once the handles are closed. */
void lb_h2_client_close(lb_h2_client_t *client);

#endif
