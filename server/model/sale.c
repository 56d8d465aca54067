/* The money rule of sales (livebuy/model/sale.h). Pure: no I/O. */
#include <stdint.h>
#include "livebuy/model/sale.h"

/* Sums and products of the non-negative amounts the rule works on, held at INT64_MAX instead of overflowing. */
static int64_t add_held(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t multiply_held(int64_t a, int64_t b)
{
    return b != 0 && a > INT64_MAX / b ? INT64_MAX : a * b;
}

lb_sale_money_t lb_sale_money(int64_t units, int64_t price_cents, int64_t commission_bp)
{
    /* price_cents * commission_bp stays within 10^14 (LB_PRICE_MAX 10^10 times 10^4) */
    int64_t unit_commission = price_cents * commission_bp / LB_COMMISSION_BP_MAX;
    lb_sale_money_t money = {multiply_held(units, price_cents), multiply_held(units, unit_commission), 0};
    money.coop_share_cents = money.amount_cents - money.commission_cents;
    return money;
}

void lb_sales_add(lb_sales_t *sales, int64_t reserved, int64_t sold, int64_t price_cents, int64_t commission_bp)
{
    lb_sale_money_t money = lb_sale_money(sold, price_cents, commission_bp);
    sales->reserved = add_held(sales->reserved, reserved);
    sales->sold = add_held(sales->sold, sold);
    sales->money.amount_cents = add_held(sales->money.amount_cents, money.amount_cents);
    sales->money.commission_cents = add_held(sales->money.commission_cents, money.commission_cents);
    sales->money.coop_share_cents = add_held(sales->money.coop_share_cents, money.coop_share_cents);
}
