-- orders.merchant_id was the merchant of the order's SKU, which never changes hands: nothing reads it from orders (a
-- merchant's orders are found through skus_merchant since 004, and an order's merchant is its SKU's). Written for
-- every order, it cost MariaDB and libmariadb some 600 instructions a row (see 010). The drop is instant in MariaDB
-- 10.4 and later. Stop every livebuyd of an older build before this runs (those write merchant_id). It can run again.
ALTER TABLE orders DROP COLUMN IF EXISTS merchant_id;
