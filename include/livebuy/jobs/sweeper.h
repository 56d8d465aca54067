/*
 * The expiry sweeper: once a second, on one loop thread, a database job expires the reservations whose expires_at has
 * passed and returns their units, in one short transaction for many blocks of the order directory (of one shard: SKU id
 * modulo num_shards). Safe with several processes sweeping one database.
 */
#ifndef LIVEBUY_SWEEPER_H
#define LIVEBUY_SWEEPER_H

#include <uv.h>

/* Starts sweeping from loop (call on its thread, once). */
void lb_sweeper_start(uv_loop_t *loop, unsigned num_shards);
/* Stops on the same thread: no new sweep starts; one in flight finishes as a database job (the server waits for those). */
void lb_sweeper_stop(void);

#endif
