#!/usr/bin/python3
"""The installed vigild.service: a D-Bus service started before the network, least privilege,
always restarted; systemd-analyze accepts it; vigild works with exactly its capabilities."""
import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "e2e"))
import vigiltest  # noqa: E402

UNIT = os.environ.get("VIGIL_SERVICE_UNIT", "build/data/vigild.service")
README = os.path.join(HERE, "..", "README.md")


def parse_unit(path):
    """systemd's key=value sections; a key may repeat (values are collected in order)."""
    sections, current = {}, None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], {})
                continue
            key, _, value = line.partition("=")
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


def unit_with_built_vigild(tmp):
    """The unit with ExecStart pointing at the built vigild: verify checks that it exists."""
    with open(UNIT) as f:
        text = f.read()
    text = re.sub(r"^ExecStart=\S+", "ExecStart=" + vigiltest.VIGILD, text, flags=re.M)
    path = os.path.join(tmp, "vigild.service")
    with open(path, "w") as f:
        f.write(text)
    return path


class SystemdUnit(unittest.TestCase):
    def setUp(self):
        self.unit = parse_unit(UNIT)
        self.service = self.unit["Service"]

    def value(self, key, section="Service"):
        values = self.unit[section]
        self.assertIn(key, values, "vigild.service lacks %s" % key)
        return values[key][-1]

    def test_dbus_service_before_the_network(self):
        self.assertEqual(self.value("Type"), "dbus")
        self.assertEqual(self.value("BusName"), "org.vigil.Firewall1")
        self.assertIn("network-pre.target", self.unit["Unit"]["Before"][0].split())
        self.assertIn("network-pre.target", self.unit["Unit"]["Wants"][0].split())
        self.assertTrue(os.path.isabs(self.value("ExecStart").split()[0]))

    def test_hardening(self):
        caps = set(self.value("CapabilityBoundingSet").split())
        self.assertEqual(caps, {"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_PTRACE",
                                "CAP_DAC_READ_SEARCH", "CAP_BPF", "CAP_PERFMON"})
        self.assertNotIn("AmbientCapabilities", self.service)
        self.assertEqual(self.value("NoNewPrivileges"), "yes")
        self.assertEqual(self.value("ProtectSystem"), "strict")
        self.assertEqual(self.value("StateDirectory"), "vigil")
        self.assertIn(self.value("ProtectHome"), ("yes", "read-only"))
        self.assertEqual(self.value("PrivateTmp"), "yes")
        families = set(self.value("RestrictAddressFamilies").split())
        self.assertEqual(families, {"AF_UNIX", "AF_NETLINK", "AF_INET", "AF_INET6"})
        self.assertEqual(self.value("SystemCallFilter"), "@system-service bpf")
        for key in ("ProtectKernelLogs", "ProtectKernelModules", "ProtectClock",
                    "ProtectHostname", "PrivateDevices", "RestrictSUIDSGID",
                    "RestrictNamespaces", "RestrictRealtime", "LockPersonality",
                    "MemoryDenyWriteExecute"):
            with self.subTest(key=key):
                self.assertEqual(self.value(key), "yes")
        self.assertEqual(self.value("UMask"), "0077")
        self.assertEqual(self.value("KeyringMode"), "private")
        self.assertEqual(self.value("IPAddressDeny"), "any")
        self.assertNotIn("IPAddressAllow", self.service)

    def test_firewall_stays_up(self):
        # the kernel's OOM killer picks something else
        self.assertLessEqual(int(self.value("OOMScoreAdjust")), -500)
        # restarted whatever ended it, and never given up on
        self.assertEqual(self.value("Restart"), "always")
        self.assertEqual(self.value("StartLimitIntervalSec", "Unit"), "0")
        self.assertNotIn("StartLimitBurst", self.unit["Unit"])
        self.assertNotIn("RestartPreventExitStatus", self.service)
        # decisions stay visible: vigild's own limit (README "Logging") fits in journald's
        interval = self.value("LogRateLimitIntervalSec")
        self.assertTrue(interval.endswith("s"), interval)
        per_second = int(self.value("LogRateLimitBurst")) / int(interval[:-1])
        self.assertGreaterEqual(per_second, 2000 / 10 * 2, "journald would drop decisions")

    def test_systemd_analyze_verify(self):
        # tools/test.sh installs systemd; a skip here would hide a gap
        self.assertIsNotNone(shutil.which("systemd-analyze"), "systemd-analyze not installed")
        with tempfile.TemporaryDirectory() as tmp:
            res = subprocess.run(["systemd-analyze", "verify", "--man=no",
                                  unit_with_built_vigild(tmp)], capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stderr.strip(), "")

    def test_security_score_in_readme(self):
        self.assertIsNotNone(shutil.which("systemd-analyze"), "systemd-analyze not installed")
        with tempfile.TemporaryDirectory() as tmp:
            res = subprocess.run(["systemd-analyze", "security", "--offline=true",
                                  "--no-pager", unit_with_built_vigild(tmp)],
                                 capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        score = re.search(r"Overall exposure level for vigild.service: (\d+\.\d)", res.stdout)
        self.assertIsNotNone(score, res.stdout)
        # a root firewall that reads every process: "OK" is the best it can be
        self.assertLessEqual(float(score.group(1)), 3.5)
        with open(README) as f:
            readme = f.read()
        self.assertTrue("exposure level %s" % score.group(1) in readme,
                        "README states another systemd-analyze security score than %s"
                        % score.group(1))


PTRACE_TRACEME, PTRACE_CONT = 0, 7


def traced_run(argv):
    """Runs argv as a child that a ptrace-ing parent (this process) traces to its end."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    pid = os.fork()
    if pid == 0:
        try:
            libc.ptrace(PTRACE_TRACEME, 0, None, None)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    while True:
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status):
            return os.WEXITSTATUS(status)
        if os.WIFSIGNALED(status):
            return -os.WTERMSIG(status)
        sig = os.WSTOPSIG(status)
        libc.ptrace(PTRACE_CONT, pid, None, 0 if sig == 5 else sig)


class UnitCapabilities(vigiltest.E2ETestCase):
    """vigild with exactly the unit's capability bounding set decides other users' connections
    by program, and sees their taint; without CAP_SYS_PTRACE or CAP_DAC_READ_SEARCH it can't."""

    def start_with_caps(self, caps):
        d = self.vigild(start=False)
        argv = d.argv()
        bounding = ",".join("+" + c[len("CAP_"):].lower() for c in sorted(caps))
        d.argv = lambda: ["setpriv", "--bounding-set=-all," + bounding, "--inh-caps=-all"] + argv
        return d.start()

    def connect_as_nobody(self, prefix=(), env=None):
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + list(prefix) + [
            vigiltest.PROBE, "tcp", vigiltest.PEER_V4, "80"]
        # in the AddressSanitizer build the probe's runtime must accept a preloaded library
        # before it, and cannot look for leaks under a tracer
        env = dict(env or {}, ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=0")
        res = self.nets.client_run(["env", "-i"] + ["%s=%s" % kv for kv in env.items()] + cmd)
        self.assertEqual(res.returncode, 0, res.stderr)

    def test_unit_capabilities_suffice(self):
        caps = set(parse_unit(UNIT)["Service"]["CapabilityBoundingSet"][-1].split())
        d = self.start_with_caps(caps)
        # the eBPF attribution programs load with the unit's capabilities
        if vigiltest.ATTRIBUTION != "queue":
            self.assertIn("attribution ebpf", d.log())
        self.connect_as_nobody()
        self.connect_as_nobody(env={"LD_PRELOAD": "libm.so.6"})
        tracer = [sys.executable, os.path.abspath(__file__), "--traced-run"]
        self.connect_as_nobody(prefix=tracer)
        found = d.wait_decisions(3)
        for decision in found:
            self.assertEqual(decision["program"], vigiltest.PROBE)
            self.assertEqual(decision["user"], "nobody")
        lines = [l for l in d.log().splitlines() if "program=" + vigiltest.PROBE in l]
        self.assertEqual(len(lines), 3, lines)
        self.assertNotIn("taint=", lines[0])
        self.assertTrue(lines[1].endswith(" taint=preload"), lines[1])
        self.assertTrue(lines[2].endswith(" taint=traced"), lines[2])

    def test_each_capability_is_needed(self):
        caps = set(parse_unit(UNIT)["Service"]["CapabilityBoundingSet"][-1].split())
        for missing in ("CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH"):
            with self.subTest(without=missing):
                d = self.start_with_caps(caps - {missing})
                self.connect_as_nobody()
                decision = d.wait_decisions(1)[0]
                if "attribution ebpf" in d.log() and missing == "CAP_DAC_READ_SEARCH":
                    # the kernel names the task: no other user's fd directory is read (the
                    # /proc search, for sockets the eBPF programs did not see, still needs it)
                    self.assertEqual(decision["program"], vigiltest.PROBE)
                else:
                    # not its program: with the kernel's record the task is known, by its
                    # name only, and is an unknown program to the rules all the same
                    self.assertIn(decision["program"], ("unknown", "[vigil-probe]"))
                d.cleanup()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--traced-run"]:
        sys.exit(traced_run(sys.argv[2:]))
    unittest.main(verbosity=2)
