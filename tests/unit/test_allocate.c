/* Unit tests of the batch allocation rules (server/order/allocate.c) and the id map they use. */
#include <stdlib.h>
#include "check.h"
#include "livebuy/common.h"
#include "livebuy/base/idmap.h"
#include "livebuy/order/order.h"

#define NOW 1000000

static lb_order_request_t requests[64];
static size_t num_requests;

/* Appends a request to the batch under construction: buyer, key, live item (0: the SKU), qty. */
static lb_order_request_t *add(int64_t buyer, const char *key, int64_t live_item, int64_t qty)
{
    lb_order_request_t *r = &requests[num_requests];
    memset(r, 0, sizeof(*r));
    r->buyer_id = buyer;
    r->key_given = 1;
    snprintf(r->idem_key, sizeof(r->idem_key), "%s", key);
    r->target = live_item != 0 ? LB_TARGET_LIVE_ITEM : LB_TARGET_SKU;
    r->live_item_id = live_item;
    r->target_id = live_item != 0 ? live_item : 1;
    r->sku_id = 1;
    r->qty = qty;
    r->request_hash[0] = (uint8_t)qty; /* different qty, different body */
    if (num_requests != 0)
        requests[num_requests - 1].next = r;
    ++num_requests;
    return r;
}

static void reset(void)
{
    memset(requests, 0, sizeof(requests));
    num_requests = 0;
}

static lb_alloc_input_t input_with(lb_alloc_target_t *targets, size_t n)
{
    return (lb_alloc_input_t){.now = NOW, .targets = targets, .num_targets = n};
}

static void test_first_come_first_served(void)
{
    lb_alloc_target_t targets[] = {{.id = 0, .found = 1, .price_cents = 500, .left = 3, .reserve_ttl = 900}};
    lb_alloc_input_t input = input_with(targets, 1);
    reset();
    lb_order_request_t *a = add(1, "a", 0, 2), *b = add(2, "b", 0, 2), *c = add(3, "c", 0, 1), *d = add(4, "d", 0, 1);
    lb_allocate(requests, &input);
    CHECK(a->outcome == LB_OUTCOME_RESERVED && a->amount_cents == 1000 && a->expires_at == NOW + 900);
    CHECK(b->outcome == LB_OUTCOME_SOLD_OUT && b->left == 1); /* all or nothing for one order */
    CHECK(c->outcome == LB_OUTCOME_RESERVED);                 /* a later, smaller order still fits */
    CHECK(d->outcome == LB_OUTCOME_SOLD_OUT && d->left == 0);
    CHECK(targets[0].left == 0 && targets[0].granted == 3);
}

static void test_live_item_limit_and_opening(void)
{
    lb_alloc_target_t targets[] = {
        {.id = 0, .found = 1, .price_cents = 500, .left = 100, .reserve_ttl = 900},
        {.kind = LB_TARGET_LIVE_ITEM, .id = 7, .found = 1, .price_cents = 300, .left = 10, .per_buyer_limit = 2, .reserve_ttl = 60},
        {.kind = LB_TARGET_LIVE_ITEM, .id = 8, .found = 1, .price_cents = 300, .left = 10, .opens_at = NOW + 1},
        {.kind = LB_TARGET_LIVE_ITEM, .id = 9, .found = 0}};
    lb_buyer_usage_t usage[] = {{.buyer_id = 2, .kind = LB_TARGET_LIVE_ITEM, .target_id = 7, .qty = 1}};
    lb_alloc_input_t input = input_with(targets, 4);
    input.usage = usage;
    input.num_usage = 1;
    reset();
    lb_order_request_t *r[10];
    for (int i = 0; i != 4; ++i) {
        char key[8];
        snprintf(key, sizeof(key), "k%d", i);
        r[i] = add(1, key, 7, 1);
    }
    r[4] = add(2, "x", 7, 1);
    r[5] = add(2, "y", 7, 1);
    r[6] = add(3, "z", 8, 1);
    r[7] = add(3, "w", 9, 1);
    r[8] = add(4, "v", 7, 3);
    lb_allocate(requests, &input);
    CHECK(r[0]->outcome == LB_OUTCOME_RESERVED && r[1]->outcome == LB_OUTCOME_RESERVED);
    CHECK(r[0]->amount_cents == 300 && r[0]->expires_at == NOW + 60);
    CHECK(r[2]->outcome == LB_OUTCOME_LIMIT && r[2]->limit == 2 && r[3]->outcome == LB_OUTCOME_LIMIT);
    CHECK(r[4]->outcome == LB_OUTCOME_RESERVED); /* buyer 2 held 1 already: one more fits */
    CHECK(r[5]->outcome == LB_OUTCOME_LIMIT);
    CHECK(r[6]->outcome == LB_OUTCOME_NOT_OPEN && r[6]->opens_at == NOW + 1); /* the time its message names */
    CHECK(r[7]->outcome == LB_OUTCOME_NOT_FOUND);
    CHECK(r[8]->outcome == LB_OUTCOME_LIMIT); /* 3 at once is over a limit of 2 */
    CHECK(targets[1].granted == 3 && targets[1].left == 7);
}

static void test_idempotency(void)
{
    lb_alloc_target_t targets[] = {{.id = 0, .found = 1, .price_cents = 100, .left = 10, .reserve_ttl = 900}};
    lb_existing_order_t existing[] = {{.buyer_id = 1, .idem_key = "old", .order_id = 55, .amount_cents = 100, .expires_at = 9}};
    existing[0].request_hash[0] = 1;
    lb_alloc_input_t input = input_with(targets, 1);
    input.existing = existing;
    input.num_existing = 1;
    reset();
    lb_order_request_t *replay = add(1, "old", 0, 1), *reused = add(1, "old", 0, 2), *other_buyer = add(2, "old", 0, 1);
    lb_order_request_t *first = add(3, "k", 0, 1), *twin = add(3, "k", 0, 1), *twin_changed = add(3, "k", 0, 2);
    lb_allocate(requests, &input);
    CHECK(replay->outcome == LB_OUTCOME_REPLAYED && replay->order_id == 55 && replay->expires_at == 9);
    CHECK(reused->outcome == LB_OUTCOME_KEY_REUSED);
    CHECK(other_buyer->outcome == LB_OUTCOME_RESERVED); /* keys belong to one buyer */
    CHECK(first->outcome == LB_OUTCOME_RESERVED);
    CHECK(twin->outcome == LB_OUTCOME_REPLAYED && twin->replay_of == first);
    CHECK(twin_changed->outcome == LB_OUTCOME_KEY_REUSED);
    CHECK(targets[0].granted == 2);

    /*
     * After a lost COMMIT a request finds the order it made by the id that COMMIT gave it (an entry found by id has no
     * buyer or key): an answer as new, nothing granted twice. One whose COMMIT did not happen is decided again, and a
     * key that an order of another request holds meanwhile is a replay of it.
     */
    lb_existing_order_t after_commit[] = {existing[0], {.order_id = 70, .amount_cents = 300, .expires_at = 8}};
    input.existing = after_commit;
    input.num_existing = 2;
    reset();
    lb_order_request_t *made = add(4, "srv-1", 0, 3), *not_made = add(5, "srv-2", 0, 1), *held = add(1, "old", 0, 1);
    made->commit_attempted = not_made->commit_attempted = held->commit_attempted = 1;
    made->committed_id = 70;
    not_made->committed_id = 71;
    held->committed_id = 72;
    targets[0].granted = 0;
    lb_allocate(requests, &input);
    CHECK(made->outcome == LB_OUTCOME_RESERVED && made->order_id == 70 && made->amount_cents == 300 && made->expires_at == 8);
    CHECK(not_made->outcome == LB_OUTCOME_RESERVED && not_made->order_id == 0);
    CHECK(held->outcome == LB_OUTCOME_REPLAYED && held->order_id == 55);
    CHECK(targets[0].granted == 1);
}

/* Appends a group-buy join. */
static lb_order_request_t *join(int64_t buyer, const char *key, int64_t group_buy, int64_t qty)
{
    lb_order_request_t *r = add(buyer, key, 0, qty);
    r->target = LB_TARGET_GROUP_BUY;
    r->target_id = r->group_buy_id = group_buy;
    return r;
}

static void test_group_buys(void)
{
    lb_alloc_target_t targets[] = {
        {.id = 0, .found = 1, .price_cents = 500, .left = 5, .reserve_ttl = 900},
        {.kind = LB_TARGET_GROUP_BUY,
         .id = 3,
         .found = 1,
         .open = 1,
         .closes_at = NOW + 60,
         .price_cents = 400,
         .per_buyer_limit = 3},
        {.kind = LB_TARGET_GROUP_BUY, .id = 4, .found = 1, .open = 1, .closes_at = NOW, .price_cents = 400},
        {.kind = LB_TARGET_GROUP_BUY, .id = 5, .found = 1, .open = 0, .closes_at = NOW + 60, .price_cents = 400}};
    lb_buyer_usage_t usage[] = {{.buyer_id = 1, .kind = LB_TARGET_GROUP_BUY, .target_id = 3, .qty = 2}};
    lb_alloc_input_t input = input_with(targets, 4);
    input.usage = usage;
    input.num_usage = 1;
    reset();
    lb_order_request_t *a = join(1, "a", 3, 1), *b = join(1, "b", 3, 1), *c = join(2, "c", 3, 2), *d = add(3, "d", 0, 2);
    lb_order_request_t *e = join(4, "e", 3, 1), *late = join(5, "f", 4, 1), *closed = join(5, "g", 5, 1);
    lb_allocate(requests, &input);
    CHECK(a->outcome == LB_OUTCOME_RESERVED && a->amount_cents == 400);
    CHECK(b->outcome == LB_OUTCOME_LIMIT); /* 2 held before + 1 + 1 > 3 */
    CHECK(c->outcome == LB_OUTCOME_RESERVED);
    CHECK(d->outcome == LB_OUTCOME_RESERVED && d->amount_cents == 1000); /* direct orders share the SKU's stock */
    CHECK(e->outcome == LB_OUTCOME_SOLD_OUT);
    CHECK(late->outcome == LB_OUTCOME_CLOSED && closed->outcome == LB_OUTCOME_CLOSED);
    CHECK(late->closes_at == NOW && closed->closes_at == NOW + 60);
    CHECK(targets[0].left == 0 && targets[0].granted == 2 && targets[1].granted == 3);
}

/* A retired SKU: direct orders and group-buy joins are refused, its live items' quotas still sell. */
static void test_retired_sku(void)
{
    lb_alloc_target_t targets[] = {
        {.id = 0, .found = 1, .price_cents = 500, .left = 10, .reserve_ttl = 900, .retired = 1},
        {.kind = LB_TARGET_LIVE_ITEM, .id = 7, .found = 1, .price_cents = 300, .left = 2, .reserve_ttl = 60},
        {.kind = LB_TARGET_GROUP_BUY, .id = 3, .found = 1, .open = 1, .closes_at = NOW + 60, .price_cents = 400},
        {.kind = LB_TARGET_GROUP_BUY, .id = 4, .found = 1, .open = 0, .closes_at = NOW + 60, .price_cents = 400}};
    lb_alloc_input_t input = input_with(targets, 4);
    reset();
    lb_order_request_t *direct = add(1, "a", 0, 1), *live = add(2, "b", 7, 2), *joined = join(3, "c", 3, 1);
    lb_order_request_t *closed = join(4, "d", 4, 1), *more = add(5, "e", 7, 1);
    lb_allocate(requests, &input);
    CHECK(direct->outcome == LB_OUTCOME_RETIRED && joined->outcome == LB_OUTCOME_RETIRED);
    CHECK(live->outcome == LB_OUTCOME_RESERVED && live->amount_cents == 600);
    CHECK(more->outcome == LB_OUTCOME_SOLD_OUT); /* the quota sells out, no further */
    CHECK(closed->outcome == LB_OUTCOME_CLOSED); /* the window first, as the routing's cache answers */
    CHECK(targets[0].left == 10 && targets[0].granted == 0 && targets[1].granted == 2);
}

/* A live item off air is refused as off air, not sold out (its left is 0), and its replays still replay. */
static void test_off_air_item(void)
{
    lb_alloc_target_t targets[] = {{.id = 0, .found = 1, .price_cents = 500, .left = 10, .reserve_ttl = 900},
                                   {.kind = LB_TARGET_LIVE_ITEM, .id = 7, .found = 1, .price_cents = 300, .closed = 1}};
    uint8_t hash[LB_TOKEN_HASH_SIZE] = {1};
    lb_existing_order_t made = {.buyer_id = 2, .idem_key = "kept", .order_id = 90};
    memcpy(made.request_hash, hash, sizeof(hash));
    lb_alloc_input_t input = input_with(targets, 2);
    input.existing = &made;
    input.num_existing = 1;
    reset();
    lb_order_request_t *late = add(1, "a", 7, 1), *replay = add(2, "kept", 7, 1), *direct = add(3, "c", 0, 1);
    lb_allocate(requests, &input);
    CHECK(late->outcome == LB_OUTCOME_OFF_AIR);
    CHECK(replay->outcome == LB_OUTCOME_REPLAYED && replay->order_id == 90);
    CHECK(direct->outcome == LB_OUTCOME_RESERVED); /* the SKU itself sells on */
}

/* The window rule as the routing's cache uses it (it knows the times, not whether a group-buy was closed early). */
static void test_window_rule(void)
{
    lb_order_request_t item = {.target = LB_TARGET_LIVE_ITEM, .target_id = 8};
    CHECK(lb_alloc_check_window(&item, NOW + 1, 0, 1, NOW) == LB_OUTCOME_NOT_OPEN && item.opens_at == NOW + 1);
    CHECK(lb_alloc_check_window(&item, NOW, 0, 1, NOW) == LB_OUTCOME_PENDING);
    lb_order_request_t campaign = {.target = LB_TARGET_GROUP_BUY, .target_id = 4};
    CHECK(lb_alloc_check_window(&campaign, 0, NOW + 1, 1, NOW) == LB_OUTCOME_PENDING);
    CHECK(lb_alloc_check_window(&campaign, 0, NOW, 1, NOW) == LB_OUTCOME_CLOSED && campaign.closes_at == NOW);
    lb_order_request_t sku = {.target = LB_TARGET_SKU, .target_id = 1};
    CHECK(lb_alloc_check_window(&sku, 0, 0, 0, NOW) == LB_OUTCOME_PENDING); /* SKUs always take orders */
}

static void test_idmap(void)
{
    lb_idmap_t map = {0};
    static int values[3000];
    for (int64_t i = 1; i <= 3000; ++i)
        lb_idmap_set(&map, i * 7919, &values[i - 1]);
    CHECK(map.size == 3000);
    int all = 1;
    for (int64_t i = 1; i <= 3000; ++i)
        all &= lb_idmap_get(&map, i * 7919) == &values[i - 1];
    CHECK(all);
    for (int64_t i = 1; i <= 3000; i += 2)
        CHECK(lb_idmap_remove(&map, i * 7919) == &values[i - 1]);
    CHECK(lb_idmap_get(&map, 7919) == NULL && lb_idmap_get(&map, 2 * 7919) == &values[1]);
    for (int round = 0; round != 10; ++round) /* churn: tombstones must not fill the table */
        for (int64_t i = 100000; i != 101000; ++i) {
            lb_idmap_set(&map, i, &values[0]);
            lb_idmap_remove(&map, i);
        }
    CHECK(map.size == 1500 && lb_idmap_get(&map, 4 * 7919) == &values[3]);
    lb_idmap_dispose(&map);
}

/* What a buyer holds comes as one entry per order (lb_store_buyer_usage): the entries of a buyer and target add up. */
static void test_usage_adds_up(void)
{
    lb_alloc_target_t targets[] = {
        {.id = 0, .found = 1, .price_cents = 500, .left = 100, .reserve_ttl = 900},
        {.kind = LB_TARGET_LIVE_ITEM, .id = 7, .found = 1, .price_cents = 300, .left = 10, .per_buyer_limit = 3, .reserve_ttl = 60},
        {.kind = LB_TARGET_LIVE_ITEM,
         .id = 8,
         .found = 1,
         .price_cents = 300,
         .left = 10,
         .per_buyer_limit = 3,
         .reserve_ttl = 60}};
    lb_buyer_usage_t usage[] = {{.buyer_id = 2, .kind = LB_TARGET_LIVE_ITEM, .target_id = 7, .qty = 1},
                                {.buyer_id = 2, .kind = LB_TARGET_LIVE_ITEM, .target_id = 8, .qty = 2},
                                {.buyer_id = 2, .kind = LB_TARGET_LIVE_ITEM, .target_id = 7, .qty = 1},
                                {.buyer_id = 3, .kind = LB_TARGET_LIVE_ITEM, .target_id = 7, .qty = 1}};
    lb_alloc_input_t input = input_with(targets, 3);
    input.usage = usage;
    input.num_usage = 4;
    reset();
    lb_order_request_t *two = add(2, "a", 7, 2), *one = add(2, "b", 7, 1), *other = add(2, "c", 8, 2), *three = add(3, "d", 7, 2);
    lb_allocate(requests, &input);
    CHECK(two->outcome == LB_OUTCOME_LIMIT && two->limit == 3); /* 1 + 1 held: 2 more is over 3 */
    CHECK(one->outcome == LB_OUTCOME_RESERVED);                 /* 1 more is not */
    CHECK(other->outcome == LB_OUTCOME_LIMIT);                  /* 2 held on item 8: 2 more is over 3 */
    CHECK(three->outcome == LB_OUTCOME_RESERVED);               /* another buyer's entries are theirs */

    /* After a lost COMMIT, the order a request made is in what the buyer holds already: counted once, not again as
     * granted by the batch (buyer 3 holds 1 + the 1 of order 80: one more fits a limit of 3). */
    lb_buyer_usage_t after_commit[] = {{.buyer_id = 3, .kind = LB_TARGET_LIVE_ITEM, .target_id = 7, .qty = 1},
                                       {.buyer_id = 3, .kind = LB_TARGET_LIVE_ITEM, .target_id = 7, .qty = 1}};
    lb_existing_order_t made[] = {{.order_id = 80, .amount_cents = 300, .expires_at = 9}};
    input.usage = after_commit;
    input.num_usage = 2;
    input.existing = made;
    input.num_existing = 1;
    reset();
    lb_order_request_t *committed = add(3, "e", 7, 1), *next = add(3, "f", 7, 1);
    committed->commit_attempted = next->commit_attempted = 1;
    committed->committed_id = 80;
    next->committed_id = 81; /* its COMMIT did not happen */
    lb_allocate(requests, &input);
    CHECK(committed->outcome == LB_OUTCOME_RESERVED && committed->order_id == 80);
    CHECK(next->outcome == LB_OUTCOME_RESERVED && next->order_id == 0);
}

int main(void)
{
    test_first_come_first_served();
    test_window_rule();
    test_live_item_limit_and_opening();
    test_usage_adds_up();
    test_idempotency();
    test_group_buys();
    test_retired_sku();
    test_off_air_item();
    test_idmap();
    return CHECK_RESULT("allocate");
}
