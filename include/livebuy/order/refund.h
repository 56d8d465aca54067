/*
 * Refunds (docs/api.md "Refunds"): money that goes back to a buyer, one refund per payment transaction. This is the one
 * place that decides what a refund does to its order and the SKU's counters; the routes, the payment notify, the
 * campaign closer, the refund outbox and the providers' notifications all come here.
 */
#ifndef LIVEBUY_ORDER_REFUND_H
#define LIVEBUY_ORDER_REFUND_H

#include <stdint.h>
#include "livebuy/db/db.h"
#include "livebuy/model/order.h"
#include "livebuy/model/refund.h"

#define LB_REFUND_MESSAGE_MAX     400 /* last_error's width: a longer message is cut at a character boundary */
#define LB_PROVIDER_REFUND_ID_MAX 128

/*
 * A provider's word on a refund it was sent: a signed refund notification (generic or WeChat Pay), or the push's answer
 * when that says the refund is done already. Owned by the caller; the strings are read during the call only.
 */
typedef struct st_lb_refund_notice_t {
    int64_t refund_id;
    int64_t order_id;               /* the order the provider names, checked against the refund's; 0: not checked */
    int refunded;                   /* 1: the money went back; 0: the refund failed */
    int64_t amount_cents;           /* the amount the provider names, checked; -1: not checked */
    const char *provider_refund_id; /* the provider's id of the refund (kept when given); may be NULL */
    const char *message;            /* why it failed (kept as last_error); may be NULL */
} lb_refund_notice_t;

typedef enum en_lb_refund_confirm_outcome_t {
    LB_REFUND_CONFIRMED,    /* the refund is refunded (its order too, for the order's own payment) or failed now */
    LB_REFUND_REPLAYED,     /* it had that outcome already: nothing changed */
    LB_REFUND_NOT_FOUND,    /* no such refund, or not of notice->order_id: nothing changed */
    LB_REFUND_WRONG_AMOUNT, /* notice->amount_cents is not the refund's: nothing changed */
    LB_REFUND_CONFLICT,     /* never sent (requested, rejected), or refunded and now said to have failed: nothing changed */
} lb_refund_confirm_outcome_t;

typedef struct st_lb_refund_confirm_result_t {
    lb_refund_confirm_outcome_t outcome;
    int64_t order_id, sku_id;
    char status[16]; /* the refund's status after the call ("" when not found) */
} lb_refund_confirm_result_t;

/*
 * Applies a provider's notice to its refund, on a worker's db, in a transaction it begins once it has read the refund's
 * SKU without a lock (every statement of the transaction then names the SKU: one backend of a sharded database) and
 * leaves open for the caller to commit or roll back: which statuses it moves is docs/design.md's refund state machine
 * (pending, sent or dead -> refunded or failed; failed -> refunded; the same outcome again is a replay). The refund's
 * order goes from refund_required to refunded when the refund was of the order's own payment (every cause but
 * paid_twice). Locks the refund's SKU row first, then the refund and its order (the SKU row lock comes before every
 * order row, catalog.h). Sets *out and returns 1 when it changed something (commit), 0 when not (nothing to commit), or
 * an LB_EDB_* code (LB_EDB_RETRY: run the whole transaction again). Count what it decided, after the commit, with
 * lb_refund_count_confirmed.
 */
int lb_refund_confirm(lb_db_t *db, const lb_refund_notice_t *notice, int64_t now, lb_refund_confirm_result_t *out);

/* Counts a committed confirmation in /metrics (livebuy_refund_events_total, refunded or failed); any thread. */
void lb_refund_count_confirmed(const lb_refund_confirm_result_t *result);

/* ---- Creation: the one rule of docs/design.md "Refunds" (each in the transaction that decides it, SKU row locked) -- */

/*
 * The refund of a payment whose money goes back while its order is decided elsewhere (late_payment, paid_twice): a
 * pending refund of amount_cents under provider_txn_id, of order, for the SKU's co-op coop_id. out->id is 0 when that
 * payment has a refund already (never two). 0 or an LB_EDB_* code.
 */
int lb_refund_for_payment(lb_db_t *db, const lb_order_t *order, int64_t coop_id, const char *provider_txn_id, int64_t amount_cents,
                          const char *cause, int64_t now, lb_refund_t *out);
/*
 * A failed campaign's paid join (locked): refund_required, its units leave sold (back to the SKU's available) and its
 * payment gets a pending refund (campaign_failed). out->id is 0 when the payment had one already (nothing changed).
 */
int lb_refund_campaign_failed(lb_db_t *db, lb_order_t *join, int64_t coop_id, int64_t now, lb_refund_t *out);

typedef enum en_lb_refund_request_outcome_t {
    LB_REFUND_REQUEST_AT_ONCE,    /* not handed to shipping: units back, shipment cancelled, refund pending */
    LB_REFUND_REQUEST_REQUESTED,  /* handed off (or on its way there): a request the co-op decides */
    LB_REFUND_REQUEST_NOT_PAID,   /* reserved, expired or cancelled: no money to give back */
    LB_REFUND_REQUEST_HAS_REFUND, /* the order's payment has a refund already: refund is it */
} lb_refund_request_outcome_t;

typedef struct st_lb_refund_request_t {
    lb_refund_request_outcome_t outcome;
    lb_refund_t refund; /* the refund made, or the one the order has */
} lb_refund_request_t;

/*
 * A buyer asks for the money of order (locked with its SKU row, the buyer checked by the caller) back, with reason ("" for
 * none), coop_id the SKU's merchant: sets req and returns 1 when a refund was made (commit), 0 when not, or an LB_EDB_*
 * code. Reaches it through the SKU's action lane (livebuy/sku_actions.h), like a cancellation.
 */
int lb_refund_request(lb_db_t *db, lb_order_t *order, int64_t coop_id, const char *reason, int64_t now, lb_refund_request_t *req);

/* Counts a committed new refund in /metrics (livebuy_refunds_total, and requested); any thread. */
void lb_refund_count_created(const char *cause, const char *status);

/* ---- The co-op's decisions ----------------------------------------------------------------------------------------- */

typedef enum en_lb_refund_decision_outcome_t {
    LB_REFUND_DECIDED,
    LB_REFUND_DECISION_NOT_FOUND, /* no such refund, or another co-op's */
    LB_REFUND_DECISION_CONFLICT,  /* not in a status the decision moves (livebuy/model/refund.h, lb_refund_decide) */
} lb_refund_decision_outcome_t;

typedef struct st_lb_refund_decision_result_t {
    lb_refund_decision_outcome_t outcome;
    lb_refund_t refund; /* as it is after the decision (as it was, for a conflict) */
} lb_refund_decision_result_t;

/*
 * Co-op coop_id's decision on refund refund_id, in a transaction begun as lb_refund_confirm's and left open for the
 * caller to commit or roll back (SKU row, then the refund, then its order):
 * approve (its order refund_required; the units leave sold and stock: the goods went out), reject (with reason, or
 * NULL), retry (sent again: pending, attempts 0). Sets *out and returns 1 when it changed something (commit), 0 when
 * not, or an LB_EDB_* code.
 */
int lb_refund_decide_by(lb_db_t *db, int64_t refund_id, int64_t coop_id, lb_refund_decision_t decision, const char *reason,
                        int64_t now, lb_refund_decision_result_t *out);
/* Counts a committed decision in /metrics (approved, rejected, retried); any thread. */
void lb_refund_count_decided(lb_refund_decision_t decision);

#endif
