#!/usr/bin/python3
"""End-to-end: connections a rule decided are decided in the kernel the next time
(KernelVerdicts=ebpf, docs/ebpf-verdicts.md), in the test's own network namespace and cgroup.

The kernel's decisions never reach the netfilter queue (its rule's packet counter stays), fail
a denied connect() at once with EPERM, and are still logged (the line says `kernel`). Every
rule change, a program's file changed in place, the end of the DNS answer a decision relied
on, disabling and stopping vigild: the very next connection follows the rules as they are.
"""
import os
import re
import signal
import subprocess
import time
import unittest

from test_dbus import DBusTestCase
from test_dns import DnsSetup, PYTHON, SHORT, TTL_FLOOR
from test_ebpf import attached
from vigiltest import E2ETestCase, PEER_V4, PEER_V6, PROBE, copy_program, run, wait_until

PROBE_EXE = os.path.realpath(PROBE)
VERDICT_HOOKS = ["cgroup_inet4_connect", "cgroup_inet6_connect", "cgroup_udp4_sendmsg",
                 "cgroup_udp6_sendmsg"]

# one unconnected UDP datagram (sendto): prints "ok" or "error ERRNO"
SENDTO = r"""
import errno, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b"x", (host, port))
    print("ok")
except OSError as e:
    print("error", errno.errorcode.get(e.errno, str(e.errno)))
"""

# a connected UDP socket whose mark carries vigild's allow code (0x00100000 in the default
# MarkMask, set after the connect() as a decision in the kernel would), then a datagram to
# port 9999 (or the one given): prints "ok" or "error ERRNO"
SENDTO_ELSEWHERE = r"""
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], 5353))
s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 0x00100000)
try:
    s.sendto(b"y", (sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 9999))
    print("ok")
except OSError as e:
    print("error", errno.errorcode.get(e.errno, str(e.errno)))
"""

# a connected UDP socket: prints "ok" or "error ERRNO" for its connect()
CONNECT_UDP = r"""
import errno, socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("ok")
except OSError as e:
    print("error", errno.errorcode.get(e.errno, str(e.errno)))
"""

# a UDP socket connected to argv[1]:5353 that sends a datagram for each line of its stdin and
# prints "ok" (an answer), "timeout" or "error ERRNO"
CONNECTED_UDP = r"""
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.5)
s.connect((sys.argv[1], 5353))
for line in sys.stdin:
    try:
        s.send(b"x")
        s.recv(100)
        print("ok", flush=True)
    except socket.timeout:
        print("timeout", flush=True)
    except OSError as e:
        print("error", errno.errorcode.get(e.errno, str(e.errno)), flush=True)
"""

# a TCP connection to argv[1]:80; on the first line of stdin it disconnects (AF_UNSPEC) and
# connects the same socket to argv[1]:argv[2]: prints "connected", then "ok", "timeout" or
# "error ERRNO"
RECONNECT_TCP = r"""
import ctypes, ctypes.util, errno, socket, sys
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect((sys.argv[1], 80))
print("connected", flush=True)
sys.stdin.readline()
s.settimeout(2)
try:
    unspec = (ctypes.c_ubyte * 16)()  # sa_family 0: AF_UNSPEC, the socket disconnects
    libc.connect(s.fileno(), unspec, 16)
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("ok", flush=True)
except socket.timeout:
    print("timeout", flush=True)
except OSError as e:
    print("error", errno.errorcode.get(e.errno, str(e.errno)), flush=True)
"""


def hooks(cgroup):
    """How many programs each of connect4/6 and sendmsg4/6 has in @cgroup (the attribution
    programs' and the verdict programs'), when all have as many."""
    found = attached(cgroup)
    counts = {found.count(h) for h in VERDICT_HOOKS}
    assert len(counts) == 1, found
    return counts.pop()


def queued_packets(nets):
    """Packets the NFQUEUE rules of vigild's chains have sent to the queue (iptables and
    ip6tables counters in the client namespace)."""
    total = 0
    for tool in ("iptables-save", "ip6tables-save"):
        out = run(["ip", "netns", "exec", nets.client, tool, "-c"], check=False).stdout
        for line in out.splitlines():
            m = re.match(r"\[(\d+):\d+\] .*-j NFQUEUE", line)
            if m:
                total += int(m.group(1))
    return total


class KernelVerdicts(E2ETestCase):
    def start(self, rules, default="allow", **config):
        cfg = {"Attribution": "ebpf", "KernelVerdicts": "ebpf", "DefaultAction": default}
        cfg.update(config)
        d = self.vigild(rules, config=cfg)
        self.assertIn("kernel verdicts ebpf", d.log())
        return d

    def kernel_lines(self, d):
        return [l for l in d.log().splitlines() if re.search(r" queued=\d+us kernel", l)]

    def wait_kernel_lines(self, d, n):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            lines = self.kernel_lines(d)
            if len(lines) >= n:
                return lines
            time.sleep(0.05)
        self.fail("expected %d kernel decisions:\n%s" % (n, d.log()))

    def first_through_queue(self, proto, host, port, expect):
        """The first connection: the queue decides it (and the rule's verdict goes into the
        kernel)."""
        before = queued_packets(self.nets)
        self.assertEqual(self.probe(proto, host, port)[:len(expect)], expect)
        self.assertGreater(queued_packets(self.nets), before)

    def test_allowed_connection_is_not_queued(self):
        d = self.start("allow app %s to %s port 80 proto tcp\n" % (PROBE_EXE, PEER_V4),
                       default="deny")
        self.first_through_queue("tcp", PEER_V4, 80, ["ok"])
        self.assertEqual(self.kernel_lines(d), [])
        queued = queued_packets(self.nets)
        for i in range(3):
            self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")
        self.assertEqual(queued_packets(self.nets), queued, d.log())
        lines = self.wait_kernel_lines(d, 3)
        self.assertIn("allow program=%s " % PROBE_EXE, lines[0])
        self.assertIn(" queued=0us kernel", lines[0])
        # another port is no decided destination: the queue, and the default
        self.assertEqual(self.probe("tcp", PEER_V4, 8080)[:2], ["error", "ECONNREFUSED"])
        self.assertGreater(queued_packets(self.nets), queued)

    def test_denied_connect_fails_at_once_with_eperm(self):
        d = self.start("deny app %s to %s port 8080\n" % (PROBE_EXE, PEER_V6))
        # the queue's deny: a TCP reset
        self.assertEqual(self.probe("tcp", PEER_V6, 8080)[:2], ["error", "ECONNREFUSED"])
        queued = queued_packets(self.nets)
        res = self.probe("tcp", PEER_V6, 8080)
        self.assertEqual(res[:2], ["error", "EPERM"])
        self.assertLess(int(res[2]), 100000, "a kernel deny must fail at once")
        self.assertEqual(queued_packets(self.nets), queued)
        self.assertIn("deny program=%s " % PROBE_EXE, self.wait_kernel_lines(d, 1)[0])

    def test_udp_deny_in_the_kernel_allow_and_drop_in_the_queue(self):
        d = self.start("allow app %s to %s port 5353 proto udp\n"
                       "drop app %s to %s port 9001\n"
                       "deny app %s to %s port 9001 proto udp\n"
                       % (PROBE_EXE, PEER_V4, PROBE_EXE, PEER_V4, PYTHON, PEER_V6))
        self.assertEqual(self.probe("udp", PEER_V4, 5353)[0], "ok")
        self.assertEqual(self.probe("tcp", PEER_V4, 9001, timeout_ms=500)[0], "timeout")
        self.assertEqual(self.probe("udp", PEER_V4, 9001, timeout_ms=500)[0], "timeout")
        queued = queued_packets(self.nets)
        # a TCP drop: in the kernel (the SYN dropped by the chain, silently)
        self.assertEqual(self.probe("tcp", PEER_V4, 9001, timeout_ms=500)[0], "timeout")
        self.assertEqual(queued_packets(self.nets), queued)
        lines = self.wait_kernel_lines(d, 1)
        self.assertTrue(any(" drop program=" in l and "port=9001 proto=tcp" in l
                            for l in lines), lines)
        # a UDP allow stays the queue's: its conntrack entry must end with its socket (the
        # socket watch), or another program on the same port would ride the verdict; a UDP
        # drop too: netfilter dropping a local datagram fails its send() with EPERM
        self.assertEqual(self.probe("udp", PEER_V4, 5353)[0], "ok")
        self.assertEqual(self.probe("udp", PEER_V4, 9001, timeout_ms=500)[0], "timeout")
        self.assertGreater(queued_packets(self.nets), queued)
        self.assertEqual(len(self.kernel_lines(d)), 1, d.log())
        # a UDP deny: at connect() and at sendto(), EPERM at once
        res = self.nets.client_run([PYTHON, "-c", SENDTO, PEER_V6, "9001"])
        self.assertEqual(res.stdout.split(), ["ok"])  # the queue denies it later
        self.assertDecision(d, verdict="deny", program=PYTHON, port=9001)
        res = self.nets.client_run([PYTHON, "-c", SENDTO, PEER_V6, "9001"])
        self.assertEqual(res.stdout.split(), ["error", "EPERM"])
        res = self.nets.client_run([PYTHON, "-c", CONNECT_UDP, PEER_V6, "9001"])
        self.assertEqual(res.stdout.split(), ["error", "EPERM"])

    def test_marked_socket_sending_elsewhere_fails(self):
        d = self.start("")
        # a socket with vigild's allow bits in its mark (as a connect() decided in the kernel
        # would give it) sending a datagram elsewhere: it would go out with that verdict
        res = self.nets.client_run([PYTHON, "-c", SENDTO_ELSEWHERE, PEER_V4])
        self.assertEqual(res.stdout.split(), ["error", "EPERM"])
        d.wait_for_log("its socket had the verdict of a connect() to another destination")
        # to its own peer it goes on (the flow's own verdict)
        res = self.nets.client_run([PYTHON, "-c", SENDTO_ELSEWHERE, PEER_V4, "5353"])
        self.assertEqual(res.stdout.split(), ["ok"])

    def test_connected_udp_allow_ends_with_the_rule(self):
        """Review H1: a connected UDP socket's send() runs no hook; a verdict kept in its
        mark would let its datagrams pass unasked once the rule changed and the conntrack
        entry ended."""
        d = self.start("allow app %s to %s port 5353 proto udp\n" % (PYTHON, PEER_V4),
                       default="deny")
        first = self.nets.client_run([PYTHON, "-c", CONNECTED_UDP, PEER_V4], input="\n")
        self.assertEqual(first.stdout.split(), ["ok"])
        self.assertDecision(d, verdict="allow", program=PYTHON, port=5353)
        # connected after the rule decided once: the kernel's entry exists
        sock = self.nets.spawn(self.nets.client, [PYTHON, "-c", CONNECTED_UDP, PEER_V4],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

        def send():
            sock.stdin.write("\n")
            sock.stdin.flush()
            return sock.stdout.readline().split()

        self.assertEqual(send(), ["ok"])
        d.write_rules("deny app %s to %s port 5353 proto udp\n" % (PYTHON, PEER_V4))
        d.wait_for_log("rules reloaded", timeout=10)
        run(["ip", "netns", "exec", self.nets.client, "conntrack", "-D", "-p", "udp",
             "--orig-dst", PEER_V4, "--dport", "5353"], check=False)
        queued = queued_packets(self.nets)
        self.assertNotEqual(send(), ["ok"], d.log())
        self.assertGreater(queued_packets(self.nets), queued)
        self.assertDecision(d, verdict="deny", program=PYTHON, port=5353)

    def test_rule_change_flips_the_very_next_connection(self):
        d = self.start("allow app %s to %s port 80\n" % (PROBE_EXE, PEER_V4), default="deny")
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")
        self.wait_kernel_lines(d, 1)
        # the same rule, now deny: the very next connection is denied
        d.write_rules("deny app %s to %s port 80\n" % (PROBE_EXE, PEER_V4))
        d.wait_for_log("rules reloaded", timeout=10)
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[:2], ["error", "ECONNREFUSED"])
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[:2], ["error", "EPERM"])
        # and back: allowed at once
        d.write_rules("allow app %s to %s port 80\n" % (PROBE_EXE, PEER_V4))
        d.wait_for_log("rules reloaded", timeout=10, count=2)
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")
        # the rule gone: DefaultAction (deny) decides the very next one
        d.write_rules("")
        d.wait_for_log("rules reloaded", timeout=10, count=3)
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[:2], ["error", "ECONNREFUSED"])
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[:2], ["error", "ECONNREFUSED"])

    def test_changed_program_file_goes_to_the_queue(self):
        top = self.shared_dir("vigil-e2e-kv-")
        prog = os.path.join(top, "probe")
        copy_program(PROBE, prog)
        d = self.start("allow app %s to %s port 80\n" % (prog, PEER_V4), default="deny")
        probe = lambda: self.nets.client_run([prog, "tcp", PEER_V4, "80"]).stdout.split()[0]
        self.assertEqual(probe(), "ok")
        self.assertEqual(probe(), "ok")
        self.wait_kernel_lines(d, 1)
        # the file changed in place (its ctime): no longer the file the verdict was for
        os.chmod(prog, 0o755)
        queued = queued_packets(self.nets)
        self.assertEqual(probe(), "ok")
        self.assertGreater(queued_packets(self.nets), queued)
        self.assertEqual(len(self.kernel_lines(d)), 1)
        # decided by the rule again (the same file at its path): in the kernel next time
        self.assertEqual(probe(), "ok")
        self.wait_kernel_lines(d, 2)

    def test_hard_linked_program_is_not_decided_in_the_kernel(self):
        """Review L1: the kernel knows a program by its file: a hard link to an allowed
        program must not get its verdict."""
        top = self.shared_dir("vigil-e2e-kv-")
        prog = os.path.join(top, "probe")
        other = os.path.join(top, "other")
        copy_program(PROBE, prog)
        os.link(prog, other)
        d = self.start("allow app %s to %s port 80\n" % (prog, PEER_V4), default="deny")
        probe = lambda exe: self.nets.client_run([exe, "tcp", PEER_V4, "80"]).stdout.split()
        self.assertEqual(probe(prog)[0], "ok")
        # a file of two names gets no kernel entry: the queue again
        queued = queued_packets(self.nets)
        self.assertEqual(probe(prog)[0], "ok")
        self.assertGreater(queued_packets(self.nets), queued)
        # and the other name: no rule for it, the default
        self.assertEqual(probe(other)[:2], ["error", "ECONNREFUSED"])
        self.assertEqual(self.kernel_lines(d), [])

    def test_disabled_and_stopped_decide_nothing(self):
        d = self.start("deny app %s to %s port 80\n" % (PROBE_EXE, PEER_V4))
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[:2], ["error", "ECONNREFUSED"])
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[:2], ["error", "EPERM"])
        self.assertEqual(hooks(self.nets.cgroup), 2)
        self.assertEqual(d.stop(), 0)
        self.assertEqual(attached(self.nets.cgroup), [])
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")

    def test_crash_leaves_nothing_deciding(self):
        d = self.start("deny app %s to %s port 80\n" % (PROBE_EXE, PEER_V4), FailMode="open")
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[:2], ["error", "ECONNREFUSED"])
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[:2], ["error", "EPERM"])
        d.stop(signal.SIGKILL)
        self.assertEqual(attached(self.nets.cgroup), [])
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")

    def test_crash_leaves_no_allow_on_sockets(self):
        """Review H1: a TCP socket the kernel allowed keeps no allow code in its mark once
        established; after vigild's crash (FailMode=closed: its chains stay and accept a
        marked packet) it cannot disconnect and connect elsewhere unasked."""
        d = self.start("allow app %s to %s port 80 proto tcp\n" % (PYTHON, PEER_V4),
                       default="deny", FailMode="closed")
        first = self.nets.client_run([PYTHON, "-c", RECONNECT_TCP, PEER_V4, "80"], input="\n")
        self.assertEqual(first.stdout.split(), ["connected", "ok"])
        sock = self.nets.spawn(self.nets.client, [PYTHON, "-c", RECONNECT_TCP, PEER_V4, "8080"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.assertEqual(sock.stdout.readline().split(), ["connected"])
        self.assertIn("allow program=%s " % PYTHON, self.wait_kernel_lines(d, 1)[0])
        d.stop(signal.SIGKILL)
        self.assertEqual(attached(self.nets.cgroup), [])
        sock.stdin.write("\n")
        sock.stdin.flush()
        self.assertEqual(sock.stdout.readline().split(), ["timeout"])

    def test_queue_mode_decides_nothing_in_the_kernel(self):
        d = self.vigild("allow app %s\n" % PROBE_EXE,
                        config={"Attribution": "ebpf", "KernelVerdicts": "queue"})
        self.assertIn("kernel verdicts queue", d.log())
        for i in range(2):
            self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")
        d.wait_decisions(2)
        self.assertEqual(self.kernel_lines(d), [])
        self.assertEqual(hooks(self.nets.cgroup), 1)

    def test_ebpf_mode_needs_the_attribution_programs(self):
        d = self.vigild("", config={"Attribution": "queue", "KernelVerdicts": "ebpf"},
                        start=False)
        d.start(wait=False)
        self.assertEqual(d.proc.wait(timeout=15), 1)
        self.assertIn("KernelVerdicts=ebpf: the eBPF attribution programs do not run "
                      "(Attribution=queue)", d.log())

    def test_auto_mode_falls_back_with_the_reason(self):
        d = self.vigild("", config={"Attribution": "queue", "KernelVerdicts": "auto"})
        self.assertIn("kernel verdicts: unavailable, the queue decides every new connection: "
                      "the eBPF attribution programs do not run (Attribution=queue)", d.log())
        self.assertIn("kernel verdicts queue", d.log())


class KernelVerdictsDns(DnsSetup, E2ETestCase):
    def test_expired_dns_name_misses(self):
        d = self.vigild("allow app %s to short.example.test port 80\n"
                        "allow app %s port 53\n" % (PYTHON, PYTHON),
                        config={"Attribution": "ebpf", "KernelVerdicts": "ebpf",
                                "DefaultAction": "deny"})
        t0 = time.monotonic()
        self.assertEqual(self.resolve_and_connect("short.example.test"), ["ok", SHORT])
        self.assertDecision(d, verdict="allow", dst=SHORT, host="short.example.test")
        self.assertEqual(self.connect(SHORT), ["ok"])
        kernel = wait_until(lambda: [l for l in d.log().splitlines()
                                     if l.endswith(" kernel") and "dst=%s " % SHORT in l],
                            10, "the kernel's decision")
        self.assertEqual(len(kernel), 1, d.log())
        self.assertIn("host=short.example.test", kernel[0])
        # past the name's time (the cache's floor): the kernel's verdict ended with it; the
        # queue decides, without the name
        time.sleep(max(0, t0 + TTL_FLOOR + 1.5 - time.monotonic()))
        self.assertEqual(self.connect(SHORT), ["error", "ECONNREFUSED"])
        last = self.wait_decisions_to(d, SHORT, 80, 3)[2]
        self.assertEqual((last["verdict"], last["host"], last["rule"]), ("deny", None, "default"))


class KernelVerdictsDBus(DBusTestCase):
    def start_kv(self, rules=""):
        return self.start_vigild(rules, config={"Attribution": "ebpf", "KernelVerdicts": "ebpf"})

    def stats(self, key, at_least):
        """Stats[@key] once it is @at_least (published once a second)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            value = self.prop("Stats").get(key, 0)
            if value >= at_least:
                return value
            time.sleep(0.1)
        self.fail("Stats %s stayed below %d: %r" % (key, at_least, self.prop("Stats")))

    def test_answer_made_rule_is_applied_in_the_kernel(self):
        d = self.start_kv()
        agent = self.agent()
        probe = self.probe_async(9000)
        prompt = agent.wait_event("prompt")
        self.assertTrue(agent.reply(prompt["request"], "allow", duration="forever")["ok"])
        self.assertEqual(self.probe_result(probe)[0], "ok")
        queued = queued_packets(self.nets)
        self.assertEqual(self.probe_result(self.probe_async(9000))[0], "ok")
        self.assertEqual(queued_packets(self.nets), queued)
        agent.no_event("prompt", 0.3)
        # counted, and in GetConnections as any connection, marked as the kernel's
        self.assertGreaterEqual(self.stats("kernel-decided", 1), 1)
        conns = self.call("GetConnections", "a{sv}", [{}])[0]
        kernel = [c for c in conns if c.get("kernel")]
        self.assertEqual(len(kernel), 1, conns)
        self.assertEqual((kernel[0]["verdict"], kernel[0]["reason"], kernel[0]["port"]),
                         ("allow", "rule", 9000))
        self.assertEqual(kernel[0]["queued-us"], 0)
        # the kernel's decision is the rule's hit (the answer's own connection was none)
        rule = [r for r in self.rules().values() if r.get("program") == PROBE_EXE][0]
        self.assertEqual(rule["hits"], 1, rule)

    def test_disabled_firewall_decides_nothing_in_the_kernel(self):
        self.start_kv("deny app %s to %s port 9000\n" % (PROBE_EXE, PEER_V4))
        self.assertEqual(self.probe_result(self.probe_async(9000))[:2], ["error", "ECONNREFUSED"])
        self.assertEqual(self.probe_result(self.probe_async(9000))[:2], ["error", "EPERM"])
        self.call("SetEnabled", "b", [False])
        self.assertEqual(self.probe_result(self.probe_async(9000))[0], "ok")
        self.assertDecision(self.d, verdict="allow", port=9000, rule="disabled")
        # enabled again: the rule decides, through the queue first (a new generation)
        self.call("SetEnabled", "b", [True])
        self.assertEqual(self.probe_result(self.probe_async(9000))[:2], ["error", "ECONNREFUSED"])
        self.assertEqual(self.probe_result(self.probe_async(9000))[:2], ["error", "EPERM"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
