/* The refund state machine's rules (docs/design.md "Refunds"). Pure: no I/O. */
#include <stddef.h>
#include <string.h>
#include "livebuy/model/refund.h"

const char *const lb_refund_causes[] = {"buyer", "late_payment", "paid_twice", "campaign_failed", NULL};
const char *const lb_refund_statuses[] = {"requested", "rejected", "pending", "sent", "refunded", "failed", "dead", NULL};

static int is(const char *status, const char *name)
{
    return strcmp(status, name) == 0;
}

const char *lb_refund_decide(const char *status, lb_refund_decision_t decision)
{
    switch (decision) {
    case LB_REFUND_APPROVE:
        return is(status, "requested") ? "pending" : NULL;
    case LB_REFUND_REJECT:
        return is(status, "requested") ? "rejected" : NULL;
    case LB_REFUND_RETRY:
        return is(status, "failed") || is(status, "dead") ? "pending" : NULL;
    }
    return NULL;
}

/*
 * A provider may answer after livebuy gave up on the push (dead), or before the push's own answer is recorded (pending):
 * its word counts, since it is the one that moves the money. A failed refund the provider later reports refunded (its
 * operator resolved it) is refunded; a refunded one is never "failed" afterwards: that money has gone back.
 */
lb_refund_notice_rule_t lb_refund_notice_rule(const char *status, int refunded)
{
    const char *to = refunded ? "refunded" : "failed";
    if (is(status, to))
        return LB_REFUND_NOTICE_SAME;
    if (is(status, "pending") || is(status, "sent") || is(status, "dead") || (refunded && is(status, "failed")))
        return LB_REFUND_NOTICE_APPLY;
    return LB_REFUND_NOTICE_REFUSED;
}

int lb_refund_is_orders_own(const char *cause)
{
    return !is(cause, "paid_twice");
}
