"""The co-op's catalogue management (issue #17, part 1): GET /v1/products/{id}, GET /v1/merchant/products, PATCH of a
product and of a SKU, the stock ledger (POST /v1/skus/{id}/adjust, restock and creation write it, GET
/v1/skus/{id}/ledger), and retiring a SKU or a product (no new orders, items, offers or group-buys; what exists goes
on). Every change and its refusals, nothing changed on a refusal; a downward adjust racing a burst of orders. Real
HTTP against a real MariaDB."""

import itertools
import json
import time

import lb

SHIP_TO = {"name": "张三", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇"}
STATION = {"name": "岭头村村级服务站", "county": "武乡县", "township": "丰州镇", "village": "岭头村",
           "address": "山西省长治市武乡县丰州镇岭头村村委会旁"}
SHIPPING_SECRET = "test-shipping-secret-0123456789"
SKU_FIELDS = {"id", "product_id", "name", "price_cents", "weight_grams", "stock", "reserved", "sold", "held",
              "available", "retired", "photo_url"}
PRODUCT_FIELDS = {"id", "merchant_id", "title", "unit", "origin", "description", "cold_chain", "retired", "created_at",
                  "updated_at", "skus", "photo_url", "images"}
ENTRY_FIELDS = {"id", "sku_id", "kind", "delta", "stock_after", "merchant_id", "order_id", "reason", "created_at"}
_keys = itertools.count(1)


class Base(lb.ServerTestCase):
    server_args = lb.ServerTestCase.server_args + ["--shipping-secret", SHIPPING_SECRET]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.coop_id, cls.coop = s.create_merchant("coop", "武乡县岭头小米专业合作社")
        cls.other_id, cls.other = s.create_merchant("coop", "沁县玉米合作社")
        cls.host_id, cls.host = s.create_merchant("host", "长治直播间·太行好物")
        cls.shipper_id, cls.shipper = s.create_merchant("shipper", "县乡村物流")
        cls.point_id = s.create_pickup_point(cls.coop, STATION)

    # -- helpers ------------------------------------------------------------------------------------------------------

    def new_product(self, stock=100, token=None, **fields):
        skus = [{"name": "2.5kg 袋装", "price_cents": 3980, "stock": stock, "weight_grams": 2600},
                {"name": "5kg 袋装", "price_cents": 6980, "stock": stock, "weight_grams": 5150}]
        fields.setdefault("title", "武乡小米 当季新米")
        return self.server.create_product(token or self.coop, skus, **fields)

    def new_sku(self, stock=100, token=None):
        return self.new_product(stock, token)["skus"][0]["id"]

    def product(self, product_id, token=None):
        status, _, body = self.server.request("GET", "/v1/products/%d" % product_id, token=token)
        self.assertEqual(status, 200, body)
        return body

    def patch(self, what, id_, body, token=None):
        return self.server.request("PATCH", "/v1/%s/%d" % (what, id_), body, token=token or self.coop)

    def adjust(self, sku_id, delta, reason="盘点", token=None):
        return self.server.request("POST", "/v1/skus/%d/adjust" % sku_id, {"delta": delta, "reason": reason},
                                   token=token or self.coop)

    def ledger(self, sku_id, query="", token=None):
        status, _, body = self.server.request("GET", "/v1/skus/%d/ledger%s" % (sku_id, query), token=token or self.coop)
        self.assertEqual(status, 200, body)
        return body

    def all_entries(self, sku_id, token=None):
        entries, after = [], 0
        while True:
            page = self.ledger(sku_id, "?limit=200&after=%d" % after, token=token)
            entries += page["entries"]
            if page["next"] is None:
                return entries
            after = page["next"]

    def assertLedgerAddsUp(self, sku_id, token=None):
        """The ledger's deltas add up to the stock, each stock_after is the running sum, and the SKU is not oversold."""
        entries = self.all_entries(sku_id, token)
        running = 0
        for e in entries:
            running += e["delta"]
            self.assertEqual(e["stock_after"], running, entries)
        stock, reserved, sold, held = map(int, self.sql("SELECT stock, reserved, sold, held FROM skus WHERE id = %d"
                                                        % sku_id)[0])
        self.assertEqual(running, stock, entries)
        self.assertLessEqual(reserved + sold + held, stock)
        return entries

    def order(self, buyer=1001, qty=1, **target):
        return self.server.request("POST", "/v1/orders", dict(target, qty=qty, ship_to=SHIP_TO), token=lb.buyer_token(buyer),
                                   headers={"Idempotency-Key": "cat-%d" % next(_keys)})

    def ordered(self, buyer=1001, qty=1, **target):
        status, _, body = self.order(buyer, qty, **target)
        self.assertEqual(status, 201, body)
        return body

    def join(self, gb_id, buyer=2001, qty=1):
        return self.server.request("POST", "/v1/orders", {"group_buy_id": gb_id, "qty": qty}, token=lb.buyer_token(buyer),
                                   headers={"Idempotency-Key": "cat-%d" % next(_keys)})

    def pay(self, order):
        raw = json.dumps({"order_id": order["id"], "provider_txn_id": "cat-txn-%d" % order["id"],
                          "amount_cents": order["amount_cents"]}).encode()
        status, _, answer = self.server.request("POST", "/v1/payments/notify", raw=raw, headers=lb.signed(raw))
        self.assertEqual(status, 200, answer)
        return answer

    def new_campaign(self, sku_id, price_cents=3500):
        body = {"sku_id": sku_id, "pickup_point_id": self.point_id, "price_cents": price_cents, "min_qty": 2,
                "per_buyer_limit": 5, "closes_at": int(time.time()) + 3600}
        return self.server.request("POST", "/v1/group-buys", body, token=self.coop)

    def new_live(self):
        status, _, body = self.server.request("POST", "/v1/lives", {"title": "今晚八点 小米专场", "starts_at": 1700000000},
                                              token=self.host)
        self.assertEqual(status, 201, body)
        return body["id"]

    def put_on_air(self, live_id, sku_id, quota=10, price_cents=2990):
        return self.server.request("POST", "/v1/lives/%d/items" % live_id,
                                   {"sku_id": sku_id, "price_cents": price_cents, "quota": quota, "per_buyer_limit": 5,
                                    "opens_at": 0}, token=self.host)

    def sku_row(self, sku_id):
        return self.sql("SELECT name, price_cents, weight_grams, stock, updated_at, retired_at FROM skus WHERE id = %d"
                        % sku_id)[0]

    def product_row(self, product_id):
        return self.sql("SELECT title, unit, origin, description, cold_chain, updated_at FROM products WHERE id = %d"
                        % product_id)[0]


class ProductTest(Base):

    def test_get_product(self):
        created = self.new_product(description="谷子当年新收，小米色泽金黄。", origin="山西省长治市武乡县", cold_chain=True)
        self.assertEqual(set(created), PRODUCT_FIELDS)
        got = self.product(created["id"])  # public: no token
        self.assertEqual(got, created)
        self.assertEqual({k: got[k] for k in ("merchant_id", "title", "unit", "origin", "description", "cold_chain",
                                               "retired", "updated_at")},
                         {"merchant_id": self.coop_id, "title": "武乡小米 当季新米", "unit": "袋",
                          "origin": "山西省长治市武乡县", "description": "谷子当年新收，小米色泽金黄。", "cold_chain": True,
                          "retired": False, "updated_at": None})
        self.assertEqual(len(got["skus"]), 2)
        for sku in got["skus"]:
            self.assertEqual(set(sku), SKU_FIELDS - {"photo_url"})
            # Each SKU as GET /v1/skus/{id} shows it, but for the photo: the product's is beside its SKUs.
            self.assertEqual(dict(sku, photo_url=got["photo_url"]), self.server.sku(sku["id"]))
        self.assertEqual([s["name"] for s in got["skus"]], ["2.5kg 袋装", "5kg 袋装"])
        self.assertError(self.server.request("GET", "/v1/products/999999"), 404, "not_found", "no product 999999")
        # without a description it is empty; the old create answer's fields are all still there
        plain = self.new_product()
        self.assertEqual(plain["description"], "")
        self.assertEqual(plain["skus"][0]["stock"], 100)
        self.assertError(self.server.request("POST", "/v1/products", dict(lb.default_product(), description="长" * 2001),
                                             token=self.coop), 422, "invalid", "description")

    def test_merchant_products_paged(self):
        _, coop = self.server.create_merchant("coop", "分页合作社")
        ids = [self.new_product(token=coop, title="商品%d" % i)["id"] for i in range(5)]
        self.new_product(token=self.other)  # another co-op's: never listed
        status, _, page = self.server.request("GET", "/v1/merchant/products?limit=2", token=coop)
        self.assertEqual(status, 200, page)
        self.assertEqual([p["id"] for p in page["products"]], ids[:2])
        self.assertEqual(page["next"], ids[1])
        self.assertEqual([len(p["skus"]) for p in page["products"]], [2, 2])
        # As GET /v1/products/{id} shows it, but for its photos: the list has only the first one's photo_url.
        self.assertEqual(page["products"][0], {k: v for k, v in self.product(ids[0]).items() if k != "images"})
        status, _, page = self.server.request("GET", "/v1/merchant/products?limit=2&after=%d" % ids[3], token=coop)
        self.assertEqual(([p["id"] for p in page["products"]], page["next"]), ([ids[4]], None))
        # retired=0 / 1: the filter leaves gaps in the id range, whose SKUs are not shown under the wrong product
        self.assertEqual(self.server.request("POST", "/v1/products/%d/retire" % ids[2], token=coop)[0], 200)
        status, _, page = self.server.request("GET", "/v1/merchant/products?retired=0", token=coop)
        self.assertEqual([p["id"] for p in page["products"]], ids[:2] + ids[3:])
        self.assertTrue(all(s["product_id"] == p["id"] and not s["retired"] for p in page["products"] for s in p["skus"]))
        status, _, page = self.server.request("GET", "/v1/merchant/products?retired=1", token=coop)
        self.assertEqual([(p["id"], p["retired"]) for p in page["products"]], [(ids[2], True)])
        self.assertTrue(all(s["retired"] for s in page["products"][0]["skus"]))
        for query, word in (("?retired=2", "retired"), ("?limit=0", "limit"), ("?limit=201", "limit"), ("?after=-1", "after")):
            self.assertError(self.server.request("GET", "/v1/merchant/products" + query, token=coop), 422, "invalid", word,
                             what=query)
        self.assertError(self.server.request("GET", "/v1/merchant/products"), 401, "unauthorized")
        self.assertError(self.server.request("GET", "/v1/merchant/products", token=self.shipper), 403, "forbidden")

    def test_patch_product(self):
        p = self.new_product(origin="武乡县")
        pid = p["id"]
        status, _, got = self.patch("products", pid, {"title": "沁州黄小米 礼盒"})
        self.assertEqual(status, 200, got)
        self.assertEqual((got["title"], got["unit"], got["origin"], got["cold_chain"]), ("沁州黄小米 礼盒", "袋", "武乡县", False))
        self.assertIsNotNone(got["updated_at"])
        self.assertEqual(got, self.product(pid))
        status, _, got = self.patch("products", pid, {"unit": "盒", "origin": "", "cold_chain": True,
                                                      "description": "礼盒装，每盒 500g×2。"})
        self.assertEqual(status, 200, got)
        self.assertEqual((got["title"], got["unit"], got["origin"], got["cold_chain"], got["description"]),
                         ("沁州黄小米 礼盒", "盒", "", True, "礼盒装，每盒 500g×2。"))
        self.assertEqual(got["skus"], p["skus"])  # the SKUs are untouched
        # a field given as null is left alone, like an absent one
        status, _, got = self.patch("products", pid, {"title": None, "cold_chain": False})
        self.assertEqual((status, got["title"], got["cold_chain"]), (200, "沁州黄小米 礼盒", False))

    def test_patch_product_refusals(self):
        pid = self.new_product()["id"]
        before = self.product_row(pid)
        for body, words in (({}, ["nothing to change", "title"]),
                            ({"title": None}, ["nothing to change"]),
                            ({"price": 5}, ["price is not a field that can be changed", "description"]),
                            ({"title": "新名", "skus": []}, ["skus is not a field"]),
                            ({"title": ""}, ["title"]),
                            ({"title": "长" * 201}, ["title"]),
                            ({"unit": ""}, ["unit"]),
                            ({"unit": "u" * 33}, ["unit"]),
                            ({"origin": "o" * 201}, ["origin"]),
                            ({"description": "d" * 2001}, ["description"]),
                            ({"cold_chain": "yes"}, ["cold_chain"]),
                            ({"title": 5}, ["title"]),
                            ({"title": "a\u0001b"}, ["title"])):
            self.assertError(self.patch("products", pid, body), 422, "invalid", *words, what=repr(body))
        self.assertError(self.server.request("PATCH", "/v1/products/%d" % pid, raw=b"{\"title\":", token=self.coop), 400,
                         "malformed")
        self.assertError(self.patch("products", pid, {"title": "x"}, token=self.other), 403, "forbidden",
                         "another merchant")
        self.assertError(self.patch("products", pid, {"title": "x"}, token=self.shipper), 403, "forbidden")
        self.assertError(self.server.request("PATCH", "/v1/products/%d" % pid, {"title": "x"}), 401, "unauthorized")
        self.assertError(self.patch("products", 999999, {"title": "x"}), 404, "not_found", "no product 999999")
        self.assertEqual(self.product_row(pid), before)  # nothing changed by any of them
        self.assertError(self.server.request("DELETE", "/v1/products/%d" % pid, token=self.coop), 405,
                         "method_not_allowed")

    def test_host_manages_its_own_catalogue(self):
        p = self.new_product(token=self.host)
        status, _, got = self.patch("products", p["id"], {"title": "主播自营 小米"}, token=self.host)
        self.assertEqual((status, got["title"]), (200, "主播自营 小米"))
        status, _, sku = self.patch("skus", p["skus"][0]["id"], {"price_cents": 2990}, token=self.host)
        self.assertEqual((status, sku["price_cents"]), (200, 2990))
        self.assertError(self.patch("products", p["id"], {"title": "x"}), 403, "forbidden")


class SkuPatchTest(Base):

    def test_patch_sku(self):
        sku_id = self.new_sku()
        status, _, sku = self.patch("skus", sku_id, {"price_cents": 3580})
        self.assertEqual(status, 200, sku)
        self.assertEqual(set(sku), SKU_FIELDS)
        self.assertEqual((sku["name"], sku["price_cents"], sku["weight_grams"]), ("2.5kg 袋装", 3580, 2600))
        status, _, sku = self.patch("skus", sku_id, {"name": "2.5kg 真空袋装", "weight_grams": 2650, "price_cents": 0})
        self.assertEqual((sku["name"], sku["price_cents"], sku["weight_grams"]), ("2.5kg 真空袋装", 0, 2650))
        self.assertEqual(sku, self.server.sku(sku_id))
        self.assertEqual(self.sku_row(sku_id)[3], "100")  # the stock is not the PATCH's
        before = self.sku_row(sku_id)
        for body, words in (({}, ["nothing to change", "price_cents"]),
                            ({"stock": 5}, ["stock is not a field that can be changed"]),
                            ({"name": "x", "retired": True}, ["retired is not a field"]),
                            ({"name": ""}, ["name"]),
                            ({"name": "n" * 201}, ["name"]),
                            ({"price_cents": -1}, ["price_cents must be between 0 and 10000000000"]),
                            ({"price_cents": 10000000001}, ["price_cents"]),
                            ({"price_cents": 1.5}, ["price_cents"]),
                            ({"weight_grams": -1}, ["weight_grams"]),
                            ({"weight_grams": 100000001}, ["weight_grams"])):
            self.assertError(self.patch("skus", sku_id, body), 422, "invalid", *words, what=repr(body))
        self.assertError(self.patch("skus", sku_id, {"name": "x"}, token=self.other), 403, "forbidden", "another merchant")
        self.assertError(self.patch("skus", 999999, {"name": "x"}), 404, "not_found", "no SKU 999999")
        self.assertError(self.server.request("PATCH", "/v1/skus/%d" % sku_id, {"name": "x"}), 401, "unauthorized")
        self.assertEqual(self.sku_row(sku_id), before)
        # msgpack too
        status, _, sku = self.server.request("PATCH", "/v1/skus/%d" % sku_id, {"name": "礼盒"}, fmt="msgpack", token=self.coop)
        self.assertEqual((status, sku["name"]), (200, "礼盒"))

    def test_price_change_keeps_what_was_priced(self):
        """A new price is for new direct orders: an order made before, a live item's flash price and a group-buy's
        campaign price stay."""
        p = self.new_product(stock=100, token=self.host)
        sku_id = p["skus"][0]["id"]
        order = self.ordered(sku_id=sku_id, qty=2)
        self.assertEqual(order["amount_cents"], 2 * 3980)
        live_id = self.new_live()
        status, _, item = self.put_on_air(live_id, sku_id, price_cents=2990)
        self.assertEqual(status, 201, item)
        coop_sku = self.new_sku()
        status, _, gb = self.new_campaign(coop_sku, price_cents=3500)
        self.assertEqual(status, 201, gb)

        self.assertEqual(self.patch("skus", sku_id, {"price_cents": 4580}, token=self.host)[0], 200)
        self.assertEqual(self.patch("skus", coop_sku, {"price_cents": 4580})[0], 200)

        status, _, got = self.server.request("GET", "/v1/orders/%d" % order["id"], token=lb.buyer_token(1001))
        self.assertEqual((status, got["amount_cents"]), (200, 2 * 3980))
        self.assertEqual(self.ordered(sku_id=sku_id)["amount_cents"], 4580)  # a new direct order: the new price
        self.assertEqual(self.ordered(live_item_id=item["id"], qty=2)["amount_cents"], 2 * 2990)
        status, _, joined = self.join(gb["id"], qty=2)
        self.assertEqual((status, joined.get("amount_cents")), (201, 2 * 3500), joined)
        status, _, live = self.server.request("GET", "/v1/lives/%d" % live_id)
        self.assertEqual([i["price_cents"] for i in live["items"]], [2990])
        status, _, campaign = self.server.request("GET", "/v1/group-buys/%d" % gb["id"])
        self.assertEqual(campaign["price_cents"], 3500)
        # the order made before pays its own amount, not the new price
        self.assertEqual(self.pay(order)["status"], "paid")


class LedgerTest(Base):
    server_args = Base.server_args + lb.NO_CLIENT_CAPS

    def test_creation_and_restock_write_the_ledger(self):
        p = self.new_product(stock=80)
        sku_id = p["skus"][0]["id"]
        status, _, sku = self.server.request("POST", "/v1/skus/%d/restock" % sku_id, {"qty": 20}, token=self.coop)
        self.assertEqual((status, sku["stock"]), (200, 100))
        entries = self.assertLedgerAddsUp(sku_id)
        self.assertEqual([(e["kind"], e["delta"], e["stock_after"], e["merchant_id"], e["order_id"], e["reason"])
                          for e in entries],
                         [("opening", 80, 80, self.coop_id, None, ""), ("restock", 20, 100, self.coop_id, None, "")])
        self.assertEqual(set(entries[0]), ENTRY_FIELDS)
        self.assertLedgerAddsUp(p["skus"][1]["id"])
        # a restock past the most stock there may be: refused, nothing written
        self.sql("UPDATE skus SET stock = 999999999999 WHERE id = %d" % sku_id)
        self.assertError(self.server.request("POST", "/v1/skus/%d/restock" % sku_id, {"qty": 2}, token=self.coop), 422,
                         "invalid", "qty", "would pass 1000000000000")
        self.sql("UPDATE skus SET stock = 100 WHERE id = %d" % sku_id)
        self.assertEqual(len(self.all_entries(sku_id)), 2)

    def test_adjust(self):
        sku_id = self.new_sku(stock=100)
        status, _, sku = self.adjust(sku_id, -7, "盘点：7 袋受潮")
        self.assertEqual(status, 200, sku)
        self.assertEqual((sku["stock"], sku["available"]), (93, 93))
        self.assertEqual(set(sku), SKU_FIELDS)
        status, _, sku = self.adjust(sku_id, 12, "仓库找到 12 袋")
        self.assertEqual(sku["stock"], 105)
        entries = self.assertLedgerAddsUp(sku_id)
        self.assertEqual([(e["kind"], e["delta"], e["stock_after"], e["merchant_id"], e["reason"]) for e in entries[1:]],
                         [("adjust", -7, 93, self.coop_id, "盘点：7 袋受潮"), ("adjust", 12, 105, self.coop_id, "仓库找到 12 袋")])

    def test_adjust_never_below_committed(self):
        """Down to exactly reserved + sold + held, and not one unit further: 409 with the numbers."""
        p = self.new_product(stock=100, token=self.host)
        sku_id = p["skus"][0]["id"]
        paid = [self.ordered(sku_id=sku_id, qty=15, buyer=b) for b in (1, 2, 3)]  # 45 sold
        for o in paid:
            self.pay(o)
        self.ordered(sku_id=sku_id, qty=20, buyer=4)  # 20 reserved
        status, _, item = self.put_on_air(self.new_live(), sku_id, quota=10)  # 10 held
        self.assertEqual(status, 201, item)
        sku = self.server.sku(sku_id)
        self.assertEqual((sku["stock"], sku["reserved"], sku["sold"], sku["held"]), (100, 20, 45, 10))

        message = self.assertError(self.adjust(sku_id, -30, token=self.host), 409, "conflict")
        self.assertEqual(message, "stock 100 - 30 = 70 is below reserved 20 + sold 45 + held 10 = 75")
        self.assertError(self.adjust(sku_id, -26, token=self.host), 409, "conflict", "= 74 is below")
        self.assertError(self.adjust(sku_id, -1000, token=self.host), 409, "conflict", "= -900 is below")
        self.assertEqual(self.server.sku(sku_id)["stock"], 100)
        status, _, sku = self.adjust(sku_id, -25, token=self.host)
        self.assertEqual((status, sku["stock"], sku["available"]), (200, 75, 0))
        self.assertLedgerAddsUp(sku_id, token=self.host)
        # sold out now; an adjust up lets orders through at once (the lane's hint is cleared)
        self.assertError(self.order(sku_id=sku_id), 409, "sold_out")
        self.assertEqual(self.adjust(sku_id, 3, token=self.host)[0], 200)
        self.ordered(sku_id=sku_id, qty=3, buyer=5)

    def test_adjust_refusals(self):
        sku_id = self.new_sku(stock=10)
        for body, words in (({"delta": 0, "reason": "x"}, ["delta must not be 0"]),
                            ({"reason": "x"}, ["delta is required"]),
                            ({"delta": 1}, ["reason is required"]),
                            ({"delta": 1, "reason": ""}, ["reason"]),
                            ({"delta": 1, "reason": "r" * 201}, ["reason"]),
                            ({"delta": "5", "reason": "x"}, ["delta"]),
                            ({"delta": 1000000000001, "reason": "x"}, ["delta"]),
                            ({"delta": -1000000000001, "reason": "x"}, ["delta"])):
            self.assertError(self.server.request("POST", "/v1/skus/%d/adjust" % sku_id, body, token=self.coop), 422,
                             "invalid", *words, what=repr(body))
        self.assertError(self.adjust(sku_id, 1000000000000), 422, "invalid", "delta", "would pass 1000000000000")
        self.assertError(self.adjust(sku_id, -1, token=self.other), 403, "forbidden", "another merchant")
        self.assertError(self.adjust(sku_id, -1, token=self.shipper), 403, "forbidden")
        self.assertError(self.server.request("POST", "/v1/skus/%d/adjust" % sku_id, {"delta": 1, "reason": "x"}), 401,
                         "unauthorized")
        self.assertError(self.adjust(999999, -1), 404, "not_found", "no SKU 999999")
        self.assertEqual(self.server.sku(sku_id)["stock"], 10)
        self.assertEqual(len(self.assertLedgerAddsUp(sku_id)), 1)

    def test_ledger_paged(self):
        sku_id = self.new_sku(stock=50)
        for i in range(1, 6):
            self.assertEqual(self.adjust(sku_id, i, "第%d次" % i)[0], 200)
        page = self.ledger(sku_id, "?limit=4")
        self.assertEqual((page["sku_id"], page["stock"]), (sku_id, 65))
        self.assertEqual([e["kind"] for e in page["entries"]], ["opening", "adjust", "adjust", "adjust"])
        ids = [e["id"] for e in page["entries"]]
        self.assertEqual(ids, sorted(ids))  # oldest first, by id
        self.assertEqual(page["next"], ids[-1])
        rest = self.ledger(sku_id, "?limit=4&after=%d" % page["next"])
        self.assertEqual(([e["reason"] for e in rest["entries"]], rest["next"]), (["第4次", "第5次"], None))
        self.assertError(self.server.request("GET", "/v1/skus/%d/ledger" % sku_id, token=self.other), 403, "forbidden")
        self.assertError(self.server.request("GET", "/v1/skus/%d/ledger" % sku_id), 401, "unauthorized")
        self.assertError(self.server.request("GET", "/v1/skus/999999/ledger", token=self.coop), 404, "not_found")
        self.assertError(self.server.request("GET", "/v1/skus/%d/ledger?limit=0" % sku_id, token=self.coop), 422, "invalid",
                         "limit")

    def test_downward_adjust_races_a_burst_of_orders(self):
        """Orders and corrections downwards at once on one SKU: never below what is committed, and the ledger adds up."""
        skus = [self.new_sku(stock=300) for _ in range(2)]
        token = lb.buyer_token(7001)
        requests = []
        for i in range(240):
            sku_id = skus[i % 2]
            body = json.dumps({"sku_id": sku_id, "qty": 1 + i % 3, "ship_to": SHIP_TO}).encode()
            requests.append(("POST", "/v1/orders", body, {"Content-Type": "application/json", "Authorization": "Bearer " + token,
                                                          "Idempotency-Key": "race-%d" % i}))
            if i % 12 == 0:
                body = json.dumps({"delta": -40, "reason": "盘点 %d" % i}).encode()
                requests.append(("POST", "/v1/skus/%d/adjust" % sku_id, body,
                                 {"Content-Type": "application/json", "Authorization": "Bearer " + self.coop}))
        answers = self.server.requests_at_once(requests, timeout=60)
        self.assertTrue(all(a is not None for a in answers), "a request got no answer")
        granted = {s: 0 for s in skus}
        adjusted = {s: 0 for s in skus}
        refused_adjusts = 0
        for (method, path, body, _), (status, answer) in zip(requests, answers):
            sent = json.loads(body)
            if path == "/v1/orders":
                self.assertIn(status, (201, 409), answer)
                if status == 201:
                    granted[sent["sku_id"]] += sent["qty"]
                else:
                    self.assertEqual(lb.error_code(answer), "sold_out", answer)
            else:
                self.assertIn(status, (200, 409), answer)
                if status == 200:
                    adjusted[int(path.split("/")[3])] += sent["delta"]
                else:
                    refused_adjusts += 1
                    self.assertIn("is below reserved", lb.error_parts(answer)[1])
        for sku_id in skus:
            sku = self.server.sku(sku_id)
            self.assertEqual(sku["reserved"], granted[sku_id])
            self.assertEqual(sku["stock"], 300 + adjusted[sku_id])
            self.assertGreaterEqual(sku["available"], 0)
            entries = self.assertLedgerAddsUp(sku_id)
            self.assertEqual(sum(e["delta"] for e in entries if e["kind"] == "adjust"), adjusted[sku_id])
        # 480 units, ~480 ordered, 10 corrections of 40 asked: some of each had to be refused
        self.assertGreater(sum(granted.values()), 0)
        self.assertGreater(sum(1 for v in adjusted.values() if v != 0) + refused_adjusts, 0)


class RetireTest(Base):

    def test_retire_sku(self):
        p = self.new_product(stock=50)
        sku_id, sibling = p["skus"][0]["id"], p["skus"][1]["id"]
        reserved = self.ordered(sku_id=sku_id, qty=2)
        status, _, gb = self.new_campaign(sku_id)
        self.assertEqual(status, 201, gb)
        status, _, joined = self.join(gb["id"])
        self.assertEqual(status, 201, joined)

        status, _, sku = self.server.request("POST", "/v1/skus/%d/retire" % sku_id, token=self.coop)
        self.assertEqual((status, sku["retired"]), (200, True), sku)
        retired_at = self.sku_row(sku_id)[5]
        self.assertIsNotNone(retired_at)
        status, _, again = self.server.request("POST", "/v1/skus/%d/retire" % sku_id, token=self.coop)  # idempotent
        self.assertEqual((status, again["retired"]), (200, True))
        self.assertEqual(self.sku_row(sku_id)[5], retired_at)  # retired once: the first time stays
        self.assertTrue(self.server.sku(sku_id)["retired"])
        self.assertFalse(self.server.sku(sibling)["retired"])  # the product's other SKU goes on
        got = self.product(p["id"])
        self.assertEqual((got["retired"], [s["retired"] for s in got["skus"]]), (False, [True, False]))

        # no new orders of its own, joins, campaigns, offers or live items
        self.assertError(self.order(sku_id=sku_id), 409, "conflict", "SKU %d is retired" % sku_id)
        self.assertError(self.join(gb["id"], buyer=2002), 409, "conflict", "SKU %d is retired" % sku_id)
        self.assertError(self.new_campaign(sku_id), 409, "conflict", "SKU %d is retired" % sku_id)
        self.assertError(self.server.request("POST", "/v1/offers", {"sku_id": sku_id, "host_id": self.host_id,
                                                                    "max_quota": 10, "min_price_cents": 0,
                                                                    "commission_bp": 0, "starts_at": 0,
                                                                    "ends_at": lb.TIME_MAX}, token=self.coop),
                         409, "conflict", "SKU %d is retired" % sku_id)
        self.ordered(sku_id=sibling)
        status, _, counts = self.server.request("GET", "/v1/skus/%d" % sku_id)
        self.assertEqual((counts["reserved"], counts["stock"]), (3, 50))

        # everything else goes on: the reservation is paid, shipped and delivered; the join is paid
        self.assertEqual(self.pay(reserved)["status"], "paid")
        self.assertEqual(self.pay(joined)["status"], "paid")
        shipment_id = int(self.sql("SELECT shipment_id FROM shipment_orders WHERE order_id = %d" % reserved["id"])[0][0])
        for kind in ("picked_up", "delivered"):
            raw = json.dumps({"type": kind, "tracking_no": "YT%d" % shipment_id}).encode()
            status, _, answer = self.server.request("POST", "/v1/shipments/%d/events" % shipment_id, raw=raw,
                                                    headers=lb.signed(raw, secret=SHIPPING_SECRET))
            self.assertEqual(status, 200, answer)
        status, _, order = self.server.request("GET", "/v1/orders/%d" % reserved["id"], token=lb.buyer_token(1001))
        self.assertEqual((status, order["status"]), (200, "delivered"))
        # stock corrections and edits go on too
        self.assertEqual(self.adjust(sku_id, -10)[0], 200)
        self.assertEqual(self.patch("skus", sku_id, {"name": "2.5kg 袋装（停售）"})[0], 200)
        self.assertLedgerAddsUp(sku_id)
        # refusals
        self.assertError(self.server.request("POST", "/v1/skus/%d/retire" % sibling, token=self.other), 403, "forbidden")
        self.assertError(self.server.request("POST", "/v1/skus/%d/retire" % sibling), 401, "unauthorized")
        self.assertError(self.server.request("POST", "/v1/skus/999999/retire", token=self.coop), 404, "not_found")
        self.assertFalse(self.server.sku(sibling)["retired"])

    def test_items_on_air_sell_out_their_quota(self):
        p = self.new_product(stock=100, token=self.host)
        sku_id = p["skus"][0]["id"]
        live_id = self.new_live()
        status, _, item = self.put_on_air(live_id, sku_id, quota=4)
        self.assertEqual(status, 201, item)
        self.assertEqual(self.server.request("POST", "/v1/skus/%d/retire" % sku_id, token=self.host)[0], 200)
        self.assertError(self.put_on_air(live_id, sku_id), 409, "conflict", "SKU %d is retired" % sku_id)
        self.assertError(self.order(sku_id=sku_id), 409, "conflict", "retired")
        first = self.ordered(live_item_id=item["id"], qty=3, buyer=11)
        self.assertEqual(first["amount_cents"], 3 * 2990)
        self.ordered(live_item_id=item["id"], qty=1, buyer=12)
        self.assertError(self.order(live_item_id=item["id"], buyer=13), 409, "sold_out")
        # a cancel gives the unit back to the item, which sells it again
        status, _, cancelled = self.server.request("POST", "/v1/orders/%d/cancel" % first["id"], token=lb.buyer_token(11))
        self.assertEqual((status, cancelled["status"]), (200, "cancelled"))
        self.ordered(live_item_id=item["id"], qty=2, buyer=13)
        sku = self.server.sku(sku_id)
        self.assertEqual((sku["reserved"], sku["held"], sku["retired"]), (3, 1, True))

    def test_retire_product(self):
        p = self.new_product(stock=20)
        pid = p["id"]
        status, _, got = self.server.request("POST", "/v1/products/%d/retire" % pid, token=self.coop)
        self.assertEqual(status, 200, got)
        self.assertEqual(set(got), PRODUCT_FIELDS)
        self.assertEqual((got["retired"], [s["retired"] for s in got["skus"]]), (True, [True, True]))
        self.assertEqual(self.product(pid), got)  # a retired product still answers, marked
        status, _, again = self.server.request("POST", "/v1/products/%d/retire" % pid, token=self.coop)
        self.assertEqual((status, again["retired"]), (200, True))
        for sku in p["skus"]:
            self.assertError(self.order(sku_id=sku["id"]), 409, "conflict", "SKU %d is retired" % sku["id"])
        self.assertEqual(self.patch("products", pid, {"description": "已停售"})[0], 200)
        self.assertError(self.server.request("POST", "/v1/products/%d/retire" % pid, token=self.other), 403, "forbidden",
                         "another merchant")
        self.assertError(self.server.request("POST", "/v1/products/999999/retire", token=self.coop), 404, "not_found",
                         "no product 999999")
        other = self.new_product(token=self.other)
        self.assertError(self.server.request("POST", "/v1/products/%d/retire" % other["id"], token=self.coop), 403,
                         "forbidden")
        self.assertFalse(any(s["retired"] for s in self.product(other["id"])["skus"]))


def making_body(title, names=("2.5kg 袋装", "5kg 袋装")):
    return {"title": title, "unit": "袋", "origin": "山西省长治市武乡县", "cold_chain": False,
            "skus": [{"name": n, "price_cents": 3980 + i, "stock": 50, "weight_grams": 2600} for i, n in enumerate(names)]}


class MakingBase(lb.ServerTestCase):
    """A product made in steps (hidden, its SKUs one by one, published: server/store/product_create.c) stopped between
    them: the failure point LIVEBUY_FAULT_PAUSE has the making session sleep there, and the test ends it as a lost
    connection or a crash of livebuyd would."""

    def setUp(self):
        self.coop_id, self.coop = self.server.create_merchant("coop", "武乡县岭头小米专业合作社")

    def lock(self):
        return "product_maker/%d" % self.coop_id

    def post(self, body):
        return self.server.request("POST", "/v1/products", body, token=self.coop)

    def rows(self):
        """The co-op's products in the database: {id: (making or not, [SKU ids], ledger entries of those SKUs)}."""
        out = {}
        for pid, making in self.sql("SELECT id, making IS NOT NULL FROM products WHERE merchant_id = %d" % self.coop_id):
            skus = [int(i) for [i] in self.sql("SELECT id FROM skus WHERE product_id = %s ORDER BY id" % pid)]
            entries = int(self.sql("SELECT COUNT(*) FROM stock_ledger WHERE sku_id IN (%s)"
                                   % ",".join(map(str, skus or [0])))[0][0])
            out[int(pid)] = (making == "1", skus, entries)
        return out

    def assertMade(self, answer, body):
        status, _, product = answer
        self.assertEqual(status, 201, product)
        self.assertEqual([(k["name"], k["stock"]) for k in product["skus"]],
                         [(k["name"], k["stock"]) for k in body["skus"]])
        self.assertEqual(self.rows()[product["id"]], (False, [k["id"] for k in product["skus"]], len(body["skus"])))
        return product


class MakingConnectionLostTest(MakingBase):
    server_env = {"LIVEBUY_FAULT_PAUSE": "product_sku"}

    def test_goes_on_where_it_stopped(self):
        body = making_body("武乡小米 连接断了")
        answer = lb.in_background(self.server, "POST", "/v1/products", body, token=self.coop)
        lb.kill_paused_session(self.sql, self.dbname, self.lock())
        # The job runs again on a new connection and completes the same product: one product, each SKU once.
        product = self.assertMade(answer(), body)
        self.assertEqual(list(self.rows()), [product["id"]])


class MakingCrashTest(MakingBase):

    def crash_while_making(self, body, pause, headers=None):
        """Starts livebuyd again with the failure point at pause, POSTs body (with headers), and kills livebuyd (SIGKILL) there; the
        database ends the orphaned session (sooner here: KILL). Starts livebuyd again without the pause. Returns the
        hidden product left: its id and its SKUs' ids."""
        self.server.kill()
        self.server.env = {"LIVEBUY_FAULT_PAUSE": pause}
        self.server.start()
        answer = lb.in_background(self.server, "POST", "/v1/products", body, token=self.coop, headers=headers)
        session = lb.paused_session(self.sql, self.dbname, self.lock())
        self.server.kill()
        self.sql("KILL %d" % session)
        with self.assertRaises(Exception):
            answer()
        self.server.env = None
        self.server.start()
        [(pid, skus)] = [(p, r[1]) for p, r in self.rows().items() if r[0]]
        return pid, skus

    def assertUnseen(self, pid, sku_id):
        s = self.server
        for path in ("/v1/products/%d" % pid, "/v1/skus/%d" % sku_id):
            status, _, answer = s.request("GET", path)
            self.assertEqual((status, lb.error_code(answer)), (404, "not_found"), path)
        status, _, answer = s.request("PATCH", "/v1/products/%d" % pid, {"title": "改"}, token=self.coop)
        self.assertEqual(status, 404, answer)
        status, _, page = s.request("GET", "/v1/merchant/products", token=self.coop)
        self.assertNotIn(pid, [p["id"] for p in page["products"]])
        status, _, page = s.request("GET", "/v1/merchant/skus", token=self.coop)
        self.assertNotIn(sku_id, [k["id"] for k in page["skus"]])
        # Made retired: not even a guessed id can be ordered.
        status, _, answer = s.request("POST", "/v1/orders", {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO},
                                      token=lb.buyer_token(3001), headers={"Idempotency-Key": "cat-%d" % next(_keys)})
        self.assertEqual(status, 409, answer)

    def test_a_retry_completes_it_and_anything_else_removes_it(self):
        body = making_body("武乡小米 崩溃之后")
        pid, skus = self.crash_while_making(body, "product_sku")
        self.assertEqual((len(skus), self.rows()[pid][2]), (1, 1))  # its first SKU made, with its ledger entry
        self.assertUnseen(pid, skus[0])
        # The co-op's retry, the same request: the product left is completed and answered, no second one.
        product = self.assertMade(self.post(body), body)
        self.assertEqual((product["id"], product["skus"][0]["id"]), (pid, skus[0]))
        self.assertEqual(list(self.rows()), [pid])
        # Another crash; the co-op then asks for something else: the leftover is removed, the new one made.
        left, left_skus = self.crash_while_making(making_body("武乡小米 又崩溃了"), "product_sku")
        self.assertUnseen(left, left_skus[0])
        other = making_body("沁州黄 另一个", names=("1kg 盒装",))
        made = self.assertMade(self.post(other), other)
        self.assertEqual(sorted(self.rows()), sorted([pid, made["id"]]))
        self.assertEqual(self.sql("SELECT COUNT(*) FROM stock_ledger WHERE sku_id = %d" % left_skus[0]), [("0",)])

    def test_a_crash_while_putting_on_sale_is_completed(self):
        """Once a SKU was on sale (it may have orders), any request of the co-op completes the product left."""
        body = making_body("武乡小米 上架中崩溃")
        pid, skus = self.crash_while_making(body, "product_on_sale")
        self.assertEqual(len(skus), 2)
        status, _, answer = self.server.request("GET", "/v1/products/%d" % pid)
        self.assertEqual(status, 404, answer)
        other = making_body("沁州黄 再一个", names=("500g 袋装",))
        made = self.assertMade(self.post(other), other)
        self.assertEqual(self.rows()[pid], (False, skus, 2))
        got = self.server.request("GET", "/v1/products/%d" % pid)[2]
        self.assertEqual(([k["id"] for k in got["skus"]], [k["retired"] for k in got["skus"]]), (skus, [False, False]))
        self.assertNotEqual(made["id"], pid)

    def test_a_retry_with_the_key_completes_the_product_left(self):
        """A crash while making a product under a key: the key with another body is refused and leaves the product as
        it is; the retry completes it (a first answer: it was never given), and the retry after that is a replay."""
        body, key = making_body("武乡小米 带键崩溃"), {"Idempotency-Key": "crash-1"}
        pid, skus = self.crash_while_making(body, "product_sku", key)
        self.assertError(self.server.request("POST", "/v1/products", making_body("沁州黄 换了"), token=self.coop,
                                             headers=key), 422, "invalid", "crash-1")
        self.assertEqual(self.rows(), {pid: (True, skus, 1)})
        status, headers, product = self.server.request("POST", "/v1/products", body, token=self.coop, headers=key)
        product = self.assertMade((status, headers, product), body)
        self.assertEqual((product["id"], product["skus"][0]["id"], headers.get("idempotent-replayed")), (pid, skus[0], None))
        status, headers, again = self.server.request("POST", "/v1/products", body, token=self.coop, headers=key)
        self.assertEqual((status, headers.get("idempotent-replayed"), again), (201, "true", product))
        self.assertEqual(list(self.rows()), [pid])

class ProductKeyTest(MakingBase):
    """POST /v1/products with an Idempotency-Key: a retry after the answer was lost gets the product it made, never a
    second one; the key reused with another body is refused; a key is its merchant's."""

    def post(self, body, key, token=None, fmt="json"):
        return self.server.request("POST", "/v1/products", body, token=token or self.coop, fmt=fmt,
                                   headers={"Idempotency-Key": key})

    def counts(self, merchant_id=None):
        """The merchant's products, SKUs and ledger entries in the database."""
        m = merchant_id or self.coop_id
        return tuple(int(self.sql(q % m)[0][0]) for q in (
            "SELECT COUNT(*) FROM products WHERE merchant_id = %d",
            "SELECT COUNT(*) FROM skus WHERE merchant_id = %d",
            "SELECT COUNT(*) FROM stock_ledger l JOIN skus k ON k.id = l.sku_id WHERE k.merchant_id = %d"))

    def state(self):
        """The co-op's products and SKUs as the database holds them, with the counts."""
        return (self.counts(),
                self.sql("SELECT id, title, unit, origin, description, cold_chain, created_at, updated_at, retired_at, "
                         "making IS NULL, idem_key, HEX(request_hash) FROM products WHERE merchant_id = %d ORDER BY id"
                         % self.coop_id),
                self.sql("SELECT id, product_id, name, price_cents, weight_grams, stock, retired_at FROM skus "
                         "WHERE merchant_id = %d ORDER BY id" % self.coop_id))

    def assertReplayed(self, answer, product):
        status, headers, got = answer
        self.assertEqual((status, headers.get("idempotent-replayed")), (201, "true"), got)
        self.assertEqual(got, product)

    def test_a_retry_with_the_key_answers_the_product_made(self):
        body = making_body("武乡小米 网络断了")
        status, headers, product = self.post(body, "tap-1")
        self.assertEqual(status, 201, product)
        self.assertNotIn("idempotent-replayed", headers)
        self.assertEqual(self.counts(), (1, 2, 2))
        # The answer was lost; the phone sends the request again with the same key (in either format): the same
        # product, nothing made.
        self.assertReplayed(self.post(body, "tap-1"), product)
        self.assertReplayed(self.post(body, "tap-1", fmt="msgpack"), product)
        self.assertEqual(self.counts(), (1, 2, 2))
        self.assertEqual(self.sql("SELECT idem_key FROM products WHERE id = %d" % product["id"]), [("tap-1",)])

    def test_the_key_with_another_body_is_refused(self):
        body = making_body("武乡小米 第一次")
        status, _, product = self.post(body, "tap-2")
        self.assertEqual(status, 201, product)
        before = self.state()
        for other in (making_body("武乡小米 改了标题"), making_body("武乡小米 第一次", names=("2.5kg 袋装",)),
                      dict(body, skus=[dict(k, stock=k["stock"] + 1) for k in body["skus"]])):
            self.assertError(self.post(other, "tap-2"), 422, "invalid", "Idempotency-Key tap-2", "another product")
        self.assertEqual(self.state(), before)
        self.assertReplayed(self.post(body, "tap-2"), product)

    def test_two_keys_make_two_products(self):
        body = making_body("武乡小米 两次上架")
        first, second = [self.post(body, key) for key in ("tap-a", "tap-b")]
        self.assertEqual((first[0], second[0]), (201, 201), (first, second))
        self.assertNotEqual(first[2]["id"], second[2]["id"])
        self.assertEqual(self.counts(), (2, 4, 4))
        self.assertReplayed(self.post(body, "tap-a"), first[2])
        self.assertReplayed(self.post(body, "tap-b"), second[2])
        self.assertEqual(self.counts(), (2, 4, 4))

    def test_a_key_is_the_merchants(self):
        other_id, other = self.server.create_merchant("host", "长治直播间·太行好物")
        body = making_body("武乡小米 同一个键")
        mine, theirs = self.post(body, "tap-same"), self.post(body, "tap-same", token=other)
        self.assertEqual((mine[0], theirs[0]), (201, 201), (mine, theirs))
        self.assertNotIn("idempotent-replayed", theirs[1])
        self.assertEqual((mine[2]["merchant_id"], theirs[2]["merchant_id"]), (self.coop_id, other_id))
        # Another body under the same key is another merchant's business, not a reuse of this one's.
        self.assertEqual(self.post(making_body("主播自营 小米"), "tap-other", token=other)[0], 201)
        self.assertEqual(self.post(making_body("武乡小米 另一个"), "tap-other")[0], 201)
        self.assertReplayed(self.post(body, "tap-same"), mine[2])
        self.assertReplayed(self.post(body, "tap-same", token=other), theirs[2])
        self.assertEqual((self.counts(), self.counts(other_id)), ((2, 4, 4), (2, 4, 4)))

    def test_a_bad_key_is_refused(self):
        body = making_body("武乡小米 坏的键")
        # Too long, and a control character (a tab: h2o refuses the others itself, with 400).
        for key in ("k" * 65, "tap\tone"):
            self.assertError(self.post(body, key), 422, "invalid", "Idempotency-Key", what=repr(key))
        self.assertEqual(self.counts(), (0, 0, 0))
        status, _, product = self.post(body, "k" * 64)
        self.assertEqual(status, 201, product)
        self.assertReplayed(self.post(body, "k" * 64), product)


class MakingHiddenTest(MakingBase):
    def test_a_sku_of_a_product_in_the_making_cannot_be_changed(self):
        """A SKU of a product still in the making is nobody's yet: PATCH, restock, adjust and retire answer 404 as its
        reads do, and change nothing (a merchant who guessed its id changed it while told 404)."""
        product = self.assertMade(self.post(making_body("武乡小米 还没上架")), making_body("武乡小米 还没上架"))
        sku = product["skus"][0]["id"]
        self.sql("UPDATE products SET making = UNHEX(SHA2('another request', 256)) WHERE id = %d" % product["id"])
        before = self.sql("SELECT name, price_cents, stock, retired_at FROM skus WHERE id = %d" % sku)
        entries = self.sql("SELECT COUNT(*) FROM stock_ledger WHERE sku_id = %d" % sku)
        for method, path, body in (("PATCH", "/v1/skus/%d" % sku, {"price_cents": 1}),
                                   ("POST", "/v1/skus/%d/restock" % sku, {"qty": 5}),
                                   ("POST", "/v1/skus/%d/adjust" % sku, {"delta": -3, "reason": "盘点"}),
                                   ("POST", "/v1/skus/%d/retire" % sku, None),
                                   ("GET", "/v1/skus/%d" % sku, None)):
            status, _, answer = self.server.request(method, path, body, token=self.coop)
            self.assertEqual((status, answer["error"]["code"]), (404, "not_found"), (method, path, answer))
        self.assertEqual(self.sql("SELECT name, price_cents, stock, retired_at FROM skus WHERE id = %d" % sku), before)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM stock_ledger WHERE sku_id = %d" % sku), entries)


if __name__ == "__main__":
    lb.main()
