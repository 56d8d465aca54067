#!/usr/bin/python3
"""The Spider front's half of a cluster's migration (scripts/cluster.sh migrate; docs/scale-out.md).

The backends are migrated by livebuyd --migrate-only like any single database. The front's database holds the global
tables (InnoDB) and one Spider table per sharded table; its sharded tables' shapes are kept as empty InnoDB tables in
DB_shape. A migration of the front runs between these two steps:

  open  DB   the Spider tables are dropped (their rows are on the backends: nothing is lost) and the empty shapes moved
             into DB, so that sql/ runs on the front as on any database: DDL changes the shapes, data statements find
             no rows in them and do their work on the global tables only
  close DB   the shapes go back to DB_shape and each sharded table is made again as a Spider table from its shape's
             definition: ENGINE=SPIDER, partitioned by LIST of its shard column MOD the number of slots, one
             partition per backend holding the slots the slot map gives it

Usage: cluster_schema.py open|close --socket FRONT_SOCKET --db DB [--slots b1,b2,b1,...]
Each step can run again after a failure half way.
"""
import argparse
import os
import re
import subprocess
import sys

PLACEMENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sql", "cluster", "placement.txt")


def die(message):
    print("livebuy: " + message, file=sys.stderr)
    sys.exit(1)


def placement():
    places = {}
    with open(PLACEMENT, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            if line[1] == "sharded" and len(line) == 3:
                places[line[0]] = line[2]
            elif line[1] == "front" and len(line) == 2:
                places[line[0]] = None
            else:
                die("%s: cannot read the line %r" % (PLACEMENT, " ".join(line)))
    return places


class Front:
    def __init__(self, socket):
        self.socket = socket

    def run(self, sql, db=None):
        args = ["mariadb", "--no-defaults", "--socket=" + self.socket, "--user=root", "-N", "-B", "--raw",
                "--default-character-set=utf8mb4"]
        if db:
            args.append(db)
        proc = subprocess.run(args + ["-e", sql], capture_output=True, text=True)
        if proc.returncode != 0:
            die("on the front: %s\n  %s" % (proc.stderr.strip(), sql[:2000]))
        return proc.stdout

    def tables(self, db):
        """{name: (engine, type)} of the tables in db."""
        out = self.run("SELECT table_name, IFNULL(engine, ''), table_type FROM information_schema.tables "
                       "WHERE table_schema = '%s'" % db)
        return {row.split("\t")[0]: tuple(row.split("\t")[1:3]) for row in out.splitlines() if row}

    def create_statement(self, db, table):
        out = self.run("SHOW CREATE TABLE `%s`.`%s`" % (db, table))
        return out.split("\t", 1)[1].rstrip("\n")


def spider_definition(create, table, column, slots):
    """The Spider table made from an InnoDB table's definition (its SHOW CREATE TABLE)."""
    lines = create.split("\n")
    head, body, tail = lines[0], lines[1:-1], lines[-1]
    # CHECK constraints stay on the backends, which see whole rows: the front checks the row it has, and Spider reads
    # only the columns a statement needs (UPDATE offers SET placed = placed + 1 failed offers_within on the front with
    # max_quota read as 0).
    body = [line for line in body if not re.match(r"\s*CONSTRAINT `\w+` CHECK ", line)]
    if body:
        body[-1] = body[-1].rstrip(",")
    for i, line in enumerate(body):
        m = re.match(r"(\s*(PRIMARY KEY|UNIQUE KEY `\w+`) \()([^)]*)(\).*)$", line)
        if m:
            # Partitioning needs the shard column in every unique key: the key is made wider on the front (ids stay
            # unique: they come from the front's counters), the backends keep theirs.
            columns = [c.strip() for c in m.group(3).split(",")]
            if "`%s`" % column not in columns:
                columns.append("`%s`" % column)
            body[i] = m.group(1) + ",".join(columns) + m.group(4)
    m = re.match(r"\) ENGINE=InnoDB(.*)$", tail)
    if not m:
        die("%s: not an InnoDB table: %s" % (table, tail))
    options = re.sub(r" AUTO_INCREMENT=\d+", "", m.group(1))
    if "COMMENT=" in options:
        die("%s: a table comment is where Spider keeps its link; move the comment into sql/ as a SQL comment" % table)
    # One partition per backend, holding the SKUs of its slots (sku_id MOD the slot count): two partitions on one
    # backend table would each run a statement that names no SKU (UPDATE offers ... WHERE id = ?), applying it twice.
    servers = sorted(set(slots), key=slots.index)
    partitions = ",\n ".join("PARTITION `%s` VALUES IN (%s) COMMENT = 'srv \"%s\"'" % (
        server, ", ".join(str(i) for i, s in enumerate(slots) if s == server), server) for server in servers)
    return "%s\n%s\n) ENGINE=SPIDER%s COMMENT='wrapper \"mysql\", table \"%s\"'\nPARTITION BY LIST (`%s` MOD %d)\n(%s)" % (
        head, "\n".join(body), options, table, column, len(slots), partitions)


def open_front(front, db, places):
    shape_db = db + "_shape"
    front.run("CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" % shape_db)
    live, shapes = front.tables(db), front.tables(shape_db)
    for table in sorted(places):
        if places[table] is None or table not in shapes:
            continue
        if table in live:
            if live[table][0].upper() != "SPIDER":
                die("%s.%s is %s and %s.%s exists too: which one is right?" % (db, table, live[table][0], shape_db, table))
            front.run("DROP TABLE `%s`.`%s`" % (db, table))
        front.run("RENAME TABLE `%s`.`%s` TO `%s`.`%s`" % (shape_db, table, db, table))


def close_front(front, db, places, slots):
    shape_db = db + "_shape"
    front.run("CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" % shape_db)
    live = front.tables(db)
    for table, (engine, kind) in sorted(live.items()):
        if kind == "BASE TABLE" and table not in places:
            die("sql/ made the table %s, which sql/cluster/placement.txt does not place: add it there" % table)
    for table, column in sorted(places.items()):
        if column is None:
            continue
        if table in live and live[table][0].upper() != "SPIDER":
            front.run("RENAME TABLE `%s`.`%s` TO `%s`.`%s`" % (db, table, shape_db, table))
            live.pop(table)
        if table not in front.tables(shape_db):
            die("%s: no shape in %s and no table in %s" % (table, shape_db, db))
        create = spider_definition(front.create_statement(shape_db, table), table, column, slots)
        front.run("DROP TABLE IF EXISTS `%s`.`%s`" % (db, table))
        front.run(create.replace("CREATE TABLE `%s`" % table, "CREATE TABLE `%s`.`%s`" % (db, table), 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("open", "close"))
    parser.add_argument("--socket", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--slots", default="")
    args = parser.parse_args()
    if not re.match(r"^\w+$", args.db):
        die("the database name %r is not a plain identifier" % args.db)
    front, places = Front(args.socket), placement()
    if args.step == "open":
        open_front(front, args.db, places)
    else:
        slots = [s for s in args.slots.split(",") if s]
        if not slots or not all(re.match(r"^\w+$", s) for s in slots):
            die("--slots: a comma-separated list of server names, one per slot")
        close_front(front, args.db, places, slots)


if __name__ == "__main__":
    main()
