-- A block of order ids for a whole transaction, not for each of its SKUs. A reservation job carries the orders of many
-- SKUs when each has few (orders spread over a catalogue: one or two a SKU); until now each SKU's orders took a block
-- of their own, so such a job wrote a row of the order directory for every SKU it touched (with its two index
-- entries, order_blocks_due and order_blocks_unlisted) and the buyers' index listed each. Now a job's orders take one
-- block per 64 orders whatever their SKUs, and a block whose orders are of several SKUs says which SKU each id is:
--
--   skus: NULL when every id of the block is sku_id's (every block made before this, and a job of one SKU, as a hot
--         SKU's always is); otherwise a JSON array of the block's size, the SKU of first_id + i at index i
--         ("[12,12,15,40]"). sku_id is then the SKU of first_id: the key a sharded directory is partitioned by (a job's
--         SKUs are all on one shard, so the block's row is on that shard too).
--
-- Read by id (server/store/orders.c), expired (server/store/expiry.c) and listed (server/store/buyer_orders.c) through
-- that column. Measured on the 2-core machine (closed model, 1,600 orders in flight over 1,000 SKUs): orders/s up by a
-- third. Stop every livebuyd of an older build before this runs: one would read a block of several SKUs as its first
-- SKU's. The statement can run again.
ALTER TABLE order_blocks ADD COLUMN IF NOT EXISTS skus VARCHAR(1400) CHARACTER SET ascii NULL
    COMMENT 'NULL: every id is sku_id''s; else a JSON array, the SKU of first_id + i at index i';
