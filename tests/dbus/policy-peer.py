"""policy-peer.py: the unprivileged side of test_bus_policy.py, run as uid 65534 on the test bus.

Modes (argv[1]):
  agent       plays a prompt agent against the fake vigild of test_bus_policy.py: tries to
              own org.vigil.Firewall1, calls it, exports org.vigil.Firewall1.Agent, checks
              that another unprivileged connection cannot call the agent, registers, answers
              the Prompt with Reply and waits for Notify; prints what happened as JSON.
  idle-agent  exports the agent interface, prints its unique name and serves calls until
              stdin closes; prints the calls it got as JSON.
"""

import json
import os
import sys

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bus  # noqa: E402

AGENT_PATH = '/org/vigil/Firewall1/Agent/test'
TIMEOUT_MS = 5000


def error_name(error):
    return Gio.DBusError.get_remote_error(error) or error.message


def call(conn, dest, path, iface, method, signature, args, reply_type=None):
    """(True, unpacked reply) or (False, D-Bus error name)."""
    try:
        reply = conn.call_sync(dest, path, iface, method,
                               GLib.Variant(signature, args) if signature else None,
                               GLib.VariantType(reply_type) if reply_type else None,
                               Gio.DBusCallFlags.NONE, TIMEOUT_MS, None)
        return True, reply.unpack() if reply is not None and reply.n_children() else None
    except GLib.Error as e:
        return False, error_name(e)


def request_name(conn, name):
    ok, value = call(conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                     'RequestName', '(su)', (name, 4), '(u)')
    return value[0] if ok else value


def name_owner(conn, name):
    ok, value = call(conn, 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                     'GetNameOwner', '(s)', (name,), '(s)')
    return value[0] if ok else None


class Agent:
    def __init__(self, conn, on_call):
        self.conn = conn
        self.calls = []
        self.on_call = on_call
        info = bus.load_interface(bus.AGENT_XML, bus.AGENT_INTERFACE)
        self.registration = conn.register_object(AGENT_PATH, info, self.method_call, None, None)

    def method_call(self, conn, sender, path, iface, method, params, invocation):
        entry = {'method': method, 'sender': sender, 'args': params.unpack(),
                 'from_firewall_owner': sender == name_owner(conn, bus.BUS_NAME)}
        self.calls.append(entry)
        invocation.return_value(None)
        self.on_call(entry)


def run_agent():
    results = {'uid': os.getuid()}
    conn = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    results['unique_name'] = conn.get_unique_name()
    results['own'] = request_name(conn, bus.BUS_NAME)
    results['get_permissions'] = call(conn, bus.BUS_NAME, bus.OBJECT_PATH, bus.INTERFACE,
                                      'GetPermissions', None, None, '(a{ss})')
    loop = GLib.MainLoop()

    def on_call(entry):
        if entry['method'] == 'Prompt':
            request = entry['args'][0]
            # Prompt has returned; the answer goes back later, as a real agent's would
            GLib.idle_add(send_reply, request)
        elif entry['method'] == 'Notify':
            loop.quit()

    def send_reply(request):
        results['reply'] = call(conn, bus.BUS_NAME, bus.OBJECT_PATH, bus.INTERFACE, 'Reply',
                                '(tsa{sv})',
                                (request, 'allow', {'duration': GLib.Variant('s', 'once')}))
        return GLib.SOURCE_REMOVE

    agent = Agent(conn, on_call)

    # another unprivileged connection must not be able to fake prompts to the agent
    spoofer = bus.connect(os.environ['DBUS_SYSTEM_BUS_ADDRESS'])
    results['spoofed_prompt'] = call(spoofer, conn.get_unique_name(), AGENT_PATH,
                                     bus.AGENT_INTERFACE, 'Prompt', '(ta{sv})', (7, {}))
    spoofer.close_sync(None)

    results['register'] = call(conn, bus.BUS_NAME, bus.OBJECT_PATH, bus.INTERFACE,
                               'RegisterAgent', '(o)', (AGENT_PATH,))
    if results['register'][0]:
        GLib.timeout_add(10000, loop.quit)
        loop.run()
    results['agent_calls'] = agent.calls
    print(json.dumps(results))


def run_idle_agent():
    conn = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    agent = Agent(conn, lambda entry: None)
    print(conn.get_unique_name(), flush=True)
    loop = GLib.MainLoop()

    def on_stdin(channel, condition):
        if os.read(sys.stdin.fileno(), 4096) == b'':
            loop.quit()
            return GLib.SOURCE_REMOVE
        return GLib.SOURCE_CONTINUE

    channel = GLib.IOChannel.unix_new(sys.stdin.fileno())
    GLib.io_add_watch(channel, GLib.PRIORITY_DEFAULT, GLib.IOCondition.IN | GLib.IOCondition.HUP,
                      on_stdin)
    loop.run()
    print(json.dumps({'agent_calls': agent.calls}))


if __name__ == '__main__':
    {'agent': run_agent, 'idle-agent': run_idle_agent}[sys.argv[1]]()
