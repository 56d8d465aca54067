-- Offers: a co-op's agreement that one host may sell one of its SKUs on air. The co-op makes the offer (how many
-- units at most, the lowest flash price, the host's commission in basis points, from when until when); the host
-- accepts or declines; either side can end it. A host puts a SKU on air only under an accepted, current offer of that
-- SKU to that host (server/store/offers.c), checked when the item is created, never per order.
--
-- placed counts the units put on air under the offer: each item's quota when it is created, less what closing it gives
-- back (its unsold quota). So max_quota - placed is what the offer has left, and max_quota bounds what the host can
-- ever hold or sell under it. Item creation and closing lock the offer row before the SKU row (the order path never
-- locks offers), so processes sharing the database cannot over-hold an offer.
--
-- Offers are small and per SKU: like every order-path table their rows name the SKU (sharding by SKU, see 001).
CREATE TABLE IF NOT EXISTS offers (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    sku_id BIGINT UNSIGNED NOT NULL,
    coop_id BIGINT UNSIGNED NOT NULL COMMENT 'the SKU''s merchant, who made the offer',
    host_id BIGINT UNSIGNED NOT NULL,
    max_quota BIGINT NOT NULL,
    placed BIGINT NOT NULL DEFAULT 0 COMMENT 'units on air under the offer: item quotas less what closing them gave back',
    min_price_cents BIGINT NOT NULL COMMENT 'the floor of a flash price under the offer',
    commission_bp INT NOT NULL COMMENT 'the host''s commission in basis points (1/100 of a percent) of the revenue',
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    status ENUM('pending', 'accepted', 'declined', 'ended') NOT NULL DEFAULT 'pending',
    ended_by ENUM('coop', 'host') NULL COMMENT 'who declined or ended it',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NULL,
    PRIMARY KEY (id),
    KEY offers_coop (coop_id, id),
    KEY offers_host (host_id, id),
    KEY offers_sku_host (sku_id, host_id),
    CONSTRAINT offers_within CHECK (placed >= 0 AND placed <= max_quota AND max_quota > 0),
    CONSTRAINT offers_terms CHECK (min_price_cents >= 0 AND commission_bp BETWEEN 0 AND 10000 AND starts_at < ends_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Every live item of a co-op's SKU is under an offer from now on (items made before this get one below). NULL only for
-- an item a host puts on air from its own catalogue (a host may list products of its own): no agreement, no commission.
ALTER TABLE live_items ADD COLUMN IF NOT EXISTS offer_id BIGINT UNSIGNED NULL AFTER sku_id;

-- Live items made before offers keep working: each (SKU, host) pair that has items gets one accepted offer with no
-- commission, whose max_quota is what those items placed (nothing more can be put on air under it), at or below their
-- lowest price, current for 30 days. Each statement can run again.
INSERT INTO offers (sku_id, coop_id, host_id, max_quota, placed, min_price_cents, commission_bp, starts_at, ends_at,
                    status, created_at)
    SELECT i.sku_id, s.merchant_id, l.merchant_id, GREATEST(SUM(i.quota), 1), SUM(i.quota), MIN(i.price_cents), 0,
           MIN(i.created_at), GREATEST(MAX(i.opens_at), UNIX_TIMESTAMP()) + 30 * 86400, 'accepted', UNIX_TIMESTAMP()
    FROM live_items i JOIN lives l ON l.id = i.live_id JOIN skus s ON s.id = i.sku_id
    WHERE i.offer_id IS NULL AND s.merchant_id <> l.merchant_id
      AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.sku_id = i.sku_id AND o.host_id = l.merchant_id)
    GROUP BY i.sku_id, s.merchant_id, l.merchant_id;

UPDATE live_items i JOIN lives l ON l.id = i.live_id JOIN skus s ON s.id = i.sku_id
    SET i.offer_id = (SELECT MIN(o.id) FROM offers o WHERE o.sku_id = i.sku_id AND o.host_id = l.merchant_id)
    WHERE i.offer_id IS NULL AND s.merchant_id <> l.merchant_id;

ALTER TABLE live_items ADD KEY IF NOT EXISTS live_items_offer (offer_id);
