-- livebuy schema, version 1: the whole design (catalog, lives, group-buys, orders, payments, shipments/outbox).
-- Times are Unix seconds (BIGINT), money integer cents, text utf8mb4.
-- Order-path tables (orders, payments, shipment_orders) carry sku_id in every primary and unique key, so they can be
-- sharded by SKU (Spider, Vitess) without changing the one-SKU transaction shape.

CREATE TABLE merchants (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    name VARCHAR(200) NOT NULL,
    kind ENUM('coop', 'host', 'shipper') NOT NULL,
    token_hash BINARY(32) NOT NULL COMMENT 'SHA-256 of the bearer token; the token itself is never stored',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY merchants_token (token_hash)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE products (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    merchant_id BIGINT UNSIGNED NOT NULL,
    title VARCHAR(200) NOT NULL,
    unit VARCHAR(32) NOT NULL,
    origin VARCHAR(200) NOT NULL DEFAULT '',
    cold_chain TINYINT(1) NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY products_merchant (merchant_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The hot row of the order path: one batch locks it, allocates, updates the counters once.
CREATE TABLE skus (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    product_id BIGINT UNSIGNED NOT NULL,
    merchant_id BIGINT UNSIGNED NOT NULL,
    name VARCHAR(200) NOT NULL,
    price_cents BIGINT NOT NULL,
    weight_grams INT NOT NULL,
    stock BIGINT NOT NULL,
    reserved BIGINT NOT NULL DEFAULT 0,
    sold BIGINT NOT NULL DEFAULT 0,
    held BIGINT NOT NULL DEFAULT 0 COMMENT 'stock set aside for live items: their quotas not yet reserved or sold',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY skus_product (product_id),
    KEY skus_merchant (merchant_id, id),
    CONSTRAINT skus_never_oversold CHECK (reserved >= 0 AND sold >= 0 AND held >= 0 AND reserved + sold + held <= stock),
    CONSTRAINT skus_price CHECK (price_cents >= 0 AND weight_grams >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- A village station or other place where a group-buy's goods are collected (county-township-village network).
CREATE TABLE pickup_points (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    merchant_id BIGINT UNSIGNED NOT NULL,
    name VARCHAR(200) NOT NULL,
    county VARCHAR(100) NOT NULL,
    township VARCHAR(100) NOT NULL,
    village VARCHAR(100) NOT NULL,
    address VARCHAR(400) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY pickup_points_merchant (merchant_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE lives (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    merchant_id BIGINT UNSIGNED NOT NULL,
    title VARCHAR(200) NOT NULL,
    starts_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY lives_merchant (merchant_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- An item on air: a quota carved out of the SKU's stock, sold at a flash price from opens_at.
CREATE TABLE live_items (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    live_id BIGINT UNSIGNED NOT NULL,
    sku_id BIGINT UNSIGNED NOT NULL,
    price_cents BIGINT NOT NULL,
    quota BIGINT NOT NULL,
    reserved BIGINT NOT NULL DEFAULT 0,
    sold BIGINT NOT NULL DEFAULT 0,
    per_buyer_limit INT NOT NULL,
    opens_at BIGINT NOT NULL,
    reserve_ttl INT NULL COMMENT 'seconds; NULL = the server default',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY live_items_live (live_id, id),
    KEY live_items_sku (sku_id),
    CONSTRAINT live_items_within_quota CHECK (reserved >= 0 AND sold >= 0 AND reserved + sold <= quota)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE group_buys (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    merchant_id BIGINT UNSIGNED NOT NULL,
    sku_id BIGINT UNSIGNED NOT NULL,
    pickup_point_id BIGINT UNSIGNED NOT NULL,
    price_cents BIGINT NOT NULL,
    min_qty BIGINT NOT NULL,
    per_buyer_limit INT NOT NULL,
    closes_at BIGINT NOT NULL,
    status ENUM('open', 'succeeded', 'failed') NOT NULL DEFAULT 'open',
    joined_qty BIGINT NOT NULL DEFAULT 0,
    closed_at BIGINT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY group_buys_sku (sku_id),
    KEY group_buys_due (status, closes_at),
    KEY group_buys_merchant (merchant_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- One row per reservation. The idempotency key is unique per (SKU, buyer, key); request_hash detects a reused key with
-- a different body; the same unique key serves the per-buyer limit lookups (sku_id, buyer_id). Ids come from AUTO_INCREMENT here; a sharded deployment gives each shard its own offset.
CREATE TABLE orders (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    sku_id BIGINT UNSIGNED NOT NULL,
    merchant_id BIGINT UNSIGNED NOT NULL,
    buyer_id BIGINT UNSIGNED NOT NULL,
    idem_key VARBINARY(64) NOT NULL,
    request_hash BINARY(32) NOT NULL,
    live_item_id BIGINT UNSIGNED NULL,
    group_buy_id BIGINT UNSIGNED NULL,
    qty INT NOT NULL,
    unit_price_cents BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL,
    status ENUM('reserved', 'paid', 'handed_off', 'shipped', 'delivered', 'expired', 'cancelled', 'refund_required',
                'refunded') NOT NULL,
    ship_to_name VARCHAR(100) NULL,
    ship_to_phone VARCHAR(32) NULL,
    ship_to_address VARCHAR(400) NULL,
    pickup_point_id BIGINT UNSIGNED NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (sku_id, id),
    UNIQUE KEY orders_idempotency (sku_id, buyer_id, idem_key),
    KEY orders_id (id),
    KEY orders_expiry (status, expires_at),
    KEY orders_merchant (merchant_id, id),
    KEY orders_group_buy (group_buy_id, status),
    CONSTRAINT orders_qty CHECK (qty > 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE payments (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    sku_id BIGINT UNSIGNED NOT NULL,
    order_id BIGINT UNSIGNED NOT NULL,
    provider_txn_id VARCHAR(128) NOT NULL,
    amount_cents BIGINT NOT NULL,
    outcome ENUM('applied', 'refund_required') NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (sku_id, id),
    UNIQUE KEY payments_txn (sku_id, provider_txn_id),
    KEY payments_id (id),
    KEY payments_order (order_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The outbox: a shipment is written in the same transaction that makes its orders shippable, then pushed to the
-- shipping system by the dispatcher (claimed with claimed_by/claimed_until so one process sends a row at a time) and
-- served as a cursor feed (by id).
CREATE TABLE shipments (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    sku_id BIGINT UNSIGNED NOT NULL,
    group_buy_id BIGINT UNSIGNED NULL,
    pickup_point_id BIGINT UNSIGNED NULL,
    payload MEDIUMBLOB NOT NULL COMMENT 'the JSON document pushed to the shipping system',
    status ENUM('pending', 'acked', 'dead') NOT NULL DEFAULT 'pending',
    attempts INT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_by VARCHAR(64) NULL,
    claimed_until BIGINT NULL,
    last_error VARCHAR(400) NULL,
    tracking_no VARCHAR(64) NULL,
    delivery_status ENUM('none', 'picked_up', 'in_transit', 'delivered') NOT NULL DEFAULT 'none',
    created_at BIGINT NOT NULL,
    acked_at BIGINT NULL,
    PRIMARY KEY (id),
    KEY shipments_due (status, next_attempt_at),
    KEY shipments_sku (sku_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE shipment_orders (
    shipment_id BIGINT UNSIGNED NOT NULL,
    sku_id BIGINT UNSIGNED NOT NULL,
    order_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (sku_id, order_id),
    KEY shipment_orders_shipment (shipment_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE shipment_events (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    shipment_id BIGINT UNSIGNED NOT NULL,
    type ENUM('picked_up', 'in_transit', 'delivered') NOT NULL,
    tracking_no VARCHAR(64) NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY shipment_events_once (shipment_id, type)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
