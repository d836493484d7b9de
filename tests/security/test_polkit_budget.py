#!/usr/bin/python3
"""vigild's calls that wait for answers, against a few uids that flood it.

dbus-daemon lets a connection wait for at most 128 replies (max_replies_per_connection on
the system bus): beyond, vigild's calls fail at once, its polkit checks too, and a failed
check denies. A real vigild in network namespaces of its own on a private system bus made
from Debian's system.conf (so with that default), and a mock polkitd that holds the checks
of the read action (the harness of tests/security/test_dbus_attack.py). The flooders are
uids 65534 and 33; the administrator who must still be answered is uid 2 (polkit allows it;
the mock does not look at the subject). The agent-registered notifications a
registration flood would send are coalesced (issue 14 review, item e).
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))
sys.path.insert(0, os.path.join(HERE, '..', 'dbus'))

from test_dbus import OWN, READ, REPLY, wait_until  # noqa: E402
from test_dbus_attack import ERR, SLOW, AttackTestCase, args, v, vardict  # noqa: E402

# users every Debian has (dbus-daemon refuses a uid without a passwd entry)
FLOODERS = (65534, 33)  # nobody, www-data
ADMIN = 2  # bin, standing for a desktop user who authenticates as an administrator
# vigild's budget (daemon/vigil-polkit.h): 96 checks in flight; a uid with 8 or more may only
# fill it up to 64 (the last 32 are for uids with fewer than 8); a uid has at most 64 calls
IN_FLIGHT_MAX, RESERVED, SHARE, PER_UID = 96, 32, 8, 64


class PolkitBudget(AttackTestCase):
    def settle(self):
        """Waits until the mock polkitd holds as many checks for a second."""
        held = -1
        while held != self.polkit.hanging_call_count():
            held = self.polkit.hanging_call_count()
            time.sleep(1.0)

    def admin_is_answered(self):
        """An administrator (not root) adding a rule for all users is still asked about,
        and answered at once (the old code: PermissionDenied, the bus refused the check).
        Returns a check of the rule, to call once reading is no longer held."""
        start = time.monotonic()
        res = self.attack('AddRule', args(vardict([('action', v('s', 'deny')),
                                                   ('user', v('s', 'all')),
                                                   ('port', v('s', '7'))])), ADMIN)
        self.assertEqual(res['answers'], {'ok': 1}, res)
        self.assertLess(time.monotonic() - start, 10 * SLOW)
        return lambda: self.assertIn('7', [r.get('port') for r in self.rules().values()])

    def flood(self, uid):
        """300 GetRules calls of @uid over 150 connections, their checks held by polkit."""
        return self.attack('GetRules', uid=uid, repeat=2, window=2, connections=150,
                           background=True)

    def test_a_few_uids_cannot_take_the_checks_of_an_administrator(self):
        self.polkit.simulate_hang_actions([READ])
        first = self.flood(FLOODERS[0])
        wait_until(lambda: self.polkit.hanging_call_count() >= PER_UID, 60,
                   'the first uid to take its calls')
        second = self.flood(FLOODERS[1])
        wait_until(lambda: self.polkit.hanging_call_count() >= PER_UID + SHARE, 60,
                   'the second uid to take its share')
        self.settle()
        # the old code: PermissionDenied, as vigild waited for 128 replies already, all the bus
        # allows it, and its check failed
        rule_made = self.admin_is_answered()
        # the second gets its share out of the reserve, no more (the old code: 64 more)
        self.assertEqual(self.polkit.hanging_call_count(), PER_UID + SHARE)
        # (released within polkit's 30 s: vigild denies a check that takes longer)
        self.release_checks()
        rule_made()
        res = first()
        self.assertEqual(res['answers'], {'ok': PER_UID, ERR + 'Busy': 300 - PER_UID}, res)
        res = second()
        self.assertEqual(res['answers'], {'ok': SHARE, ERR + 'Busy': 300 - SHARE}, res)
        self.assertIn('polkit', res['messages'][ERR + 'Busy'])
        self.assertUnharmed()

    def test_one_uid_never_takes_the_whole_budget(self):
        # GetPermissions asks polkit five times per call, three of them held here: a uid's
        # 64 calls would be 192 checks
        self.polkit.simulate_hang_actions([READ, REPLY, OWN])
        flood = self.attack('GetPermissions', uid=FLOODERS[0], repeat=2, window=2,
                            connections=40, background=True)
        wait_until(lambda: self.polkit.hanging_call_count() > SHARE, 60,
                   'the checks of one uid')
        self.settle()
        # (the old code: 81 or more, and the administrator's check failed)
        self.assertLessEqual(self.polkit.hanging_call_count(), IN_FLIGHT_MAX - RESERVED)
        rule_made = self.admin_is_answered()
        self.release_checks()
        rule_made()
        res = flood()
        self.assertEqual(res['no_answer'], 0, res)
        self.assertUnharmed()


def count(details):
    """The registrations a note stands for (the old code sent one each, without a count)."""
    return details.get('count', 1)


class RegistrationFlood(AttackTestCase):
    """A registration flood is not a notification flood: at most one agent-registered note
    per user in 5 s, counting the registrations it stands for."""

    def notes(self, agent, timeout):
        """agent-registered notes @agent got so far, or within @timeout s, with the time each
        came (a note that is not agent-registered fails)."""
        found = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = agent.next_event(timeout=max(0.01, deadline - time.monotonic()))
            except AssertionError:
                break
            if event['event'] == 'notify':
                self.assertEqual(event['kind'], 'agent-registered', event)
                found.append((time.monotonic(), event['details']))
        return found

    def test_agent_registered_notes_are_coalesced(self):
        tray = self.agent(uid=FLOODERS[0])
        other = self.agent()  # root's: told nothing about nobody's agents
        flood = self.agent(uid=FLOODERS[0])
        cycles = 30
        start = time.monotonic()
        for _ in range(cycles):
            self.assertTrue(flood.send(cmd='unregister')['ok'])
            self.assertTrue(flood.send(cmd='register')['ok'])
        took = time.monotonic() - start
        # every registration is counted in a note, at most one note per 5 s
        # (the old code sent one per registration: 31 notes at once)
        notes = []
        while sum(count(n[1]) for n in notes) < cycles + 1:
            more = self.notes(tray, 15)
            self.assertTrue(more, 'no note for %d registrations: %r'
                            % (cycles + 1 - sum(count(n[1]) for n in notes), notes))
            notes += more
        self.assertEqual(sum(count(n[1]) for n in notes), cycles + 1, notes)
        self.assertEqual(count(notes[0][1]), 1, 'the first is told at once')
        # one at once, then one per 5 s the flood lasted, and one for its end
        self.assertLessEqual(len(notes), 2 + int(took / 5), (took, notes))
        for _, details in notes:
            self.assertEqual(details['bus-name'], flood.name)
            self.assertEqual(details['uid'], FLOODERS[0])
        self.assertEqual(self.notes(tray, 6), [])
        # the flooding agent is not told about itself, nor another user's agent
        self.assertFalse([e for e in flood.seen if e['event'] == 'notify'], flood.seen)
        other.no_event('notify', 0.1)
        # after a quiet interval, the next registration is told at once
        late = self.agent(uid=FLOODERS[0])
        (_, details), = self.notes(tray, 3)
        self.assertEqual((details['bus-name'], details['count']), (late.name, 1))
        self.assertUnharmed()


if __name__ == '__main__':
    unittest.main(verbosity=2)
