"""A sharded cluster (scripts/cluster.sh): 2 backend MariaDBs behind a Spider front, 2 livebuyd, HAProxy in front.

livebuy-load's drop, mixed and groupbuy runs go through HAProxy (HTTP/2 and HTTP/1.1) with SKUs on both shards and
their checks pass; then one livebuyd is killed in the middle of a run, and one backend is stopped for a few seconds
while two runs go on, one SKU on each shard: the checks pass, the other shard's orders flow throughout.

The livebuyd push shipments and refunds to a receiver of the test's (--shipping-url, --refund-url) all along; at the
end a shipper pulls the feed, delivery events move orders of both shards, and the co-op approves and rejects refund
requests there.

The cluster runs in trap mode (cluster.sh --trap): Spider's internal XA on, both backends reached as 127.0.0.1, where a
transaction that touches two backends cannot commit (error 12606, then 12605 for its session's next ones). No
livebuyd log may show either: that is the proof that the order path, payments, cancellations, refunds, expiry, the
closer, the buyers' index, the shipping and refund outboxes, the feed, delivery events and refund decisions keep every
transaction on one backend (docs/scale-out.md). A hot SKU's batches write their rows as multi-row INSERTs, a few a batch.
Small numbers: correctness, not speed (loadtest/bench-cluster.sh measures)."""

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import lb

CLUSTER_SH = os.path.join(lb.SOURCE_DIR, "scripts", "cluster.sh")
MARIADB_SH = lb.MARIADB_SH
SLOTS = 16
SHIPPING_SECRET = "test-shipping-secret-0123456789"
SHIP_TO = {"name": "王五", "phone": "13700000000", "address": "山西省长治市武乡县丰州镇"}


def free_base_port():
    """A base port P with P..P+22 free on 127.0.0.1 (HAProxy, livebuyd, the front and the backends)."""
    for _ in range(50):
        base = 20000 + int.from_bytes(os.urandom(2), "big") % 30000
        try:
            for port in list(range(base, base + 3)) + list(range(base + 20, base + 23)):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free ports")


def backend_of(sku_id, backends=2):
    """The default slot map of cluster.sh: slot sku_id MOD 16 on backend (slot MOD N) + 1."""
    return (sku_id % SLOTS) % backends + 1


class Receiver(lb.HttpReceiver):
    """The shipping system (/shipments) and the payment provider's refund API (/refunds) in one: each push's signature
    checked, what it took kept by Idempotency-Key, 200 {} to each (a refund is then sent, waiting for its notify)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.taken = {"/shipments": {}, "/refunds": {}}
        self.problems = []
        super().__init__()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def handle(self, request):
        body = request.rfile.read(int(request.headers.get("Content-Length", "0")))
        secret = {"/shipments": SHIPPING_SECRET, "/refunds": lb.PAYMENT_SECRET}.get(request.path)
        ts, sig = request.headers.get("X-Livebuy-Timestamp", ""), request.headers.get("X-Livebuy-Signature", "")
        key = request.headers.get("Idempotency-Key")
        good = secret is not None and key is not None and hmac.compare_digest(
            sig, "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest())
        with self.lock:
            if good:
                self.taken[request.path][key] = json.loads(body)
            else:
                self.problems.append("%s %s" % (request.path, key))
        self.reply(request, 200 if good else 401)

    def keys(self, path):
        with self.lock:
            return set(self.taken[path])


# A run across a part stopped on purpose may end with network errors or 503s once its retries run out: allowed, so that
# livebuy-load's own verdict (exit 3 on a status a sale does not explain) leaves the judging to the test's assertions.
STOPS_ON_PURPOSE = ["--allow-status", "network,503"]

class ClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="lbc-", dir="/tmp")
        cls.receiver = Receiver()  # first: its port is taken when the cluster's are looked for
        cls.port = free_base_port()
        cls.env = lb.server_env({"LIVEBUY_CLUSTER_BUILD": os.path.dirname(lb.livebuyd()),
                                 "LIVEBUY_ADMIN_TOKEN": lb.ADMIN_TOKEN, "LIVEBUY_BUYER_SECRET": lb.BUYER_SECRET,
                                 "LIVEBUY_PAYMENT_SECRET": lb.PAYMENT_SECRET,
                                 "LIVEBUY_SHIPPING_SECRET": SHIPPING_SECRET})
        # Reservations live 20 s: those of the first runs expire during the later ones (the sweeper at work under the
        # trap), after their own checks (a check racing the expiry of its own SKU's orders sees counters move).
        # Every paid order's shipment and every pending refund is pushed to the receiver while the runs go on.
        cls.cluster("start", "--backends", "2", "--servers", "2", "--port", str(cls.port), "--trap", "--",
                    "--reserve-ttl", "20", "--shipping-url", cls.receiver.url("/shipments"), "--shipping-backoff-ms",
                    "50", "--refund-url", cls.receiver.url("/refunds"), "--refund-backoff-ms", "50", timeout=240)
        cls.url = "http://127.0.0.1:%d" % cls.port
        # The test's own requests, HTTP/1.1 through HAProxy.
        cls.api = lb.Server(None, start=False)
        cls.api.port = cls.port

    @classmethod
    def tearDownClass(cls):
        cls.api.close_connection()
        cls.cluster("stop", check=False)
        cls.receiver.close()
        subprocess.run(["rm", "-rf", cls.dir])

    @classmethod
    def cluster(cls, *args, check=True, timeout=120):
        proc = subprocess.run(["bash", CLUSTER_SH, args[0], cls.dir] + list(args[1:]), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout, env=cls.env)
        if check and proc.returncode != 0:
            raise RuntimeError("cluster.sh %s failed (%d):\n%s" % (args[0], proc.returncode, proc.stdout.decode()))
        return proc.stdout.decode()

    def front_sql(self, query):
        """Rows of a query run on the Spider front (a statement of its own: it may read every backend)."""
        out = subprocess.run(["bash", MARIADB_SH, "sql", os.path.join(self.dir, "front"), "livebuy", "-N", "-e", query],
                             stdout=subprocess.PIPE, check=True).stdout.decode()
        return [line.split("\t") for line in out.splitlines()]

    def logs(self):
        text = ""
        for name in sorted(os.listdir(self.dir)):
            path = os.path.join(self.dir, name, "livebuyd.log")
            if name.startswith("lb") and os.path.exists(path):
                with open(path, errors="replace") as f:
                    text += f.read()
        return text

    def assertNoCrossShard(self):
        log = self.logs()
        for code in ("12605", "12606"):
            self.assertNotIn("database error " + code, log, "a transaction touched two backends:\n" + log[-3000:])

    def start_load(self, name, *args):
        out = os.path.join(self.dir, "%s-%s.json" % (name, time.monotonic_ns()))
        cmd = [os.environ["LIVEBUY_LOAD"], "--url", self.url, "--scenario", name, "--admin-token", lb.ADMIN_TOKEN,
               "--buyer-secret", lb.BUYER_SECRET, "--payment-secret", lb.PAYMENT_SECRET, "--json", out, "--quiet",
               *args]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=lb.server_env()), out

    def finish_load(self, started, timeout=120):
        proc, out = started
        stdout, stderr = proc.communicate(timeout=timeout)
        self.assertEqual(proc.returncode, 0, "livebuy-load exited %d:\n%s\n%s\nlivebuyd:\n%s" % (
            proc.returncode, stdout.decode(), stderr.decode(), self.logs()[-3000:]))
        with open(out) as f:
            report = json.load(f)
        self.assertTrue(report["check"]["ok"], report["check"])
        self.assertEqual(report["check"]["violations"], [])
        return report

    def run_load(self, name, *args):
        return self.finish_load(self.start_load(name, *args))

    def test_1_scenarios_on_both_shards(self):
        skus = []
        for name, args in (("drop", ("--rate", "300", "--duration", "2", "--buyers", "500", "--stock", "300",
                                     "--quota", "200")),
                           ("mixed", ("--rate", "200", "--duration", "3", "--pay-delay", "100")),
                           ("mixed", ("--rate", "150", "--duration", "2", "--http1", "--connections", "8")),
                           ("groupbuy", ("--rate", "150", "--duration", "2", "--campaigns", "2"))):
            report = self.run_load(name, *args)
            self.assertGreater(report["status"].get("201", 0), 0, report["status"])
            self.assertEqual(report["network_errors"], 0)
            skus.append(report["setup"]["sku_id"])
        self.assertEqual({backend_of(s) for s in skus}, {1, 2}, "SKUs %s are not on both shards" % skus)
        self.assertNoCrossShard()

    def test_2_livebuyd_killed_mid_run(self):
        started = self.start_load("drop", "--rate", "300", "--duration", "4", "--buyers", "1200", "--stock", "600",
                                  "--quota", "400", "--dup-after-answer", *STOPS_ON_PURPOSE)
        time.sleep(2)
        with open(os.path.join(self.dir, "lb1", "pid")) as f:
            os.kill(int(f.read()), signal.SIGKILL)
        report = self.finish_load(started)
        self.assertGreater(report["status"].get("201", 0), 0, report["status"])
        self.cluster("start")  # lb1 comes back; HAProxy's checks take it in again
        status = self.cluster("status")
        self.assertIn("lb1 UP", status)
        self.assertNoCrossShard()

    def test_3_backend_stopped_for_seconds(self):
        # Two runs at once, their SKUs made one after the other: consecutive ids, so one on each backend.
        # Both end well after the backend is back: their checks read a live's items, which are on every backend.
        first = self.start_load("drop", "--rate", "150", "--duration", "12", "--buyers", "1900", "--stock", "6000",
                                "--quota", "5000", "--max-retries", "8", *STOPS_ON_PURPOSE)
        time.sleep(0.7)
        second = self.start_load("drop", "--rate", "150", "--duration", "11", "--buyers", "1900", "--stock", "6000",
                                 "--quota", "5000", "--max-retries", "8", *STOPS_ON_PURPOSE)
        time.sleep(2)
        b2 = os.path.join(self.dir, "b2")
        subprocess.run(["bash", MARIADB_SH, "stop", b2], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)
        # The backend again, as cluster.sh starts it (its port, its server id); cluster.sh start would do it too,
        # checking every other part on the way.
        subprocess.run(["bash", MARIADB_SH, "start", b2, "--port", str(self.port + 22), "--", "--server-id=102"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        reports = [self.finish_load(first), self.finish_load(second)]
        by_backend = {backend_of(r["setup"]["sku_id"]): r for r in reports}
        self.assertEqual(set(by_backend), {1, 2}, [r["setup"]["sku_id"] for r in reports])
        # The SKU on the stopped backend: 503s with Retry-After, retried with their keys, and orders again once it
        # was back.
        down, up = by_backend[2], by_backend[1]
        self.assertGreater(down["retries"], 0, down["status"])
        self.assertGreater(down["status"].get("201", 0), 0, down["status"])
        # The other shard's orders flowed throughout: nothing to retry, an answer every second of the run.
        self.assertEqual(up["retries"], 0, up["status"])
        self.assertEqual(set(up["status"]), {"201"}, up["status"])
        answered = [s for s in up["series"] if s["answered"] > 0]
        self.assertGreaterEqual(len(answered), 9, up["series"])
        self.assertNoCrossShard()

    def test_4_expiry_on_both_shards(self):
        # The first test's mixed and groupbuy runs left reservations on SKUs of both backends; they expire 20 s on.
        query = ("SELECT COUNT(DISTINCT sku_id MOD %d MOD 2) FROM orders WHERE status = 'expired'" % SLOTS)
        self.assertTrue(lb.wait_for(lambda: self.front_sql(query) == [["2"]], 40), "no expired reservations on both shards")
        self.assertNoCrossShard()

    def pay_order(self, sku_id, buyer):
        """An order of one unit of sku_id for buyer, paid (a signed notify): the order as its answer shows it."""
        status, _, order = self.api.request("POST", "/v1/orders", {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO},
                                            token=lb.buyer_token(buyer), headers={"Idempotency-Key": "c-%d" % sku_id})
        self.assertEqual(status, 201, order)
        body = json.dumps({"order_id": order["id"], "provider_txn_id": "ct-%d-%d" % (sku_id, buyer),
                           "amount_cents": order["amount_cents"]}).encode()
        status, _, answer = self.api.request("POST", "/v1/payments/notify", raw=body, headers=lb.signed(body))
        self.assertEqual((status, answer["status"]), (200, "paid"), answer)
        return order

    def order_statuses(self, orders):
        rows = self.front_sql("SELECT id, status FROM orders WHERE id IN (%s)" % ",".join(str(o["id"]) for o in orders))
        return {int(i): s for i, s in rows}

    def event(self, shipment_id, kind):
        body = json.dumps({"type": kind, "tracking_no": "YT%d" % shipment_id}).encode()
        status, _, answer = self.api.request("POST", "/v1/shipments/%d/events" % shipment_id, raw=body,
                                             headers=lb.signed(body, secret=SHIPPING_SECRET))
        self.assertEqual((status, answer.get("delivery_status")), (200, kind), answer)

    def ask_refund(self, order, buyer):
        status, _, answer = self.api.request("POST", "/v1/orders/%d/refund" % order["id"], {"reason": "坏了"},
                                             token=lb.buyer_token(buyer))
        self.assertEqual((status, answer["refund"]["status"]), (200, "requested"), answer)
        return answer["refund"]["id"]

    def test_5_shipping_feed_events_refunds_on_both_shards(self):
        api = self.api
        _, coop = api.create_merchant("coop", "武乡小米合作社")
        _, shipper = api.create_merchant("shipper", "县乡村三级物流")
        # A product with SKUs on both backends (consecutive ids usually are: slots side by side), made one database
        # at a time (the product on the front, each SKU on its backend, then the product published).
        skus = []
        while {backend_of(s) for s in skus} != {1, 2}:
            self.assertLess(len(skus), 8, skus)
            product = api.create_product(coop, [{"name": "2.5kg 礼盒", "price_cents": 5990, "stock": 50,
                                                 "weight_grams": 2700},
                                                {"name": "5kg 家庭装", "price_cents": 9900, "stock": 50,
                                                 "weight_grams": 5200}], title="武乡小米")
            skus = [k["id"] for k in product["skus"]]
        skus = [next(s for s in skus if backend_of(s) == b) for b in (1, 2)]
        # Two paid orders a SKU, each pushed to the receiver and acknowledged: handed off.
        buyers = {sku: (910000 + 2 * i, 910001 + 2 * i) for i, sku in enumerate(skus)}
        orders = {sku: [self.pay_order(sku, b) for b in buyers[sku]] for sku in skus}
        mine = [o for pair in orders.values() for o in pair]
        self.assertTrue(lb.wait_for(lambda: set(self.order_statuses(mine).values()) == {"handed_off"}, 30),
                        self.order_statuses(mine))
        for sku in skus:
            delivered, kept = orders[sku]
            [[shipment_id]] = self.front_sql("SELECT shipment_id FROM shipment_orders WHERE sku_id = %d AND order_id = %d"
                                             % (sku, delivered["id"]))
            for kind in ("picked_up", "in_transit", "delivered"):
                self.event(int(shipment_id), kind)
            # A refund request for each order (their goods left): the co-op approves one, rejects the other.
            approved, rejected = self.ask_refund(delivered, buyers[sku][0]), self.ask_refund(kept, buyers[sku][1])
            status, _, answer = api.request("POST", "/v1/refunds/%d/approve" % approved, {}, token=coop)
            self.assertEqual((status, answer["status"]), (200, "pending"), answer)
            status, _, answer = api.request("POST", "/v1/refunds/%d/reject" % rejected, {"reason": "已签收"}, token=coop)
            self.assertEqual((status, answer["status"]), (200, "rejected"), answer)
            # The approved one is pushed; the provider's notify confirms it.
            self.assertTrue(lb.wait_for(lambda: "refund-%d" % approved in self.receiver.keys("/refunds"), 20))
            body = json.dumps({"refund_id": approved, "order_id": delivered["id"], "status": "refunded",
                               "amount_cents": delivered["amount_cents"]}).encode()
            status, _, answer = api.request("POST", "/v1/refunds/notify", raw=body, headers=lb.signed(body))
            self.assertEqual((status, answer["status"]), (200, "refunded"), answer)
        self.assertEqual(self.order_statuses(mine), {o["id"]: s for pair in orders.values()
                                                     for o, s in zip(pair, ("refunded", "handed_off"))})
        # Every shipment of the runs pushed (those a killed livebuyd had claimed, once its claims ran out), on both
        # shards; every refund of theirs pushed.
        self.assertTrue(lb.wait_for(lambda: self.front_sql("SELECT COUNT(*) FROM shipments WHERE status = 'pending' "
                                                           "UNION ALL SELECT COUNT(*) FROM refunds WHERE status = "
                                                           "'pending'") == [["0"], ["0"]], 60),
                        self.front_sql("SELECT id, sku_id, attempts, last_error, claimed_by FROM shipments "
                                       "WHERE status = 'pending'"))
        acked = self.front_sql("SELECT id, sku_id FROM shipments WHERE status = 'acked'")
        self.assertEqual({backend_of(int(sku)) for _, sku in acked}, {1, 2})
        self.assertLessEqual({i for i, _ in acked}, self.receiver.keys("/shipments"))
        sent = self.front_sql("SELECT id, sku_id FROM refunds WHERE status IN ('sent', 'refunded')")
        self.assertEqual({backend_of(int(sku)) for _, sku in sent}, {1, 2})
        self.assertLessEqual({"refund-" + i for i, _ in sent}, self.receiver.keys("/refunds"))
        self.assertEqual(self.receiver.problems, [])
        # The shipper's feed: every shipment made so far, of both shards, placed (by each slot's transaction).
        made = {int(i) for [i] in self.front_sql("SELECT id FROM shipments")}
        cursor, seen = 0, set()
        while True:
            status, _, page = api.request("GET", "/v1/shipments/feed?after=%d&limit=200" % cursor, token=shipper)
            self.assertEqual(status, 200, page)
            if not page["shipments"]:
                break
            self.assertGreater(page["next"], cursor)
            seen |= {s["shipment_id"] for s in page["shipments"]}
            cursor = page["next"]
        self.assertLessEqual(made, seen)
        self.assertNoCrossShard()

    def front_livebuyd(self, pause):
        """A livebuyd of the test's own on the front, its session pausing at the failure point `pause`."""
        sock = os.path.join(self.dir, "front", "mysqld.sock")
        return lb.Server("mysql://root@localhost/livebuy?socket=%s" % sock, ["--shards", str(SLOTS)],
                         env={"LIVEBUY_FAULT_PAUSE": pause})

    def stop_front_livebuyd(self, server):
        self.assertEqual(server.stop(), 0, server.log_tail())
        for code in ("12605", "12606"):
            self.assertNotIn("database error " + code, server.log(), "a transaction touched two backends")

    def test_6_killed_between_front_and_backend_writes(self):
        """A product's making and the feed's placing, each with its session KILLed on the front between a write on the
        front and one on a backend: the product is completed by the job run again; the feed has a gap at most."""
        api = self.api
        coop_id, coop = api.create_merchant("coop", "沁县小米合作社")
        _, shipper = api.create_merchant("shipper", "武乡邮政")
        maker = self.front_livebuyd("product_sku")
        try:
            body = {"title": "沁州黄小米", "unit": "袋", "skus": [
                {"name": "1kg 袋装", "price_cents": 2990, "stock": 20, "weight_grams": 1100},
                {"name": "2.5kg 礼盒", "price_cents": 5990, "stock": 20, "weight_grams": 2700}]}
            answer = lb.in_background(maker, "POST", "/v1/products", body, token=coop)
            lb.kill_paused_session(self.front_sql, "livebuy", "product_maker/%d" % coop_id)
            status, _, product = answer()
            self.assertEqual((status, len(product["skus"])), (201, 2), product)
        finally:
            self.stop_front_livebuyd(maker)
        self.assertEqual(self.front_sql("SELECT id, making IS NULL FROM products WHERE merchant_id = %d" % coop_id),
                         [[str(product["id"]), "1"]])
        self.assertEqual(self.front_sql("SELECT COUNT(*) FROM skus WHERE product_id = %d" % product["id"]), [["2"]])
        # Two paid orders' shipments, not yet placed; the placer killed after the counter moved (on the front).
        skus = [k["id"] for k in product["skus"]]
        orders = [self.pay_order(sku, 920000 + i) for i, sku in enumerate(skus)]
        shipments = sorted(int(i) for [i] in self.front_sql("SELECT shipment_id FROM shipment_orders WHERE order_id IN "
                                                            "(%s)" % ",".join(str(o["id"]) for o in orders)))
        [[before]] = self.front_sql("SELECT last_seq FROM shipment_feed WHERE id = 1")
        placer = self.front_livebuyd("feed_counted")
        try:
            poll = lb.in_background(placer, "GET", "/v1/shipments/feed?after=0", token=shipper)
            lb.kill_paused_session(self.front_sql, "livebuy", "shipment_feed")
            self.assertEqual(poll()[0], 503)
        finally:
            self.stop_front_livebuyd(placer)
        [[after]] = self.front_sql("SELECT last_seq FROM shipment_feed WHERE id = 1")
        self.assertGreaterEqual(int(after), int(before) + 2)
        ids = ",".join(map(str, shipments))
        self.assertEqual(self.front_sql("SELECT COUNT(*) FROM shipments WHERE id IN (%s) AND feed_seq IS NOT NULL" % ids),
                         [["0"]])
        # The shipper polls on from where it was: each shipment once, after the gap; no place given twice.
        cursor, seen = int(before), []
        while True:
            status, _, page = api.request("GET", "/v1/shipments/feed?after=%d&limit=200" % cursor, token=shipper)
            self.assertEqual(status, 200, page)
            if not page["shipments"]:
                break
            seen += [s["shipment_id"] for s in page["shipments"]]
            cursor = page["next"]
        self.assertEqual(len(seen), len(set(seen)), seen)
        self.assertLessEqual(set(shipments), set(seen))
        places = [int(p) for [p] in self.front_sql("SELECT feed_seq FROM shipments WHERE id IN (%s)" % ids)]
        self.assertGreater(min(places), int(after))
        self.assertEqual(self.front_sql("SELECT feed_seq FROM shipments WHERE feed_seq IS NOT NULL GROUP BY feed_seq "
                                        "HAVING COUNT(*) > 1"), [])
        # Retired: its SKUs one statement each, then the product (it was one transaction reaching both backends).
        status, _, retired = api.request("POST", "/v1/products/%d/retire" % product["id"], token=coop)
        self.assertEqual((status, retired["retired"], [k["retired"] for k in retired["skus"]]), (200, True, [True, True]))
        self.assertNoCrossShard()

    def backend_status(self, name):
        """A counter of SHOW GLOBAL STATUS (e.g. Com_insert), summed over the backends: Spider's statements on them."""
        total = 0
        for j in (1, 2):
            out = subprocess.run(["bash", MARIADB_SH, "sql", os.path.join(self.dir, "b%d" % j), "-N", "-e",
                                  "SHOW GLOBAL STATUS LIKE '%s'" % name], stdout=subprocess.PIPE, check=True)
            total += int(out.stdout.decode().split()[1])
        return total

    def test_7_batch_rows_as_multi_row_inserts(self):
        # A hot SKU's batches hold many orders each (200 in flight): their rows (orders, keys, the order directory, the
        # buyers' index) reach the backend as a few multi-row INSERTs a batch. Array-bound, Spider sent each row as an
        # INSERT of its own: two or more an order.
        before = self.backend_status("Com_insert")
        report = self.run_load("hot", "--concurrency", "200", "--duration", "2")
        inserts = self.backend_status("Com_insert") - before
        orders = report["status"].get("201", 0)
        self.assertGreater(orders, 0, report["status"])
        self.assertLess(2 * inserts, orders, "%d INSERTs on the backends for %d orders" % (inserts, orders))
        self.assertNoCrossShard()


if __name__ == "__main__":
    unittest.main(verbosity=2)
