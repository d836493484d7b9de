#!/usr/bin/python3
"""sni-watcher.py: a minimal org.kde.StatusNotifierWatcher for tests (Debian has no headless one).

Owns org.kde.StatusNotifierWatcher on the session bus, reports itself as having a host (so
that libayatana-appindicator exports a StatusNotifierItem instead of falling back to a
GtkStatusIcon), and keeps the registered items as "BUSNAME/OBJECT/PATH" (ayatana registers
an object path, so the item is the sender plus that path). Prints "ready" once it owns the
name and "registered ITEM" for each item.
"""
import sys

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

NAME = 'org.kde.StatusNotifierWatcher'
PATH = '/StatusNotifierWatcher'
XML = '''
<node>
  <interface name="org.kde.StatusNotifierWatcher">
    <method name="RegisterStatusNotifierItem"><arg name="service" type="s" direction="in"/></method>
    <method name="RegisterStatusNotifierHost"><arg name="service" type="s" direction="in"/></method>
    <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
    <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
    <property name="ProtocolVersion" type="i" access="read"/>
    <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
    <signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
    <signal name="StatusNotifierHostRegistered"/>
  </interface>
</node>'''

items = []


def item_vanished(conn, name, item):
    if item in items:
        items.remove(item)
        conn.emit_signal(None, PATH, NAME, 'StatusNotifierItemUnregistered',
                         GLib.Variant('(s)', (item,)))
        print('unregistered', item, flush=True)


def method_call(conn, sender, path, iface, method, params, invocation):
    if method == 'RegisterStatusNotifierItem':
        service = params.unpack()[0]
        item = sender + service if service.startswith('/') else service + '/StatusNotifierItem'
        if item not in items:
            items.append(item)
            Gio.bus_watch_name_on_connection(conn, item.split('/', 1)[0],
                                             Gio.BusNameWatcherFlags.NONE, None,
                                             lambda c, n, it=item: item_vanished(c, n, it))
            conn.emit_signal(None, PATH, NAME, 'StatusNotifierItemRegistered',
                             GLib.Variant('(s)', (item,)))
            print('registered', item, flush=True)
        invocation.return_value(None)
    elif method == 'RegisterStatusNotifierHost':
        invocation.return_value(None)
    else:
        invocation.return_dbus_error('org.freedesktop.DBus.Error.UnknownMethod', method)


def get_property(conn, sender, path, iface, prop):
    if prop == 'RegisteredStatusNotifierItems':
        return GLib.Variant('as', items)
    if prop == 'IsStatusNotifierHostRegistered':
        return GLib.Variant('b', True)
    if prop == 'ProtocolVersion':
        return GLib.Variant('i', 0)
    return None


def main():
    loop = GLib.MainLoop()
    conn = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    info = Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0]
    conn.register_object(PATH, info, method_call, get_property, None)

    def acquired(*args):
        print('ready', flush=True)

    def lost(*args):
        print('lost the name', NAME, file=sys.stderr, flush=True)
        loop.quit()

    Gio.bus_own_name_on_connection(conn, NAME, Gio.BusNameOwnerFlags.NONE, acquired, lost)
    loop.run()
    return 1


if __name__ == '__main__':
    sys.exit(main())
