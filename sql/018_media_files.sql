-- The photo files under --media-dir, one row per file (per distinct SHA-256), for the lock that keeps a file and the
-- product_images rows that name it in step (server/store/product_images.c). Sessions run READ COMMITTED (no gap
-- locks), so a locking read of product_images by hash cannot keep a concurrent upload of the same bytes out: an
-- upload takes this row's lock before it inserts its product_images row and writes the file, and a delete takes it
-- before it counts the rows left and removes the file with this row. What 017's uploads stored is registered here.
CREATE TABLE IF NOT EXISTS media_files (
    sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'lower-case hex: the file name',
    type ENUM('jpeg', 'png', 'webp') NOT NULL,
    bytes INT UNSIGNED NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (sha256)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT IGNORE INTO media_files (sha256, type, bytes, created_at)
    SELECT sha256, MIN(type), MIN(bytes), MIN(created_at) FROM product_images GROUP BY sha256;
