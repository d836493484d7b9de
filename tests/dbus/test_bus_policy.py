"""test_bus_policy.py: data/org.vigil.Firewall1.conf on a bus that enforces Debian's system policy.

A root process plays vigild (it owns org.vigil.Firewall1 and serves the real introspected
interface); a process running as uid 65534 plays a user's prompt agent (policy-peer.py).
Checked: only root may own the name; the user may call vigild and gets replies; vigild may
call the agent the user exports (Prompt, Notify) and gets replies; nobody else may call
the agent; and without our policy file the same bus denies all of it, so it is our
policy that makes it work. Needs root (setpriv).
"""

import json
import os
import subprocess
import sys
import unittest

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bus  # noqa: E402

PEER = os.path.join(bus.HERE, 'policy-peer.py')
ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'
PERMISSIONS = {'org.vigil.firewall.read': 'yes', 'org.vigil.firewall.configure': 'auth'}
REQUEST_ID = 42
CONNECTION = {
    'program': GLib.Variant('s', '/usr/bin/curl'),
    'uid': GLib.Variant('u', bus.NOBODY),
    'destination': GLib.Variant('s', '192.0.2.1'),
    'port': GLib.Variant('q', 443),
    'protocol': GLib.Variant('s', 'tcp'),
    'timeout': GLib.Variant('u', 30),
}


def error_name(error):
    return Gio.DBusError.get_remote_error(error) or error.message


def request_name(conn, name):
    """The RequestName reply code (1: primary owner) or the error name."""
    try:
        reply = conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                               'org.freedesktop.DBus', 'RequestName',
                               GLib.Variant('(su)', (name, 4)), GLib.VariantType('(u)'),
                               Gio.DBusCallFlags.NONE, 5000, None)
        return reply.unpack()[0]
    except GLib.Error as e:
        return error_name(e)


def unix_user(conn, name):
    reply = conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                           'GetConnectionUnixUser', GLib.Variant('(s)', (name,)),
                           GLib.VariantType('(u)'), Gio.DBusCallFlags.NONE, 5000, None)
    return reply.unpack()[0]


class FakeVigild:
    """Serves org.vigil.Firewall1 from the real XML: answers GetPermissions, prompts the
    agent that registers, and notifies it after its Reply."""

    def __init__(self, conn):
        self.conn = conn
        self.calls = []  # (method, sender, uid, args)
        self.outgoing = {}  # agent method -> True or the error name
        info = bus.load_interface(bus.FIREWALL_XML, bus.INTERFACE)
        conn.register_object(bus.OBJECT_PATH, info, self.method_call, None, None)

    def method_call(self, conn, sender, path, iface, method, params, invocation):
        self.calls.append((method, sender, unix_user(conn, sender), params.unpack()))
        if method == 'GetPermissions':
            invocation.return_value(GLib.Variant('(a{ss})', (PERMISSIONS,)))
        elif method == 'RegisterAgent':
            invocation.return_value(None)
            agent = (sender, params.unpack()[0])
            self.call_agent(agent, bus.AGENT_INTERFACE, 'Prompt',
                            GLib.Variant('(ta{sv})', (REQUEST_ID, CONNECTION)))
            # the root allowance is for the agent interface only
            self.call_agent(agent, 'org.freedesktop.DBus.Peer', 'Ping', None)
        elif method == 'Reply':
            invocation.return_value(None)
            agent = next((c[1], c[3][0]) for c in self.calls if c[0] == 'RegisterAgent')
            self.call_agent(agent, bus.AGENT_INTERFACE, 'Notify',
                            GLib.Variant('(sa{sv})', ('message', {
                                'message': GLib.Variant('s', 'test'),
                                'level': GLib.Variant('s', 'info')})))
        else:
            invocation.return_dbus_error('org.vigil.Firewall1.Error.Failed', 'not in this test')

    def call_agent(self, agent, iface, method, params):
        def done(conn, result):
            try:
                conn.call_finish(result)
                self.outgoing[method] = True
            except GLib.Error as e:
                self.outgoing[method] = error_name(e)

        self.conn.call(agent[0], agent[1], iface, method, params, None, Gio.DBusCallFlags.NONE,
                       5000, None, done)


def run_peer(test_bus, mode, stdin=None):
    return subprocess.Popen(bus.as_user_argv(bus.NOBODY) + [bus.PYTHON, PEER, mode],
                            env=test_bus.env(), stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def run_loop_until_exit(process, timeout_s=30):
    """Serves D-Bus calls until @process exits; returns its (stdout, stderr)."""
    loop = GLib.MainLoop()
    GLib.child_watch_add(GLib.PRIORITY_DEFAULT, process.pid, lambda *a: loop.quit())
    timed_out = []

    def on_timeout():
        timed_out.append(True)
        loop.quit()
        return GLib.SOURCE_REMOVE

    timer = GLib.timeout_add_seconds(timeout_s, on_timeout)
    loop.run()
    if timed_out:
        process.kill()
    else:
        GLib.source_remove(timer)
    out, err = process.communicate()
    if timed_out:
        raise AssertionError(f'the peer did not finish in {timeout_s} s: {err}')
    return out, err


class BusPolicyTest(unittest.TestCase):
    def test_agent_pattern_under_the_real_policy(self):
        with bus.PrivateSystemBus() as test_bus:
            conn = test_bus.connect()
            self.assertEqual(request_name(conn, bus.BUS_NAME), 1, 'root must own the name')
            vigild = FakeVigild(conn)

            peer = run_peer(test_bus, 'agent')
            out, err = run_loop_until_exit(peer)
            self.assertEqual(peer.returncode, 0, err)
            result = json.loads(out)
            log = test_bus.daemon_log()

        self.assertEqual(result['uid'], bus.NOBODY)
        self.assertEqual(result['own'], ACCESS_DENIED, 'a user must not own org.vigil.Firewall1')
        # user -> vigild, and vigild's reply back
        self.assertEqual(result['get_permissions'], [True, [PERMISSIONS]])
        self.assertEqual(result['spoofed_prompt'], [False, ACCESS_DENIED],
                         'another user connection must not reach an agent')
        self.assertEqual(result['register'], [True, None])

        registered = [c for c in vigild.calls if c[0] == 'RegisterAgent']
        self.assertEqual(len(registered), 1)
        self.assertEqual(registered[0][1], result['unique_name'])
        self.assertEqual(registered[0][2], bus.NOBODY, 'vigild sees the caller uid')

        # vigild -> agent, and the agent's reply back to root
        self.assertEqual(vigild.outgoing.get('Prompt'), True, log)
        prompts = [c for c in result['agent_calls'] if c['method'] == 'Prompt']
        self.assertEqual(len(prompts), 1, result['agent_calls'])
        self.assertEqual(prompts[0]['args'][0], REQUEST_ID)
        self.assertEqual(prompts[0]['args'][1]['program'], '/usr/bin/curl')
        self.assertEqual(prompts[0]['args'][1]['port'], 443)
        self.assertTrue(prompts[0]['from_firewall_owner'],
                        'the agent can tell the prompt came from the owner of the name')

        # the agent's answer reaches vigild
        self.assertEqual(result['reply'], [True, None])
        replies = [c for c in vigild.calls if c[0] == 'Reply']
        self.assertEqual(len(replies), 1)
        self.assertEqual(replies[0][1], result['unique_name'])
        self.assertEqual(replies[0][3], (REQUEST_ID, 'allow', {'duration': 'once'}))

        self.assertEqual(vigild.outgoing.get('Notify'), True, log)
        self.assertIn('Notify', [c['method'] for c in result['agent_calls']])
        # root may call the agent interface, not anything else of a user's connection
        self.assertEqual(vigild.outgoing.get('Ping'), ACCESS_DENIED)

    def test_the_same_bus_without_our_policy_denies_it_all(self):
        # a control: the system policy alone denies each thing the test above needs
        with bus.PrivateSystemBus(policy_files=[bus.POLKIT_MOCK_POLICY]) as test_bus:
            conn = test_bus.connect()
            self.assertEqual(request_name(conn, bus.BUS_NAME), ACCESS_DENIED)

            peer = run_peer(test_bus, 'idle-agent', stdin=subprocess.PIPE)
            agent_name = peer.stdout.readline().strip()
            if not agent_name.startswith(':'):
                peer.kill()
                self.fail('the peer did not start: ' + peer.communicate()[1])
            try:
                conn.call_sync(agent_name, '/org/vigil/Firewall1/Agent/test',
                               bus.AGENT_INTERFACE, 'Prompt',
                               GLib.Variant('(ta{sv})', (REQUEST_ID, CONNECTION)), None,
                               Gio.DBusCallFlags.NONE, 5000, None)
                outcome = 'delivered'
            except GLib.Error as e:
                outcome = error_name(e)
            out, err = peer.communicate(input='', timeout=10)
            self.assertEqual(peer.returncode, 0, err)

            sender = subprocess.run(
                bus.as_user_argv(bus.NOBODY) + [
                    'dbus-send', '--system', '--print-reply', '--dest=' + conn.get_unique_name(),
                    bus.OBJECT_PATH, bus.INTERFACE + '.GetPermissions'],
                env=test_bus.env(), capture_output=True, text=True, timeout=10)

        self.assertEqual(outcome, ACCESS_DENIED, 'system.conf alone lets root call agents?')
        self.assertEqual(json.loads(out.splitlines()[-1])['agent_calls'], [])
        self.assertNotEqual(sender.returncode, 0)
        self.assertIn(ACCESS_DENIED, sender.stderr)


if __name__ == '__main__':
    if os.getuid() != 0:
        print('skipped: needs root to run a client as uid 65534', file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
