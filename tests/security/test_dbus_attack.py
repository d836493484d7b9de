#!/usr/bin/python3
"""Adversarial: what a process of any user sends vigild over D-Bus cannot crash, stall or grow it.

A real vigild in its own network namespace on a private system bus (tests/e2e/test_dbus.py's
harness: Debian's bus policy plus Vigil's, a mock polkitd). The calls come from
attacker.py, run as uid 65534 (nobody) and as root: dictionaries with a key twice or ten
thousand times, wrong types, 1 MiB strings, nested variants, extreme ids, many calls and
many connections. After each attack vigild has the same pid, answers within a second, and
nothing it keeps (rules, config) changed.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
sys.path.insert(0, os.path.join(HERE, '..', 'dbus'))

import bus as testbus  # noqa: E402
from vigiltest import VIGILD, built_with_asan, vmrss_kib  # noqa: E402
from test_dbus import (ALL, CONFIGURE, OWN, READ, REPLY, USER_ACTIONS,  # noqa: E402
                       DBusTestCase, read_file, wait_until)

from gi.repository import GLib  # noqa: E402

PYTHON = '/usr/bin/python3'
ATTACKER = os.path.join(HERE, 'attacker.py')
NOBODY = testbus.NOBODY
ERR = 'org.vigil.Firewall1.Error.'
INVALID = ERR + 'InvalidArgument'
MIB = 1024 * 1024


def v(type_string, value):
    return GLib.Variant(type_string, value)


def vardict(entries):
    """An a{sv} from (key, GLib.Variant) pairs, keeping every pair (a key may repeat)."""
    return GLib.Variant.new_array(
        GLib.VariantType('{sv}'),
        [GLib.Variant.new_dict_entry(GLib.Variant('s', k), GLib.Variant('v', value))
         for k, value in entries])


def args(*children):
    return GLib.Variant.new_tuple(*children)


ASAN = built_with_asan(VIGILD)
# AddressSanitizer checks every access: answers take longer, the bound stays
SLOW = 10.0 if ASAN else 1.0


class AttackTestCase(DBusTestCase):
    """vigild on a private bus; attack() sends calls as root or nobody through attacker.py."""

    config = {}

    def setUp(self):
        super().setUp()
        if ASAN:
            # freed memory must go back, not wait in AddressSanitizer's quarantine (256 MiB),
            # for vigild's size to mean anything
            old = os.environ.get('ASAN_OPTIONS')
            self.set_env('ASAN_OPTIONS', ':'.join(
                filter(None, [old, 'quarantine_size_mb=0', 'thread_local_quarantine_size_kb=0'])))
        self.d = self.start_vigild('deny port 25\n', config=self.config)
        self.pid = self.d.proc.pid
        self.config_before = read_file(self.d.config)

    def attack(self, method, params=None, uid=None, repeat=1, window=8, connections=1,
               interactive=False, timeout=120, hold_s=0, background=False):
        """Sends @method(@params) as @uid (None: root); returns attacker.py's counts (with
        @background, a function that waits for them)."""
        data = tempfile.NamedTemporaryFile(dir=self.bus.tmpdir, delete=False)
        self.addCleanup(os.unlink, data.name)
        type_string = '()'
        if params is not None:
            type_string = params.get_type_string()
            data.write(params.get_data_as_bytes().get_data())
        data.close()
        os.chmod(data.name, 0o644)
        argv = [PYTHON, ATTACKER, method, type_string, data.name, '--repeat', str(repeat),
                '--window', str(window), '--connections', str(connections)]
        if interactive:
            argv.append('--interactive')
        if hold_s:
            argv += ['--hold-s', str(hold_s)]
        if uid is not None:
            argv = testbus.as_user_argv(uid) + argv
        proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)

        def result():
            out, err = proc.communicate(timeout=timeout)
            self.assertEqual(proc.returncode, 0, err)
            return json.loads(out.splitlines()[-1])
        return result if background else result()

    def held_checks(self, n, what):
        """Waits until the mock polkitd holds @n checks, and sees that no more come."""
        wait_until(lambda: self.polkit.hanging_call_count() >= n, 30, what)
        time.sleep(1.0)
        self.assertEqual(self.polkit.hanging_call_count(), n, what)

    def release_checks(self):
        self.polkit.simulate_hang(False)
        self.polkit.simulate_hang_actions([])
        self.polkit.release_hanging_calls()

    def data_file(self, params):
        data = tempfile.NamedTemporaryFile(dir=self.bus.tmpdir, delete=False)
        self.addCleanup(os.unlink, data.name)
        if params is not None:
            data.write(params.get_data_as_bytes().get_data())
        data.close()
        os.chmod(data.name, 0o644)
        return data.name

    def attack_batch(self, calls, uid=None, timeout=600):
        """Each (method, params) of @calls once, in order, on one connection of @uid;
        returns [(answer, message, seconds)]."""
        listing = [[m, p.get_type_string() if p is not None else '()', self.data_file(p)]
                   for m, p in calls]
        list_path = self.data_file(None)
        with open(list_path, 'w') as f:
            json.dump(listing, f)
        argv = [PYTHON, ATTACKER, '--batch', list_path]
        if uid is not None:
            argv = testbus.as_user_argv(uid) + argv
        res = subprocess.run(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, timeout=timeout)
        self.assertEqual(res.returncode, 0, res.stderr)
        return json.loads(res.stdout.splitlines()[-1])['results']

    def assertRefused(self, result, error=INVALID, naming=None):
        self.assertEqual(list(result['answers']), [error], result)
        if naming is not None:
            self.assertIn(naming, result['messages'][error])

    def assertUnharmed(self):
        """Same pid, answers a call within a second, config unchanged."""
        self.assertIsNone(self.d.proc.poll(), 'vigild died:\n' + self.d.log()[-3000:])
        self.assertEqual(self.d.proc.pid, self.pid)
        start = time.monotonic()
        self.assertEqual(self.prop('PromptTimeout'), 30)
        self.call('GetRules')
        self.assertLess(time.monotonic() - start, SLOW, 'vigild must answer within a second')
        self.assertEqual(read_file(self.d.config), self.config_before)


class DuplicateKeys(AttackTestCase):
    """Every dictionary argument: a key twice is InvalidArgument naming the key (issue 14.1)."""

    def test_set_config_with_repeated_keys(self):
        cases = [
            ('PromptTimeout', [('PromptTimeout', v('u', 5))] * 8),
            ('DefaultAction', [('DefaultAction', v('s', 'allow')),
                               ('PromptTimeout', v('u', 5)),
                               ('FailMode', v('s', 'open'))] * 3),
            ('PromptTimeout', [('PromptTimeout', v('u', 7))] * 10000),
            ('DefaultAction', [('DefaultAction', v('s', 'deny'))] * 5),
        ]
        for uid in (NOBODY, None):
            for key, entries in cases:
                with self.subTest(uid=uid, key=key, n=len(entries)):
                    self.assertRefused(self.attack('SetConfig', args(vardict(entries)), uid),
                                       naming=key)
                    self.assertUnharmed()

    def test_every_dictionary_refuses_a_key_twice(self):
        rid = self.call('AddRule', 'a{sv}', [{'action': v('s', 'deny'),
                                              'port': v('s', '81')}])[0]
        before = self.rules()
        cases = [
            ('AddRule', 'action', args(vardict([('action', v('s', 'deny')),
                                                 ('action', v('s', 'allow'))]))),
            ('AddRule', 'note', args(vardict([('action', v('s', 'deny'))]
                                             + [('note', v('s', 'n'))] * 10000))),
            ('UpdateRule', 'port', args(v('t', rid), vardict([('port', v('s', '82')),
                                                              ('port', v('s', '83'))]))),
            ('GetConnections', 'limit', args(vardict([('limit', v('u', 1)),
                                                      ('limit', v('u', 2))]))),
            ('Reply', 'duration', args(v('t', 1), v('s', 'allow'),
                                       vardict([('duration', v('s', 'once')),
                                                ('duration', v('s', 'forever'))]))),
        ]
        for uid in (NOBODY, None):
            for method, key, params in cases:
                with self.subTest(uid=uid, method=method):
                    self.assertRefused(self.attack(method, params, uid), naming=key)
                    self.assertUnharmed()
        self.assertEqual(self.rules(), before)

    def test_an_unknown_key_is_named_exactly_and_briefly(self):
        for uid in (NOBODY, None):
            res = self.attack('SetConfig', args(vardict([('Colour', v('s', 'red'))])), uid)
            self.assertRefused(res, naming="unknown key 'Colour' (")
            res = self.attack('AddRule', args(vardict([('k' * MIB, v('s', 'x'))])), uid)
            self.assertRefused(res, naming="'" + 'k' * 64 + "...'")
            self.assertLess(len(res['messages'][INVALID]), 1024)
        self.assertUnharmed()


def nested(depth, inner):
    """A variant in a variant ... @depth deep around @inner."""
    for _ in range(depth):
        inner = GLib.Variant('v', inner)
    return inner


# answers a hostile call may get: a named Vigil error, the bus library's argument check
NAMED = ('org.vigil.Firewall1.Error.', 'org.freedesktop.DBus.Error.InvalidArgs')
U64_MAX = 2 ** 64 - 1
I64_MIN, I64_MAX = -2 ** 63, 2 ** 63 - 1


def hostile_calls():
    """(method, params) for every method of org.vigil.Firewall1: wrong types, 1 MiB
    strings, nested variants, extreme ids and values. Nothing here switches filtering off."""
    big = 'x' * MIB
    calls = []
    info = testbus.load_interface(testbus.FIREWALL_XML, testbus.INTERFACE)
    for method in info.methods:
        signature = '(%s)' % ''.join(a.signature for a in method.in_args)
        # wrong types: a 1 MiB string where something else is expected, or a number
        wrong = args(v('s', big)) if signature != '(s)' else args(v('u', 1))
        calls.append((method.name, wrong))
        if signature != '()':
            calls.append((method.name, args(v('s', 'a'), v('u', 2), v('as', ['b']))))
    deep = nested(30, v('s', 'deny'))
    for method, dict_params in (('AddRule', lambda d: args(d)),
                                ('UpdateRule', lambda d: args(v('t', U64_MAX), d)),
                                ('GetConnections', lambda d: args(d)),
                                ('SetConfig', lambda d: args(d)),
                                ('Reply', lambda d: args(v('t', 1), v('s', 'allow'), d))):
        for key in ('action', 'note', 'program', 'text', 'PromptTimeout', 'limit',
                    'duration', big):
            calls.append((method, dict_params(vardict([(key, deep)]))))
            calls.append((method, dict_params(vardict([(key, v('s', big))]))))
            calls.append((method, dict_params(vardict([(key, v('ay', b'\xff' * 64))]))))
    for rid in (0, 1, U64_MAX):
        calls += [('UpdateRule', args(v('t', rid), vardict([('port', v('s', '1'))]))),
                  ('RemoveRule', args(v('t', rid))),
                  ('Reply', args(v('t', rid), v('s', 'allow'), vardict([])))]
    calls += [
        ('AddRule', args(vardict([('action', v('s', 'deny')), ('uid', v('u', 2 ** 32 - 1))]))),
        ('AddRule', args(vardict([('action', v('s', 'deny')), ('lifetime', v('s', 'until')),
                                  ('until', v('x', I64_MIN))]))),
        ('AddRule', args(vardict([('action', v('s', 'deny')), ('lifetime', v('s', 'until-quit')),
                                  ('pid', v('u', 2 ** 32 - 1))]))),
        ('AddRule', args(vardict([('text', v('s', 'deny port 65536-0 until 99999-01-01'))]))),
        ('SetConfig', args(vardict([('PromptTimeout', v('u', 2 ** 32 - 1))]))),
        ('GetConnections', args(vardict([('since', v('x', I64_MIN)), ('after', v('t', U64_MAX)),
                                         ('limit', v('u', 2 ** 32 - 1))]))),
        ('Reply', args(v('t', 1), v('s', big), vardict([]))),
        ('Reply', args(v('t', 1), v('s', 'allow'),
                       vardict([('duration', v('s', 'seconds')),
                                ('seconds', v('u', 2 ** 32 - 1))]))),
        ('ImportRules', args(v('s', '#' * (MIB - 1) + '\n'))),
        ('ImportRules', args(v('s', 'deny port 1\n' * 10001))),
        ('RegisterAgent', args(GLib.Variant('o', '/' + '/'.join(['a' * 200] * 200)))),
    ]
    return calls


class EveryMethod(AttackTestCase):
    """Every method with hostile arguments, as nobody and as root (issue 14, tests/security)."""

    polkit_actions = USER_ACTIONS

    def test_hostile_arguments_get_named_errors_at_once(self):
        calls = hostile_calls()
        self.assertGreater(len(calls), 100)
        for uid in (NOBODY, None):
            results = self.attack_batch(calls, uid)
            for (method, params), (answer, message, seconds) in zip(calls, results):
                label = '%s%s as %s' % (method, params.get_type_string(), uid)
                self.assertTrue(answer == 'ok' or answer.startswith(NAMED),
                                '%s: %s %s' % (label, answer, message))
                self.assertLess(seconds, SLOW, '%s was slow' % label)
            self.assertIsNone(self.d.proc.poll(), 'vigild died:\n' + self.d.log()[-3000:])
        self.assertUnharmed()

    def test_thousands_of_refused_calls_leave_vigild_its_size(self):
        # the small ones (Memory sends the large): a hundred rounds stay quick
        refused = [(m, p) for m, p in hostile_calls()
                   if m not in ('ImportRules', 'RegisterAgent') and p.get_size() < 65536][:40]
        self.attack_batch(refused * 5, NOBODY)
        before = vmrss_kib(self.pid)
        self.attack_batch(refused * 100, NOBODY)
        after = vmrss_kib(self.pid)
        print('vigild VmRSS %d -> %d KiB over %d hostile calls' % (before, after,
              100 * len(refused)), file=sys.stderr)
        self.assertLess(after - before, 8 * 1024)
        self.assertUnharmed()


class Memory(AttackTestCase):
    """Refused calls leave nothing behind (issue 14.2)."""

    # vigild may grow this much (KiB) over thousands of refused 512 KiB calls: allocator
    # caches and GLib's per-message buffers, not the messages themselves
    RSS_GROWTH_KIB = 8 * 1024
    CALLS = int(os.environ.get('VIGIL_ATTACK_CALLS', '2000'))

    def test_refused_calls_with_a_large_note_do_not_grow_vigild(self):
        big = [('action', v('s', 'deny')), ('note', v('s', 'x' * (512 * 1024)))]
        params = args(vardict(big))
        # warm up: the allocator's first large blocks, GLib's caches
        self.assertRefused(self.attack('AddRule', params, NOBODY, repeat=50), naming='note')
        before = vmrss_kib(self.pid)
        result = self.attack('AddRule', params, NOBODY, repeat=self.CALLS)
        self.assertRefused(result, naming='note')
        after = vmrss_kib(self.pid)
        print('vigild VmRSS %d -> %d KiB over %d refused calls' % (before, after, self.CALLS),
              file=sys.stderr)
        self.assertLess(after - before, self.RSS_GROWTH_KIB,
                        'vigild grew from %d to %d KiB over %d refused calls'
                        % (before, after, self.CALLS))
        self.assertUnharmed()


class LookupsAfterAuthorisation(AttackTestCase):
    """Nothing is looked up for a caller before polkit said yes, then with the caller's
    rights (issue 14.4): another user's files stay the caller's guess."""

    polkit_actions = [READ, REPLY]

    def setUp(self):
        super().setUp()
        # another user's home, closed to others, with a program in it
        self.home = tempfile.mkdtemp(prefix='vigil-home-')
        self.addCleanup(subprocess.run, ['rm', '-rf', self.home])
        self.secret = os.path.join(self.home, 'secret-tool')
        self.missing = os.path.join(self.home, 'no-such-tool')
        with open(self.secret, 'w') as f:
            f.write('#!/bin/sh\n')
        os.chmod(self.secret, 0o755)
        os.chown(self.secret, 4242, 4242)
        os.chown(self.home, 4242, 4242)
        os.chmod(self.home, 0o700)

    def add_program_rule(self, path, uid=NOBODY):
        return self.attack('AddRule', args(vardict([('action', v('s', 'deny')),
                                                    ('program', v('s', path))])), uid)

    def same_answer(self, error):
        found = self.add_program_rule(self.secret)
        missing = self.add_program_rule(self.missing)
        self.assertEqual(list(found['answers']), [error], found)
        self.assertEqual(list(missing['answers']), [error], missing)
        self.assertEqual(found['messages'][error].replace(self.secret, 'PATH'),
                         missing['messages'][error].replace(self.missing, 'PATH'))

    def test_another_users_file_is_not_told_apart_from_a_missing_one(self):
        before = self.rules()
        # not authorised: refused before anything is looked at
        self.same_answer(ERR + 'PermissionDenied')
        # authorised for its own rules: looked at with its rights, which do not reach in
        self.polkit.set_allowed(USER_ACTIONS)
        self.same_answer(INVALID)
        self.assertEqual(self.rules(), before)
        # a program the caller can see is fine; root sees everything
        self.assertEqual(list(self.add_program_rule('/usr/bin/true')['answers']), ['ok'])
        self.polkit.set_allowed(USER_ACTIONS + [ALL, CONFIGURE])
        self.assertEqual(list(self.add_program_rule(self.secret, uid=None)['answers']), ['ok'])
        res = self.add_program_rule(self.missing, uid=None)
        self.assertIn('does not exist', res['messages'][INVALID])
        self.assertUnharmed()


class Snapshot(AttackTestCase):
    """UpdateRule and RemoveRule act on the rule as it is after authorisation (issue 14.5)."""

    def start_held(self, method, params):
        """@method(@params) as root, its polkit check held; returns its result function."""
        self.polkit.simulate_hang_actions([ALL])
        result = self.attack(method, params, background=True)
        self.held_checks(1, 'the held check')
        self.polkit.simulate_hang_actions([])
        return result

    def test_a_rule_changed_while_polkit_was_asked_is_busy(self):
        rid = self.call('AddRule', 'a{sv}', [{'action': v('s', 'deny'), 'user': v('s', 'all'),
                                              'port': v('s', '81')}])[0]
        for method, params in (('UpdateRule', args(v('t', rid),
                                                   vardict([('port', v('s', '82'))]))),
                               ('RemoveRule', args(v('t', rid)))):
            with self.subTest(method=method):
                note = 'changed meanwhile by %s' % method
                held = self.start_held(method, params)
                self.call('UpdateRule', 'ta{sv}', [rid, {'note': v('s', note)}])
                self.release_checks()
                self.assertRefused(held(), ERR + 'Busy', naming='changed')
                rule = self.rules()[rid]
                self.assertEqual((rule['port'], rule['note']), ('81', note))
        # unchanged meanwhile: the held call goes through
        held = self.start_held('RemoveRule', args(v('t', rid)))
        self.release_checks()
        self.assertEqual(list(held()['answers']), ['ok'])
        self.assertNotIn(rid, self.rules())


class Bounds(AttackTestCase):
    """Calls in progress are bounded per connection and per uid (issues 14.6, 14.8)."""

    def test_sixteen_calls_per_connection(self):
        self.polkit.simulate_hang_actions([READ])
        result = self.attack('GetRules', uid=NOBODY, repeat=20, window=20, background=True)
        self.held_checks(16, 'the calls of one connection')
        self.release_checks()
        res = result()
        self.assertEqual(res['answers'], {'ok': 16, ERR + 'Busy': 4}, res)
        self.assertUnharmed()

    def test_calls_per_uid_over_hundreds_of_connections(self):
        self.polkit.simulate_hang_actions([READ])
        result = self.attack('GetRules', uid=NOBODY, repeat=2, window=2, connections=150,
                             background=True)
        self.held_checks(64, 'the calls of one uid')
        # another user is still answered at once
        start = time.monotonic()
        self.assertEqual(self.prop('PromptTimeout'), 30)
        self.assertLess(time.monotonic() - start, SLOW)
        self.release_checks()
        res = result()
        self.assertEqual(res['answers'], {'ok': 64, ERR + 'Busy': 236}, res)
        self.assertUnharmed()


class InteractiveTimeout(AttackTestCase):
    """An interactive check ends after AuthTimeout with an error, not a hang (issue 14.6)."""

    config = {'AuthTimeout': '2'}

    def test_interactive_check_times_out(self):
        self.polkit.record_cancels()
        self.polkit.simulate_hang(True)
        start = time.monotonic()
        res = self.attack('AddRule', args(vardict([('action', v('s', 'deny')),
                                                   ('user', v('s', 'all'))])),
                          interactive=True)
        took = time.monotonic() - start
        self.assertRefused(res, ERR + 'PermissionDenied', naming='AuthTimeout')
        self.assertGreater(took, 1.5)
        self.assertLess(took, 10)
        self.assertEqual(len(wait_until(self.polkit.cancels, 10, 'CancelCheckAuthorization')),
                         1)
        self.release_checks()
        self.assertUnharmed()


class ImportAfterAuthorisation(AttackTestCase):
    """ImportRules parses its text only once the caller is authorised (issue 14.6)."""

    polkit_actions = [READ, REPLY]

    def test_import_text_is_read_only_for_authorised_callers(self):
        before = self.rules()
        bogus = args(v('s', 'bogus line\n' * 50000))
        self.assertRefused(self.attack('ImportRules', bogus, NOBODY), ERR + 'PermissionDenied')
        too_big = args(v('s', '#' * (MIB + 1)))
        self.assertRefused(self.attack('ImportRules', too_big, NOBODY), ERR + 'LimitExceeded')
        self.polkit.set_allowed(USER_ACTIONS)
        self.assertRefused(self.attack('ImportRules', bogus, NOBODY), naming='line 1')
        # rules for all users need the second check, which polkit refuses
        for_all = args(v('s', 'deny port 1\n'))
        self.assertRefused(self.attack('ImportRules', for_all, NOBODY), ERR + 'PermissionDenied')
        self.assertEqual(self.rules(), before)
        own = args(v('s', 'deny user nobody port 1\n'))
        self.assertEqual(list(self.attack('ImportRules', own, NOBODY)['answers']), ['ok'])
        self.assertUnharmed()


class PolkitErrors(AttackTestCase):
    """Any polkit error denies (issue 14, promises no test held)."""

    ERRORS = ['org.freedesktop.PolicyKit1.Error.Failed',
              'org.freedesktop.PolicyKit1.Error.Cancelled',
              'org.freedesktop.DBus.Error.NoReply',
              'org.freedesktop.DBus.Error.AccessDenied']

    def test_any_polkit_error_denies(self):
        before = self.rules()
        actions = USER_ACTIONS + [ALL, CONFIGURE]
        for name in self.ERRORS:
            with self.subTest(error=name):
                self.polkit.set_errors({a: name for a in actions})
                for uid in (None, NOBODY):
                    for method, params in (
                            ('GetRules', None),
                            ('AddRule', args(vardict([('action', v('s', 'deny')),
                                                      ('user', v('s', 'all'))]))),
                            ('SetConfig', args(vardict([('PromptTimeout', v('u', 5))]))),
                            ('ImportRules', args(v('s', 'deny port 7\n'))),
                            ('SetEnabled', args(v('b', False)))):
                        self.assertRefused(self.attack(method, params, uid),
                                           ERR + 'PermissionDenied')
                perms = self.call('GetPermissions')[0]
                self.assertEqual(set(perms.values()), {'no'}, perms)
        self.polkit.set_errors({})
        self.assertEqual(self.rules(), before)
        self.assertTrue(self.prop('Enabled'))
        self.assertUnharmed()


if __name__ == '__main__':
    unittest.main(verbosity=2)
