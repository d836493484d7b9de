#!/usr/bin/python3
"""End-to-end: a TCP connection whose conntrack entry is gone never sends undecided.

vigild ends a live flow whose socket it cannot name by deleting its conntrack entry (docs/rules.md),
and an administrator's `conntrack -D` or a full table does the same. The connection's next
segments then have no entry: with the kernel's default (nf_conntrack_tcp_loose=1) the first of
them makes a new entry and is queued and decided like a new connection; where the kernel does not
pick connections up mid-stream (nf_conntrack_tcp_loose=0), conntrack cannot place them
(`ct state invalid`), and vigild's own chain drops them instead of letting them pass undecided.
A real vigild, a real TCP connection between two network namespaces, `conntrack -D` inside the
client's namespace.
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_dbus import DBusTestCase, PYTHON_EXE  # noqa: E402
from test_live_flows import EchoFlows  # noqa: E402
from vigiltest import PEER_V4, run  # noqa: E402

TCP_PORT = 7071  # the echo server, in the peer namespace


class LostConntrack(EchoFlows, DBusTestCase):
    echo_port = TCP_PORT

    def tcp_client(self):
        """test_live_flows' CLIENT, connected to the echo server (no UDP socket): a function
        that sends it a command and returns its answer's words"""
        ask = super().tcp_client()[1]
        return lambda command: ask(command)[0]

    def in_client(self, *cmd):
        return run(["ip", "netns", "exec", self.nets.client] + list(cmd), check=False)

    def set_loose(self, value):
        """nf_conntrack_tcp_loose of the client's namespace (its own: the host's is left)"""
        out = self.in_client("sysctl", "-w", "net.netfilter.nf_conntrack_tcp_loose=%d" % value)
        self.assertEqual(out.returncode, 0, out.stderr)

    def delete_entry(self):
        """deletes the connection's conntrack entry in the client's namespace"""
        out = self.in_client("conntrack", "-D", "-p", "tcp", "--orig-dst", PEER_V4,
                             "--dport", str(TCP_PORT))
        self.assertEqual(out.returncode, 0, "conntrack -D: %s %s" % (out.stdout, out.stderr))
        listed = self.in_client("conntrack", "-L", "-p", "tcp", "--dport", str(TCP_PORT))
        self.assertNotIn("dport=%d" % TCP_PORT, listed.stdout)

    def tcp_decisions(self, wait_for=0):
        """the connection's decisions in vigild's log, once there are @wait_for (10 s)"""
        deadline = time.monotonic() + 10
        while True:
            found = [x for x in self.d.decisions()
                     if x["port"] == str(TCP_PORT) and x["proto"] == "tcp"]
            if len(found) >= wait_for or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def test_no_pick_up_mid_stream_drops_what_conntrack_cannot_place(self):
        """With nf_conntrack_tcp_loose=0 the connection's segments after `conntrack -D` are
        invalid to conntrack: vigild's chain drops them, nothing reaches the peer undecided
        (the old chain let them through: only new connections were queued). vigild runs on
        and a new connection is decided as before."""
        self.start_vigild("allow to %s port %d proto tcp\n" % (PEER_V4, TCP_PORT))
        self.set_loose(0)
        client = self.tcp_client()
        self.assertEqual(client("tcp"), ["ok"])
        self.assertEqual(len(self.tcp_decisions(1)), 1, self.d.log())

        self.delete_entry()
        self.assertEqual(client("tcp"), ["idle"],
                         "a segment without a conntrack entry passed undecided:\n"
                         + self.d.log()[-3000:])
        self.assertEqual(len(self.tcp_decisions(2)), 1, self.d.log())
        self.assertIsNone(self.d.proc.poll(), "vigild died")
        again = self.tcp_client()
        self.assertEqual(again("tcp"), ["ok"])
        self.assertEqual(len(self.tcp_decisions(2)), 2, self.d.log())

    def test_pick_up_mid_stream_decides_again(self):
        """With the kernel's default (nf_conntrack_tcp_loose=1) the first segment after
        `conntrack -D` makes a new entry: it is queued and decided by the rules again (a second
        decision of that connection), then the connection goes on."""
        self.start_vigild("allow to %s port %d proto tcp\n" % (PEER_V4, TCP_PORT))
        self.set_loose(1)
        client = self.tcp_client()
        self.assertEqual(client("tcp"), ["ok"])
        self.assertEqual(len(self.tcp_decisions(1)), 1, self.d.log())

        self.delete_entry()
        self.assertEqual(client("tcp"), ["ok"])
        decisions = self.tcp_decisions(2)
        self.assertEqual(len(decisions), 2, self.d.log())
        self.assertEqual(decisions[1]["verdict"], "allow")
        self.assertEqual(decisions[1]["program"], PYTHON_EXE)


if __name__ == "__main__":
    unittest.main(verbosity=2)
