/* Fairness on the order path (livebuy/order/fairness.h). */
#include <stdint.h>
#include <stdlib.h>
#include "livebuy/common.h"
#include "livebuy/base/idmap.h"
#include "livebuy/order/fairness.h"

static unsigned buyer_cap = 16, connection_cap = 256, reset_cap = 100;

/* buyer id -> orders waiting, and connection id -> orders waiting, stored in the pointer (never 0 while stored). */
static _Thread_local lb_idmap_t buyers, connections;

/*
 * Connections that reset orders: a small table by connection id, one second's count each. A collision only mixes two
 * connections' counts for a second; a connection found over the rate stays marked until its slot is reused.
 */
#define RESET_SLOTS 256
typedef struct st_reset_slot_t {
    uint64_t connection_id;
    uint64_t window_ns;
    unsigned count;
    int marked;
} reset_slot_t;
static _Thread_local reset_slot_t reset_slots[RESET_SLOTS];

void lb_fairness_configure(unsigned buyer_orders, unsigned connection_orders, unsigned resets_per_second)
{
    buyer_cap = buyer_orders;
    connection_cap = connection_orders;
    reset_cap = resets_per_second;
}

unsigned lb_fairness_buyer_cap(void)
{
    return buyer_cap;
}

unsigned lb_fairness_connection_cap(void)
{
    return connection_cap;
}

static uintptr_t count_of(const lb_idmap_t *map, int64_t key)
{
    return (uintptr_t)lb_idmap_get(map, key);
}

static void add(lb_idmap_t *map, int64_t key, int delta)
{
    uintptr_t n = count_of(map, key) + (uintptr_t)(intptr_t)delta;
    if (n == 0)
        lb_idmap_remove(map, key);
    else
        lb_idmap_set(map, key, (void *)n);
}

static reset_slot_t *reset_slot(uint64_t connection_id)
{
    return &reset_slots[(connection_id * 0x9e3779b97f4a7c15ull >> 32) % RESET_SLOTS];
}

/* Connection ids are counted from 1 by h2o; the map's keys must be positive. */
static int64_t connection_key(uint64_t connection_id)
{
    int64_t key = (int64_t)(connection_id & INT64_MAX);
    return key != 0 ? key : 1;
}

lb_fairness_verdict_t lb_fairness_enter(int64_t buyer_id, uint64_t connection_id)
{
    reset_slot_t *slot = reset_slot(connection_id);
    if (slot->connection_id == connection_id && slot->marked)
        return LB_FAIRNESS_CLOSE;
    int64_t conn = connection_key(connection_id);
    if (buyer_cap != 0 && count_of(&buyers, buyer_id) >= buyer_cap)
        return LB_FAIRNESS_BUYER_FULL;
    if (connection_cap != 0 && count_of(&connections, conn) >= connection_cap)
        return LB_FAIRNESS_CONNECTION_FULL;
    add(&buyers, buyer_id, 1);
    add(&connections, conn, 1);
    return LB_FAIRNESS_OK;
}

void lb_fairness_leave(int64_t buyer_id, uint64_t connection_id)
{
    add(&buyers, buyer_id, -1);
    add(&connections, connection_key(connection_id), -1);
}

void lb_fairness_reset(uint64_t connection_id)
{
    reset_slot_t *slot = reset_slot(connection_id);
    uint64_t now = lb_monotonic_ns();
    if (slot->connection_id != connection_id || now - slot->window_ns >= 1000000000ull)
        *slot = (reset_slot_t){.connection_id = connection_id, .window_ns = now, .marked = slot->connection_id == connection_id && slot->marked};
    if (++slot->count > reset_cap && reset_cap != 0)
        slot->marked = 1;
}
