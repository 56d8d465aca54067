#!/usr/bin/env python3
"""The buyers' index of orders (sql/015_buyer_orders.sql, server/jobs/buyer_index.c): every order gets its row in
buyer_orders after the fact, from the order directory's blocks, whatever process made it; no order is left out."""
import json
import time
import unittest

import lb
from lb import buyer_token

SHIP_TO = {"name": "王小梅", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇岭头村12号"}


class BuyerIndexTest(lb.ServerTestCase):

    def wait_listed(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while self.sql("SELECT COUNT(*) FROM order_blocks WHERE listed = 0") != [("0",)]:
            self.assertLess(time.monotonic(), deadline, "blocks still not listed")
            time.sleep(0.05)

    def test_every_order_is_listed_for_its_buyer(self):
        _, coop = self.server.create_merchant("coop")
        sku_id = self.server.create_product(coop, [{"name": "2.5kg", "price_cents": 100, "stock": 1000,
                                                    "weight_grams": 1}])["skus"][0]["id"]
        # A burst of orders from 40 buyers at once (batches of many blocks), then a second server on the same database.
        body = json.dumps({"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}).encode()
        requests = [("POST", "/v1/orders", body, {"Authorization": "Bearer " + buyer_token(500 + i % 40),
                                                  "Content-Type": "application/json"}) for i in range(150)]
        answers = self.server.requests_at_once(requests)
        self.assertTrue(all(a is not None and a[0] == 201 for a in answers), answers[:3])
        with lb.Server(self.url, list(self.server_args)) as other:
            for i in range(5):
                status, _, body = other.request("POST", "/v1/orders", {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO},
                                                token=buyer_token(600))
                self.assertEqual(status, 201, body)
            self.wait_listed()
        expected = self.sql("SELECT buyer_id, id, sku_id FROM orders WHERE sku_id = %d ORDER BY buyer_id, id" % sku_id)
        listed = self.sql("SELECT buyer_id, order_id, sku_id FROM buyer_orders WHERE sku_id = %d ORDER BY buyer_id, order_id"
                          % sku_id)
        self.assertEqual(len(expected), 155)
        self.assertEqual(listed, expected)

    def test_orders_spread_over_many_skus(self):
        """300 SKUs with an order or two each: blocks shared by the SKUs of a transaction (sql/021), listed many to a
        transaction (and with --shards 4, the blocks of one shard each), every order in its buyer's list."""
        with lb.Server(self.url, list(self.server_args) + ["--shards", "4"]) as sharded:
            _, coop = sharded.create_merchant("coop")
            skus = []
            for _ in range(10):
                skus += [s["id"] for s in sharded.create_product(coop, [
                    {"name": "%d 号" % i, "price_cents": 100, "stock": 10, "weight_grams": 1} for i in range(30)])["skus"]]
            commits_before = int(self.sql("SHOW GLOBAL STATUS LIKE 'Com_commit'")[0][1])
            requests = []
            for i, sku_id in enumerate(skus + skus[::3]):
                body = json.dumps({"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}).encode()
                requests.append(("POST", "/v1/orders", body, {"Authorization": "Bearer " + buyer_token(700 + i % 50),
                                                              "Content-Type": "application/json"}))
            for start in range(0, len(requests), 100):
                answers = sharded.requests_at_once(requests[start:start + 100])
                self.assertTrue(all(a is not None and a[0] == 201 for a in answers), answers[:3])
            self.wait_listed()
            commits = int(self.sql("SHOW GLOBAL STATUS LIKE 'Com_commit'")[0][1]) - commits_before
        where = "sku_id BETWEEN %d AND %d" % (min(skus), max(skus))
        expected = self.sql("SELECT buyer_id, id, sku_id FROM orders WHERE %s ORDER BY buyer_id, id" % where)
        listed = self.sql("SELECT buyer_id, order_id, sku_id FROM buyer_orders WHERE %s ORDER BY buyer_id, order_id" % where)
        self.assertEqual(len(expected), 400)
        self.assertEqual(listed, expected)
        blocks = int(self.sql("SELECT COUNT(*) FROM order_blocks WHERE %s" % where)[0][0])
        several = int(self.sql("SELECT COUNT(*) FROM order_blocks WHERE skus IS NOT NULL AND %s" % where)[0][0])
        self.assertGreater(several, 0, "no block holds orders of several SKUs")
        # Listing them took far fewer transactions than one per SKU (those of the orders' batches included).
        self.assertLess(commits, 300, "%d commits for %d blocks" % (commits, blocks))


if __name__ == "__main__":
    unittest.main()
