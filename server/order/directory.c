/* The order directory's blocks this process knows (livebuy/order/directory.h). */
#include <pthread.h>
#include "livebuy/order/directory.h"
#include "livebuy/store/orders.h"
#include "livebuy/store/reservations.h"

/* Direct-mapped: a block overwrites the one it collides with. */
#define KNOWN_BLOCKS 65536 /* a power of two: 1 MiB, the blocks of the last 4 million orders or so */
static struct {
    int64_t first_id, sku_id;
} known_blocks[KNOWN_BLOCKS];
static pthread_mutex_t known_blocks_lock = PTHREAD_MUTEX_INITIALIZER;

/* Blocks start LB_ORDER_ID_BLOCK ids apart: consecutive blocks take consecutive slots. */
static size_t known_block_slot(int64_t first_id)
{
    return (size_t)(first_id / LB_ORDER_ID_BLOCK) & (KNOWN_BLOCKS - 1);
}

static void learn_block(int64_t first_id, int64_t sku_id)
{
    if (first_id == 0)
        return;
    pthread_mutex_lock(&known_blocks_lock);
    size_t slot = known_block_slot(first_id);
    known_blocks[slot].first_id = first_id;
    known_blocks[slot].sku_id = sku_id;
    pthread_mutex_unlock(&known_blocks_lock);
}

void lb_order_directory_learn(int64_t order_id, int64_t sku_id)
{
    learn_block(lb_store_order_block_of(order_id), sku_id);
}

void lb_order_directory_learn_inserted(lb_order_request_t *const *granted, size_t n)
{
    /* Each block's first order has its first id. Before COMMIT is fine: a block of a batch rolled back holds no order,
     * and its ids are never given again. */
    for (size_t i = 0, start = 0; i != n; ++i) {
        if (lb_order_block_begins(granted, i, start)) {
            learn_block(granted[i]->order_id, granted[i]->sku_id);
            start = i;
        }
    }
}

int64_t lb_order_directory_sku(int64_t id)
{
    int64_t first_id = lb_store_order_block_of(id), sku_id = 0;
    if (first_id == 0)
        return 0;
    pthread_mutex_lock(&known_blocks_lock);
    size_t slot = known_block_slot(first_id);
    if (known_blocks[slot].first_id == first_id)
        sku_id = known_blocks[slot].sku_id;
    pthread_mutex_unlock(&known_blocks_lock);
    return sku_id;
}
