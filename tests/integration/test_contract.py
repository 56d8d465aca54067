"""docs/openapi.yaml itself: it documents every route of handlers/routes.c and nothing else, the contract check of lb.py
fails on answers that do not match it, the reference page's YAML reader (web/yaml.js) reads it as PyYAML does, and
/docs serves the page and the file."""

import json
import os
import re
import shutil
import subprocess
import unittest

import yaml

import contract
import lb

ROUTES_C = os.path.join(lb.SOURCE_DIR, "handlers", "routes.c")


class Document(unittest.TestCase):
    def setUp(self):
        self.c = contract.contract()

    def test_every_route_is_documented_and_nothing_else(self):
        with open(ROUTES_C, encoding="utf-8") as f:
            routes = set(re.findall(r'\{"([A-Z]+)", "([^"]+)", lb_handle_', f.read()))
        self.assertGreater(len(routes), 50)
        documented = set()
        for path, item in self.c.spec["paths"].items():
            if path.startswith("/media/"):
                continue  # served by server/http/media.c, not the route table
            for method in ("get", "post", "patch", "put", "delete"):
                if method in item:
                    documented.add((method.upper(), path))
        self.assertEqual(sorted(routes - documented), [], "routes missing from docs/openapi.yaml")
        self.assertEqual(sorted(documented - routes), [], "documented routes that livebuyd does not serve")

    def test_every_operation_documents_its_errors_with_the_error_body(self):
        for path, item in self.c.spec["paths"].items():
            for method, op in item.items():
                if method == "parameters":
                    continue
                self.assertIn("operationId", op, "%s %s" % (method, path))
                for status, response in op["responses"].items():
                    if int(status) < 400 or path == "/v1/payments/wechatpay/notify":
                        continue
                    response = self.c._deref(response)
                    self.assertIn("application/json", response["content"], "%s %s %s" % (method, path, status))

    def test_the_check_fails_on_answers_that_do_not_match(self):
        """The negative controls: a missing field, a field of the wrong type, an undocumented status, an unknown error
        code, an undocumented content type, an unknown path answered 200."""
        json_type = {"content-type": "application/json"}
        sku = {"id": 1, "product_id": 1, "name": "2.5kg 袋装", "price_cents": 3980, "weight_grams": 2600, "stock": 500,
               "reserved": 0, "sold": 0, "held": 0, "available": 500, "retired": False, "photo_url": None}
        self.assertIsNone(self.c.problem("GET", "/v1/skus/1", 200, json_type, sku))
        self.assertIsNone(self.c.problem("HEAD", "/v1/skus/1", 200, json_type, b""))
        self.assertIsNone(self.c.problem("OPTIONS", "/v1/skus/1", 204, {"allow": "GET, HEAD, PATCH, OPTIONS"}, b""))
        wrong = [
            ("GET", "/v1/skus/1", 200, json_type, {k: v for k, v in sku.items() if k != "stock"}, "'stock' is a required"),
            ("GET", "/v1/skus/1", 200, json_type, dict(sku, stock="500"), "is not of type 'integer'"),
            ("GET", "/v1/skus/1", 200, json_type, dict(sku, extra=1), "extra"),
            ("GET", "/v1/skus/1", 418, json_type, sku, "not documented"),
            ("GET", "/v1/skus/1", 404, json_type, {"error": {"code": "gone", "message": "x"}}, "'gone' is not one of"),
            ("GET", "/v1/skus/1", 200, {"content-type": "text/html"}, b"<p>", "Content-Type 'text/html'"),
            ("GET", "/v1/nothing", 200, json_type, {}, "matches no documented path"),
            ("DELETE", "/v1/skus/1", 200, json_type, {}, "not 405"),
            ("DELETE", "/v1/skus/1", 405, dict(json_type, allow="GET, HEAD, PATCH"),
             {"error": {"code": "method_not_allowed", "message": "x"}}, "is not the documented methods"),
            # OPTIONS by the spec's CORS rule: 204, no body, Allow as a 405's, never *
            ("OPTIONS", "/v1/skus/1", 200, {"allow": "GET, HEAD, PATCH, OPTIONS"}, b"", "not 204"),
            ("OPTIONS", "/v1/skus/1", 204, {"allow": "GET, HEAD, PATCH"}, b"", "is not the documented methods"),
            ("OPTIONS", "/v1/skus/1", 204, {"allow": "GET, HEAD, PATCH, OPTIONS", "access-control-allow-methods": "GET"},
             b"", "is not Allow"),
            ("OPTIONS", "/v1/skus/1", 204, {"allow": "GET, HEAD, PATCH, OPTIONS", "access-control-allow-origin": "*"}, b"",
             "is *"),
        ]
        for method, path, status, headers, body, words in wrong:
            why = self.c.problem(method, path, status, headers, body)
            self.assertIsNotNone(why, "%s %s %d %r passed" % (method, path, status, body))
            self.assertIn(words, why)
        with self.assertRaises(contract.ContractError):
            env = os.environ.pop("LIVEBUY_CONTRACT_REPORT", None)
            try:
                self.c.check("GET", "/v1/skus/1", 418, json_type, sku)
            finally:
                if env is not None:
                    os.environ["LIVEBUY_CONTRACT_REPORT"] = env

    def test_the_page_reads_the_yaml_as_pyyaml_does(self):
        node = os.environ.get("LIVEBUY_NODE") or shutil.which("node")
        if not node:
            self.fail("node is not installed (scripts/test.sh installs it)")
        script = ("const Y = require(process.argv[1]); const fs = require('fs');"
                  "process.stdout.write(JSON.stringify(Y.parse(fs.readFileSync(process.argv[2], 'utf8')),"
                   " (k, v) => typeof v === 'bigint' ? 'BIGINT:' + v : v));")
        proc = subprocess.run([node, "-e", script, os.path.join(lb.SOURCE_DIR, "web", "yaml.js"), contract.SPEC_PATH],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # integers past 2^53 come as BigInt: written as strings, put back as JSON numbers
        self.assertEqual(json.loads(re.sub(r'"BIGINT:(-?[0-9]+)"', r"\1", proc.stdout)), self.c.spec)
        # and it refuses what it does not know rather than misread it
        proc = subprocess.run([node, "-e", "require(process.argv[1]).parse('a: &x 1\\nb: *x\\n')",
                               os.path.join(lb.SOURCE_DIR, "web", "yaml.js")], stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("anchors", proc.stderr)


class Manners(lb.ServerTestCase):
    def test_405_names_the_methods_a_path_takes(self):
        for method, path, allow in [("DELETE", "/v1/orders", "POST, GET, HEAD, OPTIONS"),
                                    ("PUT", "/v1/skus/1", "GET, HEAD, PATCH, OPTIONS"), ("GET", "/v1/merchants", "POST, OPTIONS"),
                                    ("POST", "/healthz", "GET, HEAD, OPTIONS")]:
            answer = self.server.request(method, path)  # the contract check holds Allow to docs/openapi.yaml
            self.assertError(answer, 405, "method_not_allowed", allow, what="%s %s" % (method, path))
            self.assertEqual(answer[1]["allow"], allow)

    def test_unknown_query_parameters_are_400_naming_them(self):
        """A parameter a route does not read, or one given twice, is refused rather than ignored (a filter taken for
        applied when it was not); the contract check holds each answer to the spec."""
        buyer = lb.buyer_token(4242)
        for path, token, name in [("/v1/orders?live_id=1", buyer, "live_id"), ("/v1/orders?status=paid&status=reserved", buyer,
                                  "status"), ("/v1/orders?limit=5&Limit=6", buyer, "Limit"), ("/v1/skus/1?fields=id", None,
                                  "fields"), ("/healthz?verbose", None, "verbose"), ("/v1/orders?status=lost", buyer, "status")]:
            self.assertError(self.server.request("GET", path, token=token), 400, "invalid_query", name, what=path)
        self.assertEqual(self.server.request("GET", "/v1/orders?status=paid&limit=5&", token=buyer)[0], 200)
        self.assertEqual(self.server.request("GET", "/healthz?")[0], 200)

    def test_the_route_table_reads_the_documented_query_parameters(self):
        with open(ROUTES_C, encoding="utf-8") as f:
            table = re.findall(r'\{"([A-Z]+)", "([^"]+)", lb_handle_[a-z0-9_]+, [^,]+, [^,]+, (NULL|"[a-z_,]*")\}', f.read())
        self.assertGreater(len(table), 50)
        spec = contract.contract()
        for method, path, names in table:
            item = spec.spec["paths"][path]
            params = [spec._deref(p) for p in item.get("parameters", []) + item[method.lower()].get("parameters", [])]
            documented = sorted(p["name"] for p in params if p["in"] == "query")
            read = sorted(names.strip('"').split(",")) if names != "NULL" else []
            self.assertEqual(read, documented, "%s %s" % (method, path))

    def test_authentication_comes_before_the_input(self):
        """On every route for an admin, a buyer or a merchant, a wrong token gets 401 whatever is wrong with the body
        or the query (an empty body, a broken one, another media type, an unknown parameter); with a good token the
        same input gets its own answer."""
        with open(ROUTES_C, encoding="utf-8") as f:
            table = re.findall(r'\{"([A-Z]+)", "([^"]+)", lb_handle_[a-z0-9_]+, ([^,]+), ', f.read())
        checked = 0
        for method, pattern, flags in table:
            if not re.search(r"LB_ROUTE_(ADMIN|BUYER|MERCHANT)", flags) or "LB_ROUTE_SANDBOX" in flags:
                continue
            path = pattern.replace("{id}", "1").replace("{image_id}", "1")
            faults = [("?bogus=1", None, None)]
            if method != "GET":
                faults += [("", b"", "application/json"), ("", b"{", "application/json"), ("", b"x", "text/plain")]
            for query, raw, media in faults:
                headers = {"Content-Type": media} if media else None
                answer = self.server.request(method, path + query, token="wrong-token-0123456789", raw=raw, headers=headers)
                self.assertError(answer, 401, "unauthorized", what="%s %s%s %r %s" % (method, path, query, raw, media))
            checked += 1
        self.assertGreater(checked, 40)
        # the case, and the same faults with good tokens
        _, coop = self.server.create_merchant("coop")
        self.assertError(self.server.request("POST", "/v1/products", raw=b"", token="wrong-token-0123456789"), 401,
                         "unauthorized")
        self.assertError(self.server.request("POST", "/v1/products", raw=b"{", token=coop), 400, "malformed")
        self.assertError(self.server.request("POST", "/v1/products", body={}, token=coop), 422, "invalid", "title")
        self.assertError(self.server.request("GET", "/v1/merchant/skus?bogus=1", token=coop), 400, "invalid_query", "bogus")
        self.assertError(self.server.request("GET", "/v1/orders?bogus=1", token=lb.buyer_token(7)), 400, "invalid_query")
        self.assertError(self.server.request("POST", "/v1/merchants", raw=b"{", token=lb.ADMIN_TOKEN), 400, "malformed")
        self.assertError(self.server.request("POST", "/v1/merchants", raw=b"{"), 401, "unauthorized")

    def test_version(self):
        code, out, err = lb.run_livebuyd(["--version"])
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"^livebuyd [0-9]+\.[0-9]+\.[0-9]+ \(h2o 2\.2\.5, libuv [0-9.]+, MariaDB Connector/C [0-9.]+\)\n$")


class Served(lb.ServerTestCase):
    def test_docs_serves_the_page_and_the_document(self):
        status, headers, body = self.server.request("GET", "/docs")
        self.assertEqual(status, 200)
        self.assertIn("text/html", headers["content-type"])
        self.assertIn(b"/web/docs.js", body)
        status, headers, body = self.server.request("GET", "/web/openapi.yaml")
        self.assertEqual(status, 200)
        self.assertIn("yaml", headers["content-type"])
        self.assertEqual(yaml.safe_load(body.decode("utf-8")), contract.contract().spec)
        for script in ("/web/docs.js", "/web/yaml.js"):
            self.assertEqual(self.server.request("GET", script)[0], 200, script)


if __name__ == "__main__":
    lb.main()
