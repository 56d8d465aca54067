-- A live item can be taken off air: what its quota did not sell goes back to the SKU, and reservations released later
-- go back to the SKU too (not to the item's quota). NULL while the item is on air.
ALTER TABLE live_items ADD COLUMN closed_at BIGINT NULL AFTER reserve_ttl;
