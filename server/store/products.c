/* The catalogue as its merchant manages it: products with their SKUs read, changed and retired. */
#include <stdlib.h>
#include "livebuy/common.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/product_images.h"
#include "livebuy/store/products.h"
#include "internal.h"

#define PRODUCT_SELECT                                                                                                             \
    "SELECT id, merchant_id, title, unit, origin, description, cold_chain, created_at, updated_at, "                               \
    "retired_at, " LB_STORE_FIRST_PHOTO("products.id") " FROM products "
#define PRODUCT_TYPES "iissssiiiis"
#define PRODUCT_OUTPUTS(p)                                                                                                         \
    &(p)->id, &(p)->merchant_id, (p)->title, sizeof((p)->title), (p)->unit, sizeof((p)->unit), (p)->origin, sizeof((p)->origin),   \
        (p)->description, sizeof((p)->description), &(p)->cold_chain, &(p)->created_at, &(p)->updated_at, &(p)->retired_at,        \
        (p)->photo, sizeof((p)->photo)

int lb_store_product_get(lb_db_t *db, int64_t id, lb_product_record_t *product)
{
    /* A product in the making (product_create.c) is nobody's to see yet. */
    static const char sql[] = PRODUCT_SELECT "WHERE id = ? AND making IS NULL";
    return lb_db_query_row(db, sql, "i", PRODUCT_TYPES, id, PRODUCT_OUTPUTS(product));
}

int lb_store_products_skus(lb_db_t *db, int64_t merchant_id, int64_t first, int64_t last, lb_sku_t **skus, size_t *n)
{
    /* By skus_product: a page of products is a range of product ids, whose SKUs are next to each other there. */
    static const char sql[] = SKU_SELECT "WHERE product_id BETWEEN ? AND ? AND merchant_id = ? ORDER BY product_id, id";
    size_t cap = 0;
    int ret = lb_db_query(db, sql, "iii", first, last, merchant_id);
    *skus = NULL;
    *n = 0;
    while (ret == 0) {
        *skus = lb_grow(*skus, *n, &cap, sizeof(**skus));
        lb_sku_t *sku = &(*skus)[*n];
        if ((ret = lb_db_fetch(db, SKU_TYPES, SKU_OUTPUTS(sku))) != 0)
            break;
        ++*n;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_merchant_products(lb_db_t *db, int64_t merchant_id, int64_t after, int64_t limit, int retired,
                               lb_product_record_t *out, size_t *found)
{
    /* The filter as "? < 0 OR ...": a co-op has dozens of products, read by products_merchant (merchant_id, id). */
    static const char sql[] = PRODUCT_SELECT "WHERE merchant_id = ? AND id > ? AND (? < 0 OR (retired_at IS NOT NULL) = ?) "
                                             "AND making IS NULL ORDER BY id LIMIT ?";
    int ret = lb_db_query(db, sql, "iiiii", merchant_id, after, (int64_t)retired, (int64_t)retired, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        if ((ret = lb_db_fetch(db, PRODUCT_TYPES, PRODUCT_OUTPUTS(&out[*found]))) != 0)
            break;
        ++*found;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

/* After an UPDATE ... WHERE id = ? AND merchant_id = ? that changed nothing: is there no such row, or another's? */
static int not_changed(int64_t owner, int64_t merchant_id, int ret)
{
    if (ret != 0)
        return ret;
    return owner != merchant_id ? LB_EFORBIDDEN : 0;
}

/*
 * Reads the SKU after an UPDATE of its row for merchant_id that changed `changed` rows (or failed): none changed means
 * no such SKU, another merchant's, or one whose values were those already.
 */
static int sku_after_update(lb_db_t *db, int64_t changed, int64_t id, int64_t merchant_id, lb_sku_t *sku)
{
    if (changed < 0)
        return (int)changed;
    int ret = lb_store_sku_get(db, id, sku);
    return changed != 0 ? ret : not_changed(sku->merchant_id, merchant_id, ret);
}

/* A string parameter that leaves its column alone when NULL (COALESCE(?, column)). */
static lb_db_param_t text_or_null(const char *s)
{
    return s != NULL ? LB_DB_TEXT(s) : LB_DB_NULL;
}

static lb_db_param_t int_or_null(int64_t v)
{
    return v >= 0 ? LB_DB_INT(v) : LB_DB_NULL;
}

int lb_store_product_patch(lb_db_t *db, int64_t id, int64_t merchant_id, const lb_product_patch_t *patch,
                           lb_product_record_t *product)
{
    static const char sql[] = "UPDATE products SET title = COALESCE(?, title), unit = COALESCE(?, unit), "
                              "origin = COALESCE(?, origin), description = COALESCE(?, description), "
                              "cold_chain = COALESCE(?, cold_chain), updated_at = ? WHERE id = ? AND merchant_id = ? "
                              "AND making IS NULL";
    lb_db_param_t params[] = {text_or_null(patch->title),
                              text_or_null(patch->unit),
                              text_or_null(patch->origin),
                              text_or_null(patch->description),
                              int_or_null(patch->cold_chain),
                              LB_DB_INT(lb_now()),
                              LB_DB_INT(id),
                              LB_DB_INT(merchant_id)};
    int64_t changed = lb_db_exec_array(db, sql, 0, sql, params, LB_ARRAY_SIZE(params));
    if (changed < 0)
        return (int)changed;
    int ret = lb_store_product_get(db, id, product);
    return changed != 0 ? ret : not_changed(product->merchant_id, merchant_id, ret);
}

int lb_store_sku_patch(lb_db_t *db, int64_t id, int64_t merchant_id, const lb_sku_patch_t *patch, lb_sku_t *sku)
{
    /* The SKU row's own lock (an UPDATE takes it): a batch deciding now prices its orders before or after, not between. */
    static const char sql[] = "UPDATE skus SET name = COALESCE(?, name), price_cents = COALESCE(?, price_cents), "
                              "weight_grams = COALESCE(?, weight_grams), updated_at = ? WHERE id = ? AND merchant_id = ?";
    lb_db_param_t params[] = {text_or_null(patch->name),
                              int_or_null(patch->price_cents),
                              int_or_null(patch->weight_grams),
                              LB_DB_INT(lb_now()),
                              LB_DB_INT(id),
                              LB_DB_INT(merchant_id)};
    return sku_after_update(db, lb_db_exec_array(db, sql, 0, sql, params, LB_ARRAY_SIZE(params)), id, merchant_id, sku);
}

int lb_store_sku_retire(lb_db_t *db, int64_t id, int64_t merchant_id, int64_t now, lb_sku_t *sku)
{
    /* A retired SKU keeps its first retired_at: retiring it again is an answer, not a change. */
    static const char sql[] =
        "UPDATE skus SET retired_at = COALESCE(retired_at, ?), updated_at = ? WHERE id = ? AND merchant_id = ?";
    return sku_after_update(db, lb_db_exec(db, sql, "iiii", now, now, id, merchant_id), id, merchant_id, sku);
}

int lb_store__product_sku_ids(lb_db_t *db, int64_t product_id, int64_t **ids, size_t *n)
{
    static const char sql[] = "SELECT id FROM skus WHERE product_id = ? ORDER BY id";
    return lb_store__ids(db, sql, product_id, ids, n);
}

int lb_store_product_retire(lb_db_t *db, int64_t id, int64_t merchant_id, int64_t now, lb_product_record_t *product)
{
    /*
     * Its SKUs first, a statement each, then the product: a product shown retired has every SKU retired. On a sharded
     * database the product is on the front and its SKUs on backends, which Spider commits apart, so no transaction
     * spans them; a failure in between leaves some SKUs retired and the product not, which retiring again completes.
     */
    static const char sku_sql[] = "UPDATE skus SET retired_at = COALESCE(retired_at, ?), updated_at = ? WHERE id = ?";
    static const char product_sql[] = "UPDATE products SET retired_at = COALESCE(retired_at, ?), updated_at = ? WHERE id = ?";
    int64_t *skus = NULL, changed = 0;
    size_t n = 0;
    int ret = lb_store_product_get(db, id, product);
    if (ret == 0 && product->merchant_id != merchant_id)
        ret = LB_EFORBIDDEN;
    if (ret == 0)
        ret = lb_store__product_sku_ids(db, id, &skus, &n);
    for (size_t i = 0; ret == 0 && i != n; ++i)
        if ((changed = lb_db_exec(db, sku_sql, "iii", now, now, skus[i])) < 0)
            ret = (int)changed;
    free(skus);
    if (ret == 0 && (changed = lb_db_exec(db, product_sql, "iii", now, now, id)) < 0)
        ret = (int)changed;
    return ret != 0 ? ret : lb_store_product_get(db, id, product);
}
