#!/usr/bin/python3
"""Adversarial: what vigild looks up for a D-Bus caller tells it nothing and costs it nothing.

A real vigild on a private system bus (test_dbus_attack.py's harness), calls from uid 65534:
- a rule's program path is walked as the caller would walk it, and a path through /proc
  (directly, by a symbolic link, /dev/fd, ".." or vigild's own /proc/self) is refused with
  one named error, whatever it names: procfs's magic links would follow with vigild's
  ptrace rights and tell the caller about another user's (or root's) process;
- a rule's `user NAME` is looked up in the user database only after polkit authorised the
  call, and off the main loop: vigild runs with tests/security/nss-probe.c preloaded, which
  records every getpwnam_r() and can hold one as a hung LDAP server would.
"""
import os
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
sys.path.insert(0, os.path.join(HERE, '..', 'dbus'))

import bus as testbus  # noqa: E402
import vigiltest  # noqa: E402
from test_dbus import ALL, CONFIGURE, READ, REPLY, USER_ACTIONS, wait_until  # noqa: E402
from test_dbus_attack import (ASAN, ERR, INVALID, NOBODY, SLOW, AttackTestCase,  # noqa: E402
                              args, v, vardict)

NSS_PROBE = os.environ.get('VIGIL_NSS_PROBE', '')
DENIED = ERR + 'PermissionDenied'
VICTIM = 4242
# vigild's bound on one call's user lookups (USER_LOOKUP_TIMEOUT_S)
USER_LOOKUP_TIMEOUT_S = 10


class LookupTestCase(AttackTestCase):
    """vigild with the NSS probe preloaded (into vigild alone, not the bus or the clients)."""

    def setUp(self):
        self.assertTrue(os.path.exists(NSS_PROBE), 'VIGIL_NSS_PROBE is not built: %r'
                        % NSS_PROBE)
        self.work = tempfile.mkdtemp(prefix='vigil-lookups-')
        self.addCleanup(subprocess.run, ['rm', '-rf', self.work])
        os.chmod(self.work, 0o755)
        self.nss_log = os.path.join(self.work, 'getpwnam.log')
        self.hold_file = os.path.join(self.work, 'hold')
        super().setUp()
        # before vigild stops (cleanups run last first): a held lookup lets go
        self.addCleanup(self.release_lookup)

    def start_vigild(self, rules='', config=None, learned=''):
        probe_env = ['LD_PRELOAD=' + NSS_PROBE, 'VIGIL_NSS_PROBE_LOG=' + self.nss_log,
                     'VIGIL_NSS_PROBE_HOLD=' + self.hold_file]
        if ASAN:
            probe_env.append('ASAN_OPTIONS=' + ':'.join(
                filter(None, [os.environ.get('ASAN_OPTIONS'), 'verify_asan_link_order=0'])))
        argv = vigiltest.Vigild.argv

        def preloaded(d):
            return ['env'] + probe_env + argv(d)
        with mock.patch.object(vigiltest.Vigild, 'argv', preloaded):
            return super().start_vigild(rules, config, learned)

    def looked_up(self):
        """The user names vigild asked the user database for, in order."""
        try:
            with open(self.nss_log) as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    def hold_lookup(self):
        open(self.hold_file, 'w').close()

    def release_lookup(self):
        if os.path.exists(self.hold_file):
            os.unlink(self.hold_file)

    def add_rule(self, entries, uid=NOBODY):
        return self.attack('AddRule', args(vardict(entries)), uid)

    def answer(self, result):
        self.assertEqual(sum(result['answers'].values()), 1, result)
        name = next(iter(result['answers']))
        return name, result['messages'].get(name, '')


class ProcPaths(LookupTestCase):
    """A program path through /proc is refused, the same whether its target exists or not
    (review of issue 14.4: procfs magic links are oracles for other users' processes)."""

    polkit_actions = USER_ACTIONS

    def setUp(self):
        super().setUp()
        # another user's process, in a directory anyone may search, with a file in it
        self.cwd = os.path.join(self.work, 'victim-cwd')
        os.mkdir(self.cwd, 0o755)
        with open(os.path.join(self.cwd, 'marker'), 'w') as f:
            f.write('#!/bin/sh\n')
        os.chmod(os.path.join(self.cwd, 'marker'), 0o755)
        victim = subprocess.Popen(testbus.as_user_argv(VICTIM) + ['sleep', '600'], cwd=self.cwd)
        self.addCleanup(victim.wait)
        self.addCleanup(victim.kill)
        self.victim = victim.pid
        wait_until(lambda: self.proc_uid(self.victim) == VICTIM, 10, 'the victim process')
        # the caller itself cannot read where the victim is
        res = subprocess.run(testbus.as_user_argv(NOBODY) + ['readlink',
                                                             '/proc/%d/cwd' % self.victim],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.assertNotEqual(res.returncode, 0, res.stdout)

    @staticmethod
    def proc_uid(pid):
        try:
            with open('/proc/%d/status' % pid) as f:
                for line in f:
                    if line.startswith('Uid:'):
                        return int(line.split()[1])
        except FileNotFoundError:
            return None
        return None

    def link(self, name, target):
        path = os.path.join(self.work, name)
        os.symlink(target, path)
        return path

    def assertSameRefusal(self, found, missing, uid=NOBODY):
        """AddRule for @found (exists) and @missing (does not): the same named error."""
        answers = []
        for path in (found, missing):
            name, message = self.answer(self.add_rule([('action', v('s', 'deny')),
                                                       ('program', v('s', path))], uid))
            answers.append((name, message.replace(path, 'PATH')))
        self.assertEqual(answers[0], answers[1], (found, missing))
        self.assertEqual(answers[0][0], INVALID, answers)
        self.assertIn('goes through /proc', answers[0][1])

    def test_paths_through_proc_are_refused_alike(self):
        before = self.rules()
        victim = '/proc/%d' % self.victim
        pairs = [
            # another user's process: its cwd is readable only with ptrace rights
            (victim + '/cwd/marker', victim + '/cwd/no-marker'),
            (victim + '/root' + self.cwd + '/marker', victim + '/root/no/such/file'),
            # root's init
            ('/proc/1/cwd/bin/sh', '/proc/1/cwd/no/such/file'),
            ('/proc/1/exe', '/proc/1/no-such-link'),
            # vigild's own process
            ('/proc/self/exe', '/proc/self/no-such-link'),
            ('/proc/thread-self/cwd/bin/sh', '/proc/thread-self/cwd/no/such'),
            # a link of the caller's into /proc, /dev/fd, and ".." back into /proc
            (self.link('to-marker', victim + '/cwd/marker'),
             self.link('to-nothing', victim + '/cwd/no-marker')),
            ('/dev/fd/0', '/dev/fd/999'),
            (self.link('up-to-marker', '../..' + victim + '/cwd/marker'),
             self.link('up-to-nothing', '../..' + victim + '/cwd/no-marker')),
        ]
        for found, missing in pairs:
            with self.subTest(path=found):
                self.assertSameRefusal(found, missing)
        # root's rules cannot name a program through /proc either
        self.polkit.set_allowed(USER_ACTIONS + [ALL, CONFIGURE])
        self.assertSameRefusal('/proc/self/exe', '/proc/self/no-such-link', uid=None)
        self.assertEqual(self.rules(), before)
        # what does not go through /proc is looked at as before
        name, _ = self.answer(self.add_rule([('action', v('s', 'deny')),
                                             ('program', v('s', self.cwd + '/marker'))]))
        self.assertEqual(name, 'ok')
        self.assertUnharmed()


class UserNames(LookupTestCase):
    """`user NAME` is looked up only for an authorised caller, and off the main loop
    (review of issue 14.4: an unauthorised caller made vigild ask LDAP for free)."""

    polkit_actions = [READ, REPLY]

    def test_unauthorised_calls_look_up_no_name(self):
        self.polkit.set_allowed(USER_ACTIONS + [ALL, CONFIGURE])
        rid = self.call('AddRule', 'a{sv}', [{'action': v('s', 'deny'), 'user': v('s', 'all'),
                                              'port': v('s', '81')}])[0]
        self.polkit.set_allowed([READ, REPLY])
        before = self.rules()
        calls = [
            ('AddRule', args(vardict([('action', v('s', 'deny')),
                                      ('user', v('s', 'vigil-probe-a'))]))),
            ('AddRule', args(vardict([('text', v('s', 'deny user vigil-probe-b port 1'))]))),
            ('UpdateRule', args(v('t', rid), vardict([('user', v('s', 'vigil-probe-c'))]))),
            ('ImportRules', args(v('s', 'deny user vigil-probe-d port 1\n'))),
        ]
        for method, params in calls:
            with self.subTest(method=method):
                self.assertRefused(self.attack(method, params, NOBODY), DENIED)
        # authorised for its own rules: now the name is looked up (the probe sees it)
        self.polkit.set_allowed(USER_ACTIONS)
        res = self.add_rule([('action', v('s', 'deny')), ('user', v('s', 'vigil-probe-e'))])
        self.assertRefused(res, naming="unknown user 'vigil-probe-e'")
        self.assertEqual([n for n in self.looked_up() if n.startswith('vigil-probe-')],
                         ['vigil-probe-e'])
        self.assertEqual(self.rules(), before)
        # the name decides which check follows: another user's rule needs manage-all-rules
        for entries, expected in (([('user', v('s', 'root'))], DENIED),
                                  ([('text', v('s', 'deny user root port 2'))], DENIED),
                                  ([('user', v('s', 'nobody')), ('port', v('s', '3'))], 'ok')):
            if entries[0][0] != 'text':
                entries = [('action', v('s', 'deny'))] + entries
            self.assertEqual(self.answer(self.add_rule(entries))[0], expected, entries)
        self.assertRefused(self.attack('ImportRules', args(v('s', 'deny user root port 4\n')),
                                       NOBODY), DENIED)
        self.assertEqual(list(self.attack('ImportRules',
                                          args(v('s', 'deny user nobody port 5\n')),
                                          NOBODY)['answers']), ['ok'])
        mine = [r for r in self.rules().values() if r.get('uid') == NOBODY]
        self.assertEqual(sorted(r['port'] for r in mine), ['3', '5'])
        self.assertUnharmed()

    def test_a_hung_user_database_stalls_nothing(self):
        self.polkit.set_allowed(USER_ACTIONS)
        self.hold_lookup()
        held = self.attack('AddRule', args(vardict([('action', v('s', 'deny')),
                                                    ('user', v('s', 'vigil-slow-1'))])),
                           NOBODY, background=True)
        wait_until(lambda: 'vigil-slow-1' in self.looked_up(), 30, 'the held lookup')
        # vigild answers everyone meanwhile
        start = time.monotonic()
        self.assertEqual(self.prop('PromptTimeout'), 30)
        self.call('GetRules')
        self.assertLess(time.monotonic() - start, SLOW, 'vigild must answer within a second')
        self.release_lookup()
        self.assertRefused(held(), naming="unknown user 'vigil-slow-1'")
        # a lookup that never ends fails the call after USER_LOOKUP_TIMEOUT_S, nothing else
        self.hold_lookup()
        start = time.monotonic()
        res = self.attack('ImportRules', args(v('s', 'deny user vigil-slow-2 port 1\n')),
                          NOBODY)
        took = time.monotonic() - start
        self.assertRefused(res, ERR + 'Failed', naming='did not answer')
        self.assertGreater(took, USER_LOOKUP_TIMEOUT_S - 1)
        self.assertLess(took, USER_LOOKUP_TIMEOUT_S + (30 if ASAN else 10))
        self.release_lookup()
        self.assertUnharmed()


if __name__ == '__main__':
    unittest.main(verbosity=2)
