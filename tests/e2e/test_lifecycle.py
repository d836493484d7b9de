#!/usr/bin/python3
"""End-to-end: vigild's netfilter rules over its life: install, restart, crash, stop."""
import os
import signal
import unittest

from vigiltest import E2ETestCase, PEER_V4, PROBE, netfilter_dump

PROBE_EXE = os.path.realpath(PROBE)


class Lifecycle(E2ETestCase):
    def add_foreign_rules(self):
        """Someone else's rules in the namespace, which vigild must leave alone."""
        for tool in ("iptables", "ip6tables"):
            self.nets.client_run([tool, "-A", "OUTPUT", "-p", "tcp", "--dport", "7", "-j",
                                  "ACCEPT"], check=True)
            self.nets.client_run([tool, "-N", "OTHER"], check=True)
            self.nets.client_run([tool, "-A", "OTHER", "-j", "RETURN"], check=True)

    def test_sigterm_removes_exactly_its_own_rules(self):
        self.add_foreign_rules()
        before = netfilter_dump(self.nets)
        d = self.vigild("")
        during = netfilter_dump(self.nets)
        self.assertIn("-A OUTPUT -j VIGIL", during)
        # the jump comes first, ahead of the foreign rule
        output = [l for l in during if l.startswith("-A OUTPUT")]
        self.assertEqual(output[0], "-A OUTPUT -j VIGIL")
        for line in before:
            self.assertIn(line, during, "a foreign rule was changed")
        self.assertEqual(d.stop(signal.SIGTERM), 0)
        self.assertEqual(netfilter_dump(self.nets), before)
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")

    def test_restart_after_crash_does_not_duplicate_rules(self):
        d = self.vigild("")
        once = netfilter_dump(self.nets)
        d.stop(signal.SIGKILL)
        d.start()
        again = netfilter_dump(self.nets)
        self.assertEqual(sorted(again), sorted(once))
        self.assertEqual(again.count("-A OUTPUT -j VIGIL"), 2, "one jump per family")
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")

    def test_kill9_fail_open_lets_traffic_flow(self):
        d = self.vigild("", config={"FailMode": "open"})
        d.stop(signal.SIGKILL)
        self.assertIn("-A OUTPUT -j VIGIL", netfilter_dump(self.nets), "rules stay after a crash")
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")

    def test_kill9_fail_closed_blocks_traffic(self):
        d = self.vigild("", config={"FailMode": "closed"})
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")
        d.stop(signal.SIGKILL)
        self.assertEqual(self.probe("tcp", PEER_V4, 80, timeout_ms=1000)[0], "timeout")
        # and a restarted daemon takes over the held-back traffic again
        d.start()
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")

    def test_rules_file_with_bad_lines_loads_the_rest(self):
        d = self.vigild("deny app %s port 9000\n"
                        "deny app relative/path\n"
                        "allow to 999.1.1.1\n"
                        "deny app %s port 8080\n" % (PROBE_EXE, PROBE_EXE))
        log = d.log()
        self.assertIn("50-test.rules:2:", log)
        self.assertIn("50-test.rules:3:", log)
        self.assertEqual(self.probe("tcp", PEER_V4, 9000)[:2], ["error", "ECONNREFUSED"])
        self.assertEqual(self.probe("tcp", PEER_V4, 8080)[:2], ["error", "ECONNREFUSED"])
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")

    def test_bad_config_exits_nonzero_and_installs_nothing(self):
        before = netfilter_dump(self.nets)
        d = self.vigild("", config={"FailMode": "ajar"}, start=False)
        res = self.nets.client_run(d.argv(), timeout=20)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("FailMode", res.stdout + res.stderr)
        self.assertEqual(netfilter_dump(self.nets), before)

    def test_rules_reload_on_file_change_and_sighup(self):
        d = self.vigild("")
        self.assertEqual(self.probe("tcp", PEER_V4, 9000)[0], "ok")
        d.write_rules("deny app %s port 9000\n" % PROBE_EXE)
        d.wait_for_log("rules reloaded", timeout=10)
        self.assertEqual(self.probe("tcp", PEER_V4, 9000)[:2], ["error", "ECONNREFUSED"])
        # SIGHUP rereads too
        d.write_rules("", name="50-test.rules")
        d.wait_for_log("rules reloaded", timeout=10, count=2)
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for_log("rules reloaded", timeout=10, count=3)
        self.assertEqual(self.probe("tcp", PEER_V4, 9000)[0], "ok")

    def test_second_daemon_on_a_bound_queue_fails_cleanly(self):
        d = self.vigild("")
        before = netfilter_dump(self.nets)
        res = self.nets.client_run(d.argv(), timeout=20)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("queue", res.stdout + res.stderr)
        self.assertEqual(netfilter_dump(self.nets), before)
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")

    def test_queue_full_drops_are_counted_and_logged(self):
        # what does not fit in the queue is dropped (in open mode too: test_verdicts)
        d = self.vigild("", config={"FailMode": "closed", "QueueLength": "8"})
        self.assertEqual(self.flood_while_stopped(d, 40), 40)
        enobufs, queue_full, undeliverable = self.overrun_counts(d)
        self.assertEqual((enobufs, queue_full, undeliverable), (0, 32, 0))
        # the eight it held were decided once vigild ran again, and it goes on
        d.wait_decisions(8)
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")

    def test_receive_buffer_overrun_is_counted_and_logged(self):
        # a queue longer than vigild's socket buffer can take: the kernel cannot deliver
        d = self.vigild("", config={"FailMode": "closed", "QueueLength": "100000"})
        self.assertEqual(self.flood_while_stopped(d, 40000), 40000)
        enobufs, queue_full, undeliverable = self.overrun_counts(d)
        self.assertGreaterEqual(enobufs, 1)
        self.assertEqual(queue_full, 0)
        self.assertGreater(undeliverable, 0)
        self.assertLess(undeliverable, 40000)
        d.proc.poll()
        self.assertIsNone(d.proc.returncode, "vigild must keep running")
        # it decides new connections again once it has worked through the thousands it
        # was handed (their sender is gone: unknown processes, each looked for)
        self.assertEqual(self.probe("tcp", PEER_V4, 80, timeout_ms=60000)[0], "ok")


if __name__ == "__main__":
    unittest.main(verbosity=2)
