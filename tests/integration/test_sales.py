"""Sales by live and by host: GET /v1/merchant/orders for a host (the orders on its live items, each with the commission
and the co-op's share), GET /v1/lives?mine=1 (a host's lives, paged) and GET /v1/merchant/sales (per item, totals and
by host, for the host and for the co-op). One money rule everywhere: the numbers add up exactly, in every order state.
Real HTTP against a real MariaDB."""

import itertools
import json
import time

import lb

SHIP_TO = {"name": "王小梅", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇岭头村12号"}
EXPIRING_TTL = 10  # the shortest reserve_ttl an item may have: its reservations expire during the test
EXPIRY_WAIT = EXPIRING_TTL + 10
PAID = ("paid", "handed_off", "shipped", "delivered")  # the states of an order whose units are sold
SHIPPING_SECRET = "test-shipping-secret-0123456789"

_keys = itertools.count(1)
_txns = itertools.count(1)
buyer_token, error_code, signed = lb.buyer_token, lb.error_code, lb.signed


def unit_commission(price_cents, commission_bp):
    """The money rule of docs/api.md, written out once more here to hold the server to it."""
    return price_cents * commission_bp // 10000


class Base(lb.ServerTestCase):
    """One database and one livebuyd shared by a class: a co-op selling through two hosts, and merchants who must see
    nothing of them."""

    server_args = lb.ServerTestCase.server_args + ["--shipping-secret", SHIPPING_SECRET]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.coop_id, cls.coop = s.create_merchant("coop", "武乡县岭头小米专业合作社")
        cls.host_id, cls.host = s.create_merchant("host", "长治直播间·太行好物")
        cls.other_host_id, cls.other_host = s.create_merchant("host", "太原直播间")
        cls.stranger_coop_id, cls.stranger_coop = s.create_merchant("coop", "沁县合作社")
        cls.stranger_host_id, cls.stranger_host = s.create_merchant("host", "晋城直播间")
        cls.shipper_id, cls.shipper = s.create_merchant("shipper", "县乡村物流")
        cls.tokens = {cls.host_id: cls.host, cls.other_host_id: cls.other_host, cls.stranger_host_id: cls.stranger_host}

    # -- helpers ------------------------------------------------------------------------------------------------------

    def get(self, path, token, status=200):
        got, _, body = self.server.request("GET", path, token=token)
        self.assertEqual(got, status, "GET %s: %r" % (path, body))
        return body

    def assertError(self, answer, status, code, field=None, what=""):
        got, _, body = answer
        self.assertEqual(got, status, "%s: expected %d, got %d %r" % (what, status, got, body))
        self.assertEqual(error_code(body), code, "%s: %r" % (what, body))
        if field is not None:
            self.assertIn(field, body["error"]["message"], what)

    def new_sku(self, token=None, price_cents=5990, stock=1000, name="2.5kg 袋装"):
        skus = [{"name": name, "price_cents": price_cents, "stock": stock, "weight_grams": 2600}]
        return self.server.create_product(token or self.coop, skus, title="武乡小米")["skus"][0]["id"]

    def new_live(self, host_id, title="长治直播间 · 武乡小米助农专场"):
        status, _, body = self.server.request("POST", "/v1/lives", {"title": title, "starts_at": 1796399106},
                                              token=self.tokens[host_id])
        self.assertEqual(status, 201, body)
        return body["id"]

    def on_air(self, host_id, live_id, sku_id, commission_bp=0, price_cents=2990, quota=50, **changes):
        """Puts a SKU on air in a live of host_id's: for the co-op's SKU under an offer with commission_bp, which the
        co-op makes and the host accepts first. Returns the item."""
        body = {"sku_id": sku_id, "price_cents": price_cents, "quota": quota, "per_buyer_limit": 100, "opens_at": 0,
                "reserve_ttl": 3600}
        body.update(changes)
        token = self.tokens[host_id]
        if not self.own_sku(host_id, sku_id):
            body["offer_id"] = self.server.accepted_offer(self.coop, token, host_id, sku_id, commission_bp=commission_bp)
        status, _, item = self.server.request("POST", "/v1/lives/%d/items" % live_id, body, token=token)
        self.assertEqual(status, 201, item)
        self.assertEqual(item["offer_id"], body.get("offer_id"))
        return item

    def new_host(self, name):
        """A host of a test's own, so that what it sees is the test's alone."""
        host_id, token = self.server.create_merchant("host", name)
        self.tokens[host_id] = token
        return host_id, token

    def own_sku(self, merchant_id, sku_id):
        return self.sql("SELECT merchant_id FROM skus WHERE id = %d" % sku_id)[0][0] == str(merchant_id)

    def order(self, buyer, qty, **target):
        body = dict(target, qty=qty, ship_to=SHIP_TO)
        status, _, answer = self.server.request("POST", "/v1/orders", body, token=buyer_token(buyer),
                                                headers={"Idempotency-Key": "sales-%d" % next(_keys)})
        self.assertEqual(status, 201, answer)
        return answer

    def pay(self, order):
        raw = json.dumps({"order_id": order["id"], "provider_txn_id": "wxpay-%d-%d" % (time.time_ns(), next(_txns)),
                          "amount_cents": order["amount_cents"]}).encode()
        status, _, answer = self.server.request("POST", "/v1/payments/notify", raw=raw, headers=signed(raw))
        self.assertEqual(status, 200, answer)
        return answer

    def ship(self, order, event):
        """A paid order's shipment moves on (picked_up: the order is shipped; delivered: delivered)."""
        shipment_id = int(self.sql("SELECT shipment_id FROM shipment_orders WHERE order_id = %d" % order["id"])[0][0])
        raw = json.dumps({"type": event, "tracking_no": "YZ%d" % shipment_id}).encode()
        status, _, answer = self.server.request("POST", "/v1/shipments/%d/events" % shipment_id, raw=raw,
                                                headers=signed(raw, secret=SHIPPING_SECRET))
        self.assertEqual(status, 200, answer)

    def cancel(self, buyer, order):
        status, _, answer = self.server.request("POST", "/v1/orders/%d/cancel" % order["id"], token=buyer_token(buyer))
        self.assertEqual(status, 200, answer)

    def all_pages(self, path, token, key, limit=2):
        """Every entry of a paged listing, read limit at a time, checking the paging convention on the way."""
        seen, after, pages = [], 0, []
        while True:
            page = self.get("%s%safter=%d&limit=%d" % (path, "&" if "?" in path else "?", after, limit), token)
            pages.append(page)
            seen += page[key]
            if page["next"] is None:
                self.assertLess(len(page[key]), limit, path)
                return seen, pages
            self.assertEqual(len(page[key]), limit, path)
            self.assertEqual(page["next"], page[key][-1]["id" if key != "items" else "live_item_id"], path)
            after = page["next"]

    def orders_of(self, token, query=""):
        orders, _ = self.all_pages("/v1/merchant/orders" + query, token, "orders")
        ids = [o["id"] for o in orders]
        self.assertEqual(ids, sorted(set(ids)), "each order once, by id")
        return orders

    def assertMoney(self, order, commission_bp, price_cents):
        """An order on a live item shows its commission and co-op share by the one rule; they add up to its amount."""
        what = "order %d (%s)" % (order["id"], order["status"])
        self.assertEqual(order["commission_cents"], order["qty"] * unit_commission(price_cents, commission_bp), what)
        self.assertEqual(order["commission_cents"] + order["coop_share_cents"], order["amount_cents"], what)
        self.assertGreaterEqual(order["coop_share_cents"], 0, what)


class HostOrdersTest(Base):
    """GET /v1/merchant/orders: a host sees the orders on its live items (and of its own SKUs), each once, with the
    money split; the co-op sees the same orders among those of its SKUs; nobody else sees them."""

    def test_orders_on_a_hosts_items_in_every_state(self):
        host_id, host = self.new_host("长治直播间·太行好物")
        other_host_id, other_host = self.new_host("太原直播间")
        millet, corn = self.new_sku(price_cents=3980), self.new_sku(price_cents=2580, name="5kg 箱装")
        own = self.new_sku(token=host, price_cents=1500, name="主播自营 红枣")
        live = self.new_live(host_id)
        a = self.on_air(host_id, live, millet, commission_bp=1000, price_cents=2990, quota=4)
        b = self.on_air(host_id, live, corn, commission_bp=833, price_cents=1999)
        c = self.on_air(host_id, self.new_live(host_id, "第二场"), millet, commission_bp=0, price_cents=3333)
        mine = self.on_air(host_id, live, own, price_cents=1200)
        expiring = self.on_air(host_id, live, corn, commission_bp=2500, price_cents=1001, reserve_ttl=EXPIRING_TTL)
        theirs = self.on_air(other_host_id, self.new_live(other_host_id), millet, commission_bp=1500, price_cents=3100)
        terms = {a["id"]: (1000, 2990), b["id"]: (833, 1999), c["id"]: (0, 3333), mine["id"]: (0, 1200),
                 expiring["id"]: (2500, 1001), theirs["id"]: (1500, 3100)}

        # every state an order can reach here: reserved, paid, cancelled, expired, refund_required, paid after cancel
        gone = self.order(301, 2, live_item_id=expiring["id"])
        paid = self.order(301, 2, live_item_id=a["id"])
        self.pay(paid)
        lost = self.order(302, 2, live_item_id=a["id"])
        self.cancel(302, lost)
        self.pay(self.order(303, 2, live_item_id=a["id"]))  # the item's last two units: the cancelled order's are gone
        self.assertEqual(self.pay(lost)["status"], "refund_required")
        back = self.order(304, 3, live_item_id=b["id"])
        self.cancel(304, back)
        self.assertEqual(self.pay(back)["status"], "paid")  # its units were still there
        self.order(305, 1, live_item_id=b["id"])
        for buyer, event in ((313, "picked_up"), (314, "delivered")):
            sent = self.order(buyer, 2, live_item_id=b["id"])
            self.pay(sent)
            self.ship(sent, event)
        self.cancel(306, self.order(306, 5, live_item_id=c["id"]))
        self.pay(self.order(307, 7, live_item_id=c["id"]))
        self.pay(self.order(308, 2, live_item_id=mine["id"]))
        self.order(309, 1, sku_id=own)                       # a direct order of the host's own SKU
        self.pay(self.order(310, 3, live_item_id=theirs["id"]))
        self.order(311, 1, live_item_id=theirs["id"])
        self.pay(self.order(312, 1, sku_id=millet))          # the co-op's direct orders are not the host's
        deadline = time.monotonic() + EXPIRY_WAIT
        while self.sql("SELECT status FROM orders WHERE id = %d" % gone["id"])[0][0] != "expired":
            self.assertLess(time.monotonic(), deadline, "the reservation did not expire")
            time.sleep(0.5)

        everything = {o["id"]: o for o in self.orders_of(self.coop)}
        host_orders = self.orders_of(host)
        host_items = {a["id"], b["id"], c["id"], expiring["id"]}
        expected = [i for i, o in sorted(everything.items()) if o["live_item_id"] in host_items]
        expected += [int(r[0]) for r in self.sql("SELECT id FROM orders WHERE sku_id = %d" % own)]  # its own SKU's
        self.assertEqual(len(expected), 12)
        self.assertEqual([o["id"] for o in host_orders], sorted(expected))
        self.assertEqual({o["status"] for o in host_orders},
                         {"reserved", "paid", "shipped", "delivered", "cancelled", "expired", "refund_required"})

        for view in (host_orders, everything.values(), self.orders_of(other_host)):
            for o in view:
                if o["live_item_id"] is None:
                    self.assertNotIn("commission_cents", o)
                    self.assertNotIn("coop_share_cents", o)
                elif o["live_item_id"] in terms:  # (the co-op's view has the other test's orders too)
                    self.assertMoney(o, *terms[o["live_item_id"]])
        for o in host_orders:  # the host's view is the co-op's, order for order
            if o["sku_id"] != own:
                self.assertEqual(o, everything[o["id"]])
        self.assertEqual([o["live_item_id"] for o in self.orders_of(other_host)], [theirs["id"]] * 2)
        self.assertEqual(self.orders_of(self.stranger_host), [])
        self.assertEqual(self.orders_of(self.stranger_coop), [])

        # by status, for the host too
        self.assertEqual([o["id"] for o in self.orders_of(host, "?status=refund_required")], [lost["id"]])
        self.assertEqual([o["id"] for o in self.orders_of(host, "?status=expired")], [gone["id"]])
        self.assertEqual(sorted(o["id"] for o in self.orders_of(host, "?status=paid")),
                         sorted(o["id"] for o in host_orders if o["status"] == "paid"))

    def test_a_host_with_many_sources(self):
        """More sources than one statement takes (32): SKUs of the host's own and items on the co-op's SKUs, merged
        by id across the statements, each order once."""
        host_id, host = self.new_host("四十个商品的主播")
        live = self.new_live(host_id, "四十个商品")
        made = []
        for n in range(40):
            sku = self.new_sku(token=host if n % 3 == 0 else None, price_cents=1000 + n)
            item = self.on_air(host_id, live, sku, commission_bp=100 * n, price_cents=1000 + n, quota=5)
            made.append(self.order(400 + n, 1, live_item_id=item["id"])["id"])
            if n % 5 == 0:  # a second item on the same SKU: still one source
                again = self.on_air(host_id, live, sku, commission_bp=7, price_cents=900, quota=2)
                made.append(self.order(500 + n, 1, live_item_id=again["id"])["id"])
        self.assertEqual([o["id"] for o in self.orders_of(host)], sorted(made))
        self.assertEqual([o["id"] for o in self.get("/v1/merchant/orders?limit=200", host)["orders"]], sorted(made))
        self.assertEqual(len(made), 48)


class LivesMineTest(Base):
    """GET /v1/lives?mine=1: a host's lives, paged by id, with how many items each has put on air."""

    def test_pages_of_a_hosts_lives(self):
        sku = self.new_sku()
        lives = [self.new_live(self.other_host_id, "第%d场" % n) for n in range(5)]
        self.new_live(self.stranger_host_id)
        for n, live in enumerate(lives):
            for _ in range(n % 3):
                self.on_air(self.other_host_id, live, sku, quota=1)
        got, pages = self.all_pages("/v1/lives?mine=1", self.other_host, "lives")
        self.assertEqual([l["id"] for l in got], lives)
        self.assertEqual(len(pages), 3)
        self.assertEqual(got[1], {"id": lives[1], "title": "第1场", "starts_at": 1796399106, "num_items": 1})
        self.assertEqual([l["num_items"] for l in got], [0, 1, 2, 0, 1])
        self.assertEqual(self.get("/v1/lives?mine=1&after=%d" % lives[-1], self.other_host), {"lives": [], "next": None})

    def test_refusals(self):
        s = self.server
        for query, field in [("", "mine"), ("?mine=0", "mine"), ("?mine=yes", "mine"), ("?mine=", "mine"),
                             ("?mine=1&limit=0", "limit"), ("?mine=1&limit=201", "limit"), ("?mine=1&after=-1", "after")]:
            self.assertError(s.request("GET", "/v1/lives" + query, token=self.host), 422, "invalid", field, query)
        self.assertError(s.request("GET", "/v1/lives?mine=1"), 401, "unauthorized", what="no token")
        self.assertError(s.request("GET", "/v1/lives?mine=1", token=buyer_token(7)), 401, "unauthorized", what="buyer")
        self.assertError(s.request("GET", "/v1/lives?mine=1", token=self.coop), 403, "forbidden", what="co-op")
        self.assertError(s.request("GET", "/v1/lives?mine=1", token=self.shipper), 403, "forbidden", what="shipper")
        self.assertEqual(s.request("GET", "/v1/lives?mine=1", token=self.stranger_host)[0], 200)


class SalesTest(Base):
    """GET /v1/merchant/sales: per item what it sold, its revenue, commission and co-op share (the sums over its paid
    orders), totals and by_host (the sums over items), for the host and for the co-op."""

    def sales(self, token, query=""):
        """Every item of a listing, read one page at a time; the totals and by_host of its pages (all the same)."""
        items, pages = self.all_pages("/v1/merchant/sales" + query, token, "items", limit=2)
        for page in pages[1:]:
            self.assertEqual((page["totals"], page["by_host"]), (pages[0]["totals"], pages[0]["by_host"]))
        whole = self.get("/v1/merchant/sales" + query, token)
        self.assertEqual(whole["items"], items)
        return items, pages[0]["totals"], pages[0]["by_host"]

    def assertSums(self, items, totals, by_host):
        """totals and by_host are the sums over the items."""
        money = ("revenue_cents", "commission_cents", "coop_share_cents")
        self.assertEqual(totals, {k: sum(i[k] for i in items) for k in ("reserved", "sold") + money})
        hosts = sorted({i["host_id"] for i in items})
        self.assertEqual([h["host_id"] for h in by_host], hosts)
        for h in by_host:
            mine = [i for i in items if i["host_id"] == h["host_id"]]
            self.assertEqual(h, dict({k: sum(i[k] for i in mine) for k in ("sold",) + money}, host_id=h["host_id"],
                                     host_name=mine[0]["host_name"]))

    def test_sales_by_item_by_host_and_in_all(self):
        millet, corn = self.new_sku(price_cents=3980), self.new_sku(price_cents=2580, name="5kg 箱装")
        own = self.new_sku(token=self.host, price_cents=1500, name="主播自营 红枣")
        first, second = self.new_live(self.host_id, "第一场"), self.new_live(self.host_id, "第二场")
        elsewhere = self.new_live(self.other_host_id, "太原专场")
        items = [self.on_air(self.host_id, first, millet, commission_bp=1000, price_cents=2990, quota=6),
                 self.on_air(self.host_id, first, corn, commission_bp=833, price_cents=1999, quota=20),
                 self.on_air(self.host_id, second, millet, commission_bp=1, price_cents=9999, quota=20),
                 self.on_air(self.host_id, second, own, price_cents=1200, quota=20),
                 self.on_air(self.other_host_id, elsewhere, corn, commission_bp=1500, price_cents=3100, quota=20)]
        for n, item in enumerate(items):
            for k, qty in enumerate((1, 2, 3)):
                order = self.order(600 + 10 * n + k, qty, live_item_id=item["id"])
                if k != 2:
                    self.pay(order)
                if k == 1 and n % 2 == 0:  # sold, and on its way: still sold
                    self.ship(order, "delivered" if n == 2 else "picked_up")
        for o in self.orders_of(self.coop, "?status=reserved")[:1]:  # one cancelled order among the rest
            self.cancel(o["buyer_id"], o)
        status, _, closed = self.server.request("POST", "/v1/live-items/%d/close" % items[3]["id"], token=self.host)
        self.assertEqual(status, 200, closed)

        host_items, totals, by_host = self.sales(self.host)
        self.assertEqual([i["live_item_id"] for i in host_items], [i["id"] for i in items[:4]])
        self.assertSums(host_items, totals, by_host)
        self.assertEqual([(h["host_id"], h["host_name"]) for h in by_host], [(self.host_id, "长治直播间·太行好物")])

        # each item: its counters, and its money the sums over its paid orders (the co-op's view of them)
        orders = self.orders_of(self.coop) + [o for o in self.orders_of(self.host) if o["sku_id"] == own]
        for item in host_items + self.sales(self.coop)[0]:
            mine = [o for o in orders if o["live_item_id"] == item["live_item_id"]]
            paid = [o for o in mine if o["status"] in PAID]
            self.assertEqual(item["sold"], sum(o["qty"] for o in paid))
            self.assertEqual(item["reserved"], sum(o["qty"] for o in mine if o["status"] == "reserved"))
            self.assertEqual(item["available"], item["quota"] - item["reserved"] - item["sold"])
            for key, of_order in (("revenue_cents", "amount_cents"), ("commission_cents", "commission_cents"),
                                  ("coop_share_cents", "coop_share_cents")):
                self.assertEqual(item[key], sum(o[of_order] for o in paid), key)
            self.assertEqual(item["commission_cents"],
                             item["sold"] * unit_commission(item["price_cents"], item["commission_bp"]))
            self.assertEqual(item["revenue_cents"], item["sold"] * item["price_cents"])

        first_item = host_items[0]
        self.assertEqual(first_item, {
            "live_item_id": items[0]["id"], "live_id": first, "live_title": "第一场", "host_id": self.host_id,
            "host_name": "长治直播间·太行好物", "offer_id": first_item["offer_id"], "sku_id": millet,
            "title": "武乡小米 2.5kg 袋装", "price_cents": 2990, "quota": 6, "available": first_item["available"],
            "reserved": first_item["reserved"], "sold": 3, "closed": False, "revenue_cents": 8970, "commission_bp": 1000,
            "commission_cents": 897, "coop_share_cents": 8073})
        self.assertIsInstance(first_item["offer_id"], int)
        own_item = host_items[3]
        self.assertEqual((own_item["offer_id"], own_item["commission_bp"], own_item["commission_cents"], own_item["closed"]),
                         (None, 0, 0, True))
        self.assertEqual((own_item["quota"], own_item["available"]), (own_item["reserved"] + own_item["sold"], 0))
        self.assertEqual(own_item["coop_share_cents"], own_item["revenue_cents"])

        # filters: one live, one host
        one_live, live_totals, live_hosts = self.sales(self.host, "?live_id=%d" % second)
        self.assertEqual([i["live_item_id"] for i in one_live], [items[2]["id"], items[3]["id"]])
        self.assertSums(one_live, live_totals, live_hosts)
        self.assertEqual(self.sales(self.host, "?host_id=%d" % self.host_id)[0], host_items)

        # the co-op: the items on its SKUs, of both hosts; by host
        coop_items, coop_totals, coop_hosts = self.sales(self.coop)
        self.assertEqual([i["live_item_id"] for i in coop_items], [items[0]["id"], items[1]["id"], items[2]["id"],
                                                                   items[4]["id"]])
        self.assertSums(coop_items, coop_totals, coop_hosts)
        self.assertEqual([h["host_id"] for h in coop_hosts], sorted([self.host_id, self.other_host_id]))
        per_host, _, only = self.sales(self.coop, "?host_id=%d" % self.other_host_id)
        self.assertEqual(([i["live_item_id"] for i in per_host], [h["host_id"] for h in only]),
                         ([items[4]["id"]], [self.other_host_id]))
        self.assertEqual(self.sales(self.coop, "?live_id=%d&host_id=%d" % (elsewhere, self.host_id))[1:],
                         ({"reserved": 0, "sold": 0, "revenue_cents": 0, "commission_cents": 0, "coop_share_cents": 0}, []))
        self.assertEqual([h for h in coop_hosts if h["host_id"] == self.host_id][0],
                         dict(by_host[0], sold=by_host[0]["sold"] - own_item["sold"],
                              revenue_cents=by_host[0]["revenue_cents"] - own_item["revenue_cents"],
                              coop_share_cents=by_host[0]["coop_share_cents"] - own_item["coop_share_cents"]))

        # the other host sees its own item only; strangers see nothing
        self.assertEqual([i["live_item_id"] for i in self.sales(self.other_host)[0]], [items[4]["id"]])
        empty = {"items": [], "totals": {"reserved": 0, "sold": 0, "revenue_cents": 0, "commission_cents": 0,
                                         "coop_share_cents": 0}, "by_host": [], "next": None}
        self.assertEqual(self.get("/v1/merchant/sales", self.stranger_coop), empty)
        self.assertEqual(self.get("/v1/merchant/sales", self.stranger_host), empty)
        self.assertEqual(self.get("/v1/merchant/sales?live_id=%d" % first, self.stranger_coop), empty)
        self.assertEqual(self.get("/v1/merchant/sales?host_id=%d" % self.host_id, self.stranger_coop), empty)
        s = self.server
        self.assertError(s.request("GET", "/v1/merchant/sales?live_id=%d" % first, token=self.other_host), 403, "forbidden",
                         what="another host's live")
        self.assertError(s.request("GET", "/v1/merchant/sales?host_id=%d" % self.host_id, token=self.other_host), 403,
                         "forbidden", what="another host")

    def test_refusals(self):
        s = self.server
        path = "/v1/merchant/sales"
        for query, field in [("?live_id=0", "live_id"), ("?live_id=x", "live_id"), ("?host_id=-1", "host_id"),
                             ("?host_id=", "host_id"), ("?limit=0", "limit"), ("?limit=201", "limit"), ("?after=x", "after")]:
            self.assertError(s.request("GET", path + query, token=self.coop), 422, "invalid", field, query)
        self.assertError(s.request("GET", path), 401, "unauthorized", what="no token")
        self.assertError(s.request("GET", path, token=buyer_token(7)), 401, "unauthorized", what="buyer")
        self.assertError(s.request("GET", path, token=self.shipper), 403, "forbidden", what="shipper")
        self.assertError(s.request("GET", path + "?live_id=999999", token=self.coop), 404, "not_found", what="no live")
        self.assertError(s.request("GET", path + "?live_id=999999", token=self.host), 404, "not_found", what="no live")


if __name__ == "__main__":
    lb.main()
