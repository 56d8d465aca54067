/* Unit tests of the stock ledger's rule (server/model/stock.c): how far a change may take a SKU's stock, and why not. */
#include <string.h>
#include "check.h"
#include "livebuy/model/stock.h"

static lb_sku_t sku_with(int64_t stock, int64_t reserved, int64_t sold, int64_t held)
{
    return (lb_sku_t){.id = 5, .stock = stock, .reserved = reserved, .sold = sold, .held = held};
}

static void test_down_to_committed(void)
{
    lb_sku_t sku = sku_with(100, 20, 45, 10);                                   /* committed 75 */
    CHECK(lb_stock_change_check(&sku, -25) == LB_STOCK_CHANGE_OK);              /* 75: exactly what is promised */
    CHECK(lb_stock_change_check(&sku, -26) == LB_STOCK_CHANGE_BELOW_COMMITTED); /* 74 */
    CHECK(lb_stock_change_check(&sku, -100) == LB_STOCK_CHANGE_BELOW_COMMITTED);
    CHECK(lb_stock_change_check(&sku, 1) == LB_STOCK_CHANGE_OK);
}

static void test_nothing_committed(void)
{
    lb_sku_t sku = sku_with(7, 0, 0, 0);
    CHECK(lb_stock_change_check(&sku, -7) == LB_STOCK_CHANGE_OK); /* down to nothing */
    CHECK(lb_stock_change_check(&sku, -8) == LB_STOCK_CHANGE_BELOW_COMMITTED);
    CHECK(lb_stock_change_check(&sku, -LB_STOCK_MAX) == LB_STOCK_CHANGE_BELOW_COMMITTED);
}

static void test_up_to_the_most(void)
{
    lb_sku_t sku = sku_with(LB_STOCK_MAX - 10, 0, 0, 0);
    CHECK(lb_stock_change_check(&sku, 10) == LB_STOCK_CHANGE_OK);
    CHECK(lb_stock_change_check(&sku, 11) == LB_STOCK_CHANGE_PAST_MAX);
    CHECK(lb_stock_change_check(&sku, LB_STOCK_MAX) == LB_STOCK_CHANGE_PAST_MAX);
}

static void test_explained_with_the_numbers(void)
{
    char why[200];
    lb_sku_t sku = sku_with(100, 20, 45, 10);
    lb_stock_change_explain(why, sizeof(why), &sku, -30);
    CHECK(strcmp(why, "stock 100 - 30 = 70 is below reserved 20 + sold 45 + held 10 = 75") == 0);
    sku = sku_with(LB_STOCK_MAX, 0, 0, 0);
    lb_stock_change_explain(why, sizeof(why), &sku, 5);
    CHECK(strcmp(why, "stock 1000000000000 + 5 = 1000000000005 would pass 1000000000000") == 0);
    sku = sku_with(3, 0, 0, 0);
    lb_stock_change_explain(why, sizeof(why), &sku, -1);
    CHECK(strcmp(why, "stock 3 - 1 = 2") == 0);
}

int main(void)
{
    test_down_to_committed();
    test_nothing_committed();
    test_up_to_the_most();
    test_explained_with_the_numbers();
    return CHECK_RESULT("stock");
}
