"""The small doors (issue 18, item 6), over raw sockets: a head whose body framing is in doubt (duplicate or conflicting
Content-Length and Transfer-Encoding) is refused with the API's 400 and its connection closed, so the bytes after it are
never read as a second request; a NUL or %00 in a path is a 400 on the API and on the web pages alike; a page takes
only GET and HEAD, and a folder of them is not listed; and what h2o still answers itself, in plain text, is what docs/operations.md lists."""

import json
import socket
import time
import unittest

import lb

ADMIN = "Authorization: Bearer %s\r\n" % lb.ADMIN_TOKEN


def exchange(port, data, wait=2.0):
    """Sends data on a new connection and reads until the server closes it or wait seconds pass without a byte.
    Returns (the bytes read, whether the server closed the connection)."""
    c = socket.create_connection(("127.0.0.1", port))
    c.settimeout(wait)
    c.sendall(data)
    out = b""
    try:
        while True:
            chunk = c.recv(65536)
            if not chunk:
                return out, True
            out += chunk
    except socket.timeout:
        return out, False
    finally:
        c.close()


def answers(data):
    """The HTTP/1.1 answers in data, in order: a list of (status, headers with lower-case names, body)."""
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        out.append((int(lines[0].split()[1]), headers, rest[:length]))
        data = rest[length:]
    return out


def merchant_body(name):
    return json.dumps({"name": name, "kind": "coop"}).encode()


class DoorTest(lb.ServerTestCase):

    def merchants_named(self, name):
        return int(self.sql("SELECT COUNT(*) FROM merchants WHERE name = '%s'" % name)[0][0])

    def assertRefusal(self, got, status, code, closed, what):
        """got: what exchange() returned. Exactly one answer, the API's error body, and the connection as expected."""
        data, was_closed = got
        found = answers(data)
        self.assertEqual(len(found), 1, "%s: one answer and nothing read after it, got %r" % (what, data))
        got_status, headers, body = found[0]
        self.assertEqual(got_status, status, "%s: %r" % (what, data))
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), "%s: %r" % (what, headers))
        got_code, message = lb.error_parts(json.loads(body))
        self.assertEqual(got_code, code, "%s: %s" % (what, message))
        self.assertEqual(was_closed, closed, "%s: connection closed?" % what)
        if closed:
            self.assertEqual(headers.get("connection"), "close", what)
        return message

    def test_framing_in_doubt_is_refused_and_the_connection_closed(self):
        s = self.server
        second = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        cases = []
        for i, (framing, body) in enumerate([
                # two lengths: h2o 2.2.5 alone takes the first, a proxy that takes the last sees a second request
                ("Content-Length: %d\r\nContent-Length: %d\r\n", None),
                # the same length twice is refused too
                ("Content-Length: %d\r\nContent-Length: %d\r\n", "same"),
                ("content-length: %d\r\nCONTENT-LENGTH: %d\r\n", None),
                # h2o lets chunked win over Content-Length; a proxy that reads the length sees the rest as a request
                ("Content-Length: %d\r\nTransfer-Encoding: chunked\r\n", "chunked"),
                ("Transfer-Encoding: chunked\r\nContent-Length: %d\r\n", "chunked"),
                ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "chunked-only")]):
            name = "door-%d-%d" % (i, int(time.time() * 1000) % 100000)
            payload = merchant_body(name)
            if body == "chunked" or body == "chunked-only":
                sent = b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)
                head = framing % len(sent) if body == "chunked" else framing
                data = head.encode()
            else:
                other = len(payload) if body == "same" else len(payload) + len(second)
                data = (framing % (len(payload), other)).encode()
                sent = payload
            request = (b"POST /v1/merchants HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + ADMIN.encode() +
                       data + b"\r\n" + sent + second)
            cases.append((framing.strip().replace("\r\n", " + "), name, request))
        for what, name, request in cases:
            message = self.assertRefusal(exchange(s.port, request), 400, "bad_request", True, what)
            self.assertIn("in doubt", message, what)
            self.assertEqual(self.merchants_named(name), 0, "%s: the refused request changed nothing" % what)

    def test_a_body_of_too_many_values_is_refused_before_anything(self):
        """A body is decoded before a merchant's token is looked up (the refusal waits for that), and a value costs 40
        bytes against its one or two of input: a body of more than 4,096 values is malformed, JSON or msgpack."""
        _, coop = self.server.create_merchant("coop", "门口合作社")
        wide = b'{"a":[' + b",".join([b"0"] * 5000) + b"]}"
        packed = b"\x81\xa1a\xdd" + (200000).to_bytes(4, "big") + b"\x00" * 200000
        for body, media in ((wide, "application/json"), (packed, "application/msgpack")):
            status, _, answer = self.server.request("POST", "/v1/products", raw=body, token=coop,
                                                    headers={"Content-Type": media})
            self.assertEqual((status, lb.error_code(answer)), (400, "malformed"), media)
            self.assertIn("more than 4096 values", answer["error"]["message"])
        fits = b'{"a":[' + b",".join([b"0"] * 4000) + b"]}"
        status, _, answer = self.server.request("POST", "/v1/products", raw=fits, token=coop,
                                                headers={"Content-Type": "application/json"})
        self.assertEqual((status, lb.error_code(answer)), (422, "invalid"), answer)  # decoded: no title

    def test_one_length_still_keeps_the_connection(self):
        """The control: the same request with one Content-Length is taken, and the next one on the connection too."""
        name = "door-ok-%d" % (int(time.time() * 1000) % 100000)
        payload = merchant_body(name)
        request = (b"POST /v1/merchants HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + ADMIN.encode() +
                   b"Content-Length: %d\r\n\r\n" % len(payload) + payload + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data, closed = exchange(self.server.port, request, wait=1.0)
        found = answers(data)
        self.assertEqual([a[0] for a in found], [201, 200], data)
        self.assertFalse(closed)
        self.assertEqual(self.merchants_named(name), 1)

    def test_nul_in_a_path_is_refused_everywhere(self):
        s = self.server
        for path in ["/web/shop.html%00.js", "/web/shop.html%00", "/web/%00/../shop.html", "/shop/1%00.js", "/coop%00",
                     "/v1/skus/1%00", "/v1/orders%00", "/healthz%00", "/%00"]:
            got = exchange(s.port, b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode(), wait=0.5)
            message = self.assertRefusal(got, 400, "bad_request", False, path)
            self.assertIn("NUL", message, path)
        # In a query a %00 is a value's business: it is never decoded into a path
        _, token = s.create_merchant()
        status, _, body = s.request("GET", "/v1/merchant/orders?limit=%00", token=token)
        self.assertEqual(status, 422, body)
        self.assertIn("limit", lb.error_parts(body)[1])
        # HTTP/2 too (curl keeps the path as given)
        out = lb.curl("--http2-prior-knowledge", "--path-as-is", "-w", "\n%{http_version} %{http_code}",
                      s.base_url + "/web/shop.html%00.js")
        body, _, tail = out.stdout.rpartition("\n")
        self.assertEqual(tail, "2 400", out.stdout)
        self.assertEqual(lb.error_code(json.loads(body)), "bad_request")
        # The page itself is still served, as text/html
        status, headers, _ = s.request("GET", "/web/shop.html")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/html"), headers)

    def test_pages_take_only_get_and_head(self):
        s = self.server
        for method, path in [("POST", "/web/shop.html"), ("DELETE", "/coop"), ("PUT", "/shop/1"), ("POST", "/group/1")]:
            got = exchange(s.port, b"%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" % (method.encode(), path.encode()),
                           wait=0.5)
            self.assertRefusal(got, 405, "method_not_allowed", False, "%s %s" % (method, path))
            self.assertEqual(answers(got[0])[0][1].get("allow"), "GET, HEAD", "%s %s" % (method, path))
        status, _, _ = s.request("HEAD", "/coop")
        self.assertEqual(status, 200)

    def test_a_folder_is_not_listed(self):
        """h2o's file handler answers a folder with a plain-text 403; the door answers the API's 404."""
        s = self.server
        for path in ["/web/", "/web//", "/web/../web/"]:
            got = exchange(s.port, b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode(), wait=0.5)
            self.assertRefusal(got, 404, "not_found", False, path)
        status, _, _ = s.request("GET", "/web/style.css")
        self.assertEqual(status, 200)

    def test_what_h2o_answers_itself(self):
        """docs/operations.md lists these: h2o answers them before livebuy sees the request, in plain text, and closes."""
        s = self.server
        for what, request, status in [
                ("a NUL byte in the request line", b"GET /web/shop.html\x00.js HTTP/1.1\r\nHost: x\r\n\r\n", 400),
                ("not HTTP", b"HELLO\r\n\r\n", 400),
                ("a Transfer-Encoding other than chunked", b"POST /v1/merchants HTTP/1.1\r\nHost: x\r\n"
                 b"Transfer-Encoding: gzip, chunked\r\n\r\n", 400),
                ("a Content-Length that is not a number", b"POST /v1/merchants HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Length: 2, 2\r\n\r\n{}", 400),
                ("broken chunks", b"POST /v1/merchants HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
                ("an unknown Expect", b"POST /v1/merchants HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n{}",
                 417),
                ("a body past --max-body + 1 MiB", b"POST /v1/merchants HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
                 413)]:
            data, closed = exchange(s.port, request, wait=2.0)
            found = answers(data)
            self.assertEqual(len(found), 1, "%s: %r" % (what, data))
            self.assertEqual(found[0][0], status, "%s: %r" % (what, data))
            self.assertTrue(found[0][1].get("content-type", "").startswith("text/plain"), "%s: %r" % (what, data))
            self.assertTrue(closed, what)


if __name__ == "__main__":
    lb.main()
