#!/usr/bin/python3
"""fake-systemd.py: what systemd does for a D-Bus activation request, for one unit file.

    fake-systemd.py BUS_ADDRESS UNIT_FILE enabled|disabled LOG -- COMMAND...

Owns org.freedesktop.systemd1 on the bus (which dbus-daemon --systemd-activation asks to
start the unit named by a service file's SystemdService=). Like systemd, it knows the unit by
its file name, and by the names in its [Install] Alias= only while it is enabled (enabling
makes those symlinks). A known unit is started: COMMAND runs (vigild); an unknown one gets
ActivationFailure with systemd's NoSuchUnit error, which the bus hands to the client. Each
request is appended to LOG as "started UNIT" or "refused UNIT".
"""
import os
import subprocess
import sys

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402


def aliases(unit_file):
    names, section = [], None
    with open(unit_file) as f:
        for raw in f:
            line = raw.strip()
            if line.startswith('['):
                section = line
            elif section == '[Install]' and line.startswith('Alias='):
                names += line.split('=', 1)[1].split()
    return names


def main():
    address, unit_file, state, log = sys.argv[1:5]
    command = sys.argv[sys.argv.index('--') + 1:]
    known = {os.path.basename(unit_file)}
    if state == 'enabled':
        known.update(aliases(unit_file))
    conn = Gio.DBusConnection.new_for_address_sync(
        address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
        | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    children = []

    def request(_conn, _sender, _path, _iface, _signal, params):
        unit = params.unpack()[0]
        with open(log, 'a') as f:
            f.write(('started ' if unit in known else 'refused ') + unit + '\n')
        if unit in known:
            children.append(subprocess.Popen(command))
            return
        conn.emit_signal('org.freedesktop.DBus', '/org/freedesktop/DBus',
                         'org.freedesktop.systemd1.Activator', 'ActivationFailure',
                         GLib.Variant('(sss)', (unit, 'org.freedesktop.systemd1.NoSuchUnit',
                                                'Unit %s not found.' % unit)))

    conn.signal_subscribe('org.freedesktop.DBus', 'org.freedesktop.systemd1.Activator',
                          'ActivationRequest', '/org/freedesktop/DBus', None,
                          Gio.DBusSignalFlags.NONE, request)
    reply = conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                           'org.freedesktop.DBus', 'RequestName',
                           GLib.Variant('(su)', ('org.freedesktop.systemd1', 4)), None,
                           Gio.DBusCallFlags.NONE, -1, None)
    if reply.unpack()[0] != 1:
        sys.exit('fake-systemd: cannot own org.freedesktop.systemd1')
    print('ready', flush=True)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, loop.quit)
    loop.run()
    for child in children:
        child.terminate()
        child.wait(10)


if __name__ == '__main__':
    main()
