#!/usr/bin/python3
"""vigil-tray's Preferences page against the real vigild: vigild's settings through SetConfig (only
with the permission), and the silent mode that answers every request without asking.
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from guitest import wait_until  # noqa: E402
from test_prompt import (DESTINATION, DURATION, MAIN, NOBODY, SCREENSHOTS, TITLE,  # noqa: E402
                         VIGILCTL, TrayTestCase)
from test_dbus import PROBE_EXE, USER_ACTIONS  # noqa: E402
from vigiltest import PEER_V4  # noqa: E402
from test_vigilctl import Terminal  # noqa: E402
import bus as testbus  # noqa: E402

PREFERENCES = MAIN  # the Preferences page of the main window
WHEN = 'When nobody answers:'
ASK_FOR = 'Ask for (seconds):'
NOT_RUNNING = 'While Vigil is not running:'
SILENT = 'Silent mode: do not ask, answer every request with'
DEFAULT_DURATION = 'An answer lasts, unless chosen otherwise:'
DEFAULT_DESTINATION = 'A rule from an answer applies to:'
DEFAULT_BUTTON = "The prompt's default button:"


class PreferencesTestCase(TrayTestCase):
    def open_preferences(self):
        return self.open_page('Preferences')


class Preferences(PreferencesTestCase):
    def test_settings_are_vigilds_and_apply_changes_them(self):
        win = self.open_preferences()
        self.assertEqual(win['combos'][WHEN]['name'], 'Deny the connection once')
        self.assertEqual(win['spins'][ASK_FOR]['value'], 30)
        self.assertEqual(win['combos'][NOT_RUNNING]['name'], 'Let connections through')
        self.assertFalse(win['buttons']['Apply']['sensitive'], 'nothing changed yet')
        self.ui.select(PREFERENCES, WHEN, 'Allow the connection once')
        self.ui.set_value(PREFERENCES, ASK_FOR, 45)
        self.session.screenshot(os.path.join(SCREENSHOTS, 'preferences.png'),
                                self.ui.wait_for_window(PREFERENCES)['extents'])
        self.ui.click(PREFERENCES, 'Apply')
        wait_until(lambda: self.prop('DefaultAction') == 'allow', 10, 'DefaultAction allow')
        self.assertEqual(self.prop('PromptTimeout'), 45)
        self.assertEqual(self.prop('FailMode'), 'open')
        wait_until(lambda: 'Saved.' in self.ui.window(PREFERENCES)['labels'], 5, 'Saved.')

    def test_silent_mode_answers_without_asking(self):
        self.open_preferences()
        self.ui.check(PREFERENCES, SILENT)
        wait_until(lambda: self.ui.window(PREFERENCES)['checks'][SILENT]['checked'], 5,
                   'silent mode on')
        start = time.monotonic()
        words = self.probe_result(self.probe_async(9000, user=NOBODY))
        self.assertEqual(words[:2], ['error', 'ECONNREFUSED'])
        self.assertLess(time.monotonic() - start, 5, 'answered at once')
        self.assertIsNone(self.ui.window(TITLE), 'no prompt was shown')
        self.assertDecision(self.d, verdict='deny', program=PROBE_EXE, port=9000, rule='reply')
        self.assertFalse([r for r in self.rules_of(NOBODY) if r.get('program') == PROBE_EXE],
                         'once: no rule')
        # and off again: the next connection asks
        self.ui.check(PREFERENCES, SILENT)
        probe = self.probe_async(8080, user=NOBODY)
        self.ui.wait_for_window(TITLE)
        self.ui.select(TITLE, 'Duration:', 'Once')
        self.ui.click(TITLE, 'Allow')
        self.assertEqual(self.probe_result(probe)[0], 'ok')


class DefaultDuration(PreferencesTestCase):
    """One default duration of an answer for the user, chosen in Preferences: the tray's
    prompt starts with it, and vigilctl prompt's Enter takes it too."""

    def rules_to(self, port):
        return [r for r in self.rules_of(NOBODY)
                if r.get('program') == PROBE_EXE and r.get('port') == str(port)]

    def test_once_unless_chosen_then_the_choice_for_tray_and_vigilctl(self):
        # nothing chosen: an answer is for once, no rule (the tray said Forever before)
        probe = self.probe_async(9000, user=NOBODY)
        win = self.ui.wait_for_window(TITLE)
        self.assertEqual(win['combos']['Duration:']['name'], 'Once')
        self.ui.click(TITLE, 'Allow', timeout=10)
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        self.assertFalse(self.rules_to(9000), 'once: no rule')

        win = self.open_preferences()
        self.assertEqual(win['combos'][DEFAULT_DURATION]['name'], 'Once')
        self.ui.select(PREFERENCES, DEFAULT_DURATION, 'Forever')
        probe = self.probe_async(8080, user=NOBODY)
        win = self.ui.wait_for_window(TITLE)
        self.assertEqual(win['combos']['Duration:']['name'], 'Forever')
        self.ui.click(TITLE, 'Allow', timeout=10)
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        self.assertEqual([r['lifetime'] for r in self.rules_to(8080)], ['forever'])

        # the same user's vigilctl prompt: Enter for "how long" is Forever too
        env = dict(self.env, HOME=self.session.home)
        env.pop('XDG_STATE_HOME', None)
        term = Terminal(testbus.as_user_argv(NOBODY) + [VIGILCTL, 'prompt'], env)
        self.addCleanup(term.close)
        term.expect(r'Registered with vigild')
        probe = self.probe_async(443, user=NOBODY)
        term.expect(r'Allow or deny\? ')
        term.type('a')
        term.expect(r'\[f\]orever \(Enter\): ')
        term.type('')
        term.type('')
        term.type('')
        term.expect(r'Answered request \d+: allow forever')
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        self.assertEqual([r['lifetime'] for r in self.rules_to(443)], ['forever'])


class PromptDefaults(PreferencesTestCase):
    """The user's default destination and default button, chosen in Preferences: each new
    prompt starts with them."""

    def default_buttons(self, win):
        return sorted(name for name, b in win['buttons'].items() if b['default'])

    def test_the_prompt_starts_with_the_chosen_destination_and_default_button(self):
        # nothing chosen: only the host asked about, Allow the default button
        probe = self.probe_async(9000, user=NOBODY)
        win = self.ui.wait_for_window(TITLE)
        self.assertEqual(win['combos'][DESTINATION]['name'], 'Only %s' % PEER_V4)
        self.assertEqual(self.default_buttons(win), ['Allow'])
        self.ui.click(TITLE, 'Deny', timeout=10)
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])
        self.ui.wait_gone(TITLE)

        win = self.open_preferences()
        self.assertEqual(win['combos'][DEFAULT_DESTINATION]['name'], 'Only the host asked about')
        self.assertEqual(win['combos'][DEFAULT_BUTTON]['name'], 'Allow')
        self.ui.select(PREFERENCES, DEFAULT_DESTINATION, 'Any host')
        self.ui.select(PREFERENCES, DEFAULT_BUTTON, 'Deny')
        probe = self.probe_async(8080, user=NOBODY)
        win = self.ui.wait_for_window(TITLE)
        self.assertEqual(win['combos'][DESTINATION]['name'], 'Any host')
        self.assertEqual(self.default_buttons(win), ['Deny'])
        # and the preselected destination is the rule's
        self.ui.select(TITLE, DURATION, 'Forever')
        self.ui.click(TITLE, 'Allow', timeout=10)
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        made = [r for r in self.rules_of(NOBODY)
                if r.get('program') == PROBE_EXE and r.get('port') == '8080']
        self.assertEqual([(r['action'], r.get('to', 'any')) for r in made], [('allow', 'any')])

        # the page shows what is stored; a domain asked for where the request has none: only
        # the host
        win = self.open_preferences()
        self.assertEqual(win['combos'][DEFAULT_DESTINATION]['name'], 'Any host')
        self.assertEqual(win['combos'][DEFAULT_BUTTON]['name'], 'Deny')
        self.ui.select(PREFERENCES, DEFAULT_DESTINATION,
                       'Any host in its domain, where there is one')
        probe = self.probe_async(9001, user=NOBODY)
        win = self.ui.wait_for_window(TITLE)
        self.assertEqual(win['combos'][DESTINATION]['name'], 'Only %s' % PEER_V4)
        self.ui.click(TITLE, 'Deny', timeout=10)
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])


class PreferencesWithoutAdmin(PreferencesTestCase):
    polkit_actions = USER_ACTIONS

    def test_settings_are_greyed_out(self):
        win = wait_until(lambda: [w for w in [self.open_preferences()]
                                  if not w['combos'][WHEN]['sensitive']], 10,
                         'the settings to be greyed out')[0]
        self.assertFalse(win['spins'][ASK_FOR]['sensitive'])
        self.assertIn('These settings apply to all users: only an administrator can change '
                      'them.', win['labels'])
        # the silent mode is the user's own
        self.assertTrue(win['checks'][SILENT]['sensitive'])


if __name__ == '__main__':
    unittest.main(verbosity=2)
