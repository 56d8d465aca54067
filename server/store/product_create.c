/*
 * Making a product with its SKUs (POST /v1/products) so that no failure leaves anything half-made in sight. On a sharded
 * database the product is on the front and each SKU, with its ledger, on the backend of its slot (SKUs of one product
 * may fall on two), which Spider without XA commits apart; so no transaction here writes two of them. Under the
 * merchant's named lock (one product in the making per merchant, across processes; the session's, like the feed's):
 *
 *   1. the product is inserted hidden (products.making, the SHA-256 of what is asked, not NULL), one statement;
 *   2. each SKU, retired (nothing can be ordered of it, even by a guessed id), with its opening ledger entry: one
 *      transaction per SKU (the entry names it: one backend);
 *   3. each SKU is put on sale (retired_at = NULL), one statement each, then the product is published (making = NULL).
 *
 * Until the product is published no one sees it or its SKUs: every read of a product, and of a SKU by its id, asks for
 * a published product (sql/019). A failure
 *   - of the connection (lost, or the session killed) ends the session, its open transaction rolled back before its
 *     lock is let go; the job runs again on a new connection (the caller's LB_EDB_RETRY) and goes on with the product
 *     where it stopped, reading back which SKUs are there (a lost COMMIT is settled once the session is gone), or
 *     answers it when the publishing had committed;
 *   - of livebuyd (a crash), or of a database that stays down, leaves the hidden product with some of its SKUs. Under
 *     the lock a hidden product of the merchant is one nobody is making, so the merchant's next request settles it:
 *     one that asks the same (its retry: the same hash) completes it and is answered with it, so the retry makes no
 *     second product. Any other request completes it too when step 3 had begun (a SKU is on sale: it may have orders,
 *     and every SKU is there), else removes it (each SKU with its ledger in one transaction, then the product).
 * The single database runs the same steps.
 *
 * A request may carry the merchant's Idempotency-Key: the product keeps it and the hash of what was asked (sql/020:
 * products.idem_key, request_hash; the key is in that hash, and in `making`, so a keyed and a keyless request never ask
 * "the same"). Under the lock, before anything is made, a product of the merchant holding the key answers the request:
 * published and asked the same, it is the answer (a replay: the crash, or the lost answer, came after publishing);
 * asked otherwise, hidden or not, the request is refused (LB_ECONFLICT) and nothing changes; hidden and asked the same,
 * it is completed as above.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "livebuy/common.h"
#include "livebuy/store/catalog.h"
#include "livebuy/store/ledger.h"
#include "internal.h"

#define MAKING_HASH_SIZE  32
#define MAKER_LOCK_WAIT_S 10
#define LEFTOVERS_AT_ONCE 8

static void hash_text(EVP_MD_CTX *ctx, const char *s)
{
    size_t len = s != NULL ? strlen(s) + 1 : 0; /* with its NUL: "ab" + "c" is not "a" + "bc" */
    EVP_DigestUpdate(ctx, s != NULL ? s : "", len);
}

static void hash_int(EVP_MD_CTX *ctx, int64_t v)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", (long long)v);
    hash_text(ctx, text);
}

/*
 * What is asked, as a SHA-256: the product's fields and its SKUs', in order (the same whatever the body's format), then
 * the Idempotency-Key if there is one. Without a key the hash is what it was before keys (a product left hidden by an
 * older build is completed by its retry); with one it cannot be a keyless request's (5 + 4 per SKU texts, then one).
 */
static void request_hash(const lb_product_t *product, const lb_sku_t *skus, size_t num_skus, const char *idem_key,
                         uint8_t hash[MAKING_HASH_SIZE])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned len;
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        abort(); /* OpenSSL without SHA-256: nothing could be checked either */
    hash_text(ctx, product->title);
    hash_text(ctx, product->unit);
    hash_text(ctx, product->origin);
    hash_text(ctx, product->description != NULL ? product->description : "");
    hash_int(ctx, product->cold_chain);
    for (size_t i = 0; i != num_skus; ++i) {
        hash_text(ctx, skus[i].name);
        hash_int(ctx, skus[i].price_cents);
        hash_int(ctx, skus[i].weight_grams);
        hash_int(ctx, skus[i].stock);
    }
    if (idem_key != NULL)
        hash_text(ctx, idem_key);
    EVP_DigestFinal_ex(ctx, hash, &len);
    EVP_MD_CTX_free(ctx);
}

/* Removes hidden product id, none of whose SKUs was ever on sale: each SKU with its ledger (one backend a transaction),
 * then the product. */
static int remove_hidden(lb_db_t *db, int64_t id)
{
    static const char ledger_sql[] = "DELETE FROM stock_ledger WHERE sku_id = ?";
    static const char sku_sql[] = "DELETE FROM skus WHERE id = ? AND product_id = ?";
    static const char product_sql[] = "DELETE FROM products WHERE id = ? AND making IS NOT NULL";
    int64_t *skus, ret;
    size_t n;
    ret = lb_store__product_sku_ids(db, id, &skus, &n);
    for (size_t i = 0; ret == 0 && i != n; ++i) {
        if ((ret = lb_db_begin(db)) != 0 || (ret = lb_db_exec(db, ledger_sql, "i", skus[i])) < 0 ||
            (ret = lb_db_exec(db, sku_sql, "ii", skus[i], id)) < 0 || (ret = lb_db_commit(db)) != 0)
            lb_db_rollback(db);
    }
    free(skus);
    if (ret == 0)
        ret = lb_db_exec(db, product_sql, "i", id);
    return ret < 0 ? (int)ret : 0;
}

/*
 * Step 3: product id's SKUs on sale, one statement each (one backend each), then the product published. Each statement
 * can run again (a run again after a lost connection, or a leftover completed).
 */
static int publish(lb_db_t *db, int64_t id)
{
    static const char sku_sql[] = "UPDATE skus SET retired_at = NULL WHERE id = ?";
    static const char product_sql[] = "UPDATE products SET making = NULL WHERE id = ?";
    int64_t *skus, ret;
    size_t n;
    if ((ret = lb_store__product_sku_ids(db, id, &skus, &n)) == 0) {
        for (size_t i = 0; ret >= 0 && i != n; ++i)
            if ((ret = lb_db_exec(db, sku_sql, "i", skus[i])) >= 0 && i == 0)
                ret = lb_store__pause_for_test(db, "product_on_sale");
        if (ret >= 0)
            ret = lb_db_exec(db, product_sql, "i", id);
    }
    free(skus);
    return ret < 0 ? (int)ret : 0;
}

/*
 * The merchant's hidden products, the lock held (nobody is making them): the first that asked the same (hash) goes to
 * *resume, to be completed; the others are completed when step 3 had begun (a SKU of theirs is on sale), else removed.
 * *resume 0 when none asked the same. Those that asked the same come first, so that one is never past the LIMIT (a
 * product holding an Idempotency-Key must be completed, not made a second time).
 */
static int settle_leftovers(lb_db_t *db, int64_t merchant_id, const uint8_t hash[MAKING_HASH_SIZE], int64_t *resume)
{
    static const char sql[] = "SELECT id, making FROM products WHERE merchant_id = ? AND making IS NOT NULL "
                              "ORDER BY making = ? DESC, id LIMIT ?";
    static const char on_sale_sql[] = "SELECT COUNT(*) FROM skus WHERE product_id = ? AND retired_at IS NULL";
    int64_t ids[LEFTOVERS_AT_ONCE];
    uint8_t hashes[LEFTOVERS_AT_ONCE][MAKING_HASH_SIZE];
    size_t n = 0, len;
    int ret = lb_db_query(db, sql, "ibi", merchant_id, hash, (size_t)MAKING_HASH_SIZE, (int64_t)LEFTOVERS_AT_ONCE);
    while (ret == 0 && n != LEFTOVERS_AT_ONCE && (ret = lb_db_fetch(db, "ib", &ids[n], hashes[n], sizeof(hashes[n]), &len)) == 0)
        ++n;
    if (ret != LB_ENOTFOUND && ret != 0)
        return ret;
    ret = 0;
    *resume = 0;
    for (size_t i = 0; ret == 0 && i != n; ++i) {
        int64_t on_sale = 0;
        if (*resume == 0 && memcmp(hashes[i], hash, MAKING_HASH_SIZE) == 0)
            *resume = ids[i];
        else if ((ret = lb_db_query_row(db, on_sale_sql, "i", "i", ids[i], &on_sale)) == 0)
            ret = on_sale != 0 ? publish(db, ids[i]) : remove_hidden(db, ids[i]);
    }
    return ret;
}

/* Step 1. A product made under an Idempotency-Key keeps it, and the hash of what it asked, for good (sql/020). */
static int insert_hidden(lb_db_t *db, int64_t merchant_id, const lb_product_t *product, const char *idem_key,
                         const uint8_t hash[MAKING_HASH_SIZE], int64_t *id)
{
    static const char sql[] = "INSERT INTO products (merchant_id, title, unit, origin, description, cold_chain, created_at, "
                              "making, idem_key, request_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    /* Without a key the last two are NULL ('n' takes no argument: those passed after it are not read). */
    const char *types = idem_key != NULL ? "issssiibbb" : "issssiibnn";
    int64_t ret =
        lb_db_exec(db, sql, types, merchant_id, product->title, product->unit, product->origin,
                   product->description != NULL ? product->description : "", (int64_t)product->cold_chain, lb_now(), hash,
                   (size_t)MAKING_HASH_SIZE, idem_key, idem_key != NULL ? strlen(idem_key) : 0, hash, (size_t)MAKING_HASH_SIZE);
    if (ret < 0)
        return (int)ret;
    *id = lb_db_insert_id(db);
    return 0;
}

/* Step 2 for one SKU: the SKU row, retired, and its ledger's opening entry (the stock it is made with), in one
 * transaction. */
static int insert_sku(lb_db_t *db, int64_t product_id, int64_t merchant_id, const lb_sku_t *sku, int64_t now)
{
    static const char sql[] = "INSERT INTO skus (product_id, merchant_id, name, price_cents, weight_grams, stock, "
                              "created_at, updated_at, retired_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
    int64_t ret;
    if ((ret = lb_db_begin(db)) != 0)
        return (int)ret;
    if ((ret = lb_db_exec(db, sql, "iisiiiiii", product_id, merchant_id, sku->name, sku->price_cents, sku->weight_grams, sku->stock,
                          now, now, now)) >= 0) {
        lb_ledger_entry_t opening = {.sku_id = lb_db_insert_id(db),
                                     .kind = LB_LEDGER_OPENING,
                                     .delta = sku->stock,
                                     .stock_after = sku->stock,
                                     .merchant_id = merchant_id,
                                     .created_at = now};
        if ((ret = lb_store_ledger_append(db, &opening)) == 0)
            ret = lb_db_commit(db);
    }
    if (ret != 0)
        lb_db_rollback(db);
    return (int)ret;
}

/* Step 2: the SKUs not made yet (those made come first, in the order asked), each in a transaction of its own. */
static int make_skus(lb_db_t *db, int64_t product_id, int64_t merchant_id, const lb_sku_t *skus, size_t num_skus)
{
    int64_t *made, now = lb_now();
    size_t n;
    int ret = lb_store__product_sku_ids(db, product_id, &made, &n);
    free(made);
    if (ret == 0 && n > num_skus)
        ret = LB_EDB;
    for (size_t i = n; ret == 0 && i != num_skus; ++i)
        if ((ret = insert_sku(db, product_id, merchant_id, &skus[i], now)) == 0)
            ret = lb_store__pause_for_test(db, "product_sku");
    return ret;
}

/* Is product id published (a run before this one made it)? */
static int is_published(lb_db_t *db, int64_t id, int64_t merchant_id, int *published)
{
    static const char sql[] = "SELECT making IS NULL FROM products WHERE id = ? AND merchant_id = ?";
    int64_t value = 0;
    int ret = lb_db_query_row(db, sql, "ii", "i", id, merchant_id, &value);
    *published = ret == 0 && value != 0;
    return ret == LB_ENOTFOUND ? 0 : ret;
}

/*
 * The merchant's product that holds Idempotency-Key idem_key, the lock held: when it asked the same and is published,
 * *product_id is it and *replayed 1; when it asked the same and is hidden, nothing (settle_leftovers finds it by its
 * hash, which holds the key, and it is completed); when it asked otherwise, LB_ECONFLICT (hidden or not).
 */
static int check_key(lb_db_t *db, int64_t merchant_id, const char *idem_key, const uint8_t hash[MAKING_HASH_SIZE],
                     int64_t *product_id, int *replayed)
{
    static const char sql[] = "SELECT id, making IS NULL, request_hash FROM products WHERE merchant_id = ? AND idem_key = ?";
    uint8_t asked[MAKING_HASH_SIZE];
    int64_t id, published;
    size_t len = 0;
    int ret =
        lb_db_query_row(db, sql, "ib", "iib", merchant_id, idem_key, strlen(idem_key), &id, &published, asked, sizeof(asked), &len);
    if (ret != 0)
        return ret == LB_ENOTFOUND ? 0 : ret;
    if (len != MAKING_HASH_SIZE || memcmp(asked, hash, MAKING_HASH_SIZE) != 0)
        return LB_ECONFLICT;
    if (published) {
        *product_id = id;
        *replayed = 1;
    }
    return 0;
}

/* Steps 1 to 3, the merchant's lock held. */
static int make_locked(lb_db_t *db, int64_t merchant_id, const lb_product_t *product, const lb_sku_t *skus, size_t num_skus,
                       const char *idem_key, const uint8_t hash[MAKING_HASH_SIZE], int64_t *product_id)
{
    int64_t id = 0;
    int published = 0, ret = 0;
    if (*product_id != 0 && ((ret = is_published(db, *product_id, merchant_id, &published)) != 0 || published))
        return ret;
    if ((ret = settle_leftovers(db, merchant_id, hash, &id)) != 0)
        return ret;
    if (id == 0 && (ret = insert_hidden(db, merchant_id, product, idem_key, hash, &id)) != 0)
        return ret;
    *product_id = id;
    if ((ret = lb_store__pause_for_test(db, "product_hidden")) != 0 || (ret = make_skus(db, id, merchant_id, skus, num_skus)) != 0)
        return ret;
    return publish(db, id);
}

int lb_store_product_create(lb_db_t *db, int64_t merchant_id, const lb_product_t *product, const lb_sku_t *skus, size_t num_skus,
                            const char *idem_key, int64_t *product_id, int *replayed)
{
    uint8_t hash[MAKING_HASH_SIZE];
    char lock[48];
    request_hash(product, skus, num_skus, idem_key, hash);
    snprintf(lock, sizeof(lock), "product_maker/%lld", (long long)merchant_id);
    int ret = lb_store__lock(db, lock, MAKER_LOCK_WAIT_S);
    if (ret == 0) {
        /* Only a job's first run asks: a run again goes on with its own product (*product_id), key and all. */
        if (idem_key != NULL && *product_id == 0)
            ret = check_key(db, merchant_id, idem_key, hash, product_id, replayed);
        if (ret == 0 && !*replayed)
            ret = make_locked(db, merchant_id, product, skus, num_skus, idem_key, hash, product_id);
        lb_store__unlock(db, lock);
    }
    return ret;
}
