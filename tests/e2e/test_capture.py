#!/usr/bin/python3
"""End-to-end: packet capture on request (a rule's `capture` option).

A real vigild in a network namespace, a real curl fetching from an HTTP server in the peer
namespace. The flows a capture rule allows are recorded in both directions to pcapng files
that tcpdump reads, each only for its first CaptureFlowSize KiB; a flow allowed by a rule
without `capture` is in no file.
"""
import glob
import os
import re
import stat
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import E2ETestCase, PEER_V4, PEER_V6, CLIENT_V4, CLIENT_V6, run  # noqa: E402

CURL = os.path.realpath("/usr/bin/curl")
HTTP_PORT = 8081
# a body no other packet has: it must turn up in the capture, and only there
BODY = b"".join(b"vigil-capture-body-line-%04d\n" % i for i in range(80))
FLOW_KIB = 64
BIG = 1024 * 1024


def epbs(data):
    """The Enhanced Packet Blocks of a pcapng file: (captured bytes, original length)."""
    out, pos = [], 0
    while pos + 12 <= len(data):
        block_type, length = struct.unpack_from("=II", data, pos)
        if length < 12 or pos + length > len(data):
            break
        if block_type == 6:
            captured, original = struct.unpack_from("=II", data, pos + 20)
            out.append((data[pos + 28:pos + 28 + captured], original))
        pos += length
    return out


class Capture(E2ETestCase):
    def setUp(self):
        super().setUp()
        self.www = tempfile.mkdtemp(prefix="vigil-capture-www-")
        self.addCleanup(lambda: run(["rm", "-rf", self.www], check=False))
        with open(os.path.join(self.www, "small.txt"), "wb") as f:
            f.write(BODY)
        with open(os.path.join(self.www, "big.bin"), "wb") as f:
            f.write(os.urandom(BIG))
        server = self.nets.spawn(self.nets.peer,
                                 ["/usr/bin/python3", "-m", "http.server", str(HTTP_PORT),
                                  "--bind", PEER_V4, "--directory", self.www],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            probe = run(["ip", "netns", "exec", self.nets.peer, "ss", "-ltn",
                         "sport = :%d" % HTTP_PORT], check=False)
            if str(HTTP_PORT) in probe.stdout:
                break
            self.assertIsNone(server.poll(), "http.server exited")
            time.sleep(0.1)
        else:
            self.fail("http.server did not listen")

    def fetch(self, path, port=HTTP_PORT):
        res = self.nets.client_run([CURL, "-s", "-o", "-", "--max-time", "20",
                                    "http://%s:%d/%s" % (PEER_V4, port, path)],
                                   timeout=40, text=False)
        self.assertEqual(res.returncode, 0, res.stderr)
        return res.stdout

    def captures(self, d):
        return sorted(glob.glob(os.path.join(d.dir, "captures", "capture-*.pcapng")))

    def wait_file_with(self, d, needle, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in self.captures(d):
                with open(path, "rb") as f:
                    if needle in f.read():
                        return path
            time.sleep(0.1)
        self.fail("no capture file has %r; files %s; log:\n%s"
                  % (needle[:40], self.captures(d), d.log()))

    def test_capture_rule_records_both_directions_others_not(self):
        d = self.vigild("allow app %s port %d capture\n"
                        "allow app %s port 80\n" % (CURL, HTTP_PORT, CURL),
                        config={"CaptureFlowSize": str(FLOW_KIB)})
        d.wait_for_log("packet capture: NFLOG group")
        self.assertEqual(self.fetch("small.txt"), BODY)
        path = self.wait_file_with(d, BODY)

        # root's alone: a 0700 directory, 0600 files
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)

        # tcpdump reads it: the request going out and the answer coming back
        dump = run(["tcpdump", "-nn", "-r", path], check=False)
        self.assertEqual(dump.returncode, 0, dump.stderr)
        out_re = r"IP %s\.\d+ > %s\.%d: " % (re.escape(CLIENT_V4), re.escape(PEER_V4), HTTP_PORT)
        in_re = r"IP %s\.%d > %s\.\d+: " % (re.escape(PEER_V4), HTTP_PORT, re.escape(CLIENT_V4))
        self.assertRegex(dump.stdout, out_re)
        self.assertRegex(dump.stdout, in_re)
        with open(path, "rb") as f:
            data = f.read()
        self.assertIn(b"GET /small.txt HTTP/1.1", data)
        self.assertIn(BODY, data)
        # the first packet too: the SYN the verdict was for
        self.assertRegex(dump.stdout, out_re + r"Flags \[S\]")

        # a flow of a rule without capture is in no file, and makes none
        before = self.captures(d)
        res = self.nets.client_run([CURL, "-s", "http://%s:80/" % PEER_V4], timeout=30)
        self.assertIn("hello from the peer", res.stdout)
        self.assertDecision(d, port=80, verdict="allow")
        time.sleep(1)
        self.assertEqual(self.captures(d), before)
        for p in self.captures(d):
            with open(p, "rb") as f:
                self.assertNotIn(b"hello from the peer", f.read())

    def test_ipv6_flow(self):
        d = self.vigild("allow app %s port 9000 capture\n" % CURL)
        d.wait_for_log("packet capture: NFLOG group")
        res = self.nets.client_run([CURL, "-s", "--max-time", "10",
                                    "http://[%s]:9000/" % PEER_V6], timeout=30)
        self.assertIn("hello from the peer", res.stdout)
        path = self.wait_file_with(d, b"hello from the peer")
        dump = run(["tcpdump", "-nn", "-r", path], check=False)
        self.assertEqual(dump.returncode, 0, dump.stderr)
        self.assertRegex(dump.stdout, r"IP6 %s\.\d+ > %s\.9000: " % (CLIENT_V6, PEER_V6))
        self.assertRegex(dump.stdout, r"IP6 %s\.9000 > %s\.\d+: " % (PEER_V6, CLIENT_V6))

    def test_per_flow_bound(self):
        d = self.vigild("allow app %s port %d capture\n" % (CURL, HTTP_PORT),
                        config={"CaptureFlowSize": str(FLOW_KIB)})
        d.wait_for_log("packet capture: NFLOG group")
        data = self.fetch("big.bin")
        self.assertEqual(len(data), BIG)
        path = self.wait_file_with(d, b"GET /big.bin")
        time.sleep(1)  # copies still on their way would show up now
        with open(path, "rb") as f:
            blocks = epbs(f.read())
        recorded = sum(original for _, original in blocks)
        # about the first 64 KiB of the flow, never the whole MiB
        self.assertLessEqual(recorded, FLOW_KIB * 1024)
        self.assertGreater(len(blocks), 3)
        self.assertLess(os.path.getsize(path), FLOW_KIB * 1024 + 16 * 1024)
        dump = run(["tcpdump", "-nn", "-r", path], check=False)
        self.assertEqual(dump.returncode, 0, dump.stderr)

    def test_total_bound(self):
        """A flood of capture flows fills CaptureTotalSize and stops there, said once."""
        d = self.vigild("allow app %s port %d capture\n" % (CURL, HTTP_PORT),
                        config={"CaptureFlowSize": "256", "CaptureTotalSize": "1"})
        d.wait_for_log("packet capture: NFLOG group")
        for _ in range(8):
            self.assertEqual(len(self.fetch("big.bin")), BIG)
        d.wait_for_log("packet capture stopped")
        time.sleep(1)
        total = sum(os.path.getsize(p) for p in self.captures(d))
        self.assertLessEqual(total, 1024 * 1024)
        self.assertGreater(total, 512 * 1024)
        self.assertEqual(d.log().count("packet capture stopped"), 1)
        # the connections themselves were never held back: all 8 were allowed
        self.assertEqual(len([x for x in d.decisions() if x["port"] == str(HTTP_PORT)]), 8)


if __name__ == "__main__":
    unittest.main()
