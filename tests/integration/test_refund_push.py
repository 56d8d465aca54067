"""The refund push (the refund outbox): pending refunds pushed to a real HTTP receiver standing in for the payment
provider, generic (HMAC-signed, Idempotency-Key refund-ID) and wechatpay (the API v3 refund request, its Authorization
signature verified with openssl against the merchant key's public half). A receiver that fails N times then
acknowledges gets exactly one refund per order; the last attempt leaves a dead refund that a retry sends again; a 4xx
fails it at once; an answer that says refunded confirms it at once. Real HTTP against a real MariaDB."""

import base64
import hashlib
import hmac
import itertools
import json
import os
import re
import subprocess
import tempfile
import threading
import time

import lb

SHIP_TO = {"name": "王五", "phone": "13700000000", "address": "山西省长治市武乡县丰州镇"}
REFUND_ARGS = ["--refund-backoff-ms", "50"]
MERCHANT_KEY = os.path.join(os.environ.get("LIVEBUY_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
                            "tests", "data", "wechatpay-merchant-example.pem")
MCHID, MERCHANT_SERIAL = "1900000001", "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
WECHATPAY_PATH = "/v3/refund/domestic/refunds"
NOTIFY_URL = "https://shop.example.com/v1/payments/wechatpay/notify"
STATION = {"name": "丰州镇服务站", "county": "武乡县", "township": "丰州镇", "village": "东村", "address": "供销社北侧"}

_keys = itertools.count(1)
_txns = itertools.count(1)


def metric(text, name, labels=""):
    match = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return float(match.group(1)) if match else 0.0


def verify_wechatpay(authorization, body, public_key_path):
    """What is wrong with a WeChat Pay v3 request's Authorization (None when nothing), checked as WeChat Pay does: the
    scheme, mchid and serial_no, and the RSA-SHA256 signature of METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY\\n (openssl)."""
    scheme, _, params = authorization.partition(" ")
    if scheme != "WECHATPAY2-SHA256-RSA2048":
        return "scheme %r" % scheme
    fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
    if set(fields) != {"mchid", "nonce_str", "signature", "timestamp", "serial_no"}:
        return "fields %r" % sorted(fields)
    if (fields["mchid"], fields["serial_no"]) != (MCHID, MERCHANT_SERIAL):
        return "mchid or serial_no %r" % fields
    if abs(int(fields["timestamp"]) - time.time()) > 300:
        return "stale timestamp"
    message = b"POST\n%s\n%s\n%s\n%s\n" % (WECHATPAY_PATH.encode(), fields["timestamp"].encode(),
                                          fields["nonce_str"].encode(), body)
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "message"), "wb") as f:
            f.write(message)
        with open(os.path.join(folder, "signature"), "wb") as f:
                        f.write(base64.b64decode(fields["signature"]))
        done = subprocess.run(["openssl", "dgst", "-sha256", "-verify", public_key_path, "-signature",
                               os.path.join(folder, "signature"), os.path.join(folder, "message")],
                              capture_output=True)
    return None if done.returncode == 0 else "bad signature"


class Receiver(lb.HttpReceiver):
    """The payment provider's refund API: an HTTP server on 127.0.0.1 that checks each push (generic: the signature and
    the Idempotency-Key; wechatpay: the Authorization) and takes each refund once (a repeated key is answered as the
    first time, not taken again). It refuses the first `fail_first` pushes with 500, refuses every push with 500 when
    `always_fail`, refuses every push with `refuse` (a status) when given, and answers `answer(document)` (a dict, of the push's
    body) on success."""

    def __init__(self, wechatpay=False, fail_first=0, always_fail=False, refuse=None, answer=None):
        self.lock = threading.Lock()
        self.wechatpay = wechatpay
        self.fail_left, self.always_fail = fail_first, always_fail
        self.refuse = refuse
        self.answer = answer or (lambda document: {})
        self.taken = {}  # key (Idempotency-Key or out_refund_no) -> the body of its first taken push
        self.accepted = {}  # key -> pushes answered 2xx
        self.refused = 0
        self.pushes = []  # (key, status) of every push, in order
        self.problems = []
        self.public_key = None
        if wechatpay:
            self.folder = tempfile.mkdtemp(prefix="lbwx-")
            self.public_key = os.path.join(self.folder, "merchant-public.pem")
            subprocess.run(["openssl", "pkey", "-in", MERCHANT_KEY, "-pubout", "-out", self.public_key], check=True)
        super().__init__()

    @property
    def url(self):
        return "http://127.0.0.1:%d%s" % (self.port, WECHATPAY_PATH if self.wechatpay else "/refunds")

    def check(self, request, body):
        """(key, refund id, document), or a string saying what is wrong with the push."""
        if request.path != WECHATPAY_PATH and self.wechatpay:
            return "path %s" % request.path
        if request.headers.get("Content-Type") != "application/json":
            return "Content-Type %r" % request.headers.get("Content-Type")
        document = json.loads(body)
        if self.wechatpay:
            problem = verify_wechatpay(request.headers.get("Authorization", ""), body, self.public_key)
            if problem:
                return problem
            return document["out_refund_no"], int(document["out_refund_no"]), document
        ts, sig = request.headers.get("X-Livebuy-Timestamp"), request.headers.get("X-Livebuy-Signature")
        key = request.headers.get("Idempotency-Key")
        if ts is None or sig is None or key is None:
            return "missing headers"
        mac = hmac.new(lb.PAYMENT_SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, "sha256=" + mac):
            return "bad signature"
        if key != "refund-%d" % document.get("refund_id", 0):
            return "Idempotency-Key %s for refund %r" % (key, document.get("refund_id"))
        return key, document["refund_id"], document

    def handle(self, request):
        body = request.rfile.read(int(request.headers.get("Content-Length", "0")))
        checked = self.check(request, body)
        answer = {}
        with self.lock:
            if isinstance(checked, str):
                self.problems.append(checked)
                status, key = 401, None
            else:
                key, refund_id, document = checked
                if self.always_fail or self.fail_left > 0:
                    self.fail_left = max(0, self.fail_left - 1)
                    self.refused += 1
                    status = 500
                elif self.refuse:
                    status = self.refuse
                    answer = {"code": "INVALID_REQUEST", "message": "refused by the test"}
                else:
                    status = 200
                    self.taken.setdefault(key, document)
                    self.accepted[key] = self.accepted.get(key, 0) + 1
                    answer = self.answer(document)
            self.pushes.append((key, status))
        self.reply(request, status, json.dumps(answer).encode())

    def taken_ids(self):
        with self.lock:
            return {int(key.rpartition("-")[2]) for key in self.taken}


class Base(lb.ServerTestCase):
    """A database, a livebuyd pushing refunds to a receiver (extra flags from refund_args), a co-op selling one SKU."""

    refund_args = []

    @classmethod
    def setUpClass(cls):
        cls.receiver = cls.make_receiver()
        cls.server_args = lb.ServerTestCase.server_args + REFUND_ARGS + ["--refund-url", cls.receiver.url] + cls.refund_args
        super().setUpClass()
        cls.coop_id, cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")
        skus = [{"name": "2.5kg 礼盒", "price_cents": 5990, "stock": 1000, "weight_grams": 2700}]
        cls.sku_id = cls.server.create_product(cls.coop, skus, title="武乡小米")["skus"][0]["id"]

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.receiver.close()

    @classmethod
    def make_receiver(cls):
        return Receiver()

    def pay_order(self, buyer, qty=1, server=None, target=None):
        """Reserves qty of the SKU (or of target, e.g. a group-buy) for buyer and pays it (a signed notify): (order id,
        provider_txn_id)."""
        server = server or self.server
        order_body = dict(target, qty=qty) if target else {"sku_id": self.sku_id, "qty": qty, "ship_to": SHIP_TO}
        status, _, order = server.request("POST", "/v1/orders", order_body,
                                          token=lb.buyer_token(buyer), headers={"Idempotency-Key": "r-%d" % next(_keys)})
        self.assertEqual(status, 201, order)
        txn = "rt-%d-%d" % (time.time_ns(), next(_txns))
        body = json.dumps({"order_id": order["id"], "provider_txn_id": txn, "amount_cents": order["amount_cents"]}).encode()
        status, _, answer = server.request("POST", "/v1/payments/notify", raw=body, headers=lb.signed(body))
        self.assertEqual((status, answer["status"]), (200, "paid"), answer)
        return order["id"], txn

    def make_refund(self, buyer, reason="", server=None, before=None):
        """A paid order whose buyer asks for the money back before handoff (POST /v1/orders/{id}/refund): refunded at
        once, a pending refund of its payment; before(provider_txn_id) is called first. Returns (refund id, order id,
        provider_txn_id)."""
        server = server or self.server
        order_id, txn = self.pay_order(buyer, server=server)
        if before:
            before(txn)
        status, _, answer = server.request("POST", "/v1/orders/%d/refund" % order_id, {"reason": reason},
                                           token=lb.buyer_token(buyer))
        self.assertEqual((status, answer.get("status")), (200, "refund_required"), answer)
        refund_id = int(self.sql("SELECT id FROM refunds WHERE order_id = %d" % order_id)[0][0])
        return refund_id, order_id, txn

    def decide(self, refund_id, action):
        return self.server.request("POST", "/v1/refunds/%d/%s" % (refund_id, action), {}, token=self.coop)

    def refund(self, refund_id):
        row = self.sql("SELECT status, attempts, last_error, provider_refund_id, claimed_by FROM refunds WHERE id = %d"
                       % refund_id)[0]
        return dict(zip(("status", "attempts", "last_error", "provider_refund_id", "claimed_by"), row))

    def order_status(self, order_id):
        return self.sql("SELECT status FROM orders WHERE id = %d" % order_id)[0][0]

    def wait_status(self, refund_ids, status, timeout):
        def done():
            return all(self.refund(i)["status"] == status for i in refund_ids)
        if not lb.wait_for(done, timeout):
            self.fail("not all refunds %s within %d s: %r" % (status, timeout, [self.refund(i) for i in refund_ids]))


class PushTest(lb.SecondServer, Base):
    """Two livebuyd processes on one database push to a receiver that refuses three pushes, then takes them: each
    refund arrives once, is sent, and its provider id is kept."""

    @classmethod
    def make_receiver(cls):
        return Receiver(fail_first=3, answer=lambda document: {"status": "processing",
                                                               "provider_refund_id": "P-%d" % document["refund_id"]})

    def test_each_refund_arrives_once(self):
        made = [self.make_refund(400 + i, reason="买错了 %d" % i, server=(self.server, self.second)[i % 2])
                for i in range(6)]
        refund_ids = [m[0] for m in made]
        self.wait_status(refund_ids, "sent", 20)
        receiver = self.receiver
        self.assertEqual(receiver.problems, [])
        self.assertEqual(receiver.refused, 3)
        # Exactly one refund per order at the provider, taken once: with two processes a row is sent by one at a time.
        self.assertEqual(receiver.taken_ids(), set(refund_ids))
        self.assertEqual(receiver.accepted, {"refund-%d" % i: 1 for i in refund_ids})
        refund_id, order_id, txn = made[1]
        self.assertEqual(receiver.taken["refund-%d" % refund_id],
                         {"refund_id": refund_id, "order_id": order_id, "sku_id": self.sku_id, "provider_txn_id": txn,
                          "amount_cents": 5990, "cause": "buyer", "reason": "买错了 1"})
        rows = [self.refund(i) for i in refund_ids]
        self.assertEqual(sum(int(r["attempts"]) for r in rows), 3, rows)
        self.assertTrue(all(r["claimed_by"] is None and r["last_error"] is None for r in rows), rows)
        self.assertEqual([r["provider_refund_id"] for r in rows], ["P-%d" % i for i in refund_ids])
        # Sent is not refunded: the orders wait for the provider's notification.
        self.assertEqual({self.order_status(m[1]) for m in made}, {"refund_required"})
        # The provider's signed notification settles one (POST /v1/refunds/notify): refunded, its order too.
        refund_id, order_id, _ = made[0]
        body = json.dumps({"refund_id": refund_id, "order_id": order_id, "status": "refunded", "amount_cents": 5990,
                           "provider_refund_id": "P-%d" % refund_id}).encode()
        status, _, answer = self.server.request("POST", "/v1/refunds/notify", raw=body, headers=lb.signed(body))
        self.assertEqual((status, answer["status"]), (200, "refunded"), answer)
        self.assertEqual((self.refund(refund_id)["status"], self.order_status(order_id)), ("refunded", "refunded"))

        def totals():
            texts = [self.server.metrics(), self.second.metrics()]
            return [sum(metric(t, "livebuy_refund_pushes_total", '{result="%s"}' % r) for t in texts)
                    for r in ("sent", "refused", "failed")] + [max(metric(t, "livebuy_refunds_pending") for t in texts)]
        self.assertTrue(lb.wait_for(lambda: totals() == [6, 0, 3, 0], 5), totals())


class ConfirmAtOnceTest(Base):
    """A provider whose answer says the money went back: the refund is refunded at once, its order too."""

    @classmethod
    def make_receiver(cls):
        return Receiver(answer=lambda document: {"status": "refunded",
                                                 "provider_refund_id": "R-%d" % document["refund_id"]})

    def test_answer_confirms(self):
        refund_id, order_id, _ = self.make_refund(500)
        self.wait_status([refund_id], "refunded", 10)
        self.assertEqual(self.refund(refund_id)["provider_refund_id"], "R-%d" % refund_id)
        self.assertEqual(self.order_status(order_id), "refunded")
        self.assertEqual(self.receiver.accepted, {"refund-%d" % refund_id: 1})
        text = self.server.metrics()
        self.assertEqual(metric(text, "livebuy_refund_pushes_total", '{result="sent"}'), 1)

    def test_failed_campaign_refunds_pushed_and_confirmed(self):
        """A group-buy that fails: the closer refunds its paid joins, and each refund reaches the provider once and is
        confirmed by its answer; the SKU's units are all back."""
        point = self.server.create_pickup_point(self.coop, STATION)
        body = {"sku_id": self.sku_id, "pickup_point_id": point, "price_cents": 6990, "min_qty": 50,
                "per_buyer_limit": 5, "closes_at": int(time.time()) + 3}
        status, _, gb = self.server.request("POST", "/v1/group-buys", body, token=self.coop)
        self.assertEqual(status, 201, gb)
        joins = [self.pay_order(510 + i, qty=2, target={"group_buy_id": gb["id"]})[0] for i in range(3)]
        self.assertTrue(lb.wait_for(lambda: len(self.sql("SELECT id FROM refunds WHERE order_id IN (%s) AND status = "
                                                         "'refunded'" % ",".join(map(str, joins)))) == 3, 20),
                        self.sql("SELECT order_id, cause, status FROM refunds"))
        self.assertEqual(self.sql("SELECT status FROM group_buys WHERE id = %d" % gb["id"])[0][0], "failed")
        self.assertEqual({self.order_status(o) for o in joins}, {"refunded"})
        refunds = self.sql("SELECT id, cause, amount_cents FROM refunds WHERE order_id IN (%s)" % ",".join(map(str, joins)))
        self.assertEqual({(r[1], r[2]) for r in refunds}, {("campaign_failed", "13980")})
        self.assertEqual({k: v for k, v in self.receiver.accepted.items() if int(k[7:]) in {int(r[0]) for r in refunds}},
                         {"refund-%s" % r[0]: 1 for r in refunds})
        sku = self.server.sku(self.sku_id)
        self.assertEqual((sku["sold"], sku["reserved"]), (0, 0), sku)


class DeadTest(Base):
    """A receiver that always fails: after --refund-max-attempts pushes the refund is dead, and stays so."""

    refund_args = ["--refund-max-attempts", "2"]

    @classmethod
    def make_receiver(cls):
        return Receiver(always_fail=True)

    def test_dead_after_the_last_attempt(self):
        refund_id, order_id, _ = self.make_refund(600)
        self.wait_status([refund_id], "dead", 10)
        row = self.refund(refund_id)
        self.assertEqual((row["attempts"], row["claimed_by"]), ("2", None))
        self.assertIn("HTTP 500", row["last_error"])
        time.sleep(1.0)  # no more pushes for a dead refund
        self.assertEqual(self.receiver.pushes, [("refund-%d" % refund_id, 500)] * 2)
        self.assertEqual(self.order_status(order_id), "refund_required")
        text = self.server.metrics()
        self.assertEqual(metric(text, "livebuy_refund_pushes_total", '{result="failed"}'), 2)
        self.assertEqual(metric(text, "livebuy_refund_events_total", '{event="dead"}'), 1)

        # The co-op sends it again: pending from attempts 0, pushed at once, taken this time; once only.
        with self.receiver.lock:
            self.receiver.always_fail = False
        status, _, answer = self.decide(refund_id, "retry")
        self.assertEqual((status, answer["status"], answer["attempts"]), (200, "pending", 0), answer)
        self.wait_status([refund_id], "sent", 10)
        self.assertEqual(self.receiver.pushes, [("refund-%d" % refund_id, 500)] * 2 + [("refund-%d" % refund_id, 200)])
        self.assertEqual(self.receiver.accepted, {"refund-%d" % refund_id: 1})
        self.assertEqual(metric(self.server.metrics(), "livebuy_refund_events_total", '{event="retried"}'), 1)


class RefusedTest(Base):
    """A receiver that refuses with a 4xx: the refund fails at once, with the refusal as its last error; never retried.
    A 429 (slow down) is no refusal: retried."""

    @classmethod
    def make_receiver(cls):
        return Receiver(refuse=400)

    def test_4xx_fails_at_once(self):
        refund_id, order_id, _ = self.make_refund(601)
        self.wait_status([refund_id], "failed", 10)
        row = self.refund(refund_id)
        self.assertEqual((row["attempts"], row["claimed_by"]), ("0", None))
        self.assertIn("HTTP 400", row["last_error"])
        self.assertIn("INVALID_REQUEST", row["last_error"])
        time.sleep(0.5)
        self.assertEqual(self.receiver.pushes, [("refund-%d" % refund_id, 400)])
        self.assertEqual(self.order_status(order_id), "refund_required")
        text = self.server.metrics()
        self.assertEqual(metric(text, "livebuy_refund_pushes_total", '{result="refused"}'), 1)
        self.assertEqual(metric(text, "livebuy_refund_events_total", '{event="failed"}'), 1)
        # A failed refund, too, is sent again by the co-op's retry (and refused again: failed, never dead).
        status, _, answer = self.decide(refund_id, "retry")
        self.assertEqual((status, answer["status"]), (200, "pending"), answer)
        self.wait_status([refund_id], "failed", 10)
        self.assertEqual(self.receiver.pushes, [("refund-%d" % refund_id, 400)] * 2)

    def test_too_many_requests_is_retried(self):
        with self.receiver.lock:
            self.receiver.refuse = 429
        try:
            refund_id, _, _ = self.make_refund(602)
            key = "refund-%d" % refund_id
            self.assertTrue(lb.wait_for(lambda: len([p for p in self.receiver.pushes if p[0] == key]) >= 2, 10),
                            self.receiver.pushes)
            self.assertEqual(self.refund(refund_id)["status"], "pending")
        finally:
            with self.receiver.lock:
                self.receiver.refuse = 400


class WeChatPayTest(Base):
    """--payment-provider wechatpay: the v3 refund request, signed with the merchant key; WeChat Pay's answer SUCCESS
    confirms, PROCESSING leaves it sent, ABNORMAL fails it; each out_refund_no is taken once."""

    @classmethod
    def make_receiver(cls):
        statuses = {}  # transaction_id -> the status WeChat Pay answers for its refund
        cls.statuses = statuses
        return Receiver(wechatpay=True, fail_first=1,
                        answer=lambda document: {"refund_id": "50300" + document["out_refund_no"],
                                                 "out_refund_no": document["out_refund_no"],
                                                 "status": statuses.get(document["transaction_id"], "PROCESSING")})

    @classmethod
    def setUpClass(cls):
        cls.certdir = tempfile.mkdtemp(prefix="lbwxcert-")
        cert, _ = lb.self_signed_cert(cls.certdir)
        cls.refund_args = ["--payment-provider", "wechatpay", "--wechatpay-platform-cert", cert,
                           "--wechatpay-apiv3-key", "0123456789abcdef0123456789abcdef", "--wechatpay-mchid", MCHID,
                           "--wechatpay-merchant-key", MERCHANT_KEY, "--wechatpay-merchant-serial", MERCHANT_SERIAL,
                           "--wechatpay-notify-url", NOTIFY_URL]
        super().setUpClass()

    def test_wechatpay_refund_requests(self):
        long_reason = "买家申请退款" * 20  # 360 bytes: WeChat Pay takes 80, i.e. 26 of these 3-byte characters
        success, s_order, s_txn = self.make_refund(700, reason=long_reason,
                                                   before=lambda txn: self.statuses.update({txn: "SUCCESS"}))
        processing, p_order, _ = self.make_refund(701)
        abnormal, a_order, _ = self.make_refund(702, before=lambda txn: self.statuses.update({txn: "ABNORMAL"}))
        self.wait_status([success], "refunded", 15)
        self.wait_status([processing], "sent", 15)
        self.wait_status([abnormal], "failed", 15)
        self.assertEqual(self.receiver.problems, [])
        self.assertEqual(self.receiver.accepted, {str(i): 1 for i in (success, processing, abnormal)})
        self.assertEqual(self.receiver.taken[str(success)],
                         {"transaction_id": s_txn, "out_refund_no": str(success), "reason": long_reason[:26],
                          "notify_url": NOTIFY_URL, "amount": {"refund": 5990, "total": 5990, "currency": "CNY"}})
        self.assertNotIn("reason", self.receiver.taken[str(processing)])
        self.assertEqual((self.order_status(s_order), self.order_status(p_order), self.order_status(a_order)),
                         ("refunded", "refund_required", "refund_required"))
        self.assertEqual(self.refund(success)["provider_refund_id"], "50300%d" % success)
        self.assertEqual(self.refund(processing)["provider_refund_id"], "50300%d" % processing)
        self.assertIn("ABNORMAL", self.refund(abnormal)["last_error"])

    def test_unreadable_merchant_key_stops_the_start(self):
        args = [a if a != MERCHANT_KEY else "/nonexistent/merchant.pem" for a in self.server_args]
        server = lb.Server(self.url, args, start=False)
        with self.assertRaises(lb.ServerError):
            server.start(timeout=10)
        self.assertIn("--wechatpay-merchant-key", server.log())


if __name__ == "__main__":
    lb.main()
