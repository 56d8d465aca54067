"""Memory held for clients that do not read (issue #18, bounded memory), over real HTTP/2 (python3-h2 frames on a plain
socket) against a real livebuyd and MariaDB.

A client that opens streams and never opens its flow-control window (SETTINGS_INITIAL_WINDOW_SIZE 0) makes livebuyd hold
every answer it asked for. Those answers are counted (livebuy_http_answers_held_bytes) against a budget per connection
(--connection-answer-budget-mb) and one for the process (--answer-budget-mb): a connection over its own is closed, and
when the process is over its budget the connection holding the most is closed. Honest clients are served throughout,
and what was held is given back when the clients are gone. The RSS figures are measured by loadtest/zero-window.py
(docs/load.md), never here."""

import hashlib
import os
import socket
import subprocess
import time

import h2.config
import h2.connection
import h2.settings

import lb


class ZeroWindowClient:
    """An HTTP/2 connection whose window for answers is 0: it asks, and never reads an answer's body."""

    def __init__(self, port, path, streams):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
        conn.local_settings = h2.settings.Settings(client=True, initial_values={
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0, h2.settings.SettingCodes.ENABLE_PUSH: 0})
        conn.initiate_connection()
        for _ in range(streams):
            conn.send_headers(conn.get_next_available_stream_id(),
                              [(":method", "GET"), (":path", path), (":scheme", "http"), (":authority", "127.0.0.1")],
                              end_stream=True)
        self.sock.sendall(conn.data_to_send())

    def closed_by_server(self, timeout=10.0):
        """Whether the server closes this connection within timeout (what it sent before is read and dropped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                if self.sock.recv(65536) == b"":
                    return True
            except socket.timeout:
                return False
            except OSError:
                return True
        return False

    def close(self):
        self.sock.close()


class HeldAnswersTestCase(lb.ServerTestCase):
    def metrics(self):
        status, _, body = self.server.request("GET", "/metrics")
        self.assertEqual(status, 200)
        return body.decode() if isinstance(body, bytes) else body

    def held(self, text=None):
        return lb.metric(text or self.metrics(), "livebuy_http_answers_held_bytes")

    def over_budget(self, budget, text=None):
        return lb.metric(text or self.metrics(), 'livebuy_http_connections_over_budget_total{budget="%s"}' % budget)

    def wait_for(self, what, check, timeout=20.0):
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                self.fail("%s: not within %.0f s; metrics:\n%s" % (what, timeout, self.metrics()))
            time.sleep(0.05)

    def assertHonestClientsServed(self):
        status, _, body = self.server.request("GET", "/healthz")
        self.assertEqual((status, body), (200, {"status": "ok"}))


class ProcessBudget(HeldAnswersTestCase):
    """2 MB for all answers held: ten connections of 50 streams (about 330 KB each) are more than it can hold."""

    server_args = lb.ServerTestCase.server_args + ["--threads", "1", "--answer-budget-mb", "2",
                                                   "--connection-answer-budget-mb", "1"]

    def test_the_biggest_holders_are_closed_and_what_they_held_is_given_back(self):
        before = self.over_budget("process")
        clients = [ZeroWindowClient(self.server.port, "/metrics", 50) for _ in range(10)]
        try:
            closed = [c.closed_by_server(timeout=5 if i == 0 else 0.5) for i, c in enumerate(clients)]
            self.assertGreater(sum(closed), 0, "some zero-window connections should have been closed")
            self.assertLess(sum(closed), 10, "the connections within the budget stay open")
            self.wait_for("the held answers back under the 2 MB budget", lambda: self.held() <= 2 << 20)
            text = self.metrics()
            self.assertGreaterEqual(self.over_budget("process", text) - before, sum(closed))
            self.assertEqual(self.over_budget("connection", text), 0, "no connection was over its own budget")
            self.assertHonestClientsServed()
            print("zero window, 10 x 50 streams of /metrics under a 2 MB budget: %d connections closed, %.0f KB held"
                  % (sum(closed), self.held(text) / 1024))
        finally:
            for c in clients:
                c.close()
        self.wait_for("nothing held once the clients are gone", lambda: self.held() == 0)

    def test_pages_count_in_the_budget(self):
        clients = [ZeroWindowClient(self.server.port, "/web/coop.js", 50) for _ in range(10)]
        try:
            self.wait_for("a page flood over budget closed", lambda: self.over_budget("process") > 0 and
                          self.held() <= 2 << 20)
            self.assertHonestClientsServed()
        finally:
            for c in clients:
                c.close()
        self.wait_for("nothing held once the clients are gone", lambda: self.held() == 0)


class ConnectionBudget(HeldAnswersTestCase):
    """1 MB a connection: four streams of a 600 KB photo are more, one is not."""

    server_args = lb.ServerTestCase.server_args + ["--threads", "1", "--connection-answer-budget-mb", "1"]

    def photo_path(self):
        data = os.urandom(600 * 1024)
        digest = hashlib.sha256(data).hexdigest()
        folder = os.path.join(self.server.media_dir, digest[:2])
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, digest + ".jpg"), "wb") as f:
            f.write(data)
        return "/media/%s/%s.jpg" % (digest[:2], digest)

    def test_a_connection_over_its_budget_is_closed_and_others_are_not(self):
        path = self.photo_path()
        greedy = ZeroWindowClient(self.server.port, path, 4)
        modest = ZeroWindowClient(self.server.port, path, 1)
        try:
            self.assertTrue(greedy.closed_by_server(), "four undelivered photos (2.4 MB) are over the 1 MB budget")
            self.assertFalse(modest.closed_by_server(timeout=0.5), "one photo is within it")
            self.wait_for("one connection closed over its budget", lambda: self.over_budget("connection") == 1)
            status, _, body = self.server.request("GET", path)
            self.assertEqual((status, len(body)), (200, 600 * 1024), "an honest client gets the photo")
        finally:
            greedy.close()
            modest.close()
        self.wait_for("nothing held once the clients are gone", lambda: self.held() == 0)


BUILD_DIR = os.environ.get("LIVEBUY_BUILD_DIR") or os.path.dirname(lb.livebuyd())


def mimalloc_livebuyd():
    """A livebuyd linked with mimalloc: the one under test when it is, else a plain (unsanitized) Debug build of this
    checkout in BUILD_DIR/plain (some 20 s the first time)."""
    def with_mimalloc(path):
        ldd = subprocess.run(["ldd", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return "libmimalloc" in ldd.stdout
    if with_mimalloc(lb.livebuyd()):
        return lb.livebuyd()
    plain = os.path.join(BUILD_DIR, "plain")
    for command in (["cmake", "-S", lb.SOURCE_DIR, "-B", plain, "-DCMAKE_BUILD_TYPE=Debug"],
                    ["cmake", "--build", plain, "--target", "livebuyd", "-j%d" % (os.cpu_count() or 1)]):
        proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
        if proc.returncode != 0:
            raise AssertionError("%s failed (exit %d):\n%s" % (" ".join(command), proc.returncode, proc.stdout))
    path = os.path.join(plain, "livebuyd")
    if not with_mimalloc(path):
        raise AssertionError("%s is not linked with mimalloc" % path)
    return path


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS for process %d" % pid)


class MemoryGivenBack(HeldAnswersTestCase):
    """Issue #18's zero-window attack, 500 connections x 100 streams of /metrics under the default budgets, against a
    livebuyd with mimalloc and one loop thread: once the clients are gone, RSS comes back near what it was before them.
    The issue's target is within 32 MB. Measured here: +1.4 to +1.5 MB; with the thorough purge left out, +5 to +8 MB
    in two runs of three and more than 16 MB in the third (freed spans whose segment nothing touches again; +22 to +58
    MB in loadtest/zero-window.py's runs). The bound, 16 MB, fails those and is ten times what is measured; RSS counts
    only livebuyd's own pages, whatever else the machine runs, and only falls once the clients are gone."""

    @classmethod
    def setUpClass(cls):
        lb.raise_open_files_limit()
        cls.sock = lb.mariadb()
        cls.dbname = lb.fresh_database(cls.sock)
        cls.url = lb.db_url(cls.sock, cls.dbname)
        cls.server = lb.Server(cls.url, list(lb.ServerTestCase.server_args) + [
            "--threads", "1", "--sql-dir", os.path.join(lb.SOURCE_DIR, "sql"),
            "--web-dir", os.path.join(lb.SOURCE_DIR, "web")], binary=mimalloc_livebuyd())

    def purges(self, kind):
        return lb.metric(self.metrics(), 'livebuy_memory_purges_total{kind="%s"}' % kind)

    def test_rss_comes_back_after_a_zero_window_attack(self):
        pid = self.server.proc.pid
        self.assertHonestClientsServed()
        start = rss_mb(pid)
        closed = self.over_budget("process")
        thorough = self.purges("thorough")
        clients = []
        try:
            for _ in range(500):
                clients.append(ZeroWindowClient(self.server.port, "/metrics", 100))
            # The clients hold for 5 s, as loadtest/zero-window.py's do, and nothing else asks livebuyd anything until
            # RSS is back: the allocator's own work on a request (a page taken, one freed) gives memory back too, which
            # an idle livebuyd does not have.
            time.sleep(5)
            held = rss_mb(pid)
        finally:
            for c in clients:
                c.close()
        self.wait_for("RSS back within 16 MB of its start", lambda: rss_mb(pid) - start < 16, timeout=30)
        after = rss_mb(pid)
        print("zero window, 500 x 100 streams of /metrics: RSS %.1f MB at start, %.1f MB held (+%.1f), %.1f MB after "
              "(+%.1f)" % (start, held, held - start, after, after - start))
        self.assertGreater(held - start, 32, "the attack held memory")
        self.assertGreaterEqual(self.over_budget("process") - closed, 300, "the process budget closed most clients")
        self.assertEqual(self.held(), 0, "nothing held once the clients are gone")
        self.assertHonestClientsServed()

if __name__ == "__main__":
    lb.main()
