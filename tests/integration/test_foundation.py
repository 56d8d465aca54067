"""Foundation: catalog resources, formats, protocols, input validation, auth, restart and migrations, start-up refusals,
/readyz across a database outage, /metrics, threads, TLS and a clean stop. Real HTTP against a real MariaDB."""

import hashlib
import json
import os
import re
import signal
import socket
import shutil
import tempfile
import threading
import time
import unittest

import msgpack

import lb

JSON = "application/json"
MSGPACK = "application/msgpack"
error_parts = lb.error_parts


class Base(lb.ServerTestCase):
    """One database and one livebuyd (--max-body 4096) shared by the tests of a class."""

    server_args = ["--max-body", "4096"]

    # helpers

    def counts(self):
        """What bad input must never change: row counts and the stock total."""
        return self.sql("SELECT (SELECT COUNT(*) FROM merchants), (SELECT COUNT(*) FROM products), "
                        "(SELECT COUNT(*) FROM skus), (SELECT COALESCE(SUM(stock), 0) FROM skus), "
                        "(SELECT COUNT(*) FROM orders)")[0]

    def assertError(self, answer, status, code=None, field=None, what=""):
        got_status, headers, body = answer
        self.assertEqual(got_status, status, "%s: expected %d, got %d %r" % (what, status, got_status, body))
        got_code, message = error_parts(body)
        if code is not None:
            self.assertEqual(got_code, code, "%s: error code; message %r" % (what, message))
        if field is not None:
            self.assertIn(field, message, "%s: the message should name the field %s" % (what, field))
        if status in (429, 503):
            self.assertIn("retry-after", headers, "%s: %d without Retry-After" % (what, status))
        return message


class CatalogTest(Base):

    def test_merchant_product_sku_restock(self):
        s = self.server
        status, headers, m = s.request("POST", "/v1/merchants", {"name": "武乡县小米专业合作社", "kind": "coop"},
                                       token=lb.ADMIN_TOKEN)
        self.assertEqual(status, 201, m)
        self.assertTrue(headers["content-type"].startswith(JSON), headers)
        self.assertIsInstance(m["id"], int)
        self.assertIsInstance(m["token"], str)
        self.assertGreaterEqual(len(m["token"]), 16)
        # The token is stored hashed (SHA-256), never as it is.
        rows = self.sql("SELECT name, kind, HEX(token_hash) FROM merchants WHERE id = %d" % m["id"])
        self.assertEqual(rows[0][0], "武乡县小米专业合作社")
        self.assertEqual(rows[0][1], "coop")
        self.assertEqual(rows[0][2].lower(), hashlib.sha256(m["token"].encode()).hexdigest())
        self.assertNotIn(m["token"].encode(), b"".join(r[2].encode() for r in rows))

        product = {
            "title": "武乡小米 (沁州黄) 新米", "unit": "袋", "origin": "山西省长治市武乡县", "cold_chain": False,
            "skus": [
                {"name": "武乡小米 2.5kg 礼盒", "price_cents": 5990, "stock": 100, "weight_grams": 2700},
                {"name": "武乡小米 5kg 家庭装", "price_cents": 9900, "stock": 40, "weight_grams": 5200},
            ],
        }
        status, _, p = s.request("POST", "/v1/products", product, token=m["token"])
        self.assertEqual(status, 201, p)
        self.assertIsInstance(p["id"], int)
        self.assertEqual(len(p["skus"]), 2)
        for given, got in zip(product["skus"], p["skus"]):
            self.assertIsInstance(got["id"], int)
            for field in ("name", "price_cents", "stock", "weight_grams"):
                self.assertEqual(got[field], given[field], field)
        self.assertNotEqual(p["skus"][0]["id"], p["skus"][1]["id"])
        self.assertEqual(self.sql("SELECT title, unit, origin, cold_chain, merchant_id FROM products WHERE id = %d" % p["id"]),
                         [("武乡小米 (沁州黄) 新米", "袋", "山西省长治市武乡县", "0", str(m["id"]))])

        for given, created in zip(product["skus"], p["skus"]):
            status, headers, sku = s.request("GET", "/v1/skus/%d" % created["id"])
            self.assertEqual(status, 200, sku)
            self.assertTrue(headers["content-type"].startswith(JSON))
            self.assertEqual(sku["id"], created["id"])
            self.assertEqual(sku["product_id"], p["id"])
            self.assertEqual(sku["price_cents"], given["price_cents"])
            self.assertEqual(sku["stock"], given["stock"])
            self.assertEqual(sku["reserved"], 0)
            self.assertEqual(sku["sold"], 0)
            self.assertEqual(sku["available"], given["stock"])

        sku_id = p["skus"][1]["id"]
        status, _, sku = s.request("POST", "/v1/skus/%d/restock" % sku_id, {"qty": 25}, token=m["token"])
        self.assertEqual(status, 200, sku)
        self.assertEqual(sku["id"], sku_id)
        self.assertEqual(sku["product_id"], p["id"])
        self.assertEqual(sku["stock"], 65)
        self.assertEqual(sku["available"], 65)
        self.assertEqual(sku["reserved"], 0)
        self.assertEqual(sku["sold"], 0)
        self.assertEqual(s.sku(sku_id)["stock"], 65)
        self.assertEqual(s.sku(sku_id)["available"], 65)
        self.assertEqual(self.sql("SELECT stock FROM skus WHERE id = %d" % sku_id), [("65",)])
        # The other SKU is untouched.
        self.assertEqual(s.sku(p["skus"][0]["id"])["stock"], 100)

    def test_host_may_create_products_and_limits_are_inclusive(self):
        _, token = self.server.create_merchant("host", "长治直播间")
        # 50 SKUs are allowed (kept small: the shared server takes bodies up to 4096 bytes).
        skus = [{"name": "s%d" % i, "price_cents": 0, "stock": 0, "weight_grams": 0} for i in range(50)]
        p = self.server.create_product(token, skus=skus, title="五十个规格", unit="斤")
        self.assertEqual(len(p["skus"]), 50)
        self.assertEqual(len({k["id"] for k in p["skus"]}), 50)
        self.assertEqual(int(lb.sql_value(self.sock, self.dbname,
                                          "SELECT COUNT(*) FROM skus WHERE product_id = %d" % p["id"])), 50)
        # Strings at their limits in characters (3 bytes each in UTF-8), numbers at their maxima.
        title = "沁" * 200
        skus = [{"name": "名" * 200, "price_cents": 10000000000, "stock": 1000000000, "weight_grams": 100000000}]
        p = self.server.create_product(token, skus=skus, title=title, unit="斤" * 32, origin="")
        self.assertEqual(self.sql("SELECT CHAR_LENGTH(title), CHAR_LENGTH(unit) FROM products WHERE id = %d" % p["id"]),
                         [("200", "32")])
        sku = self.server.sku(p["skus"][0]["id"])
        self.assertEqual(sku["price_cents"], 10000000000)
        self.assertEqual(sku["stock"], 1000000000)
        self.assertEqual(sku["available"], 1000000000)
        self.assertEqual(self.sql("SELECT name FROM skus WHERE id = %d" % sku["id"]), [("名" * 200,)])

    def test_sql_fragment_is_stored_verbatim(self):
        evil = "'); DROP TABLE skus; --"
        mid, token = self.server.create_merchant("coop", evil)
        p = self.server.create_product(token, title=evil, skus=[
            {"name": evil + ' "\\', "price_cents": 1, "stock": 3, "weight_grams": 1}])
        self.assertEqual(self.sql("SELECT name FROM merchants WHERE id = %d" % mid), [(evil,)])
        self.assertEqual(self.sql("SELECT title FROM products WHERE id = %d" % p["id"]), [(evil,)])
        self.assertEqual(self.sql("SELECT name FROM skus WHERE id = %d" % p["skus"][0]["id"]), [(evil + ' "\\',)])
        self.assertEqual(self.server.sku(p["skus"][0]["id"])["stock"], 3)
        self.assertTrue(self.sql("SHOW TABLES LIKE 'skus'"))

    def test_unknown_fields_are_ignored(self):
        _, token = self.server.create_merchant("coop")
        body = lb.default_product()
        body["colour"] = "金黄"
        body["extra"] = {"nested": [1, 2, {"deep": None}]}
        body["skus"][0]["grade"] = "一级"
        status, _, p = self.server.request("POST", "/v1/products", body, token=token)
        self.assertEqual(status, 201, p)
        status, _, m = self.server.request("POST", "/v1/merchants", {"name": "x", "kind": "host", "admin": True},
                                           token=lb.ADMIN_TOKEN)
        self.assertEqual(status, 201, m)
        status, _, sku = self.server.request("POST", "/v1/skus/%d/restock" % p["skus"][0]["id"], {"qty": 1, "note": "补货"},
                                             token=token)
        self.assertEqual(status, 200, sku)
        self.assertEqual(sku["stock"], 101)


class FormatTest(Base):

    def test_msgpack_and_json_give_the_same_answers(self):
        s = self.server
        _, token = s.create_merchant("coop")
        # Create in msgpack, answered in msgpack.
        status, headers, p = s.request("POST", "/v1/products", lb.default_product(), token=token, fmt="msgpack",
                                       accept=MSGPACK)
        self.assertEqual(status, 201, p)
        self.assertTrue(headers["content-type"].startswith(MSGPACK), headers)
        self.assertIsInstance(p, dict, "msgpack answer did not decode to a map: %r" % (p,))
        self.assertEqual([k["name"] for k in p["skus"]], [k["name"] for k in lb.default_product()["skus"]])
        # The same product in JSON: the same fields and types.
        status, _, pj = s.request("POST", "/v1/products", lb.default_product(), token=token)
        self.assertEqual(status, 201, pj)
        self.assertEqual(sorted(p), sorted(pj))
        for a, b in zip(p["skus"], pj["skus"]):
            self.assertEqual(sorted(a), sorted(b))
            self.assertEqual({k: v for k, v in a.items() if k not in ("id", "product_id")},
                             {k: v for k, v in b.items() if k not in ("id", "product_id")})
        # Made one after the other: created_at may be a second apart when the two fall either side of one.
        self.assertEqual({k: v for k, v in p.items() if k not in ("id", "skus", "created_at")},
                         {k: v for k, v in pj.items() if k not in ("id", "skus", "created_at")})
        self.assertIn(pj["created_at"] - p["created_at"], (0, 1))

        sku_id = p["skus"][0]["id"]
        status, _, as_json = s.request("GET", "/v1/skus/%d" % sku_id)
        self.assertEqual(status, 200)
        status, headers, as_msgpack = s.request("GET", "/v1/skus/%d" % sku_id, accept=MSGPACK)
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith(MSGPACK), headers)
        self.assertEqual(as_msgpack, as_json)
        status, headers, explicit = s.request("GET", "/v1/skus/%d" % sku_id, accept="application/json, application/msgpack")
        self.assertTrue(headers["content-type"].startswith(JSON), "JSON asked for first: %r" % headers)
        self.assertEqual(explicit, as_json)

        # Restock in msgpack, answered in JSON (no Accept) and in msgpack.
        status, headers, r1 = s.request("POST", "/v1/skus/%d/restock" % sku_id, {"qty": 5}, token=token, fmt="msgpack")
        self.assertEqual(status, 200, r1)
        self.assertTrue(headers["content-type"].startswith(JSON))
        status, _, r2 = s.request("POST", "/v1/skus/%d/restock" % sku_id, {"qty": 5}, token=token, fmt="msgpack",
                                  accept=MSGPACK)
        self.assertEqual(status, 200, r2)
        self.assertEqual(r2["stock"], r1["stock"] + 5)
        self.assertEqual(r2, s.sku(sku_id))

        # Content-Type parameters and case do not matter.
        status, _, r3 = s.request("POST", "/v1/skus/%d/restock" % sku_id, raw=b'{"qty": 1}', token=token,
                                  headers={"Content-Type": "Application/JSON; charset=utf-8"})
        self.assertEqual(status, 200, r3)

        # Errors in msgpack too.
        ans = s.request("POST", "/v1/products", {"unit": "袋", "skus": []}, token=token, fmt="msgpack", accept=MSGPACK)
        self.assertTrue(ans[1]["content-type"].startswith(MSGPACK), ans[1])
        self.assertError(ans, 422, "invalid", "title", "msgpack error")
        ans = s.request("GET", "/v1/skus/999999999", accept=MSGPACK)
        self.assertError(ans, 404, "not_found", what="msgpack 404")
        ans = s.request("POST", "/v1/products", raw=b"\x93\x01", token=token, fmt="msgpack", accept=MSGPACK)
        self.assertError(ans, 400, "malformed", what="truncated msgpack")

    def test_healthz_over_http1_and_http2(self):
        s = self.server
        status, _, body = s.request("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(body.get("status"), "ok")
        conn = s.connection()
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        self.assertEqual(resp.version, 11)
        self.assertEqual(resp.status, 200)
        conn.close()

        out = lb.curl("-sI", "--http2-prior-knowledge", s.base_url + "/healthz")
        self.assertEqual(out.returncode, 0, out.stderr)
        first = out.stdout.splitlines()[0] if out.stdout else ""
        self.assertTrue(first.startswith("HTTP/2"), "HEAD over h2c: %r" % out.stdout)
        self.assertIn(" 200", first)

        out = lb.curl("--http2-prior-knowledge", "-w", "\n%{http_version} %{http_code}", s.base_url + "/healthz")
        self.assertEqual(out.returncode, 0, out.stderr)
        body, _, tail = out.stdout.rpartition("\n")
        self.assertEqual(tail, "2 200")
        self.assertEqual(json.loads(body), {"status": "ok"})

        # A data route over h2c, and an error over h2c.
        _, token = s.create_merchant("coop")
        p = s.create_product(token)
        out = lb.curl("--http2-prior-knowledge", "-w", "\n%{http_version}", s.base_url + "/v1/skus/%d" % p["skus"][0]["id"])
        body, _, version = out.stdout.rpartition("\n")
        self.assertEqual(version, "2")
        self.assertEqual(json.loads(body), s.sku(p["skus"][0]["id"]))
        out = lb.curl("--http2-prior-knowledge", "-w", "\n%{http_code}", "-H", "Content-Type: application/json",
                      "-H", "Authorization: Bearer " + token, "--data-binary", '{"qty": "many"}',
                      s.base_url + "/v1/skus/%d/restock" % p["skus"][0]["id"])
        body, _, code = out.stdout.rpartition("\n")
        self.assertEqual(code, "422")
        self.assertEqual(error_parts(json.loads(body))[0], "invalid")


class BadInputTest(Base):
    """Every class of bad input: a 4xx with the API error body naming the field, and nothing changed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coop_id, cls.coop_token = cls.server.create_merchant("coop")
        cls.product = cls.server.create_product(cls.coop_token)
        cls.sku_id = cls.product["skus"][0]["id"]

    def check(self, what, method, path, status, code, field=None, body=None, raw=None, token="coop", fmt="json",
              headers=None, codes=None):
        tok = {"coop": self.coop_token, "admin": lb.ADMIN_TOKEN, None: None}.get(token, token)
        with self.subTest(what):
            before = self.counts()
            ans = self.server.request(method, path, body, token=tok, fmt=fmt, raw=raw, headers=headers)
            if codes is not None:  # more than one status is acceptable
                self.assertIn(ans[0], codes, "%s: got %d %r" % (what, ans[0], ans[2]))
                status = ans[0]
            self.assertError(ans, status, code, field, what)
            self.assertEqual(self.counts(), before, "%s changed the database" % what)
            self.assertTrue(self.server.running(), "livebuyd died on %s" % what)

    def prod(self, **changes):
        body = lb.default_product()
        body.update(changes)
        return body

    def sku_product(self, **changes):
        body = lb.default_product()
        body["skus"][0].update(changes)
        return body

    def test_malformed_bodies(self):
        P = "/v1/products"
        for what, raw in [
            ("truncated JSON", b'{"title": "x",'),
            ("JSON with a trailing comma", b'{"title": "x",}'),
            ("JSON with trailing garbage", b'{"qty": 1} {"qty": 2}'),
            ("empty body", b""),
            ("whitespace body", b"   "),
            ("a JSON array", b"[1, 2]"),
            ("a JSON string", b'"title"'),
            ("a JSON number", b"42"),
            ("JSON null", b"null"),
            ("invalid UTF-8 in a JSON string", b'{"title": "\xff\xfe\xc3", "unit": "x", "skus": []}'),
            ("invalid UTF-8 in a JSON key", b'{"ti\xc3tle": "x"}'),
            ("overlong UTF-8 in JSON", b'{"title": "\xc0\xaf"}'),
            ("a lone surrogate escape", b'{"title": "\\ud800"}'),
            ("integer beyond int64", b'{"title": "t", "unit": "u", "skus": [{"name": "n", "price_cents": 1, '
                                     b'"stock": 99999999999999999999, "weight_grams": 1}]}'),
            ("deep nesting", b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}"),
        ]:
            self.check(what, "POST", P, 400, "malformed", raw=raw)
        self.check("integer beyond int64 in restock", "POST", "/v1/skus/%d/restock" % self.sku_id, 400, "malformed",
                   raw=b'{"qty": 18446744073709551616}')
        self.check("negative integer beyond int64", "POST", "/v1/skus/%d/restock" % self.sku_id, 400, "malformed",
                   raw=b'{"qty": -9223372036854775809}')

        pack = lambda v: msgpack.packb(v, use_bin_type=True)
        for what, raw in [
            ("invalid UTF-8 in a msgpack string", b"\x83\xa5title\xa3\xff\xfe\xfd\xa4unit\xa1x\xa4skus\x90"),
            ("invalid UTF-8 in a msgpack key", b"\x81\xa3\xff\xfe\xfd\x01"),
            ("truncated msgpack", pack({"title": "武乡小米"})[:-2]),
            ("msgpack array at the top", pack([1, 2, 3])),
            ("msgpack string at the top", pack("title")),
            ("msgpack nil", pack(None)),
            ("two msgpack values", pack({"qty": 1}) + pack({"qty": 2})),
            ("msgpack uint64 beyond int64", pack({"title": "t", "unit": "u", "skus": [
                {"name": "n", "price_cents": 2 ** 64 - 1, "stock": 1, "weight_grams": 1}]})),
            ("msgpack binary value", pack({"title": b"\x00\x01", "unit": "u", "skus": []})),
            ("msgpack non-string key", pack({1: "x"})),
            ("msgpack ext value", pack({"title": msgpack.ExtType(5, b"ab")})),
            ("msgpack garbage", b"\xc1\xc1\xc1"),
        ]:
            self.check(what, "POST", P, 400, "malformed", raw=raw, fmt="msgpack")
        # Merchants and restock decode bodies the same way.
        self.check("malformed merchant body", "POST", "/v1/merchants", 400, "malformed", raw=b"{name", token="admin")
        self.check("malformed restock body", "POST", "/v1/skus/%d/restock" % self.sku_id, 400, "malformed", raw=b"[]")

    def test_unsupported_media_types(self):
        for ctype in ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                      "application/jsonx", "json"]:
            self.check("Content-Type " + ctype, "POST", "/v1/products", 415, "unsupported_media_type",
                       raw=json.dumps(lb.default_product()).encode(), headers={"Content-Type": ctype})
        self.check("text/plain restock", "POST", "/v1/skus/%d/restock" % self.sku_id, 415, "unsupported_media_type",
                   raw=b'{"qty": 1}', headers={"Content-Type": "text/plain"})

    def test_missing_required_fields(self):
        P = "/v1/products"
        for field in ["title", "unit", "skus"]:
            body = lb.default_product()
            del body[field]
            self.check("missing " + field, "POST", P, 422, "invalid", field, body=body)
        self.check("null title counts as missing", "POST", P, 422, "invalid", "title", body=self.prod(title=None))
        for field in ["name", "price_cents", "stock", "weight_grams"]:
            body = lb.default_product()
            del body["skus"][1][field]
            self.check("missing skus[1]." + field, "POST", P, 422, "invalid", "skus[1]." + field, body=body)
        for field in ["name", "kind"]:
            body = {"name": "合作社", "kind": "coop"}
            del body[field]
            self.check("merchant missing " + field, "POST", "/v1/merchants", 422, "invalid", field, body=body, token="admin")
        self.check("restock missing qty", "POST", "/v1/skus/%d/restock" % self.sku_id, 422, "invalid", "qty", body={})
        self.check("restock qty null", "POST", "/v1/skus/%d/restock" % self.sku_id, 422, "invalid", "qty",
                   body={"qty": None})
        self.check("empty object", "POST", P, 422, "invalid", "title", body={})

    def test_wrong_types(self):
        P = "/v1/products"
        R = "/v1/skus/%d/restock" % self.sku_id
        cases = [
            ("string for stock", self.sku_product(stock="100"), "skus[0].stock"),
            ("string for price", self.sku_product(price_cents="59.90"), "skus[0].price_cents"),
            ("1.5 for price", self.sku_product(price_cents=1.5), "skus[0].price_cents"),
            ("1.0 for stock", self.sku_product(stock=1.0), "skus[0].stock"),
            ("bool for weight", self.sku_product(weight_grams=True), "skus[0].weight_grams"),
            ("number for title", self.prod(title=123), "title"),
            ("number for unit", self.prod(unit=1), "unit"),
            ("array for origin", self.prod(origin=["山西"]), "origin"),
            ("number for sku name", self.sku_product(name=5), "skus[0].name"),
            ('"true" for cold_chain', self.prod(cold_chain="true"), "cold_chain"),
            ("1 for cold_chain", self.prod(cold_chain=1), "cold_chain"),
            ("object for skus", self.prod(skus={"name": "x"}), "skus"),
            ("string for skus", self.prod(skus="[]"), "skus"),
            ("number in skus", self.prod(skus=[1]), "skus"),
        ]
        for what, body, field in cases:
            self.check(what, "POST", P, 422, "invalid", field, body=body)
            self.check(what + " (msgpack)", "POST", P, 422, "invalid", field, body=body, fmt="msgpack")
        for what, body in [("string qty", {"qty": "5"}), ("1.5 qty", {"qty": 1.5}), ("bool qty", {"qty": True}),
                           ("array qty", {"qty": [5]})]:
            self.check(what, "POST", R, 422, "invalid", "qty", body=body)
        self.check("unknown kind", "POST", "/v1/merchants", 422, "invalid", "kind", body={"name": "x", "kind": "farm"},
                   token="admin")
        self.check("number kind", "POST", "/v1/merchants", 422, "invalid", "kind", body={"name": "x", "kind": 1},
                   token="admin")
        self.check("kind in the wrong case", "POST", "/v1/merchants", 422, "invalid", "kind",
                   body={"name": "x", "kind": "COOP"}, token="admin")
        self.check("number name", "POST", "/v1/merchants", 422, "invalid", "name", body={"name": 7, "kind": "coop"},
                   token="admin")

    def test_out_of_range_numbers(self):
        P = "/v1/products"
        R = "/v1/skus/%d/restock" % self.sku_id
        for what, body, field in [
            ("negative stock", self.sku_product(stock=-1), "skus[0].stock"),
            ("stock above max", self.sku_product(stock=1000000001), "skus[0].stock"),
            ("negative price", self.sku_product(price_cents=-5), "skus[0].price_cents"),
            ("price above max", self.sku_product(price_cents=10000000001), "skus[0].price_cents"),
            ("price at int64 max", self.sku_product(price_cents=2 ** 63 - 1), "skus[0].price_cents"),
            ("price at int64 min", self.sku_product(price_cents=-2 ** 63), "skus[0].price_cents"),
            ("negative weight", self.sku_product(weight_grams=-1), "skus[0].weight_grams"),
            ("weight above max", self.sku_product(weight_grams=100000001), "skus[0].weight_grams"),
        ]:
            self.check(what, "POST", P, 422, "invalid", field, body=body)
        for what, qty in [("qty 0", 0), ("negative qty", -3), ("qty above max", 1000000001), ("qty int64 max", 2 ** 63 - 1)]:
            self.check(what, "POST", R, 422, "invalid", "qty", body={"qty": qty})
            self.check(what + " (msgpack)", "POST", R, 422, "invalid", "qty", body={"qty": qty}, fmt="msgpack")

    def test_strings_too_long_or_with_control_characters(self):
        P = "/v1/products"
        for what, body, field in [
            ("201-character title", self.prod(title="米" * 201), "title"),
            ("201 ASCII characters title", self.prod(title="a" * 201), "title"),
            ("33-character unit", self.prod(unit="斤" * 33), "unit"),
            ("201-character origin", self.prod(origin="山" * 201), "origin"),
            ("201-character sku name", self.sku_product(name="规" * 201), "skus[0].name"),
            ("empty title", self.prod(title=""), "title"),
            ("empty unit", self.prod(unit=""), "unit"),
            ("empty sku name", self.sku_product(name=""), "skus[0].name"),
            ("control character in title", self.prod(title="武乡\u0001小米"), "title"),
            ("newline in title", self.prod(title="武乡\n小米"), "title"),
            ("tab in unit", self.prod(unit="\t袋"), "unit"),
            ("DEL in origin", self.prod(origin="武乡\u007f"), "origin"),
            ("escape in sku name", self.sku_product(name="\u001b[31m红"), "skus[0].name"),
        ]:
            self.check(what, "POST", P, 422, "invalid", field, body=body)
        self.check("control character in msgpack", "POST", P, 422, "invalid", "title",
                   body=self.prod(title="武乡\u0002"), fmt="msgpack")
        self.check("201-character merchant name", "POST", "/v1/merchants", 422, "invalid", "name",
                   body={"name": "社" * 201, "kind": "coop"}, token="admin")
        self.check("control character in merchant name", "POST", "/v1/merchants", 422, "invalid", "name",
                   body={"name": "合作社\r", "kind": "coop"}, token="admin")
        # U+0000: jansson refuses \u0000 outright (400) or the field check does (422); either way nothing is stored.
        self.check("NUL in title", "POST", P, None, None, body=self.prod(title="武乡\u0000小米"), codes=(400, 422))
        self.check("NUL in msgpack title", "POST", P, None, None, body=self.prod(title="武乡\u0000小米"), fmt="msgpack",
                   codes=(400, 422))

    def test_sku_counts(self):
        P = "/v1/products"
        self.check("empty skus", "POST", P, 422, "invalid", "skus", body=self.prod(skus=[]))
        skus = [{"name": "s%d" % i, "price_cents": 1, "stock": 1, "weight_grams": 1} for i in range(51)]
        self.assertLess(len(json.dumps(self.prod(skus=skus))), 4096, "the 51-SKU body must fit in --max-body")
        self.check("51 skus", "POST", P, 422, "invalid", "skus", body=self.prod(skus=skus))
        # A bad SKU late in the list: nothing of the product is stored.
        skus = skus[:50]
        skus[49] = dict(skus[49], stock=-1)
        self.check("bad 50th sku", "POST", P, 422, "invalid", "skus[49].stock", body=self.prod(skus=skus))

    def test_body_too_large(self):
        big = lb.default_product()
        big["origin"] = "x" * 10240
        raw = json.dumps(big).encode()
        self.check("10 KB product body", "POST", "/v1/products", 413, "too_large", raw=raw)
        self.check("10 KB merchant body", "POST", "/v1/merchants", 413, "too_large",
                   raw=json.dumps({"name": "x" * 10240, "kind": "coop"}).encode(), token="admin")
        self.check("10 KB msgpack body", "POST", "/v1/products", 413, "too_large",
                   raw=msgpack.packb(big), fmt="msgpack")
        # Over HTTP/2 as well.
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            f.write(raw)
            f.flush()
            before = self.counts()
            out = lb.curl("--http2-prior-knowledge", "-w", "\n%{http_code}", "-H", "Content-Type: application/json",
                          "-H", "Authorization: Bearer " + self.coop_token, "--data-binary", "@" + f.name,
                          self.server.base_url + "/v1/products")
            body, _, code = out.stdout.rpartition("\n")
            self.assertEqual(code, "413", "10 KB over h2c: %r" % out.stdout[:300])
            self.assertEqual(self.counts(), before)
        # The server still answers a body under the limit.
        status, _, _ = self.server.request("POST", "/v1/skus/%d/restock" % self.sku_id, {"qty": 1}, token=self.coop_token)
        self.assertEqual(status, 200)

    def test_unknown_routes_and_wrong_methods(self):
        for path in ["/v1/nothing", "/", "/v1/skus", "/v1/skus/", "/v1/skus/abc", "/v1/skus/0", "/v1/skus/-1",
                     "/v1/skus/007", "/v1/skus/99999999999999999999", "/v1/skus/1/restock/more", "/v2/skus/1",
                     "/v1/skus/%d/unknown" % self.sku_id]:
            with self.subTest(path):
                self.assertError(self.server.request("GET", path), 404, "not_found", what="GET " + path)
        self.assertError(self.server.request("GET", "/v1/skus/987654321"), 404, "not_found", what="unknown SKU")
        for method, path, body in [("DELETE", "/v1/skus/%d" % self.sku_id, None), ("GET", "/v1/merchants", None),
                                   ("PUT", "/v1/products", {}), ("POST", "/healthz", {}), ("GET", "/v1/skus/1/restock", None),
                                   ("PUT", "/v1/skus/%d" % self.sku_id, {"stock": 0})]:
            with self.subTest(method + " " + path):
                before = self.counts()
                self.assertError(self.server.request(method, path, body, token=lb.ADMIN_TOKEN), 405, what=method + " " + path)
                self.assertEqual(self.counts(), before)
        self.assertEqual(self.server.sku(self.sku_id)["id"], self.sku_id)


class AuthTest(Base):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coop_id, cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")
        cls.other_id, cls.other = cls.server.create_merchant("coop", "黎城核桃合作社")
        cls.shipper_id, cls.shipper = cls.server.create_merchant("shipper", "县乡村物流")
        cls.product = cls.server.create_product(cls.coop)
        cls.sku_id = cls.product["skus"][0]["id"]

    def check(self, what, method, path, body, headers, status, code):
        with self.subTest(what):
            before = self.counts()
            ans = self.server.request(method, path, body, headers=headers)
            msg = self.assertError(ans, status, code, what=what)
            self.assertEqual(self.counts(), before, what + " changed the database")
            for secret in (lb.ADMIN_TOKEN, self.coop, self.other, self.shipper):
                self.assertNotIn(secret, msg, what + ": a token in the error message")

    def test_admin_endpoint(self):
        body = {"name": "不该创建", "kind": "coop"}
        for what, headers in [
            ("no Authorization", {}),
            ("wrong admin token", {"Authorization": "Bearer wrong-admin-token-0123456789"}),
            ("admin token with a suffix", {"Authorization": "Bearer " + lb.ADMIN_TOKEN + "x"}),
            ("admin token prefix", {"Authorization": "Bearer " + lb.ADMIN_TOKEN[:-1]}),
            ("no Bearer scheme", {"Authorization": lb.ADMIN_TOKEN}),
            ("Basic scheme", {"Authorization": "Basic dGVzdDp0ZXN0"}),
            ("Bearer without token", {"Authorization": "Bearer"}),
            ("Bearer and spaces", {"Authorization": "Bearer    "}),
            ("empty Authorization", {"Authorization": ""}),
            ("merchant token", {"Authorization": "Bearer " + self.coop}),
            ("shipper token", {"Authorization": "Bearer " + self.shipper}),
        ]:
            self.check(what, "POST", "/v1/merchants", body, headers, 401, "unauthorized")

    def test_merchant_endpoints(self):
        P, R = "/v1/products", "/v1/skus/%d/restock" % self.sku_id
        for what, headers in [
            ("no Authorization", {}),
            ("unknown token", {"Authorization": "Bearer no-such-merchant-token-0000"}),
            ("Basic scheme", {"Authorization": "Basic " + self.coop}),
            ("bare token", {"Authorization": self.coop}),
            ("Bearer without token", {"Authorization": "Bearer "}),
            ("admin token", {"Authorization": "Bearer " + lb.ADMIN_TOKEN}),
        ]:
            self.check("product: " + what, "POST", P, lb.default_product(), headers, 401, "unauthorized")
            self.check("restock: " + what, "POST", R, {"qty": 5}, headers, 401, "unauthorized")

    def test_forbidden_and_not_found(self):
        P, R = "/v1/products", "/v1/skus/%d/restock" % self.sku_id
        shipper = {"Authorization": "Bearer " + self.shipper}
        self.check("shipper creates a product", "POST", P, lb.default_product(), shipper, 403, "forbidden")
        self.check("shipper restocks", "POST", R, {"qty": 5}, shipper, 403, "forbidden")
        self.check("another merchant restocks", "POST", R, {"qty": 5}, {"Authorization": "Bearer " + self.other},
                   403, "forbidden")
        self.check("restock of an unknown SKU", "POST", "/v1/skus/987654321/restock", {"qty": 5},
                   {"Authorization": "Bearer " + self.coop}, 404, "not_found")
        self.check("unknown SKU", "GET", "/v1/skus/987654321", None, {}, 404, "not_found")
        # The owner still may.
        status, _, sku = self.server.request("POST", R, {"qty": 5}, token=self.coop)
        self.assertEqual(status, 200, sku)
        self.assertEqual(sku["stock"], 105)
        # GET /v1/skus/{id} is public.
        status, _, _ = self.server.request("GET", "/v1/skus/%d" % self.sku_id)
        self.assertEqual(status, 200)


class OpsTest(Base):

    def test_metrics(self):
        s = self.server
        s.request("GET", "/healthz")
        s.request("GET", "/v1/skus/987654321")
        s.request("GET", "/no/such/route")
        s.request("POST", "/v1/merchants", {"name": "x", "kind": "coop"})  # 401
        status, headers, text = s.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain"), headers)
        text = text.decode() if isinstance(text, bytes) else text
        sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? '
                            r'(-?[0-9.e+-]+|[+-]Inf|NaN)( -?[0-9]+)?$')
        for line in text.splitlines():
            if line.startswith("#"):
                self.assertRegex(line, r"^# (HELP|TYPE) ", "comment line")
            elif line:
                self.assertRegex(line, sample, "not a Prometheus sample line")

        def value(name_and_labels, text):
            for line in text.splitlines():
                if line.startswith(name_and_labels + " "):
                    return float(line.rsplit(" ", 1)[1])
            return None

        healthz = 'livebuy_http_requests_total{route="/healthz",code="200"}'
        self.assertGreaterEqual(value(healthz, text) or 0, 1, "no %s in:\n%s" % (healthz, text))
        sku404 = 'livebuy_http_requests_total{route="/v1/skus/{id}",code="404"}'
        self.assertGreaterEqual(value(sku404, text) or 0, 1, "no %s in:\n%s" % (sku404, text))
        self.assertRegex(text, r'livebuy_http_requests_total\{route="[^"]+",code="404"\} [1-9]')
        self.assertRegex(text, r'livebuy_http_requests_total\{route="/v1/merchants",code="401"\} [1-9]')
        self.assertRegex(text, r'livebuy_http_request_duration_seconds_bucket\{route="/healthz",le="\+Inf"\} [1-9]')
        self.assertRegex(text, r'(?m)^livebuy_http_request_duration_seconds_bucket\{.*le="0\.\d+"\} \d+$')
        self.assertRegex(text, r"(?m)^livebuy_db_queue_depth \d+$")
        self.assertRegex(text, r"(?m)^livebuy_db_job_duration_seconds_bucket\{le=\"\+Inf\"\} [1-9]")
        self.assertRegex(text, r"(?m)^livebuy_db_job_duration_seconds_count [1-9]")
        self.assertRegex(text, r"(?m)^livebuy_http_connections_open [1-9]\d*$")

        # The counters count.
        before = value(healthz, text)
        for _ in range(3):
            s.request("GET", "/healthz")
        self.assertEqual(value(healthz, s.metrics()), before + 3)

    def test_threads_2(self):
        with lb.Server(self.url, ["--threads", "2"]) as s2:
            _, token = s2.create_merchant("coop")
            p = s2.create_product(token)
            sku_id = p["skus"][0]["id"]
            results = []

            def worker():
                for _ in range(10):
                    conn = s2.connection(10)  # a new connection each time: both loops get some
                    conn.request("GET", "/v1/skus/%d" % sku_id)
                    results.append(conn.getresponse().status)
                    conn.close()

            threads = [threading.Thread(target=worker) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            self.assertEqual(results, [200] * 40)
            status, _, sku = s2.request("POST", "/v1/skus/%d/restock" % sku_id, {"qty": 7}, token=token)
            self.assertEqual(status, 200, sku)
            self.assertEqual(sku["stock"], 107)
            self.assertIn("2 threads", s2.log())
            self.assertEqual(s2.stop(), 0)

    def test_tls(self):
        folder = tempfile.mkdtemp(prefix="lbtls-")
        try:
            cert, key = lb.self_signed_cert(folder)
            with lb.Server(self.url, tls=(cert, key)) as s:
                out = lb.curl("-k", "--http2", "-w", "\n%{http_version}", s.base_url + "/healthz")
                self.assertEqual(out.returncode, 0, out.stderr)
                body, _, version = out.stdout.rpartition("\n")
                self.assertEqual(version, "2", out.stdout)
                self.assertEqual(json.loads(body), {"status": "ok"})
                # HTTP/1.1 over TLS as well (no ALPN h2).
                out = lb.curl("-k", "--http1.1", "-w", "\n%{http_version}", s.base_url + "/healthz")
                self.assertEqual(out.stdout.rpartition("\n")[2], "1.1", out.stdout)
                out = lb.curl("-k", "--http2", "-w", "\n%{http_version} %{http_code}", s.base_url + "/readyz")
                self.assertEqual(out.stdout.rpartition("\n")[2], "2 200",
                                 "GET /readyz over h2+TLS: %r (livebuyd running: %s)" % (out.stdout, s.running()))
                _, token = s.create_merchant("coop")
                p = s.create_product(token)
                self.assertEqual(s.sku(p["skus"][0]["id"])["stock"], 100)
                # Cleartext on the TLS port is not served.
                conn = lb.http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
                try:
                    conn.request("GET", "/healthz")
                    self.assertNotEqual(conn.getresponse().status, 200)
                except (OSError, lb.http.client.HTTPException):
                    pass
                finally:
                    conn.close()
                self.assertEqual(s.stop(), 0)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def test_sigterm_with_requests_in_flight(self):
        s2 = lb.Server(self.url)
        try:
            _, token = s2.create_merchant("coop")
            p = s2.create_product(token)
            sku_id = p["skus"][0]["id"]
            stop = threading.Event()
            statuses, restocked = [], []
            idle = socket.create_connection(("127.0.0.1", s2.port))  # an idle connection must not hold the stop

            def worker(i):
                conn = s2.connection(10)
                while not stop.is_set():
                    try:
                        if i % 2:
                            conn.request("GET", "/v1/skus/%d" % sku_id)
                        else:
                            conn.request("POST", "/v1/skus/%d/restock" % sku_id, body=b'{"qty": 1}',
                                         headers={"Content-Type": JSON, "Authorization": "Bearer " + token})
                        resp = conn.getresponse()
                        resp.read()
                        statuses.append(resp.status)
                        if i % 2 == 0 and resp.status == 200:
                            restocked.append(1)
                    except Exception:
                        conn.close()
                        if stop.is_set() or not s2.running():
                            break
                        time.sleep(0.01)
                        conn = s2.connection(10)
                conn.close()

            threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(8)]
            for t in threads:
                t.start()
            lb.wait_for(lambda: len(statuses) >= 50, 20, 0.02)
            self.assertGreaterEqual(len(statuses), 50, "the load did not get going")
            started = time.monotonic()
            s2.proc.send_signal(signal.SIGTERM)
            try:
                code = s2.proc.wait(10)
            except lb.subprocess.TimeoutExpired:
                code = None
            elapsed = time.monotonic() - started
            stop.set()
            for t in threads:
                t.join(15)
            idle.close()
            self.assertEqual(code, 0, "exit status after SIGTERM with requests in flight (%.1f s)" % elapsed)
            self.assertLess(elapsed, 8.0)
            self.assertTrue(set(statuses) <= {200}, "answers during the load: %r" % sorted(set(statuses)))
            # Every restock that was answered 200 is in the database; none was lost or doubled.
            self.assertGreater(len(restocked), 0)
            stock = int(self.sql("SELECT stock FROM skus WHERE id = %d" % sku_id)[0][0])
            self.assertGreaterEqual(stock - 100, len(restocked), "a restock answered 200 is not in the database")
        finally:
            if s2.running():
                s2.kill()


class RestartTest(unittest.TestCase):
    """Restart on the same database, migrations recorded once, --migrate-only, start-up refusals."""

    @classmethod
    def setUpClass(cls):
        cls.sock = lb.mariadb()
        pattern = re.compile(r"^[0-9]{3}_[a-z0-9_]+\.sql$")
        cls.migrations = sorted(f for f in os.listdir(os.path.join(lb.SOURCE_DIR, "sql")) if pattern.match(f))

    def test_restart_keeps_data_and_applies_migrations_once(self):
        db = lb.fresh_database(self.sock)
        try:
            s = lb.Server(lb.db_url(self.sock, db))
            first_log = s.log_since_start()
            for name in self.migrations:
                self.assertIn("applied migration " + name, first_log)
            rows = lb.sql(self.sock, db, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
            self.assertEqual([r[1] for r in rows], self.migrations)
            self.assertEqual(len({r[0] for r in rows}), len(rows))

            mid, token = s.create_merchant("coop", "武乡小米合作社")
            p = s.create_product(token)
            sku_id = p["skus"][0]["id"]
            s.request("POST", "/v1/skus/%d/restock" % sku_id, {"qty": 11}, token=token)
            sku_before = s.sku(sku_id)

            self.assertEqual(s.stop(signal.SIGTERM), 0, s.log_tail())
            s.start()
            second_log = s.log_since_start()
            self.assertNotIn("applied migration", second_log, "the second start applied a migration again")
            self.assertEqual(lb.sql(self.sock, db, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"),
                             rows)
            self.assertEqual(s.sku(sku_id), sku_before)
            status, _, sku = s.request("POST", "/v1/skus/%d/restock" % sku_id, {"qty": 1}, token=token)
            self.assertEqual(status, 200, "the merchant token works after the restart: %r" % (sku,))
            self.assertEqual(sku["stock"], sku_before["stock"] + 1)
            self.assertEqual(lb.sql(self.sock, db, "SELECT name FROM merchants WHERE id = %d" % mid), [("武乡小米合作社",)])
            self.assertEqual(s.stop(signal.SIGINT), 0)

            code, out, err = lb.run_livebuyd(["--db", lb.db_url(self.sock, db), "--migrate-only"])
            self.assertEqual(code, 0, err)
            self.assertIn("0 migrations applied", err + out)
            self.assertEqual(lb.sql(self.sock, db, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"),
                             rows)
        finally:
            lb.drop_database(self.sock, db)

    def migrations_before(self, version):
        """A new folder with the migrations older than version, as an older build had them (the caller removes it)."""
        older = tempfile.mkdtemp(prefix="livebuy-sql-")
        for name in self.migrations:
            if name < version:
                shutil.copy(os.path.join(lb.SOURCE_DIR, "sql", name), older)
        return older

    def old_catalogue(self, db, older, skus):
        """Migrates db as an older build did (the migrations in older) and writes a co-op (merchant 1) and a product with
        skus [(name, price_cents, weight_grams)], 100 of each in stock, as that build's POST /v1/products wrote them (the
        new build writes columns and rows the older schema does not have). Returns the SKU ids."""
        code, _, err = lb.run_livebuyd(["--db", lb.db_url(self.sock, db), "--migrate-only", "--sql-dir", older])
        self.assertEqual(code, 0, err)
        lb.sql(self.sock, db, "INSERT INTO merchants (id, name, kind, token_hash, created_at) "
               "VALUES (1, '武乡小米合作社', 'coop', UNHEX(SHA2('old-coop-token', 256)), 1)")
        lb.sql(self.sock, db, "INSERT INTO products (id, merchant_id, title, unit, origin, cold_chain, created_at) "
               "VALUES (1, 1, '武乡小米', '袋', '山西省长治市武乡县', 0, 1)")
        return [int(lb.sql(self.sock, db, "INSERT INTO skus (product_id, merchant_id, name, price_cents, weight_grams, stock, "
                           "created_at, updated_at) VALUES (1, 1, '%s', %d, %d, 100, 1, 1) RETURNING id"
                           % (name, price, weight))[0][0]) for name, price, weight in skus]

    def test_orders_made_before_the_order_directory_keep_their_ids(self):
        """Migration 005 drops orders' AUTO_INCREMENT id and its index: older orders are still found by id, new ids follow."""
        db = lb.fresh_database(self.sock)
        older = self.migrations_before("005")
        try:
            # A livebuyd of an older build (migrations up to 004) and its orders: ids from AUTO_INCREMENT, two SKUs
            # interleaved (runs 1-2, 3 and 4-5).
            skus = self.old_catalogue(db, older, [("2.5kg", 3980, 2500), ("5kg", 6980, 5000)])
            # Orders 2 and 5 are still reserved: 2 is overdue (the sweeper must find it after the migrations), 5 is not.
            owners = [skus[0], skus[0], skus[1], skus[0], skus[0]]
            statuses = ["paid", "reserved", "paid", "paid", "reserved"]
            expiries = [1, 1, 1, 1, int(time.time()) + 3600]
            for n, (sku_id, status, expires_at) in enumerate(zip(owners, statuses, expiries), 1):
                lb.sql(self.sock, db, "INSERT INTO orders (sku_id, merchant_id, buyer_id, idem_key, request_hash, qty, "
                       "unit_price_cents, amount_cents, status, pickup_point_id, expires_at, created_at, updated_at) "
                       "VALUES (%d, 1, 7, 'old-%d', REPEAT('h', 32), 1, 3980, 3980, '%s', 5, %d, 1, 1)"
                       % (sku_id, n, status, expires_at))
            lb.sql(self.sock, db, "UPDATE skus SET reserved = 2 WHERE id = %d" % skus[0])
            ids = [int(r[0]) for r in lb.sql(self.sock, db, "SELECT id FROM orders ORDER BY id")]
            self.assertEqual(ids, [1, 2, 3, 4, 5])

            s = lb.Server(lb.db_url(self.sock, db), extra_args=["--buyer-secret", lb.BUYER_SECRET])
            self.assertIn("applied migration 005_order_blocks.sql", s.log_since_start())
            self.assertIn("applied migration 006_order_expiry_by_block.sql", s.log_since_start())
            self.assertEqual(lb.sql(self.sock, db, "SHOW INDEX FROM orders WHERE Key_name IN ('orders_id', 'orders_expiry')"),
                             [])
            for order_id, sku_id in zip(ids, owners):
                status, _, order = s.request("GET", "/v1/orders/%d" % order_id, token=lb.buyer_token(7))
                self.assertEqual((status, order.get("id"), order.get("sku_id")), (200, order_id, sku_id), order)
            order_status = lambda order_id: s.request("GET", "/v1/orders/%d" % order_id, token=lb.buyer_token(7))[2]["status"]
            self.assertTrue(lb.wait_for(lambda: order_status(2) == "expired", 10, 0.25), order_status(2))
            self.assertEqual([order_status(order_id) for order_id in ids], ["paid", "expired", "paid", "paid", "reserved"])
            self.assertEqual(s.sku(skus[0])["reserved"], 1)
            self.assertEqual(s.request("GET", "/v1/orders/6", token=lb.buyer_token(7))[0], 404)
            # Migration 007 moved the keys into order_keys: buyer 7's key old-4 on the first SKU is still taken (by an
            # order whose body hash no body has, so the key's reuse is refused), and a key on the other SKU is not.
            self.assertIn("applied migration 007_order_keys.sql", s.log_since_start())
            self.assertEqual(lb.sql(self.sock, db, "SHOW COLUMNS FROM orders LIKE 'idem_key'"), [])
            body = {"sku_id": skus[0], "qty": 1, "ship_to": {"name": "王芳", "phone": "13800000000", "address": "山西省长治市武乡县"}}
            status, _, answer = s.request("POST", "/v1/orders", body, token=lb.buyer_token(7),
                                          headers={"Idempotency-Key": "old-4"})
            self.assertEqual((status, answer["error"]["code"]), (422, "invalid"), answer)
            self.assertIn("already used", answer["error"]["message"])
            # New orders take ids above the old ones, each found by its id whichever SKU it is on.
            new = []
            for sku_id in (skus[1], skus[0], skus[1]):
                status, _, order = s.request("POST", "/v1/orders", {"sku_id": sku_id, "qty": 1, "ship_to": {
                    "name": "王芳", "phone": "13800000000", "address": "山西省长治市武乡县"}}, token=lb.buyer_token(8))
                self.assertEqual(status, 201, order)
                new.append((order["id"], sku_id))
            self.assertGreater(min(order_id for order_id, _ in new), 5)
            self.assertEqual(len({order_id for order_id, _ in new}), 3)
            for order_id, sku_id in new:
                status, _, order = s.request("GET", "/v1/orders/%d" % order_id, token=lb.buyer_token(8))
                self.assertEqual((status, order.get("sku_id")), (200, sku_id), order)
            s.stop()
        finally:
            shutil.rmtree(older, ignore_errors=True)
            lb.drop_database(self.sock, db)

    def test_orders_made_before_010_read_the_same(self):
        """Migration 010 drops unit_price_cents (read as amount_cents / qty), leaves updated_at NULL at insert and makes
        'reserved' the status's default: an order made before it reads as it did, and one made after it reads the same
        way, before and after it is cancelled."""
        db = lb.fresh_database(self.sock)
        older = self.migrations_before("010")
        try:
            # An order of an older build: its row as that build wrote it (the new build cannot write it any more).
            sku_id = self.old_catalogue(db, older, [("2.5kg", 3980, 2500)])[0]
            order_id = int(lb.sql(self.sock, db, "INSERT INTO order_blocks (first_id, sku_id, size) "
                                  "VALUES (NEXTVAL(order_ids), %d, 1) RETURNING first_id" % sku_id)[0][0])
            lb.sql(self.sock, db, "INSERT INTO orders (id, sku_id, merchant_id, buyer_id, qty, unit_price_cents, amount_cents, "
                   "status, pickup_point_id, expires_at, created_at, updated_at) VALUES (%d, %d, 1, 7, 3, 3980, 11940, "
                   "'reserved', 5, %d, 100, 100)" % (order_id, sku_id, int(time.time()) + 3600))
            lb.sql(self.sock, db, "UPDATE skus SET reserved = 3 WHERE id = %d" % sku_id)
            body = {"sku_id": sku_id, "qty": 2, "ship_to": {"name": "王芳", "phone": "13800000000", "address": "山西省长治市武乡县"}}

            s = lb.Server(lb.db_url(self.sock, db), extra_args=["--buyer-secret", lb.BUYER_SECRET])
            self.assertIn("applied migration 010_order_rows.sql", s.log_since_start())
            self.assertEqual(lb.sql(self.sock, db, "SHOW COLUMNS FROM orders LIKE 'unit_price_cents'"), [])
            self.assertIn("applied migration 011_order_merchant.sql", s.log_since_start())
            self.assertEqual(lb.sql(self.sock, db, "SHOW COLUMNS FROM orders LIKE 'merchant_id'"), [])
            status, _, shown = s.request("GET", "/v1/orders/%d" % order_id, token=lb.buyer_token(7))
            self.assertEqual((status, shown["qty"], shown["unit_price_cents"], shown["amount_cents"], shown["status"]),
                             (200, 3, 3980, 11940, "reserved"), shown)
            status, _, after = s.request("POST", "/v1/orders", body, token=lb.buyer_token(7))
            self.assertEqual(status, 201, after)
            self.assertEqual(lb.sql(self.sock, db, "SELECT status, updated_at IS NULL FROM orders WHERE id = %d" % after["id"]),
                             [("reserved", "1")])
            self.assertEqual(s.request("POST", "/v1/orders/%d/cancel" % after["id"], token=lb.buyer_token(7))[0], 200)
            status, _, shown = s.request("GET", "/v1/orders/%d" % after["id"], token=lb.buyer_token(7))
            self.assertEqual((status, shown["status"], shown["unit_price_cents"], shown["amount_cents"]),
                             (200, "cancelled", 3980, 7960), shown)
            self.assertEqual(lb.sql(self.sock, db, "SELECT updated_at >= created_at FROM orders WHERE id = %d" % after["id"]),
                             [("1",)])
            self.assertEqual(s.sku(sku_id)["reserved"], 3)
            # Migration 014 opened the older SKU's stock ledger with the stock it had, by nobody (livebuy itself).
            self.assertIn("applied migration 014_catalogue.sql", s.log_since_start())
            self.assertEqual(lb.sql(self.sock, db, "SELECT sku_id, kind, delta, stock_after, merchant_id IS NULL "
                                    "FROM stock_ledger"), [(str(sku_id), "opening", "100", "100", "1")])
            s.stop()
        finally:
            shutil.rmtree(older, ignore_errors=True)
            lb.drop_database(self.sock, db)

    def test_shipments_made_before_the_feed_places_keep_their_cursors(self):
        """Migration 008: shipments made before it take their ids as places in the feed, so a shipper's cursor (an id
        until then) stays good, and places go on above them."""
        db = lb.fresh_database(self.sock)
        older = self.migrations_before("008")
        try:
            code, out, err = lb.run_livebuyd(["--db", lb.db_url(self.sock, db), "--migrate-only", "--sql-dir", older])
            self.assertEqual(code, 0, err)
            outbox_row = ("INSERT INTO shipments (id, sku_id, payload, status, next_attempt_at, created_at) "
                          "VALUES (%d, 1, '{\"orders\":[],\"items\":[],\"cold_chain\":false,\"weight_grams\":0,\"service_level\":\"standard\"}', 'acked', 0, 1)")  # a document's fields
            for shipment_id in (3, 7):
                lb.sql(self.sock, db, outbox_row % shipment_id)
            s = lb.Server(lb.db_url(self.sock, db))
            self.assertIn("applied migration 008_shipment_feed.sql", s.log_since_start())
            _, shipper = s.create_merchant("shipper", "县乡村三级物流")
            feed = lambda after: s.request("GET", "/v1/shipments/feed?after=%d" % after, token=shipper)[2]
            page = feed(3)
            self.assertEqual(([x["shipment_id"] for x in page["shipments"]], page["next"]), ([7], 7))
            lb.sql(self.sock, db, outbox_row % 5)  # an id below the cursor, committed after the migration
            page = feed(7)
            self.assertEqual(([x["shipment_id"] for x in page["shipments"]], page["next"]), ([5], 8))
            s.stop()
        finally:
            shutil.rmtree(older, ignore_errors=True)
            lb.drop_database(self.sock, db)

    def test_migrate_only_on_an_empty_database(self):
        db = lb.fresh_database(self.sock)
        try:
            code, out, err = lb.run_livebuyd(["--db", lb.db_url(self.sock, db), "--migrate-only"])
            self.assertEqual(code, 0, err)
            n = len(self.migrations)
            self.assertIn("%d migration%s applied" % (n, "" if n == 1 else "s"), err + out)
            self.assertEqual(int(lb.sql_value(self.sock, db, "SELECT COUNT(*) FROM schema_migrations")), n)
            self.assertTrue(lb.sql(self.sock, db, "SHOW TABLES LIKE 'skus'"))
            code, out, err = lb.run_livebuyd(["--db", lb.db_url(self.sock, db), "--migrate-only"])
            self.assertEqual(code, 0, err)
            self.assertIn("0 migrations applied", err + out)
        finally:
            lb.drop_database(self.sock, db)

    def test_refuses_a_database_migrated_by_a_newer_build(self):
        """An older build (its sql/ ends before the database's last migration) stops at start, changing nothing."""
        db = lb.fresh_database(self.sock)
        older = self.migrations_before(self.migrations[-1])
        try:
            code, _, err = lb.run_livebuyd(["--db", lb.db_url(self.sock, db), "--migrate-only"])
            self.assertEqual(code, 0, err)
            rows = lb.sql(self.sock, db, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
            code, _, err = lb.run_livebuyd(["--listen", "127.0.0.1:%d" % lb.free_port(), "--db", lb.db_url(self.sock, db),
                                            "--admin-token", lb.ADMIN_TOKEN, "--sql-dir", older], timeout=30)
            self.assertEqual(code, 2, err)
            lines = err.strip().splitlines()
            self.assertEqual(len(lines), 1, err)
            self.assertIn("migrated by a newer livebuyd", lines[0])
            self.assertIn(self.migrations[-1], lines[0])
            self.assertIn(self.migrations[-2], lines[0])
            self.assertEqual(lb.sql(self.sock, db, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"),
                             rows)
        finally:
            shutil.rmtree(older)
            lb.drop_database(self.sock, db)

    def test_startup_refusals(self):
        db = lb.fresh_database(self.sock)
        good = ["--listen", "127.0.0.1:%d" % lb.free_port(), "--db", lb.db_url(self.sock, db),
                "--admin-token", lb.ADMIN_TOKEN]
        try:
            for what, args, mention in [
                ("--threads 0", ["--threads", "0"], "--threads"),
                ("--threads x", ["--threads", "x"], "--threads"),
                ("--db-pool 0", ["--db-pool", "0"], "--db-pool"),
                ("--max-body 10", ["--max-body", "10"], "--max-body"),
                ("short admin token", ["--admin-token", "short"], "--admin-token"),
                ("unknown option", ["--no-such-option"], "--no-such-option"),
                ("bad --listen", ["--listen", "nowhere"], "--listen"),
                ("bad --db scheme", ["--db", "postgres://root@localhost/x"], "--db"),
                ("--db without database", ["--db", "mysql://root@localhost/"], "--db"),
                ("--tls-cert without key", ["--tls-cert", "/nonexistent.pem"], "--tls"),
                ("unreachable database", ["--db", "mysql://root@localhost/%s?socket=/tmp/lb-no-such-dir/mysqld.sock" % db],
                 None),
                ("unknown database", ["--db", lb.db_url(self.sock, "lb_no_such_database_%d" % os.getpid())], None),
                ("unreachable TCP database", ["--db", "mysql://root@127.0.0.1:%d/x" % lb.free_port()], None),
            ]:
                with self.subTest(what):
                    started = time.monotonic()
                    code, out, err = lb.run_livebuyd(good + args, timeout=30)
                    self.assertEqual(code, 2, "%s: exit status; stderr %r" % (what, err))
                    lines = err.strip().splitlines()
                    self.assertEqual(len(lines), 1, "%s: expected a one-line reason, got %r" % (what, err))
                    self.assertTrue(lines[0].startswith("livebuyd:"), lines[0])
                    if mention:
                        self.assertIn(mention, lines[0])
                    self.assertLess(time.monotonic() - started, 15, what + ": took too long to refuse")
            # Nothing was created in the database by the refusals that reached it.
            self.assertEqual(lb.sql(self.sock, db, "SHOW TABLES"), [])
        finally:
            lb.drop_database(self.sock, db)


class OutageTest(unittest.TestCase):
    """/readyz and data requests while the database is down, and recovery without a restart of livebuyd."""

    def test_database_outage(self):
        with lb.PrivateMariaDB() as mdb:
            db = lb.fresh_database(mdb.socket)
            with lb.Server(lb.db_url(mdb.socket, db)) as s:
                _, token = s.create_merchant("coop")
                p = s.create_product(token)
                sku_id = p["skus"][0]["id"]
                try:
                    status, _, body = s.request("GET", "/readyz")
                except OSError as e:
                    self.fail("GET /readyz with the database up: %r (livebuyd running: %s)" % (e, s.running()))
                self.assertEqual(status, 200, body)
                self.assertEqual(body, {"status": "ready"})
                sku_before = s.sku(sku_id)

                mdb.stop()
                t0 = time.monotonic()
                for i in range(6):
                    for what, method, path, body, tok in [
                        ("readyz", "GET", "/readyz", None, None),
                        ("sku", "GET", "/v1/skus/%d" % sku_id, None, None),
                        ("restock", "POST", "/v1/skus/%d/restock" % sku_id, {"qty": 1}, token),
                        ("merchant", "POST", "/v1/merchants", {"name": "x", "kind": "coop"}, lb.ADMIN_TOKEN),
                    ]:
                        started = time.monotonic()
                        ans = s.request(method, path, body, token=tok, timeout=10)
                        took = time.monotonic() - started
                        self.assertEqual(ans[0], 503, "%s during the outage: %r" % (what, ans))
                        self.assertEqual(error_parts(ans[2])[0], "unavailable")
                        self.assertIn("retry-after", ans[1], what)
                        self.assertLess(took, 5.0, "%s took %.1f s during the outage" % (what, took))
                    status, _, body = s.request("GET", "/healthz", timeout=5)
                    self.assertEqual(status, 200, "/healthz during the outage")
                    # Bad input with a credential checked on the loop (the admin's) is still answered without the
                    # database; a merchant's token must be looked up before its input is judged (docs/api.md, the
                    # order of the checks), so that waits for the database like the request itself.
                    ans = s.request("POST", "/v1/merchants", raw=b"{", token=lb.ADMIN_TOKEN, timeout=5)
                    self.assertEqual(ans[0], 400)
                    ans = s.request("POST", "/v1/products", raw=b"{", token=token, timeout=5)
                    self.assertEqual(ans[0], 503)
                    time.sleep(0.3)
                self.assertTrue(s.running())
                s.metrics()

                mdb.start()
                back = time.monotonic()
                self.assertTrue(lb.wait_for(lambda: s.request("GET", "/readyz", timeout=5)[0] == 200, 12),
                                "/readyz did not turn 200 within 12 s of the database's return")
                self.assertLess(time.monotonic() - back, 12)
                self.assertTrue(lb.wait_for(lambda: s.request("GET", "/v1/skus/%d" % sku_id, timeout=5)[0] == 200, 5))
                # Every worker reconnects within its backoff (at most 2 s).
                time.sleep(2.5)
                for _ in range(12):
                    status, _, sku = s.request("GET", "/v1/skus/%d" % sku_id, timeout=5)
                    self.assertEqual(status, 200, sku)
                self.assertEqual(sku, sku_before, "nothing the 503s refused was applied")
                status, _, sku = s.request("POST", "/v1/skus/%d/restock" % sku_id, {"qty": 2}, token=token)
                self.assertEqual(status, 200, sku)
                self.assertEqual(sku["stock"], sku_before["stock"] + 2)
                self.assertEqual(s.request("GET", "/healthz")[0], 200)
                self.assertEqual(s.stop(), 0)


if __name__ == "__main__":
    lb.main()
