#!/usr/bin/python3
"""Prompt agents that never answer cannot starve vigild's polkit checks.

dbus-daemon lets a connection wait for at most 128 replies (max_replies_per_connection, the
default of Debian's system.conf, from which the test bus is made): vigild's calls to agents
and its polkit checks share them. A user (nobody) registers 8 agents that never answer and
makes 32 connections no rule covers: 32 requests, 256 Prompt calls. The old vigild sent them
all; dbus-daemon refused its calls beyond 128, its polkit checks among them, so for the 10 s
the Prompt calls took to time out an administrator's AddRule was denied (any polkit error
denies) and another user's prompt failed (DefaultAction, unasked). Now vigild keeps at most
24 agent calls in flight (8 for one user): the administrator is answered, another user is
asked at once, the silent agents' prompts wait in vigild and are still sent later, and no
connection of the flood gets through.
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
sys.path.insert(0, os.path.join(HERE, '..', 'dbus'))

from test_dbus import AgentProcess, NOBODY, PYTHON, wait_until  # noqa: E402
from test_dbus_attack import SLOW, AttackTestCase, args, v, vardict  # noqa: E402

from gi.repository import GLib  # noqa: E402

SILENT = os.path.join(HERE, 'silent-agents.py')
ADMIN = 2  # bin, standing for a desktop user who authenticates as an administrator
AGENTS = 8  # the most one user may register
REQUESTS = 32  # the most open requests one user may have
PER_USER = 8  # vigild's bound on one user's agent calls in flight (daemon/vigil-agents.h)
CALL_TIMEOUT_S = 10


class SilentAgents(AttackTestCase):
    config = {'DefaultAction': 'deny'}  # PromptTimeout 30 (start_vigild)

    def prompts_seen(self, agent):
        """Prompt calls the silent agents took so far (all their events read)."""
        while not agent.events.empty():
            agent.next_event(timeout=1)
        return sum(1 for e in agent.seen if e['event'] == 'prompt')

    def test_silent_agents_leave_room_for_polkit_and_other_users(self):
        silent = AgentProcess(self.env, uid=NOBODY, argv=[PYTHON, SILENT, str(AGENTS)])
        self.addCleanup(silent.stop)
        root_agent = self.agent()
        start = time.monotonic()
        probes = [self.probe_async(22000 + i, user=NOBODY, timeout_ms=60000)
                  for i in range(REQUESTS)]
        # the prompts vigild sends at once, and no more for a second
        wait_until(lambda: self.prompts_seen(silent) >= PER_USER, 20, 'the first prompts')
        print('first %d prompts after %.1f s' % (PER_USER, time.monotonic() - start))
        seen = -1
        while seen != self.prompts_seen(silent):
            seen = self.prompts_seen(silent)
            time.sleep(1.0)
        print('silent agents hold %d prompt calls %.1f s after the flood began'
              % (seen, time.monotonic() - start))
        # vigild's first call to them times out CALL_TIMEOUT_S after it was sent; what follows
        # must be checked before (a second's margin for the call's way to the agent). Counted
        # from the call's arrival, not the test's start: starting 32 probes under ASan on a
        # loaded machine took 8.6 s.
        first_call = min(e['at'] for e in silent.seen if e['event'] == 'prompt')
        window_ends = first_call + CALL_TIMEOUT_S - 1
        self.assertLess(time.monotonic(), window_ends, 'the flood took too long')

        # an administrator's polkit-gated call is answered meanwhile (old: PermissionDenied,
        # the bus refused vigild's CheckAuthorization)
        called = time.monotonic()
        res = self.attack('AddRule', args(vardict([('action', v('s', 'deny')),
                                                   ('user', v('s', 'all')),
                                                   ('port', v('s', '7'))])), ADMIN)
        self.assertEqual(res['answers'], {'ok': 1}, res)
        self.assertLess(time.monotonic() - called, 5 * SLOW)

        # another user is asked at once (old: the Prompt call failed, DefaultAction)
        probe = self.probe_async(9000, timeout_ms=30000)
        prompt = root_agent.wait_event('prompt', timeout=5)
        self.assertTrue(root_agent.reply(prompt['request'], 'allow')['ok'])
        self.assertEqual(self.probe_result(probe)[0], 'ok')
        self.assertLess(time.monotonic(), window_ends,
                        'checked after the silent agents\' calls timed out: proves nothing')

        # the bound held: at most one user's share of calls to the silent agents at a time
        self.assertLessEqual(seen, PER_USER)
        # the prompts that waited are still sent once the first calls time out
        wait_until(lambda: self.prompts_seen(silent) > PER_USER, 2 * CALL_TIMEOUT_S + 10,
                   'the waiting prompts to be sent')

        # nothing of the flood got through: asked, not answered, DefaultAction (deny)
        results = [self.probe_result(p, timeout=90)[:2] for p in probes]
        self.assertEqual([r for r in results if r[0] == 'ok'], [])
        found = self.call('GetConnections', 'a{sv}', [{'uid': GLib.Variant('u', NOBODY)}])[0]
        self.assertEqual({c['verdict'] for c in found}, {'deny'})
        self.assertEqual(len(found), REQUESTS)
        self.assertUnharmed()


if __name__ == '__main__':
    unittest.main(verbosity=2)
