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
from test_dbus import DBusTestCase, read_file, rule_lines  # noqa: E402

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


def vmrss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS for pid %d' % pid)


class AttackTestCase(DBusTestCase):
    """vigild on a private bus; attack() sends calls as root or nobody through attacker.py."""

    def setUp(self):
        super().setUp()
        self.d = self.start_vigild('deny port 25\n')
        self.pid = self.d.proc.pid
        self.config_before = read_file(self.d.config)

    def attack(self, method, params=None, uid=None, repeat=1, window=8, connections=1,
               interactive=False, timeout=120, hold_s=0):
        """Sends @method(@params) as @uid (None: root); returns attacker.py's counts."""
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
        res = subprocess.run(argv, env=self.env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=timeout)
        self.assertEqual(res.returncode, 0, res.stderr)
        return json.loads(res.stdout.splitlines()[-1])

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
        self.assertLess(time.monotonic() - start, 1.0, 'vigild must answer within a second')
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


if __name__ == '__main__':
    unittest.main(verbosity=2)
