/* Unit tests of the money rule of sales (server/model/sale.c): commissions round down per unit, and everything adds up. */
#include <stdint.h>
#include "check.h"
#include "livebuy/model/sale.h"

static int adds_up(lb_sale_money_t m)
{
    return m.commission_cents >= 0 && m.coop_share_cents >= 0 && m.commission_cents + m.coop_share_cents == m.amount_cents;
}

static void test_unit_commission_rounds_down(void)
{
    /* 10% of 29.90 yuan: 2.99 a unit, exactly */
    lb_sale_money_t m = lb_sale_money(3, 2990, 1000);
    CHECK(m.amount_cents == 8970 && m.commission_cents == 897 && m.coop_share_cents == 8073);
    /* 8% of 19.99: 159.92 cents a unit, rounded down per unit (159), not on the total (3 * 159.92 = 479.76) */
    m = lb_sale_money(3, 1999, 800);
    CHECK(m.amount_cents == 5997 && m.commission_cents == 477 && m.coop_share_cents == 5520);
    /* 0.01%: nothing until the price reaches a yuan */
    CHECK(lb_sale_money(5, 9999, 1).commission_cents == 0);
    CHECK(lb_sale_money(5, 10000, 1).commission_cents == 5);
}

static void test_bounds(void)
{
    lb_sale_money_t m = lb_sale_money(4, 2500, 0); /* no offer: all of it is the co-op's */
    CHECK(m.amount_cents == 10000 && m.commission_cents == 0 && m.coop_share_cents == 10000);
    m = lb_sale_money(4, 2500, LB_COMMISSION_BP_MAX); /* the whole price to the host */
    CHECK(m.amount_cents == 10000 && m.commission_cents == 10000 && m.coop_share_cents == 0);
    m = lb_sale_money(0, 2500, 1000); /* nothing sold yet */
    CHECK(m.amount_cents == 0 && m.commission_cents == 0 && m.coop_share_cents == 0);
    m = lb_sale_money(7, 0, 5000); /* given away */
    CHECK(m.amount_cents == 0 && m.commission_cents == 0 && m.coop_share_cents == 0);
    /* the largest order: 10,000 units at 10^10 cents, 99.99% */
    m = lb_sale_money(10000, 10000000000, 9999);
    CHECK(m.amount_cents == 100000000000000 && m.commission_cents == 99990000000000 && adds_up(m));
    /* past INT64_MAX (10^9 units at 10^10 cents), held there instead of wrapping */
    m = lb_sale_money(1000000000, 10000000000, 100);
    CHECK(m.amount_cents == INT64_MAX && m.commission_cents == 100000000000000000 && m.coop_share_cents > 0);
}

static void test_every_price_and_rate_adds_up(void)
{
    static const int64_t prices[] = {0, 1, 7, 99, 100, 101, 1999, 2990, 9999, 10001, 123457, 10000000000};
    static const int64_t rates[] = {0, 1, 9, 333, 800, 1000, 2500, 3333, 9999, 10000};
    for (size_t p = 0; p != sizeof(prices) / sizeof(prices[0]); ++p)
        for (size_t r = 0; r != sizeof(rates) / sizeof(rates[0]); ++r)
            for (int64_t units = 0; units <= 12; ++units) {
                lb_sale_money_t m = lb_sale_money(units, prices[p], rates[r]), one = lb_sale_money(1, prices[p], rates[r]);
                CHECK(adds_up(m));
                CHECK(m.amount_cents == units * prices[p]);
                /* per unit: n units are n times one unit (what lets an item's money be the sum of its orders') */
                CHECK(m.commission_cents == units * one.commission_cents);
                CHECK(one.commission_cents * LB_COMMISSION_BP_MAX <= prices[p] * rates[r]);
                CHECK((one.commission_cents + 1) * LB_COMMISSION_BP_MAX > prices[p] * rates[r]);
            }
}

static void test_sales_sum_items(void)
{
    lb_sales_t sales = {0};
    lb_sales_add(&sales, 2, 3, 1999, 800);   /* 5997: 477 + 5520 */
    lb_sales_add(&sales, 0, 10, 2990, 1000); /* 29900: 2990 + 26910 */
    lb_sales_add(&sales, 5, 0, 5000, 2500);  /* reserved only: no money */
    CHECK(sales.reserved == 7 && sales.sold == 13);
    CHECK(sales.money.amount_cents == 35897 && sales.money.commission_cents == 3467 && sales.money.coop_share_cents == 32430);
    lb_sales_t full = {0};
    lb_sales_add(&full, 0, 1000000000, 10000000000, 0);
    lb_sales_add(&full, INT64_MAX, 1, 1, 0);
    CHECK(full.reserved == INT64_MAX && full.money.amount_cents == INT64_MAX);
}

int main(void)
{
    test_unit_commission_rounds_down();
    test_bounds();
    test_every_price_and_rate_adds_up();
    test_sales_sum_items();
    return CHECK_RESULT("sale");
}
