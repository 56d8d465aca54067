-- One more index insert fewer per order on the hot path: orders loses orders_expiry (status, expires_at), which every
-- order paid for only so that the expiry sweeper could find the reservations due. The sweeper now finds them through
-- the order directory (005): each block of order ids carries its size and due_at, the earliest expiry among its
-- reserved orders (NULL once none of them is reserved). A batch writes both with the block; the sweeper reads the blocks
-- due (index order_blocks_due), expires what is due in each and moves its due_at on (server/store/expiry.c,
-- lb_store_order_blocks_expire). One index entry per block of up to 64 orders instead of one per order (and none of
-- the index updates a payment made when it changed an order's status).
--
-- Blocks made so far (005's runs of older orders, and blocks of up to 64) get their size from their orders and due_at
-- from their reserved orders. Stop every livebuyd of an older build before this runs (those would make blocks without
-- a due time, so their reservations would never expire). Each statement can run again.
ALTER TABLE order_blocks
    ADD COLUMN IF NOT EXISTS size INT UNSIGNED NOT NULL,
    ADD COLUMN IF NOT EXISTS due_at BIGINT NULL,
    ADD KEY IF NOT EXISTS order_blocks_due (due_at);

UPDATE order_blocks b
    JOIN (SELECT blocks.first_id, blocks.sku_id, MAX(o.id) - blocks.first_id + 1 AS size,
                 MIN(CASE WHEN o.status = 'reserved' THEN o.expires_at END) AS due_at
          FROM (SELECT first_id, sku_id, LEAD(first_id) OVER (ORDER BY first_id) AS next_first FROM order_blocks) blocks
          JOIN orders o ON o.sku_id = blocks.sku_id AND o.id >= blocks.first_id
                       AND (blocks.next_first IS NULL OR o.id < blocks.next_first)
          GROUP BY blocks.first_id, blocks.sku_id) found
      ON found.first_id = b.first_id AND found.sku_id = b.sku_id
    SET b.size = found.size, b.due_at = found.due_at;

ALTER TABLE orders DROP KEY IF EXISTS orders_expiry;
