/*
 * GET /v1/merchant/sales?live_id=&host_id=&after=&limit= (a host: the items of its lives; a co-op: the items on its
 * SKUs, of every host): per live item what it reserved and sold and how the money splits between host and co-op, a page
 * at a time by item id, with the sums over every item that matches, in all and per host.
 */
#include <stdlib.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/model/sale.h"
#include "livebuy/store/lives.h"
#include "livebuy/store/sales.h"

typedef struct st_sales_job_t {
    lb_page_job_t page;
    int64_t live_id, host_id; /* 0: any */
} sales_job_t;

static void write_money(lb_writer_t *w, const lb_sale_money_t *money)
{
    lb_writer_pack(w, "revenue_cents:I,commission_cents:I,coop_share_cents:I", money->amount_cents, money->commission_cents,
                   money->coop_share_cents);
}

static void write_item(lb_writer_t *w, const lb_sale_item_t *sale)
{
    const lb_live_item_t *item = &sale->hold.item;
    lb_sale_money_t money = lb_sale_money(item->sold, item->price_cents, sale->commission_bp);
    lb_writer_map(w, NULL);
    lb_hold_write(w, &sale->hold);
    lb_writer_pack(w, "closed:b,commission_bp:I", sale->closed != 0, sale->commission_bp);
    write_money(w, &money);
    lb_writer_end(w);
}

static void write_sales(lb_writer_t *w, const lb_sale_item_t *items, size_t num_items, int64_t limit, const lb_sales_t *totals,
                        const lb_host_sales_t *hosts, size_t num_hosts)
{
    lb_writer_map(w, NULL);
    lb_writer_array(w, "items");
    for (size_t i = 0; i != num_items; ++i)
        write_item(w, &items[i]);
    lb_writer_end(w);
    lb_writer_map(w, "totals");
    lb_writer_pack(w, "reserved:I,sold:I", totals->reserved, totals->sold);
    write_money(w, &totals->money);
    lb_writer_end(w);
    lb_writer_array(w, "by_host");
    for (size_t i = 0; i != num_hosts; ++i) {
        lb_writer_map(w, NULL);
        lb_writer_pack(w, "host_id:I,host_name:s,sold:I", hosts[i].host_id, hosts[i].host_name, hosts[i].sales.sold);
        write_money(w, &hosts[i].sales.money);
        lb_writer_end(w);
    }
    lb_writer_end(w);
    lb_writer_pack(w, "next:N", num_items != 0 && num_items == (size_t)limit ? items[num_items - 1].hold.item.id : 0);
    lb_writer_end(w);
}

/* A host sees the sales of its own lives only; a co-op, those on its SKUs in any live (filters that match none of them
 * give empty sums). A live that does not exist is a 404 for both. */
static int check_scope(lb_call_job_t *job, lb_db_t *db, const lb_sales_scope_t *scope)
{
    int is_host = scope->merchant.kind == LB_MERCHANT_HOST;
    lb_live_t live;
    int ret;
    if (is_host && scope->host_id != 0 && scope->host_id != scope->merchant.id)
        return lb_call_job_fail(job, 403, "forbidden", "host_id %lld is another host: a host sees its own sales",
                                (long long)scope->host_id);
    if (scope->live_id == 0)
        return 0;
    if ((ret = lb_store_live_get(db, scope->live_id, &live)) == LB_ENOTFOUND)
        return lb_call_job_fail(job, 404, "not_found", "no live %lld", (long long)scope->live_id);
    if (ret == 0 && is_host && live.merchant_id != scope->merchant.id)
        return lb_call_job_fail(job, 403, "forbidden", "live %lld belongs to another host", (long long)live.id);
    return ret;
}

static int sales_work(lb_call_job_t *super, lb_db_t *db)
{
    sales_job_t *job = (sales_job_t *)super;
    const lb_page_job_t *page = &job->page;
    lb_sales_scope_t scope = {.live_id = job->live_id, .host_id = job->host_id};
    lb_host_sales_t *hosts = NULL;
    lb_sales_t totals;
    size_t num_items, num_hosts;
    int ret = lb_auth_merchant(super, db, page->token_hash, LB_KIND(LB_MERCHANT_COOP) | LB_KIND(LB_MERCHANT_HOST), &scope.merchant);
    if (ret != 0 || (ret = check_scope(super, db, &scope)) != 0)
        return ret;
    lb_sale_item_t *items = lb_malloc((size_t)page->limit * sizeof(*items));
    if ((ret = lb_store_sales(db, &scope, page->after, page->limit, items, &num_items, &totals, &hosts, &num_hosts)) == 0)
        write_sales(lb_call_job_answer(super, 200), items, num_items, page->limit, &totals, hosts, num_hosts);
    free(hosts);
    free(items);
    return ret;
}

void lb_handle_merchant_sales(lb_call_t *call)
{
    lb_input_error_t err = {0};
    sales_job_t *job = (sales_job_t *)lb_auth_page_job_new(call, sizeof(*job));
    if (job == NULL)
        return;
    if (lb_call_query_int(call, "live_id", 1, INT64_MAX, &job->live_id, &err) != 0 ||
        lb_call_query_int(call, "host_id", 1, INT64_MAX, &job->host_id, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->page.super);
        return;
    }
    lb_call_job_submit(&job->page.super, sales_work);
}
