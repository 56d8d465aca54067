"""A buyer's own orders and the payment sandbox: GET /v1/orders (newest first, paged, by status, never another buyer's)
and the fields every order answer shows (title, pay_by, shipment, pickup_point, refund); with --payment-sandbox the
cashier's POST /sandbox/pay/{id} gives a signed notify that pays through /v1/payments/notify, a failure changes
nothing, POST /sandbox/refunds checks the push's signature; without the flag the routes and /pay/{id} are 404.
Real HTTP against a real MariaDB."""

import itertools
import json
import os
import time

import lb

SHIPPING_SECRET = "test-shipping-secret-0123456789"
SHIP_TO = {"name": "王小梅", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇岭头村12号"}
ORDER_FIELDS = {"id", "sku_id", "live_item_id", "group_buy_id", "qty", "unit_price_cents", "amount_cents", "status",
                "expires_at", "created_at", "ship_to", "pickup_point_id", "title", "pay_by", "shipment", "pickup_point",
                "refund"}

_keys = itertools.count(1)
buyer_token, error_code, metric = lb.buyer_token, lb.error_code, lb.metric


class Base(lb.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coop_id, cls.coop = cls.server.create_merchant("coop", "武乡县岭头小米专业合作社")

    def new_sku(self, stock=100, price_cents=5990):
        skus = [{"name": "5kg 袋装", "price_cents": price_cents, "stock": stock, "weight_grams": 5100}]
        return self.server.create_product(self.coop, skus, title="武乡小米 当季新米")["skus"][0]["id"]

    def reserve(self, buyer, qty=1, **target):
        body = dict(target, qty=qty)
        if "pickup_point_id" not in body and "group_buy_id" not in body:
            body["ship_to"] = SHIP_TO
        status, _, answer = self.server.request("POST", "/v1/orders", body, token=buyer_token(buyer),
                                                headers={"Idempotency-Key": "mine-%d" % next(_keys)})
        self.assertEqual(status, 201, answer)
        return answer

    def notify(self, order, txn):
        raw = json.dumps({"order_id": order["id"], "provider_txn_id": txn, "amount_cents": order["amount_cents"]}).encode()
        status, _, answer = self.server.request("POST", "/v1/payments/notify", raw=raw, headers=lb.signed(raw))
        self.assertEqual(status, 200, answer)
        return answer

    def get(self, buyer, order_id):
        status, _, answer = self.server.request("GET", "/v1/orders/%d" % order_id, token=buyer_token(buyer))
        self.assertEqual(status, 200, answer)
        return answer

    def mine(self, buyer, query=""):
        status, _, answer = self.server.request("GET", "/v1/orders" + query, token=buyer_token(buyer))
        self.assertEqual(status, 200, answer)
        return answer

    def all_mine(self, buyer, query="", limit=3):
        """Every page of the buyer's list, limit a page: (the orders in page order, the pages' sizes)."""
        seen, sizes, after = [], [], None
        while True:
            page = self.mine(buyer, "?limit=%d%s%s" % (limit, query, "&after=%d" % after if after else ""))
            seen += page["orders"]
            sizes.append(len(page["orders"]))
            after = page["next"]
            if after is None:
                return seen, sizes
            self.assertEqual(after, page["orders"][-1]["id"])


class MyOrders(Base):
    server_args = lb.ServerTestCase.server_args + ["--shipping-secret", SHIPPING_SECRET]

    def test_newest_first_paged_and_filtered(self):
        """Seven orders on two SKUs: all of them newest first in pages of 3, the status filter, an empty list."""
        buyer, other = 5101, 5102
        a, b = self.new_sku(), self.new_sku()
        made = [self.reserve(buyer, sku_id=a if i % 2 else b) for i in range(7)]
        self.reserve(other, sku_id=a)
        paid = made[2]
        self.notify(paid, "mine-paid-%d" % paid["id"])
        status, _, _ = self.server.request("POST", "/v1/orders/%d/cancel" % made[4]["id"], token=buyer_token(buyer))
        self.assertEqual(status, 200)

        seen, sizes = self.all_mine(buyer)
        self.assertEqual([o["id"] for o in seen], sorted((o["id"] for o in made), reverse=True))
        self.assertEqual(sizes, [3, 3, 1])
        for o in seen:
            self.assertEqual(set(o), ORDER_FIELDS, o)
            self.assertEqual(o, self.get(buyer, o["id"]), "the list shows each order as GET /v1/orders/{id} does")

        self.assertEqual([o["id"] for o in self.mine(buyer, "?status=paid")["orders"]], [paid["id"]])
        self.assertEqual([o["id"] for o in self.mine(buyer, "?status=cancelled")["orders"]], [made[4]["id"]])
        reserved, _ = self.all_mine(buyer, "&status=reserved", limit=2)
        self.assertEqual([o["id"] for o in reserved],
                         sorted((o["id"] for i, o in enumerate(made) if i not in (2, 4)), reverse=True))
        self.assertEqual(self.mine(buyer, "?status=delivered"), {"orders": [], "next": None})
        self.assertEqual(self.mine(5199), {"orders": [], "next": None})
        # after: ids below it, whether or not it is an order of this buyer.
        page = self.mine(buyer, "?after=%d" % made[3]["id"])
        self.assertEqual([o["id"] for o in page["orders"]], [made[2]["id"], made[1]["id"], made[0]["id"]])
        self.assertIsNone(page["next"])
        # The default page is 20: seven orders fit in one.
        page = self.mine(buyer)
        self.assertEqual(len(page["orders"]), 7)
        self.assertIsNone(page["next"])

    def test_never_another_buyers(self):
        """Two buyers on the same SKU: each sees exactly their own; another's order by id is a 404."""
        sku = self.new_sku()
        first = [self.reserve(5201, sku_id=sku)["id"] for _ in range(3)]
        second = [self.reserve(5202, sku_id=sku)["id"] for _ in range(2)]
        self.assertEqual([o["id"] for o in self.mine(5201)["orders"]], first[::-1])
        self.assertEqual([o["id"] for o in self.mine(5202)["orders"]], second[::-1])
        status, _, body = self.server.request("GET", "/v1/orders/%d" % first[0], token=buyer_token(5202))
        self.assertEqual((status, error_code(body)), (404, "not_found"))

    def test_refusals(self):
        s = self.server
        status, _, body = s.request("GET", "/v1/orders")
        self.assertEqual((status, error_code(body)), (401, "unauthorized"))
        status, _, body = s.request("GET", "/v1/orders", token=self.coop)
        self.assertEqual((status, error_code(body)), (401, "unauthorized"))
        for query in ("?limit=0", "?limit=101", "?limit=x", "?after=0", "?after=-3", "?status=lost", "?status="):
            status, _, body = s.request("GET", "/v1/orders" + query, token=buyer_token(5301))
            code, message = lb.error_parts(body)
            expected = (400, "invalid_query") if query.startswith("?status") else (422, "invalid")
            self.assertEqual((status, code), expected, query)
            self.assertRegex(message, "limit|after|status", query)
        self.assertEqual(len(self.mine(5301, "?limit=100")["orders"]), 0)
        # Values are percent-decoded as URLs allow (a client library may escape any character); an escape that is not
        # one, or makes a NUL, leaves the value as sent, which then fails its check by name.
        self.assertEqual(self.mine(5301, "?limit=%31%30&status=%72eserved")["orders"], [])
        for query in ("?status=%7zeserved", "?status=paid%00", "?limit=%3"):
            status, _, body = s.request("GET", "/v1/orders" + query, token=buyer_token(5301))
            self.assertEqual(status, 400 if "status" in query else 422, (query, body))
            self.assertIn("status" if "status" in query else "limit", lb.error_parts(body)[1], query)
        status, _, body = s.request("DELETE", "/v1/orders", token=buyer_token(5301))
        self.assertEqual((status, error_code(body)), (405, "method_not_allowed"))

    def test_new_fields_through_the_journey(self):
        """title and pay_by while reserved; once paid, the shipment (pending, no tracking number); after a delivery
        event its tracking number and delivery status; a pickup order's and a group-buy join's pickup point."""
        buyer = 5401
        sku = self.new_sku()
        order = self.reserve(buyer, 2, sku_id=sku)
        got = self.get(buyer, order["id"])
        self.assertEqual(got["title"], "武乡小米 当季新米 5kg 袋装")
        self.assertEqual(got["pay_by"], got["expires_at"])
        self.assertEqual((got["shipment"], got["pickup_point"], got["refund"]), (None, None, None))
        self.assertEqual(got["ship_to"], SHIP_TO)
        self.assertIsNone(got["pickup_point_id"])

        self.notify(order, "mine-journey-%d" % order["id"])
        got = self.get(buyer, order["id"])
        self.assertEqual(got["status"], "paid")
        self.assertIsNone(got["pay_by"])
        shipment = got["shipment"]
        self.assertEqual({k: shipment[k] for k in ("status", "tracking_no", "delivery_status")},
                         {"status": "pending", "tracking_no": None, "delivery_status": "none"})
        self.assertEqual(int(self.sql("SELECT shipment_id FROM shipment_orders WHERE order_id = %d" % order["id"])[0][0]),
                         shipment["id"])

        raw = json.dumps({"type": "in_transit", "tracking_no": "YZ9876543210"}).encode()
        status, _, answer = self.server.request("POST", "/v1/shipments/%d/events" % shipment["id"], raw=raw,
                                                headers=lb.signed(raw, secret=SHIPPING_SECRET))
        self.assertEqual(status, 200, answer)
        got = self.get(buyer, order["id"])
        self.assertEqual(got["status"], "shipped")
        self.assertEqual(got["shipment"], {"id": shipment["id"], "status": "pending", "tracking_no": "YZ9876543210",
                                           "delivery_status": "in_transit"})
        self.assertEqual(self.mine(buyer, "?status=shipped")["orders"], [got])

        point = self.server.create_pickup_point(self.coop, {
            "name": "岭头村村级服务站", "county": "武乡县", "township": "丰州镇", "village": "岭头村",
            "address": "山西省长治市武乡县丰州镇岭头村村委会旁便民服务站"})
        station = {"id": point, "name": "岭头村村级服务站", "address": "山西省长治市武乡县丰州镇岭头村村委会旁便民服务站"}
        pickup = self.get(buyer, self.reserve(buyer, sku_id=sku, pickup_point_id=point)["id"])
        self.assertEqual((pickup["pickup_point_id"], pickup["pickup_point"], pickup["ship_to"]), (point, station, None))
        status, _, campaign = self.server.request("POST", "/v1/group-buys", {
            "sku_id": sku, "pickup_point_id": point, "price_cents": 4980, "min_qty": 5, "per_buyer_limit": 3,
            "closes_at": int(time.time()) + 3600}, token=self.coop)
        self.assertEqual(status, 201, campaign)
        join = self.get(buyer, self.reserve(buyer, group_buy_id=campaign["id"])["id"])
        self.assertEqual((join["group_buy_id"], join["pickup_point_id"], join["pickup_point"]), (campaign["id"], point, station))
        self.assertEqual(join["amount_cents"], 4980)
        # The cancel's answer is the order as GET shows it now.
        status, _, cancelled = self.server.request("POST", "/v1/orders/%d/cancel" % join["id"], token=buyer_token(buyer))
        self.assertEqual(status, 200, cancelled)
        self.assertEqual(cancelled, self.get(buyer, join["id"]))
        self.assertEqual((cancelled["status"], cancelled["pay_by"], cancelled["pickup_point"]), ("cancelled", None, station))

    def test_refund_field_is_the_latest(self):
        """The order's latest refund: id, status, cause, amount and reason; the merchant's list shows the same
        fields."""
        buyer = 5501
        sku = self.new_sku()
        order = self.reserve(buyer, sku_id=sku)
        for txn in ("mine-refund-a-%d" % order["id"], "mine-refund-b-%d" % order["id"]):
            self.notify(order, txn)  # the second payment's money goes back: a paid_twice refund
        # A dispatcher has the order's shipment, so the buyer's refund is a request for the co-op (the order stays paid).
        self.sql("UPDATE shipments sh JOIN shipment_orders so ON so.shipment_id = sh.id SET sh.claimed_by = 'test', "
                 "sh.push_started = 1 WHERE so.order_id = %d" % order["id"])
        status, _, answer = self.server.request("POST", "/v1/orders/%d/refund" % order["id"], {"reason": "不想要了"},
                                                token=buyer_token(buyer))
        self.assertEqual(status, 200, answer)
        self.assertEqual(self.sql("SELECT cause, provider_txn_id FROM refunds WHERE order_id = %d ORDER BY id" % order["id"]),
                         [("paid_twice", "mine-refund-b-%d" % order["id"]), ("buyer", "mine-refund-a-%d" % order["id"])])
        latest = int(self.sql("SELECT MAX(id) FROM refunds WHERE order_id = %d" % order["id"])[0][0])
        got = self.get(buyer, order["id"])
        self.assertEqual(answer, got)
        self.assertEqual(got["refund"], {"id": latest, "status": "requested", "cause": "buyer",
                                         "amount_cents": order["amount_cents"], "reason": "不想要了"})
        status, _, page = self.server.request("GET", "/v1/merchant/orders?status=paid", token=self.coop)
        self.assertEqual(status, 200, page)
        listed = [o for o in page["orders"] if o["id"] == order["id"]]
        self.assertEqual(len(listed), 1)
        self.assertEqual({k: listed[0][k] for k in ORDER_FIELDS}, got)
        self.assertEqual(listed[0]["buyer_id"], buyer)


class Sandbox(Base):
    server_args = lb.ServerTestCase.server_args + ["--payment-sandbox", "--web-dir", os.path.join(lb.SOURCE_DIR, "web")]

    def sandbox_pay(self, buyer, order_id, outcome):
        return self.server.request("POST", "/sandbox/pay/%d" % order_id, {"outcome": outcome}, token=buyer_token(buyer))

    def test_warning_and_cashier_page(self):
        self.assertIn("--payment-sandbox is ON", self.server.log())
        status, headers, body = self.server.request("GET", "/pay/123")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        self.assertIn("确认支付".encode(), body)

    def test_success_pays_through_the_notify(self):
        """The cashier's signed notify, posted as it is, pays the order exactly as a provider's would: one payment,
        counted as applied, the shipment written; posted again it is a replay."""
        buyer = 6101
        sku = self.new_sku()
        order = self.reserve(buyer, 3, sku_id=sku)
        before = metric(self.server.metrics(), 'livebuy_payments_total{outcome="applied"}')
        status, _, answer = self.sandbox_pay(buyer, order["id"], "success")
        self.assertEqual(status, 200, answer)
        self.assertEqual((answer["outcome"], answer["url"]), ("success", "/v1/payments/notify"))
        notify = json.loads(answer["body"])
        self.assertEqual(set(notify), {"order_id", "provider_txn_id", "amount_cents"})
        self.assertEqual((notify["order_id"], notify["amount_cents"]), (order["id"], order["amount_cents"]))
        self.assertRegex(notify["provider_txn_id"], r"^sandbox-%d-[0-9a-f]{16}$" % order["id"])
        self.assertEqual(answer["headers"]["Content-Type"], "application/json")
        self.assertEqual(answer["headers"], dict(lb.signed(answer["body"].encode(),
                                                           timestamp=answer["headers"]["X-Livebuy-Timestamp"]),
                                                 **{"Content-Type": "application/json"}))
        # Nothing is paid until the notify is posted.
        self.assertEqual(self.get(buyer, order["id"])["status"], "reserved")

        status, _, paid = self.server.request("POST", answer["url"], raw=answer["body"].encode(), headers=answer["headers"])
        self.assertEqual((status, paid), (200, {"order_id": order["id"], "status": "paid"}))
        self.assertEqual(metric(self.server.metrics(), 'livebuy_payments_total{outcome="applied"}'), before + 1)
        got = self.get(buyer, order["id"])
        self.assertEqual(got["status"], "paid")
        self.assertEqual(got["shipment"]["status"], "pending")
        rows = self.sql("SELECT provider_txn_id, outcome, amount_cents FROM payments WHERE order_id = %d" % order["id"])
        self.assertEqual([tuple(r) for r in rows], [(notify["provider_txn_id"], "applied", str(order["amount_cents"]))])
        self.assertEqual(self.server.sku(sku)["sold"], 3)
        status, _, again = self.server.request("POST", answer["url"], raw=answer["body"].encode(), headers=answer["headers"])
        self.assertEqual((status, again), (200, {"order_id": order["id"], "status": "paid"}))
        self.assertEqual(self.server.sku(sku)["sold"], 3)
        # A tampered body is refused by the notify's own check: the sandbox skips none.
        forged = answer["body"].replace('"amount_cents":%d' % order["amount_cents"], '"amount_cents":1')
        self.assertNotEqual(forged, answer["body"])
        status, _, body = self.server.request("POST", answer["url"], raw=forged.encode(), headers=answer["headers"])
        self.assertEqual((status, error_code(body)), (401, "unauthorized"))

    def test_failure_changes_nothing(self):
        buyer = 6201
        sku = self.new_sku()
        order = self.reserve(buyer, 2, sku_id=sku)
        before_sku, before_order = self.server.sku(sku), self.get(buyer, order["id"])
        status, _, answer = self.sandbox_pay(buyer, order["id"], "failure")
        self.assertEqual((status, answer), (200, {"outcome": "failure", "order_id": order["id"], "status": "reserved"}))
        self.assertEqual(self.get(buyer, order["id"]), before_order)
        self.assertEqual(self.server.sku(sku), before_sku)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM payments WHERE order_id = %d" % order["id"])[0][0], "0")

    def test_pay_refusals(self):
        buyer = 6301
        order = self.reserve(buyer, sku_id=self.new_sku())
        s = self.server
        status, _, body = s.request("POST", "/sandbox/pay/%d" % order["id"], {"outcome": "success"})
        self.assertEqual((status, error_code(body)), (401, "unauthorized"))
        status, _, body = self.sandbox_pay(6302, order["id"], "success")
        self.assertEqual((status, error_code(body)), (404, "not_found"))
        status, _, body = self.sandbox_pay(buyer, 999999999, "success")
        self.assertEqual((status, error_code(body)), (404, "not_found"))
        for body in ({}, {"outcome": "maybe"}, {"outcome": 1}):
            status, _, answer = s.request("POST", "/sandbox/pay/%d" % order["id"], body, token=buyer_token(buyer))
            self.assertEqual((status, error_code(answer)), (422, "invalid"), body)
        status, _, answer = s.request("POST", "/sandbox/pay/%d" % order["id"], raw=b"{", token=buyer_token(buyer))
        self.assertEqual((status, error_code(answer)), (400, "malformed"))
        self.assertEqual(self.get(buyer, order["id"])["status"], "reserved")

    def test_refund_receiver(self):
        """POST /sandbox/refunds: a push signed with the payment secret is answered refunded; a wrong signature 401."""
        raw = json.dumps({"refund_id": 42, "order_id": 7, "sku_id": 1, "provider_txn_id": "t", "amount_cents": 100,
                          "cause": "buyer", "reason": ""}).encode()
        status, _, answer = self.server.request("POST", "/sandbox/refunds", raw=raw,
                                                headers=dict(lb.signed(raw), **{"Idempotency-Key": "refund-42"}))
        self.assertEqual((status, answer), (200, {"status": "refunded", "provider_refund_id": "sandbox-refund-42"}))
        status, _, body = self.server.request("POST", "/sandbox/refunds", raw=raw,
                                              headers=lb.signed(raw, secret="another-secret-0123456789"))
        self.assertEqual((status, error_code(body)), (401, "unauthorized"))
        bad = json.dumps({"order_id": 7}).encode()
        status, _, body = self.server.request("POST", "/sandbox/refunds", raw=bad, headers=lb.signed(bad))
        self.assertEqual((status, error_code(body)), (422, "invalid"))


class NoSandbox(Base):
    server_args = lb.ServerTestCase.server_args + ["--web-dir", os.path.join(lb.SOURCE_DIR, "web")]

    def test_routes_are_404(self):
        order = self.reserve(6401, sku_id=self.new_sku())
        s = self.server
        self.assertNotIn("--payment-sandbox", s.log())
        for method, path, body, token in (("GET", "/pay/%d" % order["id"], None, None),
                                          ("POST", "/sandbox/pay/%d" % order["id"], {"outcome": "success"},
                                           buyer_token(6401)),
                                          ("POST", "/sandbox/refunds", {"refund_id": 1}, None)):
            status, _, answer = s.request(method, path, body, token=token)
            self.assertEqual((status, error_code(answer)), (404, "not_found"), path)
        self.assertEqual(self.get(6401, order["id"])["status"], "reserved")


if __name__ == "__main__":
    lb.main()
