#!/usr/bin/python3
"""AgentExecutables against the fork trick: the pin holds for every process that holds the
agent's bus connection, not only for the one that opened it.

A real vigild in network namespaces of its own on a private system bus with a mock polkitd
(the harness of tests/e2e/test_dbus.py). The bus tells vigild which process opened a
connection (GetConnectionUnixProcessID), which says nothing about who uses it now: a program
that is not allowed opens the connection, forks, the parent execs an allowed executable and
the child registers and answers prompts (handoff.py). vigild must refuse that agent, and go
on taking the allowed program run plainly. The agents run in vigild's network namespace:
vigild finds who holds a connection through sock_diag there (an agent whose connection was
made in another one is refused while AgentExecutables is set).
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
sys.path.insert(0, os.path.join(HERE, '..', 'dbus'))

from test_dbus import AgentProcess, ERR, NOBODY, PYTHON_EXE  # noqa: E402
from test_prompts_attack import AttackTestCase, copy_executable, wait_until  # noqa: E402

HANDOFF = os.path.join(HERE, 'handoff.py')


class HeldConnection(AttackTestCase):
    """Issue 14 review (b): every holder of the agent's connection must be allowed."""

    def setUp(self):
        super().setUp()
        self.allowed = copy_executable(self, PYTHON_EXE, 'vigil-agent')
        self.evil = copy_executable(self, PYTHON_EXE, 'not-a-trojan')
        self.start_vigild(config={'AgentExecutables': self.allowed})

    def in_vigild_ns(self):
        return self.nets.exec_args(self.nets.client, [])

    def agent_as(self, python, expect_failure=False, netns=True):
        a = AgentProcess(self.env, uid=NOBODY, python=python, expect_failure=expect_failure,
                         prefix=self.in_vigild_ns() if netns else ())
        self.addCleanup(a.stop)
        return a

    def handoff(self, mode):
        """handoff.py run by the program that is not allowed, as nobody."""
        a = AgentProcess(self.env, uid=NOBODY, expect_failure=True,
                         argv=[self.evil, HANDOFF, self.allowed, mode],
                         prefix=self.in_vigild_ns())
        self.addCleanup(a.stop)
        return a

    def assertRefusedFor(self, agent, program):
        self.assertIsNotNone(agent.failure, 'the agent was registered: %r' % agent.seen)
        self.assertEqual(agent.failure['error'], ERR + 'PermissionDenied', agent.failure)
        self.assertIn(program, agent.failure['message'])

    def test_a_connection_handed_to_another_program_is_refused(self):
        tray = self.agent_as(self.allowed)
        for mode in ('moved', 'shared'):
            with self.subTest(mode=mode):
                attacker = self.handoff(mode)
                # the bus names the allowed program's process for it: vigild looks further
                self.assertRefusedFor(attacker, self.evil)
                self.assertIn('holds', attacker.failure['message'])
        # the refused are no agents: the user's own agent alone is asked, and told of nothing
        probe = self.probe_async(9000, user=NOBODY)
        prompt = tray.wait_event('prompt')
        self.assertEqual(len(self.call('GetPending')[0]), 1)
        self.assertTrue(tray.reply(prompt['request'], 'deny')['ok'])
        self.assertEqual(self.probe_result(probe)[:2], ['error', 'ECONNREFUSED'])
        self.assertFalse([e for e in tray.seen if e['event'] == 'notify'], tray.seen)
        # Stats is refreshed once a second
        wait_until(lambda: self.stats()['agents'] == 1, 5, 'Stats to count the one agent')
        self.assertIn('holds', self.d.log())

    def test_the_allowed_program_run_plainly_is_still_an_agent(self):
        first = self.agent_as(self.allowed)
        second = self.agent_as(self.allowed)
        self.assertIsNone(first.failure)
        self.assertIsNone(second.failure)
        note = first.wait_event('notify')
        self.assertEqual(note['details']['program'], self.allowed)
        # a program that is not allowed, run plainly, is refused as before
        self.assertRefusedFor(self.agent_as(self.evil, expect_failure=True), self.evil)

    def test_a_connection_made_in_another_network_namespace_is_refused(self):
        # vigild cannot see who holds it from its own namespace: it does not guess
        outside = self.agent_as(self.allowed, expect_failure=True, netns=False)
        self.assertIsNotNone(outside.failure, 'registered without a check')
        self.assertEqual(outside.failure['error'], ERR + 'PermissionDenied', outside.failure)
        self.assertIn('network namespace', outside.failure['message'])


if __name__ == '__main__':
    unittest.main(verbosity=2)
