"""Shared harness of livebuy's integration tests: a real livebuyd against a real MariaDB, over real HTTP.

Environment (set by ctest, see tests/CMakeLists.txt, and by scripts/test.sh):
  LIVEBUYD                 path of the livebuyd binary (required)
  LIVEBUY_SOURCE_DIR       the repository root (default: two folders up from here)
  LIVEBUY_TEST_SOCKET      socket of a running throwaway MariaDB; without it a private one is started (and stopped at exit)
  LIVEBUY_TEST_MARIADB_DIR that MariaDB's folder (for scripts/mariadb.sh sql)

Standard library only, plus Debian's python3-msgpack, and python3-jsonschema and python3-yaml for the contract check
of every answer against docs/openapi.yaml (contract.py). Run with /usr/bin/python3.
"""

import atexit
import hashlib
import hmac
import http.client
import http.server
import itertools
import json
import os
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import msgpack

import contract

SOURCE_DIR = os.environ.get("LIVEBUY_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MARIADB_SH = os.path.join(SOURCE_DIR, "scripts", "mariadb.sh")
ADMIN_TOKEN = "test-admin-token-0123456789"
BUYER_SECRET = "test-buyer-secret-0123456789"
PAYMENT_SECRET = "test-payment-secret-0123456789"
# For tests whose bursts come from one buyer or one connection on purpose (a retry storm of one key, a race of one
# buyer's orders against a correction): the per-client caps of the order path (--max-buyer-orders,
# --max-connection-orders), which test_attacks.py tests, are off.
NO_CLIENT_CAPS = ["--max-buyer-orders", "0", "--max-connection-orders", "0"]
TIME_MAX = 4102444800  # 2100-01-01
REQUEST_TIMEOUT = 15.0


def buyer_token(user_id, expiry=TIME_MAX, secret=BUYER_SECRET):
    """A buyer token as API.md defines it: b1.USER_ID.EXPIRY.SIG, SIG = hex HMAC-SHA256 under the buyer secret."""
    payload = "b1.%d.%d" % (user_id, expiry)
    return payload + "." + hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signed(body, timestamp=None, secret=PAYMENT_SECRET):
    """The headers of a signed callback (payment notify, shipping event) of body (bytes)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Livebuy-Timestamp": ts, "X-Livebuy-Signature": "sha256=" + mac}


def error_code(body):
    """The code of an API error body; fails the test when body is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        raise AssertionError("not an API error body: %r" % (body,))
    return body["error"]["code"]


def error_parts(body):
    """(code, message) of an API error body, or raises AssertionError naming what is wrong with it."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        raise AssertionError("not an API error body: %r" % (body,))
    err = body["error"]
    if not isinstance(err.get("code"), str) or not isinstance(err.get("message"), str) or not err["message"]:
        raise AssertionError("error body lacks a string code and a non-empty message: %r" % (body,))
    return err["code"], err["message"]


def metric(text, name):
    """The value of a Prometheus sample line "NAME VALUE" (name with its labels, as /metrics spells them), 0 when absent."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def raise_open_files_limit():
    """Raises this process's open files limit (RLIMIT_NOFILE) to its hard limit, at most 65536: for tests that hold
    thousands of connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > 65536:
        hard = 65536
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def livebuyd():
    path = os.environ.get("LIVEBUYD")
    if not path:
        raise RuntimeError("LIVEBUYD (the path of the livebuyd binary) is not set")
    if not os.access(path, os.X_OK):
        raise RuntimeError("LIVEBUYD=%s is not an executable" % path)
    return path


def server_env(extra=None):
    """The environment for livebuyd: no LIVEBUY_* settings leaking in from outside, leak checks off (it exits without
    tearing down open connections), other sanitizer settings kept."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEBUY_")}
    asan = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "detect_leaks=0"
    if extra:
        env.update(extra)
    return env


def _short_tempdir(prefix):
    # A Unix socket path must stay under 108 bytes: keep the folder short, under /tmp.
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


# ---------------------------------------------------------------------------------------------------------------------
# MariaDB


class PrivateMariaDB:
    """A MariaDB of one's own in a temporary folder (scripts/mariadb.sh), for tests that stop and start the database."""

    def __init__(self, port=None):
        self.dir = _short_tempdir("lbdb-")
        self.port = port
        self.socket = os.path.join(self.dir, "mysqld.sock")
        self._removed = False
        atexit.register(self.destroy)

    def _run(self, *args, check=True):
        proc = subprocess.run(["bash", MARIADB_SH] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=120)
        if check and proc.returncode != 0:
            raise RuntimeError("scripts/mariadb.sh %s failed (exit %d):\n%s" % (" ".join(args), proc.returncode, proc.stdout))
        return proc

    def start(self):
        args = ["start", self.dir]
        if self.port:
            args += ["--port", str(self.port)]
        self._run(*args)
        return self

    def stop(self):
        self._run("stop", self.dir)

    def restart(self):
        self.stop()
        self.start()

    def is_up(self):
        return self._run("status", self.dir, check=False).returncode == 0

    def destroy(self):
        if self._removed:
            return
        self._removed = True
        try:
            self._run("stop", self.dir, check=False)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.destroy()


_shared_mariadb = None


def mariadb():
    """The socket of the test MariaDB: LIVEBUY_TEST_SOCKET, or a private one started on first use (stopped at exit)."""
    global _shared_mariadb
    sock = os.environ.get("LIVEBUY_TEST_SOCKET")
    if sock:
        return sock
    if _shared_mariadb is None:
        _shared_mariadb = PrivateMariaDB().start()
    return _shared_mariadb.socket


def _client(sock, *args, database=None, timeout=60):
    cmd = ["mariadb", "--no-defaults", "-S", sock, "-uroot", "--default-character-set=utf8mb4"]
    if database:
        cmd += ["-D", database]
    proc = subprocess.run(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError("mariadb %s failed: %s" % (" ".join(args), proc.stderr.decode(errors="replace").strip()))
    return proc.stdout.decode("utf-8")


_db_counter = itertools.count(1)


def fresh_database(sock):
    """Creates an empty database with a unique name on the MariaDB at sock and returns its name."""
    name = "lbt_%d_%d_%d" % (os.getpid(), int(time.time()) % 100000, next(_db_counter))
    _client(sock, "-e", "CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" % name)
    return name


def drop_database(sock, name):
    _client(sock, "-e", "DROP DATABASE IF EXISTS `%s`" % name)


def sql(sock, database, query):
    """Runs query in database; returns the rows as tuples of strings (None for NULL)."""
    out = _client(sock, "--batch", "--raw", "--skip-column-names", "-e", query, database=database)
    rows = []
    for line in out.split("\n"):
        if line == "":
            continue
        rows.append(tuple(None if v == "NULL" else v for v in line.split("\t")))
    return rows


def sql_value(sock, database, query):
    rows = sql(sock, database, query)
    return rows[0][0] if rows else None


def db_url(sock, database):
    return "mysql://root@localhost/%s?socket=%s" % (database, sock)


# ---------------------------------------------------------------------------------------------------------------------
# livebuyd


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_livebuyd(args, timeout=60, env=None):
    """Runs livebuyd to completion (for --migrate-only, --help and refusals); returns (exit code, stdout, stderr)."""
    proc = subprocess.run([livebuyd()] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          env=server_env(env))
    return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


_all_servers = []


class ServerError(RuntimeError):
    pass


class Server:
    """A livebuyd on 127.0.0.1 and a free port, its output in a log file. Also an HTTP/1.1 keep-alive client of it."""

    def __init__(self, db, extra_args=(), admin_token=ADMIN_TOKEN, tls=None, env=None, start=True, binary=None, cwd=None):
        """db: a mysql:// URL; tls: (cert, key) paths to serve HTTPS; binary: a livebuyd other than LIVEBUYD (an
        installed one), run in the folder cwd."""
        self.db = db
        self.binary = binary
        self.cwd = cwd
        self.extra_args = list(extra_args)
        self.admin_token = admin_token
        self.tls = tls
        self.env = env
        self.proc = None
        self.port = None
        self.logdir = tempfile.mkdtemp(prefix="lbsrv-")
        self.logpath = os.path.join(self.logdir, "livebuyd.log")
        self._conn = None
        self._conn_used = False
        self.starts = 0
        _all_servers.append(self)
        atexit.register(self._cleanup)
        if start:
            self.start()

    # -- process ------------------------------------------------------------------------------------------------------

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def base_url(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def args(self):
        args = ["--listen", "127.0.0.1:%d" % self.port, "--db", self.db]
        if self.admin_token:
            args += ["--admin-token", self.admin_token]
        if self.tls:
            args += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        if "--media-dir" not in self.extra_args:
            args += ["--media-dir", self.media_dir]
        return args + self.extra_args

    @property
    def media_dir(self):
        """The product photos' folder: the one given, else its own beside the log."""
        if "--media-dir" in self.extra_args:
            return self.extra_args[self.extra_args.index("--media-dir") + 1]
        return os.path.join(self.logdir, "media")

    def start(self, timeout=20.0):
        """Starts livebuyd (again, on the same database and port when restarted) and waits until /healthz answers."""
        if self.proc is not None and self.proc.poll() is None:
            raise ServerError("already running")
        if self.port is None:
            self.port = free_port()
        self.starts += 1
        log = open(self.logpath, "ab")
        log.write(("==== start #%d: livebuyd %s\n" % (self.starts, " ".join(self.args()))).encode())
        log.flush()
        self.log_offset = log.tell()
        self.proc = subprocess.Popen([self.binary or livebuyd()] + self.args(), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, env=server_env(self.env), cwd=self.cwd)
        log.close()
        self.close_connection()
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                raise ServerError("livebuyd exited with status %d during start-up; its log:\n%s" % (code, self.log_tail()))
            if self._health_once():
                return self
            if time.monotonic() > deadline:
                self.kill()
                raise ServerError("livebuyd did not answer /healthz within %.0f s; its log:\n%s" % (timeout, self.log_tail()))
            time.sleep(0.05)

    def _health_once(self):
        try:
            if self.tls:
                ctx = ssl._create_unverified_context()
                conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=2, context=ctx)
            else:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                return conn.getresponse().status == 200
            finally:
                conn.close()
        except (OSError, http.client.HTTPException):
            return False

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Sends sig and waits for the exit; returns the exit status (negative: killed by that signal)."""
        self.close_connection()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise ServerError("livebuyd did not exit within %.0f s of signal %d; its log:\n%s"
                                  % (timeout, sig, self.log_tail()))
        return self.proc.returncode

    def kill(self):
        return self.stop(signal.SIGKILL)

    def _cleanup(self):
        try:
            if self.running():
                self.kill()
        except Exception:
            pass
        shutil.rmtree(self.logdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.running():
            self.kill()

    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_since_start(self):
        """The output of the current (or last) run only."""
        try:
            with open(self.logpath, "rb") as f:
                f.seek(self.log_offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.logpath)
        except OSError:
            return 0

    def log_tail(self, lines=40, since=0):
        try:
            with open(self.logpath, "rb") as f:
                f.seek(since)
                text = f.read().decode(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- HTTP ---------------------------------------------------------------------------------------------------------

    def connection(self, timeout=REQUEST_TIMEOUT):
        if self.tls:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=ssl._create_unverified_context())
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def close_connection(self):
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._conn_used = False

    def request(self, method, path, body=None, token=None, fmt="json", accept=None, headers=None, raw=None,
                timeout=REQUEST_TIMEOUT):
        """One request on the kept-alive HTTP/1.1 connection. body is encoded by fmt ('json' or 'msgpack'); raw sends
        bytes as they are (Content-Type still from fmt unless headers set it; a headers value of None drops a header).
        Returns (status, headers with lower-case names, body): the body decoded by the answer's Content-Type (JSON or
        msgpack), else the raw bytes."""
        hdrs = {}
        payload = None
        if raw is not None or body is not None:
            if raw is not None:
                payload = raw
            elif fmt == "msgpack":
                payload = msgpack.packb(body, use_bin_type=True)
            else:
                payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            hdrs["Content-Type"] = "application/msgpack" if fmt == "msgpack" else "application/json"
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        if accept is not None:
            hdrs["Accept"] = accept
        if method in ("GET", "HEAD"):
            # Tests read what they just wrote: past livebuyd's public answer cache (headers={"Cache-Control": None} to
            # read as an anonymous viewer does).
            hdrs["Cache-Control"] = "no-cache"
        for k, v in (headers or {}).items():
            for existing in [h for h in hdrs if h.lower() == k.lower()]:
                del hdrs[existing]
            if v is not None:
                hdrs[k] = v
        if payload is not None and not any(h.lower() == "content-length" for h in hdrs):
            hdrs["Content-Length"] = str(len(payload))

        for attempt in (0, 1):
            reused = self._conn is not None and self._conn_used
            if self._conn is None:
                self._conn = self.connection(timeout)
            self._conn.timeout = timeout
            if self._conn.sock is not None:
                self._conn.sock.settimeout(timeout)
            try:
                self._conn.request(method, path, body=payload, headers=hdrs)
                resp = self._conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, http.client.CannotSendRequest,
                    http.client.BadStatusLine) as e:
                self.close_connection()
                if reused and attempt == 0:
                    continue  # the server closed an idle kept-alive connection: once more on a new one
                raise
            except BaseException:
                self.close_connection()
                raise
            self._conn_used = True
            rhdrs = {k.lower(): v for k, v in resp.getheaders()}
            if resp.will_close or rhdrs.get("connection", "").lower() == "close":
                self.close_connection()
            answer = decode_body(rhdrs.get("content-type", ""), data)
            contract.contract().check(method, path, resp.status, rhdrs, answer)
            return resp.status, rhdrs, answer

    def requests_at_once(self, requests, timeout=60):
        """Sends requests [(method, path, body bytes or None, headers)] together: each on a connection of its own,
        connected first, then all released by one barrier, so that the server sees them in the same instant. Returns
        their (status, body decoded by its Content-Type) in order (None for one that got no answer in time)."""
        answers = [None] * len(requests)
        start = threading.Barrier(len(requests))

        def send(i, method, path, payload, headers):
            conn = self.connection()
            try:
                conn.connect()
                start.wait(10)
                conn.request(method, path, body=payload, headers=headers)
                resp = conn.getresponse()
                answer = decode_body(resp.getheader("Content-Type", ""), resp.read())
                contract.contract().check(method, path, resp.status, {k.lower(): v for k, v in resp.getheaders()}, answer)
                answers[i] = (resp.status, answer)
            finally:
                conn.close()

        threads = [threading.Thread(target=send, args=(i,) + tuple(r)) for i, r in enumerate(requests)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout)
        return answers

    # -- resources ----------------------------------------------------------------------------------------------------

    def create_merchant(self, kind="coop", name=None):
        """Creates a merchant with the admin token; returns (id, token)."""
        name = name or "测试%s合作社" % kind
        status, _, body = self.request("POST", "/v1/merchants", {"name": name, "kind": kind}, token=self.admin_token)
        if status != 201:
            raise AssertionError("POST /v1/merchants answered %d %r" % (status, body))
        return body["id"], body["token"]

    def create_product(self, token, skus=None, **fields):
        """Creates a product (default: 武乡小米 with two SKUs); returns the answer body (asserting 201)."""
        body = default_product(skus)
        body.update(fields)
        status, _, answer = self.request("POST", "/v1/products", body, token=token)
        if status != 201:
            raise AssertionError("POST /v1/products answered %d %r" % (status, answer))
        return answer

    def create_pickup_point(self, token, point):
        """Creates a pickup point (point: its fields) with a merchant token; returns its id (asserting 201)."""
        status, _, answer = self.request("POST", "/v1/pickup-points", point, token=token)
        if status != 201:
            raise AssertionError("POST /v1/pickup-points answered %d %r" % (status, answer))
        return answer["id"]

    def create_offer(self, coop_token, sku_id, host_id, max_quota=1000000, min_price_cents=0, commission_bp=0, starts_at=0,
                     ends_at=TIME_MAX):
        """A co-op's offer of its SKU to a host (POST /v1/offers, pending); returns the answer body (asserting 201)."""
        body = {"sku_id": sku_id, "host_id": host_id, "max_quota": max_quota, "min_price_cents": min_price_cents,
                "commission_bp": commission_bp, "starts_at": starts_at, "ends_at": ends_at}
        status, _, answer = self.request("POST", "/v1/offers", body, token=coop_token)
        if status != 201:
            raise AssertionError("POST /v1/offers answered %d %r" % (status, answer))
        return answer

    def offer_action(self, token, offer_id, action):
        """POST /v1/offers/{id}/ACTION (accept, decline, end); returns the offer (asserting 200)."""
        status, _, answer = self.request("POST", "/v1/offers/%d/%s" % (offer_id, action), token=token)
        if status != 200:
            raise AssertionError("POST /v1/offers/%d/%s answered %d %r" % (offer_id, action, status, answer))
        return answer

    def accepted_offer(self, coop_token, host_token, host_id, sku_id, **terms):
        """What a host needs before it puts a co-op's SKU on air: the co-op's offer (terms as create_offer takes them;
        by default as much as can be placed, no floor, no commission, current until 2100), accepted by the host. Returns
        the offer's id."""
        offer = self.create_offer(coop_token, sku_id, host_id, **terms)
        return self.offer_action(host_token, offer["id"], "accept")["id"]

    def sku(self, sku_id):
        status, _, body = self.request("GET", "/v1/skus/%d" % sku_id)
        if status != 200:
            raise AssertionError("GET /v1/skus/%d answered %d %r" % (sku_id, status, body))
        return body

    def metrics(self):
        status, _, body = self.request("GET", "/metrics")
        if status != 200:
            raise AssertionError("GET /metrics answered %d" % status)
        return body.decode() if isinstance(body, bytes) else body


class ServerTestCase(unittest.TestCase):
    """A fresh database and one livebuyd (server_args added to its flags) shared by the tests of a class."""

    server_args = ["--buyer-secret", BUYER_SECRET, "--payment-secret", PAYMENT_SECRET]
    server_env = None  # extra environment of the livebuyd (e.g. a test failure point)
    private_mariadb = False  # a MariaDB of the class's own (cls.mdb), for tests that stop or freeze it

    @classmethod
    def setUpClass(cls):
        cls.mdb = PrivateMariaDB().start() if cls.private_mariadb else None
        cls.sock = cls.mdb.socket if cls.mdb else mariadb()
        cls.dbname = fresh_database(cls.sock)
        cls.url = db_url(cls.sock, cls.dbname)
        cls.server = Server(cls.url, list(cls.server_args), env=cls.server_env)

    @classmethod
    def tearDownClass(cls):
        mdb = getattr(cls, "mdb", None)  # None also for a class whose own setUpClass took the shared MariaDB
        try:
            if mdb is not None and not mdb.is_up():
                mdb.start()
            code = cls.server.stop() if cls.server.running() else "not running (crashed?)"
            if code != 0:
                raise AssertionError("livebuyd did not stop cleanly: %r; log:\n%s" % (code, cls.server.log_tail()))
            drop_database(cls.sock, cls.dbname)
        finally:
            if mdb is not None:
                mdb.destroy()

    def sql(self, query):
        return sql(self.sock, self.dbname, query)

    def hold_locked(self, query):
        """A client session holding query's locks (a locking read) in an open transaction; close its stdin to let go."""
        proc = subprocess.Popen(["mariadb", "--no-defaults", "-S", self.sock, "-uroot", "-D", self.dbname, "--batch",
                                 "--unbuffered", "--skip-column-names"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
        proc.stdin.write("BEGIN; %s; SELECT 'held';\n" % query)
        proc.stdin.flush()
        while proc.stdout.readline().strip() != "held":
            self.assertIsNone(proc.poll(), "the client session ended")
        return proc

    def assertError(self, answer, status, code, *words, what=""):
        """answer (status, headers, body) is an error of this status and code whose message holds each of words;
        returns the message."""
        got, _, body = answer
        self.assertEqual(got, status, "%s: expected %d, got %d %r" % (what, status, got, body))
        got_code, message = error_parts(body)
        self.assertEqual(got_code, code, "%s: %r" % (what, message))
        for word in words:
            self.assertIn(word, message, "%s: the message should say %r" % (what, word))
        return message


class SecondServer:
    """Mixed in before a ServerTestCase: a second livebuyd on the same database with the same flags (cls.second),
    which must stop cleanly after the class's tests (two processes sharing the background work)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.second = Server(cls.url, list(cls.server_args))

    @classmethod
    def tearDownClass(cls):
        code = cls.second.stop()
        super().tearDownClass()
        if code != 0:
            raise AssertionError("the second livebuyd did not stop cleanly: %r" % code)


def default_product(skus=None):
    if skus is None:
        skus = [
            {"name": "武乡小米 2.5kg 礼盒", "price_cents": 5990, "stock": 100, "weight_grams": 2700},
            {"name": "武乡小米 5kg 家庭装", "price_cents": 9900, "stock": 40, "weight_grams": 5200},
        ]
    return {"title": "武乡小米 (沁州黄) 新米", "unit": "袋", "origin": "山西省长治市武乡县", "cold_chain": False, "skus": skus}


def decode_body(content_type, data):
    media = content_type.split(";")[0].strip().lower()
    try:
        if media == "application/json":
            return json.loads(data.decode("utf-8"))
        if media in ("application/msgpack", "application/x-msgpack"):
            return msgpack.unpackb(data, raw=False)
    except Exception:
        return data
    return data


# ---------------------------------------------------------------------------------------------------------------------
# Pieces of an asyncio HTTP/1.1 client (asyncio.StreamReader), for many connections in flight together.


def encode_request(method, path, body=None, token=None, key=None, headers=None, raw=None):
    """The bytes of one HTTP/1.1 request (JSON body unless raw)."""
    payload = raw if raw is not None else (None if body is None else json.dumps(body, ensure_ascii=False).encode())
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1"]
    if payload is not None:
        lines += ["Content-Type: application/json", "Content-Length: %d" % len(payload)]
    if token is not None:
        lines.append("Authorization: Bearer " + token)
    if key is not None:
        lines.append("Idempotency-Key: " + key)
    for k, v in (headers or {}).items():
        lines.append("%s: %s" % (k, v))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (payload or b"")


async def read_head(reader):
    """The status line and headers of an answer: (status, headers with lower-case names)."""
    line = await reader.readline()
    if not line:
        raise ConnectionError("connection closed before an answer")
    parts = line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ValueError("bad status line %r" % line)
    status = int(parts[1])
    headers = {}
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed in the headers")
        if line in (b"\r\n", b"\n"):
            return status, headers
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()


async def read_answer(reader):
    """A whole answer (Content-Length, chunked, or up to the end of the connection): (status, headers, decoded body)."""
    status, headers = await read_head(reader)
    if "content-length" in headers:
        data = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        data = b""
        while True:
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                break
            data += await reader.readexactly(size)
            await reader.readline()
    else:
        data = await reader.read()
    return status, headers, decode_body(headers.get("content-type", ""), data)


BROWSER_DIR = os.path.join(SOURCE_DIR, "tests", "browser")
CHROMIUM = os.environ.get("LIVEBUY_CHROMIUM", "/usr/bin/chromium")


def run_browser_script(test, script, env, timeout=300):
    """Runs tests/browser/SCRIPT (node's test runner driving Debian's chromium through playwright-core) with env added
    to ours and LB_CHROMIUM set; fails test with the script's output when it fails, or when node, chromium or
    playwright-core is missing (scripts/test.sh installs them). Returns the output."""
    node = os.environ.get("LIVEBUY_NODE") or shutil.which("node")
    if not node:
        test.fail("node is not installed (scripts/test.sh installs it)")
    if not os.access(CHROMIUM, os.X_OK):
        test.fail("%s is missing: install Debian's chromium (scripts/deps.sh chromium)" % CHROMIUM)
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        test.fail("playwright-core is missing: npm ci --prefix tests/browser")
    proc = subprocess.run([node, "--test-reporter=spec", os.path.join(BROWSER_DIR, script)], cwd=BROWSER_DIR,
                          env=dict(os.environ, LB_CHROMIUM=CHROMIUM, **env), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if proc.returncode != 0:
        test.fail("the browser tests of %s failed (exit %d):\n%s" % (script, proc.returncode, proc.stdout))
    return proc.stdout


def curl(*args, timeout=30):
    """Runs curl (silent) with args; returns the CompletedProcess (text)."""
    return subprocess.run(["curl", "-s", "--max-time", "15"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)


def self_signed_cert(folder):
    """A self-signed certificate for localhost in folder; returns (cert path, key path)."""
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
                    "-keyout", key, "-out", cert], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    return cert, key


class HttpReceiver:
    """An HTTP server on 127.0.0.1, a thread a request, whose POSTs go to self.handle(request) (a
    BaseHTTPRequestHandler): what livebuyd pushes to in the tests (the shipping system, the payment provider)."""

    def __init__(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.handle(self)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    @staticmethod
    def reply(request, status, data=b"{}", content_type="application/json"):
        """Answers request (a client that went away is no error)."""
        try:
            request.send_response(status)
            request.send_header("Content-Type", content_type)
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:
            pass


def wait_for(predicate, timeout, interval=0.2):
    """Calls predicate until it returns something true or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def in_background(server, *args, **kwargs):
    """Sends server.request(*args, **kwargs) from a thread of its own, on a connection of its own; returns a function
    that waits for its answer (status, headers, body) and gives it, or raises what the request raised."""
    other = Server(None, start=False, tls=server.tls)
    other.port = server.port
    outcome = {}

    def send():
        try:
            outcome["answer"] = other.request(*args, **kwargs)
        except BaseException as e:  # handed to the waiter
            outcome["error"] = e
        finally:
            other.close_connection()

    thread = threading.Thread(target=send)
    thread.start()

    def wait(timeout=REQUEST_TIMEOUT + 5):
        thread.join(timeout)
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("answer")

    return wait


def paused_session(run_sql, database, lock, timeout=30):
    """The id of the session that holds livebuyd's named lock `lock` of database (server/store/session.c) once it sleeps
    at a failure point (LIVEBUY_FAULT_PAUSE). run_sql(query) runs a statement where livebuyd's sessions are (its
    database, or a Spider front) and gives the rows."""
    query = ("SELECT ID FROM information_schema.PROCESSLIST WHERE ID = IS_USED_LOCK(CONCAT(LEFT('%s', 40), '/%s')) "
             "AND INFO LIKE 'SELECT SLEEP%%'" % (database, lock))
    rows = wait_for(lambda: run_sql(query), timeout)
    if not rows:
        raise AssertionError("no session holding %s paused within %d s" % (lock, timeout))
    return int(rows[0][0])


def kill_paused_session(run_sql, database, lock):
    """KILLs the session paused holding `lock` (paused_session): as a crash of livebuyd, or its connection lost, at that
    step would end it (its open transaction rolled back, its named locks let go)."""
    run_sql("KILL %d" % paused_session(run_sql, database, lock))


# ---------------------------------------------------------------------------------------------------------------------
# unittest glue: on a failure, show what the servers logged during that test.


class _LogShowingResult(unittest.TextTestResult):
    def startTest(self, test):
        self._log_marks = {id(s): s.log_size() for s in _all_servers}
        super().startTest(test)

    def _show_logs(self, test):
        marks = getattr(self, "_log_marks", {})
        for s in _all_servers:
            since = marks.get(id(s), 0)
            if s.log_size() > since:
                self.stream.write("\n---- livebuyd log (port %s) during %s ----\n%s\n----\n"
                                  % (s.port, test.id(), s.log_tail(60, since)))
        self.stream.flush()

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._show_logs(test)

    def addError(self, test, err):
        super().addError(test, err)
        self._show_logs(test)


def main():
    """unittest.main with server logs shown for failing tests; exits non-zero on any failure."""
    runner = unittest.TextTestRunner(verbosity=2, resultclass=_LogShowingResult, stream=sys.stderr)
    unittest.main(verbosity=2, testRunner=runner)
