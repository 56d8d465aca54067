"""The host's sales stream, GET /v1/lives/{id}/sales/stream (Server-Sent Events): who may open it (401 without or with
an unknown token, 403 for another host or a co-op, 404 for an unknown live); a snapshot of every item's available,
reserved, sold and revenue; a reservation and its payment as changes (the payment sends the public stock stream
nothing, its bytes unchanged); an item put on air later; orders and payments on another process; HTTP/2. Real HTTP
(the asyncio SSE client of test_stock_stream) against a real MariaDB."""

import asyncio
import json
import time

import lb
from test_stock_stream import Stream, order

SALES = "/v1/lives/%d/sales/stream"
PRICE = 3990  # the items' flash price


def counts(available, reserved=0, sold=0):
    return {"available": available, "reserved": reserved, "sold": sold, "revenue_cents": sold * PRICE}


class SalesStream(lb.ServerTestCase):
    server_args = ["--buyer-secret", lb.BUYER_SECRET, "--payment-secret", lb.PAYMENT_SECRET, "--threads", "2"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.host_id, cls.host = cls.server.create_merchant("host", "长治直播间")
        cls.other_host_id, cls.other_host = cls.server.create_merchant("host", "太行山直播间")
        cls.coop_id, cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")

    def new_live(self, quotas):
        """A live of the host with one item per quota, each on a co-op's SKU of its own under an accepted offer; returns
        (live id, [item ids])."""
        status, _, live = self.server.request("POST", "/v1/lives", {"title": "今晚八点 小米专场", "starts_at": 1700000000},
                                              token=self.host)
        self.assertEqual(status, 201, live)
        return live["id"], [self.put_on_air(live["id"], quota) for quota in quotas]

    def put_on_air(self, live_id, quota, own=False):
        """An item on air: a co-op's SKU under an accepted offer (10% commission), or one of the host's own (own)."""
        s = self.server
        skus = [{"name": "2.5kg 礼盒", "price_cents": 5990, "stock": quota + 10, "weight_grams": 2700}]
        sku_id = s.create_product(self.host if own else self.coop, skus, title="武乡小米")["skus"][0]["id"]
        if not own:
            s.accepted_offer(self.coop, self.host, self.host_id, sku_id, commission_bp=1000)
        body = {"sku_id": sku_id, "price_cents": PRICE, "quota": quota, "per_buyer_limit": 5, "opens_at": 0}
        status, _, item = s.request("POST", "/v1/lives/%d/items" % live_id, body, token=self.host)
        self.assertEqual(status, 201, item)
        return item["id"]

    def pay(self, placed, server=None):
        raw = json.dumps({"order_id": placed["id"], "provider_txn_id": "wxpay-%d" % placed["id"],
                          "amount_cents": placed["amount_cents"]}).encode()
        status, _, body = (server or self.server).request("POST", "/v1/payments/notify", raw=raw, headers=lb.signed(raw))
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "paid")

    async def place(self, port, item, qty):
        status, body = await order(port, item, qty)
        self.assertEqual(status, 201, body)
        return body

    async def until(self, stream, item, want, limit):
        """Reads sales events until item shows want (its counts and revenue); returns the seconds it took."""
        started = time.monotonic()
        seen = None
        while time.monotonic() - started < limit:
            try:
                event = await stream.event_named("sales", max(0.01, limit - (time.monotonic() - started)))
            except asyncio.TimeoutError:
                break
            self.assertIsNotNone(event, "the stream ended")
            for entry in event["data"]["items"]:
                self.assertEqual(set(entry), {"id", "available", "reserved", "sold", "revenue_cents"}, entry)
                if entry["id"] == item:
                    seen = {k: v for k, v in entry.items() if k != "id"}
            if seen == want:
                return time.monotonic() - started
        self.fail("item %d shows %r, not %r, %.1f s on" % (item, seen, want, limit))

    def test_who_may_watch(self):
        live_id, _ = self.new_live([5])
        port = self.server.port
        cases = [(live_id, None, 401, "unauthorized"),
                 (live_id, "lbm_" + "0" * 48, 401, "unauthorized"),
                 (live_id, lb.buyer_token(7), 401, "unauthorized"),
                 (live_id, self.coop, 403, "forbidden"),
                 (live_id, self.other_host, 403, "forbidden"),
                 (987654321, self.host, 404, "not_found"),
                 (987654321, self.coop, 403, "forbidden")]  # the token's kind is checked before the live
        for live, token, status, code in cases:
            stream = asyncio.run(Stream.open(port, live, path=SALES, token=token))
            self.assertEqual((stream.status, lb.error_code(stream.body)), (status, code), (live, token, stream.body))
        status, headers, body = self.server.request("HEAD", SALES % live_id, token=self.host)
        self.assertEqual((status, headers.get("content-type")), (200, "text/event-stream"))

    def test_snapshot_reservation_payment(self):
        live_id, (item_a, item_b) = self.new_live([10, 20])
        port = self.server.port

        async def run():
            host = await Stream.open(port, live_id, path=SALES, token=self.host)
            self.assertEqual((host.status, host.headers.get("content-type"), host.headers.get("cache-control")),
                             (200, "text/event-stream", "no-cache"))
            first = await host.event(5)
            self.assertEqual(first.get("retry"), "2000", "the stream starts with retry: 2000, not %r" % first)
            snapshot = await host.event_named("sales", 5)
            self.assertEqual(snapshot["data"], {"items": [dict(id=item_a, **counts(10)), dict(id=item_b, **counts(20))]})
            public = await Stream.open(port, live_id)
            await public.event_named("snapshot", 5)

            # A reservation: reserved up, available down, on both streams.
            placed = await self.place(port, item_a, 2)
            took = await self.until(host, item_a, counts(8, reserved=2), 3)
            self.assertLess(took, 1.5, "the reservation took %.2f s to reach the host" % took)
            self.assertEqual((await public.event_named("stock", 3))["data"], {"item_id": item_a, "available": 8})

            # Its payment: reserved to sold, and revenue at the flash price; the public's available is the same.
            self.pay(placed)
            took = await self.until(host, item_a, counts(8, sold=2), 3)
            self.assertLess(took, 1.5, "the payment took %.2f s to reach the host" % took)
            await self.place(port, item_b, 1)
            await self.until(host, item_b, counts(19, reserved=1), 3)
            self.assertEqual((await public.event_named("stock", 3))["data"], {"item_id": item_b, "available": 19},
                             "the public stream's next event is the next change of available, nothing for the payment")

            # An item put on air later (from the host's own catalogue): the host sees it from the next poll.
            item_c = self.put_on_air(live_id, 7, own=True)
            await self.until(host, item_c, counts(7), 3)
            host.close()
            public.close()

        asyncio.run(run())

    def test_changes_on_another_process(self):
        live_id, (item,) = self.new_live([30])
        other = lb.Server(self.url, ["--buyer-secret", lb.BUYER_SECRET, "--payment-secret", lb.PAYMENT_SECRET])
        try:
            async def run():
                host = await Stream.open(self.server.port, live_id, path=SALES, token=self.host)
                await host.event_named("sales", 5)
                placed = await self.place(other.port, item, 3)
                took = await self.until(host, item, counts(27, reserved=3), 3)
                self.assertLess(took, 2.0, "a reservation on another process took %.2f s" % took)
                self.pay(placed, server=other)
                await self.until(host, item, counts(27, sold=3), 3)
                host.close()
            asyncio.run(run())
        finally:
            self.assertEqual(other.stop(), 0, other.log_tail())

    def test_http2(self):
        live_id, (item,) = self.new_live([7])
        out = lb.curl("--http2-prior-knowledge", "-N", "-i", "--max-time", "2", "-H", "Authorization: Bearer " + self.host,
                      "%s%s" % (self.server.base_url, SALES % live_id))
        self.assertEqual(out.returncode, 28, out.stderr)  # the stream is still open when curl gives up
        self.assertTrue(out.stdout.startswith("HTTP/2 200"), out.stdout[:200])
        self.assertIn("content-type: text/event-stream", out.stdout)
        self.assertIn('retry: 2000\n\nevent: sales\ndata: {"items":[{"id":%d,"available":7,"reserved":0,"sold":0,'
                      '"revenue_cents":0}]}\n\n' % item, out.stdout)


if __name__ == "__main__":
    lb.main()
