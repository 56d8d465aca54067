/* What the store's files share and no one else uses: statements with lists, the order row's columns, the id lattice. */
#ifndef LIVEBUY_STORE_INTERNAL_H
#define LIVEBUY_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/db/db.h"

/* ---- Statements with lists (lists.c) ----------------------------------------------------------------------------- */

/* A worker's parameter array for the batch statements, grown as needed and kept (thousands of entries a batch). */
lb_db_param_t *lb_store__params(size_t n);

/* IN lists are padded (with their last value) to a power of two, so a handful of prepared shapes serve every size. */
static inline size_t lb_store__padded_size(size_t n)
{
    size_t size = 1;
    while (size < n)
        size *= 2;
    return size;
}

/*
 * Reading a batch's rows by a list of ids of one SKU: the ids go as one JSON array, a row each from JSON_TABLE, and each
 * row is one look-up of the primary key (STRAIGHT_JOIN keeps JSON_TABLE first, so the access is by reference). With a
 * list of rows, "(sku_id, buyer_id) IN ((?, ?), ...)", MariaDB spent more on planning the list (a range each, sorted)
 * than on the look-ups: with 2,000 buyers, 123 ms a statement against 3.5 ms (the same rows; mariadb client, text).
 * The statement is one, whatever the number of ids. JSON_TABLE needs MariaDB 10.6.
 *
 * lb_store__json_ids gives ids[0..n) as such an array, each id once (a batch may name one twice, which would count its
 * rows twice), in ascending order (the order its rows are locked in); malloc'd.
 */
char *lb_store__json_ids(const int64_t *ids, size_t n, size_t *len);
/* Runs sql (a JSON_TABLE statement) with the JSON list (which it frees) and the SKU as its two parameters. */
int lb_store__query_json_list(lb_db_t *db, const char *sql, char *list, size_t len, int64_t sku_id);

/* The orders (as o) of one SKU (the second parameter) whose ids the first lists as a JSON array (lb_store__json_ids). */
#define FROM_ORDERS_BY_JSON_IDS                                                                                                    \
    "FROM JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) AS ids JOIN orders o FORCE INDEX (PRIMARY) "                 \
    "ON o.sku_id = ? AND o.id = ids.id "

/* Writes item n times, separator between, at out (room for n * (strlen(item) + strlen(separator)) + 1); its length. */
size_t lb_store__print_list(char *out, size_t n, const char *item, const char *separator);
/*
 * The text of a statement of shape with a list of n items: head, item n times comma-separated ("(?, ?), (?, ?)"), tail;
 * from malloc. NULL when the connection has that shape and n prepared already (lb_db_query_array needs no text then).
 */
char *lb_store__list_sql(lb_db_t *db, const char *shape, size_t n, const char *head, const char *item, const char *tail);
/*
 * Runs a multi-row INSERT of n rows (head, then row n times; prepared once per shape and n) that ends in
 * "RETURNING returned", and reads what it returns for each row, in the order of VALUES, into out[0..n).
 */
int lb_store__insert_returning(lb_db_t *db, const char *shape, const char *head, const char *row, const char *returned,
                               const lb_db_param_t *params, size_t num_params, size_t n, int64_t *out);

/* ---- A session's named locks, and the tests' pauses (session.c) ---------------------------------------------------- */

/*
 * Takes the session's named lock `name` (a string literal) of this database, waiting up to wait_s seconds: 0, LB_EBUSY
 * when another session holds it still, or an LB_E* code. Held across transactions until lb_store__unlock or the
 * session's end (a crash of livebuyd, a lost connection, a KILL): call it outside a transaction, and unlock before the
 * job returns.
 */
int lb_store__lock(lb_db_t *db, const char *name, int64_t wait_s);
/* Lets go of the lock `name`; when that cannot be told, the connection is closed after the job (so is the lock). */
void lb_store__unlock(lb_db_t *db, const char *name);
/*
 * A failure point for the tests: with LIVEBUY_FAULT_PAUSE=point, the first pass of the process through `point` has the
 * session sleep 20 s (SELECT SLEEP), long enough for a test to find it (its locks, PROCESSLIST) and KILL it there, as a
 * crash or a lost connection at that step would end it. 0, or the statement's LB_E* code when it was killed. A no-op
 * in production (the variable unset).
 */
int lb_store__pause_for_test(lb_db_t *db, const char *point);

/* ---- Outbox tables (shipments.c, refund_outbox.c): due rows claimed for a push ---------------------------------------- */

/* Reads the open query's next row into rows' row i and gives its id: 0, LB_ENOTFOUND after the last, or an LB_E* code. */
typedef int (*lb_store__fetch_cb)(lb_db_t *db, void *rows, size_t i, int64_t *id);

/* An outbox table's claim: its statements, and how a claimed row is read. */
typedef struct st_lb_store__claim_t {
    const char *due_sql;   /* parameters now, now, limit: sku_id, id of the due unclaimed rows, oldest due first */
    const char *lock_sql;  /* parameters id, sku_id, now, now: the row (read by fetch) if still so, FOR UPDATE SKIP LOCKED */
    const char *claim_sql; /* parameters claimer, claimed_until, id, sku_id: the claim written */
    lb_store__fetch_cb fetch;
} lb_store__claim_t;

/*
 * Reads up to limit due rows without a lock, outside a transaction; then begins one and leaves it open for the caller
 * to finish: locks and claims for claimer, until claimed_until, those of the first one's slot (SKU id modulo shards)
 * that are still due and that no other transaction holds (SKIP LOCKED), reading them with fetch into rows. *found gets
 * how many. Every statement of the transaction names its row's SKU, so on a sharded database it stays on one backend
 * (docs/scale-out.md); rows of other slots wait for the next claim.
 */
int lb_store__claim_due(lb_db_t *db, const lb_store__claim_t *claim, const char *claimer, int64_t now, int64_t claimed_until,
                        size_t limit, unsigned shards, void *rows, size_t *found);

/*
 * Lets go of claimer's claims (a clean stop): finds its rows without a lock (find_sql: parameter claimer; sku_id, id),
 * then frees each (free_sql: parameters id, sku_id, claimer) in a statement that names its SKU. A process holds a few
 * claims (LB_OUTBOX_MAX_IN_FLIGHT); more than 64 are left to run out by themselves.
 */
int lb_store__release_claims(lb_db_t *db, const char *find_sql, const char *free_sql, const char *claimer);

/* ---- The SKU row (catalog.c, products.c, product_create.c) ------------------------------------------------------- */

/* The ids a query of one int parameter reads (its rows' first column), in a malloc'd array (free it, even empty). */
int lb_store__ids(lb_db_t *db, const char *sql, int64_t param, int64_t **ids, size_t *n);
/* The ids of product_id's SKUs, in the order they were made (lb_store__ids); read without a lock, outside a
 * transaction: they may be on several backends. */
int lb_store__product_sku_ids(lb_db_t *db, int64_t product_id, int64_t **ids, size_t *n);

/* The columns of a SKU row, in the order SKU_OUTPUTS lists lb_sku_t's outputs, each after prefix t. */
#define SKU_SELECT_LIST(t)                                                                                                         \
    t "id, " t "product_id, " t "merchant_id, " t "name, " t "price_cents, " t "weight_grams, " t "stock, " t "reserved, " t       \
      "sold, " t "held, " t "retired_at "
#define SKU_SELECT "SELECT " SKU_SELECT_LIST("") "FROM skus "
#define SKU_TYPES  "iiisiiiiiii"
#define SKU_OUTPUTS(s)                                                                                                             \
    &(s)->id, &(s)->product_id, &(s)->merchant_id, (s)->name, sizeof((s)->name), &(s)->price_cents, &(s)->weight_grams,            \
        &(s)->stock, &(s)->reserved, &(s)->sold, &(s)->held, &(s)->retired_at

/* ---- The order row (orders.c, group_buys.c) ---------------------------------------------------------------------- */

/* The columns of an order row, in the order lb_order_t's outputs are listed by ORDER_OUTPUTS, each after prefix t. */
#define ORDER_SELECT_LIST(t)                                                                                                       \
    t "id, " t "sku_id, " t "buyer_id, " t "live_item_id, " t "group_buy_id, " t "pickup_point_id, " t "qty, " t                   \
      "amount_cents DIV " t "qty, " t "amount_cents, " t "expires_at, " t "created_at, IFNULL(" t "updated_at, " t                 \
      "created_at), " t "status, " t "ship_to_name IS NOT NULL, " t "ship_to_name, " t "ship_to_phone, " t "ship_to_address "
#define ORDER_SELECT "SELECT " ORDER_SELECT_LIST("") "FROM orders "
/* Whole order rows by ids (FROM_ORDERS_BY_JSON_IDS). */
#define ORDERS_BY_IDS_SELECT "SELECT STRAIGHT_JOIN " ORDER_SELECT_LIST("o.") FROM_ORDERS_BY_JSON_IDS
/* A campaign's joins (group_buy_orders) and their orders; WHERE on j.group_buy_id. */
#define GROUP_BUY_JOIN_SELECT                                                                                                      \
    "SELECT " ORDER_SELECT_LIST("o.") "FROM group_buy_orders j JOIN orders o ON o.sku_id = j.sku_id AND o.id = j.order_id "
#define ORDER_TYPES "iiiiiiiiiiiisisss"
#define ORDER_OUTPUTS(o)                                                                                                           \
    &(o)->id, &(o)->sku_id, &(o)->buyer_id, &(o)->live_item_id, &(o)->group_buy_id, &(o)->pickup_point_id, &(o)->qty,              \
        &(o)->unit_price_cents, &(o)->amount_cents, &(o)->expires_at, &(o)->created_at, &(o)->updated_at, (o)->status,             \
        sizeof((o)->status), &(o)->has_ship_to, (o)->ship_to_name, sizeof((o)->ship_to_name), (o)->ship_to_phone,                  \
        sizeof((o)->ship_to_phone), (o)->ship_to_address, sizeof((o)->ship_to_address)

/* ---- A pickup point (group_buys.c, stations.c) ------------------------------------------------------------------- */

/* A pickup point's columns (t: the table's alias and a dot, or ""), as lb_pickup_point_t reads them. */
#define PICKUP_POINT_SELECT_LIST(t)                                                                                                \
    t "id, " t "name, " t "county, " t "township, " t "village, " t "address, COALESCE(" t "station_id, 0)"
#define PICKUP_POINT_TYPES "isssssi"
#define PICKUP_POINT_OUTPUTS(p)                                                                                                    \
    &(p)->id, (p)->name, sizeof((p)->name), (p)->county, sizeof((p)->county), (p)->township, sizeof((p)->township), (p)->village,  \
        sizeof((p)->village), (p)->address, sizeof((p)->address), &(p)->station_id

/* ---- A live item with its live and host (lives.c, sales.c) ----------------------------------------------------------- */

/* The columns of lb_hold_t, in the order HOLD_OUTPUTS lists its outputs, from HOLD_FROM (i the item, s its SKU, p the
 * product, l its live, h its host). */
#define HOLD_SELECT_LIST                                                                                                           \
    "i.id, i.live_id, l.title, l.merchant_id, h.name, COALESCE(i.offer_id, 0), i.sku_id, CONCAT(p.title, ' ', s.name), "           \
    "i.price_cents, i.quota, i.reserved, i.sold, i.per_buyer_limit, i.opens_at "
#define HOLD_FROM                                                                                                                  \
    "FROM skus s JOIN live_items i ON i.sku_id = s.id JOIN products p ON p.id = s.product_id JOIN lives l ON l.id = i.live_id "    \
    "JOIN merchants h ON h.id = l.merchant_id "
#define HOLD_TYPES "iisisiisiiiiii"
#define HOLD_OUTPUTS(h)                                                                                                            \
    &(h)->item.id, &(h)->item.live_id, (h)->live_title, sizeof((h)->live_title), &(h)->host_id, (h)->host_name,                    \
        sizeof((h)->host_name), &(h)->item.offer_id, &(h)->item.sku_id, (h)->item.title, sizeof((h)->item.title),                  \
        &(h)->item.price_cents, &(h)->item.quota, &(h)->item.reserved, &(h)->item.sold, &(h)->item.per_buyer_limit,                \
        &(h)->item.opens_at

/* ---- The order id sequence (orders.c, reservations.c) --------------------------------------------------------------- */

/* Reads the sequence's lattice (lb_store_order_block_of) unless this process has it already: 0 or an LB_E* code. */
int lb_store__read_lattice(lb_db_t *db);
/*
 * Appends the SKUs of an order directory block's list (sql/021: "[12,12,15]", repeats and all; "" adds none) to
 * skus[0..n), which has room for LB_ORDER_ID_BLOCK more; returns how many there are.
 */
size_t lb_store__add_block_skus(int64_t *skus, size_t n, const char *list);
/* Sorts ids[0..n) and drops repeats; returns how many are left. */
size_t lb_store__sorted_unique(int64_t *ids, size_t n);

#endif
