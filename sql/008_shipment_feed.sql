-- The shipments feed in the order shipments became visible, not by id. Ids are taken when a shipment is inserted and
-- its transaction may commit after one with a higher id: a shipper that had polled past the higher id would never see
-- the lower one, and a paid order would not reach shipping through the feed. Now each committed shipment gets a place
-- in the feed, feed_seq, from one counter (shipment_feed) under its row lock, in a transaction that sees only
-- committed shipments (lb_store_shipments_sequence): a place is given after every place before it is visible.
-- Shipments made so far keep their ids as places, and the counter starts above them, so a cursor a shipper holds
-- (an id until now) stays good. Each statement can run again.
ALTER TABLE shipments ADD COLUMN IF NOT EXISTS feed_seq BIGINT UNSIGNED NULL;
ALTER TABLE shipments ADD KEY IF NOT EXISTS shipments_feed (feed_seq);
CREATE TABLE IF NOT EXISTS shipment_feed (
    id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    last_seq BIGINT UNSIGNED NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
INSERT IGNORE INTO shipment_feed (id, last_seq) SELECT 1, COALESCE(MAX(id), 0) FROM shipments;
UPDATE shipments SET feed_seq = id WHERE feed_seq IS NULL AND id <= (SELECT last_seq FROM shipment_feed WHERE id = 1);
