#!/usr/bin/python3
"""vigil-tray's Rules window against the real vigild: opened from the tray menu, it lists the
user's rules and the system's grouped by program, marks what needs an administrator, and
removes a rule.
"""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from guitest import wait_until  # noqa: E402
from test_prompt import NOBODY, SCREENSHOTS, VIGILCTL, TrayTestCase  # noqa: E402
from test_dbus import PROBE_EXE  # noqa: E402

RULES = 'Vigil: Rules'
SYSTEM_RULE = 'deny app /usr/bin/curl port 443'
TITLE = 2  # the cells of a row: on, icon, program or rule, action, destination, ...


class RulesWindow(TrayTestCase):
    def start_vigild(self, rules='', config=None, learned=''):
        return super().start_vigild(rules=SYSTEM_RULE + '\n', config=config, learned=learned)

    def vigilctl(self, *args):
        out = subprocess.run(['setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY,
                              '--clear-groups', '--', VIGILCTL] + list(args), env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def open_rules(self):
        entry = wait_until(lambda: self.session.menu_entry(self.item, 'Rules'), 10, 'Rules…')
        self.assertTrue(entry['enabled'])
        self.session.click_menu(self.item, entry['id'])
        return self.ui.wait_for_window(RULES)

    def rows(self):
        win = self.ui.window(RULES)
        return win['tables'][0] if win and win['tables'] else []

    def test_lists_rules_by_program_and_removes_one(self):
        self.vigilctl('rules', 'add', '--mine', 'deny app %s port 9000 proto tcp' % PROBE_EXE)
        mine = [r for r in self.rules_of(NOBODY) if r.get('program') == PROBE_EXE]
        self.assertEqual(len(mine), 1)
        text = mine[0]['text']
        self.open_rules()
        rows = wait_until(lambda: [r for r in [self.rows()] if any(text in x for x in r)], 10,
                          'the rule in the list')[0]
        titles = [r[TITLE] for r in rows]
        # a program row, then its rules
        self.assertIn(PROBE_EXE, titles)
        self.assertLess(titles.index(PROBE_EXE), titles.index(text))
        self.assertIn(SYSTEM_RULE, titles)
        self.assertIn('/usr/bin/curl', [t.split(' — ')[-1] for t in titles])
        own = rows[titles.index(text)]
        self.assertIn('Denied', own)
        self.assertIn('9000', own)
        self.assertIn('nobody', own)

        # a system rule cannot be changed here
        self.ui.select_row(RULES, SYSTEM_RULE)
        wait_until(lambda: not self.ui.window(RULES)['buttons']['Remove']['sensitive'] and
                   not self.ui.window(RULES)['buttons']['Edit…']['sensitive'], 5,
                   'Remove to stay insensitive for a system rule')
        self.ui.select_row(RULES, text)
        wait_until(lambda: self.ui.window(RULES)['buttons']['Remove']['sensitive'], 5,
                   'Remove to become sensitive')
        self.session.screenshot(os.path.join(SCREENSHOTS, 'rules.png'),
                                self.ui.wait_for_window(RULES)['extents'])
        self.ui.click(RULES, 'Remove')
        wait_until(lambda: not [r for r in self.rules_of(NOBODY)
                                if r.get('program') == PROBE_EXE], 10, 'the rule to go')
        wait_until(lambda: not [r for r in self.rows() if text in r], 10,
                   'the rule to leave the list')
        self.assertIn(SYSTEM_RULE, [r[TITLE] for r in self.rows()])

    def test_search(self):
        self.vigilctl('rules', 'add', '--mine', 'allow app %s port 8080 proto tcp' % PROBE_EXE)
        self.open_rules()
        wait_until(lambda: len(self.rows()) >= 4, 10, 'two programs with a rule each')
        self.ui.call(cmd='type', title=RULES, text='curl')
        rows = wait_until(lambda: [r for r in [self.rows()] if len(r) == 2], 10,
                          'only curl and its rule')[0]
        self.assertEqual(rows[1][TITLE], SYSTEM_RULE)


if __name__ == '__main__':
    unittest.main(verbosity=2)
