#!/usr/bin/python3
"""vigil-tray in a Wayland session: weston's headless backend, GDK_BACKEND=wayland and no X11
display at all, as on GNOME or KDE Wayland. The tray icon is a StatusNotifierItem (no XEmbed
tray there), the prompt appears for a held connection and its Allow reaches vigild; the main
window's pages work; without a tray host (stock GNOME) the window says how to get one.
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from guitest import wait_until  # noqa: E402
from test_prompt import MAIN, NOBODY, TITLE, TrayTestCase  # noqa: E402
from test_main_window import TRAY_HINT, desktop_argv  # noqa: E402
from test_dbus import PROBE_EXE  # noqa: E402


class WaylandTestCase(TrayTestCase):
    wayland = True

    def assertOnWayland(self):
        # no X11 to fall back to: the tray runs on the compositor or not at all
        env = self.session.session_env()
        self.assertNotIn('DISPLAY', env)
        self.assertEqual(env['GDK_BACKEND'], 'wayland')
        log = self.session.tray_log()
        self.assertNotIn('cannot open display', log)
        # weston's headless backend has no input devices, so no wl_seat: GTK's own code asks
        # for the seat's keyboard and pointer all the same (a desktop always has a seat).
        # Anything else is ours: the GtkStatusIcon fallback complained here
        # (gtk_widget_get_scale_factor) before it was kept to X11
        criticals = [line for line in log.splitlines() if 'CRITICAL' in line
                     and 'GDK_IS_SEAT (seat)' not in line and 'GDK_IS_DEVICE (device)' not in line]
        self.assertEqual(criticals, [])


class Wayland(WaylandTestCase):
    def test_prompt_shows_and_allow_reaches_vigild(self):
        self.assertOnWayland()
        probe = self.probe_async(9000, user=NOBODY)
        win = self.prompt()
        # on Wayland GTK draws the title bar itself (client-side decorations): its title is
        # one more label, before the window's own, and its Close one more button
        self.assertEqual(win['labels'][0], TITLE)
        self.assertIn('Close', win['buttons'])
        self.assertPromptShows(dict(win, labels=win['labels'][1:], buttons={
            k: v for k, v in win['buttons'].items() if k != 'Close'}), 9000)
        self.assertEqual(win['combos']['Duration:']['name'], 'Once')
        self.ui.click(TITLE, 'Allow', timeout=10)
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        self.assertDecision(self.d, verdict='allow', program=PROBE_EXE, port=9000, rule='reply')
        self.ui.wait_gone(TITLE)
        # and Deny, with Details open (the countdown's hold works there too)
        probe = self.probe_async(8080, user=NOBODY)
        self.prompt()
        self.ui.expand(TITLE, 'Details')
        wait_until(lambda: self.ui.window(TITLE)['toggles']['Details']['expanded'], 5,
                   'the details open')
        self.ui.click(TITLE, 'Deny', timeout=10)
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])
        self.assertOnWayland()

    def test_tray_menu_opens_the_main_windows_pages(self):
        for page in ('Rules', 'Network Monitor', 'Preferences'):
            win = self.open_page(page)
            self.assertTrue(win['pages'][page])
        self.assertOnWayland()


class WaylandWithoutTrayHost(WaylandTestCase):
    """GNOME on Wayland without the AppIndicator extension: no StatusNotifierWatcher, and no
    XEmbed tray either."""

    tray_host = False
    start_tray_at_once = False

    def test_the_window_says_how_to_get_a_tray_icon_and_prompts_still_work(self):
        self.session.start_tray(self.bus.address, args=desktop_argv())
        self.ui = self.session.ui('vigil-tray')
        wait_until(lambda: self.prop('Stats')['agents'] == 1, 30, 'the tray to register')
        self.ui.wait_for_window(MAIN, timeout=30)
        wait_until(lambda: TRAY_HINT in self.ui.window(MAIN)['labels'], 20, 'the tray hint')
        probe = self.probe_async(9000, user=NOBODY)
        self.prompt()
        self.ui.click(TITLE, 'Allow', timeout=10)
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        self.assertOnWayland()


if __name__ == '__main__':
    unittest.main(verbosity=2)
