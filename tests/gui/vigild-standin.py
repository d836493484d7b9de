#!/usr/bin/python3
"""vigild-standin.py BUS_ADDRESS: owns org.vigil.Firewall1 on a test's private system bus in
vigild's place, for what the real vigild does not send yet: it relays Agent.Notify() calls
that the test writes to its stdin to the agents that registered with it.

It implements the real interface (dbus/org.vigil.Firewall1.xml) as far as a prompt agent
needs it: the properties, GetPermissions, GetConnections (no decisions), RegisterAgent and
UnregisterAgent; every other method fails with org.vigil.Firewall1.Error.Failed.
stdout: "ready" once the name is owned, then "agent SENDER PATH" for each registration and
"notified N" after each relayed line. stdin: one JSON [kind, details] per line; in details,
integers become uint32 (pid) and strings strings.
"""
import json
import os
import sys
import threading

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
XML = os.path.join(HERE, '..', '..', 'dbus', 'org.vigil.Firewall1.xml')
NAME = 'org.vigil.Firewall1'
PATH = '/org/vigil/Firewall1'
AGENT = 'org.vigil.Firewall1.Agent'

PROPERTIES = {
    'Version': GLib.Variant('s', 'standin'),
    'Enabled': GLib.Variant('b', True),
    'DefaultAction': GLib.Variant('s', 'deny'),
    'PromptTimeout': GLib.Variant('u', 30),
    'FailMode': GLib.Variant('s', 'open'),
    'Backend': GLib.Variant('s', 'iptables'),
    'Stats': GLib.Variant('a{st}', {}),
}


class Standin:
    def __init__(self, address):
        self.agents = []
        self.loop = GLib.MainLoop()
        self.bus = Gio.DBusConnection.new_for_address_sync(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        with open(XML, encoding='utf-8') as f:
            info = Gio.DBusNodeInfo.new_for_xml(f.read()).lookup_interface(NAME)
        self.bus.register_object(PATH, info, self.method_call, self.get_property, None)
        Gio.bus_own_name_on_connection(self.bus, NAME, Gio.BusNameOwnerFlags.NONE,
                                       self.name_acquired, self.name_lost)

    def name_acquired(self, bus, name):
        print('ready', flush=True)
        threading.Thread(target=self.read_commands, daemon=True).start()

    def name_lost(self, bus, name):
        print('name lost', flush=True)
        self.loop.quit()

    def get_property(self, bus, sender, path, interface, prop):
        return PROPERTIES.get(prop)

    def method_call(self, bus, sender, path, interface, method, params, invocation):
        if method == 'RegisterAgent':
            self.agents.append((sender, params.unpack()[0]))
            invocation.return_value(None)
            print('agent %s %s' % self.agents[-1], flush=True)
        elif method == 'UnregisterAgent':
            self.agents = [a for a in self.agents if a[0] != sender]
            invocation.return_value(None)
        elif method == 'GetPermissions':
            invocation.return_value(GLib.Variant('(a{ss})', ({},)))
        elif method == 'GetConnections':
            invocation.return_value(GLib.Variant('(aa{sv})', ([],)))
        else:
            invocation.return_dbus_error('org.vigil.Firewall1.Error.Failed',
                                         'the stand-in does not do %s' % method)

    def read_commands(self):
        for line in sys.stdin:
            kind, details = json.loads(line)
            GLib.idle_add(self.notify, kind, details)
        GLib.idle_add(self.loop.quit)

    def notify(self, kind, details):
        dictionary = {k: GLib.Variant('u' if isinstance(v, int) else 's', v)
                      for k, v in details.items()}
        for sender, path in self.agents:
            self.bus.call_sync(sender, path, AGENT, 'Notify',
                               GLib.Variant('(sa{sv})', (kind, dictionary)), None,
                               Gio.DBusCallFlags.NONE, 10000, None)
        print('notified %d' % len(self.agents), flush=True)
        return GLib.SOURCE_REMOVE


if __name__ == '__main__':
    Standin(sys.argv[1]).loop.run()
