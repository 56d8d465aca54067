/*
 * The lane engine (see livebuy/order/lane.h). Life of a lane:
 *
 *   (none) --submit--> in flight (a batch of 1) --done--> idle (freed, unless its kind keeps it),
 *                                                        or in flight again with what queued meanwhile
 */
#include <assert.h>
#include <stdlib.h>
#include <h2o/memory.h>
#include "livebuy/common.h"
#include "livebuy/base/idmap.h"
#include "livebuy/order/lane.h"

/* sku_id -> this thread's first lane for the SKU; the lanes of other kinds follow it by next_of_sku. */
static _Thread_local lb_idmap_t lanes;
static lb_lane_runner_cb run_job = lb_db_submit_prompt;

void lb_lane_run_jobs_with(lb_lane_runner_cb runner)
{
    run_job = runner != NULL ? runner : lb_db_submit_prompt;
}

/* Where an item keeps its link to the next one (a pointer to its own type; every object pointer is the same here). */
static void **link_of(const lb_lane_kind_t *kind, void *item)
{
    return (void **)((char *)item + kind->link_offset);
}

lb_lane_t *lb_lane_find(lb_lane_kind_t *kind, int64_t sku_id)
{
    lb_lane_t *lane = lb_idmap_get(&lanes, sku_id);
    while (lane != NULL && lane->kind != kind)
        lane = lane->next_of_sku;
    return lane;
}

lb_lane_t *lb_lane_open(lb_lane_kind_t *kind, int64_t sku_id)
{
    lb_db_answer_finished(); /* batches done while this thread read requests: their answers, and the next batch, go now */
    lb_lane_t *lane = lb_lane_find(kind, sku_id);
    if (lane != NULL)
        return lane;
    lane = lb_calloc(1, kind->lane_size);
    lane->kind = kind;
    lane->sku_id = sku_id;
    pthread_mutex_init(&lane->mutex, NULL);
    lane->tail = &lane->head;
    lane->next_of_sku = lb_idmap_get(&lanes, sku_id);
    lb_idmap_set(&lanes, sku_id, lane);
    return lane;
}

static void free_lane(lb_lane_t *lane)
{
    lb_lane_t *first = lb_idmap_get(&lanes, lane->sku_id);
    if (first == lane) {
        if (lane->next_of_sku != NULL)
            lb_idmap_set(&lanes, lane->sku_id, lane->next_of_sku);
        else
            lb_idmap_remove(&lanes, lane->sku_id);
    } else {
        while (first->next_of_sku != lane)
            first = first->next_of_sku;
        first->next_of_sku = lane->next_of_sku;
    }
    pthread_mutex_destroy(&lane->mutex);
    free(lane);
}

void lb_lane_forget_if_idle(lb_lane_t *lane)
{
    /* No batch of it is out: nothing else reads its queue. */
    if (lane->in_flight == 0 && lane->head == NULL && (lane->kind->keeps == NULL || !lane->kind->keeps(lane)))
        free_lane(lane);
}

size_t lb_lane_expire(lb_lane_kind_t *kind, int (*too_old)(const void *item, uint64_t now_ns), void (*expired)(void *item),
                      uint64_t now_ns)
{
    void *out = NULL, **out_tail = &out;
    size_t n = 0;
    for (size_t i = 0; i != lanes.capacity; ++i) {
        if (lanes.entries[i].key <= 0)
            continue;
        for (lb_lane_t *lane = lanes.entries[i].value; lane != NULL; lane = lane->next_of_sku) {
            if (lane->kind != kind)
                continue;
            pthread_mutex_lock(&lane->mutex);
            while (lane->head != NULL && too_old(lane->head, now_ns)) {
                void *item = lane->head;
                void **link = link_of(kind, item);
                lane->head = *link;
                *link = NULL;
                *out_tail = item;
                out_tail = link;
                ++n;
            }
            if (lane->head == NULL)
                lane->tail = &lane->head;
            pthread_mutex_unlock(&lane->mutex);
        }
    }
    atomic_fetch_sub(&kind->pending, n);
    for (void *item = out, *next; item != NULL; item = next) {
        next = *link_of(kind, item);
        expired(item);
    }
    return n;
}

static void *first_ones(const lb_lane_kind_t *kind, void *first, unsigned max, size_t *count)
{
    void *last = first, *next;
    size_t n = 1;
    while (n != max && (next = *link_of(kind, last)) != NULL) {
        last = next;
        ++n;
    }
    *count = n;
    return last;
}

/*
 * Moves the items whose client has gone out of the queue's first max live ones into the batch's dropped list, so that
 * the batch is made of live items only. Under the lane's mutex.
 */
static void drop_gone_locked(lb_lane_batch_t *batch, unsigned max)
{
    lb_lane_t *lane = batch->lane;
    const lb_lane_kind_t *kind = lane->kind;
    void **link = &lane->head;
    unsigned live = 0;
    if (kind->gone == NULL)
        return;
    while (*link != NULL && live != max) {
        void *item = *link;
        void **next = link_of(kind, item);
        if (!kind->gone(item)) {
            link = next;
            ++live;
            continue;
        }
        *link = *next;
        if (lane->tail == next)
            lane->tail = link;
        *next = batch->dropped;
        batch->dropped = item;
        ++batch->num_dropped;
    }
}

/* Moves the batch's share of the queue into it; under the lane's mutex. */
static void take_locked(lb_lane_batch_t *batch)
{
    lb_lane_t *lane = batch->lane;
    const lb_lane_kind_t *kind = lane->kind;
    batch->taken = 1;
    drop_gone_locked(batch, kind->max_batch);
    if (lane->head == NULL)
        return;
    void *first = lane->head, *last;
    size_t n;
    last = kind->batch_end != NULL ? kind->batch_end(first, kind->max_batch, &n) : first_ones(kind, first, kind->max_batch, &n);
    void **link = link_of(kind, last);
    lane->head = *link;
    *link = NULL;
    if (lane->head == NULL)
        lane->tail = &lane->head;
    batch->items = first;
    batch->count = n;
}

void lb_lane_take(lb_lane_batch_t *batch)
{
    lb_lane_t *lane = batch->lane;
    pthread_mutex_lock(&lane->mutex);
    assert(!batch->taken && lane->untaken != 0);
    take_locked(batch);
    --lane->untaken;
    pthread_mutex_unlock(&lane->mutex);
}

/* Whether the lane may send a batch now: items wait, none of its batches is still to take them, and one may go. */
static int may_send_locked(const lb_lane_t *lane)
{
    return lane->head != NULL && lane->untaken == 0 && lane->in_flight < lane->kind->max_in_flight;
}

static int may_send(lb_lane_t *lane)
{
    pthread_mutex_lock(&lane->mutex);
    int may = may_send_locked(lane);
    pthread_mutex_unlock(&lane->mutex);
    return may;
}

static void send_batch(uv_loop_t *loop, lb_lane_t *lane);

static int batch_work(lb_db_job_t *job, lb_db_t *db)
{
    lb_lane_batch_t *batch = H2O_STRUCT_FROM_MEMBER(lb_lane_batch_t, job, job);
    return batch->lane->kind->work(batch, db);
}

static void batch_done(lb_db_job_t *job, int status)
{
    lb_lane_batch_t *batch = H2O_STRUCT_FROM_MEMBER(lb_lane_batch_t, job, job);
    lb_lane_t *lane = batch->lane;
    lb_lane_kind_t *kind = lane->kind;

    if (!batch->taken) {
        assert(status != 0);
        lb_lane_take(batch); /* it never got the lock: its share of the queue is answered with the failure */
    }
    --lane->in_flight;
    atomic_fetch_sub(&kind->pending, batch->count + batch->num_dropped);
    for (void *item = batch->dropped, *next; item != NULL; item = next) {
        next = *link_of(kind, item);
        kind->dropped(item);
    }
    kind->done(batch, status);
    if (may_send(lane))
        send_batch(batch->loop, lane);
    else
        lb_lane_forget_if_idle(lane);
}

static void batch_release(lb_db_job_t *job, int status)
{
    (void)status;
    free(H2O_STRUCT_FROM_MEMBER(lb_lane_batch_t, job, job));
}

static void send_batch(uv_loop_t *loop, lb_lane_t *lane)
{
    lb_lane_kind_t *kind = lane->kind;
    lb_lane_batch_t *batch = lb_calloc(1, kind->batch_size);
    batch->lane = lane;
    batch->loop = loop;
    pthread_mutex_lock(&lane->mutex);
    assert(lane->head != NULL);
    if (kind->takes_late != NULL && kind->takes_late(lane->head))
        ++lane->untaken;
    else
        take_locked(batch);
    ++lane->in_flight;
    pthread_mutex_unlock(&lane->mutex);
    if (kind->prepare != NULL)
        kind->prepare(batch);
    run_job(loop, &batch->job, batch_work, batch_done, batch_release);
}

int lb_lane_submit(uv_loop_t *loop, lb_lane_t *lane, void *item)
{
    lb_lane_kind_t *kind = lane->kind;
    if (atomic_fetch_add(&kind->pending, 1) >= kind->max_queued) {
        atomic_fetch_sub(&kind->pending, 1);
        lb_lane_forget_if_idle(lane);
        return LB_EBUSY;
    }
    *link_of(kind, item) = NULL;
    pthread_mutex_lock(&lane->mutex);
    *lane->tail = item;
    lane->tail = link_of(kind, item);
    int send = may_send_locked(lane);
    pthread_mutex_unlock(&lane->mutex);
    if (send)
        send_batch(loop, lane);
    return 0;
}
