-- A payment provider's transaction ids are opaque and case-sensitive ("aB3" and "Ab3" are two payments), but
-- payments_txn compared them under utf8mb4_unicode_ci, which also folds accents and some other characters: the
-- second of two such payments was refused as a reused transaction id (its money taken, its order left unpaid); in one
-- batch, the batch's own check (byte for byte) and the unique key (folded) disagree. The ids are compared byte for byte
-- from now on. A table
-- that holds two ids equal before but not now is fine; the reverse cannot happen. The statement can run again.
ALTER TABLE payments MODIFY provider_txn_id VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
