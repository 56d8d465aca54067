/* Unit tests of the offer rules (server/model/offer.c): which rule an item breaks, the messages, the state machine. */
#include "check.h"
#include "livebuy/common.h"
#include "livebuy/model/offer.h"

#define NOW 1796000300

/* An accepted offer 7 of SKU 2 to host 4, current now: 300 units, 100 placed, floor 2500. */
static lb_offer_t offer_of(lb_offer_status_t status)
{
    return (lb_offer_t){.id = 7,
                        .sku_id = 2,
                        .coop_id = 1,
                        .host_id = 4,
                        .max_quota = 300,
                        .placed = 200,
                        .min_price_cents = 2500,
                        .commission_bp = 1000,
                        .starts_at = 1796000000,
                        .ends_at = 1796600000,
                        .status = status};
}

static void test_rules(void)
{
    lb_offer_t o = offer_of(LB_OFFER_ACCEPTED);
    CHECK(lb_offer_check(&o, 2, NOW, 100, 2500) == LB_OFFER_USABLE); /* all it has left, at the floor */
    CHECK(lb_offer_check(NULL, 2, NOW, 1, 9999) == LB_OFFER_NONE);
    CHECK(lb_offer_check(&o, 3, NOW, 1, 9999) == LB_OFFER_OTHER_SKU);
    CHECK(lb_offer_check(&o, 2, NOW, 101, 2500) == LB_OFFER_EXCEEDED);
    CHECK(lb_offer_check(&o, 2, NOW, 100, 2499) == LB_OFFER_BELOW_FLOOR);
    /* The window is [starts_at, ends_at). */
    CHECK(lb_offer_check(&o, 2, o.starts_at, 1, 2500) == LB_OFFER_USABLE);
    CHECK(lb_offer_check(&o, 2, o.starts_at - 1, 1, 2500) == LB_OFFER_NOT_CURRENT);
    CHECK(lb_offer_check(&o, 2, o.ends_at - 1, 1, 2500) == LB_OFFER_USABLE);
    CHECK(lb_offer_check(&o, 2, o.ends_at, 1, 2500) == LB_OFFER_NOT_CURRENT);
    CHECK(lb_offer_is_current(&o, NOW) && !lb_offer_is_current(&o, o.ends_at));
    for (lb_offer_status_t s = LB_OFFER_PENDING; s <= LB_OFFER_ENDED; ++s) {
        if (s == LB_OFFER_ACCEPTED)
            continue;
        lb_offer_t other = offer_of(s);
        CHECK(lb_offer_check(&other, 2, NOW, 1, 2500) == LB_OFFER_NOT_ACCEPTED);
        CHECK(!lb_offer_is_current(&other, NOW));
    }
    /* The first rule broken is the one named: the SKU before the state, the state before the window, quota before price. */
    lb_offer_t ended = offer_of(LB_OFFER_ENDED);
    CHECK(lb_offer_check(&ended, 3, 0, 1000, 0) == LB_OFFER_OTHER_SKU);
    CHECK(lb_offer_check(&ended, 2, 0, 1000, 0) == LB_OFFER_NOT_ACCEPTED);
    CHECK(lb_offer_check(&o, 2, 0, 1000, 0) == LB_OFFER_NOT_CURRENT);
    CHECK(lb_offer_check(&o, 2, NOW, 1000, 0) == LB_OFFER_EXCEEDED);
}

static void test_messages(void)
{
    char m[256];
    lb_offer_t o = offer_of(LB_OFFER_ACCEPTED);
    lb_offer_explain(m, sizeof(m), LB_OFFER_NONE, NULL, 2, 4, 1, 1);
    CHECK(strcmp(m, "no offer of SKU 2 to host 4") == 0);
    lb_offer_explain(m, sizeof(m), LB_OFFER_UNKNOWN, &o, 2, 5, 1, 1);
    CHECK(strcmp(m, "no offer 7 to host 5") == 0);
    lb_offer_explain(m, sizeof(m), LB_OFFER_OTHER_SKU, &o, 3, 4, 1, 1);
    CHECK(strcmp(m, "offer 7 is of SKU 2, not SKU 3") == 0);
    lb_offer_explain(m, sizeof(m), LB_OFFER_NOT_CURRENT, &o, 2, 4, 1, 1);
    CHECK(strcmp(m, "offer 7 runs from 1796000000 to 1796600000") == 0);
    lb_offer_explain(m, sizeof(m), LB_OFFER_EXCEEDED, &o, 2, 4, 300, 1);
    CHECK(strcmp(m, "quota 300 is more than offer 7 has left (100 of 300)") == 0);
    lb_offer_explain(m, sizeof(m), LB_OFFER_BELOW_FLOOR, &o, 2, 4, 1, 1);
    CHECK(strcmp(m, "price_cents 1 is under offer 7's floor of 2500") == 0);
    o.status = LB_OFFER_PENDING;
    lb_offer_explain(m, sizeof(m), LB_OFFER_NOT_ACCEPTED, &o, 2, 4, 1, 1);
    CHECK(strcmp(m, "offer 7 is pending: the host has not accepted it") == 0);
    o.status = LB_OFFER_DECLINED;
    o.ended_by = LB_OFFER_HOST;
    lb_offer_explain(m, sizeof(m), LB_OFFER_NOT_ACCEPTED, &o, 2, 4, 1, 1);
    CHECK(strcmp(m, "offer 7 was declined by the host") == 0);
    o.status = LB_OFFER_ENDED;
    lb_offer_explain(m, sizeof(m), LB_OFFER_NOT_ACCEPTED, &o, 2, 4, 1, 1);
    CHECK(strcmp(m, "offer 7 was ended by the host") == 0);
    o.ended_by = LB_OFFER_COOP;
    lb_offer_explain(m, sizeof(m), LB_OFFER_NOT_ACCEPTED, &o, 2, 4, 1, 1);
    CHECK(strcmp(m, "offer 7 was ended by the co-op") == 0);
}

static void test_state_machine(void)
{
    lb_offer_t o = offer_of(LB_OFFER_PENDING);
    /* Only the host accepts or declines. */
    CHECK(lb_offer_move(&o, LB_OFFER_ACCEPT, LB_OFFER_COOP, NOW) == LB_EFORBIDDEN);
    CHECK(lb_offer_move(&o, LB_OFFER_DECLINE, LB_OFFER_COOP, NOW) == LB_EFORBIDDEN);
    CHECK(lb_offer_move(&o, LB_OFFER_ACCEPT, LB_OFFER_NOBODY, NOW) == LB_EFORBIDDEN);
    CHECK(lb_offer_move(&o, LB_OFFER_END, LB_OFFER_NOBODY, NOW) == LB_EFORBIDDEN);
    CHECK(o.status == LB_OFFER_PENDING);
    /* Not after its end; before its start is fine. */
    CHECK(lb_offer_move(&o, LB_OFFER_ACCEPT, LB_OFFER_HOST, o.ends_at) == LB_ECONFLICT && o.status == LB_OFFER_PENDING);
    CHECK(lb_offer_move(&o, LB_OFFER_ACCEPT, LB_OFFER_HOST, 0) == 0 && o.status == LB_OFFER_ACCEPTED &&
          o.ended_by == LB_OFFER_NOBODY);
    CHECK(lb_offer_move(&o, LB_OFFER_ACCEPT, LB_OFFER_HOST, NOW) == LB_ECONFLICT);
    CHECK(lb_offer_move(&o, LB_OFFER_DECLINE, LB_OFFER_HOST, NOW) == LB_ECONFLICT);
    CHECK(lb_offer_move(&o, LB_OFFER_END, LB_OFFER_COOP, NOW) == 0 && o.status == LB_OFFER_ENDED && o.ended_by == LB_OFFER_COOP);
    CHECK(lb_offer_move(&o, LB_OFFER_END, LB_OFFER_HOST, NOW) == LB_ECONFLICT && o.ended_by == LB_OFFER_COOP);
    CHECK(lb_offer_move(&o, LB_OFFER_ACCEPT, LB_OFFER_HOST, NOW) == LB_ECONFLICT);

    o = offer_of(LB_OFFER_PENDING);
    CHECK(lb_offer_move(&o, LB_OFFER_DECLINE, LB_OFFER_HOST, o.ends_at + 1) == 0 && o.status == LB_OFFER_DECLINED &&
          o.ended_by == LB_OFFER_HOST);
    CHECK(lb_offer_move(&o, LB_OFFER_END, LB_OFFER_COOP, NOW) == LB_ECONFLICT);
    CHECK(lb_offer_move(&o, LB_OFFER_ACCEPT, LB_OFFER_HOST, NOW) == LB_ECONFLICT);

    o = offer_of(LB_OFFER_PENDING); /* a pending offer withdrawn by the co-op, or ended by the host */
    CHECK(lb_offer_move(&o, LB_OFFER_END, LB_OFFER_COOP, NOW) == 0 && o.ended_by == LB_OFFER_COOP);
    o = offer_of(LB_OFFER_ACCEPTED);
    CHECK(lb_offer_move(&o, LB_OFFER_END, LB_OFFER_HOST, NOW) == 0 && o.status == LB_OFFER_ENDED && o.ended_by == LB_OFFER_HOST);
}

int main(void)
{
    test_rules();
    test_messages();
    test_state_machine();
    return CHECK_RESULT("test_offer");
}
