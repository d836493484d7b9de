#!/usr/bin/python3
"""vigil-tray in a session without vigild: the tray item, its menu over dbusmenu, one instance."""
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guitest import GuiSession, SOURCE_ROOT, VIGIL_TRAY, wait_until  # noqa: E402

ICON_DIR = os.path.join(SOURCE_ROOT, 'data', 'icons', 'hicolor', 'symbolic', 'apps')


class TrayWithoutDaemon(unittest.TestCase):
    def setUp(self):
        self.session = GuiSession().__enter__()
        self.addCleanup(self.session.stop)
        self.addCleanup(lambda: sys.stderr.write(self.session.tray_log()))
        self.session.start_watcher()
        # a system bus that does not exist: vigild cannot be reached
        self.tray = self.session.start_tray('unix:path=/nonexistent/system_bus_socket')
        self.item = self.session.wait_for_item()

    def test_icon_and_menu_say_not_running(self):
        s = self.session
        self.assertEqual(s.item_property(self.item, 'Id'), 'org.vigil.Tray')
        icon = s.item_property(self.item, 'IconName')
        self.assertEqual(icon, 'org.vigil.Tray-offline-symbolic')
        self.assertTrue(os.path.exists(os.path.join(ICON_DIR, icon + '.svg')),
                        'the icon is in data/icons')
        self.assertEqual(s.item_property(self.item, 'Status'), 'Active')
        menu = wait_until(lambda: s.menu(self.item), 10, 'the menu')
        labels = [e['label'].replace('_', '') for e in menu if e['type'] != 'separator']
        self.assertEqual(labels[0], 'Vigil is not running')
        self.assertFalse(menu[0]['enabled'], 'the status line is not a command')
        self.assertEqual(labels[1], 'No connection requests waiting')
        for label in ('Rules…', 'Network Monitor…', 'Preferences…', 'Pause Filtering', 'Quit'):
            self.assertIn(label, labels)
        pause = s.menu_entry(self.item, 'Pause Filtering')
        self.assertFalse(pause['enabled'], 'pausing needs a daemon')
        self.assertTrue(s.menu_entry(self.item, 'Quit')['enabled'])

    def test_quit_from_the_menu(self):
        s = self.session
        quit_entry = wait_until(lambda: s.menu_entry(self.item, 'Quit'), 10, 'Quit')
        s.click_menu(self.item, quit_entry['id'])
        self.assertEqual(self.tray.wait(timeout=15), 0)

    def test_one_instance_per_session(self):
        s = self.session
        env = s.session_env({'DBUS_SYSTEM_BUS_ADDRESS': 'unix:path=/nonexistent',
                             'ASAN_OPTIONS': 'detect_leaks=0'})
        second = subprocess.run(s._user_argv() + [VIGIL_TRAY], env=env, timeout=30,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(second.returncode, 0, second.stdout)
        self.assertIsNone(self.tray.poll(), 'the first instance keeps running')
        self.assertEqual(len(s.items()), 1, 'one tray icon')



class TrayHostLater(unittest.TestCase):
    def test_icon_appears_when_a_tray_host_starts_later(self):
        # as after a panel restart: no StatusNotifierWatcher yet (a GtkStatusIcon meanwhile)
        s = GuiSession().__enter__()
        self.addCleanup(s.stop)
        self.addCleanup(lambda: sys.stderr.write(s.tray_log()))
        tray = s.start_tray('unix:path=/nonexistent/system_bus_socket')
        time.sleep(2)
        self.assertIsNone(tray.poll())
        s.start_watcher()
        item = s.wait_for_item()
        self.assertEqual(s.item_property(item, 'IconName'), 'org.vigil.Tray-offline-symbolic')
        self.assertTrue(wait_until(lambda: s.menu_entry(item, 'Quit'), 10, 'the menu'))



class TrayTranslated(unittest.TestCase):
    """The menu in the user's language (LANGUAGE; only C.UTF-8 exists on the test machines)."""

    def menu_in(self, language):
        s = GuiSession().__enter__()
        self.addCleanup(s.stop)
        s.start_watcher()
        localedir = os.environ.get('VIGIL_BUILD_LOCALEDIR',
                                   os.path.join(os.path.dirname(VIGIL_TRAY), '..', 'po'))
        s.start_tray('unix:path=/nonexistent/system_bus_socket',
                     extra_env={'LANGUAGE': language, 'VIGIL_TRAY_LOCALEDIR': localedir})
        item = s.wait_for_item()
        return [e['label'] for e in wait_until(lambda: s.menu(item), 10, 'the menu')
                if e['type'] != 'separator']

    def test_german(self):
        labels = self.menu_in('de')
        self.assertEqual(labels[0], 'Vigil läuft nicht')
        self.assertIn('_Regeln …', labels)
        self.assertIn('_Beenden', labels)

    def test_french(self):
        labels = self.menu_in('fr')
        self.assertEqual(labels[0], "Vigil n'est pas en marche")
        self.assertIn('_Quitter', labels)


if __name__ == '__main__':
    unittest.main(verbosity=2)
