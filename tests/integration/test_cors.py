"""CORS (--cors-origin): preflights from a listed origin, an unlisted one and none; the headers of actual answers, errors
included; a public GET served from the cache to two origins, each with its own; OPTIONS in Allow; without the setting
no CORS header at all; a bad origin refused at start; and a page on another origin calling the API in headless
Chromium (tests/browser/cors.test.mjs). Real HTTP against a real MariaDB."""

import functools
import http.server
import os
import shutil
import tempfile
import threading
import unittest
import uuid

import lb


A = "https://shop.example"
B = "http://h5.example:8081"
UNLISTED = "https://evil.example"
SHIP_TO = {"name": "王小梅", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇岭头村12号"}
CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers",
                "access-control-max-age", "access-control-expose-headers", "access-control-allow-credentials")


def listed(names):
    """A header's comma-separated names, lower-cased."""
    return {n.strip().lower() for n in (names or "").split(",") if n.strip()}


class CorsTest(lb.ServerTestCase):
    server_args = lb.ServerTestCase.server_args + ["--cors-origin", "%s, %s" % (A, B)]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        _, coop_token = cls.server.create_merchant("coop")
        cls.sku_id = cls.server.create_product(coop_token)["skus"][0]["id"]

    def preflight(self, path, origin, method="POST", request_headers=None):
        headers = {"Access-Control-Request-Method": method}
        if origin is not None:
            headers["Origin"] = origin
        if request_headers:
            headers["Access-Control-Request-Headers"] = request_headers
        return self.server.request("OPTIONS", path, headers=headers)

    def assertNoCors(self, headers, what):
        for name in CORS_HEADERS:
            self.assertNotIn(name, headers, what)

    def assertCors(self, headers, origin, what):
        """An actual answer for a listed origin: the origin echoed, what a script may read, Vary: Origin."""
        self.assertEqual(headers.get("access-control-allow-origin"), origin, what)
        self.assertTrue({"idempotent-replayed", "retry-after", "x-request-id"} <= listed(
            headers.get("access-control-expose-headers")), what)
        self.assertIn("origin", listed(headers.get("vary")), what)
        self.assertNotIn("access-control-allow-credentials", headers, what)

    def test_preflight_of_an_order_with_idempotency_key(self):
        status, headers, body = self.preflight("/v1/orders", A, "POST", "authorization,content-type,idempotency-key")
        self.assertEqual((status, body), (204, b""))
        self.assertEqual(headers["access-control-allow-origin"], A)
        self.assertEqual(headers["allow"], "POST, GET, HEAD, OPTIONS")
        self.assertEqual(headers["access-control-allow-methods"], "POST, GET, HEAD, OPTIONS")
        self.assertTrue({"authorization", "content-type", "idempotency-key", "x-request-id"} <= listed(
            headers["access-control-allow-headers"]), headers)
        self.assertNotIn("x-livebuy-signature", listed(headers["access-control-allow-headers"]))
        self.assertGreater(int(headers["access-control-max-age"]), 0)
        self.assertIn("origin", listed(headers.get("vary")))
        self.assertNotIn("access-control-allow-credentials", headers)
        # counted (and logged) under the path's route, not as unmatched
        self.assertGreaterEqual(lb.metric(self.server.metrics(), 'livebuy_http_requests_total{route="/v1/orders",code="204"}'),
                                1)
        # the other origin, with its port, gets its own name back
        status, headers, _ = self.preflight("/v1/skus/%d" % self.sku_id, B, "PATCH", "authorization,content-type")
        self.assertEqual((status, headers["access-control-allow-origin"]), (204, B))
        self.assertEqual(headers["access-control-allow-methods"], "GET, HEAD, PATCH, OPTIONS")

    def test_preflight_of_signed_routes_names_their_signature_headers(self):
        for path in ("/v1/payments/notify", "/v1/refunds/notify", "/v1/shipments/1/events"):
            status, headers, _ = self.preflight(path, A, "POST", "content-type,x-livebuy-timestamp,x-livebuy-signature")
            self.assertEqual(status, 204, path)
            self.assertTrue({"x-livebuy-timestamp", "x-livebuy-signature", "content-type"} <= listed(
                headers["access-control-allow-headers"]), path)
        status, headers, _ = self.preflight("/v1/payments/wechatpay/notify", A)
        self.assertTrue({"wechatpay-signature", "wechatpay-timestamp", "wechatpay-nonce", "wechatpay-serial"} <= listed(
            headers["access-control-allow-headers"]))

    def test_preflight_from_an_unlisted_origin_or_none(self):
        for origin in (UNLISTED, "null", "https://shop.example.evil", "http://shop.example", None):
            status, headers, body = self.preflight("/v1/orders", origin)
            what = "Origin %r" % origin
            self.assertEqual((status, body), (204, b""), what)
            self.assertEqual(headers["allow"], "POST, GET, HEAD, OPTIONS", what)
            self.assertNoCors(headers, what)
            self.assertIn("origin", listed(headers.get("vary")), what)
        # a plain OPTIONS (no Access-Control-Request-Method) from a listed origin is no preflight: Allow, and the origin
        status, headers, _ = self.server.request("OPTIONS", "/healthz", headers={"Origin": A})
        self.assertEqual((status, headers["allow"]), (204, "GET, HEAD, OPTIONS"))
        self.assertNotIn("access-control-allow-methods", headers)

    def test_options_where_no_route_is(self):
        for path in ("/v1/nothing", "/v1/orders/0", "/sandbox/pay/1"):  # the sandbox is off here
            answer = self.preflight(path, A)
            self.assertError(answer, 404, "not_found", what=path)
            self.assertEqual(answer[1].get("access-control-allow-origin"), A, path)

    def test_405_allow_names_options(self):
        answer = self.server.request("DELETE", "/v1/orders", headers={"Origin": A})
        self.assertError(answer, 405, "method_not_allowed")
        self.assertEqual(answer[1]["allow"], "POST, GET, HEAD, OPTIONS")
        self.assertCors(answer[1], A, "405")

    def test_actual_answers_listed_unlisted_and_none(self):
        status, headers, _ = self.server.request("GET", "/healthz", headers={"Origin": A})
        self.assertEqual(status, 200)
        self.assertCors(headers, A, "GET /healthz from A")
        for origin in (UNLISTED, None):
            status, headers, _ = self.server.request("GET", "/healthz", headers={"Origin": origin})
            self.assertEqual(status, 200)
            self.assertNoCors(headers, "Origin %r" % origin)
            self.assertIn("origin", listed(headers.get("vary")))

    def test_errors_carry_the_headers(self):
        body = {"sku_id": self.sku_id, "qty": 1, "ship_to": SHIP_TO}
        answer = self.server.request("POST", "/v1/orders", body, token="b1.1.1.bad", headers={"Origin": B})
        self.assertError(answer, 401, "unauthorized")
        self.assertCors(answer[1], B, "401")
        answer = self.server.request("POST", "/v1/orders", {"qty": 1}, token=lb.buyer_token(7001), headers={"Origin": A})
        self.assertEqual(answer[0], 422)
        self.assertCors(answer[1], A, "422")
        answer = self.server.request("GET", "/v1/skus/999999", headers={"Origin": A})
        self.assertError(answer, 404, "not_found")
        self.assertCors(answer[1], A, "404")
        answer = self.server.request("GET", "/v1/skus/999999", headers={"Origin": UNLISTED})
        self.assertNoCors(answer[1], "404 for an unlisted origin")

    def test_an_order_and_its_replay_from_a_page(self):
        key = "tap-" + uuid.uuid4().hex
        body = {"sku_id": self.sku_id, "qty": 1, "ship_to": SHIP_TO}
        token = lb.buyer_token(7002)
        first = self.server.request("POST", "/v1/orders", body, token=token, headers={"Origin": A, "Idempotency-Key": key})
        self.assertEqual(first[0], 201, first)
        self.assertCors(first[1], A, "201")
        again = self.server.request("POST", "/v1/orders", body, token=token, headers={"Origin": A, "Idempotency-Key": key})
        self.assertEqual((again[0], again[1].get("idempotent-replayed"), again[2]["id"]), (201, "true", first[2]["id"]))
        self.assertCors(again[1], A, "the replay")

    def test_the_public_cache_answers_each_origin_with_its_own_headers(self):
        """An anonymous GET of a public route is answered from the cache for 250 ms: the cache keeps the body only, and
        each answer gets the CORS headers of its own request."""
        path = "/v1/skus/%d" % self.sku_id
        hits = lambda: lb.metric(self.server.metrics(), "livebuy_public_cache_hits_total")
        anonymous = {"Cache-Control": None}
        served_from_cache = 0
        for _ in range(20):
            before = hits()
            answers = [(origin, self.server.request("GET", path, headers=dict(anonymous, Origin=origin)))
                       for origin in (A, B, UNLISTED, None, A)]
            for origin, (status, headers, body) in answers:
                self.assertEqual((status, body["id"]), (200, self.sku_id))
                if origin in (A, B):
                    self.assertCors(headers, origin, "cached GET for %s" % origin)
                else:
                    self.assertNoCors(headers, "cached GET for %r" % origin)
                    self.assertIn("origin", listed(headers.get("vary")))
            served_from_cache += hits() - before
            if served_from_cache >= 3:
                break
        self.assertGreaterEqual(served_from_cache, 3, "the answers should have come from the public cache")


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    """The page's server: files of a folder, no log lines."""

    def log_message(self, *args):
        pass


class PageOnAnotherOrigin(lb.ServerTestCase):
    """A page on another origin calls the API in headless Chromium (tests/browser/cors.test.mjs): http://localhost:P is
    listed, http://127.0.0.1:P (the same page server, another origin) is not."""

    @classmethod
    def setUpClass(cls):
        cls.page_dir = tempfile.mkdtemp(prefix="lbcors-")
        with open(os.path.join(cls.page_dir, "page.html"), "w", encoding="utf-8") as f:
            f.write("<!doctype html><meta charset=utf-8><title>另一个来源的小程序页</title><p>H5</p>\n")
        cls.pages = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietFiles, directory=cls.page_dir))
        threading.Thread(target=cls.pages.serve_forever, daemon=True).start()
        cls.page_port = cls.pages.server_address[1]
        cls.server_args = lb.ServerTestCase.server_args + ["--cors-origin", "http://localhost:%d" % cls.page_port]
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        cls.pages.shutdown()
        cls.pages.server_close()
        shutil.rmtree(cls.page_dir, ignore_errors=True)
        super().tearDownClass()

    def test_a_page_on_another_origin(self):
        _, coop = self.server.create_merchant("coop")
        sku_id = self.server.create_product(coop)["skus"][0]["id"]
        lb.run_browser_script(self, "cors.test.mjs", {
            "LB_BASE_URL": self.server.base_url, "LB_SKU_ID": str(sku_id), "LB_BUYER_TOKEN": lb.buyer_token(7101),
            "LB_LISTED_PAGE": "http://localhost:%d/page.html" % self.page_port,
            "LB_UNLISTED_PAGE": "http://127.0.0.1:%d/page.html" % self.page_port})
        # the listed page's order went through once: the replay made no second one
        self.assertEqual(self.sql("SELECT COUNT(*) FROM orders WHERE buyer_id = 7101"), [("1",)])


class NoCorsTest(lb.ServerTestCase):
    """Without --cors-origin: OPTIONS still answers with Allow (plain HTTP), and no answer has a CORS header or Vary."""

    def test_no_cors_headers_at_all(self):
        status, headers, _ = self.server.request("OPTIONS", "/v1/orders", headers={
            "Origin": A, "Access-Control-Request-Method": "POST"})
        self.assertEqual((status, headers["allow"]), (204, "POST, GET, HEAD, OPTIONS"))
        for method, path in (("OPTIONS", "/v1/orders"), ("GET", "/healthz"), ("GET", "/v1/skus/1")):
            _, headers, _ = self.server.request(method, path, headers={"Origin": A})
            for name in CORS_HEADERS + ("vary",):
                self.assertNotIn(name, headers, "%s %s" % (method, path))


class BadOriginTest(unittest.TestCase):
    """A bad --cors-origin (or LIVEBUY_CORS_ORIGIN) is a start refusal that names it."""

    def test_refused_at_start(self):
        url = lb.db_url(lb.mariadb(), "livebuy_cors_never_made")
        for value, words in (("*", "is refused: name exact origins"), ("https://shop.example/", "no path"),
                             ("shop.example", "http:// or https://"), ("https://Shop.example", "lower case"),
                             ("https://shop.example:443", "default port"), ("https://a.example,,https://b.example", "is empty")):
            code, _, err = lb.run_livebuyd(["--db", url, "--cors-origin", value])
            self.assertEqual(code, 2, (value, err))
            self.assertIn("--cors-origin", err, value)
            self.assertIn(words, err, value)
        code, _, err = lb.run_livebuyd(["--db", url], env={"LIVEBUY_CORS_ORIGIN": "*"})
        self.assertEqual(code, 2, err)
        self.assertIn("is refused", err)


if __name__ == "__main__":
    unittest.main()
