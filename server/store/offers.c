/* Offers: a co-op's agreement that one host may put one of its SKUs on air, and the quota placed under each. */
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/store/offers.h"

/* An offer row's own columns (the ENUMs as their 0-based indexes, ended_by as lb_offer_party_t), read by OFFER_TYPES. */
#define OFFER_COLUMNS(t)                                                                                                           \
    t "id, " t "sku_id, " t "coop_id, " t "host_id, " t "max_quota, " t "placed, " t "min_price_cents, " t "commission_bp, " t     \
      "starts_at, " t "ends_at, " t "created_at, " t "status + 0 - 1, IFNULL(" t "ended_by + 0, 0) "
#define OFFER_TYPES "iiiiiiiiiiiii"
/* With the names an answer shows (no lock: the joins would lock the SKU and merchant rows too). */
#define OFFER_SELECT_NAMED                                                                                                         \
    "SELECT " OFFER_COLUMNS("o.") ", CONCAT(p.title, ' ', s.name), c.name, h.name FROM offers o "                                  \
                                  "JOIN skus s ON s.id = o.sku_id JOIN products p ON p.id = s.product_id "                         \
                                  "JOIN merchants c ON c.id = o.coop_id JOIN merchants h ON h.id = o.host_id "

/* Reads the next row of an OFFER_COLUMNS query (with names when named) into *offer. */
static int fetch_offer(lb_db_t *db, int named, lb_offer_t *o)
{
    int64_t status, ended_by;
    int ret;
    if (named)
        ret = lb_db_fetch(db, OFFER_TYPES "sss", &o->id, &o->sku_id, &o->coop_id, &o->host_id, &o->max_quota, &o->placed,
                          &o->min_price_cents, &o->commission_bp, &o->starts_at, &o->ends_at, &o->created_at, &status, &ended_by,
                          o->title, sizeof(o->title), o->coop_name, sizeof(o->coop_name), o->host_name, sizeof(o->host_name));
    else
        ret = lb_db_fetch(db, OFFER_TYPES, &o->id, &o->sku_id, &o->coop_id, &o->host_id, &o->max_quota, &o->placed,
                          &o->min_price_cents, &o->commission_bp, &o->starts_at, &o->ends_at, &o->created_at, &status, &ended_by);
    if (ret == 0) {
        o->status = (lb_offer_status_t)status;
        o->ended_by = (lb_offer_party_t)ended_by;
        if (!named)
            o->title[0] = o->coop_name[0] = o->host_name[0] = '\0';
    }
    return ret;
}

/* The first row of a query already run, or LB_ENOTFOUND. */
static int fetch_one(lb_db_t *db, int ret, int named, lb_offer_t *offer)
{
    return ret != 0 ? ret : fetch_offer(db, named, offer);
}

int lb_store_offer_create(lb_db_t *db, lb_offer_t *offer, int64_t now)
{
    static const char sql[] = "INSERT INTO offers (sku_id, coop_id, host_id, max_quota, min_price_cents, commission_bp, "
                              "starts_at, ends_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
    int64_t ret = lb_db_exec(db, sql, "iiiiiiiii", offer->sku_id, offer->coop_id, offer->host_id, offer->max_quota,
                             offer->min_price_cents, offer->commission_bp, offer->starts_at, offer->ends_at, now);
    if (ret < 0)
        return (int)ret;
    offer->id = lb_db_insert_id(db);
    offer->placed = 0;
    offer->status = LB_OFFER_PENDING;
    offer->ended_by = LB_OFFER_NOBODY;
    offer->created_at = now;
    return 0;
}

int lb_store_offer_get(lb_db_t *db, int64_t id, lb_offer_t *offer)
{
    static const char sql[] = OFFER_SELECT_NAMED "WHERE o.id = ?";
    return fetch_one(db, lb_db_query(db, sql, "i", id), 1, offer);
}

int lb_store_offers_list(lb_db_t *db, const lb_offer_filter_t *filter, int64_t after, int64_t limit, lb_offer_t *out, size_t *found)
{
    /* The optional filters as "? = any OR column = ?": a handful of offers per merchant, read by (party, id). */
#define OFFERS_OF(party)                                                                                                           \
    OFFER_SELECT_NAMED "WHERE o." party " = ? AND (? < 0 OR o.status + 0 - 1 = ?) AND (? = 0 OR o.sku_id = ?) AND o.id > ? "       \
                       "ORDER BY o.id LIMIT ?"
    static const char coop_sql[] = OFFERS_OF("coop_id"), host_sql[] = OFFERS_OF("host_id");
#undef OFFERS_OF
    int64_t status = filter->status;
    int ret = lb_db_query(db, filter->side == LB_OFFER_COOP ? coop_sql : host_sql, "iiiiiii", filter->merchant_id, status, status,
                          filter->sku_id, filter->sku_id, after, limit);
    *found = 0;
    while (ret == 0 && *found != (size_t)limit) {
        if ((ret = fetch_offer(db, 1, &out[*found])) != 0)
            break;
        ++*found;
    }
    return ret == LB_ENOTFOUND ? 0 : ret;
}

int lb_store_offer_lock(lb_db_t *db, int64_t sku_id, int64_t id)
{
    static const char sql[] = "SELECT id FROM offers WHERE sku_id = ? AND id = ? FOR UPDATE";
    int64_t found;
    return lb_db_query_row(db, sql, "ii", "i", sku_id, id, &found);
}

int lb_store_offer_move(lb_db_t *db, int64_t id, int64_t merchant_id, lb_offer_action_t action, int64_t now, lb_offer_t *offer)
{
    /* The offer's SKU first, without a lock: then every statement of the transaction names it, and a sharded
     * deployment's transaction stays on the SKU's backend (docs/scale-out.md). An offer's SKU never changes. */
    static const char sku_sql[] = "SELECT sku_id FROM offers WHERE id = ?";
    static const char lock_sql[] = "SELECT " OFFER_COLUMNS("") "FROM offers WHERE sku_id = ? AND id = ? FOR UPDATE";
    static const char update_sql[] = "UPDATE offers SET status = ?, ended_by = ?, updated_at = ? WHERE sku_id = ? AND id = ?";
    lb_offer_party_t by;
    int64_t ret, sku_id;

    if ((ret = lb_db_query_row(db, sku_sql, "i", "i", id, &sku_id)) != 0 || (ret = lb_db_begin(db)) != 0 ||
        (ret = fetch_one(db, lb_db_query(db, lock_sql, "ii", sku_id, id), 0, offer)) != 0)
        goto Exit;
    by = merchant_id == offer->coop_id ? LB_OFFER_COOP : merchant_id == offer->host_id ? LB_OFFER_HOST : LB_OFFER_NOBODY;
    if (by == LB_OFFER_NOBODY) {
        ret = LB_ENOTFOUND;
        goto Exit;
    }
    if ((ret = lb_offer_move(offer, action, by, now)) != 0)
        goto Exit;
    lb_db_param_t params[] = {LB_DB_TEXT(lb_offer_statuses[offer->status]),
                              offer->ended_by != LB_OFFER_NOBODY ? LB_DB_TEXT(lb_offer_parties[offer->ended_by]) : LB_DB_NULL,
                              LB_DB_INT(now), LB_DB_INT(sku_id), LB_DB_INT(id)};
    if ((ret = lb_db_exec_array(db, update_sql, 0, update_sql, params, LB_ARRAY_SIZE(params))) >= 0)
        ret = lb_db_commit(db);
Exit:
    if (ret != 0)
        lb_db_rollback(db);
    /* The answer shows the offer with its names, as it is now (also after a refusal). */
    if (ret == 0 || ret == LB_EFORBIDDEN || ret == LB_ECONFLICT) {
        int read = lb_store_offer_get(db, id, offer);
        if (read != 0)
            return read;
    }
    return (int)ret;
}

int lb_store_offer_place(lb_db_t *db, const lb_live_item_t *item, int64_t host_id, int64_t now, lb_offer_t *offer,
                         lb_offer_rule_t *rule)
{
    /* The named offer under the item's SKU; one of another SKU is read without a lock (it is refused, nothing written). */
    static const char named_sql[] = "SELECT " OFFER_COLUMNS("") "FROM offers WHERE sku_id = ? AND id = ? FOR UPDATE";
    static const char other_sql[] = "SELECT " OFFER_COLUMNS("") "FROM offers WHERE id = ?";
    /* The host's offers of the SKU, the usable one with most left first (index offers_sku_host: all of them locked). */
    static const char best_sql[] =
        "SELECT " OFFER_COLUMNS("") "FROM offers WHERE sku_id = ? AND host_id = ? "
                                    "ORDER BY status = 'accepted' AND starts_at <= ? AND ? < ends_at DESC, "
                                    "max_quota - placed DESC, id DESC LIMIT 1 FOR UPDATE";
    static const char place_sql[] = "UPDATE offers SET placed = placed + ?, updated_at = ? WHERE sku_id = ? AND id = ?";
    int ret;

    memset(offer, 0, sizeof(*offer));
    if (item->offer_id != 0) {
        ret = fetch_one(db, lb_db_query(db, named_sql, "ii", item->sku_id, item->offer_id), 0, offer);
        if (ret == LB_ENOTFOUND)
            ret = fetch_one(db, lb_db_query(db, other_sql, "i", item->offer_id), 0, offer);
    } else
        ret = fetch_one(db, lb_db_query(db, best_sql, "iiii", item->sku_id, host_id, now, now), 0, offer);
    if (ret != 0 && ret != LB_ENOTFOUND)
        return ret;
    if (item->offer_id != 0 && (ret == LB_ENOTFOUND || offer->host_id != host_id)) {
        offer->id = item->offer_id;
        *rule = LB_OFFER_UNKNOWN;
        return 0;
    }
    if ((*rule = lb_offer_check(ret == 0 ? offer : NULL, item->sku_id, now, item->quota, item->price_cents)) != LB_OFFER_USABLE)
        return 0;
    int64_t changed = lb_db_exec(db, place_sql, "iiii", item->quota, now, item->sku_id, offer->id);
    if (changed < 0)
        return (int)changed;
    offer->placed += item->quota;
    return 0;
}

int lb_store_offer_release(lb_db_t *db, int64_t sku_id, int64_t id, int64_t released)
{
    static const char sql[] = "UPDATE offers SET placed = placed - ?, updated_at = ? WHERE sku_id = ? AND id = ?";
    int64_t ret = lb_db_exec(db, sql, "iiii", released, lb_now(), sku_id, id);
    return ret < 0 ? (int)ret : 0;
}
