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
import shutil
import signal
import tempfile
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


# an allowed program's socket: a raw ICMP one opened and closed, or a ping socket of the echo
# identifier argv[1] (bound to it) closed
ALLOWED_CLOSE = """
import socket, sys
if sys.argv[1] == "raw":
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    s.bind(("0.0.0.0", int(sys.argv[1])))
    s.close()
"""

# the review's reproduction: a ping socket that took its identifier itself (bind to 0, not
# locked) sends one echo request, then connect(AF_UNSPEC) takes it out of the kernel's table
# (identifier 0): /proc/net/icmp lists it no more and its close writes no record. With "ping",
# the identifier it gets is first made the one an allowed program's closed ping socket had.
HIDDEN_PING = """
import ctypes, socket, subprocess, sys
host, how, allowed = sys.argv[1], sys.argv[2], sys.argv[3:]
def ping_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    s.bind(("0.0.0.0", 0))
    return s, s.getsockname()[1]
if how == "raw":
    subprocess.run(allowed + ["raw"], check=True)
    s, ident = ping_socket()
else:
    for attempt in range(20):  # another namespace's ping may take the next identifier
        a, ident = ping_socket()
        a.close()
        ident = ident % 65535 + 1
        subprocess.run(allowed + [str(ident)], check=True)
        s, got = ping_socket()
        if got == ident:
            break
        s.close()
    else:
        sys.exit("no identifier of the allowed program's socket")
s.sendto(bytes([8, 0, 0, 0, 0, 0, 0, 1]), (host, 0))
unspec = ctypes.create_string_buffer(16)  # sa_family 0: AF_UNSPEC
if ctypes.CDLL(None, use_errno=True).connect(s.fileno(), unspec, 16) != 0:
    sys.exit("connect(AF_UNSPEC): %s" % ctypes.get_errno())
print("identifier", ident)
"""


class IcmpHiddenSocket(E2ETestCase):
    """A ping socket /proc does not list (connect(AF_UNSPEC) after its sendto()) is not the
    program of another socket's record: an allowed program's closed raw socket, or its closed
    ping socket of the same echo identifier, does not let its echo request out. With no live
    socket listed, an unknown program is one of the packet's holders (the least trusted
    decides): DefaultAction deny denies it."""

    def hidden(self, how):
        run(["ip", "netns", "exec", self.nets.client, "sysctl", "-q",
             "net.ipv4.ping_group_range=0 2147483647"], check=True)
        tmp = tempfile.mkdtemp(prefix="vigil-test-icmp-")
        self.addCleanup(shutil.rmtree, tmp, True)
        allowed = os.path.join(tmp, "allowed-python")
        shutil.copy(PYTHON_EXE, allowed)
        d = self.vigild("allow app %s proto icmp\n" % allowed,
                        config={"DefaultAction": "deny"})
        d.proc.send_signal(signal.SIGSTOP)
        try:
            res = self.nets.client_run(
                [PYTHON, "-c", HIDDEN_PING, PEER_V4, how, allowed, "-c", ALLOWED_CLOSE],
                timeout=30)
        finally:
            d.proc.send_signal(signal.SIGCONT)
        self.assertEqual(res.returncode, 0, res.stderr)
        x = self.assertDecision(d, proto="icmp", dst=PEER_V4)
        self.assertEqual(x["verdict"], "deny", (x, res.stdout, d.log()))
        self.assertNotEqual(x["program"], allowed, x)

    def test_closed_raw_socket_does_not_speak_for_it(self):
        self.hidden("raw")

    def test_closed_ping_socket_of_its_identifier_does_not_speak_for_it(self):
        self.hidden("ping")


if __name__ == "__main__":
    unittest.main()
