/* A loop thread's open connections under a cap (livebuy/http/connections.h). */
#include <stdlib.h>
#include <sys/socket.h>
#include "livebuy/http/connections.h"
#include "livebuy/common.h"
#include "livebuy/base/metrics.h"

struct st_lb_connection_t {
    uv_tcp_t tcp; /* first: h2o's close callback gets its address */
    lb_connections_t *table;
    h2o_socket_t *sock;
    h2o_linklist_t link;
    size_t bytes_seen; /* the socket's bytes read and written at the last sweep */
    uint64_t active_ms; /* the loop's time when the sweep last saw bytes move (or it was accepted) */
    int closing;        /* shut down to make room: closed by h2o soon */
};

static void on_closed(uv_handle_t *handle)
{
    lb_connection_t *c = (lb_connection_t *)handle;
    if (c->table != NULL) {
        h2o_linklist_unlink(&c->link);
        --c->table->count;
    }
    lb_metrics_connection(-1);
    free(c);
}

uv_tcp_t *lb_connections_new_tcp(uv_loop_t *loop)
{
    lb_connection_t *c = lb_calloc(1, sizeof(*c));
    uv_tcp_init(loop, &c->tcp);
    return &c->tcp;
}

static size_t bytes_moved(const lb_connection_t *c)
{
    return c->sock->bytes_read + c->sock->bytes_written;
}

/* Once a second: a connection whose bytes moved goes to the end of the list, so that the longest idle ones lead it. */
static void on_sweep(uv_timer_t *timer)
{
    lb_connections_t *table = timer->data;
    uint64_t now = uv_now(timer->loop);
    h2o_linklist_t moved;
    h2o_linklist_init_anchor(&moved);
    for (h2o_linklist_t *l = table->by_activity.next, *next; l != &table->by_activity; l = next) {
        next = l->next;
        lb_connection_t *c = H2O_STRUCT_FROM_MEMBER(lb_connection_t, link, l);
        size_t bytes = bytes_moved(c);
        if (bytes != c->bytes_seen) {
            c->bytes_seen = bytes;
            c->active_ms = now;
            h2o_linklist_unlink(&c->link);
            h2o_linklist_insert(&moved, &c->link);
        }
    }
    h2o_linklist_insert_list(&table->by_activity, &moved);
}

void lb_connections_init(lb_connections_t *table, uv_loop_t *loop, size_t cap)
{
    h2o_linklist_init_anchor(&table->by_activity);
    table->count = 0;
    table->cap = cap;
    uv_timer_init(loop, &table->sweep);
    table->sweep.data = table;
    uv_timer_start(&table->sweep, on_sweep, 1000, 1000);
    uv_unref((uv_handle_t *)&table->sweep);
}

void lb_connections_stop(lb_connections_t *table)
{
    uv_timer_stop(&table->sweep);
}

static void shut_down(lb_connection_t *c)
{
    int fd = h2o_socket_get_fd(c->sock);
    c->closing = 1;
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

/* The connection idle longest, if it has been idle long enough to be closed for a new one. */
static lb_connection_t *idle_victim(lb_connections_t *table, uint64_t now)
{
    for (h2o_linklist_t *l = table->by_activity.next; l != &table->by_activity; l = l->next) {
        lb_connection_t *c = H2O_STRUCT_FROM_MEMBER(lb_connection_t, link, l);
        if (c->closing)
            continue;
        /* bytes that moved since the last sweep count as activity now */
        if (bytes_moved(c) != c->bytes_seen || now - c->active_ms < LB_CONNECTION_IDLE_MS)
            return NULL; /* the list leads with the longest idle: nobody after this one is idler */
        return c;
    }
    return NULL;
}

void lb_connections_accept(lb_connections_t *table, h2o_accept_ctx_t *accept_ctx, uv_tcp_t *tcp)
{
    lb_connection_t *c = (lb_connection_t *)tcp;
    uint64_t now = uv_now(tcp->loop);
    lb_metrics_connection(1);
    c->sock = h2o_uv_socket_create((uv_stream_t *)tcp, on_closed);
    int refuse = 0;
    if (table->cap != 0 && table->count >= table->cap) {
        lb_connection_t *victim = idle_victim(table, now);
        if (victim != NULL) {
            shut_down(victim);
            lb_metrics_connection_capped(1);
        } else {
            refuse = 1;
            lb_metrics_connection_capped(0);
        }
    }
    c->table = table;
    c->active_ms = now;
    h2o_linklist_insert(&table->by_activity, &c->link);
    ++table->count;
    if (refuse)
        shut_down(c);
    h2o_accept(accept_ctx, c->sock);
}
