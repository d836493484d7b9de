#!/usr/bin/python3
"""The real vigil-tray's icon and menu against the real vigild: state, Pause/Resume with and
without permission, and following vigild when it stops and starts again.

The menu is read and clicked over com.canonical.dbusmenu, as a panel would (guitest.py).
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from guitest import wait_until  # noqa: E402
from test_prompt import NOBODY, TITLE, TrayTestCase  # noqa: E402
from test_dbus import USER_ACTIONS  # noqa: E402

ICON = 'org.vigil.Tray-%s-symbolic'


class TrayMenu(TrayTestCase):
    def entry(self, prefix):
        return wait_until(lambda: self.session.menu_entry(self.item, prefix), 10,
                          'menu entry %r' % prefix)

    def icon(self):
        return self.session.item_property(self.item, 'IconName')

    def test_status_line_and_icon_say_filtering(self):
        menu = self.session.menu(self.item)
        self.assertEqual(menu[0]['label'], 'Vigil is filtering')
        self.assertFalse(menu[0]['enabled'])
        self.assertEqual(self.icon(), ICON % 'filtering')
        self.assertEqual(self.session.item_property(self.item, 'Status'), 'Active')

    def test_pause_and_resume_from_the_menu(self):
        s = self.session
        pause = wait_until(lambda: [e for e in [self.entry('Pause Filtering')] if e['enabled']],
                           10, 'Pause Filtering to be enabled')[0]
        s.click_menu(self.item, pause['id'])
        wait_until(lambda: self.prop('Enabled') is False, 10, 'vigild to pause')
        wait_until(lambda: self.icon() == ICON % 'paused', 10, 'the paused icon')
        self.assertEqual(s.menu(self.item)[0]['label'], 'Filtering is paused')
        resume = self.entry('Resume Filtering')
        self.assertTrue(resume['enabled'])
        s.click_menu(self.item, resume['id'])
        wait_until(lambda: self.prop('Enabled') is True, 10, 'vigild to resume')
        wait_until(lambda: self.icon() == ICON % 'filtering', 10, 'the filtering icon')
        self.assertTrue(self.entry('Pause Filtering'))

    def test_follows_vigild_stopping_and_starting_again(self):
        self.d.stop()
        wait_until(lambda: self.icon() == ICON % 'offline', 10, 'the offline icon')
        self.assertEqual(self.session.menu(self.item)[0]['label'], 'Vigil is not running')
        self.assertFalse(self.entry('Pause Filtering')['enabled'])
        # a new vigild: the tray registers again by itself and gets its prompts
        self.start_vigild(config={'PromptTimeout': '30', 'DefaultAction': 'deny'})
        wait_until(lambda: self.prop('Stats')['agents'] == 1, 20, 'the tray to register again')
        wait_until(lambda: self.icon() == ICON % 'filtering', 10, 'the filtering icon')
        probe = self.probe_async(9000, user=NOBODY)
        self.ui.wait_for_window(TITLE)
        self.ui.select(TITLE, 'Duration:', 'Once')
        self.ui.click(TITLE, 'Allow')
        self.assertEqual(self.probe_result(probe)[0], 'ok')


class TrayMenuWithoutAdmin(TrayTestCase):
    # the user may answer prompts and manage their own rules, not configure vigild
    polkit_actions = USER_ACTIONS

    def test_pause_is_insensitive_without_permission(self):
        # the tray asked vigild (GetPermissions), so the item is greyed out from the start
        entry = wait_until(lambda: self.session.menu_entry(self.item, 'Pause Filtering'), 10,
                           'the menu')
        self.assertFalse(entry['enabled'])
        self.assertEqual(self.session.menu(self.item)[0]['label'], 'Vigil is filtering')


if __name__ == '__main__':
    unittest.main(verbosity=2)
