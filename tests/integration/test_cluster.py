"""A sharded cluster (scripts/cluster.sh): 2 backend MariaDBs behind a Spider front, 2 livebuyd, HAProxy in front.

livebuy-load's drop, mixed and groupbuy runs go through HAProxy (HTTP/2 and HTTP/1.1) with SKUs on both shards and
their checks pass; then one livebuyd is killed in the middle of a run, and one backend is stopped for a few seconds
while two runs go on, one SKU on each shard: the checks pass, the other shard's orders flow throughout.

The cluster runs in trap mode (cluster.sh --trap): Spider's internal XA on, both backends reached as 127.0.0.1, where a
transaction that touches two backends cannot commit (error 12606, then 12605 for its session's next ones). No
livebuyd log may show either: that is the proof that the order path, payments, cancellations, refunds, expiry, the
closer and the buyers' index keep every transaction on one backend (docs/scale-out.md).
Small numbers: correctness, not speed (loadtest/bench-cluster.sh measures)."""

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


# A run across a part stopped on purpose may end with network errors or 503s once its retries run out: allowed, so that
# livebuy-load's own verdict (exit 3 on a status a sale does not explain) leaves the judging to the test's assertions.
STOPS_ON_PURPOSE = ["--allow-status", "network,503"]

class ClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="lbc-", dir="/tmp")
        cls.port = free_base_port()
        cls.env = lb.server_env({"LIVEBUY_CLUSTER_BUILD": os.path.dirname(lb.livebuyd()),
                                 "LIVEBUY_ADMIN_TOKEN": lb.ADMIN_TOKEN, "LIVEBUY_BUYER_SECRET": lb.BUYER_SECRET,
                                 "LIVEBUY_PAYMENT_SECRET": lb.PAYMENT_SECRET,
                                 "LIVEBUY_SHIPPING_SECRET": "test-shipping-secret-0123456789"})
        # Reservations live 20 s: those of the first runs expire during the later ones (the sweeper at work under the
        # trap), after their own checks (a check racing the expiry of its own SKU's orders sees counters move).
        cls.cluster("start", "--backends", "2", "--servers", "2", "--port", str(cls.port), "--trap", "--",
                    "--reserve-ttl", "20", timeout=240)
        cls.url = "http://127.0.0.1:%d" % cls.port

    @classmethod
    def tearDownClass(cls):
        cls.cluster("stop", check=False)
        subprocess.run(["rm", "-rf", cls.dir])

    @classmethod
    def cluster(cls, *args, check=True, timeout=120):
        proc = subprocess.run(["bash", CLUSTER_SH, args[0], cls.dir] + list(args[1:]), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout, env=cls.env)
        if check and proc.returncode != 0:
            raise RuntimeError("cluster.sh %s failed (%d):\n%s" % (args[0], proc.returncode, proc.stdout.decode()))
        return proc.stdout.decode()

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
        deadline = time.monotonic() + 40
        while True:
            out = subprocess.run(["bash", MARIADB_SH, "sql", os.path.join(self.dir, "front"), "livebuy", "-N", "-e", query],
                                 stdout=subprocess.PIPE, check=True).stdout.decode().strip()
            if out == "2" or time.monotonic() > deadline:
                break
            time.sleep(1)
        self.assertEqual(out, "2", "no expired reservations on both shards")
        self.assertNoCrossShard()


if __name__ == "__main__":
    unittest.main(verbosity=2)
