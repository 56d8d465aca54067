/* Unit tests of the refund state machine's rules (server/model/refund.c): the co-op's decisions, a provider's word. */
#include <stddef.h>
#include "check.h"
#include "livebuy/model/refund.h"

static int same(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void test_decisions(void)
{
    for (const char *const *s = lb_refund_statuses; *s != NULL; ++s) {
        int requested = strcmp(*s, "requested") == 0, stuck = strcmp(*s, "failed") == 0 || strcmp(*s, "dead") == 0;
        CHECK(same(lb_refund_decide(*s, LB_REFUND_APPROVE), requested ? "pending" : NULL));
        CHECK(same(lb_refund_decide(*s, LB_REFUND_REJECT), requested ? "rejected" : NULL));
        CHECK(same(lb_refund_decide(*s, LB_REFUND_RETRY), stuck ? "pending" : NULL));
    }
}

static void test_notices(void)
{
    static const struct {
        const char *status;
        lb_refund_notice_rule_t refunded, failed;
    } table[] = {
        {"requested", LB_REFUND_NOTICE_REFUSED, LB_REFUND_NOTICE_REFUSED},
        {"rejected", LB_REFUND_NOTICE_REFUSED, LB_REFUND_NOTICE_REFUSED},
        {"pending", LB_REFUND_NOTICE_APPLY, LB_REFUND_NOTICE_APPLY}, /* the notification came before the push's answer */
        {"sent", LB_REFUND_NOTICE_APPLY, LB_REFUND_NOTICE_APPLY},
        {"refunded", LB_REFUND_NOTICE_SAME, LB_REFUND_NOTICE_REFUSED}, /* money gone back never "fails" later */
        {"failed", LB_REFUND_NOTICE_APPLY, LB_REFUND_NOTICE_SAME},
        {"dead", LB_REFUND_NOTICE_APPLY, LB_REFUND_NOTICE_APPLY},
    };
    size_t n = 0;
    for (const char *const *s = lb_refund_statuses; *s != NULL; ++s)
        ++n;
    CHECK(n == sizeof(table) / sizeof(table[0])); /* every status has its row */
    for (size_t i = 0; i != sizeof(table) / sizeof(table[0]); ++i) {
        CHECK(lb_refund_notice_rule(table[i].status, 1) == table[i].refunded);
        CHECK(lb_refund_notice_rule(table[i].status, 0) == table[i].failed);
    }
}

static void test_causes(void)
{
    CHECK(lb_refund_is_orders_own("buyer"));
    CHECK(lb_refund_is_orders_own("late_payment"));
    CHECK(lb_refund_is_orders_own("campaign_failed"));
    CHECK(!lb_refund_is_orders_own("paid_twice"));
}

int main(void)
{
    test_decisions();
    test_notices();
    test_causes();
    return CHECK_RESULT("refund");
}
