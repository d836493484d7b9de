#!/usr/bin/python3
"""End-to-end: vigild on a private system bus, with a mock polkitd and real prompt agents.

Each test runs a real vigild in its own network namespace (vigiltest), a dbus-daemon with
the machine's system bus policy plus Vigil's (tests/dbus/bus.py), python3-dbusmock's polkitd,
and prompt agents (agent.py) as root or as uid 65534. Programs connect from the client
namespace and really wait while a prompt is open.
"""
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'dbus'))

import bus as testbus  # noqa: E402
from vigiltest import (E2ETestCase, PEER_V4, PROBE, Vigild, netfilter_dump,  # noqa: E402
                       wait_until)

from gi.repository import Gio, GLib  # noqa: E402

PYTHON = '/usr/bin/python3'
PYTHON_EXE = os.path.realpath(PYTHON)
PROBE_EXE = os.path.realpath(PROBE)
AGENT = os.path.join(HERE, 'agent.py')
CONNECT = os.path.join(HERE, 'connect.py')
NOBODY = testbus.NOBODY
ERR = 'org.vigil.Firewall1.Error.'

READ = 'org.vigil.firewall.read'
REPLY = 'org.vigil.firewall.reply'
OWN = 'org.vigil.firewall.manage-own-rules'
ALL = 'org.vigil.firewall.manage-all-rules'
CONFIGURE = 'org.vigil.firewall.configure'
USER_ACTIONS = [READ, REPLY, OWN]


class AgentProcess:
    """agent.py in a subprocess (as @uid), its events read by a thread into a queue."""

    def __init__(self, env, uid=None, register=True, answer=None, options=None, python=PYTHON,
                 expect_failure=False, argv=None, prefix=()):
        """@argv replaces "@python agent.py"; @prefix goes before it all (e.g. "ip netns
        exec NS", which keeps the pid)."""
        argv = list(argv or [python, AGENT])
        if not register:
            argv.append('--no-register')
        if answer:
            argv += ['--answer', answer, '--options', json.dumps(options or {})]
        if uid is not None:
            argv = testbus.as_user_argv(uid) + argv
        argv = list(prefix) + argv
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.events = queue.Queue()
        self.seen = []
        self._tag = 0
        threading.Thread(target=self._read, daemon=True).start()
        first = self.next_event(timeout=20)
        # with @expect_failure, a refused RegisterAgent is kept in self.failure
        self.failure = first if first['event'] == 'register-failed' else None
        if first['event'] not in ('registered', 'connected') and not (
                expect_failure and self.failure is not None):
            raise AssertionError('agent did not start: %r %s' % (first, self.stderr()))
        self.name = first.get('name')

    def _read(self):
        for line in self.proc.stdout:
            self.events.put(json.loads(line))
        self.events.put({'event': 'eof'})

    def stderr(self):
        if self.proc.poll() is None:
            return ''
        return self.proc.stderr.read()

    def next_event(self, timeout=10):
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError('no event from the agent in %s s' % timeout)
        self.seen.append(event)
        return event

    def wait_event(self, kind, timeout=10, **match):
        """The next event of @kind (earlier events of other kinds are kept in self.seen)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('no %s event %r; seen: %r' % (kind, match, self.seen))
            event = self.next_event(left)
            if event['event'] == kind and all(event.get(k) == v for k, v in match.items()):
                return event

    def no_event(self, kind, seconds):
        """Fails if an event of @kind arrives within @seconds."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                return
            self.seen.append(event)
            if event['event'] == kind:
                raise AssertionError('unexpected %s: %r' % (kind, event))

    def send(self, **cmd):
        self._tag += 1
        cmd['tag'] = self._tag
        self.proc.stdin.write(json.dumps(cmd) + '\n')
        self.proc.stdin.flush()
        return self.wait_event('result', timeout=30, tag=self._tag)

    def reply(self, request, verdict, **options):
        return self.send(cmd='reply', request=request, verdict=verdict, options=options)

    def call(self, method, signature='', *args):
        return self.send(cmd='call', method=method, signature=signature, args=list(args))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            f.close()


class DBusTestCase(E2ETestCase):
    """A private system bus with a mock polkitd, and vigild in the client namespace on it."""

    polkit_actions = USER_ACTIONS + [ALL, CONFIGURE]
    start_polkit = True

    def setUp(self):
        super().setUp()
        self.bus = testbus.PrivateSystemBus().start()
        self.addCleanup(self.bus.stop)
        if self.start_polkit:
            self.polkit = self.bus.start_mock_polkitd()
            self.polkit.set_allowed(self.polkit_actions)
        self.env = self.bus.env()
        self.set_env('DBUS_SYSTEM_BUS_ADDRESS', self.bus.address)
        self.conn = self.bus.connect()
        self.addCleanup(self.conn.close_sync, None)
        self.agents = []

    def start_vigild(self, rules='', config=None, learned=''):
        cfg = {'DefaultAction': 'deny', 'PromptTimeout': '30'}
        cfg.update(config or {})
        d = self.vigild(rules, cfg, learned, start=False)
        d.start(wait=False)
        d.wait_for_log('on the system bus as org.vigil.Firewall1', timeout=15)
        d.wait_for_log('filtering:')
        self.addCleanup(self._check_clean_exit, d)
        self.d = d
        return d

    def _check_clean_exit(self, d):
        """SIGTERM: vigild stops cleanly (a sanitizer build reports leaks and errors here)."""
        if d.proc is None or d.proc.poll() is not None:
            return
        rc = d.stop()
        log = d.log()
        self.assertNotIn('Sanitizer', log, log[-5000:])
        self.assertNotIn('runtime error', log, log[-5000:])
        self.assertEqual(rc, 0, log[-3000:])

    def agent(self, uid=None, **kw):
        a = AgentProcess(self.env, uid=uid, **kw)
        self.addCleanup(a.stop)
        return a

    def call(self, method, signature='', args=(), conn=None, interactive=False):
        flags = Gio.DBusCallFlags.NONE
        if interactive:
            flags |= Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION
        params = GLib.Variant('(%s)' % signature, tuple(args)) if signature else None
        reply = (conn or self.conn).call_sync(testbus.BUS_NAME, testbus.OBJECT_PATH,
                                             testbus.INTERFACE, method, params, None, flags,
                                             30000, None)
        return reply.unpack() if reply is not None else None

    def assertCallError(self, error, method, signature='', args=(), conn=None):
        with self.assertRaises(GLib.Error) as cm:
            self.call(method, signature, args, conn)
        name = Gio.DBusError.get_remote_error(cm.exception)
        self.assertEqual(name, error, cm.exception.message)
        return cm.exception.message

    def prop(self, name):
        reply = self.conn.call_sync(testbus.BUS_NAME, testbus.OBJECT_PATH,
                                    'org.freedesktop.DBus.Properties', 'Get',
                                    GLib.Variant('(ss)', (testbus.INTERFACE, name)), None,
                                    Gio.DBusCallFlags.NONE, 10000, None)
        return reply.unpack()[0]

    def wait_for(self, predicate, what, timeout=5):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail('waited %s s for %s' % (timeout, what))
            time.sleep(0.1)

    def rules(self):
        return {rid: d for rid, d in self.call('GetRules')[0]}

    def probe_async(self, port, user=None, timeout_ms=20000, host=PEER_V4):
        cmd = [PROBE, 'tcp', host, str(port), '--timeout', str(timeout_ms)]
        if user is not None:
            cmd = testbus.as_user_argv(user) + cmd
        return self.nets.spawn(self.nets.client, cmd, stdout=subprocess.PIPE, text=True)

    def probe_result(self, proc, timeout=15):
        out, _ = proc.communicate(timeout=timeout)
        return out.split()

    def connect_async(self, port, count, timeout_s=20, user=None, wait=False):
        cmd = [PYTHON, CONNECT, PEER_V4, str(port), str(count), str(timeout_s)]
        if wait:
            cmd.append('--wait')
        if user is not None:
            cmd = testbus.as_user_argv(user) + cmd
        return self.nets.spawn(self.nets.client, cmd, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)


def project_version():
    """The version in meson.build's project(): what vigild's Version property must say."""
    text = read_file(os.path.join(HERE, '..', '..', 'meson.build'))
    return re.search(r"project\([^)]*?version:\s*'([^']+)'", text, re.S).group(1)


def read_file(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def rule_lines(path):
    if not os.path.exists(path):
        return []
    return [line for line in read_file(path).splitlines()
            if line.strip() and not line.startswith('#')]


def u(value):
    return GLib.Variant('u', value)


def s(value):
    return GLib.Variant('s', value)


class Prompts(DBusTestCase):
    def test_allow_once_holds_then_releases_without_rule(self):
        self.start_vigild()
        agent = self.agent()
        before = self.rules()
        probe = self.probe_async(9000)
        prompt = agent.wait_event('prompt')
        conn = prompt['connection']
        self.assertEqual(conn['program'], PROBE_EXE)
        self.assertEqual(conn['destination'], PEER_V4)
        self.assertEqual(conn['port'], 9000)
        self.assertEqual(conn['protocol'], 'tcp')
        self.assertEqual(conn['uid'], 0)
        self.assertEqual(conn['host-target'], PEER_V4)
        self.assertGreater(conn['timeout'], 20)
        # the connection really waits while the prompt is open
        time.sleep(1.0)
        self.assertIsNone(probe.poll(), 'the client must still be blocked')
        pending = self.call('GetPending')[0]
        self.assertEqual([p[0] for p in pending], [prompt['request']])
        self.assertTrue(agent.reply(prompt['request'], 'allow')['ok'])
        words = self.probe_result(probe)
        self.assertEqual(words[0], 'ok', words)
        self.assertEqual(self.rules(), before, 'allow once makes no rule')
        self.assertEqual(self.call('GetPending')[0], [])
        self.assertDecision(self.d, verdict='allow', program=PROBE_EXE, port=9000, rule='reply')

    def test_deny_forever_fails_at_once_and_makes_a_pinned_rule(self):
        self.start_vigild()
        agent = self.agent()
        probe = self.probe_async(9000)
        prompt = agent.wait_event('prompt')
        start = time.monotonic()
        self.assertTrue(agent.reply(prompt['request'], 'deny', duration='forever')['ok'])
        words = self.probe_result(probe)
        self.assertEqual(words[:2], ['error', 'ECONNREFUSED'])
        self.assertLess(time.monotonic() - start, 2.0, 'deny must fail at once')
        made = [r for r in self.rules().values() if r.get('program') == PROBE_EXE]
        self.assertEqual(len(made), 1, self.rules())
        rule = made[0]
        self.assertEqual((rule['action'], rule['to'], rule['port'], rule['proto'], rule['uid']),
                         ('deny', PEER_V4, '9000', 'tcp', 0))
        self.assertEqual(rule['sha256'], prompt['connection']['sha256'])
        self.assertEqual(rule['lifetime'], 'forever')
        # the rule decides the next connection: no prompt
        words = self.probe_result(self.probe_async(9000))
        self.assertEqual(words[:2], ['error', 'ECONNREFUSED'])
        agent.no_event('prompt', 0.5)

    def test_allow_for_seconds_any_port(self):
        self.start_vigild()
        agent = self.agent()
        probe = self.probe_async(9000)
        prompt = agent.wait_event('prompt')
        self.assertTrue(agent.reply(prompt['request'], 'allow', duration='seconds',
                                    seconds=['u', 600], **{'port-scope': 'any'})['ok'])
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        rule = [r for r in self.rules().values() if r.get('program') == PROBE_EXE][0]
        self.assertEqual(rule['lifetime'], 'until')
        self.assertNotIn('port', rule)
        self.assertAlmostEqual(rule['until'], time.time() + 600, delta=30)
        # another port of the same host: the rule allows it, no prompt
        self.assertEqual(self.probe_result(self.probe_async(8080))[0], 'ok')
        agent.no_event('prompt', 0.3)

    def test_timeout_applies_default_action_once(self):
        self.start_vigild(config={'PromptTimeout': '2', 'DefaultAction': 'deny'})
        agent = self.agent()
        start = time.monotonic()
        probe = self.probe_async(9000)
        prompt = agent.wait_event('prompt')
        cancel = agent.wait_event('cancel', timeout=10)
        self.assertEqual((cancel['request'], cancel['reason']), (prompt['request'], 'timeout'))
        words = self.probe_result(probe)
        self.assertEqual(words[:2], ['error', 'ECONNREFUSED'])
        self.assertGreater(time.monotonic() - start, 1.5)
        self.assertFalse([r for r in self.rules().values() if r.get('program') == PROBE_EXE])
        late = agent.reply(prompt['request'], 'allow')
        self.assertEqual(late['error'], ERR + 'NotPending')
        self.assertDecision(self.d, verdict='deny', port=9000, rule='timeout')
        self.wait_for(lambda: self.prop('Stats')['timed-out'] >= 1, 'Stats timed-out')

    def test_parallel_connections_join_one_request(self):
        self.start_vigild()
        agent = self.agent()
        client = self.connect_async(9000, 5)
        prompt = agent.wait_event('prompt')
        time.sleep(1.0)
        agent.no_event('prompt', 0.5)
        pending = self.call('GetPending')[0]
        self.assertEqual(len(pending), 1)
        self.assertEqual(pending[0][1]['connections'], 5)
        self.assertEqual(pending[0][1]['program'], PYTHON_EXE)
        self.assertTrue(agent.reply(prompt['request'], 'allow')['ok'])
        out, _ = client.communicate(timeout=20)
        result = json.loads(out.splitlines()[0])
        self.assertEqual(result['ok'], 5, result)

    def test_agent_leaving_releases_its_requests(self):
        self.start_vigild(config={'DefaultAction': 'deny'})
        agent = self.agent()
        probe = self.probe_async(9000)
        agent.wait_event('prompt')
        time.sleep(0.5)
        self.assertIsNone(probe.poll())
        agent.stop()
        start = time.monotonic()
        words = self.probe_result(probe, timeout=25)
        self.assertEqual(words[:2], ['error', 'ECONNREFUSED'])
        # released when the agent left, not at PromptTimeout (30 s); the bound only tells that
        # apart, not speed (5 s was tight on a loaded machine)
        self.assertLess(time.monotonic() - start, 20)
        self.assertEqual(self.call('GetPending')[0], [])
        self.assertFalse([r for r in self.rules().values() if r.get('program') == PROBE_EXE])

    def test_blocked_connections_are_notified_once_a_minute(self):
        self.start_vigild('deny app %s port 8080\n' % PROBE_EXE)
        agent = self.agent()
        nobody = self.agent(uid=NOBODY)
        self.assertEqual(self.probe_result(self.probe_async(8080))[:2], ['error', 'ECONNREFUSED'])
        note = agent.wait_event('notify')
        self.assertEqual(note['kind'], 'blocked')
        details = note['details']
        self.assertEqual((details['verdict'], details['reason'], details['program'],
                          details['port']), ('deny', 'rule', PROBE_EXE, 8080))
        self.assertIn(details['rule'], self.rules())
        self.assertEqual(self.probe_result(self.probe_async(8080))[:2], ['error', 'ECONNREFUSED'])
        agent.no_event('notify', 1.0)
        nobody.no_event('notify', 0.1)

    def test_a_changed_binary_is_asked_about_again(self):
        other = '0' * 64
        self.start_vigild('allow app %s sha256 %s\n' % (PROBE_EXE, other))
        agent = self.agent()
        probe = self.probe_async(9000)
        prompt = agent.wait_event('prompt')
        self.assertTrue(prompt['connection'].get('binary-changed'))
        self.assertNotEqual(prompt['connection']['sha256'], other)
        self.assertTrue(agent.reply(prompt['request'], 'allow')['ok'])
        self.assertEqual(self.probe_result(probe)[0], 'ok')

    def test_other_agent_of_the_user_gets_cancel(self):
        self.start_vigild()
        first = self.agent()
        second = self.agent()
        probe = self.probe_async(9000)
        p1 = first.wait_event('prompt')
        p2 = second.wait_event('prompt')
        self.assertEqual(p1['request'], p2['request'])
        self.assertTrue(second.reply(p2['request'], 'allow')['ok'])
        cancel = first.wait_event('cancel')
        self.assertEqual(cancel['reason'], 'answered')
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        self.assertEqual(first.reply(p1['request'], 'deny')['error'], ERR + 'NotPending')


class Users(DBusTestCase):
    """Two users: each sees and answers only its own prompts."""

    def test_prompts_go_only_to_the_users_own_agent(self):
        self.start_vigild()
        nobody = self.agent(uid=NOBODY)
        root = self.agent()
        probe = self.probe_async(9000, user=NOBODY)
        prompt = nobody.wait_event('prompt')
        self.assertEqual(prompt['connection']['uid'], NOBODY)
        self.assertEqual(prompt['connection']['user'], 'nobody')
        root.no_event('prompt', 1.0)
        # root's agent was not asked: it cannot answer, though root may see the request
        self.assertEqual(root.reply(prompt['request'], 'allow')['error'], ERR + 'NotPending')
        self.assertEqual([p[0] for p in self.call('GetPending')[0]], [prompt['request']])

        root_probe = self.probe_async(8080)
        root_prompt = root.wait_event('prompt')
        nobody.no_event('prompt', 1.0)
        self.assertEqual(nobody.reply(root_prompt['request'], 'allow')['error'],
                         ERR + 'NotPending')
        # nobody's view of the pending requests holds only its own
        mine = nobody.call('GetPending')
        self.assertTrue(mine['ok'], mine)
        self.assertEqual([p[0] for p in mine['value'][0]], [prompt['request']])

        self.assertTrue(nobody.reply(prompt['request'], 'deny', duration='forever')['ok'])
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])
        self.assertTrue(root.reply(root_prompt['request'], 'allow')['ok'])
        self.assertEqual(self.probe_result(root_probe)[0], 'ok')
        # the rule nobody made is nobody's: it does not hold for root
        rule = [r for r in self.rules().values() if r.get('program') == PROBE_EXE][0]
        self.assertEqual((rule['uid'], rule['user']), (NOBODY, 'nobody'))
        probe = self.probe_async(9000)
        again = root.wait_event('prompt')
        self.assertTrue(root.reply(again['request'], 'allow')['ok'])
        self.assertEqual(self.probe_result(probe)[0], 'ok')

    def test_history_and_rules_are_per_user(self):
        self.start_vigild('allow app %s port 8080\n' % PROBE_EXE)
        self.assertEqual(self.probe_result(self.probe_async(8080, user=NOBODY))[0], 'ok')
        self.assertEqual(self.probe_result(self.probe_async(8080))[0], 'ok')
        self.assertDecision(self.d, uid=0, port=8080)
        self.assertDecision(self.d, uid=NOBODY, port=8080)
        own = self.call('AddRule', 'a{sv}', [{'action': s('deny'), 'port': s('80')}])[0]
        client = self.agent(uid=NOBODY, register=False)
        seen = client.call('GetConnections', 'a{sv}', {})
        self.assertTrue(seen['ok'], seen)
        self.assertTrue(seen['value'][0])
        self.assertEqual({c['uid'] for c in seen['value'][0]}, {NOBODY})
        other = client.call('GetConnections', 'a{sv}', {'uid': ['u', 0]})
        self.assertEqual(other['error'], ERR + 'PermissionDenied')
        rules = client.call('GetRules')
        ids = [r[0] for r in rules['value'][0]]
        self.assertNotIn(own, ids, "root's own rule is not nobody's to see")
        self.assertEqual(client.call('RemoveRule', 't', own)['error'], ERR + 'NotFound')
        everything = self.call('GetConnections', 'a{sv}', [{}])[0]
        self.assertEqual({c['uid'] for c in everything}, {0, NOBODY})


class Authorisation(DBusTestCase):
    """An unprivileged caller: polkit (mock) grants only the actions of a local user."""

    polkit_actions = USER_ACTIONS

    def test_unprivileged_limits(self):
        self.start_vigild()
        client = self.agent(uid=NOBODY, register=False)
        before = self.rules()
        res = client.call('AddRule', 'a{sv}', {'action': 'deny', 'user': 'all'})
        self.assertEqual(res['error'], ERR + 'PermissionDenied', res)
        res = client.call('AddRule', 'a{sv}', {'action': 'deny', 'uid': ['u', 0]})
        self.assertEqual(res['error'], ERR + 'PermissionDenied', res)
        res = client.call('AddRule', 'a{sv}', {'text': 'deny port 25'})
        self.assertEqual(res['error'], ERR + 'PermissionDenied', res)
        res = client.call('SetConfig', 'a{sv}', {'PromptTimeout': ['u', 5]})
        self.assertEqual(res['error'], ERR + 'PermissionDenied', res)
        res = client.call('SetEnabled', 'b', False)
        self.assertEqual(res['error'], ERR + 'PermissionDenied', res)
        self.assertEqual(self.rules(), before)
        self.assertEqual(self.prop('PromptTimeout'), 30)
        self.assertTrue(self.prop('Enabled'))
        # its own rules it may manage
        res = client.call('AddRule', 'a{sv}', {'action': 'deny', 'port': '25'})
        self.assertTrue(res['ok'], res)
        rule = self.rules()[res['value'][0]]
        self.assertEqual(rule['uid'], NOBODY)
        own = res['value'][0]
        # but not one that records packets: capture files and their bounds are everyone's
        before = self.rules()
        res = client.call('AddRule', 'a{sv}', {'action': 'allow', 'port': '26',
                                               'capture': ['b', True]})
        self.assertEqual(res['error'], ERR + 'PermissionDenied', res)
        res = client.call('UpdateRule', 'ta{sv}', own, {'action': 'allow',
                                                        'capture': ['b', True]})
        self.assertEqual(res['error'], ERR + 'PermissionDenied', res)
        res = client.call('ImportRules', 's', 'allow port 27 capture\n')
        self.assertEqual(res['error'], ERR + 'PermissionDenied', res)
        self.assertEqual(self.rules(), before)
        res = client.call('RemoveRule', 't', own)
        self.assertTrue(res['ok'], res)
        perms = client.call('GetPermissions')['value'][0]
        self.assertEqual(perms, {READ: 'yes', REPLY: 'yes', OWN: 'yes', ALL: 'no',
                                 CONFIGURE: 'no'})

    def test_polkit_denying_read(self):
        self.start_vigild()
        self.polkit.set_allowed([])
        self.assertCallError(ERR + 'PermissionDenied', 'GetRules')
        agent = AgentProcess(self.env, uid=NOBODY, register=False)
        self.addCleanup(agent.stop)
        res = agent.call('RegisterAgent', 'o', '/org/vigil/test/Agent')
        self.assertEqual(res['error'], ERR + 'PermissionDenied')

    def test_caller_leaving_cancels_its_polkit_check(self):
        """An interactive check waits for the user; when the caller goes, polkit is told
        (CancelCheckAuthorization with the id vigild gave the check), so its dialog goes."""
        self.polkit.record_cancels()
        d = self.start_vigild()
        self.polkit.simulate_hang(True)
        caller = self.bus.connect()
        # as `vigilctl rules add` in a terminal would: interactive authorisation allowed
        caller.call(testbus.BUS_NAME, testbus.OBJECT_PATH, testbus.INTERFACE, 'AddRule',
                    GLib.Variant('(a{sv})', ({'action': s('deny'), 'user': s('all'),
                                              'port': s('25')},)),
                    None, Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION, 30000, None,
                    None, None)
        wait_until(self.polkit.have_hanging_calls, 10, 'the check to reach polkit')
        self.assertEqual(self.polkit.cancels(), [])
        caller.close_sync(None)
        cancels = wait_until(self.polkit.cancels, 10, 'CancelCheckAuthorization')
        # the log line may reach the file after polkit heard of the check: wait for it
        asked = wait_until(
            lambda: re.findall(r'asking polkit about \S+ for \S+ \(check (\S+)\)', d.log()),
            10, "vigild's log line of the check")
        self.assertEqual(cancels, [asked[-1]])
        # nothing was added, and vigild answers the next caller
        self.polkit.simulate_hang(False)
        self.polkit.release_hanging_calls()
        self.assertNotIn('25', [r.get('port') for r in self.rules().values()])
        rid = self.call('AddRule', 'a{sv}', [{'action': s('deny'), 'port': s('26')}])[0]
        self.assertEqual(self.rules()[rid]['port'], '26')


class NoPolkit(DBusTestCase):
    """Without a polkit authority: root may do everything, others read and reply."""

    start_polkit = False

    def test_fallback(self):
        self.start_vigild()
        rid = self.call('AddRule', 'a{sv}', [{'action': s('deny'), 'user': s('all'),
                                               'port': s('25')}])[0]
        client = self.agent(uid=NOBODY, register=False)
        self.assertIn(rid, [r[0] for r in client.call('GetRules')['value'][0]])
        res = client.call('AddRule', 'a{sv}', {'action': 'deny', 'port': '26'})
        self.assertEqual(res['error'], ERR + 'PermissionDenied', res)
        agent = self.agent(uid=NOBODY)
        self.assertTrue(agent.name)


class Settings(DBusTestCase):
    def test_set_config_and_enabled_are_saved(self):
        d = self.start_vigild()
        with open(d.config) as f:
            original = f.read()
        with open(d.config, 'w') as f:
            f.write('# kept: a comment of the admin\n' + original)
        self.call('SetConfig', 'a{sv}', [{'PromptTimeout': u(7), 'DefaultAction': s('allow')}])
        self.assertEqual(self.prop('PromptTimeout'), 7)
        self.assertEqual(self.prop('DefaultAction'), 'allow')
        self.call('SetEnabled', 'b', [False])
        self.assertFalse(self.prop('Enabled'))
        with open(d.config) as f:
            text = f.read()
        self.assertIn('# kept: a comment of the admin', text)
        self.assertIn('PromptTimeout=7', text)
        self.assertIn('DefaultAction=allow', text)
        self.assertIn('Enabled=false', text)
        # disabled: connections pass without prompts or rules, logged as such
        agent = self.agent()
        self.assertEqual(self.probe_result(self.probe_async(9000))[0], 'ok')
        agent.no_event('prompt', 0.5)
        self.assertDecision(d, verdict='allow', port=9000, rule='disabled')
        # and it stays so across a restart
        d.stop()
        d.start(wait=False)
        d.wait_for_log('on the system bus as', timeout=15, count=2)
        self.assertFalse(self.prop('Enabled'))
        self.assertEqual(self.prop('PromptTimeout'), 7)

    def test_fail_mode_applies_at_once(self):
        self.start_vigild(config={'FailMode': 'open'})

        def queue_rules():
            return [r for r in netfilter_dump(self.nets) if 'NFQUEUE' in r or ' queue ' in r]

        self.assertTrue(queue_rules())
        self.assertTrue(all('bypass' in r for r in queue_rules()), queue_rules())
        self.call('SetConfig', 'a{sv}', [{'FailMode': s('closed')}])
        self.assertEqual(self.prop('FailMode'), 'closed')
        self.assertTrue(queue_rules())
        self.assertFalse([r for r in queue_rules() if 'bypass' in r], queue_rules())
        self.assertIn('FailMode=closed', read_file(self.d.config))
        # still filtering with the new rules
        self.assertEqual(self.probe_result(self.probe_async(9000))[:2], ['error', 'ECONNREFUSED'])

    def test_fail_mode_closed_also_drops_what_the_queue_cannot_hold(self):
        """Switched to closed, a full queue drops (and counts) instead of letting through."""
        d = self.start_vigild(config={'FailMode': 'open', 'QueueLength': '8'})
        self.call('SetConfig', 'a{sv}', [{'FailMode': s('closed')}])
        self.assertEqual(self.flood_while_stopped(d, 40), 40)
        self.assertEqual(self.overrun_counts(d), (0, 32, 0))

    def test_disabling_cancels_open_prompts(self):
        self.start_vigild()
        agent = self.agent()
        probe = self.probe_async(9000)
        prompt = agent.wait_event('prompt')
        self.call('SetEnabled', 'b', [False])
        self.assertEqual(agent.wait_event('cancel')['reason'], 'disabled')
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        self.assertEqual(agent.reply(prompt['request'], 'deny')['error'], ERR + 'NotPending')


class BadInput(DBusTestCase):
    """Every class of bad argument gets its named error, and nothing changes."""

    def bad(self, error, method, signature, *args):
        message = self.assertCallError(error, method, signature, args)
        self.assertTrue(message, 'errors carry a message for people')
        return message

    def test_bad_rules(self):
        d = self.start_vigild('allow app /usr/bin/true\n')
        rules_before = self.rules()
        learned_before = rule_lines(d.learned)
        inv = ERR + 'InvalidArgument'
        # wrong argument types: the bus library's own error
        self.bad('org.freedesktop.DBus.Error.InvalidArgs', 'AddRule', 's', 'deny port 80')
        cases = [
            {'action': u(1)},                                      # wrong type
            {'action': s('deny'), 'colour': s('red')},             # unknown key
            {'port': s('80')},                                     # missing action
            {'action': s('deny'), 'id': GLib.Variant('t', 5)},     # read-only key
            {'action': s('deny'), 'note': s('x' * 1025)},          # over-long
            {'action': s('deny'), 'args': s('x' * 5000)},
            {'action': s('deny'), 'program': s('x' * 5000)},
            {'action': s('maybe')},
            {'action': s('deny'), 'program': s('bin/ls')},         # relative path
            {'action': s('deny'), 'program': s('/usr/bin/../bin/ls')},
            {'action': s('deny'), 'program': s('/nonexistent/prog')},  # does not exist
            {'action': s('deny'), 'program': s('/usr/bin')},       # not a file
            {'action': s('deny'), 'to': s('bad..host')},           # bad hosts / CIDRs
            {'action': s('deny'), 'to': s('10.0.0.1/33')},
            {'action': s('deny'), 'to': s('10.0.0.1/8')},
            {'action': s('deny'), 'to': s('300.1.1.1')},
            {'action': s('deny'), 'port': s('0')},                 # bad ports
            {'action': s('deny'), 'port': s('70000')},
            {'action': s('deny'), 'port': s('90-80')},
            {'action': s('deny'), 'port': s('http')},
            {'action': s('deny'), 'port': s('80'), 'proto': s('icmp')},
            {'action': s('deny'), 'proto': s('tcpx')},
            {'action': s('deny'), 'user': s('no-such-user-x')},
            {'action': s('deny'), 'user': s('all'), 'uid': u(0)},
            {'action': s('deny'), 'uid': u(4294967295)},
            {'action': s('deny'), 'lifetime': s('until')},
            {'action': s('deny'), 'lifetime': s('until'), 'until': GLib.Variant('x', 1)},
            {'action': s('deny'), 'lifetime': s('until-quit'), 'pid': u(999999999)},
            {'action': s('deny'), 'pid': u(1)},
            {'action': s('deny'), 'sha256': s('abc')},
            {'action': s('deny'), 'note': s('line\nbreak')},
            {'text': s('deny port 80'), 'action': s('deny')},
            {'text': s('deny port 80 id 5')},
            {'text': s('bogus words')},
        ]
        for case in cases:
            with self.subTest(case=case):
                self.bad(inv, 'AddRule', 'a{sv}', case)
        rid = self.call('AddRule', 'a{sv}', [{'action': s('deny'), 'port': s('81')}])[0]
        self.bad(ERR + 'Exists', 'AddRule', 'a{sv}', {'action': s('deny'), 'port': s('81')})
        self.bad(ERR + 'NotFound', 'UpdateRule', 'ta{sv}', 999999, {'port': s('82')})
        self.bad(ERR + 'NotFound', 'RemoveRule', 't', 999999)
        self.bad(inv, 'UpdateRule', 'ta{sv}', rid, {'port': s('x')})
        self.bad(inv, 'UpdateRule', 'ta{sv}', rid, {'hits': GLib.Variant('t', 1)})
        system = [i for i, r in self.rules().items() if r['system']][0]
        self.bad(ERR + 'ReadOnly', 'UpdateRule', 'ta{sv}', system, {'port': s('82')})
        self.bad(ERR + 'ReadOnly', 'RemoveRule', 't', system)
        message = self.bad(inv, 'ImportRules', 's', 'deny port 1\nbogus line\n')
        self.assertIn('line 2', message)
        self.bad(inv, 'ImportRules', 's', 'allow until-quit 1:2\n')
        self.bad(ERR + 'LimitExceeded', 'ImportRules', 's', '#' * (1024 * 1024 + 1))
        self.call('RemoveRule', 't', [rid])
        self.assertEqual(self.rules(), rules_before)
        self.assertEqual(rule_lines(d.learned), learned_before)
        self.assertEqual(self.prop('Version'), project_version())
        self.assertIsNone(d.proc.poll(), 'vigild keeps running')

    def test_bad_calls(self):
        d = self.start_vigild()
        inv = ERR + 'InvalidArgument'
        config_before = read_file(d.config)
        self.bad(ERR + 'NotPending', 'Reply', 'tsa{sv}', 12345, 'allow', {})
        self.bad(inv, 'Reply', 'tsa{sv}', 12345, 'perhaps', {})
        self.bad(inv, 'Reply', 'tsa{sv}', 1, 'allow', {'duration': s('always')})
        self.bad(inv, 'Reply', 'tsa{sv}', 1, 'allow', {'duration': u(3)})
        self.bad(inv, 'Reply', 'tsa{sv}', 1, 'allow', {'colour': s('red')})
        self.bad(inv, 'Reply', 'tsa{sv}', 1, 'allow', {'duration': s('seconds')})
        self.bad(inv, 'Reply', 'tsa{sv}', 1, 'allow', {'seconds': u(5)})
        self.bad(inv, 'SetConfig', 'a{sv}', {})
        self.bad(inv, 'SetConfig', 'a{sv}', {'PromptTimeout': u(0)})
        self.bad(inv, 'SetConfig', 'a{sv}', {'PromptTimeout': s('10')})
        self.bad(inv, 'SetConfig', 'a{sv}', {'DefaultAction': s('drop')})
        self.bad(inv, 'SetConfig', 'a{sv}', {'FailMode': s('ajar')})
        self.bad(inv, 'SetConfig', 'a{sv}', {'QueueNumber': u(3)})
        self.bad(inv, 'SetConfig', 'a{sv}', {'PromptTimeout': u(5), 'Colour': s('x')})
        self.bad(inv, 'GetConnections', 'a{sv}', {'limit': s('5')})
        self.bad(inv, 'GetConnections', 'a{sv}', {'verdict': s('maybe')})
        self.bad(inv, 'GetConnections', 'a{sv}', {'colour': s('red')})
        self.bad(inv, 'RegisterAgent', 'o', '/')
        self.bad(ERR + 'NoAgent', 'UnregisterAgent', '')
        self.assertEqual(read_file(d.config), config_before)
        self.assertEqual(self.prop('PromptTimeout'), 30)
        agent = self.agent()
        res = agent.call('RegisterAgent', 'o', '/org/vigil/test/Agent2')
        self.assertEqual(res['error'], ERR + 'Exists')
        # the first registration still works
        probe = self.probe_async(9000)
        prompt = agent.wait_event('prompt')
        res = agent.reply(prompt['request'], 'allow', **{'host-scope': 'domain',
                                                        'duration': 'forever'})
        self.assertEqual(res['error'], inv, 'no host name: no domain scope')
        self.assertTrue(agent.reply(prompt['request'], 'allow')['ok'], 'still pending')
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        self.assertIsNone(d.proc.poll())


class Flood(DBusTestCase):
    def test_unknown_flood_does_not_delay_ruled_traffic(self):
        self.start_vigild('allow app %s to %s port 8080\n' % (PROBE_EXE, PEER_V4),
                          config={'DefaultAction': 'deny'})
        agent = self.agent()
        flood = self.connect_async(9000, 300, timeout_s=30)
        agent.wait_event('prompt')
        time.sleep(0.5)
        for _ in range(5):
            words = self.probe_result(self.probe_async(8080, timeout_ms=3000))
            # 'ok' within the probe's 3 s while the prompt stays unanswered (PromptTimeout
            # 30 s): it did not wait behind the prompt. How fast is the benchmark's to say;
            # a bound of 1 s here failed on a loaded machine
            self.assertEqual(words[0], 'ok', words)
        stats = self.call('GetPending')[0]
        self.assertEqual(len(stats), 1)
        self.assertLessEqual(stats[0][1]['connections'], 128)
        flood.kill()
        self.assertIsNone(self.d.proc.poll())


class RuleManagement(DBusTestCase):
    def test_add_update_remove_import_export(self):
        d = self.start_vigild('deny port 25\n')
        changed = []
        self.conn.signal_subscribe(testbus.BUS_NAME, testbus.INTERFACE, 'RulesChanged',
                                   testbus.OBJECT_PATH, None, Gio.DBusSignalFlags.NONE,
                                   lambda *a: changed.append(a), None)
        ctx = GLib.MainContext.default()

        def wait_changed(n):
            deadline = time.monotonic() + 5
            while len(changed) < n and time.monotonic() < deadline:
                ctx.iteration(False)
                time.sleep(0.02)
            self.assertGreaterEqual(len(changed), n, 'RulesChanged')

        rid = self.call('AddRule', 'a{sv}', [{
            'action': s('deny'), 'program': s(PROBE_EXE), 'to': s(PEER_V4),
            'port': s('8080,80'), 'proto': s('tcp'), 'note': s('no web')}])[0]
        wait_changed(1)
        rule = self.rules()[rid]
        self.assertEqual((rule['port'], rule['note'], rule['user'], rule['system']),
                         ('80,8080', 'no web', 'root', False))
        self.assertEqual(self.probe_result(self.probe_async(8080))[:2],
                         ['error', 'ECONNREFUSED'])
        self.assertEqual(self.rules()[rid]['hits'], 1)
        self.call('UpdateRule', 'ta{sv}', [rid, {'action': s('allow'), 'enabled': GLib.Variant('b', True)}])
        wait_changed(2)
        self.assertEqual(self.rules()[rid]['action'], 'allow')
        self.assertEqual(self.rules()[rid]['hits'], 1, 'an update keeps the counters')
        self.assertEqual(self.probe_result(self.probe_async(8080))[0], 'ok')
        text = self.call('ExportRules')[0]
        self.assertTrue(text.startswith('#'))
        self.assertIn('allow user root app %s' % PROBE_EXE, text)
        self.assertNotIn('port 25\n', text, 'system rules are in their files already')
        # importing what was exported changes nothing and returns the same id
        self.assertEqual(self.call('ImportRules', 's', [text])[0], [rid])
        ids = self.call('ImportRules', 's', ['deny port 1\n# c\n\ndrop to 192.0.2.0/24\n'])[0]
        self.assertEqual(len(ids), 2)
        self.assertTrue(all(not self.rules()[i]['system'] for i in ids))
        self.assertNotIn('uid', self.rules()[ids[0]], 'a line without user is for all users')
        self.call('RemoveRule', 't', [rid])
        self.assertNotIn(rid, self.rules())
        self.assertNotIn(PROBE_EXE, read_file(d.learned))
        stats = dict(self.call('GetProgramStats')[0])
        self.assertGreaterEqual(stats[PROBE_EXE]['connections'], 2)
        self.assertGreaterEqual(stats[PROBE_EXE]['denied'], 1)
        perms = self.call('GetPermissions')[0]
        self.assertEqual(set(perms.values()), {'yes'})
        self.assertEqual(self.prop('Backend') in ('iptables', 'nftables'), True)
        # Stats is published once a second: wait for the one that counts the imported rules
        self.wait_for(lambda: self.prop('Stats')['queued'] >= 2, 'Stats queued')
        self.wait_for(lambda: self.prop('Stats')['rules'] >= 3, 'Stats rules', timeout=15)

    def test_a_new_rule_decides_an_open_request(self):
        self.start_vigild()
        agent = self.agent()
        probe = self.probe_async(9000)
        prompt = agent.wait_event('prompt')
        self.call('AddRule', 'a{sv}', [{'action': s('allow'), 'program': s(PROBE_EXE)}])
        cancel = agent.wait_event('cancel')
        self.assertEqual((cancel['request'], cancel['reason']), (prompt['request'], 'rule'))
        self.assertEqual(self.probe_result(probe)[0], 'ok')

    def test_get_connections_filters(self):
        self.start_vigild('allow app %s\ndeny app %s port 80\n' % (PROBE_EXE, PROBE_EXE))
        self.assertEqual(self.probe_result(self.probe_async(9000))[0], 'ok')
        self.assertEqual(self.probe_result(self.probe_async(80))[0], 'error')
        self.assertDecision(self.d, port=80)
        every = self.call('GetConnections', 'a{sv}', [{}])[0]
        ids = [c['id'] for c in every]
        self.assertEqual(ids, sorted(ids))
        denied = self.call('GetConnections', 'a{sv}', [{'verdict': s('deny')}])[0]
        self.assertTrue(denied)
        self.assertTrue(all(c['verdict'] == 'deny' and c['reason'] == 'rule' and 'rule' in c
                            for c in denied))
        self.assertEqual(denied[-1]['port'], 80)
        after = self.call('GetConnections', 'a{sv}', [{'after': GLib.Variant('t', ids[-2])}])[0]
        self.assertEqual([c['id'] for c in after], ids[-1:])
        last = self.call('GetConnections', 'a{sv}', [{'limit': u(1)}])[0]
        self.assertEqual([c['id'] for c in last], ids[-1:])
        mine = self.call('GetConnections', 'a{sv}', [{'program': s(PROBE_EXE)}])[0]
        self.assertTrue(mine and all(c['program'] == PROBE_EXE for c in mine))


class UntilQuit(DBusTestCase):
    def test_saved_until_quit_rules_of_gone_processes_are_dropped_at_start(self):
        alive = subprocess.Popen(['sleep', '600'])
        self.addCleanup(alive.wait)
        self.addCleanup(alive.kill)
        with open('/proc/%d/stat' % alive.pid) as f:
            start = f.read().rsplit(')', 1)[1].split()[19]
        d = self.start_vigild(learned='allow user 0 port 1111 until-quit 999999999:5 id 3\n'
                                      'allow user 0 port 2222 until-quit %d:%s id 4\n'
                                      'allow user 0 port 3333 until-quit %d:1 id 5\n'
                                      % (alive.pid, start, alive.pid))
        ports = sorted(r.get('port') for r in self.rules().values())
        self.assertEqual(ports, ['2222'], 'the rules of gone (or reused) pids are dropped')
        self.assertNotIn('1111', read_file(d.learned))
        alive.kill()
        alive.wait()
        self.wait_for(lambda: not self.rules(), "the live process's rule to end")
        self.assertNotIn('2222', read_file(d.learned))

    def test_until_quit_rule_ends_with_the_process(self):
        self.start_vigild()
        agent = self.agent()
        client = self.connect_async(9000, 1, wait=True)
        prompt = agent.wait_event('prompt')
        self.assertTrue(agent.reply(prompt['request'], 'allow', duration='until-quit')['ok'])
        self.assertEqual(json.loads(client.stdout.readline())['ok'], 1)
        rule = [r for r in self.rules().values() if r.get('program') == PYTHON_EXE][0]
        self.assertEqual((rule['lifetime'], rule['pid']), ('until-quit', client.pid))
        # while the process lives the rule decides: no prompt
        client.stdin.write('\n')
        client.stdin.flush()
        self.assertEqual(json.loads(client.stdout.readline())['ok'], 1)
        agent.no_event('prompt', 0.3)
        client.stdin.write('\n')
        client.stdin.flush()
        client.wait(10)
        self.wait_for(lambda: rule['id'] not in self.rules(), 'the rule to end')


if __name__ == '__main__':
    unittest.main(verbosity=2)
