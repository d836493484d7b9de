#!/usr/bin/python3
"""The installed vigild.service: a D-Bus service started before the network, least privilege."""
import os
import shutil
import subprocess
import sys
import unittest

UNIT = os.environ.get("VIGIL_SERVICE_UNIT", "build/data/vigild.service")


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


class SystemdUnit(unittest.TestCase):
    def setUp(self):
        self.unit = parse_unit(UNIT)
        self.service = self.unit["Service"]

    def value(self, key):
        self.assertIn(key, self.service, "vigild.service lacks %s" % key)
        return self.service[key][-1]

    def test_dbus_service_before_the_network(self):
        self.assertEqual(self.value("Type"), "dbus")
        self.assertEqual(self.value("BusName"), "org.vigil.Firewall1")
        self.assertIn("network-pre.target", self.unit["Unit"]["Before"][0].split())
        self.assertIn("network-pre.target", self.unit["Unit"]["Wants"][0].split())
        self.assertTrue(os.path.isabs(self.value("ExecStart").split()[0]))

    def test_hardening(self):
        caps = set(self.value("CapabilityBoundingSet").split())
        self.assertIn("CAP_NET_ADMIN", caps)
        self.assertNotIn("CAP_SYS_ADMIN", caps, "vigild must not hold CAP_SYS_ADMIN")
        self.assertEqual(self.value("NoNewPrivileges"), "yes")
        self.assertEqual(self.value("ProtectSystem"), "strict")
        self.assertEqual(self.value("StateDirectory"), "vigil")
        self.assertIn(self.value("ProtectHome"), ("yes", "read-only"))
        self.assertEqual(self.value("PrivateTmp"), "yes")
        families = set(self.value("RestrictAddressFamilies").split())
        self.assertEqual(families, {"AF_UNIX", "AF_NETLINK", "AF_INET", "AF_INET6"})
        self.assertEqual(self.value("SystemCallFilter"), "@system-service")

    def test_systemd_analyze_verify(self):
        # tools/test.sh installs systemd; a skip here would hide a gap
        self.assertIsNotNone(shutil.which("systemd-analyze"), "systemd-analyze not installed")
        res = subprocess.run(["systemd-analyze", "verify", "--man=no", UNIT],
                             capture_output=True, text=True)
        # verify also complains about the ExecStart binary not being installed here
        errors = [l for l in res.stderr.splitlines()
                  if "vigild.service" in l and "Command" not in l and "not executable" not in l]
        self.assertEqual(errors, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
