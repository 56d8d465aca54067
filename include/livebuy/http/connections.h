/*
 * A loop thread's open connections, so that their number stays under a cap below the file limit: a connection accepted
 * at the cap makes room by closing the one that has moved no byte for the longest time (idle ones go first), or, when
 * none has been idle for a second, is closed itself. Closing is shutting the socket down: h2o then closes the connection
 * as when its client leaves (h2o 2.2.5 has no call to close one from outside).
 */
#ifndef LIVEBUY_HTTP_CONNECTIONS_H
#define LIVEBUY_HTTP_CONNECTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <h2o.h>

typedef struct st_lb_connection_t lb_connection_t;

typedef struct st_lb_connections_t {
    h2o_linklist_t by_activity; /* least recently active first */
    size_t count;
    size_t cap; /* 0: no cap */
    uv_timer_t sweep;
    lb_connection_t **by_fd; /* the open connections by socket, to find a request's */
    size_t by_fd_capacity;
    size_t released;      /* bytes of held answers released since the last sweep */
    unsigned purges_left; /* sweeps that still give memory back */
} lb_connections_t;

/* Starts a thread's table (its activity sweep runs once a second on loop). */
void lb_connections_init(lb_connections_t *table, uv_loop_t *loop, size_t cap);
/*
 * Takes a connection just accepted (tcp, uv_accept done) into the table and hands it to h2o through accept_ctx; at the
 * cap, closes the longest idle one first, or this one when none is idle.
 */
void lb_connections_accept(lb_connections_t *table, h2o_accept_ctx_t *accept_ctx, uv_tcp_t *tcp);
/* The uv_tcp_t to accept into (freed when its connection closes). */
uv_tcp_t *lb_connections_new_tcp(uv_loop_t *loop);
/* Makes table the one of the calling thread, whose requests' answers are held in it: first thing on its loop thread. */
void lb_connections_bind(lb_connections_t *table);
/* Stops the sweep (at shutdown). */
void lb_connections_stop(lb_connections_t *table);

/*
 * Memory held by answers not yet delivered (livebuy/http/answer.h). A connection whose answers hold more than its budget
 * is closed; when all answers of the process hold more than the process's budget, the connection holding the most is.
 * A client that reads what it asked for holds nothing for long: what is held is what a client does not read (a
 * flow-control window it never opens). Budgets in bytes, 0 for none; set before the loop threads start.
 */
void lb_connections_set_budgets(size_t process_bytes, size_t connection_bytes);
/*
 * Gives memory back to the system (the allocator's purge); called on a loop thread at each of the three sweeps after a
 * second in which its clients let go of at least LB_CONNECTIONS_PURGE_BYTES of answers: clients_gone is 0 while they
 * still do (a purge that costs little, as under steady load), 1 at a sweep whose second saw less (they have gone: the
 * thorough purge). Set before the loop threads start.
 */
void lb_connections_set_purge(void (*purge)(int clients_gone));
#define LB_CONNECTIONS_PURGE_BYTES (1u << 20)

/* bytes held against a connection and the process, from lb_connections_hold to lb_connections_release */
typedef struct st_lb_answer_hold_t {
    lb_connection_t *conn; /* NULL when the request's connection is not in the table */
    size_t bytes;
} lb_answer_hold_t;
/* Holds bytes for an answer of a request on conn (on conn's loop thread), and closes what is over budget. */
void lb_connections_hold(h2o_conn_t *conn, size_t bytes, lb_answer_hold_t *hold);
void lb_connections_release(lb_answer_hold_t *hold);

/* The idle time after which a connection may be closed to make room. */
#define LB_CONNECTION_IDLE_MS 1000

#endif
