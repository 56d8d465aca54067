-- POST /v1/products takes an Idempotency-Key, as orders do: a co-op's phone that lost the answer (a timeout, a dropped
-- connection, livebuyd gone between publishing the product and answering) sends the request again with the same key
-- and gets the product it made, not a second one (server/store/product_create.c).
--
-- The key stays with the product for good, with the SHA-256 of what its request asked (`making` is NULL once the
-- product is published, so it cannot tell a replay from a reuse of the key with another body). Both NULL for a product
-- made without a key, and for every product made before this. A key is the merchant's: (merchant_id, idem_key) is
-- unique, NULLs apart. The key is looked up under the merchant's named lock, so no two requests race for it; the unique
-- key is the database's word that one key names one product.
--
-- products is a global table (the Spider front's own InnoDB table in a cluster, sql/cluster/placement.txt), so this
-- runs there as on one database. Runs again harmlessly.
ALTER TABLE products ADD COLUMN IF NOT EXISTS idem_key VARBINARY(64) NULL
        COMMENT 'the merchant''s Idempotency-Key the product was made under, or NULL',
    ADD COLUMN IF NOT EXISTS request_hash BINARY(32) NULL
        COMMENT 'with idem_key: the SHA-256 of what its request asked',
    ADD UNIQUE KEY IF NOT EXISTS products_idem_key (merchant_id, idem_key);
