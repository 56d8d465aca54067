/*
 * Routing an order to its SKU's lane (livebuy/order/targets.h): this loop thread's cache of live items, group-buys and
 * pickup points, and the look-ups that fill it. When a live item opens, its first thousand orders come within
 * milliseconds: they wait behind one look-up instead of making a thousand.
 */
#include <h2o/memory.h>
#include "livebuy/common.h"
#include "livebuy/base/idmap.h"
#include "livebuy/db/db.h"
#include "livebuy/order/lanes.h"
#include "livebuy/order/targets.h"
#include "livebuy/store/group_buys.h"
#include "livebuy/store/lives.h"

/* What this thread learnt about a live item or group-buy: the SKU it draws on, when it takes orders, where it delivers. */
typedef struct st_route_t {
    int64_t sku_id, opens_at, closes_at, pickup_point_id;
} route_t;

/* A database look-up of what this thread does not know yet: a target's route, a pickup point's existence. */
typedef struct st_look_up_t {
    lb_db_job_t job;
    lb_order_request_t *request;                 /* the request whose look-up it is */
    lb_order_request_t *waiting, **waiting_tail; /* later requests for the same target, in arrival order (by next) */
    route_t route;
    int route_known; /* only the pickup point is looked up: route holds what the cache knew */
    int target_found, pickup_point_found;
} look_up_t;

/* target id -> route_t (live items, group-buys); pickup point id -> (void *)1 */
static _Thread_local lb_idmap_t known_live_items, known_group_buys, known_pickup_points;
/* target id -> the look_up_t in flight for it */
static _Thread_local lb_idmap_t looking_up_live_items, looking_up_group_buys;

static lb_idmap_t *known_targets(const lb_order_request_t *r)
{
    return r->target == LB_TARGET_LIVE_ITEM ? &known_live_items : r->target == LB_TARGET_GROUP_BUY ? &known_group_buys : NULL;
}

static lb_idmap_t *looking_up(const lb_order_request_t *r)
{
    return r->target == LB_TARGET_LIVE_ITEM ? &looking_up_live_items : &looking_up_group_buys;
}

/* A group-buy delivers to its own pickup point; other orders name one that must exist, or a ship_to address. */
static int pickup_point_known(const lb_order_request_t *r)
{
    return r->pickup_point_id == 0 || r->target == LB_TARGET_GROUP_BUY ||
           lb_idmap_get(&known_pickup_points, r->pickup_point_id) != NULL;
}

static void decide(lb_order_request_t *r, lb_order_outcome_t outcome)
{
    r->outcome = outcome;
    r->on_decided(r);
}

static void to_lane(uv_loop_t *loop, lb_order_request_t *r)
{
    if (lb_lanes_submit(loop, r) == LB_EBUSY)
        decide(r, LB_OUTCOME_BUSY);
}

/* Takes the target's route into the request: PENDING, or the outcome when the route refuses it already. */
static lb_order_outcome_t take_route(lb_order_request_t *r, const route_t *route)
{
    r->sku_id = route->sku_id;
    /* The cache does not know whether a group-buy was closed early; the batch does, and checks again. */
    lb_order_outcome_t outcome = lb_alloc_check_window(r, route->opens_at, route->closes_at, 1, lb_now());
    if (outcome != LB_OUTCOME_PENDING || r->target != LB_TARGET_GROUP_BUY)
        return outcome;
    if (r->pickup_point_id != 0 && r->pickup_point_id != route->pickup_point_id) {
        r->group_buy_pickup_point_id = route->pickup_point_id;
        return LB_OUTCOME_WRONG_PICKUP_POINT;
    }
    r->pickup_point_id = route->pickup_point_id;
    return LB_OUTCOME_PENDING;
}

/* Queues a request whose target is known (route: NULL for SKU orders), unless the route refuses it. */
static void route_known(uv_loop_t *loop, lb_order_request_t *r, const route_t *route)
{
    lb_order_outcome_t outcome = route != NULL ? take_route(r, route) : LB_OUTCOME_PENDING;
    if (outcome == LB_OUTCOME_PENDING)
        to_lane(loop, r);
    else
        decide(r, outcome);
}

static int look_up_work(lb_db_job_t *db_job, lb_db_t *db)
{
    look_up_t *job = H2O_STRUCT_FROM_MEMBER(look_up_t, job, db_job);
    const lb_order_request_t *r = job->request;
    route_t *route = &job->route;
    int ret = 0; /* SKU orders and known routes need no look-up of their target */
    if (!job->route_known && r->target == LB_TARGET_LIVE_ITEM)
        ret = lb_store_live_item_route(db, r->target_id, &route->sku_id, &route->opens_at);
    else if (!job->route_known && r->target == LB_TARGET_GROUP_BUY)
        ret = lb_store_group_buy_route(db, r->target_id, &route->sku_id, &route->closes_at, &route->pickup_point_id);
    if (ret != 0 && ret != LB_ENOTFOUND)
        return ret;
    job->target_found = ret == 0;
    job->pickup_point_found = 1;
    if (ret == 0 && r->pickup_point_id != 0 && r->target != LB_TARGET_GROUP_BUY) {
        if ((ret = lb_store_pickup_point_exists(db, r->pickup_point_id)) != 0 && ret != LB_ENOTFOUND)
            return ret;
        job->pickup_point_found = ret == 0;
    }
    return 0;
}

/* The requests that waited for a look-up of their target, which found it (or not, or failed with status). */
static void after_waiting(uv_loop_t *loop, lb_order_request_t *waiting, int status, int target_found)
{
    for (lb_order_request_t *r = waiting, *next; r != NULL; r = next) {
        next = r->next;
        if (status != 0)
            decide(r, LB_OUTCOME_UNAVAILABLE);
        else if (!target_found)
            decide(r, LB_OUTCOME_NOT_FOUND);
        else
            lb_targets_submit(loop, r); /* the target is known now */
    }
}

/* Back on the loop: remember what was learnt (only this thread touches its caches), then decide or queue the request. */
static void look_up_done(lb_db_job_t *db_job, int status)
{
    look_up_t *job = H2O_STRUCT_FROM_MEMBER(look_up_t, job, db_job);
    uv_loop_t *loop = job->job.uv.loop;
    lb_order_request_t *r = job->request, *waiting = job->waiting;
    lb_idmap_t *cache = known_targets(r);
    int target_found = job->target_found;

    if (cache != NULL && !job->route_known)
        lb_idmap_remove(looking_up(r), r->target_id);
    if (status == 0 && target_found && cache != NULL && !job->route_known) {
        route_t *route = lb_malloc(sizeof(*route));
        *route = job->route;
        lb_idmap_set(cache, r->target_id, route);
    }
    if (status == 0 && job->pickup_point_found && r->pickup_point_id != 0 && r->target != LB_TARGET_GROUP_BUY)
        lb_idmap_set(&known_pickup_points, r->pickup_point_id, (void *)1);

    if (status != 0)
        decide(r, LB_OUTCOME_UNAVAILABLE);
    else if (!target_found)
        decide(r, LB_OUTCOME_NOT_FOUND);
    else if (!job->pickup_point_found)
        decide(r, LB_OUTCOME_NO_PICKUP_POINT);
    else
        route_known(loop, r, cache != NULL ? &job->route : NULL);
    free(job);
    after_waiting(loop, waiting, status, target_found);
}

/*
 * Looks up what is missing, or waits behind the look-up of the same target that is in flight. route: what the cache
 * knows of the target (NULL for SKU orders and unknown targets).
 */
static void look_up(uv_loop_t *loop, lb_order_request_t *r, const route_t *route)
{
    lb_idmap_t *in_flight = route == NULL && r->target != LB_TARGET_SKU ? looking_up(r) : NULL;
    look_up_t *job = in_flight != NULL ? lb_idmap_get(in_flight, r->target_id) : NULL;
    if (job != NULL) {
        r->next = NULL;
        *job->waiting_tail = r;
        job->waiting_tail = &r->next;
        return;
    }
    job = lb_calloc(1, sizeof(*job));
    job->request = r;
    job->waiting_tail = &job->waiting;
    if (route != NULL) {
        job->route = *route;
        job->route_known = 1;
    }
    if (in_flight != NULL)
        lb_idmap_set(in_flight, r->target_id, job);
    lb_db_submit(loop, &job->job, look_up_work, look_up_done);
}

void lb_targets_submit(uv_loop_t *loop, lb_order_request_t *r)
{
    const route_t *route = NULL;
    if (r->target != LB_TARGET_SKU && (route = lb_idmap_get(known_targets(r), r->target_id)) == NULL)
        look_up(loop, r, NULL);
    else if (!pickup_point_known(r))
        look_up(loop, r, route);
    else
        route_known(loop, r, route);
}
