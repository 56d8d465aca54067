/* A loop thread's open connections under a cap (livebuy/http/connections.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
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
    int closing;        /* shut down (to make room, or over a memory budget): closed by h2o soon */
    int fd;
    size_t held; /* bytes its answers hold (lb_connections_hold) */
};

/* The memory budgets and what all threads' answers hold, all of it and that of connections already closing. */
static size_t process_budget, connection_budget;
static atomic_size_t held_total, held_closing;
static void (*purge_memory)(int clients_gone);
static _Thread_local lb_connections_t *thread_table;

void lb_connections_set_budgets(size_t process_bytes, size_t connection_bytes)
{
    process_budget = process_bytes;
    connection_budget = connection_bytes;
}

void lb_connections_set_purge(void (*purge)(int clients_gone))
{
    purge_memory = purge;
}

static void on_closed(uv_handle_t *handle)
{
    lb_connection_t *c = (lb_connection_t *)handle;
    if (c->table != NULL) {
        h2o_linklist_unlink(&c->link);
        --c->table->count;
        if (c->fd >= 0 && (size_t)c->fd < c->table->by_fd_capacity && c->table->by_fd[c->fd] == c)
            c->table->by_fd[c->fd] = NULL;
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
    /* The allocator gives back what was freed some time after it is asked to, and only when asked again: three sweeps
     * in a row after a second in which clients let go of answers. Under steady load every second is one of those, and
     * the purge stays the light one; the thorough one waits for a second in which they let go of little. */
    int letting_go = table->released >= LB_CONNECTIONS_PURGE_BYTES;
    table->released = 0;
    if (letting_go)
        table->purges_left = 3;
    if (table->purges_left != 0 && purge_memory != NULL) {
        --table->purges_left;
        purge_memory(!letting_go);
        lb_metrics_memory_purge(!letting_go);
    }
}

void lb_connections_init(lb_connections_t *table, uv_loop_t *loop, size_t cap)
{
    h2o_linklist_init_anchor(&table->by_activity);
    table->count = 0;
    table->cap = cap;
    table->by_fd = NULL;
    table->by_fd_capacity = 0;
    table->released = 0;
    table->purges_left = 0;
    uv_timer_init(loop, &table->sweep);
    table->sweep.data = table;
    uv_timer_start(&table->sweep, on_sweep, 1000, 1000);
    uv_unref((uv_handle_t *)&table->sweep);
}

void lb_connections_bind(lb_connections_t *table)
{
    thread_table = table;
}

void lb_connections_stop(lb_connections_t *table)
{
    uv_timer_stop(&table->sweep);
}

static void shut_down(lb_connection_t *c)
{
    int fd = h2o_socket_get_fd(c->sock);
    if (c->closing)
        return;
    c->closing = 1;
    atomic_fetch_add_explicit(&held_closing, c->held, memory_order_relaxed);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

/* The connection of this thread whose answers hold the most, of those not closing yet (the idlest of equals). */
static lb_connection_t *biggest_holder(lb_connections_t *table)
{
    lb_connection_t *biggest = NULL;
    for (h2o_linklist_t *l = table->by_activity.next; l != &table->by_activity; l = l->next) {
        lb_connection_t *c = H2O_STRUCT_FROM_MEMBER(lb_connection_t, link, l);
        if (!c->closing && c->held != 0 && (biggest == NULL || c->held > biggest->held))
            biggest = c;
    }
    return biggest;
}

static lb_connection_t *connection_of(h2o_conn_t *conn)
{
    lb_connections_t *table = thread_table;
    h2o_socket_t *sock = conn->callbacks->get_socket != NULL ? conn->callbacks->get_socket(conn) : NULL;
    int fd = sock != NULL ? h2o_socket_get_fd(sock) : -1;
    if (table == NULL || fd < 0 || (size_t)fd >= table->by_fd_capacity)
        return NULL;
    return table->by_fd[fd];
}

void lb_connections_hold(h2o_conn_t *conn, size_t bytes, lb_answer_hold_t *hold)
{
    lb_connection_t *c = connection_of(conn);
    size_t total = atomic_fetch_add_explicit(&held_total, bytes, memory_order_relaxed) + bytes;
    *hold = (lb_answer_hold_t){c, bytes};
    lb_metrics_answers_held((int64_t)bytes);
    if (c == NULL)
        return;
    c->held += bytes;
    if (c->closing) {
        atomic_fetch_add_explicit(&held_closing, bytes, memory_order_relaxed);
    } else if (connection_budget != 0 && c->held > connection_budget) {
        shut_down(c);
        lb_metrics_connection_over_budget(0);
    } else if (process_budget != 0 && total - atomic_load_explicit(&held_closing, memory_order_relaxed) > process_budget) {
        lb_connection_t *victim = biggest_holder(c->table);
        if (victim != NULL) {
            shut_down(victim);
            lb_metrics_connection_over_budget(1);
        }
    }
}

void lb_connections_release(lb_answer_hold_t *hold)
{
    lb_connection_t *c = hold->conn;
    atomic_fetch_sub_explicit(&held_total, hold->bytes, memory_order_relaxed);
    lb_metrics_answers_held(-(int64_t)hold->bytes);
    if (c != NULL) {
        c->held -= hold->bytes;
        if (c->closing)
            atomic_fetch_sub_explicit(&held_closing, hold->bytes, memory_order_relaxed);
        c->table->released += hold->bytes;
    } else if (thread_table != NULL) {
        thread_table->released += hold->bytes;
    }
    hold->bytes = 0;
}

/* Files the connection under its socket, so that its requests' answers find it. */
static void index_by_fd(lb_connections_t *table, lb_connection_t *c)
{
    c->fd = h2o_socket_get_fd(c->sock);
    if (c->fd < 0)
        return;
    if ((size_t)c->fd >= table->by_fd_capacity) {
        size_t capacity = (size_t)c->fd * 2 + 64;
        table->by_fd = lb_realloc(table->by_fd, capacity * sizeof(*table->by_fd));
        memset(table->by_fd + table->by_fd_capacity, 0, (capacity - table->by_fd_capacity) * sizeof(*table->by_fd));
        table->by_fd_capacity = capacity;
    }
    table->by_fd[c->fd] = c;
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
    index_by_fd(table, c);
    h2o_linklist_insert(&table->by_activity, &c->link);
    ++table->count;
    if (refuse)
        shut_down(c);
    h2o_accept(accept_ctx, c->sock);
}
