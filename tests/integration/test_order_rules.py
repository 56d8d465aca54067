"""One rule, one answer: an order refused because its live item is not open yet, or its group-buy is closed, gets the same
status, code and message whichever part of the order path finds it: the routing on a cold cache (the target looked up
now), the routing on a warm cache (the target known from an earlier order), or the batch (the cache let it through).
The batch is reached by changing the target's times in the database after the cache learnt them: the cache then still
thinks the target takes orders, and only the batch, which reads the row under its lock, refuses. Real HTTP against a
real MariaDB, one loop thread (so the second order meets the cache the first one filled)."""

import itertools
import time

import lb

SHIP_TO = {"name": "张三", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇"}
STATION = {"name": "岭头村服务站", "county": "武乡县", "township": "韩北乡", "village": "岭头村", "address": "村委会东侧"}

_buyers = itertools.count(500000)


class OrderRulesTest(lb.ServerTestCase):
    server_args = lb.ServerTestCase.server_args + ["--threads", "1"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")[1]
        cls.host_id, cls.host = cls.server.create_merchant("host", "长治直播间")
        cls.point_id = cls.server.create_pickup_point(cls.coop, STATION)

    def new_sku(self):
        skus = [{"name": "武乡小米 2.5kg 礼盒", "price_cents": 5990, "stock": 100, "weight_grams": 2700}]
        return self.server.create_product(self.coop, skus, title="武乡小米")["skus"][0]["id"]

    def new_live_item(self, opens_at):
        status, _, live = self.server.request("POST", "/v1/lives", {"title": "今晚八点 小米专场", "starts_at": 1700000000},
                                              token=self.host)
        self.assertEqual(status, 201, live)
        sku_id = self.new_sku()
        self.server.accepted_offer(self.coop, self.host, self.host_id, sku_id)
        item = {"sku_id": sku_id, "price_cents": 3990, "quota": 10, "per_buyer_limit": 5, "opens_at": opens_at}
        status, _, body = self.server.request("POST", "/v1/lives/%d/items" % live["id"], item, token=self.host)
        self.assertEqual(status, 201, body)
        return body["id"]

    def new_group_buy(self):
        body = {"sku_id": self.new_sku(), "pickup_point_id": self.point_id, "price_cents": 4990, "min_qty": 50,
                "per_buyer_limit": 5, "closes_at": int(time.time()) + 3600}
        status, _, gb = self.server.request("POST", "/v1/group-buys", body, token=self.coop)
        self.assertEqual(status, 201, gb)
        return gb["id"]

    def order(self, body):
        """(status, code, message) of a refused order, or (201, None, None)."""
        status, _, answer = self.server.request("POST", "/v1/orders", body, token=lb.buyer_token(next(_buyers)))
        if status == 201:
            return status, None, None
        return (status,) + lb.error_parts(answer)

    def test_live_item_not_open(self):
        opens_at = int(time.time()) + 3600
        early = {"live_item_id": self.new_live_item(opens_at), "qty": 1, "ship_to": SHIP_TO}
        cold = self.order(early)
        warm = self.order(early)

        # The cache learns an open item; then the item's opening moves to the same time as the other's.
        item_id = self.new_live_item(0)
        moved = {"live_item_id": item_id, "qty": 1, "ship_to": SHIP_TO}
        self.assertEqual(self.order(moved)[0], 201)
        self.sql("UPDATE live_items SET opens_at = %d WHERE id = %d" % (opens_at, item_id))
        batch = self.order(moved)

        self.assertEqual(cold[:2], (409, "conflict"), cold)
        self.assertIn("not open yet", cold[2])
        self.assertEqual(warm, cold, "a warm cache answers otherwise than a cold one")
        self.assertEqual(batch, cold, "the batch answers otherwise than the routing's cache")

    def test_group_buy_closed(self):
        closed_at = int(time.time()) - 10
        closed_id = self.new_group_buy()
        self.sql("UPDATE group_buys SET closes_at = %d WHERE id = %d" % (closed_at, closed_id))
        cold = self.order({"group_buy_id": closed_id, "qty": 1})
        warm = self.order({"group_buy_id": closed_id, "qty": 1})

        # The cache learns an open campaign; then its cut-off moves into the past, to the same time as the other's.
        gb_id = self.new_group_buy()
        self.assertEqual(self.order({"group_buy_id": gb_id, "qty": 1})[0], 201)
        self.sql("UPDATE group_buys SET closes_at = %d WHERE id = %d" % (closed_at, gb_id))
        batch = self.order({"group_buy_id": gb_id, "qty": 1})

        self.assertEqual(cold[:2], (409, "conflict"), cold)
        self.assertIn("closed", cold[2])
        self.assertEqual(warm, cold, "a warm cache answers otherwise than a cold one")
        self.assertEqual(batch, cold, "the batch answers otherwise than the routing's cache")


if __name__ == "__main__":
    lb.main()
