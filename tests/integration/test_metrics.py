"""/metrics after test traffic: the order outcomes, the database gauge, the outbox backlog counted without a
dispatcher, the build and process metrics; `promtool check metrics` clean on the scrape (skipped where promtool is
missing); every metric a query of docs/grafana-livebuy.json names is exposed. Real HTTP against a real MariaDB."""

import json
import os
import re
import shutil
import subprocess
import time
import unittest

import lb

SHIP_TO = {"name": "李四", "phone": "13900000000", "address": "山西省长治市武乡县故城镇"}
DASHBOARD = os.path.join(lb.SOURCE_DIR, "docs", "grafana-livebuy.json")
# PromQL words that are not metric names in the dashboard's queries.
PROMQL_WORDS = {"sum", "by", "rate", "increase", "histogram_quantile", "min", "max", "time", "le", "route", "code",
                "outcome", "result", "cause", "action"}


def sample_names(text):
    """The metric names of the sample lines of a Prometheus text."""
    return {re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0) for line in text.splitlines()
            if line and not line.startswith("#")}


class MetricsTest(lb.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        _, cls.coop = s.create_merchant("coop")
        cls.sku_id = s.create_product(cls.coop, skus=[{"name": "小米 1kg", "price_cents": 1000, "stock": 3,
                                                       "weight_grams": 1000}])["skus"][0]["id"]
        cls.answers = []
        for qty in (1, 1, 5):  # two created, one sold out
            cls.answers.append(s.request("POST", "/v1/orders", {"sku_id": cls.sku_id, "qty": qty, "ship_to": SHIP_TO},
                                         token=lb.buyer_token(7001)))
        order = cls.answers[0][2]
        body = json.dumps({"order_id": order["id"], "provider_txn_id": "m-%d" % time.time_ns(),
                           "amount_cents": order["amount_cents"]}).encode()
        cls.paid = s.request("POST", "/v1/payments/notify", raw=body, headers=lb.signed(body))
        s.request("GET", "/v1/skus/987654321")  # a 404

    def scrape_when(self, name, at_least, wait=20.0):
        """A scrape in which name is at least at_least; the last scrape, whatever it holds, once wait seconds passed."""
        deadline = time.monotonic() + wait
        while True:
            text = self.server.metrics()
            if lb.metric(text, name) >= at_least or time.monotonic() > deadline:
                return text
            time.sleep(0.2)

    def test_traffic_is_counted(self):
        self.assertEqual([a[0] for a in self.answers], [201, 201, 409], self.answers)
        self.assertEqual(self.paid[0], 200, self.paid)
        # No --shipping-url: nothing pushes the paid order's shipment, and the backlog says so (it said 0 when only
        # the dispatcher counted it).
        text = self.scrape_when("livebuy_outbox_backlog", 1)
        self.assertEqual(lb.metric(text, "livebuy_outbox_backlog"), 1, text)
        self.assertEqual(lb.metric(text, 'livebuy_orders_total{outcome="created"}'), 2)
        self.assertEqual(lb.metric(text, 'livebuy_orders_total{outcome="sold_out"}'), 1)
        self.assertEqual(lb.metric(text, 'livebuy_orders_total{outcome="buyer_limit"}'), 0)
        self.assertEqual(lb.metric(text, "livebuy_database_up"), 1)
        self.assertGreaterEqual(lb.metric(text, 'livebuy_http_requests_total{route="/v1/orders",code="201"}'), 2)
        self.assertRegex(text, r'(?m)^livebuy_build_info\{version="\d+\.\d+\.\d+",h2o="[^"]+",libuv="[^"]+"\} 1$')
        self.assertGreater(lb.metric(text, "process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(lb.metric(text, "process_open_fds"), 3)
        self.assertGreaterEqual(lb.metric(text, "process_max_fds"), lb.metric(text, "process_open_fds"))
        self.assertGreater(lb.metric(text, "process_cpu_seconds_total"), 0)
        self.assertLess(abs(lb.metric(text, "process_start_time_seconds") - time.time()), 3600)

    def test_promtool_is_clean(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool is not installed (Debian package prometheus)")
        text = self.server.metrics()
        run = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stdout.decode() + run.stderr.decode())
        self.assertEqual((run.stdout + run.stderr).strip(), b"", "promtool has remarks")

    def test_dashboard_names_exposed_metrics(self):
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
        self.assertGreater(len(exprs), 10)
        exposed = sample_names(self.scrape_when("livebuy_outbox_backlog", 1))
        for expr in exprs:
            without_strings = re.sub(r'"[^"]*"|\[[^]]*\]', "", expr)
            for name in set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_strings)) - PROMQL_WORDS:
                self.assertIn(name, exposed, "docs/grafana-livebuy.json names %s (in %s), which /metrics does not expose"
                              % (name, expr))


if __name__ == "__main__":
    unittest.main()
