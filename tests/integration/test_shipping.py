"""The shipping handoff: the outbox dispatcher pushing paid orders to a real HTTP receiver (signed, Idempotency-Key,
retries with backoff, a time-out, dead letters, two processes, a SIGKILL in the middle), the shipper's pull feed and
signed delivery events moving orders forward only. Real HTTP against a real MariaDB."""

import hashlib
import hmac
import itertools
import json
import os
import re
import signal
import threading
import time
import unittest

import msgpack

import lb

SHIPPING_SECRET = "test-shipping-secret-0123456789"
SHIP_TO = {"name": "李四", "phone": "13900000000", "address": "山西省长治市武乡县故城镇"}
PUSH_TIMEOUT = 10  # livebuyd gives a push this long (server/jobs/dispatcher.c)
CLAIM_SECONDS = 30  # and holds its claim on a row this long
SHIPPING_ARGS = ["--shipping-secret", SHIPPING_SECRET, "--shipping-backoff-ms", "50"]

_keys = itertools.count(1)
_txns = itertools.count(1)


class Receiver(lb.HttpReceiver):
    """The shipping system: an HTTP server on 127.0.0.1 that checks each push's signature and processes each shipment
    once (a repeated Idempotency-Key is answered 200 again, not processed again). It refuses the first `fail_first`
    pushes with 500, lets `time_out` pushes wait past livebuyd's time-out, and refuses everything when `always_fail`."""

    def __init__(self, fail_first=0, time_out=0, always_fail=False, delay=0.0):
        self.lock = threading.Lock()
        self.fail_left, self.time_out_left, self.always_fail, self.delay = fail_first, time_out, always_fail, delay
        self.processed = {}  # Idempotency-Key -> the decoded body of its first accepted push
        self.accepted = {}  # Idempotency-Key -> pushes answered 2xx
        self.refused = self.timed_out = self.bad = 0
        self.content_types = set()
        self.problems = []  # what a push got wrong (signature, key, body)
        super().__init__()

    @property
    def url(self):
        return "http://127.0.0.1:%d/shipments" % self.port

    def check(self, request, body):
        """What is wrong with a push (None when nothing): its signature, key and body, as API.md describes them."""
        ts, sig = request.headers.get("X-Livebuy-Timestamp"), request.headers.get("X-Livebuy-Signature")
        key = request.headers.get("Idempotency-Key")
        if ts is None or sig is None or key is None:
            return "missing headers"
        mac = hmac.new(SHIPPING_SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, "sha256=" + mac):
            return "bad signature"
        if abs(int(ts) - time.time()) > 300:
            return "stale timestamp"
        media = request.headers.get("Content-Type", "")
        document = msgpack.unpackb(body, raw=False) if media == "application/msgpack" else json.loads(body)
        if document.get("shipment_id") != int(key):
            return "shipment_id %r is not the Idempotency-Key %s" % (document.get("shipment_id"), key)
        return document

    def handle(self, request):
        body = request.rfile.read(int(request.headers.get("Content-Length", "0")))
        document = self.check(request, body)
        with self.lock:
            self.content_types.add(request.headers.get("Content-Type"))
            if isinstance(document, str):
                self.problems.append(document)
                self.bad += 1
                status = 401
            elif self.always_fail or self.fail_left > 0:
                self.fail_left = max(0, self.fail_left - 1)
                self.refused += 1
                status = 500
            elif self.time_out_left > 0:
                self.time_out_left -= 1
                self.timed_out += 1
                status = None
            else:
                status = 200
        if status is None:
            time.sleep(PUSH_TIMEOUT + 1.5)  # livebuyd has given up by now: this answer goes nowhere
            status = 503
        elif status == 200 and self.delay:
            time.sleep(self.delay)
        if status == 200:
            key = request.headers["Idempotency-Key"]
            with self.lock:
                self.processed.setdefault(key, document)
                self.accepted[key] = self.accepted.get(key, 0) + 1
        self.reply(request, status)

    def processed_ids(self):
        with self.lock:
            return {int(k) for k in self.processed}


def metric(text, name, labels=""):
    match = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return float(match.group(1)) if match else 0.0


class Base(lb.ServerTestCase):
    """A database, a livebuyd with shipping configured (extra flags from shipping_args) and a co-op selling one SKU."""

    shipping_args = []

    @classmethod
    def setUpClass(cls):
        cls.receiver = cls.make_receiver()
        url_args = ["--shipping-url", cls.receiver.url] if cls.receiver else []
        cls.server_args = lb.ServerTestCase.server_args + SHIPPING_ARGS + url_args + cls.shipping_args
        super().setUpClass()
        cls.coop_id, cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")
        skus = [{"name": "2.5kg 礼盒", "price_cents": 5990, "stock": 1000, "weight_grams": 2700}]
        cls.sku_id = cls.server.create_product(cls.coop, skus, title="武乡小米")["skus"][0]["id"]

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if cls.receiver:
            cls.receiver.close()

    @classmethod
    def make_receiver(cls):
        return None

    def pay_order(self, buyer, qty=1, server=None):
        """Reserves qty of the SKU for buyer and pays it (a signed notify): returns the order id."""
        server = server or self.server
        status, _, order = server.request("POST", "/v1/orders", {"sku_id": self.sku_id, "qty": qty, "ship_to": SHIP_TO},
                                          token=lb.buyer_token(buyer), headers={"Idempotency-Key": "s-%d" % next(_keys)})
        self.assertEqual(status, 201, order)
        body = json.dumps({"order_id": order["id"], "provider_txn_id": "st-%d-%d" % (time.time_ns(), next(_txns)),
                           "amount_cents": order["amount_cents"]}).encode()
        status, _, answer = server.request("POST", "/v1/payments/notify", raw=body, headers=lb.signed(body))
        self.assertEqual((status, answer["status"]), (200, "paid"), answer)
        return order["id"]

    def shipment_of(self, order_id):
        return int(self.sql("SELECT shipment_id FROM shipment_orders WHERE order_id = %d" % order_id)[0][0])

    def order_statuses(self, order_ids):
        rows = self.sql("SELECT id, status FROM orders WHERE id IN (%s)" % ",".join(map(str, order_ids)))
        return {int(i): s for i, s in rows}

    def shipment_statuses(self):
        return dict(self.sql("SELECT status, COUNT(*) FROM shipments GROUP BY status"))

    def wait_all_acked(self, timeout):
        if not lb.wait_for(lambda: self.shipment_statuses().keys() == {"acked"}, timeout):
            self.fail("not all shipments acked within %d s: %r" % (timeout, self.sql(
                "SELECT id, status, attempts, last_error, claimed_by FROM shipments WHERE status <> 'acked'")))


class PushTest(lb.SecondServer, Base):
    """Two livebuyd processes on one database push to a receiver that refuses three pushes and lets one time out."""

    @classmethod
    def make_receiver(cls):
        return Receiver(fail_first=3, time_out=1)

    def test_every_paid_order_arrives_once(self):
        orders = [self.pay_order(100 + i, qty=1 + i % 3, server=(self.server, self.second)[i % 2]) for i in range(8)]
        self.wait_all_acked(PUSH_TIMEOUT + 25)
        receiver = self.receiver
        shipments = {int(i) for (i,) in self.sql("SELECT id FROM shipments")}
        self.assertEqual(len(shipments), 8)
        self.assertEqual(receiver.problems, [])
        self.assertEqual((receiver.refused, receiver.timed_out), (3, 1))
        # Each shipment was processed, and answered 2xx once: with two processes, a row is sent by one at a time.
        self.assertEqual(receiver.processed_ids(), shipments)
        self.assertEqual(receiver.accepted, {str(i): 1 for i in shipments})
        self.assertEqual(receiver.content_types, {"application/json"})
        arrived = sorted(o for doc in receiver.processed.values() for o in doc["orders"])
        self.assertEqual(arrived, sorted(orders))
        self.assertEqual(set(self.order_statuses(orders).values()), {"handed_off"})

        document = receiver.processed[str(self.shipment_of(orders[1]))]
        self.assertEqual(document["ship_to"], SHIP_TO)
        self.assertEqual(document["items"], [{"sku_id": self.sku_id, "title": "武乡小米 2.5kg 礼盒", "qty": 2}])
        self.assertEqual((document["weight_grams"], document["cold_chain"]), (5400, False))
        # Refused and timed-out pushes were retried: the attempts and the last error stay on the row.
        rows = self.sql("SELECT attempts, last_error, acked_at IS NOT NULL, claimed_by FROM shipments WHERE attempts > 0")
        self.assertEqual(sum(int(r[0]) for r in rows), 4, rows)
        self.assertTrue(any("HTTP 500" in r[1] for r in rows), rows)
        self.assertTrue(any("imeout" in r[1] or "timed out" in r[1] for r in rows), rows)
        self.assertTrue(all(r[2] == "1" and r[3] is None for r in rows), rows)

        def totals():
            texts = [self.server.metrics(), self.second.metrics()]
            return [sum(metric(t, "livebuy_shipping_pushes_total", '{result="%s"}' % r) for t in texts)
                    for r in ("acked", "failed")] + [max(metric(t, "livebuy_outbox_backlog") for t in texts)]
        self.assertTrue(lb.wait_for(lambda: totals() == [8, 4, 0], 5), totals())

        # A picked_up event moves handed-off orders on to shipped.
        shipment_id = self.shipment_of(orders[0])
        body = json.dumps({"type": "picked_up", "tracking_no": "YT0001"}).encode()
        status, _, answer = self.server.request("POST", "/v1/shipments/%d/events" % shipment_id, raw=body,
                                                headers=lb.signed(body, secret=SHIPPING_SECRET))
        self.assertEqual(status, 200, answer)
        self.assertEqual(self.order_statuses([orders[0]]), {orders[0]: "shipped"})


class CrashTest(Base):
    """msgpack pushes to a slow receiver, and a SIGKILL of livebuyd in the middle: nothing is lost."""

    shipping_args = ["--shipping-format", "msgpack"]

    @classmethod
    def make_receiver(cls):
        return Receiver(delay=0.4)

    def test_nothing_lost_across_sigkill(self):
        orders = [self.pay_order(200 + i) for i in range(12)]
        self.assertTrue(lb.wait_for(lambda: len(self.receiver.processed_ids()) >= 2, 15), "no push arrived")
        self.assertLess(self.server.kill(), 0)
        self.assertIn("pending", self.shipment_statuses(), "the kill came too late to test anything")
        self.server.start()
        self.wait_all_acked(CLAIM_SECONDS + 20)
        shipments = {int(i) for (i,) in self.sql("SELECT id FROM shipments")}
        self.assertEqual(self.receiver.problems, [])
        self.assertEqual(self.receiver.processed_ids(), shipments)
        self.assertEqual(self.receiver.content_types, {"application/msgpack"})
        arrived = sorted(o for doc in self.receiver.processed.values() for o in doc["orders"])
        self.assertEqual(arrived, sorted(orders))
        self.assertEqual(set(self.order_statuses(orders).values()), {"handed_off"})


class StopTest(Base):
    """SIGTERM while a push hangs: livebuyd stops at once, abandons the push and lets go of its claim."""

    @classmethod
    def make_receiver(cls):
        return Receiver(time_out=1)

    def test_clean_stop_lets_go_of_claims(self):
        shipment_id = self.shipment_of(self.pay_order(700))
        self.assertTrue(lb.wait_for(lambda: self.receiver.timed_out == 1, 10), "the push did not arrive")
        claimed = "SELECT status, claimed_by IS NOT NULL FROM shipments WHERE id = %d" % shipment_id
        self.assertEqual(self.sql(claimed), [("pending", "1")])
        started = time.monotonic()
        self.assertEqual(self.server.stop(), 0)
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(self.sql(claimed), [("pending", "0")])
        self.server.start()
        self.wait_all_acked(10)  # sent again at once, not after the claim would have run out
        self.assertEqual(self.receiver.processed_ids(), {shipment_id})


class DeadLetterTest(Base):
    """A receiver that always refuses: after --shipping-max-attempts pushes the shipment is a dead letter."""

    shipping_args = ["--shipping-max-attempts", "2"]

    @classmethod
    def make_receiver(cls):
        return Receiver(always_fail=True)

    def test_dead_letter(self):
        order_id = self.pay_order(300)
        shipment_id = self.shipment_of(order_id)
        query = "SELECT status, attempts, last_error, claimed_by FROM shipments WHERE id = %d" % shipment_id
        self.assertTrue(lb.wait_for(lambda: self.sql(query)[0][0] == "dead", 10), self.sql(query))
        status, attempts, last_error, claimed_by = self.sql(query)[0]
        self.assertEqual((attempts, claimed_by), ("2", None))
        self.assertIn("HTTP 500", last_error)
        time.sleep(1.5)  # no more pushes for a dead letter
        self.assertEqual((self.receiver.refused, self.sql(query)[0][1]), (2, "2"))
        self.assertEqual(self.order_statuses([order_id]), {order_id: "paid"})
        text = self.server.metrics()
        self.assertEqual(metric(text, "livebuy_shipping_dead_letters_total"), 1)
        self.assertEqual(metric(text, "livebuy_shipping_pushes_total", '{result="failed"}'), 2)


class FeedAndEventsTest(Base):
    """No --shipping-url: shipments stay in the outbox, where a shipper pulls them and sends signed events."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shipper_id, cls.shipper = cls.server.create_merchant("shipper", "县乡村三级物流")

    def event(self, shipment_id, body=None, headers=None, **fields):
        raw = body if body is not None else json.dumps(fields).encode()
        return self.server.request("POST", "/v1/shipments/%d/events" % shipment_id, raw=raw,
                                   headers=headers if headers is not None else lb.signed(raw, secret=SHIPPING_SECRET))

    def feed(self, query="", token=None):
        return self.server.request("GET", "/v1/shipments/feed" + query, token=token or self.shipper)

    def poll_all(self, cursor=0):
        """Polls the feed from cursor until nothing is new: (the shipment ids seen, in feed order, and the cursor)."""
        seen = []
        while True:
            status, _, page = self.feed("?after=%d&limit=200" % cursor)
            self.assertEqual(status, 200, page)
            seen += [s["shipment_id"] for s in page["shipments"]]
            if not page["shipments"]:
                return seen, page["next"]
            cursor = page["next"]

    def test_feed(self):
        _, cursor = self.poll_all()
        orders = [self.pay_order(400 + i) for i in range(3)]
        shipments = [self.shipment_of(o) for o in orders]
        status, _, page = self.feed("?after=%d&limit=2" % cursor)
        self.assertEqual(status, 200, page)
        self.assertEqual([s["shipment_id"] for s in page["shipments"]], shipments[:2])
        first = page["shipments"][0]
        self.assertEqual((first["status"], first["delivery_status"], first["orders"]), ("pending", "none", [orders[0]]))
        self.assertEqual((first["ship_to"], first["items"][0]["sku_id"]), (SHIP_TO, self.sku_id))
        self.assertIsInstance(first["created_at"], int)
        status, _, rest = self.feed("?after=%d" % page["next"])
        self.assertEqual([s["shipment_id"] for s in rest["shipments"]], shipments[2:])
        status, _, empty = self.feed("?after=%d" % rest["next"])
        self.assertEqual((status, empty), (200, {"shipments": [], "next": rest["next"]}))
        status, _, packed = self.server.request("GET", "/v1/shipments/feed?after=%d&limit=1" % cursor,
                                                token=self.shipper, accept="application/msgpack")
        self.assertEqual((status, packed["shipments"][0]), (200, first))

    def test_feed_never_passes_a_late_commit(self):
        """Shipment ids are taken at insert, and a transaction may commit after one with a higher id: the shipper that
        polled past the higher id must still get the lower one (the feed goes by places given at commit, sql/008)."""
        _, cursor = self.poll_all()
        order_id = self.pay_order(450)
        shipment_id = self.shipment_of(order_id)
        outbox_row = ("INSERT INTO shipments (id, sku_id, payload, status, next_attempt_at, created_at) "
                      "VALUES (%d, %d, '{\"orders\":[],\"items\":[],\"cold_chain\":false,\"weight_grams\":0,\"service_level\":\"standard\"}', 'acked', 0, 1)")  # a document's fields
        self.sql(outbox_row % (shipment_id + 1000, self.sku_id))
        seen, cursor = self.poll_all(cursor)
        self.assertEqual(seen, [shipment_id, shipment_id + 1000])
        # The lower id commits only now, after the shipper saw the higher one.
        self.sql(outbox_row % (shipment_id + 500, self.sku_id))
        seen, cursor = self.poll_all(cursor)
        self.assertEqual(seen, [shipment_id + 500])
        self.assertEqual(self.poll_all(cursor), ([], cursor))

    def test_feed_refusals(self):
        _, coop = self.server.create_merchant("coop", "另一个合作社")
        status, _, body = self.server.request("GET", "/v1/shipments/feed")
        self.assertEqual((status, lb.error_code(body)), (401, "unauthorized"))
        status, _, body = self.feed(token="lbm_" + "0" * 48)
        self.assertEqual((status, lb.error_code(body)), (401, "unauthorized"))
        status, _, body = self.feed(token=coop)
        self.assertEqual((status, lb.error_code(body)), (403, "forbidden"))
        for query in ("?limit=0", "?limit=201", "?after=-1", "?after=x"):
            status, _, body = self.feed(query)
            self.assertEqual((status, lb.error_code(body)), (422, "invalid"), query)

    def test_events_move_orders_forward_only(self):
        order_id = self.pay_order(500, qty=2)
        shipment_id = self.shipment_of(order_id)
        events = "SELECT type, tracking_no FROM shipment_events WHERE shipment_id = %d ORDER BY id" % shipment_id
        state = "SELECT delivery_status, tracking_no FROM shipments WHERE id = %d" % shipment_id

        good = json.dumps({"type": "picked_up", "tracking_no": "YT1"}).encode()
        for what, headers in [("forged", lb.signed(good, secret="another-secret-0123456789")),
                              ("payment secret", lb.signed(good)),
                              ("stale", lb.signed(good, timestamp=int(time.time()) - 301, secret=SHIPPING_SECRET)),
                              ("no signature", {})]:
            status, _, body = self.event(shipment_id, body=good, headers=headers)
            self.assertEqual((status, lb.error_code(body)), (401, "unauthorized"), what)
        status, _, body = self.event(shipment_id, body=good + b" ", headers=lb.signed(good, secret=SHIPPING_SECRET))
        self.assertEqual(status, 401, "tampered body")
        self.assertEqual((self.sql(events), self.order_statuses([order_id])[order_id]), ([], "paid"))

        status, _, answer = self.event(shipment_id, body=good)
        self.assertEqual((status, answer), (200, {"shipment_id": shipment_id, "delivery_status": "picked_up",
                                                  "tracking_no": "YT1", "replayed": False}))
        self.assertEqual(self.order_statuses([order_id])[order_id], "shipped")
        status, _, answer = self.event(shipment_id, body=good)
        self.assertEqual((status, answer["replayed"]), (200, True))

        status, _, answer = self.event(shipment_id, type="delivered", tracking_no="YT1")
        self.assertEqual((status, answer["delivery_status"]), (200, "delivered"))
        self.assertEqual(self.order_statuses([order_id])[order_id], "delivered")
        # Late and out of order: recorded, but nothing moves backwards.
        status, _, answer = self.event(shipment_id, type="in_transit", tracking_no="YT-LATE")
        self.assertEqual((status, answer["delivery_status"], answer["replayed"]), (200, "delivered", False))
        status, _, answer = self.event(shipment_id, type="delivered", tracking_no="YT-AGAIN")
        self.assertEqual((status, answer["replayed"]), (200, True))
        self.assertEqual(self.order_statuses([order_id])[order_id], "delivered")
        self.assertEqual(self.sql(state), [("delivered", "YT1")])
        self.assertEqual(self.sql(events), [("picked_up", "YT1"), ("delivered", "YT1"), ("in_transit", "YT-LATE")])

    def test_a_signature_is_taken_for_one_shipment(self):
        """The signature covers the timestamp and the body, not the path: an event seen on its way, sent again to
        another shipment's path, is refused (sql/022), and a body that names shipment_id binds it to its path."""
        second_order = self.pay_order(651)
        first, second = self.shipment_of(self.pay_order(650)), self.shipment_of(second_order)
        state = "SELECT delivery_status, tracking_no FROM shipments WHERE id = %d"
        body = json.dumps({"type": "delivered", "tracking_no": "YT-SEEN"}).encode()
        headers = lb.signed(body, secret=SHIPPING_SECRET)
        status, _, answer = self.event(first, body=body, headers=headers)
        self.assertEqual((status, answer["delivery_status"]), (200, "delivered"), answer)

        status, _, answer = self.event(second, body=body, headers=headers)
        self.assertEqual((status, lb.error_code(answer)), (401, "unauthorized"), answer)
        self.assertIn("another shipment", answer["error"]["message"])
        self.assertEqual(self.sql(state % second), [("none", None)])
        self.assertEqual(self.sql("SELECT COUNT(*) FROM shipment_events WHERE shipment_id = %d" % second), [("0",)])
        self.assertEqual(self.order_statuses([second_order])[second_order], "paid")
        status, _, answer = self.event(first, body=body, headers=headers)  # the same request again: a retry
        self.assertEqual((status, answer["replayed"]), (200, True))

        named = lambda shipment, **fields: json.dumps(dict(fields, shipment_id=shipment)).encode()
        status, _, answer = self.event(first, body=named(second, type="in_transit", tracking_no="YT-X"))
        self.assertEqual((status, lb.error_code(answer)), (422, "invalid"), answer)
        self.assertIn("shipment_id", answer["error"]["message"])
        status, _, answer = self.event(second, body=named(second, type="delivered", tracking_no="YT-OWN"))
        self.assertEqual((status, answer["shipment_id"], answer["delivery_status"]), (200, second, "delivered"), answer)
        self.assertEqual(self.order_statuses([second_order])[second_order], "delivered")

    def test_event_refusals(self):
        order_id = self.pay_order(600)
        shipment_id = self.shipment_of(order_id)
        status, _, body = self.event(shipment_id + 1000000, type="picked_up", tracking_no="YT9")
        self.assertEqual((status, lb.error_code(body)), (404, "not_found"))
        for fields in ({"type": "lost", "tracking_no": "YT9"}, {"type": "picked_up"}, {"tracking_no": "YT9"},
                       {"type": "picked_up", "tracking_no": ""}, {"type": "picked_up", "tracking_no": "Y" * 65}):
            status, _, body = self.event(shipment_id, **fields)
            self.assertEqual((status, lb.error_code(body)), (422, "invalid"), fields)
        status, _, body = self.event(shipment_id, body=b"{")
        self.assertEqual((status, lb.error_code(body)), (400, "malformed"))
        self.assertEqual(self.order_statuses([order_id])[order_id], "paid")

    def test_a_cancelled_shipment_takes_no_events(self):
        """A shipment cancelled by its order's refund before handoff refuses a new event with 409 conflict, changing
        nothing (the same signed request again is refused again); a type recorded before the cancellation still
        answers as a repeat, 200 replayed."""
        buyer = 710
        order_id = self.pay_order(buyer)
        shipment_id = self.shipment_of(order_id)
        status, _, refunded = self.server.request("POST", "/v1/orders/%d/refund" % order_id, token=lb.buyer_token(buyer))
        self.assertEqual((status, refunded["status"], refunded["shipment"]["status"]),
                         (200, "refund_required", "cancelled"), refunded)
        raw = json.dumps({"shipment_id": shipment_id, "type": "delivered", "tracking_no": "x"}).encode()
        headers = lb.signed(raw, secret=SHIPPING_SECRET)
        for _ in range(2):
            status, _, body = self.event(shipment_id, body=raw, headers=headers)
            self.assertEqual((status, lb.error_code(body)), (409, "conflict"), body)
            self.assertEqual(body["error"]["message"], "shipment %d is cancelled: it takes no delivery events" % shipment_id)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM shipment_events WHERE shipment_id = %d" % shipment_id), [("0",)])
        status, _, order = self.server.request("GET", "/v1/orders/%d" % order_id, token=lb.buyer_token(buyer))
        self.assertEqual((status, order["status"], order["shipment"]["status"], order["shipment"]["delivery_status"]),
                         (200, "refund_required", "cancelled", "none"), order)

        # An event recorded before the cancellation (set here by hand: a refund at once needs a shipment no push or
        # event has reached) repeats as on any shipment; a new type is refused.
        order_id = self.pay_order(711)
        shipment_id = self.shipment_of(order_id)
        raw = json.dumps({"shipment_id": shipment_id, "type": "picked_up", "tracking_no": "YT-C"}).encode()
        headers = lb.signed(raw, secret=SHIPPING_SECRET)
        status, _, answer = self.event(shipment_id, body=raw, headers=headers)
        self.assertEqual((status, answer["replayed"]), (200, False), answer)
        self.sql("UPDATE shipments SET status = 'cancelled' WHERE id = %d" % shipment_id)
        status, _, answer = self.event(shipment_id, body=raw, headers=headers)
        self.assertEqual((status, answer), (200, {"shipment_id": shipment_id, "delivery_status": "picked_up",
                                                  "tracking_no": "YT-C", "replayed": True}))
        status, _, body = self.event(shipment_id, body=json.dumps({"shipment_id": shipment_id, "type": "delivered",
                                                                  "tracking_no": "YT-C"}).encode())
        self.assertEqual((status, lb.error_code(body)), (409, "conflict"), body)
        self.assertEqual(self.sql("SELECT type FROM shipment_events WHERE shipment_id = %d" % shipment_id), [("picked_up",)])
        self.assertEqual(self.order_statuses([order_id])[order_id], "shipped")


class FeedFailureBase(Base):
    """The feed's placer stopped at a step between its transactions: the failure point LIVEBUY_FAULT_PAUSE has its
    session sleep there, and the test KILLs it, as a crash of livebuyd or a lost connection at that step would end it.
    At worst a gap in the places; never a place given twice; every shipment appears once (server/store/shipments.c)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shipper_id, cls.shipper = cls.server.create_merchant("shipper", "县乡村三级物流")

    def counter(self):
        return int(self.sql("SELECT last_seq FROM shipment_feed WHERE id = 1")[0][0])

    def places(self, shipments):
        rows = self.sql("SELECT id, feed_seq FROM shipments WHERE id IN (%s)" % ",".join(map(str, shipments)))
        return {int(i): int(p) if p is not None else None for i, p in rows}

    def poll_killed(self, buyers):
        """Shipments of orders paid by buyers, and a poll whose placer is killed at the pause (answered 503): the
        shipments and the counter before the poll."""
        shipments = [self.shipment_of(self.pay_order(b)) for b in buyers]
        before = self.counter()
        poll = lb.in_background(self.server, "GET", "/v1/shipments/feed?after=0&limit=200", token=self.shipper)
        lb.kill_paused_session(self.sql, self.dbname, "shipment_feed")
        status, _, body = poll()
        self.assertEqual(status, 503, body)
        return shipments, before

    def assertFedOnce(self, shipments):
        """A shipper polling from the start sees each shipment once, places rising; no place is held twice."""
        seen, cursor = [], 0
        while True:
            status, _, page = self.server.request("GET", "/v1/shipments/feed?after=%d&limit=200" % cursor,
                                                  token=self.shipper)
            self.assertEqual(status, 200, page)
            if not page["shipments"]:
                break
            self.assertGreater(page["next"], cursor)
            seen += [s["shipment_id"] for s in page["shipments"]]
            cursor = page["next"]
        self.assertEqual(len(seen), len(set(seen)), seen)
        self.assertLessEqual(set(shipments), set(seen))
        self.assertEqual(self.sql("SELECT feed_seq FROM shipments WHERE feed_seq IS NOT NULL GROUP BY feed_seq "
                                  "HAVING COUNT(*) > 1"), [])
        return cursor


class FeedKilledAfterCountingTest(FeedFailureBase):
    server_env = {"LIVEBUY_FAULT_PAUSE": "feed_counted"}

    def test_a_gap_and_the_shipments_placed_later(self):
        shipments, before = self.poll_killed([700, 701, 702])
        # The counter moved on by three (its own transaction); the places were never given: a gap.
        self.assertEqual(self.counter(), before + 3)
        self.assertEqual(set(self.places(shipments).values()), {None})
        self.assertFedOnce(shipments)
        places = self.places(shipments)
        self.assertEqual(sorted(places.values()), [before + 4, before + 5, before + 6], places)
        self.assertEqual(self.counter(), before + 6)


class FeedKilledAfterPlacingTest(FeedFailureBase):
    server_env = {"LIVEBUY_FAULT_PAUSE": "feed_placed"}

    def test_places_kept_and_never_given_again(self):
        shipments, before = self.poll_killed([710, 711])
        # The places were given (committed) before the session was killed; the lock went with the session.
        self.assertEqual(sorted(self.places(shipments).values()), [before + 1, before + 2])
        self.assertEqual(self.counter(), before + 2)
        cursor = self.assertFedOnce(shipments)
        # The next shipment takes the next place: nothing repeated, no gap.
        later = self.shipment_of(self.pay_order(712))
        status, _, page = self.server.request("GET", "/v1/shipments/feed?after=%d" % cursor, token=self.shipper)
        self.assertEqual((status, [s["shipment_id"] for s in page["shipments"]]), (200, [later]), page)
        self.assertEqual(self.places([later]), {later: before + 3})


class FeedHolderVanishedTest(FeedFailureBase):
    """A placer whose livebuyd vanished while it held the feed's lock (the process stopped, its connection left open, as
    when its machine is gone): the database ends the idle session within seconds (server/store/session.c), so the lock
    is let go for the other processes, not after the server's wait_timeout of eight hours."""

    server_env = {"LIVEBUY_FAULT_PAUSE": "feed_placed"}

    def test_the_lock_is_let_go(self):
        shipments = [self.shipment_of(self.pay_order(b)) for b in (720, 721)]
        poll = lb.in_background(self.server, "GET", "/v1/shipments/feed?after=0&limit=200", token=self.shipper)
        session = lb.paused_session(self.sql, self.dbname, "shipment_feed")
        os.kill(self.server.proc.pid, signal.SIGSTOP)
        try:
            # The pause (a 20 s SLEEP) ends; then the session waits for a statement that a stopped livebuyd never sends.
            lock = "CONCAT(LEFT('%s', 40), '/shipment_feed')" % self.dbname
            freed = lb.wait_for(lambda: self.sql("SELECT IS_FREE_LOCK(%s)" % lock) == [("1",)], 45)
            self.assertTrue(freed, "the stopped placer still holds the feed's lock")
            self.assertEqual(self.sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %d" % session),
                             [("0",)])
        finally:
            os.kill(self.server.proc.pid, signal.SIGCONT)
        try:
            poll()  # the poll of the stopped process: answered or timed out, either way its placing was cut short
        except Exception:  # noqa: BLE001 (its client may have given up while the process was stopped)
            pass
        self.assertFedOnce(shipments)


if __name__ == "__main__":
    lb.main()
