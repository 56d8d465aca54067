"""What livebuyd alone does with the slow and heavy clients of issue #18 (the edge in front: test_edge.py), over real
HTTP against a real livebuyd and MariaDB:

- Slowloris: HTTP/1.1 heads sent a byte at a time; slow POST: a whole head, then the body a byte at a time. h2o's
  10 s request time-out closes them, and honest clients are answered all along.
- Zero window: HTTP/2 connections whose streams ask for /metrics and never open their window hold answers that
  cannot be sent; honest clients are answered while they hold and after they go. (What they cost in memory is
  loadtest/zero-window.py's to measure, not this test's.)
- HPACK amplification: a 4 KB header-table entry referred to 400,000 times in one request (400 KB of CONTINUATION).
  h2o 2.2.5 decodes it (livebuyd's CPU per such request is printed): the process stays up and honest clients are
  answered after it; the edge is what refuses it (test_edge.py).

No timing assertions: the deadlines waited for are several times the time-outs."""

import http.client
import os
import socket
import sys
import threading
import time
import uuid

import h2.config
import h2.connection
import h2.settings

import lb

sys.path.insert(0, os.path.join(lb.SOURCE_DIR, "loadtest"))
import floods  # noqa: E402  (loadtest/floods.py: the raw HTTP/2 frames of the floods)

SHIP_TO = {"name": "赵六", "phone": "13600000000", "address": "山西省长治市襄垣县"}


class Honest:
    """An honest client in a thread: GET /healthz and an order, in turn, until stopped; counts what it got."""

    def __init__(self, server, sku_id):
        self.server, self.sku_id = server, sku_id
        self.answers, self.failures = 0, []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        n = 0
        while not self.stopping.is_set():
            n += 1
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
            try:
                if n % 2:
                    conn.request("GET", "/healthz")
                    want = 200
                else:
                    body = '{"sku_id":%d,"qty":1,"ship_to":{"name":"赵六","phone":"13600000000","address":"襄垣县"}}' % self.sku_id
                    conn.request("POST", "/v1/orders", body=body.encode(), headers={
                        "Authorization": "Bearer " + lb.buyer_token(760000 + n), "Idempotency-Key": uuid.uuid4().hex,
                        "Content-Type": "application/json"})
                    want = 201
                status = conn.getresponse().status
                if status == want:
                    self.answers += 1
                else:
                    self.failures.append(status)
            except (OSError, http.client.HTTPException) as e:
                self.failures.append(type(e).__name__)
            finally:
                conn.close()
            time.sleep(0.1)

    def stop(self):
        self.stopping.set()
        self.thread.join()
        return self.answers, self.failures


class SlowClientsTest(lb.ServerTestCase):
    server_args = lb.ServerTestCase.server_args + ["--threads", "1"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        coop = cls.server.create_merchant("coop", "襄垣县核桃合作社")[1]
        skus = [{"name": "襄垣核桃 1kg", "price_cents": 4580, "stock": 1000000, "weight_grams": 1050}]
        cls.sku_id = cls.server.create_product(coop, skus, title="襄垣核桃")["skus"][0]["id"]

    def dribble(self, connections, head, body=b""):
        """Opens connections that send head whole (when body is given) or a byte at a time, then body a byte at a time,
        a byte every 0.5 s each; returns the seconds after which the server closed each (None: still open at 40 s)."""
        socks = [socket.create_connection(("127.0.0.1", self.server.port), timeout=10) for _ in range(connections)]
        data = head + body if not body else body
        if body:
            for s in socks:
                s.sendall(head)
        for s in socks:
            s.setblocking(False)
        started = time.monotonic()
        closed = [None] * connections
        sent = 0
        while time.monotonic() - started < 40 and None in closed:
            for i, s in enumerate(socks):
                if closed[i] is not None:
                    continue
                try:
                    if s.recv(4096) == b"":
                        closed[i] = time.monotonic() - started
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    closed[i] = time.monotonic() - started
                    continue
                try:
                    if sent < len(data):
                        s.send(data[sent:sent + 1])
                except OSError:
                    closed[i] = time.monotonic() - started
            sent += 1
            time.sleep(0.5)
        for s in socks:
            s.close()
        return closed, sent

    def test_slowloris(self):
        honest = Honest(self.server, self.sku_id)
        head = b"GET /healthz HTTP/1.1\r\nHost: livebuy\r\n" + b"X-Slow: a\r\n" * 200 + b"\r\n"
        closed, sent = self.dribble(20, head)
        answers, failures = honest.stop()
        self.assertNotIn(None, closed, "every slow head is cut by the server")
        self.assertEqual(failures, [], "honest clients are answered all along")
        self.assertGreater(answers, 20)
        print("slowloris: 20 HTTP/1.1 heads a byte every 0.5 s were closed by the server after %.1f-%.1f s (%d bytes "
              "each at most); %d honest requests answered meanwhile, none failed" % (min(closed), max(closed), sent,
                                                                                   answers))

    def test_slow_post(self):
        honest = Honest(self.server, self.sku_id)
        head = (b"POST /v1/orders HTTP/1.1\r\nHost: livebuy\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + lb.buyer_token(761000).encode() + b"\r\nContent-Length: 5000\r\n\r\n")
        closed, sent = self.dribble(20, head, b"{" + b" " * 4999)
        answers, failures = honest.stop()
        self.assertNotIn(None, closed, "every slow body is cut by the server")
        self.assertEqual(failures, [])
        self.assertGreater(answers, 20)
        reserved = int(lb.sql_value(self.sock, self.dbname, "SELECT COUNT(*) FROM orders WHERE buyer_id = 761000"))
        self.assertEqual(reserved, 0, "a body that never arrived ordered nothing")
        print("slow POST: 20 order bodies a byte every 0.5 s were closed by the server after %.1f-%.1f s; %d honest "
              "requests answered meanwhile, none failed" % (min(closed), max(closed), answers))

    def test_zero_window(self):
        honest = Honest(self.server, self.sku_id)
        socks = []
        for _ in range(10):
            s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
            c = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
            c.local_settings = h2.settings.Settings(client=True, initial_values={
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0, h2.settings.SettingCodes.ENABLE_PUSH: 0})
            c.initiate_connection()
            for _ in range(100):
                c.send_headers(c.get_next_available_stream_id(), [(":method", "GET"), (":path", "/metrics"),
                                                                  (":scheme", "http"), (":authority", "livebuy")],
                               end_stream=True)
            s.sendall(c.data_to_send())
            socks.append(s)
        time.sleep(3)
        during = honest.answers
        held = lb.metric(self.server.metrics(), "livebuy_http_connections_open")
        for s in socks:
            s.close()
        time.sleep(1)
        answers, failures = honest.stop()
        self.assertEqual(failures, [], "honest clients are answered while the windows stay shut")
        self.assertGreater(during, 5)
        self.assertGreaterEqual(held, 10, "the zero-window connections were held open, not refused")
        status, _, _ = self.server.request("GET", "/healthz")
        self.assertEqual(status, 200)
        print("zero window: 10 HTTP/2 connections x 100 streams of /metrics with a window of 0 held for 3 s; %d honest "
              "requests answered while they held, %d in all, none failed" % (during, answers))

    def test_hpack_amplification(self):
        pid = self.server.proc.pid
        honest = Honest(self.server, self.sku_id)
        counts = {}
        conn = floods.FloodConnection("http://127.0.0.1:%d" % self.server.port, "127.0.0.1", counts)
        requests = floods.hpack_requests(conn, 400000, "127.0.0.1")
        conn.send(next(requests)[0])  # the request that puts the 4 KB entry in the table
        before = floods.cpu_seconds(pid)
        sent = 0
        for _ in range(3):
            if not conn.send(next(requests)[0]):
                break
            sent += 1
        lb.wait_for(lambda: counts.get("status 200", 0) >= sent + 1 or conn.closed, 60)
        used = floods.cpu_seconds(pid) - before
        conn.close()
        answers, failures = honest.stop()
        self.assertEqual(failures, [], "honest clients are answered (late, while the decoder runs)")
        status, _, _ = self.server.request("GET", "/healthz")
        self.assertEqual(status, 200, "the process is up")
        print("hpack amplification straight to livebuyd: %d requests of 400,000 references to a 4 KB entry; h2o "
              "answered %d of them (%s), using %.0f ms of CPU each; %d honest requests answered, none failed" % (
                  sent, counts.get("status 200", 1) - 1, ", ".join("%s x%d" % kv for kv in sorted(counts.items())),
                  1000 * used / max(1, sent), answers))


if __name__ == "__main__":
    lb.main()
