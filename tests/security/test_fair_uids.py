#!/usr/bin/python3
"""Adversarial: a user with many subordinate uids (/etc/subuid, as rootless containers use)
counts as one user in every share of vigild's bounds, not as one user per uid.

nobody owns the range 300000-300099 in the subuid file vigild reads (--subuid-file: the test
does not change the machine's /etc/subuid). Root makes 200 connections; then 60 of nobody's
subordinate uids (real processes, setpriv to uids without a passwd entry) flood vigild with
6,600 connections, and root makes one more. Root's 200 connections are all still in
GetConnections: the ring of the last 4,096 decisions is shared per user, and the flood is one
user's (the old ring shared it per uid: 61 "users", root kept about 4,096 / 61 of its 200).
Root's last connection has its log line. And a uid of nobody's range, seen by the log's
"suppressed" line for the rest of a user, is counted under nobody.
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "dbus"))

import bus as testbus  # noqa: E402
import vigiltest  # noqa: E402
from test_dbus import DBusTestCase, NOBODY, PEER_V4  # noqa: E402

SUB_START = 300000
SUB_COUNT = 100
FLOOD_UIDS = 60
PER_UID = 110  # 6,600 in all: past the ring of 4,096, and 60 x 101 lines past 5,000 a window
ROOT_BEFORE = 200
CLOSED_PORT = 7  # nobody listens: each attempt is a new connection, refused at once
ROOT_PORT = 443


def drive(program, first_uid, uids, count, host, port):
    """Runs @program once as each of @uids uids from @first_uid (no passwd entry, no groups),
    all at once, each making @count connections; run inside the client namespace as root."""
    procs = [subprocess.Popen(testbus.as_user_argv(first_uid + i) +
                              [program, host, str(port), str(count)])
             for i in range(uids)]
    failed = sum(proc.wait() != 0 for proc in procs)
    print("failed %d" % failed)
    return 1 if failed else 0


class FairUids(DBusTestCase):
    def setUp(self):
        super().setUp()
        self.dir = self.shared_dir("vigil-fair-")
        self.program = vigiltest.copy_program(vigiltest.CONNECT_MANY,
                                              os.path.join(self.dir, "connect-many"))
        self.subuid = os.path.join(self.dir, "subuid")
        with open(self.subuid, "w") as f:
            f.write("nobody:%d:%d\n" % (SUB_START, SUB_COUNT))

    def vigild(self, *args, **kw):
        d = super().vigild(*args, **kw)
        argv = d.argv
        d.argv = lambda: argv() + ["--subuid-file", self.subuid]
        return d

    def run_as_root(self, count, port):
        res = self.nets.client_run([self.program, PEER_V4, str(port), str(count)], timeout=300)
        self.assertEqual(res.returncode, 0, res.stderr)

    def flood(self):
        start = time.monotonic()
        res = self.nets.client_run(
            [sys.executable, os.path.abspath(__file__), "--drive", self.program,
             str(SUB_START), str(FLOOD_UIDS), str(PER_UID), PEER_V4, str(CLOSED_PORT)],
            timeout=900)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        print("%d connections of %d subordinate uids in %.1f s"
              % (FLOOD_UIDS * PER_UID, FLOOD_UIDS, time.monotonic() - start))

    def test_subordinate_uids_count_as_their_user(self):
        d = self.start_vigild(config={"DefaultAction": "allow"})
        self.run_as_root(ROOT_BEFORE, CLOSED_PORT)
        self.flood()
        res = self.nets.client_run([vigiltest.CONNECT_ONCE, PEER_V4, str(ROOT_PORT)])
        self.assertEqual(res.returncode, 0, res.stderr)

        history = self.call("GetConnections", "a{sv}", [{}])[0]
        flood = [c for c in history if SUB_START <= c["uid"] < SUB_START + FLOOD_UIDS]
        roots = [c for c in history if c["uid"] == 0 and c["port"] == CLOSED_PORT]
        print("history: %d of root's %d, %d of the flood's, %d in all"
              % (len(roots), ROOT_BEFORE, len(flood), len(history)))
        self.assertGreater(len(flood), 3000, "the flood did not fill the history")
        # many uids (one that finished first may have had all its decisions replaced by the
        # others': the flood's oldest go first)
        self.assertGreater(len({c["uid"] for c in flood}), FLOOD_UIDS // 2)
        # a retransmitted SYN under load may add a decision, never take one away
        self.assertGreaterEqual(len(roots), ROOT_BEFORE,
                                "nobody's subordinate uids pushed root's connections out "
                                "of GetConnections as if each were a user")

        mine = [x for x in d.decisions() if x["uid"] == "0" and x["port"] == str(ROOT_PORT)]
        self.assertEqual(len(mine), 1, "root's connection after the flood has no line")
        self.assertIsNone(d.proc.poll(), "vigild died")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--drive"]:
        sys.exit(drive(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
                       sys.argv[6], int(sys.argv[7])))
    import unittest
    unittest.main(verbosity=2)
