/*
 * livebuy-load's HTTP/1.1 client: keep-alive connections over libuv TCP, one request at a time on each. It takes the
 * same requests as the HTTP/2 client (lb_h2_request_t), so every scenario runs over either (--http1); the setup and
 * the correctness check make their calls through it too, one at a time and blocking (lb_h1_fetch).
 */
#ifndef LIVEBUY_LOAD_H1CLIENT_H
#define LIVEBUY_LOAD_H1CLIENT_H

#include <stddef.h>
#include <uv.h>
#include "h2client.h"

typedef struct st_lb_h1_client_t lb_h1_client_t;
/* Called once every connection is up (or failed: then ok is 0). */
typedef void (*lb_h1_ready_cb)(lb_h1_client_t *client, int ok);

/* Connects num_connections connections to host:port on loop; NULL (with the reason on stderr) when host:port does not resolve. */
lb_h1_client_t *lb_h1_client_new(uv_loop_t *loop, const char *host, const char *port, size_t num_connections,
                                 lb_h1_ready_cb on_ready, void *data);
void *lb_h1_client_data(lb_h1_client_t *client);
/* Sends req on an idle connection now, or queues it until one is idle. */
void lb_h1_client_submit(lb_h1_client_t *client, lb_h2_request_t *req);
size_t lb_h1_client_queued(const lb_h1_client_t *client);
/* Closes every connection (requests still open are answered -1 first); freed once the handles are closed. */
void lb_h1_client_close(lb_h1_client_t *client);

/* Where the server is: parsed from "http://HOST[:PORT][/]" by lb_h1_parse_url. */
typedef struct st_lb_h1_target_t {
    char host[256];
    char port[8];
} lb_h1_target_t;

/* Returns 0, or -1 when url is not http://HOST[:PORT][/]. */
int lb_h1_parse_url(const char *url, lb_h1_target_t *target);

/*
 * Sends req to target on a connection and a loop of its own and waits for the answer (30 seconds at most). Returns the
 * status with the body in req->answer (req->answer_len bytes, NUL-terminated; lb_h2_request_dispose frees it), or -1
 * with the reason in err. Takes req->on_response for itself.
 */
int lb_h1_fetch(const lb_h1_target_t *target, lb_h2_request_t *req, char *err, size_t err_size);

#endif
