"""The public edge (scripts/edge.sh, edge/haproxy.cfg: HAProxy 2.6) in front of a real livebuyd and MariaDB, attacked
as in issue #18, over real TLS from loopback addresses of their own (127.0.0.2 honest, 127.0.0.3 and up hostile):

- HPACK amplification: the edge refuses a header block of 400,000 references to a 4 KB entry (its decoded head
  passes tune.bufsize and tune.http.maxhdr) and closes the connection; livebuyd never sees it.
- Rapid Reset: orders reset as they are sent: the edge waits for a whole request before it passes it on and drops
  a stream reset before that, so livebuyd never sees them and reserves nothing.
- Slowloris through the edge: a head a byte at a time is answered 408 and closed after 10 s.
- The per-address request rate: past it 429 with the API's JSON error, for that address alone.
- The health checks of /readyz see livebuyd; honest clients are served through the edge all along.

No timing assertions: deadlines waited for are several times the time-outs."""

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid

import lb

sys.path.insert(0, os.path.join(lb.SOURCE_DIR, "loadtest"))
import floods  # noqa: E402  (loadtest/floods.py: the raw HTTP/2 frames of the floods)

EDGE_SH = os.path.join(lb.SOURCE_DIR, "scripts", "edge.sh")
SHIP_TO = {"name": "孙七", "phone": "13500000000", "address": "山西省长治市黎城县"}


class EdgeTest(lb.ServerTestCase):
    server_args = lb.ServerTestCase.server_args + ["--threads", "1"]
    req_rate = 300  # per address in 10 s: low, so that the test reaches it

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.edge_dir = tempfile.mkdtemp(prefix="lbedge-", dir="/tmp")
        cls.edge_port = lb.free_port()
        env = dict(os.environ, LIVEBUY_EDGE_LISTEN="127.0.0.1:%d" % cls.edge_port,
                   LIVEBUY_EDGE_REQ_RATE=str(cls.req_rate), LIVEBUY_EDGE_MAXCONN="2000")
        proc = subprocess.run(["bash", EDGE_SH, "start", cls.edge_dir, "--backend", "127.0.0.1:%d" % cls.server.port],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError("scripts/edge.sh start failed:\n" + proc.stdout)
        cls.url = "https://127.0.0.1:%d" % cls.edge_port
        coop = cls.server.create_merchant("coop", "黎城县小米合作社")[1]
        skus = [{"name": "黎城小米 2.5kg", "price_cents": 3980, "stock": 1000000, "weight_grams": 2600}]
        cls.sku_id = cls.server.create_product(coop, skus, title="黎城小米")["skus"][0]["id"]

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["bash", EDGE_SH, "stop", cls.edge_dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60)
        shutil.rmtree(cls.edge_dir, ignore_errors=True)
        super().tearDownClass()

    def edge_request(self, method, path, body=None, headers=None, source="127.0.0.2"):
        conn = http.client.HTTPSConnection("127.0.0.1", self.edge_port, timeout=15, source_address=(source, 0),
                                           context=ssl._create_unverified_context())
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, lb.decode_body(
                resp.getheader("Content-Type", ""), resp.read())
        finally:
            conn.close()

    def honest_order(self, buyer, source="127.0.0.2"):
        body = json.dumps({"sku_id": self.sku_id, "qty": 1, "ship_to": SHIP_TO}).encode()
        return self.edge_request("POST", "/v1/orders", body, {
            "Authorization": "Bearer " + lb.buyer_token(buyer), "Idempotency-Key": uuid.uuid4().hex,
            "Content-Type": "application/json"}, source)

    def served(self, buyer, source="127.0.0.2"):
        status, headers, body = self.edge_request("GET", "/healthz", source=source)
        self.assertEqual(status, 200, body)
        status, headers, body = self.honest_order(buyer, source)
        self.assertEqual(status, 201, body)

    def metric(self, name):
        return lb.metric(self.server.metrics(), name)

    def reserved(self):
        return int(lb.sql_value(self.sock, self.dbname, "SELECT reserved FROM skus WHERE id = %d" % self.sku_id))

    def test_health_checks_and_tls(self):
        status, _, body = self.edge_request("GET", "/readyz")
        self.assertEqual((status, body), (200, {"status": "ready"}))
        proc = subprocess.run(["bash", EDGE_SH, "status", self.edge_dir], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertIn("UP", proc.stdout, "the health check of /readyz sees livebuyd")
        ctx = ssl._create_unverified_context()
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        with socket.create_connection(("127.0.0.1", self.edge_port)) as raw:
            with ctx.wrap_socket(raw) as tls:
                self.assertEqual(tls.selected_alpn_protocol(), "h2")
                self.assertIn(tls.version(), ("TLSv1.2", "TLSv1.3"))
        self.served(790001)
        print("edge: TLS with ALPN h2, /readyz checked by HAProxy (%s), an order through it"
              % proc.stdout.strip().splitlines()[-1].strip())

    def test_hpack_amplification_refused(self):
        healthz_before = self.metric('livebuy_http_requests_total{route="/healthz",code="200"}')
        counts = {}
        conn = floods.FloodConnection(self.url, "127.0.0.3", counts)
        requests = floods.hpack_requests(conn, 400000, "127.0.0.1:%d" % self.edge_port)
        conn.send(next(requests)[0])
        sent = 0
        while sent < 3 and not conn.closed:
            conn.send(next(requests)[0])
            sent += 1
        lb.wait_for(lambda: conn.closed, 30)
        conn.close()
        self.assertTrue(conn.closed, "the edge closes the connection")
        self.assertLessEqual(counts.get("status 200", 0), 1, "only the request that made the entry is answered: %r"
                             % counts)
        after = self.metric('livebuy_http_requests_total{route="/healthz",code="200"}')
        self.assertLessEqual(after - healthz_before, 1, "no amplified request reached livebuyd")
        self.served(790002)
        print("edge: hpack amplification (400,000 references to a 4 KB entry, %d written before the close): the edge "
              "closed the connection (%s); livebuyd saw %d of them; honest clients served" % (
                  sent, ", ".join("%s x%d" % kv for kv in sorted(counts.items())), after - healthz_before - 1))

    def test_rapid_reset_refused(self):
        reserved_before = self.reserved()
        decided_before = self.metric("livebuy_batch_requests_total")
        dropped_before = self.metric("livebuy_orders_dropped_total")
        counts = {}
        conn = floods.FloodConnection(self.url, "127.0.0.4", counts)
        tokens = [lb.buyer_token(791000 + i) for i in range(10)]
        batches = floods.reset_requests(conn, tokens, self.sku_id, "127.0.0.1:%d" % self.edge_port, 50, 0)
        sent = 0
        while sent < 5000 and not conn.closed:
            data, window = next(batches)
            conn.send(data, window)
            sent += 50
        time.sleep(2)
        conn.close()
        reached = (self.metric("livebuy_batch_requests_total") - decided_before
                   + self.metric("livebuy_orders_dropped_total") - dropped_before)
        self.assertLessEqual(reached, 100, "a reset order is dropped at the edge, before livebuyd")
        self.assertEqual(self.reserved(), reserved_before + int(self.metric("livebuy_batch_requests_total")
                                                                - decided_before))
        self.served(790003)
        print("edge: rapid reset, %d orders written and reset on one connection (the edge said: %s): %d reached "
              "livebuyd; honest clients served" % (sent, ", ".join("%s x%d" % kv for kv in sorted(counts.items()))
                                                   or "nothing", reached))

    def test_slowloris_answered_408(self):
        ctx = ssl._create_unverified_context()
        raw = socket.create_connection(("127.0.0.1", self.edge_port), timeout=30, source_address=("127.0.0.5", 0))
        tls = ctx.wrap_socket(raw)
        started = time.monotonic()
        answer = b""
        tls.settimeout(0.5)
        for byte in b"GET /healthz HTTP/1.1\r\nHost: livebuy\r\n" + b"X-Slow: a\r\n" * 10:
            try:
                tls.sendall(bytes([byte]))
                chunk = tls.recv(4096)
                if not chunk:
                    break
                answer += chunk
            except socket.timeout:
                continue
            except OSError:
                break
            if time.monotonic() - started > 40:
                break
        tls.settimeout(10)
        try:
            while chunk := tls.recv(4096):
                answer += chunk
        except OSError:
            pass
        elapsed = time.monotonic() - started
        tls.close()
        # HAProxy 2.6 answers this 408 with its own HTML page (docs/edge.md), and closes the connection.
        self.assertTrue(answer.startswith(b"HTTP/1.1 408"), answer[:200])
        self.assertLess(elapsed, 30, "cut by the 10 s head time-out, not by the client's giving up")
        self.served(790004)
        print("edge: slowloris, a head a byte every 0.5 s: answered 408 and closed by the edge after %.1f s" % elapsed)

    def test_request_rate_per_address(self):
        statuses = []
        conn = http.client.HTTPSConnection("127.0.0.1", self.edge_port, timeout=15, source_address=("127.0.0.6", 0),
                                           context=ssl._create_unverified_context())
        for _ in range(self.req_rate + 20):  # on one kept-alive connection: the connection rate is another limit
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            headers = {k.lower(): v for k, v in resp.getheaders()}
            body = lb.decode_body(headers.get("content-type", ""), resp.read())
            statuses.append(resp.status)
            if resp.status == 429:
                break
        conn.close()
        self.assertEqual(statuses[-1], 429, "past %d requests in 10 s the address is refused" % self.req_rate)
        self.assertEqual(lb.error_parts(body)[0], "busy")
        self.assertEqual(headers.get("retry-after"), "1")
        self.served(790005, source="127.0.0.7")
        print("edge: the request rate of one address: 429 busy after %d requests; another address served"
              % (len(statuses) - 1))


if __name__ == "__main__":
    lb.main()
