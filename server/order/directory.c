/* The order directory's blocks this process knows (livebuy/order/directory.h). */
#include <pthread.h>
#include "livebuy/order/directory.h"
#include "livebuy/store/orders.h"
#include "livebuy/store/reservations.h"

/* Direct-mapped: a block overwrites the one it collides with. Blocks of one SKU only (a hot SKU's: few entries). */
#define KNOWN_BLOCKS 65536 /* a power of two: 1 MiB, the blocks of the last 4 million orders or so */
static struct {
    int64_t first_id, sku_id;
} known_blocks[KNOWN_BLOCKS];
/* Orders of blocks of several SKUs, and orders read: direct-mapped by id, as the blocks. */
#define KNOWN_ORDERS 262144 /* a power of two: 4 MiB, the last quarter of a million orders spread over SKUs */
static struct {
    int64_t id, sku_id;
} known_orders[KNOWN_ORDERS];
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;

/* Blocks start LB_ORDER_ID_BLOCK ids apart: consecutive blocks take consecutive slots. */
static size_t known_block_slot(int64_t first_id)
{
    return (size_t)(first_id / LB_ORDER_ID_BLOCK) & (KNOWN_BLOCKS - 1);
}

static size_t known_order_slot(int64_t id)
{
    return (size_t)id & (KNOWN_ORDERS - 1);
}

/* Under known_lock. */
static void learn_order_locked(int64_t id, int64_t sku_id)
{
    size_t slot = known_order_slot(id);
    known_orders[slot].id = id;
    known_orders[slot].sku_id = sku_id;
}

/* Under known_lock: a block of one SKU's. */
static void learn_block_locked(int64_t first_id, int64_t sku_id)
{
    size_t slot = known_block_slot(first_id);
    known_blocks[slot].first_id = first_id;
    known_blocks[slot].sku_id = sku_id;
}

void lb_order_directory_learn(int64_t order_id, int64_t sku_id)
{
    pthread_mutex_lock(&known_lock);
    learn_order_locked(order_id, sku_id);
    pthread_mutex_unlock(&known_lock);
}

void lb_order_directory_learn_inserted(lb_order_request_t *const *granted, size_t n)
{
    /* Each block's first order has its first id. Before COMMIT is fine: a block of a batch rolled back holds no order,
     * and its ids are never given again. */
    pthread_mutex_lock(&known_lock);
    for (size_t start = 0, end; start != n; start = end) {
        for (end = start + 1; end != n && !lb_order_block_begins(granted, end, start); ++end)
            ;
        if (lb_order_block_single(granted, start, end)) {
            learn_block_locked(granted[start]->order_id, granted[start]->sku_id);
        } else {
            for (size_t i = start; i != end; ++i)
                learn_order_locked(granted[i]->order_id, granted[i]->sku_id);
        }
    }
    pthread_mutex_unlock(&known_lock);
}

void lb_order_directory_learn_block(const lb_order_block_t *block, const int64_t *skus, size_t num_skus)
{
    pthread_mutex_lock(&known_lock);
    if (!block->several)
        learn_block_locked(block->first_id, block->sku_id);
    for (size_t i = 0; i != num_skus; ++i)
        learn_order_locked(block->first_id + (int64_t)i, skus[i]);
    pthread_mutex_unlock(&known_lock);
}

int64_t lb_order_directory_sku(int64_t id)
{
    int64_t first_id = lb_store_order_block_of(id), sku_id = 0;
    pthread_mutex_lock(&known_lock);
    size_t slot = known_block_slot(first_id);
    if (first_id != 0 && known_blocks[slot].first_id == first_id)
        sku_id = known_blocks[slot].sku_id;
    slot = known_order_slot(id);
    if (sku_id == 0 && known_orders[slot].id == id)
        sku_id = known_orders[slot].sku_id;
    pthread_mutex_unlock(&known_lock);
    return sku_id;
}
