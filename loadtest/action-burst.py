"""Sends one action per reserved order all at once, as at a sale's end: `pay` sends signed POST /v1/payments/notify as
a payment provider does when it reports every payment together; `cancel` sends each order's buyer's
POST /v1/orders/{id}/cancel. CONNECTIONS HTTP/1.1 keep-alive connections, each sending its share back to back; prints
the rate and the answers' statuses.
Usage: action-burst.py pay|cancel PORT SECRET CONNECTIONS ORDERS_FILE
       (SECRET: the payment secret for pay, the buyer secret for cancel; ORDERS_FILE: lines "order_id amount_cents
       buyer_id")
Run by loadtest/bench-payments.sh, which makes the orders. Standard library only."""
import asyncio
import hashlib
import hmac
import json
import sys
import time

action, port, secret, C = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), int(sys.argv[4])
orders = [tuple(map(int, l.split())) for l in open(sys.argv[5])]  # id amount buyer
assert action in ("pay", "cancel"), action


def pay(order_id, amount, buyer):
    body = json.dumps({"order_id": order_id, "provider_txn_id": "burst-%d" % order_id, "amount_cents": amount}).encode()
    ts = str(int(time.time()))
    mac = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    head = ("POST /v1/payments/notify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            "X-Livebuy-Timestamp: %s\r\nX-Livebuy-Signature: sha256=%s\r\n\r\n" % (len(body), ts, mac)).encode()
    return head + body


def cancel(order_id, amount, buyer):
    claims = "b1.%d.%d" % (buyer, int(time.time()) + 3600)  # the buyer token's form (docs/api.md)
    token = claims + "." + hmac.new(secret, claims.encode(), hashlib.sha256).hexdigest()
    return ("POST /v1/orders/%d/cancel HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 0\r\n\r\n"
            % (order_id, token)).encode()


async def worker(share, results):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    for order in share:
        w.write((pay if action == "pay" else cancel)(*order))
        await w.drain()
        status = int((await r.readline()).split()[1])
        length = 0
        while True:
            line = await r.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await r.readexactly(length)
        results.append(status)
    w.close()


async def main():
    results = []
    start = time.monotonic()
    await asyncio.gather(*(worker(orders[i::C], results) for i in range(C)))
    took = time.monotonic() - start
    print("%d %s in %.2f s: %.0f/s; statuses %r" % (len(results), "payments" if action == "pay" else "cancellations",
                                                   took, len(results) / took, {s: results.count(s) for s in set(results)}))

asyncio.run(main())
