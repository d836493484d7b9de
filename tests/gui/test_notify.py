#!/usr/bin/python3
"""vigil-tray's notifications and its Network Monitor, against the real vigild.

Notifications go to python3-dbusmock's notification daemon on the session bus, which records
them and invokes their actions as a user's click would.
"""
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import guitest  # noqa: E402
from guitest import GuiSession, wait_until  # noqa: E402
from test_prompt import NOBODY, SCREENSHOTS, VIGILCTL, TrayTestCase, UNSAFE  # noqa: E402
from test_dbus import DBusTestCase, PROBE_EXE  # noqa: E402
from vigiltest import PEER_V4  # noqa: E402

MONITOR = 'Vigil: Network Monitor'


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
        programs = wait_until(lambda: [w for w in [self.ui.window(MONITOR)]
                                       if w['tables'] and len(w['tables'][0][0]) == 6], 10,
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
        win = self.ui.wait_for_window('Vigil: Rules')
        self.assertTrue(win)


class AgentRegistered(DBusTestCase):
    """Agent.Notify("agent-registered"): another program of the user registered as a prompt
    agent and may answer the prompts first. The tray warns, naming its executable.

    vigild does not send it yet: vigild-standin.py owns org.vigil.Firewall1 on the private
    system bus in its place and relays the call, so that it reaches the tray the way vigild's
    would (the tray takes agent calls only from the owner of org.vigil.Firewall1)."""

    def setUp(self):
        super().setUp()
        self.standin = subprocess.Popen(
            [guitest.PYTHON, os.path.join(HERE, 'vigild-standin.py'), self.bus.address],
            env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(guitest._stop, self.standin)
        self.addCleanup(self.standin.stdout.close)
        self.assertEqual(self.standin.stdout.readline().strip(), 'ready')
        self.session = GuiSession(uid=NOBODY)
        self.session.__enter__()
        self.addCleanup(self.session.stop)
        self.addCleanup(lambda: sys.stderr.write('--- vigil-tray log ---\n'
                                                 + self.session.tray_log()))
        self.session.start_notification_daemon()
        self.session.start_tray(self.bus.address)
        words = self.standin.stdout.readline().split()
        self.assertEqual(words[0], 'agent', words)

    def notify(self, kind, details):
        self.standin.stdin.write(json.dumps([kind, details]) + '\n')
        self.standin.stdin.flush()
        self.assertEqual(self.standin.stdout.readline().strip(), 'notified 1')

    def test_another_agent_is_named_by_its_executable_as_a_warning(self):
        summary = 'Another program can answer your firewall prompts'
        # a path as a program may choose it: a right-to-left override and a newline
        self.notify('agent-registered', {'program': '/tmp/invoice\u202egpj.exe\nPID 1',
                                         'pid': 4242, 'bus-name': ':1.99'})
        note = self.session.wait_for_notification(summary)
        self.assertEqual(note['body'],
                         'Another program registered to answer your firewall prompts: '
                         '/tmp/invoice\\u202egpj.exe\\x0aPID 1 (pid 4242). If you did not '
                         'start it, it can allow connections in your name: stop it, and look '
                         'for how it was started.')
        self.assertFalse([c for c in note['body'] + note['summary'] if c in UNSAFE])
        self.assertEqual(note['icon'], 'dialog-warning')
        # critical: it stays until the user closes it
        self.assertEqual(note['hints'].get('urgency'), 2)

        # a second agent is a second warning; kinds of later versions are ignored
        self.notify('agent-registered', {'program': '/usr/bin/vigilctl', 'pid': 77,
                                         'bus-name': ':1.100'})
        self.notify('a-kind-from-the-future', {'program': '/usr/bin/x'})
        wait_until(lambda: [n for n in self.session.notifications()
                            if '/usr/bin/vigilctl (pid 77)' in n['body']], 15,
                   'the second warning')
        self.assertEqual(len(self.session.notifications()), 2,
                         self.session.notifications())


if __name__ == '__main__':
    unittest.main(verbosity=2)
