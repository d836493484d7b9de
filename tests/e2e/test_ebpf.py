#!/usr/bin/python3
"""End-to-end: vigild's eBPF attribution programs load, attach to the configured cgroup (the
test's own), are gone when vigild is (also after SIGKILL), and their absence is handled as
Attribution= says: auto falls back to /proc with the reason logged, ebpf does not start.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from test_attribution import PYTHON, PYTHON_EXE, SEND_AND_EXIT, SLEEP_EXE
from vigiltest import E2ETestCase, PEER_V4, PEER_V6, run


def attached(cgroup):
    """The programs attached to @cgroup itself, as bpftool lists them."""
    res = run(["bpftool", "-j", "cgroup", "show", cgroup], check=False)
    if res.returncode != 0:
        raise AssertionError("bpftool cgroup show %s: %s" % (cgroup, res.stderr))
    return [p["attach_type"] for p in json.loads(res.stdout.strip() or "[]")]


EXPECTED = sorted(["cgroup_inet_sock_create", "cgroup_inet4_connect", "cgroup_inet6_connect",
                   "cgroup_udp4_sendmsg", "cgroup_udp6_sendmsg", "cgroup_sock_ops",
                   "cgroup_inet_sock_release",
                   # ping and raw sockets (vigil-icmp.bpf.c)
                   "cgroup_inet_sock_create", "cgroup_inet_sock_release"])


class Ebpf(E2ETestCase):
    def test_attached_while_running_detached_after(self):
        d = self.vigild(config={"Attribution": "ebpf"})
        self.assertIn("attribution ebpf", d.log())
        self.assertIn("attached to cgroup %s" % self.nets.cgroup, d.log())
        self.assertEqual(sorted(attached(self.nets.cgroup)), EXPECTED)
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")
        self.assertEqual(d.stop(), 0)
        self.assertEqual(attached(self.nets.cgroup), [])

    def test_crash_leaves_nothing_behind(self):
        d = self.vigild(config={"Attribution": "ebpf", "FailMode": "open"})
        self.assertEqual(sorted(attached(self.nets.cgroup)), EXPECTED)
        d.stop(signal.SIGKILL)
        # the links were vigild's fds: gone with it, pinned nowhere
        self.assertEqual(attached(self.nets.cgroup), [])
        # and nothing blocks traffic (FailMode=open: the queue is bypassed)
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")
        self.assertEqual(self.probe("udp", PEER_V4, 5353)[0], "ok")

    def test_ebpf_mode_does_not_start_without_it(self):
        d = self.vigild(config={"Attribution": "ebpf",
                                "EbpfCgroup": self.nets.cgroup + "-missing"}, start=False)
        d.start(wait=False)
        self.assertEqual(d.proc.wait(timeout=15), 1)
        self.assertIn("cannot start: Attribution=ebpf: cgroup %s-missing" % self.nets.cgroup,
                      d.log())
        # nothing was installed: the client's traffic is not queued
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")

    def test_auto_mode_falls_back_with_the_reason(self):
        d = self.vigild(config={"Attribution": "auto",
                                "EbpfCgroup": self.nets.cgroup + "-missing"})
        self.assertIn("attribution: eBPF unavailable, finding programs through /proc: "
                      "cgroup %s-missing" % self.nets.cgroup, d.log())
        self.assertIn("attribution queue", d.log())
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")
        self.assertEqual(d.wait_decisions(1)[0]["program"], os.path.realpath(
            os.environ.get("VIGIL_PROBE", "build/tests/clients/vigil-probe")))

    def test_queue_mode_loads_nothing(self):
        d = self.vigild(config={"Attribution": "queue"})
        self.assertIn("attribution queue", d.log())
        self.assertEqual(attached(self.nets.cgroup), [])


# as nobody: new sockets, each connected (a record by cookie) and closed (a connected UDP
# socket's flow keeps its record), three times as many as the old tables held (8,192 sockets
# and 8,192 flows, least recently used out, for all users); a UDP connect sends nothing
NOBODY = 65534
FLOOD_FLOWS = 3 * 8192
FLOOD = """
import socket, sys
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((sys.argv[1], 20000 + i % 30000))
    s.close()
"""


# test_attribution's INHERIT_CONNECT_EXIT, with a holder that stays (its pid printed for the
# test to end it): the socket lives, vigild finds it and its cookie
INHERIT_CONNECT_STAY = """
import socket, subprocess, sys
holder, host, port = sys.argv[1:4]
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
p = subprocess.Popen([holder, "60"], pass_fds=[s.fileno()], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(p.pid)
s.setblocking(False)
s.connect_ex((host, int(port)))
"""


class FloodIsFair(E2ETestCase):
    """One user's flood of new flows leaves other users' records alone: root's program that
    sent and exited, or connected on a socket another program holds, is still decided as
    itself by the kernel's record (by /proc, each is a case it gets wrong: see
    test_attribution's SendAndExit and InheritedSocket). Only the flooding user's own oldest
    records go, and vigild says so.
    """

    def flood(self):
        res = self.nets.client_run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                                    "--clear-groups", PYTHON, "-c", FLOOD, PEER_V4,
                                    str(FLOOD_FLOWS)], timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)

    def run_stopped(self, d, argv):
        """@argv as root, then nobody's flood, while vigild is stopped: all of it is recorded
        before vigild reads the first record."""
        d.proc.send_signal(signal.SIGSTOP)
        try:
            res = self.nets.client_run(argv, timeout=60)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.flood()
        finally:
            d.proc.send_signal(signal.SIGCONT)
        return res

    def test_send_and_exit(self):
        d = self.vigild("drop app %s proto udp to %s port 5353\n" % (PYTHON_EXE, PEER_V6),
                        config={"Attribution": "ebpf", "DefaultAction": "allow"})
        self.run_stopped(d, [PYTHON, "-c", SEND_AND_EXIT, "udp", PEER_V6, "5353"])
        x = self.assertDecision(d, proto="udp", port=5353)
        self.assertEqual((x["verdict"], x["program"], x["uid"]), ("drop", PYTHON_EXE, "0"), x)
        d.wait_for_log("uid %d is over its share of the eBPF records" % NOBODY, timeout=20)
        self.assertNotIn("uid 0 is over its share", d.log())

    def test_inherited_socket(self):
        d = self.vigild("allow app %s\n"
                        "deny app %s\n" % (SLEEP_EXE, PYTHON_EXE),
                        config={"Attribution": "ebpf", "DefaultAction": "allow"})
        res = self.run_stopped(d, [PYTHON, "-c", INHERIT_CONNECT_STAY, SLEEP_EXE, PEER_V4,
                                   "8080"])
        holder = int(res.stdout)
        self.addCleanup(os.kill, holder, signal.SIGKILL)
        x = self.assertDecision(d, port=8080)
        self.assertEqual((x["verdict"], x["program"]), ("deny", PYTHON_EXE), x)


# as root: a child for each of N uids from FIRST, one after the other, each sends one datagram
# (a socket, a record in the kernel) and exits
MANY_UIDS = """
import os, socket, sys
first, n, host = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for i in range(n):
    pid = os.fork()
    if pid == 0:
        os.setgid(first + i)
        os.setuid(first + i)
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", (host, 20000 + i))
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("uid %d: status %d" % (first + i, status))
"""


class SubordinateUids(E2ETestCase):
    """A user's subordinate uids (/etc/subuid: rootless containers) count as that user in the
    kernel's record shares: 70 of nobody's take one share, and a user who connects after them
    is still recorded in the kernel, so that its program that sent and exited is itself (by
    /proc an unknown program: DefaultAction). Each of them took a share of 64 before (review
    finding, issue 14), and the later user's connection went to /proc."""

    def test_later_user_still_recorded(self):
        subuid = os.path.join(tempfile.mkdtemp(prefix="vigil-e2e-subuid-"), "subuid")
        self.addCleanup(shutil.rmtree, os.path.dirname(subuid), ignore_errors=True)
        with open(subuid, "w") as f:
            f.write("nobody:300000:65536\n")
        d = self.vigild("drop app %s proto udp to %s port 5353\n" % (PYTHON_EXE, PEER_V4),
                        config={"Attribution": "ebpf", "DefaultAction": "allow"}, start=False)
        argv = d.argv
        d.argv = lambda: argv() + ["--subuid-file", subuid]
        d.start()
        d.proc.send_signal(signal.SIGSTOP)
        try:
            res = self.nets.client_run([PYTHON, "-c", MANY_UIDS, "300000", "70", PEER_V4],
                                       timeout=120)
            self.assertEqual(res.returncode, 0, res.stderr)
            res = self.nets.client_run(["setpriv", "--reuid=1", "--regid=1", "--clear-groups",
                                        PYTHON, "-c", SEND_AND_EXIT, "udp", PEER_V4, "5353"])
            self.assertEqual(res.returncode, 0, res.stderr)
        finally:
            d.proc.send_signal(signal.SIGCONT)
        x = self.assertDecision(d, proto="udp", port=5353)
        self.assertEqual((x["verdict"], x["program"], x["uid"]), ("drop", PYTHON_EXE, "1"), x)
        self.assertNotIn("users made sockets at once", d.log())


# Run as a copy of python (another file: an unknown program to the rules), with address-space
# randomisation off (setarch -R, kept across exec): sends one datagram, then execs the real
# python with the same arguments and environment, from a path of the same length, so that
# the new image has the very same layout (code, data, stack, arguments) as the sender had;
# the real python only waits, to be found in /proc
EXEC_AFTER_SEND = """
import os, socket, sys, time
real, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if os.readlink("/proc/self/exe") == real:
    time.sleep(60)
    sys.exit(0)
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", (host, port))
os.execv(real, sys.orig_argv)
"""


class ExecAfterSend(E2ETestCase):
    """A process that sends and then execs an allowed program is still the program that sent:
    /proc speaks for the recorded task only while it runs the executable the kernel recorded
    (its start time and even its address-space layout are the same after such an exec)."""

    def test_exec_after_send(self):
        d = self.vigild("allow app %s\n" % PYTHON_EXE,
                        config={"Attribution": "ebpf", "DefaultAction": "deny"})
        # a copy of python under a path as long as the real one's (AT_EXECFN is on the stack)
        top = tempfile.mkdtemp(prefix="v", dir="/tmp")
        self.addCleanup(shutil.rmtree, top, ignore_errors=True)
        name = "x" * (len(PYTHON_EXE) - len(top) - 1)
        self.assertGreater(len(name), 0)
        evil = os.path.join(top, name)
        shutil.copy(PYTHON_EXE, evil)
        os.chmod(evil, 0o755)
        os.chmod(top, 0o755)
        d.proc.send_signal(signal.SIGSTOP)
        try:
            proc = self.nets.spawn(self.nets.client,
                                   ["setarch", "-R", evil, "-c", EXEC_AFTER_SEND, PYTHON_EXE,
                                    PEER_V4, "5353"])
            # the exec'd python is the spawned pid (sh, ip netns exec and setarch exec too)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if os.readlink("/proc/%d/exe" % proc.pid) == PYTHON_EXE:
                        break
                except OSError:
                    pass
                time.sleep(0.02)
            else:
                self.fail("the sender did not exec %s" % PYTHON_EXE)
        finally:
            d.proc.send_signal(signal.SIGCONT)
        x = self.assertDecision(d, proto="udp", port=5353)
        self.assertEqual(x["pid"], str(proc.pid), x)
        # the sender's own identity (never seen running: its name), not the allowed program
        # it became
        self.assertEqual((x["verdict"], x["program"]), ("deny", "[%s]" % name[:15]), x)


# a UDP socket made and connected before vigild starts; on a line on stdin, one datagram, and
# the program is gone
CONNECTED_BEFORE = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
sys.stdin.readline()
s.send(b"x")
"""


class MadeBeforeVigild(E2ETestCase):
    """A socket made before vigild started is recorded at its start with its holders then: its
    program that sends and exits later is still its program (by /proc, gone: unknown)."""

    def test_send_and_exit(self):
        proc = self.nets.spawn(self.nets.client, [PYTHON, "-c", CONNECTED_BEFORE, PEER_V4,
                                                  "5353"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.assertEqual(proc.stdout.readline().strip(), "ready")
        d = self.vigild("drop app %s proto udp\n" % PYTHON_EXE,
                        config={"Attribution": "ebpf", "DefaultAction": "allow"})
        d.proc.send_signal(signal.SIGSTOP)
        try:
            proc.stdin.write("go\n")
            proc.stdin.close()
            self.assertEqual(proc.wait(timeout=30), 0)
        finally:
            d.proc.send_signal(signal.SIGCONT)
        x = self.assertDecision(d, proto="udp", port=5353)
        self.assertEqual((x["verdict"], x["program"], x["pid"]),
                         ("drop", PYTHON_EXE, str(proc.pid)), x)
        self.assertNotIn("made before vigild started are found through /proc", d.log())


# CONNECTED_BEFORE, and the sender stays until its stdin closes: found through /proc
CONNECTED_BEFORE_STAY = CONNECTED_BEFORE + "sys.stdin.read()\n"


class IteratorRefused(E2ETestCase):
    """When the kernel refuses an iterator at start (here made to, by the test-only option),
    vigild says why and finds the sockets made before it through /proc: their connections are
    still decided, by their programs, and everything else is recorded by the hooks."""

    def test_falls_back_to_proc(self):
        proc = self.nets.spawn(self.nets.client, [PYTHON, "-c", CONNECTED_BEFORE_STAY, PEER_V4,
                                                  "5353"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.assertEqual(proc.stdout.readline().strip(), "ready")
        d = self.vigild("drop app %s proto udp\n" % PYTHON_EXE,
                        config={"Attribution": "ebpf", "DefaultAction": "allow"}, start=False)
        argv = d.argv
        d.argv = lambda: argv() + ["--ebpf-fail-iterator", "vigil_existing_holders"]
        d.start()
        log = d.log()
        self.assertIn("recording the sockets made before vigild (vigil_existing_holders): ",
                      log)
        self.assertIn(": the sockets made before vigild started are found through /proc", log)
        self.assertIn("attribution ebpf", log)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        x = self.assertDecision(d, proto="udp", port=5353)
        self.assertEqual((x["verdict"], x["program"], x["pid"]),
                         ("drop", PYTHON_EXE, str(proc.pid)), x)
        proc.stdin.close()
        self.assertEqual(proc.wait(timeout=30), 0)
        # a socket made since is the hooks': a sender that exits is still itself
        self.assertEqual(self.probe("udp", PEER_V4, 9001)[0], "ok")
        self.assertEqual(d.proc.poll(), None)


if __name__ == "__main__":
    unittest.main(verbosity=2)
