"""The order path under load and failure: POST /v1/orders in bursts (thousands of buyers at once, several livebuyd
processes on one database, one buyer's retries with one Idempotency-Key), per-buyer limits, a SIGKILL and a database
outage in the middle of a burst, bad input, sold-out / restock / cancel, --max-batch 1. Real HTTP (a small asyncio
HTTP/1.1 client fires the bursts) against a real MariaDB; every counter is checked against the orders in the database."""

import asyncio
import hashlib
import itertools
import json
import threading
import time
import unittest

import lb

SHIP_TO = {"name": "张三", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇"}
BURST_TIMEOUT = 60.0  # seconds any one answer of a burst may take

_keys = itertools.count(1)
_buyers = itertools.count(100000)

lb.raise_open_files_limit()
buyer_token, error_parts, encode_request = lb.buyer_token, lb.error_parts, lb.encode_request


def new_buyer():
    return next(_buyers)


def new_key(prefix="k"):
    return "%s-%d-%d" % (prefix, int(time.time() * 1000) % 100000000, next(_keys))


# ---------------------------------------------------------------------------------------------------------------------
# A small asyncio HTTP/1.1 client (on lb's encode_request and read_answer): many keep-alive connections, all requests
# in flight together.


def order_request(port, buyer, body, key=None, headers=None):
    """(port, bytes) of a POST /v1/orders by buyer."""
    return port, encode_request("POST", "/v1/orders", body, token=buyer_token(buyer), key=key, headers=headers)


class Answer:
    __slots__ = ("status", "headers", "body", "sent_at", "answered_at")

    def __init__(self, status, headers, body, sent_at, answered_at):
        self.status, self.headers, self.body = status, headers, body
        self.sent_at, self.answered_at = sent_at, answered_at

    @property
    def replayed(self):
        return self.headers.get("idempotent-replayed", "").lower() == "true"

    @property
    def code(self):
        return error_parts(self.body)[0] if self.status >= 400 else None

    def __repr__(self):
        return "<%d %r%s>" % (self.status, self.body, " replayed" if self.replayed else "")


class Failed:
    """A request with no answer: the connection broke or the answer did not come in time."""
    __slots__ = ("error", "sent_at")
    status = None

    def __init__(self, error, sent_at):
        self.error, self.sent_at = error, sent_at

    def __repr__(self):
        return "<no answer: %s>" % self.error


async def _connect(port, timeout):
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, limit=1 << 20), timeout)


async def _burst(items, per_conn, timeout, fired, progress=None):
    """items: [(port, bytes)]. Opens one connection per per_conn consecutive items (of one port), then, all at once,
    each connection sends its items one after another (keep-alive). Returns an Answer or a Failed per item."""
    groups = []
    for i, (port, _) in enumerate(items):
        if groups and len(groups[-1][1]) < per_conn and groups[-1][0] == port:
            groups[-1][1].append(i)
        else:
            groups.append((port, [i]))
    results = [None] * len(items)
    connect_gate = asyncio.Semaphore(500)  # stay well inside the listen backlog

    async def connect(port):
        async with connect_gate:
            try:
                return await _connect(port, timeout)
            except (OSError, asyncio.TimeoutError) as e:
                return e

    streams = await asyncio.gather(*[connect(port) for port, _ in groups])
    go = asyncio.Event()

    async def run(port, indexes, stream):
        await go.wait()
        for n, i in enumerate(indexes):
            sent_at = time.monotonic()
            if isinstance(stream, BaseException):
                results[i] = Failed("connect: %r" % (stream,), None)
                continue
            reader, writer = stream
            try:
                writer.write(items[i][1])
                status, headers, body = await asyncio.wait_for(lb.read_answer(reader), timeout)
            except (OSError, EOFError, ValueError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                results[i] = Failed(repr(e), sent_at)
                writer.close()
                for j in indexes[n + 1:]:
                    results[j] = Failed("not sent: the connection broke", None)
                return
            results[i] = Answer(status, headers, body, sent_at, time.monotonic())
            if progress is not None:
                progress[0] += 1
            if headers.get("connection", "").lower() == "close" and n + 1 != len(indexes):
                writer.close()
                try:
                    stream = await _connect(port, timeout)
                except (OSError, asyncio.TimeoutError) as e:
                    stream = e
        if not isinstance(stream, BaseException):
            stream[1].close()

    tasks = [asyncio.ensure_future(run(port, indexes, stream)) for (port, indexes), stream in zip(groups, streams)]
    go.set()
    if fired is not None:
        fired.set()
    await asyncio.gather(*tasks)
    return results


def burst(items, per_conn=1, timeout=BURST_TIMEOUT, fired=None, progress=None):
    """Fires items ([(port, bytes)]) over ceil(len/per_conn) connections, all in flight together; returns an Answer or
    a Failed per item, in order. fired (a threading.Event) is set once every connection is open and sending."""
    return asyncio.run(_burst(items, per_conn, timeout, fired, progress))


class BackgroundBurst(threading.Thread):
    """A burst on a thread of its own, for things done to the server or the database while it runs."""

    def __init__(self, items, per_conn=1, timeout=BURST_TIMEOUT):
        super().__init__(daemon=True)
        self.items, self.per_conn, self.timeout = items, per_conn, timeout
        self.fired = threading.Event()
        self.progress = [0]  # answers so far
        self.results = None
        self.error = None

    def run(self):
        try:
            self.results = burst(self.items, self.per_conn, self.timeout, self.fired, self.progress)
        except BaseException as e:  # reported by finish()
            self.error = e
            self.fired.set()

    def finish(self, limit):
        self.join(limit)
        if self.is_alive():
            raise AssertionError("the burst did not end within %.0f s" % limit)
        if self.error is not None:
            raise self.error
        return self.results


def summary(results):
    """{status or 'none': count} for messages."""
    out = {}
    for r in results:
        key = r.status if r.status is not None else "none"
        out[key] = out.get(key, 0) + 1
    return out


def sample(results, pred, n=3):
    return [r for r in results if pred(r)][:n]


# ---------------------------------------------------------------------------------------------------------------------


class Base(lb.ServerTestCase):
    """Helpers on a database (self.sock, self.dbname) and a livebuyd (self.server) with a buyer secret."""

    server_args = ["--buyer-secret", lb.BUYER_SECRET, "--threads", "2"] + lb.NO_CLIENT_CAPS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.create_merchants()

    @classmethod
    def create_merchants(cls):
        cls.coop_id, cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")
        cls.host_id, cls.host = cls.server.create_merchant("host", "长治直播间")

    def new_sku(self, stock, price_cents=5990, server=None):
        skus = [{"name": "武乡小米 2.5kg 礼盒", "price_cents": price_cents, "stock": stock, "weight_grams": 2700}]
        return (server or self.server).create_product(self.coop, skus, title="武乡小米")["skus"][0]["id"]

    def new_skus(self, token, n, stock=1000):
        """n SKUs of new products (up to 30 a product) of the merchant with token; their ids in creation order."""
        ids = []
        while len(ids) < n:
            skus = [{"name": "小米 %d 号" % (len(ids) + i), "price_cents": 100, "stock": stock, "weight_grams": 500}
                    for i in range(min(30, n - len(ids)))]
            ids += [s["id"] for s in self.server.create_product(token, skus, title="武乡小米")["skus"]]
        return ids

    def new_live_item(self, sku_id, server=None, **fields):
        s = server or self.server
        status, _, live = s.request("POST", "/v1/lives", {"title": "今晚八点 小米专场", "starts_at": 1700000000},
                                    token=self.host)
        self.assertEqual(status, 201, live)
        item = {"sku_id": sku_id, "price_cents": 3990, "quota": 10, "per_buyer_limit": 5, "opens_at": 0}
        item.update(fields)
        s.accepted_offer(self.coop, self.host, self.host_id, sku_id)  # the co-op's SKU goes on air under its offer
        status, _, body = s.request("POST", "/v1/lives/%d/items" % live["id"], item, token=self.host)
        self.assertEqual(status, 201, body)
        return body["id"]

    def order(self, buyer, body, key=None, server=None, headers=None):
        """One POST /v1/orders on the harness's kept-alive connection; (status, headers, body)."""
        hdrs = dict(headers or {})
        if key is not None:
            hdrs["Idempotency-Key"] = key
        return (server or self.server).request("POST", "/v1/orders", body, token=buyer_token(buyer), headers=hdrs)

    def db_orders(self, sku_id):
        """{order id: (buyer, key, qty, status, live_item_id)} of the SKU's orders in the database; key is None for a
        direct order without the buyer's key (order_keys holds no row for those: sql/007_order_keys.sql)."""
        rows = self.sql("SELECT o.id, o.buyer_id, k.idem_key, o.qty, o.status, o.live_item_id FROM orders o "
                        "LEFT JOIN order_keys k ON k.sku_id = o.sku_id AND k.order_id = o.id WHERE o.sku_id = %d" % sku_id)
        return {int(r[0]): (int(r[1]), r[2], int(r[3]), r[4], None if r[5] is None else int(r[5])) for r in rows}

    def sku_row(self, sku_id):
        stock, reserved, sold, held = map(int, self.sql("SELECT stock, reserved, sold, held FROM skus WHERE id = %d"
                                                        % sku_id)[0])
        return {"stock": stock, "reserved": reserved, "sold": sold, "held": held}

    def assertCountersExact(self, sku_id, server=None):
        """The database's counters agree with its orders and never oversell; GET /v1/skus agrees with the database.
        Returns the SKU's row."""
        row = self.sku_row(sku_id)
        reserved_qty = int(self.sql("SELECT COALESCE(SUM(qty), 0) FROM orders WHERE sku_id = %d AND status = 'reserved'"
                                    % sku_id)[0][0])
        self.assertEqual(row["reserved"], reserved_qty,
                         "skus.reserved = %d but the reserved orders hold %d units" % (row["reserved"], reserved_qty))
        self.assertLessEqual(row["reserved"] + row["sold"] + row["held"], row["stock"], "oversold: %r" % row)
        self.assertGreaterEqual(min(row.values()), 0, row)
        items = self.sql("SELECT id, quota, reserved, sold FROM live_items WHERE sku_id = %d" % sku_id)
        still_held = 0
        for item_id, quota, reserved, sold in ((int(a), int(b), int(c), int(d)) for a, b, c, d in items):
            live_qty = int(self.sql("SELECT COALESCE(SUM(qty), 0) FROM orders WHERE live_item_id = %d AND sku_id = %d "
                                    "AND status = 'reserved'" % (item_id, sku_id))[0][0])
            self.assertEqual(reserved, live_qty, "live item %d: reserved = %d, its reserved orders hold %d"
                             % (item_id, reserved, live_qty))
            self.assertLessEqual(reserved + sold, quota, "live item %d over its quota" % item_id)
            still_held += quota - reserved - sold
        self.assertEqual(row["held"], still_held, "skus.held = %d, the live items still hold %d" % (row["held"], still_held))
        status, _, sku = (server or self.server).request("GET", "/v1/skus/%d" % sku_id)
        self.assertEqual(status, 200, sku)
        self.assertEqual({k: sku[k] for k in row}, row, "GET /v1/skus/%d disagrees with the database" % sku_id)
        self.assertEqual(sku["available"], row["stock"] - row["reserved"] - row["sold"] - row["held"])
        return row

    def assertAnswersMatchDatabase(self, sku_id, requests, results):
        """Every 201 of a burst is an order in the database of that buyer and key, with the answered id and qty; no two
        201s (that are not replays) name one order."""
        orders = self.db_orders(sku_id)
        fresh_ids = []
        for (buyer, key, body), r in zip(requests, results):
            if r.status != 201:
                continue
            oid = r.body["id"]
            self.assertIn(oid, orders, "201 %r for buyer %d key %s: no such order in the database" % (r.body, buyer, key))
            got = orders[oid]
            self.assertEqual((got[0], got[2]), (buyer, body["qty"]), "order %d in the database: %r" % (oid, got))
            if key is not None:
                self.assertEqual(got[1], key)
            self.assertEqual((r.body["sku_id"], r.body["qty"], r.body["status"]), (sku_id, body["qty"], "reserved"))
            if not r.replayed:
                fresh_ids.append(oid)
        self.assertEqual(len(fresh_ids), len(set(fresh_ids)), "one order answered as new twice")
        return orders


# ---------------------------------------------------------------------------------------------------------------------


class BurstTest(Base):

    def test_5000_buyers_1000_stock(self):
        """1. 5,000 buyers at once, one SKU with 1,000 units, one each: exactly 1,000 get it."""
        s = self.server
        sku_id = self.new_sku(stock=1000)
        requests = [(new_buyer(), None, {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}) for _ in range(5000)]
        items = [order_request(s.port, buyer, body) for buyer, _, body in requests]
        started = time.monotonic()
        results = burst(items)
        took = time.monotonic() - started
        self.assertTrue(s.running(), "livebuyd died in the burst")
        counts = summary(results)
        self.assertEqual(counts, {201: 1000, 409: 4000},
                         "after %.1f s; samples: %r" % (took, sample(results, lambda r: r.status not in (201, 409))))
        self.assertTrue(all(r.code == "sold_out" for r in results if r.status == 409),
                        sample(results, lambda r: r.status == 409 and r.code != "sold_out"))
        self.assertFalse([r for r in results if r.status == 201 and r.replayed])
        orders = self.assertAnswersMatchDatabase(sku_id, requests, results)
        self.assertEqual(len(orders), 1000)
        self.assertEqual(len({o[0] for o in orders.values()}), 1000, "a buyer got two orders")
        self.assertEqual({r.body["id"] for r in results if r.status == 201}, set(orders))
        row = self.assertCountersExact(sku_id)
        self.assertEqual(row, {"stock": 1000, "reserved": 1000, "sold": 0, "held": 0})

    def test_one_key_40_times_at_once(self):
        """3. One buyer's Idempotency-Key sent 40 times at once: one order, one answer as new, 39 replays."""
        s = self.server
        sku_id = self.new_sku(stock=100)
        buyer, key = new_buyer(), new_key("same")
        body = {"sku_id": sku_id, "qty": 2, "ship_to": SHIP_TO}
        results = burst([order_request(s.port, buyer, body, key=key) for _ in range(40)])
        self.assertEqual(summary(results), {201: 40}, sample(results, lambda r: r.status != 201))
        ids = {r.body["id"] for r in results}
        self.assertEqual(len(ids), 1, "different orders for one key: %r" % ids)
        order_id = ids.pop()
        replayed = sum(r.replayed for r in results)
        self.assertEqual(replayed, 39, "Idempotent-Replayed: true on %d of 40 answers" % replayed)
        self.assertEqual({(r.body["qty"], r.body["amount_cents"]) for r in results}, {(2, 11980)})
        self.assertEqual(self.sql("SELECT id, qty FROM orders WHERE sku_id = %d AND buyer_id = %d" % (sku_id, buyer)),
                         [(str(order_id), "2")])
        self.assertEqual(self.assertCountersExact(sku_id)["reserved"], 2)

        # The same key with another body: refused, nothing written.
        other = dict(body, qty=3)
        status, _, answer = self.order(buyer, other, key=key)
        self.assertEqual(status, 422, answer)
        self.assertEqual(error_parts(answer)[0], "invalid")
        other = dict(body, ship_to=dict(SHIP_TO, address="另一个地址"))
        self.assertEqual(self.order(buyer, other, key=key)[0], 422)
        # The same key and body again, later: the first answer.
        status, headers, answer = self.order(buyer, body, key=key)
        self.assertEqual((status, answer["id"], headers.get("idempotent-replayed")), (201, order_id, "true"), answer)
        # The same key from another buyer is another order.
        other_buyer = new_buyer()
        status, headers, answer = self.order(other_buyer, body, key=key)
        self.assertEqual(status, 201, answer)
        self.assertNotEqual(answer["id"], order_id)
        self.assertNotIn("idempotent-replayed", headers)
        self.assertEqual(len(self.sql("SELECT order_id FROM order_keys WHERE sku_id = %d AND idem_key = '%s'"
                                      % (sku_id, key))), 2)
        self.assertEqual(self.assertCountersExact(sku_id)["reserved"], 4)
        # A key with the bytes JSON escapes (a batch looks keys up as a JSON list): replayed like any other.
        odd_key = new_key('q"uote\\back')
        status, _, first = self.order(buyer, body, key=odd_key)
        self.assertEqual(status, 201, first)
        status, headers, again = self.order(buyer, body, key=odd_key)
        self.assertEqual((status, again["id"], headers.get("idempotent-replayed")), (201, first["id"], "true"), again)
        self.assertEqual(self.assertCountersExact(sku_id)["reserved"], 6)

    def test_request_hash_of_the_longest_ship_to(self):
        """The hash a key is held to covers the whole request, however long its ship_to: the text hashed is exactly
        "target|target_id|qty|pickup_point_id|name<US>phone<US>address" (what every stored hash was made of), also
        when a long id, the most units, a name of 100 and an address of 400 four-byte characters make it longer than 2 KB; the
        same body replays, the last character of the address changed (in its last byte) is refused."""
        self.sql("ALTER TABLE skus AUTO_INCREMENT = 1000000000")  # ten digits of SKU id: past 2 KB by 9 bytes
        sku_id = self.new_sku(stock=2 * 10000)
        wide = "\U00020000"  # a CJK Extension B character: four bytes of UTF-8
        for ship_to in (SHIP_TO, {"name": wide * 100, "phone": "1" * 32, "address": wide * 400}):
            buyer, key = new_buyer(), new_key("wide")
            body = {"sku_id": sku_id, "qty": 10000, "ship_to": ship_to}
            status, _, first = self.order(buyer, body, key=key)
            self.assertEqual(status, 201, first)
            text = "0|%d|10000|0|%s\x1f%s\x1f%s" % (sku_id, ship_to["name"], ship_to["phone"], ship_to["address"])
            stored = self.sql("SELECT HEX(request_hash) FROM order_keys WHERE sku_id = %d AND order_id = %d"
                              % (sku_id, first["id"]))
            self.assertEqual(stored, [(hashlib.sha256(text.encode()).hexdigest().upper(),)], len(text.encode()))
            status, headers, again = self.order(buyer, body, key=key)
            self.assertEqual((status, again["id"], headers.get("idempotent-replayed")), (201, first["id"], "true"), again)
            last = ship_to["address"][-1]
            changed = dict(body, ship_to=dict(ship_to, address=ship_to["address"][:-1] + chr(ord(last) + 1)))
            status, _, refused = self.order(buyer, changed, key=key)
            self.assertEqual(status, 422, refused)
        self.assertEqual(self.assertCountersExact(sku_id)["reserved"], 2 * 10000)

    def test_collected_orders_count_against_the_limit(self):
        """Units a buyer collected at a village station are still theirs: with a limit of 2 and both collected, a
        third is limit_exceeded (the order rows are moved on by hand here, as payment, delivery and collection would)."""
        sku_id = self.new_sku(stock=100)
        item_id = self.new_live_item(sku_id, quota=20, per_buyer_limit=2, opens_at=int(time.time()) - 60)
        buyer = new_buyer()
        for _ in range(2):
            self.assertEqual(self.order(buyer, {"live_item_id": item_id, "qty": 1, "ship_to": SHIP_TO})[0], 201)
        self.sql("UPDATE orders SET status = 'collected' WHERE live_item_id = %d AND buyer_id = %d" % (item_id, buyer))
        status, _, answer = self.order(buyer, {"live_item_id": item_id, "qty": 1, "ship_to": SHIP_TO})
        self.assertEqual((status, error_parts(answer)[0]), (422, "limit_exceeded"), answer)

    def test_per_buyer_limit_and_opening_time(self):
        """4. Per-buyer limit 2, ten tries at once by one buyer: two granted, eight limit_exceeded; not open yet: 409."""
        s = self.server
        sku_id = self.new_sku(stock=100)
        item_id = self.new_live_item(sku_id, quota=20, per_buyer_limit=2, opens_at=int(time.time()) - 60)
        buyer = new_buyer()
        requests = [(buyer, new_key("limit"), {"live_item_id": item_id, "qty": 1, "ship_to": SHIP_TO}) for _ in range(10)]
        results = burst([order_request(s.port, b, body, key=k) for b, k, body in requests])
        self.assertEqual(summary(results), {201: 2, 422: 8}, results)
        for r in results:
            if r.status == 422:
                code, message = error_parts(r.body)
                self.assertEqual(code, "limit_exceeded", message)
            else:
                self.assertEqual(r.body["live_item_id"], item_id)
                self.assertEqual(r.body["amount_cents"], 3990)
        self.assertEqual(self.sql("SELECT COUNT(*), SUM(qty) FROM orders WHERE live_item_id = %d AND buyer_id = %d"
                                  % (item_id, buyer)), [("2", "2")])
        self.assertEqual(self.sql("SELECT reserved FROM live_items WHERE id = %d" % item_id), [("2",)])
        self.assertCountersExact(sku_id)
        # Another buyer still may; a request past the limit in one go is refused.
        self.assertEqual(self.order(new_buyer(), {"live_item_id": item_id, "qty": 2, "ship_to": SHIP_TO})[0], 201)
        status, _, answer = self.order(new_buyer(), {"live_item_id": item_id, "qty": 3, "ship_to": SHIP_TO})
        self.assertEqual((status, error_parts(answer)[0]), (422, "limit_exceeded"), answer)
        # A buyer who holds a unit already, trying twenty times at once: two more, up to the limit of 3 (what the buyer
        # holds is read once per batch, however many of the batch's tries are theirs).
        roomy = self.new_live_item(sku_id, quota=20, per_buyer_limit=3, opens_at=int(time.time()) - 60)
        holder = new_buyer()
        self.assertEqual(self.order(holder, {"live_item_id": roomy, "qty": 1, "ship_to": SHIP_TO})[0], 201)
        results = burst([order_request(s.port, holder, {"live_item_id": roomy, "qty": 1, "ship_to": SHIP_TO},
                                       key=new_key("holder")) for _ in range(20)])
        self.assertEqual(summary(results), {201: 2, 422: 18}, results)
        self.assertCountersExact(sku_id)
        # The refusal says what the buyer holds already.
        status, _, answer = self.order(holder, {"live_item_id": roomy, "qty": 1, "ship_to": SHIP_TO})
        self.assertEqual((status,) + error_parts(answer), (422, "limit_exceeded",
                                                           "at most 3 per buyer, and this buyer holds 3 already"))
        self.assertEqual((answer["error"]["limit"], answer["error"]["held"]), (3, 3))

        opens_at = int(time.time()) + 3600
        later = self.new_live_item(sku_id, quota=5, per_buyer_limit=1, opens_at=opens_at)
        china = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(opens_at + 8 * 3600))
        before = self.sku_row(sku_id), self.sql("SELECT COUNT(*) FROM orders")
        results = burst([order_request(s.port, new_buyer(), {"live_item_id": later, "qty": 1, "ship_to": SHIP_TO},
                                       key=new_key("early")) for _ in range(4)])
        for r in results + [Answer(*self.order(new_buyer(), {"live_item_id": later, "qty": 1, "ship_to": SHIP_TO}), 0, 0)]:
            self.assertEqual(r.status, 409, r)
            code, message = error_parts(r.body)
            self.assertEqual(code, "conflict")
            self.assertEqual(message, "not open yet: opens at %s China time (UTC+8)" % china)
            self.assertEqual((r.body["error"]["reason"], r.body["error"]["opens_at"]), ("not_open", opens_at))
        self.assertEqual((self.sku_row(sku_id), self.sql("SELECT COUNT(*) FROM orders")), before)
        self.assertCountersExact(sku_id)

    def test_bad_input_changes_nothing(self):
        """7. Bad input: a clear 4xx with the API error body, nothing changed."""
        s = self.server
        sku_id = self.new_sku(stock=10)
        item_id = self.new_live_item(sku_id, quota=5, per_buyer_limit=5)
        self.sql("INSERT INTO pickup_points (merchant_id, name, county, township, village, address, created_at) "
                 "VALUES (%d, '韩北村村级服务站', '武乡县', '韩北镇', '韩北村', '村委会东侧', 0)" % self.coop_id)
        pickup_id = int(self.sql("SELECT MAX(id) FROM pickup_points")[0][0])
        buyer = new_buyer()
        good = {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}

        def changed(**c):
            b = dict(good)
            for k, v in c.items():
                if v is None:
                    b.pop(k, None)
                else:
                    b[k] = v
            return b

        def state():
            return (self.sql("SELECT COUNT(*), COALESCE(SUM(qty), 0) FROM orders"), self.sku_row(sku_id),
                    self.sql("SELECT reserved FROM live_items WHERE id = %d" % item_id))

        raw_good = json.dumps(good, ensure_ascii=False)
        cases = [
            # what, body, raw, headers, token, statuses, code, field
            ("malformed JSON", None, b'{"sku_id": ', None, buyer_token(buyer), (400,), "malformed", None),
            ("not JSON at all", None, b"sku_id=1&qty=1", None, buyer_token(buyer), (400,), "malformed", None),
            ("qty 0", changed(qty=0), None, None, buyer_token(buyer), (422,), "invalid", "qty"),
            ("qty -1", changed(qty=-1), None, None, buyer_token(buyer), (422,), "invalid", "qty"),
            ("qty 10001", changed(qty=10001), None, None, buyer_token(buyer), (422,), "invalid", "qty"),
            ("qty 1e30", None, raw_good.replace('"qty": 1', '"qty": 1e30').encode(), None, buyer_token(buyer),
             (400, 422), None, "qty"),
            ("qty \"2\"", changed(qty="2"), None, None, buyer_token(buyer), (400, 422), None, "qty"),
            ("qty 1.5", changed(qty=1.5), None, None, buyer_token(buyer), (400, 422), None, "qty"),
            ("qty missing", changed(qty=None), None, None, buyer_token(buyer), (422,), "invalid", "qty"),
            ("unknown SKU", changed(sku_id=987654321), None, None, buyer_token(buyer), (404,), "not_found", None),
            ("unknown live item", changed(sku_id=None, live_item_id=987654321), None, None, buyer_token(buyer), (404,),
             "not_found", None),
            ("sku_id a string", changed(sku_id=str(sku_id)), None, None, buyer_token(buyer), (422,), "invalid", "sku_id"),
            ("sku_id 0", changed(sku_id=0), None, None, buyer_token(buyer), (422,), "invalid", "sku_id"),
            ("no target", changed(sku_id=None), None, None, buyer_token(buyer), (422,), "invalid", "sku_id"),
            ("sku_id and live_item_id", changed(live_item_id=item_id), None, None, buyer_token(buyer), (422,), "invalid",
             "live_item_id"),
            ("neither ship_to nor pickup_point_id", changed(ship_to=None), None, None, buyer_token(buyer), (422,),
             "invalid", "pickup_point_id"),
            ("ship_to and pickup_point_id", changed(pickup_point_id=pickup_id), None, None, buyer_token(buyer), (422,),
             "invalid", "pickup_point_id"),
            ("ship_to a string", changed(ship_to="山西省长治市"), None, None, buyer_token(buyer), (422,), "invalid",
             "ship_to"),
            ("ship_to without name", changed(ship_to={"phone": "13800000000", "address": "x"}), None, None,
             buyer_token(buyer), (422,), "invalid", "ship_to.name"),
            ("ship_to without phone", changed(ship_to={"name": "张三", "address": "x"}), None, None, buyer_token(buyer),
             (422,), "invalid", "ship_to.phone"),
            ("ship_to without address", changed(ship_to={"name": "张三", "phone": "13800000000"}), None, None,
             buyer_token(buyer), (422,), "invalid", "ship_to.address"),
            ("bad phone", changed(ship_to=dict(SHIP_TO, phone="138-abc-0000")), None, None, buyer_token(buyer), (422,),
             "invalid", "ship_to.phone"),
            ("phone a number", changed(ship_to=dict(SHIP_TO, phone=13800000000)), None, None, buyer_token(buyer), (422,),
             "invalid", "ship_to.phone"),
            ("unknown pickup point", changed(ship_to=None, pickup_point_id=987654321), None, None, buyer_token(buyer),
             (422,), "invalid", "pickup_point_id"),
            ("Idempotency-Key of 65", good, None, {"Idempotency-Key": "k" * 65}, buyer_token(buyer), (422,), "invalid",
             "Idempotency-Key"),
            ("no buyer token", good, None, None, None, (401,), "unauthorized", None),
            ("forged token", good, None, None, buyer_token(buyer, secret="not-the-secret"), (401,), "unauthorized", None),
            ("token of another buyer's signature", good, None, None,
             buyer_token(buyer)[:-64] + buyer_token(buyer + 1)[-64:], (401,), "unauthorized", None),
            ("expired token", good, None, None, buyer_token(buyer, expiry=int(time.time()) - 10), (401,), "unauthorized",
             None),
            ("merchant token", good, None, None, self.coop, (401,), "unauthorized", None),
        ]
        before = state()
        for what, body, raw, headers, token, statuses, code, field in cases:
            ans = s.request("POST", "/v1/orders", body, raw=raw, token=token, headers=headers)
            self.assertIn(ans[0], statuses, "%s: expected %r, got %d %r" % (what, statuses, ans[0], ans[2]))
            got_code, message = error_parts(ans[2])
            if code is not None:
                self.assertEqual(got_code, code, "%s: %r" % (what, message))
            else:
                self.assertEqual(got_code, "malformed" if ans[0] == 400 else "invalid", "%s: %r" % (what, message))
            if field is not None:
                self.assertIn(field, message, "%s: the message should name %s" % (what, field))
            self.assertNotIn("idempotent-replayed", ans[1], what)
        self.assertEqual(state(), before, "bad input changed the database")
        self.assertTrue(s.running())
        self.assertCountersExact(sku_id)

        # What is fine: an SQL fragment in the address is stored as it is; a pickup point; a key of 64.
        evil = "'); DELETE FROM orders; UPDATE skus SET stock = 0; -- \"\\"
        status, _, answer = self.order(buyer, changed(ship_to=dict(SHIP_TO, address=evil)))
        self.assertEqual(status, 201, answer)
        self.assertEqual(self.sql("SELECT ship_to_address FROM orders WHERE id = %d" % answer["id"]), [(evil,)])
        self.assertEqual(self.sku_row(sku_id)["stock"], 10)
        status, _, answer = self.order(buyer, changed(ship_to=None, pickup_point_id=pickup_id))
        self.assertEqual(status, 201, answer)
        self.assertEqual(self.sql("SELECT pickup_point_id, ship_to_name FROM orders WHERE id = %d" % answer["id"]),
                         [(str(pickup_id), None)])
        status, _, answer = self.order(buyer, good, key="k" * 64)
        self.assertEqual(status, 201, answer)
        # The same order in msgpack, and in JSON with escapes (both read through the codec's tree rather than scanned:
        # server/codec/fields.c): the same fields.
        status, _, answer = s.request("POST", "/v1/orders", changed(ship_to=dict(SHIP_TO, name="李四")), fmt="msgpack",
                                      token=buyer_token(buyer))
        self.assertEqual(status, 201, answer)
        self.assertEqual(self.sql("SELECT ship_to_name, qty FROM orders WHERE id = %d" % answer["id"]), [("李四", "1")])
        escaped = json.dumps(changed(ship_to=dict(SHIP_TO, name="王芳")), ensure_ascii=True).encode()  # \u738b\u82b3
        status, _, answer = s.request("POST", "/v1/orders", raw=escaped, token=buyer_token(buyer))
        self.assertEqual(status, 201, answer)
        self.assertEqual(self.sql("SELECT ship_to_name FROM orders WHERE id = %d" % answer["id"]), [("王芳",)])
        self.assertEqual(self.sql("SELECT COUNT(*) FROM orders")[0][0], str(int(before[0][0][0]) + 5))
        self.assertCountersExact(sku_id)

    def test_sold_out_restock_cancel(self):
        """8. Sold out answers at once; a restock and a cancel make units available again, at once."""
        s = self.server  # one kept-alive connection: one loop thread
        sku_id = self.new_sku(stock=3)
        body = {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}
        first = [self.order(new_buyer(), body) for _ in range(3)]
        self.assertEqual([a[0] for a in first], [201] * 3, first)
        for i in range(20):
            started = time.monotonic()
            status, _, answer = self.order(new_buyer(), body)
            took = time.monotonic() - started
            self.assertEqual((status, error_parts(answer)[0]), (409, "sold_out"), answer)
            self.assertLess(took, 0.5, "sold-out answer #%d took %.2f s" % (i, took))
        self.assertEqual(self.assertCountersExact(sku_id)["reserved"], 3)

        status, _, sku = s.request("POST", "/v1/skus/%d/restock" % sku_id, {"qty": 2}, token=self.coop)
        self.assertEqual(status, 200, sku)
        for _ in range(2):
            status, _, answer = self.order(new_buyer(), body)
            self.assertEqual(status, 201, "an order right after the restock: %d %r" % (status, answer))
        status, _, answer = self.order(new_buyer(), body)
        self.assertEqual((status, error_parts(answer)[0], answer["error"]["left"]), (409, "sold_out", 0), answer)
        self.assertEqual(self.assertCountersExact(sku_id), {"stock": 5, "reserved": 5, "sold": 0, "held": 0})

        buyer = new_buyer()
        status, _, mine = self.order(buyer, dict(body, qty=1))
        self.assertEqual(status, 409, mine)
        victim = first[0][2]["id"]
        owner = int(self.sql("SELECT buyer_id FROM orders WHERE id = %d" % victim)[0][0])
        status, _, cancelled = s.request("POST", "/v1/orders/%d/cancel" % victim, token=buyer_token(owner))
        self.assertEqual((status, cancelled.get("status")), (200, "cancelled"), cancelled)
        self.assertEqual(self.assertCountersExact(sku_id)["reserved"], 4)
        status, _, mine = self.order(buyer, body)
        self.assertEqual(status, 201, "the order right after a cancel: %d %r" % (status, mine))
        status, _, answer = self.order(new_buyer(), body)
        self.assertEqual((status, error_parts(answer)[0]), (409, "sold_out"), answer)
        self.assertEqual(self.assertCountersExact(sku_id), {"stock": 5, "reserved": 5, "sold": 0, "held": 0})

    def test_sold_out_still_replays_a_key(self):
        """A SKU known sold out still replays an order made with the buyer's key (the lane looks the key up, it does
        not refuse from its hint), a new key is sold out, and the key with another body is refused."""
        sku_id = self.new_sku(stock=2)
        body = {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}
        buyer = new_buyer()
        status, _, first = self.order(buyer, body, key="kept-1")
        self.assertEqual(status, 201, first)
        status, _, other = self.order(new_buyer(), body, key="kept-2")
        self.assertEqual(status, 201, other)
        status, _, answer = self.order(new_buyer(), body, key="late")
        self.assertEqual((status, error_parts(answer)[0]), (409, "sold_out"), answer)  # the lane now holds a hint
        for _ in range(3):
            status, headers, again = self.order(buyer, body, key="kept-1")
            self.assertEqual((status, again["id"], headers.get("idempotent-replayed")), (201, first["id"], "true"), again)
            status, _, answer = self.order(buyer, body, key="kept-3")
            self.assertEqual((status, error_parts(answer)[0]), (409, "sold_out"), answer)
        status, _, answer = self.order(buyer, dict(body, qty=2), key="kept-1")
        self.assertEqual(status, 422, answer)
        self.assertEqual(self.assertCountersExact(sku_id), {"stock": 2, "reserved": 2, "sold": 0, "held": 0})
        self.assertEqual(len(self.db_orders(sku_id)), 2)

    def test_cancels_at_once(self):
        """Cancels of one SKU's orders sent at once (applied in batches): each order cancelled once, a second cancel of
        it 409, another buyer's cancel 404, every unit back."""
        sku_id = self.new_sku(stock=60)
        body = {"sku_id": sku_id, "qty": 2, "ship_to": SHIP_TO}
        orders = []
        for _ in range(20):
            buyer = new_buyer()
            status, _, answer = self.order(buyer, body)
            self.assertEqual(status, 201, answer)
            orders.append((answer["id"], buyer))
        tries = [(oid, buyer) for oid, buyer in orders] + [(oid, buyer) for oid, buyer in orders[:5]] + \
                [(oid, new_buyer()) for oid, _ in orders[5:8]]
        results = self.server.requests_at_once(
            [("POST", "/v1/orders/%d/cancel" % oid, None, {"Authorization": "Bearer " + buyer_token(buyer)})
             for oid, buyer in tries])
        answers = [(oid, buyer) + result for (oid, buyer), result in zip(tries, results) if result is not None]
        self.assertEqual(len(answers), len(tries))
        owners = dict(orders)
        for oid, _ in orders:
            mine = sorted(a[2] for a in answers if a[0] == oid and a[1] == owners[oid])
            self.assertEqual(mine, [200] if oid not in dict(orders[:5]) else [200, 409], (oid, answers))
        self.assertEqual(sorted(a[2] for a in answers if a[1] != owners[a[0]]), [404] * 3)
        self.assertEqual(self.assertCountersExact(sku_id), {"stock": 60, "reserved": 0, "sold": 0, "held": 0})

    def test_restock_and_cancel_reach_every_loop_thread(self):
        """8, with --threads 2: after a restock or a cancel, orders on any connection (either loop thread) succeed."""
        s = self.server
        sku_id = self.new_sku(stock=2)
        body = {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}
        conns = [lb.Server(s.db, start=False) for _ in range(8)]  # clients only: each its own kept-alive connection
        for c in conns:
            c.port = s.port
        try:
            def order(c):
                st, _, a = c.request("POST", "/v1/orders", body, token=buyer_token(new_buyer()))
                return st, a

            granted = [order(conns[0])[1]["id"] for _ in range(2)]
            # Every connection sees "sold out": both threads' lanes now hold a sold-out hint.
            self.assertEqual([order(c)[0] for c in conns], [409] * len(conns))
            status, _, sku = conns[0].request("POST", "/v1/skus/%d/restock" % sku_id, {"qty": len(conns)}, token=self.coop)
            self.assertEqual(status, 200, sku)
            after_restock = [order(c) for c in conns]
            self.assertEqual([a[0] for a in after_restock], [201] * len(conns),
                             "orders on 8 connections right after a restock of 8: %r" % after_restock)
            granted += [a[1]["id"] for a in after_restock if a[0] == 201]
            owners = {int(a): int(b) for a, b in self.sql("SELECT id, buyer_id FROM orders WHERE sku_id = %d" % sku_id)}
            self.assertEqual([order(c)[0] for c in conns], [409] * len(conns))
            # One cancel, then at once an order on connection k: it gets the unit, whichever thread serves it.
            after_cancel = []
            for k, c in enumerate(conns):
                oid = granted[k]
                status, _, a = conns[0].request("POST", "/v1/orders/%d/cancel" % oid, token=buyer_token(owners[oid]))
                self.assertEqual(status, 200, a)
                after_cancel.append(order(c))
            self.assertEqual([a[0] for a in after_cancel], [201] * len(conns),
                             "orders on 8 connections, each right after a cancel: %r" % after_cancel)
            self.assertEqual(self.assertCountersExact(sku_id)["reserved"], 10)
        finally:
            for c in conns:
                c.close_connection()


class MaxBatchOneTest(Base):

    server_args = ["--buyer-secret", lb.BUYER_SECRET, "--max-batch", "1"] + lb.NO_CLIENT_CAPS

    def test_max_batch_1(self):
        """9. One transaction per order: 200 buyers at once on 50 units, exactly 50 granted."""
        s = self.server
        sku_id = self.new_sku(stock=50)
        requests = [(new_buyer(), new_key("mb1"), {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}) for _ in range(200)]
        results = burst([order_request(s.port, b, body, key=k) for b, k, body in requests])
        self.assertEqual(summary(results), {201: 50, 409: 150}, sample(results, lambda r: r.status not in (201, 409)))
        self.assertTrue(all(r.code == "sold_out" for r in results if r.status == 409))
        self.assertEqual(len(self.assertAnswersMatchDatabase(sku_id, requests, results)), 50)
        self.assertEqual(self.assertCountersExact(sku_id), {"stock": 50, "reserved": 50, "sold": 0, "held": 0})


class LostCommitTest(Base):
    """A batch whose COMMIT went through but whose answer was lost (every 3rd COMMIT, by livebuyd's test failure point
    LIVEBUY_FAULT_LOST_COMMIT): the batch runs again on a new connection, finds its orders by their ids, and never
    reserves twice."""

    server_env = {"LIVEBUY_FAULT_LOST_COMMIT": "3"}

    def test_lost_commit_reserves_once(self):
        s = self.server
        sku_id = self.new_sku(stock=300)
        requests = [(new_buyer(), new_key("lost"), {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}) for _ in range(400)]
        # Some with the server's own keys: the look-up after a lost COMMIT must find those too.
        items = [order_request(s.port, b, body, key=k if i % 2 == 0 else None) for i, (b, k, body) in enumerate(requests)]
        results = burst(items)
        self.assertTrue(s.running(), "livebuyd died")
        self.assertGreaterEqual(s.log().count("failure point: the answer to a COMMIT"), 1, "the failure point never fired")
        self.assertEqual(summary(results), {201: 300, 409: 100}, sample(results, lambda r: r.status not in (201, 409)))
        self.assertFalse([r for r in results if r.status == 201 and r.replayed], "a first answer marked as a replay")
        ids = [r.body["id"] for r in results if r.status == 201]
        self.assertEqual(len(set(ids)), 300, "two answers named the same order")
        rows = self.sql("SELECT COUNT(*), COUNT(DISTINCT buyer_id) FROM orders WHERE sku_id = %d" % sku_id)
        self.assertEqual(rows, [("300", "300")])
        self.assertEqual(self.assertCountersExact(sku_id), {"stock": 300, "reserved": 300, "sold": 0, "held": 0})


def shared_transactions(server):
    """(batches, transactions) the server committed: more batches than transactions when SKUs shared one."""
    text = server.metrics()
    return lb.metric(text, "livebuy_batches_total"), lb.metric(text, "livebuy_order_transactions_total")


class SpreadTest(Base):
    """Orders spread over many SKUs share transactions (each job locks its SKUs' rows in id order)."""

    def deadlocks(self):
        return int(self.sql("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'")[0][1])

    def test_two_processes_overlapping_skus_in_opposite_orders(self):
        """Two livebuyd on one database get orders on the same 40 SKUs, one in ascending and one in descending SKU
        order, in bursts: every order is granted, no deadlock happens and every counter agrees with the orders."""
        second = lb.Server(self.url, self.server_args)
        try:
            skus = self.new_skus(self.coop, 40, stock=100)
            before = self.deadlocks()
            requests, items = [], []
            for _ in range(3):
                for up, down in zip(skus, reversed(skus)):
                    for server, sku_id in ((self.server, up), (second, down)):
                        buyer, key, body = new_buyer(), new_key("spread"), {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}
                        requests.append((buyer, key, body))
                        items.append(order_request(server.port, buyer, body, key=key))
            for rnd in range(4):
                results = burst(items[rnd::4], per_conn=4)
                self.assertEqual(summary(results), {201: len(results)}, sample(results, lambda r: r.status != 201))
            self.assertEqual(self.deadlocks() - before, 0, "InnoDB reported deadlocks")
            for sku_id in skus:
                self.assertEqual(self.assertCountersExact(sku_id)["reserved"], 6)
            for server in (self.server, second):
                batches, transactions = shared_transactions(server)
                self.assertLess(transactions, batches, "no two SKUs ever shared a transaction on port %d" % server.port)
        finally:
            code = second.stop() if second.running() else "not running (crashed?)"
            self.assertEqual(code, 0, "the second livebuyd: %r" % code)

    def test_sell_out_limit_and_replay_across_skus(self):
        """A burst over 30 SKUs of 5 units each, 8 buyers on each SKU, each buyer's order sent twice with one key:
        per SKU exactly 5 granted, and both twins of a key get the same answer (one of them a replay)."""
        skus = self.new_skus(self.coop, 30, stock=5)
        requests, items = [], []
        for sku_id in skus:
            for _ in range(8):
                body = {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}
                buyer, key = new_buyer(), new_key("twin")
                for _ in range(2):
                    requests.append((buyer, key, body))
                    items.append(order_request(self.server.port, buyer, body, key=key))
        results = burst(items)
        for sku_id in skus:
            mine = [(q, r) for q, r in zip(requests, results) if q[2]["sku_id"] == sku_id]
            granted = {r.body["id"] for _, r in mine if r.status == 201}
            self.assertEqual(len(granted), 5, (sku_id, summary(r for _, r in mine)))
            for (q1, r1), (q2, r2) in zip(mine[::2], mine[1::2]):
                # Twins: the same answer, one of them a replay (or both the same refusal).
                self.assertEqual(r1.status, r2.status, (r1, r2))
                if r1.status == 201:
                    self.assertEqual(r1.body["id"], r2.body["id"])
                    self.assertNotEqual(r1.replayed, r2.replayed, (r1, r2))
                else:
                    self.assertEqual((r1.code, r2.code), ("sold_out", "sold_out"))
            self.assertAnswersMatchDatabase(sku_id, [q for q, _ in mine], [r for _, r in mine])
            self.assertEqual(self.assertCountersExact(sku_id)["reserved"], 5)
        batches, transactions = shared_transactions(self.server)
        self.assertLess(transactions, batches)


class SpreadLostCommitTest(Base):
    """A lost COMMIT of a transaction over many SKUs (every 3rd COMMIT): it runs again, finds each SKU's orders by their
    keys and ids, and reserves nothing twice."""

    server_env = {"LIVEBUY_FAULT_LOST_COMMIT": "3"}

    def test_lost_commit_of_many_skus(self):
        skus = self.new_skus(self.coop, 30, stock=6)
        requests, items = [], []
        for i in range(10):
            for sku_id in skus:
                requests.append((new_buyer(), new_key("lostmany"), {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}))
                key = requests[-1][1] if i % 2 == 0 else None
                items.append(order_request(self.server.port, requests[-1][0], requests[-1][2], key=key))
        results = burst(items)
        self.assertTrue(self.server.running(), "livebuyd died")
        self.assertGreaterEqual(self.server.log().count("failure point: the answer to a COMMIT"), 1)
        self.assertEqual(summary(results), {201: 180, 409: 120}, sample(results, lambda r: r.status not in (201, 409)))
        self.assertEqual(len({r.body["id"] for r in results if r.status == 201}), 180, "two answers named one order")
        for sku_id in skus:
            mine = [(q, r) for q, r in zip(requests, results) if q[2]["sku_id"] == sku_id]
            orders = self.db_orders(sku_id)
            self.assertEqual(len(orders), 6)
            granted = {r.body["id"] for _, r in mine if r.status == 201}
            self.assertEqual(granted, set(orders))
            self.assertEqual(self.assertCountersExact(sku_id)["reserved"], 6)
        batches, transactions = shared_transactions(self.server)
        self.assertLess(transactions, batches)


class SharedBlocksTest(Base):
    """Orders of several SKUs committed together share blocks of ids (sql/021_order_blocks_skus.sql): each is read by
    its id from a process that did not make it, listed for its buyer before and after the buyers' index takes its
    block, cancelled through that other process, and expired with every SKU's units given back."""

    server_args = Base.server_args + ["--reserve-ttl", "4"]

    def test_orders_of_several_skus_in_one_block(self):
        skus = self.new_skus(self.coop, 24, stock=10)
        requests, items = [], []
        for sku_id in skus:
            for _ in range(2):
                buyer, key, body = new_buyer(), new_key("block"), {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}
                requests.append((buyer, key, body))
                items.append(order_request(self.server.port, buyer, body, key=key))
        results = burst(items)
        self.assertEqual(summary(results), {201: 48}, sample(results, lambda r: r.status != 201))
        where = "sku_id BETWEEN %d AND %d" % (min(skus), max(skus))
        several = self.sql("SELECT first_id, size, skus FROM order_blocks WHERE skus IS NOT NULL AND " + where)
        self.assertTrue(several, "no block holds orders of several SKUs")
        for first_id, size, listed_skus in several:
            self.assertEqual(len(json.loads(listed_skus)), int(size))
            for i, sku_id in enumerate(json.loads(listed_skus)):
                self.assertEqual(self.sql("SELECT sku_id FROM orders WHERE id = %d" % (int(first_id) + i)), [(str(sku_id),)])
        mine = list(zip(requests, results))

        with lb.Server(self.url, list(self.server_args)) as other:
            # Read by id through a process that knows none of these blocks.
            for (buyer, _, body), r in mine:
                status, _, got = other.request("GET", "/v1/orders/%d" % r.body["id"], token=buyer_token(buyer))
                self.assertEqual((status, got["sku_id"]), (200, body["sku_id"]), got)
            # Listed while their blocks wait for the buyers' index: the blocks unlisted again and held by a session,
            # so the index skips them (SKIP LOCKED) and the listing reads them from the blocks (of several SKUs,
            # through their lists).
            self.sql("DELETE FROM buyer_orders WHERE %s; UPDATE order_blocks SET listed = 0 WHERE %s" % (where, where))
            holder = self.hold_locked("SELECT first_id FROM order_blocks WHERE %s FOR UPDATE" % where)
            try:
                for (buyer, _, body), r in mine:
                    status, _, page = other.request("GET", "/v1/orders", token=buyer_token(buyer))
                    self.assertEqual(status, 200, page)
                    self.assertEqual([o["id"] for o in page["orders"]], [r.body["id"]], (buyer, page))
            finally:
                holder.stdin.close()
                holder.wait(10)
            deadline = time.monotonic() + 10
            while self.sql("SELECT COUNT(*) FROM order_blocks WHERE listed = 0 AND " + where) != [("0",)]:
                self.assertLess(time.monotonic(), deadline, "blocks still not listed")
                time.sleep(0.05)
            listed = self.sql("SELECT buyer_id, order_id, sku_id FROM buyer_orders WHERE %s ORDER BY buyer_id, order_id"
                              % where)
            expected = self.sql("SELECT buyer_id, id, sku_id FROM orders WHERE %s ORDER BY buyer_id, id" % where)
            self.assertEqual(listed, expected)
            # Cancelled through the other process: the first order of each SKU.
            for (buyer, _, body), r in mine[::2]:
                status, _, got = other.request("POST", "/v1/orders/%d/cancel" % r.body["id"], token=buyer_token(buyer))
                self.assertEqual((status, got["status"]), (200, "cancelled"), got)

        # The rest expire (--reserve-ttl 4): every SKU gets its unit back, and each block's due time is cleared.
        deadline = time.monotonic() + 15
        while self.sql("SELECT COUNT(*) FROM orders WHERE status = 'reserved' AND " + where) != [("0",)]:
            self.assertLess(time.monotonic(), deadline, "reservations not expired")
            time.sleep(0.2)
        self.assertEqual(sorted(self.sql("SELECT status, COUNT(*) FROM orders WHERE %s GROUP BY status" % where)),
                         [("cancelled", "24"), ("expired", "24")])
        self.assertEqual(self.sql("SELECT COUNT(*) FROM order_blocks WHERE due_at IS NOT NULL AND " + where), [("0",)])
        for sku_id in skus:
            self.assertEqual(self.assertCountersExact(sku_id), {"stock": 10, "reserved": 0, "sold": 0, "held": 0})


class BusyTest(Base):
    """A bounded queue: past --max-queue orders waiting in the process, the answer is 429 busy with Retry-After, at once."""

    server_args = ["--buyer-secret", lb.BUYER_SECRET, "--max-queue", "5"] + lb.NO_CLIENT_CAPS

    def test_full_queue_answers_busy(self):
        s = self.server
        sku_id = self.new_sku(stock=1000)
        requests = [(new_buyer(), new_key("busy"), {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}) for _ in range(300)]
        results = burst([order_request(s.port, b, body, key=k) for b, k, body in requests])
        self.assertTrue(s.running(), "livebuyd died")
        counts = summary(results)
        self.assertEqual(set(counts) - {201, 429}, set(), sample(results, lambda r: r.status not in (201, 429)))
        self.assertGreater(counts.get(429, 0), 0, "a queue of 5 took 300 orders at once")
        self.assertGreater(counts.get(201, 0), 0)
        for r in results:
            if r.status == 429:
                self.assertEqual(r.code, "busy", r)
                self.assertEqual(r.headers.get("retry-after"), "1", r)
        granted = self.assertAnswersMatchDatabase(sku_id, requests, results)
        self.assertEqual(len(granted), counts[201])
        self.assertEqual(self.assertCountersExact(sku_id)["reserved"], counts[201])
        # A refused order changed nothing: its retry with the same key is a first answer, not a replay.
        retry = [(q, r) for q, r in zip(requests, results) if r.status == 429][:3]
        again = burst([order_request(s.port, b, body, key=k) for (b, k, body), _ in retry])
        self.assertEqual([(a.status, a.replayed) for a in again], [(201, False)] * len(retry), again)


class ThreeProcessesTest(Base):

    def test_three_processes_one_database(self):
        """2. Three livebuyd on one database, bursts at all three at once: no oversell, quota and per-buyer limit held."""
        servers = [self.server] + [lb.Server(self.url, self.server_args) for _ in range(2)]
        try:
            sku_id = self.new_sku(stock=500)
            item_id = self.new_live_item(sku_id, quota=200, per_buyer_limit=1)
            self.assertEqual(self.sku_row(sku_id)["held"], 200)
            requests, items = [], []
            # 300 buyers try the live item once at each process (900 requests); 600 buyers buy the SKU directly.
            for _ in range(300):
                buyer = new_buyer()
                for s in servers:
                    requests.append((buyer, new_key("live"), {"live_item_id": item_id, "qty": 1, "ship_to": SHIP_TO}))
                    items.append(order_request(s.port, buyer, requests[-1][2], key=requests[-1][1]))
            for i in range(600):
                requests.append((new_buyer(), new_key("direct"), {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}))
                items.append(order_request(servers[i % 3].port, requests[-1][0], requests[-1][2], key=requests[-1][1]))
            # Interleave so that all three processes get their share from the start.
            order = sorted(range(len(items)), key=lambda i: (i * 7919) % len(items))
            requests = [requests[i] for i in order]
            items = [items[i] for i in order]
            results = burst(items)
            for s in servers:
                self.assertTrue(s.running(), "livebuyd on port %d died" % s.port)

            live = [(q, r) for q, r in zip(requests, results) if "live_item_id" in q[2]]
            direct = [(q, r) for q, r in zip(requests, results) if "sku_id" in q[2]]
            self.assertEqual(summary(r for _, r in direct), {201: 300, 409: 300},
                             sample([r for _, r in direct], lambda r: r.status not in (201, 409)))
            live_counts = summary(r for _, r in live)
            self.assertEqual(live_counts.get(201), 200, live_counts)
            self.assertEqual(set(live_counts) - {201, 409, 422}, set(), sample([r for _, r in live],
                                                                               lambda r: r.status not in (201, 409, 422)))
            for _, r in live:
                if r.status == 409:
                    self.assertEqual(r.code, "sold_out", r)
                elif r.status == 422:
                    self.assertEqual(r.code, "limit_exceeded", r)
            per_buyer = {}
            for (buyer, _, _), r in live:
                per_buyer[buyer] = per_buyer.get(buyer, 0) + (r.status == 201)
            self.assertLessEqual(max(per_buyer.values()), 1, "a buyer got two units of a limit-1 item")

            orders = self.assertAnswersMatchDatabase(sku_id, requests, results)
            self.assertEqual(len(orders), 500)
            self.assertEqual(self.sql("SELECT buyer_id, SUM(qty) FROM orders WHERE live_item_id = %d GROUP BY buyer_id "
                                      "HAVING SUM(qty) > 1" % item_id), [])
            self.assertEqual(self.sql("SELECT reserved, quota FROM live_items WHERE id = %d" % item_id), [("200", "200")])
            for s in servers:
                row = self.assertCountersExact(sku_id, server=s)
            self.assertEqual(row, {"stock": 500, "reserved": 500, "sold": 0, "held": 0})
        finally:
            for s in servers[1:]:
                code = s.stop() if s.running() else "not running (crashed?)"
                self.assertEqual(code, 0, "livebuyd on port %s: %r" % (s.port, code))


class KillTest(Base):

    def test_sigkill_in_a_burst(self):
        """5. SIGKILL in the middle of a burst, restart: counters equal the orders; every key resent is answered by
        its order (replayed) or afresh; no oversell."""
        s = self.server
        sku_id = self.new_sku(stock=1200)
        requests = [(new_buyer(), new_key("crash"), {"sku_id": sku_id, "qty": 1 + (i % 3 == 0), "ship_to": SHIP_TO})
                    for i in range(2000)]
        # 200 connections with 10 requests each, one after another, so that the burst lasts long enough to be cut:
        # the kill comes 0.3 s after the burst starts, or as soon as a third of it is answered.
        items = [order_request(s.port, b, body, key=k) for b, k, body in requests]
        bg = BackgroundBurst(items, per_conn=10, timeout=20)
        bg.start()
        self.assertTrue(bg.fired.wait(30), "the burst's connections did not open")
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline and bg.progress[0] < len(items) // 3:
            time.sleep(0.002)
        s.kill()
        killed_after = bg.progress[0]
        results = bg.finish(60)
        answered = [r for r in results if r.status is not None]
        self.assertLess(len(answered), len(results), "the whole burst was answered before the kill (%r): nothing was "
                        "cut; make the burst longer" % summary(results))
        self.assertEqual(set(summary(answered)) - {201, 409}, set(), sample(answered, lambda r: r.status not in (201, 409)))
        self.assertGreater(killed_after, 0, "nothing was answered before the kill")

        s.start()
        orders = self.assertAnswersMatchDatabase(sku_id, requests, results)  # every 201 before the kill was committed
        row = self.assertCountersExact(sku_id)
        by_key = {(o[0], o[1]): oid for oid, o in orders.items()}
        self.assertEqual(len(by_key), len(orders))

        again = burst(items, per_conn=5)
        self.assertTrue(s.running())
        self.assertEqual(set(summary(again)) - {201, 409}, set(), sample(again, lambda r: r.status not in (201, 409)))
        for (buyer, key, body), before, r in zip(requests, results, again):
            oid = by_key.get((buyer, key))
            if oid is not None:
                self.assertEqual((r.status, r.replayed), (201, True),
                                 "key %s (order %d in the database, answered %r before the kill) resent: %r"
                                 % (key, oid, before, r))
                self.assertEqual(r.body["id"], oid)
            else:
                self.assertFalse(r.replayed, "key %s had no order, resent: %r" % (key, r))
                if r.status == 409:
                    self.assertEqual(r.code, "sold_out")
        after = self.assertAnswersMatchDatabase(sku_id, requests, again)
        self.assertTrue(set(orders) <= set(after))
        self.assertEqual(len({(o[0], o[1]) for o in after.values()}), len(after))
        row = self.assertCountersExact(sku_id)
        self.assertEqual(row["reserved"], sum(o[2] for o in after.values()))
        # 2000 requests for 2667 units on 1200: the SKU ends sold out to the unit, or every request got its order.
        if len(after) < len(requests):
            self.assertGreater(row["reserved"], 1200 - 2, row)
        self.assertIn("start #2", s.log())


class OutageTest(Base):
    """6. MariaDB stopped in the middle of a burst (a MariaDB of this test's own)."""

    private_mariadb = True  # this test stops its own

    def test_database_stops_in_a_burst(self):
        s = self.server
        sku_id = self.new_sku(stock=1000000)
        stop = threading.Event()
        log = []  # (buyer, key, body, answer)
        loop_timeout = 15.0

        async def one_connection(n):
            reader = writer = None
            for i in range(400):
                if stop.is_set():
                    break
                buyer, key = new_buyer(), new_key("outage")
                body = {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}
                sent_at = time.monotonic()
                try:
                    if writer is None:
                        reader, writer = await _connect(s.port, loop_timeout)
                    writer.write(order_request(s.port, buyer, body, key=key)[1])
                    status, headers, answer = await asyncio.wait_for(lb.read_answer(reader), loop_timeout)
                    r = Answer(status, headers, answer, sent_at, time.monotonic())
                    if headers.get("connection", "").lower() == "close":
                        writer.close()
                        writer = None
                except (OSError, EOFError, ValueError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                    r = Failed(repr(e), sent_at)
                    if writer is not None:
                        writer.close()
                    writer = None
                log.append((buyer, key, body, r))
                await asyncio.sleep(0.02)
            if writer is not None:
                writer.close()

        async def all_connections():
            await asyncio.gather(*[one_connection(n) for n in range(40)])

        bg = threading.Thread(target=asyncio.run, args=(all_connections(),), daemon=True)
        bg.start()
        time.sleep(0.5)
        stop_began = time.monotonic()
        self.mdb.stop()
        stopped = time.monotonic()
        health = []
        for _ in range(8):
            health.append(s.request("GET", "/healthz", timeout=5)[0])
            time.sleep(0.25)
        stop.set()
        bg.join(loop_timeout + 30)
        self.assertFalse(bg.is_alive(), "the burst did not end")
        self.assertTrue(s.running(), "livebuyd died in the outage")
        self.assertEqual(health, [200] * len(health), "/healthz during the outage")

        results = [e[3] for e in log]
        counts = summary(results)
        self.assertEqual(set(counts) - {201, 503}, set(),
                         "answers in the burst: %r; samples: %r" % (counts, sample(results, lambda r: r.status not in (201, 503))))
        self.assertGreater(counts.get(201, 0), 0, "no order got through before the outage: %r" % counts)
        self.assertGreater(counts.get(503, 0), 0, "no 503 during the outage: %r" % counts)
        for r in results:
            if r.status == 503:
                self.assertEqual(r.code, "unavailable", r)
                self.assertIn("retry-after", r.headers, r)
            self.assertLess(r.answered_at - r.sent_at, loop_timeout)
        late = [r for r in results if r.sent_at > stopped]
        self.assertTrue(late, "no request was sent after the database had stopped")
        self.assertEqual(summary(late), {503: len(late)}, "answers to requests sent while the database was down")
        slow = [r for r in late if r.answered_at - r.sent_at > 5.0]
        self.assertEqual(slow, [], "answers during the outage that took over 5 s (the stop took %.1f s)"
                         % (stopped - stop_began))

        self.mdb.start()
        self.assertTrue(lb.wait_for(lambda: s.request("GET", "/readyz", timeout=5)[0] == 200, 15),
                        "/readyz did not turn 200 within 15 s of the database's return")
        time.sleep(2.5)  # every worker reconnects within its backoff
        orders = self.assertAnswersMatchDatabase(sku_id, [e[:3] for e in log], results)
        row = self.assertCountersExact(sku_id)
        self.assertEqual(row["reserved"], len(orders))
        # New orders succeed again, on fresh connections too.
        fresh = [(new_buyer(), new_key("back"), {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}) for _ in range(20)]
        again = burst([order_request(s.port, b, body, key=k) for b, k, body in fresh])
        self.assertEqual(summary(again), {201: 20}, again)
        self.assertEqual(self.order(new_buyer(), {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO})[0], 201)
        self.assertEqual(self.assertCountersExact(sku_id)["reserved"], len(orders) + 21)
        self.assertEqual(s.request("GET", "/healthz")[0], 200)


class MerchantListingTest(Base):
    """GET /v1/merchant/orders, found through the merchant's SKUs (orders has no merchant index): pages in id order
    across SKUs and across groups of SKUs (32 a statement), with and without status, no other merchant's orders.
    (test_lives.py's MerchantOrdersTest covers the refusals and live-item orders.)"""

    def reserve(self, sku_id):
        buyer = new_buyer()
        status, _, answer = self.order(buyer, {"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO})
        self.assertEqual(status, 201, answer)
        return answer["id"], buyer

    def cancel(self, order_id, buyer):
        status, _, answer = self.server.request("POST", "/v1/orders/%d/cancel" % order_id, token=buyer_token(buyer))
        self.assertEqual(status, 200, answer)

    def page(self, token, query):
        status, _, body = self.server.request("GET", "/v1/merchant/orders" + query, token=token)
        self.assertEqual(status, 200, body)
        return body

    def walk(self, token, limit, status=None):
        """Every page of limit from the start, checking each page's next; the orders seen, in order."""
        seen, after = [], 0
        while True:
            query = "?limit=%d&after=%d" % (limit, after) + ("&status=" + status if status else "")
            page = self.page(token, query)
            seen += page["orders"]
            self.assertLessEqual(len(page["orders"]), limit, query)
            if page["next"] is None:
                self.assertLess(len(page["orders"]), limit, query)
                return seen
            self.assertEqual((len(page["orders"]), page["next"]), (limit, page["orders"][-1]["id"]), query)
            after = page["next"]

    def assertWalks(self, token, expected, statuses):
        """Pages of 2..5 and one of 200, all statuses and each of statuses, give exactly the expected orders by id.
        expected: {order id: (sku_id, buyer_id, status)}."""
        for status in [None] + statuses:
            want = sorted(i for i, o in expected.items() if status is None or o[2] == status)
            for limit in (2, 3, 4, 5, 200):
                seen = self.walk(token, limit, status)
                self.assertEqual([o["id"] for o in seen], want, "limit %d, status %s" % (limit, status))
                for o in seen:
                    self.assertEqual((o["sku_id"], o["buyer_id"], o["status"]), expected[o["id"]], o)

    def test_orders_of_several_skus_interleaved(self):
        _, other_coop = self.server.create_merchant("coop", "沁县合作社")
        mine = self.new_skus(self.coop, 3) + [self.new_sku(stock=100)]
        theirs = self.new_skus(other_coop, 2)
        expected, buyers = {}, {}
        # Round-robin, with the other merchant's orders between: each page takes orders from every SKU.
        for i in range(17):
            sku_id = mine[(i * 3) % len(mine)] if i % 5 != 4 else mine[0]
            order_id, buyer = self.reserve(sku_id)
            expected[order_id], buyers[order_id] = (sku_id, buyer, "reserved"), buyer
            self.reserve(theirs[i % 2])
        for order_id in sorted(expected)[1::3]:
            self.cancel(order_id, buyers[order_id])
            expected[order_id] = expected[order_id][:2] + ("cancelled",)
        self.assertEqual(sorted(expected), [int(r[0]) for r in self.sql(
            "SELECT o.id FROM orders o JOIN skus s ON s.id = o.sku_id WHERE s.merchant_id = %d ORDER BY o.id"
            % self.coop_id)])
        self.assertWalks(self.coop, expected, ["reserved", "cancelled"])
        self.assertEqual(self.page(self.coop, "?status=paid"), {"orders": [], "next": None})
        ids = sorted(expected)
        self.assertEqual([o["id"] for o in self.page(self.coop, "?limit=3&after=%d" % ids[7])["orders"]], ids[8:11])
        self.assertEqual(self.page(self.coop, "?after=%d" % ids[-1]), {"orders": [], "next": None})
        # The other merchant sees its own orders only; a merchant without SKUs, none.
        self.assertEqual([o["sku_id"] for o in self.walk(other_coop, 200)], [theirs[i % 2] for i in range(17)])
        _, nothing = self.server.create_merchant("coop", "新合作社")
        self.assertEqual(self.page(nothing, ""), {"orders": [], "next": None})
        self.assertEqual(self.page(self.host, "?status=reserved"), {"orders": [], "next": None})

    def test_more_skus_than_one_statement_takes(self):
        _, many = self.server.create_merchant("coop", "沁州黄小米联合社")
        skus = self.new_skus(many, 70)  # groups of 32, 32 and 6
        first, middle, last = skus[0], skus[40], skus[-1]
        expected, buyers = {}, {}
        for i in range(14):
            sku_id = (last, first, middle, last)[i % 4]
            order_id, buyer = self.reserve(sku_id)
            expected[order_id], buyers[order_id] = (sku_id, buyer, "reserved"), buyer
        for order_id in sorted(expected)[::4]:
            self.cancel(order_id, buyers[order_id])
            expected[order_id] = expected[order_id][:2] + ("cancelled",)
        self.assertWalks(many, expected, ["reserved", "cancelled"])
        # From a cursor in the middle of the list.
        ids = sorted(expected)
        page = self.page(many, "?limit=2&after=%d" % ids[5])
        self.assertEqual(([o["id"] for o in page["orders"]], page["next"]), (ids[6:8], ids[7]))


if __name__ == "__main__":
    lb.main()
