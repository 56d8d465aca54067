"""Pays reserved orders all at once through POST /v1/payments/notify, as a payment provider does when a sale ends:
CONNECTIONS HTTP/1.1 keep-alive connections, each sending its share of signed notifies back to back; prints the rate.
Usage: pay-burst.py PORT PAYMENT_SECRET CONNECTIONS ORDERS_FILE   (ORDERS_FILE: lines "order_id amount_cents")
Run by loadtest/bench-payments.sh, which makes the orders. Standard library only."""
import asyncio
import hashlib
import hmac
import json
import sys
import time

port, secret, C = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
orders = [tuple(map(int, l.split())) for l in open(sys.argv[4])]  # id amount

def request(order_id, amount, txn):
    body = json.dumps({"order_id": order_id, "provider_txn_id": txn, "amount_cents": amount}).encode()
    ts = str(int(time.time()))
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    head = ("POST /v1/payments/notify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            "X-Livebuy-Timestamp: %s\r\nX-Livebuy-Signature: sha256=%s\r\n\r\n" % (len(body), ts, mac)).encode()
    return head + body

async def worker(share, results):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    for oid, amount in share:
        w.write(request(oid, amount, "burst-%d" % oid))
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
    print("%d payments in %.2f s: %.0f/s; statuses %r" % (len(results), took, len(results) / took,
                                                          {s: results.count(s) for s in set(results)}))
asyncio.run(main())
