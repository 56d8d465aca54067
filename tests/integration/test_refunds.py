"""Refunds: every cause (a buyer's, at once before handoff and as a request after it; a late payment; a second payment;
a failed campaign's paid joins), the co-op's decisions (approve, reject, retry), the provider's signed refund
notification (confirmed, replayed, wrong amount, unknown), and the SKU's counters true after each (units of a refunded
order leave sold; after handoff they leave the stock too). Real HTTP against a real MariaDB."""

import itertools
import json
import time
import unittest

import lb

SHIP_TO = {"name": "张三", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇"}
STATION = {"name": "岭头村服务站", "county": "武乡县", "township": "韩北乡", "village": "岭头村", "address": "村委会东侧"}
CLOSE_WAIT = 8  # seconds past a cut-off within which the closer (once a second) must have run

_keys = itertools.count(1)
_txns = itertools.count(1)
_buyers = itertools.count(5001)
buyer_token, error_code, signed, metric = lb.buyer_token, lb.error_code, lb.signed, lb.metric


def new_txn():
    return "rtxn-%d-%d" % (time.time_ns() % 10 ** 9, next(_txns))


class RefundTest(lb.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coop_id, cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")
        cls.other_id, cls.other = cls.server.create_merchant("coop", "沁县合作社")
        cls.host_id, cls.host = cls.server.create_merchant("host", "长治直播间")
        cls.shipper_id, cls.shipper = cls.server.create_merchant("shipper", "县乡村三级物流")
        cls.point_id = cls.server.create_pickup_point(cls.coop, STATION)

    # -- helpers ------------------------------------------------------------------------------------------------------

    def new_sku(self, stock=10, price_cents=5990):
        skus = [{"name": "2.5kg 礼盒", "price_cents": price_cents, "stock": stock, "weight_grams": 2700}]
        return self.server.create_product(self.coop, skus, title="武乡小米", cold_chain=False)["skus"][0]["id"]

    def reserve(self, buyer, qty, **target):
        body = dict(target, qty=qty)
        if "sku_id" in body or "live_item_id" in body:
            body["ship_to"] = SHIP_TO
        status, _, order = self.server.request("POST", "/v1/orders", body, token=buyer_token(buyer),
                                               headers={"Idempotency-Key": "refund-%d" % next(_keys)})
        self.assertEqual(status, 201, order)
        return order

    def notify(self, order, txn=None, amount_cents=None):
        raw = json.dumps({"order_id": order["id"], "provider_txn_id": txn or new_txn(),
                          "amount_cents": order["amount_cents"] if amount_cents is None else amount_cents}).encode()
        status, _, answer = self.server.request("POST", "/v1/payments/notify", raw=raw, headers=signed(raw))
        self.assertEqual(status, 200, answer)
        return answer

    def paid_order(self, buyer, qty, **target):
        order = self.reserve(buyer, qty, **target)
        self.assertEqual(self.notify(order)["status"], "paid")
        return order

    def ask_refund(self, buyer, order_id, body=None):
        return self.server.request("POST", "/v1/orders/%d/refund" % order_id, body, token=buyer_token(buyer))

    def refund_of(self, buyer, order_id, reason=None):
        status, _, order = self.ask_refund(buyer, order_id, {"reason": reason} if reason is not None else None)
        self.assertEqual(status, 200, order)
        return order

    def get_order(self, buyer, order_id):
        status, _, order = self.server.request("GET", "/v1/orders/%d" % order_id, token=buyer_token(buyer))
        self.assertEqual(status, 200, order)
        return order

    def refund_notify(self, body, headers=None):
        raw = json.dumps(body).encode()
        return self.server.request("POST", "/v1/refunds/notify", raw=raw, headers=headers or signed(raw))

    def confirm(self, refund, status="refunded", **extra):
        body = dict({"refund_id": refund["id"], "order_id": refund["order_id"], "status": status,
                     "amount_cents": refund["amount_cents"]}, **extra)
        code, _, answer = self.refund_notify(body)
        self.assertEqual(code, 200, answer)
        self.assertEqual(answer, {"refund_id": refund["id"], "status": status})
        return answer

    def decide(self, refund_id, action, token=None, body=None):
        return self.server.request("POST", "/v1/refunds/%d/%s" % (refund_id, action), body, token=token or self.coop)

    def refund_row(self, refund_id):
        return self.sql("SELECT status, cause, amount_cents, provider_txn_id, attempts, COALESCE(last_error, ''), "
                        "COALESCE(provider_refund_id, ''), reason FROM refunds WHERE id = %d" % refund_id)[0]

    def refunds_of(self, order_id):
        return self.sql("SELECT id, cause, status, provider_txn_id FROM refunds WHERE order_id = %d ORDER BY id" % order_id)

    def coop_refund(self, refund_id):
        """The refund as the co-op's list shows it."""
        status, _, page = self.server.request("GET", "/v1/merchant/refunds?after=%d&limit=1" % (refund_id - 1),
                                              token=self.coop)
        self.assertEqual(status, 200, page)
        self.assertEqual(page["refunds"][0]["id"], refund_id, page)
        return page["refunds"][0]

    def counters(self, sku_id):
        return dict(zip(("stock", "reserved", "sold", "held"),
                        map(int, self.sql("SELECT stock, reserved, sold, held FROM skus WHERE id = %d" % sku_id)[0])))

    def assert_counters_true(self, sku_id):
        """reserved and sold are what the SKU's orders hold: sold counts paid orders and further, never money going
        back; nothing counts twice."""
        c = self.counters(sku_id)
        reserved, sold = (int(v) for v in self.sql(
            "SELECT COALESCE(SUM(IF(status = 'reserved', qty, 0)), 0), COALESCE(SUM(IF(status IN ('paid', 'handed_off', "
            "'shipped', 'delivered', 'collected'), qty, 0)), 0) FROM orders WHERE sku_id = %d" % sku_id)[0])
        self.assertEqual((c["reserved"], c["sold"]), (reserved, sold), c)
        self.assertGreaterEqual(c["stock"] - c["reserved"] - c["sold"] - c["held"], 0, c)
        # one refund per payment, never more money back than came in
        self.assertEqual(self.sql("SELECT COUNT(*) FROM refunds r LEFT JOIN payments p ON p.sku_id = r.sku_id AND "
                                  "p.provider_txn_id = r.provider_txn_id WHERE r.sku_id = %d AND (p.id IS NULL OR "
                                  "p.amount_cents <> r.amount_cents OR p.order_id <> r.order_id)" % sku_id)[0][0], "0")

    def hand_off(self, order_id):
        """What the shipping system's acknowledgement does (server/order/shipping.c, lb_shipping_ack)."""
        self.sql("UPDATE shipments sh JOIN shipment_orders so ON so.shipment_id = sh.id SET sh.status = 'acked' "
                 "WHERE so.order_id = %d" % order_id)
        self.sql("UPDATE orders SET status = 'handed_off' WHERE id = %d" % order_id)

    def metrics(self):
        text = self.server.metrics()
        return {name: metric(text, name) for name in (
            'livebuy_refunds_total{cause="buyer"}', 'livebuy_refunds_total{cause="late_payment"}',
            'livebuy_refunds_total{cause="paid_twice"}', 'livebuy_refunds_total{cause="campaign_failed"}',
            'livebuy_refund_events_total{event="requested"}', 'livebuy_refund_events_total{event="approved"}',
            'livebuy_refund_events_total{event="rejected"}', 'livebuy_refund_events_total{event="refunded"}',
            'livebuy_refund_events_total{event="failed"}', 'livebuy_refund_events_total{event="retried"}')}

    def assert_metrics_moved(self, before, **moved):
        after = self.metrics()
        for name, value in after.items():
            key = name.split("{")[1].split('"')[1]
            self.assertEqual(value - before[name], moved.get(key, 0), name)

    # -- a buyer's refund before handoff -----------------------------------------------------------------------------

    def test_direct_order_refunded_at_once_then_confirmed(self):
        sku_id = self.new_sku(10)
        buyer = next(_buyers)
        order = self.paid_order(buyer, 2, sku_id=sku_id)
        self.assertEqual(self.counters(sku_id)["sold"], 2)
        before = self.metrics()

        answer = self.refund_of(buyer, order["id"], "不想要了")
        self.assertEqual(answer["status"], "refund_required")
        refund = answer["refund"]
        self.assertEqual((refund["status"], refund["cause"], refund["amount_cents"], refund["reason"]),
                         ("pending", "buyer", order["amount_cents"], "不想要了"))
        self.assertEqual(answer["shipment"]["status"], "cancelled")
        self.assertEqual(self.counters(sku_id), {"stock": 10, "reserved": 0, "sold": 0, "held": 0})
        self.assertEqual(self.server.sku(sku_id)["available"], 10)
        self.assert_counters_true(sku_id)
        self.assert_metrics_moved(before, buyer=1)

        # the shipper who pulls the feed sees the shipment again, cancelled
        cursor, seen = 0, {}
        while True:
            status, _, page = self.server.request("GET", "/v1/shipments/feed?after=%d&limit=200" % cursor,
                                                  token=self.shipper)
            self.assertEqual(status, 200, page)
            for s in page["shipments"]:
                seen[s["shipment_id"]] = s["status"]
            if page["next"] == cursor:
                break
            cursor = page["next"]
        self.assertEqual(seen[answer["shipment"]["id"]], "cancelled")

        # a second request names the refund
        status, _, body = self.ask_refund(buyer, order["id"])
        self.assertEqual((status, error_code(body)), (409, "conflict"))
        self.assertIn("refund %d" % refund["id"], body["error"]["message"])

        # the provider's notification: refunded; the same again changes nothing
        before = self.metrics()
        self.confirm(dict(refund, order_id=order["id"]), provider_refund_id="wx-r-1")
        self.assertEqual(self.get_order(buyer, order["id"])["status"], "refunded")
        self.assertEqual(self.get_order(buyer, order["id"])["refund"]["status"], "refunded")
        row = self.refund_row(refund["id"])
        self.assertEqual((row[0], row[6]), ("refunded", "wx-r-1"))
        updated = self.sql("SELECT updated_at FROM refunds WHERE id = %d" % refund["id"])
        self.confirm(dict(refund, order_id=order["id"]))
        self.assertEqual(self.sql("SELECT updated_at FROM refunds WHERE id = %d" % refund["id"]), updated)
        self.assert_metrics_moved(before, refunded=1)
        # the shipping system's late acknowledgement does not revive the cancelled shipment
        self.assertEqual(self.sql("SELECT status FROM shipments WHERE id = %d" % answer["shipment"]["id"])[0][0],
                         "cancelled")
        self.assert_counters_true(sku_id)

    def test_live_item_units_go_back_to_its_quota(self):
        sku_id = self.new_sku(20)
        status, _, live = self.server.request("POST", "/v1/lives", {"title": "今晚八点", "starts_at": 1700000000},
                                              token=self.host)
        self.assertEqual(status, 201, live)
        self.server.accepted_offer(self.coop, self.host, self.host_id, sku_id)
        item = {"sku_id": sku_id, "price_cents": 3990, "quota": 5, "per_buyer_limit": 5, "opens_at": 0}
        status, _, item = self.server.request("POST", "/v1/lives/%d/items" % live["id"], item, token=self.host)
        self.assertEqual(status, 201, item)
        buyer = next(_buyers)
        order = self.paid_order(buyer, 3, live_item_id=item["id"])
        self.assertEqual(self.counters(sku_id), {"stock": 20, "reserved": 0, "sold": 3, "held": 2})

        self.assertEqual(self.refund_of(buyer, order["id"])["refund"]["status"], "pending")
        self.assertEqual(self.counters(sku_id), {"stock": 20, "reserved": 0, "sold": 0, "held": 5})
        self.assertEqual(self.sql("SELECT quota, reserved, sold FROM live_items WHERE id = %d" % item["id"])[0],
                         ("5", "0", "0"))
        self.assert_counters_true(sku_id)

        # Taken off air, the item keeps a quota of what it sold; a refund's units then go to the SKU, and the quota
        # shrinks by them.
        buyer = next(_buyers)
        order = self.paid_order(buyer, 2, live_item_id=item["id"])
        status, _, closed = self.server.request("POST", "/v1/live-items/%d/close" % item["id"], token=self.host)
        self.assertEqual(status, 200, closed)
        self.assertEqual(self.counters(sku_id), {"stock": 20, "reserved": 0, "sold": 2, "held": 0})
        self.assertEqual(self.refund_of(buyer, order["id"])["refund"]["status"], "pending")
        self.assertEqual(self.counters(sku_id), {"stock": 20, "reserved": 0, "sold": 0, "held": 0})
        self.assertEqual(self.sql("SELECT quota, reserved, sold FROM live_items WHERE id = %d" % item["id"])[0],
                         ("0", "0", "0"))
        self.assert_counters_true(sku_id)

    def test_open_campaign_join_leaves_joined_qty(self):
        sku_id = self.new_sku(20)
        body = {"sku_id": sku_id, "pickup_point_id": self.point_id, "price_cents": 6990, "min_qty": 10,
                "per_buyer_limit": 5, "closes_at": int(time.time()) + 600}
        status, _, gb = self.server.request("POST", "/v1/group-buys", body, token=self.coop)
        self.assertEqual(status, 201, gb)
        buyer = next(_buyers)
        order = self.paid_order(buyer, 4, group_buy_id=gb["id"])
        self.assertEqual(self.counters(sku_id)["sold"], 4)

        answer = self.refund_of(buyer, order["id"])
        self.assertEqual((answer["status"], answer["refund"]["status"], answer["shipment"]),
                         ("refund_required", "pending", None))
        self.assertEqual(self.counters(sku_id), {"stock": 20, "reserved": 0, "sold": 0, "held": 0})
        self.assertEqual(self.sql("SELECT joined_qty FROM group_buys WHERE id = %d" % gb["id"])[0][0], "0")
        self.assert_counters_true(sku_id)

    def test_requests_at_once_make_one_refund(self):
        """Twenty copies of the refund request and the order's payment notify again, all at once: one refund, the
        units back once."""
        sku_id = self.new_sku(10)
        buyer = next(_buyers)
        order = self.reserve(buyer, 2, sku_id=sku_id)
        txn = new_txn()
        self.notify(order, txn)
        notify = json.dumps({"order_id": order["id"], "provider_txn_id": txn, "amount_cents": order["amount_cents"]}).encode()
        requests = [("POST", "/v1/orders/%d/refund" % order["id"], b'{"reason": "at once"}',
                     {"Content-Type": "application/json", "Authorization": "Bearer " + buyer_token(buyer)})] * 20
        requests += [("POST", "/v1/payments/notify", notify, dict(signed(notify), **{"Content-Type": "application/json"}))] * 5
        answers = self.server.requests_at_once(requests)
        statuses = sorted(a[0] for a in answers[:20])
        self.assertEqual(statuses, [200] + [409] * 19, answers)
        self.assertEqual([a[0] for a in answers[20:]], [200] * 5, answers)  # replays of the payment
        self.assertEqual(len(self.refunds_of(order["id"])), 1)
        self.assertEqual(self.counters(sku_id), {"stock": 10, "reserved": 0, "sold": 0, "held": 0})
        self.assert_counters_true(sku_id)

    # -- a buyer's refund after handoff: the co-op decides ------------------------------------------------------------

    def test_after_handoff_approved(self):
        sku_id = self.new_sku(10)
        buyer = next(_buyers)
        order = self.paid_order(buyer, 3, sku_id=sku_id)
        self.hand_off(order["id"])
        before = self.metrics()

        answer = self.refund_of(buyer, order["id"], "收到的小米受潮了")
        self.assertEqual(answer["status"], "handed_off")  # unchanged until the co-op decides
        refund = answer["refund"]
        self.assertEqual((refund["status"], refund["cause"]), ("requested", "buyer"))
        self.assertEqual(self.counters(sku_id), {"stock": 10, "reserved": 0, "sold": 3, "held": 0})
        self.assert_metrics_moved(before, buyer=1, requested=1)

        # the co-op's list, by status
        status, _, page = self.server.request("GET", "/v1/merchant/refunds?status=requested", token=self.coop)
        self.assertEqual(status, 200, page)
        listed = [r for r in page["refunds"] if r["id"] == refund["id"]]
        self.assertEqual(len(listed), 1, page)
        self.assertEqual(set(listed[0]), {"id", "order_id", "sku_id", "buyer_id", "amount_cents", "cause", "reason",
                                          "status", "attempts", "last_error", "provider_refund_id", "created_at",
                                          "updated_at"})
        self.assertEqual((listed[0]["order_id"], listed[0]["buyer_id"], listed[0]["reason"]),
                         (order["id"], buyer, "收到的小米受潮了"))
        status, _, page = self.server.request("GET", "/v1/merchant/refunds", token=self.other)
        self.assertEqual((status, [r for r in page["refunds"] if r["id"] == refund["id"]]), (200, []))

        # another co-op: 404; a notification before it is approved: 409
        status, _, body = self.decide(refund["id"], "approve", token=self.other)
        self.assertEqual((status, error_code(body)), (404, "not_found"))
        code, _, body = self.refund_notify({"refund_id": refund["id"], "order_id": order["id"], "status": "refunded",
                                            "amount_cents": refund["amount_cents"]})
        self.assertEqual((code, error_code(body)), (409, "conflict"))

        before = self.metrics()
        status, _, approved = self.decide(refund["id"], "approve")
        self.assertEqual((status, approved["status"], approved["attempts"]), (200, "pending", 0), approved)
        self.assertEqual(self.get_order(buyer, order["id"])["status"], "refund_required")
        # the goods went out: they leave sold and the stock; what can be sold is as it was
        self.assertEqual(self.counters(sku_id), {"stock": 7, "reserved": 0, "sold": 0, "held": 0})
        # the ledger says livebuy moved the stock (merchant_id null), for the order, whoever approved
        status, _, ledger = self.server.request("GET", "/v1/skus/%d/ledger" % sku_id, token=self.coop)
        self.assertEqual(status, 200, ledger)
        entries = [(e["kind"], e["delta"], e["stock_after"], e["merchant_id"], e["order_id"], e["reason"])
                   for e in ledger["entries"] if e["kind"] == "refund_after_handoff"]
        self.assertEqual(entries, [("refund_after_handoff", -3, 7, None, order["id"], "refund after handoff")])
        status, _, body = self.decide(refund["id"], "approve")
        self.assertEqual((status, error_code(body)), (409, "conflict"))
        self.assert_metrics_moved(before, approved=1)

        self.confirm(dict(refund, order_id=order["id"]))
        self.assertEqual(self.get_order(buyer, order["id"])["status"], "refunded")
        self.assertEqual(self.counters(sku_id), {"stock": 7, "reserved": 0, "sold": 0, "held": 0})
        self.assert_counters_true(sku_id)

    def test_after_handoff_rejected(self):
        sku_id = self.new_sku(10)
        buyer = next(_buyers)
        order = self.paid_order(buyer, 1, sku_id=sku_id)
        self.hand_off(order["id"])
        refund = self.refund_of(buyer, order["id"])["refund"]
        self.assertEqual((refund["status"], refund["reason"]), ("requested", ""))
        before = self.metrics()

        status, _, body = self.decide(refund["id"], "reject", body={"reason": "x" * 201})
        self.assertEqual((status, error_code(body)), (422, "invalid"))
        status, _, rejected = self.decide(refund["id"], "reject", body={"reason": "商品已签收七天"})
        self.assertEqual((status, rejected["status"], rejected["reason"]), (200, "rejected", "商品已签收七天"), rejected)
        self.assertEqual(self.get_order(buyer, order["id"])["status"], "handed_off")
        self.assertEqual(self.counters(sku_id), {"stock": 10, "reserved": 0, "sold": 1, "held": 0})
        self.assert_metrics_moved(before, rejected=1)
        for action in ("approve", "reject", "retry"):
            status, _, body = self.decide(refund["id"], action)
            self.assertEqual((status, error_code(body)), (409, "conflict"), action)
        # one refund per payment: asking again names the rejected one
        status, _, body = self.ask_refund(buyer, order["id"])
        self.assertEqual((status, error_code(body)), (409, "conflict"))
        self.assertIn("refund %d" % refund["id"], body["error"]["message"])
        self.assert_counters_true(sku_id)

    def test_transaction_ids_differing_in_case_are_two_refunds(self):
        """Provider ids are case-sensitive (sql/009): "...aB3" and "...Ab3" paid two orders, and each gets its own
        refund (sql/023), not the other one's "refund N already"."""
        sku_id = self.new_sku(10)
        buyers = [next(_buyers), next(_buyers)]
        base = new_txn()
        orders = []
        for buyer, txn in zip(buyers, (base + "aB3", base + "Ab3")):
            order = self.reserve(buyer, 1, sku_id=sku_id)
            self.assertEqual(self.notify(order, txn)["status"], "paid")
            orders.append(order)
        refunds = [self.refund_of(buyer, order["id"])["refund"] for buyer, order in zip(buyers, orders)]
        self.assertNotEqual(refunds[0]["id"], refunds[1]["id"])
        self.assertEqual([self.refunds_of(o["id"])[0][3] for o in orders], [base + "aB3", base + "Ab3"])
        self.assertEqual(self.counters(sku_id)["sold"], 0)
        self.assert_counters_true(sku_id)

    def test_claimed_shipment_makes_a_request(self):
        """A dispatcher has the shipment (it may be at the shipping system already): the units cannot come back."""
        sku_id = self.new_sku(10)
        buyer = next(_buyers)
        order = self.paid_order(buyer, 1, sku_id=sku_id)
        self.sql("UPDATE shipments sh JOIN shipment_orders so ON so.shipment_id = sh.id SET sh.claimed_by = 'test', "
                 "sh.claimed_until = %d, sh.push_started = 1 WHERE so.order_id = %d" % (int(time.time()) + 60, order["id"]))
        answer = self.refund_of(buyer, order["id"])
        self.assertEqual((answer["status"], answer["refund"]["status"], answer["shipment"]["status"]),
                         ("paid", "requested", "pending"))
        self.assertEqual(self.counters(sku_id)["sold"], 1)
        self.assert_counters_true(sku_id)

    def test_a_shipment_once_claimed_is_never_cancelled_by_a_refund(self):
        """A push was begun and its claim let go (its answer lost, or a stopping livebuyd abandoned it): the shipping
        system may have the goods, so the refund is a request, not a cancellation with the units on sale again
        (sql/024); approved, the goods are gone from the stock."""
        sku_id = self.new_sku(10)
        buyer = next(_buyers)
        order = self.paid_order(buyer, 2, sku_id=sku_id)
        shipment = "SELECT sh.id FROM shipments sh JOIN shipment_orders so ON so.shipment_id = sh.id WHERE so.order_id = %d"
        shipment_id = int(self.sql(shipment % order["id"])[0][0])
        # what a dispatcher's claim writes, then what a failed push's outcome leaves
        self.sql("UPDATE shipments SET claimed_by = 'test', claimed_until = %d, push_started = 1 WHERE id = %d"
                 % (int(time.time()) + 60, shipment_id))
        self.sql("UPDATE shipments SET claimed_by = NULL, claimed_until = NULL, attempts = 1 WHERE id = %d" % shipment_id)
        answer = self.refund_of(buyer, order["id"])
        self.assertEqual((answer["status"], answer["refund"]["status"], answer["shipment"]["status"]),
                         ("paid", "requested", "pending"))
        self.assertEqual(self.counters(sku_id), {"stock": 10, "reserved": 0, "sold": 2, "held": 0})
        status, _, approved = self.decide(answer["refund"]["id"], "approve")
        self.assertEqual((status, approved["status"]), (200, "pending"), approved)
        self.assertEqual(self.get_order(buyer, order["id"])["status"], "refund_required")
        self.assertEqual(self.counters(sku_id), {"stock": 8, "reserved": 0, "sold": 0, "held": 0})
        self.assert_counters_true(sku_id)

    # -- money that goes back by itself --------------------------------------------------------------------------------

    def test_late_payment(self):
        sku_id = self.new_sku(1)
        first, second = next(_buyers), next(_buyers)
        late = self.reserve(first, 1, sku_id=sku_id)
        status, _, body = self.server.request("POST", "/v1/orders/%d/cancel" % late["id"], token=buyer_token(first))
        self.assertEqual(status, 200, body)
        self.reserve(second, 1, sku_id=sku_id)  # the unit is gone
        before = self.metrics()

        txn = new_txn()
        answer = self.notify(late, txn)
        self.assertEqual((answer["status"], answer.get("payment")), ("refund_required", "refund_required"))
        refunds = self.refunds_of(late["id"])
        self.assertEqual([(r[1], r[2], r[3]) for r in refunds], [("late_payment", "pending", txn)])
        self.assertEqual(self.counters(sku_id), {"stock": 1, "reserved": 1, "sold": 0, "held": 0})
        self.assert_metrics_moved(before, late_payment=1)
        # the notify again: a replay, no second refund
        self.assertEqual(self.notify(late, txn)["status"], "refund_required")
        self.assertEqual(len(self.refunds_of(late["id"])), 1)
        # the buyer sees it and cannot ask for another
        self.assertEqual(self.get_order(first, late["id"])["refund"]["cause"], "late_payment")
        status, _, body = self.ask_refund(first, late["id"])
        self.assertEqual((status, error_code(body)), (409, "conflict"))
        self.assertIn("refund %s" % refunds[0][0], body["error"]["message"])
        self.confirm({"id": int(refunds[0][0]), "order_id": late["id"], "amount_cents": late["amount_cents"]})
        self.assertEqual(self.get_order(first, late["id"])["status"], "refunded")
        self.assert_counters_true(sku_id)

    def test_paid_twice(self):
        sku_id = self.new_sku(10)
        buyer = next(_buyers)
        order = self.reserve(buyer, 2, sku_id=sku_id)
        first, second = new_txn(), new_txn()
        self.assertEqual(self.notify(order, first)["status"], "paid")
        before = self.metrics()
        answer = self.notify(order, second)
        self.assertEqual((answer["status"], answer.get("payment")), ("paid", "refund_required"))
        refunds = self.refunds_of(order["id"])
        self.assertEqual([(r[1], r[2], r[3]) for r in refunds], [("paid_twice", "pending", second)])
        self.assertEqual(self.counters(sku_id)["sold"], 2)
        self.assert_metrics_moved(before, paid_twice=1)
        # confirming the second payment's refund leaves the order paid
        self.confirm({"id": int(refunds[0][0]), "order_id": order["id"], "amount_cents": order["amount_cents"]})
        self.assertEqual(self.get_order(buyer, order["id"])["status"], "paid")
        # the first payment can still go back, by its own refund
        answer = self.refund_of(buyer, order["id"])
        self.assertEqual((answer["status"], answer["refund"]["cause"]), ("refund_required", "buyer"))
        self.assertEqual([(r[1], r[3]) for r in self.refunds_of(order["id"])], [("paid_twice", second), ("buyer", first)])
        self.assert_counters_true(sku_id)

    def test_failed_campaign_refunds_paid_joins(self):
        sku_id = self.new_sku(20)
        body = {"sku_id": sku_id, "pickup_point_id": self.point_id, "price_cents": 6990, "min_qty": 10,
                "per_buyer_limit": 5, "closes_at": int(time.time()) + 3}
        status, _, gb = self.server.request("POST", "/v1/group-buys", body, token=self.coop)
        self.assertEqual(status, 201, gb)
        payer, other = next(_buyers), next(_buyers)
        paid = self.paid_order(payer, 2, group_buy_id=gb["id"])
        self.reserve(other, 3, group_buy_id=gb["id"])
        before = self.metrics()

        wait = max(0, gb["closes_at"] - time.time()) + CLOSE_WAIT
        self.assertTrue(lb.wait_for(lambda: self.sql("SELECT status FROM group_buys WHERE id = %d" % gb["id"])[0][0]
                                    != "open", wait))
        self.assertEqual(self.sql("SELECT status FROM group_buys WHERE id = %d" % gb["id"])[0][0], "failed")
        order = self.get_order(payer, paid["id"])
        self.assertEqual((order["status"], order["refund"]["cause"], order["refund"]["status"],
                          order["refund"]["amount_cents"]), ("refund_required", "campaign_failed", "pending",
                                                             paid["amount_cents"]))
        # every unit is back: sold is true
        self.assertEqual(self.counters(sku_id), {"stock": 20, "reserved": 0, "sold": 0, "held": 0})
        self.assert_metrics_moved(before, campaign_failed=1)
        self.confirm({"id": order["refund"]["id"], "order_id": paid["id"], "amount_cents": paid["amount_cents"]})
        self.assertEqual(self.get_order(payer, paid["id"])["status"], "refunded")
        self.assert_counters_true(sku_id)

    # -- the provider's notification -----------------------------------------------------------------------------------

    def test_notification_checks_and_failure_then_retry(self):
        sku_id = self.new_sku(10)
        buyer = next(_buyers)
        order = self.paid_order(buyer, 1, sku_id=sku_id)
        refund = self.refund_of(buyer, order["id"])["refund"]
        good = {"refund_id": refund["id"], "order_id": order["id"], "status": "failed",
                "amount_cents": refund["amount_cents"]}

        raw = json.dumps(good).encode()
        code, _, body = self.server.request("POST", "/v1/refunds/notify", raw=raw,
                                            headers=signed(raw, secret="not-the-secret-0123456789"))
        self.assertEqual(code, 401, body)
        for bad, status, code_name in [(dict(good, amount_cents=refund["amount_cents"] + 1), 422, "invalid"),
                                       (dict(good, refund_id=refund["id"] + 100000), 404, "not_found"),
                                       (dict(good, order_id=order["id"] + 100000), 404, "not_found"),
                                       (dict(good, status="pending"), 422, "invalid"),
                                       (dict(good, message="x" * 401), 422, "invalid")]:
            code, _, body = self.refund_notify(bad)
            self.assertEqual((code, error_code(body)), (status, code_name), bad)
        self.assertEqual(self.refund_row(refund["id"])[0], "pending")  # nothing changed

        before = self.metrics()
        self.confirm(dict(refund, order_id=order["id"]), status="failed", message="账户已注销")
        self.assertEqual(self.refund_row(refund["id"])[5], "账户已注销")
        self.assertEqual(self.get_order(buyer, order["id"])["status"], "refund_required")
        self.assertEqual(self.coop_refund(refund["id"])["last_error"], "账户已注销")
        # the co-op sends it again: pending, attempts from nought
        self.sql("UPDATE refunds SET attempts = 3 WHERE id = %d" % refund["id"])
        status, _, again = self.decide(refund["id"], "retry")
        self.assertEqual((status, again["status"], again["attempts"]), (200, "pending", 0), again)
        status, _, body = self.decide(refund["id"], "retry")
        self.assertEqual((status, error_code(body)), (409, "conflict"))
        self.assert_metrics_moved(before, failed=1, retried=1)
        self.confirm(dict(refund, order_id=order["id"]))
        # money that went back is never "failed" afterwards
        code, _, body = self.refund_notify(good)
        self.assertEqual((code, error_code(body)), (409, "conflict"))
        self.assertEqual(self.get_order(buyer, order["id"])["status"], "refunded")
        self.assert_counters_true(sku_id)

    def test_request_refusals(self):
        sku_id = self.new_sku(10)
        buyer = next(_buyers)
        reserved = self.reserve(buyer, 1, sku_id=sku_id)
        status, _, body = self.ask_refund(buyer, reserved["id"])
        self.assertEqual((status, error_code(body)), (409, "conflict"))
        self.assertIn("reserved", body["error"]["message"])
        paid = self.paid_order(buyer, 1, sku_id=sku_id)
        status, _, body = self.ask_refund(next(_buyers), paid["id"])
        self.assertEqual((status, error_code(body)), (404, "not_found"))
        status, _, body = self.ask_refund(buyer, 99999999)
        self.assertEqual((status, error_code(body)), (404, "not_found"))
        status, _, body = self.ask_refund(buyer, paid["id"], {"reason": "长" * 201})
        self.assertEqual((status, error_code(body)), (422, "invalid"))
        status, _, body = self.server.request("POST", "/v1/orders/%d/refund" % paid["id"])
        self.assertEqual(status, 401, body)
        self.assertEqual(self.refunds_of(paid["id"]), [])
        status, _, body = self.server.request("GET", "/v1/merchant/refunds?status=nope", token=self.coop)
        self.assertEqual((status, error_code(body)), (400, "invalid_query"))
        status, _, body = self.server.request("GET", "/v1/merchant/refunds", token=self.shipper)
        self.assertEqual(status, 403, body)
        self.assert_counters_true(sku_id)

    def test_a_host_decides_the_refunds_of_its_own_skus(self):
        """A host that made its own product is that SKU's merchant: it lists and decides its refunds; a co-op does not
        see them, and the host does not see the co-op's."""
        skus = [{"name": "1kg 袋装", "price_cents": 2990, "stock": 10, "weight_grams": 1050}]
        sku_id = self.server.create_product(self.host, skus, title="主播自营 红枣", cold_chain=False)["skus"][0]["id"]
        buyer = next(_buyers)
        order = self.paid_order(buyer, 1, sku_id=sku_id)
        self.hand_off(order["id"])
        refund = self.refund_of(buyer, order["id"], "枣子有虫")["refund"]
        self.assertEqual(refund["status"], "requested")
        status, _, page = self.server.request("GET", "/v1/merchant/refunds?status=requested", token=self.host)
        self.assertEqual((status, [r["id"] for r in page["refunds"]]), (200, [refund["id"]]), page)
        status, _, page = self.server.request("GET", "/v1/merchant/refunds?status=requested", token=self.coop)
        self.assertNotIn(refund["id"], [r["id"] for r in page["refunds"]])
        status, _, body = self.decide(refund["id"], "approve", token=self.coop)
        self.assertEqual((status, error_code(body)), (404, "not_found"))
        status, _, approved = self.decide(refund["id"], "approve", token=self.host)
        self.assertEqual((status, approved["status"]), (200, "pending"), approved)
        self.assertEqual(self.get_order(buyer, order["id"])["status"], "refund_required")


if __name__ == "__main__":
    lb.main()
