"""Payments and expiry: POST /v1/payments/notify (signed over the raw body, replay-proof, idempotent, one state change
under 50 concurrent copies, the shipping outbox row written with the payment) and the expiry sweeper (unpaid
reservations expire and give their stock back; a payment after that re-reserves or asks for a refund).
Real HTTP against a real MariaDB."""

import itertools
import json
import threading
import time
import unittest

import lb

SHIP_TO = {"name": "张三", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇"}
RESERVE_TTL = 10  # long enough for the other tests' reservations to outlive them
EXPIRY_WAIT = RESERVE_TTL + 8  # the TTL, a sweep interval and slack for a loaded machine

_keys = itertools.count(1)
_txns = itertools.count(1)
buyer_token, error_code, signed = lb.buyer_token, lb.error_code, lb.signed


def new_txn():
    return "txn-%d-%d" % (time.time_ns() % 10 ** 9, next(_txns))


def cold_chain_of(shipment):
    """The cold_chain flag wherever the shipment document keeps it."""
    if isinstance(shipment, dict):
        if "cold_chain" in shipment:
            return shipment["cold_chain"]
        found = [cold_chain_of(v) for v in shipment.values() if isinstance(v, (dict, list))]
    else:
        found = [cold_chain_of(v) for v in shipment if isinstance(v, (dict, list))]
    return next((f for f in found if f is not None), None)


def notify_body(order_id, txn, amount_cents):
    return json.dumps({"order_id": order_id, "provider_txn_id": txn, "amount_cents": amount_cents}).encode()


metric = lb.metric


class Base(lb.ServerTestCase):
    """One database and one livebuyd (buyer and payment secrets, the shortest reservation TTL) shared by a class."""

    server_args = lb.ServerTestCase.server_args + ["--reserve-ttl", str(RESERVE_TTL)]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coop_id, cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")
        cls.host_id, cls.host = cls.server.create_merchant("host", "长治直播间")

    # -- helpers ------------------------------------------------------------------------------------------------------

    def new_sku(self, stock=100, price_cents=5990, cold_chain=False, weight_grams=2700, title="武乡小米"):
        skus = [{"name": "2.5kg 礼盒", "price_cents": price_cents, "stock": stock, "weight_grams": weight_grams}]
        return self.server.create_product(self.coop, skus, title=title, cold_chain=cold_chain)["skus"][0]["id"]

    def order(self, buyer, qty, **target):
        """POST /v1/orders (sku_id=... or live_item_id=...; ship_to unless pickup_point_id is given): (status, answer)."""
        body = dict(target, qty=qty)
        if "pickup_point_id" not in body:
            body["ship_to"] = SHIP_TO
        status, _, answer = self.server.request("POST", "/v1/orders", body, token=buyer_token(buyer),
                                                headers={"Idempotency-Key": "pay-%d" % next(_keys)})
        return status, answer

    def reserve(self, buyer, qty, **target):
        """Reserves through POST /v1/orders; returns the order."""
        status, answer = self.order(buyer, qty, **target)
        self.assertEqual(status, 201, answer)
        return answer

    def reserve_when_back(self, buyer, qty, **target):
        """reserve() right after stock came back through an expiry: when the other livebuyd's sweeper expired it, this
        one may answer sold out from its hint for up to a second (README, "The order path"), so it tries for two."""
        deadline = time.monotonic() + 2
        status, answer = self.order(buyer, qty, **target)
        while status == 409 and time.monotonic() < deadline:
            time.sleep(0.1)
            status, answer = self.order(buyer, qty, **target)
        self.assertEqual(status, 201, answer)
        return answer

    def new_live_item(self, sku_id, quota):
        status, _, live = self.server.request("POST", "/v1/lives", {"title": "今晚八点", "starts_at": 1700000000},
                                              token=self.host)
        self.assertEqual(status, 201, live)
        self.server.accepted_offer(self.coop, self.host, self.host_id, sku_id)
        item = {"sku_id": sku_id, "price_cents": 3990, "quota": quota, "per_buyer_limit": 10, "opens_at": 0}
        status, _, answer = self.server.request("POST", "/v1/lives/%d/items" % live["id"], item, token=self.host)
        self.assertEqual(status, 201, answer)
        return answer["id"]

    def cancel(self, buyer, order_id):
        """Cancels a reservation a test leaves behind, so that it does not expire during a later test."""
        status, _, answer = self.server.request("POST", "/v1/orders/%d/cancel" % order_id, token=buyer_token(buyer))
        self.assertEqual(status, 200, answer)

    def notify(self, order_id, txn, amount_cents, body=None, headers=None, server=None):
        raw = body if body is not None else notify_body(order_id, txn, amount_cents)
        return (server or self.server).request("POST", "/v1/payments/notify", raw=raw,
                                               headers=headers if headers is not None else signed(raw))

    def counters(self, sku_id):
        sku = self.server.sku(sku_id)
        return {k: sku[k] for k in ("stock", "reserved", "sold", "held", "available")}

    def order_status(self, order_id):
        return self.sql("SELECT status FROM orders WHERE id = %d" % order_id)[0][0]

    def payments(self, order_id):
        return self.sql("SELECT provider_txn_id, amount_cents, outcome FROM payments WHERE order_id = %d ORDER BY id"
                        % order_id)

    def live_counts(self, item_id):
        return self.sql("SELECT quota, reserved, sold FROM live_items WHERE id = %d" % item_id)[0]

    def assertRejected(self, answer, status, code, what):
        got, _, body = answer
        self.assertEqual(got, status, "%s: %r" % (what, body))
        self.assertEqual(error_code(body), code, what)

    def notify_all_at_once(self, orders):
        """Sends one notify per order, all at once (they share a SKU, so they are applied in batches)."""
        requests = []
        for order in orders:
            body = notify_body(order["id"], new_txn(), order["amount_cents"])
            requests.append(("POST", "/v1/payments/notify", body, dict(signed(body), **{"Content-Type": "application/json"})))
        answers = {o["id"]: a for o, a in zip(orders, self.server.requests_at_once(requests)) if a is not None}
        self.assertEqual(len(answers), len(orders))
        return answers

    def wait_expired(self, order_ids, timeout=EXPIRY_WAIT):
        """Polls until every order is expired (bounded); returns how long that took."""
        started = time.monotonic()
        done = lb.wait_for(lambda: all(self.order_status(o) == "expired" for o in order_ids), timeout, 0.25)
        self.assertTrue(done, "orders %r did not expire within %d s: %r"
                        % (order_ids, timeout, [self.order_status(o) for o in order_ids]))
        return time.monotonic() - started

    def backdate(self, order_id):
        """Makes a reservation due now (the sweeper still has to find it, through its block of the order directory)."""
        self.sql("UPDATE orders SET expires_at = UNIX_TIMESTAMP() - 1 WHERE id = %d" % order_id)
        self.sql("UPDATE order_blocks SET due_at = UNIX_TIMESTAMP() - 1 WHERE first_id = "
                 "(SELECT first_id FROM (SELECT MAX(first_id) AS first_id FROM order_blocks WHERE first_id <= %d) nearest)"
                 % order_id)


class SignatureTest(Base):

    def setUp(self):
        self.sku_id = self.new_sku(stock=10)
        self.order = self.reserve(1, 2, sku_id=self.sku_id)
        self.before = self.counters(self.sku_id)

    def assertUnchanged(self):
        self.assertEqual(self.order_status(self.order["id"]), "reserved")
        self.assertEqual(self.counters(self.sku_id), self.before)
        self.assertEqual(self.payments(self.order["id"]), [])

    def test_forged_signature(self):
        body = notify_body(self.order["id"], new_txn(), self.order["amount_cents"])
        self.assertRejected(self.notify(0, 0, 0, body=body, headers=signed(body, secret="another-secret-0123456789")),
                            401, "unauthorized", "another key")
        headers = signed(body)
        headers["X-Livebuy-Signature"] = headers["X-Livebuy-Signature"].upper().replace("SHA256=", "sha256=")
        self.assertRejected(self.notify(0, 0, 0, body=body, headers=headers), 401, "unauthorized", "upper-case hex")
        self.assertUnchanged()

    def test_stale_and_future_timestamps(self):
        body = notify_body(self.order["id"], new_txn(), self.order["amount_cents"])
        now = int(time.time())
        for offset in (-301, 301, -100000):
            self.assertRejected(self.notify(0, 0, 0, body=body, headers=signed(body, now + offset)), 401, "unauthorized",
                                "timestamp %+d s" % offset)
        self.assertUnchanged()
        status, _, answer = self.notify(0, 0, 0, body=body, headers=signed(body, now - 250))
        self.assertEqual((status, answer), (200, {"order_id": self.order["id"], "status": "paid"}))

    def test_missing_and_malformed_headers(self):
        body = notify_body(self.order["id"], new_txn(), self.order["amount_cents"])
        good = signed(body)
        for what, changes in [
            ("no timestamp", {"X-Livebuy-Timestamp": None}),
            ("no signature", {"X-Livebuy-Signature": None}),
            ("neither", {"X-Livebuy-Timestamp": None, "X-Livebuy-Signature": None}),
            ("empty timestamp", {"X-Livebuy-Timestamp": ""}),
            ("timestamp not a number", {"X-Livebuy-Timestamp": good["X-Livebuy-Timestamp"] + "x"}),
            ("negative timestamp", {"X-Livebuy-Timestamp": "-" + good["X-Livebuy-Timestamp"]}),
            ("no sha256= prefix", {"X-Livebuy-Signature": good["X-Livebuy-Signature"][7:]}),
            ("other algorithm", {"X-Livebuy-Signature": "sha1=" + good["X-Livebuy-Signature"][7:]}),
            ("short signature", {"X-Livebuy-Signature": good["X-Livebuy-Signature"][:-1]}),
        ]:
            headers = dict(good, **changes)
            self.assertRejected(self.notify(0, 0, 0, body=body, headers=headers), 401, "unauthorized", what)
        self.assertUnchanged()

    def test_tampered_body(self):
        body = notify_body(self.order["id"], new_txn(), self.order["amount_cents"])
        headers = signed(body)
        for tampered in (notify_body(self.order["id"], new_txn(), self.order["amount_cents"]), body + b" ", body[:-1],
                         body.replace(b'"amount_cents": ', b'"amount_cents": 0')):
            self.assertRejected(self.notify(0, 0, 0, body=tampered, headers=headers), 401, "unauthorized",
                                "tampered %r" % tampered)
        self.assertUnchanged()

    def test_signed_but_invalid_body(self):
        for what, body, status, code in [
            ("not JSON", b"{", 400, "malformed"),
            ("no order_id", json.dumps({"provider_txn_id": "t", "amount_cents": 1}).encode(), 422, "invalid"),
            ("empty txn id", notify_body(self.order["id"], "", 1), 422, "invalid"),
            ("long txn id", notify_body(self.order["id"], "t" * 129, 1), 422, "invalid"),
            ("control character", notify_body(self.order["id"], "t\n1", 1), 422, "invalid"),
            ("negative amount", notify_body(self.order["id"], "t", -1), 422, "invalid"),
        ]:
            self.assertRejected(self.notify(0, 0, 0, body=body), status, code, what)
        self.assertUnchanged()


class PaymentTest(Base):

    def test_pay_reserved_order_writes_the_outbox(self):
        sku_id = self.new_sku(stock=10, weight_grams=2700)
        order = self.reserve(2, 3, sku_id=sku_id)
        txn = new_txn()
        status, _, answer = self.notify(order["id"], txn, order["amount_cents"])
        self.assertEqual((status, answer), (200, {"order_id": order["id"], "status": "paid"}))
        self.assertEqual(self.counters(sku_id), {"stock": 10, "reserved": 0, "sold": 3, "held": 0, "available": 7})
        self.assertEqual(self.payments(order["id"]), [(txn, str(order["amount_cents"]), "applied")])

        rows = self.sql("SELECT s.id, s.sku_id, s.status, s.group_buy_id, s.pickup_point_id, s.next_attempt_at <= "
                        "UNIX_TIMESTAMP(), s.payload FROM shipments s JOIN shipment_orders o ON o.shipment_id = s.id "
                        "WHERE o.sku_id = %d AND o.order_id = %d" % (sku_id, order["id"]))
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0][1:6], (str(sku_id), "pending", None, None, "1"))
        payload = json.loads(rows[0][6])
        self.assertEqual(payload, {"orders": [order["id"]], "items": [{"sku_id": sku_id, "title": "武乡小米 2.5kg 礼盒", "qty": 3}],
                                   "ship_to": SHIP_TO, "cold_chain": False, "weight_grams": 8100,
                                   "service_level": "standard"})
        status, _, seen = self.server.request("GET", "/v1/orders/%d" % order["id"], token=buyer_token(2))
        self.assertEqual((status, seen["status"]), (200, "paid"))

    def test_cold_chain_pickup_point_order(self):
        sku_id = self.new_sku(stock=5, cold_chain=True, weight_grams=1000)
        self.sql("INSERT INTO pickup_points (merchant_id, name, county, township, village, address, created_at) VALUES "
                 "(%d, '丰州镇村级服务站', '武乡县', '丰州镇', '东村', '东村委会旁', 0)" % self.coop_id)
        point_id = int(self.sql("SELECT MAX(id) FROM pickup_points")[0][0])
        order = self.reserve(3, 2, sku_id=sku_id, pickup_point_id=point_id)
        self.assertEqual(self.notify(order["id"], new_txn(), order["amount_cents"])[0], 200)
        rows = self.sql("SELECT pickup_point_id, payload FROM shipments WHERE sku_id = %d" % sku_id)
        self.assertEqual(len(rows), 1, rows)
        payload = json.loads(rows[0][1])
        self.assertEqual(rows[0][0], str(point_id))
        self.assertNotIn("ship_to", payload)
        self.assertEqual(payload["pickup_point"], {"id": point_id, "name": "丰州镇村级服务站", "county": "武乡县",
                                                   "township": "丰州镇", "village": "东村", "address": "东村委会旁"})
        self.assertEqual((payload["cold_chain"], payload["service_level"], payload["weight_grams"]),
                         (True, "next_morning", 2000))

    def test_replay_is_a_no_op(self):
        sku_id = self.new_sku(stock=10)
        order = self.reserve(4, 1, sku_id=sku_id)
        txn = new_txn()
        first = self.notify(order["id"], txn, order["amount_cents"])
        self.assertEqual(first[0], 200, first)
        after = self.counters(sku_id)
        before_metrics = metric(self.server.metrics(), 'livebuy_payments_total{outcome="replayed"}')
        for _ in range(3):
            status, _, answer = self.notify(order["id"], txn, order["amount_cents"])
            self.assertEqual((status, answer), (200, {"order_id": order["id"], "status": "paid"}))
        self.assertEqual(self.counters(sku_id), after)
        self.assertEqual(len(self.payments(order["id"])), 1)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM shipment_orders WHERE order_id = %d" % order["id"]), [("1",)])
        self.assertEqual(metric(self.server.metrics(), 'livebuy_payments_total{outcome="replayed"}'), before_metrics + 3)

    def test_wrong_amount_changes_nothing(self):
        sku_id = self.new_sku(stock=10)
        order = self.reserve(5, 2, sku_id=sku_id)
        before = self.counters(sku_id)
        for amount in (order["amount_cents"] - 1, order["amount_cents"] + 1, 0):
            self.assertRejected(self.notify(order["id"], new_txn(), amount), 422, "invalid", "amount %d" % amount)
        self.assertEqual(self.counters(sku_id), before)
        self.assertEqual(self.order_status(order["id"]), "reserved")
        self.assertEqual(self.payments(order["id"]), [])

    def test_unknown_order(self):
        self.assertRejected(self.notify(99999999, new_txn(), 100), 404, "not_found", "unknown order")

    def test_unknown_order_in_a_known_block(self):
        """livebuyd knows the blocks of the order directory it made (their SKUs, server/order/directory.c): a payment or a
        cancellation for an id of such a block that holds no order goes straight to that SKU's lane, and is a 404 there
        like any unknown order, changing nothing."""
        sku_id = self.new_sku(stock=10)
        order = self.reserve(9, 1, sku_id=sku_id)  # alone in its batch: the next ids of its block of 64 stay empty
        before = self.counters(sku_id)
        self.assertRejected(self.notify(order["id"] + 1, new_txn(), order["amount_cents"]), 404, "not_found", "empty id")
        status, _, answer = self.server.request("POST", "/v1/orders/%d/cancel" % (order["id"] + 1), token=buyer_token(9))
        self.assertEqual((status, error_code(answer)), (404, "not_found"), answer)
        self.assertEqual(self.counters(sku_id), before)
        self.assertEqual(self.notify(order["id"], new_txn(), order["amount_cents"])[2]["status"], "paid")

    def test_fifty_concurrent_copies_change_the_order_once(self):
        sku_id = self.new_sku(stock=20)
        order = self.reserve(6, 4, sku_id=sku_id)
        body = notify_body(order["id"], new_txn(), order["amount_cents"])
        headers = signed(body)
        headers["Content-Type"] = "application/json"
        answers = [a for a in self.server.requests_at_once([("POST", "/v1/payments/notify", body, headers)] * 50) if a]
        self.assertEqual(len(answers), 50)
        self.assertEqual(set(json.dumps(a, sort_keys=True) for a in answers),
                         {json.dumps([200, {"order_id": order["id"], "status": "paid"}], sort_keys=True)})
        self.assertEqual(len(self.payments(order["id"])), 1)
        self.assertEqual(self.counters(sku_id), {"stock": 20, "reserved": 0, "sold": 4, "held": 0, "available": 16})
        self.assertEqual(self.sql("SELECT COUNT(*) FROM shipment_orders WHERE order_id = %d" % order["id"]), [("1",)])

    def test_copies_in_one_batch_with_the_order_unpaid(self):
        """Copies of one notice that reach a batch together while the order is still reserved (a provider's retry
        after a time-out): the first pays it, the others are replays of that payment, not a second payment of a paid
        order. Another payment of the SKU goes first and waits on the SKU row, so that the copies wait together."""
        sku_id = self.new_sku(stock=20)
        first, order = self.reserve(7, 1, sku_id=sku_id), self.reserve(8, 2, sku_id=sku_id)
        body = notify_body(order["id"], new_txn(), order["amount_cents"])
        headers = dict(signed(body), **{"Content-Type": "application/json"})
        holder = self.hold_locked("SELECT id FROM skus WHERE id = %d FOR UPDATE" % sku_id)
        answers = []
        try:
            ahead = threading.Thread(target=lambda: answers.append(self.notify(first["id"], new_txn(), first["amount_cents"])))
            ahead.start()
            time.sleep(0.5)  # the first batch is out, waiting on the row
            copies = threading.Thread(target=lambda: answers.extend(
                self.server.requests_at_once([("POST", "/v1/payments/notify", body, headers)] * 3)))
            copies.start()
            time.sleep(1)
        finally:
            holder.stdin.close()
            holder.wait(10)
        ahead.join(30)
        copies.join(30)
        self.assertEqual([(a[0], a[-1]["status"]) for a in answers], [(200, "paid")] * 4, answers)
        self.assertEqual(len(self.payments(order["id"])), 1)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM refunds WHERE order_id = %d" % order["id"]), [("0",)])
        self.assertEqual(self.counters(sku_id)["sold"], 3)

    def test_many_orders_of_one_sku_paid_at_once(self):
        sku_id = self.new_sku(stock=100)
        orders = [self.reserve(200 + i, 1 + i % 3, sku_id=sku_id) for i in range(30)]
        answers = self.notify_all_at_once(orders)
        self.assertEqual({a for a in answers.values() if a[0] != 200 or a[1]["status"] != "paid"}, set())
        qty = sum(o["qty"] for o in orders)
        self.assertEqual(self.counters(sku_id), {"stock": 100, "reserved": 0, "sold": qty, "held": 0, "available": 100 - qty})
        ids = ",".join(str(o["id"]) for o in orders)
        self.assertEqual(self.sql("SELECT COUNT(DISTINCT shipment_id), COUNT(*) FROM shipment_orders WHERE order_id IN (%s)"
                                  % ids), [("30", "30")])
        self.assertEqual(self.sql("SELECT COUNT(*) FROM payments WHERE order_id IN (%s) AND outcome = 'applied'" % ids),
                         [("30",)])

    def test_payments_and_cancellations_at_once(self):
        """One batch may lock its orders together (sku_actions.c): an order named by two actions (its payment and its
        cancellation, sent at once) is locked by each in turn, so the later one sees what the earlier changed."""
        sku_id = self.new_sku(stock=60)
        buyers = [440 + i for i in range(12)]
        orders = [self.reserve(b, 1 + i % 3, sku_id=sku_id) for i, b in enumerate(buyers)]
        requests = []
        for order in orders:
            body = notify_body(order["id"], new_txn(), order["amount_cents"])
            requests.append(("POST", "/v1/payments/notify", body, dict(signed(body), **{"Content-Type": "application/json"})))
        for buyer, order in zip(buyers[:4], orders[:4]):
            token = lb.buyer_token(buyer)
            requests.append(("POST", "/v1/orders/%d/cancel" % order["id"], None, {"Authorization": "Bearer " + token}))
        answers = self.server.requests_at_once(requests)
        self.assertNotIn(None, answers)
        paid, cancels = answers[:12], answers[12:]
        # Paid first and the cancellation refused, or cancelled first and paid from the stock it gave back: paid either way.
        self.assertEqual([a[0] for a in paid], [200] * 12, paid)
        self.assertEqual({a[1]["status"] for a in paid}, {"paid"}, paid)
        self.assertEqual(set(a[0] for a in cancels) - {200, 409}, set(), cancels)
        self.assertEqual({self.order_status(o["id"]) for o in orders}, {"paid"})
        qty = sum(o["qty"] for o in orders)
        self.assertEqual(self.counters(sku_id), {"stock": 60, "reserved": 0, "sold": qty, "held": 0, "available": 60 - qty})

    def test_live_and_direct_orders_paid_at_once(self):
        """Payments on one SKU in one batch (their counters written once per batch): live item and direct orders, and
        an expired live order among them that takes its units back from the quota, read after the others' changes."""
        sku_id = self.new_sku(stock=40)
        item_id = self.new_live_item(sku_id, quota=12)
        live = [self.reserve(300 + i, 2, live_item_id=item_id) for i in range(5)]
        direct = [self.reserve(320 + i, 1, sku_id=sku_id) for i in range(5)]
        expired = self.reserve(340, 2, live_item_id=item_id)
        self.backdate(expired["id"])
        self.wait_expired([expired["id"]])
        self.assertEqual(self.live_counts(item_id), ("12", "10", "0"))
        answers = self.notify_all_at_once(live + direct + [expired])
        self.assertEqual({o["id"]: answers[o["id"]][1]["status"] for o in live + direct + [expired]},
                         {o["id"]: "paid" for o in live + direct + [expired]})
        self.assertEqual(self.live_counts(item_id), ("12", "0", "12"))
        self.assertEqual(self.counters(sku_id), {"stock": 40, "reserved": 0, "sold": 17, "held": 0, "available": 23})
        # The rows written together carry the batch's time; the expired order's may be all its batch wrote.
        ids = ",".join(str(o["id"]) for o in live + direct + [expired])
        self.assertEqual(self.sql("SELECT COUNT(*), MIN(created_at) > UNIX_TIMESTAMP() - 60 FROM payments "
                                  "WHERE order_id IN (%s)" % ids), [("11", "1")])
        self.assertEqual(self.sql("SELECT COUNT(*), MIN(s.created_at) > UNIX_TIMESTAMP() - 60 FROM shipments s JOIN "
                                  "shipment_orders so ON so.shipment_id = s.id WHERE so.order_id IN (%s)" % ids),
                         [("11", "1")])

    def test_actions_spread_over_many_skus_at_once(self):
        """Notifies and cancellations over 24 SKUs at once share transactions (sku_actions.c: the SKU rows, the orders and
        the recorded payments read in one statement each, the counters, payments and shipments written in one each):
        every SKU's counters, each order's status, payments and shipment come out as one SKU's batch leaves them; a
        notify sent twice is applied once, an order paid and cancelled at once is paid, a live item's order moves its
        item's counters, an earlier payment's transaction id replays on its own SKU; each shipment carries its own SKU's
        title and cold chain (read for all the job's SKUs in one statement)."""
        skus = [self.new_sku(stock=30, title="武乡小米 %d 号" % i, cold_chain=i % 3 == 0) for i in range(24)]
        item_id = self.new_live_item(skus[0], quota=6)
        orders = [self.reserve(600 + i, 1 + i % 2, sku_id=sku_id) for i, sku_id in enumerate(skus)]
        orders += [self.reserve(650 + i, 1 + i % 2, sku_id=sku_id) for i, sku_id in enumerate(skus[:12])]
        live = self.reserve(690, 2, live_item_id=item_id)
        early = self.reserve(691, 1, sku_id=skus[5])
        early_txn = new_txn()
        self.assertEqual(self.notify(early["id"], early_txn, early["amount_cents"])[0], 200)
        requests = []

        def pay(order, txn):
            body = notify_body(order["id"], txn, order["amount_cents"])
            requests.append(("POST", "/v1/payments/notify", body, dict(signed(body), **{"Content-Type": "application/json"})))

        for order in orders + [live]:
            pay(order, new_txn())
        twice_txn = new_txn()
        pay(orders[3], twice_txn)  # orders[3] is paid twice above and here under another txn: refunded as paid twice
        pay(early, early_txn)  # recorded before this burst: a replay
        requests.append(("POST", "/v1/orders/%d/cancel" % orders[7]["id"], None,
                         {"Authorization": "Bearer " + lb.buyer_token(607)}))
        answers = self.server.requests_at_once(requests)
        self.assertNotIn(None, answers)
        paid = answers[:len(orders) + 1]
        self.assertEqual({(a[0], a[1]["status"]) for a in paid}, {(200, "paid")}, paid)
        self.assertEqual(tuple(answers[-2]), (200, {"order_id": early["id"], "status": "paid"}))
        self.assertIn(answers[-1][0], (200, 409), answers[-1])
        self.assertEqual({self.order_status(o["id"]) for o in orders + [live, early]}, {"paid"})
        for sku_id in skus:
            qty = sum(o["qty"] for o in orders + [live, early] if o["sku_id"] == sku_id)
            held = 4 if sku_id == skus[0] else 0  # the live item's quota of 6, 2 of it sold
            self.assertEqual(self.counters(sku_id), {"stock": 30, "reserved": 0, "sold": qty, "held": held,
                                                     "available": 30 - qty - held}, sku_id)
        self.assertEqual(self.live_counts(item_id), ("6", "0", "2"))
        ids = ",".join(str(o["id"]) for o in orders + [live, early])
        self.assertEqual(self.sql("SELECT COUNT(*), COUNT(DISTINCT order_id) FROM payments WHERE order_id IN (%s) "
                                  "AND outcome = 'applied'" % ids), [(str(len(orders) + 2),) * 2])
        self.assertEqual(self.sql("SELECT COUNT(*) FROM payments WHERE provider_txn_id = '%s'" % twice_txn), [("1",)])
        self.assertEqual(self.sql("SELECT COUNT(*), COUNT(DISTINCT order_id) FROM shipment_orders WHERE order_id IN (%s)"
                                  % ids), [(str(len(orders) + 2),) * 2])
        self.assertEqual(self.sql("SELECT COUNT(*) FROM payments WHERE provider_txn_id = '%s'" % early_txn), [("1",)])
        for sku_id, payload in self.sql("SELECT sh.sku_id, sh.payload FROM shipments sh JOIN shipment_orders so "
                                        "ON so.shipment_id = sh.id WHERE so.order_id IN (%s)" % ids):
            i = skus.index(int(sku_id))
            shipment = json.loads(payload)
            self.assertEqual(shipment["items"][0]["title"], "武乡小米 %d 号 2.5kg 礼盒" % i, shipment)
            self.assertEqual(cold_chain_of(shipment), i % 3 == 0, shipment)

    def test_cancellations_spread_over_many_skus_at_once(self):
        """Cancellations over 20 SKUs at once share transactions (sku_actions.c: their statuses, their SKUs', live
        items' and campaigns' counters written together, their details read together): every SKU's counters and each
        order come out as one cancellation at a time leaves them. Among them an order on a live item on air (its units
        go back to the quota), one on an item taken off air (to the SKU; the quota shrinks), a group-buy join (it leaves
        the campaign's joined quantity; the answer shows its pickup point), a paid order (409), another buyer's (404)
        and an order cancelled twice in the burst (once 200, once 409)."""
        skus = [self.new_sku(stock=30, title="沁州黄小米 %d 号" % i) for i in range(20)]
        on, off = self.new_live_item(skus[0], quota=8), self.new_live_item(skus[1], quota=8)
        point_id = self.server.create_pickup_point(self.coop, {"name": "岭头村服务站", "county": "武乡县", "township":
                                                               "韩北乡", "village": "岭头村", "address": "村委会东侧"})
        status, _, gb = self.server.request("POST", "/v1/group-buys", {
            "sku_id": skus[2], "pickup_point_id": point_id, "price_cents": 4990, "min_qty": 10, "per_buyer_limit": 5,
            "closes_at": int(time.time()) + 600}, token=self.coop)
        self.assertEqual(status, 201, gb)
        direct = [self.reserve(700 + i, 1 + i % 3, sku_id=sku_id) for i, sku_id in enumerate(skus)]
        kept = [self.reserve(730 + i, 2, sku_id=sku_id) for i, sku_id in enumerate(skus[:6])]  # not cancelled
        live_on, live_off = self.reserve(760, 3, live_item_id=on), self.reserve(761, 2, live_item_id=off)
        status, _, join = self.server.request("POST", "/v1/orders", {"group_buy_id": gb["id"], "qty": 4},
                                              token=buyer_token(762), headers={"Idempotency-Key": "pay-%d" % next(_keys)})
        self.assertEqual(status, 201, join)
        paid = self.reserve(763, 1, sku_id=skus[3])
        self.assertEqual(self.notify(paid["id"], new_txn(), paid["amount_cents"])[0], 200)
        status, _, closed = self.server.request("POST", "/v1/live-items/%d/close" % off, token=self.host)
        self.assertEqual(status, 200, closed)
        cancels = [(700 + i, o) for i, o in enumerate(direct)] + [(760, live_on), (761, live_off), (762, join),
                                                                   (763, paid), (999, kept[0]), (704, direct[4])]
        requests = [("POST", "/v1/orders/%d/cancel" % o["id"], None, {"Authorization": "Bearer " + buyer_token(b)})
                    for b, o in cancels]
        answers = self.server.requests_at_once(requests)
        self.assertNotIn(None, answers)
        by_order = {}
        for (buyer, order), answer in zip(cancels, answers):
            by_order.setdefault(order["id"], []).append(answer)
        for order in direct + [live_on, live_off, join]:
            got = sorted(a[0] for a in by_order[order["id"]])
            self.assertEqual(got, [200, 409] if order is direct[4] else [200], (order, by_order[order["id"]]))
            body = next(a[1] for a in by_order[order["id"]] if a[0] == 200)
            self.assertEqual((body["id"], body["status"], body["qty"]), (order["id"], "cancelled", order["qty"]), body)
            self.assertEqual(self.order_status(order["id"]), "cancelled")
        i = skus.index(direct[7]["sku_id"])
        self.assertEqual(by_order[direct[7]["id"]][0][1]["title"], "沁州黄小米 %d 号 2.5kg 礼盒" % i)
        join_answer = by_order[join["id"]][0][1]
        self.assertEqual((join_answer["pickup_point"]["id"], join_answer["pickup_point"]["name"]), (point_id, "岭头村服务站"))
        self.assertEqual([a[0] for a in by_order[paid["id"]]], [409], by_order[paid["id"]])
        self.assertEqual(error_code(by_order[paid["id"]][0][1]), "conflict")
        self.assertEqual([a[0] for a in by_order[kept[0]["id"]]], [404], by_order[kept[0]["id"]])
        self.assertEqual({self.order_status(o["id"]) for o in kept}, {"reserved"})
        self.assertEqual(self.order_status(paid["id"]), "paid")
        for sku_id in skus:
            reserved = sum(o["qty"] for o in kept if o["sku_id"] == sku_id)
            sold = paid["qty"] if sku_id == paid["sku_id"] else 0
            held = 8 if sku_id == skus[0] else 0  # the item on air has its whole quota again; the one off air none
            self.assertEqual(self.counters(sku_id), {"stock": 30, "reserved": reserved, "sold": sold, "held": held,
                                                     "available": 30 - reserved - sold - held}, sku_id)
        self.assertEqual(self.live_counts(on), ("8", "0", "0"))
        self.assertEqual(self.live_counts(off), ("0", "0", "0"))
        status, _, campaign = self.server.request("GET", "/v1/group-buys/%d" % gb["id"])
        self.assertEqual((status, campaign["joined_qty"]), (200, 0), campaign)
        for i, order in enumerate(kept):
            self.cancel(730 + i, order["id"])

    def test_expired_order_paid_alone_is_recorded_with_its_time(self):
        """A batch of one payment that takes its units back (no counters added up): its rows carry the batch's time."""
        sku_id = self.new_sku(stock=10)
        order = self.reserve(350, 1, sku_id=sku_id)
        self.backdate(order["id"])
        self.wait_expired([order["id"]])
        self.assertEqual(self.notify(order["id"], new_txn(), order["amount_cents"])[2]["status"], "paid")
        self.assertEqual(self.sql("SELECT created_at > UNIX_TIMESTAMP() - 60 FROM payments WHERE order_id = %d"
                                  % order["id"]), [("1",)])
        self.assertEqual(self.sql("SELECT s.created_at > UNIX_TIMESTAMP() - 60 FROM shipments s JOIN shipment_orders so "
                                  "ON so.shipment_id = s.id WHERE so.order_id = %d" % order["id"]), [("1",)])

    def test_paid_twice_with_different_txn_ids(self):
        sku_id = self.new_sku(stock=10)
        order = self.reserve(7, 1, sku_id=sku_id)
        first, second = new_txn(), new_txn()
        self.assertEqual(self.notify(order["id"], first, order["amount_cents"])[2]["status"], "paid")
        after = self.counters(sku_id)
        status, _, answer = self.notify(order["id"], second, order["amount_cents"])
        self.assertEqual((status, answer), (200, {"order_id": order["id"], "status": "paid", "payment": "refund_required"}))
        # Its replay says the same.
        self.assertEqual(self.notify(order["id"], second, order["amount_cents"])[2], answer)
        self.assertEqual(self.counters(sku_id), after)
        self.assertEqual(self.payments(order["id"]), [(first, str(order["amount_cents"]), "applied"),
                                                      (second, str(order["amount_cents"]), "refund_required")])
        self.assertEqual(self.sql("SELECT COUNT(*) FROM shipment_orders WHERE order_id = %d" % order["id"]), [("1",)])

    def test_transaction_ids_differing_in_case_are_two_payments(self):
        """A provider's ids are case-sensitive: "...aB3" and "...Ab3" pay two orders (sql/009), sent apart and at once."""
        sku_id = self.new_sku(stock=10)
        orders = [self.reserve(8, 1, sku_id=sku_id) for _ in range(4)]
        base = new_txn()
        txns = [base + "aB3", base + "Ab3", base + "cD4", base + "Cd4"]
        for order, txn in zip(orders[:2], txns[:2]):
            self.assertEqual(self.notify(order["id"], txn, order["amount_cents"])[2], {"order_id": order["id"], "status": "paid"})
        requests = []
        for order, txn in zip(orders[2:], txns[2:]):
            body = notify_body(order["id"], txn, order["amount_cents"])
            requests.append(("POST", "/v1/payments/notify", body, dict(signed(body), **{"Content-Type": "application/json"})))
        self.assertEqual([a[1]["status"] for a in self.server.requests_at_once(requests)], ["paid", "paid"])
        for order, txn in zip(orders, txns):
            self.assertEqual(self.payments(order["id"]), [(txn, str(order["amount_cents"]), "applied")])
        self.assertEqual(self.counters(sku_id)["sold"], 4)

    def test_live_item_order(self):
        sku_id = self.new_sku(stock=50)
        item_id = self.new_live_item(sku_id, quota=10)
        order = self.reserve(8, 3, live_item_id=item_id)
        self.assertEqual(self.notify(order["id"], new_txn(), order["amount_cents"])[2]["status"], "paid")
        self.assertEqual(self.live_counts(item_id), ("10", "0", "3"))
        self.assertEqual(self.counters(sku_id), {"stock": 50, "reserved": 0, "sold": 3, "held": 7, "available": 40})

    def test_not_configured(self):
        server = lb.Server(self.url, ["--buyer-secret", lb.BUYER_SECRET])
        try:
            body = notify_body(1, "t", 1)
            self.assertRejected(self.notify(0, 0, 0, body=body, server=server), 503, "unavailable", "no --payment-secret")
        finally:
            self.assertEqual(server.stop(), 0)

    def test_metrics(self):
        text = self.server.metrics()
        for outcome in ("applied", "replayed", "refund_required", "rejected"):
            self.assertIn('livebuy_payments_total{outcome="%s"}' % outcome, text)
        self.assertIn("livebuy_orders_expired_total", text)


class ExpiryTest(Base):
    """With --reserve-ttl 10 and a second livebuyd sweeping the same database."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = lb.Server(cls.server.db, list(cls.server_args))

    @classmethod
    def tearDownClass(cls):
        code = cls.other.stop() if cls.other.running() else "not running (crashed?)"
        super().tearDownClass()
        if code != 0:
            raise AssertionError("the second livebuyd did not stop cleanly: %r" % code)

    def expired_total(self):
        return sum(metric(s.metrics(), "livebuy_orders_expired_total") for s in (self.server, self.other))

    def test_the_other_process_looks_a_block_up_once(self):
        """Payments reaching a livebuyd that did not take their orders: it reads an order to find its SKU once per block
        of the order directory (livebuy_order_lookups_total), then knows the block's other orders, whether the block is
        one SKU's or several's."""
        hot = self.new_sku(stock=100)
        spread = [self.new_sku(stock=100) for _ in range(4)]

        def reserve_at_once(targets):
            """The orders sent together while a session holds their SKUs' rows, so that they wait together (on a busy
            machine they otherwise come in one or two at a time, each batch with a block of its own)."""
            requests = [("POST", "/v1/orders", json.dumps({"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}).encode(),
                         {"Content-Type": "application/json", "Authorization": "Bearer " + buyer_token(800 + i),
                          "Idempotency-Key": "block-%d" % next(_keys)}) for i, sku_id in enumerate(targets)]
            holder = self.hold_locked("SELECT id FROM skus WHERE id IN (%s) FOR UPDATE" % ", ".join(map(str, set(targets))))
            answers = []
            sender = threading.Thread(target=lambda: answers.extend(self.server.requests_at_once(requests)))
            sender.start()
            try:
                time.sleep(1)  # for the requests to come in and wait behind the first batch
            finally:
                holder.stdin.close()
                holder.wait(10)
            sender.join(60)
            self.assertEqual({a[0] for a in answers}, {201}, answers)
            return [a[1] for a in answers]

        orders = reserve_at_once([hot] * 20) + reserve_at_once([spread[i % 4] for i in range(24)])
        blocks = {self.sql("SELECT MAX(first_id) FROM order_blocks WHERE first_id <= %d" % o["id"])[0][0] for o in orders}
        self.assertLess(len(blocks), len(orders) / 2, "the orders did not batch: %r" % blocks)
        before = metric(self.other.metrics(), "livebuy_order_lookups_total")
        for order in orders:
            status, _, answer = self.notify(order["id"], new_txn(), order["amount_cents"], server=self.other)
            self.assertEqual((status, answer["status"]), (200, "paid"), answer)
        self.assertEqual(metric(self.other.metrics(), "livebuy_order_lookups_total") - before, len(blocks))
        self.assertEqual({self.order_status(o["id"]) for o in orders}, {"paid"})

    def test_unpaid_orders_expire_and_give_stock_back(self):
        sku_id = self.new_sku(stock=30)
        item_id = self.new_live_item(sku_id, quota=10)
        before = self.counters(sku_id)
        expired_before = self.expired_total()
        direct = [self.reserve(10 + i, 2, sku_id=sku_id) for i in range(3)]
        live = [self.reserve(20 + i, 3, live_item_id=item_id) for i in range(2)]
        kept = self.reserve(30, 1, sku_id=sku_id)
        self.sql("UPDATE orders SET expires_at = UNIX_TIMESTAMP() + 3600 WHERE id = %d" % kept["id"])
        self.assertEqual(self.counters(sku_id)["reserved"], 13)
        self.assertEqual(self.live_counts(item_id), ("10", "6", "0"))
        self.assertLessEqual(max(o["expires_at"] for o in direct + live), int(time.time()) + RESERVE_TTL + 1)

        # The SKU as buyers see it gets its stock back shortly after the reservations' expiry.
        deadline = max(o["expires_at"] for o in direct + live) + 8
        back = lb.wait_for(lambda: self.counters(sku_id)["reserved"] == 1, deadline - time.time(), 0.25)
        self.assertTrue(back, "stock not back: %r" % self.counters(sku_id))
        self.assertLessEqual(time.time(), deadline)
        self.wait_expired([o["id"] for o in direct + live], timeout=1)
        self.assertEqual(self.order_status(kept["id"]), "reserved")
        self.assertEqual(self.counters(sku_id), dict(before, reserved=1, available=before["available"] - 1))
        self.assertEqual(self.live_counts(item_id), ("10", "0", "0"))
        # Two processes swept: each order was expired once (the other tests leave no reservation behind).
        self.assertEqual(self.expired_total() - expired_before, 5)
        status, _, seen = self.server.request("GET", "/v1/orders/%d" % direct[0]["id"], token=buyer_token(10))
        self.assertEqual((status, seen["status"]), (200, "expired"))

    def test_orders_of_items_on_and_off_air_expire_together(self):
        """Due reservations of one SKU through a live item taken off air, one still on air and the SKU itself, expired
        in one sweep: the off-air item's units go to the SKU and its quota shrinks, the on-air item's go back to its
        quota (which the SKU holds), the direct one's to the SKU."""
        sku_id = self.new_sku(stock=40)
        off = self.new_live_item(sku_id, quota=10)
        on = self.new_live_item(sku_id, quota=10)
        orders = [self.reserve(350, 3, live_item_id=off), self.reserve(351, 2, live_item_id=off),
                  self.reserve(352, 4, live_item_id=on), self.reserve(353, 1, sku_id=sku_id)]
        status, _, closed = self.server.request("POST", "/v1/live-items/%d/close" % off, token=self.host)
        self.assertEqual(status, 200, closed)
        self.assertEqual(self.counters(sku_id), {"stock": 40, "reserved": 10, "sold": 0, "held": 6, "available": 24})
        for order in orders:
            self.backdate(order["id"])
        self.wait_expired([o["id"] for o in orders])
        self.assertEqual(self.counters(sku_id), {"stock": 40, "reserved": 0, "sold": 0, "held": 10, "available": 30})
        self.assertEqual(self.live_counts(off), ("0", "0", "0"))
        self.assertEqual(self.live_counts(on), ("10", "0", "0"))

    def test_payment_after_expiry_with_stock_there(self):
        sku_id = self.new_sku(stock=10)
        order = self.reserve(40, 4, sku_id=sku_id)
        self.backdate(order["id"])
        self.wait_expired([order["id"]])
        self.assertEqual(self.counters(sku_id)["available"], 10)
        status, _, answer = self.notify(order["id"], new_txn(), order["amount_cents"])
        self.assertEqual((status, answer), (200, {"order_id": order["id"], "status": "paid"}))
        self.assertEqual(self.counters(sku_id), {"stock": 10, "reserved": 0, "sold": 4, "held": 0, "available": 6})
        self.assertEqual(self.sql("SELECT COUNT(*) FROM shipment_orders WHERE order_id = %d" % order["id"]), [("1",)])

    def test_payment_after_expiry_with_stock_gone(self):
        sku_id = self.new_sku(stock=5)
        order = self.reserve(41, 5, sku_id=sku_id)
        self.backdate(order["id"])
        self.wait_expired([order["id"]])
        other = self.reserve_when_back(42, 4, sku_id=sku_id)  # only 1 left: not enough for the expired order's 5
        before = self.counters(sku_id)
        txn = new_txn()
        status, _, answer = self.notify(order["id"], txn, order["amount_cents"])
        self.assertEqual((status, answer), (200, {"order_id": order["id"], "status": "refund_required",
                                                  "payment": "refund_required"}))
        self.assertEqual(self.counters(sku_id), before)
        self.assertEqual(self.order_status(order["id"]), "refund_required")
        self.assertEqual(self.payments(order["id"]), [(txn, str(order["amount_cents"]), "refund_required")])
        self.assertEqual(self.sql("SELECT COUNT(*) FROM shipment_orders WHERE order_id = %d" % order["id"]), [("0",)])
        self.assertEqual(self.notify(order["id"], txn, order["amount_cents"])[2], answer)
        self.cancel(42, other["id"])

    def test_expired_orders_paid_at_once_take_only_the_stock_left(self):
        # Paid in batches (the first notify goes alone, the others queue behind it and go together), each payment
        # decides on the stock the ones before it left: two of four fit.
        sku_id = self.new_sku(stock=8)
        expired = [self.reserve(50 + i, 2, sku_id=sku_id) for i in range(4)]
        for order in expired:
            self.backdate(order["id"])
        self.wait_expired([o["id"] for o in expired])
        other = self.reserve_when_back(54, 3, sku_id=sku_id)  # 5 left: room for two expired orders of 2, not three
        answers = self.notify_all_at_once(expired)
        statuses = sorted((a[0], a[1].get("status")) for a in answers.values())
        self.assertEqual(statuses, [(200, "paid")] * 2 + [(200, "refund_required")] * 2, answers)
        self.assertEqual(self.counters(sku_id), {"stock": 8, "reserved": 3, "sold": 4, "held": 0, "available": 1})
        self.cancel(54, other["id"])

    def test_live_item_payment_after_expiry(self):
        sku_id = self.new_sku(stock=20)
        item_id = self.new_live_item(sku_id, quota=6)
        gone = self.reserve(43, 4, live_item_id=item_id)
        back = self.reserve(44, 2, live_item_id=item_id)
        for order in (gone, back):
            self.backdate(order["id"])
        self.wait_expired([gone["id"], back["id"]])
        self.assertEqual(self.live_counts(item_id), ("6", "0", "0"))
        self.assertEqual(self.counters(sku_id)["held"], 6)
        other = self.reserve_when_back(45, 3, live_item_id=item_id)  # 3 of the quota left: enough for 2, not for 4
        self.assertEqual(self.notify(back["id"], new_txn(), back["amount_cents"])[2]["status"], "paid")
        self.assertEqual(self.live_counts(item_id), ("6", "3", "2"))
        self.assertEqual(self.notify(gone["id"], new_txn(), gone["amount_cents"])[2]["status"], "refund_required")
        self.assertEqual(self.live_counts(item_id), ("6", "3", "2"))
        self.assertEqual(self.counters(sku_id), {"stock": 20, "reserved": 3, "sold": 2, "held": 1, "available": 14})
        self.cancel(45, other["id"])


class ShortTtlTest(Base):
    """With --reserve-ttl 2, as the issue has it: real expiry, no backdating."""

    server_args = lb.ServerTestCase.server_args + ["--reserve-ttl", "2"]

    def test_expires_within_seconds_then_payment_follows_the_rule(self):
        sku_id = self.new_sku(stock=3)
        lapsed = self.reserve(50, 2, sku_id=sku_id)
        self.assertEqual(self.counters(sku_id)["available"], 1)
        self.assertTrue(lb.wait_for(lambda: self.counters(sku_id)["available"] == 3, 6, 0.2),
                        "stock not back within 6 s of a 2 s reservation: %r" % self.counters(sku_id))
        self.assertEqual(self.order_status(lapsed["id"]), "expired")
        # Stock is there: the late payment takes it again.
        status, _, answer = self.notify(lapsed["id"], new_txn(), lapsed["amount_cents"])
        self.assertEqual((status, answer["status"]), (200, "paid"))
        self.assertEqual(self.counters(sku_id), {"stock": 3, "reserved": 0, "sold": 2, "held": 0, "available": 1})
        # Stock gone: the late payment asks for a refund.
        late = self.reserve(51, 1, sku_id=sku_id)
        self.assertTrue(lb.wait_for(lambda: self.order_status(late["id"]) == "expired", 6, 0.2))
        taker = self.reserve(52, 1, sku_id=sku_id)
        status, _, answer = self.notify(late["id"], new_txn(), late["amount_cents"])
        self.assertEqual((status, answer["status"]), (200, "refund_required"))
        self.assertEqual(self.counters(sku_id)["sold"], 2)
        self.cancel(52, taker["id"])


if __name__ == "__main__":
    lb.main()
