/* The rules of the stock ledger (include/livebuy/model/stock.h): how far a change may take a SKU's stock. Pure. */
#include <stdio.h>
#include "livebuy/model/stock.h"

const char *const lb_ledger_kinds[] = {"opening", "restock", "adjust", "refund_after_handoff", NULL};

lb_stock_change_t lb_stock_change_check(const lb_sku_t *sku, int64_t delta)
{
    /* Both within LB_STOCK_MAX (10^12) and |delta| well within it too: the sum cannot overflow. */
    int64_t after = sku->stock + delta;
    if (after > LB_STOCK_MAX)
        return LB_STOCK_CHANGE_PAST_MAX;
    if (after < LB_SKU_COMMITTED(sku) || after < 0)
        return LB_STOCK_CHANGE_BELOW_COMMITTED;
    return LB_STOCK_CHANGE_OK;
}

void lb_stock_change_explain(char *buf, size_t size, const lb_sku_t *sku, int64_t delta)
{
    long long stock = sku->stock, change = delta < 0 ? -delta : delta, after = sku->stock + delta;
    char sign = delta < 0 ? '-' : '+';
    switch (lb_stock_change_check(sku, delta)) {
    case LB_STOCK_CHANGE_OK:
        snprintf(buf, size, "stock %lld %c %lld = %lld", stock, sign, change, after);
        break;
    case LB_STOCK_CHANGE_BELOW_COMMITTED:
        snprintf(buf, size, "stock %lld %c %lld = %lld is below reserved %lld + sold %lld + held %lld = %lld", stock, sign, change,
                 after, (long long)sku->reserved, (long long)sku->sold, (long long)sku->held, (long long)LB_SKU_COMMITTED(sku));
        break;
    case LB_STOCK_CHANGE_PAST_MAX:
        snprintf(buf, size, "stock %lld %c %lld = %lld would pass %lld", stock, sign, change, after, (long long)LB_STOCK_MAX);
        break;
    }
}
