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
    drop_gone_locked(batch, batch->max_items);
    lane->last_taken = 0;
    if (lane->head == NULL)
        return;
    void *first = lane->head, *last;
    size_t n;
    last = kind->batch_end != NULL ? kind->batch_end(first, batch->max_items, &n) : first_ones(kind, first, batch->max_items, &n);
    void **link = link_of(kind, last);
    lane->head = *link;
    *link = NULL;
    if (lane->head == NULL)
        lane->tail = &lane->head;
    batch->items = first;
    batch->count = n;
    lane->last_taken = (unsigned)n;
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

/* ---- Jobs: batches that wait for one, and jobs that carry one or several ------------------------------------------- */

typedef struct st_lane_job_t {
    lb_db_job_t job;
    lb_lane_kind_t *kind;
    uv_loop_t *loop;
    size_t count;
    lb_lane_batch_t *batches[]; /* in ascending sku_id order */
} lane_job_t;

/* A loop thread's batches of one kind that wait for a job, and its jobs of that kind out. */
typedef struct st_job_queue_t {
    lb_lane_kind_t *kind;
    unsigned jobs_out;
    int holding; /* while a job's batches are answered: what they send waits and goes together after */
    lb_lane_batch_t *head, **tail;
} job_queue_t;

#define MAX_KINDS 8
static _Thread_local job_queue_t job_queues[MAX_KINDS];

static job_queue_t *job_queue_of(lb_lane_kind_t *kind)
{
    for (size_t i = 0; i != MAX_KINDS; ++i) {
        job_queue_t *q = &job_queues[i];
        if (q->kind == kind)
            return q;
        if (q->kind == NULL) {
            *q = (job_queue_t){.kind = kind, .tail = &q->head};
            return q;
        }
    }
    assert(!"more lane kinds than MAX_KINDS");
    abort();
}

static void send_batch(uv_loop_t *loop, lb_lane_t *lane);

static int job_work(lb_db_job_t *db_job, lb_db_t *db)
{
    lane_job_t *job = H2O_STRUCT_FROM_MEMBER(lane_job_t, job, db_job);
    return job->kind->work(job->batches, job->count, db);
}

/* Answers a batch of a job that is done. */
static void finish_batch(lb_lane_batch_t *batch, int status)
{
    lb_lane_t *lane = batch->lane;
    lb_lane_kind_t *kind = lane->kind;

    if (!batch->taken) {
        assert(status != 0);
        lb_lane_take(batch); /* it never got the lock: its share of the queue is answered with the failure */
    }
    --lane->in_flight;
    --lane->in_job;
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

static void send_waiting(uv_loop_t *loop, job_queue_t *q);

static void job_done(lb_db_job_t *db_job, int status)
{
    lane_job_t *job = H2O_STRUCT_FROM_MEMBER(lane_job_t, job, db_job);
    job_queue_t *q = job_queue_of(job->kind);
    --q->jobs_out;
    q->holding = 1;
    for (size_t i = 0; i != job->count; ++i)
        finish_batch(job->batches[i], status);
    q->holding = 0;
    /* The other kinds' batches that waited for these SKUs go first (held_by_other_kind), then this kind's. */
    for (size_t i = 0; i != MAX_KINDS && job_queues[i].kind != NULL; ++i)
        if (&job_queues[i] != q)
            send_waiting(job->loop, &job_queues[i]);
    send_waiting(job->loop, q);
}

static void job_release(lb_db_job_t *db_job, int status)
{
    (void)status;
    lane_job_t *job = H2O_STRUCT_FROM_MEMBER(lane_job_t, job, db_job);
    for (size_t i = 0; i != job->count; ++i)
        free(job->batches[i]);
    free(job);
}

/* Whether a waiting batch may join a job that has batches[0..n): another SKU, of the same shard. */
static int may_join(const lb_lane_kind_t *kind, lb_lane_batch_t *const *batches, size_t n, const lb_lane_batch_t *batch)
{
    unsigned shards = kind->shards > 1 ? kind->shards : 1;
    if ((uint64_t)batch->lane->sku_id % shards != (uint64_t)batches[0]->lane->sku_id % shards)
        return 0;
    for (size_t i = 0; i != n; ++i)
        if (batches[i]->lane == batch->lane)
            return 0;
    return 1;
}

/*
 * A lane's last batch took this many items or more (or was full, when batches are smaller): its SKU is hot, and its
 * second batch goes out while the first holds the row, to wait for it in the database and take the queue the moment
 * the first commits.
 */
#define HOT_BATCH 16

/* Whether a waiting batch's lane has another batch out (the lane sends a second only once the first has taken). */
static int other_out(const lb_lane_batch_t *batch)
{
    return batch->lane->in_flight > 1;
}

/*
 * Whether a waiting batch goes in a job of its own: its lane has another batch out, and the SKU is hot. The SKUs of a
 * shared job never wait behind a hot row. A lane that is not hot waits for its batch to come back instead: a job slot
 * held while it waits for the row would carry one or two orders. (A kind that shares no jobs sends every batch alone.)
 */
static int goes_alone(const lb_lane_batch_t *batch)
{
    const lb_lane_t *lane = batch->lane;
    unsigned hot = lane->kind->max_batch < HOT_BATCH ? lane->kind->max_batch : HOT_BATCH; /* --max-batch 1: every batch */
    return other_out(batch) && (lane->kind->max_jobs == 0 || lane->last_taken >= hot);
}

/*
 * Whether the batch's SKU is in a job of another kind of this thread: 0 no; 1 yes, and the batch waits for that job to
 * come back (job_done sends it then); 2 yes, and the other lane is hot (its jobs follow each other), so the batch goes
 * alone, to wait for the row in the database without the SKUs of a shared job. Only for kinds that share jobs.
 */
static int held_by_other_kind(const lb_lane_batch_t *batch)
{
    int held = 0;
    if (batch->lane->kind->max_jobs == 0)
        return 0;
    for (const lb_lane_t *other = lb_idmap_get(&lanes, batch->lane->sku_id); other != NULL; other = other->next_of_sku) {
        if (other == batch->lane || other->in_job == 0)
            continue;
        if (other->in_job > 1 || other->last_taken >= HOT_BATCH)
            return 2;
        held = 1;
    }
    return held;
}

static int by_sku(const void *a, const void *b)
{
    int64_t x = (*(lb_lane_batch_t *const *)a)->lane->sku_id, y = (*(lb_lane_batch_t *const *)b)->lane->sku_id;
    return x < y ? -1 : x > y;
}

/* Takes the next job's batches out of the waiting ones: the oldest, and those that may join it. */
static lane_job_t *next_job(uv_loop_t *loop, job_queue_t *q)
{
    lb_lane_kind_t *kind = q->kind;
    /* Never more SKUs than orders per transaction (max_batch 1: one order a transaction, whatever its SKU). */
    size_t max = kind->max_lanes_per_job > 1 ? kind->max_lanes_per_job : 1;
    if (max > kind->max_batch)
        max = kind->max_batch;
    lane_job_t *job = lb_malloc(offsetof(lane_job_t, batches) + max * sizeof(job->batches[0]));
    *job = (lane_job_t){.kind = kind, .loop = loop};
    lb_lane_batch_t **link = &q->head;
    while (*link != NULL && job->count != max) {
        lb_lane_batch_t *batch = *link;
        int held = held_by_other_kind(batch), alone = goes_alone(batch) || held == 2;
        if ((other_out(batch) && !alone) || held == 1 ||
            (job->count != 0 && (alone || !may_join(kind, job->batches, job->count, batch)))) {
            link = &batch->next_waiting;
            continue;
        }
        *link = batch->next_waiting;
        if (q->tail == &batch->next_waiting)
            q->tail = link; /* the last one waiting left */
        batch->next_waiting = NULL;
        job->batches[job->count++] = batch;
        if (alone)
            break;
    }
    /* A share of the kind's batch size each: a shared job is no bigger than one batch. What waited takes its items now,
     * all that came while it waited (up to its share); a late batch, in the work. */
    for (size_t i = 0; i != job->count; ++i) {
        lb_lane_batch_t *batch = job->batches[i];
        batch->max_items = kind->max_batch / (unsigned)job->count;
        if (!batch->late)
            lb_lane_take(batch);
        if (kind->prepare != NULL)
            kind->prepare(batch);
    }
    qsort(job->batches, job->count, sizeof(job->batches[0]), by_sku);
    return job;
}

/* Sends jobs of the waiting batches while the thread may have more out. */
static void send_waiting(uv_loop_t *loop, job_queue_t *q)
{
    while (!q->holding && q->head != NULL && (q->kind->max_jobs == 0 || q->jobs_out < q->kind->max_jobs)) {
        lane_job_t *job = next_job(loop, q);
        if (job->count == 0) {
            free(job); /* all that wait are second batches of lanes whose first is out, or SKUs of another kind's jobs:
                        * their return sends them */
            break;
        }
        ++q->jobs_out;
        for (size_t i = 0; i != job->count; ++i)
            ++job->batches[i]->lane->in_job;
        run_job(loop, &job->job, job_work, job_done, job_release);
    }
}

static void send_batch(uv_loop_t *loop, lb_lane_t *lane)
{
    lb_lane_kind_t *kind = lane->kind;
    lb_lane_batch_t *batch = lb_calloc(1, kind->batch_size);
    batch->lane = lane;
    batch->loop = loop;
    batch->max_items = kind->max_batch;
    pthread_mutex_lock(&lane->mutex);
    assert(lane->head != NULL);
    batch->late = kind->takes_late != NULL && kind->takes_late(lane->head);
    ++lane->untaken;
    ++lane->in_flight;
    pthread_mutex_unlock(&lane->mutex);
    job_queue_t *q = job_queue_of(kind);
    *q->tail = batch;
    q->tail = &batch->next_waiting;
    send_waiting(loop, q);
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
