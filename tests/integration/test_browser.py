"""The web pages in a real headless Chromium: livebuyd serves web/ (/shop/{live_id}, /coop, /host,
/overlay/{live_id}, /web/...), and tests/browser/pages.test.mjs (node, playwright-core driving Debian's
/usr/bin/chromium) loads them, watches the stock count fall as orders come from outside, buys, signs in to the co-op
dashboard, runs a live from the host console (accepts an offer, puts items on air, sees sales arrive), closes the
host's item from the co-op dashboard, watches the stream overlay count down to 已售罄, and on a phone buys, finds the
order in 我的订单, pays in the sandbox cashier and sees it paid after a reload; on a phone joins a group-buy from its
page and sees it counted, and at a village station ticks an order of a delivered shipment collected. Screenshots go to
LIVEBUY_SCREENSHOT_DIR (the build folder's screenshots/, set by tests/CMakeLists.txt).

Needs Debian's chromium and `npm ci --prefix tests/browser` (scripts/test.sh installs both)."""

import json
import os
import tempfile
import time

import lb

QUOTA, LIMIT = 6, 2
OVERLAY_QUOTA = 5
SHIPPING_SECRET = "test-shipping-secret-browser-0123"


class Pages(lb.ServerTestCase):
    server_args = ["--buyer-secret", lb.BUYER_SECRET, "--payment-secret", lb.PAYMENT_SECRET,
                   "--web-dir", os.path.join(lb.SOURCE_DIR, "web"), "--payment-sandbox",
                   "--shipping-secret", SHIPPING_SECRET]

    @classmethod
    def setUpClass(cls):
        """As scripts/run.sh runs the demo: the sandbox cashier, and refunds pushed to the sandbox's own receiver."""
        cls.sock = lb.mariadb()
        cls.dbname = lb.fresh_database(cls.sock)
        cls.url = lb.db_url(cls.sock, cls.dbname)
        cls.server = lb.Server(cls.url, list(cls.server_args), start=False)
        cls.server.port = lb.free_port()
        cls.server.extra_args += ["--refund-url", cls.server.base_url + "/sandbox/refunds"]
        cls.server.start()

    def post(self, path, body, token, expect=201):
        status, _, answer = self.server.request("POST", path, body, token=token)
        self.assertEqual(status, expect, "POST %s: %r" % (path, answer))
        return answer

    def paid_join(self, group_buy, buyer, qty):
        status, _, order = self.server.request("POST", "/v1/orders", {"group_buy_id": group_buy, "qty": qty},
                                               token=lb.buyer_token(buyer), headers={"Idempotency-Key": "pj-%d" % buyer})
        self.assertEqual(status, 201, order)
        raw = json.dumps({"order_id": order["id"], "provider_txn_id": "pj-%d" % order["id"],
                          "amount_cents": order["amount_cents"]}).encode()
        status, _, answer = self.server.request("POST", "/v1/payments/notify", raw=raw, headers=lb.signed(raw))
        self.assertEqual((status, answer["status"]), (200, "paid"), answer)
        return order["id"]

    def delivered_campaign(self, coop, sku_id, point):
        """A campaign at point that succeeds with two paid joins and whose shipment is delivered: (shipment, orders)."""
        gb = self.post("/v1/group-buys", {"sku_id": sku_id, "pickup_point_id": point, "price_cents": 4580, "min_qty": 2,
                                          "per_buyer_limit": 3, "closes_at": int(time.time()) + 2}, coop)["id"]
        orders = [self.paid_join(gb, 1101, 2), self.paid_join(gb, 1102, 1)]
        query = "SELECT id FROM shipments WHERE group_buy_id = %d" % gb
        self.assertTrue(lb.wait_for(lambda: self.sql(query), 15), "campaign %d did not ship" % gb)
        shipment = int(self.sql(query)[0][0])
        raw = json.dumps({"type": "delivered", "tracking_no": "YZ-BROWSER-1"}).encode()
        status, _, answer = self.server.request("POST", "/v1/shipments/%d/events" % shipment, raw=raw,
                                                headers=lb.signed(raw, secret=SHIPPING_SECRET))
        self.assertEqual(status, 200, answer)
        return gb, shipment, orders

    def test_static_files(self):
        """The pages and their files are served with UTF-8 types; the API and its JSON 404 are unchanged."""
        s = self.server
        for path, media in (("/shop/1", "text/html"), ("/shop/123/", "text/html"), ("/coop", "text/html"),
                            ("/host", "text/html"), ("/overlay/1", "text/html"), ("/overlay/12/", "text/html"),
                            ("/web/shop.js", "text/javascript"), ("/web/coop.js", "text/javascript"),
                            ("/web/host.js", "text/javascript"), ("/web/overlay.js", "text/javascript"),
                            ("/web/common.js", "text/javascript"), ("/web/catalogue.js", "text/javascript"),
                            ("/web/style.css", "text/css"),
                            ("/pay/1", "text/html"), ("/web/pay.js", "text/javascript"), ("/group/1", "text/html"),
                            ("/group/12/", "text/html"), ("/station", "text/html"), ("/web/group.js", "text/javascript"),
                            ("/web/station.js", "text/javascript")):
            status, headers, body = s.request("GET", path)
            self.assertEqual(status, 200, path)
            self.assertEqual(headers["content-type"], media + "; charset=utf-8", path)
            self.assertTrue(len(body) > 100, path)
            # checked again before a copy is used, the type as sent, Referer to this site, its scripts only, no frames
            self.assertEqual((headers["cache-control"], headers["x-content-type-options"], headers["referrer-policy"]),
                             ("no-cache", "nosniff", "same-origin"), path)
            policy = headers["content-security-policy"]
            for rule in ("script-src 'self'", "object-src 'none'", "frame-ancestors 'self'"):
                self.assertIn(rule, policy, path)
        # no-cache: a copy is checked by its ETag, and answered 304 while the file is the same
        _, headers, _ = s.request("GET", "/web/common.js")
        status, _, _ = s.request("GET", "/web/common.js", headers={"If-None-Match": headers["etag"]})
        self.assertEqual(status, 304)
        status, _, body = s.request("GET", "/shop/7?token=b1.x")
        self.assertEqual(status, 200)
        self.assertIn("收货信息".encode(), body)
        # a page's file under a path that names nothing: /shop/abc is not a shop page of no live
        for path in ("/pay/", "/shop", "/group/", "/coop/", "/shop/7/"):
            self.assertEqual(s.request("HEAD", path)[0], 200, path)
        for path in ("/web/missing.js", "/shopping", "/coops", "/hosts", "/overlays", "/groups", "/stations",
                     "/nothing/here", "/shop/abc", "/shop/1abc", "/shop/1/2", "/pay/abc", "/pay/-1",
                     "/group/abc", "/group/1.0", "/overlay/abc", "/coop/x", "/host/1", "/station/x", "/docs/x"):
            status, headers, body = s.request("GET", path)
            self.assertEqual(status, 404, path)
            self.assertEqual(lb.error_code(body), "not_found", path)
        status, _, body = s.request("GET", "/healthz")
        self.assertEqual(status, 200)
        status, _, body = s.request("GET", "/v1/skus/999999")
        self.assertEqual((status, lb.error_code(body)), (404, "not_found"))

    def test_merchant_skus(self):
        """GET /v1/merchant/skus: the merchant's own SKUs with product titles and counters, paged."""
        s = self.server
        _, coop = s.create_merchant("coop", "沁县核桃合作社")
        _, other = s.create_merchant("coop", "别的合作社")
        mine = [s.create_product(coop)["skus"] for _ in range(3)]
        s.create_product(other)
        ids = [sku["id"] for skus in mine for sku in skus]
        self.post("/v1/skus/%d/restock" % ids[0], {"qty": 5}, coop, expect=200)
        seen, after = [], None
        while True:
            path = "/v1/merchant/skus?limit=4" + ("&after=%d" % after if after else "")
            status, _, page = s.request("GET", path, token=coop)
            self.assertEqual(status, 200, page)
            seen += page["skus"]
            after = page["next"]
            if after is None:
                break
        self.assertEqual([k["id"] for k in seen], ids)
        first = seen[0]
        self.assertEqual(first["title"], "武乡小米 (沁州黄) 新米")
        self.assertEqual({k: first[k] for k in ("name", "price_cents", "stock", "reserved", "sold", "held", "available")},
                         {"name": "武乡小米 2.5kg 礼盒", "price_cents": 5990, "stock": 105, "reserved": 0, "sold": 0,
                          "held": 0, "available": 105})
        status, _, body = s.request("GET", "/v1/merchant/skus")
        self.assertEqual(status, 401)
        status, _, body = s.request("GET", "/v1/merchant/skus?limit=0", token=coop)
        self.assertEqual((status, lb.error_code(body)), (422, "invalid"))
        _, shipper = s.create_merchant("shipper", "物流")
        status, _, body = s.request("GET", "/v1/merchant/skus", token=shipper)
        self.assertEqual(status, 403)

    def test_pages_in_chromium(self):
        s = self.server
        host_id, host = s.create_merchant("host", "长治直播间")
        _, coop = s.create_merchant("coop", "武乡县岭头小米专业合作社")
        sku_id = s.create_product(coop, [{"name": "2.5kg 袋装", "price_cents": 5990, "stock": 100,
                                          "weight_grams": 2600}], title="武乡小米 当季新米")["skus"][0]["id"]
        s.accepted_offer(coop, host, host_id, sku_id)
        live_id = self.post("/v1/lives", {"title": "今晚八点 武乡小米专场", "starts_at": int(time.time())}, host)["id"]
        opens_at = int(time.time()) + 8
        item_id = self.post("/v1/lives/%d/items" % live_id, {"sku_id": sku_id, "price_cents": 3990, "quota": QUOTA,
                                                             "per_buyer_limit": LIMIT, "opens_at": opens_at}, host)["id"]
        # The overlay's live: the host's own SKU (no offer needed), open at once.
        own_sku = s.create_product(host, [{"name": "1kg 礼盒", "price_cents": 6800, "stock": 50, "weight_grams": 1100}],
                                   title="沁州黄小米 礼盒")["skus"][0]["id"]
        overlay_live = self.post("/v1/lives", {"title": "长治直播间 · 礼盒专场", "starts_at": int(time.time())}, host)["id"]
        overlay_item = self.post("/v1/lives/%d/items" % overlay_live,
                                 {"sku_id": own_sku, "price_cents": 4580, "quota": OVERLAY_QUOTA, "per_buyer_limit": 3,
                                  "opens_at": int(time.time())}, host)["id"]
        # The console's offer: the co-op's second SKU, pending until the host accepts it on the console.
        offer_sku = s.create_product(coop, [{"name": "1kg 礼盒", "price_cents": 5800, "stock": 100, "weight_grams": 1300}],
                                     title="沁州黄小米 礼盒")["skus"][0]["id"]
        offer_id = s.create_offer(coop, offer_sku, host_id, max_quota=20, min_price_cents=3000, commission_bp=1000,
                                  starts_at=int(time.time()) - 60)["id"]
        point = self.post("/v1/pickup-points", {"name": "岭头村村级服务站", "county": "武乡县", "township": "丰州镇",
                                                "village": "岭头村", "address": "岭头村村委会旁"}, coop)["id"]
        # 我的订单's live: the host's own SKU, open now.
        orders_live = self.post("/v1/lives", {"title": "长治直播间 · 我的订单", "starts_at": int(time.time())}, host)["id"]
        orders_item = self.post("/v1/lives/%d/items" % orders_live,
                                {"sku_id": own_sku, "price_cents": 3990, "quota": 4, "per_buyer_limit": 2,
                                 "opens_at": int(time.time())}, host)["id"]
        group_buy = self.post("/v1/group-buys", {"sku_id": sku_id, "pickup_point_id": point, "price_cents": 4980,
                                                 "min_qty": 5, "per_buyer_limit": 3,
                                                 "closes_at": int(time.time()) + 86400}, coop)["id"]
        # A campaign nobody joins: closed as failed by the time its page is shown.
        failed_group_buy = self.post("/v1/group-buys", {"sku_id": sku_id, "pickup_point_id": point, "price_cents": 4980,
                                                        "min_qty": 5, "per_buyer_limit": 3,
                                                        "closes_at": int(time.time()) + 1}, coop)["id"]
        # The village station: its own pickup point, and a campaign there delivered.
        station_id, station = s.create_merchant("station", "韩北村服务站 王桂兰")
        station_point = self.post("/v1/pickup-points", {"name": "韩北村村级服务站", "county": "武乡县", "township": "韩北乡",
                                                        "village": "韩北村", "address": "韩北村村委会东侧",
                                                        "station_id": station_id}, coop)["id"]
        station_group_buy, station_shipment, station_orders = self.delivered_campaign(coop, sku_id, station_point)

        shots = os.environ.get("LIVEBUY_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="lbshots-")
        env = {
            "LB_BASE_URL": s.base_url, "LB_LIVE_ID": str(live_id), "LB_ITEM_ID": str(item_id), "LB_QUOTA": str(QUOTA),
            "LB_LIMIT": str(LIMIT), "LB_OPENS_AT": str(opens_at),
            "LB_BUYER_TOKENS": ",".join(lb.buyer_token(u) for u in (1001, 1002, 1003, 1004, 1005)),
            "LB_COOP_TOKEN": coop, "LB_COOP_SKU_ID": str(sku_id), "LB_GROUP_BUY_ID": str(group_buy),
            "LB_OVERLAY_LIVE_ID": str(overlay_live), "LB_OVERLAY_ITEM_ID": str(overlay_item),
            "LB_OVERLAY_QUOTA": str(OVERLAY_QUOTA),
            "LB_HOST_TOKEN": host, "LB_HOST_ID": str(host_id), "LB_HOST_SKU_ID": str(own_sku),
            "LB_OFFER_ID": str(offer_id), "LB_OFFER_SKU_ID": str(offer_sku), "LB_PAYMENT_SECRET": lb.PAYMENT_SECRET,
            "LB_SHIPPING_SECRET": SHIPPING_SECRET,
            "LB_ORDERS_LIVE_ID": str(orders_live), "LB_ORDERS_ITEM_ID": str(orders_item), "LB_ORDERS_QUOTA": "4",
            "LB_ORDERS_BUYER_TOKEN": lb.buyer_token(1006),
            "LB_GROUP_BUYER_TOKEN": lb.buyer_token(1007), "LB_FAILED_GROUP_BUY_ID": str(failed_group_buy),
            "LB_STATION_TOKEN": station, "LB_STATION_SHIPMENT_ID": str(station_shipment),
            "LB_STATION_ORDER_ID": str(station_orders[0]), "LB_STATION_GROUP_BUY_ID": str(station_group_buy),
            "LB_STATION_BUYER_TOKEN": lb.buyer_token(1101),
            "LB_SCREENSHOT_DIR": shots,
        }
        lb.run_browser_script(self, "pages.test.mjs", env)
        print("\nbrowser tests passed; screenshots in %s" % shots)

        # Whatever the pages did, the counters agree: the quota is all reserved, nothing oversold.
        status, _, live = s.request("GET", "/v1/lives/%d" % live_id)
        self.assertEqual(live["items"][0]["available"], 0)
        rows = self.sql("SELECT COALESCE(SUM(qty), 0) FROM orders WHERE live_item_id = %d AND status = 'reserved'"
                        % item_id)
        self.assertEqual(int(rows[0][0]), QUOTA)
        status, _, live = s.request("GET", "/v1/lives/%d" % overlay_live)
        self.assertEqual(live["items"][0]["available"], 0)
        # The console's item went on air with 10 of the offer's 20, sold 2, and the co-op closed it: 2 stay placed.
        status, _, offer = s.request("GET", "/v1/offers/%d" % offer_id, token=coop)
        self.assertEqual((offer["status"], offer["placed"], offer["left"]), ("accepted", 2, 18))
        # The station handed out the first join and only it.
        self.assertEqual([self.sql("SELECT status FROM orders WHERE id = %d" % o)[0][0] for o in station_orders],
                         ["collected", "delivered"])
        for name in ("shop.png", "shop-sold-out.png", "coop.png", "coop-orders.png", "coop-groups.png", "overlay.png",
                     "overlay-sold-out.png", "host-lives.png", "host-offers.png", "host-live.png", "coop-holds.png",
                     "coop-offers.png", "shop-orders.png", "pay.png", "pay-paid.png", "shop-orders-paid.png", "group.png",
                     "group-joined.png", "group-failed.png", "station.png", "station-pick.png", "station-collected.png",
                     "station-print.png", "coop-catalogue.png", "coop-adjust-refused.png",
                     "coop-retire-confirm.png", "coop-retired.png"):
            self.assertTrue(os.path.getsize(os.path.join(shots, name)) > 1000, name)


if __name__ == "__main__":
    lb.main()
