"""test_data_files.py: the polkit actions and the D-Bus activation file say what the design says.

    test_data_files.py            the structure: the actions, their texts and defaults; the
                                  activation file built from org.vigil.Firewall1.service.in
    test_data_files.py --dtd      xmllint validates the policy against polkit's own DTD
                                  (exit 77, a skip, when polkitd's DTD is not installed)
"""

import os
import shutil
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

import gi

gi.require_version('GLib', '2.0')
from gi.repository import GLib  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bus  # noqa: E402

POLICY = os.path.join(bus.SOURCE_ROOT, 'data', 'org.vigil.firewall.policy')
POLKIT_DTD = '/usr/share/polkit-1/policyconfig-1.dtd'
AUTH_VALUES = {'no', 'yes', 'auth_self', 'auth_self_keep', 'auth_admin', 'auth_admin_keep'}

# action -> (allow_any, allow_inactive, allow_active): the security model of design.md
EXPECTED_DEFAULTS = {
    'org.vigil.firewall.read': ('auth_self_keep', 'auth_self_keep', 'yes'),
    'org.vigil.firewall.reply': ('auth_self_keep', 'auth_self_keep', 'yes'),
    'org.vigil.firewall.manage-own-rules': ('auth_self_keep', 'auth_self_keep', 'yes'),
    'org.vigil.firewall.manage-all-rules': ('auth_admin_keep',) * 3,
    'org.vigil.firewall.configure': ('auth_admin_keep',) * 3,
}


def actions():
    root = ET.parse(POLICY).getroot()
    assert root.tag == 'policyconfig', root.tag
    return {a.get('id'): a for a in root.findall('action')}


class PolkitPolicyTest(unittest.TestCase):
    def test_the_actions(self):
        self.assertEqual(sorted(actions()), sorted(EXPECTED_DEFAULTS))

    def test_defaults(self):
        for action_id, action in actions().items():
            defaults = action.find('defaults')
            self.assertIsNotNone(defaults, action_id)
            got = tuple(defaults.findtext(k, '').strip()
                        for k in ('allow_any', 'allow_inactive', 'allow_active'))
            for value in got:
                self.assertIn(value, AUTH_VALUES, action_id)
            self.assertEqual(got, EXPECTED_DEFAULTS[action_id], action_id)

    def test_nothing_is_open_to_remote_sessions(self):
        for action_id, action in actions().items():
            self.assertNotEqual(action.find('defaults').findtext('allow_any').strip(), 'yes',
                                f'{action_id}: allow_any yes lets any session in')

    def test_texts(self):
        for action_id, action in actions().items():
            for tag in ('description', 'message'):
                texts = [e for e in action.findall(tag)
                         if '{http://www.w3.org/XML/1998/namespace}lang' not in e.attrib]
                self.assertEqual(len(texts), 1, f'{action_id}: one English {tag}')
                text = (texts[0].text or '').strip()
                self.assertGreater(len(text), 10, f'{action_id}: {tag} too short')
                self.assertTrue(text.isascii() and text[0].isupper(), f'{action_id}: {text}')
                self.assertFalse(text.endswith('.'), f'{action_id}: {tag} ends with a period')
            self.assertTrue(action.findtext('message').startswith('Authentication is required'),
                            action_id)

    def test_imply(self):
        implied = {}
        for action_id, action in actions().items():
            for annotate in action.findall('annotate'):
                if annotate.get('key') == 'org.freedesktop.policykit.imply':
                    implied[action_id] = annotate.text.split()
        self.assertEqual(implied, {
            'org.vigil.firewall.manage-all-rules': ['org.vigil.firewall.manage-own-rules']})


class ActivationFileTest(unittest.TestCase):
    def test_service_file(self):
        path = os.environ.get('VIGIL_DBUS_SERVICE_FILE')
        if not path:
            # meson sets it; a skip there would be a pass nobody sees
            if os.environ.get('CI') == 'true':
                self.fail('VIGIL_DBUS_SERVICE_FILE is not set')
            self.skipTest('VIGIL_DBUS_SERVICE_FILE is not set (run through meson test)')
        keyfile = GLib.KeyFile()
        keyfile.load_from_file(path, GLib.KeyFileFlags.NONE)
        group = 'D-BUS Service'
        self.assertEqual(keyfile.get_groups()[0], [group])
        self.assertEqual(keyfile.get_string(group, 'Name'), bus.BUS_NAME)
        self.assertEqual(keyfile.get_string(group, 'User'), 'root')
        # activation only through systemd's alias of an enabled vigild.service (tests/packaging)
        self.assertEqual(keyfile.get_string(group, 'SystemdService'),
                         'dbus-org.vigil.Firewall1.service')
        self.assertEqual(keyfile.get_string(group, 'Exec'), '/bin/false')


def validate_with_dtd():
    if not os.path.isfile(POLKIT_DTD):
        print(f'skipped: {POLKIT_DTD} is missing (package polkitd)', file=sys.stderr)
        return 77
    if shutil.which('xmllint') is None:
        print('skipped: xmllint is missing (package libxml2-utils)', file=sys.stderr)
        return 77
    run = subprocess.run(['xmllint', '--noout', '--nonet', '--dtdvalid', POLKIT_DTD, POLICY],
                         capture_output=True, text=True)
    sys.stderr.write(run.stderr)
    print(f'{POLICY}: ' + ('valid' if run.returncode == 0 else 'INVALID'))
    return 0 if run.returncode == 0 else 1


if __name__ == '__main__':
    if sys.argv[1:] == ['--dtd']:
        sys.exit(validate_with_dtd())
    unittest.main(verbosity=2)
