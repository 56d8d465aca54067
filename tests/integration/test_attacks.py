"""Orders under hostile HTTP/2 traffic (issue #18), over real HTTP/2 (python3-h2 frames on a plain socket) against a real
livebuyd and MariaDB:

- Rapid Reset: HEADERS + DATA + RST_STREAM for POST /v1/orders, thousands on one connection. A reset order reserves
  nothing unless a batch took it before the reset arrived (livebuy_orders_dropped_total counts the rest), the SKU's
  counters equal its orders, and honest buyers are served at once after the flood.
- A connection that resets orders faster than any honest client is closed (livebuy_connections_closed_for_resets_total).
- One buyer, or one connection, cannot fill the queue every buyer shares: past --max-buyer-orders and
  --max-connection-orders orders waiting, that client alone gets 429 busy; the others get their 201.

What is measured here is what the order path decides, never how fast: no timing assertions."""

import http.client
import json
import socket
import time
import uuid

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

import lb

SHIP_TO = {"name": "李四", "phone": "13900000000", "address": "山西省长治市沁县定昌镇"}


class H2Client:
    """A plain-text HTTP/2 connection (prior knowledge) that sends frames as told and reads what comes back."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20})
        self.flush()
        self.responses = {}  # stream id -> [status, body bytes, ended]
        self.closed = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def order(self, token, body, reset=False):
        """Queues the frames of one POST /v1/orders (and its RST_STREAM when reset) without sending them yet."""
        stream = self.conn.get_next_available_stream_id()
        raw = json.dumps(body).encode()
        self.conn.send_headers(stream, [(":method", "POST"), (":path", "/v1/orders"), (":scheme", "http"),
                                        (":authority", "127.0.0.1"), ("authorization", "Bearer " + token),
                                        ("content-type", "application/json"), ("idempotency-key", uuid.uuid4().hex),
                                        ("content-length", str(len(raw)))])
        self.wait_for_window(stream, len(raw))
        self.conn.send_data(stream, raw, end_stream=True)
        if reset:
            self.conn.reset_stream(stream, error_code=h2.errors.ErrorCodes.CANCEL)
        else:
            self.responses[stream] = [None, b"", False]
        return stream

    def wait_for_window(self, stream, size):
        """Sends what is queued and reads the server's WINDOW_UPDATEs until size bytes of DATA may go on the stream."""
        if self.conn.local_flow_control_window(stream) >= size:
            return
        self.flush()
        self.read_until(lambda: self.conn.local_flow_control_window(stream) >= size)
        if self.closed:
            raise BrokenPipeError("the server closed the connection")

    def read_until(self, done, timeout=30):
        """Reads frames until done() or the server closes the connection."""
        deadline = time.monotonic() + timeout
        while not done() and not self.closed and time.monotonic() < deadline:
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            except socket.timeout:
                continue
            if not data:
                self.closed = True
                break
            try:
                events = self.conn.receive_data(data)
            except h2.exceptions.ProtocolError:
                self.closed = True
                break
            for event in events:
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id in self.responses:
                    self.responses[event.stream_id][0] = int(dict(event.headers)[":status"])
                elif isinstance(event, h2.events.DataReceived):
                    self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    if event.stream_id in self.responses:
                        self.responses[event.stream_id][1] += event.data
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id in self.responses:
                    self.responses[event.stream_id][2] = True
                elif isinstance(event, h2.events.ConnectionTerminated):
                    self.closed = True
            try:
                self.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.closed = True

    def all_answered(self):
        return all(r[2] for r in self.responses.values())

    def close(self):
        self.sock.close()


class AttackTestCase(lb.ServerTestCase):
    server_args = lb.ServerTestCase.server_args + ["--threads", "1"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coop = cls.server.create_merchant("coop", "沁县核桃合作社")[1]

    def new_sku(self, stock=1000000):
        skus = [{"name": "沁县核桃 500g", "price_cents": 3980, "stock": stock, "weight_grams": 520}]
        return self.server.create_product(self.coop, skus, title="沁县核桃")["skus"][0]["id"]

    def counters_match_orders(self, sku_id):
        """The SKU's reserved count is what its reserved orders hold: nothing was reserved twice or half-way."""
        reserved = int(lb.sql_value(self.sock, self.dbname, "SELECT reserved FROM skus WHERE id = %d" % sku_id))
        held = lb.sql_value(self.sock, self.dbname,
                            "SELECT COALESCE(SUM(qty), 0) FROM orders WHERE sku_id = %d AND status = 'reserved'" % sku_id)
        self.assertEqual(reserved, int(held))
        return reserved

    def metric(self, name):
        return lb.metric(self.server.metrics(), name) or 0

    def wait_for_metric(self, name, at_least, timeout=30):
        deadline = time.monotonic() + timeout
        while self.metric(name) < at_least and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.metric(name)

    def orders_at_once(self, sku_id, buyers):
        """One order per buyer id, all sent at once on one HTTP/2 connection; returns their statuses and the bodies of
        the 429s, after checking that nothing but 201 and 429 came back."""
        client = H2Client(self.server.port)
        streams = [client.order(lb.buyer_token(b), {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}) for b in buyers]
        client.flush()
        client.read_until(client.all_answered)
        client.close()
        statuses = [client.responses[s][0] for s in streams]
        self.assertLessEqual(set(statuses), {201, 429}, statuses)
        return statuses, [json.loads(client.responses[s][1]) for s, st in zip(streams, statuses) if st == 429]

    def honest_order(self, sku_id, buyer):
        status, _, body = self.server.request("POST", "/v1/orders", {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO},
                                              token=lb.buyer_token(buyer))
        self.assertEqual(status, 201, body)


class ResetOrdersTest(AttackTestCase):
    """The lanes' part alone: no caps, no closing, so every reset order reaches the order path."""

    server_args = AttackTestCase.server_args + ["--max-buyer-orders", "0", "--max-connection-orders", "0",
                                                "--max-order-resets", "0"]

    def test_reset_orders_reserve_nothing(self):
        sku_id = self.new_sku()
        sent = 3000
        dropped_before = self.metric("livebuy_orders_dropped_total")
        decided_before = self.metric("livebuy_batch_requests_total")
        client = H2Client(self.server.port)
        for i in range(sent):
            client.order(lb.buyer_token(700000 + i % 50), {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}, reset=True)
            if i % 200 == 199:
                client.flush()
        client.flush()
        # Every reset order is either dropped or was decided by a batch that took it before its reset arrived.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            dropped = self.metric("livebuy_orders_dropped_total") - dropped_before
            decided = self.metric("livebuy_batch_requests_total") - decided_before
            if dropped + decided >= sent:
                break
            time.sleep(0.2)
        client.close()
        self.assertEqual(dropped + decided, sent, "every order is accounted for: dropped %d, decided %d" % (dropped, decided))
        reserved = self.counters_match_orders(sku_id)
        self.assertEqual(reserved, decided)
        self.assertLessEqual(reserved, sent // 20, "a reset order reserves nothing unless a batch took it first")
        print("rapid reset, one connection: %d orders sent and reset, %d dropped, %d reserved" % (sent, dropped, reserved))
        self.honest_order(sku_id, 1)


class FairnessTest(AttackTestCase):
    """The defaults: 16 orders waiting per buyer, 256 per connection, a connection closed past 100 resets a second."""

    def test_rapid_reset_closes_the_connection(self):
        sku_id = self.new_sku()
        closed_before = self.metric("livebuy_connections_closed_for_resets_total")
        client = H2Client(self.server.port)
        sent = 0
        try:
            for i in range(2000):
                client.order(lb.buyer_token(710000 + i % 500), {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}, reset=True)
                sent += 1
                if i % 100 == 99:
                    client.flush()
            client.flush()
        except (BrokenPipeError, ConnectionResetError):
            client.closed = True
        client.read_until(lambda: False, timeout=15)
        client.close()
        self.assertTrue(client.closed, "the server closes a connection that resets orders as an attack does")
        self.assertGreaterEqual(self.wait_for_metric("livebuy_connections_closed_for_resets_total", closed_before + 1),
                                closed_before + 1)
        reserved = self.counters_match_orders(sku_id)
        self.assertLessEqual(reserved, 200, "no more than a second's allowance of resets before the close reached a batch")
        print("rapid reset with the defaults: %d orders sent, connection closed, %d reserved" % (sent, reserved))
        self.honest_order(sku_id, 2)

    def test_one_buyer_cannot_fill_the_queue(self):
        sku_id = self.new_sku()
        statuses, busy = self.orders_at_once(sku_id, [720001] * 60 + [720100 + i for i in range(10)])
        greedy, others = statuses[:60], statuses[60:]
        self.assertTrue(busy, "some of the one buyer's 60 orders at once are refused: %r" % greedy)
        for body in busy:
            self.assertEqual(body["error"]["code"], "busy")
            self.assertIn("buyer 720001 has 16 orders waiting", body["error"]["message"])
        self.assertEqual(others, [201] * 10, "the other buyers are not held back")
        reserved = self.counters_match_orders(sku_id)
        self.assertEqual(reserved, greedy.count(201) + 10)
        self.honest_order(sku_id, 720001)  # room comes back once the answers are out


class ConnectionExhaustionTest(AttackTestCase):
    """Connections that say hello and then hold their socket, more than the cap: honest clients still get in, because an
    idle one is closed to make room for each new one."""

    server_args = AttackTestCase.server_args + ["--max-connections", "100"]

    def test_idle_connections_make_room(self):
        sku_id = self.new_sku()
        hostile = [H2Client(self.server.port) for _ in range(150)]
        time.sleep(2.5)  # they have said nothing for over a second (the activity sweep runs once a second): idle
        answered = 0
        for i in range(40):
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
            try:
                conn.request("GET", "/healthz")
                answered += conn.getresponse().status == 200
            finally:
                conn.close()
        self.honest_order(sku_id, 740001)
        text = self.server.metrics()
        open_now = lb.metric(text, "livebuy_http_connections_open")
        evicted = lb.metric(text, 'livebuy_http_connections_capped_total{action="evicted"}')
        refused = lb.metric(text, 'livebuy_http_connections_capped_total{action="refused"}')
        for client in hostile:
            client.close()
        print("150 idle connections against a cap of 100: %d of 40 honest requests answered, %d evicted, %d refused, "
              "%d open" % (answered, evicted, refused, open_now))
        self.assertEqual(answered, 40, "every honest request is answered")
        self.assertGreaterEqual(evicted, 1, "an idle connection made room")
        self.assertGreaterEqual(refused, 1, "new connections past the cap, with none idle, were closed")
        self.assertLessEqual(open_now, 110, "the cap holds (give or take connections being closed)")


class ConnectionCapTest(AttackTestCase):
    server_args = AttackTestCase.server_args + ["--max-connection-orders", "8"]

    def test_one_connection_cannot_fill_the_queue(self):
        sku_id = self.new_sku()
        statuses, busy = self.orders_at_once(sku_id, [730000 + i for i in range(40)])
        self.assertTrue(busy, statuses)
        self.assertIn("this connection has 8 orders waiting", busy[0]["error"]["message"])
        self.assertEqual(self.counters_match_orders(sku_id), statuses.count(201))
        self.honest_order(sku_id, 730999)  # another connection is served


if __name__ == "__main__":
    lb.main()
