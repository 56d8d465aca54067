-- The co-op manages its catalogue: products get a description and can be retired, SKUs can be retired, and every
-- change of a SKU's stock is a row of the stock ledger, with who made it and why.
--
-- Retiring (retired_at set) stops new orders, live items, offers and group-buys on the SKU (or on every SKU of the
-- product); what exists goes on (orders are paid, shipped and refunded as before; items on air sell out their quota)
-- and the history stays. A retired SKU is not listed in the shop; the merchant still sees it.
ALTER TABLE products ADD COLUMN IF NOT EXISTS description VARCHAR(2000) NOT NULL DEFAULT '' AFTER origin,
    ADD COLUMN IF NOT EXISTS retired_at BIGINT NULL,
    ADD COLUMN IF NOT EXISTS updated_at BIGINT NULL;
ALTER TABLE skus ADD COLUMN IF NOT EXISTS retired_at BIGINT NULL;

-- The stock ledger: one row per change of skus.stock, so that a SKU's rows add up to its stock. kind: opening (the
-- stock a SKU had when this migration ran, or when it was created), restock, adjust (a correction up or down, with
-- a reason), refund_after_handoff (the goods of an order refunded after it was handed to shipping left the stock).
-- merchant_id is who made the change (NULL: livebuy itself). stock_after is the SKU's stock after the change.
CREATE TABLE IF NOT EXISTS stock_ledger (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    sku_id BIGINT UNSIGNED NOT NULL,
    kind ENUM('opening', 'restock', 'adjust', 'refund_after_handoff') NOT NULL,
    delta BIGINT NOT NULL,
    stock_after BIGINT NOT NULL,
    merchant_id BIGINT UNSIGNED NULL,
    order_id BIGINT UNSIGNED NULL COMMENT 'refund_after_handoff: the order whose goods left',
    reason VARCHAR(200) NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY stock_ledger_sku (sku_id, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Every SKU made before this opens its ledger with the stock it has (once: a second run finds the rows).
INSERT INTO stock_ledger (sku_id, kind, delta, stock_after, merchant_id, reason, created_at)
    SELECT s.id, 'opening', s.stock, s.stock, NULL, 'stock when the ledger began', UNIX_TIMESTAMP()
    FROM skus s WHERE NOT EXISTS (SELECT 1 FROM stock_ledger l WHERE l.sku_id = s.id);
