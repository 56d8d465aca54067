-- The idempotency keys move out of orders into order_keys, which holds only the keys that can be asked for again
-- (callgrind on mariadbd, a hot-SKU order without a key: 35.9k -> about 22.5k instructions; the unique index was the
-- costliest thing an order wrote):
--   * every key a buyer sent (Idempotency-Key), so that a retry finds its order and a reuse with another body is refused;
--   * every order on a live item or a group-buy, under its key or one the server made, because per-buyer limits add up
--     a buyer's orders through (sku_id, buyer_id).
-- A direct SKU order without the buyer's key has no row: its key is its order id, which a lost COMMIT is resolved by
-- (server/reserve.c) and which nobody can send again. The key the server used to make for it was never shown to anyone.
-- Like every order-path table, the primary key starts with sku_id (sharding by SKU, see 001).
-- Orders made before this keep every key they had. Stop every livebuyd of an older build before this runs (those
-- would write keys into orders). Each statement can run again, so a start that stopped half way through can start again.
CREATE TABLE IF NOT EXISTS order_keys (
    sku_id BIGINT UNSIGNED NOT NULL,
    buyer_id BIGINT UNSIGNED NOT NULL,
    idem_key VARBINARY(64) NOT NULL,
    order_id BIGINT UNSIGNED NOT NULL,
    request_hash BINARY(32) NOT NULL,
    PRIMARY KEY (sku_id, buyer_id, idem_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The copy runs only while orders still has the keys (a second start after the columns went finds nothing to copy).
SET @livebuy_copy = IF((SELECT COUNT(*) FROM information_schema.columns
                        WHERE table_schema = DATABASE() AND table_name = 'orders' AND column_name = 'idem_key') = 0,
                       'DO 0',
                       'INSERT IGNORE INTO order_keys (sku_id, buyer_id, idem_key, order_id, request_hash)
                            SELECT sku_id, buyer_id, idem_key, id, request_hash FROM orders');
PREPARE livebuy_statement FROM @livebuy_copy;
EXECUTE livebuy_statement;
DEALLOCATE PREPARE livebuy_statement;

ALTER TABLE orders DROP KEY IF EXISTS orders_idempotency;
ALTER TABLE orders DROP COLUMN IF EXISTS idem_key, DROP COLUMN IF EXISTS request_hash;
