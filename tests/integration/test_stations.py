"""Village stations: a station merchant bound to pickup points sees the shipments coming to them, their pick lists, and
marks each order collected once its shipment is delivered (another station's, no station's or an address's shipment
403, not delivered 409, twice the same 200, the order collected, the co-op's counts). Real HTTP against a real
MariaDB."""

import itertools
import json
import time

import lb

SHIPPING_SECRET = "test-shipping-secret-stations-0123"
POINT = {"name": "岭头村村级服务站", "county": "武乡县", "township": "丰州镇", "village": "岭头村",
         "address": "岭头村村委会旁便民服务站"}
CLOSE_WAIT = 8  # seconds past a cut-off within which the closer must have run

_keys = itertools.count(1)
buyer_token, error_code = lb.buyer_token, lb.error_code


class StationTest(lb.ServerTestCase):
    server_args = lb.ServerTestCase.server_args + ["--shipping-secret", SHIPPING_SECRET]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coop_id, cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")
        cls.station_id, cls.station = cls.server.create_merchant("station", "岭头村服务站 王大姐")
        cls.other_station_id, cls.other_station = cls.server.create_merchant("station", "韩北村服务站")
        cls.point_id = cls.server.create_pickup_point(cls.coop, dict(POINT, station_id=cls.station_id))
        cls.other_point_id = cls.server.create_pickup_point(cls.coop, dict(POINT, name="韩北村服务站",
                                                                            station_id=cls.other_station_id))
        skus = [{"name": "5kg 袋装", "price_cents": 8990, "stock": 1000, "weight_grams": 5000}]
        cls.sku_id = cls.server.create_product(cls.coop, skus, title="武乡小米")["skus"][0]["id"]

    # -- helpers ------------------------------------------------------------------------------------------------------

    def pay(self, order):
        raw = json.dumps({"order_id": order["id"], "provider_txn_id": "sttxn-%d" % order["id"],
                          "amount_cents": order["amount_cents"]}).encode()
        status, _, answer = self.server.request("POST", "/v1/payments/notify", raw=raw, headers=lb.signed(raw))
        self.assertEqual((status, answer.get("status")), (200, "paid"), answer)

    def order(self, buyer, body):
        status, _, order = self.server.request("POST", "/v1/orders", body, token=buyer_token(buyer),
                                               headers={"Idempotency-Key": "st-%d" % next(_keys)})
        self.assertEqual(status, 201, order)
        return order

    def paid_direct_order(self, buyer, point_id, qty=1):
        """A direct order collected at point_id, paid: its shipment is made at once. Returns (order, shipment id)."""
        order = self.order(buyer, {"sku_id": self.sku_id, "qty": qty, "pickup_point_id": point_id})
        self.pay(order)
        return order, int(self.sql("SELECT shipment_id FROM shipment_orders WHERE order_id = %d" % order["id"])[0][0])

    def event(self, shipment_id, type_):
        raw = json.dumps({"type": type_, "tracking_no": "YZ%d" % shipment_id}).encode()
        status, _, answer = self.server.request("POST", "/v1/shipments/%d/events" % shipment_id, raw=raw,
                                                headers=lb.signed(raw, secret=SHIPPING_SECRET))
        self.assertEqual(status, 200, answer)

    def collect(self, shipment_id, order_id, token=None):
        return self.server.request("POST", "/v1/shipments/%d/collect" % shipment_id, {"order_id": order_id},
                                   token=token or self.station)

    def pick_list(self, shipment_id, token=None):
        return self.server.request("GET", "/v1/shipments/%d/pick-list" % shipment_id, token=token or self.station)

    def order_status(self, order_id):
        return self.sql("SELECT status FROM orders WHERE id = %d" % order_id)[0][0]

    def campaign_with_paid_joins(self, joins):
        """A campaign at the station's point, joined by each (buyer, qty) and paid, closed as succeeded: (its id, the
        orders, its consolidated shipment's id)."""
        body = {"sku_id": self.sku_id, "pickup_point_id": self.point_id, "price_cents": 6990, "min_qty": 2,
                "per_buyer_limit": 5, "closes_at": int(time.time()) + 3}
        status, _, gb = self.server.request("POST", "/v1/group-buys", body, token=self.coop)
        self.assertEqual(status, 201, gb)
        orders = [self.order(buyer, {"group_buy_id": gb["id"], "qty": qty}) for buyer, qty in joins]
        for order in orders:
            self.pay(order)
        query = "SELECT id FROM shipments WHERE group_buy_id = %d" % gb["id"]
        self.assertTrue(lb.wait_for(lambda: self.sql(query), 3 + CLOSE_WAIT), "campaign %d did not ship" % gb["id"])
        return gb["id"], orders, int(self.sql(query)[0][0])

    # -- tests --------------------------------------------------------------------------------------------------------

    def test_pickup_point_is_public(self):
        status, _, point = self.server.request("GET", "/v1/pickup-points/%d" % self.point_id)
        self.assertEqual(status, 200, point)
        self.assertEqual(point, dict(POINT, id=self.point_id))  # no owner, no station, no secrets
        status, _, body = self.server.request("GET", "/v1/pickup-points/999999")
        self.assertEqual((status, error_code(body)), (404, "not_found"))

    def test_binding_a_station(self):
        point_id = self.server.create_pickup_point(self.coop, dict(POINT, name="新建服务站"))
        self.assertEqual(self.sql("SELECT station_id FROM pickup_points WHERE id = %d" % point_id), [(None,)])
        # Only a station merchant can be bound; only the point's owner binds; a point must exist.
        status, _, body = self.server.request("POST", "/v1/pickup-points", dict(POINT, station_id=self.coop_id),
                                              token=self.coop)
        self.assertEqual((status, error_code(body)), (422, "invalid"))
        self.assertIn("station_id", body["error"]["message"])
        _, other = self.server.create_merchant("coop", "沁县合作社")
        for token, path, body, expected in [
                (self.coop, "/v1/pickup-points/%d" % point_id, {"station_id": self.coop_id}, (422, "invalid")),
                (self.coop, "/v1/pickup-points/%d" % point_id, {}, (422, "invalid")),
                (self.coop, "/v1/pickup-points/%d" % point_id, {"station_id": "1"}, (422, "invalid")),
                (other, "/v1/pickup-points/%d" % point_id, {"station_id": self.station_id}, (403, "forbidden")),
                (self.station, "/v1/pickup-points/%d" % point_id, {"station_id": self.station_id}, (403, "forbidden")),
                (self.coop, "/v1/pickup-points/999999", {"station_id": self.station_id}, (404, "not_found"))]:
            status, _, answer = self.server.request("PATCH", path, body, token=token)
            self.assertEqual((status, error_code(answer)), expected, (path, body, answer))
        self.assertEqual(self.sql("SELECT station_id FROM pickup_points WHERE id = %d" % point_id), [(None,)])
        status, _, answer = self.server.request("PATCH", "/v1/pickup-points/%d" % point_id,
                                                {"station_id": self.station_id}, token=self.coop)
        self.assertEqual((status, answer["id"]), (200, point_id), answer)
        self.assertEqual(self.sql("SELECT station_id FROM pickup_points WHERE id = %d" % point_id),
                         [(str(self.station_id),)])

    def test_collection_of_a_campaign(self):
        gb_id, (first, second), shipment_id = self.campaign_with_paid_joins([(301, 2), (302, 1)])
        # The station sees the consolidated shipment and its pick list; another station, a co-op or nobody do not.
        status, _, page = self.server.request("GET", "/v1/station/shipments", token=self.station)
        self.assertEqual(status, 200, page)
        mine = [s for s in page["shipments"] if s["shipment_id"] == shipment_id]
        self.assertEqual(len(mine), 1, page)
        self.assertEqual((mine[0]["group_buy_id"], mine[0]["orders"], mine[0]["qty"], mine[0]["collected"]),
                         (gb_id, 2, 3, 0))
        self.assertEqual((mine[0]["pickup_point"]["name"], mine[0]["title"]), (POINT["name"], "武乡小米 5kg 袋装"))
        status, _, page = self.server.request("GET", "/v1/station/shipments", token=self.other_station)
        self.assertNotIn(shipment_id, [s["shipment_id"] for s in page["shipments"]])
        status, _, picks = self.pick_list(shipment_id)
        self.assertEqual(status, 200, picks)
        self.assertEqual([(p["order_id"], p["buyer_id"], p["qty"], p["collected"], p["buyer_name"], p["phone_last4"])
                          for p in picks["pick_list"]],
                         [(first["id"], 301, 2, False, None, None), (second["id"], 302, 1, False, None, None)])
        for token, expected in [(self.other_station, (403, "forbidden")), (self.coop, (403, "forbidden"))]:
            status, _, body = self.pick_list(shipment_id, token)
            self.assertEqual((status, error_code(body)), expected, body)
            status, _, body = self.collect(shipment_id, first["id"], token)
            self.assertEqual((status, error_code(body)), expected, body)
        status, _, body = self.server.request("POST", "/v1/shipments/%d/collect" % shipment_id, {"order_id": 1})
        self.assertEqual(status, 401)

        # Not delivered yet: 409 while it is on its way, and nothing changes.
        status, _, body = self.collect(shipment_id, first["id"])
        self.assertEqual((status, error_code(body)), (409, "conflict"), body)
        self.event(shipment_id, "in_transit")
        status, _, body = self.collect(shipment_id, first["id"])
        self.assertEqual((status, error_code(body)), (409, "conflict"), body)
        self.assertIn("in_transit", body["error"]["message"])
        self.assertEqual(self.order_status(first["id"]), "shipped")
        self.event(shipment_id, "delivered")

        status, _, done = self.collect(shipment_id, first["id"])
        self.assertEqual(status, 200, done)
        self.assertEqual((done["shipment_id"], done["order_id"], done["status"], done["collected_by"]),
                         (shipment_id, first["id"], "collected", self.station_id))
        self.assertEqual(self.order_status(first["id"]), "collected")
        self.assertEqual(self.order_status(second["id"]), "delivered")
        # Twice: the same answer, nothing changed.
        time.sleep(1.1)
        rows = "SELECT sku_id, order_id, shipment_id, station_id, collected_at FROM order_collections"
        before = self.sql(rows)
        status, _, again = self.collect(shipment_id, first["id"])
        self.assertEqual((status, again), (200, done))
        self.assertEqual(self.sql(rows), before)
        # The buyer sees it collected.
        status, _, order = self.server.request("GET", "/v1/orders/%d" % first["id"], token=buyer_token(301))
        self.assertEqual((status, order["status"]), (200, "collected"), order)
        # The pick list and the station's page say so, and so does the co-op's campaign.
        _, _, picks = self.pick_list(shipment_id)
        self.assertEqual([(p["collected"], p["status"]) for p in picks["pick_list"]],
                         [(True, "collected"), (False, "delivered")])
        self.assertEqual(picks["pick_list"][0]["collected_at"], done["collected_at"])
        self.assertEqual(picks["shipment"]["collected"], 1)
        status, _, page = self.server.request("GET", "/v1/group-buys?status=succeeded", token=self.coop)
        mine = [g for g in page["group_buys"] if g["id"] == gb_id]
        self.assertEqual([(g["collected"], g["not_collected"]) for g in mine], [(1, 1)], page)
        status, _, gb = self.server.request("GET", "/v1/group-buys/%d" % gb_id, headers={"Cache-Control": "no-cache"})
        self.assertEqual((gb["collected"], gb["not_collected"]), (1, 1))

    def test_collect_refusals(self):
        order, shipment_id = self.paid_direct_order(401, self.point_id, qty=2)
        other_order, other_shipment = self.paid_direct_order(402, self.other_point_id)
        self.event(shipment_id, "delivered")
        self.event(other_shipment, "delivered")
        for path, body, token, expected in [
                ("/v1/shipments/%d/collect" % shipment_id, {}, self.station, (422, "invalid")),
                ("/v1/shipments/%d/collect" % shipment_id, {"order_id": "x"}, self.station, (422, "invalid")),
                ("/v1/shipments/%d/collect" % shipment_id, {"order_id": other_order["id"]}, self.station,
                 (422, "invalid")),
                ("/v1/shipments/999999/collect", {"order_id": order["id"]}, self.station, (404, "not_found")),
                ("/v1/shipments/%d/collect" % other_shipment, {"order_id": other_order["id"]}, self.station,
                 (403, "forbidden"))]:
            status, _, answer = self.server.request("POST", path, body, token=token)
            self.assertEqual((status, error_code(answer)), expected, (path, body, answer))
        self.assertEqual((self.order_status(order["id"]), self.order_status(other_order["id"])),
                         ("delivered", "delivered"))
        self.assertEqual(self.sql("SELECT COUNT(*) FROM order_collections WHERE shipment_id IN (%d, %d)"
                                  % (shipment_id, other_shipment)), [("0",)])
        status, _, body = self.pick_list(999999)
        self.assertEqual((status, error_code(body)), (404, "not_found"))
        # A delivered order refunded since is not handed out.
        self.sql("UPDATE orders SET status = 'refunded' WHERE id = %d" % order["id"])
        status, _, body = self.collect(shipment_id, order["id"])
        self.assertEqual((status, error_code(body)), (409, "conflict"), body)
        self.assertIn("refunded", body["error"]["message"])

    def test_shipment_of_no_station(self):
        """A shipment that exists but goes to an address, or to a point bound to no station, is a 403 that says so: 404
        is for no such shipment only."""
        ship_to = {"name": "张三", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇"}
        address_order = self.order(701, {"sku_id": self.sku_id, "qty": 1, "ship_to": ship_to})
        self.pay(address_order)
        address_shipment = int(self.sql("SELECT shipment_id FROM shipment_orders WHERE order_id = %d"
                                        % address_order["id"])[0][0])
        unbound_point = self.server.create_pickup_point(self.coop, dict(POINT, name="无人值守点"))
        unbound_order, unbound_shipment = self.paid_direct_order(702, unbound_point)
        for shipment_id, order, words in [(address_shipment, address_order, "goes to an address"),
                                          (unbound_shipment, unbound_order, "no station is bound to")]:
            self.event(shipment_id, "delivered")
            status, _, body = self.pick_list(shipment_id)
            self.assertEqual((status, error_code(body)), (403, "forbidden"), body)
            self.assertIn(words, body["error"]["message"])
            status, _, body = self.collect(shipment_id, order["id"])
            self.assertEqual((status, error_code(body)), (403, "forbidden"), body)
            self.assertIn(words, body["error"]["message"])
            self.assertEqual(self.order_status(order["id"]), "delivered")
        self.assertEqual(self.sql("SELECT COUNT(*) FROM order_collections WHERE shipment_id IN (%d, %d)"
                                  % (address_shipment, unbound_shipment)), [("0",)])

    def test_pick_list_shows_name_and_last_four_digits(self):
        order, shipment_id = self.paid_direct_order(501, self.point_id)
        # Orders collected at a point carry no ship_to today; an order that has one shows its name and last digits.
        self.sql("UPDATE orders SET ship_to_name = '王小梅', ship_to_phone = '+86 138-0013-8000' WHERE id = %d"
                 % order["id"])
        _, _, picks = self.pick_list(shipment_id)
        self.assertEqual([(p["buyer_name"], p["phone_last4"]) for p in picks["pick_list"]], [("王小梅", "8000")])
        self.assertNotIn("138", json.dumps(picks, ensure_ascii=False))

    def test_station_shipments_newest_first_by_page(self):
        shipments = [self.paid_direct_order(600 + i, self.point_id)[1] for i in range(3)]
        status, _, page = self.server.request("GET", "/v1/station/shipments?limit=2", token=self.station)
        self.assertEqual(status, 200, page)
        ids = [s["shipment_id"] for s in page["shipments"]]
        self.assertEqual(ids, sorted(ids, reverse=True))
        self.assertEqual(ids[0], shipments[-1])
        self.assertEqual(page["next"], ids[-1])
        _, _, rest = self.server.request("GET", "/v1/station/shipments?limit=200&after=%d" % page["next"],
                                         token=self.station)
        self.assertTrue(all(s["shipment_id"] < ids[-1] for s in rest["shipments"]))
        self.assertIn(shipments[0], ids + [s["shipment_id"] for s in rest["shipments"]])
        self.assertIsNone(rest["next"])
        for query, token, expected in [("?limit=0", self.station, 422), ("", self.coop, 403), ("", None, 401)]:
            status, _, body = self.server.request("GET", "/v1/station/shipments" + query, token=token)
            self.assertEqual(status, expected, body)


if __name__ == "__main__":
    lb.main()
