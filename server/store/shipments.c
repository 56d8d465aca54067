/* The shipping outbox: shipments made with the orders they carry, claimed and pushed, acknowledged, and fed. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/db/rows.h"
#include "livebuy/store/shipments.h"
#include "internal.h"

int lb_store_shipment_create(lb_db_t *db, const lb_shipment_t *shipment, int64_t now, int64_t *id)
{
    static const char shipment_sql[] = "INSERT INTO shipments (sku_id, group_buy_id, pickup_point_id, payload, status, "
                                       "next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)";
    static const char link_sql[] = "INSERT INTO shipment_orders (shipment_id, sku_id, order_id) VALUES (?, ?, ?)";
    lb_db_param_t params[] = {LB_DB_INT(shipment->sku_id),
                              shipment->group_buy_id != 0 ? LB_DB_INT(shipment->group_buy_id) : LB_DB_NULL,
                              shipment->pickup_point_id != 0 ? LB_DB_INT(shipment->pickup_point_id) : LB_DB_NULL,
                              LB_DB_BYTES(shipment->payload, shipment->payload_len),
                              LB_DB_INT(now),
                              LB_DB_INT(now)};
    int64_t ret = lb_db_exec_array(db, shipment_sql, 0, shipment_sql, params, LB_ARRAY_SIZE(params));
    if (ret < 0)
        return (int)ret;
    *id = lb_db_insert_id(db);
    for (size_t i = 0; i != shipment->num_orders; ++i)
        if ((ret = lb_db_exec(db, link_sql, "iii", *id, shipment->sku_id, shipment->order_ids[i])) < 0)
            return (int)ret;
    return 0;
}

#define SHIPMENTS_PER_STATEMENT 32

/* Inserts shipments[0..n) (n a power of two, at most SHIPMENTS_PER_STATEMENT) as one statement; ids[0..n) get theirs. */
static int insert_shipments(lb_db_t *db, const lb_shipment_t *shipments, size_t n, int64_t now, int64_t *ids)
{
    static const char shape[] = "shipments_insert";
    lb_db_param_t *params = lb_store__params(5 * n);
    for (size_t i = 0; i != n; ++i) {
        const lb_shipment_t *s = &shipments[i];
        params[5 * i] = LB_DB_INT(s->sku_id);
        params[5 * i + 1] = s->pickup_point_id != 0 ? LB_DB_INT(s->pickup_point_id) : LB_DB_NULL;
        params[5 * i + 2] = LB_DB_BYTES(s->payload, s->payload_len);
        params[5 * i + 3] = LB_DB_INT(now);
        params[5 * i + 4] = LB_DB_INT(now);
    }
    return lb_store__insert_returning(
        db, shape,
        "INSERT INTO shipments (sku_id, group_buy_id, pickup_point_id, payload, status, next_attempt_at, "
        "created_at) VALUES ",
        "(?, NULL, ?, ?, 'pending', ?, ?)", "id", params, 5 * n, n, ids);
}

int lb_store_shipments_create(lb_db_t *db, const lb_shipment_t *shipments, size_t n, int64_t now)
{
    static const char link_sql[] = "INSERT INTO shipment_orders (shipment_id, sku_id, order_id) VALUES (?, ?, ?)";
    int64_t *ids = lb_malloc(n * sizeof(*ids));
    int ret = 0;
    for (size_t done = 0, chunk; ret == 0 && done != n; done += chunk) {
        for (chunk = SHIPMENTS_PER_STATEMENT; chunk > n - done; chunk /= 2)
            ;
        ret = insert_shipments(db, shipments + done, chunk, now, ids + done);
    }
    if (ret == 0) {
        lb_db_rows_t *links = lb_db_rows_start("iii", n);
        for (size_t i = 0; i != n; ++i) {
            assert(shipments[i].num_orders == 1 && shipments[i].group_buy_id == 0);
            lb_db_row_int(links, 0, i, ids[i]);
            lb_db_row_int(links, 1, i, shipments[i].sku_id);
            lb_db_row_int(links, 2, i, shipments[i].order_ids[0]);
        }
        int64_t linked = lb_db_exec_rows(db, link_sql, links->columns, 3, n);
        ret = linked < 0 ? (int)linked : 0;
    }
    free(ids);
    return ret;
}

/* The columns of lb_shipment_row_t but the payload, and its length (read in a second step, into a buffer that fits). */
#define SHIPMENT_SELECT                                                                                                            \
    "SELECT id, sku_id, attempts, created_at, COALESCE(feed_seq, 0), status, delivery_status, tracking_no, LENGTH(payload) "       \
    "FROM shipments "
#define SHIPMENT_TYPES "iiiiisssi"
#define SHIPMENT_OUTPUTS(r, len)                                                                                                   \
    &(r)->id, &(r)->sku_id, &(r)->attempts, &(r)->created_at, &(r)->feed_seq, (r)->status, sizeof((r)->status),                    \
        (r)->delivery_status, sizeof((r)->delivery_status), (r)->tracking_no, sizeof((r)->tracking_no), (len)

void lb_store_shipment_rows_free(lb_shipment_row_t *rows, size_t n)
{
    for (size_t i = 0; i != n; ++i) {
        free(rows[i].payload);
        rows[i].payload = NULL;
    }
}

/* One row of an open SHIPMENT_SELECT query into rows[i], its payload's length in payload_len (lb_store__claim_due). */
static int fetch_shipment(lb_db_t *db, void *rows, size_t i, int64_t *id)
{
    lb_shipment_row_t *row = (lb_shipment_row_t *)rows + i;
    int64_t len = 0;
    int ret = lb_db_fetch(db, SHIPMENT_TYPES, SHIPMENT_OUTPUTS(row, &len));
    row->payload = NULL;
    row->payload_len = (size_t)len;
    *id = row->id;
    return ret;
}

/* Reads the rest of an open SHIPMENT_SELECT query (ret: how starting it went) into out; lengths as fetch_shipment. */
static int fetch_shipments(lb_db_t *db, int ret, size_t limit, lb_shipment_row_t *out, size_t *found)
{
    int64_t id;
    *found = 0;
    while (ret == 0 && *found != limit && (ret = fetch_shipment(db, out, *found, &id)) == 0)
        ++*found;
    return ret == LB_ENOTFOUND ? 0 : ret;
}

/* Reads each row's payload (a MEDIUMBLOB: a pick list may be long) into a buffer of its size; by id and SKU, as a claim's
 * transaction reads (lb_store__claim_due). */
static int fetch_payloads(lb_db_t *db, lb_shipment_row_t *rows, size_t n)
{
    static const char sql[] = "SELECT payload FROM shipments WHERE id = ? AND sku_id = ?";
    for (size_t i = 0; i != n; ++i) {
        size_t len;
        rows[i].payload = lb_malloc(rows[i].payload_len + 1);
        int ret = lb_db_query_row(db, sql, "ii", "b", rows[i].id, rows[i].sku_id, rows[i].payload, rows[i].payload_len, &len);
        if (ret != 0) {
            lb_store_shipment_rows_free(rows, i + 1);
            return ret == LB_ENOTFOUND ? LB_EDB : ret;
        }
        rows[i].payload[len] = '\0';
        rows[i].payload_len = len;
    }
    return 0;
}

int lb_store_shipments_claim(lb_db_t *db, const char *claimer, int64_t now, int64_t claimed_until, size_t limit, unsigned shards,
                             lb_shipment_row_t *out, size_t *found)
{
#define SHIPMENT_DUE "status = 'pending' AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)"
    static const lb_store__claim_t claim = {
        .due_sql = "SELECT sku_id, id FROM shipments WHERE " SHIPMENT_DUE " ORDER BY next_attempt_at, id LIMIT ?",
        .lock_sql = SHIPMENT_SELECT "WHERE id = ? AND sku_id = ? AND " SHIPMENT_DUE " FOR UPDATE SKIP LOCKED",
        .claim_sql = "UPDATE shipments SET claimed_by = ?, claimed_until = ?, push_started = 1 WHERE id = ? AND sku_id = ?",
        .fetch = fetch_shipment};
#undef SHIPMENT_DUE
    int ret = lb_store__claim_due(db, &claim, claimer, now, claimed_until, limit, shards, out, found);
    if (ret != 0 || (ret = fetch_payloads(db, out, *found)) != 0)
        return ret;
    if ((ret = lb_db_commit(db)) != 0)
        lb_store_shipment_rows_free(out, *found);
    return ret;
}

int lb_store_shipments_release(lb_db_t *db, const char *claimer)
{
    static const char find_sql[] = "SELECT sku_id, id FROM shipments WHERE claimed_by = ? AND status = 'pending'";
    static const char free_sql[] = "UPDATE shipments SET claimed_by = NULL, claimed_until = NULL WHERE id = ? AND sku_id = ? "
                                   "AND claimed_by = ? AND status = 'pending'";
    return lb_store__release_claims(db, find_sql, free_sql, claimer);
}

int lb_store_shipments_backlog(lb_db_t *db, int64_t *pending)
{
    static const char sql[] = "SELECT COUNT(*) FROM shipments WHERE status = 'pending'";
    return lb_db_query_row(db, sql, "", "i", pending);
}

int lb_store_shipment_retry(lb_db_t *db, int64_t sku_id, int64_t id, const char *claimer, int64_t attempts, int64_t next_attempt_at,
                            int dead, const char *error)
{
    static const char sql[] = "UPDATE shipments SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, "
                              "claimed_by = NULL, claimed_until = NULL WHERE id = ? AND sku_id = ? AND status = 'pending' AND "
                              "claimed_by = ?";
    int64_t ret = lb_db_exec(db, sql, "siisiis", dead ? "dead" : "pending", attempts, next_attempt_at, error, id, sku_id, claimer);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_shipment_lock(lb_db_t *db, int64_t sku_id, int64_t id, lb_shipment_row_t *row)
{
    static const char sql[] = SHIPMENT_SELECT "WHERE id = ? AND sku_id = ? FOR UPDATE";
    int64_t len = 0;
    row->payload = NULL;
    int ret = lb_db_query_row(db, sql, "ii", SHIPMENT_TYPES, id, sku_id, SHIPMENT_OUTPUTS(row, &len));
    row->payload_len = (size_t)len;
    return ret;
}

int lb_store_shipment_sku(lb_db_t *db, int64_t id, int64_t *sku_id)
{
    static const char sql[] = "SELECT sku_id FROM shipments WHERE id = ?";
    return lb_db_query_row(db, sql, "i", "i", id, sku_id);
}

int lb_store_shipment_set_acked(lb_db_t *db, int64_t sku_id, int64_t id, int64_t now, int *changed)
{
    static const char sql[] = "UPDATE shipments SET status = 'acked', acked_at = ?, claimed_by = NULL, claimed_until = NULL "
                              "WHERE id = ? AND sku_id = ? AND status IN ('pending', 'dead')";
    int64_t ret = lb_db_exec(db, sql, "iii", now, id, sku_id);
    *changed = ret == 1;
    return ret < 0 ? (int)ret : 0;
}

int lb_store_order_shipment_cancel(lb_db_t *db, int64_t sku_id, int64_t order_id, int *cancelled)
{
    /* Never once claimed for a push (sql/024): a push whose answer was lost, or that a stopping process abandoned, may
     * have reached the shipping system, and its claim is let go all the same. */
    /* sh.sku_id named too: on a sharded deployment the join then stays on the SKU's backend (docs/scale-out.md). */
    static const char sql[] = "UPDATE shipments sh JOIN shipment_orders so ON so.shipment_id = sh.id "
                              "SET sh.status = 'cancelled', sh.feed_seq = NULL "
                              "WHERE so.sku_id = ? AND so.order_id = ? AND sh.sku_id = ? AND sh.status = 'pending' AND "
                              "sh.push_started = 0 AND sh.group_buy_id IS NULL";
    int64_t ret = lb_db_exec(db, sql, "iii", sku_id, order_id, sku_id);
    *cancelled = ret == 1;
    return ret < 0 ? (int)ret : 0;
}

int lb_store_shipment_event_insert(lb_db_t *db, int64_t id, const char *type, const char *tracking_no, int64_t now)
{
    static const char sql[] = "INSERT INTO shipment_events (shipment_id, type, tracking_no, received_at) VALUES (?, ?, ?, ?)";
    int64_t ret = lb_db_exec(db, sql, "issi", id, type, tracking_no, now);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_shipment_signature_take(lb_db_t *db, const uint8_t signature[LB_SIGNATURE_SIZE], int64_t shipment_id, int64_t now,
                                     int64_t *signed_for)
{
    static const char insert_sql[] = "INSERT INTO shipment_event_signatures (signature, shipment_id, received_at) VALUES (?, ?, ?)";
    static const char owner_sql[] = "SELECT shipment_id FROM shipment_event_signatures WHERE signature = ?";
    int64_t ret = lb_db_exec(db, insert_sql, "bii", signature, (size_t)LB_SIGNATURE_SIZE, shipment_id, now);
    *signed_for = shipment_id;
    if (ret == LB_EDB_DUP)
        return lb_db_query_row(db, owner_sql, "b", "i", signature, (size_t)LB_SIGNATURE_SIZE, signed_for);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_shipment_set_delivery(lb_db_t *db, int64_t sku_id, int64_t id, const char *delivery_status, const char *tracking_no)
{
    static const char sql[] = "UPDATE shipments SET delivery_status = ?, tracking_no = ? WHERE id = ? AND sku_id = ?";
    int64_t ret = lb_db_exec(db, sql, "ssii", delivery_status, tracking_no, id, sku_id);
    return ret < 0 ? (int)ret : 0;
}

int lb_store_shipment_orders_advance(lb_db_t *db, int64_t sku_id, int64_t id, const char *status, int64_t now)
{
    /* FIELD() ranks the shipping states (0 for any other): only orders ranked below the target move, and only forward. */
    static const char sql[] = "UPDATE orders o JOIN shipment_orders so ON o.sku_id = so.sku_id AND o.id = so.order_id "
                              "SET o.status = ?, o.updated_at = ? WHERE so.shipment_id = ? AND so.sku_id = ? AND o.sku_id = ? AND "
                              "FIELD(o.status, 'paid', 'handed_off', 'shipped', 'delivered') BETWEEN 1 AND "
                              "FIELD(?, 'paid', 'handed_off', 'shipped', 'delivered') - 1";
    int64_t ret = lb_db_exec(db, sql, "siiiis", status, now, id, sku_id, sku_id, status);
    return ret < 0 ? (int)ret : 0;
}

/*
 * The feed's places. A place is given only once every lower one is visible, so that a shipper polling by place never
 * passes a shipment; and a place is never given twice. On a sharded database the counter (shipment_feed) is on the
 * front and the shipments on the backends, which Spider (without XA) commits apart: so the two are never written in
 * one transaction. A poll that finds a shipment without a place takes the named lock FEED_LOCK (one placer at a time,
 * across processes) and then
 *
 *   1. reads the shipments without a place (committed ones: no transaction, no lock),
 *   2. moves the counter on by their number, one autocommit statement on the front: the places are taken,
 *   3. gives them those places, one transaction per slot (one backend each), the oldest's slot first, each place
 *      only to a row that still has none,
 *   4. lets go of the lock.
 *
 * The lock is the session's: a crash of livebuyd, a lost connection or a KILL ends the session, rolls back its open
 * transaction and only then lets go of the lock; so no other placer starts while anything of this one may still
 * commit. A failure
 *   - before step 2 commits leaves nothing (the lock waiter reads the same rows again);
 *   - between 2 and 3, or in a step 3 transaction (its COMMIT lost: done or not, it is settled before the lock is let
 *     go), leaves the places taken and not given: a gap, which a shipper passes harmlessly. The shipments without a
 *     place get higher ones from the next placer (whose reads, under the lock, see what was committed);
 *   - after 3 leaves the places given; the lock goes with the session.
 * A place is given only after the counter has passed it, in a commit that follows every lower place's, so places never
 * repeat and become visible in order. The single database runs the same steps (a gap instead of a rollback there too).
 */
#define FEED_LOCK        "shipment_feed"
#define FEED_LOCK_WAIT_S 10

/* Step 2: the counter moves on by n (one statement, its own transaction): *first gets the first of the n places. */
static int take_places(lb_db_t *db, size_t n, int64_t *first)
{
    static const char sql[] = "UPDATE shipment_feed SET last_seq = LAST_INSERT_ID(last_seq + ?) WHERE id = 1";
    int64_t ret = lb_db_exec(db, sql, "i", (int64_t)n);
    if (ret < 0)
        return (int)ret;
    if (ret != 1)
        return LB_EDB; /* sql/008_shipment_feed.sql makes the row */
    *first = lb_db_insert_id(db) - (int64_t)n + 1;
    return 0;
}

/*
 * Step 3 for one slot: shipments ids[0..n) (of SKUs skus[0..n), all of one slot) get places first, first + 1, ... in
 * one transaction on one backend. LB_EBUSY (nothing placed) when one of them has a place already.
 */
static int give_places(lb_db_t *db, const int64_t *skus, const int64_t *ids, size_t n, int64_t first)
{
    static const char sql[] = "UPDATE shipments SET feed_seq = ? WHERE id = ? AND sku_id = ? AND feed_seq IS NULL";
    int64_t ret;
    if ((ret = lb_db_begin(db)) != 0)
        return (int)ret;
    lb_db_rows_t *rows = lb_db_rows_start("iii", n);
    for (size_t i = 0; i != n; ++i) {
        lb_db_row_int(rows, 0, i, first + (int64_t)i);
        lb_db_row_int(rows, 1, i, ids[i]);
        lb_db_row_int(rows, 2, i, skus[i]);
    }
    if ((ret = lb_db_exec_rows(db, sql, rows->columns, 3, n)) >= 0)
        ret = ret == (int64_t)n ? lb_db_commit(db) : LB_EBUSY;
    if (ret != 0)
        lb_db_rollback(db);
    return (int)ret;
}

/* Steps 1 to 3, the lock held. */
static int sequence_locked(lb_db_t *db, size_t limit, unsigned shards, size_t *sequenced)
{
    /* Without a lock, outside a transaction (READ COMMITTED): the shipments committed by now, never an open one's. */
    static const char new_sql[] = "SELECT sku_id, id FROM shipments WHERE feed_seq IS NULL ORDER BY id LIMIT ?";
    int64_t *skus = lb_malloc(2 * limit * sizeof(*skus)), *ids = skus + limit, sku_id, id, first = 0;
    size_t n = 0;
    int ret = lb_db_query(db, new_sql, "i", (int64_t)limit);
    while (ret == 0 && n != limit && (ret = lb_db_fetch(db, "ii", &sku_id, &id)) == 0) {
        skus[n] = sku_id;
        ids[n++] = id;
    }
    if (ret == LB_ENOTFOUND)
        ret = 0;
    if (ret == 0 && n != 0 && (ret = take_places(db, n, &first)) == 0)
        ret = lb_store__pause_for_test(db, "feed_counted");
    /* One transaction per slot (SKU id modulo shards), so each stays on one backend (docs/scale-out.md): the slot of
     * the oldest left, its shipments moved to the front of what is left, in id order, its places the next ones. */
    for (size_t done = 0, m; ret == 0 && done != n; done += m) {
        uint64_t slot = (uint64_t)skus[done] % shards;
        m = 0;
        for (size_t i = done; i != n; ++i) {
            if ((uint64_t)skus[i] % shards != slot)
                continue;
            int64_t s = skus[i], d = ids[i];
            memmove(skus + done + m + 1, skus + done + m, (i - done - m) * sizeof(*skus));
            memmove(ids + done + m + 1, ids + done + m, (i - done - m) * sizeof(*ids));
            skus[done + m] = s;
            ids[done + m++] = d;
        }
        if ((ret = give_places(db, skus + done, ids + done, m, first + (int64_t)done)) == 0)
            *sequenced += m;
    }
    if (ret == 0 && n != 0)
        ret = lb_store__pause_for_test(db, "feed_placed");
    free(skus);
    return ret;
}

int lb_store_shipments_sequence(lb_db_t *db, size_t limit, unsigned shards, size_t *sequenced)
{
    /* Most polls find nothing new: one statement, without the lock (by shipments_feed). */
    static const char any_sql[] = "SELECT id FROM shipments WHERE feed_seq IS NULL LIMIT 1";
    int64_t any;
    *sequenced = 0;
    int ret = lb_db_query_row(db, any_sql, "", "i", &any);
    if (ret != 0)
        return ret == LB_ENOTFOUND ? 0 : ret;
    if ((ret = lb_store__lock(db, FEED_LOCK, FEED_LOCK_WAIT_S)) == 0) {
        ret = sequence_locked(db, limit, shards > 1 ? shards : 1, sequenced);
        lb_store__unlock(db, FEED_LOCK);
    }
    /* Busy: another placer held the lock all along, or a row was placed under this one (then the rest of the places
     * taken are a gap). Either way the next poll goes on. */
    return ret == LB_EBUSY ? 0 : ret;
}

int lb_store_shipments_page(lb_db_t *db, int64_t after, int64_t limit, lb_shipment_row_t *out, size_t *found)
{
    static const char sql[] = SHIPMENT_SELECT "WHERE feed_seq > ? ORDER BY feed_seq LIMIT ?";
    int ret = fetch_shipments(db, lb_db_query(db, sql, "ii", after, limit), (size_t)limit, out, found);
    return ret != 0 ? ret : fetch_payloads(db, out, *found);
}
