/*
 * Reservations: an order request as it moves through the order path (validated on the loop thread, queued in its SKU's
 * lane, decided in a batch), and what a batch reads from the database to decide it. Plain structs: the store reads and
 * writes them, the order layer (livebuy/order/order.h) decides with them.
 */
#ifndef LIVEBUY_MODEL_RESERVATION_H
#define LIVEBUY_MODEL_RESERVATION_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "livebuy/base/limits.h"
#include "livebuy/base/token.h"

/* The most units one order may ask for. */
#define LB_ORDER_QTY_MAX 10000

typedef enum en_lb_order_target_t { LB_TARGET_SKU, LB_TARGET_LIVE_ITEM, LB_TARGET_GROUP_BUY } lb_order_target_t;

/* What a batch (or the routing before it, order/targets.c) decided for one request, and the HTTP answer it becomes. */
typedef enum en_lb_order_outcome_t {
    LB_OUTCOME_PENDING,
    LB_OUTCOME_RESERVED,           /* 201 */
    LB_OUTCOME_REPLAYED,           /* 201 with Idempotent-Replayed: true: the key's first answer */
    LB_OUTCOME_KEY_REUSED,         /* 422 invalid: the key was used with another body */
    LB_OUTCOME_SOLD_OUT,           /* 409 sold_out */
    LB_OUTCOME_LIMIT,              /* 422 limit_exceeded */
    LB_OUTCOME_NOT_OPEN,           /* 409 conflict: the live item is not on air yet */
    LB_OUTCOME_OFF_AIR,            /* 409 conflict: the live item was taken off air (closed), not sold out */
    LB_OUTCOME_CLOSED,             /* 409 conflict: the group-buy is closed */
    LB_OUTCOME_RETIRED,            /* 409 conflict: the SKU is retired (a live item's quota still sells) */
    LB_OUTCOME_NOT_FOUND,          /* 404: no such SKU, live item or group-buy */
    LB_OUTCOME_NO_PICKUP_POINT,    /* 422 invalid: no such pickup point */
    LB_OUTCOME_WRONG_PICKUP_POINT, /* 422 invalid: the group-buy delivers to another pickup point */
    LB_OUTCOME_BUSY,               /* 429: the lanes' queue is full */
    LB_OUTCOME_UNAVAILABLE,        /* 503: the database could not decide */
    LB_OUTCOME_TIMED_OUT,          /* 503: no batch took it within the order deadline (a database that does not answer) */
    LB_OUTCOME_GONE,               /* none: the client went before a batch took the request, which reserved nothing */
    LB_OUTCOMES
} lb_order_outcome_t;
/* Each outcome's label in livebuy_orders_total (the error code, or its cause where one code has several); NULL for pending. */
extern const char *const lb_order_outcome_labels[LB_OUTCOMES];

/* A consignee; the strings belong to the request's decoded body, which outlives the request. */
typedef struct st_lb_ship_to_t {
    const char *name, *phone, *address;
} lb_ship_to_t;

typedef struct st_lb_order_request_t lb_order_request_t;
struct st_lb_order_request_t {
    /* What the buyer asked for, validated on the loop thread. */
    int64_t buyer_id;
    lb_order_target_t target;
    int64_t target_id; /* the SKU, live item or group-buy named in the body */
    int64_t sku_id;    /* the SKU it draws on (resolved before the request enters a lane) */
    int64_t live_item_id, group_buy_id;
    int64_t qty;
    char idem_key[LB_IDEMPOTENCY_KEY_MAX + 1];
    uint8_t request_hash[LB_TOKEN_HASH_SIZE]; /* of everything but the key: a reused key with another body is refused */
    int key_given;                            /* the buyer sent the key (a retry may be a replay) */
    int replay_check;                         /* the target is known sold out or off air: only a replay can succeed */
    lb_order_outcome_t hinted;                /* with replay_check: the hint's answer (sold out, off air) to a non-replay */
    int64_t pickup_point_id;                  /* 0 when ship_to is used */
    lb_ship_to_t *ship_to;                    /* NULL when pickup_point_id is used */

    /* What the batch decided. */
    lb_order_outcome_t outcome;
    int64_t order_id, amount_cents, expires_at, left; /* left: units that were still there, for sold_out messages */
    int64_t limit, held; /* for limit_exceeded messages: the per-buyer limit, and the units this buyer holds already */
    int64_t opens_at, closes_at;       /* for not_open and closed messages: when the live item opens, the group-buy closed */
    int64_t group_buy_pickup_point_id; /* for wrong_pickup_point messages */
    int commit_attempted;              /* its batch reached COMMIT and lost the connection: committed_id tells if it committed */
    int64_t committed_id;              /* the order id that lost COMMIT would have made (kept when the batch runs again) */
    lb_order_request_t *replay_of;     /* an earlier request of the same batch with the same key (until the batch ends) */

    /* Links. */
    lb_order_request_t *next;                        /* in a lane's queue or a batch, or waiting for a look-up (targets.c) */
    lb_order_request_t *next_of_buyer;               /* the same buyer's later request in the same batch */
    void *owner;                                     /* the call waiting for the answer */
    atomic_int gone; /* set on the loop thread when the client goes; read by the batch that takes the queue */
    uint64_t queued_ns; /* when it entered its lane (lb_monotonic_ns), for the order deadline */
    void (*on_decided)(lb_order_request_t *request); /* called on the loop thread once the outcome is known */
};

/*
 * What an order draws on, as a batch found it in the database: the SKU itself (kind LB_TARGET_SKU, id 0), a live item
 * (its own quota) or a group-buy (the SKU's stock, at the campaign's price and limit, until it closes).
 */
typedef struct st_lb_alloc_target_t {
    lb_order_target_t kind;
    int64_t id;
    int found;
    int64_t price_cents;
    int64_t left;            /* units that can still be reserved through it (group-buys: see targets[0]) */
    int64_t reserved, sold;  /* a live item's, as locked (before the batch's grants): for the host's sales stream */
    int64_t per_buyer_limit; /* 0: none */
    int64_t opens_at;
    int64_t closes_at; /* 0: never */
    int open;          /* a group-buy still taking joins */
    int closed;        /* a live item taken off air: no more orders (its left is 0 then, yet it is not sold out) */
    int retired;       /* targets[0]: the SKU is retired, so direct orders and group-buy joins are refused */
    int64_t reserve_ttl;
    int64_t granted; /* units granted in this batch */
} lb_alloc_target_t;

/*
 * An order that already holds a key the batch's requests carry (found in the database by key), or the order a lost
 * COMMIT made (found by id: buyer_id 0, no key).
 */
typedef struct st_lb_existing_order_t {
    int64_t buyer_id;
    char idem_key[LB_IDEMPOTENCY_KEY_MAX + 1];
    uint8_t request_hash[LB_TOKEN_HASH_SIZE];
    int64_t order_id, amount_cents, expires_at;
} lb_existing_order_t;

/* Units a buyer already holds (reserved or bought) through one live item or group-buy, from the database: one order's
 * (a buyer and target may have several, which the allocation adds up). */
typedef struct st_lb_buyer_usage_t {
    int64_t buyer_id;
    lb_order_target_t kind;
    int64_t target_id, qty;
} lb_buyer_usage_t;

#endif
