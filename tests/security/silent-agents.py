#!/usr/bin/python3
"""N prompt agents (one bus connection each) that never answer vigild's calls.

Each registers with vigild and takes Prompt, Cancel and Notify without ever replying, as a
hung or hostile agent of the user would: vigild's calls to it wait until they time out.
Prints JSON lines: {"event": "registered", "agents": N} once all have registered (or
"register-failed"), then {"event": "prompt"|"cancel"|"notify", "agent": i, ...} per call.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'e2e'))
# the names of vigild's interface and the agent's, and the JSON lines, as the answering agent
from agent import AGENT_XML, IFACE, NAME, PATH, emit  # noqa: E402

from gi.repository import Gio, GLib  # noqa: E402

AGENT_PATH = '/org/vigil/test/SilentAgent'


def main():
    count = int(sys.argv[1])
    address = os.environ['DBUS_SYSTEM_BUS_ADDRESS']
    with open(AGENT_XML, encoding='utf-8') as f:
        info = Gio.DBusNodeInfo.new_for_xml(f.read()).interfaces[0]
    held = []  # the invocations, kept: never answered, never freed
    conns = []

    def on_call(index):
        def handler(conn, sender, path, iface, method, params, invocation):
            held.append(invocation)
            args = params.unpack()
            # at: when the call arrived (CLOCK_MONOTONIC, the same for every process), so a
            # test can tell how long before vigild's call times out it checked something
            emit(event=method.lower(), agent=index,
                 request=args[0] if method != 'Notify' else None, at=time.monotonic())
        return handler

    flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
             | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
    for i in range(count):
        conn = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
        conn.register_object(AGENT_PATH, info, on_call(i), None, None)
        try:
            conn.call_sync(NAME, PATH, IFACE, 'RegisterAgent', GLib.Variant('(o)', (AGENT_PATH,)),
                           None, Gio.DBusCallFlags.NONE, 30000, None)
        except GLib.Error as e:
            emit(event='register-failed', error=Gio.DBusError.get_remote_error(e),
                 message=e.message)
            return 1
        conns.append(conn)
    emit(event='registered', agents=count, name=conns[0].get_unique_name())
    GLib.MainLoop().run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
