/*
 * A merchant's orders, page by page: the statements' pages (one per group of its sources: its SKUs, a host's live
 * items) merged by id, and the commission each order sells under.
 */
#include <stdlib.h>
#include "livebuy/common.h"
#include "livebuy/order/merchant_orders.h"
#include "livebuy/store/orders.h"
#include "livebuy/store/sales.h"

/* Merges more[0..m) into out[0..*n), both by id, keeping the first limit (out holds that many). */
static void merge_by_id(lb_order_t *out, size_t *n, const lb_order_t *more, size_t m, size_t limit)
{
    size_t i = 0, j = 0, k;
    while (i + j != limit && (i != *n || j != m)) {
        if (j == m || (i != *n && out[i].id < more[j].id))
            ++i;
        else
            ++j;
    }
    /* Backwards, so that out[0..i) moves up in place; once more's j are placed, the rest of out is where it belongs. */
    for (*n = k = i + j; j != 0;)
        out[--k] = i != 0 && out[i - 1].id > more[j - 1].id ? out[--i] : more[--j];
}

int lb_order_merchant_orders(lb_db_t *db, const lb_merchant_t *merchant, const lb_order_filter_t *filter, int64_t after,
                             int64_t limit, lb_order_t *out, int64_t *commission_bp, size_t *found)
{
    lb_order_source_t *sources;
    size_t num_sources, num_group;
    lb_order_t *group = NULL;
    int ret = lb_store_merchant_order_sources(db, merchant, &sources, &num_sources);

    *found = 0;
    for (size_t done = 0, n; ret == 0 && done != num_sources; done += n) {
        n = num_sources - done < LB_STORE_SKUS_PER_STATEMENT ? num_sources - done : LB_STORE_SKUS_PER_STATEMENT;
        /* Once the page is full, a later group's orders can only take the place of ones with higher ids. */
        int64_t before = *found == (size_t)limit ? out[*found - 1].id : INT64_MAX;
        if (*found == 0) {
            ret = lb_store_sku_orders_page(db, sources + done, n, filter, after, before, limit, out, found);
            continue;
        }
        if (group == NULL)
            group = lb_malloc((size_t)limit * sizeof(*group));
        if ((ret = lb_store_sku_orders_page(db, sources + done, n, filter, after, before, limit, group, &num_group)) == 0)
            merge_by_id(out, found, group, num_group, (size_t)limit);
    }
    free(group);
    lb_store_order_sources_free(sources, num_sources);
    return ret != 0 ? ret : lb_store_orders_commission(db, out, *found, commission_bp);
}
