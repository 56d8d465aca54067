/*
 * Unit tests of the reservation path without a database: the order lanes (server/order/lanes.c) on the lane engine,
 * with the fake job runner (fake_jobs.h), running the real batch transaction (server/order/reserve.c) against an
 * in-memory store (a SKU with its live items, a few more SKUs, their orders; BEGIN copies the state, ROLLBACK puts the
 * copy back). Take, allocate, answer; sold-out hints and the replay checks they leave to keyed requests; a COMMIT whose
 * answer was lost, whether it committed or not; a key that is taken already; a batch that never got the lock; a SKU
 * that does not exist; the queue cap; the targets per batch; the live items' counts published; the batches of several
 * SKUs in one transaction (a sell-out, a per-buyer limit and a replay among them; a lost COMMIT; shards kept apart).
 */
#include <stdlib.h>
#include "check.h"
#include "fake_jobs.h"
#include "livebuy/common.h"
#include "livebuy/order/lanes.h"
#include "livebuy/order/reserve.h"

#define SKU        7
#define PRICE      500
#define TTL        900
#define MAX_ORDERS 256
#define FIRST_ITEM 100 /* live items FIRST_ITEM .. FIRST_ITEM + MAX_ITEMS - 1 sell SKU; others do not exist */
#define MAX_ITEMS  20
/* SKUs with no live items, as a catalog has many: OTHER_SKU(0) .. OTHER_SKU(NUM_OTHER - 1). */
#define NUM_OTHER    3
#define OTHER_SKU(i) (20 + 10 * (i))

typedef struct st_order_row_t {
    int64_t id, buyer_id, amount_cents, expires_at;
    int keyed; /* it has an order_keys row: its key can be asked for again */
    char idem_key[LB_IDEMPOTENCY_KEY_MAX + 1];
    uint8_t request_hash[LB_TOKEN_HASH_SIZE];
} order_row_t;

typedef struct st_store_state_t {
    int64_t stock, reserved, held;
    int64_t item_quota[MAX_ITEMS], item_reserved[MAX_ITEMS], item_sold[MAX_ITEMS], item_limit[MAX_ITEMS];
    int64_t other_stock[NUM_OTHER], other_reserved[NUM_OTHER];
    order_row_t orders[MAX_ORDERS];
    size_t num_orders;
    int64_t next_order_id;
} store_state_t;

/* What the next COMMIT does: commit, or commit and lose the answer, or lose the connection before it commits. */
enum commit_fate { COMMIT_OK, COMMIT_LOST_AFTER, COMMIT_LOST_BEFORE };

static store_state_t state, saved;
static int in_transaction;
static enum commit_fate next_commit;
static struct {
    unsigned begins, commits, sku_locks, by_keys, by_ids, inserts, skus_locked;
    int64_t last_locked[8]; /* the ids the last lock statement named, in its order */
} calls;

static int fake_begin(lb_db_t *db)
{
    (void)db;
    CHECK(!in_transaction);
    saved = state;
    in_transaction = 1;
    ++calls.begins;
    return 0;
}

static void fake_rollback(lb_db_t *db)
{
    (void)db;
    if (in_transaction)
        state = saved;
    in_transaction = 0;
}

static int fake_commit(lb_db_t *db)
{
    enum commit_fate fate = next_commit;
    CHECK(in_transaction);
    next_commit = COMMIT_OK;
    ++calls.commits;
    if (fate == COMMIT_LOST_BEFORE)
        fake_rollback(db);
    in_transaction = 0;
    return fate == COMMIT_OK ? 0 : LB_EDB_DOWN;
}

/* Which of the other SKUs id is, or -1. */
static int other_of(int64_t id)
{
    for (int i = 0; i != NUM_OTHER; ++i)
        if (id == OTHER_SKU(i))
            return i;
    return -1;
}

static int fake_skus_lock(lb_db_t *db, const int64_t *ids, size_t n, lb_sku_t *skus)
{
    (void)db;
    CHECK(in_transaction);
    ++calls.sku_locks;
    calls.skus_locked = (unsigned)n;
    for (size_t i = 0; i != n; ++i) {
        int other = other_of(ids[i]);
        CHECK(i == 0 || ids[i - 1] < ids[i]); /* ascending: the order rows are locked in */
        if (i < LB_ARRAY_SIZE(calls.last_locked))
            calls.last_locked[i] = ids[i];
        if (ids[i] == SKU)
            skus[i] = (lb_sku_t){.id = SKU, .price_cents = PRICE, .stock = state.stock, .reserved = state.reserved, .held = state.held};
        else if (other >= 0)
            skus[i] = (lb_sku_t){.id = ids[i], .price_cents = PRICE, .stock = state.other_stock[other], .reserved = state.other_reserved[other]};
        else
            skus[i] = (lb_sku_t){.id = 0};
    }
    return 0;
}

static int fake_live_item_lock(lb_db_t *db, int64_t id, int64_t sku_id, int64_t default_ttl, lb_alloc_target_t *target)
{
    (void)db;
    int64_t i = id - FIRST_ITEM;
    *target = (lb_alloc_target_t){.kind = LB_TARGET_LIVE_ITEM, .id = id, .reserve_ttl = default_ttl};
    if (sku_id == SKU && i >= 0 && i < MAX_ITEMS) {
        target->found = 1;
        target->price_cents = PRICE - 100;
        target->left = state.item_quota[i] - state.item_reserved[i] - state.item_sold[i];
        target->reserved = state.item_reserved[i];
        target->sold = state.item_sold[i];
        target->per_buyer_limit = state.item_limit[i];
    }
    return 0;
}

static int fake_group_buy_lock(lb_db_t *db, int64_t id, int64_t sku_id, int64_t default_ttl, lb_alloc_target_t *target)
{
    (void)db, (void)sku_id;
    *target = (lb_alloc_target_t){.kind = LB_TARGET_GROUP_BUY, .id = id, .reserve_ttl = default_ttl};
    return 0;
}

static lb_existing_order_t existing_of(const order_row_t *row, int by_key)
{
    lb_existing_order_t e = {.order_id = row->id, .amount_cents = row->amount_cents, .expires_at = row->expires_at};
    if (by_key) {
        e.buyer_id = row->buyer_id;
        memcpy(e.idem_key, row->idem_key, sizeof(e.idem_key));
        memcpy(e.request_hash, row->request_hash, sizeof(e.request_hash));
    }
    return e;
}

static const order_row_t *row_with_key(int64_t buyer_id, const char *key)
{
    for (size_t i = 0; i != state.num_orders; ++i)
        if (state.orders[i].keyed && state.orders[i].buyer_id == buyer_id && strcmp(state.orders[i].idem_key, key) == 0)
            return &state.orders[i];
    return NULL;
}

static int fake_orders_by_keys(lb_db_t *db, int64_t sku_id, const lb_order_request_t *const *requests, size_t n,
                               lb_existing_order_t **out, size_t *found)
{
    (void)db, (void)sku_id;
    ++calls.by_keys;
    *out = lb_malloc(n * sizeof(**out));
    *found = 0;
    for (size_t i = 0; i != n; ++i) {
        const order_row_t *row = row_with_key(requests[i]->buyer_id, requests[i]->idem_key);
        if (row != NULL)
            (*out)[(*found)++] = existing_of(row, 1);
    }
    return 0;
}

static int fake_orders_by_ids(lb_db_t *db, int64_t sku_id, const int64_t *ids, size_t n, lb_existing_order_t **out, size_t *found)
{
    (void)db, (void)sku_id;
    ++calls.by_ids;
    *out = lb_malloc(n * sizeof(**out));
    *found = 0;
    for (size_t i = 0; i != n; ++i)
        for (size_t j = 0; j != state.num_orders; ++j)
            if (state.orders[j].id == ids[i])
                (*out)[(*found)++] = existing_of(&state.orders[j], 0);
    return 0;
}

static int fake_buyer_usage(lb_db_t *db, int64_t sku_id, const int64_t *buyers, size_t n, lb_buyer_usage_t **out, size_t *found)
{
    (void)db, (void)sku_id, (void)buyers, (void)n;
    *out = NULL;
    *found = 0;
    return 0;
}

static int fake_orders_insert(lb_db_t *db, lb_order_request_t *const *granted, size_t n, int64_t now)
{
    (void)db, (void)now;
    ++calls.inserts;
    for (size_t i = 0; i != n; ++i) {
        const lb_order_request_t *r = granted[i];
        if (r->key_given && row_with_key(r->buyer_id, r->idem_key) != NULL)
            return LB_EDB_DUP; /* order_keys' primary key */
        CHECK(state.num_orders != MAX_ORDERS);
        order_row_t *row = &state.orders[state.num_orders++];
        *row = (order_row_t){.id = state.next_order_id++,
                             .buyer_id = r->buyer_id,
                             .amount_cents = r->amount_cents,
                             .expires_at = r->expires_at,
                             .keyed = r->key_given};
        memcpy(row->idem_key, r->idem_key, sizeof(row->idem_key));
        memcpy(row->request_hash, r->request_hash, sizeof(row->request_hash));
        granted[i]->order_id = row->id;
    }
    return 0;
}

static int fake_live_item_add_reserved(lb_db_t *db, int64_t sku_id, int64_t id, int64_t delta)
{
    (void)db, (void)sku_id;
    state.item_reserved[id - FIRST_ITEM] += delta;
    return 0;
}

static int fake_group_buy_add_joined(lb_db_t *db, int64_t sku_id, int64_t id, int64_t delta)
{
    (void)db, (void)sku_id, (void)id, (void)delta;
    CHECK(!"no group-buy exists here");
    return LB_EDB;
}

static int fake_skus_add_reserved(lb_db_t *db, const lb_sku_reserved_t *adds, size_t n, int64_t now)
{
    (void)db, (void)now;
    for (size_t i = 0; i != n; ++i) {
        int other = other_of(adds[i].sku_id);
        CHECK(adds[i].sku_id == SKU || other >= 0);
        if (other >= 0) {
            state.other_reserved[other] += adds[i].reserved;
        } else {
            state.reserved += adds[i].reserved;
            state.held -= adds[i].from_held;
        }
    }
    return 0;
}

static const lb_reserve_store_t memory_store = {
    .begin = fake_begin,
    .commit = fake_commit,
    .rollback = fake_rollback,
    .skus_lock = fake_skus_lock,
    .live_item_lock = fake_live_item_lock,
    .group_buy_lock = fake_group_buy_lock,
    .orders_by_keys = fake_orders_by_keys,
    .orders_by_ids = fake_orders_by_ids,
    .buyer_usage = fake_buyer_usage,
    .orders_insert = fake_orders_insert,
    .live_item_add_reserved = fake_live_item_add_reserved,
    .group_buy_add_joined = fake_group_buy_add_joined,
    .skus_add_reserved = fake_skus_add_reserved,
};

/* The requests and the order they were answered in. */
static lb_order_request_t requests[64];
static unsigned answer_turn[64], turns;
static int64_t published_item = -1, published_available = -1, published_reserved = -1, published_sold = -1;

static void on_decided(lb_order_request_t *r)
{
    CHECK(answer_turn[r - requests] == 0); /* once */
    answer_turn[r - requests] = ++turns;
}

static void on_publish(int64_t live_item_id, int64_t available, int64_t reserved, int64_t sold)
{
    published_item = live_item_id;
    published_available = available;
    published_reserved = reserved;
    published_sold = sold;
}

static void reset(int64_t stock)
{
    fake_jobs_reset();
    memset(&state, 0, sizeof(state));
    state.stock = stock;
    state.next_order_id = 1000;
    for (size_t i = 0; i != MAX_ITEMS; ++i)
        state.item_quota[i] = 5;
    memset(&calls, 0, sizeof(calls));
    memset(requests, 0, sizeof(requests));
    memset(answer_turn, 0, sizeof(answer_turn));
    turns = 0;
    next_commit = COMMIT_OK;
    published_item = published_available = published_reserved = published_sold = -1;
    lb_lanes_configure(2000, 50000, TTL);
    lb_lanes_share_jobs(4, 64, 1);
    lb_lanes_stock_changed(SKU); /* a test's hints do not reach the next */
    for (int i = 0; i != NUM_OTHER; ++i)
        lb_lanes_stock_changed(OTHER_SKU(i));
}

/* Request i: buyer, qty, live item (0: the SKU), key (NULL: one the server made, "s<i>"). */
static lb_order_request_t *request(int i, int64_t buyer, int64_t qty, int64_t live_item, const char *key)
{
    lb_order_request_t *r = &requests[i];
    memset(r, 0, sizeof(*r));
    r->buyer_id = buyer;
    r->qty = qty;
    r->sku_id = SKU;
    r->target = live_item != 0 ? LB_TARGET_LIVE_ITEM : LB_TARGET_SKU;
    r->target_id = live_item != 0 ? live_item : SKU;
    r->live_item_id = live_item;
    r->key_given = key != NULL;
    if (key != NULL)
        snprintf(r->idem_key, sizeof(r->idem_key), "%s", key);
    else
        snprintf(r->idem_key, sizeof(r->idem_key), "s%d", i);
    r->request_hash[0] = (uint8_t)qty;
    r->request_hash[1] = (uint8_t)live_item;
    r->on_decided = on_decided;
    return r;
}

static int submit(int i, int64_t buyer, int64_t qty, int64_t live_item, const char *key)
{
    return lb_lanes_submit(NULL, request(i, buyer, qty, live_item, key));
}

static int distinct_ids(int from, int to)
{
    for (int i = from; i != to; ++i)
        for (int j = from; j != i; ++j)
            if (requests[i].order_id == requests[j].order_id)
                return 0;
    return 1;
}

static void test_take_allocate_answer(void)
{
    reset(3);
    for (int i = 0; i != 5; ++i)
        CHECK(submit(i, 1 + i, 1, 0, NULL) == 0);
    CHECK(num_fake_jobs == 1); /* one batch, sent with the first and not taken yet */
    CHECK(lb_lanes_pending() == 5);
    CHECK(fake_work(0) == 0);
    CHECK(turns == 0); /* decided, not answered: answers come on the loop thread */
    fake_answer(0, 0);
    for (int i = 0; i != 5; ++i)
        CHECK(answer_turn[i] == (unsigned)i + 1);
    for (int i = 0; i != 3; ++i)
        CHECK(requests[i].outcome == LB_OUTCOME_RESERVED && requests[i].order_id >= 1000 && requests[i].amount_cents == PRICE &&
              requests[i].expires_at > TTL);
    CHECK(distinct_ids(0, 3));
    CHECK(requests[3].outcome == LB_OUTCOME_SOLD_OUT && requests[4].outcome == LB_OUTCOME_SOLD_OUT && requests[4].left == 0);
    CHECK(state.reserved == 3 && state.num_orders == 3);
    CHECK(calls.begins == 1 && calls.commits == 1 && calls.inserts == 1);
    CHECK(lb_lanes_pending() == 0);
}

static void test_sold_out_hint(void)
{
    reset(1);
    submit(0, 1, 1, 0, "k0");
    fake_run(0); /* takes the last unit: the lane now knows the SKU is sold out */
    CHECK(requests[0].outcome == LB_OUTCOME_RESERVED);

    CHECK(submit(1, 2, 1, 0, NULL) == 0);
    CHECK(answer_turn[1] == 2 && requests[1].outcome == LB_OUTCOME_SOLD_OUT); /* at once */
    CHECK(num_fake_jobs == 1);

    /* With the buyer's own key it may be a retry of an order that got stock: a replay check, taken when sent. */
    submit(2, 1, 1, 0, "k0"); /* the retry of request 0 */
    submit(3, 3, 1, 0, "k3");
    CHECK(num_fake_jobs == 2); /* the first went at once; the second waits for it to come back (the SKU is not hot) */
    CHECK(requests[2].replay_check && requests[3].replay_check);
    unsigned sku_locks = calls.sku_locks;
    fake_run(1);
    CHECK(num_fake_jobs == 3);
    fake_run(2);
    CHECK(calls.sku_locks == sku_locks); /* replay checks lock nothing */
    CHECK(requests[2].outcome == LB_OUTCOME_REPLAYED && requests[2].order_id == requests[0].order_id);
    CHECK(requests[3].outcome == LB_OUTCOME_SOLD_OUT);
    CHECK(state.num_orders == 1);

    /* Stock came back in this process: the next request goes to the database. */
    lb_lanes_stock_changed(SKU);
    state.stock = 2;
    submit(4, 4, 1, 0, NULL);
    CHECK(num_fake_jobs == 4 && answer_turn[4] == 0);
    fake_run(3);
    CHECK(requests[4].outcome == LB_OUTCOME_RESERVED && state.reserved == 2);
}

static void test_commit_lost_after_it_committed(void)
{
    reset(10);
    for (int i = 0; i != 3; ++i)
        submit(i, 1 + i, 2, 0, i == 1 ? "mine" : NULL);
    next_commit = COMMIT_LOST_AFTER;
    fake_run(0);
    CHECK(fake_jobs[0].runs == 2);
    CHECK(calls.commits == 2 && calls.inserts == 1 && calls.by_ids == 1); /* the second run found its orders by id */
    CHECK(state.num_orders == 3 && state.reserved == 6);                  /* not reserved twice */
    for (int i = 0; i != 3; ++i)
        CHECK(requests[i].outcome == LB_OUTCOME_RESERVED && requests[i].order_id == state.orders[i].id &&
              answer_turn[i] == (unsigned)i + 1);
}

static void test_commit_lost_before_it_committed(void)
{
    reset(10);
    for (int i = 0; i != 3; ++i)
        submit(i, 1 + i, 2, 0, NULL);
    next_commit = COMMIT_LOST_BEFORE;
    fake_run(0);
    CHECK(fake_jobs[0].runs == 2);
    CHECK(calls.commits == 2 && calls.inserts == 2 && calls.by_ids == 1); /* nothing found by id: made again */
    CHECK(state.num_orders == 3 && state.reserved == 6);
    for (int i = 0; i != 3; ++i)
        CHECK(requests[i].outcome == LB_OUTCOME_RESERVED && requests[i].order_id == state.orders[i].id);
}

/* A key an order holds already, which the batch did not look up first: the batch runs again, looking keys up. */
static void test_taken_key(void)
{
    reset(10);
    submit(0, 1, 2, 0, "again");
    fake_run(0);
    int64_t first_id = requests[0].order_id;
    CHECK(state.reserved == 2 && calls.by_keys == 0);

    /* Granted at first, then refused by the key's row on insert. */
    submit(1, 1, 2, 0, "again");
    submit(2, 2, 1, 0, NULL);
    fake_run(1);
    CHECK(requests[1].outcome == LB_OUTCOME_REPLAYED && requests[1].order_id == first_id);
    CHECK(requests[2].outcome == LB_OUTCOME_RESERVED);
    CHECK(state.reserved == 3 && state.num_orders == 2);
    CHECK(calls.by_keys == 1);

    /* Refused at first (nothing left), then found among the refused requests' keys. */
    state.stock = 3;
    submit(3, 1, 2, 0, "again");
    fake_run(2);
    CHECK(requests[3].outcome == LB_OUTCOME_REPLAYED && requests[3].order_id == first_id);
    CHECK(state.reserved == 3 && state.num_orders == 2);

    /* The same key with another body is refused, and nothing is made. */
    lb_lanes_stock_changed(SKU);
    state.stock = 10;
    submit(4, 1, 3, 0, "again");
    fake_run(3);
    CHECK(requests[4].outcome == LB_OUTCOME_KEY_REUSED && state.num_orders == 2);
}

static void test_never_got_the_lock(void)
{
    reset(10);
    submit(0, 1, 1, 0, NULL);
    submit(1, 2, 1, 0, NULL);
    fake_answer(0, LB_EDB_DOWN); /* no connection: its work never ran */
    CHECK(calls.begins == 0);
    CHECK(requests[0].outcome == LB_OUTCOME_UNAVAILABLE && requests[1].outcome == LB_OUTCOME_UNAVAILABLE);
    CHECK(answer_turn[0] == 1 && answer_turn[1] == 2);
    CHECK(lb_lanes_pending() == 0 && num_fake_jobs == 1);
}

/* A SKU the database does not have: every request of the batch is answered 404, and nothing is written. */
static void test_unknown_sku(void)
{
    reset(10);
    lb_order_request_t *r = request(0, 1, 1, 0, NULL);
    r->sku_id = r->target_id = SKU + 1;
    lb_lanes_submit(NULL, r);
    fake_run(0);
    CHECK(r->outcome == LB_OUTCOME_NOT_FOUND && answer_turn[0] == 1);
    CHECK(fake_jobs[0].runs == 1 && !in_transaction && calls.inserts == 0 && state.num_orders == 0);
}

static void test_queue_cap(void)
{
    reset(10);
    lb_lanes_configure(2000, 2, TTL);
    CHECK(submit(0, 1, 1, 0, NULL) == 0);
    CHECK(submit(1, 2, 1, 0, NULL) == 0);
    CHECK(submit(2, 3, 1, 0, NULL) == LB_EBUSY); /* 429: the lane never answers it */
    fake_run(0);
    CHECK(answer_turn[0] == 1 && answer_turn[1] == 2 && answer_turn[2] == 0);
    CHECK(submit(2, 3, 1, 0, NULL) == 0);
    fake_run(1);
    CHECK(requests[2].outcome == LB_OUTCOME_RESERVED);
}

/* A batch locks at most LB_MAX_TARGETS_PER_BATCH live items: a request for one more waits for the next batch. */
static void test_targets_per_batch(void)
{
    reset(200);
    state.held = 5 * MAX_ITEMS; /* the live items' quotas */
    submit(0, 1, 1, 0, NULL);   /* sent at once, takes later */
    for (int i = 1; i <= LB_MAX_TARGETS_PER_BATCH + 1; ++i)
        submit(i, 1 + i, 1, FIRST_ITEM + i, NULL);
    fake_run(0);
    for (int i = 0; i <= LB_MAX_TARGETS_PER_BATCH; ++i)
        CHECK(requests[i].outcome == LB_OUTCOME_RESERVED);
    CHECK(answer_turn[LB_MAX_TARGETS_PER_BATCH + 1] == 0 && num_fake_jobs == 2);
    fake_run(1);
    CHECK(requests[LB_MAX_TARGETS_PER_BATCH + 1].outcome == LB_OUTCOME_RESERVED);
    CHECK(state.reserved == LB_MAX_TARGETS_PER_BATCH + 2 && state.held == 5 * MAX_ITEMS - LB_MAX_TARGETS_PER_BATCH - 1);
}

/* A live item's quota: the counts go to the stock feed, and a sold-out item is refused at once, the SKU not. */
static void test_live_item(void)
{
    reset(100);
    lb_lanes_publish_to(on_publish);
    state.item_quota[0] = 4;
    state.item_reserved[0] = state.item_sold[0] = 1;
    submit(0, 1, 2, FIRST_ITEM, NULL);
    fake_run(0);
    CHECK(requests[0].outcome == LB_OUTCOME_RESERVED && requests[0].amount_cents == 2 * (PRICE - 100));
    /* The counts as the batch left them: what it locked plus what it granted. */
    CHECK(published_item == FIRST_ITEM && published_available == 0 && published_reserved == 3 && published_sold == 1);
    CHECK(submit(1, 2, 1, FIRST_ITEM, NULL) == 0 && requests[1].outcome == LB_OUTCOME_SOLD_OUT && answer_turn[1] == 2);
    submit(2, 3, 1, 0, NULL);
    CHECK(num_fake_jobs == 2);
    fake_run(1);
    CHECK(requests[2].outcome == LB_OUTCOME_RESERVED);
    lb_lanes_publish_to(NULL);
}

/* Request i for one of the other SKUs (the SKU itself as its target). */
static int submit_on(int i, int64_t sku_id, int64_t buyer, int64_t qty, const char *key)
{
    lb_order_request_t *r = request(i, buyer, qty, 0, key);
    r->sku_id = r->target_id = sku_id;
    return lb_lanes_submit(NULL, r);
}

/*
 * While the loop thread's one job is out, batches of three SKUs wait, then go together in one transaction: one SKU sells
 * out, one of its live item's buyers is over the per-buyer limit, one request is the retry of an order made before;
 * the rows are locked in one statement in ascending order and each request gets its own answer.
 */
static void test_many_skus_one_transaction(void)
{
    reset(10);
    lb_lanes_share_jobs(1, 64, 1);
    state.held = 5;
    state.item_limit[0] = 1;
    state.other_stock[0] = 1;  /* OTHER_SKU(0): one unit for two buyers */
    state.other_stock[1] = 10; /* OTHER_SKU(1): the retry */
    state.other_stock[2] = 10; /* OTHER_SKU(2): the job that is out */
    submit_on(0, OTHER_SKU(1), 1, 2, "first");
    fake_run(0);
    CHECK(requests[0].outcome == LB_OUTCOME_RESERVED);

    submit_on(1, OTHER_SKU(2), 2, 1, NULL); /* job 1, out */
    /* Arriving in descending SKU order while it is out: they wait. */
    submit_on(2, OTHER_SKU(1), 1, 2, "first"); /* the retry of request 0 */
    submit_on(3, OTHER_SKU(0), 3, 1, NULL);
    submit_on(4, OTHER_SKU(0), 4, 1, NULL); /* no unit left */
    submit(5, 5, 2, FIRST_ITEM, NULL);      /* over the live item's limit of 1 */
    submit(6, 6, 1, FIRST_ITEM, NULL);
    CHECK(num_fake_jobs == 2);
    unsigned begins = calls.begins, commits = calls.commits, locks = calls.sku_locks;
    fake_run(1); /* its answer sends the waiting batches, together */
    CHECK(num_fake_jobs == 3);
    fake_run(2);
    CHECK(calls.commits == commits + 2 && calls.begins == begins + 3); /* job 1; job 2 twice (the retry's key) */
    CHECK(calls.sku_locks == locks + 3 && calls.skus_locked == 3);
    CHECK(calls.last_locked[0] == SKU && calls.last_locked[1] == OTHER_SKU(0) && calls.last_locked[2] == OTHER_SKU(1));
    CHECK(requests[1].outcome == LB_OUTCOME_RESERVED);
    CHECK(requests[2].outcome == LB_OUTCOME_REPLAYED && requests[2].order_id == requests[0].order_id);
    CHECK(requests[3].outcome == LB_OUTCOME_RESERVED && requests[4].outcome == LB_OUTCOME_SOLD_OUT);
    CHECK(requests[5].outcome == LB_OUTCOME_LIMIT && requests[5].limit == 1);
    CHECK(requests[6].outcome == LB_OUTCOME_RESERVED && requests[6].amount_cents == PRICE - 100);
    CHECK(state.other_reserved[0] == 1 && state.other_reserved[1] == 2 && state.other_reserved[2] == 1);
    CHECK(state.reserved == 1 && state.held == 4 && state.item_reserved[0] == 1);
    CHECK(state.num_orders == 4 && distinct_ids(1, 4));
    for (int i = 2; i != 7; ++i)
        CHECK(answer_turn[i] != 0);
    CHECK(lb_lanes_pending() == 0);
}

/* A COMMIT of a transaction of several SKUs whose answer was lost: run again, each order found by its id, none twice. */
static void test_many_skus_commit_lost(void)
{
    reset(10);
    lb_lanes_share_jobs(1, 64, 1);
    for (int i = 0; i != NUM_OTHER; ++i)
        state.other_stock[i] = 10;
    submit(0, 1, 1, 0, NULL); /* out */
    for (int i = 0; i != NUM_OTHER; ++i)
        submit_on(1 + i, OTHER_SKU(i), 2 + i, 2, i == 1 ? "mine" : NULL);
    fake_run(0);
    next_commit = COMMIT_LOST_AFTER;
    fake_run(1);
    CHECK(fake_jobs[1].runs == 2 && calls.skus_locked == 3);
    CHECK(state.num_orders == 4);
    for (int i = 0; i != NUM_OTHER; ++i)
        CHECK(state.other_reserved[i] == 2 && requests[1 + i].outcome == LB_OUTCOME_RESERVED &&
              requests[1 + i].order_id == state.orders[1 + i].id);
}

/* SKUs of different shards never share a transaction; nor do more SKUs than a job may carry. */
static void test_shards_apart(void)
{
    reset(10);
    lb_lanes_share_jobs(1, 2, 2); /* OTHER_SKU(i) are all even; SKU (7) is odd */
    for (int i = 0; i != NUM_OTHER; ++i)
        state.other_stock[i] = 10;
    submit_on(0, OTHER_SKU(0), 1, 1, NULL); /* out */
    submit(1, 2, 1, 0, NULL);
    submit_on(2, OTHER_SKU(1), 3, 1, NULL);
    submit_on(3, OTHER_SKU(2), 4, 1, NULL);
    fake_run(0);
    CHECK(num_fake_jobs == 2);
    fake_run(1); /* the oldest waiting (SKU 7) goes alone: no other SKU of its shard */
    CHECK(calls.skus_locked == 1 && calls.last_locked[0] == SKU);
    fake_run(2);
    CHECK(calls.skus_locked == 2 && calls.last_locked[0] == OTHER_SKU(1) && calls.last_locked[1] == OTHER_SKU(2));
    CHECK(num_fake_jobs == 3 && lb_lanes_pending() == 0);
    for (int i = 0; i != 4; ++i)
        CHECK(requests[i].outcome == LB_OUTCOME_RESERVED);
}

int main(void)
{
    lb_lane_run_jobs_with(fake_submit);
    lb_reserve_use_store(&memory_store);
    test_take_allocate_answer();
    test_sold_out_hint();
    test_commit_lost_after_it_committed();
    test_commit_lost_before_it_committed();
    test_taken_key();
    test_never_got_the_lock();
    test_unknown_sku();
    test_queue_cap();
    test_targets_per_batch();
    test_live_item();
    test_many_skus_one_transaction();
    test_many_skus_commit_lost();
    test_shards_apart();
    fake_jobs_reset();
    lb_lanes_stock_changed(SKU);
    return CHECK_RESULT("reserve");
}
