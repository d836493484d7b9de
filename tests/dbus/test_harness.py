"""test_harness.py: bus.py, the private system bus and mock polkitd other D-Bus tests build on.

Checked: the derived config keeps Debian's deny-by-default policy and drops what needs a
real system; a config without that policy is refused; the bus starts, reaches a client
running as uid 65534, and leaves nothing behind; the mock polkitd answers as told and only
root can tell it. Needs root (setpriv).
"""

import os
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bus  # noqa: E402

ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'


class ConfigTest(unittest.TestCase):
    def test_derived_config(self):
        text = bus.system_bus_config('/tmp/some dir/socket')
        root = ET.fromstring(text.split('\n', 2)[2])
        self.assertEqual(root.findtext('type'), 'system')
        self.assertEqual([e.text for e in root.findall('listen')],
                         ['unix:path=/tmp/some dir/socket'])
        for tag in ('user', 'fork', 'pidfile', 'syslog', 'servicehelper',
                    'standard_system_servicedirs', 'includedir'):
            self.assertIsNone(root.find(tag), tag)
        self.assertEqual([e.text for e in root.findall('include')],
                         [bus.VIGIL_POLICY, bus.POLKIT_MOCK_POLICY])
        default = [p for p in root.findall('policy') if p.get('context') == 'default']
        self.assertTrue(any(d.attrib == {'send_type': 'method_call'}
                            for p in default for d in p.findall('deny')))
        # the machine's auth mechanism is kept: EXTERNAL, the peer's uid from the kernel
        self.assertEqual(root.findtext('auth'), 'EXTERNAL')

    def test_refuses_a_permissive_system_conf(self):
        with tempfile.NamedTemporaryFile('w', suffix='.conf') as f:
            f.write('<busconfig><type>system</type><listen>unix:path=/x</listen>'
                    '<policy context="default"><allow send_type="method_call"/></policy>'
                    '</busconfig>')
            f.flush()
            with self.assertRaisesRegex(bus.BusError, 'no longer denies method calls'):
                bus.system_bus_config('/tmp/s', system_conf=f.name)

    def test_missing_policy_file(self):
        with self.assertRaisesRegex(bus.BusError, 'does not exist'):
            bus.system_bus_config('/tmp/s', policy_files=['/nonexistent.conf'])


class PrivateBusTest(unittest.TestCase):
    def test_bus_lifecycle(self):
        with bus.PrivateSystemBus() as test_bus:
            tmpdir, process = test_bus.tmpdir, test_bus.process
            self.assertTrue(test_bus.address.startswith('unix:path=' + test_bus.socket_path))
            self.assertEqual(test_bus.env()['DBUS_SYSTEM_BUS_ADDRESS'], test_bus.address)
            conn = test_bus.connect()
            self.assertTrue(conn.get_unique_name().startswith(':'))
            # a client running as another user reaches it, and the bus knows its uid
            run = subprocess.run(
                bus.as_user_argv(bus.NOBODY) + [
                    bus.PYTHON, '-c',
                    'from gi.repository import Gio; '
                    'c = Gio.bus_get_sync(Gio.BusType.SYSTEM); print(c.get_unique_name())'],
                env=test_bus.env(), capture_output=True, text=True, timeout=20)
            self.assertEqual(run.returncode, 0, run.stderr)
            conn.close_sync(None)
        self.assertIsNotNone(process.poll(), 'dbus-daemon still runs')
        self.assertFalse(os.path.exists(tmpdir))

    def test_mock_polkitd(self):
        with bus.PrivateSystemBus() as test_bus:
            polkit = test_bus.start_mock_polkitd()
            read = 'org.vigil.firewall.read'
            configure = 'org.vigil.firewall.configure'
            self.assertFalse(polkit.check_authorization(read), 'the mock starts denying')
            polkit.set_allowed([read])
            self.assertTrue(polkit.check_authorization(read))
            self.assertFalse(polkit.check_authorization(configure))
            polkit.allow_unknown(True)
            self.assertTrue(polkit.check_authorization(configure))

            # an unprivileged client may ask the authority but not drive the mock
            run = subprocess.run(
                bus.as_user_argv(bus.NOBODY) + [
                    'dbus-send', '--system', '--print-reply', '--dest=' + bus.POLKIT_NAME,
                    bus.POLKIT_PATH, bus.MOCK_INTERFACE + '.SetAllowed', 'array:string:x'],
                env=test_bus.env(), capture_output=True, text=True, timeout=20)
            self.assertNotEqual(run.returncode, 0)
            self.assertIn(ACCESS_DENIED, run.stderr)
            run = subprocess.run(
                bus.as_user_argv(bus.NOBODY) + [
                    'dbus-send', '--system', '--print-reply', '--dest=' + bus.POLKIT_NAME,
                    bus.POLKIT_PATH, 'org.freedesktop.DBus.Properties.Get',
                    'string:' + bus.POLKIT_INTERFACE, 'string:BackendName'],
                env=test_bus.env(), capture_output=True, text=True, timeout=20)
            self.assertEqual(run.returncode, 0, run.stderr)
            mock_process = polkit.process
        self.assertIsNotNone(mock_process.poll(), 'the mock polkitd still runs')

    def test_wait_for_name_times_out(self):
        with bus.PrivateSystemBus() as test_bus:
            conn = test_bus.connect()
            with self.assertRaisesRegex(bus.BusError, 'did not appear'):
                bus.wait_for_name(conn, 'org.example.Nobody', timeout=0.2)
            conn.close_sync(None)


if __name__ == '__main__':
    if os.getuid() != 0:
        print('skipped: needs root to run a client as uid 65534', file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
