"""docs/openapi.yaml as a check on every answer the integration tests receive (lb.Server.request calls check()).

An answer fails the contract when its path and method are documented but its status is not, when its content type is
not one documented for that status, or when its body does not validate against the schema of that status and type
(Debian's python3-jsonschema, JSON Schema 2020-12 as OpenAPI 3.1 uses it). A path that matches no documented route must
be answered 404 (405 when it does with another method) with the API's error body; OPTIONS on a documented path (but the
photos') 204 with the documented methods (docs/openapi.yaml's rule for CORS). Paths outside the API (the web pages, /web/, /docs)
are not checked.

LIVEBUY_CONTRACT_REPORT=FILE collects the mismatches in FILE instead of failing (to see them all in one run).
"""

import os
import re
import threading

import jsonschema
import yaml

SOURCE_DIR = os.environ.get("LIVEBUY_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPEC_PATH = os.path.join(SOURCE_DIR, "docs", "openapi.yaml")
API_PREFIXES = ("/v1/", "/sandbox/", "/media/")
API_PATHS = ("/healthz", "/readyz", "/metrics")
# What a path parameter of each name looks like in the route table (an id: 1 to 2^63-1 without leading zeros).
PARAM_PATTERNS = {"id": r"[1-9][0-9]{0,18}", "image_id": r"[1-9][0-9]{0,18}"}


class ContractError(AssertionError):
    pass


class Contract:
    def __init__(self, path=SPEC_PATH):
        with open(path, encoding="utf-8") as f:
            self.spec = yaml.safe_load(f)
        self.resolver = jsonschema.RefResolver.from_schema(self.spec)
        self.routes = []
        for template, item in self.spec["paths"].items():
            regex = re.sub(r"\{([a-z_]+)\}", lambda m: "(?:%s)" % PARAM_PATTERNS.get(m.group(1), "[^/]+"), template)
            self.routes.append((re.compile("^" + regex + "$"), template, item))
        self._validators = {}
        self._lock = threading.Lock()

    def _deref(self, node):
        while isinstance(node, dict) and "$ref" in node and len(node) == 1:
            node = self.resolver.resolve(node["$ref"])[1]
        return node

    def _validate(self, schema, body):
        key = id(schema)
        with self._lock:
            validator = self._validators.get(key)
            if validator is None:
                validator = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
                self._validators[key] = validator
        # A field's own error before the unevaluatedProperties one that a failed allOf part brings along.
        errors = sorted(validator.iter_errors(body),
                        key=lambda e: (e.validator == "unevaluatedProperties", [str(p) for p in e.absolute_path]))
        if errors:
            e = errors[0]
            where = "/".join(str(p) for p in e.absolute_path) or "(the body)"
            return "%s: %s" % (where, e.message[:400])
        return None

    def problem(self, method, target, status, headers, body):
        """What is wrong with this answer by the contract, or None."""
        path = target.split("?", 1)[0]
        if not (path.startswith(API_PREFIXES) or path in API_PATHS):
            return None
        method = method.lower()
        found = [(template, item) for regex, template, item in self.routes if regex.match(path)]
        if not found:
            if status in (400, 404):
                return self._check_body("(no route)", "NotFound", self.spec["components"]["responses"]["NotFound"],
                                        method, headers, body)
            return "%s %s matches no documented path, yet answered %d (not 404)" % (method.upper(), path, status)
        template, item = found[0]
        if path.startswith("/sandbox/") and status == 404:
            return None  # without --payment-sandbox the sandbox's paths are no paths
        if method == "options" and not template.startswith("/media/"):
            return self._check_options(template, item, status, headers, body)
        operation = item.get("get" if method == "head" else method)
        if operation is None:
            if status == 405:
                why = self._check_allow(template, item, method, status, headers.get("allow"))
                if why is not None:
                    return why
            if status in (400, 405):
                # 405 method_not_allowed has the error body, as NotFound documents it
                return self._check_body(template, str(status), self.spec["components"]["responses"]["NotFound"], method,
                                        headers, body)
            return "%s %s: the method is not documented, yet answered %d (not 405)" % (method.upper(), template, status)
        responses = operation["responses"]
        response = responses.get(str(status))
        if response is None and status == 400 and "400" not in responses:
            response = self.spec["components"]["responses"]["Malformed"]  # a request refused before any route
        if response is None:
            return "%s %s answered %d, which is not documented (documented: %s)" % (
                method.upper(), template, status, ", ".join(sorted(responses)))
        return self._check_body(template, str(status), self._deref(response), method, headers, body)

    @staticmethod
    def _check_allow(template, item, method, status, allow):
        """Allow (of a 405 or an OPTIONS answer) names the documented methods, HEAD with GET, and OPTIONS but on the
        photos' paths (files, served by h2o's file handler behind the door: GET and HEAD only)."""
        documented = {m.upper() for m in item if m in ("get", "post", "patch", "put", "delete")}
        documented |= {"HEAD"} if "GET" in documented else set()
        documented |= set() if template.startswith("/media/") else {"OPTIONS"}
        got = {m.strip() for m in (allow or "").split(",") if m.strip()}
        if got != documented:
            return "%s %s %d: Allow %r is not the documented methods %s" % (
                method.upper(), template, status, allow, ", ".join(sorted(documented)))
        return None

    def _check_options(self, template, item, status, headers, body):
        """OPTIONS on a documented path, by the rule info.description states (CORS): 204 without a body, Allow as a
        405's; a preflight's Access-Control-Allow-Methods the same methods, its Access-Control-Allow-Origin the
        request's origin (not checked here: the request's headers are not known) and never *."""
        if status != 204:
            return "OPTIONS %s answered %d, not 204" % (template, status)
        if not (body is None or body == b"" or body == ""):
            return "OPTIONS %s 204: has a body" % template
        why = self._check_allow(template, item, "options", status, headers.get("allow"))
        if why is not None:
            return why
        methods = headers.get("access-control-allow-methods")
        if methods is not None and methods != headers.get("allow"):
            return "OPTIONS %s 204: Access-Control-Allow-Methods %r is not Allow %r" % (template, methods, headers.get("allow"))
        if headers.get("access-control-allow-origin") == "*":
            return "OPTIONS %s 204: Access-Control-Allow-Origin is *" % template
        return None

    def _check_body(self, template, status, response, method, headers, body):
        what = "%s %s %s" % (method.upper(), template, status)
        content = response.get("content")
        if method == "head":
            return None
        empty = body is None or body == b"" or body == ""
        if not content:
            return None if empty else "%s: documented without a body, yet has one" % what
        if empty and status in ("304",):
            return None
        media = (headers.get("content-type") or "").split(";")[0].strip().lower()
        if media == "application/x-msgpack":
            media = "application/msgpack"
        if media not in content:
            return "%s: Content-Type %r is not one documented (%s)" % (what, media, ", ".join(content))
        schema = content[media].get("schema")
        if schema is None:
            return None
        if media in ("application/json", "application/msgpack"):
            if isinstance(body, (bytes, bytearray)):
                return "%s: the body is not %s" % (what, media)
            why = self._validate(schema, body)
            return None if why is None else "%s: %s" % (what, why)
        return None

    def check(self, method, target, status, headers, body):
        why = self.problem(method, target, status, headers, body)
        if why is None:
            return
        report = os.environ.get("LIVEBUY_CONTRACT_REPORT")
        if report:
            with self._lock, open(report, "a", encoding="utf-8") as f:
                f.write("%s (request %s %s)\n" % (why, method, target[:200]))
            return
        raise ContractError("the answer does not match docs/openapi.yaml: %s (request %s %s)" % (why, method, target[:200]))


_contract = None


def contract():
    global _contract
    if _contract is None:
        _contract = Contract()
    return _contract
