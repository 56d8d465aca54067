/*
 * The lane engine: the order path's per-SKU queues. A loop thread has one lane per SKU and kind of work (reservations,
 * livebuy/order/lanes.h; single-order actions, livebuy/order/sku_actions.h). A lane queues items and runs them as
 * batches: one database job each, one transaction on the SKU. An idle lane sends an item at once; while a batch is in
 * flight, what arrives queues and goes together in the next one (natural batching, no timer).
 *
 * A batch of a kind that takes late takes its items once it holds the SKU's row lock (lb_lane_take, on its worker): the
 * lane's oldest items at that moment, so everything that arrived while the batch before held the lock goes in it. Such
 * a lane sends its next batch only once the one before has taken its items; up to max_in_flight of them may be out
 * (the second waits for the row in the database and takes the queue the moment the first commits). The queue is the
 * one part of a lane a worker touches, under the lane's mutex. A batch that never got the lock (no connection) takes
 * its share of the queue when it is answered, and its kind answers those items with the failure.
 *
 * An item whose client has gone while it waited (kind->gone) is left out when a batch takes the queue: a reset request
 * costs the database nothing and takes no stock. One already taken is worked as usual.
 *
 * Batches of different SKUs may share a job (one transaction): a kind with max_jobs lets a loop thread have that many
 * of its jobs out at once; a batch sent while they are all out waits, and when one comes back the batches that waited
 * go together in the next job (up to max_lanes_per_job of them, SKUs of one shard only), in ascending sku_id order
 * (the order their rows are locked in). So orders spread over many SKUs, each with one or two waiting, batch as well
 * as those of a hot SKU do. A batch whose lane has another one out goes in a job of its own when the SKU is hot (its
 * second, which waits for the row): the SKUs of a shared job never wait behind a hot row; else it waits for the
 * other to come back. The same holds across kinds on a loop thread: a batch whose SKU is in a job of another kind (a
 * payment's while orders of its SKU are being reserved) waits for that job to come back, or goes alone when the other
 * lane is hot, so that a shared job does not wait for a row that another job of the same thread holds.
 */
#ifndef LIVEBUY_LANE_H
#define LIVEBUY_LANE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "livebuy/db/db.h"

typedef struct st_lb_lane_t lb_lane_t;
typedef struct st_lb_lane_batch_t lb_lane_batch_t;

/*
 * A kind of lane: what its items are and what its batches do. Owned by the module that queues the items (a static
 * struct); its settings are written before the loops start, pending by the engine.
 */
typedef struct st_lb_lane_kind_t {
    size_t link_offset;     /* offsetof(item type, next): items are linked through their own next pointer */
    size_t lane_size;       /* sizeof the kind's lane, which begins with an lb_lane_t */
    size_t batch_size;      /* sizeof the kind's batch, which begins with an lb_lane_batch_t */
    unsigned max_batch;     /* items per batch */
    unsigned max_in_flight; /* batches of a lane out at once: 1, or 2 for a kind that takes late */
    unsigned max_jobs;      /* jobs of the kind a loop thread has out at once, past which batches wait; 0: no limit */
    unsigned max_lanes_per_job; /* batches (each of its own SKU) one job may carry: 0 or 1, a job per batch */
    unsigned shards; /* SKUs share a job only when their ids are equal modulo this (one backend each); 0 or 1: any */
    size_t max_queued;      /* items queued or in flight in all lanes of the kind in the process; past it, LB_EBUSY */
    /*
     * Whether the batch that would begin with first takes its items late, once it holds the SKU row (its work calls
     * lb_lane_take), or when it is sent. NULL: always when sent. Loop thread, under the lane's mutex.
     */
    int (*takes_late)(const void *first);
    /*
     * The last item of the batch that begins with first (the queue's oldest): at most max items, stopping where the
     * kind's batch must end. NULL: simply the first max. Any thread, under the lane's mutex.
     */
    void *(*batch_end)(void *first, unsigned max, size_t *count);
    /* Fills the kind's part of a batch on the loop thread when its job is formed (taken already if not late). */
    void (*prepare)(lb_lane_batch_t *batch);
    /*
     * A job's transaction over its batches (one, unless the kind lets batches share a job; in ascending sku_id order),
     * on a worker (perhaps more than once: see lb_db_job_t).
     */
    int (*work)(lb_lane_batch_t *const *batches, size_t n, lb_db_t *db);
    /* On the loop thread, once per batch: answers every item (status 0, or the LB_E* code the job failed with). */
    void (*done)(lb_lane_batch_t *batch, int status);
    /* Whether a lane with nothing queued or in flight stays (e.g. for its sold-out hints). NULL: it goes. */
    int (*keeps)(const lb_lane_t *lane);
    /*
     * Whether a queued item's client has gone (its stream reset or its connection closed): a batch that takes the queue
     * leaves such items out, and they are given to dropped instead of being worked. NULL: none ever goes. Any thread,
     * under the lane's mutex; the item says so through an atomic of its own.
     */
    int (*gone)(const void *item);
    /* On the loop thread, once per item left out as gone: frees it (there is nobody to answer). */
    void (*dropped)(void *item);

    atomic_size_t pending; /* items queued or in flight, all threads */
} lb_lane_kind_t;

/* A lane. The kind's own lane type begins with it. */
struct st_lb_lane_t {
    lb_lane_kind_t *kind;
    int64_t sku_id;
    lb_lane_t *next_of_sku; /* this thread's lane of another kind for the same SKU */
    unsigned in_flight;     /* batches sent and not answered (loop thread) */
    unsigned in_job;        /* of those, the ones in a job sent to the database (loop thread) */
    /* The queue: appended to on the loop thread, taken from by a batch on a worker; all under the mutex. */
    pthread_mutex_t mutex;
    void *head, **tail;
    unsigned untaken; /* batches sent that have not taken their items yet */
    unsigned last_taken; /* items the lane's last batch took: many, and the SKU is hot (lane.c, goes_alone) */
};

/* A batch: one lane's share of a database job. The kind's own batch type begins with it. */
struct st_lb_lane_batch_t {
    lb_lane_t *lane;
    uv_loop_t *loop;
    lb_lane_batch_t *next_waiting; /* while it waits for a job */
    unsigned max_items;            /* what it may take: the kind's max_batch, or a share of it in a shared job */
    void *items; /* linked as the kind links them, oldest first; NULL until taken (or when nothing was left to take) */
    size_t count;
    void *dropped; /* items whose client was gone when the batch took the queue (kind->gone), linked the same way */
    size_t num_dropped;
    int taken;
    int late; /* takes its items in the job's work (kind->takes_late); else when its job is formed */
};

/*
 * How lanes run their batches' jobs: lb_db_submit_prompt (answered at the loop thread's next lb_db_answer_finished),
 * unless a test runs them itself. Set before the first batch; NULL restores the default.
 */
typedef void (*lb_lane_runner_cb)(uv_loop_t *loop, lb_db_job_t *job, lb_db_work_cb work, lb_db_done_cb done, lb_db_done_cb release);
void lb_lane_run_jobs_with(lb_lane_runner_cb runner);

/* This thread's lane of the kind for the SKU, or NULL. */
lb_lane_t *lb_lane_find(lb_lane_kind_t *kind, int64_t sku_id);
/*
 * This thread's lane of the kind for the SKU, made if there is none. First answers the batches of this thread that have
 * finished (lb_db_answer_finished): their answers and the batches they send go now, and a lane they free is never the
 * one returned.
 */
lb_lane_t *lb_lane_open(lb_lane_kind_t *kind, int64_t sku_id);
/*
 * Queues item (of the lane's kind) and sends a batch if the lane may. Returns 0, or LB_EBUSY when the kind's process-wide
 * queue is full (the item is not queued and the lane may be gone).
 */
int lb_lane_submit(uv_loop_t *loop, lb_lane_t *lane, void *item);
/* Takes the batch's items from its lane's queue (a late batch's work, once it holds the SKU row). */
void lb_lane_take(lb_lane_batch_t *batch);
/*
 * Takes out of this thread's lanes of the kind the queued items that too_old says have waited too long (a lane's queue
 * is in arrival order: each lane is read from its oldest item to its first young one), and gives each to expired once
 * the lanes' mutexes are released. Items a batch has taken are not touched. Returns how many expired. Loop thread.
 */
size_t lb_lane_expire(lb_lane_kind_t *kind, int (*too_old)(const void *item, uint64_t now_ns), void (*expired)(void *item),
                      uint64_t now_ns);
/* Frees the lane if nothing of it is queued or in flight and its kind does not keep it. Loop thread. */
void lb_lane_forget_if_idle(lb_lane_t *lane);

#endif
