-- livebuy demo data from the field: a Wuxiang millet co-op, a Changzhi livestream room, a village station.
-- Idempotent: fixed ids with INSERT IGNORE, so loading it again changes nothing (not even rows edited since).
-- Demo bearer tokens (only their SHA-256 is stored): livebuy-demo-coop-token, livebuy-demo-host-token,
-- livebuy-demo-shipper-token, livebuy-demo-station-token. Times are Unix seconds, money in cents (fen).
SET NAMES utf8mb4;

INSERT IGNORE INTO merchants (id, name, kind, token_hash, created_at) VALUES
    (1, '武乡县岭头小米专业合作社', 'coop', UNHEX(SHA2('livebuy-demo-coop-token', 256)), UNIX_TIMESTAMP()),
    (2, '长治直播间·太行好物', 'host', UNHEX(SHA2('livebuy-demo-host-token', 256)), UNIX_TIMESTAMP()),
    (3, '县乡村三级物流·武乡邮政', 'shipper', UNHEX(SHA2('livebuy-demo-shipper-token', 256)), UNIX_TIMESTAMP()),
    (4, '岭头村村级服务站 王桂兰', 'station', UNHEX(SHA2('livebuy-demo-station-token', 256)), UNIX_TIMESTAMP());

INSERT IGNORE INTO products (id, merchant_id, title, unit, origin, cold_chain, created_at) VALUES
    (1, 1, '武乡小米 当季新米', '袋', '山西省长治市武乡县', 0, UNIX_TIMESTAMP()),
    (2, 1, '沁州黄小米 礼盒', '盒', '山西省长治市沁县', 0, UNIX_TIMESTAMP()),
    (3, 1, '鲜食糯玉米 当天采摘', '箱', '山西省长治市武乡县', 1, UNIX_TIMESTAMP());

-- held = the live items' quotas set aside from stock (live items 1 and 2 below: 200 of SKU 1, 100 of SKU 3).
INSERT IGNORE INTO skus (id, product_id, merchant_id, name, price_cents, weight_grams, stock, held, created_at,
                         updated_at) VALUES
    (1, 1, 1, '2.5kg 袋装', 3980, 2600, 500, 200, UNIX_TIMESTAMP(), UNIX_TIMESTAMP()),
    (2, 1, 1, '5kg 袋装', 6980, 5150, 300, 0, UNIX_TIMESTAMP(), UNIX_TIMESTAMP()),
    (3, 2, 1, '1kg 礼盒（500g×2）', 5800, 1300, 200, 100, UNIX_TIMESTAMP(), UNIX_TIMESTAMP()),
    (4, 3, 1, '10穗装 极速鲜', 3500, 3200, 100, 0, UNIX_TIMESTAMP(), UNIX_TIMESTAMP());

-- Each SKU's stock ledger opens with the stock it was loaded with (sql/014_catalogue.sql), once: a second load finds
-- the rows. By the co-op, as POST /v1/products would write them.
INSERT INTO stock_ledger (sku_id, kind, delta, stock_after, merchant_id, reason, created_at)
    SELECT s.id, 'opening', s.stock, s.stock, s.merchant_id, '', UNIX_TIMESTAMP()
    FROM skus s WHERE NOT EXISTS (SELECT 1 FROM stock_ledger l WHERE l.sku_id = s.id);

-- The village station's keeper (merchant 4) hands out what comes to the pickup point (sql/016_stations.sql); a point
-- loaded before stations existed is bound to it too, once.
INSERT IGNORE INTO pickup_points (id, merchant_id, name, county, township, village, address, station_id, created_at) VALUES
    (1, 1, '岭头村村级服务站', '武乡县', '丰州镇', '岭头村', '山西省长治市武乡县丰州镇岭头村村委会旁便民服务站', 4,
     UNIX_TIMESTAMP());
UPDATE pickup_points SET station_id = 4 WHERE id = 1 AND station_id IS NULL;

INSERT IGNORE INTO lives (id, merchant_id, title, starts_at, created_at) VALUES
    (1, 2, '长治直播间 · 武乡小米助农专场', UNIX_TIMESTAMP(), UNIX_TIMESTAMP());

-- The co-op's offers to the host (sql/012_offers.sql), current for 30 days: SKUs 1 and 3 accepted (10% and 8%
-- commission; placed = the quotas of live items 1 and 2 below), the 5kg bag still waiting for the host to accept.
INSERT IGNORE INTO offers (id, sku_id, coop_id, host_id, max_quota, placed, min_price_cents, commission_bp, starts_at,
                           ends_at, status, created_at) VALUES
    (1, 1, 1, 2, 300, 200, 2500, 1000, UNIX_TIMESTAMP(), UNIX_TIMESTAMP() + 30 * 86400, 'accepted', UNIX_TIMESTAMP()),
    (2, 3, 1, 2, 150, 100, 4000, 800, UNIX_TIMESTAMP(), UNIX_TIMESTAMP() + 30 * 86400, 'accepted', UNIX_TIMESTAMP()),
    (3, 2, 1, 2, 100, 0, 5500, 1000, UNIX_TIMESTAMP(), UNIX_TIMESTAMP() + 30 * 86400, 'pending', UNIX_TIMESTAMP());

-- On air one minute after loading, under offers 1 and 2; quotas stay within the SKUs' stock (200 <= 500, 100 <= 200)
-- and the offers' max_quota, and match skus.held.
INSERT IGNORE INTO live_items (id, live_id, sku_id, offer_id, price_cents, quota, per_buyer_limit, opens_at,
                               created_at) VALUES
    (1, 1, 1, 1, 2990, 200, 2, UNIX_TIMESTAMP() + 60, UNIX_TIMESTAMP()),
    (2, 1, 3, 2, 4580, 100, 2, UNIX_TIMESTAMP() + 60, UNIX_TIMESTAMP());

-- Community group-buys collected at the village station: the 5kg bag, closing three days after loading, and the 2.5kg
-- bag, closing ten minutes after loading with a minimum of 2 (the tour joins it twice, pays, and sees it succeed).
INSERT IGNORE INTO group_buys (id, merchant_id, sku_id, pickup_point_id, price_cents, min_qty, per_buyer_limit,
                               closes_at, created_at) VALUES
    (1, 1, 2, 1, 5980, 20, 4, UNIX_TIMESTAMP() + 3 * 86400, UNIX_TIMESTAMP()),
    (2, 1, 1, 1, 3580, 2, 4, UNIX_TIMESTAMP() + 600, UNIX_TIMESTAMP());
