/*
 * A SKU's stock ledger, for the merchant that owns the SKU: POST /v1/skus/{id}/adjust (a correction up or down, with a
 * reason; never below what is reserved, sold and held) and GET /v1/skus/{id}/ledger (its entries, oldest first). The
 * rule is server/model/stock.c's, the statements server/store/ledger.c's.
 */
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/ledger.h"

typedef struct st_adjust_job_t {
    lb_merchant_job_t base;
    lb_ledger_entry_t entry;
} adjust_job_t;

/* ---- POST /v1/skus/{id}/adjust ----------------------------------------------------------------------------------- */

static int adjust_work(lb_call_job_t *super, lb_db_t *db)
{
    adjust_job_t *job = (adjust_job_t *)super;
    lb_merchant_t merchant;
    lb_sku_t sku;
    char why[200];
    int ret = lb_sku_merchant_to_change(super, db, job->base.token_hash, &merchant);
    if (ret != 0)
        return ret;
    lb_ledger_entry_t entry = job->entry; /* a run again after a deadlock starts from the request */
    if ((ret = lb_store_sku_change_stock(db, merchant.id, &entry, &sku)) == LB_ECONFLICT) {
        lb_stock_change_explain(why, sizeof(why), &sku, entry.delta);
        if (lb_stock_change_check(&sku, entry.delta) == LB_STOCK_CHANGE_PAST_MAX)
            return lb_call_job_fail(super, 422, "invalid", "delta: %s", why);
        return lb_call_job_fail(super, 409, "conflict", "%s", why);
    }
    return ret != 0 ? lb_sku_refused(super, ret, super->call->id) : lb_sku_answer(super, db, &sku);
}

void lb_handle_sku_adjust(lb_call_t *call)
{
    lb_input_error_t err = {0};
    adjust_job_t *job = (adjust_job_t *)lb_auth_merchant_job_new(call, sizeof(adjust_job_t));
    if (job == NULL)
        return;
    lb_ledger_entry_t *entry = &job->entry;
    if (lb_body_adjust(call->body, entry, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->base.super);
        return;
    }
    entry->sku_id = call->id;
    entry->kind = LB_LEDGER_ADJUST;
    /* Up or down, the lanes learn the stock as after a restock: their "sold out" hints go. */
    job->base.super.on_done = lb_sku_stock_changed;
    lb_call_job_submit(&job->base.super, adjust_work);
}

/* ---- GET /v1/skus/{id}/ledger ------------------------------------------------------------------------------------ */

static void write_entry(lb_writer_t *w, const lb_ledger_entry_t *e)
{
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "id:I,sku_id:I,kind:s,delta:I,stock_after:I,merchant_id:N,order_id:N,reason:s,created_at:I", e->id, e->sku_id,
                   lb_ledger_kinds[e->kind], e->delta, e->stock_after, e->merchant_id, e->order_id, e->reason, e->created_at);
    lb_writer_end(w);
}

static int ledger_work(lb_call_job_t *super, lb_db_t *db)
{
    lb_page_job_t *job = (lb_page_job_t *)super;
    int64_t sku_id = super->call->id;
    lb_merchant_t merchant;
    lb_sku_t sku;
    size_t found;
    int ret = lb_sku_merchant(super, db, job->token_hash, &merchant);
    if (ret != 0)
        return ret;
    if ((ret = lb_store_sku_get(db, sku_id, &sku)) != 0)
        return lb_sku_refused(super, ret, sku_id);
    if (sku.merchant_id != merchant.id)
        return lb_sku_refused(super, LB_EFORBIDDEN, sku_id);
    lb_ledger_entry_t *entries = lb_malloc((size_t)job->limit * sizeof(*entries));
    if ((ret = lb_store_ledger_page(db, sku_id, job->after, job->limit, entries, &found)) == 0) {
        lb_writer_t *w = lb_call_job_answer(super, 200);
        lb_writer_map(w, NULL);
        lb_writer_pack(w, "sku_id:I,stock:I", sku_id, sku.stock);
        lb_writer_array(w, "entries");
        for (size_t i = 0; i != found; ++i)
            write_entry(w, &entries[i]);
        lb_writer_end(w);
        lb_writer_pack(w, "next:N", found != 0 && found == (size_t)job->limit ? entries[found - 1].id : 0);
        lb_writer_end(w);
    }
    free(entries);
    return ret;
}

void lb_handle_sku_ledger(lb_call_t *call)
{
    lb_page_job_t *job = lb_auth_page_job_new(call, sizeof(*job));
    if (job != NULL)
        lb_call_job_submit(&job->super, ledger_work);
}
