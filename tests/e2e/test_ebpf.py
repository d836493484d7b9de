#!/usr/bin/python3
"""End-to-end: vigild's eBPF attribution programs load, attach to the configured cgroup (the
test's own), are gone when vigild is (also after SIGKILL), and their absence is handled as
Attribution= says: auto falls back to /proc with the reason logged, ebpf does not start.
"""
import json
import os
import signal
import subprocess
import unittest

from vigiltest import E2ETestCase, PEER_V4, run


def attached(cgroup):
    """The programs attached to @cgroup itself, as bpftool lists them."""
    res = run(["bpftool", "-j", "cgroup", "show", cgroup], check=False)
    if res.returncode != 0:
        raise AssertionError("bpftool cgroup show %s: %s" % (cgroup, res.stderr))
    return [p["attach_type"] for p in json.loads(res.stdout.strip() or "[]")]


EXPECTED = sorted(["cgroup_inet_sock_create", "cgroup_inet4_connect", "cgroup_inet6_connect",
                   "cgroup_udp4_sendmsg", "cgroup_udp6_sendmsg", "cgroup_sock_ops",
                   "cgroup_inet_sock_release"])


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


if __name__ == "__main__":
    unittest.main(verbosity=2)
