"""The log: JSON and text lines with an RFC 3339 time and a level; one access line per answered request (request id,
route, status, error code, duration, bytes, client, buyer or merchant); X-Request-Id taken when valid, else made, and
echoed; --access-log off and --log-level; a database outage's connection failures folded and its end said. Real HTTP
against a real MariaDB."""

import json
import re
import time
import unittest

import lb

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MADE_ID = re.compile(r"^[0-9a-f]{24}$")


def json_lines(text):
    """The log's lines from livebuyd (the harness writes "==== start" lines of its own), decoded."""
    return [json.loads(line) for line in text.splitlines() if line and not line.startswith("==== ")]


class JsonLogTest(lb.ServerTestCase):
    server_args = lb.ServerTestCase.server_args + ["--log-format", "json"]

    def access_line(self, request_id):
        """The access line of request_id; the loop writes its lines once per iteration, so it may come a moment
        after the answer."""
        found = []
        lb.wait_for(lambda: found.extend(l for l in json_lines(self.server.log_since_start())
                                         if l.get("request_id") == request_id) or found, 10)
        self.assertEqual(len(found), 1, "access lines of %s: %r" % (request_id, found))
        return found[0]

    def test_every_line_is_json_with_time_and_level(self):
        self.server.request("GET", "/healthz")
        lines = json_lines(self.server.log_since_start())
        self.assertTrue(any(l["msg"].startswith("listening on") for l in lines), lines)
        for line in lines:
            self.assertRegex(line["time"], TIME)
            self.assertIn(line["level"], ("debug", "info", "warn", "error"))

    def test_request_id_taken_and_echoed(self):
        status, headers, _ = self.server.request("GET", "/healthz", headers={"X-Request-Id": "trace-42.a:b"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["x-request-id"], "trace-42.a:b")
        line = self.access_line("trace-42.a:b")
        self.assertEqual((line["msg"], line["method"], line["route"], line["status"], line["client"]),
                         ("access", "GET", "/healthz", 200, "127.0.0.1"))
        self.assertGreater(line["bytes"], 0)
        self.assertGreaterEqual(line["duration_ms"], 0)
        self.assertNotIn("error", line)

    def test_bad_request_ids_are_replaced(self):
        for bad in ("x" * 65, "has space", 'quo"te', "back\\slash"):
            with self.subTest(bad=bad):
                status, headers, _ = self.server.request("GET", "/healthz", headers={"X-Request-Id": bad})
                self.assertEqual(status, 200)
                self.assertRegex(headers["x-request-id"], MADE_ID)
                self.assertEqual(self.access_line(headers["x-request-id"])["status"], 200)
        _, headers, _ = self.server.request("GET", "/healthz")
        self.assertRegex(headers["x-request-id"], MADE_ID)

    def test_who_and_what_error(self):
        merchant_id, token = self.server.create_merchant("coop")
        sku_id = self.server.create_product(token)["skus"][0]["id"]
        _, headers, _ = self.server.request("POST", "/v1/skus/%d/restock" % sku_id, {"qty": 1}, token=token)
        line = self.access_line(headers["x-request-id"])
        self.assertEqual((line["route"], line["merchant_id"]), ("/v1/skus/{id}/restock", merchant_id), line)
        status, headers, _ = self.server.request("POST", "/v1/orders", {"sku_id": sku_id, "qty": 1}, token=lb.buyer_token(4242))
        line = self.access_line(headers["x-request-id"])
        self.assertEqual((line["status"], line["buyer_id"]), (status, 4242), line)
        status, headers, _ = self.server.request("POST", "/v1/orders", {"sku_id": sku_id, "qty": 1}, token="b1.nope")
        self.assertEqual(status, 401)
        line = self.access_line(headers["x-request-id"])
        self.assertEqual((line["status"], line["error"]), (401, "unauthorized"), line)
        self.assertNotIn("buyer_id", line)


class QuietLogTest(unittest.TestCase):

    def test_access_log_off_and_level_warn(self):
        with lb.PrivateMariaDB() as mdb:
            url = lb.db_url(mdb.socket, lb.fresh_database(mdb.socket))
            with lb.Server(url, ["--access-log", "off"]) as s:
                _, headers, _ = s.request("GET", "/healthz")
                s.request("GET", "/v1/skus/987654321")
                s.stop()  # its lines are all written once it stopped
                log = s.log_since_start()
                self.assertIn("listening on", log)
                self.assertNotIn(headers["x-request-id"], log)
                self.assertNotIn(" access ", log)
            with lb.Server(url, ["--log-level", "warn"]) as s:
                s.request("GET", "/healthz")
                s.stop()
                self.assertEqual(s.log_since_start().strip(), "", "info lines at --log-level warn")


class OutageLogTest(unittest.TestCase):

    def test_failures_folded_and_recovery_said(self):
        with lb.PrivateMariaDB() as mdb:
            url = lb.db_url(mdb.socket, lb.fresh_database(mdb.socket))
            with lb.Server(url, ["--access-log", "off"]) as s:
                self.assertEqual(s.request("GET", "/readyz")[0], 200)
                mdb.stop()
                failures = 0
                for _ in range(15):  # every worker tries, each probe fails: many failures to fold
                    failures += s.request("GET", "/readyz", timeout=10)[0] == 503
                    time.sleep(0.2)
                self.assertGreater(failures, 5)
                mdb.start()
                self.assertTrue(lb.wait_for(lambda: s.request("GET", "/readyz", timeout=5)[0] == 200, 15))
                self.assertTrue(lb.wait_for(lambda: "reachable again" in s.log_since_start(), 10), s.log_since_start())
                log = s.log_since_start()
                cannot = [l for l in log.splitlines() if "cannot connect" in l]
                self.assertGreaterEqual(len(cannot), 2, log)  # the first one, and the count of its repeats
                self.assertLess(len(cannot), failures, "not folded:\n" + log)
                self.assertRegex(log, r"cannot connect.*\(x\d+ in \d+ s\)")
                self.assertRegex(log, r"info +database reachable again after \d+\.\d s")
                # The count comes before the recovery.
                self.assertLess(log.rindex("cannot connect"), log.index("reachable again"))


if __name__ == "__main__":
    unittest.main()
