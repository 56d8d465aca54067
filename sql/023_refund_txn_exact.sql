-- A refund names the payment whose money goes back by its provider_txn_id, and refunds_payment keeps one refund per
-- payment. The column was made (013) under the table's utf8mb4_unicode_ci, which folds case, accents and trailing
-- spaces, while payments compare the ids byte for byte since 009 ("...aB3" and "...Ab3" are two payments). Two such
-- payments of one SKU then shared a refund: the second one's buyer was told a refund existed already (409), a failed
-- campaign's join kept its money, and a late or double payment was marked for refund with no refund made. Byte for
-- byte from now on, as payments. The statement can run again.
ALTER TABLE refunds MODIFY provider_txn_id VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL
    COMMENT 'the payment transaction whose money goes back';
