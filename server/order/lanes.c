/*
 * Order lanes on the loop thread. Life of a lane:
 *
 *   idle --submit--> in flight (batch of 1) --done--> idle, or in flight again with everything queued meanwhile
 *
 * (with up to BATCHES_IN_FLIGHT batches out at once).
 * A batch is one database job (reserve.c) that decides up to max_batch requests in one transaction. It takes them from
 * the queue once it holds the SKU's row lock, on its worker (batch_take): the queue is the one part of a lane that is
 * shared, under the lane's mutex. When the batch is done the lane answers each request, remembers which targets it saw
 * sold out (the hints), and sends another batch if requests wait.
 */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <h2o/memory.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/base/idmap.h"
#include "livebuy/order/lanes.h"
#include "livebuy/base/metrics.h"
#include "livebuy/order/reserve.h"

#define HINT_TTL_NS 1000000000ull /* a sold-out hint is trusted for a second, then the database is asked again */
/*
 * Two batches of a lane may be in flight: the database runs them one after the other (each locks the SKU row first);
 * the second one waits for the row and takes the queue as soon as the first one commits.
 */
#define BATCHES_IN_FLIGHT 2

typedef struct st_sold_out_hint_t {
    lb_order_target_t kind;
    int64_t target_id; /* 0 for the SKU itself */
    uint64_t seen_ns;
    unsigned epoch; /* of the SKU's stock, when the batch that saw it sold out was sent */
} sold_out_hint_t;

typedef struct st_lane_t lane_t;

typedef struct st_lane_batch_t {
    lb_db_job_t job;
    lane_t *lane;
    unsigned epoch;
    int taken;
    lb_reserve_batch_t batch;
} lane_batch_t;

struct st_lane_t {
    int64_t sku_id;
    /* The queue: appended to on the loop thread, taken from by the batch that holds the SKU's lock, on a worker. */
    pthread_mutex_t mutex;
    lb_order_request_t *head, **tail;
    size_t queued;
    unsigned untaken;   /* batches sent that have not taken their requests yet (mutex) */
    unsigned in_flight; /* batches sent and not yet done */
    sold_out_hint_t hints[1 + LB_MAX_TARGETS_PER_BATCH];
    size_t num_hints;
};

static unsigned max_batch = 2000, max_queued = 50000, default_ttl = 900;
static atomic_size_t pending;          /* queued or in flight, all threads */
static _Thread_local lb_idmap_t lanes; /* sku_id -> lane_t, this loop thread's */

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

static void publish_nowhere(int64_t live_item_id, int64_t available) {}
/* Where a batch's live-item counts go (the live stock feed); set once before the loops start. */
static lb_lanes_publish_cb publish_available = publish_nowhere;

void lb_lanes_publish_to(lb_lanes_publish_cb publish)
{
    publish_available = publish != NULL ? publish : publish_nowhere;
}

void lb_lanes_configure(unsigned batch, unsigned queued, unsigned reserve_ttl)
{
    max_batch = batch;
    max_queued = queued;
    default_ttl = reserve_ttl;
}

size_t lb_lanes_pending(void)
{
    return atomic_load(&pending);
}

static sold_out_hint_t *find_hint(lane_t *lane, lb_order_target_t kind, int64_t target_id)
{
    for (size_t i = 0; i != lane->num_hints; ++i)
        if (lane->hints[i].kind == kind && lane->hints[i].target_id == target_id)
            return &lane->hints[i];
    return NULL;
}

static int hinted_sold_out(lane_t *lane, const lb_order_request_t *r)
{
    /* Group-buys sell the SKU's own stock: the SKU's hint speaks for them. */
    lb_order_target_t kind = r->target == LB_TARGET_LIVE_ITEM ? LB_TARGET_LIVE_ITEM : LB_TARGET_SKU;
    sold_out_hint_t *hint = find_hint(lane, kind, kind == LB_TARGET_SKU ? 0 : r->target_id);
    return hint != NULL && lb_monotonic_ns() - hint->seen_ns < HINT_TTL_NS && hint->epoch == stock_epoch(lane->sku_id);
}

/* After a batch: a target with nothing left gets a hint; one with stock again loses it. */
static void update_hints(lane_t *lane, const lb_reserve_batch_t *batch, unsigned epoch)
{
    uint64_t now = lb_monotonic_ns();
    for (size_t i = 0; i != batch->num_targets; ++i) {
        const lb_alloc_target_t *t = &batch->targets[i];
        if (t->kind == LB_TARGET_GROUP_BUY)
            continue;
        sold_out_hint_t *hint = find_hint(lane, t->kind, t->id);
        if (t->found && t->left == 0) {
            if (hint == NULL && lane->num_hints != LB_ARRAY_SIZE(lane->hints))
                hint = &lane->hints[lane->num_hints++];
            if (hint != NULL)
                *hint = (sold_out_hint_t){t->kind, t->id, now, epoch};
        } else if (hint != NULL) {
            *hint = lane->hints[--lane->num_hints];
        }
    }
}

/* The live items' counts as the batch left them, for this thread's stock streams. */
static void publish_stock(const lb_reserve_batch_t *batch)
{
    for (size_t i = 0; i != batch->num_targets; ++i) {
        const lb_alloc_target_t *t = &batch->targets[i];
        if (t->kind == LB_TARGET_LIVE_ITEM && t->found)
            publish_available(t->id, t->left);
    }
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
 * Takes up to max_batch queued requests, stopping before one that would bring a target (live item, group-buy) too many
 * into the batch, or that is of the other kind (replay checks and reservations go in separate batches).
 */
static lb_order_request_t *take_batch(lane_t *lane, size_t *count)
{
    const lb_order_request_t *targets[LB_MAX_TARGETS_PER_BATCH];
    size_t num_targets = 0, n = 0;
    lb_order_request_t *first = lane->head, **link = &lane->head;

    while (*link != NULL && n != max_batch && (*link)->replay_check == first->replay_check) {
        if (!count_target(*link, targets, &num_targets))
            break;
        link = &(*link)->next;
        ++n;
    }
    lane->head = *link;
    *link = NULL;
    if (lane->head == NULL)
        lane->tail = &lane->head;
    lane->queued -= n;
    *count = n;
    return first;
}

/* Takes the batch's requests (on the worker, once the batch holds the SKU's lock; on the loop if it never got there). */
static void batch_take(lb_reserve_batch_t *batch)
{
    lane_batch_t *lb = H2O_STRUCT_FROM_MEMBER(lane_batch_t, batch, batch);
    lane_t *lane = lb->lane;
    pthread_mutex_lock(&lane->mutex);
    batch->requests = lane->head != NULL ? take_batch(lane, &batch->count) : NULL;
    lb->taken = 1;
    --lane->untaken;
    pthread_mutex_unlock(&lane->mutex);
}

/* Whether the lane should send a batch: requests wait, none of its batches is still to take them, and one may go. */
static int wants_batch(lane_t *lane)
{
    pthread_mutex_lock(&lane->mutex);
    int wants = lane->head != NULL && lane->untaken == 0 && lane->in_flight < BATCHES_IN_FLIGHT;
    pthread_mutex_unlock(&lane->mutex);
    return wants;
}

static void free_lane(lane_t *lane)
{
    lb_idmap_remove(&lanes, lane->sku_id);
    pthread_mutex_destroy(&lane->mutex);
    free(lane);
}

static void send_batch(uv_loop_t *loop, lane_t *lane);

static int batch_work(lb_db_job_t *job, lb_db_t *db)
{
    return lb_reserve_run(db, &H2O_STRUCT_FROM_MEMBER(lane_batch_t, job, job)->batch);
}

static void batch_done(lb_db_job_t *job, int status)
{
    lane_batch_t *lb = H2O_STRUCT_FROM_MEMBER(lane_batch_t, job, job);
    lane_t *lane = lb->lane;
    uv_loop_t *loop = lb->job.uv.loop;

    if (!lb->taken) {
        assert(status != 0);
        batch_take(&lb->batch); /* it never got the lock: its share of the queue is answered "unavailable" */
    }
    if (status == 0) {
        lb_metrics_batch(lb->batch.count);
        update_hints(lane, &lb->batch, lb->epoch);
        publish_stock(&lb->batch);
    }
    --lane->in_flight;
    for (lb_order_request_t *r = lb->batch.requests, *next; r != NULL; r = next) {
        next = r->next;
        if (status != 0)
            r->outcome = LB_OUTCOME_UNAVAILABLE;
        atomic_fetch_sub(&pending, 1);
        r->on_decided(r);
    }

    if (wants_batch(lane))
        send_batch(loop, lane);
    else if (lane->in_flight == 0 && lane->head == NULL && lane->num_hints == 0)
        free_lane(lane); /* no batch of it is out: nothing else reads its queue */
}

static void batch_release(lb_db_job_t *job, int status)
{
    (void)status;
    free(H2O_STRUCT_FROM_MEMBER(lane_batch_t, job, job));
}

static void send_batch(uv_loop_t *loop, lane_t *lane)
{
    lane_batch_t *lb = lb_calloc(1, sizeof(*lb));
    lb->lane = lane;
    lb->epoch = stock_epoch(lane->sku_id);
    lb->batch.sku_id = lane->sku_id;
    lb->batch.default_ttl = default_ttl;
    lb->batch.take = batch_take;
    pthread_mutex_lock(&lane->mutex);
    if (lane->head != NULL && lane->head->replay_check) {
        /* Replay checks lock nothing (reserve.c): they are taken now, and the batch never waits for the row. */
        lb->batch.requests = take_batch(lane, &lb->batch.count);
        lb->taken = 1;
    } else {
        ++lane->untaken;
    }
    ++lane->in_flight;
    pthread_mutex_unlock(&lane->mutex);
    lb_db_submit_prompt(loop, &lb->job, batch_work, batch_done, batch_release);
}

int lb_lanes_submit(uv_loop_t *loop, lb_order_request_t *request)
{
    lb_db_answer_finished(); /* batches done while this thread read requests: their answers, and the next batch, go now */
    lane_t *lane = lb_idmap_get(&lanes, request->sku_id);
    request->replay_check = 0;
    if (lane != NULL && hinted_sold_out(lane, request)) {
        /* A request with the buyer's own key may be the retry of one that got stock: the batch looks the key up. */
        if (request->key_given) {
            request->replay_check = 1;
        } else {
            request->outcome = LB_OUTCOME_SOLD_OUT;
            request->left = 0;
            request->on_decided(request);
            return 0;
        }
    }
    if (atomic_fetch_add(&pending, 1) >= max_queued) {
        atomic_fetch_sub(&pending, 1);
        return LB_EBUSY;
    }
    if (lane == NULL) {
        lane = lb_calloc(1, sizeof(*lane));
        lane->sku_id = request->sku_id;
        pthread_mutex_init(&lane->mutex, NULL);
        lane->tail = &lane->head;
        lb_idmap_set(&lanes, lane->sku_id, lane);
    }
    request->next = NULL;
    request->outcome = LB_OUTCOME_PENDING;
    pthread_mutex_lock(&lane->mutex);
    *lane->tail = request;
    lane->tail = &request->next;
    ++lane->queued;
    int send = lane->untaken == 0 && lane->in_flight < BATCHES_IN_FLIGHT;
    pthread_mutex_unlock(&lane->mutex);
    if (send)
        send_batch(loop, lane);
    return 0;
}

void lb_lanes_stock_changed(int64_t sku_id)
{
    atomic_fetch_add_explicit(&stock_epochs[(uint64_t)sku_id % NUM_EPOCHS], 1, memory_order_release);
    lane_t *lane = lb_idmap_get(&lanes, sku_id);
    if (lane == NULL)
        return;
    lane->num_hints = 0;
    if (lane->in_flight == 0 && lane->head == NULL)
        free_lane(lane);
}
