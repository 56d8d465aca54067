/*
 * The generator's HTTP/1.1 client (--http1): keep-alive connections over libuv TCP, one request at a time on each.
 * Takes the same requests as the HTTP/2 client (lb_h2_request_t), so every scenario runs over either.
 */
#ifndef LIVEBUY_LOAD_H1CLIENT_H
#define LIVEBUY_LOAD_H1CLIENT_H

#include <stddef.h>
#include <uv.h>
#include "h2client.h"

typedef struct st_lb_h1_client_t lb_h1_client_t;
typedef void (*lb_h1_ready_cb)(lb_h1_client_t *client, int ok);

lb_h1_client_t *lb_h1_client_new(uv_loop_t *loop, const char *host, const char *port, size_t num_connections,
                                 lb_h1_ready_cb on_ready, void *data);
void *lb_h1_client_data(lb_h1_client_t *client);
/* Sends req on an idle connection now, or queues it until one is idle. */
void lb_h1_client_submit(lb_h1_client_t *client, lb_h2_request_t *req);
size_t lb_h1_client_queued(const lb_h1_client_t *client);
/* Closes every connection (requests still open are answered -1 first); freed once the handles are closed. */
void lb_h1_client_close(lb_h1_client_t *client);

#endif
