"""WeChat Pay API v3 notifications: POST /v1/payments/wechatpay/notify with --payment-provider wechatpay.

The tests make their own platform certificate (self-signed, no CA) and APIv3 key with Python's cryptography package
(Debian's python3-cryptography) and send notifications built to WeChat Pay's published format: the JSON envelope, its
resource encrypted with AEAD_AES_256_GCM under the APIv3 key, and the Wechatpay-* headers signed with RSA-SHA256 over
"TIMESTAMP\\nNONCE\\nBODY\\n". Each case is checked for exactly its outcome (status, the FAIL body) and for what changed in the
database: an order paid once, or nothing at all. Real HTTP against a real MariaDB.
"""

import base64
import datetime
import itertools
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

import lb

MCHID = "1900000001"
SHIP_TO = {"name": "张三", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇"}
_keys = itertools.count(1)
_events = itertools.count(1)


def make_platform(serial=None):
    """A platform key and its self-signed certificate (no CA): (private key, certificate, serial as upper-case hex)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "livebuy test WeChat Pay platform")])
    serial = serial or x509.random_serial_number()
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(serial).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return key, cert, "%X" % serial


def transaction(order_id, amount, txn, trade_state="SUCCESS", **extra):
    """A payment's resource as WeChat Pay's TRANSACTION.SUCCESS notification carries it, decrypted."""
    resource = {"mchid": MCHID, "appid": "wx0000000000000001", "out_trade_no": str(order_id), "transaction_id": txn,
                "trade_type": "JSAPI", "trade_state": trade_state, "trade_state_desc": "支付成功", "bank_type": "OTHERS",
                "attach": "", "success_time": "2026-12-05T15:30:00+08:00", "payer": {"openid": "oTestOpenid000000000000"},
                "amount": {"total": amount, "payer_total": amount, "currency": "CNY", "payer_currency": "CNY"}}
    resource.update(extra)
    return resource


def refund_resource(refund_id, order_id, amount, status="SUCCESS", **extra):
    """A refund's resource as WeChat Pay's REFUND.* notification carries it, decrypted."""
    resource = {"mchid": MCHID, "out_trade_no": str(order_id), "transaction_id": new_txn(),
                "out_refund_no": str(refund_id), "refund_id": "50300000012026%014d" % (time.time_ns() % 10 ** 14),
                "refund_status": status, "success_time": "2026-12-05T16:00:00+08:00",
                "user_received_account": "支付用户零钱",
                "amount": {"total": amount, "refund": amount, "payer_total": amount, "payer_refund": amount}}
    resource.update(extra)
    return resource


def new_txn():
    return "42000000012026%014d" % (time.time_ns() % 10 ** 10 * 1000 + next(_events) % 1000)


class WeChatPayBase(lb.ServerTestCase):
    """One livebuyd with --payment-provider wechatpay and a certificate and APIv3 key of the test's own (extra_args:
    more flags), and the helpers that make and send notifications. No tests of its own."""

    extra_args = []

    @classmethod
    def setUpClass(cls):
        cls.keydir = tempfile.mkdtemp(prefix="lbwx-")
        cls.platform_key, cert, cls.serial = make_platform()
        cls.cert_path = os.path.join(cls.keydir, "platform_cert.pem")
        with open(cls.cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        cls.apiv3_key = secrets.token_hex(16)  # 32 characters
        cls.server_args = lb.ServerTestCase.server_args + [
            "--payment-provider", "wechatpay", "--wechatpay-platform-cert", cls.cert_path,
            "--wechatpay-apiv3-key", cls.apiv3_key, "--wechatpay-mchid", MCHID] + cls.extra_args
        super().setUpClass()
        cls.coop_id, cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.keydir, ignore_errors=True)

    # -- building notifications ---------------------------------------------------------------------------------------

    def envelope(self, event_type, resource, apiv3_key=None, associated_data="transaction", tamper=None):
        """The body of a notification (bytes): resource encrypted under the APIv3 key with a fresh 12-byte nonce.
        tamper(sealed bytes) may change the ciphertext after encryption."""
        nonce = secrets.token_urlsafe(9)[:12]
        plain = json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()
        sealed = AESGCM((apiv3_key or self.apiv3_key).encode()).encrypt(nonce.encode(), plain, associated_data.encode())
        if tamper is not None:
            sealed = tamper(sealed)
        body = {"id": "EV-%d" % next(_events), "create_time": "2026-12-05T15:30:01+08:00",
                "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
                "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                             "ciphertext": base64.b64encode(sealed).decode(), "associated_data": associated_data,
                             "nonce": nonce}}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def headers(self, body, key=None, serial=None, timestamp=None, nonce=None):
        """The Wechatpay-* headers of body, signed with the platform key (or key)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(16).upper()
        message = ts.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
        signature = (key or self.platform_key).sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {"Wechatpay-Serial": serial or self.serial, "Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": base64.b64encode(signature).decode(),
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048", "Content-Type": "application/json",
                "Request-ID": "test-%d" % next(_events)}

    def send(self, body, headers):
        return self.server.request("POST", "/v1/payments/wechatpay/notify", raw=body, headers=headers)

    def notify(self, resource, event_type="TRANSACTION.SUCCESS", **signing):
        body = self.envelope(event_type, resource)
        return self.send(body, self.headers(body, **signing))

    # -- checking outcomes --------------------------------------------------------------------------------------------

    def assertTaken(self, answer, what):
        status, headers, body = answer
        self.assertEqual(status, 204, "%s: %r" % (what, body))
        self.assertEqual(body, b"", what)
        # No body at all: none announced either (a 204 has no Content-Length or Content-Type, and is not chunked).
        self.assertNotIn("content-type", headers, what)
        self.assertNotIn("transfer-encoding", headers, what)
        self.assertIn(headers.get("content-length"), (None, "0"), what)

    def assertFail(self, answer, status, message_part, what):
        """A failure answer as WeChat Pay expects it: the status, {"code": "FAIL", "message"} in JSON, the message at
        most 64 characters."""
        got, headers, body = answer
        self.assertEqual(got, status, "%s: %r" % (what, body))
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), what)
        self.assertIsInstance(body, dict, what)
        self.assertEqual(sorted(body), ["code", "message"], what)
        self.assertEqual(body["code"], "FAIL", what)
        self.assertTrue(0 < len(body["message"]) <= 64, "%s: %r" % (what, body["message"]))
        self.assertIn(message_part, body["message"], what)

    # -- the shop's side ----------------------------------------------------------------------------------------------

    def new_sku(self, stock=10, price_cents=5990):
        skus = [{"name": "2.5kg 礼盒", "price_cents": price_cents, "stock": stock, "weight_grams": 2700}]
        return self.server.create_product(self.coop, skus, title="武乡小米")["skus"][0]["id"]

    def reserve(self, sku_id, buyer=7, qty=1):
        status, _, order = self.server.request("POST", "/v1/orders", {"sku_id": sku_id, "qty": qty, "ship_to": SHIP_TO},
                                               token=lb.buyer_token(buyer),
                                               headers={"Idempotency-Key": "wx-%d" % next(_keys)})
        self.assertEqual(status, 201, order)
        return order

    def state(self, order):
        """Everything a payment changes: the order's status, its payments, its SKU's counters, its shipments."""
        order_id = order["id"]
        sku = self.server.sku(order["sku_id"])
        return {"status": self.sql("SELECT status FROM orders WHERE id = %d" % order_id)[0][0],
                "payments": self.sql("SELECT provider_txn_id, amount_cents, outcome FROM payments WHERE order_id = %d "
                                     "ORDER BY id" % order_id),
                "counters": {k: sku[k] for k in ("stock", "reserved", "sold", "available")},
                "shipments": self.sql("SELECT COUNT(*) FROM shipment_orders WHERE order_id = %d" % order_id)[0][0]}

    def payments_metric(self, outcome):
        name = 'livebuy_payments_total{outcome="%s"}' % outcome
        for line in self.server.metrics().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[-1]))
        return 0


class WeChatPay(WeChatPayBase):
    """Each notification, right and wrong, with exactly its outcome."""

    def test_valid_payment_pays_the_order_once(self):
        sku_id = self.new_sku()
        order = self.reserve(sku_id, qty=2)
        before = self.state(order)
        self.assertEqual(before["status"], "reserved")
        applied = self.payments_metric("applied")
        txn = new_txn()
        self.assertTaken(self.notify(transaction(order["id"], order["amount_cents"], txn)), "valid notification")
        after = self.state(order)
        self.assertEqual(after["status"], "paid")
        self.assertEqual(after["payments"], [(txn, str(order["amount_cents"]), "applied")])
        self.assertEqual(after["counters"]["reserved"], before["counters"]["reserved"] - 2)
        self.assertEqual(after["counters"]["sold"], before["counters"]["sold"] + 2)
        self.assertEqual(after["counters"]["stock"], before["counters"]["stock"])
        self.assertEqual(after["shipments"], "1")
        self.assertEqual(self.payments_metric("applied"), applied + 1)
        # The buyer sees it paid.
        status, _, seen = self.server.request("GET", "/v1/orders/%d" % order["id"], token=lb.buyer_token(7))
        self.assertEqual((status, seen["status"]), (200, "paid"))

    def test_replayed_notification_changes_nothing(self):
        order = self.reserve(self.new_sku())
        txn = new_txn()
        body = self.envelope("TRANSACTION.SUCCESS", transaction(order["id"], order["amount_cents"], txn))
        headers = self.headers(body)
        self.assertTaken(self.send(body, headers), "first delivery")
        paid = self.state(order)
        self.assertEqual(paid["status"], "paid")
        replayed = self.payments_metric("replayed")
        # The same bytes again (WeChat Pay retries), and a new delivery of the same transaction (new id and nonces).
        self.assertTaken(self.send(body, headers), "the same notification again")
        self.assertTaken(self.notify(transaction(order["id"], order["amount_cents"], txn)), "a new delivery")
        self.assertEqual(self.state(order), paid)
        self.assertEqual(self.payments_metric("replayed"), replayed + 2)

    def test_many_copies_at_once_pay_once(self):
        order = self.reserve(self.new_sku())
        before = self.state(order)
        body = self.envelope("TRANSACTION.SUCCESS", transaction(order["id"], order["amount_cents"], new_txn()))
        headers = self.headers(body)
        answers = self.server.requests_at_once([("POST", "/v1/payments/wechatpay/notify", body, headers)] * 20)
        self.assertEqual([a[0] if a else None for a in answers], [204] * 20)
        after = self.state(order)
        self.assertEqual(after["status"], "paid")
        self.assertEqual(len(after["payments"]), 1)
        self.assertEqual(after["counters"]["sold"], before["counters"]["sold"] + 1)
        self.assertEqual(after["shipments"], "1")

    def test_wrong_signature(self):
        order = self.reserve(self.new_sku())
        before = self.state(order)
        rejected = self.payments_metric("rejected")
        resource = transaction(order["id"], order["amount_cents"], new_txn())
        body = self.envelope("TRANSACTION.SUCCESS", resource)
        # Signed by another key under the right serial (a forger who knows the serial).
        other_key, _, _ = make_platform()
        self.assertFail(self.send(body, self.headers(body, key=other_key)), 401, "does not match", "another key")
        # The right key, but another body than the one signed (the amount changed in transit is the same case).
        signed_for = self.envelope("TRANSACTION.SUCCESS", resource)
        self.assertFail(self.send(body, self.headers(signed_for)), 401, "does not match", "another body")
        # Not base64; missing.
        headers = self.headers(body)
        headers["Wechatpay-Signature"] = "not base64!"
        self.assertFail(self.send(body, headers), 401, "not base64", "garbled signature")
        headers["Wechatpay-Signature"] = None
        self.assertFail(self.send(body, headers), 401, "missing", "no signature")
        # WeChat Pay's probe of whether merchants check signatures: a signature that is not one.
        headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + self.headers(body)["Wechatpay-Signature"]
        self.assertFail(self.send(body, headers), 401, "Wechatpay-Signature", "signature probe")
        headers = self.headers(body)
        headers["Wechatpay-Signature-Type"] = "WECHATPAY2-SM2-WITH-SM3"
        self.assertFail(self.send(body, headers), 401, "Signature-Type", "another signature type")
        self.assertEqual(self.state(order), before)
        self.assertEqual(self.payments_metric("rejected"), rejected + 6)
        # And the genuine one still goes through.
        self.assertTaken(self.send(body, self.headers(body)), "the genuine notification")
        self.assertEqual(self.state(order)["status"], "paid")

    def test_serial(self):
        order = self.reserve(self.new_sku())
        before = self.state(order)
        resource = transaction(order["id"], order["amount_cents"], new_txn())
        body = self.envelope("TRANSACTION.SUCCESS", resource)
        wrong = "%X" % (int(self.serial, 16) ^ 1)
        self.assertFail(self.send(body, self.headers(body, serial=wrong)), 401, "Wechatpay-Serial", "another serial")
        self.assertFail(self.send(body, self.headers(body, serial=None) | {"Wechatpay-Serial": None}), 401, "missing",
                        "no serial")
        self.assertEqual(self.state(order), before)
        # The serial in lower case names the same certificate.
        self.assertTaken(self.send(body, self.headers(body, serial=self.serial.lower())), "lower-case serial")
        self.assertEqual(self.state(order)["status"], "paid")

    def test_stale_or_future_timestamp(self):
        order = self.reserve(self.new_sku())
        before = self.state(order)
        body = self.envelope("TRANSACTION.SUCCESS", transaction(order["id"], order["amount_cents"], new_txn()))
        now = int(time.time())
        self.assertFail(self.send(body, self.headers(body, timestamp=now - 400)), 401, "300 s", "stale")
        self.assertFail(self.send(body, self.headers(body, timestamp=now + 400)), 401, "300 s", "future")
        self.assertFail(self.send(body, self.headers(body, timestamp="soon")), 401, "Unix seconds", "not a number")
        self.assertEqual(self.state(order), before)
        # Within the window (a slow network, a clock a little off).
        self.assertTaken(self.send(body, self.headers(body, timestamp=now - 200)), "200 s old")
        self.assertEqual(self.state(order)["status"], "paid")

    def test_tampered_or_undecryptable_resource(self):
        order = self.reserve(self.new_sku())
        before = self.state(order)
        resource = transaction(order["id"], order["amount_cents"], new_txn())

        def flip(sealed):
            return sealed[:5] + bytes([sealed[5] ^ 1]) + sealed[6:]

        # Correctly signed envelopes whose resource does not authenticate: changed ciphertext, another APIv3 key,
        # associated_data changed after encryption.
        cases = [("tampered ciphertext", self.envelope("TRANSACTION.SUCCESS", resource, tamper=flip)),
                 ("another APIv3 key", self.envelope("TRANSACTION.SUCCESS", resource, apiv3_key=secrets.token_hex(16))),
                 ("the tag cut off", self.envelope("TRANSACTION.SUCCESS", resource, tamper=lambda s: s[:-16]))]
        changed = json.loads(self.envelope("TRANSACTION.SUCCESS", resource))
        changed["resource"]["associated_data"] = "refund"
        cases.append(("changed associated_data", json.dumps(changed).encode()))
        for what, body in cases:
            self.assertFail(self.send(body, self.headers(body)), 400, "decrypt", what)
        # An envelope that is not one.
        for what, body, part in [("not JSON", b"{\"id\":", "not JSON"),
                                 ("no resource", json.dumps({"event_type": "TRANSACTION.SUCCESS"}).encode(), "resource"),
                                 ("another algorithm", json.dumps(dict(changed, resource=dict(
                                     changed["resource"], algorithm="AEAD_SM4_GCM"))).encode(), "algorithm")]:
            self.assertFail(self.send(body, self.headers(body)), 400, part, what)
        self.assertEqual(self.state(order), before)

    def test_wrong_amount(self):
        order = self.reserve(self.new_sku())
        before = self.state(order)
        answer = self.notify(transaction(order["id"], order["amount_cents"] - 1, new_txn()))
        self.assertFail(answer, 422, "amount.total is %d" % (order["amount_cents"] - 1), "one fen short")
        resource = transaction(order["id"], order["amount_cents"], new_txn())
        resource["amount"]["currency"] = "USD"
        self.assertFail(self.notify(resource), 422, "CNY", "another currency")
        del resource["amount"]
        self.assertFail(self.notify(resource), 400, "amount", "no amount")
        self.assertEqual(self.state(order), before)

    def test_unknown_order(self):
        sku_id = self.new_sku()
        rejected = self.payments_metric("rejected")
        self.assertFail(self.notify(transaction(999999999, 5990, new_txn())), 404, "no such order", "no such order")
        self.assertFail(self.notify(transaction("LB-20261205-1", 5990, new_txn())), 404, "not a livebuy order id",
                        "not an order id")
        self.assertFail(self.notify(transaction("0042", 5990, new_txn())), 404, "not a livebuy order id", "leading zero")
        self.assertEqual(self.payments_metric("rejected"), rejected + 3)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM payments p JOIN orders o ON o.id = p.order_id "
                                  "WHERE o.sku_id = %d" % sku_id)[0][0], "0")

    def test_another_merchant(self):
        order = self.reserve(self.new_sku())
        before = self.state(order)
        resource = transaction(order["id"], order["amount_cents"], new_txn(), mchid="1900000002")
        self.assertFail(self.notify(resource), 422, "mchid", "another mchid")
        self.assertEqual(self.state(order), before)

    def test_other_trade_states_are_acknowledged(self):
        order = self.reserve(self.new_sku())
        before = self.state(order)
        for state in ("NOTPAY", "CLOSED", "PAYERROR", "USERPAYING"):
            resource = transaction(order["id"], order["amount_cents"], new_txn(), trade_state=state)
            self.assertTaken(self.notify(resource), state)
        self.assertTaken(self.notify(transaction(order["id"], order["amount_cents"], new_txn()),
                                     event_type="TRANSACTION.CLOSED"), "another TRANSACTION event")
        self.assertEqual(self.state(order), before)

    def test_second_transaction_for_a_paid_order(self):
        order = self.reserve(self.new_sku())
        self.assertTaken(self.notify(transaction(order["id"], order["amount_cents"], new_txn())), "first payment")
        paid = self.state(order)
        second = new_txn()
        self.assertTaken(self.notify(transaction(order["id"], order["amount_cents"], second)), "second payment")
        after = self.state(order)
        # Recorded, its money to go back; the order and the counters as they were.
        self.assertEqual(after["payments"][1], (second, str(order["amount_cents"]), "refund_required"))
        self.assertEqual({k: after[k] for k in ("status", "counters", "shipments")},
                         {k: paid[k] for k in ("status", "counters", "shipments")})

    # -- refunds --------------------------------------------------------------------------------------------------------

    def paid_order_with_refund(self, status="sent", cause="buyer"):
        """An order paid through a WeChat Pay notification, and a refund of its payment as the refund push leaves it
        (status sent: WeChat Pay took the request). A buyer's refund makes the order refund_required; a refund of a
        second payment (paid_twice) leaves it paid."""
        order = self.reserve(self.new_sku())
        txn = new_txn()
        self.assertTaken(self.notify(transaction(order["id"], order["amount_cents"], txn)), "the payment")
        if cause == "paid_twice":
            txn = new_txn()
            self.assertTaken(self.notify(transaction(order["id"], order["amount_cents"], txn)), "a second payment")
        else:
            self.sql("UPDATE orders SET status = 'refund_required' WHERE id = %d" % order["id"])
        # The refunds helper's creation writes the refund of a second payment itself; one way or the other, there is
        # exactly one refund of txn.
        self.sql("INSERT IGNORE INTO refunds (sku_id, order_id, buyer_id, coop_id, provider_txn_id, amount_cents, cause, "
                 "status, next_attempt_at, created_at) VALUES (%d, %d, 7, %d, '%s', %d, '%s', 'pending', 0, "
                 "UNIX_TIMESTAMP())" % (order["sku_id"], order["id"], self.coop_id, txn, order["amount_cents"], cause))
        refund_id = int(self.sql("SELECT id FROM refunds WHERE sku_id = %d AND provider_txn_id = '%s'"
                                 % (order["sku_id"], txn))[0][0])
        self.sql("UPDATE refunds SET status = '%s' WHERE id = %d" % (status, refund_id))
        return order, refund_id

    def refund_state(self, order, refund_id):
        return {"refund": self.sql("SELECT status, last_error, provider_refund_id, updated_at FROM refunds WHERE id = %d"
                                   % refund_id)[0],
                "order": self.state(order)}

    def test_refund_success(self):
        order, refund_id = self.paid_order_with_refund()
        resource = refund_resource(refund_id, order["id"], order["amount_cents"])
        body = self.envelope("REFUND.SUCCESS", resource)
        headers = self.headers(body)
        self.assertTaken(self.send(body, headers), "REFUND.SUCCESS")
        done = self.refund_state(order, refund_id)
        self.assertEqual(done["refund"][:3], ("refunded", None, resource["refund_id"]))
        self.assertEqual(done["order"]["status"], "refunded")
        # Replayed, the same bytes or a new delivery: taken, nothing changes.
        self.assertTaken(self.send(body, headers), "the same notification again")
        self.assertTaken(self.notify(resource, event_type="REFUND.SUCCESS"), "a new delivery")
        self.assertEqual(self.refund_state(order, refund_id), done)
        # A refunded refund is not said to have failed after all.
        self.assertFail(self.notify(refund_resource(refund_id, order["id"], order["amount_cents"], "ABNORMAL"),
                                    event_type="REFUND.ABNORMAL"), 409, "refunded", "failed after refunded")
        self.assertEqual(self.refund_state(order, refund_id), done)

    def test_refund_abnormal_or_closed_fails_it(self):
        for event, status in (("REFUND.ABNORMAL", "ABNORMAL"), ("REFUND.CLOSED", "CLOSED")):
            order, refund_id = self.paid_order_with_refund()
            self.assertTaken(self.notify(refund_resource(refund_id, order["id"], order["amount_cents"], status),
                                         event_type=event), event)
            failed = self.refund_state(order, refund_id)
            self.assertEqual(failed["refund"][0], "failed", event)
            self.assertIn(event, failed["refund"][1])
            self.assertIn("支付用户零钱", failed["refund"][1])
            self.assertEqual(failed["order"]["status"], "refund_required", event)
            self.assertTaken(self.notify(refund_resource(refund_id, order["id"], order["amount_cents"], status),
                                         event_type=event), event + " replayed")
            self.assertEqual(self.refund_state(order, refund_id), failed)
        # The money went back after all (the co-op retried, say): refunded.
        self.assertTaken(self.notify(refund_resource(refund_id, order["id"], order["amount_cents"]),
                                     event_type="REFUND.SUCCESS"), "success after closed")
        self.assertEqual(self.refund_state(order, refund_id)["refund"][0], "refunded")
        self.assertEqual(self.state(order)["status"], "refunded")

    def test_refund_of_a_second_payment_leaves_the_order_paid(self):
        order, refund_id = self.paid_order_with_refund(cause="paid_twice")
        self.assertEqual(self.state(order)["status"], "paid")
        self.assertTaken(self.notify(refund_resource(refund_id, order["id"], order["amount_cents"]),
                                     event_type="REFUND.SUCCESS"), "REFUND.SUCCESS")
        self.assertEqual(self.refund_state(order, refund_id)["refund"][0], "refunded")
        self.assertEqual(self.state(order)["status"], "paid")

    def test_refund_notifications_that_change_nothing(self):
        order, refund_id = self.paid_order_with_refund()
        other, other_refund = self.paid_order_with_refund()
        before = self.refund_state(order, refund_id)
        amount = order["amount_cents"]
        cases = [
            ("wrong amount", "REFUND.SUCCESS", refund_resource(refund_id, order["id"], amount - 1), 422, "amount.refund"),
            ("unknown refund", "REFUND.SUCCESS", refund_resource(999999999, order["id"], amount), 404, "no such refund"),
            ("another order's refund", "REFUND.SUCCESS", refund_resource(other_refund, order["id"], amount), 404,
             "no such refund"),
            ("not a refund id", "REFUND.SUCCESS", refund_resource("RF-1", order["id"], amount), 404, "not a livebuy id"),
            ("status and event disagree", "REFUND.SUCCESS", refund_resource(refund_id, order["id"], amount, "CLOSED"), 400,
             "does not agree"),
            ("another merchant", "REFUND.SUCCESS", refund_resource(refund_id, order["id"], amount, mchid="1900000002"), 422,
             "mchid"),
        ]
        no_amount = refund_resource(refund_id, order["id"], amount)
        del no_amount["amount"]["refund"]
        cases.append(("no amount.refund", "REFUND.SUCCESS", no_amount, 422, "amount.refund"))
        for what, event, resource, status, part in cases:
            self.assertFail(self.notify(resource, event_type=event), status, part, what)
        # A refund never sent (the co-op has not approved the request) takes no outcome.
        self.sql("UPDATE refunds SET status = 'requested' WHERE id = %d" % other_refund)
        self.assertFail(self.notify(refund_resource(other_refund, other["id"], amount), event_type="REFUND.SUCCESS"),
                        409, "requested", "a requested refund")
        self.assertEqual(self.refund_state(order, refund_id), before)
        self.assertEqual(self.sql("SELECT status FROM refunds WHERE id = %d" % other_refund)[0][0], "requested")
        # A refund event livebuy does not know is acknowledged.
        self.assertTaken(self.notify(refund_resource(refund_id, order["id"], amount), event_type="REFUND.OTHER"),
                         "an unknown refund event")
        self.assertEqual(self.refund_state(order, refund_id), before)

    def test_the_generic_notify_still_works(self):
        order = self.reserve(self.new_sku())
        raw = json.dumps({"order_id": order["id"], "provider_txn_id": "generic-%s" % new_txn(),
                          "amount_cents": order["amount_cents"]}).encode()
        status, _, answer = self.server.request("POST", "/v1/payments/notify", raw=raw, headers=lb.signed(raw))
        self.assertEqual((status, answer["status"]), (200, "paid"), answer)


class FakeWeChatPay(lb.HttpReceiver):
    """WeChat Pay's refund API (POST /v3/refund/domestic/refunds) as livebuy's refund push meets it: it checks the
    Authorization signature with the merchant's public key, takes each out_refund_no once and answers PROCESSING with a
    refund_id of its own; the outcome follows later as a REFUND.* notification, which the test sends."""

    PATH = "/v3/refund/domestic/refunds"

    def __init__(self, merchant_public_key):
        self.merchant_public_key = merchant_public_key
        self.requests = []  # (Authorization's fields, the body) of each request, in order
        self.refund_ids = {}  # out_refund_no -> WeChat Pay's refund_id
        self.lock = threading.Lock()
        super().__init__()

    def authorization(self, value, body, path):
        """The fields of a WECHATPAY2-SHA256-RSA2048 Authorization header whose signature verifies; raises otherwise."""
        scheme, _, params = value.partition(" ")
        if scheme != "WECHATPAY2-SHA256-RSA2048":
            raise ValueError("scheme %r" % scheme)
        fields = dict((k, v.strip('"')) for k, v in (p.split("=", 1) for p in params.split(",")))
        message = "POST\n%s\n%s\n%s\n" % (path, fields["timestamp"], fields["nonce_str"])
        self.merchant_public_key.verify(base64.b64decode(fields["signature"]), message.encode() + body + b"\n",
                                        padding.PKCS1v15(), hashes.SHA256())
        return fields

    def handle(self, request):
        body = request.rfile.read(int(request.headers.get("Content-Length", 0)))
        try:
            fields = self.authorization(request.headers.get("Authorization", ""), body, request.path)
        except Exception as e:
            self.reply(request, 401, json.dumps({"code": "SIGN_ERROR", "message": str(e)[:60]}).encode())
            return
        document = json.loads(body)
        with self.lock:
            self.requests.append((fields, document))
            refund_id = self.refund_ids.setdefault(document["out_refund_no"],
                                                   "50300000012026%014d" % (len(self.refund_ids) + 1))
        answer = {"refund_id": refund_id, "out_refund_no": document["out_refund_no"],
                  "transaction_id": document["transaction_id"], "channel": "ORIGINAL", "status": "PROCESSING",
                  "user_received_account": "支付用户零钱", "create_time": "2026-12-05T16:00:00+08:00",
                  "amount": dict(document["amount"], payer_total=document["amount"]["total"],
                                 payer_refund=document["amount"]["refund"])}
        self.reply(request, 200, json.dumps(answer, ensure_ascii=False).encode())


class RefundJourney(WeChatPayBase):
    """The whole way of a buyer's money with WeChat Pay: paid by a TRANSACTION.SUCCESS notification, its refund pushed
    to (a fake of) WeChat Pay's refund API as the v3 refund request, and confirmed by WeChat Pay's REFUND.SUCCESS
    notification: refund and order refunded, once."""

    NOTIFY_URL = "https://shop.example.com/v1/payments/wechatpay/notify"

    @classmethod
    def setUpClass(cls):
        merchant_key, merchant_cert, cls.merchant_serial = make_platform()
        cls.fake = FakeWeChatPay(merchant_key.public_key())
        cls.merchant_keydir = tempfile.mkdtemp(prefix="lbwxm-")
        key_path = os.path.join(cls.merchant_keydir, "apiclient_key.pem")
        with open(key_path, "wb") as f:
            f.write(merchant_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        cls.extra_args = ["--wechatpay-merchant-key", key_path, "--wechatpay-merchant-serial", cls.merchant_serial,
                          "--wechatpay-notify-url", cls.NOTIFY_URL,
                          "--refund-url", "http://127.0.0.1:%d%s" % (cls.fake.port, FakeWeChatPay.PATH)]
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.fake.close()
        shutil.rmtree(cls.merchant_keydir, ignore_errors=True)

    def test_paid_refunded_and_confirmed(self):
        sku_id = self.new_sku(stock=5)
        order = self.reserve(sku_id, buyer=11, qty=2)
        self.assertEqual(order["amount_cents"], 2 * 5990)
        txn = new_txn()
        self.assertTaken(self.notify(transaction(order["id"], order["amount_cents"], txn)), "the payment")
        # The money goes back: a refund of the payment, pending, its order refund_required (written as the refund rule
        # writes it, server/order/refund.c).
        self.sql("UPDATE orders SET status = 'refund_required' WHERE id = %d" % order["id"])
        self.sql("INSERT INTO refunds (sku_id, order_id, buyer_id, coop_id, provider_txn_id, amount_cents, cause, reason, "
                 "status, next_attempt_at, created_at) VALUES (%d, %d, 11, %d, '%s', %d, 'buyer', '买错了', 'pending', 0, "
                 "UNIX_TIMESTAMP())" % (sku_id, order["id"], self.coop_id, txn, order["amount_cents"]))
        refund_id = int(self.sql("SELECT id FROM refunds WHERE sku_id = %d AND provider_txn_id = '%s'" % (sku_id, txn))[0][0])

        # The push: one v3 refund request for this refund, signed by the merchant.
        self.assertTrue(lb.wait_for(lambda: self.sql("SELECT status FROM refunds WHERE id = %d" % refund_id)[0][0]
                                    == "sent", 20), self.sql("SELECT status, last_error FROM refunds WHERE id = %d"
                                                             % refund_id))
        pushed = [(f, d) for f, d in self.fake.requests if d["out_refund_no"] == str(refund_id)]
        self.assertEqual(len(pushed), 1, pushed)
        fields, document = pushed[0]
        self.assertEqual((fields["mchid"], fields["serial_no"]), (MCHID, self.merchant_serial))
        self.assertEqual(document["transaction_id"], txn)
        self.assertEqual(document["notify_url"], self.NOTIFY_URL)
        self.assertEqual(document["reason"], "买错了")
        self.assertEqual(document["amount"], {"refund": order["amount_cents"], "total": order["amount_cents"],
                                              "currency": "CNY"})

        # WeChat Pay's notification of the outcome, built from what it was asked and answered.
        wechat_refund_id = self.fake.refund_ids[str(refund_id)]
        resource = refund_resource(refund_id, order["id"], order["amount_cents"])
        resource.update(refund_id=wechat_refund_id, transaction_id=txn)
        body = self.envelope("REFUND.SUCCESS", resource, associated_data="refund")
        headers = self.headers(body)
        self.assertTaken(self.send(body, headers), "REFUND.SUCCESS")
        row = self.sql("SELECT status, provider_refund_id FROM refunds WHERE id = %d" % refund_id)[0]
        self.assertEqual(row, ("refunded", wechat_refund_id))
        self.assertEqual(self.sql("SELECT status FROM orders WHERE id = %d" % order["id"])[0][0], "refunded")
        after = self.server.sku(sku_id)

        # WeChat Pay sends it again: taken, nothing changes; WeChat Pay was asked once.
        self.assertTaken(self.send(body, headers), "REFUND.SUCCESS again")
        self.assertEqual(self.sql("SELECT status, provider_refund_id FROM refunds WHERE id = %d" % refund_id)[0], row)
        self.assertEqual(self.server.sku(sku_id), after)
        self.assertEqual(len([d for _, d in self.fake.requests if d["out_refund_no"] == str(refund_id)]), 1)


class WithoutWeChatPay(lb.ServerTestCase):
    """The generic provider: the route is not there; a certificate that cannot be used stops livebuyd at start."""

    def test_route_is_404_without_the_provider(self):
        status, _, body = self.server.request("POST", "/v1/payments/wechatpay/notify", raw=b"{}",
                                              headers={"Content-Type": "application/json"})
        self.assertEqual(status, 404, body)
        self.assertEqual(lb.error_code(body), "not_found")

    def test_unusable_certificate_stops_the_start(self):
        keydir = tempfile.mkdtemp(prefix="lbwx-")
        try:
            key, _, _ = make_platform()
            key_path = os.path.join(keydir, "key.pem")
            with open(key_path, "wb") as f:
                f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
            for path, part in [(key_path, "not a PEM certificate"), (os.path.join(keydir, "none.pem"), "cannot read")]:
                code, _, err = lb.run_livebuyd(["--db", self.url, "--listen", "127.0.0.1:%d" % lb.free_port(),
                                                "--payment-provider", "wechatpay", "--wechatpay-platform-cert", path,
                                                "--wechatpay-apiv3-key", "k" * 32], timeout=60)
                self.assertEqual(code, 2, err)
                self.assertIn("--wechatpay-platform-cert", err)
                self.assertIn(part, err)
        finally:
            shutil.rmtree(keydir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
