#!/usr/bin/python3
"""vigil-tray's notifications and its Network Monitor, against the real vigild.

Notifications go to python3-dbusmock's notification daemon on the session bus, which records
them and invokes their actions as a user's click would.
"""
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import guitest  # noqa: E402
from guitest import wait_until  # noqa: E402
from test_prompt import MAIN, NOBODY, SCREENSHOTS, VIGILCTL, TrayTestCase, UNSAFE  # noqa: E402
import bus as testbus  # noqa: E402
from test_dbus import PROBE_EXE  # noqa: E402
from vigiltest import PEER_V4  # noqa: E402

MONITOR = MAIN  # the Network Monitor page of the main window


class Notifications(TrayTestCase):
    default_action = 'allow'
    start_tray_at_once = False
    notification_daemon = True

    def test_connections_decided_without_asking_are_reported_and_reviewed(self):
        # no agent yet: DefaultAction allows, once, without asking anybody
        for port in (9000, 8080):
            self.assertEqual(self.probe_result(self.probe_async(port, user=NOBODY))[0], 'ok')
        self.start_tray()
        s = self.session
        note = s.wait_for_notification("2 connections were allowed while Vigil wasn't asking")
        self.assertEqual(note['actions'], {'review': 'Review'})
        s.invoke_action(note['id'], 'review')

        # Review opens the Network Monitor with those connections
        self.wait_page('Network Monitor')
        rows = wait_until(lambda: [w for w in [self.ui.window(MONITOR)]
                                   if w and w['tables'] and len(w['tables'][0]) >= 2], 20,
                          'the monitor with two connections')[0]['tables'][0]
        for port in ('9000', '8080'):
            row = [r for r in rows if PROBE_EXE in r and port in r]
            self.assertTrue(row, rows)
            self.assertIn(PEER_V4, row[0])
            self.assertIn('TCP', row[0])
            self.assertIn('Allowed', row[0])
            self.assertIn('default, nobody was asked', row[0])
        win = self.ui.wait_for_window(MONITOR)
        s.screenshot(os.path.join(SCREENSHOTS, 'monitor.png'), win['extents'])

        # the chattiest programs
        self.ui.tab(MONITOR, 'Programs')
        # (from the history, read every few seconds: wait for both decisions)
        programs = wait_until(lambda: [w for w in [self.ui.window(MONITOR)]
                                       if w['tables'] and len(w['tables'][0][0]) == 8
                                       and [r for r in w['tables'][0]
                                            if r[0] == PROBE_EXE and r[1] == '2']], 20,
                              'the programs table')[0]['tables'][0]
        probe = [r for r in programs if r[0] == PROBE_EXE]
        self.assertTrue(probe, programs)
        self.assertEqual(probe[0][1:5], ['2', '1', '2', '0'])

        # a row's context menu makes a rule: this program may not go there any more
        self.ui.tab(MONITOR, 'Connections')
        s.right_click(self.ui.cell_extents(MONITOR, '9000'))
        self.ui.menu_item('Deny This Program to This Destination')
        rule = wait_until(lambda: [r for r in self.rules_of(NOBODY)
                                   if r.get('program') == PROBE_EXE], 10, 'the rule')[0]
        self.assertEqual((rule['action'], rule['to'], rule['port'], rule['proto'], rule['uid']),
                         ('deny', PEER_V4, '9000', 'tcp', NOBODY))
        words = self.probe_result(self.probe_async(9000, user=NOBODY))
        self.assertEqual(words[:2], ['error', 'ECONNREFUSED'])

        # vigild stopping is news too
        self.d.stop()
        wait_until(lambda: s.item_property(self.item, 'IconName')
                   == 'org.vigil.Tray-offline-symbolic', 10, 'the offline icon')
        stopped = s.wait_for_notification('Vigil has stopped')
        self.assertEqual(stopped['body'], 'Connections are not filtered until it runs again.')

    def test_reported_once(self):
        self.assertEqual(self.probe_result(self.probe_async(9000, user=NOBODY))[0], 'ok')
        self.start_tray()
        self.session.wait_for_notification(
            "1 connection was allowed while Vigil wasn't asking")
        # the tray starts again (a new login): nothing new to report
        self.session.tray.terminate()
        self.session.tray.wait(10)
        wait_until(lambda: self.prop('Stats')['agents'] == 0, 10, 'the tray to go')
        self.start_tray()
        wait_until(lambda: self.session.menu_entry(self.item, 'Vigil is filtering'), 10,
                   'the menu')
        # the tray asked vigild and found nothing new (else the count below could be read
        # before the tray even asked)
        wait_until(lambda: 'since the last report: 0 allowed, 0 denied' in
                   self.session.tray_log(), 60, 'the tray to ask vigild')
        self.assertEqual(len([n for n in self.session.notifications()
                              if 'wasn\'t asking' in n['summary']]), 1)



class BlockedNotification(TrayTestCase):
    notification_daemon = True

    def test_blocked_by_a_rule_is_told_and_open_rules_opens_them(self):
        out = subprocess.run(['setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY,
                              '--clear-groups', '--', VIGILCTL, 'rules', 'add', '--mine',
                              'deny app %s port 9000 proto tcp' % PROBE_EXE],
                             env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        words = self.probe_result(self.probe_async(9000, user=NOBODY))
        self.assertEqual(words[:2], ['error', 'ECONNREFUSED'])
        s = self.session
        note = s.wait_for_notification('vigil-probe was blocked')
        self.assertIn('%s, port 9000: Denied, rule ' % PEER_V4, note['body'])
        self.assertEqual(note['actions'], {'review': 'Review', 'rules': 'Open Rules'})
        s.invoke_action(note['id'], 'rules')
        self.wait_page('Rules')


AGENT_WARNING = 'Another program can answer your firewall prompts'
AGENT_BODY = ('Another program registered to answer your firewall prompts: %s (pid %d). If you '
              'did not start it, it can allow connections in your name: stop it, and look for '
              'how it was started.')


class SecondAgent(TrayTestCase):
    """Another prompt agent of the tray's user registers with vigild (here `vigilctl prompt`,
    copied under a name a program may choose: a right-to-left override and a newline): it
    gets the user's prompts too and could answer them first. vigild tells the tray, which
    warns, naming the executable vigild read for it, escaped."""

    notification_daemon = True

    def test_a_second_agent_is_named_by_its_executable_as_a_warning(self):
        exe = os.path.join(os.path.realpath(self.session.tmpdir),
                           'invoice\u202egpj.exe\nPID 1')
        shutil.copy(os.path.realpath(VIGILCTL), exe)
        os.chmod(exe, 0o755)
        second = subprocess.Popen(testbus.as_user_argv(NOBODY) + [exe, 'prompt'],
                                  env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        self.addCleanup(second.stdout.close)
        self.addCleanup(second.stdin.close)
        self.addCleanup(guitest._stop, second)
        wait_until(lambda: self.prop('Stats')['agents'] == 2, 20, 'the second agent')
        note = self.session.wait_for_notification(AGENT_WARNING)
        shown = exe.replace('\u202e', '\\u202e').replace('\n', '\\x0a')
        self.assertEqual(note['body'], AGENT_BODY % (shown, second.pid))
        self.assertFalse([c for c in note['body'] + note['summary'] if c in UNSAFE])
        self.assertEqual(note['icon'], 'dialog-warning')
        # critical: it stays until the user closes it
        self.assertEqual(note['hints'].get('urgency'), 2)
        # one warning, to the tray only: the new agent is not told about the old one
        self.assertEqual(len([n for n in self.session.notifications()
                              if n['summary'] == AGENT_WARNING]), 1)

if __name__ == '__main__':
    unittest.main(verbosity=2)
