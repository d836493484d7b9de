#!/usr/bin/python3
"""End-to-end: vigilctl against a real vigild on a private system bus.

Each test has a real vigild in its own network namespace, a dbus-daemon with the machine's
system bus policy plus Vigil's, and python3-dbusmock's polkitd (the setup of test_dbus.py).
vigilctl runs as a user would run it, as root or as uid 65534; `vigilctl prompt` runs under
a pseudo-terminal and is answered by typing, while a program in the namespace waits for the
answer.
"""
import csv
import io
import json
import os
import pty
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'dbus'))

import bus as testbus  # noqa: E402
from vigiltest import BUILD, PEER_V4, PEER_V6, write_connect_scripts  # noqa: E402
from test_dbus import (DBusTestCase, PROBE_EXE, PYTHON, PYTHON_EXE, USER_ACTIONS,  # noqa: E402
                       NOBODY, CONNECT)

VIGILCTL = os.environ.get('VIGILCTL', os.path.join(BUILD, 'vigilctl/vigilctl'))


EXIT_FAILED, EXIT_USAGE, EXIT_PERMISSION, EXIT_NOT_RUNNING = 1, 2, 3, 4


class Terminal:
    """vigilctl prompt on a pseudo-terminal: what it shows is read as a person would see it,
    answers are typed."""

    def __init__(self, argv, env):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, env=env, stdin=slave, stdout=slave, stderr=slave,
                                     close_fds=True, start_new_session=True)
        os.close(slave)
        self.screen = ''
        self.pos = 0  # what expect() has consumed

    def _read(self, timeout):
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.master, 4096)
        except OSError:  # EIO: the program exited and closed the terminal
            return False
        self.screen += data.decode('utf-8', 'replace').replace('\r\n', '\n')
        return bool(data)

    def expect(self, pattern, timeout=15):
        """Waits until @pattern appears after what earlier calls consumed; returns the
        text up to and including it."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.screen, self.pos)
            if m:
                text = self.screen[self.pos:m.end()]
                self.pos = m.end()
                return text
            left = deadline - time.monotonic()
            if left <= 0 or (not self._read(min(left, 0.5)) and self.proc.poll() is not None):
                raise AssertionError('%r did not appear; the terminal shows:\n%s'
                                     % (pattern, self.screen))

    def type(self, line):
        os.write(self.master, (line + '\n').encode())

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.close(self.master)


class VigilctlTestCase(DBusTestCase):
    def setUp(self):
        super().setUp()
        self.assertTrue(os.access(VIGILCTL, os.X_OK), '%s is not built' % VIGILCTL)

    def ctl(self, *args, uid=None, input=None, timeout=60):
        argv = [VIGILCTL] + list(args)
        if uid is not None:
            argv = testbus.as_user_argv(uid) + argv
        return subprocess.run(argv, env=self.env, input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout)

    def ok(self, *args, **kw):
        res = self.ctl(*args, **kw)
        self.assertEqual(res.returncode, 0, 'vigilctl %s: %s' % (' '.join(args), res.stderr))
        return res.stdout

    def fails(self, code, *args, **kw):
        res = self.ctl(*args, **kw)
        self.assertEqual(res.returncode, code,
                         'vigilctl %s: %s%s' % (' '.join(args), res.stdout, res.stderr))
        self.assertTrue(res.stderr.startswith('vigilctl: '), res.stderr)
        return res.stderr

    def json(self, *args, **kw):
        return json.loads(self.ok('--json', *args, **kw))

    def rule_ids(self, **kw):
        return [r['id'] for r in self.json('rules', 'list', **kw)]

    def added_id(self, out):
        m = re.match(r'Added rule (\d+)\.$', out.strip())
        self.assertTrue(m, out)
        return int(m.group(1))

    def terminal(self, *args, uid=None):
        argv = [VIGILCTL] + list(args)
        if uid is not None:
            argv = testbus.as_user_argv(uid) + argv
        term = Terminal(argv, self.env)
        self.addCleanup(term.close)
        return term


class Status(VigilctlTestCase):
    def test_status_text_and_json(self):
        self.start_vigild(config={'DefaultAction': 'deny', 'PromptTimeout': '17'})
        out = self.ok('status')
        self.assertIn('Version:         %s\n' % self.prop('Version'), out)
        self.assertIn('Enabled:         yes\n', out)
        self.assertIn('Default action:  deny\n', out)
        self.assertIn('Prompt timeout:  17 s\n', out)
        self.assertIn('Fail mode:       open\n', out)
        self.assertRegex(out, r'Backend:         (nftables|iptables)\n')
        self.assertRegex(out, r'\n  queued: +\d+\n')
        status = self.json('status')
        self.assertEqual(status['default-action'], 'deny')
        self.assertEqual(status['prompt-timeout'], 17)
        self.assertIs(status['enabled'], True)
        self.assertEqual(status['backend'], self.prop('Backend'))
        self.assertIn('queued', status['stats'])
        # --json also after the command
        self.assertEqual(json.loads(self.ok('status', '--json'))['fail-mode'], 'open')
        # the counters move with real traffic
        before = status['stats']['accepted']
        self.ok('rules', 'add', 'allow app %s port 9000' % PROBE_EXE)
        self.assertEqual(self.probe('tcp', PEER_V4, 9000)[0], 'ok')
        # vigild refreshes Stats once a second
        deadline = time.monotonic() + 5
        while self.json('status')['stats']['accepted'] <= before:
            self.assertLess(time.monotonic(), deadline, 'accepted did not grow')
            time.sleep(0.2)

    def test_not_running_exit_code(self):
        err = self.fails(EXIT_NOT_RUNNING, 'status')
        self.assertIn('vigild is not running (start it with: sudo systemctl start vigild)', err)
        self.fails(EXIT_NOT_RUNNING, 'rules', 'list')

    def test_config_enable_disable(self):
        self.start_vigild(config={'DefaultAction': 'deny'})
        self.ok('config', 'default-action=allow', 'prompt-timeout=45')
        self.assertEqual(self.json('config'),
                         {'default-action': 'allow', 'prompt-timeout': 45, 'fail-mode': 'open'})
        self.assertEqual(self.prop('DefaultAction'), 'allow')
        self.ok('disable')
        self.assertIs(self.prop('Enabled'), False)
        self.assertIn('Enabled:         no\n', self.ok('status'))
        self.ok('enable')
        self.assertIs(self.prop('Enabled'), True)

    def test_config_needs_admin(self):
        self.polkit.set_allowed(USER_ACTIONS)
        self.start_vigild()
        err = self.fails(EXIT_PERMISSION, 'config', 'fail-mode=closed', uid=NOBODY)
        self.assertIn("changing vigild's settings needs an administrator", err)
        self.fails(EXIT_PERMISSION, 'disable', uid=NOBODY)
        self.assertEqual(self.prop('FailMode'), 'open')
        self.assertIs(self.prop('Enabled'), True)


class Rules(VigilctlTestCase):
    def test_add_list_edit_disable_enable_remove(self):
        self.start_vigild(config={'DefaultAction': 'allow'})
        rule = self.added_id(self.ok('rules', 'add', 'deny app %s port 9000' % PROBE_EXE))
        self.assertEqual(self.probe('tcp', PEER_V4, 9000)[:2], ['error', 'ECONNREFUSED'])
        listed = self.ok('rules', 'list')
        row = [l for l in listed.splitlines() if l.split()[0] == str(rule)]
        self.assertEqual(len(row), 1, listed)
        self.assertIn('learned', row[0])
        self.assertTrue(row[0].endswith('deny app %s port 9000' % PROBE_EXE), row[0])
        [entry] = [r for r in self.json('rules', 'list') if r['id'] == rule]
        self.assertEqual((entry['action'], entry['program'], entry['port']),
                         ('deny', PROBE_EXE, '9000'))
        self.assertGreaterEqual(entry['hits'], 1)

        # several words are one rule too
        self.ok('rules', 'edit', str(rule), 'allow', 'app', PROBE_EXE, 'port', '9000')
        [entry] = [r for r in self.json('rules', 'list') if r['id'] == rule]
        self.assertEqual(entry['action'], 'allow')
        self.assertEqual(self.probe('tcp', PEER_V4, 9000)[0], 'ok')

        # a disabled rule stays but does not match: the default (allow) decides
        self.ok('rules', 'edit', str(rule), 'deny app %s port 9000' % PROBE_EXE)
        self.assertIn('Disabled rule %d.' % rule, self.ok('rules', 'disable', str(rule)))
        [entry] = [r for r in self.json('rules', 'list') if r['id'] == rule]
        self.assertIs(entry['enabled'], False)
        self.assertIn('disabled', entry['text'])
        self.assertEqual(self.probe('tcp', PEER_V4, 9000)[0], 'ok')
        self.ok('rules', 'enable', str(rule))
        self.assertEqual(self.probe('tcp', PEER_V4, 9000)[:2], ['error', 'ECONNREFUSED'])

        self.assertIn('Removed rule %d.' % rule, self.ok('rules', 'remove', str(rule)))
        self.assertNotIn(rule, self.rule_ids())
        self.assertEqual(self.probe('tcp', PEER_V4, 9000)[0], 'ok')
        err = self.fails(EXIT_FAILED, 'rules', 'rm', str(rule))
        self.assertIn("vigilctl rules list", err)

    def test_bad_rules_are_refused_with_a_reason(self):
        self.start_vigild()
        before = self.rule_ids()
        err = self.fails(EXIT_FAILED, 'rules', 'add', 'deny app %s port 70000' % PROBE_EXE)
        self.assertIn('70000', err)
        err = self.fails(EXIT_FAILED, 'rules', 'add', 'deny prot tcp')
        self.assertIn('prot', err)
        err = self.fails(EXIT_USAGE, 'rules', 'add', 'deny app "/usr/bin/curl')
        self.assertIn('closing quote', err)
        self.fails(EXIT_USAGE, 'rules', 'add')
        self.fails(EXIT_USAGE, 'rules', 'remove', 'seven')
        err = self.fails(EXIT_FAILED, 'rules', 'edit', '424242', 'deny port 1')
        self.assertIn('424242', err)
        self.assertEqual(self.rule_ids(), before)

    def test_export_and_import(self):
        self.start_vigild()
        a = self.added_id(self.ok('rules', 'add', 'deny app %s port 9000' % PROBE_EXE))
        b = self.added_id(self.ok('rules', 'add', 'allow to 10.201.0.0/24 port 80 proto tcp'))
        exported = self.ok('rules', 'export')
        self.assertIn('deny app %s port 9000\n' % PROBE_EXE, exported)
        self.assertIn('allow to 10.201.0.0/24 port 80 proto tcp\n', exported)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'mine.rules')
            self.assertIn('Exported 2 rules to %s.' % path, self.ok('rules', 'export', path))
            with open(path) as f:
                # the same rules; the first line, a comment, carries the time
                self.assertEqual(f.read().splitlines()[1:], exported.splitlines()[1:])
            self.ok('rules', 'remove', str(a), str(b))
            self.assertEqual(self.ok('rules', 'import', path),
                             'Imported 2 rules: 2 new, 0 already there.\n')
            texts = [r['text'] for r in self.json('rules', 'list')]
            self.assertIn('deny app %s port 9000' % PROBE_EXE, texts)
            # importing the same again adds nothing
            self.assertEqual(self.ok('rules', 'import', path),
                             'Imported 2 rules: 0 new, 2 already there.\n')
            # all or none: a bad line names its number and nothing is added
            bad = os.path.join(tmp, 'bad.rules')
            with open(bad, 'w') as f:
                f.write('# two rules\ndeny to 192.0.2.1\ndeny to 10.0.0.1/24\n')
            before = self.rule_ids()
            err = self.fails(EXIT_FAILED, 'rules', 'import', bad)
            self.assertIn('%s: line 3' % bad, err)
            self.assertEqual(self.rule_ids(), before)
            err = self.fails(EXIT_FAILED, 'rules', 'import', os.path.join(tmp, 'missing'))
            self.assertIn('cannot import', err)
        # from the standard input
        out = self.ok('rules', 'import', '-', input='drop to 192.0.2.9 proto udp\n')
        self.assertEqual(out, 'Imported 1 rule: 1 new, 0 already there.\n')
        self.assertIn('drop to 192.0.2.9 proto udp', [r['text'] for r in self.json('rules', 'list')])

    def test_unprivileged_user_needs_admin_for_all_users_rule(self):
        # nobody may manage its own rules, not everyone's
        self.polkit.set_allowed(USER_ACTIONS)
        self.start_vigild()
        before = self.rule_ids()
        err = self.fails(EXIT_PERMISSION, 'rules', 'add', 'deny app %s port 9000' % PROBE_EXE,
                         uid=NOBODY)
        self.assertIn('permission denied: adding a rule for all users needs an administrator '
                      '(run with sudo or answer the authentication prompt', err)
        self.assertEqual(self.rule_ids(), before)
        # --mine makes the same rule for the caller's own programs only
        rule = self.added_id(self.ok('rules', 'add', '--mine',
                                     'deny app %s port 9000' % PROBE_EXE, uid=NOBODY))
        [entry] = [r for r in self.json('rules', 'list', uid=NOBODY) if r['id'] == rule]
        self.assertEqual(entry['uid'], NOBODY)
        self.assertEqual(self.probe('tcp', PEER_V4, 9000, user=NOBODY)[:2],
                         ['error', 'ECONNREFUSED'])
        # edit keeps it the user's own: no admin needed
        self.ok('rules', 'edit', str(rule), 'allow app %s port 9000' % PROBE_EXE, uid=NOBODY)
        [entry] = [r for r in self.json('rules', 'list', uid=NOBODY) if r['id'] == rule]
        self.assertEqual((entry['action'], entry['uid']), ('allow', NOBODY))
        # and root's rules are not nobody's to see or change
        root_rule = self.added_id(self.ok('rules', 'add', 'deny user 0 to 192.0.2.1'))
        self.assertNotIn(root_rule, self.rule_ids(uid=NOBODY))
        self.fails(EXIT_FAILED, 'rules', 'remove', str(root_rule), uid=NOBODY)


class History(VigilctlTestCase):
    def curl(self, port):
        return self.nets.client_run(['curl', '-s', '-o', '/dev/null', '--max-time', '5',
                                     'http://%s:%d/' % (PEER_V4, port)])

    def test_log_with_filters(self):
        self.start_vigild(rules='deny app %s port 443\n' % PROBE_EXE,
                          config={'DefaultAction': 'allow'})
        start = time.time()
        self.assertEqual(self.probe('tcp', PEER_V4, 80)[0], 'ok')
        self.assertEqual(self.probe('tcp', PEER_V4, 443)[:2], ['error', 'ECONNREFUSED'])
        self.curl(8080)
        curl = os.path.realpath(subprocess.run(['which', 'curl'], stdout=subprocess.PIPE,
                                               text=True).stdout.strip())
        self.assertDecision(self.d, program=curl, port=8080)

        everything = self.json('log')
        ports = {(e['program'], e.get('port'), e['verdict']) for e in everything}
        self.assertLessEqual({(PROBE_EXE, 80, 'allow'), (PROBE_EXE, 443, 'deny'),
                              (curl, 8080, 'allow')}, ports)
        self.assertEqual([e['id'] for e in everything], sorted(e['id'] for e in everything))

        by_name = self.json('log', '--program', 'vigil-probe')
        self.assertEqual({e['program'] for e in by_name}, {PROBE_EXE})
        by_path = self.json('log', '--program', curl)
        self.assertEqual({e['program'] for e in by_path}, {curl})
        denied = self.json('log', '--verdict', 'deny')
        self.assertEqual([(e['program'], e['port'], e['reason']) for e in denied],
                         [(PROBE_EXE, 443, 'rule')])
        self.assertEqual(len(self.json('log', '--limit', '1')), 1)
        self.assertEqual(self.json('log', '--limit', '1')[0]['id'], everything[-1]['id'])
        self.assertEqual(len(self.json('log', '--since', '10m')), len(everything))
        later = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(start + 3600))
        self.assertEqual(self.json('log', '--since', later), [])
        self.assertEqual(self.ok('log', '--since', later), 'No decisions.\n')

        table = self.ok('log', '--verdict', 'deny')
        self.assertRegex(table, r'deny +%s +\d+ +root \(0\) +%s +443 \(https\) +tcp +rule \d+'
                         % (re.escape(PROBE_EXE), re.escape(PEER_V4)))
        self.fails(EXIT_USAGE, 'log', '--verdict', 'maybe')

    def test_log_shows_only_the_callers_connections(self):
        self.start_vigild(config={'DefaultAction': 'allow'})
        self.assertEqual(self.probe('tcp', PEER_V4, 80)[0], 'ok')
        self.assertEqual(self.probe('tcp', PEER_V4, 8080, user=NOBODY)[0], 'ok')
        self.assertDecision(self.d, port=8080)
        mine = self.json('log', uid=NOBODY)
        self.assertEqual({e['uid'] for e in mine}, {NOBODY})
        self.assertEqual({e['port'] for e in mine}, {8080})
        self.assertEqual({e['uid'] for e in self.json('log')}, {0, NOBODY})
        err = self.fails(EXIT_PERMISSION, 'log', '--uid', '0', uid=NOBODY)
        self.assertIn("only root may read other users' connections", err)

    def test_top_ranks_the_chattier_program_first(self):
        self.start_vigild(config={'DefaultAction': 'allow'})
        self.assertEqual(self.probe('tcp', PEER_V4, 80)[0], 'ok')
        client = self.connect_async(9000, 6)
        out, _ = client.communicate(timeout=30)
        self.assertEqual(json.loads(out.splitlines()[0])['ok'], 6)
        self.assertDecision(self.d, program=PYTHON_EXE, port=9000)
        top = self.json('top')
        self.assertEqual(top[0]['program'], PYTHON_EXE)
        self.assertGreaterEqual(top[0]['connections'], 6)
        self.assertIn(PROBE_EXE, [t['program'] for t in top[1:]])
        lines = self.ok('top').splitlines()
        self.assertTrue(lines[0].startswith('CONNECTIONS'), lines)
        self.assertTrue(lines[1].endswith(PYTHON_EXE), lines)
        # two destinations beat one when ranking by destinations
        self.assertEqual(self.probe('tcp', PEER_V6, 80)[0], 'ok')
        by_dest = self.json('top', '--sort', 'destinations')
        self.assertEqual(by_dest[0]['program'], PROBE_EXE)
        self.assertEqual(by_dest[0]['destinations'], 2)
        self.assertEqual(len(self.json('top', '--limit', '1')), 1)

    def test_monitor_shows_live_decisions(self):
        self.start_vigild(config={'DefaultAction': 'allow'})
        self.assertEqual(self.probe('tcp', PEER_V4, 80)[0], 'ok')  # old: not shown
        self.assertDecision(self.d, port=80)
        mon = subprocess.Popen([VIGILCTL, '--json', 'monitor'], env=self.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: mon.poll() is None and mon.kill())
        self.assertIn('Watching', mon.stderr.readline())
        self.assertEqual(self.probe('tcp', PEER_V4, 9000)[0], 'ok')
        ready, _, _ = select.select([mon.stdout], [], [], 10)
        self.assertTrue(ready, 'monitor showed nothing')
        event = json.loads(mon.stdout.readline())
        self.assertEqual((event['program'], event['port'], event['verdict']),
                         (PROBE_EXE, 9000, 'allow'))
        mon.send_signal(signal.SIGINT)
        self.assertEqual(mon.wait(10), 0)
        mon.stdout.close()
        mon.stderr.close()

    def test_monitor_text_line(self):
        self.start_vigild(config={'DefaultAction': 'allow'})
        mon = subprocess.Popen([VIGILCTL, 'monitor', '--verdict', 'deny'], env=self.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: mon.poll() is None and mon.kill())
        mon.stderr.readline()
        self.ok('rules', 'add', 'deny app %s port 443' % PROBE_EXE)
        self.assertEqual(self.probe('tcp', PEER_V4, 80)[0], 'ok')  # allowed: filtered out
        self.assertEqual(self.probe('tcp', PEER_V4, 443)[:2], ['error', 'ECONNREFUSED'])
        ready, _, _ = select.select([mon.stdout], [], [], 10)
        self.assertTrue(ready, 'monitor showed nothing')
        self.assertRegex(mon.stdout.readline(),
                         r'^\d\d:\d\d:\d\d deny  %s\[\d+\] root \(0\) -> %s 443 \(https\) tcp: '
                         r'rule \d+\n$'
                         % (re.escape(PROBE_EXE), re.escape(PEER_V4)))
        mon.send_signal(signal.SIGINT)
        self.assertEqual(mon.wait(10), 0)
        mon.stdout.close()
        mon.stderr.close()


class HistoryOnDisk(VigilctlTestCase):
    """The history (SQLite, beside the learned rules): days of decisions, across restarts."""

    def restart(self, d):
        self.assertEqual(d.stop(), 0, d.log()[-3000:])
        started = d.log().count('on the system bus as org.vigil.Firewall1')
        d.start(wait=False)
        d.wait_for_log('on the system bus as org.vigil.Firewall1', timeout=15, count=started + 1)

    def ports(self, *args, **kw):
        return sorted(e['port'] for e in self.json('log', *args, **kw))

    def test_history_survives_a_restart_and_shows_each_user_their_own(self):
        d = self.start_vigild(config={'DefaultAction': 'allow'})
        self.assertEqual(self.probe('tcp', PEER_V4, 80)[0], 'ok')
        self.assertEqual(self.probe('tcp', PEER_V4, 8080, user=NOBODY)[0], 'ok')
        self.assertDecision(d, port=8080)
        path = os.path.join(d.dir, 'history.db')
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        # --until has whole seconds: the next one after the first decisions, and the second
        # vigild's decisions after it
        until = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(int(time.time()) + 1))
        time.sleep(2.1)

        self.restart(d)
        self.assertEqual(self.probe('tcp', PEER_V4, 9000)[0], 'ok')
        self.assertDecision(d, port=9000)
        # the ring forgot the first vigild's decisions; the history did not
        self.assertEqual(self.ports(), [9000])
        self.assertEqual(self.ports('--since', '1h'), [80, 8080, 9000])
        self.assertEqual(self.ports('--since', '1h', '--until', until), [80, 8080])
        first = self.json('log', '--since', '1h')[0]
        self.assertEqual((first['program'], first['verdict'], first['uid']), (PROBE_EXE, 'allow', 0))
        # another user's history is never returned
        self.assertEqual(self.ports('--since', '1h', uid=NOBODY), [8080])
        err = self.fails(EXIT_PERMISSION, 'log', '--since', '1h', '--uid', '0', uid=NOBODY)
        self.assertIn("only root may read other users' connections", err)
        table = self.ok('log', '--since', '1h', '--verdict', 'allow', '--program', 'vigil-probe')
        self.assertEqual(len(table.strip().splitlines()), 4, table)  # a header and three rows

    # a peer that answers one HTTP request with SIZE bytes
    SERVE = ("import socket, sys\n"
             "s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
             "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
             "s.bind(('0.0.0.0', int(sys.argv[1])))\n"
             "s.listen(1)\n"
             "print('ready', flush=True)\n"
             "c, _ = s.accept()\n"
             "c.recv(4096)\n"
             "size = int(sys.argv[2])\n"
             "c.sendall(b'HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n' % size)\n"
             "c.sendall(b'v' * size)\n"
             "c.close()\n")

    def test_bytes_of_a_download_are_counted_to_the_program(self):
        size, port = 1 << 20, 8099
        self.serve(port, size)
        d = self.start_vigild(config={'DefaultAction': 'allow'})
        d.wait_for_log('conntrack accounting')
        self.fetch(port, size)
        rows = self.counted_rows(port, each=lambda rows: self.assertEqual(len(rows), 1, rows))
        row = rows[0]
        self.assertIn('bytes-in', row, 'no counters after 90 s:\n' + d.log()[-3000:])
        # the payload plus the TCP/IP headers of ~730 segments: within 5 %
        self.assertGreaterEqual(row['bytes-in'], size)
        self.assertLess(row['bytes-in'], size * 1.05)
        self.assertGreater(row['bytes-out'], 0)
        self.assertLess(row['bytes-out'], 100 * 1024)
        self.assertGreater(row['packets-in'], 0)  # segments, as the NIC offloads them
        # root's download is not nobody's
        self.assertEqual(self.json('log', '--since', '1h', uid=NOBODY), [])
        # the row has conntrack's id of the flow, from the queue: counters go by it
        with sqlite3.connect('file:%s?mode=ro' % os.path.join(d.dir, 'history.db'),
                             uri=True) as db:
            ids = db.execute('SELECT ct_id FROM connections WHERE port = ?', (port,)).fetchall()
        self.assertEqual(len(ids), 1, ids)
        self.assertIsNotNone(ids[0][0], 'no conntrack id with the queued packet')

    def serve(self, port, size):
        """A web server on the peer that sends @size bytes once, on @port."""
        server = self.nets.spawn(self.nets.peer, ['/usr/bin/python3', '-c', self.SERVE, str(port),
                                                  str(size)], stdout=subprocess.PIPE, text=True)
        self.assertEqual(server.stdout.readline().strip(), 'ready')

    def fetch(self, port, size):
        """curl (as root) fetches @size bytes from the peer's @port."""
        res = self.nets.client_run(['curl', '-s', '-o', '/dev/null', '-w', '%{size_download}',
                                    '--max-time', '20', 'http://%s:%d/' % (PEER_V4, port)],
                                   timeout=40)
        self.assertEqual(res.stdout, str(size), res.stderr)

    def counted_rows(self, port, each=None):
        """curl's rows of @port in the log once the first has its bytes counted, or after 90 s
        (conntrack tells the counters at the flow's end, and vigild reads long flows every
        30 s: a TCP connection's entry lives on after the close, in TIME_WAIT); @each checks
        the rows each time they are read."""
        deadline = time.monotonic() + 90
        while True:
            rows = [e for e in self.json('log', '--since', '1h', '--program', 'curl')
                    if e['port'] == port]
            if each is not None:
                each(rows)
            if (rows and 'bytes-in' in rows[0]) or time.monotonic() > deadline:
                return rows
            time.sleep(1)

    def download(self, port, size):
        """curl fetches @size bytes from the peer; returns once vigild counted them."""
        self.serve(port, size)
        self.fetch(port, size)
        rows = self.counted_rows(port)
        self.assertTrue(rows and 'bytes-in' in rows[0], 'no counters after 90 s')

    def test_top_and_export_over_a_time_range(self):
        size = 1 << 20
        d = self.start_vigild(config={'DefaultAction': 'allow'})
        d.wait_for_log('conntrack accounting')
        # a program whose path has a comma, quotes and a line break: one CSV field
        odd_dir = tempfile.mkdtemp(prefix='vigil-export-')
        self.addCleanup(shutil.rmtree, odd_dir)
        odd = os.path.join(odd_dir, 'a,b "q"\nx', 'vigil-probe')
        os.mkdir(os.path.dirname(odd))
        shutil.copyfile(PROBE_EXE, odd)
        os.chmod(odd, 0o755)
        for port in (80, 443, 9000):
            self.assertEqual(self.probe('tcp', PEER_V4, port)[0], 'ok')
        res = self.nets.client_run([odd, 'tcp', PEER_V4, '8080', '--timeout', '20000'])
        self.assertEqual(res.stdout.split()[0], 'ok', res.stderr)
        self.assertEqual(self.probe('tcp', PEER_V4, 8080, user=NOBODY)[0], 'ok')
        self.download(8097, size)

        # which program is the chattiest: by bytes curl, by connections the probe
        by_bytes = self.json('top', '--since', '1h', '--sort', 'bytes')
        self.assertEqual(os.path.basename(by_bytes[0]['program']), 'curl', by_bytes)
        self.assertGreaterEqual(by_bytes[0]['bytes-in'], size)
        self.assertLess(by_bytes[0]['bytes-in'], size * 1.05)
        by_conns = self.json('top', '--since', '1h', '--sort', 'connections')
        self.assertEqual((by_conns[0]['program'], by_conns[0]['connections']), (PROBE_EXE, 4))
        table = self.ok('top', '--since', '1h', '--sort', 'bytes').splitlines()
        self.assertIn('BYTES IN', table[0])
        self.assertIn('1.0 MiB', table[1])
        self.assertTrue(table[1].endswith('curl'), table)
        # the live counters (no range) have no bytes, and nothing before vigild started
        self.assertNotIn('BYTES IN', self.ok('top'))
        self.assertEqual(self.json('top', '--since', '2h', '--until', '1h'), [])
        err = self.fails(EXIT_FAILED, 'top', '--since', '1h', '--until', '2h')
        self.assertIn('until: before since', err)
        # the log table shows the download's bytes (in / out)
        log = self.ok('log', '--since', '1h', '--program', 'curl')
        self.assertIn('BYTES IN / OUT', log)
        self.assertRegex(log, r'1\.0 MiB / \d')
        # another user sees only their own
        self.assertEqual([(e['program'], e['connections'])
                          for e in self.json('top', '--since', '1h', uid=NOBODY)],
                         [(PROBE_EXE, 1)])
        err = self.fails(EXIT_PERMISSION, 'top', '--since', '1h', '--uid', '0', uid=NOBODY)
        self.assertIn("only root may read other users' connections", err)

        # export: every decision of the range, oldest first, the same as log's
        logged = self.json('log', '--since', '1h')
        out = self.ok('export', '--since', '1h')
        self.assertTrue(out.startswith('id,time,uid,user,pid,program,'), out[:200])
        rows = list(csv.DictReader(io.StringIO(out, newline='')))
        self.assertEqual([int(r['id']) for r in rows], [e['id'] for e in logged])
        odd_rows = [r for r in rows if r['program'] == odd]
        self.assertEqual(len(odd_rows), 1, [r['program'] for r in rows])
        self.assertEqual((odd_rows[0]['port'], odd_rows[0]['uid']), ('8080', '0'))
        curl = [r for r in rows if r['program'].endswith('/curl')]
        self.assertGreaterEqual(int(curl[0]['bytes-in']), size)
        as_json = json.loads(self.ok('export', '--format', 'json'))
        self.assertEqual([e['id'] for e in as_json], [e['id'] for e in logged])
        self.assertIn(odd, [e['program'] for e in as_json])
        mine = list(csv.DictReader(io.StringIO(self.ok('export', uid=NOBODY), newline='')))
        self.assertEqual([(r['uid'], r['port']) for r in mine], [(str(NOBODY), '8080')])

    def test_export_reads_the_history_in_pages(self):
        d = self.start_vigild('allow app %s\n' % PYTHON_EXE, config={'DefaultAction': 'deny'})
        # 1,200 decisions: more than one page of 1,000
        for _ in range(2):
            res = self.nets.client_run([PYTHON, CONNECT, PEER_V4, '9000', '600', '60'],
                                       timeout=120)
            self.assertEqual(res.returncode, 0, res.stderr)
        deadline = time.monotonic() + 60
        while len(self.json('log', '--since', '1h', '--program', PYTHON_EXE)) < 1200:
            self.assertLess(time.monotonic(), deadline, d.log()[-2000:])
            time.sleep(1)
        rows = list(csv.DictReader(io.StringIO(self.ok('export'), newline='')))
        ids = [int(r['id']) for r in rows]
        self.assertEqual(len(ids), 1200)
        self.assertEqual(ids, sorted(set(ids)))
        self.assertEqual(len(json.loads(self.ok('export', '--format', 'json'))), 1200)

    def test_a_corrupt_history_is_reported_and_left_alone(self):
        d = self.vigild(config={'DefaultAction': 'deny', 'PromptTimeout': '30'}, start=False)
        path = os.path.join(d.dir, 'history.db')
        garbage = b'this is not a database ' * 200
        with open(path, 'wb') as f:
            f.write(garbage)
        d.start(wait=False)
        d.wait_for_log('on the system bus as org.vigil.Firewall1', timeout=15)
        self.addCleanup(self._check_clean_exit, d)
        self.d = d
        d.wait_for_log('is off: ')
        self.assertRegex(d.log(), r'history .*history\.db is off: .*not a database')
        # filtering goes on
        d.write_rules('allow app %s port 80\n' % PROBE_EXE)
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for_log('rules reloaded')
        self.assertEqual(self.probe('tcp', PEER_V4, 80)[0], 'ok')
        self.assertEqual(self.probe('tcp', PEER_V4, 81)[:2], ['error', 'ECONNREFUSED'])
        self.assertEqual(self.ports(), [80, 81])
        err = self.fails(EXIT_FAILED, 'log', '--since', '1h')
        self.assertIn('the history is off', err)
        with open(path, 'rb') as f:
            self.assertEqual(f.read(), garbage)


class Captures(VigilctlTestCase):
    """vigilctl captures: the packet captures of capture rules, root's alone."""

    def test_list_and_remove_need_admin(self):
        curl = os.path.realpath('/usr/bin/curl')
        d = self.start_vigild(rules='allow app %s port 80 capture\n' % curl)
        res = self.nets.client_run([curl, '-s', '--max-time', '5', 'http://%s:80/' % PEER_V4])
        self.assertIn('hello from the peer', res.stdout)
        deadline = time.monotonic() + 15
        while True:
            captures = self.json('captures')
            if captures and captures[0]['size'] > 200:
                break
            self.assertLess(time.monotonic(), deadline, 'no capture listed: %r' % captures)
            time.sleep(0.2)
        self.assertEqual(len(captures), 1, captures)
        capture = captures[0]
        self.assertIn(curl, capture['description'])
        self.assertIn('tcp %s:' % '10.201.0.1', capture['description'])
        path = os.path.join(d.dir, 'captures', 'capture-%06d.pcapng' % capture['id'])
        self.assertEqual(os.path.getsize(path), capture['size'])
        self.assertIn('%d' % capture['id'], self.ok('captures'))

        # another user may neither see nor remove them
        self.polkit.set_allowed(USER_ACTIONS)
        err = self.fails(EXIT_PERMISSION, 'captures', uid=NOBODY)
        self.assertIn('need an administrator', err)
        self.fails(EXIT_PERMISSION, 'captures', 'rm', str(capture['id']), uid=NOBODY)
        self.assertTrue(os.path.exists(path))

        self.polkit.set_allowed(self.polkit_actions)
        self.assertEqual(self.ok('captures', 'rm', str(capture['id'])).strip(),
                         'Removed capture %d.' % capture['id'])
        self.assertFalse(os.path.exists(path))
        self.assertEqual(self.json('captures'), [])
        self.fails(EXIT_FAILED, 'captures', 'rm', str(capture['id']))
        self.fails(EXIT_USAGE, 'captures', 'delete-everything')


class Prompt(VigilctlTestCase):
    def test_pending_shows_a_held_request(self):
        self.start_vigild()
        agent = self.agent()
        probe = self.probe_async(9000)
        request = agent.wait_event('prompt')['request']
        pending = self.json('pending')
        self.assertEqual([(p['request'], p['program'], p['destination'], p['port'])
                          for p in pending], [(request, PROBE_EXE, PEER_V4, 9000)])
        self.assertGreater(pending[0]['timeout'], 0)
        table = self.ok('pending')
        self.assertRegex(table, r'\n +%d +%s +\d+ +root \(0\) +%s +9000 +tcp +1 +\d+ s\n'
                         % (request, re.escape(PROBE_EXE), re.escape(PEER_V4)))
        # another user sees none of it
        self.assertEqual(self.json('pending', uid=NOBODY), [])
        self.assertTrue(agent.reply(request, 'allow')['ok'])
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        self.assertEqual(self.ok('pending'), 'No connections are waiting for an answer.\n')

    def test_prompt_allow_forever_through_a_terminal(self):
        self.start_vigild()
        term = self.terminal('prompt')
        term.expect(r'Registered with vigild as the prompt agent for root')
        probe = self.probe_async(9000)
        shown = term.expect(r'Allow or deny\? \[a\]llow, \[d\]eny, d\[r\]op, \[i\]nfo: ')
        self.assertIn('vigil-probe wants to connect to %s, port 9000, tcp.' % PEER_V4, shown)
        self.assertIn('Program:    %s\n' % PROBE_EXE, shown)
        self.assertRegex(shown, r'Process:    pid \d+, user root \(0\)\n')
        self.assertRegex(shown, r'Time left:  \d+ s\n')
        # the program really waits for the answer
        time.sleep(0.5)
        self.assertIsNone(probe.poll())
        term.type('a')
        term.expect(r'For how long\? .*\[f\]orever: ')
        term.type('f')
        term.expect(r'Which destinations\? \[h\] %s \(Enter\), \[a\]ny host: ' % re.escape(PEER_V4))
        term.type('h')
        term.expect(r'Which ports\? \[p\] 9000/tcp \(Enter\), \[a\]ny tcp port: ')
        term.type('p')
        term.expect(r'Answered request \d+: allow forever, to %s, port 9000/tcp\.'
                    % re.escape(PEER_V4))
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        made = [r for r in self.json('rules', 'list') if r.get('program') == PROBE_EXE]
        self.assertEqual([(r['action'], r['to'], r['port'], r['lifetime']) for r in made],
                         [('allow', PEER_V4, '9000', 'forever')])
        self.assertIn('allow user 0 app %s' % PROBE_EXE, self.ok('rules', 'list'))
        # the rule decides the next one: no new prompt
        self.assertEqual(self.probe('tcp', PEER_V4, 9000)[0], 'ok')
        term.expect(r'Waiting for connections')
        self.assertNotIn('Allow or deny', term.screen[term.pos:])

    def test_prompt_says_the_hash_is_still_being_computed(self):
        """A big program's first connection is asked about before its SHA-256 is made (too
        much of the file left to read for the connection to wait): the prompt says the hash
        is still being computed; the rule made from the answer has no sha256 at first and
        pins the hash once it is made."""
        big_dir = tempfile.mkdtemp(prefix='vigil-big-')
        self.addCleanup(shutil.rmtree, big_dir, ignore_errors=True)
        big = os.path.join(big_dir, 'big-probe')
        shutil.copyfile(PROBE_EXE, big)
        os.chmod(big, 0o755)
        with open(big, 'r+b') as f:
            f.truncate(700 * 1024 * 1024)  # sparse; beyond the 512 MiB a connection waits for
        self.start_vigild()
        term = self.terminal('prompt')
        term.expect(r'Registered with vigild')
        probe = self.nets.spawn(self.nets.client, [big, 'tcp', PEER_V4, '9000', '--timeout',
                                                   '20000'], stdout=subprocess.PIPE, text=True)
        shown = term.expect(r'Allow or deny\? \[a\]llow, \[d\]eny, d\[r\]op, \[i\]nfo: ')
        self.assertIn('Program:    %s\n' % big, shown)
        self.assertIn('SHA-256:    still being computed (a big file): a rule made now gets it '
                      'once it is made\n', shown)
        term.type('a')
        term.expect(r'For how long\? .*\[f\]orever: ')
        term.type('f')
        term.expect(r'Which destinations\? ')
        term.type('h')
        term.expect(r'Which ports\? ')
        term.type('p')
        term.expect(r'Answered request \d+: allow forever')
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        made = [r for r in self.json('rules', 'list') if r.get('program') == big]
        self.assertEqual(len(made), 1, made)
        self.assertNotIn('sha256', made[0])
        # the hash goes on; once made, the rule pins it, as one made with the hash known would
        sha256 = subprocess.run(['sha256sum', big], check=True, stdout=subprocess.PIPE,
                                text=True).stdout.split()[0]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            rule = [r for r in self.json('rules', 'list') if r['id'] == made[0]['id']]
            if rule and rule[0].get('sha256'):
                break
            time.sleep(0.5)
        self.assertEqual(rule[0].get('sha256'), sha256, self.d.log()[-3000:])
        self.assertEqual(rule[0]['action'], 'allow')
        # and decides the program's next connection: no prompt
        again = self.nets.spawn(self.nets.client, [big, 'tcp', PEER_V4, '9000', '--timeout',
                                                   '20000'], stdout=subprocess.PIPE, text=True)
        self.assertEqual(self.probe_result(again)[0], 'ok')
        self.assertNotIn('Allow or deny', term.screen[term.pos:])

    def test_prompt_deny_once_makes_no_rule(self):
        self.start_vigild()
        term = self.terminal('prompt')
        term.expect(r'Registered with vigild')
        probe = self.probe_async(9000)
        term.expect(r'Allow or deny\? ')
        term.type('x')
        term.expect(r"'x' is not one of the choices\.\nAllow or deny\? ")
        term.type('d o')  # two answers on one line
        term.expect(r'Answered request \d+: deny once\.')
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])
        self.assertFalse([r for r in self.json('rules', 'list')
                          if r.get('program') == PROBE_EXE])

    def test_prompts_queue_and_time_out(self):
        self.start_vigild(config={'PromptTimeout': '4', 'DefaultAction': 'deny'})
        term = self.terminal('prompt')
        term.expect(r'Registered with vigild')
        first = self.probe_async(9000)
        term.expect(r'Allow or deny\? ')
        second = self.probe_async(8080)
        # the second waits behind the first and is announced when it comes up
        term.type('a')
        term.type('')  # Enter: once
        term.expect(r'Answered request \d+: allow once\.')
        shown = term.expect(r'Allow or deny\? ')
        self.assertIn('port 8080', shown)
        self.assertEqual(self.probe_result(first)[0], 'ok')
        # nobody answers: vigild times out, the terminal says so and the default applies
        term.expect(r'Request \d+ timed out: vigild applied its default action once\.',
                    timeout=15)
        self.assertEqual(self.probe_result(second)[:2], ['error', 'ECONNREFUSED'])

    def test_prompt_allows_one_script_of_an_interpreter(self):
        """For an interpreter running a script, vigilctl prompt asks whether the rule is for
        anything it runs or only this script (Reply option program-scope=script), as the
        tray's Script choice does."""
        folder = tempfile.mkdtemp(prefix='vigil-scripts-')
        self.addCleanup(shutil.rmtree, folder, ignore_errors=True)
        os.chmod(folder, 0o755)
        sync, other = write_connect_scripts(folder, 'sync.py', 'other.py')
        python = os.path.basename(PYTHON_EXE)

        def run(script):
            return self.nets.spawn(self.nets.client, ['/usr/bin/python3', script, PEER_V4,
                                                      '9000'], stdout=subprocess.PIPE, text=True)

        self.start_vigild()
        term = self.terminal('prompt')
        term.expect(r'Registered with vigild')
        probe = run(sync)
        term.expect(r'Allow or deny\? ')
        term.type('a f')
        term.expect(r'Which program\? \[a\]nything %s runs \(Enter\), \[s\] only %s: '
                    % (re.escape(python), re.escape(sync)))
        term.type('s h p')
        term.expect(r'Answered request \d+: allow forever, only the script %s, to %s, port '
                    r'9000/tcp\.' % (re.escape(sync), re.escape(PEER_V4)))
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        [rule] = [r for r in self.json('rules', 'list') if r.get('program') == PYTHON_EXE]
        self.assertEqual((rule['action'], rule['args'], rule['port']),
                         ('allow', '/usr/bin/python3 %s*' % sync, '9000'))
        # the script again: allowed by the rule, nobody asked
        self.assertEqual(self.probe_result(run(sync))[0], 'ok')
        self.assertNotIn('Allow or deny', term.screen[term.pos:])
        # another script of the same interpreter is asked about; Enter keeps the interpreter
        probe = run(other)
        term.expect(r'Allow or deny\? ')
        term.type('d f')
        term.expect(r'\[s\] only %s: ' % re.escape(other))
        term.type('')
        term.type('h p')
        term.expect(r'Answered request \d+: deny forever, to %s, port 9000/tcp\.'
                    % re.escape(PEER_V4))
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])
        denied = [r for r in self.json('rules', 'list')
                  if r.get('program') == PYTHON_EXE and r['action'] == 'deny']
        self.assertEqual([r.get('args') for r in denied], [None])

    def test_reading_the_details_holds_the_countdown(self):
        """'i' shows the request again and vigild holds it (HoldRequest) until the user
        answers, as the tray does while its Details are open; without it the request times
        out."""
        self.start_vigild(config={'PromptTimeout': '4', 'DefaultAction': 'deny'})
        term = self.terminal('prompt')
        term.expect(r'Registered with vigild')
        probe = self.probe_async(9000)
        term.expect(r'Allow or deny\? ')
        term.type('i')
        shown = term.expect(r'The countdown waits while you read: vigild holds the request '
                            r'until you answer \(a few minutes at most\)\.\nAllow or deny\? ')
        self.assertIn('Program:    %s\n' % PROBE_EXE, shown)
        self.assertNotIn('Time left', shown)
        # three times PromptTimeout: the program still waits for the answer
        time.sleep(12)
        self.assertIsNone(probe.poll(), 'the request was held')
        self.assertNotIn('timed out', term.screen)
        term.type('a o')
        term.expect(r'Answered request \d+: allow once\.')
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        # the next request is not held: it times out
        probe = self.probe_async(8080)
        term.expect(r'Allow or deny\? ')
        term.expect(r'Request \d+ timed out', timeout=20)
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])

    def test_prompt_as_an_unprivileged_user(self):
        self.polkit.set_allowed(USER_ACTIONS)
        self.start_vigild()
        term = self.terminal('prompt', uid=NOBODY)
        term.expect(r'Registered with vigild as the prompt agent for nobody')
        # root's connection is not nobody's to answer: no agent for root, default applies
        self.assertEqual(self.probe('tcp', PEER_V4, 9000)[:2], ['error', 'ECONNREFUSED'])
        probe = self.probe_async(9000, user=NOBODY)
        shown = term.expect(r'Allow or deny\? ')
        self.assertIn('user nobody (65534)', shown)
        self.assertNotIn('root', shown)
        term.type('a h h p')  # allow, for an hour, this host, this port
        term.expect(r'Answered request \d+: allow for 1 hour, to %s, port 9000/tcp\.'
                    % re.escape(PEER_V4))
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        [rule] = [r for r in self.json('rules', 'list', uid=NOBODY)
                  if r.get('program') == PROBE_EXE]
        self.assertEqual((rule['uid'], rule['lifetime']), (NOBODY, 'until'))

    def test_prompt_shows_blocked_connections(self):
        self.start_vigild(config={'DefaultAction': 'allow'})
        rule = self.added_id(self.ok('rules', 'add', 'deny app %s port 8080' % PROBE_EXE))
        term = self.terminal('prompt')
        term.expect(r'Registered with vigild')
        self.assertEqual(self.probe('tcp', PEER_V4, 8080)[:2], ['error', 'ECONNREFUSED'])
        term.expect(r'Blocked \(deny\): %s -> %s port 8080 \(http-alt\) \(rule %d\)'
                    % (re.escape(PROBE_EXE), re.escape(PEER_V4), rule))

    def test_prompt_survives_a_restart_of_vigild(self):
        first = self.start_vigild()
        term = self.terminal('prompt')
        term.expect(r'Registered with vigild')
        probe = self.probe_async(9000)
        term.expect(r'Allow or deny\? ')
        first.stop()
        term.expect(r'vigild stopped; waiting for it to start again\.')
        self.probe_result(probe)
        self.start_vigild()
        term.expect(r'Registered with vigild')
        probe = self.probe_async(9000)
        term.expect(r'Allow or deny\? ')
        term.type('a')
        term.type('o')
        term.expect(r'Answered request \d+: allow once\.')
        self.assertEqual(self.probe_result(probe)[0], 'ok')

    def test_prompt_without_permission_exits_3(self):
        self.polkit.set_allowed([])
        self.start_vigild()
        # stdin stays open: at its end vigilctl prompt would quit by itself
        proc = subprocess.Popen(testbus.as_user_argv(NOBODY) + [VIGILCTL, 'prompt'],
                                env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            code = proc.wait(30)
            err = proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
            for f in (proc.stdin, proc.stdout, proc.stderr):
                f.close()
        self.assertEqual(code, EXIT_PERMISSION, err)
        self.assertIn('permission denied: registering a prompt agent', err)


if __name__ == '__main__':
    unittest.main()
