"""Product photos (issue #17, part 2): POST /v1/products/{id}/images (JPEG, PNG and WebP by their bytes, at most 2 MiB,
whole files only, 8 a product), PATCH and DELETE /v1/products/{id}/images/{image_id}, the files under --media-dir by
content hash, served at /media/ immutable with the hash as ETag, and the first photo's URL in the answers that show a
product. After each refusal nothing is on disk or in the table. Real HTTP against a real MariaDB; the image files are
made here with Pillow (Debian's python3-pil)."""

import hashlib
import io
import os
import socket
import struct
import subprocess
import time
import zlib

from PIL import Image

import lb

# A colour per produce, as the demo's photos.
MILLET, CORN, WALNUT = (222, 170, 40), (245, 205, 60), (140, 95, 55)


def image_bytes(fmt, size=(64, 48), colour=MILLET, **options):
    """A small photo in fmt (JPEG, PNG or WEBP): a colour with a band, so that no two colours give the same bytes."""
    img = Image.new("RGB", size, colour)
    for x in range(size[0]):
        img.putpixel((x, size[1] // 2), (x * 4 % 256, 30, 90))
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def png_claiming(width, height):
    """A PNG whose header claims width x height (a decompression bomb's first bytes) with one small IDAT."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) +
            png_chunk(b"IEND", b""))


class Images(lb.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.coop_id, cls.coop = s.create_merchant("coop", "武乡县岭头小米专业合作社")
        cls.other_id, cls.other = s.create_merchant("coop", "沁县玉米合作社")
        cls.host_id, cls.host = s.create_merchant("host", "长治直播间·太行好物")

    # -- helpers ------------------------------------------------------------------------------------------------------

    def new_product(self, token=None, title="武乡小米 当季新米"):
        skus = [{"name": "2.5kg 袋装", "price_cents": 3980, "stock": 100, "weight_grams": 2600}]
        return self.server.create_product(token or self.coop, skus, title=title)

    def upload(self, product_id, data, token=None, content_type="image/jpeg", headers=None):
        hdrs = {"Content-Type": content_type}
        hdrs.update(headers or {})
        return self.server.request("POST", "/v1/products/%d/images" % product_id, raw=data,
                                   token=token or self.coop, headers=hdrs)

    def uploaded(self, product_id, data, token=None):
        status, _, body = self.upload(product_id, data, token)
        self.assertEqual(status, 201, body)
        return body

    def images(self, product_id):
        status, _, body = self.server.request("GET", "/v1/products/%d" % product_id)
        self.assertEqual(status, 200, body)
        return body["images"]

    def files(self):
        """The files under the media folder, as names relative to it (temporary files included)."""
        root = self.server.media_dir
        found = set()
        for folder, _, names in os.walk(root):
            for name in names:
                found.add(os.path.relpath(os.path.join(folder, name), root))
        return found

    def rows(self):
        return int(lb.sql_value(self.sock, self.dbname, "SELECT COUNT(*) FROM product_images"))

    def assertRefusedLeavingNothing(self, answer, status, code, *words, what=""):
        """answer is the refusal, and the folder and the table are as they were before it."""
        self.assertError(answer, status, code, *words, what=what)
        self.assertEqual(self.files(), self.files_before, what)
        self.assertEqual(self.rows(), self.rows_before, what)

    def setUp(self):
        self.files_before, self.rows_before = self.files(), self.rows()

    def media(self, url, headers=None, method="GET"):
        hdrs = {"Cache-Control": None}
        hdrs.update(headers or {})
        return self.server.request(method, url, headers=hdrs)

    # -- uploads --------------------------------------------------------------------------------------------------------

    def test_good_files_of_each_type_are_stored_by_hash_and_served(self):
        product = self.new_product()
        for fmt, type_, ext, options in [("JPEG", "jpeg", "jpg", {"quality": 85}), ("PNG", "png", "png", {}),
                                          ("WEBP", "webp", "webp", {"quality": 80}), ("JPEG", "jpeg", "jpg",
                                                                                      {"progressive": True})]:
            data = image_bytes(fmt, (120, 90), colour=(len(options) * 50, 100, 20), **options)
            digest = hashlib.sha256(data).hexdigest()
            image = self.uploaded(product["id"], data)
            self.assertEqual((image["type"], image["sha256"], image["bytes"], image["width"], image["height"]),
                             (type_, digest, len(data), 120, 90), fmt)
            self.assertEqual(image["url"], "/media/%s/%s.%s" % (digest[:2], digest, ext))
            with open(os.path.join(self.server.media_dir, digest[:2], "%s.%s" % (digest, ext)), "rb") as f:
                self.assertEqual(f.read(), data, "the file holds the bytes sent")

            status, headers, body = self.media(image["url"])
            self.assertEqual(status, 200)
            self.assertEqual(body, data)
            self.assertEqual(headers["content-type"], "image/" + type_)
            self.assertEqual(headers["etag"], '"%s"' % digest)
            self.assertEqual(headers["cache-control"], "public, max-age=31536000, immutable")
            self.assertEqual(headers["x-content-type-options"], "nosniff")
            self.assertEqual(int(headers["content-length"]), len(data))
            status, headers, body = self.media(image["url"], {"If-None-Match": '"%s"' % digest})
            self.assertEqual((status, body), (304, b""))
            self.assertEqual(headers["etag"], '"%s"' % digest)
            self.assertEqual(self.media(image["url"], {"If-None-Match": '"%s"' % ("0" * 64)})[0], 200)
            # "*" is not taken on the name alone: a photo that is not there is a 404, not a year-long 304
            missing = "/media/%s/%s.%s" % ("0" * 2, "0" * 64, ext)
            self.assertEqual(self.media(missing, {"If-None-Match": "*"})[0], 404)
            status, headers, body = self.media(image["url"], method="HEAD")
            self.assertEqual((status, body, int(headers["content-length"])), (200, b"", len(data)))
        listed = self.images(product["id"])
        self.assertEqual([i["position"] for i in listed], [0, 1, 2, 3])
        self.assertEqual([i["type"] for i in listed], ["jpeg", "png", "webp", "jpeg"])

    def test_the_type_comes_from_the_bytes_not_the_content_type(self):
        product = self.new_product()
        image = self.uploaded(product["id"], image_bytes("PNG"), token=None)
        self.assertEqual(image["type"], "png")
        status, _, body = self.upload(product["id"], image_bytes("WEBP"), content_type="application/octet-stream")
        self.assertEqual((status, body["type"]), (201, "webp"))

    def test_same_bytes_are_one_file_and_go_with_the_last_row(self):
        data = image_bytes("PNG", colour=WALNUT)
        first, second = self.new_product(), self.new_product(title="沁州黄小米")
        a = self.uploaded(first["id"], data)
        status, _, again = self.upload(first["id"], data)
        self.assertEqual((status, again["id"]), (200, a["id"]), "the same photo again on a product is that photo")
        b = self.uploaded(second["id"], data)
        name = a["url"][len("/media/"):]
        self.assertEqual(self.files() - self.files_before, {name})
        self.assertEqual(lb.sql_value(self.sock, self.dbname, "SELECT COUNT(*) FROM media_files WHERE sha256 = '%s'"
                                      % a["sha256"]), "1", "one file, one media_files row")
        self.assertEqual(self.rows(), self.rows_before + 2)

        status, _, body = self.server.request("DELETE", "/v1/products/%d/images/%d" % (first["id"], a["id"]),
                                              token=self.coop)
        self.assertEqual((status, body["images"]), (200, []))
        self.assertIn(name, self.files(), "the other product's row still names the file")
        self.assertEqual(self.media(b["url"])[0], 200)
        status, _, body = self.server.request("DELETE", "/v1/products/%d/images/%d" % (second["id"], b["id"]),
                                              token=self.coop)
        self.assertEqual(status, 200, body)
        self.assertNotIn(name, self.files(), "no row names it: the file is gone")
        self.assertEqual(lb.sql_value(self.sock, self.dbname, "SELECT COUNT(*) FROM media_files WHERE sha256 = '%s'"
                                      % a["sha256"]), "0", "and its media_files row")
        self.assertError(self.media(b["url"]), 404, "not_found")
        self.assertEqual(self.rows(), self.rows_before)

    def test_uploads_and_deletes_of_the_same_bytes_at_once_never_leave_a_row_without_its_file(self):
        """Rounds of: product A uploads the bytes that product B shows while B deletes them, at the same instant. After
        each the file is there exactly when a row names it (with the product rows' locks alone, under READ COMMITTED, a
        delete removed the file of an upload that had found it there)."""
        a, b = self.new_product(), self.new_product(title="沁州黄小米")
        auth = {"Authorization": "Bearer " + self.coop, "Content-Type": "image/png"}
        for round_ in range(25):
            data = image_bytes("PNG", colour=(round_ * 20, 200, 7))
            on_b = self.uploaded(b["id"], data)
            name = on_b["url"][len("/media/"):]
            answers = self.server.requests_at_once([
                ("POST", "/v1/products/%d/images" % a["id"], data, auth),
                ("DELETE", "/v1/products/%d/images/%d" % (b["id"], on_b["id"]), None, auth),
            ])
            self.assertEqual([answer[0] for answer in answers], [201, 200], answers)
            rows = int(lb.sql_value(self.sock, self.dbname,
                                    "SELECT COUNT(*) FROM product_images WHERE sha256 = '%s'" % on_b["sha256"]))
            self.assertEqual(rows, 1, "round %d: A's row" % round_)
            self.assertIn(name, self.files(), "round %d: A's row names the file, which is there" % round_)
            self.assertEqual(self.media(on_b["url"])[0], 200)
            status, _, body = self.server.request("DELETE", "/v1/products/%d/images/%d" % (a["id"], answers[0][1]["id"]),
                                                  token=self.coop)
            self.assertEqual(status, 200, body)
            self.assertNotIn(name, self.files(), "round %d: no row, no file" % round_)
        self.assertFalse([f for f in self.files() if f.endswith(".tmp")], "no temporary file is left")

    # -- refusals -------------------------------------------------------------------------------------------------------

    def test_a_renamed_text_file_is_415(self):
        product = self.new_product()
        text = "这不是图片，是一段文字。\n".encode() * 20
        self.assertRefusedLeavingNothing(self.upload(product["id"], text), 415, "unsupported_media_type", "JPEG, PNG or WebP",
                                         what="text named .jpg")
        self.assertRefusedLeavingNothing(self.upload(product["id"], b""), 415, "unsupported_media_type", what="empty")
        gif = b"GIF89a" + b"\0" * 40
        self.assertRefusedLeavingNothing(self.upload(product["id"], gif, content_type="image/gif"), 415,
                                         "unsupported_media_type", what="a GIF")

    def test_truncated_and_corrupt_files_are_refused(self):
        product = self.new_product()
        for fmt in ("PNG", "JPEG", "WEBP"):
            data = image_bytes(fmt, (200, 150))
            half = data[:len(data) // 2]
            self.assertRefusedLeavingNothing(self.upload(product["id"], half), 422, "invalid_image", "not whole",
                                             what="%s cut in half" % fmt)
        # A byte of the PNG's image data changed: its CRC no longer matches.
        data = bytearray(image_bytes("PNG", (200, 150)))
        idat = data.index(b"IDAT")
        data[idat + 10] ^= 0xff
        self.assertRefusedLeavingNothing(self.upload(product["id"], bytes(data)), 422, "invalid_image", what="PNG CRC")
        # A JPEG whose entropy-coded data is garbage after its headers.
        data = bytearray(image_bytes("JPEG", (200, 150)))
        sos = data.index(b"\xff\xda")
        for i in range(sos + 20, len(data) - 2):
            data[i] = 0xff if i % 7 == 0 else 0x00
        self.assertRefusedLeavingNothing(self.upload(product["id"], bytes(data)), 422, "invalid_image", what="JPEG data")

    def test_too_many_pixels_is_refused_before_decoding(self):
        product = self.new_product()
        self.assertRefusedLeavingNothing(self.upload(product["id"], png_claiming(30000, 30000)), 422, "too_many_pixels",
                                         "30000 x 30000", what="a decompression bomb")

    def test_over_2_mib_is_413(self):
        product = self.new_product()
        big = image_bytes("PNG") + b"\0" * (2 * 1024 * 1024)
        self.assertRefusedLeavingNothing(self.upload(product["id"], big), 413, "too_large", "2097152", what="2 MiB + a bit")
        # Refused on Content-Length alone: the answer comes before any of the body is sent.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as conn:
            conn.sendall(("POST /v1/products/%d/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                          "Content-Type: image/jpeg\r\nContent-Length: 52428800\r\n\r\n" % (product["id"], self.coop)).encode())
            head = conn.recv(4096).decode("latin-1")
        self.assertTrue(head.startswith("HTTP/1.1 413"), head)
        self.assertEqual(self.files(), self.files_before)
        self.assertEqual(self.rows(), self.rows_before)
        # Exactly 2 MiB is taken by the size check (and refused here only because it is not an image).
        self.assertRefusedLeavingNothing(self.upload(product["id"], b"x" * (2 * 1024 * 1024)), 415, "unsupported_media_type")

    def test_eight_a_product_and_the_ninth_is_409(self):
        product = self.new_product()
        for i in range(8):
            self.uploaded(product["id"], image_bytes("PNG", colour=(i * 30, 10, 10)))
        self.files_before, self.rows_before = self.files(), self.rows()
        self.assertRefusedLeavingNothing(self.upload(product["id"], image_bytes("PNG", colour=(1, 2, 3))), 409,
                                         "too_many_images", "8", what="the ninth")
        self.assertEqual(len(self.images(product["id"])), 8)

    def test_another_coops_product_and_no_token(self):
        product = self.new_product()
        image = self.uploaded(product["id"], image_bytes("PNG", colour=CORN))
        self.files_before, self.rows_before = self.files(), self.rows()
        path = "/v1/products/%d/images" % product["id"]
        self.assertRefusedLeavingNothing(self.upload(product["id"], image_bytes("JPEG"), token=self.other), 403,
                                         "forbidden", what="upload")
        self.assertRefusedLeavingNothing(self.server.request("PATCH", "%s/%d" % (path, image["id"]), {"position": 0},
                                                             token=self.other), 403, "forbidden", what="move")
        self.assertRefusedLeavingNothing(self.server.request("DELETE", "%s/%d" % (path, image["id"]), token=self.other),
                                         403, "forbidden", what="delete")
        self.assertRefusedLeavingNothing(self.server.request("POST", path, raw=image_bytes("JPEG"),
                                                             headers={"Content-Type": "image/jpeg"}), 401, "unauthorized")
        self.assertRefusedLeavingNothing(self.upload(999999, image_bytes("JPEG")), 404, "not_found", "999999")
        self.assertRefusedLeavingNothing(self.server.request("DELETE", "%s/999999" % path, token=self.coop), 404,
                                         "not_found", "no photo 999999")
        # A photo of another product of the same co-op is not this product's.
        other_product = self.new_product()
        self.assertRefusedLeavingNothing(self.server.request("DELETE", "/v1/products/%d/images/%d" % (other_product["id"],
                                                                                                      image["id"]),
                                                             token=self.coop), 404, "not_found", what="wrong product")
        self.assertEqual(self.images(product["id"])[0]["id"], image["id"])

    def test_a_retired_product_keeps_its_photos_and_takes_no_new_ones(self):
        product = self.new_product()
        image = self.uploaded(product["id"], image_bytes("WEBP", colour=MILLET))
        status, _, body = self.server.request("POST", "/v1/products/%d/retire" % product["id"], token=self.coop)
        self.assertEqual(status, 200, body)
        self.assertEqual([i["id"] for i in body["images"]], [image["id"]])
        self.assertEqual(body["photo_url"], image["url"])
        self.assertEqual(self.media(image["url"])[0], 200)
        self.files_before, self.rows_before = self.files(), self.rows()
        self.assertRefusedLeavingNothing(self.upload(product["id"], image_bytes("PNG")), 409, "retired", what="new photo")

    # -- order and delete -----------------------------------------------------------------------------------------------

    def test_order_is_set_by_position_and_delete_closes_the_gap(self):
        product = self.new_product()
        ids = [self.uploaded(product["id"], image_bytes("PNG", colour=(10, i * 40, 10)))["id"] for i in range(4)]
        path = "/v1/products/%d/images/" % product["id"]
        status, _, body = self.server.request("PATCH", path + str(ids[3]), {"position": 0}, token=self.coop)
        self.assertEqual(status, 200, body)
        self.assertEqual([i["id"] for i in body["images"]], [ids[3], ids[0], ids[1], ids[2]])
        status, _, body = self.server.request("PATCH", path + str(ids[3]), {"position": 2}, token=self.coop)
        self.assertEqual([i["id"] for i in body["images"]], [ids[0], ids[1], ids[3], ids[2]])
        self.assertEqual([i["position"] for i in body["images"]], [0, 1, 2, 3])
        self.assertEqual([i["id"] for i in self.images(product["id"])], [ids[0], ids[1], ids[3], ids[2]])
        for bad, status_, code in [({"position": 4}, 422, "invalid"), ({"position": -1}, 422, "invalid"),
                                   ({"position": "0"}, 422, "invalid"), ({}, 422, "invalid"),
                                   ({"position": 0, "id": 3}, 422, "invalid")]:
            got = self.server.request("PATCH", path + str(ids[0]), bad, token=self.coop)
            self.assertEqual(got[0], status_, (bad, got))
        self.assertEqual([i["id"] for i in self.images(product["id"])], [ids[0], ids[1], ids[3], ids[2]])
        status, _, body = self.server.request("DELETE", path + str(ids[1]), token=self.coop)
        self.assertEqual([(i["id"], i["position"]) for i in body["images"]], [(ids[0], 0), (ids[3], 1), (ids[2], 2)])
        self.assertEqual(self.rows(), self.rows_before + 3)

    # -- /media -------------------------------------------------------------------------------------------------------

    def test_media_names_that_are_not_a_hash_are_404(self):
        product = self.new_product()
        image = self.uploaded(product["id"], image_bytes("JPEG", colour=CORN))
        digest = image["sha256"]
        for path in ["/media/", "/media/%s" % digest, "/media/%s/%s.gif" % (digest[:2], digest),
                     "/media/%s/%s.jpg" % (digest[:2], digest.upper()), "/media/00/%s.jpg" % digest,
                     "/media/%s/%s.jpg/x" % (digest[:2], digest), "/media/../sql/001_schema.sql",
                     "/media/%2e%2e/%2e%2e/etc/passwd", "/media/%s/../%s/%s.jpg" % (digest[:2], digest[:2], digest[:-1]),
                     "/media/%s/%s.png" % (digest[:2], digest)]:
            status, headers, body = self.media(path)
            self.assertEqual(status, 404, path)
            self.assertEqual(lb.error_code(body), "not_found", path)
            self.assertNotIn("cache-control", headers, path)
        self.assertEqual(self.server.request("POST", image["url"], raw=b"x")[0], 405)

    # -- the first photo in the answers that show a product ---------------------------------------------------------------

    def test_answers_that_show_a_product_carry_its_first_photo(self):
        s = self.server
        product = self.new_product(token=self.host, title="沁州黄小米")
        sku_id = product["skus"][0]["id"]
        self.assertIsNone(product["photo_url"])
        status, _, live = s.request("POST", "/v1/lives", {"title": "今晚八点 小米专场", "starts_at": 1700000000},
                                    token=self.host)
        self.assertEqual(status, 201, live)
        item = {"sku_id": sku_id, "price_cents": 3990, "quota": 10, "per_buyer_limit": 5, "opens_at": 0}
        self.assertEqual(s.request("POST", "/v1/lives/%d/items" % live["id"], item, token=self.host)[0], 201)
        anonymous = {"Cache-Control": None}
        # Viewers read the live and the SKU (the public answer cache keeps these for 250 ms).
        self.assertIsNone(s.request("GET", "/v1/lives/%d" % live["id"], headers=anonymous)[2]["items"][0]["photo_url"])
        self.assertIsNone(s.request("GET", "/v1/skus/%d" % sku_id, headers=anonymous)[2]["photo_url"])

        first = self.uploaded(product["id"], image_bytes("JPEG", colour=MILLET), token=self.host)
        second = self.uploaded(product["id"], image_bytes("PNG", colour=CORN), token=self.host)
        time.sleep(0.3)
        self.assertEqual(s.request("GET", "/v1/lives/%d" % live["id"], headers=anonymous)[2]["items"][0]["photo_url"],
                         first["url"], "a new photo shows once the public cache's 250 ms are over")
        self.assertEqual(s.request("GET", "/v1/skus/%d" % sku_id, headers=anonymous)[2]["photo_url"], first["url"])
        self.assertEqual(s.request("GET", "/v1/products/%d" % product["id"])[2]["photo_url"], first["url"])
        status, _, page = s.request("GET", "/v1/merchant/products", token=self.host)
        self.assertEqual([p["photo_url"] for p in page["products"] if p["id"] == product["id"]], [first["url"]])

        s.request("PATCH", "/v1/products/%d/images/%d" % (product["id"], second["id"]), {"position": 0}, token=self.host)
        self.assertEqual(s.request("GET", "/v1/lives/%d" % live["id"])[2]["items"][0]["photo_url"], second["url"])
        self.assertEqual(s.request("GET", "/v1/skus/%d" % sku_id)[2]["photo_url"], second["url"])

    def test_a_group_buy_carries_its_produce_photo(self):
        s = self.server
        product = self.new_product()
        image = self.uploaded(product["id"], image_bytes("WEBP", colour=WALNUT))
        point_id = s.create_pickup_point(self.coop, {"name": "岭头村村级服务站", "county": "武乡县", "township": "丰州镇",
                                                     "village": "岭头村", "address": "岭头村村委会旁"})
        body = {"sku_id": product["skus"][0]["id"], "pickup_point_id": point_id, "price_cents": 3500, "min_qty": 5,
                "per_buyer_limit": 3, "closes_at": int(time.time()) + 3600}
        status, _, gb = s.request("POST", "/v1/group-buys", body, token=self.coop)
        self.assertEqual(status, 201, gb)
        status, _, got = s.request("GET", "/v1/group-buys/%d" % gb["id"])
        self.assertEqual(got["photo_url"], image["url"])
        status, _, page = s.request("GET", "/v1/group-buys", token=self.coop)
        self.assertEqual([g["photo_url"] for g in page["group_buys"] if g["id"] == gb["id"]], [image["url"]])


class MediaDir(lb.ServerTestCase):
    """--media-dir is made at start, with its parents; a folder livebuyd cannot use stops it there."""

    def test_made_at_start_and_refused_when_unusable(self):
        folder = os.path.join(self.server.logdir, "a", "b", "photos")
        blocker = os.path.join(self.server.logdir, "blocker")
        with open(blocker, "w") as f:
            f.write("a file, not a folder")
        server = lb.Server(self.url, self.server_args + ["--media-dir", folder])
        try:
            self.assertTrue(os.path.isdir(folder))
        finally:
            server.stop()
        code, _, err = lb.run_livebuyd(["--db", self.url, "--listen", "127.0.0.1:%d" % lb.free_port(), "--media-dir",
                                        os.path.join(blocker, "photos")])
        self.assertEqual(code, 2, err)
        self.assertIn("--media-dir", err)

    def test_a_full_disk_is_507_and_stores_nothing(self):
        """Photos on a file system with no room left (a 64 KiB tmpfs; skipped where this user cannot mount one): 507
        insufficient_storage, no row, no file, not even the temporary one, and the reason in the log; a photo that
        fits is stored."""
        folder = os.path.join(self.server.logdir, "photos-full")
        os.makedirs(folder)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "livebuy-test-full", folder],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if mounted.returncode != 0:
            self.skipTest("cannot mount a small tmpfs here (%s)" % mounted.stdout.strip())
        server = None
        try:
            server = lb.Server(self.url, self.server_args + ["--media-dir", folder])
            _, coop = server.create_merchant("coop")
            product = server.create_product(coop)["id"]
            count = lambda: lb.sql_value(self.sock, self.dbname,
                                         "SELECT COUNT(*) FROM product_images WHERE product_id = %d" % product)
            # Noise does not compress: a photo of some 77 KiB for a 64 KiB disk.
            out = io.BytesIO()
            Image.frombytes("RGB", (160, 160), os.urandom(160 * 160 * 3)).save(out, "PNG")
            noisy, photo = out.getvalue(), image_bytes("PNG", colour=(40, 160, 60))
            status, _, body = server.request("POST", "/v1/products/%d/images" % product, raw=noisy, token=coop,
                                             headers={"Content-Type": "image/png"})
            self.assertEqual((status, lb.error_code(body)), (507, "insufficient_storage"), body)
            self.assertEqual(count(), "0")
            self.assertEqual([f for _, _, files in os.walk(folder) for f in files], [])
            self.assertIn("No space left on device", server.log())
            status, _, body = server.request("POST", "/v1/products/%d/images" % product, raw=photo, token=coop,
                                             headers={"Content-Type": "image/png"})
            self.assertEqual(status, 201, body)
            self.assertEqual(count(), "1")
        finally:
            if server is not None:
                server.stop()
            subprocess.run(["umount", folder])

    def test_temporary_files_of_stopped_uploads_are_removed_at_start(self):
        """A .tmp an upload left when its process stopped mid-write goes at the next start once it is over an hour
        old; a younger one (another process's upload under way) and every other file stay."""
        folder = os.path.join(self.server.logdir, "photos-tmp")
        sub = os.path.join(folder, "ab")
        os.makedirs(sub)
        stale, young = os.path.join(sub, ".ab12.4242.1.tmp"), os.path.join(sub, ".ab34.4243.1.tmp")
        other, not_ours = os.path.join(sub, "ab" + "0" * 62 + ".jpg"), os.path.join(folder, ".elsewhere.tmp")
        for path in (stale, young, other, not_ours):
            with open(path, "wb") as f:
                f.write(b"half a photo")
        two_hours_ago = time.time() - 7200
        for path in (stale, other, not_ours):
            os.utime(path, (two_hours_ago, two_hours_ago))
        server = lb.Server(self.url, self.server_args + ["--media-dir", folder])
        try:
            self.assertEqual(sorted(os.listdir(sub)), sorted([os.path.basename(young), os.path.basename(other)]))
            self.assertTrue(os.path.exists(not_ours))
            self.assertIn("media: removed 1 temporary file left by a stopped upload", server.log())
        finally:
            server.stop()


if __name__ == "__main__":
    lb.main()
