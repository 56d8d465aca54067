/*
 * The statements on group-buys (a campaign on a SKU that succeeds at a minimum quantity by its cut-off) and the pickup
 * points they deliver to. Worker threads; 0 or an LB_E* code.
 */
#ifndef LIVEBUY_STORE_GROUP_BUYS_H
#define LIVEBUY_STORE_GROUP_BUYS_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/model/group_buy.h"
#include "livebuy/model/order.h"
#include "livebuy/model/reservation.h"

/* Inserts a pickup point of the merchant's network, bound to point->station_id unless 0; sets point->id. */
int lb_store_pickup_point_create(lb_db_t *db, int64_t merchant_id, lb_pickup_point_t *point);
/* Up to limit pickup points with ids above after, in id order; *found of them. */
int lb_store_pickup_points_list(lb_db_t *db, int64_t after, int64_t limit, lb_pickup_point_t *points, size_t *found);
/* *point, or LB_ENOTFOUND. */
int lb_store_pickup_point_get(lb_db_t *db, int64_t id, lb_pickup_point_t *point);
/*
 * Binds a pickup point to a station merchant (the caller checked its kind) and reads it into *point: LB_ENOTFOUND when
 * there is no such point, LB_EFORBIDDEN when another merchant owns it.
 */
int lb_store_pickup_point_set_station(lb_db_t *db, int64_t id, int64_t merchant_id, int64_t station_id, lb_pickup_point_t *point);
/* 0 when the pickup point exists, LB_ENOTFOUND when not. */
int lb_store_pickup_point_exists(lb_db_t *db, int64_t id);

/*
 * Opens a group-buy on a SKU the merchant owns and sets gb->id. LB_ENOTFOUND when there is no such SKU, LB_EFORBIDDEN
 * when another merchant owns it, LB_ECONFLICT when it is retired, LB_EINPUT when gb->pickup_point_id names no pickup
 * point.
 */
int lb_store_group_buy_create(lb_db_t *db, lb_group_buy_t *gb);
/* *gb, or LB_ENOTFOUND. */
int lb_store_group_buy_get(lb_db_t *db, int64_t id, lb_group_buy_t *gb);
/* The campaign as its pages show it (livebuy/model/group_buy.h), or LB_ENOTFOUND. */
int lb_store_group_buy_view_get(lb_db_t *db, int64_t id, lb_group_buy_view_t *view);

/* Which of a co-op's campaigns a listing shows. */
typedef struct st_lb_group_buy_filter_t {
    int64_t merchant_id;
    int status;     /* an index of lb_group_buy_statuses, or -1 for any */
    int64_t sku_id; /* 0 for any */
} lb_group_buy_filter_t;
/* The campaigns that filter keeps with ids above after, in id order: at most limit into out (which holds that many). */
int lb_store_group_buys_list(lb_db_t *db, const lb_group_buy_filter_t *filter, int64_t after, int64_t limit,
                             lb_group_buy_view_t *out, size_t *found);

/* ---- The order path ---------------------------------------------------------------------------------------------- */

/* Where a group-buy draws from and delivers to; LB_ENOTFOUND when there is none. */
int lb_store_group_buy_route(lb_db_t *db, int64_t id, int64_t *sku_id, int64_t *closes_at, int64_t *pickup_point_id);
/* Locks a group-buy of this SKU and fills target; target->found = 0 (and 0 returned) when it does not exist or sells
 * another SKU. */
int lb_store_group_buy_lock(lb_db_t *db, int64_t id, int64_t sku_id, int64_t default_ttl, lb_alloc_target_t *target);
/* After a batch (or a release): the campaign's joined quantity += delta. */
int lb_store_group_buy_add_joined(lb_db_t *db, int64_t sku_id, int64_t id, int64_t delta);

/* ---- The group-buy closer (server/jobs/closer.c) ----------------------------------------------------------------- */

/* Open group-buys whose cut-off has come, as (sku_id, id) pairs, oldest cut-off first. */
int lb_store_group_buys_due(lb_db_t *db, int64_t now, int64_t limit, lb_order_ref_t *out, size_t *found);
/* Locks a group-buy row (after its SKU row) and reads it, or LB_ENOTFOUND. */
int lb_store_group_buy_lock_row(lb_db_t *db, int64_t sku_id, int64_t id, lb_group_buy_t *gb);
/* The campaign of that SKU without a lock, in the caller's transaction (a sharded deployment: on the SKU's backend). */
int lb_store_group_buy_of_sku(lb_db_t *db, int64_t sku_id, int64_t id, lb_group_buy_t *gb);
/* The campaign's joins in a status, locked, in id order; *out is malloc'd (the caller frees it). */
int lb_store_group_buy_joins(lb_db_t *db, int64_t sku_id, int64_t group_buy_id, const char *status, lb_order_t **out,
                             size_t *found);
/*
 * Sets the outcome of an open campaign gb (succeeded, failed; gb as read under its row lock when the closer decided):
 * its joined_qty_at_close is gb->joined_qty, and refunded_qty units (its paid joins the closer refunded) leave
 * joined_qty.
 */
int lb_store_group_buy_close(lb_db_t *db, const lb_group_buy_t *gb, const char *status, int64_t refunded_qty, int64_t now);

#endif
