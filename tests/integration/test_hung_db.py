"""A database that hangs (issue #18 item 4): MariaDB stopped with SIGSTOP, so that every connection stays open and nothing
answers, as when a host freezes or a network drops packets. Real HTTP against a real livebuyd and a MariaDB of the
test's own (scripts/mariadb.sh).

- /readyz answers 503 within its deadline instead of waiting for the I/O time-out (every probe used to time out).
- Orders no batch could take answer 503 with Retry-After once they have waited --order-wait-ms, and reserved nothing;
  after SIGCONT the same buyers order again with the same keys and get their orders, once.
No timing assertions: the client's own time-out (20 s) is far longer than the deadlines (1 s here)."""

import json
import os
import signal
import time
import uuid

import lb

SHIP_TO = {"name": "王五", "phone": "13700000000", "address": "山西省长治市武乡县丰州镇"}


class HungDatabaseTest(lb.ServerTestCase):
    server_args = lb.ServerTestCase.server_args + ["--threads", "1", "--order-wait-ms", "1000"]

    private_mariadb = True  # this test freezes its own

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")[1]

    @classmethod
    def tearDownClass(cls):
        cls.resume()
        super().tearDownClass()

    @classmethod
    def mariadb_pid(cls):
        with open(os.path.join(cls.mdb.dir, "mysqld.pid")) as f:
            return int(f.read().strip())

    @classmethod
    def resume(cls):
        try:
            os.kill(cls.mariadb_pid(), signal.SIGCONT)
        except (OSError, ValueError):
            pass

    @classmethod
    def stop_mariadb(cls):
        """SIGSTOP, then wait until every thread of it has stopped: kill() returns before a thread running on the other
        core has, and one /readyz in CI was answered by a ping that got in between (200 'ready')."""
        pid = cls.mariadb_pid()
        with open("/proc/%d/comm" % pid) as f:
            comm = f.read().strip()
        if comm != "mariadbd":
            raise AssertionError("mysqld.pid names pid %d, which is %r, not mariadbd" % (pid, comm))
        os.kill(pid, signal.SIGSTOP)

        def all_stopped():
            states = []
            for tid in os.listdir("/proc/%d/task" % pid):
                try:
                    with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                        states.append(f.read().rsplit(")", 1)[1].split()[0])
                except OSError:
                    pass  # a thread that ended meanwhile
            return states and all(state in ("T", "t") for state in states)

        if not lb.wait_for(all_stopped, 5, interval=0.01):
            raise AssertionError("MariaDB (pid %d) did not stop within 5 s of SIGSTOP" % pid)

    def test_hung_database(self):
        s = self.server
        skus = [{"name": "武乡小米 2.5kg", "price_cents": 5990, "stock": 1000, "weight_grams": 2700}]
        sku_id = s.create_product(self.coop, skus, title="武乡小米")["skus"][0]["id"]
        status, _, body = s.request("GET", "/readyz")
        self.assertEqual(status, 200, body)

        orders = [(lb.buyer_token(800000 + i), uuid.uuid4().hex) for i in range(20)]
        body = {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}
        self.stop_mariadb()
        try:
            status, _, answer = s.request("GET", "/readyz", timeout=20)
            self.assertEqual(status, 503, answer)
            self.assertIn("did not answer within 1 s", lb.error_parts(answer)[1])
            first = s.request("POST", "/v1/orders", body, token=orders[0][0], headers={"Idempotency-Key": orders[0][1]},
                              timeout=20)
            payload = json.dumps(body).encode()
            answers = s.requests_at_once([("POST", "/v1/orders", payload, {"Authorization": "Bearer " + token,
                                                                           "Idempotency-Key": key,
                                                                           "Content-Type": "application/json"})
                                          for token, key in orders[1:]], timeout=20)
        finally:
            os.kill(self.mariadb_pid(), signal.SIGCONT)
        self.assertEqual(first[0], 503, first)
        self.assertEqual(first[1].get("retry-after"), "1")
        statuses = [a[0] if a else None for a in answers]
        self.assertEqual(statuses, [503] * len(answers))
        answers = [(first[0], first[2])] + answers
        for status, answer in answers:
            self.assertEqual(lb.error_parts(answer)[0], "unavailable")
        messages = {lb.error_parts(a[1])[1] for a in answers}
        self.assertTrue(any("did not take the order within 1000 ms" in m for m in messages), messages)
        self.assertGreaterEqual(lb.metric(s.metrics(), "livebuy_orders_timed_out_total"), 1)

        # Back: the probe is ready again, and the same requests (same keys) make one order each.
        deadline = time.monotonic() + 60
        while s.request("GET", "/readyz", headers={"Cache-Control": "no-cache"})[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(s.request("GET", "/readyz")[0], 200)
        for token, key in orders:
            for _ in range(2):
                status, _, answer = s.request("POST", "/v1/orders", body, token=token, headers={"Idempotency-Key": key})
                self.assertEqual(status, 201, answer)
        reserved = int(lb.sql_value(self.sock, self.dbname, "SELECT reserved FROM skus WHERE id = %d" % sku_id))
        self.assertEqual(reserved, len(orders), "one order per key: nothing was reserved while the database hung")


if __name__ == "__main__":
    lb.main()
