"""Community group-buys at village pickup points: pickup points, campaigns, joins through the order lanes, and the
closer at the cut-off (success: one consolidated shipment with a pick list; failure: stock back, paid joins
refund_required with a refund each), also with two livebuyd processes racing to close. Real HTTP against a real MariaDB."""

import itertools
import json
import time
import unittest

import lb

STATION = {"name": "岭头村服务站", "county": "武乡县", "township": "韩北乡", "village": "岭头村", "address": "村委会东侧"}
CLOSE_WAIT = 8  # seconds past a cut-off within which the closer (once a second) must have run

_keys = itertools.count(1)
buyer_token, error_code, signed = lb.buyer_token, lb.error_code, lb.signed


class GroupBuyTest(lb.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coop_id, cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")
        cls.other_id, cls.other = cls.server.create_merchant("coop", "沁县合作社")
        cls.point_id = cls.server.create_pickup_point(cls.coop, STATION)

    # -- helpers ------------------------------------------------------------------------------------------------------

    def new_sku(self, stock):
        skus = [{"name": "5kg 袋装", "price_cents": 8990, "stock": stock, "weight_grams": 5000}]
        return self.server.create_product(self.coop, skus, title="武乡小米", cold_chain=False)["skus"][0]["id"]

    def new_campaign(self, sku_id, min_qty, closes_in, per_buyer_limit=5, price_cents=6990):
        body = {"sku_id": sku_id, "pickup_point_id": self.point_id, "price_cents": price_cents, "min_qty": min_qty,
                "per_buyer_limit": per_buyer_limit, "closes_at": int(time.time()) + closes_in}
        status, _, gb = self.server.request("POST", "/v1/group-buys", body, token=self.coop)
        self.assertEqual(status, 201, gb)
        return gb

    def join(self, buyer, gb_id, qty, server=None):
        return (server or self.server).request("POST", "/v1/orders", {"group_buy_id": gb_id, "qty": qty},
                                               token=buyer_token(buyer),
                                               headers={"Idempotency-Key": "gb-%d" % next(_keys)})

    def post_orders_at_once(self, bodies, server=None):
        """POSTs each (buyer, body) on a connection of its own, all sent together so that the lane batches them;
        returns the (status, body) answers in order."""
        requests = [("POST", "/v1/orders", json.dumps(body).encode(),
                     {"Content-Type": "application/json", "Authorization": "Bearer " + buyer_token(buyer),
                      "Idempotency-Key": "gb-%d" % next(_keys)}) for buyer, body in bodies]
        return (server or self.server).requests_at_once(requests, timeout=30)

    def pay(self, order):
        raw = json.dumps({"order_id": order["id"], "provider_txn_id": "gbtxn-%d" % order["id"],
                          "amount_cents": order["amount_cents"]}).encode()
        status, _, answer = self.server.request("POST", "/v1/payments/notify", raw=raw, headers=signed(raw))
        self.assertEqual(status, 200, answer)
        return answer

    def campaign(self, gb_id):
        status, _, gb = self.server.request("GET", "/v1/group-buys/%d" % gb_id)
        self.assertEqual(status, 200, gb)
        return gb

    def wait_closed(self, gb_id):
        # CLOSE_WAIT counts from the cut-off, which may still be ahead.
        wait = max(0, self.campaign(gb_id)["closes_at"] - time.time()) + CLOSE_WAIT
        self.assertTrue(lb.wait_for(lambda: self.campaign(gb_id)["status"] != "open", wait),
                        "campaign %d still open %d s after its cut-off" % (gb_id, CLOSE_WAIT))
        return self.campaign(gb_id)

    def joins_still_counting(self, gb_id):
        """The units of the campaign's joins that are reserved or paid (or further: handed off up to collected)."""
        return int(self.sql("SELECT COALESCE(SUM(o.qty), 0) FROM group_buy_orders j JOIN orders o ON o.sku_id = j.sku_id "
                            "AND o.id = j.order_id WHERE j.group_buy_id = %d AND o.status IN ('reserved', 'paid', "
                            "'handed_off', 'shipped', 'delivered', 'collected')" % gb_id)[0][0])

    def assert_joined(self, gb_id, joined_qty, at_close):
        """GET /v1/group-buys/{id} and the co-op's list say joined_qty (what its joins still count) and
        joined_qty_at_close."""
        got = self.campaign(gb_id)
        self.assertEqual((got["joined_qty"], got["joined_qty_at_close"]), (joined_qty, at_close), got)
        self.assertEqual(self.joins_still_counting(gb_id), joined_qty)
        status, _, page = self.server.request("GET", "/v1/group-buys?limit=1&after=%d" % (gb_id - 1), token=self.coop)
        self.assertEqual(status, 200, page)
        listed = page["group_buys"][0]
        self.assertEqual((listed["id"], listed["joined_qty"], listed["joined_qty_at_close"]), (gb_id, joined_qty, at_close))

    def assert_counters_add_up(self, sku_id):
        stock, reserved, sold, held = self.sql("SELECT stock, reserved, sold, held FROM skus WHERE id = %d" % sku_id)[0]
        in_orders = self.sql("SELECT COALESCE(SUM(qty), 0) FROM orders WHERE sku_id = %d AND status = 'reserved'"
                             % sku_id)[0][0]
        self.assertEqual(int(reserved), int(in_orders))
        self.assertLessEqual(int(reserved) + int(sold) + int(held), int(stock))

    # -- tests --------------------------------------------------------------------------------------------------------

    def test_an_unpaid_join_expires_out_of_the_campaign(self):
        """A join not paid in time expires like any reservation: its units go back to the SKU and leave the campaign's
        joined quantity; the other join, still within its time, stays."""
        sku_id = self.new_sku(50)
        gb = self.new_campaign(sku_id, min_qty=10, closes_in=600)
        status, _, late = self.join(9101, gb["id"], 3)
        self.assertEqual(status, 201, late)
        status, _, kept = self.join(9102, gb["id"], 2)
        self.assertEqual(status, 201, kept)
        self.assertEqual(self.campaign(gb["id"])["joined_qty"], 5)
        self.sql("UPDATE orders SET expires_at = UNIX_TIMESTAMP() - 1 WHERE id = %d" % late["id"])
        self.sql("UPDATE order_blocks SET due_at = UNIX_TIMESTAMP() - 1 WHERE first_id = (SELECT first_id FROM (SELECT "
                 "MAX(first_id) AS first_id FROM order_blocks WHERE first_id <= %d) nearest)" % late["id"])
        status_of = lambda o: self.sql("SELECT status FROM orders WHERE id = %d" % o["id"])[0][0]
        self.assertTrue(lb.wait_for(lambda: status_of(late) == "expired", 10, 0.1), status_of(late))
        self.assertEqual(status_of(kept), "reserved")
        self.assertEqual(self.campaign(gb["id"])["joined_qty"], 2)
        self.assert_counters_add_up(sku_id)

    def test_joined_qty_follows_every_join_that_stops_counting(self):
        """joined_qty counts the joins reserved or paid after every way a join stops: a cancellation and a refund while
        open, a refund approved after the handoff of a succeeded campaign, a failed campaign's release and refunds.
        joined_qty_at_close keeps what the closer decided on."""
        sku_id = self.new_sku(50)
        won = self.new_campaign(sku_id, min_qty=4, closes_in=5)
        lost = self.new_campaign(sku_id, min_qty=10, closes_in=5)
        orders = {}
        for name, buyer, gb, qty in [("a", 8101, won, 2), ("b", 8102, won, 2), ("cancelled", 8103, won, 1),
                                     ("refunded", 8104, won, 1), ("lost_paid", 8105, lost, 2), ("lost_unpaid", 8106, lost, 3)]:
            status, _, order = self.join(buyer, gb["id"], qty)
            self.assertEqual(status, 201, order)
            orders[name] = (buyer, order)
        for name in ("a", "b", "refunded", "lost_paid"):
            self.assertEqual(self.pay(orders[name][1])["status"], "paid")
        self.assert_joined(won["id"], 6, None)
        self.assert_joined(lost["id"], 5, None)

        buyer, order = orders["cancelled"]
        status, _, body = self.server.request("POST", "/v1/orders/%d/cancel" % order["id"], token=buyer_token(buyer))
        self.assertEqual((status, body["status"]), (200, "cancelled"), body)
        self.assert_joined(won["id"], 5, None)
        buyer, order = orders["refunded"]
        status, _, body = self.server.request("POST", "/v1/orders/%d/refund" % order["id"], token=buyer_token(buyer))
        self.assertEqual((status, body["status"], body["refund"]["status"]), (200, "refund_required", "pending"), body)
        self.assert_joined(won["id"], 4, None)

        self.assertEqual(self.wait_closed(won["id"])["status"], "succeeded")
        self.assert_joined(won["id"], 4, 4)
        # A paid join handed to shipping, its refund asked: nothing moves until the co-op approves it.
        buyer, order = orders["b"]
        self.sql("UPDATE orders SET status = 'handed_off' WHERE id = %d" % order["id"])
        status, _, body = self.server.request("POST", "/v1/orders/%d/refund" % order["id"], token=buyer_token(buyer))
        self.assertEqual((status, body["status"], body["refund"]["status"]), (200, "handed_off", "requested"), body)
        self.assert_joined(won["id"], 4, 4)
        status, _, body = self.server.request("POST", "/v1/refunds/%d/approve" % body["refund"]["id"], token=self.coop)
        self.assertEqual((status, body["status"]), (200, "pending"), body)
        self.assert_joined(won["id"], 2, 4)  # below min_qty now; the campaign still succeeded at its cut-off

        # The failed campaign: its unpaid join released, its paid one refunded (campaign_failed): none counts.
        self.assertEqual(self.wait_closed(lost["id"])["status"], "failed")
        self.assert_joined(lost["id"], 0, 5)
        self.assertEqual(self.sql("SELECT cause FROM refunds WHERE order_id = %d" % orders["lost_paid"][1]["id"]),
                         [("campaign_failed",)])
        self.assertEqual(self.sql("SELECT status FROM orders WHERE id = %d" % orders["lost_unpaid"][1]["id"])[0][0],
                         "cancelled")
        self.assert_counters_add_up(sku_id)

    def test_pickup_points(self):
        status, _, page = self.server.request("GET", "/v1/pickup-points?limit=200", token=self.coop)
        self.assertEqual(status, 200, page)
        self.assertIn(STATION["village"], [p["village"] for p in page["pickup_points"]])
        status, _, body = self.server.request("POST", "/v1/pickup-points", dict(STATION, county=""), token=self.coop)
        self.assertEqual((status, error_code(body)), (422, "invalid"))
        self.assertIn("county", body["error"]["message"])
        status, _, body = self.server.request("POST", "/v1/pickup-points", STATION)
        self.assertEqual(status, 401)
        status, _, body = self.server.request("GET", "/v1/pickup-points?limit=0", token=self.coop)
        self.assertEqual((status, error_code(body)), (422, "invalid"))

    def test_campaign_validation(self):
        sku_id = self.new_sku(10)
        good = {"sku_id": sku_id, "pickup_point_id": self.point_id, "price_cents": 100, "min_qty": 2,
                "per_buyer_limit": 2, "closes_at": int(time.time()) + 60}
        for field, value, status in [("closes_at", int(time.time()) - 1, 422), ("min_qty", 0, 422),
                                     ("pickup_point_id", 999999, 422), ("sku_id", 999999, 422),
                                     ("price_cents", "5", 422)]:
            code, _, body = self.server.request("POST", "/v1/group-buys", dict(good, **{field: value}), token=self.coop)
            self.assertEqual(code, status, (field, body))
            self.assertIn(field, body["error"]["message"])
        code, _, body = self.server.request("POST", "/v1/group-buys", good, token=self.other)
        self.assertEqual((code, error_code(body)), (403, "forbidden"))
        code, _, body = self.server.request("GET", "/v1/group-buys/999999")
        self.assertEqual(code, 404)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM group_buys WHERE sku_id = %d" % sku_id)[0][0], "0")

    def test_public_campaign_shows_what_the_page_needs(self):
        sku_id = self.new_sku(10)
        gb = self.new_campaign(sku_id, min_qty=3, closes_in=600)
        got = self.campaign(gb["id"])
        for field in ("id", "status", "joined_qty", "min_qty", "closes_at", "sku_id", "pickup_point_id", "price_cents",
                      "per_buyer_limit"):
            self.assertEqual(got[field], gb[field], field)
        self.assertEqual((got["title"], got["sku_name"], got["unit"]), ("武乡小米", "5kg 袋装", "袋"))
        self.assertEqual(got["pickup_point"], dict(STATION, id=self.point_id))
        self.assertEqual((got["collected"], got["not_collected"]), (None, None))  # counted once it has closed
        self.assertIsNone(got["joined_qty_at_close"])

    def test_listing_and_its_filters(self):
        sku_a, sku_b = self.new_sku(10), self.new_sku(10)
        a1 = self.new_campaign(sku_a, min_qty=2, closes_in=600)
        a2 = self.new_campaign(sku_a, min_qty=4, closes_in=600)
        b1 = self.new_campaign(sku_b, min_qty=1, closes_in=600)
        self.sql("UPDATE group_buys SET status = 'failed' WHERE id = %d" % a2["id"])
        self.assertEqual(self.join(201, a1["id"], 2)[0], 201)

        def ids(query, token=None):
            status, _, page = self.server.request("GET", "/v1/group-buys" + query, token=token or self.coop)
            self.assertEqual(status, 200, page)
            return [g["id"] for g in page["group_buys"]], page

        listed, page = ids("?sku_id=%d" % sku_a)
        self.assertEqual(listed, [a1["id"], a2["id"]])
        first = page["group_buys"][0]
        self.assertEqual((first["joined_qty"], first["min_qty"], first["title"], first["pickup_point"]["name"],
                          first["pickup_point"]["address"], first["collected"]),
                         (2, 2, "武乡小米", STATION["name"], STATION["address"], None))
        self.assertEqual((page["group_buys"][1]["collected"], page["group_buys"][1]["not_collected"]), (0, 0))
        self.assertEqual(ids("?status=failed&sku_id=%d" % sku_a)[0], [a2["id"]])
        self.assertEqual(ids("?status=open&sku_id=%d" % sku_b)[0], [b1["id"]])
        self.assertEqual(ids("?status=succeeded&sku_id=%d" % sku_b)[0], [])
        # By pages, in id order.
        listed, page = ids("?limit=1&after=%d" % (a1["id"] - 1))
        self.assertEqual((listed, page["next"]), ([a1["id"]], a1["id"]))
        listed, page = ids("?limit=200&after=%d" % a1["id"])
        self.assertEqual(listed[:2], [a2["id"], b1["id"]])
        self.assertIsNone(page["next"])
        # Another co-op sees none of them; a host and nobody cannot list.
        self.assertEqual(ids("?limit=200", token=self.other)[0], [])
        _, host = self.server.create_merchant("host", "长治直播间")
        for query, token, expected in [("", host, (403, "forbidden")), ("", None, (401, "unauthorized")),
                                       ("?status=closed", self.coop, (400, "invalid_query")),
                                       ("?sku_id=0", self.coop, (422, "invalid")),
                                       ("?limit=201", self.coop, (422, "invalid"))]:
            status, _, body = self.server.request("GET", "/v1/group-buys" + query, token=token)
            self.assertEqual((status, error_code(body)), expected, (query, body))

    def test_success_ships_one_consolidated_shipment(self):
        sku_id = self.new_sku(50)
        gb = self.new_campaign(sku_id, min_qty=5, closes_in=4)
        joins = []
        for buyer, qty in [(101, 2), (102, 1), (103, 2)]:
            status, _, order = self.join(buyer, gb["id"], qty)
            self.assertEqual(status, 201, order)
            self.assertEqual(order["amount_cents"], 6990 * qty)
            joins.append((buyer, order))
        self.assertEqual(self.campaign(gb["id"])["joined_qty"], 5)
        self.assertEqual(self.server.sku(sku_id)["reserved"], 5)
        for _, order in joins[:2]:  # two of three pay before the cut-off
            self.assertEqual(self.pay(order)["status"], "paid")
        # Paid joins wait for their campaign: no shipment yet.
        self.assertEqual(self.sql("SELECT COUNT(*) FROM shipments WHERE group_buy_id = %d" % gb["id"])[0][0], "0")

        closed = self.wait_closed(gb["id"])
        self.assertEqual(closed["status"], "succeeded")
        rows = self.sql("SELECT id, pickup_point_id, payload FROM shipments WHERE group_buy_id = %d" % gb["id"])
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(int(rows[0][1]), self.point_id)
        payload = json.loads(rows[0][2])
        self.assertEqual(sorted(payload["orders"]), sorted(o["id"] for _, o in joins[:2]))
        self.assertEqual(sorted((p["buyer_id"], p["qty"]) for p in payload["pick_list"]), [(101, 2), (102, 1)])
        self.assertEqual(payload["pickup_point"]["village"], STATION["village"])
        self.assertEqual(payload["items"][0]["qty"], 3)
        self.assertEqual(payload["weight_grams"], 15000)
        # The unpaid join keeps its reservation (normal expiry).
        self.assertEqual(self.sql("SELECT status FROM orders WHERE id = %d" % joins[2][1]["id"])[0][0], "reserved")
        # After the cut-off, no more joins.
        status, _, body = self.join(104, gb["id"], 1)
        self.assertEqual((status, error_code(body)), (409, "conflict"))
        # A join paid after the success ships on its own, to the same pickup point.
        self.assertEqual(self.pay(joins[2][1])["status"], "paid")
        rows = self.sql("SELECT pickup_point_id FROM shipments WHERE group_buy_id IS NULL AND id IN "
                        "(SELECT shipment_id FROM shipment_orders WHERE order_id = %d)" % joins[2][1]["id"])
        self.assertEqual([tuple(r) for r in rows], [(str(self.point_id),)])
        self.assert_counters_add_up(sku_id)

    def test_success_ships_every_paid_join_of_many_batches(self):
        # Joins sent together share batches with each other and with direct orders of the same SKU; three waves make
        # several batches. Every join is in its campaign's index, and the shipment carries every paid one.
        sku_id = self.new_sku(200)
        gb = self.new_campaign(sku_id, min_qty=20, closes_in=8)
        joins = []
        for wave in range(3):
            bodies = [(500 + 20 * wave + n, {"group_buy_id": gb["id"], "qty": 1 + n % 2}) for n in range(11)]
            bodies += [(600 + 10 * wave + n, {"sku_id": sku_id, "qty": 1, "pickup_point_id": self.point_id})
                       for n in range(5)]
            answers = self.post_orders_at_once(bodies)
            for (buyer, body), (status, order) in zip(bodies, answers):
                self.assertEqual(status, 201, order)
                if "group_buy_id" in body:
                    joins.append((buyer, order))
        indexed = self.sql("SELECT order_id FROM group_buy_orders WHERE group_buy_id = %d" % gb["id"])
        self.assertEqual(sorted(int(r[0]) for r in indexed), sorted(o["id"] for _, o in joins))
        paid = [(buyer, order) for i, (buyer, order) in enumerate(joins) if i % 4 != 3]
        for _, order in paid:
            self.assertEqual(self.pay(order)["status"], "paid")

        self.assertEqual(self.wait_closed(gb["id"])["status"], "succeeded")
        rows = self.sql("SELECT payload FROM shipments WHERE group_buy_id = %d" % gb["id"])
        self.assertEqual(len(rows), 1, rows)
        payload = json.loads(rows[0][0])
        self.assertEqual(sorted(payload["orders"]), sorted(o["id"] for _, o in paid))
        self.assertEqual(sorted((p["buyer_id"], p["qty"]) for p in payload["pick_list"]),
                         sorted((buyer, o["qty"]) for buyer, o in paid))
        self.assert_counters_add_up(sku_id)

    def test_lost_commit_indexes_each_join_once(self):
        # A batch whose COMMIT answer is lost runs again and finds its orders by their keys: their joins are not
        # indexed a second time (that would break the batch on the duplicate key), and none is left out.
        second = lb.Server(self.url, list(self.server_args), env={"LIVEBUY_FAULT_LOST_COMMIT": "2"})
        try:
            sku_id = self.new_sku(100)
            gb = self.new_campaign(sku_id, min_qty=100, closes_in=120)
            ids = []
            for wave in range(4):
                bodies = [(700 + 10 * wave + n, {"group_buy_id": gb["id"], "qty": 1}) for n in range(6)]
                answers = self.post_orders_at_once(bodies, server=second)
                self.assertEqual([status for status, _ in answers], [201] * len(bodies), answers)
                ids += [order["id"] for _, order in answers]
            self.assertIn("failure point: the answer to a COMMIT", second.log())
            indexed = self.sql("SELECT order_id FROM group_buy_orders WHERE group_buy_id = %d" % gb["id"])
            self.assertEqual(sorted(int(r[0]) for r in indexed), sorted(ids))
            self.assertEqual(self.campaign(gb["id"])["joined_qty"], len(ids))
            self.assert_counters_add_up(sku_id)
        finally:
            self.assertEqual(second.stop(), 0)

    def test_failure_gives_stock_back_and_asks_refunds(self):
        sku_id = self.new_sku(20)
        gb = self.new_campaign(sku_id, min_qty=10, closes_in=3)
        status, _, paid = self.join(201, gb["id"], 2)
        self.assertEqual(status, 201, paid)
        status, _, unpaid = self.join(202, gb["id"], 3)
        self.assertEqual(status, 201, unpaid)
        self.pay(paid)
        before = self.server.sku(sku_id)
        self.assertEqual((before["reserved"], before["sold"]), (3, 2))

        closed = self.wait_closed(gb["id"])
        self.assertEqual(closed["status"], "failed")
        # Neither join counts any more (released, refunded); the closer decided on the 5 units joined at the cut-off.
        self.assertEqual((closed["joined_qty"], closed["joined_qty_at_close"]), (0, 5))
        self.assertEqual(self.sql("SELECT status FROM orders WHERE id = %d" % unpaid["id"])[0][0], "cancelled")
        self.assertEqual(self.sql("SELECT status FROM orders WHERE id = %d" % paid["id"])[0][0], "refund_required")
        after = self.server.sku(sku_id)
        self.assertEqual(after["reserved"], 0)
        self.assertEqual((after["sold"], after["available"]), (0, 20))  # the paid join's units left sold with its refund
        self.assertEqual(self.sql("SELECT cause, status, amount_cents FROM refunds WHERE order_id = %d" % paid["id"]),
                         [("campaign_failed", "pending", str(paid["amount_cents"]))])
        self.assertEqual(self.sql("SELECT COUNT(*) FROM shipments WHERE group_buy_id = %d" % gb["id"])[0][0], "0")
        status, _, order = self.server.request("GET", "/v1/orders/%d" % paid["id"], token=buyer_token(201))
        self.assertEqual((status, order["status"]), (200, "refund_required"))
        self.assert_counters_add_up(sku_id)

    def test_a_campaign_that_cannot_close_holds_no_other_up(self):
        """A failed campaign whose paid join has lost its payment row cannot refund it (LB_EDB): it stays open and is
        said in the log, and a campaign due after it closes all the same."""
        stuck_sku, next_sku = self.new_sku(20), self.new_sku(20)
        stuck = self.new_campaign(stuck_sku, min_qty=10, closes_in=2)
        after = self.new_campaign(next_sku, min_qty=1, closes_in=3)
        status, _, paid = self.join(211, stuck["id"], 1)
        self.assertEqual(status, 201, paid)
        self.pay(paid)
        self.sql("DELETE FROM payments WHERE order_id = %d" % paid["id"])
        status, _, joined = self.join(212, after["id"], 1)
        self.assertEqual(status, 201, joined)
        self.assertEqual(self.wait_closed(after["id"])["status"], "succeeded")
        self.assertEqual(self.campaign(stuck["id"])["status"], "open")
        self.assertTrue(lb.wait_for(lambda: "closing group-buy %d of SKU %d failed" % (stuck["id"], stuck_sku)
                                    in self.server.log(), 5), "not said in the log")
        self.sql("UPDATE group_buys SET status = 'failed' WHERE id = %d" % stuck["id"])  # out of the other tests' way

    def test_joins_share_stock_and_limits(self):
        sku_id = self.new_sku(4)
        gb = self.new_campaign(sku_id, min_qty=2, closes_in=120, per_buyer_limit=2)
        statuses = [self.join(301, gb["id"], 1)[0] for _ in range(3)]
        self.assertEqual(statuses, [201, 201, 422])
        status, _, body = self.join(302, gb["id"], 2)
        self.assertEqual(status, 201, body)
        # Direct orders draw on the same stock, which the joins used up.
        status, _, body = self.server.request("POST", "/v1/orders",
                                              {"sku_id": sku_id, "qty": 1, "pickup_point_id": self.point_id},
                                              token=buyer_token(303))
        self.assertEqual((status, error_code(body)), (409, "sold_out"))
        status, _, body = self.join(304, gb["id"], 1)
        self.assertEqual((status, error_code(body)), (409, "sold_out"))
        # Group-buy joins go to the campaign's pickup point: a ship_to is refused.
        status, _, body = self.server.request("POST", "/v1/orders",
                                              {"group_buy_id": gb["id"], "qty": 1,
                                               "ship_to": {"name": "a", "phone": "12345", "address": "b"}},
                                              token=buyer_token(305))
        self.assertEqual((status, error_code(body)), (422, "invalid"))
        self.assertEqual(self.campaign(gb["id"])["joined_qty"], 4)
        self.assert_counters_add_up(sku_id)

    def test_two_processes_close_once(self):
        second = lb.Server(self.url, list(self.server_args))
        try:
            sku_id = self.new_sku(100)
            campaigns = [self.new_campaign(sku_id, min_qty=3, closes_in=3) for _ in range(6)]
            for i, gb in enumerate(campaigns):
                for buyer in range(3 if i % 2 == 0 else 1):  # even ones reach min_qty
                    server = self.server if buyer % 2 == 0 else second
                    status, _, order = self.join(400 + 10 * i + buyer, gb["id"], 1, server=server)
                    self.assertEqual(status, 201, order)
                    self.pay(order)
            for i, gb in enumerate(campaigns):
                closed = self.wait_closed(gb["id"])
                self.assertEqual(closed["status"], "succeeded" if i % 2 == 0 else "failed", closed)
                shipments = int(self.sql("SELECT COUNT(*) FROM shipments WHERE group_buy_id = %d" % gb["id"])[0][0])
                self.assertEqual(shipments, 1 if i % 2 == 0 else 0, "campaign %d shipped %d times" % (gb["id"], shipments))
            refunds = self.sql("SELECT COUNT(*) FROM orders WHERE sku_id = %d AND status = 'refund_required'" % sku_id)
            self.assertEqual(refunds[0][0], "3")
            self.assert_counters_add_up(sku_id)
        finally:
            self.assertEqual(second.stop(), 0)


if __name__ == "__main__":
    lb.main()
