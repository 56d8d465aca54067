-- A buyer's orders (GET /v1/orders), listed without an index on orders. 013 gave orders an index on (buyer_id, id):
-- one more index entry written per order, inside the batch's transaction under the SKU row lock, and callgrind
-- measured it at about 7,500 of mariadbd's instructions per hot-SKU order (18,100 -> 25,650; the statements' thread
-- 17,400 -> 23,000): a drop's orders a second fall with the time a batch holds that lock. So it goes, and:
--
--   * buyer_orders (buyer_id, order_id) is the buyers' index, written after the fact by a background job
--     (server/jobs/buyer_index.c): every quarter second it takes the order directory's blocks not yet listed (each up
--     to 64 orders of one SKU, 005/006), copies their orders' (buyer, id, SKU) with one INSERT ... SELECT per block and
--     marks the blocks listed, in one transaction; processes sharing the database split the blocks (SKIP LOCKED);
--   * a listing reads buyer_orders and, in the same statement, the orders of the blocks not listed yet that are the
--     buyer's, so an order shows in its buyer's list from the moment it is committed (server/store/buyer_orders.c).
--
-- The batch's cost is the listed flag's entry in order_blocks_unlisted: one per block of 64 orders. Like the order
-- directory, buyer_orders spans SKUs: in a deployment sharded by SKU it is a table of its own (by buyer).
ALTER TABLE orders DROP KEY IF EXISTS orders_buyer;

CREATE TABLE IF NOT EXISTS buyer_orders (
    buyer_id BIGINT UNSIGNED NOT NULL,
    order_id BIGINT UNSIGNED NOT NULL,
    sku_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (buyer_id, order_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

ALTER TABLE order_blocks ADD COLUMN IF NOT EXISTS listed TINYINT NOT NULL DEFAULT 0 COMMENT '1: its orders are in buyer_orders',
    ADD KEY IF NOT EXISTS order_blocks_unlisted (listed, first_id);

-- Orders made before this are listed here (a block made before 005 can hold more than 64 ids: each order is copied by
-- itself). Stop every livebuyd of an older build before this runs. Each statement can run again.
START TRANSACTION;
INSERT IGNORE INTO buyer_orders (buyer_id, order_id, sku_id) SELECT buyer_id, id, sku_id FROM orders;
UPDATE order_blocks SET listed = 1 WHERE listed = 0;
COMMIT;
