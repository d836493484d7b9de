#!/usr/bin/python3
"""vigil-tray's main window "Vigil" on a desktop without a tray host (stock GNOME): no
StatusNotifierWatcher and no system tray in the session. Started the way its .desktop entry
starts it (the Exec line of the built data/org.vigil.Tray.desktop), it opens the window: the
status line follows vigild, every page (Rules, Network Monitor, Preferences) is reached through
AT-SPI and shows vigild's data, the window says how to get a tray icon, and the .desktop
file's actions open their pages.
"""
import os
import shlex
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gi  # noqa: E402

gi.require_version('GLib', '2.0')
from gi.repository import GLib  # noqa: E402

import guitest  # noqa: E402
from guitest import wait_until  # noqa: E402
from test_prompt import NOBODY, SCREENSHOTS, TITLE  # noqa: E402
from test_rules import RulesTestCase, TITLE as RULE_CELL  # noqa: E402
from test_dbus import PROBE_EXE  # noqa: E402

MAIN = 'Vigil'
DESKTOP_FILE = os.path.join(guitest.BUILD, 'data', 'org.vigil.Tray.desktop')
TRAY_HINT = ('This desktop shows no tray icons, so Vigil lives in this window. On GNOME, the '
             'AppIndicator extension (package gnome-shell-extension-appindicator) adds them: '
             'install it, log in again and turn it on in Extensions.')
PAGES = ('Rules', 'Network Monitor', 'Preferences')


def desktop_argv(action=None):
    """The command line of the .desktop entry (or of its action @action), with the built
    vigil-tray in place of the installed one."""
    kf = GLib.KeyFile()
    kf.load_from_file(DESKTOP_FILE, GLib.KeyFileFlags.NONE)
    group = 'Desktop Entry' if action is None else 'Desktop Action ' + action
    argv = [a for a in shlex.split(kf.get_string(group, 'Exec')) if not a.startswith('%')]
    assert os.path.basename(argv[0]) == 'vigil-tray', argv
    return argv[1:]


class MainWindowTestCase(RulesTestCase):
    """vigild, and vigil-tray started as its .desktop entry starts it, without a tray host."""

    tray_host = False

    def start_tray(self, args=None):
        self.session.start_tray(self.bus.address,
                                args=desktop_argv() if args is None else args)
        self.ui = self.session.ui('vigil-tray')
        wait_until(lambda: self.prop('Stats')['agents'] == 1, 30, 'the tray to register')

    def main(self):
        return self.ui.wait_for_window(MAIN, timeout=30)

    def labels(self):
        return self.ui.window(MAIN)['labels']


class MainWindowWithoutTray(MainWindowTestCase):
    def test_launched_from_the_app_grid_every_page_works(self):
        ui = self.ui
        win = self.main()
        self.assertEqual(set(win['pages']), set(PAGES), 'a switcher with the three pages')
        wait_until(lambda: 'Vigil is filtering' in self.labels(), 10, 'the status: filtering')
        self.assertIn('No connection requests waiting', self.labels())
        # no tray host: the window says how to get one
        wait_until(lambda: TRAY_HINT in self.labels(), 20, 'the tray hint')

        # Rules: a rule added through vigild's D-Bus API (vigilctl) shows up
        ui.switch(MAIN, 'Rules')
        self.vigilctl('rules', 'add', '--mine', 'deny app %s port 9000 proto tcp' % PROBE_EXE)
        text = [r for r in self.rules_of(NOBODY) if r.get('program') == PROBE_EXE][0]['text']
        wait_until(lambda: [r for r in self.ui.window(MAIN)['tables'][0] if r[RULE_CELL] == text],
                   15, 'the rule on the Rules page')
        self.session.screenshot(os.path.join(SCREENSHOTS, 'main-window.png'),
                                self.ui.window(MAIN)['extents'])

        # Network Monitor: that rule's decision
        ui.switch(MAIN, 'Network Monitor')
        words = self.probe_result(self.probe_async(9000, user=NOBODY))
        self.assertEqual(words[:2], ['error', 'ECONNREFUSED'])
        wait_until(lambda: [row for t in self.ui.window(MAIN)['tables'] for row in t
                            if '9000' in row and 'Denied' in row], 15,
                   'the denied connection on the Network Monitor page')

        # Preferences: vigild's settings
        ui.switch(MAIN, 'Preferences')
        win = self.ui.window(MAIN)
        self.assertEqual(win['combos']['When nobody answers:']['name'],
                         'Deny the connection once')
        self.assertEqual(win['spins']['Ask for (seconds):']['value'], 30)
        self.assertIn('Apply', win['buttons'])

        # a request waiting is counted in the status line; prompts still come
        probe = self.probe_async(8080, user=NOBODY)
        ui.wait_for_window(TITLE)
        wait_until(lambda: '1 connection request waiting' in self.labels(), 10,
                   'the waiting request in the status line')
        ui.select(TITLE, 'Duration:', 'Once')
        ui.click(TITLE, 'Deny', timeout=10)
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])
        wait_until(lambda: 'No connection requests waiting' in self.labels(), 10,
                   'no request waiting')

        # vigild goes away: the status line says so
        self.d.stop()
        wait_until(lambda: 'Vigil is not running' in self.labels(), 15, 'not running')

    def test_pause_and_resume_from_the_window(self):
        # without a tray icon the window is the only place to pause filtering
        self.main()
        self.ui.click(MAIN, 'Pause Filtering', timeout=10)
        wait_until(lambda: self.prop('Enabled') is False, 10, 'vigild to pause')
        wait_until(lambda: 'Filtering is paused' in self.labels(), 10, 'the status: paused')
        self.ui.click(MAIN, 'Resume Filtering', timeout=10)
        wait_until(lambda: self.prop('Enabled') is True, 10, 'vigild to resume')
        wait_until(lambda: 'Vigil is filtering' in self.labels(), 10, 'the status: filtering')

    def test_desktop_actions_open_their_pages(self):
        self.main()
        for action, page in (('preferences', 'Preferences'), ('monitor', 'Network Monitor'),
                             ('rules', 'Rules')):
            # the running instance opens the page; the new process ends
            second = self.session.run_tray(desktop_argv(action), self.bus.address)
            self.assertEqual(second.returncode, 0, second.stdout)
            wait_until(lambda: self.ui.window(MAIN)['pages'].get(page), 15,
                       'the page %r after the action %r' % (page, action))
        self.assertIsNone(self.session.tray.poll(), 'the first instance keeps running')

    def test_tray_hint_is_said_once(self):
        self.main()
        wait_until(lambda: TRAY_HINT in self.labels(), 20, 'the tray hint')
        self.session.tray.terminate()
        self.session.tray.wait(30)
        # the next login: started as the autostart entry starts it, no hint, no window
        self.start_tray(args=['--background'])
        second = self.session.run_tray(desktop_argv(), self.bus.address)
        self.assertEqual(second.returncode, 0, second.stdout)
        self.main()
        # the check runs 5 s after the start
        with self.assertRaises(guitest.GuiError):
            wait_until(lambda: TRAY_HINT in self.labels(), 10, 'the tray hint')


class ActionStartsTheApp(MainWindowTestCase):
    start_tray_at_once = False

    def test_desktop_action_starts_the_app_at_its_page(self):
        self.start_tray(args=desktop_argv('monitor'))
        wait_until(lambda: self.main()['pages'].get('Network Monitor'), 30,
                   'the Network Monitor page')


if __name__ == '__main__':
    unittest.main(verbosity=2)
