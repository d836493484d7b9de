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
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'dbus'))

import bus as testbus  # noqa: E402
from vigiltest import E2ETestCase, PEER_V4, PROBE, Vigild  # noqa: E402

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

    def __init__(self, env, uid=None, register=True, answer=None, options=None):
        argv = [PYTHON, AGENT]
        if not register:
            argv.append('--no-register')
        if answer:
            argv += ['--answer', answer, '--options', json.dumps(options or {})]
        if uid is not None:
            argv = testbus.as_user_argv(uid) + argv
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.events = queue.Queue()
        self.seen = []
        self._tag = 0
        threading.Thread(target=self._read, daemon=True).start()
        first = self.next_event(timeout=20)
        if first['event'] not in ('registered', 'connected'):
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
        # vigild inherits it through "ip netns exec"
        old = os.environ.get('DBUS_SYSTEM_BUS_ADDRESS')
        os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = self.bus.address
        self.addCleanup(self._restore_env, old)
        self.conn = self.bus.connect()
        self.addCleanup(self.conn.close_sync, None)
        self.agents = []

    @staticmethod
    def _restore_env(old):
        if old is None:
            os.environ.pop('DBUS_SYSTEM_BUS_ADDRESS', None)
        else:
            os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = old

    def start_vigild(self, rules='', config=None, learned=''):
        cfg = {'DefaultAction': 'deny', 'PromptTimeout': '30'}
        cfg.update(config or {})
        d = self.vigild(rules, cfg, learned, start=False)
        d.start(wait=False)
        d.wait_for_log('on the system bus as org.vigil.Firewall1', timeout=15)
        d.wait_for_log('filtering:')
        self.d = d
        return d

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
        self.assertGreaterEqual(self.prop('Stats')['timed-out'], 1)

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
        words = self.probe_result(probe)
        self.assertEqual(words[:2], ['error', 'ECONNREFUSED'])
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(self.call('GetPending')[0], [])
        self.assertFalse([r for r in self.rules().values() if r.get('program') == PROBE_EXE])

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


if __name__ == '__main__':
    unittest.main(verbosity=2)
