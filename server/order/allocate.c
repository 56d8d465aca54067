/*
 * Allocation within one batch, first come first served: the rules of the order path with no I/O, so that they can be
 * tested on their own. The batch transaction (reserve.c) feeds it what it read under the SKU's row lock.
 */
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/order/order.h"

int lb_alloc_target_of(const lb_alloc_input_t *input, const lb_order_request_t *request)
{
    int64_t id = request->target == LB_TARGET_SKU ? 0 : request->target_id;
    for (size_t i = 0; i != input->num_targets; ++i)
        if (input->targets[i].kind == request->target && input->targets[i].id == id)
            return input->targets[i].found ? (int)i : -1;
    return -1;
}

lb_order_outcome_t lb_alloc_check_window(lb_order_request_t *r, int64_t opens_at, int64_t closes_at, int open, int64_t now)
{
    if (now < opens_at) {
        r->opens_at = opens_at;
        return LB_OUTCOME_NOT_OPEN;
    }
    if (r->target == LB_TARGET_GROUP_BUY && (!open || now >= closes_at)) {
        r->closes_at = closes_at;
        return LB_OUTCOME_CLOSED;
    }
    return LB_OUTCOME_PENDING;
}

/* The order that holds the request's key, found by key (an order found by id has buyer_id 0). */
static const lb_existing_order_t *order_with_key(const lb_alloc_input_t *input, const lb_order_request_t *request)
{
    for (size_t i = 0; i != input->num_existing; ++i) {
        const lb_existing_order_t *e = &input->existing[i];
        if (e->buyer_id == request->buyer_id && strcmp(e->idem_key, request->idem_key) == 0)
            return e;
    }
    return NULL;
}

/* After a lost COMMIT: the order that COMMIT made for the request, if it was made. */
static const lb_existing_order_t *order_committed(const lb_alloc_input_t *input, const lb_order_request_t *request)
{
    for (size_t i = 0; request->commit_attempted && i != input->num_existing; ++i)
        if (input->existing[i].order_id == request->committed_id)
            return &input->existing[i];
    return NULL;
}

/*
 * Units the buyer holds through the target: in the database plus what this batch granted before this request and has
 * not written yet (one it found made by its lost COMMIT has its id, and is in the database's count already).
 */
static int64_t units_held(const lb_alloc_input_t *input, const lb_order_request_t *first_of_buyer,
                          const lb_order_request_t *request)
{
    int64_t qty = 0;
    for (size_t i = 0; i != input->num_usage; ++i) {
        const lb_buyer_usage_t *u = &input->usage[i];
        if (u->buyer_id == request->buyer_id && u->kind == request->target && u->target_id == request->target_id)
            qty += u->qty;
    }
    for (const lb_order_request_t *r = first_of_buyer; r != request; r = r->next_of_buyer)
        if (r->outcome == LB_OUTCOME_RESERVED && r->order_id == 0 && r->target == request->target &&
            r->target_id == request->target_id)
            qty += r->qty;
    return qty;
}

/* An earlier request of the batch with the same buyer and key, or NULL. Keys the server made are all different. */
static lb_order_request_t *same_key_earlier(lb_order_request_t *first_of_buyer, const lb_order_request_t *request)
{
    if (!request->key_given)
        return NULL;
    for (lb_order_request_t *r = first_of_buyer; r != request; r = r->next_of_buyer)
        if (r->key_given && strcmp(r->idem_key, request->idem_key) == 0)
            return r;
    return NULL;
}

static void decide(lb_order_request_t *r, lb_order_request_t *first_of_buyer, lb_alloc_input_t *input)
{
    const lb_existing_order_t *e = order_committed(input, r);
    if (e != NULL) {
        r->outcome = LB_OUTCOME_RESERVED; /* the order this very request made, not an earlier one */
    } else if ((e = order_with_key(input, r)) != NULL) {
        if (memcmp(e->request_hash, r->request_hash, sizeof(r->request_hash)) != 0) {
            r->outcome = LB_OUTCOME_KEY_REUSED;
            return;
        }
        r->outcome = LB_OUTCOME_REPLAYED;
    }
    if (e != NULL) {
        r->order_id = e->order_id;
        r->amount_cents = e->amount_cents;
        r->expires_at = e->expires_at;
        return;
    }
    lb_order_request_t *twin = same_key_earlier(first_of_buyer, r);
    if (twin != NULL) {
        if (memcmp(twin->request_hash, r->request_hash, sizeof(r->request_hash)) != 0) {
            r->outcome = LB_OUTCOME_KEY_REUSED;
        } else {
            r->replay_of = twin->replay_of != NULL ? twin->replay_of : twin;
            r->outcome = r->replay_of->outcome == LB_OUTCOME_RESERVED ? LB_OUTCOME_REPLAYED : r->replay_of->outcome;
        }
        return;
    }

    int index = lb_alloc_target_of(input, r);
    if (index < 0) {
        r->outcome = LB_OUTCOME_NOT_FOUND;
        return;
    }
    lb_alloc_target_t *t = &input->targets[index];
    /* A group-buy sells the SKU's own stock: it shares what is left with direct orders. */
    lb_alloc_target_t *stock = t->kind == LB_TARGET_GROUP_BUY ? &input->targets[0] : t;
    /* Off air is for good, whatever its window; its quota shrank to what it sold, but it is not sold out. */
    if (t->closed) {
        r->outcome = LB_OUTCOME_OFF_AIR;
        return;
    }
    if ((r->outcome = lb_alloc_check_window(r, t->opens_at, t->closes_at, t->open, input->now)) != LB_OUTCOME_PENDING)
        return;
    /* A retired SKU takes no new orders of its own; what live items hold of it sells out. */
    if (t->kind != LB_TARGET_LIVE_ITEM && input->targets[0].retired) {
        r->outcome = LB_OUTCOME_RETIRED;
        return;
    }
    int64_t held = t->per_buyer_limit > 0 ? units_held(input, first_of_buyer, r) : 0;
    if (t->per_buyer_limit > 0 && held + r->qty > t->per_buyer_limit) {
        r->outcome = LB_OUTCOME_LIMIT;
        r->limit = t->per_buyer_limit;
        r->held = held;
        return;
    }
    if (r->qty > stock->left) {
        r->outcome = LB_OUTCOME_SOLD_OUT;
        r->left = stock->left;
        return;
    }
    stock->left -= r->qty;
    t->granted += r->qty;
    r->outcome = LB_OUTCOME_RESERVED;
    r->amount_cents = t->price_cents * r->qty;
    r->expires_at = input->now + t->reserve_ttl;
}

void lb_allocate(lb_order_request_t *batch, lb_alloc_input_t *input)
{
    /* Chain each buyer's requests so that per-buyer checks look at a handful of requests, not the whole batch. */
    lb_idmap_t last_of_buyer = {0}, first_of_buyer = {0};
    for (lb_order_request_t *r = batch; r != NULL; r = r->next) {
        r->next_of_buyer = NULL;
        lb_order_request_t *last = lb_idmap_get(&last_of_buyer, r->buyer_id);
        if (last != NULL)
            last->next_of_buyer = r;
        else
            lb_idmap_set(&first_of_buyer, r->buyer_id, r);
        lb_idmap_set(&last_of_buyer, r->buyer_id, r);
    }
    for (lb_order_request_t *r = batch; r != NULL; r = r->next)
        if (r->outcome == LB_OUTCOME_PENDING)
            decide(r, lb_idmap_get(&first_of_buyer, r->buyer_id), input);
    lb_idmap_dispose(&last_of_buyer);
    lb_idmap_dispose(&first_of_buyer);
}
