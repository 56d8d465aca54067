/*
 * The buyers' index job: every quarter second, on one loop thread, a database job copies the orders of the order
 * directory's blocks not yet listed into buyer_orders (sql/015_buyer_orders.sql), so that a buyer's orders are listed
 * without an index entry written per order inside the batches. Safe with several processes on one database.
 */
#ifndef LIVEBUY_BUYER_INDEX_H
#define LIVEBUY_BUYER_INDEX_H

#include <uv.h>

/* Starts from loop (call on its thread, once); a run's blocks are of one shard (SKU id modulo shards, --shards). */
void lb_buyer_index_start(uv_loop_t *loop, unsigned shards);
/* Stops on the same thread: no new run starts; one in flight finishes as a database job. */
void lb_buyer_index_stop(void);

#endif
