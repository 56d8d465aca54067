-- Refunds: money that goes back to a buyer, one row per payment transaction to give back, written in the transaction
-- that decides it, then pushed to the payment provider by the refund outbox (like shipments: claimed with
-- claimed_by/claimed_until, retried with backoff, dead after the last try) and confirmed by the provider's signed
-- refund notification.
--
-- Why a payment's money goes back (cause):
--   * buyer:           the buyer asked (POST /v1/orders/{id}/refund): at once while the order is paid and not handed to
--                      shipping, else as a request (status requested) that the SKU's co-op approves or rejects;
--   * late_payment:    a payment for an order that had expired or been cancelled and whose units were gone (or a
--                      released group-buy join);
--   * paid_twice:      a second payment transaction for an order that was paid already;
--   * campaign_failed: a paid join of a group-buy that did not reach its minimum.
--
-- status: requested -> pending (approved) | rejected; pending -> sent (the provider took the request) -> refunded |
-- failed (the provider's notification); pending -> dead (the push gave up; visible, and the co-op can send it again).
-- An order whose own payment goes back is refund_required until the provider confirms, then refunded; a refund of a
-- second payment leaves its order as it is.
--
-- The unique key makes one refund per payment transaction: no path can give the same money back twice. Like every
-- order-path table its keys name the SKU (sharding by SKU, see 001).
CREATE TABLE IF NOT EXISTS refunds (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    sku_id BIGINT UNSIGNED NOT NULL,
    order_id BIGINT UNSIGNED NOT NULL,
    buyer_id BIGINT UNSIGNED NOT NULL,
    coop_id BIGINT UNSIGNED NOT NULL COMMENT 'the SKU''s merchant: lists the refunds, decides requests after handoff',
    provider_txn_id VARCHAR(128) NOT NULL COMMENT 'the payment transaction whose money goes back',
    amount_cents BIGINT NOT NULL,
    cause ENUM('buyer', 'late_payment', 'paid_twice', 'campaign_failed') NOT NULL,
    reason VARCHAR(200) NOT NULL DEFAULT '' COMMENT 'the buyer''s words, or the co-op''s on a rejection',
    status ENUM('requested', 'rejected', 'pending', 'sent', 'refunded', 'failed', 'dead') NOT NULL,
    attempts INT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_by VARCHAR(64) NULL,
    claimed_until BIGINT NULL,
    last_error VARCHAR(400) NULL,
    provider_refund_id VARCHAR(128) NULL COMMENT 'the provider''s id of the refund, from its answer or notification',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY refunds_payment (sku_id, provider_txn_id),
    KEY refunds_order (order_id),
    KEY refunds_coop (coop_id, id),
    KEY refunds_due (status, next_attempt_at),
    CONSTRAINT refunds_amount CHECK (amount_cents >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- A paid order refunded before the shipping system took it: its pending shipment is cancelled, never pushed.
ALTER TABLE shipments MODIFY status ENUM('pending', 'acked', 'dead', 'cancelled') NOT NULL DEFAULT 'pending';

-- A buyer's orders, newest first (GET /v1/orders). One more index entry per order written: measured in
-- docs/benchmarks.md (callgrind per hot-SKU order).
ALTER TABLE orders ADD KEY IF NOT EXISTS orders_buyer (buyer_id, id);

-- Money that had to go back before this migration gets its refund, pending (the outbox pushes it once a refund
-- receiver is configured). Failed campaigns' paid joins left their units in sold: they leave it here, in the same
-- transaction as their refunds are written, so that a second run (which finds the refunds) changes nothing.
START TRANSACTION;

UPDATE skus s
    JOIN (SELECT o.sku_id, SUM(o.qty) AS qty
          FROM orders o JOIN payments p ON p.sku_id = o.sku_id AND p.order_id = o.id AND p.outcome = 'applied'
          WHERE o.status = 'refund_required' AND o.group_buy_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.sku_id = p.sku_id AND r.provider_txn_id = p.provider_txn_id)
          GROUP BY o.sku_id) joins ON joins.sku_id = s.id
    SET s.sold = s.sold - joins.qty;

INSERT IGNORE INTO refunds (sku_id, order_id, buyer_id, coop_id, provider_txn_id, amount_cents, cause, status,
                            next_attempt_at, created_at)
    SELECT p.sku_id, p.order_id, o.buyer_id, s.merchant_id, p.provider_txn_id, p.amount_cents,
           CASE WHEN p.outcome = 'applied' THEN 'campaign_failed'
                WHEN o.status = 'refund_required' THEN 'late_payment'
                ELSE 'paid_twice' END,
           'pending', UNIX_TIMESTAMP(), p.created_at
    FROM payments p JOIN orders o ON o.sku_id = p.sku_id AND o.id = p.order_id JOIN skus s ON s.id = p.sku_id
    WHERE p.outcome = 'refund_required' OR (o.status = 'refund_required' AND o.group_buy_id IS NOT NULL);

COMMIT;
