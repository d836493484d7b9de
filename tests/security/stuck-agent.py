#!/usr/bin/python3
"""A prompt agent whose bus connection is also held by a process that holds its mmap lock
(tests/security/test_fuse_stall.py).

    stuck-agent.py HOLDER FILE

Run by an allowed agent executable (a copy of python3) as the user: it connects to the system
bus, starts HOLDER FILE (a copy of hold-mmap-lock, also allowed) with the connection's socket
inherited, and prints "started PID" (the holder's). On "hold" it has the holder hold its mmap
lock and prints "held"; reading the holder's environment then waits for as long as the FUSE
server does not answer. On "register" it calls RegisterAgent and prints "registered" or
"refused ERROR-NAME SECONDS" (how long the call took), or "no-reply SECONDS".
"""
import subprocess
import sys
import time

from gi.repository import Gio, GLib

BUS_NAME = 'org.vigil.Firewall1'
OBJECT_PATH = '/org/vigil/Firewall1'


def say(*words):
    print(*words, flush=True)


def main():
    holder_exe, mapped_file = sys.argv[1:3]
    conn = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    fd = conn.get_stream().get_socket().get_fd()
    holder = subprocess.Popen([holder_exe, mapped_file], pass_fds=(fd,),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if holder.stdout.readline().strip() != 'started':
        sys.exit('the holder did not start')
    say('started', holder.pid)
    for line in sys.stdin:
        order = line.strip()
        if order == 'hold':
            holder.stdin.write('hold\n')
            holder.stdin.flush()
            say(holder.stdout.readline().strip())
        elif order == 'register':
            start = time.monotonic()
            try:
                conn.call_sync(BUS_NAME, OBJECT_PATH, BUS_NAME, 'RegisterAgent',
                               GLib.Variant('(o)', ('/org/vigil/test/stuck',)), None,
                               Gio.DBusCallFlags.NONE, 30000, None)
                say('registered')
            except GLib.Error as e:
                took = '%.2f' % (time.monotonic() - start)
                if e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT):
                    say('no-reply', took)
                else:
                    say('refused', Gio.DBusError.get_remote_error(e), took)
    holder.kill()


if __name__ == '__main__':
    main()
