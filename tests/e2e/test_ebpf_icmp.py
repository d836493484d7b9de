#!/usr/bin/python3
"""End-to-end: a ping (or any ICMP sender) that sent and exited is still its own program.

ICMP has no per-datagram hook before the netfilter queue: vigild finds a live ping or raw
socket through /proc (/proc/net/icmp, raw), and one that was closed since by the kernel's
record of who made it (daemon/bpf/vigil-icmp.bpf.c, docs/ebpf-icmp.md). Each case stops vigild
while the sender runs, so that the sender has exited before vigild reads its packet: by /proc
it is an unknown program, and its packet leaves by DefaultAction (allow) instead of its rule.
Both of iputils ping's sockets (a ping socket where net.ipv4.ping_group_range lets it, a raw
one else) and a raw socket of a program of the test's own, over IPv4 and IPv6.
"""
import os
import signal
import unittest

from test_attribution import PYTHON, PYTHON_EXE
from vigiltest import E2ETestCase, PEER_V4, PEER_V6, run

PING = "/usr/bin/ping"
PING_EXE = os.path.realpath(PING)
NOBODY = 65534

# one echo request from a raw socket, then exit (root has CAP_NET_RAW in the namespace)
RAW_SEND_AND_EXIT = """
import socket, sys
host = sys.argv[1]
if ":" in host:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.sendto(bytes([128, 0, 0, 0, 0x12, 0x34, 0, 1]), (host, 0))  # the kernel sums it
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.sendto(bytes([8, 0, 0xe5, 0xca, 0x12, 0x34, 0, 1]), (host, 0))
"""


class IcmpSendAndExit(E2ETestCase):
    def ping_sockets(self, allowed):
        """iputils ping takes a ping socket where the group range lets it, else a raw one."""
        run(["ip", "netns", "exec", self.nets.client, "sysctl", "-q",
             "net.ipv4.ping_group_range=%s" % ("0 2147483647" if allowed else "1 0")],
            check=True)

    def send_stopped(self, d, argv):
        """@argv in the client namespace, while vigild is stopped: gone when vigild reads."""
        d.proc.send_signal(signal.SIGSTOP)
        try:
            return self.nets.client_run(argv, timeout=30)
        finally:
            d.proc.send_signal(signal.SIGCONT)

    def check(self, program, argv, host, uid=0):
        d = self.vigild("drop app %s proto icmp\n" % program,
                        config={"DefaultAction": "allow"})
        res = self.send_stopped(d, argv)
        proto = "icmpv6" if ":" in host else "icmp"
        x = self.assertDecision(d, proto=proto, dst=host)
        self.assertEqual((x["verdict"], x["program"], x["uid"]), ("drop", program, str(uid)),
                         (x, res.stdout, res.stderr))
        return res

    def ping(self, host, socktype, user=None):
        argv = [PING, "-v", "-c1", "-W1", host]
        if user is not None:
            argv = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user,
                    "--clear-groups"] + argv
        res = self.check(PING_EXE, argv, host, uid=user or 0)
        # the socket ping says it took (-v): the case this test is about
        self.assertIn("socktype: %s" % socktype, res.stdout + res.stderr)

    def test_ping_socket_ipv4(self):
        self.ping_sockets(True)
        self.ping(PEER_V4, "SOCK_DGRAM")

    def test_ping_socket_ipv6(self):
        self.ping_sockets(True)
        self.ping(PEER_V6, "SOCK_DGRAM")

    def test_ping_socket_of_a_user(self):
        self.ping_sockets(True)
        self.ping(PEER_V4, "SOCK_DGRAM", user=NOBODY)

    def test_ping_raw_socket_ipv4(self):
        self.ping_sockets(False)
        self.ping(PEER_V4, "SOCK_RAW")

    def test_ping_raw_socket_ipv6(self):
        self.ping_sockets(False)
        self.ping(PEER_V6, "SOCK_RAW")

    def test_raw_sender_ipv4(self):
        res = self.check(PYTHON_EXE, [PYTHON, "-c", RAW_SEND_AND_EXIT, PEER_V4], PEER_V4)
        self.assertEqual(res.returncode, 0, res.stderr)

    def test_raw_sender_ipv6(self):
        res = self.check(PYTHON_EXE, [PYTHON, "-c", RAW_SEND_AND_EXIT, PEER_V6], PEER_V6)
        self.assertEqual(res.returncode, 0, res.stderr)


# a raw ICMP socket made and closed without sending anything
RAW_OPEN_CLOSE = """
import socket
socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
"""


class IcmpClosedTogether(E2ETestCase):
    """Raw sockets of one protocol closed close together are all the packet's holders: an
    allowed program that closes its raw socket right after a dropped program sent and exited
    does not make the dropped program's packet its own (the least trusted decides)."""

    def test_later_allowed_raw_socket_does_not_speak_for_it(self):
        run(["ip", "netns", "exec", self.nets.client, "sysctl", "-q",
             "net.ipv4.ping_group_range=1 0"], check=True)
        d = self.vigild("drop app %s proto icmp\n"
                        "allow app %s proto icmp\n" % (PING_EXE, PYTHON_EXE),
                        config={"DefaultAction": "allow"})
        d.proc.send_signal(signal.SIGSTOP)
        try:
            ping = self.nets.client_run([PING, "-v", "-c1", "-W1", PEER_V4], timeout=30)
            raw = self.nets.client_run([PYTHON, "-c", RAW_OPEN_CLOSE], timeout=30)
        finally:
            d.proc.send_signal(signal.SIGCONT)
        self.assertIn("socktype: SOCK_RAW", ping.stdout + ping.stderr)
        self.assertEqual(raw.returncode, 0, raw.stderr)
        x = self.assertDecision(d, proto="icmp", dst=PEER_V4)
        self.assertEqual(x["verdict"], "drop", (x, d.log()))


if __name__ == "__main__":
    unittest.main()
