-- A product is made in steps that each write one database of a sharded deployment (the product on the Spider front,
-- each SKU on its backend: server/store/product_create.c): inserted hidden, its SKUs, then published. While it is in
-- the making, `making` holds the SHA-256 of what was asked (a retry that asks the same completes it; anything else the
-- merchant asks removes it) and no read shows the product or its SKUs; NULL once published. Products made so far are
-- published. Runs again harmlessly.
ALTER TABLE products ADD COLUMN IF NOT EXISTS making BINARY(32) NULL
    COMMENT 'in the making: the SHA-256 of the request making it; NULL once published';
