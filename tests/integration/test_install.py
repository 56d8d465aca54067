"""cmake --install: the layout it makes (bin/, share/livebuy/{sql,web}, the systemd unit), and the installed livebuyd,
run from a folder outside the checkout, applying the installed migrations and serving the installed pages by itself
(docs/operations.md, "Installing")."""

import os
import shutil
import subprocess
import tempfile
import unittest

import lb

# A migration the test adds to the installed sql/ only.
ONLY_INSTALLED = "900_installed_only.sql"
BUILD_DIR = os.environ.get("LIVEBUY_BUILD_DIR") or os.path.dirname(lb.livebuyd())


def install(prefix):
    proc = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", prefix], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError("cmake --install failed (exit %d):\n%s" % (proc.returncode, proc.stdout))


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


class Installed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prefix = tempfile.mkdtemp(prefix="lbinst-")
        install(cls.prefix)
        cls.data = os.path.join(cls.prefix, "share", "livebuy")
        cls.elsewhere = tempfile.mkdtemp(prefix="lbcwd-")  # the installed livebuyd's working folder

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.prefix, ignore_errors=True)
        shutil.rmtree(cls.elsewhere, ignore_errors=True)

    def test_layout(self):
        for name in ("livebuyd", "livebuy-load"):
            self.assertTrue(os.access(os.path.join(self.prefix, "bin", name), os.X_OK), name)
        sql = sorted(f for f in os.listdir(os.path.join(lb.SOURCE_DIR, "sql")) if f.endswith(".sql"))
        installed = sorted(f for f in os.listdir(os.path.join(self.data, "sql")) if f.endswith(".sql") and f != ONLY_INSTALLED)
        self.assertEqual(installed, sql)
        for page in ("shop.html", "coop.html", "docs.html", "common.js", "style.css"):
            self.assertEqual(read(os.path.join(self.data, "web", page), "rb"),
                             read(os.path.join(lb.SOURCE_DIR, "web", page), "rb"), page)
        # the checkout's web/openapi.yaml is a link into docs/: the installed one is the file itself
        spec = os.path.join(self.data, "web", "openapi.yaml")
        self.assertFalse(os.path.islink(spec))
        self.assertEqual(read(spec, "rb"), read(os.path.join(lb.SOURCE_DIR, "docs", "openapi.yaml"), "rb"))
        unit = read(os.path.join(self.prefix, "lib", "systemd", "system", "livebuyd.service"))
        self.assertIn("\nExecStart=%s/bin/livebuyd\n" % self.prefix, unit)
        self.assertIn("\nEnvironmentFile=/etc/livebuy/livebuyd.env\n", unit)
        self.assertIn("LIVEBUY_DB=", read(os.path.join(self.data, "packaging", "livebuyd.env")))

    def test_the_installed_backup_runs_outside_the_checkout(self):
        """bin/livebuy-backup (a link to share/livebuy/scripts/backup.sh) backs up a MariaDB and restores it, from a
        folder outside the checkout, with settings from the environment as the systemd unit gives them."""
        backup = os.path.join(self.prefix, "bin", "livebuy-backup")
        self.assertTrue(os.path.islink(backup))
        unit = read(os.path.join(self.prefix, "lib", "systemd", "system", "livebuy-backup.service"))
        self.assertIn("\nExecStart=%s save-in /var/lib/livebuy-backup\n" % backup, unit)
        env = dict(os.environ)
        for name in ("LIVEBUY_BACKUP_DB_DIR", "LIVEBUY_BACKUP_SOCKET", "LIVEBUY_BACKUP_DATADIR", "LIVEBUY_MEDIA_DIR"):
            env.pop(name, None)
        run = lambda *args, **extra: subprocess.run([backup] + list(args), cwd=self.elsewhere, stdout=subprocess.PIPE,
                                                   stderr=subprocess.STDOUT, text=True, timeout=300,
                                                   env=dict(env, **extra))
        proc = run("save", "b0")
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn("which database? --db-dir DIR, or --socket and --datadir", proc.stdout)
        with lb.PrivateMariaDB() as mdb:
            lb.sql(mdb.socket, "mysql", "CREATE DATABASE lbinst; CREATE TABLE lbinst.schema_migrations (version INT);"
                                        "INSERT INTO lbinst.schema_migrations VALUES (42)")
            proc = run("save-in", "nightly", LIVEBUY_BACKUP_SOCKET=mdb.socket,
                       LIVEBUY_BACKUP_DATADIR=os.path.join(mdb.dir, "data"))
            self.assertEqual(proc.returncode, 0, proc.stdout)
            [taken] = os.listdir(os.path.join(self.elsewhere, "nightly"))
            restored = os.path.join(self.elsewhere, "restored")
            proc = run("restore", os.path.join("nightly", taken), "restored")
            try:
                self.assertEqual(proc.returncode, 0, proc.stdout)
                self.assertIn("mysql://root@localhost/lbinst?socket=%s/mysqld.sock" % restored, proc.stdout)
                self.assertEqual(lb.sql_value(os.path.join(restored, "mysqld.sock"), "lbinst",
                                              "SELECT version FROM schema_migrations"), "42")
            finally:
                subprocess.run([os.path.join(self.data, "scripts", "mariadb.sh"), "stop", restored],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def test_the_installed_livebuyd_runs_on_its_own_files(self):
        """Run from a folder outside the checkout, without --sql-dir or --web-dir: the migrations come from the
        installed sql/ (a migration only the installed folder has is applied) and the pages from the installed web/
        (a page changed only there is served)."""
        with open(os.path.join(self.data, "sql", ONLY_INSTALLED), "w") as f:
            f.write("CREATE TABLE installed_only (id INT PRIMARY KEY);\n")
        marker = "<!-- the installed copy -->"
        with open(os.path.join(self.data, "web", "shop.html"), "a") as f:
            f.write(marker + "\n")
        sock = lb.mariadb()
        db = lb.fresh_database(sock)
        binary = os.path.join(self.prefix, "bin", "livebuyd")
        server = lb.Server(lb.db_url(sock, db), ["--buyer-secret", lb.BUYER_SECRET], binary=binary, cwd=self.elsewhere)
        try:
            log = server.log_since_start()
            self.assertIn("migrations from %s/sql, web pages from %s/web (installed)" % (self.data, self.data), log)
            self.assertEqual(lb.sql_value(sock, db, "SELECT COUNT(*) FROM installed_only"), "0")
            status, _, body = server.request("GET", "/shop/1")
            self.assertEqual(status, 200)
            self.assertIn(marker.encode(), body)
            status, _, body = server.request("GET", "/web/openapi.yaml")
            self.assertEqual((status, body), (200, read(os.path.join(lb.SOURCE_DIR, "docs", "openapi.yaml"), "rb")))
            self.assertEqual(server.request("GET", "/readyz")[0], 200)
            self.assertEqual(server.stop(), 0)
            # --web-dir still wins over the installed folder
            server.extra_args += ["--web-dir", os.path.join(lb.SOURCE_DIR, "web")]
            server.start()
            status, _, body = server.request("GET", "/shop/1")
            self.assertEqual(status, 200)
            self.assertNotIn(marker.encode(), body)
            self.assertEqual(server.stop(), 0)
        finally:
            if server.running():
                server.kill()
            lb.drop_database(sock, db)

    def test_the_build_tree_livebuyd_runs_on_the_checkout(self):
        sock = lb.mariadb()
        db = lb.fresh_database(sock)
        try:
            code, _, err = lb.run_livebuyd(["--db", lb.db_url(sock, db), "--migrate-only"])
        finally:
            lb.drop_database(sock, db)
        self.assertEqual(code, 0, err)
        self.assertIn("migrations from %s/sql, web pages from %s/web (build tree)" % (lb.SOURCE_DIR, lb.SOURCE_DIR), err)


if __name__ == "__main__":
    lb.main()
