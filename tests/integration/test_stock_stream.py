"""The live stock stream, GET /v1/lives/{id}/stock (Server-Sent Events): a snapshot, then each change of an item's
available count, from an order on the same process (the lanes publish it) or on another process on the same database
(the feed's poll finds it); 2,000 viewers on one process who all see the final count, 500 of them leaving mid-stream;
404 for an unknown live; HTTP/2; a clean stop with viewers connected. Real HTTP (an asyncio HTTP/1.1 client reads the
chunked streams) against a real MariaDB."""

import asyncio
import itertools
import json
import re
import time

import lb

SHIP_TO = {"name": "张三", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇"}
VIEWERS = 2000

_buyers = itertools.count(300000)


lb.raise_open_files_limit()
buyer_token = lb.buyer_token


# ---------------------------------------------------------------------------------------------------------------------
# asyncio HTTP/1.1: SSE streams and single requests


class Stream:
    """One SSE stream (or the error answer instead of one). events() yields dicts: event, data (decoded JSON), retry,
    comment."""

    def __init__(self, reader, writer, status, headers):
        self.reader, self.writer, self.status, self.headers = reader, writer, status, headers
        self.buf = b""
        self.ended = False
        self.latest = {}  # item_id -> available, from the snapshot and the stock events
        self.stock_events = 0

    @classmethod
    async def open(cls, port, live_id, timeout=30.0, path="/v1/lives/%d/stock", token=None):
        """The stream at path (of live_id), with a bearer token if given (the host's sales stream)."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        writer.write(lb.encode_request("GET", path % live_id, token=token, headers={"Accept": "text/event-stream"}))
        status, headers = await asyncio.wait_for(lb.read_head(reader), timeout)
        stream = cls(reader, writer, status, headers)
        if status != 200:
            stream.body = lb.decode_body(headers.get("content-type", ""),
                                         await reader.readexactly(int(headers["content-length"])))
            writer.close()
        return stream

    async def _chunk(self):
        size = int((await self.reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            self.ended = True
            return
        self.buf += await self.reader.readexactly(size)
        await self.reader.readline()

    async def event(self, timeout=10.0):
        """The next event (None at the end of the stream)."""
        deadline = time.monotonic() + timeout
        while b"\n\n" not in self.buf:
            if self.ended:
                return None
            await asyncio.wait_for(self._chunk(), max(0.01, deadline - time.monotonic()))
        block, self.buf = self.buf.split(b"\n\n", 1)
        event = {}
        for line in block.decode().split("\n"):
            if line.startswith(":"):
                event["comment"] = line[1:].strip()
            else:
                name, _, value = line.partition(":")
                event[name] = value[1:] if value.startswith(" ") else value
        if "data" in event:
            event["data"] = json.loads(event["data"])
            if event.get("event") == "snapshot":
                self.latest.update({i["item_id"]: i["available"] for i in event["data"]["items"]})
            elif event.get("event") == "stock":
                self.latest[event["data"]["item_id"]] = event["data"]["available"]
                self.stock_events += 1
        return event

    async def event_named(self, name, timeout=10.0):
        """The next event called name, skipping retry lines and heartbeats (and other events)."""
        deadline = time.monotonic() + timeout
        while True:
            event = await self.event(max(0.01, deadline - time.monotonic()))
            if event is None or event.get("event") == name:
                return event

    async def follow(self):
        """Reads events until the stream ends or breaks (run as a task)."""
        try:
            while await self.event(3600) is not None:
                pass
        except (OSError, EOFError, ValueError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass

    def close(self):
        self.writer.close()


async def request(port, method, path, body=None, token=None, timeout=30.0):
    """One request on its own connection: (status, headers, decoded body)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(lb.encode_request(method, path, body, token=token, headers={"Connection": "close"}))
        return await asyncio.wait_for(lb.read_answer(reader), timeout)
    finally:
        writer.close()


async def order(port, item_id, qty=1):
    """A live order by a fresh buyer; the answer's (status, body)."""
    status, _, body = await request(port, "POST", "/v1/orders",
                                    {"live_item_id": item_id, "qty": qty, "ship_to": SHIP_TO},
                                    token=buyer_token(next(_buyers)))
    return status, body


def metric(server, name):
    m = re.search(r"^%s (\d+)$" % re.escape(name), server.metrics(), re.M)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------------------------------------------------------------


class StockStream(lb.ServerTestCase):
    server_args = ["--buyer-secret", lb.BUYER_SECRET, "--threads", "2"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.coop_id, cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")
        cls.host_id, cls.host = cls.server.create_merchant("host", "长治直播间")

    def new_live(self, quotas):
        """A live with one item per quota (each on a SKU of its own); returns (live id, [item ids])."""
        s = self.server
        status, _, live = s.request("POST", "/v1/lives", {"title": "今晚八点 小米专场", "starts_at": 1700000000},
                                    token=self.host)
        self.assertEqual(status, 201, live)
        items = []
        for quota in quotas:
            skus = [{"name": "2.5kg 礼盒", "price_cents": 5990, "stock": quota + 10, "weight_grams": 2700}]
            sku_id = s.create_product(self.coop, skus, title="武乡小米")["skus"][0]["id"]
            s.accepted_offer(self.coop, self.host, self.host_id, sku_id)
            body = {"sku_id": sku_id, "price_cents": 3990, "quota": quota, "per_buyer_limit": 5, "opens_at": 0}
            status, _, item = s.request("POST", "/v1/lives/%d/items" % live["id"], body, token=self.host)
            self.assertEqual(status, 201, item)
            items.append(item["id"])
        return live["id"], items

    def assertStreamHeaders(self, stream):
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.headers.get("content-type"), "text/event-stream")
        self.assertEqual(stream.headers.get("cache-control"), "no-cache")
        self.assertNotIn("content-length", stream.headers)

    async def _update_latency(self, stream_port, order_port, limit):
        live_id, (item_a, item_b) = self.new_live([10, 20])
        stream = await Stream.open(stream_port, live_id)
        self.assertStreamHeaders(stream)
        first = await stream.event(5)
        self.assertEqual(first.get("retry"), "2000", "the stream starts with retry: 2000, not %r" % first)
        snapshot = await stream.event_named("snapshot", 5)
        self.assertEqual(snapshot["data"], {"live_id": live_id, "items": [{"item_id": item_a, "available": 10},
                                                                          {"item_id": item_b, "available": 20}]})
        sent = time.monotonic()
        status, body = await order(order_port, item_a, 2)
        self.assertEqual(status, 201, body)
        event = await stream.event_named("stock", limit + 2)
        latency = time.monotonic() - sent
        self.assertEqual(event["data"], {"item_id": item_a, "available": 8})
        self.assertLess(latency, limit, "the change took %.2f s to reach the stream" % latency)
        stream.close()

    def test_snapshot_then_update_same_process(self):
        asyncio.run(self._update_latency(self.server.port, self.server.port, 1.0))

    def test_update_from_another_process(self):
        other = lb.Server(self.url, ["--buyer-secret", lb.BUYER_SECRET, "--threads", "1"])
        try:
            asyncio.run(self._update_latency(self.server.port, other.port, 1.5))
        finally:
            self.assertEqual(other.stop(), 0, other.log_tail())

    def test_unknown_live_is_404(self):
        async def run():
            return await Stream.open(self.server.port, 987654321)
        stream = asyncio.run(run())
        self.assertEqual(stream.status, 404)
        self.assertEqual(lb.error_code(stream.body), "not_found", stream.body)
        status, _, body = self.server.request("GET", "/v1/lives/987654321/stock")
        self.assertEqual(status, 404)
        self.assertEqual(lb.error_code(body), "not_found")

    def test_http2(self):
        live_id, (item,) = self.new_live([7])
        out = lb.curl("--http2-prior-knowledge", "-N", "-i", "--max-time", "2",
                      "%s/v1/lives/%d/stock" % (self.server.base_url, live_id))
        self.assertEqual(out.returncode, 28, out.stderr)  # the stream is still open when curl gives up
        self.assertTrue(out.stdout.startswith("HTTP/2 200"), out.stdout[:200])
        self.assertIn("content-type: text/event-stream", out.stdout)
        self.assertIn('event: snapshot\ndata: {"live_id":%d,"items":[{"item_id":%d,"available":7}]}\n\n' % (live_id, item),
                      out.stdout)

    def test_thousands_of_viewers(self):
        live_id, (item, spare) = self.new_live([1000, 5])
        port = self.server.port
        gauge_before = metric(self.server, "livebuy_sse_viewers")

        async def run():
            gate = asyncio.Semaphore(400)

            async def open_one():
                async with gate:
                    s = await Stream.open(port, live_id, timeout=60)
                    await s.event_named("snapshot", 30)
                    return s
            started = time.monotonic()
            streams = await asyncio.gather(*[open_one() for _ in range(VIEWERS)])
            opened = time.monotonic() - started
            self.assertTrue(all(s.status == 200 and s.latest == {item: 1000, spare: 5} for s in streams))
            tasks = [asyncio.ensure_future(s.follow()) for s in streams]
            viewers = await asyncio.get_running_loop().run_in_executor(None, metric, self.server, "livebuy_sse_viewers")
            self.assertEqual(viewers - gauge_before, VIEWERS)

            async def orders(rounds, per_round):
                granted = 0
                for _ in range(rounds):
                    answers = await asyncio.gather(*[order(port, item) for _ in range(per_round)])
                    self.assertTrue(all(status == 201 for status, _ in answers), answers[:3])
                    granted += per_round
                    await asyncio.sleep(0.15)
                return granted

            async def all_see(group, value, limit):
                deadline = time.monotonic() + limit
                while time.monotonic() < deadline:
                    if all(s.latest.get(item) == value for s in group):
                        return
                    await asyncio.sleep(0.05)
                wrong = [s.latest.get(item) for s in group if s.latest.get(item) != value]
                self.fail("%d of %d viewers do not show %d after %.0f s: %r" % (len(wrong), len(group), value, limit,
                                                                            wrong[:10]))

            granted = await orders(5, 10)
            await all_see(streams, 1000 - granted, 10)
            self.assertTrue(all(s.stock_events >= 2 for s in streams),
                            "viewers should see the count go down in steps while orders come")

            # 500 viewers leave mid-stream; the others keep getting updates and the gauge drops.
            for s, t in zip(streams[:500], tasks[:500]):
                s.close()
                t.cancel()
            staying = streams[500:]
            granted += await orders(6, 5)
            await all_see(staying, 1000 - granted, 10)

            def gauge_dropped():
                return metric(self.server, "livebuy_sse_viewers") - gauge_before == VIEWERS - 500
            loop = asyncio.get_running_loop()
            dropped = False
            for _ in range(20):
                if await loop.run_in_executor(None, gauge_dropped):
                    dropped = True
                    break
                granted += await orders(1, 1)
            self.assertTrue(dropped, "the viewers gauge did not drop by the 500 that left")
            await all_see(staying, 1000 - granted, 10)
            for s in staying:
                s.close()
            await asyncio.gather(*tasks, return_exceptions=True)
            return opened

        opened = asyncio.run(run())
        self.assertLess(opened, 30, "opening %d streams took %.1f s" % (VIEWERS, opened))
        status, _, _ = self.server.request("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(lb.sql_value(self.sock, self.dbname,
                                      "SELECT quota - reserved - sold FROM live_items WHERE id = %d" % item),
                         str(1000 - int(lb.sql_value(self.sock, self.dbname,
                                                     "SELECT SUM(qty) FROM orders WHERE live_item_id = %d" % item))))

    def test_stop_with_viewers_connected(self):
        server = lb.Server(self.url, list(self.server_args))
        live_id, (item,) = self.new_live([10])

        async def run():
            streams = [await Stream.open(server.port, live_id) for _ in range(50)]
            for s in streams:
                self.assertEqual((await s.event_named("snapshot", 5))["data"]["items"][0]["available"], 10)
            started = time.monotonic()
            loop = asyncio.get_running_loop()
            code = await loop.run_in_executor(None, server.stop)
            took = time.monotonic() - started
            ends = []
            for s in streams:
                try:
                    ends.append(await s.event_named("stock", 5))
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as e:
                    ends.append(e)
                s.close()
            return code, took, ends

        code, took, ends = asyncio.run(run())
        self.assertEqual(code, 0, server.log_tail())
        self.assertLess(took, 4.0, "livebuyd took %.1f s to stop with 50 viewers" % took)
        self.assertTrue(all(e is None or isinstance(e, (OSError, asyncio.IncompleteReadError)) for e in ends), ends[:5])


if __name__ == "__main__":
    lb.main()
