/*
 * Order lanes: the lane engine's kind for reservation requests (livebuy/order/lane.h). A batch takes its requests once
 * it holds the SKU's row lock, up to two batches in flight per SKU; the batches of many SKUs share a job, one
 * reservation transaction (reserve.c), when the loop thread has as many jobs out as the database has connections. When
 * a batch is done the lane answers each request, remembers which targets it saw sold out or off air (the hints),
 * publishes the live items' counts, and the engine sends another batch if requests wait.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <h2o/memory.h>
#include "livebuy/common.h"
#include "livebuy/base/metrics.h"
#include "livebuy/order/lane.h"
#include "livebuy/order/lanes.h"
#include "livebuy/order/reserve.h"

#define HINT_TTL_NS 1000000000ull /* a sold-out hint is trusted for a second, then the database is asked again */

/* A target a batch found with nothing left: sold out, or a live item off air (its quota shrank to what it sold). */
typedef struct st_sold_out_hint_t {
    lb_order_target_t kind;
    int64_t target_id; /* 0 for the SKU itself */
    uint64_t seen_ns;
    unsigned epoch;             /* of the SKU's stock, when the batch that saw it sold out was sent */
    lb_order_outcome_t outcome; /* LB_OUTCOME_SOLD_OUT or LB_OUTCOME_OFF_AIR: the answer it gives */
} sold_out_hint_t;

typedef struct st_order_lane_t {
    lb_lane_t lane;
    sold_out_hint_t hints[1 + LB_MAX_TARGETS_PER_BATCH];
    size_t num_hints;
} order_lane_t;

typedef struct st_order_batch_t {
    lb_lane_batch_t lane_batch;
    unsigned epoch;
    lb_reserve_batch_t reserve;
} order_batch_t;

static unsigned default_ttl = 900;
static uint64_t deadline_ns = 5000000000ull;
#define DEADLINE_TICK_MS 250
static _Thread_local uv_timer_t *deadline_timer; /* this loop thread's look at its lanes' oldest requests */

static int takes_late(const void *first);
static void *batch_end(void *first, unsigned max, size_t *count);
static void batch_prepare(lb_lane_batch_t *batch);
static int batch_work(lb_lane_batch_t *const *batches, size_t n, lb_db_t *db);
static void batch_done(lb_lane_batch_t *batch, int status);
static int keeps_hints(const lb_lane_t *lane);
static int request_gone(const void *item);
static void request_dropped(void *item);

static lb_lane_kind_t order_lanes = {
    .link_offset = offsetof(lb_order_request_t, next),
    .lane_size = sizeof(order_lane_t),
    .batch_size = sizeof(order_batch_t),
    .max_batch = 2000,
    /* The database runs them one after the other (each locks the SKU row first); the second takes the queue as soon as
     * the first commits. */
    .max_in_flight = 2,
    /* Set by lb_lanes_configure: as many jobs out as connections (then batches of many SKUs gather), 64 SKUs a job. */
    .max_jobs = 4,
    .max_lanes_per_job = 64,
    .max_queued = 50000,
    .takes_late = takes_late,
    .batch_end = batch_end,
    .prepare = batch_prepare,
    .work = batch_work,
    .done = batch_done,
    .keeps = keeps_hints,
    .gone = request_gone,
    .dropped = request_dropped,
};

/*
 * Stock that came back in this process (restock, cancellation, expiry) bumps its SKU's epoch, on whichever thread it
 * happened; a hint is trusted only while the epoch is the one its batch was sent under. SKUs share the counters by
 * their id's low bits: a collision only costs a database trip.
 */
#define NUM_EPOCHS 4096
static atomic_uint stock_epochs[NUM_EPOCHS];

static unsigned stock_epoch(int64_t sku_id)
{
    return atomic_load_explicit(&stock_epochs[(uint64_t)sku_id % NUM_EPOCHS], memory_order_acquire);
}

static void publish_nowhere(int64_t live_item_id, int64_t available, int64_t reserved, int64_t sold) {}
/* Where a batch's live-item counts go (the live stock feed); set once before the loops start. */
static lb_lanes_publish_cb publish_counts = publish_nowhere;

void lb_lanes_publish_to(lb_lanes_publish_cb publish)
{
    publish_counts = publish != NULL ? publish : publish_nowhere;
}

void lb_lanes_configure(unsigned batch, unsigned queued, unsigned reserve_ttl)
{
    order_lanes.max_batch = batch;
    order_lanes.max_queued = queued;
    default_ttl = reserve_ttl;
}

void lb_lanes_share_jobs(unsigned jobs, unsigned skus_per_job, unsigned shards)
{
    order_lanes.max_jobs = jobs;
    order_lanes.max_lanes_per_job = skus_per_job;
    order_lanes.shards = shards;
}

void lb_lanes_set_deadline(unsigned wait_ms)
{
    deadline_ns = (uint64_t)wait_ms * 1000000;
}

static int waited_too_long(const void *item, uint64_t now_ns)
{
    return now_ns - ((const lb_order_request_t *)item)->queued_ns >= deadline_ns;
}

static void timed_out(void *item)
{
    lb_order_request_t *r = item;
    r->outcome = LB_OUTCOME_TIMED_OUT;
    r->on_decided(r);
}

static void on_deadline_tick(uv_timer_t *timer)
{
    (void)timer;
    size_t n = lb_lane_expire(&order_lanes, waited_too_long, timed_out, lb_monotonic_ns());
    if (n != 0)
        lb_metrics_orders_timed_out(n);
}

/* The first order a loop thread queues starts its deadline timer (unreferenced: it never keeps the loop running). */
static void start_deadline_timer(uv_loop_t *loop)
{
    deadline_timer = lb_malloc(sizeof(*deadline_timer));
    uv_timer_init(loop, deadline_timer);
    uv_timer_start(deadline_timer, on_deadline_tick, DEADLINE_TICK_MS, DEADLINE_TICK_MS);
    uv_unref((uv_handle_t *)deadline_timer);
}

size_t lb_lanes_pending(void)
{
    return atomic_load(&order_lanes.pending);
}

static sold_out_hint_t *find_hint(order_lane_t *lane, lb_order_target_t kind, int64_t target_id)
{
    for (size_t i = 0; i != lane->num_hints; ++i)
        if (lane->hints[i].kind == kind && lane->hints[i].target_id == target_id)
            return &lane->hints[i];
    return NULL;
}

static int keeps_hints(const lb_lane_t *lane)
{
    return H2O_STRUCT_FROM_MEMBER(order_lane_t, lane, lane)->num_hints != 0;
}

/* What a live hint for the request's target says (sold out, off air), or LB_OUTCOME_PENDING when there is none. */
static lb_order_outcome_t hinted_outcome(order_lane_t *lane, const lb_order_request_t *r)
{
    if (lane->num_hints == 0)
        return LB_OUTCOME_PENDING;
    /* Group-buys sell the SKU's own stock: the SKU's hint speaks for them. */
    lb_order_target_t kind = r->target == LB_TARGET_LIVE_ITEM ? LB_TARGET_LIVE_ITEM : LB_TARGET_SKU;
    sold_out_hint_t *hint = find_hint(lane, kind, kind == LB_TARGET_SKU ? 0 : r->target_id);
    if (hint == NULL || lb_monotonic_ns() - hint->seen_ns >= HINT_TTL_NS || hint->epoch != stock_epoch(lane->lane.sku_id))
        return LB_OUTCOME_PENDING;
    return hint->outcome;
}

/* After a batch: a target with nothing left gets a hint; one with stock again loses it. */
static void update_hints(order_lane_t *lane, const lb_reserve_batch_t *batch, unsigned epoch)
{
    uint64_t now = lb_monotonic_ns();
    for (size_t i = 0; i != batch->num_targets; ++i) {
        const lb_alloc_target_t *t = &batch->targets[i];
        if (t->kind == LB_TARGET_GROUP_BUY)
            continue;
        sold_out_hint_t *hint = find_hint(lane, t->kind, t->id);
        if (t->found && (t->left == 0 || t->closed)) {
            if (hint == NULL && lane->num_hints != LB_ARRAY_SIZE(lane->hints))
                hint = &lane->hints[lane->num_hints++];
            if (hint != NULL)
                *hint = (sold_out_hint_t){t->kind, t->id, now, epoch, t->closed ? LB_OUTCOME_OFF_AIR : LB_OUTCOME_SOLD_OUT};
        } else if (hint != NULL) {
            *hint = lane->hints[--lane->num_hints];
        }
    }
}

/* The live items' counts as the batch left them (what it locked, plus its grants), for this thread's streams. */
static void publish_stock(const lb_reserve_batch_t *batch)
{
    for (size_t i = 0; i != batch->num_targets; ++i) {
        const lb_alloc_target_t *t = &batch->targets[i];
        if (t->kind == LB_TARGET_LIVE_ITEM && t->found)
            publish_counts(t->id, t->left, t->reserved + t->granted, t->sold);
    }
}

/* Replay checks lock nothing (reserve.c): they are taken when sent, and their batch never waits for the row. */
static int takes_late(const void *first)
{
    return !((const lb_order_request_t *)first)->replay_check;
}

/* Counts a request's target into the batch's; 0 when that would be one target too many. */
static int count_target(const lb_order_request_t *r, const lb_order_request_t **targets, size_t *num_targets)
{
    if (r->target == LB_TARGET_SKU)
        return 1;
    for (size_t i = 0; i != *num_targets; ++i)
        if (targets[i]->target == r->target && targets[i]->target_id == r->target_id)
            return 1;
    if (*num_targets == LB_MAX_TARGETS_PER_BATCH)
        return 0;
    targets[(*num_targets)++] = r;
    return 1;
}

/*
 * A batch is up to max queued requests, ending before one that would bring a target (live item, group-buy) too many
 * into it, or that is of the other kind (replay checks and reservations go in separate batches).
 */
static void *batch_end(void *first_request, unsigned max, size_t *count)
{
    const lb_order_request_t *targets[LB_MAX_TARGETS_PER_BATCH];
    lb_order_request_t *first = first_request, *last = first, *r;
    size_t num_targets = 0, n = 0;
    for (r = first; r != NULL && n != max && r->replay_check == first->replay_check && count_target(r, targets, &num_targets);
         r = r->next) {
        last = r;
        ++n;
    }
    *count = n;
    return last;
}

static int request_gone(const void *item)
{
    return atomic_load_explicit(&((const lb_order_request_t *)item)->gone, memory_order_relaxed);
}

static void request_dropped(void *item)
{
    lb_order_request_t *r = item;
    lb_metrics_orders_dropped(1);
    r->outcome = LB_OUTCOME_GONE;
    r->on_decided(r);
}

void lb_lanes_request_gone(lb_order_request_t *request)
{
    atomic_store_explicit(&request->gone, 1, memory_order_relaxed);
}

/*
 * The reservation batch's take: the lane's oldest requests, once the batch holds the SKU's lock (on its worker). A
 * replay check's batch took them when it was sent (and may have found only requests whose client had gone).
 */
static void take_requests(lb_reserve_batch_t *reserve)
{
    order_batch_t *batch = H2O_STRUCT_FROM_MEMBER(order_batch_t, reserve, reserve);
    if (batch->lane_batch.taken)
        return;
    lb_lane_take(&batch->lane_batch);
    reserve->requests = batch->lane_batch.items;
    reserve->count = batch->lane_batch.count;
}

static void batch_prepare(lb_lane_batch_t *lane_batch)
{
    order_batch_t *batch = (order_batch_t *)lane_batch;
    batch->epoch = stock_epoch(lane_batch->lane->sku_id);
    batch->reserve.sku_id = lane_batch->lane->sku_id;
    batch->reserve.default_ttl = default_ttl;
    batch->reserve.take = take_requests;
    batch->reserve.requests = lane_batch->items; /* a replay check's, taken already; else NULL until take_requests */
    batch->reserve.count = lane_batch->count;
}

static int batch_work(lb_lane_batch_t *const *batches, size_t n, lb_db_t *db)
{
    lb_reserve_batch_t **reserves = lb_malloc(n * sizeof(*reserves));
    for (size_t i = 0; i != n; ++i)
        reserves[i] = &((order_batch_t *)batches[i])->reserve;
    int ret = lb_reserve_run(db, reserves, n);
    free(reserves);
    if (ret == 0)
        lb_metrics_order_transaction();
    return ret;
}

static void batch_done(lb_lane_batch_t *lane_batch, int status)
{
    order_batch_t *batch = (order_batch_t *)lane_batch;
    if (status == 0) {
        lb_metrics_batch(lane_batch->count);
        update_hints((order_lane_t *)lane_batch->lane, &batch->reserve, batch->epoch);
        publish_stock(&batch->reserve);
    }
    for (lb_order_request_t *r = lane_batch->items, *next; r != NULL; r = next) {
        next = r->next;
        if (status != 0)
            r->outcome = LB_OUTCOME_UNAVAILABLE;
        r->on_decided(r);
    }
}

int lb_lanes_submit(uv_loop_t *loop, lb_order_request_t *request)
{
    order_lane_t *lane = (order_lane_t *)lb_lane_open(&order_lanes, request->sku_id);
    lb_order_outcome_t hinted = hinted_outcome(lane, request);
    request->replay_check = 0;
    request->hinted = hinted;
    if (hinted != LB_OUTCOME_PENDING) {
        /* A request with the buyer's own key may be the retry of one that got stock: the batch looks the key up. */
        if (request->key_given) {
            request->replay_check = 1;
        } else {
            request->outcome = hinted;
            request->left = 0;
            request->on_decided(request);
            return 0;
        }
    }
    request->outcome = LB_OUTCOME_PENDING;
    request->queued_ns = lb_monotonic_ns();
    if (deadline_timer == NULL && deadline_ns != 0 && loop != NULL)
        start_deadline_timer(loop);
    return lb_lane_submit(loop, &lane->lane, request);
}

void lb_lanes_stock_changed(int64_t sku_id)
{
    atomic_fetch_add_explicit(&stock_epochs[(uint64_t)sku_id % NUM_EPOCHS], 1, memory_order_release);
    order_lane_t *lane = (order_lane_t *)lb_lane_find(&order_lanes, sku_id);
    if (lane == NULL)
        return;
    lane->num_hints = 0;
    lb_lane_forget_if_idle(&lane->lane);
}
