-- One index insert fewer per order on the hot path: orders loses its secondary index on id (orders_id), which every
-- order paid for (callgrind on mariadbd, a hot-SKU order: about a fifth of the database's work per order) only so that
-- an order could be read by its id alone, and so that id could be AUTO_INCREMENT.
--
-- Instead, order ids come in blocks: a batch takes a block start from the sequence order_ids (INCREMENT BY 64) for
-- every 64 of its orders and writes one row of the order directory per block, order_blocks (first_id, sku_id): "the
-- ids from first_id up to the next block are this SKU's" (server/store/reservations.c, take_order_ids). An order is found by
-- its id through the directory's nearest block at or below the id, then the primary key (sku_id, id). One directory
-- row per 64 orders instead of one index entry per order.
--
-- For sharding by SKU (001, DESIGN.md) this is also the routing table an id needs: the directory's key carries the SKU
-- id, and its nearest-block look-up gives the right answer even when the directory itself is sharded by SKU (each
-- shard answers with its nearest block; the highest of those wins). Each shard's sequence gets a range of its own, as
-- each shard's AUTO_INCREMENT had an offset of its own before.
--
-- Orders made before this keep their ids: each run of consecutive ids on one SKU becomes one block. The sequence then
-- starts above every id given so far. Stop every livebuyd of an older build before this runs (those would insert orders
-- without ids and without directory rows). Each statement can run again.
CREATE TABLE IF NOT EXISTS order_blocks (
    first_id BIGINT UNSIGNED NOT NULL,
    sku_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (first_id, sku_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT IGNORE INTO order_blocks (first_id, sku_id)
    SELECT id, sku_id FROM (SELECT id, sku_id, LAG(sku_id) OVER (ORDER BY id) AS previous FROM orders) runs
    WHERE previous IS NULL OR previous <> sku_id;

-- CREATE SEQUENCE takes its start as a literal: the statement is made with it.
SET @livebuy_ddl = CONCAT('CREATE SEQUENCE IF NOT EXISTS order_ids START WITH ',
                          (SELECT COALESCE(MAX(id), 0) + 1 FROM orders), ' INCREMENT BY 64 NOCYCLE');
PREPARE livebuy_statement FROM @livebuy_ddl;
EXECUTE livebuy_statement;
DEALLOCATE PREPARE livebuy_statement;

ALTER TABLE orders MODIFY id BIGINT UNSIGNED NOT NULL, DROP KEY IF EXISTS orders_id;
