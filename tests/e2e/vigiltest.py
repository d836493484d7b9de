"""Harness for Vigil's end-to-end tests: real namespaces, a real vigild, real clients.

Each test gets two network namespaces of its own, named after the test's pid, joined by
a veth pair: "client" (where vigild runs and programs connect from) and "peer" (a test
server). Nothing is done in the machine's own network namespace, and everything is
removed again, also when the test fails.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

BUILD = os.environ.get("VIGIL_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))


def built(variable, path):
    """A program of the build: where $@variable says (meson test sets it), else @path in BUILD."""
    return os.environ.get(variable, os.path.join(BUILD, path))


VIGILD = built("VIGILD", "daemon/vigild")
PROBE = built("VIGIL_PROBE", "tests/clients/vigil-probe")
# the security suite's clients (tests/security/connect-*.c)
CONNECT_ONCE = built("VIGIL_CONNECT_ONCE", "tests/security/connect-once")
CONNECT_MANY = built("VIGIL_CONNECT_MANY", "tests/security/connect-many")
HERE = os.path.dirname(os.path.abspath(__file__))

CLIENT_V4, PEER_V4 = "10.201.0.1", "10.201.0.2"
CLIENT_V6, PEER_V6 = "fd00:201::1", "fd00:201::2"
TCP_PORTS = [80, 443, 8080, 9000]
UDP_PORTS = [5353, 9001]

DECISION_RE = re.compile(
    r"(?P<verdict>allow|deny|drop) program=(?P<program>\S+) pid=(?P<pid>\d+) "
    r"user=(?P<user>\S*)\((?P<uid>\d+)\) dst=(?P<dst>\S+)(?: host=(?P<host>\S+))?"
    r"(?: port=(?P<port>\d+))?(?: icmp-type=(?P<icmp_type>\d+))? proto=(?P<proto>\S+) "
    r"rule=(?P<rule>\S+) queued=(?P<queued>\d+)us")

_counter = 0


def wait_until(check, timeout, what):
    """The first true value of check(), polled until @timeout seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError('timed out waiting for %s' % what)


def built_with_asan(path):
    """Is @path an AddressSanitizer build (CI runs the suite in one)?"""
    res = subprocess.run(['ldd', path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    return 'libasan' in res.stdout


def vmrss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS for pid %d' % pid)


# a python3 script that connects, as vigil-probe does: "ok", or "error ECONNREFUSED" (run by an
# interpreter, for the rules of one script)
CONNECT_SCRIPT = '''import errno, socket, sys
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
s.settimeout(20)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print('ok')
except OSError as e:
    print('error', errno.errorcode.get(e.errno, e.errno))
'''


def write_connect_scripts(folder, *names):
    """CONNECT_SCRIPT as each of @names in @folder, readable by every user: their paths"""
    paths = []
    for name in names:
        path = os.path.join(folder, name)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(CONNECT_SCRIPT)
        os.chmod(path, 0o644)
        paths.append(path)
    return paths


def copy_program(src, path):
    """Copies the program @src to @path, runnable by every user; returns @path."""
    shutil.copy(src, path)
    os.chmod(path, 0o755)
    return path


def run(cmd, check=True, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("text", True)
    return subprocess.run(cmd, check=check, **kw)


# how vigild finds programs in these tests: auto (eBPF when it loads, attached to the test's
# own cgroup), ebpf or queue (/proc only); tests/meson.build runs some tests in each mode
ATTRIBUTION = os.environ.get("VIGIL_TEST_ATTRIBUTION", "auto")


def cgroup2_mount():
    """The cgroup v2 mount point, from /proc/self/mountinfo (never hard-coded)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            dash = fields.index("-")
            if fields[dash + 1] == "cgroup2":
                return fields[4].replace("\\040", " ")
    # no cgroup v2: no eBPF attribution to test (vigild runs with Attribution=queue)
    return None


class Namespaces:
    """Two namespaces and a veth pair, unique to this process.

    And a cgroup of the test's own under the cgroup v2 mount: every process started in the
    client namespace joins it before it runs, and vigild's eBPF programs attach to it (never
    to the machine's root cgroup).
    """

    def __init__(self):
        global _counter
        _counter += 1
        tag = "%d%d" % (os.getpid() % 100000, _counter)
        self.client = "vt%sc" % tag
        self.peer = "vt%sp" % tag
        self.veth_client = "vc%s" % tag
        self.veth_peer = "vp%s" % tag
        mount = cgroup2_mount()
        self.cgroup = os.path.join(mount, "vigil-e2e-%s" % tag) if mount else None
        self.procs = []

    def __enter__(self):
        try:
            self._create()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _create(self):
        if self.cgroup:
            os.mkdir(self.cgroup)
        for ns in (self.client, self.peer):
            run(["ip", "netns", "add", ns])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        # created inside the client namespace: the veth never touches the host's
        run(["ip", "-n", self.client, "link", "add", self.veth_client, "type", "veth",
             "peer", "name", self.veth_peer, "netns", self.peer])
        for ns, dev, v4, v6 in ((self.client, self.veth_client, CLIENT_V4, CLIENT_V6),
                                (self.peer, self.veth_peer, PEER_V4, PEER_V6)):
            run(["ip", "-n", ns, "addr", "add", v4 + "/24", "dev", dev])
            run(["ip", "-n", ns, "addr", "add", v6 + "/64", "dev", dev, "nodad"])
            run(["ip", "-n", ns, "link", "set", dev, "up"])

    def exec_args(self, ns, cmd, own_mounts=True):
        """@cmd in namespace @ns; in the client namespace, in the test's cgroup before it
        makes any socket. `ip netns exec` gives it a mount namespace of its own, with
        /etc/netns/NS/ over /etc and a /sys without the cgroup mounts; with @own_mounts
        FALSE (vigild) it joins only the network namespace, and sees the cgroups."""
        enter = (["ip", "netns", "exec", ns] if own_mounts
                 else ["nsenter", "--net=/run/netns/" + ns, "--"])
        if ns != self.client or not self.cgroup:
            return enter + list(cmd)
        join = 'echo $$ > "$0/cgroup.procs" && exec "$@"'
        return ["sh", "-c", join, self.cgroup] + enter + list(cmd)

    def client_run(self, cmd, check=False, timeout=30, **kw):
        return run(self.exec_args(self.client, cmd), check=check, timeout=timeout, **kw)

    def spawn(self, ns, cmd, own_mounts=True, **kw):
        proc = subprocess.Popen(self.exec_args(ns, cmd, own_mounts), **kw)
        self.procs.append(proc)
        return proc

    def start_peer_server(self):
        proc = self.spawn(self.peer, ["/usr/bin/python3", os.path.join(HERE, "peer-server.py"),
                                      ",".join(map(str, TCP_PORTS)),
                                      ",".join(map(str, UDP_PORTS))],
                          stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError("peer server did not start")
        return proc

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            if proc.stdout is not None:
                proc.stdout.close()
        for ns in (self.client, self.peer):
            run(["ip", "netns", "del", ns], check=False)
        self._remove_cgroup()

    def _remove_cgroup(self):
        """Removes the cgroup once the processes that were in it are gone."""
        if not self.cgroup or not os.path.isdir(self.cgroup):
            return
        deadline = time.monotonic() + 10
        while True:
            try:
                os.rmdir(self.cgroup)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


class Vigild:
    """A private vigild in the client namespace, with its own config and rules."""

    def __init__(self, nets, rules="", config=None, learned=""):
        self.nets = nets
        self.dir = tempfile.mkdtemp(prefix="vigil-e2e-")
        self.rules_dir = os.path.join(self.dir, "rules.d")
        os.mkdir(self.rules_dir)
        self.learned = os.path.join(self.dir, "learned.rules")
        self.config = os.path.join(self.dir, "vigild.conf")
        self.log_path = os.path.join(self.dir, "vigild.log")
        self.proc = None
        self.write_rules(rules)
        if learned:
            with open(self.learned, "w") as f:
                f.write(learned)
        cfg = {"QueueNumber": "3", "DefaultAction": "allow", "FailMode": "open",
               "Attribution": ATTRIBUTION if nets.cgroup else "queue",
               "EbpfCgroup": nets.cgroup or ""}
        cfg.update(config or {})
        with open(self.config, "w") as f:
            f.write("[Daemon]\n")
            for k, v in cfg.items():
                f.write("%s=%s\n" % (k, v))

    def write_rules(self, text, name="50-test.rules"):
        with open(os.path.join(self.rules_dir, name), "w") as f:
            f.write(text)

    def argv(self):
        return [VIGILD, "--foreground", "--debug", "--config", self.config,
                "--rules-dir", self.rules_dir, "--learned-rules", self.learned]

    def start(self, wait=True):
        # a restart appends to the log: wait for this start's line, not the last one's
        started = self.log().count("filtering:") if os.path.exists(self.log_path) else 0
        self._log = open(self.log_path, "a")
        # in the network namespace only: EbpfCgroup= is a path in the machine's cgroup mount
        self.proc = self.nets.spawn(self.nets.client, self.argv(), own_mounts=False,
                                    stdout=self._log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_for_log("filtering:", timeout=15, count=started + 1)
        return self

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_for_log(self, needle, timeout=10, count=1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            if text.count(needle) >= count:
                return text
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("vigild exited (%s) before logging %r:\n%s"
                                     % (self.proc.returncode, needle, text))
            time.sleep(0.05)
        raise AssertionError("vigild did not log %r in %ss:\n%s" % (needle, timeout, self.log()))

    def decisions(self):
        return [m.groupdict() for m in DECISION_RE.finditer(self.log())]

    def wait_decisions(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.decisions()
            if len(found) >= n:
                return found
            time.sleep(0.05)
        raise AssertionError("expected %d decisions, log:\n%s" % (n, self.log()))

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None or self.proc.poll() is not None:
            return None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=15)
        finally:
            self._log.close()

    def cleanup(self):
        self.stop(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


def netfilter_dump(nets, ns=None):
    """iptables-save and ip6tables-save of a namespace, without counters and comments."""
    ns = ns or nets.client
    out = []
    for tool in ("iptables-save", "ip6tables-save"):
        text = run(["ip", "netns", "exec", ns, tool], check=False).stdout
        out += [l for l in text.splitlines() if l and not l.startswith("#")]
    return [re.sub(r"\[\d+:\d+\]", "", l) for l in out]


class E2ETestCase(unittest.TestCase):
    """Gives each test fresh namespaces, a peer server, and a vigild factory."""

    def setUp(self):
        if os.geteuid() != 0:
            self.fail("end-to-end tests need root (network namespaces, netfilter)")
        for path in (VIGILD, PROBE):
            self.assertTrue(os.access(path, os.X_OK), "%s is not built" % path)
        self.nets = Namespaces().__enter__()
        self.addCleanup(self.nets.close)
        self.nets.start_peer_server()

    def set_env(self, name, value):
        """Sets @name to @value (None: unsets it) for this test; vigild inherits it through
        "ip netns exec"."""
        old = os.environ.get(name)
        self.addCleanup(self._put_env, name, old)
        self._put_env(name, value)

    @staticmethod
    def _put_env(name, value):
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    def shared_dir(self, prefix):
        """A new directory every user may read, removed after the test: for the programs a
        test runs as another user."""
        path = tempfile.mkdtemp(prefix=prefix)
        self.addCleanup(shutil.rmtree, path, True)
        os.chmod(path, 0o755)
        return path

    def vigild(self, rules="", config=None, learned="", start=True):
        d = Vigild(self.nets, rules, config, learned)
        self.addCleanup(d.cleanup)
        if start:
            d.start()
        return d

    def probe(self, proto, host, port, timeout_ms=1500, user=None):
        cmd = [PROBE, proto, host, str(port), "--timeout", str(timeout_ms)]
        if user is not None:
            cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
        res = self.nets.client_run(cmd, timeout=timeout_ms / 1000 + 10)
        words = res.stdout.split()
        self.assertTrue(words, "vigil-probe printed nothing: %s" % res.stderr)
        return words

    def curl(self, url, timeout=5):
        start = time.monotonic()
        res = self.nets.client_run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                    "--max-time", str(timeout), url], timeout=timeout + 10)
        return res.returncode, res.stdout, time.monotonic() - start

    # new UDP flows, one per port, from one socket whose send buffer holds them all (a queued
    # packet stays charged to its socket); what the kernel drops still looks sent
    FLOOD = ("import socket, sys\n"
             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             "s.setsockopt(socket.SOL_SOCKET, 32, 1 << 28)  # SO_SNDBUFFORCE\n"
             "s.setblocking(False)\n"
             "sent = 0\n"
             "for port in range(20000, 20000 + int(sys.argv[2])):\n"
             "    try:\n"
             "        s.sendto(b'x', (sys.argv[1], port))\n"
             "        sent += 1\n"
             "    except OSError:\n"
             "        pass\n"
             "print(sent)\n")

    def flood_while_stopped(self, d, flows):
        """Sends @flows new UDP flows while vigild is stopped; returns how many went out."""
        d.proc.send_signal(signal.SIGSTOP)
        try:
            res = self.nets.client_run(["python3", "-c", self.FLOOD, PEER_V4, str(flows)],
                                       timeout=120)
        finally:
            d.proc.send_signal(signal.SIGCONT)
        self.assertEqual(res.returncode, 0, res.stderr)
        return int(res.stdout)

    def overrun_counts(self, d):
        """The numbers of vigild's overrun line, once the stats timer has logged it."""
        line = d.wait_for_log("overrun:", timeout=15)
        m = re.search(r"queue 3 overrun: (\d+) receive-buffer overruns, (\d+) packets dropped "
                      r"by the kernel \(queue full\), (\d+) undeliverable", line)
        self.assertIsNotNone(m, line)
        return tuple(int(n) for n in m.groups())

    def assertDecision(self, vigild, **expect):
        """Waits for a decision line with these fields and returns it."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for d in vigild.decisions():
                if all(d.get(k) == str(v) for k, v in expect.items()):
                    return d
            time.sleep(0.05)
        self.fail("no decision %r in log:\n%s" % (expect, vigild.log()))
