"""Admission to the database pool: requests other than orders and payments never take every database worker, so a flood
of them (unknown merchant tokens, listings, exports, or writes stuck behind a lock) cannot hold orders up. Real HTTP
against a real livebuyd with two workers: its calls may have one in the pool at a time (the thread's share less one),
at most two wait (--max-waiting-calls 2), and one that waits too long (--order-wait-ms) is answered 503.

A client session holds a product's row lock, so that a PATCH of that product holds its worker for as long as the test
wants; what the test checks is what is answered while that lock is held (no timing assertions: each request's own
time-out, 20 s and more, is far longer than anything that should happen meanwhile)."""

import json
import threading
import uuid

import contract
import lb

SHIP_TO = {"name": "赵六", "phone": "13600000000", "address": "山西省长治市武乡县故城镇"}


class Pending:
    """A request sent on a connection of its own in a thread: done is set once it is answered."""

    def __init__(self, server, method, path, body=None, token=None):
        self.answer = None
        self.done = threading.Event()
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        payload = json.dumps(body).encode() if body is not None else None

        def send():
            conn = server.connection(timeout=120)
            try:
                conn.request(method, path, body=payload, headers=headers)
                resp = conn.getresponse()
                answer = lb.decode_body(resp.getheader("Content-Type", ""), resp.read())
                headers_in = {k.lower(): v for k, v in resp.getheaders()}
                contract.contract().check(method, path, resp.status, headers_in, answer)
                self.answer = (resp.status, headers_in, answer)
            finally:
                conn.close()
                self.done.set()

        self.thread = threading.Thread(target=send, daemon=True)
        self.thread.start()

    def wait(self, timeout=120):
        if not self.done.wait(timeout):
            raise AssertionError("no answer within %d s" % timeout)
        return self.answer


class Admission:
    """What both classes share: a co-op, products, and the signs that a call holds the pool's place."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")[1]

    def product(self, title):
        skus = [{"name": "2.5kg 袋装", "price_cents": 3980, "stock": 100, "weight_grams": 2600}]
        return self.server.create_product(self.coop, skus, title=title)

    def calls_waiting(self, n):
        return lb.wait_for(lambda: lb.metric(self.server.metrics(), "livebuy_calls_waiting") == n, 20, interval=0.05)

    def lock_waits(self):
        """Waits until a session of livebuyd runs the PATCH's UPDATE (it waits for the held row lock: the PATCH is in the
        pool); fails with what the sessions do otherwise."""
        query = ("SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE() AND info LIKE "
                 "'UPDATE products SET title%'")
        if not lb.wait_for(lambda: int(self.sql(query)[0][0]) >= 1, 20, interval=0.05):
            raise AssertionError("no session runs the PATCH; the sessions: %r" % (self.sql(
                "SELECT id, command, state, time_ms, LEFT(info, 60) FROM information_schema.processlist "
                "WHERE db = DATABASE()"),))


class AdmissionTest(Admission, lb.ServerTestCase):
    server_args = lb.ServerTestCase.server_args + ["--threads", "1", "--db-pool", "2", "--max-waiting-calls", "2"]

    def test_orders_pass_calls_that_wait(self):
        s = self.server
        stuck = self.product("被锁住的小米")["id"]
        sku_id = self.product("直播间小米")["skus"][0]["id"]
        refused_before = lb.metric(s.metrics(), "livebuy_calls_refused_total")
        holder = self.hold_locked("SELECT id FROM products WHERE id = %d FOR UPDATE" % stuck)
        patches = []
        try:
            # The first PATCH takes the calls' one place in the pool and waits for the lock; two more wait their turn.
            patches.append(Pending(s, "PATCH", "/v1/products/%d" % stuck, {"title": "武乡小米 一"}, self.coop))
            self.lock_waits()
            for waiting, title in enumerate(("武乡小米 二", "武乡小米 三"), 1):  # one after the other: their order is known
                patches.append(Pending(s, "PATCH", "/v1/products/%d" % stuck, {"title": title}, self.coop))
                self.assertTrue(self.calls_waiting(waiting), s.metrics())

            # A third waiting call is one too many: 503 at once, Retry-After, nothing changed.
            status, headers, body = s.request("GET", "/v1/merchant/orders", token=self.coop, timeout=20)
            self.assertEqual(status, 503, body)
            self.assertEqual(headers.get("retry-after"), "1")
            self.assertEqual(lb.error_parts(body)[0], "unavailable")
            self.assertIn("too many requests wait", lb.error_parts(body)[1])

            # An order still finds a worker, and /readyz (submitted ahead of the calls) says the database answers.
            status, _, body = s.request("POST", "/v1/orders", {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO},
                                        token=lb.buyer_token(910001), headers={"Idempotency-Key": uuid.uuid4().hex},
                                        timeout=20)
            self.assertEqual(status, 201, body)
            status, _, body = s.request("GET", "/readyz", headers={"Cache-Control": "no-cache"}, timeout=20)
            self.assertEqual(status, 200, body)
            self.assertFalse(any(p.done.is_set() for p in patches[:1]), "the first PATCH got past a held lock")
        finally:
            holder.stdin.close()
            holder.wait(30)

        # Let go: the three PATCHes run in the order they came, and the last one's title stays.
        answers = [p.wait() for p in patches]
        self.assertEqual([a[0] for a in answers], [200, 200, 200], answers)
        title = lb.sql_value(self.sock, self.dbname, "SELECT title FROM products WHERE id = %d" % stuck)
        self.assertEqual(title, "武乡小米 三")
        self.assertGreaterEqual(lb.metric(s.metrics(), "livebuy_calls_refused_total"), refused_before + 1)
        self.assertTrue(self.calls_waiting(0))


class WaitTooLongTest(Admission, lb.ServerTestCase):
    server_args = lb.ServerTestCase.server_args + ["--threads", "1", "--db-pool", "2", "--order-wait-ms", "1000"]

    def test_a_call_that_waits_too_long(self):
        s = self.server
        stuck = self.product("等太久的小米")["id"]
        holder = self.hold_locked("SELECT id FROM products WHERE id = %d FOR UPDATE" % stuck)
        try:
            first = Pending(s, "PATCH", "/v1/products/%d" % stuck, {"title": "先到的标题"}, self.coop)
            self.lock_waits()
            second = Pending(s, "PATCH", "/v1/products/%d" % stuck, {"title": "后到的标题"}, self.coop)
            status, headers, body = second.wait(20)  # answered while the lock is still held
            self.assertFalse(first.done.is_set(), "the first PATCH got past a held lock")
        finally:
            holder.stdin.close()
            holder.wait(30)
        self.assertEqual(status, 503, body)
        self.assertEqual(headers.get("retry-after"), "1")
        self.assertEqual(lb.error_parts(body)[0], "unavailable")
        self.assertIn("waited too long", lb.error_parts(body)[1])
        self.assertEqual(first.wait()[0], 200)
        title = lb.sql_value(self.sock, self.dbname, "SELECT title FROM products WHERE id = %d" % stuck)
        self.assertEqual(title, "先到的标题", "the refused PATCH changed nothing")


if __name__ == "__main__":
    lb.main()
