#!/usr/bin/python3
"""End-to-end: broken rules files cost only their bad lines, and never the good rules."""
import glob
import os
import signal
import unittest

from vigiltest import E2ETestCase, PEER_V4, PROBE

PROBE_EXE = os.path.realpath(PROBE)


class RuleFiles(E2ETestCase):
    # a good file beside the broken one: vigild starts whatever it makes of the broken one
    OTHER = "deny to 192.0.2.1\n"

    def refused(self, port):
        return self.probe("tcp", PEER_V4, port)[:2] == ["error", "ECONNREFUSED"]

    def test_bad_bytes_in_rules_d_cost_only_their_line(self):
        # one non-UTF-8 byte in a comment and a NUL on another line: the deny rules around
        # them are in force
        d = self.vigild(start=False)
        d.write_rules(self.OTHER, name="10-other.rules")
        with open(os.path.join(d.rules_dir, "50-test.rules"), "wb") as f:
            f.write(b"# caf\xe9: a comment in Latin-1\n"
                    b"deny app %s port 9000\n"
                    b"\x7fELF\x02\x01\x01\x00\x00\n"
                    b"deny app %s port 8080\n" % (PROBE_EXE.encode(), PROBE_EXE.encode()))
        d.start()
        self.assertTrue(self.refused(9000))
        self.assertTrue(self.refused(8080))
        self.assertEqual(self.probe("tcp", PEER_V4, 80)[0], "ok")
        log = d.log()
        self.assertIn("50-test.rules:1: the line is not valid UTF-8", log)
        self.assertIn("50-test.rules:3: the line has a NUL byte", log)

    def test_corrupt_learned_file_is_kept_aside_and_good_rules_survive_sigterm(self):
        corrupt = (b"# Vigil learned rules\n"
                   b"deny app %s port 9000 id 3\n"
                   b"\x00\x01garbage\xff\n"
                   b"deny app %s port 8080 id 4\n" % (PROBE_EXE.encode(), PROBE_EXE.encode()))
        d = self.vigild(self.OTHER, start=False)
        with open(d.learned, "wb") as f:
            f.write(corrupt)
        d.start()
        # the good lines are in force
        self.assertTrue(self.refused(9000))
        self.assertTrue(self.refused(8080))
        self.assertIn("learned.rules:3: the line has a NUL byte", d.log())
        self.assertIn("could not be read whole", d.log())
        self.assertEqual(d.stop(signal.SIGTERM), 0)

        # a clean stop wrote the good rules, not the empty set, and left the copy as it was
        with open(d.learned) as f:
            saved = f.read()
        self.assertIn("deny app %s port 9000 id 3" % PROBE_EXE, saved)
        self.assertIn("deny app %s port 8080 id 4" % PROBE_EXE, saved)
        asides = glob.glob(d.learned + ".corrupt-*")
        self.assertEqual(len(asides), 1, os.listdir(d.dir))
        self.assertRegex(os.path.basename(asides[0]),
                         r"^learned\.rules\.corrupt-\d{8}T\d{6}Z$")
        with open(asides[0], "rb") as f:
            self.assertEqual(f.read(), corrupt)

        # and the next start reads a clean file, keeping no second copy
        d.start(wait=False)
        second = d.wait_for_log("filtering:", timeout=15, count=2).split("filtering:")[1]
        self.assertNotIn("could not be read whole", second)
        self.assertTrue(self.refused(9000))
        self.assertEqual(len(glob.glob(d.learned + ".corrupt-*")), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
