/*
 * The reservation transaction: one job's batches, each of its own SKU. Everything a batch decides rests on what it reads
 * after locking its SKU's row, so batches on one SKU (from any number of livebuyd processes) are serialised by the
 * database and never oversell; a job locks its SKUs' rows in one statement, in ascending id order, so two jobs with
 * SKUs in common wait for each other and never deadlock on them.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/base/log.h"
#include "livebuy/order/reserve.h"
#include "livebuy/order/directory.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/group_buys.h"
#include "livebuy/store/lives.h"
#include "livebuy/store/reservations.h"

/*
 * A failure point for the tests: with LIVEBUY_FAULT_LOST_COMMIT=N, every Nth batch COMMIT succeeds but is treated as if
 * the connection had broken during it, so that the lost-COMMIT path (read the keys back, never reserve again) runs
 * for real. Unset in production. The try after a lost COMMIT (on the same worker thread: lb_db's retry) is never lost
 * itself: counted over all workers alone, committing in turn could give one of them every Nth COMMIT, and its job
 * lost every try and answered 503 (the LostCommitTest flake).
 */
static int commit_lost_for_test(void)
{
    static atomic_long every = -1, commits;
    static _Thread_local int lost_last;
    if (atomic_load(&every) < 0) {
        const char *value = getenv("LIVEBUY_FAULT_LOST_COMMIT");
        atomic_store(&every, value != NULL ? atol(value) : 0);
    }
    long n = atomic_load(&every);
    int lost = n > 0 && !lost_last && atomic_fetch_add(&commits, 1) % n == n - 1;
    lost_last = lost;
    return lost;
}

/* The database's COMMIT, with the failure point. */
static int commit_or_lose(lb_db_t *db)
{
    int ret = lb_db_commit(db);
    if (ret == 0 && commit_lost_for_test()) {
        lb_log(LB_LOG_WARN, "failure point: the answer to a COMMIT of a reservation batch is dropped");
        lb_db_break(db);
        ret = LB_EDB_DOWN;
    }
    return ret;
}

static const lb_reserve_store_t database = {
    .begin = lb_db_begin,
    .commit = commit_or_lose,
    .rollback = lb_db_rollback,
    .skus_lock = lb_store_skus_lock,
    .live_item_lock = lb_store_live_item_lock,
    .group_buy_lock = lb_store_group_buy_lock,
    .orders_by_keys = lb_store_orders_by_keys,
    .orders_by_ids = lb_store_orders_by_ids,
    .buyer_usage = lb_store_buyer_usage,
    .orders_insert = lb_store_orders_insert,
    .live_item_add_reserved = lb_store_live_item_add_reserved,
    .group_buy_add_joined = lb_store_group_buy_add_joined,
    .skus_add_reserved = lb_store_skus_add_reserved,
};
static const lb_reserve_store_t *store = &database;

void lb_reserve_use_store(const lb_reserve_store_t *replacement)
{
    store = replacement != NULL ? replacement : &database;
}

/* Forget what an earlier, rolled-back run of this batch decided. */
static void reset(lb_reserve_batch_t *batch)
{
    for (lb_order_request_t *r = batch->requests; r != NULL; r = r->next) {
        r->outcome = LB_OUTCOME_PENDING;
        r->replay_of = NULL;
        r->order_id = r->amount_cents = r->expires_at = r->left = r->limit = 0;
    }
    batch->sku_found = 0;
    batch->num_targets = 0;
}

/* The batch's target for a request, locked and read on first use; NULL when the batch has too many already. */
static lb_alloc_target_t *target_for(lb_db_t *db, lb_reserve_batch_t *batch, const lb_order_request_t *r, int *ret)
{
    size_t i = 1;
    while (i != batch->num_targets && !(batch->targets[i].kind == r->target && batch->targets[i].id == r->target_id))
        ++i;
    if (i != batch->num_targets)
        return &batch->targets[i];
    if (batch->num_targets == LB_ARRAY_SIZE(batch->targets))
        return NULL; /* the lane never puts this many targets in one batch (see lanes.c) */
    lb_alloc_target_t *t = &batch->targets[batch->num_targets];
    if (r->target == LB_TARGET_LIVE_ITEM)
        *ret = store->live_item_lock(db, r->target_id, batch->sku_id, batch->default_ttl, t);
    else
        *ret = store->group_buy_lock(db, r->target_id, batch->sku_id, batch->default_ttl, t);
    ++batch->num_targets;
    return t;
}

static int lock_targets(lb_db_t *db, lb_reserve_batch_t *batch, const lb_sku_t *sku)
{
    batch->targets[0] = (lb_alloc_target_t){.kind = LB_TARGET_SKU,
                                            .found = 1,
                                            .price_cents = sku->price_cents,
                                            .left = LB_SKU_AVAILABLE(sku),
                                            .reserve_ttl = batch->default_ttl,
                                            .retired = sku->retired_at != 0}; /* the locked row's: no read of its own */
    batch->num_targets = 1;
    for (lb_order_request_t *r = batch->requests; r != NULL; r = r->next) {
        int ret = 0;
        if (r->target != LB_TARGET_SKU && target_for(db, batch, r, &ret) != NULL && ret != 0)
            return ret;
    }
    return 0;
}

/* Reads what a per-buyer limit needs: the units each buyer of a limited target already holds. */
static int read_usage(lb_db_t *db, lb_reserve_batch_t *batch, lb_alloc_input_t *input, lb_buyer_usage_t **usage)
{
    int64_t *buyers = lb_malloc(batch->count * sizeof(*buyers));
    size_t n = 0;
    for (lb_order_request_t *r = batch->requests; r != NULL; r = r->next) {
        int t = lb_alloc_target_of(input, r);
        if (t >= 0 && input->targets[t].per_buyer_limit > 0)
            buyers[n++] = r->buyer_id;
    }
    int ret = n == 0 ? 0 : store->buyer_usage(db, batch->sku_id, buyers, n, usage, &input->num_usage);
    input->usage = *usage;
    free(buyers);
    return ret;
}

/* The batch's grants not yet written (a lost COMMIT's carry their id already) into granted; returns how many. */
static size_t new_grants(const lb_reserve_batch_t *batch, lb_order_request_t **granted)
{
    size_t n = 0;
    for (lb_order_request_t *r = batch->requests; r != NULL; r = r->next)
        if (r->outcome == LB_OUTCOME_RESERVED && r->order_id == 0)
            granted[n++] = r;
    return n;
}

/* Adds the batch's grants to its live items' and campaigns' counters, and says what its SKU's counters gain. */
static int count_grants(lb_db_t *db, const lb_reserve_batch_t *batch, lb_sku_reserved_t *add)
{
    *add = (lb_sku_reserved_t){.sku_id = batch->sku_id};
    for (size_t i = 0; i != batch->num_targets; ++i) {
        const lb_alloc_target_t *t = &batch->targets[i];
        int ret = 0;
        add->reserved += t->granted;
        if (t->granted == 0 || t->kind == LB_TARGET_SKU)
            continue;
        if (t->kind == LB_TARGET_LIVE_ITEM) {
            add->from_held += t->granted;
            ret = store->live_item_add_reserved(db, batch->sku_id, t->id, t->granted);
        } else {
            ret = store->group_buy_add_joined(db, batch->sku_id, t->id, t->granted);
        }
        if (ret != 0)
            return ret;
    }
    return 0;
}

/* Writes the batches' new orders (one insert for all, SKU by SKU) and moves their counters (one update for all SKUs). */
static int write_orders(lb_db_t *db, lb_reserve_batch_t *const *batches, size_t n, int64_t now)
{
    size_t count = 0, num_grants = 0, num_adds = 0;
    for (size_t i = 0; i != n; ++i)
        count += batches[i]->count;
    lb_order_request_t **granted = lb_malloc((count != 0 ? count : 1) * sizeof(*granted));
    lb_sku_reserved_t *adds = lb_malloc(n * sizeof(*adds));
    int ret = 0;

    for (size_t i = 0; i != n; ++i)
        num_grants += new_grants(batches[i], granted + num_grants);
    if (num_grants != 0 && (ret = store->orders_insert(db, granted, num_grants, now)) != 0)
        goto Exit;
    lb_order_directory_learn_inserted(granted, num_grants);
    for (size_t i = 0; i != n; ++i) {
        if ((ret = count_grants(db, batches[i], &adds[num_adds])) != 0)
            goto Exit;
        num_adds += adds[num_adds].reserved != 0;
    }
    if (num_adds != 0)
        ret = store->skus_add_reserved(db, adds, num_adds, now);
Exit:
    free(adds);
    free(granted);
    return ret;
}

/*
 * A request that repeated an earlier one's key in the same batch answers with that one's order: copy it now that the
 * order ids are known, so that each request carries its whole answer (the loop frees them one by one as it answers).
 */
static void settle_replays(lb_reserve_batch_t *batch)
{
    for (lb_order_request_t *r = batch->requests; r != NULL; r = r->next) {
        if (r->replay_of == NULL)
            continue;
        r->order_id = r->replay_of->order_id;
        r->amount_cents = r->replay_of->amount_cents;
        r->expires_at = r->replay_of->expires_at;
        r->replay_of = NULL;
    }
}

/*
 * Which orders of a batch to look up. Only a key the buyer sent can be taken already: a key the server made for a new
 * request is new. A batch reads the orders its lost COMMIT may have made (by their ids) before it decides, those and
 * all keys given when lb_reserve_batch_t's look_up_keys says so, and the refused requests' keys after it decided.
 */
enum keys_to_read { KEYS_LOST_AT_COMMIT, KEYS_GIVEN, KEYS_GIVEN_AND_REFUSED };

static int refused(const lb_order_request_t *r)
{
    return r->outcome != LB_OUTCOME_RESERVED && r->outcome != LB_OUTCOME_REPLAYED;
}

/* Look the order up by the id its lost COMMIT gave it? */
static int id_to_read(const lb_order_request_t *r, enum keys_to_read which)
{
    return r->commit_attempted && which != KEYS_GIVEN_AND_REFUSED;
}

/* Look the buyer's key up? (KEYS_GIVEN_AND_REFUSED comes after a first reading of KEYS_LOST_AT_COMMIT.) */
static int key_to_read(const lb_order_request_t *r, enum keys_to_read which)
{
    return r->key_given && (which == KEYS_GIVEN || (which == KEYS_GIVEN_AND_REFUSED && refused(r)));
}

/*
 * The orders that hold the keys which says of the batch's requests: by key from order_keys, and by id those a lost
 * COMMIT may have made (a direct order without the buyer's key has no row in order_keys; its id is its key).
 */
static int read_existing(lb_db_t *db, lb_reserve_batch_t *batch, enum keys_to_read which, lb_existing_order_t **existing,
                         size_t *found)
{
    const lb_order_request_t **keyed = lb_malloc(batch->count * sizeof(*keyed));
    int64_t *ids = lb_malloc(batch->count * sizeof(*ids));
    lb_existing_order_t *by_id = NULL;
    size_t num_keyed = 0, num_ids = 0, num_by_id = 0;
    int ret = 0;
    for (lb_order_request_t *r = batch->requests; r != NULL; r = r->next) {
        if (id_to_read(r, which))
            ids[num_ids++] = r->committed_id;
        if (key_to_read(r, which))
            keyed[num_keyed++] = r;
    }
    *existing = NULL;
    *found = 0;
    if (num_keyed != 0)
        ret = store->orders_by_keys(db, batch->sku_id, keyed, num_keyed, existing, found);
    if (ret == 0 && num_ids != 0 && (ret = store->orders_by_ids(db, batch->sku_id, ids, num_ids, &by_id, &num_by_id)) == 0 &&
        num_by_id != 0) {
        *existing = lb_realloc(*existing, (*found + num_by_id) * sizeof(**existing));
        memcpy(*existing + *found, by_id, num_by_id * sizeof(*by_id));
        *found += num_by_id;
    }
    free(by_id);
    free(ids);
    free(keyed);
    return ret;
}

/*
 * A batch of requests for targets known to be sold out or off air, each with the buyer's own key: no lock, no insert; a
 * key that is found is replayed (or refused if it came with another body), every other request gets what its hint said.
 */
static int check_replays(lb_db_t *db, lb_reserve_batch_t *batch)
{
    lb_alloc_input_t input = {.now = lb_now()};
    lb_existing_order_t *existing = NULL;
    int ret = read_existing(db, batch, KEYS_GIVEN, &existing, &input.num_existing);
    if (ret != 0)
        return ret;
    input.existing = existing;
    lb_allocate(batch->requests, &input); /* no targets: what is not a replay is "not found" */
    settle_replays(batch);
    for (lb_order_request_t *r = batch->requests; r != NULL; r = r->next)
        if (r->outcome == LB_OUTCOME_NOT_FOUND)
            r->outcome = r->hinted;
    free(existing);
    return 0;
}

#define AGAIN_LOOKING_KEYS_UP 1 /* run_once: roll back and run again with every batch's look_up_keys */

/*
 * Did the batch refuse a request whose key (the buyer's own) an order holds already? Then that request is a retry of
 * the order: a replay, and the batch is run again looking the keys up. Only the refused ones' keys are read here.
 */
static int refused_a_taken_key(lb_db_t *db, lb_reserve_batch_t *batch, int *taken)
{
    lb_existing_order_t *existing;
    size_t found;
    int ret = read_existing(db, batch, KEYS_GIVEN_AND_REFUSED, &existing, &found);
    free(existing);
    *taken = found != 0;
    return ret;
}

/*
 * Decides the batch's requests under its SKU's lock (sku: the locked row; its id 0 when there is no such SKU): its
 * targets locked, the keys and per-buyer counts read, the units allocated. Nothing is written yet.
 */
static int decide(lb_db_t *db, lb_reserve_batch_t *batch, const lb_sku_t *sku, int64_t now)
{
    lb_alloc_input_t input = {.now = now};
    lb_existing_order_t *existing = NULL;
    lb_buyer_usage_t *usage = NULL;
    int ret;

    if (batch->requests == NULL)
        batch->take(batch);
    if (batch->requests == NULL)
        return 0;
    if (batch->requests->replay_check)
        return check_replays(db, batch);
    if (sku->id == 0) {
        for (lb_order_request_t *r = batch->requests; r != NULL; r = r->next)
            r->outcome = LB_OUTCOME_NOT_FOUND;
        return 0;
    }
    batch->sku_found = 1;
    if ((ret = lock_targets(db, batch, sku)) != 0 ||
        (ret = read_existing(db, batch, batch->look_up_keys ? KEYS_GIVEN : KEYS_LOST_AT_COMMIT, &existing, &input.num_existing)) !=
            0)
        goto Exit;
    input.targets = batch->targets;
    input.num_targets = batch->num_targets;
    input.existing = existing;
    if ((ret = read_usage(db, batch, &input, &usage)) != 0)
        goto Exit;
    lb_allocate(batch->requests, &input);
    if (!batch->look_up_keys) {
        int taken;
        if ((ret = refused_a_taken_key(db, batch, &taken)) == 0 && taken)
            ret = AGAIN_LOOKING_KEYS_UP;
    }
Exit:
    free(existing);
    free(usage);
    return ret;
}

/*
 * One run of the job's transaction: lock the SKU rows (one statement, ascending ids), take each lane's requests and
 * decide them, write every batch's orders and counters, commit.
 */
/* A batch of replay checks taken when sent: it locks nothing, the keys alone answer it. */
static int is_replay_check(const lb_reserve_batch_t *batch)
{
    return batch->requests != NULL && batch->requests->replay_check;
}

static int run_once(lb_db_t *db, lb_reserve_batch_t *const *batches, size_t n)
{
    int64_t *ids = lb_malloc(n * sizeof(*ids)), now = lb_now();
    lb_sku_t *skus = lb_malloc(n * sizeof(*skus));
    size_t num_locked = 0;
    int ret = 0;

    for (size_t i = 0; i != n; ++i) {
        reset(batches[i]);
        if (is_replay_check(batches[i])) {
            if ((ret = check_replays(db, batches[i])) != 0)
                goto Exit;
        } else {
            ids[num_locked++] = batches[i]->sku_id;
        }
    }
    if (num_locked == 0)
        goto Exit;
    if ((ret = store->begin(db)) != 0 || (ret = store->skus_lock(db, ids, num_locked, skus)) != 0)
        goto Exit;
    for (size_t i = 0, j = 0; i != n; ++i) {
        if (is_replay_check(batches[i]))
            continue; /* checked above */
        if ((ret = decide(db, batches[i], &skus[j++], now)) != 0)
            goto Exit;
    }
    if ((ret = write_orders(db, batches, n, now)) != 0) {
        if (ret == LB_EDB_DUP && !batches[0]->look_up_keys)
            ret = AGAIN_LOOKING_KEYS_UP; /* a buyer's key is taken already: a retry of an order that was made */
        goto Exit;
    }
    for (size_t i = 0; i != n; ++i)
        settle_replays(batches[i]);
    if ((ret = store->commit(db)) == LB_EDB_DOWN) {
        /* The outcome is unknown: run again on a new connection; the order ids tell which orders exist. */
        for (size_t i = 0; i != n; ++i) {
            for (lb_order_request_t *r = batches[i]->requests; r != NULL; r = r->next) {
                if (r->outcome == LB_OUTCOME_RESERVED) {
                    r->commit_attempted = 1;
                    r->committed_id = r->order_id;
                }
            }
        }
        ret = LB_EDB_RETRY;
    }
Exit:
    free(skus);
    free(ids);
    return ret;
}

int lb_reserve_run(lb_db_t *db, lb_reserve_batch_t *const *batches, size_t n)
{
    int ret = run_once(db, batches, n);
    if (ret == AGAIN_LOOKING_KEYS_UP) {
        store->rollback(db);
        for (size_t i = 0; i != n; ++i)
            batches[i]->look_up_keys = 1;
        ret = run_once(db, batches, n);
    }
    return ret;
}
