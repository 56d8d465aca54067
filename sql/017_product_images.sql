-- Product photos (#17 part 2). The bytes live in files under --media-dir, named by their SHA-256
-- ("ab/abcd....jpg", livebuy/store/media.h), never in the database: a row names the file and says what the upload's
-- check found (type, size in bytes, width and height in pixels). A product has at most 8 photos, in the order of
-- position (0 first: the photo the shop, the live and the group-buy page show); the co-op uploads, reorders and
-- deletes them (handlers/images.c), a retired product keeps them.
--
-- The same bytes are one file however many rows name them: (sha256, product_id) is unique (the same photo twice on
-- a product is one row) and finds the other rows of a hash, which a delete reads with a lock before it removes the
-- file (server/store/product_images.c). Every change of a product's photos takes its product row's lock first.
CREATE TABLE IF NOT EXISTS product_images (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    product_id BIGINT UNSIGNED NOT NULL,
    sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'lower-case hex: the file name',
    type ENUM('jpeg', 'png', 'webp') NOT NULL,
    bytes INT UNSIGNED NOT NULL,
    width INT UNSIGNED NOT NULL,
    height INT UNSIGNED NOT NULL,
    position SMALLINT UNSIGNED NOT NULL COMMENT '0, 1, ... in the order shown; no gaps',
    merchant_id BIGINT UNSIGNED NOT NULL COMMENT 'who uploaded it',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY product_images_sha256 (sha256, product_id),
    KEY product_images_product (product_id, position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
