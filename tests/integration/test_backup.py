#!/usr/bin/env python3
"""Backups (scripts/backup.sh): a backup taken while buyers order holds every order committed before it and is
consistent (each SKU's counters are the sum of its orders); restored into a new MariaDB with its photos, livebuyd runs
on it and sells on; what a backup or a restore refuses leaves everything as it was. Real MariaDB, real HTTP."""
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import lb
from lb import buyer_token
from test_images import image_bytes

BACKUP_SH = os.path.join(lb.SOURCE_DIR, "scripts", "backup.sh")
SHIP_TO = {"name": "王小梅", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇岭头村12号"}


def backup_sh(*args):
    proc = subprocess.run(["bash", BACKUP_SH] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)
    return proc.returncode, proc.stdout


class BackupTest(lb.ServerTestCase):
    private_mariadb = True  # the backup reads the server's data folder: one of the class's own

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="lbbk-", dir="/tmp")
        _, cls.coop = cls.server.create_merchant("coop")
        product = cls.server.create_product(cls.coop, [
            {"name": "2.5kg 袋装", "price_cents": 3980, "stock": 100000, "weight_grams": 2600},
            {"name": "5kg 袋装", "price_cents": 6980, "stock": 100000, "weight_grams": 5150}])
        cls.product_id = product["id"]
        cls.sku_ids = [s["id"] for s in product["skus"]]
        cls.photo = image_bytes("PNG")
        status, _, body = cls.server.request("POST", "/v1/products/%d/images" % cls.product_id, raw=cls.photo,
                                             token=cls.coop, headers={"Content-Type": "image/png"})
        assert status == 201, body
        cls.photo_url = body["url"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def order(self, server, buyer, sku_id):
        status, _, body = server.request("POST", "/v1/orders", {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO},
                                         token=buyer_token(buyer))
        self.assertEqual(status, 201, body)
        return body["id"]

    def counters_match_orders(self, sock, database):
        """Each SKU's reserved and sold are the sum of its orders' quantities by status (none is half there)."""
        rows = lb.sql(sock, database, """
            SELECT s.id, s.reserved, s.sold,
                   (SELECT COALESCE(SUM(qty), 0) FROM orders o WHERE o.sku_id = s.id AND o.status = 'reserved'),
                   (SELECT COALESCE(SUM(qty), 0) FROM orders o WHERE o.sku_id = s.id AND o.status IN ('paid', 'handed_off'))
            FROM skus s WHERE s.id IN (%s)""" % ",".join(map(str, self.sku_ids)))
        for sku_id, reserved, sold, orders_reserved, orders_sold in rows:
            self.assertEqual((reserved, sold), (orders_reserved, orders_sold), "SKU %s" % sku_id)

    def test_a_backup_taken_during_orders_restores_and_sells_on(self):
        before = [self.order(self.server, 700 + i, self.sku_ids[i % 2]) for i in range(20)]

        # Buyers keep ordering, on a connection of their own, while the backup runs.
        during, stop = [], threading.Event()

        def keep_ordering():
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
            i = 0
            while not stop.is_set():
                body = json.dumps({"sku_id": self.sku_ids[i % 2], "qty": 1, "ship_to": SHIP_TO})
                conn.request("POST", "/v1/orders", body, {"Authorization": "Bearer " + buyer_token(800 + i % 50),
                                                          "Content-Type": "application/json"})
                resp = conn.getresponse()
                answer = json.loads(resp.read())
                if resp.status == 201:
                    during.append(answer["id"])
                i += 1
            conn.close()

        orderer = threading.Thread(target=keep_ordering)
        orderer.start()
        dest = os.path.join(self.tmp, "backup")
        try:
            code, out = backup_sh("save", dest, "--db-dir", self.mdb.dir, "--media-dir", self.server.media_dir)
        finally:
            stop.set()
            orderer.join(60)
        self.assertEqual(code, 0, out)
        self.assertGreater(len(during), 0, "no order was made during the backup")
        after = [self.order(self.server, 900 + i, self.sku_ids[0]) for i in range(5)]
        with open(os.path.join(dest, "livebuy-backup.txt")) as f:
            self.assertIn("(photos: 1)", f.read())

        # Not over a database that is there: refused before anything is copied.
        code, out = backup_sh("restore", dest, self.mdb.dir)
        self.assertEqual(code, 1, out)
        self.assertIn("holds a database already", out)
        self.assertTrue(self.mdb.is_up())

        dbdir, media = os.path.join(self.tmp, "db"), os.path.join(self.tmp, "media")
        code, out = backup_sh("restore", dest, dbdir, "--media-dir", media)
        self.assertEqual(code, 0, out)
        sock = os.path.join(dbdir, "mysqld.sock")
        self.assertIn("mysql://root@localhost/%s?socket=%s" % (self.dbname, sock), out)
        try:
            ids = {int(r[0]) for r in lb.sql(sock, self.dbname, "SELECT id FROM orders")}
            self.assertLessEqual(set(before), ids, "an order committed before the backup is missing")
            self.assertFalse(set(after) & ids, "an order made after the backup is in it")
            self.assertLessEqual(ids, set(before) | set(during), "an order nobody made")
            self.counters_match_orders(sock, self.dbname)

            restored = lb.Server(lb.db_url(sock, self.dbname), list(self.server_args) + ["--media-dir", media])
            try:
                status, _, body = restored.request("GET", "/v1/orders/%d" % before[0], token=buyer_token(700))
                self.assertEqual((status, body["id"]), (200, before[0]), body)
                status, _, body = restored.request("GET", self.photo_url, headers={"Cache-Control": None})
                self.assertEqual(status, 200)
                self.assertEqual(hashlib.sha256(body).hexdigest(), hashlib.sha256(self.photo).hexdigest())
                new = self.order(restored, 950, self.sku_ids[1])
                self.assertNotIn(new, ids, "the restored order ids went back")
                self.counters_match_orders(sock, self.dbname)
                self.assertEqual(restored.stop(), 0)
            finally:
                if restored.running():
                    restored.kill()
        finally:
            subprocess.run(["bash", lb.MARIADB_SH, "stop", dbdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def test_save_in_keeps_the_newest_whole_backups(self):
        """save-in names each backup by its time and keeps the newest --keep whole ones; an unfinished one older than
        those goes too, a younger one (maybe under way) and folders of other names stay."""
        parent = os.path.join(self.tmp, "nightly")
        os.makedirs(os.path.join(parent, "2000-01-01T000000Z"))      # unfinished, old
        os.makedirs(os.path.join(parent, "2999-01-01T000000Z"))      # unfinished, newer than any: under way
        os.makedirs(os.path.join(parent, "keep-me"))
        taken = []
        for _ in range(3):
            before = set(os.listdir(parent))
            code, out = backup_sh("save-in", parent, "--keep", "2", "--db-dir", self.mdb.dir,
                                  "--media-dir", self.server.media_dir)
            self.assertEqual(code, 0, out)
            [new] = set(os.listdir(os.path.join(parent))) - before
            self.assertRegex(new, r"^\d{4}-\d\d-\d\dT\d{6}Z$")
            taken.append(new)
            time.sleep(1.1)  # one a second at most
        self.assertEqual(sorted(os.listdir(parent)), sorted(taken[1:] + ["2999-01-01T000000Z", "keep-me"]))
        code, out = backup_sh("save-in", parent, "--keep", "0", "--db-dir", self.mdb.dir)
        self.assertEqual(code, 1, out)
        self.assertIn("--keep must be a whole number from 1 to 9999", out)

    def test_refusals_change_nothing(self):
        dest = os.path.join(self.tmp, "refusals")
        os.makedirs(os.path.join(dest, "something"))
        code, out = backup_sh("save", dest, "--db-dir", self.mdb.dir)
        self.assertEqual(code, 1, out)
        self.assertIn("is not empty: a backup goes into a new folder", out)
        self.assertEqual(os.listdir(dest), ["something"])

        code, out = backup_sh("save", os.path.join(self.tmp, "nodb"), "--db-dir", os.path.join(self.tmp, "nowhere"))
        self.assertEqual(code, 1, out)
        self.assertIn("no MariaDB answers on", out)

        code, out = backup_sh("restore", dest, os.path.join(self.tmp, "db2"))
        self.assertEqual(code, 1, out)
        self.assertIn("is not a backup of scripts/backup.sh save", out)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "db2")))

        os.makedirs(os.path.join(dest, "db"))
        with open(os.path.join(dest, "livebuy-backup.txt"), "w") as f:
            f.write("livebuy backup\n")
        code, out = backup_sh("restore", dest, self.mdb.dir)
        self.assertEqual(code, 1, out)
        self.assertIn("was not prepared", out)

        code, out = backup_sh("save", dest, "--bogus", "1")
        self.assertEqual(code, 1, out)
        self.assertIn("unknown option --bogus", out)
        code, out = backup_sh("copy", dest)
        self.assertEqual(code, 2, out)
        self.assertIn("Usage: scripts/backup.sh save DEST", out)
        self.assertTrue(self.mdb.is_up())


if __name__ == "__main__":
    unittest.main()
