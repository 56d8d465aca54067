-- Village stations: the keeper who hands a campaign's goods to the neighbours who joined it. A station is a merchant
-- of its own kind (created by the admin like the others, signing in with its token at /station); a pickup point is
-- bound to at most one station (pickup_points.station_id), set when the point is created or later by the merchant
-- that owns the point (POST /v1/pickup-points, PATCH /v1/pickup-points/{id}). The station sees the shipments coming
-- to its points and their pick lists, and marks each order collected once its shipment is delivered.
ALTER TABLE merchants MODIFY kind ENUM('coop', 'host', 'shipper', 'station') NOT NULL;

ALTER TABLE pickup_points ADD COLUMN IF NOT EXISTS station_id BIGINT UNSIGNED NULL COMMENT 'the station merchant that hands out its goods',
    ADD KEY IF NOT EXISTS pickup_points_station (station_id, id);

-- A station's shipments, newest first: by pickup point (a station has a few). One more index entry per shipment
-- written, in the transaction that pays its order(s); orders themselves get nothing.
ALTER TABLE shipments ADD KEY IF NOT EXISTS shipments_pickup_point (pickup_point_id, id);

-- delivered -> collected: the buyer took the goods at the station. Added at the end of the ENUM, which MariaDB does
-- in place (ALGORITHM=INSTANT refuses rather than copy the hot table); the default stays 'reserved' (010).
ALTER TABLE orders MODIFY status ENUM('reserved', 'paid', 'handed_off', 'shipped', 'delivered', 'expired', 'cancelled',
                                      'refund_required', 'refunded', 'collected') NOT NULL DEFAULT 'reserved',
    ALGORITHM = INSTANT;

-- Who handed an order out and when: one row per collected order, written in the transaction that makes it collected
-- (under its SKU row lock, as everything that moves an order). The primary key is the order's (SKU first, sharding by
-- SKU, see 001), so an order is collected once; shipment_id finds a pick list's collections.
CREATE TABLE IF NOT EXISTS order_collections (
    sku_id BIGINT UNSIGNED NOT NULL,
    order_id BIGINT UNSIGNED NOT NULL,
    shipment_id BIGINT UNSIGNED NOT NULL,
    station_id BIGINT UNSIGNED NOT NULL COMMENT 'the station merchant that marked it collected',
    collected_at BIGINT NOT NULL,
    PRIMARY KEY (sku_id, order_id),
    KEY order_collections_shipment (shipment_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
