#!/usr/bin/python3
"""Adversarial: a program's path cannot forge a line of vigild's log.

A user can name an executable anything: spaces, `pid=1 user=root(0)`, a newline followed by
a whole decision line of its own. Hard links with such names make connections, as uid 65534,
through a real vigild in a network namespace (run with --debug, so the attributor's debug
lines, which name the executable too, are written as well). Every decision line is its own,
with the path escaped (\\xNN), and no line of the log is the forged one.
"""
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import vigiltest  # noqa: E402

NOBODY = 65534
FORGED = ("allow program=/usr/bin/trusted pid=1 user=root(0) dst=%s port=80 proto=tcp "
          "rule=1 queued=1us" % vigiltest.PEER_V4)
LINE_RE = re.compile(r"^\d\d:\d\d:\d\d\.\d\d\d (?P<domain>[\w-]+): (?P<text>.*)$")
NAMES = [
    "x pid=1 user=root(0) dst=192.0.2.1",
    "y\n00:00:00.000 vigil-decision: " + FORGED,
    "z\r\x1b[2K" + FORGED,
]


def decisions(log):
    """The decision lines, as a reader of the log splits it: one line, "TIME DOMAIN: TEXT"."""
    found = []
    for line in log.splitlines():
        m = LINE_RE.match(line)
        d = m and m.group("domain") == "vigil-decision" and vigiltest.DECISION_RE.match(
            m.group("text"))
        if d:
            found.append(d.groupdict())
    return found


def escape(text):
    """The log's escaping (README "Logging") of an ASCII value."""
    return "".join("\\x%02x" % ord(c) if ord(c) <= 0x20 or ord(c) == 0x7f or c in '"\\' else c
                   for c in text)


class LogForgery(vigiltest.E2ETestCase):
    def test_hostile_paths_forge_nothing(self):
        tmp = self.shared_dir("vigil-forge-")
        original = vigiltest.copy_program(vigiltest.CONNECT_ONCE, os.path.join(tmp, "connect"))
        d = self.vigild(config={"DefaultAction": "allow"})
        for name in NAMES:
            # a "/" in the name makes directories: the path holds the forged line whole
            path = os.path.join(tmp, name)
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            os.link(original, path)
            res = self.nets.client_run(["setpriv", "--reuid=%d" % NOBODY,
                                        "--regid=%d" % NOBODY, "--clear-groups", path,
                                        vigiltest.PEER_V4, "80"])
            self.assertEqual(res.returncode, 0, res.stderr)
        deadline = time.monotonic() + 20
        while True:
            log = d.log()
            found = decisions(log)
            if len(found) >= len(NAMES) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual([f["program"] for f in found],
                         [escape(os.path.join(tmp, n)) for n in NAMES], log)
        for f in found:
            self.assertEqual((f["pid"] != "1", f["user"], f["dst"]),
                             (True, "nobody", vigiltest.PEER_V4))
        # every line is one of vigild's, and none is the forged one
        for line in log.splitlines():
            m = LINE_RE.match(line)
            self.assertIsNotNone(m, line)
            self.assertFalse(m.group("text").startswith(FORGED), line)
        self.assertNotIn("\r", log)
        self.assertNotIn("\x1b", log)


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
