/*
 * Unit tests of the order path's fairness (server/order/fairness.c): the per-buyer and per-connection caps count orders
 * waiting and give room back as they are answered; a cap of 0 is off; one buyer's or connection's cap never touches
 * another's; a connection that resets more orders in a second than the cap is to be closed, one that resets fewer is
 * not, and a cap of 0 never closes one.
 */
#include "check.h"
#include "livebuy/common.h"
#include "livebuy/order/fairness.h"

static void test_buyer_cap(void)
{
    lb_fairness_configure(3, 0, 0);
    for (int i = 0; i != 3; ++i)
        CHECK(lb_fairness_enter(5, 100 + i) == LB_FAIRNESS_OK);
    CHECK(lb_fairness_enter(5, 200) == LB_FAIRNESS_BUYER_FULL);
    CHECK(lb_fairness_enter(6, 200) == LB_FAIRNESS_OK); /* another buyer is not held back */
    lb_fairness_leave(5, 101);
    CHECK(lb_fairness_enter(5, 201) == LB_FAIRNESS_OK); /* an answer gives the room back */
    CHECK(lb_fairness_enter(5, 202) == LB_FAIRNESS_BUYER_FULL);
    lb_fairness_leave(5, 100);
    lb_fairness_leave(5, 102);
    lb_fairness_leave(5, 201);
    lb_fairness_leave(6, 200);
}

static void test_connection_cap(void)
{
    lb_fairness_configure(0, 2, 0);
    CHECK(lb_fairness_enter(1, 7) == LB_FAIRNESS_OK);
    CHECK(lb_fairness_enter(2, 7) == LB_FAIRNESS_OK);
    CHECK(lb_fairness_enter(3, 7) == LB_FAIRNESS_CONNECTION_FULL);
    CHECK(lb_fairness_enter(3, 8) == LB_FAIRNESS_OK);
    lb_fairness_leave(1, 7);
    CHECK(lb_fairness_enter(3, 7) == LB_FAIRNESS_OK);
    lb_fairness_leave(2, 7);
    lb_fairness_leave(3, 7);
    lb_fairness_leave(3, 8);
    /* Off: any number waits. */
    lb_fairness_configure(0, 0, 0);
    for (int i = 0; i != 1000; ++i)
        CHECK(lb_fairness_enter(9, 9) == LB_FAIRNESS_OK);
    for (int i = 0; i != 1000; ++i)
        lb_fairness_leave(9, 9);
    lb_fairness_configure(1, 1, 0);
    CHECK(lb_fairness_enter(9, 9) == LB_FAIRNESS_OK); /* the counts went back to nothing */
    lb_fairness_leave(9, 9);
}

static void test_reset_flood(void)
{
    lb_fairness_configure(16, 256, 100);
    for (int i = 0; i != 100; ++i)
        lb_fairness_reset(40);
    CHECK(lb_fairness_enter(1, 40) == LB_FAIRNESS_OK); /* as many as an impatient client might: still served */
    lb_fairness_leave(1, 40);
    lb_fairness_reset(40);
    CHECK(lb_fairness_enter(1, 40) == LB_FAIRNESS_CLOSE);
    CHECK(lb_fairness_enter(1, 41) == LB_FAIRNESS_OK); /* only that connection */
    lb_fairness_leave(1, 41);
    lb_fairness_configure(16, 256, 0);
    for (int i = 0; i != 1000; ++i)
        lb_fairness_reset(42);
    CHECK(lb_fairness_enter(1, 42) == LB_FAIRNESS_OK);
    lb_fairness_leave(1, 42);
}

int main(void)
{
    test_buyer_cap();
    test_connection_cap();
    test_reset_flood();
    return CHECK_RESULT("fairness");
}
