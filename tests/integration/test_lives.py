"""Lives and order reads: POST /v1/lives, POST /v1/lives/{id}/items (the quota taken from the SKU's stock),
GET /v1/lives/{id}, GET /v1/orders/{id}, POST /v1/orders/{id}/cancel (stock returned exactly) and
GET /v1/merchant/orders. Real HTTP against a real MariaDB."""

import itertools
import json
import re
import subprocess
import tempfile
import threading
import time
import unittest

import lb

TIME_MAX = lb.TIME_MAX
SHIP_TO = {"name": "张三", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇"}

_keys = itertools.count(1)
buyer_token, error_code = lb.buyer_token, lb.error_code


class Base(lb.ServerTestCase):
    """One database and one livebuyd (with a buyer secret) shared by the tests of a class."""

    server_args = ["--buyer-secret", lb.BUYER_SECRET]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.host_id, cls.host = s.create_merchant("host", "长治直播间")
        cls.other_host_id, cls.other_host = s.create_merchant("host", "太原直播间")
        cls.coop_id, cls.coop = s.create_merchant("coop", "武乡小米合作社")
        cls.other_coop_id, cls.other_coop = s.create_merchant("coop", "沁县合作社")
        cls.shipper_id, cls.shipper = s.create_merchant("shipper", "县乡村物流")

    # -- helpers ------------------------------------------------------------------------------------------------------

    def assertError(self, answer, status, code, field=None, what=""):
        got, _, body = answer
        self.assertEqual(got, status, "%s: expected %d, got %d %r" % (what, status, got, body))
        got_code, message = error_code(body), body["error"]["message"]
        self.assertEqual(got_code, code, "%s: %r" % (what, message))
        if field is not None:
            self.assertIn(field, message, "%s: the message should name %s" % (what, field))
        return message

    def new_sku(self, stock=100, token=None, price_cents=5990):
        """A fresh product of the co-op (or token's merchant) with one SKU; returns the SKU id. The co-op's comes with
        its accepted offer to the host, so that the host can put it on air."""
        skus = [{"name": "2.5kg 礼盒", "price_cents": price_cents, "stock": stock, "weight_grams": 2700}]
        sku_id = self.server.create_product(token or self.coop, skus, title="武乡小米")["skus"][0]["id"]
        if token is None:
            self.server.accepted_offer(self.coop, self.host, self.host_id, sku_id)
        return sku_id

    def new_live(self, token=None, title="今晚八点 小米专场"):
        status, _, body = self.server.request("POST", "/v1/lives", {"title": title, "starts_at": 1700000000},
                                              token=token or self.host)
        self.assertEqual(status, 201, body)
        return body["id"]

    def item_body(self, sku_id, **changes):
        body = {"sku_id": sku_id, "price_cents": 3990, "quota": 10, "per_buyer_limit": 5, "opens_at": 0}
        body.update(changes)
        return body

    def new_item(self, live_id, sku_id, **changes):
        status, _, body = self.server.request("POST", "/v1/lives/%d/items" % live_id, self.item_body(sku_id, **changes),
                                              token=self.host)
        self.assertEqual(status, 201, body)
        return body

    def reserve(self, buyer, qty, **target):
        """Reserves through POST /v1/orders (target: sku_id=... or live_item_id=...); returns the order id."""
        body = dict(target, qty=qty, ship_to=SHIP_TO)
        status, _, answer = self.server.request("POST", "/v1/orders", body, token=buyer_token(buyer),
                                                headers={"Idempotency-Key": "lives-%d" % next(_keys)})
        self.assertEqual(status, 201, answer)
        return answer["id"]

    def counters(self, sku_id):
        """What a cancellation must restore: the SKU as GET /v1/skus shows it."""
        sku = self.server.sku(sku_id)
        return {k: sku[k] for k in ("stock", "reserved", "sold", "held", "available")}

    def live(self, live_id):
        status, _, body = self.server.request("GET", "/v1/lives/%d" % live_id)
        self.assertEqual(status, 200, body)
        return body


class LiveTest(Base):

    def test_create_live(self):
        s = self.server
        status, _, body = s.request("POST", "/v1/lives", {"title": "长治直播间 · 沁州黄专场", "starts_at": 1700000000},
                                    token=self.host)
        self.assertEqual(status, 201, body)
        self.assertEqual(body["title"], "长治直播间 · 沁州黄专场")
        self.assertEqual(body["starts_at"], 1700000000)
        self.assertEqual(self.sql("SELECT merchant_id FROM lives WHERE id = %d" % body["id"]), [(str(self.host_id),)])
        for starts_at in (0, TIME_MAX):
            self.assertEqual(s.request("POST", "/v1/lives", {"title": "x" * 200, "starts_at": starts_at}, token=self.host)[0], 201)

    def test_create_live_refusals(self):
        s = self.server
        before = self.sql("SELECT COUNT(*) FROM lives")
        good = {"title": "专场", "starts_at": 1700000000}
        self.assertError(s.request("POST", "/v1/lives", good, token=self.coop), 403, "forbidden", what="co-op")
        self.assertError(s.request("POST", "/v1/lives", good, token=self.shipper), 403, "forbidden", what="shipper")
        self.assertError(s.request("POST", "/v1/lives", good), 401, "unauthorized", what="no token")
        self.assertError(s.request("POST", "/v1/lives", good, token="no-such-token"), 401, "unauthorized", what="bad token")
        self.assertError(s.request("POST", "/v1/lives", good, token=buyer_token(7)), 401, "unauthorized", what="buyer")
        for what, body, field in [
            ("no title", {"starts_at": 1}, "title"),
            ("empty title", {"title": "", "starts_at": 1}, "title"),
            ("long title", {"title": "长" * 201, "starts_at": 1}, "title"),
            ("title type", {"title": 5, "starts_at": 1}, "title"),
            ("no starts_at", {"title": "x"}, "starts_at"),
            ("negative starts_at", {"title": "x", "starts_at": -1}, "starts_at"),
            ("late starts_at", {"title": "x", "starts_at": TIME_MAX + 1}, "starts_at"),
            ("starts_at type", {"title": "x", "starts_at": "soon"}, "starts_at"),
        ]:
            self.assertError(s.request("POST", "/v1/lives", body, token=self.host), 422, "invalid", field, what)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM lives"), before)

    def test_items_take_their_quota_from_stock(self):
        sku_id = self.new_sku(stock=100)
        live_id = self.new_live()
        item = self.new_item(live_id, sku_id, quota=30, reserve_ttl=60)
        self.assertEqual({k: item[k] for k in ("live_id", "sku_id", "price_cents", "quota", "per_buyer_limit", "opens_at",
                                                "available")},
                         {"live_id": live_id, "sku_id": sku_id, "price_cents": 3990, "quota": 30, "per_buyer_limit": 5,
                          "opens_at": 0, "available": 30})
        self.assertEqual(self.counters(sku_id), {"stock": 100, "reserved": 0, "sold": 0, "held": 30, "available": 70})
        self.assertEqual(self.sql("SELECT reserve_ttl FROM live_items WHERE id = %d" % item["id"]), [("60",)])

        message = self.assertError(self.server.request("POST", "/v1/lives/%d/items" % live_id,
                                                       self.item_body(sku_id, quota=71), token=self.host),
                                   409, "conflict", what="quota past the stock")
        self.assertIn("only 70 available", message)
        second = self.new_item(live_id, sku_id, quota=70)
        self.assertEqual(self.sql("SELECT reserve_ttl FROM live_items WHERE id = %d" % second["id"]), [(None,)])
        self.assertEqual(self.counters(sku_id)["available"], 0)
        self.assertError(self.server.request("POST", "/v1/lives/%d/items" % live_id, self.item_body(sku_id, quota=1),
                                             token=self.host), 409, "conflict", what="nothing left")
        self.assertEqual(self.counters(sku_id), {"stock": 100, "reserved": 0, "sold": 0, "held": 100, "available": 0})

    def test_item_refusals(self):
        s = self.server
        sku_id = self.new_sku(stock=10)
        live_id = self.new_live()
        path = "/v1/lives/%d/items" % live_id
        good = self.item_body(sku_id, quota=1)
        self.assertError(s.request("POST", path, good, token=self.other_host), 403, "forbidden", what="another host's live")
        self.assertError(s.request("POST", path, good, token=self.coop), 403, "forbidden", what="co-op")
        self.assertError(s.request("POST", path, good), 401, "unauthorized", what="no token")
        self.assertError(s.request("POST", "/v1/lives/999999/items", good, token=self.host), 404, "not_found",
                         what="unknown live")
        self.assertError(s.request("POST", path, self.item_body(999999), token=self.host), 422, "invalid", "sku_id",
                         what="unknown SKU")
        for field, values in [
            ("sku_id", [None, 0, -1, "1"]),
            ("price_cents", [None, -1, 10000000001, 1.5]),
            ("quota", [None, 0, 1000000001]),
            ("per_buyer_limit", [None, 0, 10001]),
            ("opens_at", [None, -1, TIME_MAX + 1, "now"]),
            ("reserve_ttl", [9, 604801, "1h"]),
        ]:
            for value in values:
                body = self.item_body(sku_id)
                if value is None:
                    del body[field]
                else:
                    body[field] = value
                self.assertError(s.request("POST", path, body, token=self.host), 422, "invalid", field,
                                 "%s = %r" % (field, value))
        self.assertEqual(self.sql("SELECT COUNT(*) FROM live_items WHERE live_id = %d" % live_id), [("0",)])
        self.assertEqual(self.counters(sku_id)["held"], 0)
        # Limits are inclusive; the host puts the co-op's SKU on air under the co-op's offer.
        self.new_item(live_id, sku_id, price_cents=0, quota=10, per_buyer_limit=10000, opens_at=TIME_MAX, reserve_ttl=604800)

    def test_get_live(self):
        s = self.server
        self.assertError(s.request("GET", "/v1/lives/999999"), 404, "not_found")
        live_id = self.new_live(title="空直播间")
        self.assertEqual(self.live(live_id), {"id": live_id, "title": "空直播间", "starts_at": 1700000000, "items": []})
        first, second = self.new_sku(stock=50), self.new_sku(stock=50)
        a = self.new_item(live_id, second, quota=5, per_buyer_limit=2, opens_at=123)
        b = self.new_item(live_id, first, quota=7, price_cents=100)
        items = self.live(live_id)["items"]
        self.assertEqual([i["id"] for i in items], [a["id"], b["id"]])
        self.assertEqual(items[0], {"id": a["id"], "sku_id": second, "title": "武乡小米 2.5kg 礼盒", "price_cents": 3990,
                                    "quota": 5, "available": 5, "per_buyer_limit": 2, "opens_at": 123, "closed": False,
                                    "photo_url": None})
        status, headers, packed = s.request("GET", "/v1/lives/%d" % live_id, accept="application/msgpack")
        self.assertEqual((status, headers["content-type"]), (200, "application/msgpack"))
        self.assertEqual(packed, self.live(live_id))


    def test_first_orders_of_an_item_wait_for_one_look_up(self):
        """200 orders at once (h2load: 200 streams of one HTTP/2 connection, read by the server in one go) for a live
        item this livebuyd has not seen: one database look-up of where it draws from, not one per order (a live item's
        first seconds on air), and every order answered."""
        item = self.new_item(self.new_live(), self.new_sku(stock=300), quota=300, per_buyer_limit=5)

        def counts():
            text = self.server.metrics()
            return [float(re.search(r"^%s (\S+)$" % name, text, re.M).group(1))
                    for name in ("livebuy_db_job_duration_seconds_count", "livebuy_batches_total")]

        with tempfile.NamedTemporaryFile("w", suffix=".json") as body:
            json.dump({"live_item_id": item["id"], "qty": 1, "ship_to": SHIP_TO}, body)
            body.flush()
            jobs_before, batches_before = counts()
            out = subprocess.run(["h2load", "-n", "200", "-c", "1", "-m", "200", "-d", body.name, "-H",
                                  "content-type: application/json", "-H", "authorization: Bearer " + buyer_token(600),
                                  self.server.base_url + "/v1/orders"], capture_output=True, text=True, timeout=60).stdout
            jobs_after, batches_after = counts()
        # One buyer: five orders within the per-buyer limit, the rest refused for it.
        self.assertIn("status codes: 5 2xx, 0 3xx, 195 4xx, 0 5xx", out, out)
        self.assertEqual(int(self.sql("SELECT reserved FROM live_items WHERE id = %d" % item["id"])[0][0]), 5)
        # Database jobs besides the batches: the one look-up, and at most a few of the sweeper's and closer's (each
        # runs once a second). With a look-up per order, each order the server read before the first answer came made
        # its own: 100 of them in a run of this test.
        self.assertLessEqual((jobs_after - jobs_before) - (batches_after - batches_before), 5)


    def test_anonymous_reads_of_a_live_may_be_a_quarter_second_old(self):
        """GET /v1/lives/{id} without credentials is answered again from the thread's last answer for 250 ms (no
        database job: thousands of viewers poll it); with Cache-Control: no-cache, or a token, it is read afresh."""
        s = self.server
        live_id = self.new_live()
        item = self.new_item(live_id, self.new_sku(stock=100), quota=10)
        path, viewer = "/v1/lives/%d" % live_id, {"Cache-Control": None}

        def hits():
            return float(re.search(r"^livebuy_public_cache_hits_total (\S+)$", s.metrics(), re.M).group(1))

        def available(answer):
            self.assertEqual(answer[0], 200, answer)
            return answer[2]["items"][0]["available"]

        started = time.monotonic()
        self.assertEqual(available(s.request("GET", path, headers=viewer)), 10)
        self.assertEqual(available(s.request("GET", path, headers=viewer, accept="application/msgpack")), 10)
        before = hits()
        self.reserve(7, 2, live_item_id=item["id"])
        seen = available(s.request("GET", path, headers=viewer))
        if time.monotonic() - started < 0.2:  # on a machine slow enough to take longer, the answer is fresh already
            self.assertEqual((seen, hits() - before), (10, 1))
        self.assertEqual(available(s.request("GET", path)), 8)  # no-cache
        self.assertEqual(available(s.request("GET", path, token=self.host, headers=viewer)), 8)
        self.assertEqual(available(s.request("GET", path, headers={"Cache-Control": "max-age=0"})), 8)
        time.sleep(0.3)
        self.assertEqual(available(s.request("GET", path, headers=viewer)), 8)
        self.assertEqual(available(s.request("GET", path, headers=viewer, accept="application/msgpack")), 8)


class CloseItemTest(Base):
    """POST /v1/live-items/{id}/close: the quota a live item did not sell goes back to the SKU."""

    def close(self, item_id, token=None):
        return self.server.request("POST", "/v1/live-items/%d/close" % item_id, token=token or self.host)

    def test_close_gives_unsold_quota_back(self):
        sku_id = self.new_sku(stock=50)
        live_id = self.new_live()
        item = self.new_item(live_id, sku_id, quota=20)
        kept = self.reserve(31, 3, live_item_id=item["id"])
        released_later = self.reserve(32, 2, live_item_id=item["id"])
        self.assertEqual(self.counters(sku_id), {"stock": 50, "reserved": 5, "sold": 0, "held": 15, "available": 30})
        self.assertIs(self.live(live_id)["items"][0]["closed"], False)

        status, _, closed = self.close(item["id"])
        self.assertEqual(status, 200, closed)
        self.assertEqual((closed["released"], closed["quota"], closed["available"], closed["closed"]), (15, 5, 0, True))
        # The public view says the item is off air (not sold out) once its answer cache (250 ms) has moved on.
        deadline = time.monotonic() + 2
        while not self.live(live_id)["items"][0]["closed"] and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIs(self.live(live_id)["items"][0]["closed"], True)
        self.assertEqual(self.counters(sku_id), {"stock": 50, "reserved": 5, "sold": 0, "held": 0, "available": 45})
        # Off air: the item sells nothing more (conflict, not sold out); its released reservations go to the SKU, not
        # back to the item.
        status, _, body = self.server.request("POST", "/v1/orders", {"live_item_id": item["id"], "qty": 1, "ship_to": SHIP_TO},
                                              token=buyer_token(33))
        self.assertEqual(self.assertError((status, None, body), 409, "conflict"), "live item %d is off air" % item["id"])
        status, _, order = self.server.request("POST", "/v1/orders/%d/cancel" % released_later, token=buyer_token(32))
        self.assertEqual(status, 200, order)
        self.assertEqual(self.counters(sku_id), {"stock": 50, "reserved": 3, "sold": 0, "held": 0, "available": 47})
        self.assertEqual(self.sql("SELECT reserved, sold, quota FROM live_items WHERE id = %d" % item["id"]), [("3", "0", "3")])
        self.assertEqual(self.live(live_id)["items"][0]["available"], 0)
        # Direct orders get the stock that came back.
        self.reserve(34, 47, sku_id=sku_id)
        self.assertEqual(self.counters(sku_id)["available"], 0)
        self.assertTrue(kept)

    def test_off_air_is_not_sold_out(self):
        """An item that sold out answers sold_out, from the database and then from the lane's hint; once closed it
        answers 409 conflict "off air", from the database and from the hint too (the same connection at once, with
        and without the buyer's own key), and a key that got stock still replays."""
        item = self.new_item(self.new_live(), self.new_sku(stock=50), quota=2)

        def order(buyer, key=None):
            headers = {"Idempotency-Key": key} if key is not None else None
            return self.server.request("POST", "/v1/orders", {"live_item_id": item["id"], "qty": 2, "ship_to": SHIP_TO},
                                       token=buyer_token(buyer), headers=headers)

        status, _, first = order(41, key="off-air-kept")
        self.assertEqual(status, 201, first)
        for buyer, key in [(42, None), (43, None), (44, "off-air-44")]:  # the database, then the lane's hint
            self.assertEqual(self.assertError(order(buyer, key), 409, "sold_out", what="sold out"), "sold out")
        self.assertEqual(self.close(item["id"])[0], 200)
        for buyer, key in [(45, None), (46, None), (47, "off-air-47"), (48, None)]:  # the database, then the hint
            answer = order(buyer, key)
            message = self.assertError(answer, 409, "conflict", what="off air, key %r" % key)
            self.assertEqual((message, answer[2]["error"]["reason"]), ("live item %d is off air" % item["id"], "off_air"))
        status, headers, again = order(41, key="off-air-kept")
        self.assertEqual((status, again["id"], headers.get("idempotent-replayed")), (201, first["id"], "true"), again)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM orders WHERE live_item_id = %d" % item["id"]), [("1",)])

    def test_close_refusals(self):
        sku_id = self.new_sku(stock=10)
        item = self.new_item(self.new_live(), sku_id, quota=5)
        self.assertError(self.close(item["id"], token=self.other_host), 403, "forbidden", what="another host")
        self.assertError(self.close(item["id"], token=self.other_coop), 403, "forbidden", what="another co-op")
        self.assertError(self.close(item["id"], token=self.shipper), 403, "forbidden", what="a shipper")
        self.assertError(self.server.request("POST", "/v1/live-items/%d/close" % item["id"]), 401, "unauthorized")
        self.assertError(self.close(999999), 404, "not_found")
        self.assertEqual(self.counters(sku_id)["held"], 5)
        self.assertEqual(self.close(item["id"])[0], 200)
        self.assertError(self.close(item["id"]), 409, "conflict", what="closed twice")
        self.assertEqual(self.counters(sku_id), {"stock": 10, "reserved": 0, "sold": 0, "held": 0, "available": 10})


class OrderTest(Base):

    def test_get_own_order_only(self):
        s = self.server
        sku_id = self.new_sku()
        order_id = self.reserve(7, 2, sku_id=sku_id)
        status, _, order = s.request("GET", "/v1/orders/%d" % order_id, token=buyer_token(7))
        self.assertEqual(status, 200, order)
        self.assertEqual(order["status"], "reserved")
        self.assertEqual({k: order[k] for k in ("id", "sku_id", "live_item_id", "group_buy_id", "qty", "unit_price_cents",
                                                "amount_cents", "ship_to", "pickup_point_id")},
                         {"id": order_id, "sku_id": sku_id, "live_item_id": None, "group_buy_id": None, "qty": 2,
                          "unit_price_cents": 5990, "amount_cents": 11980, "ship_to": SHIP_TO, "pickup_point_id": None})
        self.assertGreater(order["expires_at"], order["created_at"])
        self.assertNotIn("buyer_id", order)
        self.assertError(s.request("GET", "/v1/orders/%d" % order_id, token=buyer_token(8)), 404, "not_found",
                         what="another buyer's order")
        self.assertError(s.request("GET", "/v1/orders/999999", token=buyer_token(7)), 404, "not_found", what="no order")
        self.assertError(s.request("GET", "/v1/orders/%d" % order_id), 401, "unauthorized", what="no token")
        self.assertError(s.request("GET", "/v1/orders/%d" % order_id, token=buyer_token(7, secret="wrong")), 401,
                         "unauthorized", what="bad signature")
        self.assertError(s.request("GET", "/v1/orders/%d" % order_id, token=buyer_token(7, expiry=1000)), 401,
                         "unauthorized", what="expired")
        self.assertError(s.request("GET", "/v1/orders/%d" % order_id, token=self.coop), 401, "unauthorized",
                         what="merchant token")

    def test_cancel_returns_sku_stock_exactly(self):
        s = self.server
        sku_id = self.new_sku(stock=20)
        self.reserve(9, 1, sku_id=sku_id)
        before = self.counters(sku_id)
        order_id = self.reserve(7, 3, sku_id=sku_id)
        self.assertEqual(self.counters(sku_id)["available"], before["available"] - 3)

        self.assertError(s.request("POST", "/v1/orders/%d/cancel" % order_id, token=buyer_token(8)), 404, "not_found",
                         what="another buyer cancels")
        self.assertError(s.request("POST", "/v1/orders/%d/cancel" % order_id), 401, "unauthorized", what="no token")
        self.assertEqual(self.counters(sku_id)["available"], before["available"] - 3)

        status, _, order = s.request("POST", "/v1/orders/%d/cancel" % order_id, token=buyer_token(7))
        self.assertEqual(status, 200, order)
        self.assertEqual((order["id"], order["status"], order["qty"]), (order_id, "cancelled", 3))
        self.assertEqual(self.counters(sku_id), before)
        self.assertEqual(s.request("GET", "/v1/orders/%d" % order_id, token=buyer_token(7))[2]["status"], "cancelled")

        message = self.assertError(s.request("POST", "/v1/orders/%d/cancel" % order_id, token=buyer_token(7)), 409,
                                   "conflict", what="cancelled twice")
        self.assertIn("cancelled", message)
        self.assertEqual(self.counters(sku_id), before)
        self.assertError(s.request("POST", "/v1/orders/999999/cancel", token=buyer_token(7)), 404, "not_found")

    def test_cancel_returns_units_to_the_live_items_quota(self):
        sku_id = self.new_sku(stock=50)
        live_id = self.new_live()
        item = self.new_item(live_id, sku_id, quota=10)
        before = self.counters(sku_id)
        order_id = self.reserve(7, 4, live_item_id=item["id"])
        self.assertEqual(self.counters(sku_id), dict(before, reserved=4, held=6))
        self.assertEqual(self.live(live_id)["items"][0]["available"], 6)

        status, _, order = self.server.request("POST", "/v1/orders/%d/cancel" % order_id, token=buyer_token(7))
        self.assertEqual(status, 200, order)
        self.assertEqual((order["status"], order["live_item_id"]), ("cancelled", item["id"]))
        self.assertEqual(self.counters(sku_id), before)
        self.assertEqual(self.live(live_id)["items"][0]["available"], 10)
        self.assertEqual(self.sql("SELECT reserved, sold, quota FROM live_items WHERE id = %d" % item["id"]), [("0", "0", "10")])
        # The returned units can be reserved again through the live item, up to the buyer's limit.
        self.reserve(7, 5, live_item_id=item["id"])
        self.assertEqual(self.live(live_id)["items"][0]["available"], 5)

    def test_only_reserved_orders_can_be_cancelled(self):
        sku_id = self.new_sku(stock=10)
        # An order's id comes from a block of the order directory, as livebuyd takes them (sql/005_order_blocks.sql).
        order_id = int(self.sql("INSERT INTO order_blocks (first_id, sku_id, size) VALUES (NEXTVAL(order_ids), %d, 1) "
                                "RETURNING first_id" % sku_id)[0][0])
        self.sql("INSERT INTO orders (id, sku_id, buyer_id, qty, amount_cents, status, pickup_point_id, expires_at, "
                 "created_at) VALUES (%d, %d, 7, 1, 5990, 'paid', 5, 0, 1)" % (order_id, sku_id))
        before = self.counters(sku_id)
        message = self.assertError(self.server.request("POST", "/v1/orders/%d/cancel" % order_id, token=buyer_token(7)),
                                   409, "conflict", what="paid order")
        self.assertIn("paid", message)
        self.assertEqual(self.counters(sku_id), before)
        status, _, order = self.server.request("GET", "/v1/orders/%d" % order_id, token=buyer_token(7))
        self.assertEqual((status, order["status"], order["ship_to"], order["pickup_point_id"]), (200, "paid", None, 5))

    def test_cancel_takes_an_optional_body(self):
        sku_id = self.new_sku(stock=10)
        for body in (None, {}, {"reason": "买错了"}):
            order_id = self.reserve(7, 1, sku_id=sku_id)
            status, _, order = self.server.request("POST", "/v1/orders/%d/cancel" % order_id, body, token=buyer_token(7))
            self.assertEqual((status, order.get("status")), (200, "cancelled"), order)
        self.assertEqual(self.counters(sku_id)["available"], 10)

    def test_cancel_lets_a_sold_out_sku_sell_again_at_once(self):
        sku_id = self.new_sku(stock=2)
        order_id = self.reserve(7, 2, sku_id=sku_id)
        status, _, body = self.server.request("POST", "/v1/orders", {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO},
                                              token=buyer_token(8), headers={"Idempotency-Key": "sold-out-%d" % sku_id})
        self.assertEqual((status, body["error"]["code"]), (409, "sold_out"))
        self.assertEqual(self.server.request("POST", "/v1/orders/%d/cancel" % order_id, token=buyer_token(7))[0], 200)
        self.reserve(8, 1, sku_id=sku_id)  # no stale sold-out hint in the lane
        self.assertEqual(self.counters(sku_id), {"stock": 2, "reserved": 1, "sold": 0, "held": 0, "available": 1})

    def test_concurrent_reservations_and_cancellations_keep_the_counters_exact(self):
        sku_id = self.new_sku(stock=40)
        item = self.new_item(self.new_live(), sku_id, quota=20, per_buyer_limit=10000)
        failures = []

        def call(conn, method, path, body, buyer, key=None):
            headers = {"Authorization": "Bearer " + buyer_token(buyer), "Content-Type": "application/json"}
            if key:
                headers["Idempotency-Key"] = key
            conn.request(method, path, body=json.dumps(body).encode(), headers=headers)
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read() or b"{}")

        def buyer_loop(buyer):
            conn = self.server.connection()
            try:
                for i in range(12):
                    target = {"live_item_id": item["id"]} if i % 2 else {"sku_id": sku_id}
                    status, body = call(conn, "POST", "/v1/orders", dict(target, qty=1 + i % 3, ship_to=SHIP_TO), buyer,
                                        "race-%d-%d" % (buyer, i))
                    if status == 201 and i % 3 != 2:
                        status, body = call(conn, "POST", "/v1/orders/%d/cancel" % body["id"], {}, buyer)
                        if status != 200:
                            failures.append(("cancel", status, body))
                    elif status not in (201, 409):
                        failures.append(("reserve", status, body))
            finally:
                conn.close()

        threads = [threading.Thread(target=buyer_loop, args=(100 + n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(failures, [])
        live_reserved = int(self.sql("SELECT COALESCE(SUM(qty), 0) FROM orders WHERE sku_id = %d AND status = 'reserved' "
                                     "AND live_item_id IS NOT NULL" % sku_id)[0][0])
        all_reserved = int(self.sql("SELECT COALESCE(SUM(qty), 0) FROM orders WHERE sku_id = %d AND status = 'reserved'"
                                    % sku_id)[0][0])
        self.assertEqual(self.sql("SELECT reserved FROM live_items WHERE id = %d" % item["id"]), [(str(live_reserved),)])
        self.assertEqual(self.counters(sku_id), {"stock": 40, "reserved": all_reserved, "sold": 0, "held": 20 - live_reserved,
                                                 "available": 20 - (all_reserved - live_reserved)})


class MerchantOrdersTest(Base):

    def page(self, token, query=""):
        status, _, body = self.server.request("GET", "/v1/merchant/orders" + query, token=token)
        self.assertEqual(status, 200, body)
        return body

    def test_pages_of_own_orders(self):
        mine = self.new_sku(stock=100)
        theirs = self.new_sku(stock=100, token=self.other_coop)
        ids = []
        for buyer in (7, 8, 7, 9, 8):
            ids.append(self.reserve(buyer, 1, sku_id=mine))
            self.reserve(buyer, 1, sku_id=theirs)
        cancelled = ids[1]
        self.assertEqual(self.server.request("POST", "/v1/orders/%d/cancel" % cancelled, token=buyer_token(8))[0], 200)

        everything = self.page(self.coop)
        self.assertEqual([o["id"] for o in everything["orders"]], ids)
        self.assertIsNone(everything["next"])
        first = everything["orders"][0]
        self.assertEqual((first["buyer_id"], first["sku_id"], first["status"], first["ship_to"]), (7, mine, "reserved", SHIP_TO))

        seen, after = [], 0
        while True:
            page = self.page(self.coop, "?limit=2&after=%d" % after)
            seen += [o["id"] for o in page["orders"]]
            if page["next"] is None:
                self.assertLess(len(page["orders"]), 2)
                break
            self.assertEqual(len(page["orders"]), 2)
            self.assertEqual(page["next"], page["orders"][-1]["id"])
            after = page["next"]
        self.assertEqual(seen, ids)

        self.assertEqual([o["id"] for o in self.page(self.coop, "?status=cancelled")["orders"]], [cancelled])
        self.assertEqual([o["id"] for o in self.page(self.coop, "?status=reserved&after=%d" % ids[2])["orders"]], ids[3:])
        self.assertEqual(self.page(self.coop, "?status=paid"), {"orders": [], "next": None})
        self.assertEqual(self.page(self.host), {"orders": [], "next": None})
        full = self.page(self.coop, "?limit=5")
        self.assertEqual((len(full["orders"]), full["next"]), (5, ids[-1]))
        self.assertEqual(self.page(self.coop, "?after=%d" % ids[-1]), {"orders": [], "next": None})

    def test_refusals(self):
        s = self.server
        path = "/v1/merchant/orders"
        for query in ("?status=bogus", "?status=", "?live_id=1", "?limit=5&limit=6"):
            self.assertError(s.request("GET", path + query, token=self.coop), 400, "invalid_query", query[1:].split("=")[0])
        for query, field in [("?limit=0", "limit"),
                             ("?limit=201", "limit"), ("?limit=abc", "limit"), ("?limit=-1", "limit"), ("?limit=", "limit"),
                             ("?after=-1", "after"), ("?after=x", "after"), ("?after=99999999999999999999", "after"),
                             ("?limit=10&after=1.5", "after")]:
            self.assertError(s.request("GET", path + query, token=self.coop), 422, "invalid", field, query)
        self.assertError(s.request("GET", path), 401, "unauthorized", what="no token")
        self.assertError(s.request("GET", path, token=buyer_token(7)), 401, "unauthorized", what="buyer")
        self.assertError(s.request("GET", path, token=self.shipper), 403, "forbidden", what="shipper")
        self.assertEqual(s.request("GET", path + "?limit=200&after=0", token=self.host)[0], 200)


if __name__ == "__main__":
    lb.main()
