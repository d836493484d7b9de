#!/usr/bin/python3
"""Prompts and agents under attack: a process with the user's uid against a real vigild.

Each test runs a real vigild in network namespaces of its own on a private system bus with a
mock polkitd and real prompt agents (the harness of tests/e2e/test_dbus.py). The adversary
is a program of an ordinary user (uid 65534): it floods vigild with connections, registers
agents of its own, answers prompts faster than a human could, or runs from a path made to
look like rule text. What a user would check is asserted: which connections got out, what
vigild logged, which rules exist.
"""
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
sys.path.insert(0, os.path.join(HERE, '..', 'dbus'))

from test_dbus import (DBusTestCase, AgentProcess, CONNECT, PYTHON, PYTHON_EXE, PROBE_EXE,  # noqa: E402
                       ERR, NOBODY)
from test_vigilctl import VigilctlTestCase  # noqa: E402
from vigiltest import PEER_V4, PROBE, copy_program, wait_until  # noqa: E402

from gi.repository import GLib  # noqa: E402

AGENT_SCRIPT = os.path.normpath(os.path.join(HERE, '..', 'e2e', 'agent.py'))
SLOW_OWNER = os.path.join(HERE, 'slow-owner.py')


class AttackTestCase(DBusTestCase):
    def decisions_of(self, uid, port=None):
        """@uid's decisions (to @port) as GetConnections gives them (the log summarises
        floods), each as {verdict, rule (the reason), port, uid}."""
        found = self.call('GetConnections', 'a{sv}', [{'uid': GLib.Variant('u', uid)}])[0]
        return [{'verdict': c['verdict'], 'rule': c['reason'], 'port': c.get('port'),
                 'uid': c['uid']}
                for c in found if port is None or c.get('port') == port]

    def pending_connections(self, agent):
        """Connections held by the open requests @agent's user can see."""
        res = agent.call('GetPending')
        self.assertTrue(res['ok'], res)
        return sum(p[1]['connections'] for p in res['value'][0])

    def flood(self, port, count, user=NOBODY, timeout_s=30):
        """connect.py: @count parallel TCP connections of one program to PEER_V4:@port."""
        cmd = [PYTHON, CONNECT, PEER_V4, str(port), str(count), str(timeout_s)]
        return self.nets.spawn(self.nets.client, ['setpriv', '--reuid=%d' % user,
                                                  '--regid=%d' % user, '--clear-groups',
                                                  '--'] + cmd,
                               stdout=subprocess.PIPE, text=True)

    def stats(self):
        return self.prop('Stats')


class Volume(AttackTestCase):
    """Issue 13 item 1: no bound lets a connection through unasked while its user has an
    agent; one user's flood does not take the others' room."""

    def test_one_programs_flood_is_never_allowed_unasked(self):
        self.start_vigild(config={'DefaultAction': 'allow'})
        agent = self.agent(uid=NOBODY)
        count = 140  # more than one request holds (128)
        flood = self.flood(9000, count)
        prompt = agent.wait_event('prompt')
        # every connection is either held by the request or already decided
        wait_until(lambda: self.pending_connections(agent)
                   + len(self.decisions_of(NOBODY, 9000)) >= count, 20,
                   'all %d connections to reach vigild' % count)
        self.assertTrue(agent.reply(prompt['request'], 'allow')['ok'])
        result = json.loads(flood.stdout.readline())
        decisions = wait_until(lambda: [d for d in [self.decisions_of(NOBODY, 9000)]
                                        if len(d) >= count], 10, 'every decision')[0]
        unasked = [d for d in decisions if d['verdict'] == 'allow' and d['rule'] != 'reply']
        self.assertEqual(unasked, [], 'connections allowed without the answer')
        overflow = [d for d in decisions if d['rule'] == 'overflow']
        self.assertGreaterEqual(len(overflow), count - 128, decisions)
        self.assertEqual({d['verdict'] for d in overflow}, {'deny'})
        self.assertEqual({d['rule'] for d in decisions}, {'reply', 'overflow'})
        # what the program saw: the held ones went out with the answer, the others failed
        self.assertEqual(result['ok'] + result['refused'], count, result)
        self.assertGreaterEqual(result['refused'], count - 128, result)
        # Stats is refreshed once a second
        wait_until(lambda: self.stats().get('overflowed', 0) >= count - 128, 5,
                   'Stats to count the overflow')
        self.assertIn('overflow', self.d.log())
        self.assertIsNone(self.d.proc.poll())

    def test_another_user_is_still_asked_while_one_floods(self):
        self.start_vigild(config={'DefaultAction': 'allow'})
        flooder = self.agent(uid=NOBODY)
        other = self.agent()  # root: the second user
        # 16 programs' worth of requests, 130 connections each: more held connections
        # than all users together could hold before (2048)
        ports = range(20000, 20016)
        floods = [self.flood(port, 130) for port in ports]
        wait_until(lambda: self.pending_connections(other)
                   + len(self.decisions_of(NOBODY)) >= 130 * len(ports), 60,
                   'the flood to reach vigild')
        probe = self.probe_async(9000)
        prompt = other.wait_event('prompt', timeout=10)
        self.assertEqual(prompt['connection']['uid'], 0)
        self.assertEqual(prompt['connection']['port'], 9000)
        time.sleep(0.5)
        self.assertIsNone(probe.poll(), 'the connection waits for the answer')
        self.assertTrue(other.reply(prompt['request'], 'allow')['ok'])
        words = self.probe_result(probe)
        self.assertEqual(words[0], 'ok', words)
        self.assertEqual(self.decisions_of(0, 9000),
                         [{'verdict': 'allow', 'rule': 'reply', 'port': 9000, 'uid': 0}])
        # the flood did go past the flooder's share, and was denied, not allowed
        flooded = self.decisions_of(NOBODY)
        self.assertIn('overflow', {d['rule'] for d in flooded})
        self.assertEqual([d for d in flooded if d['verdict'] == 'allow'], [])
        for f in floods:
            f.kill()
        flooder.stop()
        self.assertIsNone(self.d.proc.poll())


class RuleFromAnswer(AttackTestCase):
    """Issue 14 item 10: a rule made from an answer names the program's file, whatever
    characters its path holds; nothing of the path is read as rule text."""

    # a newline, a space and '#' (and quotes and a backslash); and a newline followed by
    # keywords, which read as rule text would name another file ("<dir>/probe")
    NAMES = ['probe #1 "x"\\\nallow app any', 'probe\nargs\n*']

    def executable_named(self, name):
        """A copy of vigil-probe (a real ELF) at <new dir>/@name, runnable by anyone."""
        return copy_executable(self, PROBE, name)

    def probe_as_nobody(self, exe, port=9000):
        cmd = ['setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY, '--clear-groups',
               '--', exe, 'tcp', PEER_V4, str(port), '--timeout', '20000']
        return self.nets.spawn(self.nets.client, cmd, stdout=subprocess.PIPE, text=True)

    def test_allow_forever_names_exactly_that_file(self):
        d = self.start_vigild(config={'DefaultAction': 'deny'})
        agent = self.agent(uid=NOBODY)
        made = {}
        for name in self.NAMES:
            path = self.executable_named(name)
            with open(path, 'rb') as f:
                sha = hashlib.sha256(f.read()).hexdigest()
            probe = self.probe_as_nobody(path)
            prompt = agent.wait_event('prompt')
            self.assertEqual(prompt['connection']['program'], path)
            res = agent.reply(prompt['request'], 'allow', duration='forever')
            self.assertTrue(res['ok'], res)
            self.assertEqual(self.probe_result(probe)[0], 'ok')
            rule = [r for r in self.rules().values() if r.get('program') == path]
            self.assertEqual(len(rule), 1, self.rules())
            rule = rule[0]
            made[rule['id']] = path
            # the rule is what the answer said, and nothing of the path became a keyword
            self.assertEqual({k: rule[k] for k in ('action', 'uid', 'program', 'sha256', 'to',
                                                    'port', 'proto', 'lifetime')},
                             {'action': 'allow', 'uid': NOBODY, 'program': path,
                              'sha256': sha, 'to': PEER_V4, 'port': '9000', 'proto': 'tcp',
                              'lifetime': 'forever'})
            self.assertFalse({'args', 'appid', 'until', 'pid'} & set(rule), rule)
            # it decides this file's connections now: no prompt, allowed by that rule
            again = self.probe_as_nobody(path)
            self.assertEqual(self.probe_result(again)[0], 'ok')
            agent.no_event('prompt', 0.3)
        self.assertEqual({rid: r['program'] for rid, r in self.rules().items()}, made)

        # another file is not covered by them: the plain vigil-probe and "<dir>/probe"
        other = self.executable_named('probe')
        for exe in (PROBE_EXE, other):
            probe = self.probe_as_nobody(exe)
            prompt = agent.wait_event('prompt')
            self.assertEqual(prompt['connection']['program'], exe)
            self.assertTrue(agent.reply(prompt['request'], 'deny')['ok'])
            self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])

        # saved one rule a line, and read back the same after a restart
        with open(d.learned, encoding='utf-8') as f:
            lines = [l for l in f.read().splitlines() if l.strip() and not l.startswith('#')]
        self.assertEqual(len(lines), len(self.NAMES), lines)
        agent.stop()
        self.assertEqual(d.stop(), 0)
        d.start(wait=False)
        d.wait_for_log('on the system bus as org.vigil.Firewall1', timeout=15, count=2)
        d.wait_for_log('filtering:', timeout=15, count=2)
        self.assertEqual({rid: r['program'] for rid, r in self.rules().items()}, made)


def copy_executable(test, source, name):
    """A copy of @source at <new dir>/@name that anyone may run: another file, so another
    program to vigild."""
    return copy_program(source, os.path.join(test.shared_dir('vigil-sec-'), name))


class SameUserAgents(AttackTestCase):
    """Issue 14 item 7: any program of the user may register an agent; the user's agents are
    told, an administrator can pin which programs may be agents, and an answer that makes
    a rule cannot come before the user could see the prompt."""

    def agent_with(self, python, uid=NOBODY, extra_env=None, **kw):
        """agent.py run by the python executable at @python (as @uid)."""
        env = dict(self.env, **(extra_env or {}))
        # in vigild's network namespace: with AgentExecutables set, vigild finds who holds
        # an agent's bus connection there (tests/security/test_agent_pin.py)
        a = AgentProcess(env, uid=uid, python=python,
                         prefix=self.nets.exec_args(self.nets.client, []), **kw)
        self.addCleanup(a.stop)
        return a

    def test_agents_are_told_when_another_registers(self):
        self.start_vigild()
        tray = self.agent(uid=NOBODY)
        other_user = self.agent()  # root's agent: not told about nobody's
        evil_python = copy_executable(self, PYTHON_EXE, 'not-a-trojan')
        evil = self.agent_with(evil_python)
        note = tray.wait_event('notify')
        self.assertEqual(note['kind'], 'agent-registered')
        note = note['details']
        self.assertEqual(note['program'], evil_python)
        self.assertEqual(note['pid'], evil.proc.pid)
        self.assertEqual(note['bus-name'], evil.name)
        self.assertEqual((note['uid'], note['user']), (NOBODY, 'nobody'))
        self.assertIn(AGENT_SCRIPT, note['cmdline'])
        # the new agent is not told about itself, nor another user's agent about it
        evil.no_event('notify', 0.5)
        other_user.no_event('notify', 0.1)
        # both get the user's prompts (the reason to tell)
        probe = self.probe_async(9000, user=NOBODY)
        request = tray.wait_event('prompt')['request']
        self.assertEqual(evil.wait_event('prompt')['request'], request)
        self.assertTrue(tray.reply(request, 'deny')['ok'])
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])

    def test_only_allowed_executables_may_be_agents(self):
        allowed = copy_executable(self, PYTHON_EXE, 'vigil-agent')
        link = os.path.join(os.path.dirname(allowed), 'also-the-agent')
        os.link(allowed, link)  # the same file by another name: the same program
        self.start_vigild(config={'AgentExecutables': '/usr/bin/vigil-tray;' + allowed})
        tray = self.agent_with(allowed)
        self.agent_with(link)
        for python, env in ((PYTHON_EXE, None),
                            (copy_executable(self, allowed, 'vigil-agent'), None),
                            (allowed, {'LD_PRELOAD': 'libm.so.6'})):
            res = AgentProcess(dict(self.env, **(env or {})), uid=NOBODY, python=python,
                               expect_failure=True,
                               prefix=self.nets.exec_args(self.nets.client, []))
            self.addCleanup(res.stop)
            self.assertEqual(res.failure['error'], ERR + 'PermissionDenied', res.failure)
            self.assertIn('AgentExecutables' if env is None else 'preloaded',
                          res.failure['message'])
        # the refused ones are no agents: the allowed ones alone get the prompt
        probe = self.probe_async(9000, user=NOBODY)
        prompt = tray.wait_event('prompt')
        self.assertEqual(len(self.call('GetPending')[0]), 1)
        self.assertTrue(tray.reply(prompt['request'], 'allow')['ok'])
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        # Stats is published once a second: wait for the count, then it must be exactly 2
        wait_until(lambda: self.stats()['agents'] == 2, 10,
                   'Stats to count the two allowed agents')

    def test_a_rule_is_not_made_in_the_first_second(self):
        self.start_vigild()
        self.agent(uid=NOBODY)  # the user's own agent, slower than the attacker's
        evil = self.agent(uid=NOBODY)
        probe = self.probe_async(9000, user=NOBODY)
        prompt = evil.wait_event('prompt')
        asked = time.monotonic()
        res = evil.send(cmd='reply', request=prompt['request'], verdict='allow',
                        options={'duration': 'forever', 'host-scope': 'any'}, retry=False)
        self.assertEqual(res['error'], ERR + 'TooSoon', res)
        self.assertLess(time.monotonic() - asked, 1.0, 'the refusal came in the first second')
        # nothing happened: the request is open, the connection waits, no rule
        self.assertEqual([p[0] for p in self.call('GetPending')[0]], [prompt['request']])
        self.assertIsNone(probe.poll())
        self.assertEqual(self.rules(), {})
        # a second later the same answer is taken
        time.sleep(max(0, asked + 1.1 - time.monotonic()))
        res = evil.send(cmd='reply', request=prompt['request'], verdict='deny',
                        options={'duration': 'forever'}, retry=False)
        self.assertTrue(res['ok'], res)
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])
        self.assertEqual([r['action'] for r in self.rules().values()], ['deny'])
        # "once" is taken at once: it makes no rule
        probe = self.probe_async(8080, user=NOBODY)
        prompt = evil.wait_event('prompt')
        self.assertTrue(evil.send(cmd='reply', request=prompt['request'], verdict='allow',
                                  retry=False)['ok'])
        self.assertEqual(self.probe_result(probe)[0], 'ok')


class Promises(AttackTestCase):
    """Issue 14, "Promises": what the documentation says, held by a test that fails when the
    code stops doing it."""

    def shutdown_with_prompt_open(self, default_action):
        d = self.start_vigild(config={'DefaultAction': default_action})
        agent = self.agent(uid=NOBODY)
        probe = self.probe_async(9000, user=NOBODY, timeout_ms=30000)
        prompt = agent.wait_event('prompt')
        time.sleep(0.3)
        self.assertIsNone(probe.poll(), 'the connection waits for the answer')
        self.assertEqual(d.stop(), 0)
        cancel = agent.wait_event('cancel')
        self.assertEqual((cancel['request'], cancel['reason']), (prompt['request'], 'shutdown'))
        self.assertIn('rule=shutdown', d.log())
        return self.probe_result(probe, timeout=20)

    def test_stopping_gives_the_held_connection_default_deny(self):
        words = self.shutdown_with_prompt_open('deny')
        self.assertEqual(words[:2], ['error', 'ECONNREFUSED'], words)

    def test_stopping_gives_the_held_connection_default_allow(self):
        words = self.shutdown_with_prompt_open('allow')
        self.assertEqual(words[0], 'ok', words)

    def test_at_most_32_open_requests_per_user(self):
        self.start_vigild(config={'DefaultAction': 'allow'})
        agent = self.agent(uid=NOBODY)
        # 33 connections to 33 ports: 33 requests of one user
        probes = [self.probe_async(port, user=NOBODY, timeout_ms=30000)
                  for port in range(21000, 21033)]
        prompts = {agent.wait_event('prompt')['request'] for _ in range(32)}
        # the 33rd is not asked about, and not let through either: denied at once
        denied = wait_until(lambda: [p for p in probes if p.poll() is not None], 15,
                            'the connection beyond the bound to be decided')
        self.assertEqual(len(denied), 1)
        self.assertEqual(self.probe_result(denied[0])[:2], ['error', 'ECONNREFUSED'])
        agent.no_event('prompt', 1.0)
        self.assertEqual({p[0] for p in self.call('GetPending')[0]}, prompts)
        self.assertEqual([d['rule'] for d in self.decisions_of(NOBODY)], ['overflow'])
        # a request answered makes room for the next
        for request in prompts:
            self.assertTrue(agent.reply(request, 'deny')['ok'])
        probe = self.probe_async(9000, user=NOBODY)
        prompt = agent.wait_event('prompt')
        self.assertTrue(agent.reply(prompt['request'], 'allow')['ok'])
        self.assertEqual(self.probe_result(probe)[0], 'ok')

    def test_at_most_8_agents_per_user(self):
        self.start_vigild()
        agents = [self.agent(uid=NOBODY) for _ in range(8)]
        ninth = AgentProcess(self.env, uid=NOBODY, expect_failure=True)
        self.addCleanup(ninth.stop)
        self.assertEqual(ninth.failure['error'], ERR + 'LimitExceeded', ninth.failure)
        # Stats is refreshed once a second
        wait_until(lambda: self.stats()['agents'] == 8, 5, 'Stats to count 8 agents')
        # another user's agent is not counted against this user's
        self.agent()
        # one leaving makes room
        agents[0].stop()
        wait_until(lambda: self.stats()['agents'] == 8, 5, 'the agent to be gone')
        self.agent(uid=NOBODY)

    def test_the_attribution_deadline_is_logged_as_such(self):
        # a program that makes its own lookup outlast the 3 s deadline (64 newer processes
        # with 19,000 fds each to read first: 32 took 2.7 s unloaded) and no rule: DefaultAction
        # at the deadline, logged as the deadline's. (A huge executable whose hash a pinned
        # rule needs no longer waits for the deadline: e2e BigProgram.
        # test_huge_program_not_waited_for.) The /proc search's deadline: with the kernel's
        # record (eBPF) there is no slow lookup to make.
        d = self.start_vigild('', config={'DefaultAction': 'allow', 'Attribution': 'queue'})
        start = time.monotonic()
        res = self.nets.client_run(['setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY,
                                    '--clear-groups', '--', PYTHON, SLOW_OWNER, PEER_V4,
                                    '9000', '64', '19000'], timeout=180)
        waited = time.monotonic() - start
        self.assertEqual(res.stdout.split()[:1], ['ok'], res.stdout + res.stderr)
        self.assertGreater(waited, 2.5, 'the lookup was not slow: nothing was tested')
        line = wait_until(lambda: [l for l in d.log().splitlines()
                                   if ' port=9000 ' in l and 'vigil-decision' in l], 10,
                          'the decision line')[0]
        self.assertIn(' rule=deadline ', line)
        self.assertIn({'verdict': 'allow', 'rule': 'deadline', 'port': 9000, 'uid': NOBODY},
                      self.decisions_of(NOBODY, 9000))

    def test_a_slow_lookup_still_meets_deny_app_unknown(self):
        # a program that makes its own lookup outlast the deadline (64 newer processes with
        # 19,000 fds each to read first) is an unknown program then: "deny app unknown"
        # decides it, not DefaultAction=allow (the old code skipped "app unknown" rules)
        # the /proc search's deadline: with the kernel's record (eBPF) the program is known
        # without any search, and there is no slow lookup to make
        d = self.start_vigild('deny app unknown\n',
                              config={'DefaultAction': 'allow', 'Attribution': 'queue'})
        rule_id = list(self.rules().keys())[0]
        start = time.monotonic()
        res = self.nets.client_run(['setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY,
                                    '--clear-groups', '--', PYTHON, SLOW_OWNER, PEER_V4,
                                    '9000', '64', '19000'], timeout=180)
        waited = time.monotonic() - start
        self.assertEqual(res.stdout.split()[:1], ['refused'],
                         res.stdout + res.stderr + '\n'.join(
                             l for l in d.log().splitlines() if ' port=9000 ' in l))
        self.assertGreater(waited, 2.5, 'the lookup was not slow: nothing was tested')
        line = wait_until(lambda: [l for l in d.log().splitlines()
                                   if 'program=unknown ' in l and ' port=9000 ' in l], 10,
                          'the decision line')[0]
        self.assertIn(' rule=%s ' % rule_id, line)
        self.assertEqual([(x['verdict'], x['rule']) for x in self.decisions_of(NOBODY, 9000)],
                         [('deny', 'rule')])


class VigilctlAgent(VigilctlTestCase):
    def test_vigilctl_prompt_shows_another_agent(self):
        self.start_vigild()
        term = self.terminal('prompt', uid=NOBODY)
        term.expect(r'Registered with vigild')
        evil_python = copy_executable(self, PYTHON_EXE, 'not-a-trojan')
        evil = AgentProcess(self.env, uid=NOBODY, python=evil_python)
        self.addCleanup(evil.stop)
        term.expect(r'Another prompt agent registered for you: %s \(pid %d, %s\)'
                    % (re.escape(evil_python), evil.proc.pid, re.escape(evil.name)))
        # an answer typed at once still makes its rule: vigilctl sends it again after TooSoon
        probe = self.probe_async(9000, user=NOBODY)
        term.expect(r'\[a\]llow')
        term.type('d f h p')
        term.expect(r'Answered request \d+')
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])
        self.assertEqual([r['action'] for r in self.rules().values()], ['deny'])


if __name__ == '__main__':
    unittest.main(verbosity=2)
