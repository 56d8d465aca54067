"""livebuy-load against a real livebuyd and MariaDB: short drop, mixed and groupbuy runs (over HTTP/2 and HTTP/1.1) end
with a passing correctness check and sane JSON; "livebuy-load check" fails, naming the counter, once a counter is broken
with SQL; with its own shipping receiver, every paid order is seen handed to shipping, and a receiver with the wrong
secret makes the check fail naming the lost handoff.
Small numbers: this checks correctness, not speed (loadtest/bench.sh measures)."""

import json
import os
import subprocess
import tempfile
import time

import lb


def load_binary():
    path = os.environ.get("LIVEBUY_LOAD")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("LIVEBUY_LOAD (the path of the livebuy-load binary) is not set or not executable: %r" % path)
    return path


class LoadBase(lb.ServerTestCase):
    """One database and one livebuyd (the buyer and payment secrets livebuy-load signs with) shared by the tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="lbload-")

    def run_load(self, *args, timeout=60):
        proc = subprocess.run([load_binary(), "--url", self.server.base_url] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, env=lb.server_env())
        return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")

    def scenario(self, name, *args):
        out_json = os.path.join(self.tmp, name + ".json")
        plot = os.path.join(self.tmp, name + ".html")
        # Double taps go at once (the default): twins of a key often land in the same batch.
        code, out, err = self.run_load("--scenario", name, "--admin-token", lb.ADMIN_TOKEN,
                                       "--buyer-secret", lb.BUYER_SECRET, "--payment-secret", lb.PAYMENT_SECRET,
                                       "--json", out_json, "--plot", plot, "--quiet", "--dup-share", "0.1", *args)
        self.assertEqual(code, 0, "livebuy-load %s exited %d:\n%s\n%s" % (name, code, out, err))
        with open(out_json) as f:
            report = json.load(f)
        with open(plot) as f:
            page = f.read()
        self.assertIn("<svg", page)
        self.assertNotIn("<script src", page)
        self.assertTrue(report["check"]["ok"], report["check"])
        self.assertEqual(report["check"]["violations"], [])
        self.assertEqual(report["network_errors"], 0, err)
        self.assertGreaterEqual(report["requests"], report["arrivals"])
        self.assertGreater(report["throughput_rps"], 0)
        lat = report["latency_us"]
        self.assertTrue(0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99_9"] <= lat["max"], lat)
        # No time runs backwards: a follow-up answered before the time it was due once showed as a max of 1.8e19 us.
        for hist in [lat, report["service_us"]] + [s["max_us"] for s in report["series"]]:
            self.assertLess(hist["max"] if isinstance(hist, dict) else hist, 600 * 1000 * 1000, hist)
        self.assertEqual(sum(report["status"].values()) + report["network_errors"], report["requests"])
        self.assertGreater(len(report["series"]), 0)
        return report

    def run_check(self, args):
        proc = subprocess.run([load_binary()] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                              env=lb.server_env())
        return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


class LoadTest(LoadBase):
    def test_drop(self):
        report = self.scenario("drop", "--rate", "400", "--duration", "1", "--buyers", "300", "--stock", "200",
                               "--quota", "150", "--limit", "3")
        self.assertEqual(report["arrivals"], 300)
        self.assertGreater(report["status"].get("201", 0), 0)
        self.assertGreater(report["status"].get("409", 0), 0, "150 units for 300 buyers: some must be sold out")
        sku = self.server.sku(report["setup"]["sku_id"])
        self.assertEqual(sku["reserved"], 150, sku)  # the quota sold out exactly
        self.assertEqual(sku["stock"] - sku["held"] - sku["reserved"], 50, sku)

    def test_mixed(self):
        report = self.scenario("mixed", "--rate", "150", "--duration", "2", "--buyers", "60", "--pay-delay", "100",
                               "--refund-share", "0.3")
        kinds = report["by_kind"]
        for kind in ("order", "browse_live", "pay", "refund"):
            self.assertIn(kind, kinds)
        self.assertGreater(self.server.sku(report["setup"]["sku_id"])["sold"], 0)

    def test_check_catches_refunds_lost_and_doubled(self):
        """A mixed run whose buyers ask for refunds passes; a refund deleted with SQL is a refund lost, a second
        refund of one payment is a refund twice."""
        report = self.scenario("mixed", "--rate", "150", "--duration", "1", "--buyers", "40", "--pay-delay", "50",
                               "--refund-share", "1", "--cancel-share", "0", "--pay-share", "1")
        setup = report["setup"]
        check = ["check", "--url", self.server.base_url, "--merchant-token", setup["coop_token"],
                 "--sku", str(setup["sku_id"]), "--live", str(setup["live_id"])]
        refunds = self.sql("SELECT id, order_id FROM refunds WHERE sku_id = %d AND cause = 'buyer' ORDER BY id"
                           % setup["sku_id"])
        self.assertGreaterEqual(len(refunds), 2, refunds)
        code, out, err = self.run_check(check)
        self.assertEqual(code, 0, err)
        (lost, lost_order), (doubled, doubled_order) = refunds[0], refunds[1]
        self.sql("DELETE FROM refunds WHERE id = %s" % lost)
        self.sql("INSERT INTO refunds (sku_id, order_id, buyer_id, coop_id, provider_txn_id, amount_cents, cause, "
                 "status, next_attempt_at, created_at) SELECT sku_id, order_id, buyer_id, coop_id, 'another-txn', "
                 "amount_cents, 'late_payment', 'pending', next_attempt_at, created_at FROM refunds WHERE id = %s" % doubled)
        code, out, err = self.run_check(check)
        self.assertEqual(code, 1, err)
        self.assertIn("VIOLATION refund lost: order %s" % lost_order, err)
        self.assertIn("VIOLATION refunded twice: order %s" % doubled_order, err)

    def test_closed_model_and_check_catches_a_broken_counter(self):
        report = self.scenario("drop", "--concurrency", "8", "--duration", "1", "--buyers", "100", "--stock", "100",
                               "--quota", "60")
        setup = report["setup"]
        check = ["check", "--url", self.server.base_url, "--merchant-token", setup["coop_token"],
                 "--sku", str(setup["sku_id"]), "--live", str(setup["live_id"])]
        code, out, err = self.run_check(check)
        self.assertEqual(code, 0, err)
        self.sql("UPDATE skus SET reserved = reserved + 5 WHERE id = %d" % setup["sku_id"])
        try:
            code, out, err = self.run_check(check)
            self.assertEqual(code, 1, err)
            self.assertIn("VIOLATION reserved counter", err)
        finally:
            self.sql("UPDATE skus SET reserved = reserved - 5 WHERE id = %d" % setup["sku_id"])

    def test_groupbuy(self):
        report = self.scenario("groupbuy", "--rate", "150", "--duration", "2", "--buyers", "60", "--campaigns", "4",
                               "--pay-delay", "100")
        outcomes = sorted(gb["status"] for gb in report["group_buys"])
        self.assertEqual(outcomes, ["failed", "failed", "succeeded", "succeeded"], report["group_buys"])
        self.assertIn("pay", report["by_kind"])

    def test_catalog(self):
        """Orders over 60 SKUs (Zipf 1.1), a share through live items and group-buys, paid and cancelled: the check
        covers every SKU and campaign; --cleanup retires every product."""
        report = self.scenario("catalog", "--skus", "60", "--zipf", "1.1", "--rate", "300", "--duration", "2",
                               "--buyers", "200", "--pay-delay", "100", "--seed", "7", "--cleanup")
        for kind in ("order", "pay", "cancel"):
            self.assertIn(kind, report["by_kind"])
        first = report["setup"]["sku_id"]
        skus = self.sql("SELECT sku_id, COUNT(*), SUM(live_item_id IS NOT NULL) FROM orders "
                        "WHERE sku_id BETWEEN %d AND %d GROUP BY sku_id ORDER BY sku_id" % (first, first + 59))
        self.assertGreater(len(skus), 10, skus)
        self.assertEqual(int(skus[0][0]), first, skus)  # rank 1 is the most popular
        self.assertGreater(sum(int(n) for _, _, n in skus), 0, "no order came through a live item")
        outcomes = sorted(gb["status"] for gb in report["group_buys"])
        self.assertEqual(outcomes, ["failed", "failed", "succeeded", "succeeded"], report["group_buys"])
        retired = self.sql("SELECT COUNT(*) FROM products p JOIN skus s ON s.product_id = p.id "
                           "WHERE s.id BETWEEN %d AND %d AND p.retired_at IS NULL" % (first, first + 59))
        self.assertEqual(int(retired[0][0]), 0)

    def test_catalog_closed_http1(self):
        """A closed-model catalog run over HTTP/1.1; then `livebuy-load check` with no --sku checks every SKU of the
        co-op alone, and catches a counter broken on one of them."""
        report = self.scenario("catalog", "--http1", "--connections", "8", "--concurrency", "8", "--duration", "1",
                               "--skus", "120", "--buyers", "500", "--pay-delay", "50")
        self.assertGreater(report["status"].get("201", 0), 0)
        setup = report["setup"]
        check = ["check", "--url", self.server.base_url, "--merchant-token", setup["coop_token"],
                 "--live", str(setup["live_id"])]
        code, out, err = self.run_check(check)
        self.assertEqual(code, 0, err)
        self.assertIn("over 120 SKUs", err)
        last = setup["sku_id"] + 119  # the least popular: a counter no order of the run need have touched
        self.sql("UPDATE skus SET reserved = reserved + 1 WHERE id = %d" % last)
        try:
            code, out, err = self.run_check(check)
            self.assertEqual(code, 1, err)
            self.assertIn("VIOLATION reserved counter", err)
            self.assertIn("SKU %d" % last, err)
        finally:
            self.sql("UPDATE skus SET reserved = reserved - 1 WHERE id = %d" % last)

    def test_http1(self):
        report = self.scenario("mixed", "--http1", "--connections", "8", "--rate", "150", "--duration", "1",
                               "--buyers", "60", "--pay-delay", "100")
        self.assertIn("pay", report["by_kind"])

    def test_healthz(self):
        for extra in ([], ["--http1"]):
            out_json = os.path.join(self.tmp, "healthz.json")
            code, out, err = self.run_load("--scenario", "healthz", "--concurrency", "64", "--connections", "4",
                                           "--duration", "0.5", "--quiet", "--json", out_json, *extra)
            self.assertEqual(code, 0, err)
            with open(out_json) as f:
                report = json.load(f)
            self.assertEqual(report["network_errors"], 0)
            self.assertEqual(report["status"]["200"], report["requests"])
            self.assertGreater(report["generator_capacity_rps"], 0)


SHIPPING_SECRET = "load-shipping-secret-0123456789"


class VerdictTest(LoadBase):
    """livebuy-load fails loudly, as load testers expect: statuses a sale does not explain (a wrong buyer secret's 401s)
    and breached thresholds give a non-zero exit; statuses are broken down by error code; the latency histogram's buckets
    are in the JSON; --cleanup leaves nothing on air or on sale."""

    def drop(self, name, *args, secret=lb.BUYER_SECRET):
        out_json = os.path.join(self.tmp, name + ".json")
        code, out, err = self.run_load("--scenario", "drop", "--admin-token", lb.ADMIN_TOKEN, "--buyer-secret", secret,
                                       "--json", out_json, "--quiet", "--rate", "200", "--duration", "0.5", "--buyers",
                                       "100", "--stock", "60", "--quota", "40", "--limit", "1", "--dup-share", "0",
                                       *args)
        with open(out_json) as f:
            return code, out, err, json.load(f)

    def test_wrong_buyer_secret_fails(self):
        code, out, err, report = self.drop("wrong-secret", secret="not-the-buyer-secret-0123")
        self.assertEqual(code, 3, err)
        self.assertIn("FAILED: 100 answers of status 401", err)
        self.assertEqual(report["status"], {"401": 100})
        self.assertEqual(report["error_codes"], {"401": {"unauthorized": 100}})
        self.assertEqual(report["unexpected"], 100)
        self.assertIn("error codes              401 unauthorized: 100", out)
        # allowed on purpose, the same run passes (the check finds no order, which is right)
        code, out, err, report = self.drop("wrong-secret-allowed", "--allow-status", "401",
                                           secret="not-the-buyer-secret-0123")
        self.assertEqual(code, 0, err)
        self.assertEqual(report["unexpected"], 0)

    def test_thresholds(self):
        code, out, err, report = self.drop("breached", "--threshold", "p99<60s", "--threshold", "p50<1us",
                                           "--threshold", "errors<1%", "--threshold", "rps>0")
        self.assertEqual(code, 4, err)
        self.assertIn("threshold p50<1us: BREACHED", err)
        self.assertEqual([(t["threshold"], t["ok"]) for t in report["thresholds"]],
                         [("p99<60s", True), ("p50<1us", False), ("errors<1%", True), ("rps>0", True)])
        self.assertEqual(report["thresholds"][1]["value"], report["latency_us"]["p50"])
        code, out, err, report = self.drop("met", "--threshold", "p99<60s", "--threshold", "errors<=0")
        self.assertEqual(code, 0, err)
        self.assertTrue(all(t["ok"] for t in report["thresholds"]))
        code, out, err = self.run_load("--threshold", "p99<50")
        self.assertEqual(code, 2, err)
        self.assertIn("want a unit", err)

    def test_error_codes_buckets_and_cleanup(self):
        code, out, err, report = self.drop("codes", "--cleanup")
        self.assertEqual(code, 0, err)
        # 40 units for 100 buyers of one unit each: 40 reserved, 60 sold out
        self.assertEqual(report["status"], {"201": 40, "409": 60})
        self.assertEqual(report["error_codes"], {"409": {"sold_out": 60}})
        buckets = report["latency_buckets_us"]
        self.assertEqual(sum(count for _, _, count in buckets), report["latency_us"]["count"])
        self.assertTrue(all(low <= high for low, high, _ in buckets))
        self.assertLessEqual(buckets[0][0], report["latency_us"]["min"])
        self.assertGreaterEqual(buckets[-1][1], report["latency_us"]["max"])
        # cleaned up: the item is off air, the product retired
        setup = report["setup"]
        live = self.server.request("GET", "/v1/lives/%d" % setup["live_id"])[2]
        self.assertEqual([item["closed"] for item in live["items"]], [True])
        self.assertTrue(self.server.sku(setup["sku_id"])["retired"])
        self.assertIn("cleaned up", err)


class RestartTest(LoadBase):
    """livebuyd killed (SIGKILL) and started again in the middle of a drop: livebuy-load connects again, retries what
    the kill cut off with the same keys, and its check finds nothing lost, oversold or doubled."""

    def run_with_a_kill(self, name, *args, kill_at=1.5):
        """livebuy-load's scenario name with args, livebuyd killed kill_at seconds after its set-up and started again;
        returns the report, whose check passed, with retries made and orders granted."""
        out_json = os.path.join(self.tmp, name + "-restart.json")
        err_log = os.path.join(self.tmp, name + "-restart.err")
        cmd = [load_binary(), "--url", self.server.base_url, "--scenario", name, "--admin-token", lb.ADMIN_TOKEN,
               "--buyer-secret", lb.BUYER_SECRET, "--payment-secret", lb.PAYMENT_SECRET, "--json", out_json, "--quiet",
               "--connections", "4",
               # the kill is on purpose: what it cuts off may end as a network error or a 503 once the retries run out
               "--allow-status", "network,503"] + list(args)
        with open(err_log, "wb") as err_file:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err_file, env=lb.server_env())

        def err_text():
            with open(err_log, "rb") as f:
                return f.read().decode(errors="replace")

        # Timed from the end of the set-up, which livebuy-load does not retry (a kill there fails the run, as chaos.sh
        # found): the catalog's 300 SKUs can take more than kill_at seconds under ASan on a busy machine.
        lb.wait_for(lambda: "livebuy-load: set up " in err_text() or proc.poll() is not None, 60, 0.05)
        time.sleep(kill_at)
        self.server.kill()
        time.sleep(0.3)
        self.server.start()
        proc.wait(timeout=90)
        err = err_text()
        self.assertEqual(proc.returncode, 0, "livebuy-load exited %d:\n%s" % (proc.returncode, err))
        self.assertIn("connected again", err)
        with open(out_json) as f:
            report = json.load(f)
        self.assertTrue(report["check"]["ok"], report["check"])
        self.assertGreater(report["retries"], 0, "the kill cut nothing off")
        self.assertGreater(report["status"].get("201", 0), 0)
        return report

    def test_server_killed_and_restarted_mid_run(self):
        report = self.run_with_a_kill("drop", "--rate", "300", "--duration", "4", "--buyers", "1200", "--stock", "2000",
                                      "--quota", "900", "--limit", "3")
        self.assertEqual(report["arrivals"], 1200)

    def test_catalog_killed_and_restarted_mid_run(self):
        """The catalog scenario (orders over 300 SKUs, paid and cancelled) with livebuyd killed and started again: the
        check over every SKU finds nothing lost, oversold or doubled."""
        self.run_with_a_kill("catalog", "--skus", "300", "--rate", "400", "--duration", "4", "--buyers", "2000",
                             "--pay-delay", "100", kill_at=2.0)


class ShippingHandoffTest(LoadBase):
    """livebuyd pushes paid orders to livebuy-load's own receiver (--receiver): the check waits until each is there."""

    @classmethod
    def setUpClass(cls):
        cls.port = lb.free_port()
        cls.server_args = lb.ServerTestCase.server_args + [
            "--shipping-url", "http://127.0.0.1:%d/shipments" % cls.port, "--shipping-secret", SHIPPING_SECRET,
            "--shipping-backoff-ms", "50"]
        super().setUpClass()

    def test_every_paid_order_handed_over(self):
        report = self.scenario("mixed", "--rate", "150", "--duration", "1", "--buyers", "60", "--pay-delay", "100",
                               "--receiver", str(self.port), "--shipping-secret", SHIPPING_SECRET)
        self.assertGreater(self.server.sku(report["setup"]["sku_id"])["sold"], 0)

    def test_wrong_secret_is_named(self):
        code, out, err = self.run_load("--scenario", "mixed", "--admin-token", lb.ADMIN_TOKEN, "--buyer-secret",
                                       lb.BUYER_SECRET, "--payment-secret", lb.PAYMENT_SECRET, "--quiet", "--rate", "60",
                                       "--duration", "0.5", "--buyers", "20", "--pay-share", "1", "--cancel-share", "0",
                                       "--pay-delay", "50", "--receiver", str(self.port), "--shipping-secret",
                                       "not-the-shipping-secret-0123", "--shipping-wait", "2")
        self.assertEqual(code, 1, err)
        self.assertIn("VIOLATION paid order not handed to shipping", err)
        self.assertIn("bad shipping push", err)


if __name__ == "__main__":
    lb.main()
