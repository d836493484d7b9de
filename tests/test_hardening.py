#!/usr/bin/python3
"""The built programs are hardened as meson.build says: PIE, full RELRO with BIND_NOW, stack
canaries and glibc's checked functions (_FORTIFY_SOURCE), read from the binaries themselves."""
import json
import os
import re
import shutil
import subprocess
import unittest

BUILD = os.environ["VIGIL_BUILD_ROOT"]
PROGRAMS = [p for p in os.environ["VIGIL_PROGRAMS"].split(":") if p]
# what meson.build chose for this build: 0 when the build cannot fortify (no optimiser,
# or a sanitizer, which checks every access itself)
FORTIFY = int(os.environ["VIGIL_FORTIFY"])
SANITIZE = os.environ.get("VIGIL_SANITIZE", "none")
FUZZING = os.environ.get("VIGIL_FUZZING", "false") == "true"
OPTIMIZATION = os.environ.get("VIGIL_OPTIMIZATION", "")


def readelf(*args):
    res = subprocess.run(["readelf", "-W"] + list(args), capture_output=True, text=True)
    if res.returncode != 0:
        raise AssertionError("readelf %s: %s" % (" ".join(args), res.stderr))
    return res.stdout


def dynamic_symbols(path):
    """The names in the dynamic symbol table ("NUM: VALUE SIZE TYPE BIND VIS NDX NAME@VER")."""
    names = set()
    for line in readelf("--dyn-syms", path).splitlines():
        cols = line.split()
        if len(cols) >= 8 and cols[0].rstrip(":").isdigit():
            names.add(cols[7].split("@")[0])
    return names


class Hardening(unittest.TestCase):
    def setUp(self):
        self.assertIsNotNone(shutil.which("readelf"), "readelf (binutils) not installed")
        self.assertTrue(PROGRAMS)

    def test_pie(self):
        for path in PROGRAMS:
            with self.subTest(program=os.path.basename(path)):
                self.assertRegex(readelf("-h", path), r"Type:\s+DYN ")
                self.assertRegex(readelf("-d", path), r"\(FLAGS_1\)\s+Flags:.*\bPIE\b")

    def test_relro_and_bind_now(self):
        for path in PROGRAMS:
            with self.subTest(program=os.path.basename(path)):
                self.assertRegex(readelf("-l", path), r"\bGNU_RELRO\b")
                dynamic = readelf("-d", path)
                self.assertTrue(re.search(r"\(FLAGS\)\s+.*\bBIND_NOW\b", dynamic) or
                                re.search(r"\(FLAGS_1\)\s+Flags:.*\bNOW\b", dynamic),
                                "%s binds lazily" % path)

    def test_stack_protector(self):
        for path in PROGRAMS:
            with self.subTest(program=os.path.basename(path)):
                self.assertTrue("__stack_chk_fail" in dynamic_symbols(path),
                                "%s has no stack canaries" % path)

    def test_fortify(self):
        if FORTIFY == 0:
            # not a skip: the only builds without it are the ones meson.build names
            self.assertTrue(SANITIZE != "none" or FUZZING or OPTIMIZATION in ("0", "plain"),
                            "this build should be fortified")
            return
        self.assertGreaterEqual(FORTIFY, 2)
        # vigild calls functions glibc checks (read into fixed buffers, printf)
        vigild = [p for p in PROGRAMS if os.path.basename(p) == "vigild"]
        self.assertEqual(len(vigild), 1)
        checked = [s for s in dynamic_symbols(vigild[0]) if re.fullmatch(r"__\w+_chk", s)
                   and s != "__stack_chk_fail"]
        self.assertTrue(checked, "vigild calls no checked (_chk) functions")
        # the others may call none with a known size: every compilation was fortified
        with open(os.path.join(BUILD, "compile_commands.json")) as f:
            commands = json.load(f)
        self.assertTrue(commands)
        for entry in commands:
            if "/tests/" in entry["file"] or entry["file"].startswith("../tests/"):
                continue
            with self.subTest(file=entry["file"]):
                self.assertIn("-D_FORTIFY_SOURCE=%d" % FORTIFY, entry["command"])
                self.assertIn("-fstack-protector-strong", entry["command"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
