/*
 * Refunds as they are kept (sql/013_refunds.sql) and the pure rules of their state machine (docs/design.md "Refunds"):
 * which statuses an action or a provider's word may move. No I/O.
 */
#ifndef LIVEBUY_MODEL_REFUND_H
#define LIVEBUY_MODEL_REFUND_H

#include <stdint.h>
#include "livebuy/model/text.h"

/* The causes and statuses as the schema spells them, NULL-terminated. */
extern const char *const lb_refund_causes[];
extern const char *const lb_refund_statuses[];

#define LB_REFUND_REASON_MAX 200 /* characters: the buyer's words, or the co-op's on a rejection */

/* One refund. Nullable columns read as 0 or "". */
typedef struct st_lb_refund_t {
    int64_t id, sku_id, order_id, buyer_id, coop_id, amount_cents, attempts, next_attempt_at, created_at, updated_at;
    char provider_txn_id[LB_TEXT_SIZE(128)];
    char cause[16], status[16];
    char reason[LB_TEXT_SIZE(LB_REFUND_REASON_MAX)];
    char last_error[LB_TEXT_SIZE(400)];
    char provider_refund_id[LB_TEXT_SIZE(128)];
} lb_refund_t;

/* What a co-op may do to a refund of its SKU (POST /v1/refunds/{id}/approve|reject|retry). */
typedef enum en_lb_refund_decision_t {
    LB_REFUND_APPROVE, /* requested -> pending */
    LB_REFUND_REJECT,  /* requested -> rejected */
    LB_REFUND_RETRY,   /* failed or dead -> pending, attempts 0 */
} lb_refund_decision_t;

/* The status decision moves a refund in status to, or NULL when it may not (409). */
const char *lb_refund_decide(const char *status, lb_refund_decision_t decision);

/* What a provider's word (refunded, or failed) does to a refund in status. */
typedef enum en_lb_refund_notice_rule_t {
    LB_REFUND_NOTICE_APPLY,   /* the refund takes the new status */
    LB_REFUND_NOTICE_SAME,    /* it has that status already: a replay, nothing changes */
    LB_REFUND_NOTICE_REFUSED, /* never sent (requested, rejected), or refunded and now said to have failed */
} lb_refund_notice_rule_t;
lb_refund_notice_rule_t lb_refund_notice_rule(const char *status, int refunded);

/* Whether a refund of this cause gives back the order's own payment (its order goes refund_required -> refunded). */
int lb_refund_is_orders_own(const char *cause);

#endif
