/* Sales: live items' counters with their lives, hosts and offers' commissions; the commission of merchants' orders. */
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/store/sales.h"
#include "internal.h"

/*
 * A scope's items: a host's through its lives (lives_merchant, then live_items_live), a co-op's through its SKUs
 * (skus_merchant, then live_items_sku). Read from the items' own counters (sold, reserved), never from orders. The
 * filters are parameters: "? = 0 OR ..." is decided once per execution, before the plan.
 */
#define SALES_FROM          HOLD_FROM "LEFT JOIN offers f ON f.id = i.offer_id "
#define SALES_WHERE(owner)  "WHERE " owner " = ? AND (? = 0 OR i.live_id = ?) AND (? = 0 OR l.merchant_id = ?) "
#define SALES_PARAMS(scope) (scope)->merchant.id, (scope)->live_id, (scope)->live_id, (scope)->host_id, (scope)->host_id

#define ITEMS_SELECT "SELECT " HOLD_SELECT_LIST ", IFNULL(f.commission_bp, 0), i.closed_at IS NOT NULL " SALES_FROM
#define ITEMS_PAGE   "AND i.id > ? ORDER BY i.id LIMIT ?"

static int sales_items(lb_db_t *db, const lb_sales_scope_t *scope, int64_t after, int64_t limit, lb_sale_item_t *out, size_t *found)
{
    static const char host_sql[] = ITEMS_SELECT SALES_WHERE("l.merchant_id") ITEMS_PAGE;
    static const char coop_sql[] = ITEMS_SELECT SALES_WHERE("s.merchant_id") ITEMS_PAGE;
    const char *sql = scope->merchant.kind == LB_MERCHANT_HOST ? host_sql : coop_sql;
    int ret = lb_db_query(db, sql, "iiiiiii", SALES_PARAMS(scope), after, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        lb_sale_item_t *sale = &out[*found];
        memset(sale, 0, sizeof(*sale));
        if ((ret = lb_db_fetch(db, HOLD_TYPES "ii", HOLD_OUTPUTS(&sale->hold), &sale->commission_bp, &sale->closed)) != 0)
            break;
        ++*found;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

#define SUMS_SELECT "SELECT l.merchant_id, h.name, i.price_cents, i.reserved, i.sold, IFNULL(f.commission_bp, 0) " SALES_FROM

static int sales_sums(lb_db_t *db, const lb_sales_scope_t *scope, lb_sales_t *totals, lb_host_sales_t **hosts, size_t *num_hosts)
{
    static const char host_sql[] = SUMS_SELECT SALES_WHERE("l.merchant_id") "ORDER BY l.merchant_id";
    static const char coop_sql[] = SUMS_SELECT SALES_WHERE("s.merchant_id") "ORDER BY l.merchant_id";
    const char *sql = scope->merchant.kind == LB_MERCHANT_HOST ? host_sql : coop_sql;
    lb_host_sales_t row;
    int64_t price_cents, reserved, sold, commission_bp;
    size_t capacity = 0;
    int ret = lb_db_query(db, sql, "iiiii", SALES_PARAMS(scope));

    memset(totals, 0, sizeof(*totals));
    *hosts = NULL;
    *num_hosts = 0;
    while (ret == 0 && (ret = lb_db_fetch(db, "isiiii", &row.host_id, row.host_name, sizeof(row.host_name), &price_cents, &reserved,
                                          &sold, &commission_bp)) == 0) {
        if (*num_hosts == 0 || (*hosts)[*num_hosts - 1].host_id != row.host_id) {
            *hosts = lb_grow(*hosts, *num_hosts, &capacity, sizeof(**hosts));
            memset(&row.sales, 0, sizeof(row.sales));
            (*hosts)[(*num_hosts)++] = row;
        }
        lb_sales_add(&(*hosts)[*num_hosts - 1].sales, reserved, sold, price_cents, commission_bp);
        lb_sales_add(totals, reserved, sold, price_cents, commission_bp);
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_sales(lb_db_t *db, const lb_sales_scope_t *scope, int64_t after, int64_t limit, lb_sale_item_t *items,
                   size_t *num_items, lb_sales_t *totals, lb_host_sales_t **hosts, size_t *num_hosts)
{
    /* Sessions read committed (db.c): one read-only transaction of repeatable read makes both statements read one
     * snapshot, so that the totals are those of the items a page shows even while orders are paid. */
    static const char snapshot_sql[] = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    int64_t ret = lb_db_exec(db, snapshot_sql, "");
    *hosts = NULL;
    *num_hosts = *num_items = 0;
    if (ret < 0 || (ret = lb_db_begin(db)) != 0 || (ret = sales_items(db, scope, after, limit, items, num_items)) != 0 ||
        (ret = sales_sums(db, scope, totals, hosts, num_hosts)) != 0 || (ret = lb_db_commit(db)) != 0)
        lb_db_rollback(db);
    return (int)ret;
}

/* The entry of pairs[0..n) (live item id, commission, by id) for live item id; there is one. */
static int64_t commission_of(const int64_t (*pairs)[2], size_t n, int64_t id)
{
    size_t low = 0, high = n;
    while (high - low > 1) {
        size_t middle = low + (high - low) / 2;
        if (pairs[middle][0] <= id)
            low = middle;
        else
            high = middle;
    }
    return n != 0 && pairs[low][0] == id ? pairs[low][1] : 0;
}

int lb_store_orders_commission(lb_db_t *db, const lb_order_t *orders, size_t n, int64_t *commission_bp)
{
    static const char sql[] = "SELECT STRAIGHT_JOIN i.id, IFNULL(f.commission_bp, 0) "
                              "FROM JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) AS ids "
                              "JOIN live_items i ON i.id = ids.id LEFT JOIN offers f ON f.id = i.offer_id ORDER BY i.id";
    int64_t *items = lb_malloc((n != 0 ? n : 1) * sizeof(*items));
    int64_t(*pairs)[2] = lb_malloc((n != 0 ? n : 1) * sizeof(*pairs)); /* (live item id, commission) by id */
    size_t num_items = 0, num_pairs = 0, len;
    int ret = 0;

    for (size_t i = 0; i != n; ++i)
        if (orders[i].live_item_id != 0)
            items[num_items++] = orders[i].live_item_id;
    if (num_items != 0) {
        char *list = lb_store__json_ids(items, num_items, &len);
        ret = lb_db_query(db, sql, "b", list, len);
        free(list);
    }
    while (num_items != 0 && ret == 0 && num_pairs != num_items &&
           (ret = lb_db_fetch(db, "ii", &pairs[num_pairs][0], &pairs[num_pairs][1])) == 0)
        ++num_pairs;
    for (size_t i = 0; i != n; ++i)
        commission_bp[i] =
            orders[i].live_item_id != 0 ? commission_of((const int64_t(*)[2])pairs, num_pairs, orders[i].live_item_id) : 0;
    free(items);
    free(pairs);
    return ret == LB_ENOTFOUND ? 0 : ret;
}
