/*
 * The correctness check after a run, as pure logic: what the API shows afterwards (the SKU's counters, the live item,
 * the merchant's orders) against what the generator was told during the run (201s per idempotency key, payments and
 * cancellations answered 200). Every broken rule is reported as one line naming it.
 */
#ifndef LIVEBUY_LOAD_CHECK_H
#define LIVEBUY_LOAD_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* What an order's status means for the counters. */
typedef enum en_lb_check_state_t {
    LB_CHECK_RESERVED, /* reserved: counts in the SKU's reserved */
    LB_CHECK_SOLD,     /* paid, handed_off, shipped, delivered: counts in sold */
    LB_CHECK_RELEASED, /* expired, cancelled, refund_required, refunded: holds no stock */
} lb_check_state_t;

/* Maps a status string of the API to its state; returns -1 for an unknown status. */
int lb_check_state_of(const char *status);

/* An order as GET /v1/merchant/orders lists it. */
typedef struct st_lb_check_order_t {
    int64_t id, buyer_id, sku_id, live_item_id, group_buy_id, qty, amount_cents;
    lb_check_state_t state;
    char status[20]; /* the API's status string */
} lb_check_order_t;

/* A 201 the generator received: key is the generator's number for the idempotency key (same key, same number). */
typedef struct st_lb_check_grant_t {
    uint64_t key;
    int64_t order_id, buyer_id, qty;
} lb_check_grant_t;

/* Everything the check looks at; the arrays are borrowed (grants and orders may be reordered). */
typedef struct st_lb_check_input_t {
    int64_t sku_id, stock, reserved, sold, held; /* GET /v1/skus/{id} */
    int has_live_item;
    int64_t live_item_id, quota, available, per_buyer_limit; /* from GET /v1/lives/{id} */
    lb_check_order_t *orders;                                /* every order of the merchant (of this run) */
    size_t num_orders;
    int has_observations; /* the rest is filled: the check follows a run */
    lb_check_grant_t *grants;
    size_t num_grants;
    const int64_t *paid, *cancelled; /* orders a notify or a cancel was answered 200 for (paid: status "paid") */
    size_t num_paid, num_cancelled;
    uint64_t unanswered; /* order requests whose outcome the generator never learnt (network errors, 5xx) */
} lb_check_input_t;

/* Called once per violation with a one-line description starting with the rule's name. */
typedef void (*lb_check_report_cb)(void *ctx, const char *line);

/* Runs every check; returns the number of violations. */
size_t lb_check_run(lb_check_input_t *input, lb_check_report_cb report, void *ctx);

/*
 * A group-buy campaign as GET /v1/group-buys/{id} shows it after its cut-off, with what the generator set
 * (joined_qty_at_close -1: null).
 */
typedef struct st_lb_check_group_buy_t {
    int64_t id, min_qty, joined_qty, joined_qty_at_close, per_buyer_limit;
    char status[16]; /* open, succeeded, failed */
} lb_check_group_buy_t;

/* A refund as GET /v1/merchant/refunds lists it. */
typedef struct st_lb_check_refund_t {
    int64_t id, order_id, amount_cents;
    char cause[16];  /* buyer, late_payment, paid_twice, campaign_failed */
    char status[16]; /* requested, rejected, pending, sent, refunded, failed, dead */
} lb_check_refund_t;

/*
 * The group-buy rules: every campaign closed; succeeded ones have joined_qty_at_close >= min_qty and failed ones did
 * not reach it; joined_qty is the sum of the campaign's joins still reserved or paid (not cancelled, expired, or with
 * their money going back, whoever refunded them: a buyer, a late payment, the closer of a failed campaign); a failed
 * campaign released every unpaid join (cancelled) and its paid joins (paid: what the generator was told) are
 * refund_required; no buyer above the per-buyer limit in a campaign. Orders must be sorted by id (lb_check_run sorts
 * them). Returns the number of violations.
 */
size_t lb_check_group_buys(const lb_check_group_buy_t *campaigns, size_t num_campaigns, const lb_check_order_t *orders,
                           size_t num_orders, const int64_t *paid, size_t num_paid, lb_check_report_cb report, void *ctx);

/* What the refund rules look at; the arrays are borrowed. */
typedef struct st_lb_check_refunds_input_t {
    const lb_check_refund_t *refunds; /* every refund of the merchant (of this run) */
    size_t num_refunds;
    const lb_check_order_t *orders; /* sorted by id (lb_check_run sorts them) */
    size_t num_orders;
    int has_observations; /* the rest is filled: the check follows a run, which paid each order at most once */
    const int64_t *asked; /* orders a refund request was answered 200 for */
    size_t num_asked;
    const int64_t *pay_sent; /* orders a payment notify was sent for (answered or not) */
    size_t num_pay_sent;
} lb_check_refunds_input_t;

/*
 * The refund rules (money that must go back has exactly one refund, and money never paid none):
 *   refund lost      an order refund_required or refunded has no refund of its own payment (every cause but
 *                    paid_twice); a refund request answered 200 left its order without a refund;
 *   refunded twice   two refunds of one order's own payment; with observations, a refund of an order no payment was
 *                    sent for, or a paid_twice refund (the run paid each order once: a second payment never was);
 *   refund amount    a refund of an order's own payment is not its amount;
 *   refund not applied  the order of a refund of its own payment that is decided (pending and on) is not
 *                    refund_required (or refunded, once refunded), or the order of a requested or rejected one is not
 *                    paid or further.
 * Returns the number of violations.
 */
size_t lb_check_refunds(const lb_check_refunds_input_t *input, lb_check_report_cb report, void *ctx);

#endif
