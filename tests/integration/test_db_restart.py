"""Worker connections that died while idle: MariaDB restarted under a running livebuyd, or its idle sessions ended
(wait_timeout, KILL). Nothing tells a worker until its next job's first round trip fails; livebuyd then opens a new
connection and sends that round trip again (server/db/db.c, replaced_stale), so the first jobs after the database is
back are answered as usual, not 503. Real HTTP against a real livebuyd and a MariaDB of the test's own
(scripts/mariadb.sh), over its Unix socket (a dead connection fails the write: 2006) and over TCP (the write goes out,
the read finds the connection closed: 2013).

- Sessions ended while idle (every livebuyd session killed at once, the database never down): the first /readyz is
  200 and a burst of orders over several SKUs, in parallel so that several workers take jobs, is answered 201 each.
- MariaDB restarted while livebuyd was stopped (SIGSTOP), so that no worker saw it down: the same, at once.
- MariaDB restarted under a running livebuyd: once /readyz is 200 and every worker's reconnection backoff is over (a
  worker that tried during the restart waits up to 2 s before it tries again, answering 503 meanwhile: that is not a
  stale connection), the same burst is answered 201 each, and the log since the restart has no error but the refused
  connections of the restart.
Without the retry the first two fail every time (each worker's first job after it is a 503); the last only when a
burst job lands on a worker that no periodic job (every 250 ms to 2 s) has used since the restart."""

import json
import re
import signal
import time
import uuid

import lb

SHIP_TO = {"name": "王五", "phone": "13700000000", "address": "山西省长治市武乡县丰州镇"}
NUM_SKUS = 8
POOL = 8


class IdleConnectionsDiedTest(lb.ServerTestCase):
    server_args = lb.ServerTestCase.server_args + ["--threads", "1", "--db-pool", str(POOL)]
    private_mariadb = True  # this test restarts its own
    tcp = False

    @classmethod
    def setUpClass(cls):
        if cls.tcp:
            cls.mdb = lb.PrivateMariaDB(port=lb.free_port()).start()
            cls.sock = cls.mdb.socket
            cls.dbname = lb.fresh_database(cls.sock)
            cls.url = "mysql://root@127.0.0.1:%d/%s" % (cls.mdb.port, cls.dbname)
            cls.server = lb.Server(cls.url, list(cls.server_args), env=cls.server_env)
        else:
            super().setUpClass()
        cls.coop = cls.server.create_merchant("coop", "武乡小米合作社")[1]
        skus = [{"name": "小米 %d" % i, "price_cents": 990, "stock": 100000, "weight_grams": 1000} for i in range(NUM_SKUS)]
        cls.sku_ids = [sku["id"] for sku in cls.server.create_product(cls.coop, skus, title="武乡小米")["skus"]]
        cls.next_buyer = 700000

    def burst(self, rounds=1):
        """NUM_SKUS orders at once, one per SKU, rounds times; returns the statuses with their error bodies."""
        got = []
        for _ in range(rounds):
            requests = []
            for sku_id in self.sku_ids:
                self.__class__.next_buyer += 1
                payload = json.dumps({"sku_id": sku_id, "qty": 1, "ship_to": SHIP_TO}).encode()
                requests.append(("POST", "/v1/orders", payload, {"Authorization": "Bearer " + lb.buyer_token(self.next_buyer),
                                                                "Idempotency-Key": uuid.uuid4().hex,
                                                                "Content-Type": "application/json"}))
            got += [(a[0], a[1] if a[0] != 201 else None) if a else None for a in self.server.requests_at_once(requests, 30)]
        return got

    def warm_up(self):
        """Every worker with a connection of its own (a burst keeps them all busy at once) and the order statements
        prepared."""
        answers = self.burst(3)
        self.assertEqual([a[0] for a in answers], [201] * len(answers), answers)

    def livebuyd_sessions(self):
        return [int(row[0]) for row in self.sql("SELECT id FROM information_schema.processlist WHERE db = '%s' "
                                                "AND id <> CONNECTION_ID() AND command = 'Sleep'" % self.dbname)]

    def assertAllCreated(self, answers, what):
        statuses = [a[0] if a else None for a in answers]
        self.assertEqual(statuses, [201] * len(answers), "%s: %r\nlog:\n%s" % (what, answers, self.server.log_tail(30)))

    def test_idle_sessions_ended(self):
        self.warm_up()
        sessions = self.livebuyd_sessions()
        self.assertGreaterEqual(len(sessions), 2, "livebuyd's idle sessions")
        for session in sessions:
            self.sql("KILL CONNECTION %d" % session)
        since = self.server.log_size()
        status, _, body = self.server.request("GET", "/readyz")
        self.assertEqual(status, 200, body)
        self.assertAllCreated(self.burst(2), "the orders after livebuyd's sessions were ended")
        log = self.server.log_tail(10000, since=since)
        self.assertReplacedSaid()
        self.assertEqual(self.error_lines(log), [])

    def test_restart(self):
        self.warm_up()
        since = self.server.log_size()
        self.mdb.restart()
        back = time.monotonic()
        self.assertTrue(lb.wait_for(lambda: self.server.request("GET", "/readyz", timeout=5)[0] == 200, 15),
                        "/readyz did not turn 200 within 15 s of MariaDB's return")
        # A worker that tried to connect while MariaDB was down waits out its backoff (at most 2 s) before it tries
        # again, and answers 503 meanwhile; its connection is a new one then, not a stale one.
        time.sleep(max(0.0, back + 2.2 - time.monotonic()))
        self.assertAllCreated(self.burst(2), "the orders after MariaDB's restart")
        time.sleep(1)  # the periodic jobs' next runs (every 250 ms to 2 s)
        log = self.server.log_tail(10000, since=since)
        refused = re.compile(r"error cannot connect to the database: ")
        self.assertEqual([line for line in self.error_lines(log) if not refused.search(line)], [])

    def test_restart_unseen(self):
        # MariaDB restarted while livebuyd looked away (stopped by SIGSTOP): no worker tried it while it was down, so
        # none waits out a backoff, and every one still holds its connection to the server that went away.
        self.warm_up()
        since = self.server.log_size()
        self.server.proc.send_signal(signal.SIGSTOP)
        try:
            self.mdb.restart()
        finally:
            self.server.proc.send_signal(signal.SIGCONT)
        status, _, body = self.server.request("GET", "/readyz")
        self.assertEqual(status, 200, body)
        self.assertAllCreated(self.burst(2), "the orders after MariaDB's restart")
        time.sleep(1)  # the periodic jobs' next runs
        log = self.server.log_tail(10000, since=since)
        self.assertReplacedSaid()
        self.assertEqual(self.error_lines(log), [])

    def assertReplacedSaid(self):
        # Folded (one line, and its repeats within 10 s counted): the line may be an earlier test's.
        self.assertRegex(self.server.log_since_start(),
                         r"info  a database connection had died while idle \(\d+: [^)]*\): replaced, and the job's first "
                         r"round trip sent again")

    @staticmethod
    def error_lines(log):
        return [line for line in log.splitlines() if re.match(r"\S+ error ", line)]


class IdleConnectionsDiedOverTcpTest(IdleConnectionsDiedTest):
    tcp = True


if __name__ == "__main__":
    lb.main()
