#!/usr/bin/python3
"""Adversarial: one user's flood of flow ends costs no other user's byte counts.

A real vigild (in a network namespace, on a private system bus) keeps its history on disk. Root
downloads 1 MiB; uid 65534 (nobody) makes 4,000 short connections. While the history's writer
is behind (the test holds the database's write lock for a moment, as a slow disk would), the
conntrack entries of nobody's 4,000 flows and then of root's download end (`conntrack -D` in
the test's namespace): 4,000 flows' counters of nobody come first, root's last. Root's row still
gets its bytes and its end: counters are shared per user like the decisions (the old queue held
all flows' counters in one part of 2,048 places, which nobody's filled, and root's end was lost).
"""
import os
import sqlite3
import subprocess
import sys
import time
import unittest

from gi.repository import GLib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "dbus"))

import bus as testbus  # noqa: E402
import vigiltest  # noqa: E402
from test_dbus import DBusTestCase, NOBODY, PEER_V4  # noqa: E402

FLOWS = 4000  # nobody's: past the old 2,048 places, and the writer's batch of 1,024
FLOOD_PORT = 7301
DOWNLOAD_PORT = 8199
SIZE = 1 << 20

# accepts and closes connections (nobody's short flows: each ends in TIME_WAIT)
ACCEPT_SERVER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(1024)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.close()
"""

# answers one HTTP request with SIZE bytes
SERVE = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
c.recv(4096)
size = int(sys.argv[2])
c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % size)
c.sendall(b"v" * size)
c.close()
"""


class HistoryCounters(DBusTestCase):
    def serve(self, code, *args):
        server = self.nets.spawn(self.nets.peer, ["/usr/bin/python3", "-c", code]
                                 + [str(a) for a in args], stdout=subprocess.PIPE, text=True)
        self.addCleanup(server.stdout.close)
        self.assertEqual(server.stdout.readline().strip(), "ready")

    def delete_entries(self, port):
        res = self.nets.client_run(["conntrack", "-D", "-p", "tcp", "--orig-dst", PEER_V4,
                                    "--dport", str(port)], timeout=120)
        # conntrack -D says how many it deleted on stderr
        return res.stdout + res.stderr

    def history_rows(self, port):
        rows = self.call("GetConnections", "a{sv}", [{
            "history": GLib.Variant("b", True),
            "since": GLib.Variant("x", int((time.time() - 3600) * 1e6)),
        }])[0]
        return [r for r in rows if r["port"] == port]

    def test_flood_of_flow_ends_keeps_others_bytes(self):
        self.serve(ACCEPT_SERVER, FLOOD_PORT)
        self.serve(SERVE, DOWNLOAD_PORT, SIZE)
        d = self.start_vigild(config={"DefaultAction": "allow"})
        d.wait_for_log("conntrack accounting")
        res = self.nets.client_run(["curl", "-s", "-o", "/dev/null", "-w", "%{size_download}",
                                    "--max-time", "20",
                                    "http://%s:%d/" % (PEER_V4, DOWNLOAD_PORT)], timeout=40)
        self.assertEqual(res.stdout, str(SIZE), res.stderr)
        flood = self.nets.client_run(testbus.as_user_argv(NOBODY) + [
            vigiltest.CONNECT_MANY, PEER_V4, str(FLOOD_PORT), str(FLOWS)], timeout=600)
        self.assertEqual(flood.returncode, 0, flood.stdout + flood.stderr)
        # every decision is in the file before the writer is held
        deadline = time.monotonic() + 60
        while len(self.history_rows(FLOOD_PORT)) < FLOWS and time.monotonic() < deadline:
            time.sleep(0.5)
        self.assertGreaterEqual(len(self.history_rows(FLOOD_PORT)), FLOWS)
        mine = self.history_rows(DOWNLOAD_PORT)
        self.assertEqual(len(mine), 1, mine)
        self.assertEqual(mine[0]["uid"], 0)
        self.assertNotIn("ended", mine[0])

        # the writer is behind: it waits with its batch while the test holds the lock
        db = sqlite3.connect(os.path.join(d.dir, "history.db"), isolation_level=None,
                             timeout=10)
        self.addCleanup(db.close)
        db.execute("BEGIN IMMEDIATE")
        held = time.monotonic()
        out = self.delete_entries(FLOOD_PORT)
        time.sleep(1.5)  # vigild reads the flood's end events first
        out += self.delete_entries(DOWNLOAD_PORT)
        time.sleep(1.5)
        db.execute("ROLLBACK")
        print("write lock held %.2f s; %s" % (time.monotonic() - held, out.strip()[-200:]))

        # root's download: its bytes and its end, although nobody's 4,000 ends came first
        deadline = time.monotonic() + 30
        while True:
            mine = self.history_rows(DOWNLOAD_PORT)
            if "ended" in mine[0] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertIn("ended", mine[0], "root's flow end was not kept:\n" + d.log()[-3000:])
        self.assertGreaterEqual(mine[0]["bytes-in"], SIZE)
        self.assertLess(mine[0]["bytes-in"], SIZE * 1.05)
        self.assertIsNone(d.proc.poll(), "vigild died")


if __name__ == "__main__":
    unittest.main(verbosity=2)
