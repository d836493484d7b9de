#!/usr/bin/python3
"""vigilctl speaks the user's language: its help and its usage errors come out in German and
French with LANGUAGE=de/fr (only the C.UTF-8 locale exists on the test machines), and in
English without a translation.

    VIGILCTL=... VIGILCTL_LOCALEDIR=BUILD/po test_vigilctl_i18n.py
"""
import os
import subprocess
import sys
import unittest

VIGILCTL = os.environ.get('VIGILCTL')
LOCALEDIR = os.environ.get('VIGILCTL_LOCALEDIR')


def vigilctl(language, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith('LC_')}
    env.update({'LANG': 'C.UTF-8', 'LANGUAGE': language, 'VIGILCTL_LOCALEDIR': LOCALEDIR})
    # no system bus: a command that got as far as D-Bus would fail, not hang
    env['DBUS_SYSTEM_BUS_ADDRESS'] = 'unix:path=/nonexistent/vigil-test-bus'
    return subprocess.run([VIGILCTL] + list(args), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=30)


class VigilctlLanguages(unittest.TestCase):
    def test_help_in_german(self):
        res = vigilctl('de', '--help')
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn('Befehle:', res.stdout)
        self.assertIn('JSON für Skripte ausgeben', res.stdout)
        self.assertIn('Rückgabewert:', res.stdout)
        self.assertNotIn('Commands:', res.stdout)
        self.assertNotIn('Exit status:', res.stdout)

    def test_help_in_french(self):
        res = vigilctl('fr', '--help')
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn('Commandes :', res.stdout)
        self.assertIn('Afficher du JSON pour les scripts', res.stdout)
        self.assertNotIn('Commands:', res.stdout)

    def test_command_help_translated(self):
        res = vigilctl('de', 'rules', '--help')
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn('Verwaltet die Regeln von Vigil.', res.stdout)
        self.assertIn('Regeln entfernen', res.stdout)
        res = vigilctl('fr', 'log', '--help')
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn('--program=PROGRAMME', res.stdout)

    def test_usage_error_in_german_and_french(self):
        res = vigilctl('de', 'frobnicate')
        self.assertEqual(res.returncode, 2)
        self.assertIn('„frobnicate“ ist kein vigilctl-Befehl', res.stderr)
        self.assertIn('„vigilctl --help“ zeigt den Aufruf.', res.stderr)
        res = vigilctl('fr', 'frobnicate')
        self.assertEqual(res.returncode, 2)
        self.assertIn('« frobnicate » n’est pas une commande de vigilctl', res.stderr)
        res = vigilctl('de', 'log', '--since', 'gestern')
        self.assertEqual(res.returncode, 2)
        self.assertIn('„gestern“ ist weder eine Zeitspanne', res.stderr)

    def test_english_without_a_language(self):
        res = vigilctl('', '--help')
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn('Commands:', res.stdout)
        self.assertIn('Exit status:', res.stdout)
        res = vigilctl('', 'frobnicate')
        self.assertEqual(res.returncode, 2)
        self.assertIn("'frobnicate' is not a vigilctl command", res.stderr)


if __name__ == '__main__':
    if not VIGILCTL or not LOCALEDIR:
        sys.exit('set VIGILCTL and VIGILCTL_LOCALEDIR')
    unittest.main(verbosity=2)
