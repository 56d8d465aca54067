/*
 * Unit tests of the lane engine (server/order/lane.c) with a kind of its own and a fake job runner (fake_jobs.h), no
 * database: an idle lane sends at once; a late batch takes what queued until it holds the lock, and the next batch goes
 * only once it has; at most max_in_flight batches; batch sizes; a batch that never got the lock answers its share of
 * the queue with the failure; the process-wide cap; answers in arrival order; lanes of two kinds on one SKU, and a
 * shared job that leaves out a SKU another kind's job holds; and, on real threads, batches that take while the loop
 * thread queues (for ThreadSanitizer).
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "check.h"
#include "fake_jobs.h"
#include "livebuy/common.h"
#include "livebuy/order/lane.h"

#define SKU 7

typedef struct st_item_t item_t;
struct st_item_t {
    int id;
    int status;    /* what the batch answered */
    unsigned turn; /* when it was answered (0: not yet) */
    int gone;      /* its client went while it waited */
    int dropped;   /* the lane left it out as gone */
    item_t *next;
};

static item_t items[2000];
static unsigned turns;
static size_t work_counts[64]; /* items each run of work found in its batch, in the order the runs happened */
static int64_t work_skus[64];   /* and that batch's SKU */
static size_t num_works;
static int work_status; /* what work returns */
static int keep_lanes;

static int late_always(const void *first)
{
    (void)first;
    return 1;
}

static int item_work(lb_lane_batch_t *const *batches, size_t n, lb_db_t *db)
{
    (void)db;
    for (size_t i = 0; i != n; ++i) {
        lb_lane_batch_t *batch = batches[i];
        if (!batch->taken)
            lb_lane_take(batch); /* "now it holds the SKU row" */
        if (num_works != LB_ARRAY_SIZE(work_counts)) {
            work_skus[num_works] = batch->lane->sku_id;
            work_counts[num_works++] = batch->count;
        }
    }
    return work_status;
}

static void item_done(lb_lane_batch_t *batch, int status)
{
    for (item_t *i = batch->items, *next; i != NULL; i = next) {
        next = i->next;
        i->status = status;
        i->turn = ++turns;
    }
}

static int item_keeps(const lb_lane_t *lane)
{
    (void)lane;
    return keep_lanes;
}

static int item_gone(const void *item)
{
    return ((const item_t *)item)->gone;
}

static void item_dropped(void *item)
{
    ((item_t *)item)->dropped = 1;
}

static lb_lane_kind_t late_kind = {
    .link_offset = offsetof(item_t, next),
    .lane_size = sizeof(lb_lane_t),
    .batch_size = sizeof(lb_lane_batch_t),
    .max_batch = 100,
    .max_in_flight = 2,
    .max_queued = 1000,
    .takes_late = late_always,
    .work = item_work,
    .done = item_done,
    .keeps = item_keeps,
    .gone = item_gone,
    .dropped = item_dropped,
};

/* Takes its items when sent, one batch at a time (as the single-order actions do). */
static lb_lane_kind_t eager_kind = {
    .link_offset = offsetof(item_t, next),
    .lane_size = sizeof(lb_lane_t),
    .batch_size = sizeof(lb_lane_batch_t),
    .max_batch = 100,
    .max_in_flight = 1,
    .max_queued = SIZE_MAX,
    .work = item_work,
    .done = item_done,
};

static void reset(void)
{
    fake_jobs_reset();
    memset(items, 0, sizeof(items));
    for (size_t i = 0; i != LB_ARRAY_SIZE(items); ++i)
        items[i].id = (int)i;
    turns = 0;
    num_works = 0;
    work_status = 0;
    keep_lanes = 0;
    late_kind.max_batch = eager_kind.max_batch = 100;
    late_kind.max_queued = 1000;
    late_kind.work = item_work;
    late_kind.max_jobs = late_kind.max_lanes_per_job = 0;
    eager_kind.max_jobs = eager_kind.max_lanes_per_job = eager_kind.shards = 0;
}

static int submit(lb_lane_kind_t *kind, int i)
{
    return lb_lane_submit(NULL, lb_lane_open(kind, SKU), &items[i]);
}

/* Whether items [from, to) were answered with status, one after the other, starting at turn first_turn. */
static int answered_in_order(int from, int to, int status, unsigned first_turn)
{
    for (int i = from; i != to; ++i)
        if (items[i].status != status || items[i].turn != first_turn + (unsigned)(i - from))
            return 0;
    return 1;
}

static void test_idle_lane_sends_at_once(void)
{
    reset();
    CHECK(submit(&late_kind, 0) == 0);
    CHECK(num_fake_jobs == 1);
    CHECK(lb_lane_find(&late_kind, SKU) != NULL);
    CHECK(atomic_load(&late_kind.pending) == 1);
    fake_run(0);
    CHECK(num_works == 1 && work_counts[0] == 1);
    CHECK(items[0].turn == 1 && items[0].status == 0);
    CHECK(lb_lane_find(&late_kind, SKU) == NULL); /* idle and not kept: freed */
    CHECK(atomic_load(&late_kind.pending) == 0);
}

static void test_late_taking_and_two_in_flight(void)
{
    reset();
    submit(&late_kind, 0); /* job 0, not taken yet */
    submit(&late_kind, 1);
    submit(&late_kind, 2);
    CHECK(num_fake_jobs == 1); /* a batch is still to take: the next waits for it */
    int status = fake_work(0);
    CHECK(work_counts[0] == 3); /* everything queued until it "held the lock" */
    submit(&late_kind, 3);      /* job 1 */
    submit(&late_kind, 4);
    CHECK(num_fake_jobs == 2);
    CHECK(fake_work(1) == 0 && work_counts[1] == 2);
    submit(&late_kind, 5);
    CHECK(num_fake_jobs == 2); /* two batches in flight: no third */
    CHECK(items[0].turn == 0); /* nothing is answered before its batch is */
    fake_answer(0, status);
    CHECK(answered_in_order(0, 3, 0, 1));
    CHECK(num_fake_jobs == 3); /* one in flight again: item 5 goes */
    fake_answer(1, 0);
    CHECK(answered_in_order(3, 5, 0, 4));
    fake_run(2);
    CHECK(work_counts[2] == 1 && items[5].turn == 6);
    CHECK(lb_lane_find(&late_kind, SKU) == NULL);
    CHECK(atomic_load(&late_kind.pending) == 0);
}

static void test_batch_size(void)
{
    reset();
    late_kind.max_batch = 2;
    for (int i = 0; i != 5; ++i)
        submit(&late_kind, i);
    CHECK(num_fake_jobs == 1);
    for (size_t job = 0; job != 3; ++job) {
        CHECK(num_fake_jobs == job + 1);
        fake_run(job); /* the next batch is sent when this one is answered */
    }
    CHECK(num_works == 3 && work_counts[0] == 2 && work_counts[1] == 2 && work_counts[2] == 1);
    CHECK(answered_in_order(0, 5, 0, 1));
}

static void test_never_got_the_lock(void)
{
    reset();
    late_kind.max_batch = 2;
    for (int i = 0; i != 3; ++i)
        submit(&late_kind, i);
    fake_answer(0, LB_EDB_DOWN); /* its work never ran: it takes its share of the queue now, and fails it */
    CHECK(num_works == 0);
    CHECK(answered_in_order(0, 2, LB_EDB_DOWN, 1));
    CHECK(items[2].turn == 0 && num_fake_jobs == 2); /* the rest go in the next batch */
    fake_run(1);
    CHECK(items[2].status == 0 && items[2].turn == 3);
    CHECK(atomic_load(&late_kind.pending) == 0);
}

static void test_failed_batch(void)
{
    reset();
    submit(&late_kind, 0);
    submit(&late_kind, 1);
    work_status = LB_EDB_RETRY; /* it kept meeting deadlocks */
    fake_run(0);
    CHECK(fake_jobs[0].runs == FAKE_JOB_TRIES && work_counts[0] == 2);
    CHECK(answered_in_order(0, 2, LB_EDB_RETRY, 1));
}

static void test_queue_cap(void)
{
    reset();
    late_kind.max_queued = 3;
    for (int i = 0; i != 3; ++i)
        CHECK(submit(&late_kind, i) == 0);
    CHECK(submit(&late_kind, 3) == LB_EBUSY);
    CHECK(atomic_load(&late_kind.pending) == 3);
    fake_run(0);
    CHECK(answered_in_order(0, 3, 0, 1));
    CHECK(items[3].turn == 0); /* refused, never answered by the lane */
    CHECK(atomic_load(&late_kind.pending) == 0);
    CHECK(lb_lane_find(&late_kind, SKU) == NULL);
    /* The cap counts the process: a refusal does not leave an empty lane behind, and room comes back. */
    CHECK(submit(&late_kind, 3) == 0);
    fake_run(1);
    CHECK(items[3].turn == 4);
}

static void test_taken_when_sent(void)
{
    reset();
    submit(&eager_kind, 0); /* job 0 takes item 0 at once */
    submit(&eager_kind, 1);
    submit(&eager_kind, 2);
    CHECK(num_fake_jobs == 1);
    fake_run(0);
    CHECK(work_counts[0] == 1); /* what queued after the send waits for the next batch */
    CHECK(num_fake_jobs == 2);
    fake_run(1);
    CHECK(work_counts[1] == 2);
    CHECK(answered_in_order(0, 3, 0, 1));
    CHECK(lb_lane_find(&eager_kind, SKU) == NULL);
}

/*
 * With a thread's jobs all out, the batches sent meanwhile wait and then share a job: the oldest with the others of its
 * shard (SKU id modulo shards), in ascending SKU order, each taking what its lane queued until the job was formed.
 */
static void test_skus_share_a_job(void)
{
    reset();
    eager_kind.max_jobs = 1;
    eager_kind.max_lanes_per_job = 8;
    eager_kind.shards = 2;
    int skus[] = {10, 13, 14, 11, 16, 14};
    for (int i = 0; i != 6; ++i)
        lb_lane_submit(NULL, lb_lane_open(&eager_kind, skus[i]), &items[i]);
    CHECK(num_fake_jobs == 1); /* SKU 10's, sent at once; the others wait for it */
    fake_run(0);
    CHECK(num_fake_jobs == 2); /* the oldest waiting (13) and the other odd one (11) */
    fake_run(1);
    CHECK(num_fake_jobs == 3);
    fake_run(2);
    CHECK(num_works == 5);
    CHECK(work_skus[0] == 10 && work_counts[0] == 1);
    CHECK(work_skus[1] == 11 && work_counts[1] == 1 && work_skus[2] == 13 && work_counts[2] == 1);
    CHECK(work_skus[3] == 14 && work_counts[3] == 2 && work_skus[4] == 16 && work_counts[4] == 1);
    for (int i = 0; i != 6; ++i)
        CHECK(items[i].turn != 0 && items[i].status == 0);
    CHECK(lb_lane_find(&eager_kind, 14) == NULL);
}

/*
 * In a kind that shares jobs, a lane's second batch goes out while its first holds the row only when the SKU is hot
 * (its last batch took 16 or more): else it waits for the first to come back and then joins a shared job.
 */
static void test_second_batch_only_when_hot(void)
{
    reset();
    late_kind.max_jobs = 4;
    late_kind.max_lanes_per_job = 8;
    submit(&late_kind, 0);
    fake_work(0); /* the first batch holds the row: it took 1 */
    submit(&late_kind, 1);
    CHECK(num_fake_jobs == 1); /* a second batch was sent, and waits: one order would hold a job slot */
    fake_answer(0, 0);
    CHECK(num_fake_jobs == 2);
    for (int i = 2; i != 22; ++i)
        submit(&late_kind, i);
    fake_run(1); /* takes 21: 1 and the 20 that came while its batch waited for its job */
    CHECK(work_counts[1] == 21);
    for (int i = 22; i != 42; ++i)
        submit(&late_kind, i);
    fake_work(2); /* takes 20: the SKU is hot */
    CHECK(work_counts[2] == 20);
    submit(&late_kind, 42);
    CHECK(num_fake_jobs == 4); /* the hot lane's second went at once, alone, to wait for the row */
    fake_answer(2, 0);
    fake_run(3);
    CHECK(answered_in_order(0, 43, 0, 1));
}

/*
 * Items whose client went while they queued are left out by the batch that takes the queue: they are never worked nor
 * answered, they do not count against the batch's size, the queue takes new items after its last ones went, and the
 * process-wide count comes back. One already taken is worked as usual.
 */
static void test_gone_items_dropped(void)
{
    reset();
    late_kind.max_batch = 2;
    for (int i = 0; i != 7; ++i)
        submit(&late_kind, i);
    items[0].gone = items[1].gone = items[3].gone = items[6].gone = 1;
    fake_run(0);
    CHECK(work_counts[0] == 2); /* 2 and 4: two live items, past the gone ones */
    CHECK(items[0].dropped && items[1].dropped && items[3].dropped);
    CHECK(items[0].turn == 0 && items[1].turn == 0 && items[3].turn == 0);
    CHECK(items[2].turn == 1 && items[4].turn == 2);
    CHECK(num_fake_jobs == 2);
    submit(&late_kind, 7);
    fake_run(1);
    CHECK(work_counts[1] == 2 && items[5].turn == 3 && items[7].turn == 4 && items[6].dropped);
    CHECK(atomic_load(&late_kind.pending) == 0);
    CHECK(lb_lane_find(&late_kind, SKU) == NULL);

    /* Every queued item gone: the batch finds nothing to work; what comes next queues and goes as usual. */
    reset();
    submit(&late_kind, 0);
    submit(&late_kind, 1);
    items[0].gone = items[1].gone = 1;
    int status = fake_work(0);
    CHECK(work_counts[0] == 0);
    submit(&late_kind, 2);
    fake_answer(0, status);
    CHECK(items[0].dropped && items[1].dropped && items[0].turn == 0 && items[1].turn == 0);
    fake_run(1);
    CHECK(work_counts[1] == 1 && items[2].turn == 1);
    CHECK(atomic_load(&late_kind.pending) == 0);
    CHECK(lb_lane_find(&late_kind, SKU) == NULL);

    /* Taken before its client went: worked and answered (the key replays it). */
    reset();
    submit(&late_kind, 0);
    submit(&late_kind, 1);
    status = fake_work(0);
    items[0].gone = 1;
    fake_answer(0, status);
    CHECK(!items[0].dropped && items[0].turn == 1 && items[1].turn == 2);
}

static int older_than(const void *item, uint64_t now)
{
    return (uint64_t)((const item_t *)item)->id < now; /* the tests' "time" is the item's id */
}

static void expire_item(void *item)
{
    ((item_t *)item)->status = LB_EBUSY;
    ((item_t *)item)->turn = ++turns;
}

/*
 * The deadline: queued items that waited too long are taken out, oldest first, and handed over; those a batch took are
 * not touched; the queue goes on with the young ones, and the process-wide count comes back.
 */
static void test_expire(void)
{
    reset();
    for (int i = 0; i != 5; ++i)
        submit(&late_kind, i);
    int status = fake_work(0); /* the batch took 0-4 */
    for (int i = 5; i != 10; ++i)
        submit(&late_kind, i);
    CHECK(lb_lane_expire(&late_kind, older_than, expire_item, 8) == 3); /* 5, 6 and 7: 0-4 are in the batch */
    CHECK(answered_in_order(5, 8, LB_EBUSY, 1));
    CHECK(atomic_load(&late_kind.pending) == 7);
    fake_answer(0, status);
    CHECK(answered_in_order(0, 5, 0, 4));
    fake_run(1);
    CHECK(work_counts[1] == 2 && answered_in_order(8, 10, 0, 9));
    CHECK(atomic_load(&late_kind.pending) == 0);
    CHECK(lb_lane_find(&late_kind, SKU) == NULL);
    CHECK(lb_lane_expire(&late_kind, older_than, expire_item, 100) == 0);
}

static void test_kinds_on_one_sku(void)
{
    reset();
    keep_lanes = 1;
    lb_lane_t *late = lb_lane_open(&late_kind, SKU), *eager = lb_lane_open(&eager_kind, SKU);
    CHECK(late != eager && late->kind == &late_kind && eager->kind == &eager_kind);
    CHECK(lb_lane_find(&late_kind, SKU) == late && lb_lane_find(&eager_kind, SKU) == eager);
    submit(&late_kind, 0);
    submit(&eager_kind, 1);
    CHECK(num_fake_jobs == 2);
    fake_run(1);
    CHECK(items[1].turn == 1 && items[0].turn == 0);
    CHECK(lb_lane_find(&eager_kind, SKU) == NULL); /* its kind keeps nothing */
    CHECK(lb_lane_find(&late_kind, SKU) == late);
    fake_run(0);
    CHECK(lb_lane_find(&late_kind, SKU) == late); /* kept */
    keep_lanes = 0;
    lb_lane_forget_if_idle(late);
    CHECK(lb_lane_find(&late_kind, SKU) == NULL);
    /* The other order of going: the first lane of the SKU goes while the second stays. */
    late = lb_lane_open(&late_kind, SKU);
    eager = lb_lane_open(&eager_kind, SKU);
    lb_lane_forget_if_idle(late);
    CHECK(lb_lane_find(&late_kind, SKU) == NULL && lb_lane_find(&eager_kind, SKU) == eager);
    lb_lane_forget_if_idle(eager);
    CHECK(lb_lane_find(&eager_kind, SKU) == NULL);
}

/*
 * Kinds that share jobs leave out of a shared job a SKU that a job of another kind holds (a payment's SKU while its
 * orders are being reserved): the batch waits for that job to come back and then goes, unless the other lane is hot,
 * when it goes alone at once to wait for the row.
 */
static void test_kinds_leave_each_others_skus(void)
{
    reset();
    late_kind.max_jobs = 4;
    late_kind.max_lanes_per_job = 8;
    eager_kind.max_jobs = 1;
    eager_kind.max_lanes_per_job = 8;
    lb_lane_submit(NULL, lb_lane_open(&late_kind, 20), &items[0]);  /* job 0: orders of SKU 20 */
    lb_lane_submit(NULL, lb_lane_open(&eager_kind, 30), &items[1]); /* job 1: the eager kind's only slot */
    lb_lane_submit(NULL, lb_lane_open(&eager_kind, 20), &items[2]);
    lb_lane_submit(NULL, lb_lane_open(&eager_kind, 31), &items[3]);
    CHECK(num_fake_jobs == 2);
    fake_run(1);
    CHECK(num_fake_jobs == 3); /* job 2: SKU 31 alone; SKU 20's batch waits for job 0 */
    fake_run(2);
    CHECK(num_works == 2 && work_skus[1] == 31 && items[3].turn != 0 && items[2].turn == 0);
    fake_run(0);
    CHECK(num_fake_jobs == 4); /* job 0 came back: SKU 20's action goes */
    fake_run(3);
    CHECK(num_works == 4 && work_skus[3] == 20 && items[2].turn != 0);

    /* A hot lane (its last batch took 20, its second is out): the other kind's batch goes alone, without waiting. */
    for (int i = 10; i != 30; ++i)
        lb_lane_submit(NULL, lb_lane_open(&late_kind, 40), &items[i]);
    fake_work(4); /* takes the 20 */
    lb_lane_submit(NULL, lb_lane_open(&late_kind, 40), &items[30]);
    CHECK(num_fake_jobs == 6); /* the hot lane's second batch */
    lb_lane_submit(NULL, lb_lane_open(&eager_kind, 41), &items[31]);
    CHECK(num_fake_jobs == 7);
    lb_lane_submit(NULL, lb_lane_open(&eager_kind, 40), &items[32]);
    lb_lane_submit(NULL, lb_lane_open(&eager_kind, 42), &items[33]);
    fake_run(6);
    CHECK(num_fake_jobs == 8); /* SKU 40's action alone; SKU 42's waits for the next job */
    fake_run(7);
    CHECK(work_skus[num_works - 1] == 40 && work_counts[num_works - 1] == 1 && items[32].turn != 0);
    CHECK(num_fake_jobs == 9);
    fake_run(8);
    fake_answer(4, 0);
    fake_run(5);
    for (int i = 10; i != 34; ++i)
        CHECK(items[i].turn != 0 && items[i].status == 0);
    CHECK(lb_lane_find(&eager_kind, 40) == NULL && lb_lane_find(&late_kind, 40) == NULL);
}

/*
 * Batches run on worker threads while the loop thread keeps queueing, as in the server: the lane's queue is shared under
 * its mutex. A mutex stands for the SKU's row lock. Every item is answered once, and a batch's items in order.
 */
#define THREADED_ITEMS 2000

typedef struct st_worker_t {
    pthread_t thread;
    size_t job;
    int status;
    atomic_int finished;
} worker_t;

static worker_t workers[FAKE_JOBS_MAX];
static pthread_mutex_t sku_row = PTHREAD_MUTEX_INITIALIZER;

static int row_work(lb_lane_batch_t *const *batches, size_t n, lb_db_t *db)
{
    (void)db;
    (void)n; /* the kind shares no job: one batch */
    pthread_mutex_lock(&sku_row);
    lb_lane_take(batches[0]);
    struct timespec pause = {0, 20000};
    nanosleep(&pause, NULL);
    pthread_mutex_unlock(&sku_row);
    return 0;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    w->status = fake_work(w->job);
    atomic_store(&w->finished, 1);
    return NULL;
}

static void start_workers(size_t *started)
{
    for (; *started != num_fake_jobs; ++*started) {
        workers[*started] = (worker_t){.job = *started};
        pthread_create(&workers[*started].thread, NULL, worker_main, &workers[*started]);
    }
}

/* Answers the finished jobs, oldest first; returns how many are still out. */
static size_t answer_finished(size_t started, size_t *answered)
{
    size_t out = 0;
    for (size_t i = 0; i != started; ++i) {
        if (fake_jobs[i].answered)
            continue;
        if (!atomic_load(&workers[i].finished)) {
            ++out;
            continue;
        }
        pthread_join(workers[i].thread, NULL);
        fake_answer(i, workers[i].status);
        ++*answered;
    }
    return out;
}

static void test_threads(void)
{
    lb_lane_kind_t *kind = &late_kind;
    reset();
    kind->work = row_work;
    kind->max_queued = THREADED_ITEMS;
    size_t started = 0, answered = 0;
    for (int i = 0; i != THREADED_ITEMS; ++i) {
        CHECK(lb_lane_submit(NULL, lb_lane_open(kind, SKU), &items[i]) == 0);
        start_workers(&started);
        if (i % 7 == 0)
            answer_finished(started, &answered);
    }
    do
        start_workers(&started);
    while (answer_finished(started, &answered) != 0 || started != num_fake_jobs);
    CHECK(num_fake_jobs < THREADED_ITEMS); /* batches formed */
    CHECK(answered == num_fake_jobs);
    unsigned seen = 0;
    for (int i = 0; i != THREADED_ITEMS; ++i)
        seen += items[i].turn != 0 && items[i].status == 0;
    CHECK(seen == THREADED_ITEMS && turns == THREADED_ITEMS);
    CHECK(atomic_load(&kind->pending) == 0);
    CHECK(lb_lane_find(kind, SKU) == NULL);
}

int main(void)
{
    lb_lane_run_jobs_with(fake_submit);
    test_idle_lane_sends_at_once();
    test_late_taking_and_two_in_flight();
    test_batch_size();
    test_never_got_the_lock();
    test_failed_batch();
    test_queue_cap();
    test_taken_when_sent();
    test_skus_share_a_job();
    test_second_batch_only_when_hot();
    test_gone_items_dropped();
    test_expire();
    test_kinds_on_one_sku();
    test_kinds_leave_each_others_skus();
    test_threads();
    fake_jobs_reset();
    return CHECK_RESULT("lane");
}
