"""GET /v1/merchant/orders by date and as CSV (#17 part 5): the from / to range at its edges and its refusals, Accept
(JSON the default, msgpack, CSV, 406 for anything else), the CSV's bytes (BOM, header, quoting, Chinese, yuan, channel,
destination, tracking number), CSV pages linked to the end, and never another co-op's orders. Real HTTP against a real
MariaDB. (test_orders.py and test_lives.py cover the listing's pages and status filter.)"""

import csv
import io
import json
import re
import time
import urllib.parse

import lb

buyer_token, error_parts, signed = lb.buyer_token, lb.error_parts, lb.signed

BUYER = {"name": '王,小明 "二娃"', "phone": "13800000000", "address": "山西省长治市武乡县丰州镇, 岭头村 2 号"}
# The API refuses control characters in an address; a row written otherwise (by hand, by an older build) may hold one.
TWO_LINES = "山西省长治市武乡县丰州镇\n岭头村 2 号"
STATION = {"name": "岭头村服务站", "county": "武乡县", "township": "韩北乡", "village": "岭头村", "address": "村委会东侧"}
# 2026-12-05 00:00:00 in China (UTC+8), as Unix seconds.
DEC5 = 1796400000
DAY = 86400
PATH = "/v1/merchant/orders"
CSV_TYPE = "text/csv; charset=utf-8"
HEADER = ["订单号 order", "下单时间 time (UTC+8)", "状态 status", "商品 produce", "数量 qty", "金额(元) yuan", "买家 buyer",
          "买家编号 buyer id", "电话 phone", "渠道 channel", "自提点或地址 pickup / address", "快递单号 tracking no"]


class MerchantOrdersExportTest(lb.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.coop_id, cls.coop = s.create_merchant("coop", "武乡小米合作社")
        cls.other_id, cls.other = s.create_merchant("coop", "沁县合作社")
        cls.host_id, cls.host = s.create_merchant("host", "长治直播间")
        skus = [{"name": "2.5kg 礼盒", "price_cents": 5990, "stock": 1000, "weight_grams": 2700}]
        cls.sku = s.create_product(cls.coop, skus, title='武乡小米, "沁州黄"')["skus"][0]["id"]
        cls.other_sku = s.create_product(cls.other, skus, title="沁县小米")["skus"][0]["id"]
        cls.buyer = 7001

    # -- helpers ------------------------------------------------------------------------------------------------------

    def order(self, body, buyer=None):
        status, _, answer = self.server.request("POST", "/v1/orders", body, token=buyer_token(buyer or self.buyer))
        self.assertEqual(status, 201, answer)
        return answer

    def direct(self, sku_id=None, qty=1, created_at=None):
        """A direct order with BUYER's address; created_at (Unix seconds) set afterwards when given. Its id."""
        order = self.order({"sku_id": sku_id or self.sku, "qty": qty, "ship_to": BUYER})
        if created_at is not None:
            self.sql("UPDATE orders SET created_at = %d WHERE sku_id = %d AND id = %d"
                     % (created_at, sku_id or self.sku, order["id"]))
        return order["id"]

    def get(self, query="", accept=None, token=None):
        return self.server.request("GET", PATH + query, token=token or self.coop, accept=accept)

    def ids(self, query, token=None):
        status, _, page = self.get(query, token=token)
        self.assertEqual(status, 200, page)
        return [o["id"] for o in page["orders"]]

    def csv_page(self, query="", token=None, accept="text/csv"):
        """(raw bytes, rows without the header, headers) of one CSV page, its framing checked."""
        status, headers, body = self.get(query, accept=accept, token=token)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["content-type"], CSV_TYPE)
        self.assertRegex(headers["content-disposition"], r'^attachment; filename="[a-z0-9-]+\.csv"$')
        self.assertIsInstance(body, bytes)
        self.assertTrue(body.startswith(b"\xef\xbb\xbf"), body[:16])
        rows = list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))
        self.assertEqual(rows[0], HEADER)
        for row in rows[1:]:
            self.assertEqual(len(row), len(HEADER), row)
        return body, rows[1:], headers

    def csv_all(self, query, token=None):
        """Every row of every CSV page from query, following Link rel="next" to the end; and the number of pages."""
        rows, pages, path = [], 0, PATH + query
        while path is not None:
            self.assertTrue(path == PATH + query or path.startswith(PATH + "?after="), path)
            _, page, headers = self.csv_page(path[len(PATH):], token=token)
            rows += page
            pages += 1
            link = headers.get("link")
            path = re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1) if link else None
            self.assertLess(pages, 100)
        return rows, pages

    def assertRefused(self, query, field):
        status, _, body = self.get(query)
        self.assertEqual(status, 422, (query, body))
        code, message = error_parts(body)
        self.assertEqual(code, "invalid", query)
        self.assertIn(field, message, query)

    # -- tests --------------------------------------------------------------------------------------------------------

    def test_date_range_edges(self):
        sku = self.server.create_product(self.coop, [{"name": "5kg", "price_cents": 100, "stock": 100,
                                                      "weight_grams": 5000}], title="边界小米")["skus"][0]["id"]
        # the last second of 4 December, the first and last of 5 December, the first of 6 December (China time)
        times = [DEC5 - 1, DEC5, DEC5 + DAY - 1, DEC5 + DAY]
        made = [self.direct(sku, created_at=t) for t in times]
        theirs = self.direct(self.other_sku, created_at=DEC5)
        mine = lambda ids: [i for i in ids if i in made]
        self.assertEqual(mine(self.ids("?from=2026-12-05&to=2026-12-05")), made[1:3])
        self.assertEqual(mine(self.ids("?from=2026-12-05")), made[1:])
        self.assertEqual(mine(self.ids("?to=2026-12-04")), made[:1])
        self.assertEqual(mine(self.ids("?from=2026-12-04&to=2026-12-06")), made)
        # times: from is the first second taken, to the first one not taken
        self.assertEqual(mine(self.ids("?from=2026-12-05T00:00:00%2B08:00&to=2026-12-05T23:59:59%2B08:00")), made[1:2])
        self.assertEqual(mine(self.ids("?from=2026-12-04T16:00:00Z&to=2026-12-05T16:00:01Z")), made[1:])
        self.assertEqual(mine(self.ids("?from=2026-12-05T00:00:00+08:00&to=2026-12-06T00:00:00%2b08:00")), made[1:3])
        self.assertEqual(mine(self.ids("?from=2026-12-04T23:59:59.5%2B08:00")), made[1:])  # a fraction rounds up
        self.assertEqual(mine(self.ids("?from=2026-12-04T15%3A59%3A59Z&to=2026-12-04T16:00:00Z")), made[:1])
        # with the status filter and pages of one
        self.assertEqual(mine(self.ids("?status=reserved&from=2026-12-05&to=2026-12-05")), made[1:3])
        self.assertEqual(mine(self.ids("?status=paid&from=2026-12-05&to=2026-12-05")), [])
        status, headers, page = self.get("?limit=1&from=2026-12-05&to=2026-12-05&after=%d" % (made[1] - 1))
        self.assertEqual((status, [o["id"] for o in page["orders"]], page["next"]), (200, made[1:2], made[1]))
        self.assertEqual(headers["link"], '</v1/merchant/orders?after=%d&from=2026-12-05&to=2026-12-05&limit=1>; '
                                          'rel="next"' % made[1])
        # another co-op's order of the same second is never in it, and it sees only its own
        self.assertNotIn(theirs, self.ids("?from=2026-12-05&to=2026-12-05&limit=200"))
        self.assertEqual(self.ids("?from=2026-12-05&to=2026-12-05", token=self.other), [theirs])

    def test_bad_dates(self):
        for field, value in [("from", "2026-02-30"), ("from", "yesterday"), ("to", "2026-12-05T08:00"),
                             ("to", "2026-12-05T08:00:00"), ("from", "2026-12-5"), ("from", ""), ("to", "%ZZ"),
                             ("from", "1969-12-31"), ("to", "2026-12-05T24:00:00Z"), ("from", "2026-12-05%2000:00:00Z"),
                             ("to", "2026-12-05T08:00:00+8:00"), ("from", "1796400000"), ("to", "2026-12-05x")]:
            self.assertRefused("?%s=%s" % (field, value), field)
        self.assertRefused("?from=2026-12-06&to=2026-12-05", "from must be before to")
        self.assertRefused("?from=2026-12-05T00:00:00Z&to=2026-12-05T00:00:00Z", "from must be before to")
        self.assertRefused("?status=paid&from=2026-12-05&to=bad", "to")
        status, _, body = self.get("?from=bad", accept="text/csv")  # refusals are JSON, also for a CSV
        self.assertEqual((status, error_parts(body)[0]), (422, "invalid"))
        status, _, body = self.server.request("GET", PATH + "?from=2026-12-05")
        self.assertEqual((status, error_parts(body)[0]), (401, "unauthorized"))

    def test_accept(self):
        made = self.direct()
        self.assertIn(made, self.ids("?limit=200"))  # no Accept: JSON
        for accept, media in [("application/json", "application/json"), ("*/*", "application/json"),
                              ("text/html, */*;q=0.1", "application/json"), ("application/*", "application/json"),
                              ("application/msgpack", "application/msgpack"), ("text/csv", CSV_TYPE),
                              ("text/*", CSV_TYPE), ("text/csv;q=0.9, application/json;q=0.1", CSV_TYPE),
                              ("application/json;q=0.9, text/csv;q=0.5", "application/json")]:
            status, headers, body = self.get("?limit=200", accept=accept)
            self.assertEqual((status, headers["content-type"]), (200, media), accept)
            if media != CSV_TYPE:
                self.assertIn(made, [o["id"] for o in body["orders"]], accept)
                self.assertNotIn("content-disposition", headers)
        for accept in ["text/html", "image/png, application/xml", "text/csv;q=0, application/json;q=0"]:
            status, headers, body = self.get("", accept=accept)
            self.assertEqual((status, headers["content-type"]), (406, "application/json"), accept)
            code, message = error_parts(body)
            self.assertEqual(code, "not_acceptable")
            self.assertIn("text/csv", message)

    def test_csv_bytes(self):
        s = self.server
        point = s.create_pickup_point(self.coop, STATION)
        gb_sku = s.create_product(self.coop, [{"name": "5kg 袋装", "price_cents": 8990, "stock": 100,
                                               "weight_grams": 5000}], title="团购小米")["skus"][0]["id"]
        status, _, gb = s.request("POST", "/v1/group-buys", {
            "sku_id": gb_sku, "pickup_point_id": point, "price_cents": 6990, "min_qty": 5, "per_buyer_limit": 5,
            "closes_at": int(time.time()) + 3600}, token=self.coop)
        self.assertEqual(status, 201, gb)
        live_sku = s.create_product(self.coop, [{"name": "1kg", "price_cents": 2000, "stock": 100,
                                                 "weight_grams": 1000}], title="直播小米")["skus"][0]["id"]
        status, _, live = s.request("POST", "/v1/lives", {"title": "今晚八点", "starts_at": 1700000000}, token=self.host)
        self.assertEqual(status, 201, live)
        s.accepted_offer(self.coop, self.host, self.host_id, live_sku)
        status, _, item = s.request("POST", "/v1/lives/%d/items" % live["id"], {
            "sku_id": live_sku, "price_cents": 1990, "quota": 10, "per_buyer_limit": 5, "opens_at": 0}, token=self.host)
        self.assertEqual(status, 201, item)

        direct = self.order({"sku_id": self.sku, "qty": 3, "ship_to": BUYER}, buyer=7101)
        join = s.request("POST", "/v1/orders", {"group_buy_id": gb["id"], "qty": 2}, token=buyer_token(7102),
                         headers={"Idempotency-Key": "csv-join"})[2]
        on_air = self.order({"live_item_id": item["id"], "qty": 1, "ship_to": BUYER}, buyer=7103)
        # the direct order paid and picked up: its shipment's tracking number
        raw = json.dumps({"order_id": direct["id"], "provider_txn_id": "csv-%d" % direct["id"],
                          "amount_cents": direct["amount_cents"]}).encode()
        self.assertEqual(s.request("POST", "/v1/payments/notify", raw=raw, headers=signed(raw))[0], 200)
        self.sql("UPDATE shipments s JOIN shipment_orders so ON so.shipment_id = s.id SET s.tracking_no = 'YT9001' "
                 "WHERE so.order_id = %d" % direct["id"])
        self.sql("UPDATE orders SET ship_to_address = '%s' WHERE sku_id = %d AND id = %d"
                 % (TWO_LINES.replace("\n", "\\n"), self.sku, direct["id"]))
        made = {direct["id"], join["id"], on_air["id"]}
        at = DEC5 - 15 * DAY + 12 * 3600 + 5  # 2026-11-20 12:00:05 in China: a day no other test uses
        for o in (direct, join, on_air):
            self.sql("UPDATE orders SET created_at = %d WHERE sku_id = %d AND id = %d" % (at, o["sku_id"], o["id"]))
        self.direct(self.other_sku, created_at=at)

        body, rows, headers = self.csv_page("?from=2026-11-20&to=2026-11-20")
        self.assertNotIn("link", headers)
        self.assertEqual({int(r[0]) for r in rows}, made)  # the other co-op's order of that second is not here
        by_id = {int(r[0]): r for r in rows}
        self.assertEqual(by_id[direct["id"]], [
            str(direct["id"]), "2026-11-20 12:00:05", "已付款 paid", '武乡小米, "沁州黄" 2.5kg 礼盒', "3", "179.70",
            BUYER["name"], "7101", BUYER["phone"], "直购 direct", TWO_LINES, "YT9001"])
        self.assertEqual(by_id[join["id"]], [
            str(join["id"]), "2026-11-20 12:00:05", "待付款 reserved", "团购小米 5kg 袋装", "2", "139.80", "", "7102", "",
            "团购 group-buy", "岭头村服务站 (村委会东侧)", ""])
        self.assertEqual(by_id[on_air["id"]][2:11], [
            "待付款 reserved", "直播小米 1kg", "1", "19.90", BUYER["name"], "7103", BUYER["phone"], "直播 live",
            BUYER["address"]])
        # the bytes themselves: quotes doubled inside quotes, the newline kept inside its quotes, CRLF between rows
        text = body.decode("utf-8")
        self.assertIn('"武乡小米, ""沁州黄"" 2.5kg 礼盒"', text)
        self.assertIn('"王,小明 ""二娃"""', text)
        self.assertIn('"山西省长治市武乡县丰州镇\n岭头村 2 号"', text)
        self.assertIn('"山西省长治市武乡县丰州镇, 岭头村 2 号"', text)
        self.assertTrue(text.startswith("\ufeff订单号 order,下单时间 time (UTC+8),状态 status,"), text[:40])
        self.assertEqual(text.count("\r\n"), 4)
        # with a status, and the JSON of the same range agrees
        _, paid, _ = self.csv_page("?status=paid&from=2026-11-20&to=2026-11-20")
        self.assertEqual([int(r[0]) for r in paid], [direct["id"]])
        self.assertEqual(set(self.ids("?from=2026-11-20&to=2026-11-20")), made)
        # a name that looks like a formula is not one
        sneaky = self.order({"sku_id": self.sku, "qty": 1,
                             "ship_to": {"name": "=HYPERLINK(\"http://x\")", "phone": "+8613800000000", "address": "x"}})
        _, rows, _ = self.csv_page("?after=%d" % (sneaky["id"] - 1))
        self.assertEqual(rows[0][6:9], ["'=HYPERLINK(\"http://x\")", "7001", "'+8613800000000"])

    def test_csv_pages(self):
        _, coop = self.server.create_merchant("coop", "分页合作社")
        sku = self.server.create_product(coop, [{"name": "1kg", "price_cents": 1234, "stock": 1000,
                                                 "weight_grams": 1000}], title="分页小米")["skus"][0]["id"]
        made = [self.direct(sku, created_at=DEC5 + i) for i in range(7)]
        self.direct(self.sku, created_at=DEC5 + 3)  # another co-op's, between
        rows, pages = self.csv_all("?limit=3", token=coop)
        self.assertEqual(([int(r[0]) for r in rows], pages), (made, 3))
        self.assertEqual({r[5] for r in rows}, {"12.34"})
        rows, pages = self.csv_all("?limit=2&from=2026-12-05T00:00:01%2B08:00&to=2026-12-05T00:00:06%2B08:00", token=coop)
        self.assertEqual(([int(r[0]) for r in rows], pages), (made[1:6], 3))
        rows, pages = self.csv_all("?limit=1&status=reserved&to=2026-12-05", token=coop)
        self.assertEqual(([int(r[0]) for r in rows], pages), (made, 8))  # the last page full: one more, empty
        # without a limit an export takes pages of 200 (the most a request may ask for)
        rows, pages = self.csv_all("", token=coop)
        self.assertEqual(([int(r[0]) for r in rows], pages), (made, 1))
        self.assertRefused("?limit=201", "limit")
        # a Link keeps the filter as the request spelt it
        _, _, headers = self.csv_page("?limit=2&status=reserved&from=2026-12-05T00:00:00%2B08:00", token=coop)
        link = re.fullmatch(r'<([^>]+)>; rel="next"', headers["link"]).group(1)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
        self.assertEqual(query, {"after": [str(made[1])], "limit": ["2"], "status": ["reserved"],
                                 "from": ["2026-12-05T00:00:00+08:00"]})


if __name__ == "__main__":
    lb.main()
