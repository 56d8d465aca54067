/*
 * GET /v1/merchant/products?after=&limit=&retired= (a co-op's or host's token): the merchant's products with their
 * SKUs, a page at a time by product id; retired=0 those on sale, retired=1 those retired, absent both.
 */
#include <stdlib.h>
#include "livebuy/common.h"
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/store/products.h"

typedef struct st_merchant_products_job_t {
    lb_page_job_t page;
    int64_t retired; /* -1: any */
} merchant_products_job_t;

/* Writes the page: each product with its SKUs, which come ordered by product (skus[0..n)). */
static void write_page(lb_writer_t *w, const lb_product_record_t *products, size_t found, const lb_sku_t *skus, size_t n,
                       int64_t limit)
{
    size_t s = 0;
    lb_writer_map(w, NULL);
    lb_writer_array(w, "products");
    for (size_t i = 0; i != found; ++i) {
        /* The range of ids may hold products the filter left out: their SKUs are skipped. */
        while (s != n && skus[s].product_id < products[i].id)
            ++s;
        size_t first = s;
        while (s != n && skus[s].product_id == products[i].id)
            ++s;
        lb_product_write(w, &products[i], skus + first, s - first, NULL, 0);
    }
    lb_writer_end(w);
    lb_writer_pack(w, "next:N", found != 0 && found == (size_t)limit ? products[found - 1].id : 0);
    lb_writer_end(w);
}

static int merchant_products_work(lb_call_job_t *super, lb_db_t *db)
{
    merchant_products_job_t *job = (merchant_products_job_t *)super;
    const lb_page_job_t *page = &job->page;
    lb_merchant_t merchant;
    lb_sku_t *skus = NULL;
    size_t found, n = 0;
    int ret = lb_sku_merchant(super, db, page->token_hash, &merchant);
    if (ret != 0)
        return ret;
    lb_product_record_t *products = lb_malloc((size_t)page->limit * sizeof(*products));
    if ((ret = lb_store_merchant_products(db, merchant.id, page->after, page->limit, (int)job->retired, products, &found)) == 0 &&
        (found == 0 || (ret = lb_store_products_skus(db, merchant.id, products[0].id, products[found - 1].id, &skus, &n)) == 0))
        write_page(lb_call_job_answer(super, 200), products, found, skus, n, page->limit);
    free(skus);
    free(products);
    return ret;
}

void lb_handle_merchant_products(lb_call_t *call)
{
    lb_input_error_t err = {0};
    merchant_products_job_t *job = (merchant_products_job_t *)lb_auth_page_job_new(call, sizeof(*job));
    if (job == NULL)
        return;
    job->retired = -1;
    if (lb_call_query_int(call, "retired", 0, 1, &job->retired, &err) != 0) {
        lb_reply_input_error(call, &err);
        lb_call_job_discard(&job->page.super);
        return;
    }
    lb_call_job_submit(&job->page.super, merchant_products_work);
}
