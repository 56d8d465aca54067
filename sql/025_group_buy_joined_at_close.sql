-- A campaign's joined_qty counts the units of its joins that are reserved or paid (docs/api.md), at every moment: it
-- was left as it was when a join's money went back after its campaign closed (a failed campaign's refunds, a refund
-- approved after the handoff), so a failed campaign showed units joined whose money had gone back. It now follows
-- those too; what the closer decided on, the units joined at the cut-off, is kept in joined_qty_at_close (NULL while
-- the campaign is open), which the closer writes in the statement that closes the campaign.
-- Rows made before this: a closed campaign's joined_qty_at_close is its joined_qty as it stands (the figure the old
-- code kept, less any unpaid join of a succeeded campaign that expired after the cut-off); then every joined_qty is
-- counted again from its joins. The statements can run again.
ALTER TABLE group_buys ADD COLUMN IF NOT EXISTS joined_qty_at_close BIGINT NULL
    COMMENT 'the joined_qty the closer decided on at the cut-off; NULL while open';
UPDATE group_buys SET joined_qty_at_close = joined_qty WHERE status <> 'open' AND joined_qty_at_close IS NULL;
UPDATE group_buys g SET g.joined_qty = (
    SELECT COALESCE(SUM(o.qty), 0) FROM group_buy_orders j JOIN orders o ON o.sku_id = j.sku_id AND o.id = j.order_id
    WHERE j.sku_id = g.sku_id AND j.group_buy_id = g.id
      AND o.status IN ('reserved', 'paid', 'handed_off', 'shipped', 'delivered', 'collected'));
ALTER TABLE group_buys ADD CONSTRAINT IF NOT EXISTS group_buys_joined CHECK (joined_qty >= 0 AND joined_qty_at_close >= 0);
